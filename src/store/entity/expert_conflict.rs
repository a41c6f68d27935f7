use crate::store::id::{ApplicationId, ConflictId, ExpertId};
use sea_orm::entity::prelude::*;

/// A conflict of interest an expert declared for an application.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expert_conflicts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ConflictId,
    pub expert_id: ExpertId,
    pub application_id: ApplicationId,
    pub reason: String,
    pub declared_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
