//! JSON API: public notices and objections, the province's handling of them, confirmation,
//! designations and certificates, and the annual announcements (routes relative to /api/v1).
//!
//! The public routes need no token. `POST /notices/{round_id}/objections` takes either JSON
//! (no evidence) or `multipart/form-data` with the same fields and an optional `file` (PDF,
//! JPEG or PNG), under the same rules as the public page, including the per-address limit
//! (429 `rate_limited`).

use crate::store::id::{DesignationId, ObjectionId, RoundId};
use std::net::SocketAddr;

use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State,
};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiqun_domain::round::ObjectionStep;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody, ErrorDetail};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::designations::{
    self, Announcement, AnnouncementRow, AnnouncementSummary, CertificateRow,
};
use crate::services::notices::{
    self, ConfirmInput, ConfirmOutcome, DecidedObjection, EvidenceView, FileError, NoticeSummary,
    ObjectionInput, ObjectionReceipt, ObjectionRulesView, ObjectionView, PublicEntry, PublicNotice,
    PublishInput, RoundNotice,
};
use crate::web::forms::read_objection;
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    let filing = Router::new()
        .route("/notices/{round_id}/objections", post(file_objection))
        .layer(DefaultBodyLimit::max(notices::objection_request_limit()));
    Router::new()
        .route("/notices", get(list_notices))
        .route("/notices/{round_id}", get(get_notice))
        .route("/notices/{round_id}/objections/{id}", get(get_receipt))
        .route("/rounds/{id}/notice", get(round_notice).post(publish))
        .route("/rounds/{id}/objections", get(list_objections))
        .route("/rounds/{id}/confirm", post(confirm))
        .route("/objections/{id}/register", post(register))
        .route("/objections/{id}/dismiss", post(dismiss))
        .route("/objections/{id}/uphold", post(uphold))
        .route("/certificates", get(list_certificates))
        .route("/certificates/{id}", get(get_certificate))
        .route("/announcements", get(list_announcements))
        .route("/announcements/{round_id}", get(get_announcement))
        .merge(filing)
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_notices,
        get_notice,
        file_objection,
        get_receipt,
        round_notice,
        publish,
        list_objections,
        register,
        dismiss,
        uphold,
        confirm,
        list_certificates,
        get_certificate,
        list_announcements,
        get_announcement
    ),
    components(schemas(
        NoticeSummary,
        PublicNotice,
        PublicEntry,
        DecidedObjection,
        ObjectionRulesView,
        ObjectionInput,
        ObjectionReceipt,
        PublishInput,
        RoundNotice,
        ObjectionView,
        EvidenceView,
        ReplyInput,
        ConfirmInput,
        ConfirmOutcome,
        CertificateRow,
        crate::services::city_designations::CityDesignationRow,
        AnnouncementSummary,
        Announcement,
        AnnouncementRow
    ))
)]
pub struct Doc;

/// Reads and discards what the client is still sending, so it sees the refusal rather than a
/// reset connection; nothing is written anywhere.
pub(super) async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// A refused objection in the API's error format; the rate limit is 429 `rate_limited`.
pub(super) fn refusal(e: FileError) -> Response {
    match e {
        FileError::RateLimited { limit } => {
            let body = ErrorBody {
                error: ErrorDetail {
                    code: "rate_limited".into(),
                    message: notices::rate_limit_message(limit),
                    fields: Vec::new(),
                    request_id: None,
                },
            };
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "3600")],
                Json(body),
            )
                .into_response()
        }
        FileError::App(e) => ApiError(e).into_response(),
    }
}

pub(super) fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// Every published notice, newest first. Public.
#[utoipa::path(get, path = "/api/v1/notices", responses((status = 200, body = [NoticeSummary])))]
async fn list_notices(State(app): State<Shared>) -> ApiResult<Vec<NoticeSummary>> {
    Ok(Json(notices::public_list(&app).await?))
}

/// One notice with its list (no scores) and the decided objections (no personal data). Public.
#[utoipa::path(get, path = "/api/v1/notices/{round_id}", params(("round_id" = i64, Path)),
    responses((status = 200, body = PublicNotice), (status = 404, body = ErrorBody)))]
