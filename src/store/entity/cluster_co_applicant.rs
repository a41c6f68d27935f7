use crate::store::id::{ClusterId, CoApplicantId, OrgId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cluster_co_applicants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CoApplicantId,
    pub cluster_id: ClusterId,
    pub org_id: OrgId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
