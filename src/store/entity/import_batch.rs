use crate::store::id::{BlobId, ImportBatchId, UserId};
use sea_orm::entity::prelude::*;

/// An Excel import between its preview and its confirmation (`status` previewed → committed).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ImportBatchId,
    /// `organisations` | `experts`
    pub kind: String,
    /// The object imported into (0 when the import is not for one object).
    pub target_id: i64,
    /// The uploaded file in the blob store.
    pub blob_id: BlobId,
    pub file_name: String,
    /// `previewed` | `committed`
    pub status: String,
    pub rows_new: i32,
    pub rows_updated: i32,
    pub created_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
    pub committed_at: Option<TimeDateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
