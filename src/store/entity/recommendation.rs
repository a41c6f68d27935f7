use crate::store::id::{ApplicationId, AttachmentId, RecommendationId, UserId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: RecommendationId,
    pub application_id: ApplicationId,
    pub letter_attachment_id: Option<AttachmentId>,
    /// The generated draft letter (公文 format), when no signed letter was uploaded.
    pub letter_text: String,
    pub cap_justification: String,
    pub recommended_by: UserId,
    pub recommended_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