async fn get_notice(
    State(app): State<Shared>,
    Path(round_id): Path<RoundId>,
) -> ApiResult<PublicNotice> {
    Ok(Json(notices::public_notice(&app, round_id).await?))
}

/// Files a named objection within the notice window. Public. JSON (`ObjectionInput`) or
/// multipart/form-data with the same fields and an optional `file` (PDF, JPEG or PNG). Outside
/// the window 409; field problems 422; more than the hourly limit from one address 429.
#[utoipa::path(post, path = "/api/v1/notices/{round_id}/objections", params(("round_id" = i64, Path)),
    request_body = ObjectionInput,
    responses((status = 200, body = ObjectionReceipt), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn file_objection(
    State(app): State<Shared>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(round_id): Path<RoundId>,
    req: Request,
) -> Response {
    let client_addr =
        crate::web::client_ip(&app.config.trusted_proxies, Some(addr.ip()), req.headers());
    if is_multipart(&req) {
        let mut multipart = match Multipart::from_request(req, &app).await {
            Ok(m) => m,
            Err(_) => {
                return ApiError(AppError::invalid(
                    "body",
                    "multipart/form-data 请求体格式有误",
                ))
                .into_response();
            }
        };
        if let Err(e) = notices::precheck(&app, round_id, &client_addr).await {
            drain(&mut multipart).await;
            return refusal(e);
        }
        let (form, evidence) = read_objection(&app, &mut multipart, true).await;
        let evidence = match evidence {
            Ok(e) => e,
            Err(e) => return ApiError(e).into_response(),
        };
        return match notices::file_objection(&app, round_id, &client_addr, &form.input(), evidence)
            .await
        {
            Ok(r) => Json(r).into_response(),
            Err(e) => refusal(e),
        };
    }
    let body = match Json::<ObjectionInput>::from_request(req, &app).await {
        Ok(Json(b)) => b,
        Err(e) => {
            return ApiError(AppError::invalid(
                "body",
                format!("请求体须为JSON格式的异议内容：{}", e.body_text()),
            ))
            .into_response();
        }
    };
    match notices::file_objection(&app, round_id, &client_addr, &body, None).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => refusal(e),
    }
}

#[derive(Deserialize)]
struct ReceiptQuery {
    #[serde(default)]
    key: String,
}

/// A receipt: its status and, once decided, the reply. Public, with the `key` the filing
/// answer gave; no personal data.
#[utoipa::path(get, path = "/api/v1/notices/{round_id}/objections/{id}",
    params(("round_id" = i64, Path), ("id" = i64, Path), ("key" = String, Query)),
    responses((status = 200, body = ObjectionReceipt), (status = 404, body = ErrorBody)))]
async fn get_receipt(
    State(app): State<Shared>,
    Path((round_id, id)): Path<(RoundId, ObjectionId)>,
    Query(q): Query<ReceiptQuery>,
) -> ApiResult<ObjectionReceipt> {
    Ok(Json(notices::receipt(&app, round_id, id, &q.key).await?))
}

