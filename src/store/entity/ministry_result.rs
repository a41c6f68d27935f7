use crate::store::id::{ApplicationId, ClusterId, CompetitionId, MinistryResultId, UserId};
use sea_orm::entity::prelude::*;

/// The ministry's result for an application the province recommended to it, recorded once.
/// A selected cluster holds the programme's title from `decided_on` for the policy's term.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ministry_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: MinistryResultId,
    #[sea_orm(unique)]
    pub application_id: ApplicationId,
    pub competition_id: CompetitionId,
    pub cluster_id: ClusterId,
    pub selected: bool,
    pub decided_on: TimeDate,
    /// The ministry's notice (文号) announcing the list.
    pub document_number: String,
    pub recorded_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
