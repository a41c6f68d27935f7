//! JSON API: 复核 (第十四条) as a proceeding (routes relative to /api/v1). The clusters due in a
//! year; the province's call; each cluster's recheck with its materials, the city's opinion, the
//! panel's decision and the conclusion; the public result notice with its objections and the
//! province's handling of them. Evidence goes through
//! `/attachments` with `owner_type=recheck`, `owner_id` the recheck id and `purpose=evidence`,
//! while the materials may still be saved.

use std::net::SocketAddr;

use crate::store::id::{RecheckCallId, RecheckId, RecheckObjectionId};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State,
};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::notices::{ReplyInput, drain, is_multipart, refusal};
use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::notices::{self as notice_rules, ObjectionRulesView};
use crate::services::recheck::{
    self, CallInput, CallView, DueRow, MaterialsInput, NoticeRow, PanelMember,
    RecheckDecidedObjection, RecheckIndicatorField, RecheckNotice, RecheckObjectionInput,
    RecheckObjectionReceipt, RecheckObjectionView, RecheckOpinionInput, RecheckView, ReviewInput,
};
use crate::web::forms::read_objection;
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/rechecks/due", get(due))
        .route("/recheck-calls", get(list_calls).post(issue_call))
        .route("/recheck-calls/{id}/notice", post(publish_notice))
        .route("/recheck-notices/{id}", get(public_notice))
        .route("/rechecks", get(list_rechecks))
        .route("/rechecks/{id}", get(get_recheck))
        .route("/rechecks/{id}/materials", put(save_materials))
        .route("/rechecks/{id}/opinion", post(opine))
        .route("/rechecks/{id}/review", post(review))
        .route("/rechecks/{id}/conclude", post(conclude))
        .route("/rechecks/{id}/objections", get(list_objections))
        .route(
            "/recheck-notices/{id}/objections/{objection_id}",
            get(objection_receipt),
        )
        .route("/recheck-objections/{id}/{step}", post(decide_objection))
        .merge(
            Router::new()
                .route("/recheck-notices/{id}/objections", post(file_objection))
                .layer(DefaultBodyLimit::max(
                    notice_rules::objection_request_limit(),
                )),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        due,
        list_calls,
        issue_call,
        publish_notice,
        public_notice,
        list_rechecks,
        get_recheck,
        save_materials,
        opine,
        review,
        conclude,
        file_objection,
        objection_receipt,
        list_objections,
        decide_objection
    ),
    components(schemas(
        DueRow,
        CallInput,
        CallView,
        MaterialsInput,
        RecheckOpinionInput,
        ReviewInput,
        RecheckView,
        RecheckIndicatorField,
        PanelMember,
        RecheckNotice,
        NoticeRow,
        RecheckObjectionInput,
        RecheckObjectionReceipt,
        RecheckObjectionView,
        RecheckDecidedObjection,
        ObjectionRulesView
    ))
)]
pub struct Doc;

#[derive(Deserialize)]
struct YearQuery {
    year: Option<String>,
}

/// Every cluster whose live title falls due for 复核 in `year` (default: this year), with the
/// due date, in the caller's scope (a city its clusters, a cluster its own). The cycle counts
/// from the designation or from the last passed recheck.
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

/// The 复核 calls, newest year first.
#[utoipa::path(get, path = "/api/v1/recheck-calls",
    responses((status = 200, body = [CallView]), (status = 403, body = ErrorBody)))]
async fn list_calls(State(app): State<Shared>, Authed(ctx): Authed) -> ApiResult<Vec<CallView>> {
    Ok(Json(recheck::calls(&app, &ctx.principal).await?))
}

