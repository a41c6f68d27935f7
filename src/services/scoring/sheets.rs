//! An expert's own assignments and score sheets: listing, reading and saving (第十条、第十一条).

use crate::store::id::{AssignmentId, AttachmentId, RoundId, ScoreSheetId};
use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::attachment::{OwnerType, human_size};
use jiqun_domain::region;
use jiqun_domain::review;
use jiqun_rules::Policy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    SqlErr,
};
use serde::Serialize;
use std::collections::HashMap;

use super::{
    NOT_STARTED, SheetInput, Window, check_editable, check_input, kind_label, limits_for,
    round_label, scores_of, sheet_status_label, show, window, window_label,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::services::rounds::{self, round_policy};
use crate::services::{authorize, experts, trimmed};
use crate::store::{
    self,
    entity::{
        application, assignment, cluster, competition, expert, final_materials, organisation,
        round, round_entry, score_sheet,
    },
};

/// One of the expert's assignments, as listed on 评审任务.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssignmentRow {
    #[schema(value_type = i64)]
    pub assignment_id: AssignmentId,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
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

/// An assignment of the signed-in expert that still stands, with the expert, in one statement;
/// anything else is "not found".
async fn my_assignment<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    action: Action,
    assignment_id: AssignmentId,
) -> Result<(expert::Model, assignment::Model), AppError> {
    if !matches!(
        authorize(p, Resource::ScoreSheet, action)?,
        ScopeKind::OwnAccount
    ) {
        return Err(AppError::NotFound);
    }
    let (a, me) = assignment::Entity::find_by_id(assignment_id)
        .find_also_related(expert::Entity)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    match me {
        Some(me) if me.user_id == p.user.id && stands_for(&a, &me) => Ok((me, a)),
        _ => Err(AppError::NotFound),
    }
}

/// The expert's assignment, not recused from.
fn stands_for(a: &assignment::Model, me: &expert::Model) -> bool {
    a.expert_id == me.id && a.recused_at.is_none()
}

/// The assignment if it still stands, with its round and its sheet, in one statement.
async fn standing_with_sheet<C: ConnectionTrait>(
    conn: &C,
    me: &expert::Model,
    assignment_id: AssignmentId,
) -> Result<(assignment::Model, round::Model, Option<score_sheet::Model>), AppError> {
    let (a, round, sheet) = assignment::Entity::find_by_id(assignment_id)
        .find_also_related(round::Entity)
        .find_also_related(score_sheet::Entity)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !stands_for(&a, me) {
        return Err(AppError::NotFound);
    }
    Ok((a, round.ok_or(AppError::NotFound)?, sheet))
}

async fn sheet_of<C: ConnectionTrait>(
    conn: &C,
    assignment_id: AssignmentId,
) -> Result<Option<score_sheet::Model>, AppError> {
    Ok(score_sheet::Entity::find()
        .filter(score_sheet::Column::AssignmentId.eq(assignment_id))
        .one(conn)
        .await?)
}

/// Everything around an assignment: its round and competition, its entry with the cluster, the
/// promotion organisation, the application and the final materials (read in two statements).
struct Context {
    round: round::Model,
    competition: competition::Model,
    policy: std::sync::Arc<Policy>,
    entry: round_entry::Model,
    cluster: cluster::Model,
    org_name: String,
    application: application::Model,
    finals: Option<final_materials::Model>,
}

