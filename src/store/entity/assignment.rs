use sea_orm::entity::prelude::*;

use super::kinds::AssignmentSource;

/// An expert assigned to judge an entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub round_id: i64,
    pub entry_id: i64,
    pub expert_id: i64,
    pub source: AssignmentSource,
    /// Why a conflict was overridden, when it was.
    pub override_reason: String,
    /// Set when the expert recused themselves; the row stays for the record.
    pub recused_at: Option<TimeDateTimeWithTimeZone>,
    pub recusal_reason: String,
    pub created_by: i64,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
