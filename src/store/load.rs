//! Batch loading by id: one query per kind of row (per chunk of ids), never one per row.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entity;

/// IN lists stay well under both backends' bound-parameter limits.
const CHUNK: usize = 500;

/// An entity keyed by an `id: i64` column.
pub trait HasId: EntityTrait {
    fn id_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> i64;
}

macro_rules! has_id {
    ($($module:ident),* $(,)?) => {
        $(impl HasId for entity::$module::Entity {
            fn id_column() -> Self::Column {
                entity::$module::Column::Id
            }
            fn id_of(model: &Self::Model) -> i64 {
                model.id
            }
        })*
    };
}

has_id!(
    application,
    application_event,
    application_version,
    assignment,
    attachment,
    blob,
    cluster,
    cluster_co_applicant,
    cluster_county,
    cluster_member,
    competition,
    defence_score,
    designation,
    expert,
    expert_conflict,
    mail_outbox,
    notification,
    objection,
    organisation,
    panel_member,
    recommendation,
    round,
    round_entry,
    score_sheet,
    user,
    report,
    report_alert,
    revocation_case,
    funding_entry,
    change_request,
    nomination,
);

fn distinct(keys: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut seen = HashSet::new();
    keys.into_iter().filter(|k| seen.insert(*k)).collect()
}

/// The rows with these ids (duplicates and missing ids are fine); no query for none.
pub async fn load_by_ids<E>(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, E::Model>, DbErr>
where
    E: HasId,
{
    let rows = load_where_in::<E>(conn, E::id_column(), ids).await?;
    Ok(rows.into_iter().map(|m| (E::id_of(&m), m)).collect())
}

/// Something taken from each row with these ids (a name, say), by id; no query for none.
pub async fn load_by_ids_map<E, T>(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
    f: impl Fn(E::Model) -> T,
) -> Result<HashMap<i64, T>, DbErr>
where
    E: HasId,
{
    let rows = load_where_in::<E>(conn, E::id_column(), ids).await?;
    Ok(rows.into_iter().map(|m| (E::id_of(&m), f(m))).collect())
}

/// The rows whose `column` (typically a parent id) is one of `keys`, in id order; no query for
/// none.
pub async fn load_where_in<E>(
    conn: &impl ConnectionTrait,
    column: E::Column,
    keys: impl IntoIterator<Item = i64>,
) -> Result<Vec<E::Model>, DbErr>
where
    E: HasId,
{
    let keys = distinct(keys);
    let mut rows = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        rows.extend(
            E::find()
                .filter(column.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
    }
    rows.sort_by_key(|m| E::id_of(m));
    Ok(rows)
}
