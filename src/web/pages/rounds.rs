//! Rounds (初赛/决赛): the list, the opening form of a competition's round, and the round's
//! set-up page — panel, automatic and manual assignment, removals and the start of scoring.

use crate::store::id::{AssignmentId, CompetitionId, EntryId, ExpertId, RoundId};
use std::collections::{BTreeSet, HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;
use time::Duration;

use super::{FormErrors, Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::clock::datetime_local_value;
use crate::error::AppError;
use crate::services::experts;
use crate::services::rounds::{self, OpenRoundInput, OpeningContext, RoundSummary, RoundView};
use crate::web::forms::Confirm;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/rounds", get(list))
        .route(
            "/competitions/{id}/rounds/new",
            get(open_form).post(open_round),
        )
        .route("/rounds/{id}", get(show))
        .route("/rounds/{id}/panel", post(save_panel))
        .route("/rounds/{id}/auto-assign", post(auto_assign))
        .route("/rounds/{id}/assign", post(assign))
        .route("/rounds/{id}/unassign", post(unassign))
        .route("/rounds/{id}/open-scoring", post(open_scoring))
        .route("/rounds/{id}/scoring-deadline", post(extend_window))
}

fn can(ctx: &SessionCtx, action: Action) -> bool {
    permission(ctx.principal.role, Resource::Round, action).is_some()
}

/// The HTTP status a refused form redraws with.
fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

// ---------------------------------------------------------------------------------------------
// The list.

#[derive(Template, WebTemplate)]
#[template(path = "rounds.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<RoundSummary>,
    /// When listing one competition's rounds: (id, "2026年度 …").
    competition: Option<(CompetitionId, String)>,
    can_create: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    /// Text, so an empty value lists every round rather than rejecting the request.
    competition: Option<String>,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let competition_id = match q.competition.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(t.parse::<CompetitionId>().map_err(|_| AppError::NotFound)?),
    };
    let rows = rounds::list(&app, &ctx.principal, competition_id).await?;
    let competition = match competition_id {
        Some(id) => {
            let c = crate::services::competitions::get(&app, &ctx.principal, id).await?;
            Some((c.id, format!("{}年度 · {}", c.year, c.title)))
        }
        None => None,
    };
    Ok(ListPage {
        layout: layout(&ctx, "rounds"),
        flash: String::new(),
        rows,
        competition,
        can_create: can(&ctx, Action::Create),
    })
}

// ---------------------------------------------------------------------------------------------
// Opening a round.

/// The opening form as typed; quotas arrive as `quota_<cluster kind>` fields.
#[derive(Debug, Clone, Default)]
struct OpenForm {
    kind: String,
    experts_per_application: String,
    panel_note: String,
    /// (cluster kind key, name, typed number)
    quotas: Vec<(String, String, String)>,
    scoring_opens_at: String,
    scoring_closes_at: String,
    defence: bool,
    /// 决赛 only: the materials' last day, YYYY-MM-DD; blank for the policy's period.
    materials_due: String,
}

impl OpenForm {
    fn from_fields(f: &HashMap<String, String>, ctx: &OpeningContext) -> OpenForm {
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        OpenForm {
            kind: get("kind"),
            experts_per_application: get("experts_per_application"),
            panel_note: get("panel_note"),
            quotas: ctx
                .cluster_kinds
                .iter()
                .map(|(key, name)| (key.clone(), name.clone(), get(&format!("quota_{key}"))))
                .collect(),
            scoring_opens_at: get("scoring_opens_at"),
            scoring_closes_at: get("scoring_closes_at"),
            defence: get("defence") == "yes",
            materials_due: get("materials_due"),
        }
    }

