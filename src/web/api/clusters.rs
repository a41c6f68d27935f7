//! Cluster profiles and their member enterprises through the JSON API (routes relative to
//! /api/v1).
//!
//! Members are imported from Excel with a preview through the imports API:
//! `POST /imports/members?target={cluster id}`, then `POST /imports/members/{id}/commit`.

use crate::store::id::{ClusterId, ClusterMemberId};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::clusters::{
    self, ClusterInput, ClusterView, CountyRef, HistoryEvent, MemberInput, MemberView, OrgRef,
    Relation,
};
use crate::web::download::xlsx_download;
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/clusters", get(list).post(create))
        .route("/clusters/members-template.xlsx", get(template))
        .route("/clusters/{id}", get(get_one).put(update))
        .route("/clusters/{id}/members", get(members).post(add_member))
        .route("/clusters/{id}/history", get(history))
        .route("/clusters/{id}/members/{member_id}", delete(remove_member))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        create,
        get_one,
        update,
        members,
        add_member,
        remove_member,
        template,
        history
    ),
    components(schemas(
        HistoryEvent,
        ClusterInput,
        ClusterUpdate,
        ClusterView,
        CountyRef,
        OrgRef,
        Relation,
        MemberInput,
        MemberView,
    ))
)]
pub struct Doc;

/// The clusters the caller may see: an applicant's own and those it co-applies to (relation
/// `co_applicant`, read only); a city bureau's city; all for the province.
#[utoipa::path(get, path = "/api/v1/clusters",
    responses((status = 200, body = [ClusterView]), (status = 403, body = ErrorBody)))]
async fn list(State(app): State<Shared>, Authed(ctx): Authed) -> ApiResult<Vec<ClusterView>> {
    Ok(Json(clusters::list(&app, &ctx.principal).await?))
}

/// Creates a cluster for the caller's organisation (applicants only). A single application must
/// lie in the organisation's city; with `co_applicant_org_ids` (joint application) the counties
/// may span cities, and the cluster is still reviewed by the lead organisation's city (第八条).
#[utoipa::path(post, path = "/api/v1/clusters", request_body = ClusterInput,
    responses((status = 200, body = ClusterView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<ClusterInput>,
) -> ApiResult<ClusterView> {
    Ok(Json(clusters::create(&app, &ctx.principal, &body).await?))
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ClusterView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
) -> ApiResult<ClusterView> {
    Ok(Json(clusters::get(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ClusterUpdate {
    #[serde(flatten)]
    pub cluster: ClusterInput,
    /// The version the client last saw; a stale version is refused with 409.
    pub version: i32,
}

/// Replaces the profile (lead applicant only; a co-applicant gets 403).
#[utoipa::path(put, path = "/api/v1/clusters/{id}", params(("id" = i64, Path)), request_body = ClusterUpdate,
    responses((status = 200, body = ClusterView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    Json(body): Json<ClusterUpdate>,
) -> ApiResult<ClusterView> {
    Ok(Json(
        clusters::update(&app, &ctx.principal, id, &body.cluster, body.version).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/members", params(("id" = i64, Path)),
    responses((status = 200, body = [MemberView]), (status = 404, body = ErrorBody)))]
async fn members(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
) -> ApiResult<Vec<MemberView>> {
    Ok(Json(
        clusters::list_members(&app, &ctx.principal, id).await?,
    ))
}

/// Adds one member enterprise; a credit code already in the list is refused (422).
#[utoipa::path(post, path = "/api/v1/clusters/{id}/members", params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 200, body = MemberView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_member(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    Json(body): Json<MemberInput>,
) -> ApiResult<MemberView> {
    Ok(Json(
        clusters::add_member(&app, &ctx.principal, id, &body).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/clusters/{id}/members/{member_id}",
    params(("id" = i64, Path), ("member_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_member(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((id, member_id)): Path<(ClusterId, ClusterMemberId)>,
) -> Result<StatusCode, ApiError> {
    clusters::remove_member(&app, &ctx.principal, id, member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The member import template (.xlsx).
#[utoipa::path(get, path = "/api/v1/clusters/members-template.xlsx",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn template(Authed(_ctx): Authed) -> Result<Response, ApiError> {
    Ok(xlsx_download(
        clusters::template_xlsx()?,
        "成员企业导入模板.xlsx",
        "template.xlsx",
    ))
}

/// The cluster's story, oldest first: applications, round notices and results, titles with
/// certificate numbers (superseded, revoked), revocation cases and decisions.
#[utoipa::path(get, path = "/api/v1/clusters/{id}/history", params(("id" = i64, Path)),
    responses((status = 200, body = [HistoryEvent]), (status = 404, body = ErrorBody)))]
async fn history(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
) -> ApiResult<Vec<HistoryEvent>> {
    Ok(Json(clusters::history(&app, &ctx.principal, id).await?))
}
