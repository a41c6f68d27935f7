use sea_orm::entity::prelude::*;

/// A year's 集中公告 (第十二条): the designations of the year compiled into one public
/// announcement, numbered and titled from the policy's wording and frozen at publication.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "yearly_announcements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub year: i32,
    pub number: String,
    pub title: String,
    /// The announcement as published (JSON); the public page reads only this.
    pub snapshot: String,
    pub published_on: TimeDate,
    pub published_by: i64,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
