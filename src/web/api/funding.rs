//! JSON API for the funding ledger (第十七条), routes relative to /api/v1: the entries with
//! their totals, one entry, a new entry, a step on it, the year's reward amounts, the workbook.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::funding::{
    self as svc, EntryInput, EntryRow, FundingQuery, Ledger, RewardInput, RewardView, StepInput,
    StepOption, TotalRow,
};
use crate::web::download::funding_download;
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/funding", get(list).post(create))
        .route("/funding.xlsx", get(export))
        .route("/funding/rewards", get(rewards).put(set_reward))
        .route("/funding/{id}", get(show))
        .route("/funding/{id}/steps", post(step))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, export, create, show, step, rewards, set_reward),
    components(schemas(
        Ledger,
        EntryRow,
        TotalRow,
        StepOption,
        EntryInput,
        StepInput,
        RewardInput,
        RewardView
    ))
)]
pub struct Doc;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The ledger in the caller's scope (the province all, a city its city, a cluster its own),
/// filtered, with totals per cluster, city, fund and year (amounts in 分).
#[utoipa::path(get, path = "/api/v1/funding", params(FundingQuery),
    responses((status = 200, body = Ledger), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<FundingQuery>,
) -> ApiResult<Ledger> {
    Ok(Json(svc::ledger(&app, &ctx.principal, &q.parse()?).await?))
}

/// The same ledger as an Excel workbook (amounts as numbers of 元).
#[utoipa::path(get, path = "/api/v1/funding.xlsx", params(FundingQuery),
    responses(
        (status = 200, description = "资金台账（.xlsx）",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<FundingQuery>,
) -> Result<Response, ApiError> {
    let bytes = svc::export(&app, &ctx.principal, &q.parse()?).await?;
    Ok(funding_download(bytes))
}

/// Records an item of support (拟安排): a reward (amount and fund default to the year's reward)
/// or project support from a fund the policy names. Amounts are typed in 万元 or 元 with at most
/// two decimals.
#[utoipa::path(post, path = "/api/v1/funding", request_body = EntryInput,
    responses((status = 200, body = EntryRow), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(input): Json<EntryInput>,
) -> ApiResult<EntryRow> {
    Ok(Json(svc::create(&app, &ctx.principal, &input).await?))
}

#[utoipa::path(get, path = "/api/v1/funding/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = EntryRow), (status = 404, body = ErrorBody)))]
async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
) -> ApiResult<EntryRow> {
    Ok(Json(svc::get(&app, &ctx.principal, id).await?))
}

/// 下达, 拨付, 收回 or 取消 an entry (the province).
#[utoipa::path(post, path = "/api/v1/funding/{id}/steps", params(("id" = i64, Path)), request_body = StepInput,
    responses((status = 200, body = EntryRow), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
    Json(input): Json<StepInput>,
) -> ApiResult<EntryRow> {
    Ok(Json(svc::step(&app, &ctx.principal, id, &input).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RewardYear {
    /// 年度，默认今年
    year: Option<String>,
}

/// The reward for a new 培育对象 and a new 认定 in a year: the province's setting, else the
/// policy's default.
#[utoipa::path(get, path = "/api/v1/funding/rewards", params(RewardYear),
    responses((status = 200, body = [RewardView]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rewards(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<RewardYear>,
) -> ApiResult<Vec<RewardView>> {
    let year = crate::services::recheck::parse_year(
        q.year.as_deref(),
        crate::services::calendar::today(&app).year(),
    )?;
    Ok(Json(svc::rewards(&app, &ctx.principal, year).await?))
}

/// Sets a year's reward for a title (the province); audited.
#[utoipa::path(put, path = "/api/v1/funding/rewards", request_body = RewardInput,
    responses((status = 200, body = [RewardView]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_reward(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(input): Json<RewardInput>,
) -> ApiResult<Vec<RewardView>> {
    Ok(Json(svc::set_reward(&app, &ctx.principal, &input).await?))
}