async fn context_of<C: ConnectionTrait>(
    conn: &C,
    a: &assignment::Model,
) -> Result<Context, AppError> {
    let (round, competition) = round::Entity::find_by_id(a.round_id)
        .find_also_related(competition::Entity)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let competition = competition.ok_or(AppError::NotFound)?;
    let (policy, _) = round_policy(&competition, round.kind)?;
    let (entry, cluster, org, application, finals) = round_entry::Entity::find_by_id(a.entry_id)
        .find_also_related(cluster::Entity)
        .find_also(cluster::Entity, organisation::Entity)
        .find_also(round_entry::Entity, application::Entity)
        .find_also(round_entry::Entity, final_materials::Entity)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Context {
        round,
        competition,
        policy,
        entry,
        cluster: cluster.ok_or(AppError::NotFound)?,
        org_name: org.map(|o| o.name).unwrap_or_default(),
        application: application.ok_or(AppError::NotFound)?,
        finals,
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
    // Everything around the assignments in one read per kind of row, whatever their number.
    let rounds =
        store::load_by_ids::<round::Entity>(&app.db, list.iter().map(|a| a.round_id)).await?;
    let competitions = store::load_by_ids::<competition::Entity>(
        &app.db,
        rounds.values().map(|r| r.competition_id),
    )
    .await?;
    let entries =
        store::load_by_ids::<round_entry::Entity>(&app.db, list.iter().map(|a| a.entry_id)).await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, entries.values().map(|e| e.cluster_id))
            .await?;
    let mut sheets: HashMap<AssignmentId, score_sheet::Model> =
        store::load_where_in::<score_sheet::Entity>(
            &app.db,
            score_sheet::Column::AssignmentId,
            list.iter().map(|a| a.id),
        )
        .await?
        .into_iter()
        .map(|s| (s.assignment_id, s))
        .collect();
    let mut policies: HashMap<RoundId, std::sync::Arc<Policy>> = HashMap::new();
    for r in rounds.values() {
        let c = competitions
            .get(&r.competition_id)
            .ok_or(AppError::NotFound)?;
        policies.insert(r.id, round_policy(c, r.kind)?.0);
    }
    let now = app.clock.now();
    let mut rows = Vec::with_capacity(list.len());
    for a in &list {
        let round = rounds.get(&a.round_id).ok_or(AppError::NotFound)?;
        let competition = competitions
            .get(&round.competition_id)
            .ok_or(AppError::NotFound)?;
        let policy = policies.get(&round.id).ok_or(AppError::NotFound)?;
        let entry = entries.get(&a.entry_id).ok_or(AppError::NotFound)?;
        let cluster = clusters.get(&entry.cluster_id).ok_or(AppError::NotFound)?;
        let sheet = sheets.remove(&a.id);
        let status = sheet
            .as_ref()
            .map_or(NOT_STARTED.to_string(), |s| s.status.key().to_string());
        rows.push(AssignmentRow {
            assignment_id: a.id,
            round_id: round.id,
            round_label: round_label(competition, round),
            cluster_name: cluster.name.clone(),
            kind_label: kind_label(policy, &entry.cluster_kind),
            status_label: sheet_status_label(&status).into(),
            status,
            opens_at: local_minutes(round.scoring_opens_at),
            closes_at: local_minutes(round.scoring_closes_at),
            window: window(round, now)?.key().into(),
            window_label: window_label(round, now)?,
            editable: check_editable(round, sheet.as_ref(), now).is_ok(),
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
    #[schema(value_type = i64)]
    pub id: AttachmentId,
    pub file_name: String,
    pub size: String,
}

/// An expert's score sheet with the application it judges.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetView {
    /// The application's files; empty outside the scoring window.
    pub files: Vec<SheetFile>,
    /// A 决赛 entry's 决赛申报材料 beside the 初赛 figures (absent for a 初赛 entry).
    pub finals: Option<crate::services::finals::SheetMaterials>,
    #[schema(value_type = i64)]
    pub assignment_id: AssignmentId,
    /// Absent before the first save.
    #[schema(value_type = Option<i64>)]
    pub sheet_id: Option<ScoreSheetId>,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
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
pub async fn sheet(
    app: &App,
    p: &Principal,
    assignment_id: AssignmentId,
) -> Result<SheetView, AppError> {
    let (_, a) = my_assignment(&app.db, p, Action::View, assignment_id).await?;
    view_of(app, &a).await
}

async fn view_of(app: &App, a: &assignment::Model) -> Result<SheetView, AppError> {
    let ctx = context_of(&app.db, a).await?;
    let sheet = sheet_of(&app.db, a.id).await?;
    view_with(app, a, ctx, sheet).await
}

/// The view from the assignment's context and sheet already in hand (a save has both).
async fn view_with(
    app: &App,
    a: &assignment::Model,
    ctx: Context,
    sheet: Option<score_sheet::Model>,
) -> Result<SheetView, AppError> {
    let now = app.clock.now();
    let form = crate::services::applications::form_of(&ctx.application);
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
            .filter(crate::store::entity::attachment::Column::OwnerId.eq(ctx.application.id))
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
            max_score: c.max_score_for(&ctx.entry.cluster_kind),
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
    let finals = crate::services::finals::for_sheet(
        app,
        &ctx.entry,
        ctx.finals.as_ref(),
        &ctx.policy,
        &form,
        visible,
    )
    .await?;
    Ok(SheetView {
        files,
        finals,
        assignment_id: a.id,
        sheet_id: sheet.as_ref().map(|s| s.id),
        round_id: ctx.round.id,
        round_label: round_label(&ctx.competition, &ctx.round),
        cluster_name: ctx.cluster.name.clone(),
        org_name: ctx.org_name.clone(),
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
    assignment_id: AssignmentId,
    input: Option<&SheetInput>,
    submit: bool,
) -> Result<SheetView, AppError> {
    // What a sheet is about (the round's call and policy, the entry, its cluster) and whose it
    // is do not change once assigned, so they are read before the writer's turn; whether the
    // assignment still stands (a recusal), the round (its window) and the sheet are read again
    // under it.
    let (me, assigned) = my_assignment(&app.db, p, Action::Update, assignment_id).await?;
    let mut ctx = context_of(&app.db, &assigned).await?;
    let txn = store::write_txn(&app.db).await?;
    let (a, round, existing) = standing_with_sheet(&txn, &me, assignment_id).await?;
    ctx.round = round;
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
    let criteria = limits_for(&ctx.policy, &ctx.entry.cluster_kind);
    let problems = check_input(input, &criteria, submit);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let complete = criteria.iter().all(|c| input.scores.contains_key(&c.key));
    let total = complete.then(|| {
        review::total(&review::ScoreSheet {
            expert_id: me.id.get(),
            application_id: ctx.entry.application_id.get(),
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
    let saved = match &existing {
        Some(s) => {
            store::update_versioned_returning(
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
            .await?
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
                Ok(m) => m,
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
                object_id: saved.id.to_string(),
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
    view_with(app, &a, ctx, Some(saved)).await
}
