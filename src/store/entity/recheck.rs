use crate::store::id::{ClusterId, OrgId, RecheckCallId, RecheckId, RevocationCaseId, UserId};
use jiqun_domain::recheck::Status;
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// One cluster's 复核 under a call: its materials (JSON, as typed), its city's opinion, the
/// panel's decision (experts named in `panel_json`, a score, 通过/不通过 with reasons), and the
/// confirmed result with the next due date or the revocation case it opened.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rechecks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: RecheckId,
    pub call_id: RecheckCallId,
    pub cluster_id: ClusterId,
    /// The promotion organisation when the call listed it: who submits.
    pub org_id: OrgId,
    /// The cluster's city when the call listed it: whose bureau gives the opinion.
    pub city_code: RegionCode,
    /// The certificate whose title fell due.
    pub certificate_number: String,
    pub due_on: TimeDate,
    pub status: Status,
    pub materials_json: String,
    pub submitted_at: Option<TimeDateTimeWithTimeZone>,
    pub submitted_by: Option<UserId>,
    pub city_agrees: Option<bool>,
    pub city_opinion: String,
    pub city_by: Option<UserId>,
    pub city_at: Option<TimeDateTimeWithTimeZone>,
    pub panel_json: String,
    pub score: Option<f64>,
    pub passed: Option<bool>,
    pub result_reasons: String,
    pub reviewed_by: Option<UserId>,
    pub reviewed_on: Option<TimeDate>,
    pub confirmed_on: Option<TimeDate>,
    pub next_due_on: Option<TimeDate>,
    pub revocation_case_id: Option<RevocationCaseId>,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
