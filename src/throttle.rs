//! Limits per subject (a client address, an account) counted in the database, so that they hold
//! across every app server: at most `max` attempts in a sliding window, the check and the count
//! made atomically (`store::lock::serialise`), so that N parallel attempts count N.

use crate::store::id::UserId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use time::{Duration, OffsetDateTime};

use crate::store::{self, entity::throttle_hit};

/// A limit: `max` attempts per subject within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// The answer to an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted; the id lets a successful attempt be taken back (`forgive`).
    Allowed(i64),
    /// Over the limit: nothing was counted; the subject may try again after this many seconds.
    Refused { retry_after_secs: i64 },
}

/// Seconds until the oldest attempt in the window leaves it (at least one).
pub fn retry_after(oldest: OffsetDateTime, window: Duration, now: OffsetDateTime) -> i64 {
    ((oldest + window) - now).whole_seconds().max(1)
}

/// Counts an attempt when the subject has room left in the window, in one transaction.
pub async fn take(
    db: &DatabaseConnection,
    limit: Limit,
    subject: &str,
    now: OffsetDateTime,
) -> Result<Verdict, DbErr> {
    let txn = store::write_txn(db).await?;
    store::lock::serialise(&txn, &format!("throttle:{}:{subject}", limit.bucket)).await?;
    let in_window = throttle_hit::Entity::find()
        .filter(throttle_hit::Column::Bucket.eq(limit.bucket))
        .filter(throttle_hit::Column::Subject.eq(subject))
        .filter(throttle_hit::Column::At.gt(now - limit.window));
    let count = in_window.clone().count(&txn).await?;
    if count >= u64::from(limit.max) {
        let oldest = in_window
            .order_by_asc(throttle_hit::Column::At)
            .one(&txn)
            .await?
            .map_or(now, |h| h.at);
        txn.commit().await?;
        return Ok(Verdict::Refused {
            retry_after_secs: retry_after(oldest, limit.window, now),
        });
    }
    let hit = throttle_hit::ActiveModel {
        bucket: Set(limit.bucket.to_string()),
        subject: Set(subject.to_string()),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Verdict::Allowed(hit.id))
}

/// Takes back a counted attempt that turned out well (a right password counts for nothing).
pub async fn forgive(db: &DatabaseConnection, hit_id: i64) -> Result<(), DbErr> {
    throttle_hit::Entity::delete_by_id(hit_id).exec(db).await?;
    Ok(())
}

/// The bucket of failed sign-in steps (password or second factor) per client address.
pub const SIGN_IN: &str = "sign_in";
/// The bucket of failures of one account from one address (`account_subject`): an address with
/// none may still sign in to a locked account with both factors.
pub const ACCOUNT_FAILURE: &str = "account_failure";

pub fn account_subject(user_id: UserId, client_addr: &str) -> String {
    format!("{user_id}@{client_addr}")
}

/// Notes an event against a subject without a limit (inside the caller's transaction).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    bucket: &str,
    subject: &str,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    throttle_hit::ActiveModel {
        bucket: Set(bucket.to_string()),
        subject: Set(subject.to_string()),
        at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// How many events a subject had after `since`.
pub async fn count_since<C: ConnectionTrait>(
    conn: &C,
    bucket: &str,
    subject: &str,
    since: OffsetDateTime,
) -> Result<u64, DbErr> {
    throttle_hit::Entity::find()
        .filter(throttle_hit::Column::Bucket.eq(bucket))
        .filter(throttle_hit::Column::Subject.eq(subject))
        .filter(throttle_hit::Column::At.gt(since))
        .count(conn)
        .await
}

/// Forgets attempts older than a day; every limit's window is shorter.
pub async fn sweep(db: &DatabaseConnection, now: OffsetDateTime) -> Result<u64, DbErr> {
    let done = throttle_hit::Entity::delete_many()
        .filter(throttle_hit::Column::At.lt(now - Duration::days(1)))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retry_after_counts_to_when_the_oldest_attempt_leaves_the_window() {
        let now = datetime!(2026-12-04 10:00 UTC);
        let w = Duration::minutes(15);
        assert_eq!(retry_after(now - Duration::minutes(10), w, now), 300);
        assert_eq!(retry_after(now - Duration::minutes(15), w, now), 1);
        assert_eq!(retry_after(now, w, now), 900);
    }
}
