use crate::store::id::{ClusterId, EntryId, FinalMaterialsId, OrgId, RoundId, UserId};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// A finalist's 决赛申报材料 (第十一条): asked for when the 决赛 opens, one per round entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "final_materials")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: FinalMaterialsId,
    pub round_id: RoundId,
    pub entry_id: EntryId,
    pub cluster_id: ClusterId,
    /// The cluster's promotion organisation, which writes the materials.
    pub org_id: OrgId,
    pub city_code: RegionCode,
    /// JSON `intake::FormData`: updated indicators and achievements per criterion, as typed.
    pub form: String,
    /// The instant the window closes (the end of the last day, Beijing time).
    pub due_at: TimeDateTimeWithTimeZone,
    pub submitted_at: Option<TimeDateTimeWithTimeZone>,
    pub submitted_by: Option<UserId>,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

/// The other side of an entry's final materials (see `round_entry::Relation`).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::round_entry::Entity",
        from = "Column::EntryId",
        to = "super::round_entry::Column::Id"
    )]
    Entry,
}

impl Related<super::round_entry::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Entry.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
