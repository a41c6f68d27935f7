use crate::store::id::{DefenceScoreId, EntryId, ExpertId, RoundId, UserId};
use sea_orm::entity::prelude::*;

/// A defence (答辩) score recorded by the province for one expert.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defence_scores")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: DefenceScoreId,
    pub round_id: RoundId,
    pub entry_id: EntryId,
    pub expert_id: ExpertId,
    pub score: f64,
    pub recorded_by: UserId,
    pub recorded_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
