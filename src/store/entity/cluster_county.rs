use crate::store::id::{ClusterCountyId, ClusterId};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cluster_counties")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ClusterCountyId,
    pub cluster_id: ClusterId,
    pub county_code: RegionCode,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
