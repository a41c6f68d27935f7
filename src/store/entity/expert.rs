use crate::store::id::{ExpertId, UserId};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// An expert in the pool (专家库), linked to the account they sign in with.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "experts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ExpertId,
    pub user_id: UserId,
    pub name: String,
    /// Fields of expertise, one per line.
    pub fields: String,
    /// The city the expert works in: a conflict for clusters led from there.
    pub city_code: RegionCode,
    pub employer: String,
    /// Enterprises, parks and bodies the expert is tied to, one per line.
    pub affiliations: String,
    pub active: bool,
    /// Whose pool the expert is in: NULL the province's, else the city whose bureau keeps it
    /// for its own competitions (第十六条).
    pub pool_city_code: Option<RegionCode>,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
