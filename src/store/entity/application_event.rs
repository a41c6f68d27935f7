use crate::store::id::{ApplicationEventId, ApplicationId, UserId};
use jiqun_domain::application::Status;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ApplicationEventId,
    pub application_id: ApplicationId,
    pub from_status: Status,
    pub to_status: Status,
    pub action: String,
    pub actor_user_id: UserId,
    pub actor_name: String,
    pub comment: String,
    pub at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
