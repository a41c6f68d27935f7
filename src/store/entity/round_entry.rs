use crate::store::id::{ApplicationId, ClusterId, EntryId, RoundId};
use jiqun_domain::application::Status;
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// A cluster competing in a round, judged on one application.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "round_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: EntryId,
    pub round_id: RoundId,
    pub application_id: ApplicationId,
    pub cluster_id: ClusterId,
    pub cluster_kind: String,
    pub city_code: RegionCode,
    pub county_code: RegionCode,
    /// An application state, from recommended on.
    pub status: Status,
    pub final_score: Option<f64>,
    /// Rank within the cluster kind.
    pub rank: Option<i32>,
    /// On the proposed list (拟定名单).
    pub proposed: bool,
    /// Why the candidate was removed or the cap exceeded, when it was.
    pub decision_note: String,
    pub version: i32,
    pub updated_at: TimeDateTimeWithTimeZone,
    /// What the published 公示 showed of this entrant (JSON, `services::records::Snapshot`);
    /// empty until the notice is published.
    pub notice_snapshot: String,
}

/// Declared so an entry loads with its cluster, and a score sheet with its application and final
/// materials too, in one statement.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::cluster::Entity",
        from = "Column::ClusterId",
        to = "super::cluster::Column::Id"
    )]
    Cluster,
    #[sea_orm(
        belongs_to = "super::application::Entity",
        from = "Column::ApplicationId",
        to = "super::application::Column::Id"
    )]
    Application,
    #[sea_orm(has_one = "super::final_materials::Entity")]
    FinalMaterials,
}

impl Related<super::cluster::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Cluster.def()
    }
}

impl Related<super::application::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Application.def()
    }
}

impl Related<super::final_materials::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::FinalMaterials.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
