//! Organisations (units) through the API.

use crate::store::id::OrgId;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use utoipa::OpenApi;

use super::paging::{ListQuery, Paged, PagedResult};
use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::listing::ListParams;
use crate::services::orgs;
use crate::web::principal::Authed;

#[derive(OpenApi)]
#[openapi(
    paths(list_orgs, create_org, get_org, update_org),
    components(schemas(OrgUpdate, orgs::OrgInput, orgs::OrgView))
)]
pub struct Doc;

/// One page of the organisations in the caller's scope: filters `kind`, `city`, `status`
/// (active | inactive), `q`; sort by `name`, `kind`, `credit_code`, `city` or `id`.
#[utoipa::path(get, path = "/api/v1/organisations",
    params(ListQuery, ("kind" = Option<String>, Query, description = "单位类型")),
    responses((status = 200, body = [orgs::OrgView],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn list_orgs(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PagedResult<orgs::OrgView> {
    let params = ListParams::parse(&orgs::LIST, &pairs)?;
    let (rows, total) = orgs::page(&app, &ctx.principal, &params).await?;
    Ok(Paged::new(&orgs::LIST, &params, rows, total))
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
