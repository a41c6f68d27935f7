use crate::store::id::{ClusterId, OrgId, ReportId};
use jiqun_domain::region::RegionCode;
use jiqun_domain::report::Status;
use sea_orm::entity::prelude::*;

/// A cluster's development report for one period (第十三条).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ReportId,
    pub cluster_id: ClusterId,
    /// The cluster's promotion organisation, which writes the report.
    pub org_id: OrgId,
    /// The cluster's city, whose bureau reads it.
    pub city_code: RegionCode,
    /// annual | semi_annual
    pub period_kind: String,
    pub period_year: i32,
    /// The programme: empty for the installation's provincial programme (its current policy),
    /// else the id of the policy whose title the report is owed under (e.g. national-sme-2022).
    pub policy_id: String,
    pub status: Status,
    /// JSON `ReportData`: what was typed, kept verbatim.
    pub form: String,
    /// How many times it has been submitted.
    pub revision: i32,
    pub city_opinion: String,
    pub province_comment: String,
    pub submitted_at: Option<TimeDateTimeWithTimeZone>,
    pub decided_at: Option<TimeDateTimeWithTimeZone>,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
