//! JSON API for development reports (第十三条): the obligations, the report itself, and every
//! step — save, submit, the city bureau's opinion, the province's acceptance or return. Files are
//! attached through `/api/v1/attachments` with `owner_type=report`.

use crate::store::id::{ClusterId, ReportId};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiqun_domain::report::Step;
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::reports::{
    self as svc, ChangeView, Decision, FieldView, FlagView, ObligationRow, ReportEventView,
    ReportFields, ReportRow, ReportView,
};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/reports", get(list).post(start))
        .route("/reports/obligations", get(obligations))
        .route("/reports/{id}", get(show).put(save))
        .route("/reports/{id}/submit", post(submit))
        .route("/reports/{id}/forward", post(forward))
        .route("/reports/{id}/return", post(return_it))
        .route("/reports/{id}/accept", post(accept))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        obligations,
        list,
        start,
        show,
        save,
        submit,
        forward,
        return_it,
        accept
    ),
    components(schemas(
        ObligationRow,
        ReportRow,
        ReportView,
        ReportFields,
        FieldView,
        ReportEventView,
        ChangeView,
        FlagView,
        StartReport,
        SaveReport,
        ReportVersion,
        OpinionRequest,
        ReportCommentRequest
    ))
)]
pub struct Doc;

type ApiResult<T> = Result<Json<T>, ApiError>;

#[utoipa::path(get, path = "/api/v1/reports/obligations",
    responses((status = 200, description = "每个持有称号的集群应报送的报告，含截止日期和状态", body = [ObligationRow])))]
async fn obligations(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<ObligationRow>> {
    Ok(Json(svc::obligations(&app, &ctx.principal).await?))
}

/// One page of the reports in the caller's scope, newest period first: filters `year`, `city`,
/// `kind` (annual | semi_annual), `status`; sort by `year`, `submitted`, `status`, `city`, `id`.
#[utoipa::path(get, path = "/api/v1/reports",
    params(super::paging::ListQuery, ("kind" = Option<String>, Query, description = "报告类型")),
    responses((status = 200, body = [ReportRow],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 422, body = super::ErrorBody)))]
async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> super::paging::PagedResult<ReportRow> {
    use crate::services::report_list as list;
    let params = crate::services::listing::ListParams::parse(&list::API, &pairs)?;
    let (rows, total) = list::page(&app, &ctx.principal, &params).await?;
    Ok(super::paging::Paged::new(&list::API, &params, rows, total))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StartReport {
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    /// The programme (an obligation's `policy_id`): empty or absent for the provincial one.
    #[serde(default)]
    pub policy_id: String,
    /// annual | semi_annual
    pub period_kind: String,
    pub period_year: i32,
}

#[utoipa::path(post, path = "/api/v1/reports", request_body = StartReport,
    responses((status = 200, description = "新建（或已有）的报告草稿", body = ReportView), (status = 409, body = ErrorBody)))]
async fn start(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<StartReport>,
) -> ApiResult<ReportView> {
    Ok(Json(
        svc::start(
            &app,
            &ctx.principal,
            body.cluster_id,
            &body.policy_id,
            &body.period_kind,
            body.period_year,
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/reports/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 404, body = ErrorBody)))]
async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
) -> ApiResult<ReportView> {
    Ok(Json(svc::get(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SaveReport {
    pub fields: ReportFields,
    pub version: i32,
}

#[utoipa::path(put, path = "/api/v1/reports/{id}", params(("id" = i64, Path)), request_body = SaveReport,
    responses((status = 200, description = "已保存；填写有误的项在 form[].problem 中说明", body = ReportView), (status = 409, body = ErrorBody)))]
async fn save(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Json(body): Json<SaveReport>,
) -> ApiResult<ReportView> {
    Ok(Json(
        svc::save(&app, &ctx.principal, id, body.fields.into(), body.version).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReportVersion {
    pub version: i32,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/submit", params(("id" = i64, Path)), request_body = ReportVersion,
    responses((status = 200, body = ReportView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn submit(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Json(body): Json<ReportVersion>,
) -> ApiResult<ReportView> {
    Ok(Json(
        svc::submit(&app, &ctx.principal, id, body.version).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct OpinionRequest {
    /// 市州工信局意见 (required).
    pub opinion: String,
    pub version: i32,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/forward", params(("id" = i64, Path)), request_body = OpinionRequest,
    responses((status = 200, body = ReportView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn forward(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Json(body): Json<OpinionRequest>,
) -> ApiResult<ReportView> {
    let d = Decision {
        step: Step::Forward,
        text: &body.opinion,
        expected_version: body.version,
    };
    Ok(Json(svc::decide(&app, &ctx.principal, id, d).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReportCommentRequest {
    /// 审核意见: required to return, optional to accept.
    #[serde(default)]
    pub comment: String,
    pub version: i32,
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/return", params(("id" = i64, Path)), request_body = ReportCommentRequest,
    responses((status = 200, body = ReportView), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn return_it(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Json(body): Json<ReportCommentRequest>,
) -> ApiResult<ReportView> {
    let d = Decision {
        step: Step::Return,
        text: &body.comment,
        expected_version: body.version,
    };
    Ok(Json(svc::decide(&app, &ctx.principal, id, d).await?))
}

#[utoipa::path(post, path = "/api/v1/reports/{id}/accept", params(("id" = i64, Path)), request_body = ReportCommentRequest,
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody)))]
async fn accept(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Json(body): Json<ReportCommentRequest>,
) -> ApiResult<ReportView> {
    let d = Decision {
        step: Step::Accept,
        text: &body.comment,
        expected_version: body.version,
    };
    Ok(Json(svc::decide(&app, &ctx.principal, id, d).await?))
}
