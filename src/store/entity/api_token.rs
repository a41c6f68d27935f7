use crate::store::id::{ApiTokenId, OrgId, UserId};
use jiqun_domain::access::Role;
use sea_orm::entity::prelude::*;

/// A long-lived API token of another government system, acting in one role for one organisation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ApiTokenId,
    /// What the token is for, e.g. the system that holds it.
    pub name: String,
    /// SM3 of the whole token: a database reader cannot use the tokens.
    #[sea_orm(unique)]
    pub digest: String,
    /// The token's first characters, enough to recognise it, never enough to use it.
    pub prefix: String,
    pub role: Role,
    pub org_id: OrgId,
    pub created_by: UserId,
    pub created_at: TimeDateTimeWithTimeZone,
    pub expires_at: Option<TimeDateTimeWithTimeZone>,
    pub last_used_at: Option<TimeDateTimeWithTimeZone>,
    pub revoked_at: Option<TimeDateTimeWithTimeZone>,
    pub revoked_by: Option<UserId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