    fn input(&self) -> OpenRoundInput {
        OpenRoundInput {
            kind: self.kind.clone(),
            // Not a number: 0, which the service reports against the field.
            experts_per_application: self.experts_per_application.trim().parse().unwrap_or(0),
            panel_note: self.panel_note.clone(),
            quotas: self
                .quotas
                .iter()
                .map(|(k, _, n)| (k.clone(), n.trim().parse().unwrap_or(0)))
                .collect(),
            scoring_opens_at: self.scoring_opens_at.clone(),
            scoring_closes_at: self.scoring_closes_at.clone(),
            defence: self.defence,
            materials_due: self.materials_due.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "round_open.html")]
struct OpenPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    c: OpeningContext,
    form: OpenForm,
    errors: FormErrors,
    general_error: String,
}

fn open_page(
    ctx: &SessionCtx,
    c: OpeningContext,
    form: OpenForm,
    error: Option<&AppError>,
) -> OpenPage {
    OpenPage {
        layout: layout(ctx, "rounds"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        c,
        form,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error: match error {
            Some(AppError::Invalid(_)) | None => String::new(),
            Some(e) => e.to_string(),
        },
    }
}

#[derive(Deserialize, Default)]
struct OpenQuery {
    kind: Option<String>,
}

async fn open_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
    Query(q): Query<OpenQuery>,
) -> Result<OpenPage, PageError> {
    let c = rounds::opening_context(&app, &ctx.principal, id).await?;
    // The kind asked for, else the first one the competition has not opened yet.
    let kind = c
        .kinds
        .iter()
        .find(|k| Some(&k.key) == q.kind.as_ref())
        .or_else(|| c.kinds.iter().find(|k| k.opened_round_id.is_none()))
        .or_else(|| c.kinds.first());
    let is_final = kind.is_some_and(|k| k.key == jiqun_domain::round::RoundKind::Final.key());
    let today = crate::clock::local(app.clock.now()).date();
    let at = |days: i64, h: u8, m: u8| {
        crate::clock::local_at(
            today + Duration::days(days),
            time::Time::from_hms(h, m, 0).unwrap_or(time::Time::MIDNIGHT),
        )
    };
    let form = OpenForm {
        kind: kind.map(|k| k.key.clone()).unwrap_or_default(),
        experts_per_application: kind.map(|k| k.min_experts.to_string()).unwrap_or_default(),
        panel_note: String::new(),
        quotas: c
            .cluster_kinds
            .iter()
            .map(|(k, n)| (k.clone(), n.clone(), String::new()))
            .collect(),
        // A 决赛's scoring follows the finalists' materials (due after the policy's working days).
        scoring_opens_at: datetime_local_value(if is_final { at(35, 9, 0) } else { at(1, 9, 0) }),
        scoring_closes_at: datetime_local_value(if is_final {
            at(49, 17, 30)
        } else {
            at(15, 17, 30)
        }),
        defence: false,
        materials_due: String::new(),
    };
    Ok(open_page(&ctx, c, form, None))
}

