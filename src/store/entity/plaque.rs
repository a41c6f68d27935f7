use sea_orm::entity::prelude::*;

/// A plaque presented to a designated cluster (授牌, 第十二条), one per certificate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plaques")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub designation_id: i64,
    pub cluster_id: i64,
    pub plaque_number: String,
    pub presented_on: TimeDate,
    pub recorded_by: i64,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
