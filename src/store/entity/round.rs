use crate::store::id::{CompetitionId, RoundId, UserId};
use jiqun_domain::round::{RoundKind, RoundStatus};
use sea_orm::entity::prelude::*;

/// A round (初赛/决赛) of a competition.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rounds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: RoundId,
    pub competition_id: CompetitionId,
    /// Also the policy's round key.
    pub kind: RoundKind,
    pub status: RoundStatus,
    pub experts_per_application: i32,
    /// Why the panel is smaller than the policy asks, when it is.
    pub panel_note: String,
    /// Winners per cluster kind, JSON: {"leading": 3, "specialty": 5}.
    pub quotas: String,
    pub scoring_opens_at: TimeDateTimeWithTimeZone,
    pub scoring_closes_at: TimeDateTimeWithTimeZone,
    /// Whether a defence (答辩) session is held.
    pub defence: bool,
    /// The notice's preamble as published.
    pub notice_text: String,
    pub notice_published_on: Option<TimeDate>,
    pub notice_first_day: Option<TimeDate>,
    pub notice_last_day: Option<TimeDate>,
    pub confirmed_on: Option<TimeDate>,
    pub created_by: UserId,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

/// Declared so a round and its call load in one statement.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::competition::Entity",
        from = "Column::CompetitionId",
        to = "super::competition::Column::Id"
    )]
    Competition,
}

impl Related<super::competition::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Competition.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
