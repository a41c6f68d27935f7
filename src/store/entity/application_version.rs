use crate::store::id::{ApplicationId, ApplicationVersionId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ApplicationVersionId,
    pub application_id: ApplicationId,
    pub revision: i32,
    pub form: String,
    /// JSON: the cluster profile and attachment list as submitted.
    pub snapshot: String,
    pub submitted_by: UserId,
    pub submitted_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
