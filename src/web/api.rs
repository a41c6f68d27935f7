//! JSON API under /api/v1: the same services and rules as the pages. Authenticate with
//! `POST /api/v1/session` and send the token as `Authorization: Bearer …`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiqun_domain::access::{Action, Resource};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::principal::{AnyStage, Authed};
use crate::app::Shared;
use crate::audit;
use crate::auth::login::{self, LoginError, Stage};
use crate::error::{AppError, FieldError};
use crate::services::{self, orgs, users};

/// A structured error: `{"error": {"code", "message", "fields": [{"field","message"}]}}`.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError(AppError::from(e))
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub fields: Vec<FieldErrorSchema>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldErrorSchema {
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldErrorSchema {
    fn from(f: &FieldError) -> Self {
        FieldErrorSchema {
            field: f.field.clone(),
            message: f.message.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let AppError::Db(e) = &self.0 {
            tracing::error!("database error: {e}");
        }
        if let AppError::Internal(e) = &self.0 {
            tracing::error!("internal error: {e}");
        }
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code().to_string(),
                message: self.0.to_string(),
                fields: self.0.fields().iter().map(FieldErrorSchema::from).collect(),
            },
        };
        (status, Json(body)).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/session", post(create_session).delete(delete_session))
        .route("/session/second-factor", post(second_factor))
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/organisations", get(list_orgs).post(create_org))
        .route("/organisations/{id}", get(get_org).put(update_org))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).put(update_user))
        .route("/users/{id}/credentials", post(user_credentials))
        .route("/audit", get(audit_entries))
        .route("/audit/verify", post(audit_verify))
        .route("/calendar/{date}", get(calendar_day))
        .merge(super::api_attachments::routes())
        .merge(super::api_clusters::routes())
        .merge(super::api_competitions::routes())
        .merge(super::api_applications::routes())
        .merge(super::api_rounds::routes())
        .merge(super::api_scoring::routes())
        .merge(super::api_notices::routes())
        .fallback(|| async { ApiError(AppError::NotFound) })
}

#[derive(OpenApi)]
#[openapi(
    info(title = "jiqun 湖南省先进制造业集群培育管理系统 API", version = "1"),
    paths(
        create_session,
        delete_session,
        second_factor,
        me,
        change_password,
        list_orgs,
        create_org,
        get_org,
        update_org,
        list_users,
        create_user,
        get_user,
        update_user,
        user_credentials,
        audit_entries,
        audit_verify,
        calendar_day
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        FieldErrorSchema,
        LoginRequest,
        LoginResponse,
        CodeRequest,
        PasswordRequest,
        MeResponse,
        orgs::OrgInput,
        orgs::OrgView,
        OrgUpdate,
        users::UserInput,
        users::UserView,
        users::UserUpdate,
        CreatedUser,
        CredentialRequest,
        AuditEntryView,
        AuditPage,
        VerifyResult,
        services::calendar::DayView
    ))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::api_attachments::Doc::openapi());
    doc.merge(super::api_clusters::Doc::openapi());
    doc.merge(super::api_competitions::Doc::openapi());
    doc.merge(super::api_applications::Doc::openapi());
    doc.merge(super::api_rounds::Doc::openapi());
    doc.merge(super::api_scoring::Doc::openapi());
    doc.merge(super::api_notices::Doc::openapi());
    Json(doc)
}

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
    responses((status = 200, body = LoginResponse), (status = 422, body = ErrorBody)))]
async fn create_session(
    State(app): State<Shared>,
    axum::extract::ConnectInfo(connect): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Json(body): Json<LoginRequest>,
) -> ApiResult<LoginResponse> {
    let addr = connect.ip().to_string();
    let (token, mut stage) = login::login(&app, &body.username, &body.password, &addr)
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
        stage = login::stage(true, &u, u.role);
    }
    Ok(Json(LoginResponse {
        token,
        stage: stage_key(stage).into(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204)))]
async fn delete_session(
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
    responses((status = 200, body = LoginResponse), (status = 422, body = ErrorBody)))]
