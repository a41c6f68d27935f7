//! Server-side sessions. The cookie carries a random token; the database keeps only its SM3
//! digest, so reading the sessions table does not let anyone take over a session.

use crate::store::id::UserId;
use jiqun_domain::audit::sm3_hex;
use jiqun_domain::security::session_expired;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use time::{Duration, OffsetDateTime};

use crate::store::entity::{organisation, session, user};

pub const COOKIE: &str = "jiqun_session";

pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn session_id(token: &str) -> String {
    sm3_hex(token.as_bytes())
}

/// Creates a session and returns the token for the cookie (or the API's bearer header).
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    mfa_passed: bool,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<String, DbErr> {
    let token = random_token();
    session::ActiveModel {
        id: Set(session_id(&token)),
        user_id: Set(user_id),
        csrf_token: Set(random_token()),
        mfa_passed: Set(mfa_passed),
        client_addr: Set(client_addr.to_string()),
        created_at: Set(now),
        last_seen_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

// Made once per request and taken apart at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Lookup {
    /// The session, its account and the account's organisation.
    Active(session::Model, user::Model, organisation::Model),
    /// The session ran past the idle timeout or its absolute lifetime and has been removed.
    Expired(user::Model, Expiry),
    Unknown,
}

/// Why a session ended by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Idle,
    /// Older than the absolute lifetime, however active.
    Lifetime,
}

pub async fn load<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    now: OffsetDateTime,
    idle_minutes: u32,
    max_hours: u32,
) -> Result<Lookup, DbErr> {
    // One statement for what every signed-in request needs.
    let Some((found, Some(owner), Some(org))) = session::Entity::find_by_id(session_id(token))
        .find_also_related(user::Entity)
        .and_also_related(organisation::Entity)
        .one(conn)
        .await?
    else {
        return Ok(Lookup::Unknown);
    };
    let freshness = freshness(&found, now, idle_minutes, max_hours);
    if let Freshness::Expired(why) = freshness {
        session::Entity::delete_by_id(found.id).exec(conn).await?;
        return Ok(Lookup::Expired(owner, why));
    }
    if !owner.active {
        session::Entity::delete_by_id(found.id).exec(conn).await?;
        return Ok(Lookup::Unknown);
    }
    if freshness == Freshness::Touch {
        let mut active: session::ActiveModel = found.clone().into();
        active.last_seen_at = Set(now);
        let found = active.update(conn).await?;
        return Ok(Lookup::Active(found, owner, org));
    }
    Ok(Lookup::Active(found, owner, org))
}

/// What a session's times say at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Expired(Expiry),
    /// Alive, and its last-seen time is due to be written.
    Touch,
    /// Alive, nothing to write.
    Current,
}

pub fn freshness(
    found: &session::Model,
    now: OffsetDateTime,
    idle_minutes: u32,
    max_hours: u32,
) -> Freshness {
    if now - found.created_at >= Duration::hours(i64::from(max_hours)) {
        Freshness::Expired(Expiry::Lifetime)
    } else if session_expired(found.last_seen_at, now, idle_minutes) {
        Freshness::Expired(Expiry::Idle)
    } else if now - found.last_seen_at >= Duration::minutes(1) {
        // Written at most once a minute: the idle timeout is counted in minutes anyway.
        Freshness::Touch
    } else {
        Freshness::Current
    }
}

pub async fn set_mfa_passed<C: ConnectionTrait>(conn: &C, id: &str) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(
            session::Column::MfaPassed,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(session::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn delete<C: ConnectionTrait>(conn: &C, id: &str) -> Result<(), DbErr> {
    session::Entity::delete_by_id(id.to_string())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user (password reset, deactivation).
pub async fn delete_for_user<C: ConnectionTrait>(conn: &C, user_id: UserId) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends a user's sessions other than `keep` (a password change keeps the session that made it).
pub async fn delete_others<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
    keep: &str,
) -> Result<u64, DbErr> {
    let done = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Id.ne(keep))
        .exec(conn)
        .await?;
    Ok(done.rows_affected)
}

/// Ends a user's sessions that have not passed the second factor yet.
pub async fn delete_half_signed_in<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::MfaPassed.eq(false))
        .exec(conn)
        .await?;
    Ok(())
}
