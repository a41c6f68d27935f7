use crate::store::id::{CityDesignationId, ClusterId, CompetitionId, EntryId, RoundId, UserId};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// A city-level title (市级先进制造业集群, 第十六条) conferred by the round of a competition a
/// city organises; the title's text is the city policy's (`[organiser].title`). It carries a
/// numbered certificate with a frozen snapshot, and is revoked only by the city that conferred it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "city_designations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CityDesignationId,
    pub cluster_id: ClusterId,
    pub competition_id: CompetitionId,
    pub round_id: RoundId,
    pub entry_id: EntryId,
    pub city_code: RegionCode,
    pub title: String,
    pub year: i32,
    pub effective_on: TimeDate,
    pub revoked_on: Option<TimeDate>,
    pub decided_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
    /// The certificate's sequence within its city and year of issue (1, 2, …), gap-free.
    pub seq: i32,
    /// e.g. 长沙市集群认〔2026〕第001号 (the city policy's prefix); unique.
    pub certificate_number: String,
    /// What the certificate showed when issued (`services::records::Snapshot` as JSON).
    pub snapshot: String,
    /// Why and under which document the conferring city revoked the title; empty while live.
    pub revoke_reason: String,
    pub revoke_document: String,
    pub revoked_by: Option<UserId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
