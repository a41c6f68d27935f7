use crate::store::id::{AssignmentId, EntryId, ExpertId, RoundId, UserId};
use sea_orm::entity::prelude::*;

use super::kinds::AssignmentSource;

/// An expert assigned to judge an entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: AssignmentId,
    pub round_id: RoundId,
    pub entry_id: EntryId,
    pub expert_id: ExpertId,
    pub source: AssignmentSource,
    /// Why a conflict was overridden, when it was.
    pub override_reason: String,
    /// Set when the expert recused themselves; the row stays for the record.
    pub recused_at: Option<TimeDateTimeWithTimeZone>,
    pub recusal_reason: String,
    pub created_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
}

/// Declared so a score submission reads the assignment with its expert, then with its round and
/// its sheet, in one statement each.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::round::Entity",
        from = "Column::RoundId",
        to = "super::round::Column::Id"
    )]
    Round,
    #[sea_orm(has_one = "super::score_sheet::Entity")]
    Sheet,
    #[sea_orm(
        belongs_to = "super::expert::Entity",
        from = "Column::ExpertId",
        to = "super::expert::Column::Id"
    )]
    Expert,
}

impl Related<super::expert::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Expert.def()
    }
}

impl Related<super::round::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Round.def()
    }
}

impl Related<super::score_sheet::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sheet.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
