//! JSON API: the ladder of 第十六条 分级培育 (routes relative to /api/v1) — each cluster's rungs
//! county → city → province → national and its highest title, in the caller's scope.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use utoipa::OpenApi;

use super::ErrorBody;
use crate::app::Shared;
use crate::services::ladder_list::LadderRow;
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/ladder", get(list_ladder))
}

#[derive(OpenApi)]
#[openapi(paths(list_ladder), components(schemas(LadderRow)))]
pub struct Doc;

/// Each cluster with its rungs and highest title: the province every cluster, a city bureau
/// its city's. Paged: filters `city`, `level` (national, province, city, county = no title yet)
/// and `q` (name); sort by `name` or `id`.
#[utoipa::path(get, path = "/api/v1/ladder", params(super::paging::ListQuery),
    responses((status = 200, body = [LadderRow],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_ladder(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> super::paging::PagedResult<LadderRow> {
    use crate::services::ladder_list as list;
    let params = crate::services::listing::ListParams::parse(&list::API, &pairs)?;
    let (rows, total) = list::page(&app, &ctx.principal, &params).await?;
    Ok(super::paging::Paged::new(&list::API, &params, rows, total))
}
