use crate::store::id::OrgId;
use jiqun_domain::access::OrgKind;
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub credit_code: Option<String>,
    pub city_code: Option<RegionCode>,
    pub county_code: Option<RegionCode>,
    pub contact_person: String,
    pub contact_phone: String,
    pub active: bool,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
