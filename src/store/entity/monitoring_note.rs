use crate::store::id::{ClusterId, MonitoringNoteId, ReportId, UserId};
use sea_orm::entity::prelude::*;

/// A note by the province or a city bureau on a flagged figure of a report (monitoring).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitoring_notes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: MonitoringNoteId,
    pub cluster_id: ClusterId,
    pub report_id: ReportId,
    /// The report form's indicator key.
    pub indicator: String,
    /// The flag's kind key (year_on_year, half_above_annual, threshold_not_met,
    /// contradicts_application).
    pub flag_kind: String,
    pub note: String,
    pub author_user_id: UserId,
    pub author_name: String,
    pub author_org: String,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
