//! Pages of expert scoring (评审任务, the score sheet, recusal) and the province's side of it:
//! progress with reopening, defence scores, the ranking with the proposed list, and the Excel
//! exports.

use crate::store::id::{AssignmentId, EntryId, ExpertId, RoundId, ScoreSheetId};
use std::collections::{BTreeMap, HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use jiqun_domain::review::CriterionLimit;
use serde::Deserialize;

use super::{FormErrors, Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::ranking::{self, ProposeInput, RankingView};
use crate::services::scoring::{
    self, AssignmentRow, CriterionSheet, DefenceInput, DefenceView, ProgressView, SheetInput,
    SheetView,
};
use crate::web::download::xlsx_download;
use crate::web::forms::Confirm;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/scoring", get(list))
        .route("/scoring/{id}", get(show).post(save))
        .route("/scoring/{id}/recuse", post(recuse))
        .route("/rounds/{id}/progress", get(progress))
        .route("/score-sheets/{id}/reopen", post(reopen))
        .route("/rounds/{id}/defence", get(defence).post(save_defence))
        .route("/rounds/{id}/ranking", get(ranking_page))
        .route("/rounds/{id}/propose", post(propose))
        .route("/rounds/{id}/scores.xlsx", get(scores_xlsx))
        .route("/rounds/{id}/ranking.xlsx", get(ranking_xlsx))
}

#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
}

fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

/// The message above a redrawn form: state refusals say why; field errors sit under the fields.
fn general(e: &AppError) -> String {
    match e {
        AppError::Invalid(_) => String::new(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// The expert.

#[derive(Template, WebTemplate)]
#[template(path = "scoring_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<AssignmentRow>,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<Done>,
) -> Result<ListPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::ScoreSheet, Action::View)?;
    let rows = scoring::my_assignments(&app, &ctx.principal).await?;
    Ok(ListPage {
        layout: layout(&ctx, "scoring"),
        flash: match q.done.as_deref() {
            Some("recused") => "已申请回避，该评审任务已撤回，省工信厅将另行安排专家。".into(),
            _ => String::new(),
        },
        rows,
    })
}

/// A criterion on the sheet page: the application's content and the score field as typed.
struct CriterionForm {
    c: CriterionSheet,
    value: String,
    error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "scoring_sheet.html")]
struct SheetPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    s: SheetView,
    fields: Vec<CriterionForm>,
    comment: String,
    comment_error: String,
    version: i32,
    general_error: String,
    recuse_reason: String,
    recuse_error: String,
    /// The sum of the scores shown in the form (typed or saved), as the server computes it; the
    /// page's script keeps it current while typing.
    running_total: String,
    /// Submitting locks the sheet: the expert ticks this first.
    submit_confirm: Confirm,
}

/// What the expert attests before submitting, and what submitting does.
fn submit_sheet_confirm() -> Confirm {
    Confirm::new(
        "submit-sheet-acknowledge",
        "我已独立、客观地完成评分",
        "提交后评分表即锁定，不能再修改",
    )
}

/// What the expert typed, kept when the form comes back with errors.
#[derive(Default)]
struct Typed {
    scores: BTreeMap<String, String>,
    comment: Option<String>,
    version: Option<i32>,
    recuse_reason: String,
}

