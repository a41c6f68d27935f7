use crate::store::id::{ClusterId, OrgId};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

use super::kinds::Lifecycle;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clusters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ClusterId,
    /// The lead applicant (集群发展促进组织).
    pub org_id: OrgId,
    pub name: String,
    /// leading | specialty (policy cluster kinds)
    pub kind: String,
    /// GB/T 4754 division, e.g. C36
    pub industry_code: String,
    pub lead_county_code: RegionCode,
    /// The lead applicant's city: where the application is reviewed (第八条).
    pub city_code: RegionCode,
    pub core_park: String,
    pub lifecycle: Lifecycle,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

/// Declared so a score sheet reads its entry, cluster and promotion organisation in one
/// statement (see `round_entry::Relation`).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrgId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
