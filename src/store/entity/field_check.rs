use crate::store::id::{ApplicationId, FieldCheckId, UserId};
use sea_orm::entity::prelude::*;

/// A 实地抽查 (on-site spot check) of an application, recorded by the province in its 初审
/// where the programme's procedure has one.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "field_checks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: FieldCheckId,
    pub application_id: ApplicationId,
    pub checked_on: TimeDate,
    pub findings: String,
    /// Whether what was seen matches the application.
    pub passed: bool,
    pub recorded_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
