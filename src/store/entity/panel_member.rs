use crate::store::id::{ExpertId, PanelMemberId, RoundId, UserId};
use sea_orm::entity::prelude::*;

/// An expert on a round's panel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "round_panel")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: PanelMemberId,
    pub round_id: RoundId,
    pub expert_id: ExpertId,
    pub added_by: UserId,
    pub added_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
