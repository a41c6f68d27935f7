use crate::store::id::{RecheckCallId, RecheckId, RecheckObjectionId, UserId};
use jiqun_domain::round::ObjectionStatus;
use sea_orm::entity::prelude::*;

/// A named objection (异议) filed by the public against one result of a 复核 result notice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recheck_objections")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: RecheckObjectionId,
    pub call_id: RecheckCallId,
    pub recheck_id: RecheckId,
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
