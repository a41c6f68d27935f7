use crate::store::id::{ReportId, ReportVersionId, UserId};
use sea_orm::entity::prelude::*;

/// A report as it was submitted (one row per submission).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ReportVersionId,
    pub report_id: ReportId,
    pub revision: i32,
    pub form: String,
    pub submitted_by: UserId,
    pub submitted_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
