//! Organisations (units) through the API.

use crate::store::id::OrgId;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::orgs;
use crate::web::principal::Authed;

#[derive(OpenApi)]
#[openapi(
    paths(list_orgs, create_org, get_org, update_org),
    components(schemas(OrgUpdate, orgs::OrgInput, orgs::OrgView))
)]
pub struct Doc;

#[utoipa::path(get, path = "/api/v1/organisations",
    params(("kind" = Option<String>, Query), ("city_code" = Option<String>, Query), ("q" = Option<String>, Query)),
    responses((status = 200, body = [orgs::OrgView]), (status = 403, body = ErrorBody)))]
pub(super) async fn list_orgs(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(filter): Query<orgs::OrgFilter>,
) -> ApiResult<Vec<orgs::OrgView>> {
    Ok(Json(orgs::list(&app, &ctx.principal, &filter).await?))
}

#[utoipa::path(post, path = "/api/v1/organisations", request_body = orgs::OrgInput,
    responses((status = 200, body = orgs::OrgView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn create_org(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<orgs::OrgInput>,
) -> ApiResult<orgs::OrgView> {
    Ok(Json(orgs::create(&app, &ctx.principal, &body).await?))
}

#[utoipa::path(get, path = "/api/v1/organisations/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = orgs::OrgView), (status = 404, body = ErrorBody)))]
pub(super) async fn get_org(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<OrgId>,
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
pub(super) async fn update_org(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<OrgId>,
    Json(body): Json<OrgUpdate>,
) -> ApiResult<orgs::OrgView> {
    Ok(Json(
        orgs::update(&app, &ctx.principal, id, &body.org, body.version).await?,
    ))
}