/// Issues the 复核 call for a year (province): requirements and a deadline (a working day);
/// every cluster due that year gets a recheck to answer, and it and its city are told.
#[utoipa::path(post, path = "/api/v1/recheck-calls", request_body = CallInput,
    responses((status = 200, body = CallView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn issue_call(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(input): Json<CallInput>,
) -> ApiResult<CallView> {
    Ok(Json(
        recheck::issue_call(&app, &ctx.principal, &input).await?,
    ))
}

/// Publishes a call's result list (province) for the policy's working-day notice.
#[utoipa::path(post, path = "/api/v1/recheck-calls/{id}/notice",
    params(("id" = i64, Path, description = "复核通知编号")),
    responses((status = 200, body = CallView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn publish_notice(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckCallId>,
) -> ApiResult<CallView> {
    Ok(Json(
        recheck::publish_notice(&app, &ctx.principal, id).await?,
    ))
}

/// The public notice of a call's 复核 results (no sign-in), once published.
#[utoipa::path(get, path = "/api/v1/recheck-notices/{id}",
    params(("id" = i64, Path, description = "复核通知编号")),
    responses((status = 200, body = RecheckNotice), (status = 404, body = ErrorBody)))]
async fn public_notice(
    State(app): State<Shared>,
    Path(id): Path<RecheckCallId>,
) -> ApiResult<RecheckNotice> {
    Ok(Json(recheck::public_notice(&app, id).await?))
}

/// The rechecks in the caller's scope (the province all, a city its clusters', a cluster its own).
#[utoipa::path(get, path = "/api/v1/rechecks",
    responses((status = 200, body = [RecheckView]), (status = 403, body = ErrorBody)))]
