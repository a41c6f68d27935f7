use crate::store::id::UserId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: TimeDateTimeWithTimeZone,
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub actor_role: String,
    pub actor_org: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub summary: String,
    pub reason: String,
    pub client_addr: String,
    pub prev_hash: String,
    pub hash: String,
    /// `{"field": {"before": …, "after": …}}`, chained as stored; NULL on older entries.
    pub changes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
