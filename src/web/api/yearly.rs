//! JSON API: the yearly 集中公告 and the 授牌 (第十二条) — the published announcements (public),
//! publishing a year's (province), and recording a designation's plaque (province). Routes
//! relative to /api/v1.

use crate::store::id::DesignationId;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::announcements::{
    self as svc, FrozenRow, PlaqueInput, PlaqueRow, YearlyAnnouncement, YearlyPublishInput,
    YearlySummary,
};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/announcements/yearly", get(list_yearly_announcements))
        .route("/announcements/yearly/{year}", get(get_yearly_announcement))
        .route("/yearly-announcements", post(publish_yearly_announcement))
        .route("/certificates/{id}/plaque", post(record_plaque))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_yearly_announcements,
        get_yearly_announcement,
        publish_yearly_announcement,
        record_plaque
    ),
    components(schemas(
        YearlySummary,
        YearlyAnnouncement,
        FrozenRow,
        YearlyPublishInput,
        PlaqueInput,
        PlaqueRow
    ))
)]
pub struct Doc;

/// The published yearly 集中公告, newest year first. Public.
#[utoipa::path(get, path = "/api/v1/announcements/yearly",
    responses((status = 200, body = [YearlySummary])))]
async fn list_yearly_announcements(State(app): State<Shared>) -> ApiResult<Vec<YearlySummary>> {
    Ok(Json(svc::list(&app).await?))
}

/// A year's 集中公告 exactly as published (frozen). Public.
#[utoipa::path(get, path = "/api/v1/announcements/yearly/{year}", params(("year" = i32, Path)),
    responses((status = 200, body = YearlyAnnouncement), (status = 404, body = ErrorBody)))]
async fn get_yearly_announcement(
    State(app): State<Shared>,
    Path(year): Path<String>,
) -> ApiResult<YearlyAnnouncement> {
    let year = year.parse().map_err(|_| AppError::NotFound)?;
    Ok(Json(svc::get(&app, year).await?))
}

/// Compiles the year's designations (培育对象 and 认定, not revoked) into the year's 集中公告 and
/// publishes it, frozen (province); once per year.
#[utoipa::path(post, path = "/api/v1/yearly-announcements", request_body = YearlyPublishInput,
    responses((status = 200, body = YearlyAnnouncement), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn publish_yearly_announcement(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<YearlyPublishInput>,
) -> ApiResult<YearlyAnnouncement> {
    Ok(Json(svc::publish(&app, &ctx.principal, &body).await?))
}

/// Records the 授牌 of a designation: the day and the plaque number (province); once.
#[utoipa::path(post, path = "/api/v1/certificates/{id}/plaque", params(("id" = i64, Path)), request_body = PlaqueInput,
    responses((status = 200, body = PlaqueRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_plaque(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<DesignationId>,
    Json(body): Json<PlaqueInput>,
) -> ApiResult<PlaqueRow> {
    Ok(Json(
        svc::record_plaque(&app, &ctx.principal, id, &body).await?,
    ))
}
