use crate::store::id::{ApplicationId, ClusterId, CompetitionId, OrgId};
use jiqun_domain::application::Status;
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ApplicationId,
    pub competition_id: CompetitionId,
    pub cluster_id: ClusterId,
    pub org_id: OrgId,
    /// Routing city (the lead applicant's) and lead county (for the per-county cap).
    pub city_code: RegionCode,
    pub county_code: RegionCode,
    pub kind: String,
    pub status: Status,
    /// JSON: indicator values, narrative sections and the negative-list attestation.
    pub form: String,
    /// How many times it has been submitted.
    pub revision: i32,
    pub submitted_at: Option<TimeDateTimeWithTimeZone>,
    pub decided_at: Option<TimeDateTimeWithTimeZone>,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