fn sheet_page(
    ctx: &SessionCtx,
    s: SheetView,
    typed: Typed,
    error: Option<&AppError>,
    flash: String,
) -> SheetPage {
    let errors = error.map(FormErrors::from_error).unwrap_or_default();
    let fields: Vec<CriterionForm> = s
        .criteria
        .iter()
        .map(|c| CriterionForm {
            value: typed
                .scores
                .get(&c.key)
                .cloned()
                .unwrap_or_else(|| c.score_text()),
            error: errors.get(&scoring::score_field(&c.key)).to_string(),
            c: c.clone(),
        })
        .collect();
    let recuse_error = errors.get("reason").to_string();
    let running_total = fields
        .iter()
        .filter_map(|f| f.value.trim().parse::<f64>().ok())
        .filter(|x| x.is_finite())
        .sum::<f64>();
    SheetPage {
        running_total: scoring::show(running_total),
        submit_confirm: submit_sheet_confirm().refused_by(error),
        layout: layout(ctx, "scoring"),
        flash,
        csrf: ctx.session.csrf_token.clone(),
        fields,
        comment: typed.comment.unwrap_or_else(|| s.comment.clone()),
        comment_error: errors.get("comment").to_string(),
        version: typed.version.unwrap_or(s.version),
        general_error: error.map(general).unwrap_or_default(),
        recuse_reason: typed.recuse_reason,
        recuse_error,
        s,
    }
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
    Query(q): Query<Done>,
) -> Result<SheetPage, PageError> {
    let s = scoring::sheet(&app, &ctx.principal, id).await?;
    let flash = match q.done.as_deref() {
        Some("saved") => "评分草稿已保存。",
        Some("submitted") => "评分已提交，评分表已锁定。",
        _ => "",
    };
    Ok(sheet_page(&ctx, s, Typed::default(), None, flash.into()))
}

fn limits_of(s: &SheetView) -> Vec<CriterionLimit> {
    s.criteria
        .iter()
        .map(|c| CriterionLimit {
            key: c.key.clone(),
            name: c.name.clone(),
            max_score: c.max_score,
        })
        .collect()
}

