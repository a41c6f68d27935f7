//! JSON API for expert scoring, the province's progress, defence scores, the ranking and the
//! proposed list, and the Excel exports (routes relative to /api/v1). Same services and rules as
//! the pages.

use crate::store::id::{AssignmentId, RoundId, ScoreSheetId};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::ranking::{
    self, DefenceMark, ExpertTotal, KindRanking, ProposeInput, RankRow, RankingView, TieMember,
    TieView,
};
use crate::services::scoring::{
    self, AssignmentRow, CriterionSheet, DefenceCell, DefenceInput, DefenceRow, DefenceView,
    EntrantProgress, ExpertProgress, IndicatorValue, ProgressView, SheetInput, SheetStatus,
    SheetView,
};
use crate::web::download::xlsx_download;
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/scoring", get(my_assignments))
        .route("/scoring/{assignment_id}", get(sheet).put(save))
        .route("/scoring/{assignment_id}/submit", post(submit))
        .route("/score-sheets/{id}/reopen", post(reopen))
        .route("/rounds/{id}/progress", get(progress))
        .route("/rounds/{id}/defence", get(defence).put(record_defence))
        .route("/rounds/{id}/ranking", get(ranking))
        .route("/rounds/{id}/propose", post(propose))
        .route("/rounds/{id}/scores.xlsx", get(scores_xlsx))
        .route("/rounds/{id}/ranking.xlsx", get(ranking_xlsx))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        my_assignments,
        sheet,
        save,
        submit,
        reopen,
        progress,
        defence,
        record_defence,
        ranking,
        propose,
        scores_xlsx,
        ranking_xlsx
    ),
    components(schemas(
        AssignmentRow,
        SheetView,
        CriterionSheet,
        IndicatorValue,
        SheetInput,
        ReopenInput,
        ReopenedSheet,
        ProgressView,
        ExpertProgress,
        EntrantProgress,
        SheetStatus,
        DefenceInput,
        DefenceView,
        DefenceRow,
        DefenceCell,
        RankingView,
        KindRanking,
        RankRow,
        ExpertTotal,
        DefenceMark,
        TieView,
        TieMember,
        ProposeInput
    ))
)]
pub struct Doc;

/// The signed-in expert's assignments across rounds (status 未开始/草稿/已提交 and the window).
#[utoipa::path(get, path = "/api/v1/scoring",
    responses((status = 200, body = [AssignmentRow]), (status = 403, body = ErrorBody)))]
async fn my_assignments(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<AssignmentRow>> {
    Ok(Json(scoring::my_assignments(&app, &ctx.principal).await?))
}

/// One of the expert's own assignments: the application to judge and the expert's sheet.
/// Anyone else's assignment is 404.
#[utoipa::path(get, path = "/api/v1/scoring/{assignment_id}", params(("assignment_id" = i64, Path)),
    responses((status = 200, body = SheetView), (status = 404, body = ErrorBody)))]
async fn sheet(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
) -> ApiResult<SheetView> {
    Ok(Json(scoring::sheet(&app, &ctx.principal, id).await?))
}

