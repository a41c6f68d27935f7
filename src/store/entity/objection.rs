use crate::store::id::{EntryId, ObjectionId, RoundId, UserId};
use jiqun_domain::round::ObjectionStatus;
use sea_orm::entity::prelude::*;

/// A named objection (异议) filed by the public against a proposed list.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "objections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ObjectionId,
    pub round_id: RoundId,
    pub entry_id: EntryId,
    pub name: String,
    pub organisation: String,
    pub contact: String,
    pub reason: String,
    pub client_addr: String,
    pub status: ObjectionStatus,
    /// The province's written reply.
    pub reply: String,
    pub filed_at: TimeDateTimeWithTimeZone,
    pub registered_at: Option<TimeDateTimeWithTimeZone>,
    pub decided_at: Option<TimeDateTimeWithTimeZone>,
    pub decided_by: Option<UserId>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
