//! JSON API: 复核 (第十四条), the clusters due in a year (routes relative to /api/v1).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::recheck::{self, DueRow};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/rechecks/due", get(due))
}

#[derive(OpenApi)]
#[openapi(paths(due), components(schemas(DueRow)))]
pub struct Doc;

#[derive(Deserialize)]
struct YearQuery {
    year: Option<String>,
}

/// Every cluster whose live title falls due for 复核 in `year` (default: this year), with the
/// due date, in the caller's scope (a city its clusters, a cluster its own).
#[utoipa::path(get, path = "/api/v1/rechecks/due",
    params(("year" = Option<i32>, Query, description = "年份，默认今年")),
    responses((status = 200, body = [DueRow]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn due(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<YearQuery>,
) -> Result<Json<Vec<DueRow>>, ApiError> {
    let year = recheck::parse_year(
        q.year.as_deref(),
        crate::services::calendar::today(&app).year(),
    )?;
    Ok(Json(recheck::due(&app, &ctx.principal, year).await?))
}
