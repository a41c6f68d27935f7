//! Optimistic concurrency: every versioned row is written through one update that checks the
//! version the editor saw and bumps it, so "someone else saved first" is decided in one place.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value};

use super::entity;
use super::load::HasId;
use crate::error::AppError;

/// An entity with an `id` primary key and a `version` counter.
pub trait Versioned: HasId {
    fn version_column() -> Self::Column;
}

macro_rules! versioned {
    ($($module:ident),* $(,)?) => {
        $(impl Versioned for entity::$module::Entity {
            fn version_column() -> Self::Column {
                entity::$module::Column::Version
            }
        })*
    };
}

versioned!(
    application,
    cluster,
    competition,
    expert,
    objection,
    organisation,
    round,
    round_entry,
    score_sheet,
    user,
    report,
    revocation_case,
    funding_entry,
    change_request,
    nomination,
    final_materials,
    recheck,
    recheck_call,
    recheck_objection,
);

/// Writes the set fields of `changes` to row `id` if it is still at `expected` and moves it to
/// `expected + 1`; a row someone else changed first is `AppError::StaleVersion` (returning it
/// drops the caller's transaction, which rolls it back).
pub async fn update_versioned<A, C>(
    conn: &C,
    id: <A::Entity as HasId>::Id,
    expected: i32,
    mut changes: A,
) -> Result<(), AppError>
where
    A: ActiveModelTrait + Send,
    A::Entity: Versioned,
    C: ConnectionTrait,
{
    changes.set(
        <A::Entity as Versioned>::version_column(),
        Value::from(expected + 1),
    );
    update_at_version(conn, id, expected, changes).await
}

/// [`update_versioned`], answering with the row as written (one statement, `RETURNING`).
pub async fn update_versioned_returning<A, C>(
    conn: &C,
    id: <A::Entity as HasId>::Id,
    expected: i32,
    mut changes: A,
) -> Result<<A::Entity as EntityTrait>::Model, AppError>
where
    A: ActiveModelTrait + Send,
    A::Entity: Versioned,
    C: ConnectionTrait,
{
    changes.set(
        <A::Entity as Versioned>::version_column(),
        Value::from(expected + 1),
    );
    <A::Entity as EntityTrait>::update_many()
        .set(changes)
        .filter(<A::Entity as HasId>::id_column().eq(id))
        .filter(<A::Entity as Versioned>::version_column().eq(expected))
        .exec_with_returning(conn)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::StaleVersion)
}

/// Writes the set fields of `changes` to row `id` only while it is at `version`, without moving
/// the version: for a second write to a row this transaction has already moved.
pub async fn update_at_version<A, C>(
    conn: &C,
    id: <A::Entity as HasId>::Id,
    version: i32,
    changes: A,
) -> Result<(), AppError>
where
    A: ActiveModelTrait + Send,
    A::Entity: Versioned,
    C: ConnectionTrait,
{
    let result = <A::Entity as EntityTrait>::update_many()
        .set(changes)
        .filter(<A::Entity as HasId>::id_column().eq(id))
        .filter(<A::Entity as Versioned>::version_column().eq(version))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        Err(AppError::StaleVersion)
    } else {
        Ok(())
    }
}
