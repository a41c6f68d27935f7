//! The province's list of objections across rounds through the JSON API (routes relative to
//! /api/v1), paged like every list: `X-Total-Count`, `X-Page-Count`, `Link`.

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use utoipa::OpenApi;

use super::ErrorBody;
use super::paging::{Paged, PagedResult};
use crate::app::Shared;
use crate::services::listing::ListParams;
use crate::services::objection_list::{self as list, ObjectionListRow};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/objections", get(list_objections))
}

#[derive(OpenApi)]
#[openapi(paths(list_objections), components(schemas(ObjectionListRow)))]
pub struct Doc;

/// Objections across rounds (province), newest first. Paged: filters `year` (the
/// competition's year), `round`, `status`, `objector`; sort by `id`, `filed` or `status`.
#[utoipa::path(get, path = "/api/v1/objections", params(super::paging::ListQuery,
        ("round" = Option<String>, Query, description = "赛段：preliminary（初赛）| final（决赛）"),
        ("objector" = Option<String>, Query, description = "异议人类型：person（个人）| unit（单位）")),
    responses((status = 200, body = [ObjectionListRow],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_objections(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PagedResult<ObjectionListRow> {
    let params = ListParams::parse(&list::API, &pairs)?;
    let (rows, total) = list::page(&app, &ctx.principal, &params).await?;
    Ok(Paged::new(&list::API, &params, rows, total))
}
