use sea_orm::entity::prelude::*;

/// A defence (答辩) score recorded by the province for one expert.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "defence_scores")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub round_id: i64,
    pub entry_id: i64,
    pub expert_id: i64,
    pub score: f64,
    pub recorded_by: i64,
    pub recorded_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