async fn second_factor(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
    Json(body): Json<CodeRequest>,
) -> ApiResult<LoginResponse> {
    let p = &ctx.principal;
    login::verify_second_factor(&app, &ctx.session.id, &p.user, &body.code, &p.client_addr).await?;
    Ok(Json(LoginResponse {
        token: String::new(),
        stage: stage_key(login::stage(true, &p.user, p.role)).into(),
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
async fn me(State(app): State<Shared>, AnyStage(ctx): AnyStage) -> ApiResult<MeResponse> {
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
async fn change_password(
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
        &body.current,
        &body.new,
        &body.confirm,
        &p.client_addr,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/organisations",
    params(("kind" = Option<String>, Query), ("city_code" = Option<String>, Query), ("q" = Option<String>, Query)),
    responses((status = 200, body = [orgs::OrgView]), (status = 403, body = ErrorBody)))]
async fn list_orgs(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(filter): Query<orgs::OrgFilter>,
) -> ApiResult<Vec<orgs::OrgView>> {
    Ok(Json(orgs::list(&app, &ctx.principal, &filter).await?))
}

#[utoipa::path(post, path = "/api/v1/organisations", request_body = orgs::OrgInput,
    responses((status = 200, body = orgs::OrgView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_org(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<orgs::OrgInput>,
) -> ApiResult<orgs::OrgView> {
    Ok(Json(orgs::create(&app, &ctx.principal, &body).await?))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = orgs::OrgView), (status = 404, body = ErrorBody)))]
async fn get_org(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
) -> ApiResult<orgs::OrgView> {
    Ok(Json(orgs::get(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct OrgUpdate {
    #[serde(flatten)]
    pub org: orgs::OrgInput,
    /// The version the client last saw; a stale version is refused with 409.
    pub version: i32,
}

#[utoipa::path(put, path = "/api/v1/organisations/{id}", params(("id" = i64, Path)), request_body = OrgUpdate,
    responses((status = 200, body = orgs::OrgView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_org(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
    Json(body): Json<OrgUpdate>,
) -> ApiResult<orgs::OrgView> {
    Ok(Json(
        orgs::update(&app, &ctx.principal, id, &body.org, body.version).await?,
    ))
}

#[derive(Deserialize)]
struct UserQuery {
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", params(("q" = Option<String>, Query)),
    responses((status = 200, body = [users::UserView])))]
async fn list_users(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<UserQuery>,
) -> ApiResult<Vec<users::UserView>> {
    Ok(Json(
        users::list(&app, &ctx.principal, q.q.as_deref()).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    pub user: users::UserView,
    /// Shown once; the user must change it at first login.
    pub initial_password: String,
}

#[utoipa::path(post, path = "/api/v1/users", request_body = users::UserInput,
    responses((status = 200, body = CreatedUser), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<users::UserInput>,
) -> ApiResult<CreatedUser> {
    let created = users::create(&app, &ctx.principal, &body).await?;
    Ok(Json(CreatedUser {
        user: created.user,
        initial_password: created.initial_password,
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = users::UserView), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
) -> ApiResult<users::UserView> {
    Ok(Json(users::get(&app, &ctx.principal, id).await?))
}

#[utoipa::path(put, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = users::UserUpdate,
    responses((status = 200, body = users::UserView), (status = 409, body = ErrorBody)))]
async fn update_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
    Json(body): Json<users::UserUpdate>,
) -> ApiResult<users::UserView> {
    Ok(Json(users::update(&app, &ctx.principal, id, &body).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CredentialRequest {
    /// reset_password | unlock | reset_second_factor
    pub action: String,
    pub reason: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CredentialResult {
    pub new_password: Option<String>,
}

pub fn credential_action(key: &str) -> Result<users::CredentialAction, AppError> {
    match key {
        "reset_password" => Ok(users::CredentialAction::ResetPassword),
        "unlock" => Ok(users::CredentialAction::Unlock),
        "reset_second_factor" => Ok(users::CredentialAction::ResetSecondFactor),
        _ => Err(AppError::invalid(
            "action",
            "操作应为 reset_password、unlock 或 reset_second_factor",
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/users/{id}/credentials", params(("id" = i64, Path)), request_body = CredentialRequest,
    responses((status = 200), (status = 403, body = ErrorBody)))]
async fn user_credentials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
    Json(body): Json<CredentialRequest>,
) -> ApiResult<CredentialResult> {
    let action = credential_action(&body.action)?;
    let new_password =
        users::reset_credentials(&app, &ctx.principal, id, action, &body.reason).await?;
    Ok(Json(CredentialResult { new_password }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: String,
    pub actor_name: String,
    pub actor_role: String,
    pub actor_org: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub summary: String,
    pub reason: String,
    pub client_addr: String,
    pub hash: String,
}

impl From<&crate::store::entity::audit_entry::Model> for AuditEntryView {
    fn from(m: &crate::store::entity::audit_entry::Model) -> Self {
        AuditEntryView {
            seq: m.seq,
            at: crate::clock::format_local(m.at),
            actor_name: m.actor_name.clone(),
            actor_role: m.actor_role.clone(),
            actor_org: m.actor_org.clone(),
            action: m.action.clone(),
            object_type: m.object_type.clone(),
            object_id: m.object_id.clone(),
            summary: m.summary.clone(),
            reason: m.reason.clone(),
            client_addr: m.client_addr.clone(),
            hash: m.hash.clone(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub total: u64,
    pub page: u64,
    pub entries: Vec<AuditEntryView>,
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    /// YYYY-MM-DD, Beijing time, inclusive
    pub from: Option<String>,
    /// YYYY-MM-DD, Beijing time, inclusive
    pub to: Option<String>,
    pub page: Option<u64>,
}

impl AuditQuery {
    pub fn filter(&self) -> Result<audit::Filter, AppError> {
        let day = |field: &str,
                   text: &Option<String>,
                   add_day: bool|
         -> Result<Option<time::OffsetDateTime>, AppError> {
            match text.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(t) => {
                    let d = time::Date::parse(
                        t,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .map_err(|_| AppError::invalid(field, "日期格式应为 YYYY-MM-DD"))?;
                    let d = if add_day {
                        d.next_day().unwrap_or(d)
                    } else {
                        d
                    };
                    Ok(Some(d.midnight().assume_offset(time::macros::offset!(+8))))
                }
            }
        };
        Ok(audit::Filter {
            actor: self.actor.clone(),
            action: self.action.clone(),
            object_type: self.object_type.clone(),
            from: day("from", &self.from, false)?,
            to: day("to", &self.to, true)?,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/audit",
    params(("actor" = Option<String>, Query), ("action" = Option<String>, Query), ("object_type" = Option<String>, Query),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("page" = Option<u64>, Query)),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
async fn audit_entries(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<AuditQuery>,
) -> ApiResult<AuditPage> {
    services::authorize(&ctx.principal, Resource::AuditLog, Action::View)?;
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = audit::query(&app.db, &q.filter()?, page, 100).await?;
    Ok(Json(AuditPage {
        total,
        page,
        entries: rows.iter().map(AuditEntryView::from).collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    pub intact: bool,
    pub entries: i64,
    pub message: String,
}

#[utoipa::path(post, path = "/api/v1/audit/verify", responses((status = 200, body = VerifyResult)))]
async fn audit_verify(State(app): State<Shared>, Authed(ctx): Authed) -> ApiResult<VerifyResult> {
    services::authorize(&ctx.principal, Resource::AuditLog, Action::View)?;
    Ok(Json(verify_result(&app, &ctx.principal.actor()).await?))
}

/// Verifies the chain for an administrator in the web or API, and records that it was done.
pub async fn verify_result(
    app: &crate::app::App,
    actor: &audit::Actor,
) -> Result<VerifyResult, AppError> {
    let result = match audit::verify(&app.db, &app.audit_key).await? {
        Ok(n) => VerifyResult {
            intact: true,
            entries: n,
            message: format!("审计链完整：共{n}条记录，逐条校验通过"),
        },
        Err(b) => VerifyResult {
            intact: false,
            entries: 0,
            message: format!("审计链校验失败：{b}"),
        },
    };
    audit::record_own(
        &app.db,
        &app.audit_key,
        app.clock.now(),
        actor,
        audit::Event {
            action: "audit.verify",
            object_type: "audit_log",
            object_id: "*".into(),
            summary: result.message.clone(),
            ..Default::default()
        },
    )
    .await?;
    Ok(result)
}

/// Whether a date is a working day under the calendar the system uses (built-in years plus
/// imported ones), and why. A year without an imported holiday schedule is refused (422).
#[utoipa::path(get, path = "/api/v1/calendar/{date}", params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = services::calendar::DayView), (status = 422, body = ErrorBody)))]
async fn calendar_day(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(date): Path<String>,
) -> ApiResult<services::calendar::DayView> {
    Ok(Json(
        services::calendar::day(&app, &ctx.principal, &date).await?,
    ))
}
