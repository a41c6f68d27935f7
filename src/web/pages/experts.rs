//! The expert pool (专家库): the province's list and form, and an expert's own entry.

use crate::store::id::{ExpertId, UserId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, ScopeKind, permission};
use serde::Deserialize;

use super::{Choices, FormErrors, Layout, PageError, layout, region_choices};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::experts::{self, AccountChoice, ExpertDetail, ExpertInput, ExpertView};
use crate::services::listing::{ListNav, ListParams};
use crate::web::download::xlsx_download;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/experts", get(list))
        .route("/experts/export.xlsx", get(export))
        .route("/experts/new", get(new_form).post(create))
        .route("/experts/me", get(me))
        .route("/experts/{id}", get(edit_form).post(update))
}

/// Whether the principal keeps a pool (the province, or a city bureau its city's own), not
/// just their own entry.
fn keeps_pool(ctx: &SessionCtx) -> bool {
    matches!(
        permission(ctx.principal.role, Resource::ExpertPool, Action::Update),
        Some(ScopeKind::All | ScopeKind::OwnCity)
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "experts.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<ExpertView>,
    cities: Choices,
    nav: ListNav,
}

#[derive(Deserialize, Default)]
struct Saved {
    saved: Option<String>,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<Saved>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if !keeps_pool(&ctx) {
        // An expert's view of the pool is their own entry.
        crate::services::authorize(&ctx.principal, Resource::ExpertPool, Action::View)?;
        return Ok(Redirect::to("/experts/me").into_response());
    }
    let params = ListParams::parse(&experts::LIST, &pairs)?;
    let (rows, total) = experts::page(&app, &ctx.principal, &params).await?;
    Ok(ListPage {
        layout: layout(&ctx, "experts"),
        flash: match q.saved.as_deref() {
            Some("created") => "专家已入库。".into(),
            _ => String::new(),
        },
        rows,
        cities: region_choices().0,
        nav: params.nav(&experts::LIST, total),
    }
    .into_response())
}

/// 导出Excel: every entry the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&experts::LIST, &pairs)?;
    let bytes = experts::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "专家库.xlsx", "experts.xlsx"))
}

/// The form as typed: every field is text, multi-value fields one item per line.
#[derive(Debug, Clone, Default, Deserialize)]
struct ExpertForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    city_code: String,
    #[serde(default)]
    employer: String,
    #[serde(default)]
    fields: String,
    #[serde(default)]
    affiliations: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    version: String,
}

impl ExpertForm {
    fn input(&self) -> ExpertInput {
        ExpertInput {
            // Not a number: 0, which the service reports against the account field.
            user_id: self.user_id.trim().parse().unwrap_or(UserId::new(0)),
            name: self.name.clone(),
            city_code: self.city_code.clone(),
            employer: self.employer.clone(),
            fields: vec![self.fields.clone()],
            affiliations: vec![self.affiliations.clone()],
            active: self.active.is_some(),
        }
    }

    fn version(&self) -> i32 {
        self.version.trim().parse().unwrap_or(0)
    }

    fn from_view(v: &ExpertView) -> ExpertForm {
        ExpertForm {
            user_id: v.user_id.to_string(),
            name: v.name.clone(),
            city_code: v.city_code.clone(),
            employer: v.employer.clone(),
            fields: v.fields.join("\n"),
            affiliations: v.affiliations.join("\n"),
            active: v.active.then(|| "on".to_string()),
            version: v.version.to_string(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "expert_form.html")]
struct FormPage {
    layout: Option<Layout>,
    flash: String,
    heading: String,
    action: String,
    csrf: String,
    form: ExpertForm,
    /// New entry: the accounts that can be linked. Editing: empty, the account is fixed.
    accounts: Vec<AccountChoice>,
    editing: bool,
    cities: Choices,
    /// Editing: the stored entry with its declared conflicts and recognised affiliations.
    detail: Option<ExpertDetail>,
    errors: FormErrors,
    general_error: String,
}

async fn form_page(
    app: &App,
    ctx: &SessionCtx,
    id: Option<ExpertId>,
    form: ExpertForm,
    error: Option<&AppError>,
) -> Result<FormPage, AppError> {
    let (cities, _) = region_choices();
    let general_error = match error {
        Some(e @ (AppError::StaleVersion | AppError::Conflict(_))) => e.to_string(),
        _ => String::new(),
    };
    let (heading, action, accounts, detail) = match id {
        None => (
            "专家入库".to_string(),
            "/experts/new".to_string(),
            experts::free_accounts(app, &ctx.principal).await?,
            None,
        ),
        Some(id) => {
            let d = experts::get(app, &ctx.principal, id).await?;
            (
                format!("专家信息：{}", d.expert.name),
                format!("/experts/{id}"),
                Vec::new(),
                Some(d),
            )
        }
    };
    Ok(FormPage {
        layout: layout(ctx, "experts"),
        flash: String::new(),
        heading,
        action,
        csrf: ctx.session.csrf_token.clone(),
        form,
        accounts,
        editing: id.is_some(),
        cities,
        detail,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error,
    })
}

async fn form_error(
    app: &App,
    ctx: &SessionCtx,
    id: Option<ExpertId>,
    form: ExpertForm,
    e: AppError,
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::StaleVersion | AppError::Conflict(_) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match form_page(app, ctx, id, form, Some(&e)).await {
                Ok(page) => (status, page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        other => PageError(other).into_response(),
    }
}

async fn new_form(State(app): State<Shared>, Authed(ctx): Authed) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::ExpertPool, Action::Create)?;
    let form = ExpertForm {
        active: Some("on".into()),
        version: "0".into(),
        ..Default::default()
    };
    Ok(form_page(&app, &ctx, None, form, None).await?)
}

async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<ExpertForm>,
) -> Response {
    match experts::create(&app, &ctx.principal, &form.input()).await {
        Ok(e) => Redirect::to(&format!("/experts/{}?saved=created", e.id)).into_response(),
        Err(e) => form_error(&app, &ctx, None, form, e).await,
    }
}

async fn edit_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ExpertId>,
    Query(q): Query<Saved>,
) -> Result<Response, PageError> {
    if !keeps_pool(&ctx) {
        crate::services::authorize(&ctx.principal, Resource::ExpertPool, Action::View)?;
        return Ok(Redirect::to("/experts/me").into_response());
    }
    let d = experts::get(&app, &ctx.principal, id).await?;
    let mut page = form_page(&app, &ctx, Some(id), ExpertForm::from_view(&d.expert), None).await?;
    page.flash = match q.saved.as_deref() {
        Some("created") => "专家已入库。".into(),
        Some("updated") => "专家信息已保存。".into(),
        _ => String::new(),
    };
    Ok(page.into_response())
}

async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ExpertId>,
    Form(form): Form<ExpertForm>,
) -> Response {
    match experts::update(&app, &ctx.principal, id, &form.input(), form.version()).await {
        Ok(e) => Redirect::to(&format!("/experts/{}?saved=updated", e.id)).into_response(),
        Err(e) => form_error(&app, &ctx, Some(id), form, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "expert_me.html")]
struct MePage {
    layout: Option<Layout>,
    flash: String,
    detail: Option<ExpertDetail>,
}

/// An expert's own entry, read-only, with the conflicts they declared.
async fn me(State(app): State<Shared>, Authed(ctx): Authed) -> Result<MePage, PageError> {
    let detail = experts::mine(&app, &ctx.principal).await?;
    Ok(MePage {
        layout: layout(&ctx, "scoring"),
        flash: String::new(),
        detail,
    })
}
