use crate::store::id::{ApplicationId, ExtensionId, UserId};
use sea_orm::entity::prelude::*;

/// One applicant's deadline extended (e.g. after a system fault): the step it extends and the
/// new instant; the latest grant for a step counts.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deadline_extensions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ExtensionId,
    pub application_id: ApplicationId,
    /// "submission" (the applicant's) or "review" (the city's 初审).
    pub step: String,
    pub until: TimeDateTimeWithTimeZone,
    pub reason: String,
    pub granted_by: Option<UserId>,
    pub granted_by_name: String,
    pub granted_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
