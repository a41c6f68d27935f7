use crate::store::id::PolicyId;
use sea_orm::entity::prelude::*;

/// An installed policy text (`policies/*.toml` format), kept exactly as installed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: PolicyId,
    /// `identity.id` of the text, e.g. "hunan-2021".
    pub key: String,
    /// `identity.version` of the text.
    pub version: i32,
    /// SM3 of the text (lowercase hex); a call records it as the text it opened under.
    pub sm3: String,
    pub source: String,
    /// "builtin" (shipped with the binary), "upload" (page, API or command line) or "upgrade"
    /// (a text already bound to a call when the database was upgraded).
    pub origin: String,
    pub installed_by: String,
    pub installed_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
