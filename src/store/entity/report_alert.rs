use crate::store::id::{ClusterId, ReportAlertId};
use sea_orm::entity::prelude::*;

/// A reminder or overdue notice sent for one cluster's report of one programme and period;
/// unique per kind, so each goes out once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ReportAlertId,
    pub cluster_id: ClusterId,
    /// The programme the report is owed under (`reports.policy_id`; empty = the provincial one).
    pub policy_id: String,
    pub period_kind: String,
    pub period_year: i32,
    /// remind-<days> | overdue-city | overdue-province
    pub kind: String,
    pub sent_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
