//! Competition call pages (竞赛通知) and the province's recommended overview (推荐汇总), with its
//! Excel export.

use crate::store::id::CompetitionId;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::{FormErrors, Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::competition_list;
use crate::services::competitions::{
    self, CallRulesInput, CompetitionInput, CompetitionView, MAX_NOTICE_CHARS, RecommendedOverview,
};
use crate::services::listing::{ListNav, ListParams};
use crate::web::download::xlsx_download;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/competitions", get(list))
        .route("/competitions/export.xlsx", get(export))
        .route("/competitions/new", get(new_form).post(create))
        .route("/competitions/{id}", get(show))
        .route("/competitions/{id}/edit", get(edit_form).post(update))
        .route("/competitions/{id}/close", post(close))
        .route("/recommended", get(recommended))
        .route("/recommended.xlsx", get(recommended_xlsx))
}

fn can(ctx: &SessionCtx, action: Action) -> bool {
    permission(ctx.principal.role, Resource::Competition, action).is_some()
}

#[derive(Template, WebTemplate)]
#[template(path = "competition_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<CompetitionView>,
    nav: ListNav,
    can_create: bool,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&competition_list::LIST, &pairs)?;
    let (rows, total) = competition_list::page(&app, &ctx.principal, &params).await?;
    Ok(ListPage {
        layout: layout(&ctx, "competitions"),
        flash: String::new(),
        rows,
        nav: params
            .nav(&competition_list::LIST, total)
            .export_if(can(&ctx, Action::Export)),
        can_create: can(&ctx, Action::Create),
    })
}

/// 导出Excel: every call the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&competition_list::LIST, &pairs)?;
    let bytes = competition_list::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "竞赛通知.xlsx", "competitions.xlsx"))
}

/// The form as typed: every field is text, so a bad year comes back as a field error with the
/// input kept, not as a rejected request.
#[derive(Debug, Clone, Default, Deserialize)]
struct CompetitionForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    policy_id: String,
    #[serde(default)]
    submission_deadline: String,
    #[serde(default)]
    review_deadline: String,
    #[serde(default)]
    notice_text: String,
    #[serde(default)]
    override_reason: String,
    #[serde(default)]
    override_document: String,
    #[serde(default)]
    version: String,
    /// 其他申报要求 of the year's rules.
    #[serde(default)]
    requirements: String,
    /// The year's rules as the form names them: `threshold.<indicator>.<kind>`,
    /// `quota.<kind>`, `attachment.<purpose>` (other posted names are ignored).
    #[serde(flatten)]
    rules: std::collections::BTreeMap<String, String>,
}

/// The posted fields under `prefix`, keyed by the rest of their name.
fn under(
    rules: &std::collections::BTreeMap<String, String>,
    prefix: &str,
) -> std::collections::BTreeMap<String, String> {
    rules
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
        .collect()
}

/// One field of the year's rules on the call form.
struct RuleField {
    name: String,
    /// The element id: the name with dashes for dots.
    id: String,
    label: String,
    /// What the policy says, beside the field.
    hint: String,
    value: String,
}

/// The year's rules the call form offers for `policy`: a stricter value for each threshold and
/// kind it applies to, a quota per kind, and each upload purpose the policy does not require.
fn rule_fields(policy: &jiqun_rules::Policy, form: &CompetitionForm) -> Vec<RuleField> {
    let value = |name: &str| form.rules.get(name).cloned().unwrap_or_default();
    let mut fields = Vec::new();
    for kind in &policy.cluster_kinds {
        for t in policy.thresholds_for(Some(&kind.key), None) {
            let name = format!("threshold.{}.{}", t.indicator, kind.key);
            fields.push(RuleField {
                label: format!(
                    "{}：{}门槛",
                    kind.name,
                    policy
                        .indicator(&t.indicator)
                        .map_or(t.indicator.as_str(), |i| i.name.as_str())
                ),
                hint: format!(
                    "办法规定{}{}，本年度只能从严；留空按办法执行",
                    t.op.symbol(),
                    crate::services::scoring::show(t.value)
                ),
                value: value(&name),
                id: name.replace('.', "-"),
                name,
            });
        }
    }
    for kind in &policy.cluster_kinds {
        let name = format!("quota.{}", kind.key);
        fields.push(RuleField {
            label: format!("{}：每轮胜出名额上限", kind.name),
            hint: "留空则按各轮设定的名额".into(),
            value: value(&name),
            id: name.replace('.', "-"),
            name,
        });
    }
    let required: Vec<&str> = policy
        .required_attachments()
        .iter()
        .map(|a| a.purpose.as_str())
        .collect();
    for purpose in jiqun_rules::policy::ATTACHMENT_PURPOSES {
        if required.contains(&purpose) {
            continue;
        }
        let name = format!("attachment.{purpose}");
        fields.push(RuleField {
            label: format!(
                "另需上传的附件（{}）",
                super::applications::purpose_label(purpose)
            ),
            hint: "填写附件名称即要求申报时上传；留空则不要求".into(),
            value: value(&name),
            id: name.replace('.', "-"),
            name,
        });
    }
    fields
}

