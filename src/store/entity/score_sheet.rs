use crate::store::id::{AssignmentId, EntryId, ExpertId, RoundId, ScoreSheetId};
use sea_orm::entity::prelude::*;

use super::kinds::ScoreSheetStatus;

/// An expert's scores for one assignment.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "score_sheets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ScoreSheetId,
    pub assignment_id: AssignmentId,
    pub round_id: RoundId,
    pub entry_id: EntryId,
    pub expert_id: ExpertId,
    /// Criterion key → score, JSON.
    pub scores: String,
    pub comment: String,
    pub total: Option<f64>,
    pub status: ScoreSheetStatus,
    pub submitted_at: Option<TimeDateTimeWithTimeZone>,
    /// The province's reason when it reopened a submitted sheet.
    pub reopened_reason: String,
    pub version: i32,
    pub updated_at: TimeDateTimeWithTimeZone,
}

/// The other side of an assignment's sheet (see `assignment::Relation`).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::assignment::Entity",
        from = "Column::AssignmentId",
        to = "super::assignment::Column::Id"
    )]
    Assignment,
}

impl Related<super::assignment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Assignment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
