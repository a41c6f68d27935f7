use crate::store::id::{ClusterId, DesignationId, EntryId, RoundId, UserId};
use jiqun_domain::round::Designation;
use sea_orm::entity::prelude::*;

/// What a confirmed round made a cluster, with its numbered certificate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "designations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: DesignationId,
    pub cluster_id: ClusterId,
    pub round_id: RoundId,
    pub entry_id: EntryId,
    pub designation: Designation,
    pub effective_on: TimeDate,
    pub year: i32,
    pub seq: i32,
    pub certificate_number: String,
    /// The day a higher title replaced this one (a 培育对象 later certified).
    pub superseded_on: Option<TimeDate>,
    pub revoked_on: Option<TimeDate>,
    pub revoke_reason: String,
    pub decided_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
    /// What the certificate showed when issued (JSON, `services::records::Snapshot`); every
    /// page, PDF and check reads this, never the live cluster.
    pub snapshot: String,
    /// The certificate that replaced this one (换发), when one did.
    pub superseded_by: Option<DesignationId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
