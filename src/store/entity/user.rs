use crate::store::id::{OrgId, UserId};
use jiqun_domain::access::Role;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub org_id: OrgId,
    pub role: Role,
    pub phone: String,
    pub email: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub failed_logins: i32,
    pub locked_until: Option<TimeDateTimeWithTimeZone>,
    /// Wrong second-factor codes since the last right one; a right password does not reset it.
    pub failed_second_factors: i32,
    /// The current lock came from wrong second-factor codes, so the password is known to
    /// someone: presenting both factors does not get past it.
    pub locked_by_second_factor: bool,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    /// The last authenticator time step accepted; a code is never accepted twice.
    pub totp_last_step: Option<i64>,
    /// JSON array of SM3 digests of the unused recovery codes.
    pub recovery_codes: String,
    pub active: bool,
    /// Created by the system administrator and not yet activated by the security administrator
    /// (待激活): no one holds a usable credential for it.
    pub activation_pending: bool,
    pub version: i32,
    pub password_changed_at: TimeDateTimeWithTimeZone,
    pub last_login_at: Option<TimeDateTimeWithTimeZone>,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

/// Declared so a session's account and its organisation load in one statement.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrgId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
