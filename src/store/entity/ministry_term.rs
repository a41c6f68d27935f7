use crate::store::id::{ApplicationId, ClusterId, MinistryTermId, UserId};
use sea_orm::entity::prelude::*;

/// How one term of a ministry's title closed, recorded once per term by the province: the
/// ministry's 复核 passed (a new term from `decided_on`) or the title revoked on a ground of the
/// policy's `[revocation].reasons`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ministry_terms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: MinistryTermId,
    pub application_id: ApplicationId,
    pub cluster_id: ClusterId,
    /// The first day of the term this record closes.
    pub term_start: TimeDate,
    /// Whether the 复核 passed; false: revoked.
    pub passed: bool,
    /// The ground's key and name (empty when passed).
    pub reason_key: String,
    pub reason_name: String,
    pub decided_on: TimeDate,
    /// The ministry's document (文号).
    pub document_number: String,
    pub recorded_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
