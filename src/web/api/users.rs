//! User accounts through the API: create, edit, reset credentials.

use crate::store::id::UserId;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::paging::{ListQuery, Paged, PagedResult};
use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::listing::ListParams;
use crate::services::users;
use crate::web::forms::credential_action;
use crate::web::principal::Authed;

#[derive(OpenApi)]
#[openapi(
    paths(
        list_users,
        create_user,
        get_user,
        update_user,
        user_credentials,
        activate_user
    ),
    components(schemas(
        CreatedUser,
        ActivatedUser,
        CredentialResult,
        CredentialRequest,
        users::UserInput,
        users::UserView,
        users::UserUpdate
    ))
)]
pub struct Doc;

/// One page of the accounts in the caller's scope: filters `role`, `status` (active |
/// inactive), `q`; sort by `id`, `username`, `name`, `role` or `last_login`.
#[utoipa::path(get, path = "/api/v1/users", params(ListQuery, ("role" = Option<String>, Query, description = "角色")),
    responses((status = 200, body = [users::UserView],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 422, body = ErrorBody)))]
pub(super) async fn list_users(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PagedResult<users::UserView> {
    let params = ListParams::parse(&users::LIST, &pairs)?;
    let (rows, total) = users::page(&app, &ctx.principal, &params).await?;
    Ok(Paged::new(&users::LIST, &params, rows, total))
}

/// A new account. It waits for the security administrator's activation (待激活), who receives
/// its first password; the system administrator who created it never sees a credential.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    pub user: users::UserView,
}

#[utoipa::path(post, path = "/api/v1/users", request_body = users::UserInput,
    responses((status = 200, body = CreatedUser), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn create_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<users::UserInput>,
) -> ApiResult<CreatedUser> {
    let user = users::create(&app, &ctx.principal, &body).await?;
    Ok(Json(CreatedUser { user }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActivatedUser {
    pub user: users::UserView,
    /// Shown once, to the security administrator, who hands it to the person; it must be
    /// changed at first sign-in.
    pub initial_password: String,
}

/// The security administrator activates an account waiting for it (待激活) and receives its
/// first password. 409 when the account is not waiting.
#[utoipa::path(post, path = "/api/v1/users/{id}/activation", params(("id" = i64, Path)),
    responses((status = 200, body = ActivatedUser), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn activate_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
) -> ApiResult<ActivatedUser> {
    let done = users::activate(&app, &ctx.principal, id).await?;
    Ok(Json(ActivatedUser {
        user: done.user,
        initial_password: done.initial_password,
    }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = users::UserView), (status = 404, body = ErrorBody)))]
pub(super) async fn get_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
) -> ApiResult<users::UserView> {
    Ok(Json(users::get(&app, &ctx.principal, id).await?))
}

#[utoipa::path(put, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = users::UserUpdate,
    responses((status = 200, body = users::UserView), (status = 409, body = ErrorBody)))]
pub(super) async fn update_user(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
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
    /// The new initial password after a reset; null for the other actions.
    pub new_password: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/credentials", params(("id" = i64, Path)), request_body = CredentialRequest,
    responses((status = 200, body = CredentialResult), (status = 403, body = ErrorBody)))]
pub(super) async fn user_credentials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
    Json(body): Json<CredentialRequest>,
) -> ApiResult<CredentialResult> {
    let action = credential_action(&body.action)?;
    let new_password =
        users::reset_credentials(&app, &ctx.principal, id, action, &body.reason).await?;
    Ok(Json(CredentialResult { new_password }))
}
