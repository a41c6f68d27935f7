use crate::store::id::{UserId, YearlyAnnouncementId};
use sea_orm::entity::prelude::*;

/// A year's 集中公告 (第十二条): the designations of the year compiled into one public
/// announcement, frozen when published.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "yearly_announcements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: YearlyAnnouncementId,
    pub year: i32,
    pub document_number: String,
    /// JSON `services::announcements::Frozen`: every word and row the announcement showed.
    pub snapshot: String,
    pub published_on: TimeDate,
    pub published_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
