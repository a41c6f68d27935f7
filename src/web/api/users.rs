//! User accounts through the API: create, edit, reset credentials.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::users;
use crate::web::forms::credential_action;
use crate::web::principal::Authed;

#[derive(OpenApi)]
#[openapi(
    paths(list_users, create_user, get_user, update_user, user_credentials),
    components(schemas(
        CreatedUser,
        CredentialRequest,
        users::UserInput,
        users::UserView,
        users::UserUpdate
    ))
)]
pub struct Doc;

#[derive(Deserialize)]
pub(super) struct UserQuery {
    q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", params(("q" = Option<String>, Query)),
    responses((status = 200, body = [users::UserView])))]
pub(super) async fn list_users(
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
pub(super) async fn create_user(
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
pub(super) async fn get_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
) -> ApiResult<users::UserView> {
    Ok(Json(users::get(&app, &ctx.principal, id).await?))
}

#[utoipa::path(put, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = users::UserUpdate,
    responses((status = 200, body = users::UserView), (status = 409, body = ErrorBody)))]
pub(super) async fn update_user(
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

#[utoipa::path(post, path = "/api/v1/users/{id}/credentials", params(("id" = i64, Path)), request_body = CredentialRequest,
    responses((status = 200), (status = 403, body = ErrorBody)))]
pub(super) async fn user_credentials(
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
