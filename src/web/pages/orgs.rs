//! Organisation pages.

use crate::store::id::OrgId;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use jiqun_domain::access::{Action, OrgKind, Resource, permission};
use serde::Deserialize;

use super::{FormErrors, Layout, PageError, layout, region_choices};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::listing::{ListNav, ListParams};
use crate::services::orgs::{self, OrgInput, OrgView};
use crate::web::download::xlsx_download;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/orgs", get(list))
        .route("/orgs/export.xlsx", get(export))
        .route("/orgs/new", get(new_form).post(create))
        .route("/orgs/{id}", get(show))
        .route("/orgs/{id}/edit", get(edit_form).post(update))
}

fn kinds() -> Vec<(String, String)> {
    OrgKind::ALL
        .iter()
        .map(|k| (k.key().to_string(), k.label().to_string()))
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "orgs.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    orgs: Vec<OrgView>,
    kinds: Vec<(String, String)>,
    cities: Vec<(String, String)>,
    nav: ListNav,
    can_create: bool,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&orgs::LIST, &pairs)?;
    let (rows, total) = orgs::page(&app, &ctx.principal, &params).await?;
    Ok(ListPage {
        layout: layout(&ctx, "orgs"),
        flash: String::new(),
        orgs: rows,
        kinds: kinds(),
        cities: region_choices().0,
        nav: params.nav(&orgs::LIST, total),
        can_create: permission(ctx.principal.role, Resource::Organisation, Action::Create)
            .is_some(),
    })
}

/// 导出Excel: every organisation the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&orgs::LIST, &pairs)?;
    let bytes = orgs::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "单位名单.xlsx", "organisations.xlsx"))
}

#[derive(Template, WebTemplate)]
#[template(path = "org_form.html")]
struct FormPage {
    layout: Option<Layout>,
    flash: String,
    heading: String,
    action: String,
    csrf: String,
    version: i32,
    input: OrgInput,
    kinds: Vec<(String, String)>,
    cities: Vec<(String, String)>,
    counties: Vec<(String, Vec<(String, String)>)>,
    errors: FormErrors,
    general_error: String,
}

fn form_page(
    ctx: &SessionCtx,
    heading: &str,
    action: String,
    version: i32,
    input: OrgInput,
    error: Option<&AppError>,
) -> FormPage {
    let (cities, counties) = region_choices();
    let general_error = match error {
        Some(e @ (AppError::StaleVersion | AppError::Conflict(_))) => e.to_string(),
        _ => String::new(),
    };
    FormPage {
        layout: layout(ctx, "orgs"),
        flash: String::new(),
        heading: heading.into(),
        action,
        csrf: ctx.session.csrf_token.clone(),
        version,
        input,
        kinds: kinds(),
        cities,
        counties,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error,
    }
}

async fn new_form(Authed(ctx): Authed) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::Organisation, Action::Create)?;
    Ok(form_page(
        &ctx,
        "新建单位",
        "/orgs/new".into(),
        0,
        OrgInput {
            kind: OrgKind::PromotionOrg.key().into(),
            ..Default::default()
        },
        None,
    ))
}

#[derive(Deserialize)]
struct OrgForm {
    #[serde(flatten)]
    org: OrgInput,
    // Numbers inside a flattened form arrive as text (serde_urlencoded), so parse by hand.
    #[serde(default)]
    version: String,
}

impl OrgForm {
    fn version(&self) -> i32 {
        self.version.trim().parse().unwrap_or(0)
    }
}

fn form_error(
    ctx: &SessionCtx,
    heading: &str,
    action: String,
    form: OrgForm,
    e: AppError,
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::StaleVersion | AppError::Conflict(_) => {
            let status = axum::http::StatusCode::from_u16(e.status())
                .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            (
                status,
                form_page(ctx, heading, action, form.version(), form.org, Some(&e)),
            )
                .into_response()
        }
        other => PageError(other).into_response(),
    }
}

async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<OrgForm>,
) -> Response {
    match orgs::create(&app, &ctx.principal, &form.org).await {
        Ok(o) => Redirect::to(&format!("/orgs/{}", o.id)).into_response(),
        Err(e) => form_error(&ctx, "新建单位", "/orgs/new".into(), form, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "org_show.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    org: OrgView,
    can_edit: bool,
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<OrgId>,
) -> Result<ShowPage, PageError> {
    let org = orgs::get(&app, &ctx.principal, id).await?;
    Ok(ShowPage {
        layout: layout(&ctx, "orgs"),
        flash: String::new(),
        org,
        can_edit: permission(ctx.principal.role, Resource::Organisation, Action::Update).is_some(),
    })
}

async fn edit_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<OrgId>,
) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::Organisation, Action::Update)?;
    let o = orgs::get(&app, &ctx.principal, id).await?;
    let input = OrgInput {
        name: o.name.clone(),
        kind: o.kind.clone(),
        credit_code: o.credit_code.clone().unwrap_or_default(),
        city_code: o.city_code.clone().unwrap_or_default(),
        county_code: o.county_code.clone().unwrap_or_default(),
        contact_person: o.contact_person.clone(),
        contact_phone: o.contact_phone.clone(),
    };
    Ok(form_page(
        &ctx,
        &format!("编辑：{}", o.name),
        format!("/orgs/{id}/edit"),
        o.version,
        input,
        None,
    ))
}

async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<OrgId>,
    Form(form): Form<OrgForm>,
) -> Response {
    match orgs::update(&app, &ctx.principal, id, &form.org, form.version()).await {
        Ok(o) => Redirect::to(&format!("/orgs/{}", o.id)).into_response(),
        Err(e) => form_error(&ctx, "编辑单位", format!("/orgs/{id}/edit"), form, e),
    }
}
