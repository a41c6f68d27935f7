use crate::store::id::{DesignationId, PlaqueId, UserId};
use sea_orm::entity::prelude::*;

/// The 授牌 of a designation (第十二条): the day the plaque was presented and its number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plaques")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: PlaqueId,
    pub designation_id: DesignationId,
    pub presented_on: TimeDate,
    pub plaque_number: String,
    pub recorded_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
