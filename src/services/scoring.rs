//! Expert scoring (第十条、第十一条): each expert scores their own assignments, criterion by
//! criterion within the policy's maxima, only while the round's scoring window is open; a
//! submitted sheet is locked until the province reopens it with a reason. The province follows
//! progress (who has not finished) and records the defence (答辩) scores.
//!
//! An expert reaches only their own, non-recused assignments (anything else is "not found") and
//! never another expert's scores or any aggregate.

use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::attachment::{OwnerType, human_size};
use jiqun_domain::region;
use jiqun_domain::review::{self, CriterionLimit, ScoringWindow, SheetState};
use jiqun_domain::round::RoundStatus;
use jiqun_rules::Policy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::rounds::{self, competition_of, round_policy};
use super::{authorize, experts, trimmed};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::local_minutes;
use crate::error::{AppError, FieldError};
use crate::store::{
    self,
    entity::{
        application, assignment, cluster, competition, defence_score, expert, organisation, round,
        round_entry, score_sheet,
    },
};

pub const DRAFT: &str = "draft";
pub const SUBMITTED: &str = "submitted";
/// Sheet status of an assignment that has no sheet yet.
pub const NOT_STARTED: &str = "not_started";
/// The longest 评审意见 accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
/// The longest reason (reopening a sheet) accepted, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

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

/// The criteria of a policy as the score sheet needs them.
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

/// What an expert sends: the points per criterion (a draft may leave some out), the comment,
/// and the version of the sheet they saw (0 before the first save).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SheetInput {
    /// Criterion key → points (0 to the criterion's maximum, at most one decimal).
    #[serde(default)]
    pub scores: BTreeMap<String, f64>,
    /// 评审意见: required to submit.
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub version: i32,
}

/// The field a criterion's problems are reported against.
pub fn score_field(key: &str) -> String {
    format!("scores.{key}")
}

/// Checks a sheet against the criteria. A draft may be partial, but every score given must be
/// valid; a submitted sheet scores every criterion (domain `validate_sheet`) and has a comment.
pub fn check_input(
    input: &SheetInput,
    criteria: &[CriterionLimit],
    submit: bool,
) -> Vec<FieldError> {
    let sheet = review::ScoreSheet {
        expert_id: 0,
        application_id: 0,
        scores: input.scores.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        submitted: submit,
    };
    let mut problems: Vec<(String, String)> = Vec::new();
    if submit {
        if let Err(found) = review::validate_sheet(&sheet, criteria) {
            problems.extend(found.into_iter().map(|(key, message)| {
                // Name the maximum with a missing criterion too, so the expert sees the scale.
                match criteria.iter().find(|c| c.key == key) {
                    Some(c) if !input.scores.contains_key(&key) => (
                        key,
                        format!("请为“{}”评分（满分{}分）", c.name, c.max_score),
                    ),
                    _ => (key, message),
                }
            }));
        }
    } else {
        for c in criteria {
            if let Some(v) = input.scores.get(&c.key)
                && let Err(message) = review::validate_score(*v, c.max_score)
            {
                problems.push((c.key.clone(), format!("“{}”{message}", c.name)));
            }
        }
        for key in input.scores.keys() {
            if !criteria.iter().any(|c| c.key == *key) {
                problems.push((key.clone(), format!("评分项“{key}”不在本轮评分标准中")));
            }
        }
    }
    let mut out: Vec<FieldError> = problems
        .into_iter()
        .map(|(key, message)| FieldError {
            field: score_field(&key),
            message,
        })
        .collect();
    let comment = input.comment.trim();
    if submit && comment.is_empty() {
        out.push(FieldError {
            field: "comment".into(),
            message: "提交评分前请填写评审意见".into(),
        });
    }
    if comment.chars().count() > MAX_COMMENT_CHARS {
        out.push(FieldError {
            field: "comment".into(),
            message: format!("评审意见不能超过{MAX_COMMENT_CHARS}字"),
        });
    }
    out
}

/// Parses the text a score field was filled in with: empty is "not scored"; anything else must
/// be a number. Returns the scores and the fields that were not numbers.
pub fn parse_typed(
    typed: &BTreeMap<String, String>,
    criteria: &[CriterionLimit],
) -> (BTreeMap<String, f64>, Vec<FieldError>) {
    let mut scores = BTreeMap::new();
    let mut problems = Vec::new();
    for c in criteria {
        let text = typed
            .get(&c.key)
            .map(|t| t.trim().replace('，', "."))
            .unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => {
                scores.insert(c.key.clone(), v);
            }
            _ => problems.push(FieldError {
                field: score_field(&c.key),
                message: format!("“{}”请填写0至{}之间的数字", c.name, c.max_score),
            }),
        }
    }
    (scores, problems)
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

