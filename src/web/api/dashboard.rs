//! JSON API for the dashboards and a cluster's monitoring (第五条, 第十三条, 第十四条), routes
//! relative to /api/v1: the dashboard of the caller's scope, one of its tables as Excel, a
//! cluster's series and flags, a note on a flag.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::dashboard::{self as svc, Cell, Dashboard, DashboardQuery, PeriodView, Table};
use crate::services::monitoring::{self, ClusterMonitoring, MonitorFlag, NoteInput, NoteView};
use crate::store::id::ClusterId;
use crate::web::download::dashboard_download;
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/dashboard", get(show))
        .route("/dashboard.xlsx", get(export))
        .route("/clusters/{id}/monitoring", get(monitoring_of))
        .route("/clusters/{id}/monitoring/notes", post(add_note))
}

#[derive(OpenApi)]
#[openapi(
    paths(show, export, monitoring_of, add_note),
    components(schemas(
        Dashboard,
        Table,
        Cell,
        PeriodView,
        ClusterMonitoring,
        MonitorFlag,
        NoteView,
        NoteInput
    ))
)]
pub struct Doc;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The dashboard: the province all of Hunan, a city bureau its city. Clusters by city, 长株潭,
/// kind, industry and status; the compliance of a period (the latest owed unless `period` is
/// given); totals of the report indicators per period. Every count carries the link of the
/// list behind it.
#[utoipa::path(get, path = "/api/v1/dashboard", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<DashboardQuery>,
) -> ApiResult<Dashboard> {
    Ok(Json(svc::dashboard(&app, &ctx.principal, &q).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// The table's key: by-city, by-area, by-kind, by-industry, by-status, compliance,
    /// compliance-by-city, trend.
    table: String,
    period: Option<String>,
}

/// One table of the dashboard as an Excel workbook (numbers as numbers); audited.
#[utoipa::path(get, path = "/api/v1/dashboard.xlsx", params(ExportQuery),
    responses(
        (status = 200, description = "数据看板表格（.xlsx）",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let (name, bytes) = svc::export(
        &app,
        &ctx.principal,
        &DashboardQuery { period: q.period },
        &q.table,
    )
    .await?;
    Ok(dashboard_download(&name, bytes))
}

/// A cluster's indicator series (application and filed reports) and the flags on its reports,
/// with their notes; for the province and the cluster's city bureau.
#[utoipa::path(get, path = "/api/v1/clusters/{id}/monitoring", params(("id" = i64, Path)),
    responses((status = 200, body = ClusterMonitoring), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn monitoring_of(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
) -> ApiResult<ClusterMonitoring> {
    Ok(Json(
        monitoring::of_cluster(&app, &ctx.principal, ClusterId::new(id)).await?,
    ))
}

/// Adds a note to a flag of one of the cluster's reports (the province or its city bureau);
/// audited.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/monitoring/notes", params(("id" = i64, Path)),
    request_body = NoteInput,
    responses((status = 200, body = NoteView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn add_note(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
    Json(input): Json<NoteInput>,
) -> ApiResult<NoteView> {
    Ok(Json(
        monitoring::add_note(&app, &ctx.principal, ClusterId::new(id), &input).await?,
    ))
}