/// Saves a draft (scores may be partial; each must be within its criterion's maximum). Field
/// errors name `scores.<criterion key>`; outside the window or once submitted: 409.
#[utoipa::path(put, path = "/api/v1/scoring/{assignment_id}", params(("assignment_id" = i64, Path)),
    request_body = SheetInput,
    responses((status = 200, body = SheetView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn save(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
    Json(body): Json<SheetInput>,
) -> ApiResult<SheetView> {
    Ok(Json(
        scoring::save(&app, &ctx.principal, id, Some(&body), false).await?,
    ))
}

/// Submits the sheet: every criterion scored and a comment (评审意见). With a body, these
/// scores are saved and submitted together; without one, the stored draft is submitted. A
/// submitted sheet is locked.
#[utoipa::path(post, path = "/api/v1/scoring/{assignment_id}/submit", params(("assignment_id" = i64, Path)),
    request_body(content = Option<SheetInput>),
    responses((status = 200, body = SheetView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn submit(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
    body: Option<Json<SheetInput>>,
) -> ApiResult<SheetView> {
    let input = body.map(|Json(b)| b);
    Ok(Json(
        scoring::save(&app, &ctx.principal, id, input.as_ref(), true).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReopenInput {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReopenedSheet {
    #[schema(value_type = i64)]
    pub id: ScoreSheetId,
    #[schema(value_type = i64)]
    pub assignment_id: AssignmentId,
    /// "draft" after reopening.
    pub status: String,
    pub reopened_reason: String,
    pub version: i32,
}

/// Sends a submitted sheet back to its expert as a draft (province, round in scoring; reason
/// required). The expert is notified.
#[utoipa::path(post, path = "/api/v1/score-sheets/{id}/reopen", params(("id" = i64, Path)),
    request_body = ReopenInput,
    responses((status = 200, body = ReopenedSheet), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn reopen(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ScoreSheetId>,
    Json(body): Json<ReopenInput>,
) -> ApiResult<ReopenedSheet> {
    let s = scoring::reopen(&app, &ctx.principal, id, &body.reason).await?;
    Ok(Json(ReopenedSheet {
        id: s.id,
        assignment_id: s.assignment_id,
        status: s.status.key().to_string(),
        reopened_reason: s.reopened_reason,
        version: s.version,
    }))
}

/// Per expert and per entrant: assigned, submitted, missing (province).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/progress", params(("id" = i64, Path)),
    responses((status = 200, body = ProgressView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn progress(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> ApiResult<ProgressView> {
    Ok(Json(scoring::progress(&app, &ctx.principal, id).await?))
}

/// The defence grid: each entrant with its assigned experts' defence scores (province).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/defence", params(("id" = i64, Path)),
    responses((status = 200, body = DefenceView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn defence(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> ApiResult<DefenceView> {
    Ok(Json(scoring::defence(&app, &ctx.principal, id).await?))
}

/// Records one defence score, on the policy's total scale (0 to 100 under the shipped policy),
/// for an expert assigned to the entrant; a new value replaces the old (province).
#[utoipa::path(put, path = "/api/v1/rounds/{id}/defence", params(("id" = i64, Path)),
    request_body = DefenceInput,
    responses((status = 200, body = DefenceView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_defence(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Json(body): Json<DefenceInput>,
) -> ApiResult<DefenceView> {
    scoring::record_defence(&app, &ctx.principal, id, std::slice::from_ref(&body)).await?;
    Ok(Json(scoring::defence(&app, &ctx.principal, id).await?))
}

/// The ranking per cluster kind with every number's working, the cut line, ties at the cut and
/// the per-county cap (province; partner departments read it). Every entrant without a filter;
/// with `kind`, `q` or `page`, the matching entrants, one page of 50 per kind (`matched` counts
/// them all).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/ranking", params(("id" = i64, Path), ranking::RankingQuery),
    responses((status = 200, body = RankingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn ranking(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(query): Query<ranking::RankingQuery>,
) -> ApiResult<RankingView> {
    let mut v = ranking::ranking(&app, &ctx.principal, id).await?;
    if query.kind.is_some() || query.q.is_some() || query.page.is_some() {
        v.narrow(&query);
    }
    Ok(Json(v))
}

/// Fixes the proposed list (province): refused (409) while sheets or defence scores are
/// missing; ties at the cut need `chosen` and a `reason`; a county over the cap needs a `reason`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/propose", params(("id" = i64, Path)),
    request_body = ProposeInput,
    responses((status = 200, body = RankingView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn propose(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Json(body): Json<ProposeInput>,
) -> ApiResult<RankingView> {
    Ok(Json(
        ranking::propose(&app, &ctx.principal, id, &body).await?,
    ))
}

/// Every score sheet of the round as Excel (the province, or the city bureau organising the round's
/// competition; audited).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/scores.xlsx", params(("id" = i64, Path)),
    responses(
        (status = 200, description = "评分表（.xlsx）",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn scores_xlsx(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> Result<Response, ApiError> {
    let (bytes, name) = ranking::scores_xlsx(&app, &ctx.principal, id).await?;
    Ok(xlsx_download(bytes, &name, &format!("scores-{id}.xlsx")))
}

/// The ranking of the round as Excel (the province, or the city bureau organising the round's
/// competition; audited).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/ranking.xlsx", params(("id" = i64, Path)),
    responses(
        (status = 200, description = "评审排名（.xlsx）",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn ranking_xlsx(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> Result<Response, ApiError> {
    let (bytes, name) = ranking::ranking_xlsx(&app, &ctx.principal, id).await?;
    Ok(xlsx_download(bytes, &name, &format!("ranking-{id}.xlsx")))
}
