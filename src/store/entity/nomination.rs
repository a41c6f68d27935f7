use crate::store::id::{ClusterId, NominationId, UserId};
use jiqun_domain::nomination::Outcome;
use sea_orm::entity::prelude::*;

/// A national nomination (推荐申报国家级先进制造业集群, 第十七条): one cluster, one year, and the
/// national outcome once it is known.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nominations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: NominationId,
    pub cluster_id: ClusterId,
    pub year: i32,
    pub reason: String,
    /// The province's document (文号) putting the cluster forward.
    pub document_number: String,
    pub nominated_by: UserId,
    pub nominated_on: TimeDate,
    pub outcome: Outcome,
    pub outcome_on: Option<TimeDate>,
    /// The national document announcing the outcome.
    pub outcome_document: String,
    pub outcome_note: String,
    pub outcome_by: Option<UserId>,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