/// One of the expert's assignments, as listed on 评审任务.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssignmentRow {
    pub assignment_id: i64,
    pub round_id: i64,
    /// e.g. "2026年度初赛"
    pub round_label: String,
    pub cluster_name: String,
    pub kind_label: String,
    /// not_started | draft | submitted
    pub status: String,
    pub status_label: String,
    /// Beijing time, "2026-05-01 09:00".
    pub opens_at: String,
    pub closes_at: String,
    /// not_open | open | closed
    pub window: String,
    pub window_label: String,
    /// Whether the expert may change the sheet now.
    pub editable: bool,
    /// The province's reason when it reopened the sheet.
    pub reopened_reason: String,
}

/// The pool entry of the signed-in expert. Experts reach scoring through their own account only.
async fn me<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    action: Action,
) -> Result<Option<expert::Model>, AppError> {
    match authorize(p, Resource::ScoreSheet, action)? {
        ScopeKind::OwnAccount => experts::of_user(conn, p.user.id).await,
        _ => Ok(None),
    }
}

/// An assignment of the signed-in expert that still stands; anything else is "not found".
async fn my_assignment<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    action: Action,
    assignment_id: i64,
) -> Result<(expert::Model, assignment::Model), AppError> {
    let me = me(conn, p, action).await?.ok_or(AppError::NotFound)?;
    let a = assignment::Entity::find_by_id(assignment_id)
        .one(conn)
        .await?
        .filter(|a| a.expert_id == me.id && a.recused_at.is_none())
        .ok_or(AppError::NotFound)?;
    Ok((me, a))
}

async fn sheet_of<C: ConnectionTrait>(
    conn: &C,
    assignment_id: i64,
) -> Result<Option<score_sheet::Model>, AppError> {
    Ok(score_sheet::Entity::find()
        .filter(score_sheet::Column::AssignmentId.eq(assignment_id))
        .one(conn)
        .await?)
}

/// Everything around an assignment: its round, competition, entry and cluster.
struct Context {
    round: round::Model,
    competition: competition::Model,
    policy: Policy,
    entry: round_entry::Model,
    cluster: cluster::Model,
}

async fn context_of<C: ConnectionTrait>(
    conn: &C,
    a: &assignment::Model,
) -> Result<Context, AppError> {
    let round = round::Entity::find_by_id(a.round_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let competition = competition_of(conn, &round).await?;
    let (policy, _) = round_policy(&competition, round.kind)?;
    let entry = round_entry::Entity::find_by_id(a.entry_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let cluster = cluster::Entity::find_by_id(entry.cluster_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Context {
        round,
        competition,
        policy,
        entry,
        cluster,
    })
}

/// The signed-in expert's assignments across rounds, newest round first. Anyone who is not in
/// the expert pool has none.
pub async fn my_assignments(app: &App, p: &Principal) -> Result<Vec<AssignmentRow>, AppError> {
    let Some(me) = me(&app.db, p, Action::View).await? else {
        return Ok(Vec::new());
    };
    let list = assignment::Entity::find()
        .filter(assignment::Column::ExpertId.eq(me.id))
        .filter(assignment::Column::RecusedAt.is_null())
        .order_by_desc(assignment::Column::RoundId)
        .order_by_asc(assignment::Column::Id)
        .all(&app.db)
        .await?;
    let now = app.clock.now();
    let mut rows = Vec::with_capacity(list.len());
    for a in &list {
        let ctx = context_of(&app.db, a).await?;
        let sheet = sheet_of(&app.db, a.id).await?;
        let status = sheet
            .as_ref()
            .map_or(NOT_STARTED.to_string(), |s| s.status.key().to_string());
        rows.push(AssignmentRow {
            assignment_id: a.id,
            round_id: ctx.round.id,
            round_label: round_label(&ctx.competition, &ctx.round),
            cluster_name: ctx.cluster.name.clone(),
            kind_label: kind_label(&ctx.policy, &ctx.entry.cluster_kind),
            status_label: sheet_status_label(&status).into(),
            status,
            opens_at: local_minutes(ctx.round.scoring_opens_at),
            closes_at: local_minutes(ctx.round.scoring_closes_at),
            window: window(&ctx.round, now)?.key().into(),
            window_label: window_label(&ctx.round, now)?,
            editable: check_editable(&ctx.round, sheet.as_ref(), now).is_ok(),
            reopened_reason: sheet.map(|s| s.reopened_reason).unwrap_or_default(),
        });
    }
    Ok(rows)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorValue {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub value: String,
}

/// One criterion: what the applicant wrote for it, and the expert's score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CriterionSheet {
    pub key: String,
    pub name: String,
    pub article: String,
    pub max_score: u32,
    /// The expert's points, when given.
    pub score: Option<f64>,
    pub indicators: Vec<IndicatorValue>,
    pub narrative: String,
}

impl CriterionSheet {
    /// The value for the number field.
    pub fn score_text(&self) -> String {
        self.score.map(show).unwrap_or_default()
    }
}

/// A file of the application being judged, downloadable by the expert during the window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetFile {
    pub id: i64,
    pub file_name: String,
    pub size: String,
}

/// An expert's score sheet with the application it judges.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetView {
    /// The application's files; empty outside the scoring window.
    pub files: Vec<SheetFile>,
    pub assignment_id: i64,
    /// Absent before the first save.
    pub sheet_id: Option<i64>,
    pub round_id: i64,
    pub round_label: String,
    pub cluster_name: String,
    pub org_name: String,
    pub kind_label: String,
    pub city_name: String,
    pub county_name: String,
    /// "C35 专用设备制造业"
    pub industry: String,
    pub core_park: String,
    /// The application's content is shown only while the expert may score (第十条: experts see
    /// their applications only during the window); the criteria and their maxima always.
    pub content_visible: bool,
    pub criteria: Vec<CriterionSheet>,
    pub comment: String,
    /// not_started | draft | submitted
    pub status: String,
    pub status_label: String,
    /// Sum of the points when every criterion is scored.
    pub total: Option<f64>,
    pub total_score: u32,
    /// 0 before the first save; send it back when saving.
    pub version: i32,
    pub editable: bool,
    /// Why the sheet cannot be changed now, when it cannot.
    pub locked_reason: String,
    pub window: String,
    pub window_label: String,
    pub opens_at: String,
    pub closes_at: String,
    pub submitted_at: String,
    pub reopened_reason: String,
    /// Whether the expert may still declare a conflict and step back.
    pub can_recuse: bool,
}