impl CompetitionForm {
    fn input(&self) -> CompetitionInput {
        CompetitionInput {
            // Not a number: 0, which validation reports against the year field.
            year: self.year.trim().parse().unwrap_or(0),
            title: self.title.clone(),
            policy_id: self.policy_id.clone(),
            submission_deadline: self.submission_deadline.clone(),
            review_deadline: self.review_deadline.clone(),
            notice_text: self.notice_text.clone(),
            override_reason: self.override_reason.clone(),
            override_document: self.override_document.clone(),
            call_rules: CallRulesInput {
                thresholds: under(&self.rules, "threshold."),
                quotas: under(&self.rules, "quota."),
                attachments: under(&self.rules, "attachment."),
                requirements: self.requirements.clone(),
            },
        }
    }

    fn version(&self) -> i32 {
        self.version.trim().parse().unwrap_or(0)
    }

    fn from_input(i: CompetitionInput, version: i32) -> CompetitionForm {
        CompetitionForm {
            year: i.year.to_string(),
            title: i.title,
            policy_id: i.policy_id,
            submission_deadline: i.submission_deadline,
            review_deadline: i.review_deadline,
            notice_text: i.notice_text,
            override_reason: i.override_reason,
            override_document: i.override_document,
            version: version.to_string(),
            requirements: i.call_rules.requirements,
            rules: [
                ("threshold.", i.call_rules.thresholds),
                ("quota.", i.call_rules.quotas),
                ("attachment.", i.call_rules.attachments),
            ]
            .into_iter()
            .flat_map(|(prefix, map)| {
                map.into_iter()
                    .map(move |(k, v)| (format!("{prefix}{k}"), v))
            })
            .collect(),
        }
    }
}

/// A policy the form offers: a short label for the select, the full name and validity beside it.
struct PolicyChoice {
    id: String,
    label: String,
    name: String,
    validity: String,
}

