//! JSON API: a designated cluster's 变更申请 (routes relative to /api/v1). Evidence goes
//! through `/attachments` with `owner_type=change_request`, `owner_id` the request id and
//! `purpose=evidence`, while the request waits for its city's opinion.

use crate::store::id::ChangeRequestId;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::changes::{
    self, ChangeDecisionInput, ChangeFacts, ChangeInput, ChangeRequestView, ChangedField,
    OpinionInput,
};
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/change-requests", get(list_changes).post(file_change))
        .route("/change-requests/{id}", get(get_change))
        .route("/change-requests/{id}/opinion", post(opine_change))
        .route("/change-requests/{id}/decision", post(decide_change))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_changes, file_change, get_change, opine_change, decide_change),
    components(schemas(
        ChangeRequestView,
        ChangeInput,
        OpinionInput,
        ChangeDecisionInput,
        ChangeFacts,
        ChangedField
    ))
)]
pub struct Doc;

/// Change requests in the caller's scope, newest first: a cluster its own, a city bureau its
/// region's, the province all.
#[utoipa::path(get, path = "/api/v1/change-requests",
    responses((status = 200, body = [ChangeRequestView]), (status = 403, body = ErrorBody)))]
async fn list_changes(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<ChangeRequestView>> {
    Ok(Json(changes::list(&app, &ctx.principal).await?))
}

/// Files a 变更申请 for a cluster holding a live title (its promotion organisation): the
/// fields given change, with reasons; the city bureau is asked for its opinion.
#[utoipa::path(post, path = "/api/v1/change-requests", request_body = ChangeInput,
    responses((status = 200, body = ChangeRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn file_change(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<ChangeInput>,
) -> ApiResult<ChangeRequestView> {
    Ok(Json(changes::file(&app, &ctx.principal, &body).await?))
}

/// One change request with its evidence, opinion and decision.
#[utoipa::path(get, path = "/api/v1/change-requests/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeRequestView), (status = 404, body = ErrorBody)))]
async fn get_change(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ChangeRequestId>,
) -> ApiResult<ChangeRequestView> {
    Ok(Json(changes::get(&app, &ctx.principal, id).await?))
}

/// The city bureau's written opinion (同意 or 不同意); the province is asked to decide.
#[utoipa::path(post, path = "/api/v1/change-requests/{id}/opinion", params(("id" = i64, Path)), request_body = OpinionInput,
    responses((status = 200, body = ChangeRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn opine_change(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ChangeRequestId>,
    Json(body): Json<OpinionInput>,
) -> ApiResult<ChangeRequestView> {
    Ok(Json(changes::opine(&app, &ctx.principal, id, &body).await?))
}

/// The province approves — the change applies and every certificate in force is reissued
/// (换发) under a new number, the old one superseded — or refuses with reasons.
#[utoipa::path(post, path = "/api/v1/change-requests/{id}/decision", params(("id" = i64, Path)), request_body = ChangeDecisionInput,
    responses((status = 200, body = ChangeRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_change(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ChangeRequestId>,
    Json(body): Json<ChangeDecisionInput>,
) -> ApiResult<ChangeRequestView> {
    Ok(Json(
        changes::decide(&app, &ctx.principal, id, &body).await?,
    ))
}
