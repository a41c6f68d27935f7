//! A round's figures computed once per state of the round and reused by the ranking page and
//! its API until something they are made of changes.
//!
//! The state is one small read: the round's version and, over the rows the figures are made
//! of, their number, the sum of their ids and of their versions (score sheets, entrants),
//! recusals (assignments) and recorded scores (defence): a sheet submitted or reopened, an
//! expert recused or assigned, a defence score recorded, an entrant moved (an objection
//! upheld) or the competition changed each gives a new state, on whichever server the change
//! was made. Names shown beside the figures (clusters, organisations, experts) are not part of
//! the state; a figure kept longer than `MAX_AGE` is computed afresh, which bounds how long a
//! renamed cluster can show its old name here. Writes (fixing the list) and exports always
//! compute afresh.

use crate::store::id::RoundId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};

use super::{Calc, calculate};
use crate::error::AppError;
use crate::store::entity::round;

const MAX_AGE: Duration = Duration::from_secs(60);
/// Rounds kept at once; the oldest goes first. A round of 1,000 entrants takes about 1 MB.
const MAX_ROUNDS: usize = 4;

/// The computed figures by round (`App::rankings`).
#[derive(Default)]
pub struct RankingCache {
    inner: Mutex<HashMap<RoundId, Kept>>,
}

struct Kept {
    state: String,
    at: Instant,
    calc: Arc<Calc>,
}

impl RankingCache {
    fn get(&self, id: RoundId, state: &str) -> Option<Arc<Calc>> {
        let inner = self.inner.lock().ok()?;
        inner
            .get(&id)
            .filter(|k| k.state == state && k.at.elapsed() < MAX_AGE)
            .map(|k| k.calc.clone())
    }

    fn put(&self, id: RoundId, state: String, calc: Arc<Calc>) {
        if let Ok(mut inner) = self.inner.lock() {
            if inner.len() >= MAX_ROUNDS
                && !inner.contains_key(&id)
                && let Some(oldest) = inner.iter().min_by_key(|(_, k)| k.at).map(|(k, _)| *k)
            {
                inner.remove(&oldest);
            }
            inner.insert(
                id,
                Kept {
                    state,
                    at: Instant::now(),
                    calc,
                },
            );
        }
    }

    /// Forgets every round (tests compare against a fresh computation with it).
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.clear();
        }
    }
}

/// The state of what a round's figures are made of, in one statement.
pub(super) async fn state_of<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
) -> Result<String, AppError> {
    let id = r.id.get();
    let competition = r.competition_id.get();
    let text = |e: &str| format!("CAST({e} AS TEXT)");
    let sql = format!(
        "SELECT \
         (SELECT {c} || ':' || {sv} || ':' || {si} FROM score_sheets WHERE round_id = {id}) AS sheets, \
         (SELECT {c} || ':' || {rc} || ':' || {si} FROM assignments WHERE round_id = {id}) AS assignments, \
         (SELECT {c} || ':' || {si} || ':' || {ss} FROM defence_scores WHERE round_id = {id}) AS defences, \
         (SELECT {c} || ':' || {sv} || ':' || {si} FROM round_entries WHERE round_id = {id}) AS entries, \
         (SELECT {v} FROM competitions WHERE id = {competition}) AS competition",
        c = text("COUNT(*)"),
        sv = text("COALESCE(SUM(version), 0)"),
        si = text("COALESCE(SUM(id), 0)"),
        rc = text("COUNT(recused_at)"),
        ss = text("COALESCE(SUM(score), 0)"),
        v = text("COALESCE(MAX(version), 0)"),
    );
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await?
        .ok_or_else(|| AppError::internal("ranking state: no row"))?;
    let mut state = format!("{}", r.version);
    for col in [
        "sheets",
        "assignments",
        "defences",
        "entries",
        "competition",
    ] {
        let part: Option<String> = row.try_get("", col)?;
        state.push('/');
        state.push_str(part.as_deref().unwrap_or("-"));
    }
    Ok(state)
}

/// The figures of round `r`: kept ones when the round's state is the same, else computed
/// (with `calculate`, unchanged) and kept.
pub(super) async fn figures<C: ConnectionTrait>(
    cache: &RankingCache,
    conn: &C,
    r: round::Model,
) -> Result<Arc<Calc>, AppError> {
    let id = r.id;
    let state = state_of(conn, &r).await?;
    if let Some(calc) = cache.get(id, &state) {
        return Ok(calc);
    }
    let mut calc = calculate(conn, r).await?;
    // The page and its API never read the sheets themselves; the memory is better spent.
    calc.sheets = Vec::new();
    let calc = Arc::new(calc);
    cache.put(id, state, calc.clone());
    Ok(calc)
}
