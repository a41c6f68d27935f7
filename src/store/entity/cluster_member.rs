use crate::store::id::{ClusterId, ClusterMemberId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cluster_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ClusterMemberId,
    pub cluster_id: ClusterId,
    pub name: String,
    pub credit_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
