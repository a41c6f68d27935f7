//! The working-day calendar through the API.

use axum::Json;
use axum::extract::{Path, State};
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services;
use crate::web::principal::Authed;

#[derive(OpenApi)]
#[openapi(paths(calendar_day), components(schemas(services::calendar::DayView)))]
pub struct Doc;

/// Whether a date is a working day under the calendar the system uses (built-in years plus
/// imported ones), and why. A year without an imported holiday schedule is refused (422).
#[utoipa::path(get, path = "/api/v1/calendar/{date}", params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = services::calendar::DayView), (status = 422, body = ErrorBody)))]
pub(super) async fn calendar_day(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(date): Path<String>,
) -> ApiResult<services::calendar::DayView> {
    Ok(Json(
        services::calendar::day(&app, &ctx.principal, &date).await?,
    ))
}
