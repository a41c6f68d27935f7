//! A designated cluster's 变更申请: the list in the reader's scope, the filing form, and one
//! request with its step indicator, evidence, the city's opinion form and the province's
//! decision form. The same service as the JSON API decides every step.

use crate::store::id::{ChangeRequestId, ClusterId, OrgId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, Role, permission};
use serde::Deserialize;

use super::notices::refusal_text;
use super::{Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::changes::{
    self, ChangeDecisionInput, ChangeInput, ChangeRequestView, OpinionInput,
};
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/change-requests", get(list).post(file))
        .route("/change-requests/new", get(new_form))
        .route("/change-requests/{id}", get(show))
        .route("/change-requests/{id}/opinion", post(opine))
        .route("/change-requests/{id}/decision", post(decide))
}

#[derive(Template, WebTemplate)]
#[template(path = "change_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<ChangeRequestView>,
}

async fn list(State(app): State<Shared>, Authed(ctx): Authed) -> Result<ListPage, PageError> {
    Ok(ListPage {
        layout: layout(&ctx, "change-requests"),
        flash: String::new(),
        rows: changes::list(&app, &ctx.principal).await?,
    })
}

#[derive(Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    cluster_id: ClusterId,
}

#[derive(Deserialize, Default)]
struct FileForm {
    #[serde(default)]
    cluster_id: ClusterId,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    lead_county_code: String,
    /// Codes separated by commas or spaces.
    #[serde(default)]
    other_county_codes: String,
    /// The new promotion organisation's id; empty keeps the present one.
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    reasons: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "change_new.html")]
struct NewPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    cluster_id: ClusterId,
    cluster_name: String,
    /// (key, name) of the policy's cluster kinds.
    kinds: Vec<(String, String)>,
    /// (id, name) of the other registered promotion organisations.
    orgs: Vec<(String, String)>,
    f: FileForm,
    error: String,
}

async fn new_page(
    app: &App,
    ctx: &SessionCtx,
    f: FileForm,
    error: String,
) -> Result<NewPage, AppError> {
    let cl = crate::services::clusters::get(app, &ctx.principal, f.cluster_id).await?;
    let kinds = crate::services::clusters::cluster_kinds(app)?
        .into_iter()
        .map(|k| (k.key, k.name))
        .collect();
    let orgs = changes::org_choices(app, &ctx.principal, cl.org_id)
        .await?
        .into_iter()
        .map(|o| (o.id.to_string(), o.name))
        .collect();
    Ok(NewPage {
        layout: layout(ctx, "change-requests"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        cluster_id: cl.id,
        cluster_name: cl.name,
        kinds,
        orgs,
        f,
        error,
    })
}

async fn new_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<NewQuery>,
) -> Result<NewPage, PageError> {
    let f = FileForm {
        cluster_id: q.cluster_id,
        ..FileForm::default()
    };
    Ok(new_page(&app, &ctx, f, String::new()).await?)
}

fn some(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

async fn file(State(app): State<Shared>, Authed(ctx): Authed, Form(f): Form<FileForm>) -> Response {
    let others = some(&f.other_county_codes).map(|t| {
        t.split([',', '，', ' ', '、'])
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    });
    let input = ChangeInput {
        cluster_id: f.cluster_id,
        name: some(&f.name),
        kind: some(&f.kind),
        lead_county_code: some(&f.lead_county_code),
        other_county_codes: others,
        org_id: match some(&f.org_id) {
            None => None,
            Some(t) => match t.parse::<OrgId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    let e = AppError::invalid("org_id", "请从列表中选择集群发展促进组织");
                    return refused(&app, &ctx, f, e).await;
                }
            },
        },
        reasons: f.reasons.clone(),
    };
    match changes::file(&app, &ctx.principal, &input).await {
        Ok(v) => Redirect::to(&format!("/change-requests/{}?saved=filed", v.id)).into_response(),
        Err(e) => refused(&app, &ctx, f, e).await,
    }
}

/// The filing form again with the refusal and everything typed, or the error page.
async fn refused(app: &App, ctx: &SessionCtx, f: FileForm, e: AppError) -> Response {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match new_page(app, ctx, f, refusal_text(&e)).await {
                Ok(page) => (status, page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        e => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "change_show.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    c: ChangeRequestView,
    steps: Vec<(&'static str, &'static str)>,
    can_attach: bool,
    can_opine: bool,
    can_decide: bool,
    error: String,
    text: String,
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    saved: Option<String>,
    upload_error: Option<String>,
}

fn show_page(ctx: &SessionCtx, c: ChangeRequestView, flash: &str) -> ShowPage {
    let role = ctx.principal.role;
    let may = |action| permission(role, Resource::ChangeRequest, action).is_some();
    ShowPage {
        layout: layout(ctx, "change-requests"),
        flash: flash.into(),
        csrf: ctx.session.csrf_token.clone(),
        steps: changes::steps_of(&c.status),
        can_attach: may(Action::Update) && c.status == "awaiting_city",
        can_opine: role == Role::CityBureau && c.status == "awaiting_city",
        can_decide: role == Role::Province && c.status == "awaiting_province",
        c,
        error: String::new(),
        text: String::new(),
    }
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let id = id
        .parse::<ChangeRequestId>()
        .map_err(|_| AppError::NotFound)?;
    let c = changes::get(&app, &ctx.principal, id).await?;
    let flash = match q.saved.as_deref() {
        Some("filed") => {
            "变更申请已提交，已通知所在市州工信局出具意见。可在市州出具意见前补充证明材料。"
        }
        Some("opinion") => "市州意见已提交，已通知省工信厅审批。",
        Some("decided") => "审批决定已作出，已通知申请单位。",
        _ => "",
    };
    let mut page = show_page(&ctx, c, flash);
    page.error = q.upload_error.unwrap_or_default();
    Ok(page)
}

async fn refused_step(
    app: &App,
    ctx: &SessionCtx,
    id: ChangeRequestId,
    e: AppError,
    text: String,
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            match changes::get(app, &ctx.principal, id).await {
                Ok(c) => {
                    let mut page = show_page(ctx, c, "");
                    page.error = refusal_text(&e);
                    page.text = text;
                    (
                        StatusCode::from_u16(e.status())
                            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                        page,
                    )
                        .into_response()
                }
                Err(e) => PageError(e).into_response(),
            }
        }
        e => PageError(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct StepForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    text: String,
}

async fn opine(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ChangeRequestId>,
    Form(f): Form<StepForm>,
) -> Response {
    let input = OpinionInput {
        agrees: f.verdict == "agree",
        opinion: f.text.clone(),
        version: None,
    };
    match changes::opine(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/change-requests/{id}?saved=opinion")).into_response(),
        Err(e) => refused_step(&app, &ctx, id, e, f.text).await,
    }
}

async fn decide(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ChangeRequestId>,
    Form(f): Form<StepForm>,
) -> Response {
    let input = ChangeDecisionInput {
        approve: f.verdict == "approve",
        reasons: f.text.clone(),
        version: None,
    };
    match changes::decide(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/change-requests/{id}?saved=decided")).into_response(),
        Err(e) => refused_step(&app, &ctx, id, e, f.text).await,
    }
}