impl SheetView {
    pub fn total_text(&self) -> String {
        self.total.map(show).unwrap_or_default()
    }
}

/// The expert's sheet for one of their assignments, with the application's content.
pub async fn sheet(app: &App, p: &Principal, assignment_id: i64) -> Result<SheetView, AppError> {
    let (_, a) = my_assignment(&app.db, p, Action::View, assignment_id).await?;
    view_of(app, &a).await
}

async fn view_of(app: &App, a: &assignment::Model) -> Result<SheetView, AppError> {
    let ctx = context_of(&app.db, a).await?;
    let sheet = sheet_of(&app.db, a.id).await?;
    let now = app.clock.now();
    let application = application::Entity::find_by_id(ctx.entry.application_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = super::applications::form_of(&application);
    let org_name = organisation::Entity::find_by_id(ctx.cluster.org_id)
        .one(&app.db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let given = sheet.as_ref().map(scores_of).unwrap_or_default();
    let editable = check_editable(&ctx.round, sheet.as_ref(), now);
    let visible = editable.is_ok() || window(&ctx.round, now)? == Window::Open;
    // The same rule as the download itself (`owners::can_read`): files while the window is open.
    let files = if window(&ctx.round, now)? == Window::Open {
        crate::store::entity::attachment::Entity::find()
            .filter(
                crate::store::entity::attachment::Column::OwnerType
                    .eq(OwnerType::Application.key()),
            )
            .filter(crate::store::entity::attachment::Column::OwnerId.eq(application.id))
            .order_by_asc(crate::store::entity::attachment::Column::Id)
            .find_also_related(crate::store::entity::blob::Entity)
            .all(&app.db)
            .await?
            .into_iter()
            .map(|(a, b)| SheetFile {
                id: a.id,
                file_name: a.file_name,
                size: human_size(b.map_or(0, |b| u64::try_from(b.size).unwrap_or_default())),
            })
            .collect()
    } else {
        Vec::new()
    };
    let criteria = ctx
        .policy
        .criteria
        .iter()
        .map(|c| CriterionSheet {
            key: c.key.clone(),
            name: c.name.clone(),
            article: c.article.clone(),
            max_score: c.max_score,
            score: given.get(&c.key).copied(),
            indicators: c
                .indicators
                .iter()
                .map(|i| IndicatorValue {
                    key: i.key.clone(),
                    name: i.name.clone(),
                    unit: i.unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
                    value: if visible {
                        form.indicators.get(&i.key).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    },
                })
                .collect(),
            narrative: if visible {
                form.narratives.get(&c.key).cloned().unwrap_or_default()
            } else {
                String::new()
            },
        })
        .collect();
    let status = sheet
        .as_ref()
        .map_or(NOT_STARTED.to_string(), |s| s.status.key().to_string());
    let industry = jiqun_domain::industry::division(&ctx.cluster.industry_code)
        .map(|d| d.to_string())
        .unwrap_or_else(|| ctx.cluster.industry_code.clone());
    let submitted = sheet
        .as_ref()
        .is_some_and(|s| s.status == crate::store::entity::kinds::ScoreSheetStatus::Submitted);
    Ok(SheetView {
        files,
        assignment_id: a.id,
        sheet_id: sheet.as_ref().map(|s| s.id),
        round_id: ctx.round.id,
        round_label: round_label(&ctx.competition, &ctx.round),
        cluster_name: ctx.cluster.name.clone(),
        org_name,
        kind_label: kind_label(&ctx.policy, &ctx.entry.cluster_kind),
        city_name: region::city_name_of(ctx.entry.city_code),
        county_name: rounds::county_name(&ctx.entry.county_code.to_string()),
        industry,
        core_park: ctx.cluster.core_park.clone(),
        content_visible: visible,
        criteria,
        comment: sheet
            .as_ref()
            .map(|s| s.comment.clone())
            .unwrap_or_default(),
        status_label: sheet_status_label(&status).into(),
        status,
        total: sheet.as_ref().and_then(|s| s.total),
        total_score: ctx.policy.scoring.total_score,
        version: sheet.as_ref().map_or(0, |s| s.version),
        editable: editable.is_ok(),
        locked_reason: editable.err().map(|e| e.to_string()).unwrap_or_default(),
        window: window(&ctx.round, now)?.key().into(),
        window_label: window_label(&ctx.round, now)?,
        opens_at: local_minutes(ctx.round.scoring_opens_at),
        closes_at: local_minutes(ctx.round.scoring_closes_at),
        submitted_at: sheet
            .as_ref()
            .and_then(|s| s.submitted_at)
            .map(local_minutes)
            .unwrap_or_default(),
        reopened_reason: sheet
            .as_ref()
            .map(|s| s.reopened_reason.clone())
            .unwrap_or_default(),
        can_recuse: !submitted && ctx.round.status.assignments_open(),
    })
}

/// Saves the expert's sheet as a draft, or submits it (then it is locked). `input` absent (API
/// submit without a body) submits the stored draft as it stands.
pub async fn save(
    app: &App,
    p: &Principal,
    assignment_id: i64,
    input: Option<&SheetInput>,
    submit: bool,
) -> Result<SheetView, AppError> {
    let txn = store::write_txn(&app.db).await?;
    let (me, a) = my_assignment(&txn, p, Action::Update, assignment_id).await?;
    let ctx = context_of(&txn, &a).await?;
    let existing = sheet_of(&txn, a.id).await?;
    let now = app.clock.now();
    check_editable(&ctx.round, existing.as_ref(), now)?;
    let stored;
    let input = match (input, &existing) {
        (Some(i), _) => i,
        (None, Some(s)) => {
            stored = SheetInput {
                scores: scores_of(s),
                comment: s.comment.clone(),
                version: s.version,
            };
            &stored
        }
        (None, None) => {
            return Err(AppError::Conflict(
                "尚未保存评分，请填写各项评分后提交".into(),
            ));
        }
    };
    if existing.as_ref().map_or(0, |s| s.version) != input.version {
        return Err(AppError::StaleVersion);
    }
    let criteria = limits(&ctx.policy);
    let problems = check_input(input, &criteria, submit);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let complete = criteria.iter().all(|c| input.scores.contains_key(&c.key));
    let total = complete.then(|| {
        review::total(&review::ScoreSheet {
            expert_id: me.id,
            application_id: ctx.entry.application_id,
            scores: input.scores.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            submitted: submit,
        })
    });
    let scores_json =
        serde_json::to_string(&input.scores).map_err(|e| AppError::internal(e.to_string()))?;
    let comment = trimmed(&input.comment);
    let status = if submit {
        crate::store::entity::kinds::ScoreSheetStatus::Submitted
    } else {
        crate::store::entity::kinds::ScoreSheetStatus::Draft
    };
    let submitted_at = submit.then_some(now);
    let sheet_id = match &existing {
        Some(s) => {
            store::update_versioned(
                &txn,
                s.id,
                s.version,
                score_sheet::ActiveModel {
                    scores: Set(scores_json),
                    comment: Set(comment.clone()),
                    total: Set(total),
                    status: Set(status),
                    submitted_at: Set(submitted_at),
                    updated_at: Set(now),
                    ..Default::default()
                },
            )
            .await?;
            s.id
        }
        None => {
            let inserted = score_sheet::ActiveModel {
                assignment_id: Set(a.id),
                round_id: Set(a.round_id),
                entry_id: Set(a.entry_id),
                expert_id: Set(me.id),
                scores: Set(scores_json),
                comment: Set(comment.clone()),
                total: Set(total),
                status: Set(status),
                submitted_at: Set(submitted_at),
                reopened_reason: Set(String::new()),
                version: Set(1),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await;
            match inserted {
                Ok(m) => m.id,
                // Someone saved the first version in the meantime (a second tab).
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    return Err(AppError::StaleVersion);
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let given: Vec<String> = criteria
        .iter()
        .filter_map(|c| {
            input
                .scores
                .get(&c.key)
                .map(|v| format!("{}{}", c.name, show(*v)))
        })
        .collect();
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: if submit { "score.submit" } else { "score.save" },
                object_type: "score_sheet",
                object_id: sheet_id.to_string(),
                summary: format!(
                    "{}“{}”的评分表（{}）：{}{}",
                    if submit { "提交" } else { "保存草稿：" },
                    ctx.cluster.name,
                    round_label(&ctx.competition, &ctx.round),
                    if given.is_empty() {
                        "尚未评分".to_string()
                    } else {
                        given.join("，")
                    },
                    total
                        .map(|t| format!("；合计{}分", show(t)))
                        .unwrap_or_default()
                ),
                reason: String::new(),
            },
        )
        .await?;
    txn.commit().await?;
    view_of(app, &a).await
}

// ---------------------------------------------------------------------------------------------
// The province: progress, reopening, defence scores.

/// The province sees every sheet of a round; partners and experts do not.
pub(crate) fn province_wide(p: &Principal, action: Action) -> Result<(), AppError> {
    match authorize(p, Resource::ScoreSheet, action)? {
        ScopeKind::All => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetStatus {
    pub assignment_id: i64,
    pub sheet_id: Option<i64>,
    pub expert_id: i64,
    pub expert_name: String,
    pub entry_id: i64,
    pub cluster_name: String,
    /// not_started | draft | submitted
    pub status: String,
    pub status_label: String,
    pub total: Option<f64>,
    pub submitted_at: String,
    pub reopened_reason: String,
}

impl SheetStatus {
    pub fn total_text(&self) -> String {
        self.total.map(show).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExpertProgress {
    pub expert_id: i64,
    pub expert_name: String,
    pub assigned: u32,
    pub submitted: u32,
    pub missing: u32,
    /// The clusters still waiting for this expert's submitted sheet.
    pub missing_clusters: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntrantProgress {
    pub entry_id: i64,
    pub cluster_name: String,
    pub kind_label: String,
    pub assigned: u32,
    pub submitted: u32,
    pub sheets: Vec<SheetStatus>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgressView {
    pub round_id: i64,
    pub round_label: String,
    /// The round status key and label.
    pub status: String,
    pub status_label: String,
    pub opens_at: String,
    pub closes_at: String,
    pub assigned: u32,
    pub submitted: u32,
    pub experts: Vec<ExpertProgress>,
    pub entrants: Vec<EntrantProgress>,
    /// Submitted sheets can be reopened (the round is in scoring).
    pub can_reopen: bool,
    pub defence: bool,
}

/// Who has scored what in a round (province).
pub async fn progress(app: &App, p: &Principal, round_id: i64) -> Result<ProgressView, AppError> {
    province_wide(p, Action::View)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let c = competition_of(&app.db, &r).await?;
    let (policy, _) = round_policy(&c, r.kind)?;
    let entries = rounds::entries(&app.db, r.id).await?;
    let active = rounds::active_assignments(&app.db, r.id).await?;
    let sheets: BTreeMap<i64, score_sheet::Model> = score_sheet::Entity::find()
        .filter(score_sheet::Column::RoundId.eq(r.id))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|s| (s.assignment_id, s))
        .collect();
    let names = expert_names(&app.db, active.iter().map(|a| a.expert_id)).await?;
    let clusters = rounds::cluster_names(&app.db, entries.iter().map(|e| e.cluster_id)).await?;
    let cluster_names: BTreeMap<i64, String> = entries
        .iter()
        .map(|e| {
            (
                e.id,
                clusters.get(&e.cluster_id).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let statuses: Vec<SheetStatus> = active
        .iter()
        .map(|a| {
            let s = sheets.get(&a.id);
            let status = s.map_or(NOT_STARTED.to_string(), |s| s.status.key().to_string());
            SheetStatus {
                assignment_id: a.id,
                sheet_id: s.map(|s| s.id),
                expert_id: a.expert_id,
                expert_name: names.get(&a.expert_id).cloned().unwrap_or_default(),
                entry_id: a.entry_id,
                cluster_name: cluster_names.get(&a.entry_id).cloned().unwrap_or_default(),
                status_label: sheet_status_label(&status).into(),
                status,
                total: s.and_then(|s| s.total),
                submitted_at: s
                    .and_then(|s| s.submitted_at)
                    .map(local_minutes)
                    .unwrap_or_default(),
                reopened_reason: s.map(|s| s.reopened_reason.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let count = |list: &[&SheetStatus]| {
        (
            u32::try_from(list.len()).unwrap_or(u32::MAX),
            u32::try_from(list.iter().filter(|s| s.status == SUBMITTED).count())
                .unwrap_or(u32::MAX),
        )
    };
    let mut experts = Vec::new();
    let expert_ids: BTreeSet<i64> = active.iter().map(|a| a.expert_id).collect();
    for id in expert_ids {
        let mine: Vec<&SheetStatus> = statuses.iter().filter(|s| s.expert_id == id).collect();
        let (assigned, submitted) = count(&mine);
        experts.push(ExpertProgress {
            expert_id: id,
            expert_name: names.get(&id).cloned().unwrap_or_default(),
            assigned,
            submitted,
            missing: assigned - submitted,
            missing_clusters: mine
                .iter()
                .filter(|s| s.status != SUBMITTED)
                .map(|s| s.cluster_name.clone())
                .collect(),
        });
    }
    let entrants = entries
        .iter()
        .map(|e| {
            let theirs: Vec<&SheetStatus> =
                statuses.iter().filter(|s| s.entry_id == e.id).collect();
            let (assigned, submitted) = count(&theirs);
            EntrantProgress {
                entry_id: e.id,
                cluster_name: cluster_names.get(&e.id).cloned().unwrap_or_default(),
                kind_label: kind_label(&policy, &e.cluster_kind),
                assigned,
                submitted,
                sheets: theirs.into_iter().cloned().collect(),
            }
        })
        .collect();
    let all: Vec<&SheetStatus> = statuses.iter().collect();
    let (assigned, submitted) = count(&all);
    let status = r.status;
    Ok(ProgressView {
        round_id: r.id,
        round_label: round_label(&c, &r),
        status: status.key().into(),
        status_label: status.label().into(),
        opens_at: local_minutes(r.scoring_opens_at),
        closes_at: local_minutes(r.scoring_closes_at),
        assigned,
        submitted,
        experts,
        entrants,
        can_reopen: status == RoundStatus::Scoring,
        defence: r.defence,
    })
}

/// Experts' names by id.
pub async fn expert_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, String>, AppError> {
    Ok(
        store::load_by_ids_map::<expert::Entity, _>(conn, ids, |e| e.name)
            .await?
            .into_iter()
            .collect(),
    )
}

/// The province sends a submitted sheet back to its expert as a draft, with a reason; only while
/// the round is in scoring. The expert is notified and may correct it even after the window.
pub async fn reopen(
    app: &App,
    p: &Principal,
    sheet_id: i64,
    reason: &str,
) -> Result<score_sheet::Model, AppError> {
    province_wide(p, Action::Update)?;
    let reason = super::required_text("reason", reason, "请填写退回评分表的理由")?;
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("理由不能超过{MAX_REASON_CHARS}字"),
        ));
    }
    let txn = store::write_txn(&app.db).await?;
    let s = score_sheet::Entity::find_by_id(sheet_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = rounds::load(&txn, p, s.round_id).await?;
    let status = r.status;
    if status != RoundStatus::Scoring {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再退回评分表",
            status.label()
        )));
    }
    if s.status != crate::store::entity::kinds::ScoreSheetStatus::Submitted {
        return Err(AppError::Conflict("该评分表尚未提交，无需退回".into()));
    }
    let now = app.clock.now();
    store::update_versioned(
        &txn,
        s.id,
        s.version,
        score_sheet::ActiveModel {
            status: Set(crate::store::entity::kinds::ScoreSheetStatus::Draft),
            submitted_at: Set(None),
            reopened_reason: Set(reason.to_string()),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let entry = round_entry::Entity::find_by_id(s.entry_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let name = rounds::cluster_name(&txn, entry.cluster_id).await?;
    let ex = expert::Entity::find_by_id(s.expert_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "score.reopen",
                object_type: "score_sheet",
                object_id: s.id.to_string(),
                summary: format!(
                    "退回{}对“{name}”的评分表（原合计{}分），改为草稿",
                    ex.name,
                    s.total.map(show).unwrap_or_default()
                ),
                reason: reason.to_string(),
            },
        )
        .await?;
    crate::services::notifications::notify_user(
        &txn,
        ex.user_id,
        &format!("评分表被退回：{name}"),
        &format!("省工信厅退回了您对“{name}”的评分表，理由：{reason}。请修改后重新提交。"),
        &format!("/scoring/{}", s.assignment_id),
        now,
    )
    .await?;
    let after = score_sheet::Entity::find_by_id(s.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(after)
}

/// One defence score: the points an assigned expert gave an entrant at the defence, on the
/// policy's total scale (e.g. 0 to 100), so it combines with the written score by the weight.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DefenceInput {
    pub entry_id: i64,
    pub expert_id: i64,
    pub score: f64,
}

/// The field a defence score's problem is reported against.
pub fn defence_field(entry_id: i64, expert_id: i64) -> String {
    format!("defence.{entry_id}.{expert_id}")
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceCell {
    pub expert_id: i64,
    pub expert_name: String,
    pub score: Option<f64>,
}

impl DefenceCell {
    pub fn score_text(&self) -> String {
        self.score.map(show).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceRow {
    pub entry_id: i64,
    pub cluster_name: String,
    pub kind_label: String,
    pub cells: Vec<DefenceCell>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceView {
    pub round_id: i64,
    pub round_label: String,
    pub defence: bool,
    /// The scale: the policy's total score.
    pub max_score: u32,
    pub defence_share: f64,
    pub editable: bool,
    pub rows: Vec<DefenceRow>,
    /// Assigned (entrant, expert) pairs without a defence score.
    pub missing: u32,
}

/// The defence grid: every entrant with each of its assigned experts.
pub async fn defence(app: &App, p: &Principal, round_id: i64) -> Result<DefenceView, AppError> {
    province_wide(p, Action::View)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let c = competition_of(&app.db, &r).await?;
    let (policy, rule) = round_policy(&c, r.kind)?;
    let entries = rounds::entries(&app.db, r.id).await?;
    let active = rounds::active_assignments(&app.db, r.id).await?;
    let recorded: BTreeMap<(i64, i64), f64> = defence_score::Entity::find()
        .filter(defence_score::Column::RoundId.eq(r.id))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|d| ((d.entry_id, d.expert_id), d.score))
        .collect();
    let names = expert_names(&app.db, active.iter().map(|a| a.expert_id)).await?;
    let clusters = rounds::cluster_names(&app.db, entries.iter().map(|e| e.cluster_id)).await?;
    let mut rows = Vec::new();
    let mut missing = 0;
    for e in &entries {
        let cells: Vec<DefenceCell> = active
            .iter()
            .filter(|a| a.entry_id == e.id)
            .map(|a| DefenceCell {
                expert_id: a.expert_id,
                expert_name: names.get(&a.expert_id).cloned().unwrap_or_default(),
                score: recorded.get(&(e.id, a.expert_id)).copied(),
            })
            .collect();
        missing += cells.iter().filter(|c| c.score.is_none()).count() as u32;
        rows.push(DefenceRow {
            entry_id: e.id,
            cluster_name: clusters.get(&e.cluster_id).cloned().unwrap_or_default(),
            kind_label: kind_label(&policy, &e.cluster_kind),
            cells,
        });
    }
    Ok(DefenceView {
        round_id: r.id,
        round_label: round_label(&c, &r),
        defence: r.defence,
        max_score: policy.scoring.total_score,
        defence_share: rule.panel.defence_share,
        editable: r.defence && r.status == RoundStatus::Scoring,
        rows,
        missing,
    })
}

/// Records defence scores (province), each for an expert assigned to the entrant; a second
/// recording replaces the first and says so in the audit trail. All or nothing.
pub async fn record_defence(
    app: &App,
    p: &Principal,
    round_id: i64,
    scores: &[DefenceInput],
) -> Result<usize, AppError> {
    province_wide(p, Action::Update)?;
    let txn = store::write_txn(&app.db).await?;
    let r = rounds::load(&txn, p, round_id).await?;
    if !r.defence {
        return Err(AppError::Conflict(
            "本轮评审未安排答辩，无需录入答辩评分".into(),
        ));
    }
    let status = r.status;
    if status != RoundStatus::Scoring {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再录入答辩评分",
            status.label()
        )));
    }
    let c = competition_of(&txn, &r).await?;
    let (policy, _) = round_policy(&c, r.kind)?;
    let max = policy.scoring.total_score;
    let active = rounds::active_assignments(&txn, r.id).await?;
    let names = expert_names(&txn, active.iter().map(|a| a.expert_id)).await?;
    let mut problems = Vec::new();
    for d in scores {
        let field = defence_field(d.entry_id, d.expert_id);
        if !active
            .iter()
            .any(|a| a.entry_id == d.entry_id && a.expert_id == d.expert_id)
        {
            problems.push(FieldError {
                field,
                message: "该专家未分配评审此参赛集群，不能录入其答辩评分".into(),
            });
        } else if let Err(message) = review::validate_score(d.score, max) {
            problems.push(FieldError {
                field,
                message: format!(
                    "{}的答辩{message}",
                    names.get(&d.expert_id).cloned().unwrap_or_default()
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let now = app.clock.now();
    let mut changed = 0;
    for d in scores {
        let prior = defence_score::Entity::find()
            .filter(defence_score::Column::EntryId.eq(d.entry_id))
            .filter(defence_score::Column::ExpertId.eq(d.expert_id))
            .one(&txn)
            .await?;
        if prior.as_ref().is_some_and(|x| x.score == d.score) {
            continue;
        }
        let id = match &prior {
            Some(x) => {
                let mut m: defence_score::ActiveModel = x.clone().into();
                m.score = Set(d.score);
                m.recorded_by = Set(p.user.id);
                m.recorded_at = Set(now);
                m.update(&txn).await?.id
            }
            None => {
                defence_score::ActiveModel {
                    round_id: Set(r.id),
                    entry_id: Set(d.entry_id),
                    expert_id: Set(d.expert_id),
                    score: Set(d.score),
                    recorded_by: Set(p.user.id),
                    recorded_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
                .id
            }
        };
        let entry = round_entry::Entity::find_by_id(d.entry_id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        Audit::of(app, p, now)
            .record(
                &txn,
                Event {
                    action: "score.defence",
                    object_type: "defence_score",
                    object_id: id.to_string(),
                    summary: format!(
                        "录入答辩评分：“{}”，{} {}分{}",
                        rounds::cluster_name(&txn, entry.cluster_id).await?,
                        names.get(&d.expert_id).cloned().unwrap_or_default(),
                        show(d.score),
                        prior
                            .map(|x| format!("（原{}分）", show(x.score)))
                            .unwrap_or_default()
                    ),
                    reason: String::new(),
                },
            )
            .await?;
        changed += 1;
    }
    txn.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria() -> Vec<CriterionLimit> {
        [("a", "产业特色明显", 15), ("b", "产业规模效益突出", 25)]
            .into_iter()
            .map(|(key, name, max)| CriterionLimit {
                key: key.into(),
                name: name.into(),
                max_score: max,
            })
            .collect()
    }

    fn input(scores: &[(&str, f64)], comment: &str) -> SheetInput {
        SheetInput {
            scores: scores.iter().map(|(k, v)| ((*k).into(), *v)).collect(),
            comment: comment.into(),
            version: 0,
        }
    }

    fn fields(p: &[FieldError]) -> Vec<(&str, &str)> {
        p.iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect()
    }

    #[test]
    fn a_draft_may_be_partial_but_each_score_is_checked() {
        assert!(check_input(&input(&[("a", 12.5)], ""), &criteria(), false).is_empty());
        let p = check_input(&input(&[("a", 16.0), ("z", 1.0)], ""), &criteria(), false);
        assert_eq!(
            fields(&p),
            vec![
                ("scores.a", "“产业特色明显”得分应在0至15分之间，当前为16"),
                ("scores.z", "评分项“z”不在本轮评分标准中"),
            ]
        );
    }

    #[test]
    fn a_submission_scores_everything_and_has_a_comment() {
        let p = check_input(&input(&[("a", 12.0)], " "), &criteria(), true);
        assert_eq!(
            fields(&p),
            vec![
                ("scores.b", "请为“产业规模效益突出”评分（满分25分）"),
                ("comment", "提交评分前请填写评审意见"),
            ]
        );
        assert!(
            check_input(&input(&[("a", 12.0), ("b", 20.5)], "好"), &criteria(), true).is_empty()
        );
    }

    #[test]
    fn typed_scores_must_be_numbers() {
        let typed: BTreeMap<String, String> = [("a", " 12.5 "), ("b", "十分")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let (scores, problems) = parse_typed(&typed, &criteria());
        assert_eq!(scores.get("a"), Some(&12.5));
        assert_eq!(
            fields(&problems),
            vec![("scores.b", "“产业规模效益突出”请填写0至25之间的数字")]
        );
    }

    #[test]
    fn numbers_show_without_noise() {
        assert_eq!(show(85.0), "85");
        assert_eq!(show(85.5), "85.5");
        assert_eq!(show(256.0 / 3.0), "85.33");
    }
}
