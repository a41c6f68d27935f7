//! One id type per table, so that the compiler, not a reviewer, notices an entry id passed where a
//! round id belongs.
//!
//! Each is a newtype over the `i64` the column already holds (SeaORM's `DeriveValueType`: the same
//! BIGINT/INTEGER column, so no data migration) and reads and writes in JSON, forms, paths and
//! templates exactly as the bare integer did (`#[serde(transparent)]`, `Display`, `FromStr`).
//!
//! They deliberately do not implement `utoipa::ToSchema`: a field of an id type in an API type
//! must say `#[schema(value_type = i64)]`, which keeps the OpenAPI document describing ids as the
//! plain integers they are on the wire (a forgotten attribute is a compile error, not a `$ref`).
//!
//! `get()` reaches the integer where it is truly wanted (the pure crates, which work on plain
//! integers; the audit trail's object ids); `new`/`From<i64>` make an id from an integer read
//! elsewhere (a parsed query, a row of the pure crates' answer).

use std::fmt;
use std::num::ParseIntError;
use std::str::FromStr;

use sea_orm::DeriveValueType;
use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, DeriveValueType,
            Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The integer stored in the column.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl PartialEq<i64> for $name {
            fn eq(&self, other: &i64) -> bool {
                self.0 == *other
            }
        }
    )*};
}

ids! {
    /// `api_tokens.id`
    ApiTokenId;
    /// `applications.id`
    ApplicationId;
    /// `application_events.id`
    ApplicationEventId;
    /// `application_versions.id`
    ApplicationVersionId;
    /// `assignments.id`: one expert on one entry.
    AssignmentId;
    /// `attachments.id`
    AttachmentId;
    /// `blobs.id`
    BlobId;
    /// `city_designations.id`: a city-level title given (第十六条).
    CityDesignationId;
    /// `clusters.id`
    ClusterId;
    /// `cluster_co_applicants.id`
    CoApplicantId;
    /// `cluster_counties.id`
    ClusterCountyId;
    /// `cluster_members.id`
    ClusterMemberId;
    /// `competitions.id`: one year's call.
    CompetitionId;
    /// `deadline_extensions.id`
    ExtensionId;
    /// `defence_scores.id`
    DefenceScoreId;
    /// `designations.id`: a title given.
    DesignationId;
    /// `experts.id`: an entry in the expert pool (not the expert's user account).
    ExpertId;
    /// `expert_conflicts.id`
    ConflictId;
    /// `mail_outbox.id`
    MailId;
    /// `notifications.id`
    NotificationId;
    /// `objections.id`
    ObjectionId;
    /// `organisations.id`
    OrgId;
    /// `panel_members.id`
    PanelMemberId;
    /// `policies.id`
    PolicyId;
    /// `recommendations.id`
    RecommendationId;
    /// `reports.id`: a development report.
    ReportId;
    /// `report_alerts.id`
    ReportAlertId;
    /// `report_events.id`
    ReportEventId;
    /// `report_versions.id`
    ReportVersionId;
    /// `revocation_cases.id`
    RevocationCaseId;
    /// `rounds.id`: a 初赛 or 决赛.
    RoundId;
    /// `round_entries.id`: a cluster competing in a round.
    EntryId;
    /// `score_sheets.id`
    ScoreSheetId;
    /// `users.id`
    UserId;
    /// `funding_entries.id`
    FundingEntryId;
    /// `funding_rewards.id`
    FundingRewardId;
    /// `change_requests.id`
    ChangeRequestId;
    /// `nominations.id`
    NominationId;
    /// `import_batches.id`
    ImportBatchId;
    /// `monitoring_notes.id`
    MonitoringNoteId;
    /// `final_materials.id`: a finalist's 决赛申报材料.
    FinalMaterialsId;
    /// `yearly_announcements.id`: a year's 集中公告.
    YearlyAnnouncementId;
    /// `plaques.id`: the 授牌 of a designation.
    PlaqueId;
    /// `recheck_calls.id`: a province's yearly 复核 call.
    RecheckCallId;
    /// `rechecks.id`: one cluster's 复核 under a call.
    RecheckId;
    /// `recheck_objections.id`: an objection to a 复核 result notice.
    RecheckObjectionId;
    /// `county_opinions.id`: a county bureau's opinion in the city's 初审.
    CountyOpinionId;
    /// `field_checks.id`: a 实地抽查 recorded in the province's 初审.
    FieldCheckId;
    /// `ministry_results.id`: the ministry's result for a recommended application.
    MinistryResultId;
    /// `ministry_terms.id`: the close of one term of a ministry's title (复核 or revocation).
    MinistryTermId;
}
