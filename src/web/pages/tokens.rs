//! The security administrator's page of integration API tokens: list, issue (the token shown
//! once), revoke.

use crate::store::id::{ApiTokenId, OrgId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource};
use serde::Deserialize;

use super::{FormErrors, Layout, MessagePage, PageError, layout};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::api_tokens::{self, TokenInput, TokenView};
use crate::services::authorize;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/{id}/revoke", post(revoke))
}

/// The form as typed, kept on an error.
#[derive(Deserialize, Default, Clone)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    expires_on: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    flash_error: String,
    csrf: String,
    tokens: Vec<TokenView>,
    roles: Vec<(String, String)>,
    orgs: Vec<(String, String)>,
    input: TokenForm,
    errors: FormErrors,
}

async fn page(
    app: &Shared,
    ctx: &SessionCtx,
    input: TokenForm,
    form_error: Option<&AppError>,
    flash_error: String,
) -> Result<ListPage, PageError> {
    authorize(&ctx.principal, Resource::ApiToken, Action::View)?;
    Ok(ListPage {
        layout: layout(ctx, "tokens"),
        flash: String::new(),
        flash_error,
        csrf: ctx.session.csrf_token.clone(),
        tokens: api_tokens::list(app, &ctx.principal).await?,
        roles: api_tokens::role_choices(),
        orgs: api_tokens::org_choices(app, &ctx.principal).await?,
        input,
        errors: form_error.map(FormErrors::from_error).unwrap_or_default(),
    })
}

async fn list(State(app): State<Shared>, Authed(ctx): Authed) -> Result<ListPage, PageError> {
    page(&app, &ctx, TokenForm::default(), None, String::new()).await
}

async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<TokenForm>,
) -> Response {
    let input = TokenInput {
        name: form.name.clone(),
        role: form.role.clone(),
        org_id: form.org_id.trim().parse().unwrap_or(OrgId::new(0)),
        expires_on: Some(form.expires_on.clone()),
    };
    match api_tokens::create(&app, &ctx.principal, &input).await {
        Ok(issued) => MessagePage {
            layout: layout(&ctx, "tokens"),
            flash: String::new(),
            heading: "接口令牌已签发".into(),
            paragraphs: vec![
                format!(
                    "已为 {}（{}）签发接口令牌「{}」，{}。",
                    issued.token.org_name,
                    issued.token.role_label,
                    issued.token.name,
                    issued
                        .token
                        .expires_on
                        .as_deref()
                        .map_or("长期有效".to_string(), |d| format!("有效期至{d}")),
                ),
                "令牌如下，仅显示这一次，系统只保存其摘要、无法再次查看。请通过安全渠道交给对接系统的负责人；对接系统在请求头中发送 Authorization: Bearer 令牌。".into(),
            ],
            secrets: vec![issued.secret],
            next_href: "/tokens".into(),
            next_label: "返回令牌列表".into(),
        }
        .into_response(),
        Err(e @ AppError::Invalid(_)) => {
            match page(&app, &ctx, form, Some(&e), String::new()).await {
                Ok(p) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, p).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    reason: String,
}

async fn revoke(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApiTokenId>,
    Form(form): Form<RevokeForm>,
) -> Response {
    match api_tokens::revoke(&app, &ctx.principal, id, &form.reason).await {
        Ok(_) => Redirect::to("/tokens").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let message = match &e {
                AppError::Invalid(fields) => fields
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_default(),
                other => other.to_string(),
            };
            match page(&app, &ctx, TokenForm::default(), None, message).await {
                Ok(p) => (
                    axum::http::StatusCode::from_u16(e.status()).unwrap_or_default(),
                    p,
                )
                    .into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}
