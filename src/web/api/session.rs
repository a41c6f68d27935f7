//! Signing in and out through the API, the second factor, the caller's own account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::{ApiError, ApiResult, ErrorBody};
use crate::app::Shared;
use crate::auth::login::{self, LoginError, Stage};
use crate::error::AppError;
use crate::services::{orgs, users};
use crate::web::principal::AnyStage;

#[derive(OpenApi)]
#[openapi(
    paths(create_session, delete_session, second_factor, me, change_password),
    components(schemas(LoginRequest, LoginResponse, CodeRequest, MeResponse, PasswordRequest))
)]
pub struct Doc;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Authenticator code or recovery code, for accounts with a second factor.
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub token: String,
    /// complete | verify_second_factor | change_password | enrol_second_factor
    pub stage: String,
}

fn stage_key(s: Stage) -> &'static str {
    match s {
        Stage::Complete => "complete",
        Stage::VerifySecondFactor => "verify_second_factor",
        Stage::ChangePassword => "change_password",
        Stage::EnrolSecondFactor => "enrol_second_factor",
    }
}

fn login_error(e: LoginError) -> ApiError {
    match e {
        LoginError::App(e) => ApiError(e),
        other => ApiError(AppError::LoginRefused(other.to_string())),
    }
}

/// Signs in. With `code`, an account that has a second factor completes both steps at once.
#[utoipa::path(post, path = "/api/v1/session", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(super) async fn create_session(
    State(app): State<Shared>,
    axum::extract::ConnectInfo(connect): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: axum::http::HeaderMap,
    Json(body): Json<LoginRequest>,
) -> ApiResult<LoginResponse> {
    // Behind a trusted proxy the client is the forwarded address, so the per-address limit
    // counts people, not the proxy.
    let addr = crate::web::client_ip(&app.config.trusted_proxies, Some(connect.ip()), &headers);
    let (token, mut stage) = login::login(
        &app,
        &body.username,
        &body.password,
        body.code.as_deref(),
        &addr,
    )
    .await
    .map_err(login_error)?;
    if stage == Stage::VerifySecondFactor
        && let Some(code) = body.code.as_deref()
    {
        let sid = crate::auth::session::session_id(&token);
        let u = users::find_by_username(&app, &body.username)
            .await?
            .ok_or(AppError::NotFound)?;
        login::verify_second_factor(&app, &sid, &u, code, &addr).await?;
        let u = users::find_by_username(&app, &body.username)
            .await?
            .ok_or(AppError::NotFound)?;
        stage = login::stage(true, &u, app.second_factor_required(u.role));
    }
    Ok(Json(LoginResponse {
        token,
        stage: stage_key(stage).into(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204)))]
pub(super) async fn delete_session(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
) -> Result<StatusCode, ApiError> {
    login::logout(
        &app,
        &ctx.session.id,
        &ctx.principal.user,
        &ctx.principal.client_addr,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CodeRequest {
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/session/second-factor", request_body = CodeRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(super) async fn second_factor(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
    Json(body): Json<CodeRequest>,
) -> ApiResult<LoginResponse> {
    let p = &ctx.principal;
    login::verify_second_factor(&app, &ctx.session.id, &p.user, &body.code, &p.client_addr).await?;
    Ok(Json(LoginResponse {
        token: String::new(),
        stage: stage_key(login::stage(
            true,
            &p.user,
            app.second_factor_required(p.role),
        ))
        .into(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub user: users::UserView,
    pub organisation: orgs::OrgView,
    pub role_label: String,
    pub stage: String,
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub(super) async fn me(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
) -> ApiResult<MeResponse> {
    let p = &ctx.principal;
    Ok(Json(MeResponse {
        user: users::view(&p.user, &p.org.name, app.clock.now()),
        organisation: orgs::OrgView::from_model(&p.org),
        role_label: p.role.label().into(),
        stage: stage_key(ctx.stage).into(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordRequest {
    pub current: String,
    pub new: String,
    pub confirm: String,
}

#[utoipa::path(post, path = "/api/v1/me/password", request_body = PasswordRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub(super) async fn change_password(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
    Json(body): Json<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    if ctx.stage == Stage::VerifySecondFactor {
        return Err(ApiError(AppError::SecondFactorRequired));
    }
    let p = &ctx.principal;
    login::change_password(
        &app,
        &p.user,
        &ctx.session.id,
        &body.current,
        &body.new,
        &body.confirm,
        &p.client_addr,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