/// The round's notice as the province follows it (province, partner departments).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/notice", params(("id" = i64, Path)),
    responses((status = 200, body = RoundNotice), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn round_notice(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> ApiResult<RoundNotice> {
    Ok(Json(notices::round_notice(&app, &ctx.principal, id).await?))
}

/// Publishes the proposed list (province): the window starts today and lasts the policy's
/// working days.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/notice", params(("id" = i64, Path)), request_body = PublishInput,
    responses((status = 200, body = RoundNotice), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn publish(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Json(body): Json<PublishInput>,
) -> ApiResult<RoundNotice> {
    notices::publish(&app, &ctx.principal, id, &body).await?;
    Ok(Json(notices::round_notice(&app, &ctx.principal, id).await?))
}

/// The objections against a round's notice, with the objectors' details (province).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/objections", params(("id" = i64, Path)),
    responses((status = 200, body = [ObjectionView]), (status = 403, body = ErrorBody)))]
async fn list_objections(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> ApiResult<Vec<ObjectionView>> {
    Ok(Json(notices::objections(&app, &ctx.principal, id).await?.1))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplyInput {
    /// The written reply (登记说明 when registering).
    #[serde(default)]
    pub reply: String,
    /// The objection version the province saw; a stale one is refused with 409.
    #[serde(default)]
    pub version: Option<i32>,
}

async fn step(
    app: &App,
    ctx: &crate::web::principal::SessionCtx,
    id: ObjectionId,
    step: ObjectionStep,
    body: &ReplyInput,
) -> ApiResult<ObjectionView> {
    Ok(Json(
        notices::decide(app, &ctx.principal, id, step, &body.reply, body.version).await?,
    ))
}

/// 登记调查: registers an objection for investigation (province).
#[utoipa::path(post, path = "/api/v1/objections/{id}/register", params(("id" = i64, Path)), request_body = ReplyInput,
    responses((status = 200, body = ObjectionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ObjectionId>,
    Json(body): Json<ReplyInput>,
) -> ApiResult<ObjectionView> {
    step(&app, &ctx, id, ObjectionStep::Register, &body).await
}

/// 异议不成立 (province).
#[utoipa::path(post, path = "/api/v1/objections/{id}/dismiss", params(("id" = i64, Path)), request_body = ReplyInput,
    responses((status = 200, body = ObjectionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn dismiss(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ObjectionId>,
    Json(body): Json<ReplyInput>,
) -> ApiResult<ObjectionView> {
    step(&app, &ctx, id, ObjectionStep::Dismiss, &body).await
}

/// 异议成立: the candidate is removed from the list (province).
#[utoipa::path(post, path = "/api/v1/objections/{id}/uphold", params(("id" = i64, Path)), request_body = ReplyInput,
    responses((status = 200, body = ObjectionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn uphold(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ObjectionId>,
    Json(body): Json<ReplyInput>,
) -> ApiResult<ObjectionView> {
    step(&app, &ctx, id, ObjectionStep::Uphold, &body).await
}

/// Confirms the list after the window, once every objection is decided (province): the
/// candidates still on notice are designated with numbered certificates.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/confirm", params(("id" = i64, Path)), request_body = ConfirmInput,
    responses((status = 200, body = ConfirmOutcome), (status = 409, body = ErrorBody)))]
async fn confirm(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    body: Option<Json<ConfirmInput>>,
) -> ApiResult<ConfirmOutcome> {
    let input = body.map(|Json(b)| b).unwrap_or_default();
    Ok(Json(
        notices::confirm(&app, &ctx.principal, id, &input).await?,
    ))
}

/// Designations and certificates in the caller's scope (province and partners all, a city
/// bureau its city's, an applicant its own).
/// Paged: filters `year`, `city`, `kind` (cultivation_target | certified), `status` (valid |
/// revoked | superseded); sort by `number` (default), `effective` or `id`.
#[utoipa::path(get, path = "/api/v1/certificates",
    params(super::paging::ListQuery, ("kind" = Option<String>, Query, description = "认定类别")),
    responses((status = 200, body = [CertificateRow],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_certificates(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> super::paging::PagedResult<CertificateRow> {
    use crate::services::certificate_list as list;
    let params = crate::services::listing::ListParams::parse(&list::API, &pairs)?;
    let (rows, total) = list::page(&app, &ctx.principal, &params).await?;
    Ok(super::paging::Paged::new(&list::API, &params, rows, total))
}

/// One designation; the printable page is /certificates/{id}, the PDF /certificates/{id}.pdf.
#[utoipa::path(get, path = "/api/v1/certificates/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CertificateRow), (status = 404, body = ErrorBody)))]
async fn get_certificate(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<DesignationId>,
) -> ApiResult<CertificateRow> {
    Ok(Json(designations::get(&app, &ctx.principal, id).await?))
}

/// The announcements of confirmed rounds, newest first. Public.
#[utoipa::path(get, path = "/api/v1/announcements", responses((status = 200, body = [AnnouncementSummary])))]
async fn list_announcements(State(app): State<Shared>) -> ApiResult<Vec<AnnouncementSummary>> {
    Ok(Json(designations::announcements(&app).await?))
}

/// A confirmed round's announcement with the certificate numbers. Public.
#[utoipa::path(get, path = "/api/v1/announcements/{round_id}", params(("round_id" = i64, Path)),
    responses((status = 200, body = Announcement), (status = 404, body = ErrorBody)))]
async fn get_announcement(
    State(app): State<Shared>,
    Path(round_id): Path<RoundId>,
) -> ApiResult<Announcement> {
    Ok(Json(designations::announcement(&app, round_id).await?))
}