/// Saves ("保存草稿") or submits ("提交评分") the sheet.
async fn save(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let current = match scoring::sheet(&app, &ctx.principal, id).await {
        Ok(s) => s,
        Err(e) => return PageError(e).into_response(),
    };
    let typed_scores: BTreeMap<String, String> = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("score.").map(|k| (k.to_string(), v.clone())))
        .collect();
    let comment = fields.get("comment").cloned().unwrap_or_default();
    let version = fields
        .get("version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let submit = fields.get("action").is_some_and(|a| a == "submit");
    let criteria = limits_of(&current);
    let (scores, mut problems) = scoring::parse_typed(&typed_scores, &criteria);
    let input = SheetInput {
        scores,
        comment: comment.clone(),
        version,
    };
    let acknowledged = if submit {
        submit_sheet_confirm().check(
            fields
                .get(crate::web::forms::ACKNOWLEDGE)
                .map_or("", String::as_str),
        )
    } else {
        Ok(())
    };
    let result = if let Err(e) = acknowledged {
        // Nothing is saved: the typed sheet comes back with the refusal under the tick.
        Err(e)
    } else if problems.is_empty() {
        scoring::save(&app, &ctx.principal, id, Some(&input), submit).await
    } else {
        // Report the rest of the form too; a field that is not a number has its message already.
        let more: Vec<_> = scoring::check_input(&input, &criteria, submit)
            .into_iter()
            .filter(|f| !problems.iter().any(|p| p.field == f.field))
            .collect();
        problems.extend(more);
        Err(AppError::Invalid(problems))
    };
    match result {
        Ok(_) => Redirect::to(&format!(
            "/scoring/{id}?done={}",
            if submit { "submitted" } else { "saved" }
        ))
        .into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::StaleVersion)) => {
            let fresh = scoring::sheet(&app, &ctx.principal, id)
                .await
                .unwrap_or(current);
            let typed = Typed {
                scores: typed_scores,
                comment: Some(comment),
                version: Some(version),
                recuse_reason: String::new(),
            };
            (
                status_of(&e),
                sheet_page(&ctx, fresh, typed, Some(&e), String::new()),
            )
                .into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// 申请回避: the expert steps back from an assignment they have not submitted.
async fn recuse(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
    Form(f): Form<ReasonForm>,
) -> Response {
    match crate::services::rounds::recuse(&app, &ctx.principal, id, &f.reason).await {
        Ok(()) => Redirect::to("/scoring?done=recused").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            match scoring::sheet(&app, &ctx.principal, id).await {
                Ok(s) => {
                    let typed = Typed {
                        recuse_reason: f.reason,
                        ..Default::default()
                    };
                    (
                        status_of(&e),
                        sheet_page(&ctx, s, typed, Some(&e), String::new()),
                    )
                        .into_response()
                }
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The province: progress and reopening.

#[derive(Template, WebTemplate)]
#[template(path = "progress.html")]
struct ProgressPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    v: ProgressView,
    general_error: String,
    /// The sheet whose reopen form came back with an error, its typed reason and the message.
    error_sheet: ScoreSheetId,
    reason: String,
    reason_error: String,
}

impl ProgressPage {
    fn is_error_sheet(&self, sheet_id: &ScoreSheetId) -> bool {
        *sheet_id == self.error_sheet
    }
}

async fn progress_page(
    app: &App,
    ctx: &SessionCtx,
    round_id: RoundId,
    flash: String,
    failed: Option<(ScoreSheetId, String, &AppError)>,
) -> Result<ProgressPage, PageError> {
    let v = scoring::progress(app, &ctx.principal, round_id).await?;
    let (error_sheet, reason, reason_error, general_error) = match failed {
        Some((sheet, reason, e)) => (
            sheet,
            reason,
            FormErrors::from_error(e).get("reason").to_string(),
            general(e),
        ),
        None => (
            ScoreSheetId::new(0),
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    Ok(ProgressPage {
        layout: layout(ctx, "rounds"),
        flash,
        csrf: ctx.session.csrf_token.clone(),
        v,
        general_error,
        error_sheet,
        reason,
        reason_error,
    })
}

async fn progress(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(q): Query<Done>,
) -> Result<ProgressPage, PageError> {
    let flash = match q.done.as_deref() {
        Some("reopened") => "评分表已退回专家修改，并已通知该专家。",
        _ => "",
    };
    progress_page(&app, &ctx, id, flash.into(), None).await
}

#[derive(Deserialize)]
struct ReopenForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    round_id: String,
}

async fn reopen(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ScoreSheetId>,
    Form(f): Form<ReopenForm>,
) -> Response {
    let round_id: RoundId = f.round_id.trim().parse().unwrap_or(RoundId::new(0));
    match scoring::reopen(&app, &ctx.principal, id, &f.reason).await {
        Ok(s) => {
            Redirect::to(&format!("/rounds/{}/progress?done=reopened", s.round_id)).into_response()
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::StaleVersion))
            if round_id.get() > 0 =>
        {
            match progress_page(
                &app,
                &ctx,
                round_id,
                String::new(),
                Some((id, f.reason, &e)),
            )
            .await
            {
                Ok(page) => (status_of(&e), page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The province: defence scores.

struct DefenceCellForm {
    field: String,
    expert_name: String,
    value: String,
    error: String,
}

struct DefenceRowForm {
    cluster_name: String,
    kind_label: String,
    cells: Vec<DefenceCellForm>,
}

#[derive(Template, WebTemplate)]
#[template(path = "defence.html")]
struct DefencePage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    v: DefenceView,
    rows: Vec<DefenceRowForm>,
    general_error: String,
}

fn defence_page(
    ctx: &SessionCtx,
    v: DefenceView,
    typed: &HashMap<String, String>,
    error: Option<&AppError>,
    flash: String,
) -> DefencePage {
    let errors = error.map(FormErrors::from_error).unwrap_or_default();
    let rows = v
        .rows
        .iter()
        .map(|r| DefenceRowForm {
            cluster_name: r.cluster_name.clone(),
            kind_label: r.kind_label.clone(),
            cells: r
                .cells
                .iter()
                .map(|c| {
                    let field = scoring::defence_field(r.entry_id, c.expert_id);
                    DefenceCellForm {
                        value: typed.get(&field).cloned().unwrap_or_else(|| c.score_text()),
                        error: errors.get(&field).to_string(),
                        expert_name: c.expert_name.clone(),
                        field,
                    }
                })
                .collect(),
        })
        .collect();
    DefencePage {
        layout: layout(ctx, "rounds"),
        flash,
        csrf: ctx.session.csrf_token.clone(),
        rows,
        general_error: error.map(general).unwrap_or_default(),
        v,
    }
}

async fn defence(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(q): Query<Done>,
) -> Result<DefencePage, PageError> {
    let v = scoring::defence(&app, &ctx.principal, id).await?;
    let flash = match q.done.as_deref() {
        Some("saved") => "答辩评分已保存。",
        _ => "",
    };
    Ok(defence_page(&ctx, v, &HashMap::new(), None, flash.into()))
}

/// Saves every filled-in defence score of the grid at once; empty cells are left alone.
async fn save_defence(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let mut scores = Vec::new();
    let mut problems = crate::error::Problems::default();
    for (key, value) in &fields {
        let Some(rest) = key.strip_prefix("defence.") else {
            continue;
        };
        let Some((entry, expert)) = rest.split_once('.') else {
            continue;
        };
        let (Ok(entry_id), Ok(expert_id)) = (entry.parse::<EntryId>(), expert.parse::<ExpertId>())
        else {
            continue;
        };
        let text = value.trim();
        if text.is_empty() {
            continue;
        }
        match text.parse::<f64>() {
            Ok(score) => scores.push(DefenceInput {
                entry_id,
                expert_id,
                score,
            }),
            Err(_) => problems.add(key, "请填写数字"),
        }
    }
    scores.sort_by_key(|d| (d.entry_id, d.expert_id));
    let result = match problems.into_result() {
        Ok(()) => scoring::record_defence(&app, &ctx.principal, id, &scores)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/rounds/{id}/defence?done=saved")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            match scoring::defence(&app, &ctx.principal, id).await {
                Ok(v) => (
                    status_of(&e),
                    defence_page(&ctx, v, &fields, Some(&e), String::new()),
                )
                    .into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Ranking and the proposed list.

#[derive(Template, WebTemplate)]
#[template(path = "ranking.html")]
struct RankingPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    v: RankingView,
    can_export: bool,
    general_error: String,
    chosen_error: String,
    reason_error: String,
    reason: String,
    /// Tied entrants ticked in the form that came back.
    ticked: Vec<EntryId>,
    /// Fixing the list cannot be taken back: the province ticks this first.
    propose_confirm: Confirm,
    nav: RankingNav,
}

/// The ranking page's filter and pager: one page of each kind's entrants at a time.
struct RankingNav {
    round_id: RoundId,
    kind: String,
    q: String,
    page: u64,
    pages: u64,
}

impl RankingNav {
    /// Narrows `v` to what `q` asks and keeps the filter for the links.
    fn narrow(v: &mut RankingView, q: &ranking::RankingQuery) -> RankingNav {
        let (page, pages) = v.narrow(q);
        RankingNav {
            round_id: v.round_id,
            kind: q.kind().to_string(),
            q: q.text().to_string(),
            page,
            pages,
        }
    }

    fn size(&self) -> u64 {
        crate::services::listing::PAGE_SIZE
    }

    fn filtered(&self) -> bool {
        !self.kind.is_empty() || !self.q.is_empty()
    }

    fn href(&self, page: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.kind.is_empty() {
            query.append_pair("kind", &self.kind);
        }
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        query.append_pair("page", &page.to_string());
        format!("/rounds/{}/ranking?{}", self.round_id, query.finish())
    }

    fn has_prev(&self) -> bool {
        self.page > 1
    }

    fn has_next(&self) -> bool {
        self.page < self.pages
    }

    fn prev_href(&self) -> String {
        self.href(self.page.saturating_sub(1).max(1))
    }

    fn next_href(&self) -> String {
        self.href(self.page + 1)
    }

    /// "第51–100名" for a kind on this page, or empty when it has no rows here.
    fn span(&self, k: &ranking::KindRanking) -> String {
        let size = crate::services::listing::PAGE_SIZE as usize;
        let first = (self.page as usize - 1) * size;
        if k.rows.is_empty() {
            return String::new();
        }
        format!("第{}–{}个", first + 1, first + k.rows.len())
    }
}

/// What the province attests before fixing the proposed list, and what fixing does.
fn propose_confirm() -> Confirm {
    Confirm::new(
        "propose-acknowledge",
        "我已核对排名和名额",
        "确定后评分不能再修改，申报主体将收到评审已完成的通知，拟定名单不能撤回",
    )
}

impl RankingPage {
    fn is_ticked(&self, entry_id: &EntryId) -> bool {
        self.ticked.contains(entry_id)
    }
}

fn ranking_page_of(
    ctx: &SessionCtx,
    mut v: RankingView,
    query: &ranking::RankingQuery,
    error: Option<&AppError>,
    reason: String,
    ticked: Vec<EntryId>,
    flash: String,
) -> RankingPage {
    let nav = RankingNav::narrow(&mut v, query);
    let errors = error.map(FormErrors::from_error).unwrap_or_default();
    RankingPage {
        layout: layout(ctx, "rounds"),
        flash,
        csrf: ctx.session.csrf_token.clone(),
        can_export: permission(ctx.principal.role, Resource::Round, Action::Export).is_some()
            && permission(ctx.principal.role, Resource::ScoreSheet, Action::Export).is_some(),
        general_error: error.map(general).unwrap_or_default(),
        chosen_error: errors.get("chosen").to_string(),
        reason_error: errors.get("reason").to_string(),
        reason,
        ticked,
        v,
        propose_confirm: propose_confirm().refused_by(error),
        nav,
    }
}

async fn ranking_page(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(q): Query<Done>,
    Query(query): Query<ranking::RankingQuery>,
) -> Result<RankingPage, PageError> {
    let v = ranking::ranking(&app, &ctx.principal, id).await?;
    let flash = match q.done.as_deref() {
        Some("proposed") => "拟定名单已确定。",
        _ => "",
    };
    Ok(ranking_page_of(
        &ctx,
        v,
        &query,
        None,
        String::new(),
        Vec::new(),
        flash.into(),
    ))
}

/// 确定拟定名单: the ranking's default selection, with the tied entrants the province ticked.
async fn propose(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let current = match ranking::ranking(&app, &ctx.principal, id).await {
        Ok(v) => v,
        Err(e) => return PageError(e).into_response(),
    };
    let mut ticked: Vec<EntryId> = fields
        .keys()
        .filter_map(|k| k.strip_prefix("tie_"))
        .filter_map(|id| id.parse().ok())
        .collect();
    ticked.sort_unstable();
    let has_ties = current.kinds.iter().any(|k| !k.ties.is_empty());
    let chosen = has_ties.then(|| {
        current
            .kinds
            .iter()
            .flat_map(|k| &k.rows)
            .filter(|r| (r.within_quota && !r.tied_at_cut) || ticked.contains(&r.entry_id))
            .map(|r| r.entry_id)
            .collect()
    });
    let reason = fields.get("reason").cloned().unwrap_or_default();
    let input = ProposeInput {
        chosen,
        reason: reason.clone(),
    };
    let acknowledged = propose_confirm().check(
        fields
            .get(crate::web::forms::ACKNOWLEDGE)
            .map_or("", String::as_str),
    );
    let done = match acknowledged {
        Ok(()) => ranking::propose(&app, &ctx.principal, id, &input).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/rounds/{id}/ranking?done=proposed")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::StaleVersion)) => {
            let v = ranking::ranking(&app, &ctx.principal, id)
                .await
                .unwrap_or(current);
            (
                status_of(&e),
                ranking_page_of(
                    &ctx,
                    v,
                    &ranking::RankingQuery::default(),
                    Some(&e),
                    reason,
                    ticked,
                    String::new(),
                ),
            )
                .into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn scores_xlsx(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> Result<Response, PageError> {
    let (bytes, name) = ranking::scores_xlsx(&app, &ctx.principal, id).await?;
    Ok(xlsx_download(bytes, &name, &format!("scores-{id}.xlsx")))
}

async fn ranking_xlsx(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> Result<Response, PageError> {
    let (bytes, name) = ranking::ranking_xlsx(&app, &ctx.principal, id).await?;
    Ok(xlsx_download(bytes, &name, &format!("ranking-{id}.xlsx")))
}
