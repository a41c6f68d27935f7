//! JSON API: city-level titles (市级先进制造业集群, 第十六条) as records (routes relative to
//! /api/v1) — the list in the caller's scope, one title with its certificate number, and its
//! revocation by the city that conferred it. The printable certificate is /city-titles/{id},
//! the PDF /city-titles/{id}.pdf; the public check is /verify/{code} as for provincial ones.

use crate::store::id::CityDesignationId;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::city_designations::{self as city, CityDesignationRow, RevokeInput};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/city-titles", get(list_city_titles))
        .route("/city-titles/{id}", get(get_city_title))
        .route("/city-titles/{id}/revoke", post(revoke_city_title))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_city_titles, get_city_title, revoke_city_title),
    components(schemas(CityDesignationRow, RevokeInput))
)]
pub struct Doc;

/// The city titles in the caller's scope: a city bureau those its city conferred, a cluster its
/// own, the province all. Paged: filters `year` and `status` (valid, revoked); sort by `number`,
/// `effective` or `id`.
#[utoipa::path(get, path = "/api/v1/city-titles", params(super::paging::ListQuery),
    responses((status = 200, body = [CityDesignationRow],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_city_titles(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> super::paging::PagedResult<CityDesignationRow> {
    let params = crate::services::listing::ListParams::parse(&city::API, &pairs)?;
    let (rows, total) = city::page(&app, &ctx.principal, &params).await?;
    Ok(super::paging::Paged::new(&city::API, &params, rows, total))
}

/// One city title with its certificate number and check code.
#[utoipa::path(get, path = "/api/v1/city-titles/{id}",
    params(("id" = i64, Path, description = "市级称号ID")),
    responses((status = 200, body = CityDesignationRow), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn get_city_title(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CityDesignationId>,
) -> Result<Json<CityDesignationRow>, ApiError> {
    Ok(Json(city::get(&app, &ctx.principal, id).await?))
}

/// Revokes a city title: only the bureau of the city that conferred it, with a reason and the
/// decision's document number; once (409 the second time). Calling it is the confirmation.
#[utoipa::path(post, path = "/api/v1/city-titles/{id}/revoke",
    params(("id" = i64, Path, description = "市级称号ID")),
    request_body = RevokeInput,
    responses((status = 200, body = CityDesignationRow), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn revoke_city_title(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CityDesignationId>,
    Json(input): Json<RevokeInput>,
) -> Result<Json<CityDesignationRow>, ApiError> {
    Ok(Json(city::revoke(&app, &ctx.principal, id, &input).await?))
}
