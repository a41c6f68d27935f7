use crate::store::id::{FundingRewardId, UserId};
use sea_orm::entity::prelude::*;

/// The reward amount the province set for a year and a title (the policy's default applies
/// to a year without one).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "funding_rewards")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: FundingRewardId,
    pub year: i32,
    /// reward_cultivation | reward_certified
    pub designation: String,
    pub amount_fen: i64,
    pub set_by: UserId,
    pub set_by_name: String,
    pub set_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