/// The policies a call can be bound to — of the caller's level (第十六条: provincial texts for
/// the province, city texts for a city bureau); one no longer in force today says so before
/// publishing.
async fn policy_choices(
    app: &crate::app::App,
    p: &crate::app::Principal,
    today: time::Date,
) -> Result<Vec<PolicyChoice>, AppError> {
    Ok(crate::services::policy::offered(&app.db)
        .await?
        .into_iter()
        .filter(|b| {
            crate::services::organisers::organiser_for(p, b.policy.organiser_level()).is_ok()
        })
        .map(|b| PolicyChoice {
            id: b.policy.id().to_string(),
            label: format!(
                "{}（{}）{}",
                b.policy.identity.document_number,
                b.policy.id(),
                if b.policy.is_in_force(today) {
                    ""
                } else {
                    "——已失效，仅可沿用"
                }
            ),
            name: b.policy.identity.name.clone(),
            validity: crate::services::policy::validity(&b.policy),
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "competition_form.html")]
struct FormPage {
    layout: Option<Layout>,
    flash: String,
    heading: String,
    action: String,
    csrf: String,
    form: CompetitionForm,
    policies: Vec<PolicyChoice>,
    max_notice: usize,
    /// The year's own rules for the chosen policy.
    rule_fields: Vec<RuleField>,
    max_requirements: usize,
    errors: FormErrors,
    general_error: String,
}

async fn form_page(
    app: &crate::app::App,
    ctx: &SessionCtx,
    heading: &str,
    action: String,
    form: CompetitionForm,
    error: Option<&AppError>,
) -> Result<FormPage, AppError> {
    let general_error = match error {
        Some(e @ (AppError::StaleVersion | AppError::Conflict(_))) => e.to_string(),
        _ => String::new(),
    };
    let offered = crate::services::policy::offered(&app.db).await?;
    let rule_fields = offered
        .iter()
        .find(|b| b.policy.id() == form.policy_id.trim())
        .map(|b| rule_fields(&b.policy, &form))
        .unwrap_or_default();
    Ok(FormPage {
        rule_fields,
        max_requirements: competitions::MAX_REQUIREMENTS_CHARS,
        layout: layout(ctx, "competitions"),
        flash: String::new(),
        heading: heading.into(),
        action,
        csrf: ctx.session.csrf_token.clone(),
        form,
        policies: policy_choices(app, &ctx.principal, crate::services::calendar::today(app))
            .await?,
        max_notice: MAX_NOTICE_CHARS,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error,
    })
}

async fn form_error(
    app: &crate::app::App,
    ctx: &SessionCtx,
    heading: &str,
    action: String,
    form: CompetitionForm,
    e: AppError,
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::StaleVersion | AppError::Conflict(_) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match form_page(app, ctx, heading, action, form, Some(&e)).await {
                Ok(page) => (status, page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        other => PageError(other).into_response(),
    }
}

async fn new_form(State(app): State<Shared>, Authed(ctx): Authed) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::Competition, Action::Create)?;
    let today = crate::services::calendar::today(&app);
    // Offer the policy for today (or the latest one when none is in force).
    let policy_id = crate::services::policy::current_installed(&app)
        .await?
        .policy
        .id()
        .to_string();
    // A year whose call was already published suggests the next year's call.
    let taken = competitions::list(&app, &ctx.principal)
        .await?
        .iter()
        .any(|c| c.year == today.year());
    let form = CompetitionForm {
        year: (today.year() + i32::from(taken)).to_string(),
        policy_id,
        version: "0".into(),
        ..Default::default()
    };
    Ok(form_page(
        &app,
        &ctx,
        "发布竞赛通知",
        "/competitions/new".into(),
        form,
        None,
    )
    .await?)
}

async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<CompetitionForm>,
) -> Response {
    match competitions::create(&app, &ctx.principal, &form.input()).await {
        Ok(c) => Redirect::to(&format!("/competitions/{}?saved=created", c.id)).into_response(),
        Err(e) => {
            form_error(
                &app,
                &ctx,
                "发布竞赛通知",
                "/competitions/new".into(),
                form,
                e,
            )
            .await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "competition_show.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    c: CompetitionView,
    csrf: String,
    can_edit: bool,
    /// The province may open a round (初赛/决赛) of this competition.
    can_open_round: bool,
    /// Province and partner departments see the competition's rounds.
    can_see_rounds: bool,
    files: Vec<super::applications::FileView>,
    upload_error: String,
    /// Closing the call cannot be taken back: the province ticks this first.
    close_confirm: crate::web::forms::Confirm,
}

/// What the province attests before closing a call, and what closing does.
fn close_confirm() -> crate::web::forms::Confirm {
    crate::web::forms::Confirm::new(
        "close-acknowledge",
        "我已确认本竞赛通知的申报和初审均已结束",
        "关闭后不再接受申报和初审，不能重新开启",
    )
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    saved: Option<String>,
    upload_error: Option<String>,
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let flash = match q.saved.as_deref() {
        Some("created") => "竞赛通知已发布。",
        Some("updated") => "竞赛通知已修改。",
        Some("closed") => "竞赛通知已关闭。",
        _ => "",
    };
    show_page(&app, &ctx, id, flash, q.upload_error.unwrap_or_default()).await
}

async fn show_page(
    app: &App,
    ctx: &SessionCtx,
    id: CompetitionId,
    flash: &str,
    upload_error: String,
) -> Result<ShowPage, PageError> {
    let model = competitions::load(app, &ctx.principal, id).await?;
    let c = competitions::CompetitionView::from_model(&model, app.clock.now());
    // 第十六条: only the call's organiser (the province, or the city for its own call) runs it;
    // a city bureau reads the rounds of its own city's calls only.
    let p = &ctx.principal;
    let runs = crate::services::organisers::runs(p, &model);
    let reads_rounds = permission(p.role, Resource::Round, Action::View)
        .is_some_and(|scope| crate::services::organisers::reaches(p, scope, &model));
    Ok(ShowPage {
        layout: layout(ctx, "competitions"),
        flash: flash.into(),
        csrf: ctx.session.csrf_token.clone(),
        can_edit: can(ctx, Action::Update) && runs && c.status == competitions::STATUS_OPEN,
        can_open_round: permission(p.role, Resource::Round, Action::Create).is_some() && runs,
        can_see_rounds: reads_rounds,
        files: super::applications::files_of(app, "competition", id.get()).await?,
        upload_error,
        close_confirm: close_confirm(),
        c,
    })
}

async fn edit_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
) -> Result<Response, PageError> {
    crate::services::authorize(&ctx.principal, Resource::Competition, Action::Update)?;
    let m = competitions::load(&app, &ctx.principal, id).await?;
    let view = CompetitionView::from_model(&m, app.clock.now());
    let form = CompetitionForm::from_input(view.input(&m), m.version);
    let heading = format!("修改竞赛通知：{}", m.title);
    let action = format!("/competitions/{id}/edit");
    if m.status != crate::store::entity::kinds::CompetitionStatus::Open {
        return Ok(form_error(
            &app,
            &ctx,
            &heading,
            action,
            form,
            AppError::Conflict("该竞赛通知已关闭，不能再修改".into()),
        )
        .await);
    }
    Ok(form_page(&app, &ctx, &heading, action, form, None)
        .await?
        .into_response())
}

async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
    Form(form): Form<CompetitionForm>,
) -> Response {
    match competitions::update(&app, &ctx.principal, id, &form.input(), form.version()).await {
        Ok(c) => Redirect::to(&format!("/competitions/{}?saved=updated", c.id)).into_response(),
        Err(e) => {
            form_error(
                &app,
                &ctx,
                "修改竞赛通知",
                format!("/competitions/{id}/edit"),
                form,
                e,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
struct CloseForm {
    #[serde(default)]
    acknowledge: String,
}

async fn close(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
    Form(f): Form<CloseForm>,
) -> Response {
    let confirm = close_confirm();
    if let Err(e) = confirm.check(&f.acknowledge) {
        return match show_page(&app, &ctx, id, "", String::new()).await {
            Ok(mut page) => {
                page.close_confirm = confirm.refused_by(Some(&e));
                (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
            }
            Err(e) => e.into_response(),
        };
    }
    match competitions::close(&app, &ctx.principal, id).await {
        Ok(_) => Redirect::to(&format!("/competitions/{id}?saved=closed")).into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct RecommendedQuery {
    /// Text, so an empty selection ("") means "the current call" rather than a rejected request.
    competition_id: Option<String>,
}

impl RecommendedQuery {
    fn id(&self) -> Result<Option<CompetitionId>, AppError> {
        match self.competition_id.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => t.parse().map(Some).map_err(|_| AppError::NotFound),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "recommended.html")]
struct RecommendedPage {
    layout: Option<Layout>,
    flash: String,
    choices: Vec<(CompetitionId, String)>,
    overview: RecommendedOverview,
    selected: CompetitionId,
}

async fn recommended(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<RecommendedQuery>,
) -> Result<RecommendedPage, PageError> {
    let overview = competitions::recommended(&app, &ctx.principal, q.id()?).await?;
    let choices = competitions::list(&app, &ctx.principal)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id,
                format!("{}年度（{}，编号{}）", c.year, c.status_label, c.id),
            )
        })
        .collect();
    Ok(RecommendedPage {
        layout: layout(&ctx, "recommended"),
        flash: String::new(),
        choices,
        selected: overview
            .competition
            .as_ref()
            .map_or(CompetitionId::new(0), |c| c.id),
        overview,
    })
}

async fn recommended_xlsx(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<RecommendedQuery>,
) -> Result<Response, PageError> {
    let overview = competitions::recommended_for_export(&app, &ctx.principal, q.id()?).await?;
    Ok(crate::web::download::recommended_download(&overview)?)
}
