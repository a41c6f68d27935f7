//! JSON API: national nominations (第十七条 择优推荐) — the year's list, nominating a certified
//! cluster, recording the national outcome and the dossier ZIP (routes relative to /api/v1).

use crate::store::id::NominationId;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::designations::PdfFailure;
use crate::services::nominations::{self, NominateInput, NominationRow, OutcomeInput};
use crate::web::download::dossier_download;
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/nominations",
            get(list_nominations).post(create_nomination),
        )
        .route("/nominations/{id}", get(get_nomination))
        .route("/nominations/{id}/outcome", post(record_nomination_outcome))
        .route("/nominations/{id}/dossier", get(nomination_dossier))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_nominations,
        create_nomination,
        get_nomination,
        record_nomination_outcome,
        nomination_dossier
    ),
    components(schemas(NominationRow, NominateInput, OutcomeInput))
)]
pub struct Doc;

#[derive(Deserialize)]
struct YearQuery {
    year: Option<String>,
}

/// The nominations of a year (default: this year) in the caller's scope: the province all, a
/// city its clusters, a cluster its own.
#[utoipa::path(get, path = "/api/v1/nominations",
    params(("year" = Option<i32>, Query, description = "年份，默认今年")),
    responses((status = 200, body = [NominationRow]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_nominations(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<YearQuery>,
) -> ApiResult<Vec<NominationRow>> {
    let year = nominations::year_of(&app, q.year.as_deref())?;
    Ok(Json(nominations::list(&app, &ctx.principal, year).await?))
}

/// Nominates a cluster holding a live 认定 title to apply as a national advanced manufacturing
/// cluster for a year (province); once per cluster and year.
#[utoipa::path(post, path = "/api/v1/nominations", request_body = NominateInput,
    responses((status = 200, body = NominationRow), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_nomination(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<NominateInput>,
) -> ApiResult<NominationRow> {
    Ok(Json(
        nominations::nominate(&app, &ctx.principal, &body).await?,
    ))
}

/// One nomination.
#[utoipa::path(get, path = "/api/v1/nominations/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = NominationRow), (status = 404, body = ErrorBody)))]
async fn get_nomination(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NominationId>,
) -> ApiResult<NominationRow> {
    Ok(Json(nominations::get(&app, &ctx.principal, id).await?))
}

/// Records the national outcome (入选 / 未入选) with its date and document number (province);
/// once.
#[utoipa::path(post, path = "/api/v1/nominations/{id}/outcome", params(("id" = i64, Path)), request_body = OutcomeInput,
    responses((status = 200, body = NominationRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_nomination_outcome(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NominationId>,
    Json(body): Json<OutcomeInput>,
) -> ApiResult<NominationRow> {
    Ok(Json(
        nominations::record_outcome(&app, &ctx.principal, id, &body).await?,
    ))
}

/// The nominee's dossier as a ZIP (province): the application as last submitted, the latest
/// development reports, an indicator workbook, the certificates in force and a manifest with
/// each file's SM3 hash.
#[utoipa::path(get, path = "/api/v1/nominations/{id}/dossier", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/zip", description = "推荐材料ZIP"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn nomination_dossier(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NominationId>,
) -> Result<Response, ApiError> {
    match nominations::dossier(&app, &ctx.principal, id).await {
        Ok(d) => Ok(dossier_download(d, id)),
        Err(PdfFailure::Unavailable(message)) => Err(AppError::Conflict(format!(
            "证书PDF暂时无法生成，推荐材料未能导出：{message}"
        ))
        .into()),
        Err(PdfFailure::App(e)) => Err(e.into()),
    }
}
