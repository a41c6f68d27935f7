//! Expert scoring (第十条、第十一条): each expert scores their own assignments, criterion by
//! criterion within the policy's maxima, only while the round's scoring window is open; a
//! submitted sheet is locked until the province reopens it with a reason. The province follows
//! progress (who has not finished) and records the defence (答辩) scores.
//!
//! An expert reaches only their own, non-recused assignments (anything else is "not found") and
//! never another expert's scores or any aggregate.

use crate::store::id::RoundId;
use std::collections::BTreeMap;

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::review::{CriterionLimit, ScoringWindow, SheetState};
use jiqun_rules::Policy;
use jiqun_rules::policy::Round as PolicyRound;
use time::OffsetDateTime;

use super::authorize;
use crate::app::{App, Principal};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::services::rounds::{self, competition_of, round_policy};
use crate::store::entity::{assignment, competition, round, round_entry, score_sheet};

pub const DRAFT: &str = "draft";
pub const SUBMITTED: &str = "submitted";
/// Sheet status of an assignment that has no sheet yet.
pub const NOT_STARTED: &str = "not_started";
/// The longest 评审意见 accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// The longest reason (reopening a sheet) accepted, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

mod defence;
mod input;
mod progress;
mod sheets;

pub use defence::*;
pub use input::*;
pub use progress::*;
pub use sheets::*;

pub fn sheet_status_label(status: &str) -> &'static str {
    match status {
        DRAFT => "草稿",
        SUBMITTED => "已提交",
        _ => "未开始",
    }
}

/// Up to two decimals without trailing zeros: 85, 85.5, 85.33.
pub fn show(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The criteria of a policy with their general maxima (headers, names).
pub fn limits(policy: &Policy) -> Vec<CriterionLimit> {
    policy
        .criteria
        .iter()
        .map(|c| CriterionLimit {
            key: c.key.clone(),
            name: c.name.clone(),
            max_score: c.max_score,
        })
        .collect()
}

/// The criteria as the score sheet of an entrant of `kind` needs them: the kind's maxima.
pub fn limits_for(policy: &Policy, kind: &str) -> Vec<CriterionLimit> {
    policy
        .criteria
        .iter()
        .map(|c| CriterionLimit {
            key: c.key.clone(),
            name: c.name.clone(),
            max_score: c.max_score_for(kind),
        })
        .collect()
}

/// The floor of each criterion (in the order of `limits_for`) for an entrant of `kind`.
pub fn floors_for(policy: &Policy, kind: &str) -> Vec<Option<f64>> {
    policy
        .criteria
        .iter()
        .map(|c| policy.floor_of(c, kind))
        .collect()
}

/// A stored sheet's scores, criterion key → points.
pub fn scores_of(s: &score_sheet::Model) -> BTreeMap<String, f64> {
    serde_json::from_str(&s.scores).unwrap_or_default()
}

pub use jiqun_domain::review::Window;

/// The round's scoring window as the domain decides on it.
fn scoring_window(r: &round::Model) -> Result<ScoringWindow, AppError> {
    Ok(ScoringWindow {
        status: r.status,
        opens: r.scoring_opens_at,
        closes: r.scoring_closes_at,
    })
}

/// The window is [opens, closes): at the closing minute scoring has ended.
pub fn window(r: &round::Model, now: OffsetDateTime) -> Result<Window, AppError> {
    Ok(scoring_window(r)?.at(now))
}

/// What an expert is told about the window.
pub fn window_label(r: &round::Model, now: OffsetDateTime) -> Result<String, AppError> {
    Ok(scoring_window(r)?.label(now, local_minutes))
}

/// Whether the expert may still change this sheet now, or why not (a reopened sheet stays
/// editable after the window closed while the round is in scoring).
pub fn check_editable(
    r: &round::Model,
    sheet: Option<&score_sheet::Model>,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let state = SheetState {
        submitted: sheet
            .is_some_and(|s| s.status == crate::store::entity::kinds::ScoreSheetStatus::Submitted),
        reopened: sheet.is_some_and(|s| !s.reopened_reason.is_empty()),
    };
    scoring_window(r)?
        .check_edit(state, now, local_minutes)
        .map_err(AppError::Conflict)
}

/// A label for a round: "2026年度初赛".
pub fn round_label(c: &competition::Model, r: &round::Model) -> String {
    let kind = r.kind.label();
    format!("{}年度{kind}", c.year)
}

fn kind_label(policy: &Policy, key: &str) -> String {
    policy
        .cluster_kind(key)
        .map(|k| k.name.clone())
        .unwrap_or_else(|| key.to_string())
}

/// The organiser of a round sees all its sheets: the province, or a city bureau for its city's
/// own competition (第十六条) — the round is then loaded with its scope (`rounds::load`).
pub(crate) fn organiser_wide(p: &Principal, action: Action) -> Result<(), AppError> {
    match authorize(p, Resource::ScoreSheet, action)? {
        ScopeKind::All | ScopeKind::OwnCity => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// A round as the province's scoring pages (progress, defence) read it.
pub(super) struct ProvinceRound {
    pub r: round::Model,
    pub c: competition::Model,
    pub policy: std::sync::Arc<Policy>,
    /// The policy's settings for this kind of round.
    pub rule: PolicyRound,
    pub entries: Vec<round_entry::Model>,
    /// The non-recused assignments.
    pub active: Vec<assignment::Model>,
}

/// Loads a round for a province-wide view, with its competition, policy, entrants and active
/// assignments.
pub(super) async fn load_province_round(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<ProvinceRound, AppError> {
    organiser_wide(p, Action::View)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let c = competition_of(&app.db, &r).await?;
    let (policy, rule) = round_policy(&c, r.kind)?;
    let entries = rounds::entries(&app.db, r.id).await?;
    let active = rounds::active_assignments(&app.db, r.id).await?;
    Ok(ProvinceRound {
        r,
        c,
        policy,
        rule,
        entries,
        active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_without_noise() {
        assert_eq!(show(85.0), "85");
        assert_eq!(show(85.5), "85.5");
        assert_eq!(show(256.0 / 3.0), "85.33");
    }
}