async fn list_rechecks(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<RecheckView>> {
    Ok(Json(recheck::list(&app, &ctx.principal).await?))
}

/// One recheck with its evidence files.
#[utoipa::path(get, path = "/api/v1/rechecks/{id}",
    params(("id" = i64, Path, description = "复核编号")),
    responses((status = 200, body = RecheckView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_recheck(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
) -> ApiResult<RecheckView> {
    Ok(Json(recheck::get(&app, &ctx.principal, id).await?))
}

/// Saves the cluster's materials (its promotion organisation, by the deadline); with
/// `submit: true` checks them complete and sends them to its city bureau.
#[utoipa::path(put, path = "/api/v1/rechecks/{id}/materials", request_body = MaterialsInput,
    params(("id" = i64, Path, description = "复核编号")),
    responses((status = 200, body = RecheckView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_materials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
    Json(input): Json<MaterialsInput>,
) -> ApiResult<RecheckView> {
    Ok(Json(
        recheck::save_materials(&app, &ctx.principal, id, &input).await?,
    ))
}

/// The city bureau's written opinion on a submitted recheck.
#[utoipa::path(post, path = "/api/v1/rechecks/{id}/opinion", request_body = RecheckOpinionInput,
    params(("id" = i64, Path, description = "复核编号")),
    responses((status = 200, body = RecheckView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn opine(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
    Json(input): Json<RecheckOpinionInput>,
) -> ApiResult<RecheckView> {
    Ok(Json(
        recheck::opine(&app, &ctx.principal, id, &input).await?,
    ))
}

/// The panel's documented decision (province): experts free of conflicts with the whole
/// cluster, a score against the policy's pass mark, reasons.
#[utoipa::path(post, path = "/api/v1/rechecks/{id}/review", request_body = ReviewInput,
    params(("id" = i64, Path, description = "复核编号")),
    responses((status = 200, body = RecheckView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
    Json(input): Json<ReviewInput>,
) -> ApiResult<RecheckView> {
    Ok(Json(
        recheck::review(&app, &ctx.principal, id, &input).await?,
    ))
}

/// Concludes a recheck (province): after the result notice, 通过 records the next due date and
/// 不通过 opens a revocation case; after the deadline with nothing submitted, opens a case.
#[utoipa::path(post, path = "/api/v1/rechecks/{id}/conclude",
    params(("id" = i64, Path, description = "复核编号")),
    responses((status = 200, body = RecheckView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn conclude(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
) -> ApiResult<RecheckView> {
    Ok(Json(recheck::conclude(&app, &ctx.principal, id).await?))
}

/// Files a named objection to one result of a 复核 result notice, within its window. Public.
/// JSON (`RecheckObjectionInput`) or multipart/form-data with the same fields and an optional
/// `file` (PDF, JPEG or PNG). Outside the window 409; field problems 422; more than the hourly
/// limit from one address (objections of every notice counted together) 429.
#[utoipa::path(post, path = "/api/v1/recheck-notices/{id}/objections",
    params(("id" = i64, Path, description = "复核通知编号")),
    request_body = RecheckObjectionInput,
    responses((status = 200, body = RecheckObjectionReceipt), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn file_objection(
    State(app): State<Shared>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(id): Path<RecheckCallId>,
    req: Request,
) -> Response {
    let client_addr =
        crate::web::client_ip(&app.config.trusted_proxies, Some(addr.ip()), req.headers());
    if is_multipart(&req) {
        let Ok(mut multipart) = Multipart::from_request(req, &app).await else {
            return ApiError(AppError::invalid(
                "body",
                "multipart/form-data 请求体格式有误",
            ))
            .into_response();
        };
        if let Err(e) = recheck::precheck_objection(&app, id, &client_addr).await {
            drain(&mut multipart).await;
            return refusal(e);
        }
        let (form, evidence) = read_objection(&app, &mut multipart, true).await;
        let evidence = match evidence {
            Ok(e) => e,
            Err(e) => return ApiError(e).into_response(),
        };
        return match recheck::file_objection(
            &app,
            id,
            &client_addr,
            &form.recheck_input(),
            evidence,
        )
        .await
        {
            Ok(r) => Json(r).into_response(),
            Err(e) => refusal(e),
        };
    }
    let body = match Json::<RecheckObjectionInput>::from_request(req, &app).await {
        Ok(Json(b)) => b,
        Err(e) => {
            return ApiError(AppError::invalid(
                "body",
                format!("请求体须为JSON格式的异议内容：{}", e.body_text()),
            ))
            .into_response();
        }
    };
    match recheck::file_objection(&app, id, &client_addr, &body, None).await {
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
#[utoipa::path(get, path = "/api/v1/recheck-notices/{id}/objections/{objection_id}",
    params(("id" = i64, Path, description = "复核通知编号"), ("objection_id" = i64, Path), ("key" = String, Query)),
    responses((status = 200, body = RecheckObjectionReceipt), (status = 404, body = ErrorBody)))]
async fn objection_receipt(
    State(app): State<Shared>,
    Path((id, objection_id)): Path<(RecheckCallId, RecheckObjectionId)>,
    Query(q): Query<ReceiptQuery>,
) -> ApiResult<RecheckObjectionReceipt> {
    Ok(Json(
        recheck::objection_receipt(&app, id, objection_id, &q.key).await?,
    ))
}

/// The objections to one recheck's noticed result, with the objectors' details (province).
#[utoipa::path(get, path = "/api/v1/rechecks/{id}/objections", params(("id" = i64, Path)),
    responses((status = 200, body = [RecheckObjectionView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_objections(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
) -> ApiResult<Vec<RecheckObjectionView>> {
    Ok(Json(
        recheck::objections_of(&app, &ctx.principal, id).await?,
    ))
}

/// Handles an objection (province): `register` (登记调查), `dismiss` (异议不成立) or `uphold`
/// (异议成立: the noticed result is reversed), with a written reply.
#[utoipa::path(post, path = "/api/v1/recheck-objections/{id}/{step}",
    params(("id" = i64, Path), ("step" = String, Path, description = "register | dismiss | uphold")),
    request_body = ReplyInput,
    responses((status = 200, body = RecheckObjectionView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_objection(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((id, step)): Path<(RecheckObjectionId, String)>,
    Json(body): Json<ReplyInput>,
) -> ApiResult<RecheckObjectionView> {
    let step = notice_rules::step_from_key(&step).ok_or(AppError::NotFound)?;
    Ok(Json(
        recheck::decide_objection(&app, &ctx.principal, id, step, &body.reply, body.version)
            .await?,
    ))
}
