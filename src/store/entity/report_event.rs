use crate::store::id::{ReportEventId, ReportId, UserId};
use jiqun_domain::report::Status;
use sea_orm::entity::prelude::*;

/// One step on a report's own history, with the opinion or comments given.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "report_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ReportEventId,
    pub report_id: ReportId,
    pub from_status: Status,
    pub to_status: Status,
    pub action: String,
    pub actor_user_id: UserId,
    pub actor_name: String,
    pub comment: String,
    pub at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
