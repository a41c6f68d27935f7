//! JSON API: revocation cases (第十四条 按程序撤销) and the published decisions (routes
//! relative to /api/v1). Evidence and statement files go through `/attachments` with
//! `owner_type=revocation_case` (the province, before the 告知书) or `revocation_response`
//! (the cluster, within the statement window), `owner_id` the case id and `purpose=evidence`.

use crate::store::id::RevocationCaseId;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::services::revocation::{
    self, Candidate, CaseView, DecideInput, DecisionDocument, Ground, OpenInput, PublishedDecision,
    RespondInput,
};
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/revocations", get(list_cases).post(open_case))
        .route("/revocations/grounds", get(list_grounds))
        .route("/revocations/candidates", get(list_candidates))
        .route("/revocations/{id}", get(get_case))
        .route("/revocations/{id}/notify", post(notify_case))
        .route("/revocations/{id}/respond", post(respond_case))
        .route("/revocations/{id}/decide", post(decide_case))
        .route("/revocations/{id}/decision", get(get_decision))
        .route("/revocation-decisions", get(list_published))
        .route("/revocation-decisions/{id}", get(get_published))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_cases,
        open_case,
        list_grounds,
        list_candidates,
        get_case,
        notify_case,
        respond_case,
        decide_case,
        get_decision,
        list_published,
        get_published
    ),
    components(schemas(
        CaseView,
        OpenInput,
        RespondInput,
        DecideInput,
        DecisionDocument,
        PublishedDecision,
        Ground,
        Candidate
    ))
)]
pub struct Doc;

/// Revocation cases in the caller's scope, newest first: the province all; a city bureau its
/// clusters' and a cluster its own, once the 告知书 has gone out.
/// Paged: filters `year` (立案年度), `city`, `status`; sort by `id`, `opened` or `status`.
#[utoipa::path(get, path = "/api/v1/revocations", params(super::paging::ListQuery),
    responses((status = 200, body = [CaseView],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_cases(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> super::paging::PagedResult<CaseView> {
    use crate::services::revocation_list as list;
    let params = crate::services::listing::ListParams::parse(&list::API, &pairs)?;
    let (rows, total) = list::page(&app, &ctx.principal, &params).await?;
    Ok(super::paging::Paged::new(&list::API, &params, rows, total))
}

/// Opens a case (province) against a cluster holding a live title, with a ground from the
/// policy's `revocation.reasons` and the facts; attach evidence before sending the 告知书.
#[utoipa::path(post, path = "/api/v1/revocations", request_body = OpenInput,
    responses((status = 200, body = CaseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn open_case(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<OpenInput>,
) -> ApiResult<CaseView> {
    Ok(Json(revocation::open(&app, &ctx.principal, &body).await?))
}

/// The grounds of revocation the policy in force allows.
#[utoipa::path(get, path = "/api/v1/revocations/grounds",
    responses((status = 200, body = [Ground])))]
async fn list_grounds(State(app): State<Shared>, Authed(_ctx): Authed) -> ApiResult<Vec<Ground>> {
    Ok(Json(revocation::grounds(&app)?))
}

/// Clusters holding a live title, which a case may be opened against (province).
#[utoipa::path(get, path = "/api/v1/revocations/candidates",
    responses((status = 200, body = [Candidate]), (status = 403, body = ErrorBody)))]
async fn list_candidates(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<Candidate>> {
    Ok(Json(revocation::candidates(&app, &ctx.principal).await?))
}

/// One case with its evidence, the 告知书, the statement and what the caller may do next.
#[utoipa::path(get, path = "/api/v1/revocations/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
) -> ApiResult<CaseView> {
    Ok(Json(revocation::get(&app, &ctx.principal, id).await?))
}

/// Sends the 告知书 (province): the statement window is set in working days from today, and the
/// cluster's organisation and city bureau are notified in the app and by e-mail.
#[utoipa::path(post, path = "/api/v1/revocations/{id}/notify", params(("id" = i64, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn notify_case(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
) -> ApiResult<CaseView> {
    Ok(Json(revocation::notify(&app, &ctx.principal, id).await?))
}

/// The cluster's written statement (陈述申辩), through the window's last day; once per case.
#[utoipa::path(post, path = "/api/v1/revocations/{id}/respond", params(("id" = i64, Path)), request_body = RespondInput,
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn respond_case(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
    Json(body): Json<RespondInput>,
) -> ApiResult<CaseView> {
    Ok(Json(
        revocation::respond(&app, &ctx.principal, id, &body).await?,
    ))
}

/// Decides the case (province) once the statement is in or the window has passed: `revoke`
/// voids every live title and certificate of the cluster and publishes the 决定书; `keep` ends
/// the case. Either way a numbered 决定书 is issued and frozen.
#[utoipa::path(post, path = "/api/v1/revocations/{id}/decide", params(("id" = i64, Path)), request_body = DecideInput,
    responses((status = 200, body = CaseView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_case(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
    Json(body): Json<DecideInput>,
) -> ApiResult<CaseView> {
    Ok(Json(
        revocation::decide(&app, &ctx.principal, id, &body).await?,
    ))
}

/// The 决定书 of a decided case as issued; the printable page is /revocations/{id}/decision and
/// the PDF /revocations/{id}/decision.pdf.
#[utoipa::path(get, path = "/api/v1/revocations/{id}/decision", params(("id" = i64, Path)),
    responses((status = 200, body = DecisionDocument), (status = 404, body = ErrorBody)))]
async fn get_decision(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
) -> ApiResult<DecisionDocument> {
    Ok(Json(revocation::decision(&app, &ctx.principal, id).await?))
}

/// The published decisions to revoke, newest first. Public.
#[utoipa::path(get, path = "/api/v1/revocation-decisions",
    responses((status = 200, body = [PublishedDecision])))]
async fn list_published(State(app): State<Shared>) -> ApiResult<Vec<PublishedDecision>> {
    Ok(Json(revocation::published(&app).await?))
}

/// One published decision to revoke, as issued. Public.
#[utoipa::path(get, path = "/api/v1/revocation-decisions/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = DecisionDocument), (status = 404, body = ErrorBody)))]
async fn get_published(
    State(app): State<Shared>,
    Path(id): Path<RevocationCaseId>,
) -> ApiResult<DecisionDocument> {
    Ok(Json(revocation::published_one(&app, id).await?))
}
