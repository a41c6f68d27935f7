use crate::store::id::{RecheckCallId, UserId};
use sea_orm::entity::prelude::*;

/// The province's 复核 call for a year (第十四条: 复核的具体要求以当年的工作通知为准): the
/// requirements, the deadline for materials, and the result notice once published.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recheck_calls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: RecheckCallId,
    pub year: i32,
    pub requirements: String,
    /// The last day materials are taken.
    pub deadline: TimeDate,
    pub issued_by: UserId,
    pub issued_on: TimeDate,
    pub notice_published_on: Option<TimeDate>,
    pub notice_last_day: Option<TimeDate>,
    /// The notice's rows as published (JSON); empty for a notice published before snapshots.
    pub notice_json: String,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
