//! Cluster profiles and their member enterprises through the JSON API (routes relative to
//! /api/v1).
//!
//! Member import (`POST /clusters/{id}/members/import`, multipart field `file`) answers 200 with
//! an [`ImportReport`] when every row was imported. When any row has a problem nothing is
//! imported and the answer is 422 with the usual error body, one entry per problem:
//! `{"field": "rows[5].credit_code", "message": "校验码错误：…"}` — `5` is the row number as
//! Excel shows it, the key after the dot is `name` or `credit_code`. A problem with the file as
//! a whole (not .xlsx, damaged, no header, too many rows) has `"field": "file"`; a file over the
//! size limit is refused with 413 and code `payload_too_large`.

use crate::store::id::{ClusterId, ClusterMemberId};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody, ErrorDetail, FieldErrorSchema};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::clusters::{
    self, ClusterInput, ClusterView, CountyRef, HistoryEvent, ImportReport, MAX_IMPORT_BYTES,
    MemberInput, MemberView, OrgRef, Relation, RowError,
};
use crate::web::download::xlsx_download;
use crate::web::principal::Authed;
use crate::web::upload::{UploadError, read_upload};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/clusters", get(list).post(create))
        .route("/clusters/members-template.xlsx", get(template))
        .route("/clusters/{id}", get(get_one).put(update))
        .route("/clusters/{id}/members", get(members).post(add_member))
        .route("/clusters/{id}/history", get(history))
        .route("/clusters/{id}/members/{member_id}", delete(remove_member))
        .route(
            "/clusters/{id}/members/import",
            // Room for the file plus the multipart framing; the handler enforces the file limit.
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        create,
        get_one,
        update,
        members,
        add_member,
        remove_member,
        import,
        template,
        history
    ),
    components(schemas(
        HistoryEvent,
        ClusterInput,
        ClusterUpdate,
        ClusterView,
        CountyRef,
        OrgRef,
        Relation,
        MemberInput,
        MemberView,
        ImportReport,
        RowError,
        ImportUpload
    ))
)]
pub struct Doc;

/// The clusters the caller may see: an applicant's own and those it co-applies to (relation
/// `co_applicant`, read only); a city bureau's city; all for the province.
#[utoipa::path(get, path = "/api/v1/clusters",
    responses((status = 200, body = [ClusterView]), (status = 403, body = ErrorBody)))]
async fn list(State(app): State<Shared>, Authed(ctx): Authed) -> ApiResult<Vec<ClusterView>> {
    Ok(Json(clusters::list(&app, &ctx.principal).await?))
}

/// Creates a cluster for the caller's organisation (applicants only). A single application must
/// lie in the organisation's city; with `co_applicant_org_ids` (joint application) the counties
/// may span cities, and the cluster is still reviewed by the lead organisation's city (第八条).
#[utoipa::path(post, path = "/api/v1/clusters", request_body = ClusterInput,
    responses((status = 200, body = ClusterView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<ClusterInput>,
) -> ApiResult<ClusterView> {
    Ok(Json(clusters::create(&app, &ctx.principal, &body).await?))
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ClusterView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
) -> ApiResult<ClusterView> {
    Ok(Json(clusters::get(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ClusterUpdate {
    #[serde(flatten)]
    pub cluster: ClusterInput,
    /// The version the client last saw; a stale version is refused with 409.
    pub version: i32,
}

/// Replaces the profile (lead applicant only; a co-applicant gets 403).
#[utoipa::path(put, path = "/api/v1/clusters/{id}", params(("id" = i64, Path)), request_body = ClusterUpdate,
    responses((status = 200, body = ClusterView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    Json(body): Json<ClusterUpdate>,
) -> ApiResult<ClusterView> {
    Ok(Json(
        clusters::update(&app, &ctx.principal, id, &body.cluster, body.version).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/clusters/{id}/members", params(("id" = i64, Path)),
    responses((status = 200, body = [MemberView]), (status = 404, body = ErrorBody)))]
async fn members(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
) -> ApiResult<Vec<MemberView>> {
    Ok(Json(
        clusters::list_members(&app, &ctx.principal, id).await?,
    ))
}

/// Adds one member enterprise; a credit code already in the list is refused (422).
#[utoipa::path(post, path = "/api/v1/clusters/{id}/members", params(("id" = i64, Path)), request_body = MemberInput,
    responses((status = 200, body = MemberView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_member(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    Json(body): Json<MemberInput>,
) -> ApiResult<MemberView> {
    Ok(Json(
        clusters::add_member(&app, &ctx.principal, id, &body).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/clusters/{id}/members/{member_id}",
    params(("id" = i64, Path), ("member_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_member(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((id, member_id)): Path<(ClusterId, ClusterMemberId)>,
) -> Result<StatusCode, ApiError> {
    clusters::remove_member(&app, &ctx.principal, id, member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The multipart body of an import.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// The .xlsx file: first sheet, header 企业名称 and 统一社会信用代码 (either order).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

fn error_response(
    status: StatusCode,
    code: &str,
    message: String,
    fields: Vec<FieldErrorSchema>,
) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
                fields,
                request_id: None,
            },
        }),
    )
        .into_response()
}

/// Imports member enterprises from an Excel (.xlsx) file, all or nothing. 422 lists every
/// problem as `rows[N].name` / `rows[N].credit_code` (N = Excel row number) or `file`.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/members/import", params(("id" = i64, Path)),
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses((status = 200, body = ImportReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let bytes = match read_upload(multipart).await {
        Ok(b) => b,
        Err(e @ UploadError::TooLarge) => {
            return Ok(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                e.message(),
                Vec::new(),
            ));
        }
        Err(e) => return Err(ApiError(AppError::invalid("file", e.message()))),
    };
    let report = clusters::import_members(&app, &ctx.principal, id, &bytes).await?;
    if report.is_ok() {
        return Ok(Json(report).into_response());
    }
    let fields = report
        .errors
        .iter()
        .map(|e| FieldErrorSchema {
            field: format!("rows[{}].{}", e.row, e.column_key),
            message: e.message.clone(),
        })
        .collect();
    Ok(error_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        format!(
            "导入文件中有{}处错误，未导入任何数据，请改正后重新上传",
            report.errors.len()
        ),
        fields,
    ))
}

/// The member import template (.xlsx).
#[utoipa::path(get, path = "/api/v1/clusters/members-template.xlsx",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))]
async fn template(Authed(_ctx): Authed) -> Result<Response, ApiError> {
    Ok(xlsx_download(
        clusters::template_xlsx()?,
        "成员企业导入模板.xlsx",
        "template.xlsx",
    ))
}

/// The cluster's story, oldest first: applications, round notices and results, titles with
/// certificate numbers (superseded, revoked), revocation cases and decisions.
#[utoipa::path(get, path = "/api/v1/clusters/{id}/history", params(("id" = i64, Path)),
    responses((status = 200, body = [HistoryEvent]), (status = 404, body = ErrorBody)))]
async fn history(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
) -> ApiResult<Vec<HistoryEvent>> {
    Ok(Json(clusters::history(&app, &ctx.principal, id).await?))
}
