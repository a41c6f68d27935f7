use crate::store::id::{ClusterId, FundingEntryId, OrgId, UserId};
use jiqun_domain::funding::{EntryKind, Status};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// One item of support in the funding ledger (第十七条).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "funding_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: FundingEntryId,
    pub cluster_id: ClusterId,
    /// The cluster's promotion organisation, which sees its own entries.
    pub org_id: OrgId,
    /// The cluster's city, whose bureau sees them.
    pub city_code: RegionCode,
    pub kind: EntryKind,
    /// One of the policy's `funding.sources`.
    pub fund: String,
    /// The project supported (for a reward, the title rewarded).
    pub project: String,
    pub year: i32,
    /// Exact, in 分.
    pub amount_fen: i64,
    pub document_number: String,
    pub status: Status,
    pub note: String,
    pub created_by: UserId,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
