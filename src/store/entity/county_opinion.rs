use crate::store::id::{ApplicationId, CountyOpinionId, OrgId, UserId};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// A county bureau's opinion (县级意见) on one of its county's applications during the city's
/// 初审 (第十六条). It decides nothing; the city reads it beside its own review.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "county_opinions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CountyOpinionId,
    pub application_id: ApplicationId,
    /// The county bureau.
    pub org_id: OrgId,
    pub county_code: RegionCode,
    /// The application's submission it was given on.
    pub revision: i32,
    pub opinion: String,
    pub author_user_id: UserId,
    pub author_name: String,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