async fn open_round(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let c = match rounds::opening_context(&app, &ctx.principal, id).await {
        Ok(c) => c,
        Err(e) => return PageError(e).into_response(),
    };
    let form = OpenForm::from_fields(&fields, &c);
    match rounds::open_round(&app, &ctx.principal, id, &form.input()).await {
        Ok(r) => Redirect::to(&format!("/rounds/{}?done=opened", r.id)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            // The round may have been opened meanwhile: show the form's context as it is now.
            let c = match rounds::opening_context(&app, &ctx.principal, id).await {
                Ok(c) => c,
                Err(e) => return PageError(e).into_response(),
            };
            (status_of(&e), open_page(&ctx, c, form, Some(&e))).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The round page.

/// An expert of the pool as the panel form offers them.
struct PoolChoice {
    id: ExpertId,
    name: String,
    employer: String,
    city_name: String,
    fields: String,
    active: bool,
    on_panel: bool,
    /// Standing assignments in this round.
    load: usize,
    /// Standing assignments over all rounds.
    total: u64,
}

/// What the province typed into the page's forms, kept when one is refused.
#[derive(Default)]
struct Typed {
    closes_at: String,
    entry_id: String,
    expert_id: String,
    override_reason: String,
    assignment_id: String,
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "round_show.html")]
struct ShowPage {
    entry_nav: EntryNav,
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    steps: Vec<(&'static str, &'static str)>,
    v: RoundView,
    /// The province, while the panel and assignments may change.
    can_edit: bool,
    is_setup: bool,
    /// Scoring has opened: progress and ranking exist.
    scoring_started: bool,
    pool: Vec<PoolChoice>,
    /// Standing assignments that can be taken back: (id, "cluster — expert").
    removable: Vec<(AssignmentId, String)>,
    typed: Typed,
    errors: FormErrors,
    /// Which form a refusal belongs to (panel, auto, assign, unassign, scoring) and its message.
    error_for: String,
    error: String,
    /// Opening scoring cannot be taken back: the province ticks this first.
    open_confirm: Confirm,
}

/// What the province attests before opening scoring, and what opening does.
fn open_confirm() -> Confirm {
    Confirm::new(
        "open-scoring-acknowledge",
        "我已核对评审组和专家分配",
        "开始评分后评审专家将收到评审任务通知，评审组不能再撤回到组建阶段",
    )
}

async fn show_page(
    app: &App,
    ctx: &SessionCtx,
    id: RoundId,
    refused: Option<(&str, &AppError)>,
    typed: Typed,
    asked: &rounds::EntryQuery,
) -> Result<ShowPage, AppError> {
    let asked = rounds::EntryQuery {
        page: Some(asked.page.unwrap_or(1)),
        ..asked.clone()
    };
    let v = rounds::view_of(app, &ctx.principal, id, &asked).await?;
    let open = matches!(v.round.status.as_str(), "setup" | "scoring");
    let can_edit = can(ctx, Action::Update) && open;
    let pool = if can_edit {
        let on_panel: BTreeSet<ExpertId> = v.panel.iter().map(|m| m.expert_id).collect();
        experts::for_round(app, &ctx.principal, id)
            .await?
            .into_iter()
            .map(|e| PoolChoice {
                on_panel: on_panel.contains(&e.id),
                load: v
                    .panel
                    .iter()
                    .find(|m| m.expert_id == e.id)
                    .map_or(0, |m| m.load),
                total: e.assignments,
                id: e.id,
                name: e.name,
                employer: e.employer,
                city_name: e.city_name,
                fields: e.fields.join("、"),
                active: e.active,
            })
            .collect()
    } else {
        Vec::new()
    };
    let removable = v
        .entries
        .iter()
        .flat_map(|e| {
            e.assignments
                .iter()
                .filter(|a| !a.recused)
                .map(move |a| (a.id, format!("{} — {}", e.cluster_name, a.expert_name)))
        })
        .collect();
    let (error_for, error, errors) = match refused {
        Some((section, e)) => (
            section.to_string(),
            match e {
                AppError::Invalid(_) => String::new(),
                other => other.to_string(),
            },
            FormErrors::from_error(e),
        ),
        None => (String::new(), String::new(), FormErrors::default()),
    };
    Ok(ShowPage {
        entry_nav: EntryNav::of(id, &asked, &v.entry_page),
        open_confirm: open_confirm().refused_by(refused.map(|r| r.1)),
        steps: crate::web::views::round_steps(&v.round.status),
        layout: layout(ctx, "rounds"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        is_setup: v.round.status == "setup",
        scoring_started: v.round.status != "setup",
        can_edit,
        v,
        pool,
        removable,
        typed,
        errors,
        error_for,
        error,
    })
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    done: Option<String>,
    added: Option<usize>,
    short: Option<usize>,
    /// The entrants' filter and page (see `rounds::EntryQuery`).
    kind: Option<String>,
    q: Option<String>,
    /// A ticked checkbox sends "on".
    unfilled: Option<String>,
    page: Option<u64>,
}

/// The entrants table's filter and pages, for the links.
struct EntryNav {
    round_id: RoundId,
    kind: String,
    q: String,
    unfilled: bool,
    matched: usize,
    page: u64,
    pages: u64,
}

impl EntryNav {
    fn of(round_id: RoundId, asked: &rounds::EntryQuery, shown: &rounds::EntryPage) -> EntryNav {
        EntryNav {
            round_id,
            kind: asked.kind().to_string(),
            q: asked.text().to_string(),
            unfilled: asked.unfilled(),
            matched: shown.matched,
            page: shown.page,
            pages: shown.pages,
        }
    }

    fn filtered(&self) -> bool {
        !self.kind.is_empty() || !self.q.is_empty() || self.unfilled
    }

    fn href(&self, page: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.kind.is_empty() {
            query.append_pair("kind", &self.kind);
        }
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if self.unfilled {
            query.append_pair("unfilled", "on");
        }
        query.append_pair("page", &page.to_string());
        format!("/rounds/{}?{}#entries", self.round_id, query.finish())
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
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let asked = rounds::EntryQuery {
        kind: q.kind.clone(),
        q: q.q.clone(),
        unfilled: Some(q.unfilled.as_deref().is_some_and(|v| !v.is_empty())),
        page: q.page,
    };
    let mut page = show_page(&app, &ctx, id, None, Typed::default(), &asked).await?;
    page.flash = match q.done.as_deref() {
        Some("opened") => format!(
            "评审轮次已开设：{}个参赛集群。请组建评审组并分配专家。",
            page.v.round.entrants
        ),
        Some("panel") => "评审组已保存。".into(),
        Some("auto") => {
            let short = q.short.unwrap_or(0);
            format!(
                "自动分配完成：新增{}项分配。{}",
                q.added.unwrap_or(0),
                if short > 0 {
                    format!("{short}个参赛集群专家不足，原因见“专家不足”。")
                } else {
                    "每个参赛集群的评审专家均已配齐。".into()
                }
            )
        }
        Some("assigned") => "已手工分配专家。".into(),
        Some("unassigned") => "已取消该项分配。".into(),
        Some("scoring") => "已开始评分，评审专家已收到评审任务通知。".into(),
        Some("deadline") => "评分截止时间已延长，评审专家已收到通知。".into(),
        _ => String::new(),
    };
    Ok(page)
}

/// Redraws the round page after a refusal, or goes back to it after a change.
async fn after(
    app: &App,
    ctx: &SessionCtx,
    id: RoundId,
    section: &str,
    result: Result<String, AppError>,
    typed: Typed,
) -> Response {
    match result {
        Ok(query) => Redirect::to(&format!("/rounds/{id}?{query}")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::StaleVersion)) => {
            let first = rounds::EntryQuery::default();
            match show_page(app, ctx, id, Some((section, &e)), typed, &first).await {
                Ok(page) => (status_of(&e), page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

/// Ticked pool experts arrive as `expert_<id>` fields; the difference with the panel as it
/// stands is what changes.
async fn save_panel(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let ticked: BTreeSet<ExpertId> = fields
        .keys()
        .filter_map(|k| k.strip_prefix("expert_"))
        .filter_map(|id| id.parse().ok())
        .collect();
    // The panel as stored, read through the service's permission check.
    let current: BTreeSet<ExpertId> = match rounds::load(&app.db, &ctx.principal, id).await {
        Ok(r) => match rounds::panel_ids(&app.db, r.id).await {
            Ok(ids) => ids.into_iter().collect(),
            Err(e) => return PageError(e).into_response(),
        },
        Err(e) => return PageError(e).into_response(),
    };
    let add: Vec<ExpertId> = ticked.difference(&current).copied().collect();
    let remove: Vec<ExpertId> = current.difference(&ticked).copied().collect();
    let r = rounds::set_panel(&app, &ctx.principal, id, &add, &remove)
        .await
        .map(|_| "done=panel#panel".to_string());
    after(&app, &ctx, id, "panel", r, Typed::default()).await
}

async fn auto_assign(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> Response {
    let r = rounds::auto_assign(&app, &ctx.principal, id)
        .await
        .map(|o| {
            format!(
                "done=auto&added={}&short={}#entries",
                o.added,
                o.shortfalls.len()
            )
        });
    after(&app, &ctx, id, "auto", r, Typed::default()).await
}

#[derive(Deserialize, Default)]
struct AssignForm {
    #[serde(default)]
    entry_id: String,
    #[serde(default)]
    expert_id: String,
    #[serde(default)]
    override_reason: String,
}

async fn assign(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(f): Form<AssignForm>,
) -> Response {
    let entry = f.entry_id.trim().parse::<EntryId>().ok();
    let expert = f.expert_id.trim().parse::<ExpertId>().ok();
    let r = match (entry, expert) {
        (Some(entry), Some(expert)) => {
            rounds::assign(&app, &ctx.principal, id, entry, expert, &f.override_reason)
                .await
                .map(|_| "done=assigned#entries".to_string())
        }
        _ => {
            let mut fields = Vec::new();
            if entry.is_none() {
                fields.push(crate::error::FieldError {
                    field: "entry_id".into(),
                    message: "请选择参赛集群".into(),
                });
            }
            if expert.is_none() {
                fields.push(crate::error::FieldError {
                    field: "expert_id".into(),
                    message: "请选择评审专家".into(),
                });
            }
            Err(AppError::Invalid(fields))
        }
    };
    let typed = Typed {
        entry_id: f.entry_id,
        expert_id: f.expert_id,
        override_reason: f.override_reason,
        ..Default::default()
    };
    after(&app, &ctx, id, "assign", r, typed).await
}

#[derive(Deserialize, Default)]
struct UnassignForm {
    #[serde(default)]
    assignment_id: String,
    #[serde(default)]
    reason: String,
}

async fn unassign(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(f): Form<UnassignForm>,
) -> Response {
    let r = match f.assignment_id.trim().parse::<AssignmentId>() {
        Ok(a) => rounds::unassign(&app, &ctx.principal, a, &f.reason)
            .await
            .map(|_| "done=unassigned#entries".to_string()),
        Err(_) => Err(AppError::invalid("assignment_id", "请选择要取消的分配")),
    };
    let typed = Typed {
        assignment_id: f.assignment_id,
        reason: f.reason,
        ..Default::default()
    };
    after(&app, &ctx, id, "unassign", r, typed).await
}

#[derive(Deserialize, Default)]
struct DeadlineForm {
    #[serde(default)]
    scoring_closes_at: String,
    #[serde(default)]
    reason: String,
}

async fn extend_window(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(f): Form<DeadlineForm>,
) -> Response {
    let r = rounds::extend_window(&app, &ctx.principal, id, &f.scoring_closes_at, &f.reason)
        .await
        .map(|_| "done=deadline".to_string());
    let typed = Typed {
        closes_at: f.scoring_closes_at,
        reason: f.reason,
        ..Default::default()
    };
    after(&app, &ctx, id, "deadline", r, typed).await
}

#[derive(Deserialize, Default)]
struct AcknowledgeForm {
    #[serde(default)]
    acknowledge: String,
}

async fn open_scoring(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(f): Form<AcknowledgeForm>,
) -> Response {
    // Who may not open scoring is told so (403), tick or not.
    let allowed = crate::services::authorize(&ctx.principal, Resource::Round, Action::Update);
    let r = match allowed.and_then(|_| open_confirm().check(&f.acknowledge)) {
        Ok(()) => rounds::open_scoring(&app, &ctx.principal, id)
            .await
            .map(|_| "done=scoring".to_string()),
        Err(e) => Err(e),
    };
    after(&app, &ctx, id, "scoring", r, Typed::default()).await
}
