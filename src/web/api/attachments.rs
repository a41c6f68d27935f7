//! Attachments in the JSON API: upload (multipart, streamed to the store), list and download.
//! Paths here are relative to /api/v1.

use crate::store::id::AttachmentId;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::attachments::{self, AttachmentView, Purpose};
use crate::error::AppError;
use crate::web::download::file_response;
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/attachments", get(list).post(upload))
        .route("/attachments/limits", get(limits))
        .route("/attachments/{id}", get(download))
        // Multipart bodies are limited by DefaultBodyLimit (2 MB unless raised); uploads need
        // one file at the limit plus the multipart framing.
        .layer(DefaultBodyLimit::max(attachments::request_limit()))
}

#[derive(OpenApi)]
#[openapi(
    paths(upload, list, limits, download),
    components(schemas(AttachmentView, UploadForm, PurposeLimits))
)]
pub struct Doc;

#[derive(Deserialize)]
struct TargetQuery {
    owner_type: Option<String>,
    owner_id: Option<String>,
    purpose: Option<String>,
}

/// The multipart body of an upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file. Its type is checked by content (PDF, JPEG, PNG, DOCX, XLSX, ZIP as the purpose
    /// allows), not by name.
    #[schema(content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

fn not_multipart(_: MultipartRejection) -> ApiError {
    ApiError(AppError::invalid(
        attachments::FILE_FIELD,
        "请以 multipart/form-data 格式上传，文件字段名为 file",
    ))
}

/// Uploads one file and attaches it to an object. The body is streamed to disk (SM3-addressed;
/// identical content is stored once); an oversized, empty or wrong-type file is refused with
/// 422 naming the limit or the allowed types, and nothing is stored.
#[utoipa::path(post, path = "/api/v1/attachments",
    params(
        ("owner_type" = String, Query, description = "competition | cluster | application | recommendation"),
        ("owner_id" = i64, Query),
        ("purpose" = String, Query, description = "report | pledge | evidence | letter | notice | member_import"),
    ),
    request_body(content = inline(UploadForm), content_type = "multipart/form-data"),
    responses(
        (status = 200, body = AttachmentView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "bad parameters, or the file is too large, empty or of a type the purpose does not accept"),
    ))]
async fn upload(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<TargetQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<AttachmentView>, ApiError> {
    let target = attachments::parse_target(
        q.owner_type.as_deref(),
        q.owner_id.as_deref(),
        q.purpose.as_deref(),
    )?;
    let mut multipart = multipart.map_err(not_multipart)?;
    Ok(Json(
        attachments::upload(&app, &ctx.principal, &target, &mut multipart).await?,
    ))
}

/// The files attached to an object the caller may see, in upload order.
#[utoipa::path(get, path = "/api/v1/attachments",
    params(("owner_type" = String, Query), ("owner_id" = i64, Query)),
    responses((status = 200, body = [AttachmentView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<TargetQuery>,
) -> Result<Json<Vec<AttachmentView>>, ApiError> {
    let (owner, owner_id) =
        attachments::parse_owner(q.owner_type.as_deref(), q.owner_id.as_deref())?;
    Ok(Json(
        attachments::list_scoped(&app, &ctx.principal, owner, owner_id).await?,
    ))
}

/// What each purpose accepts.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PurposeLimits {
    pub purpose: String,
    pub label: String,
    /// e.g. ["PDF", "JPEG", "PNG"]
    pub allowed: Vec<String>,
    pub max_bytes: u64,
    /// e.g. "PDF、JPEG或PNG格式，单个文件不超过50MB"
    pub hint: String,
}

#[utoipa::path(get, path = "/api/v1/attachments/limits",
    responses((status = 200, body = [PurposeLimits])))]
async fn limits(Authed(_ctx): Authed) -> Json<Vec<PurposeLimits>> {
    Json(
        Purpose::ALL
            .iter()
            .filter_map(|p| attachments::limits_for(p.key()))
            .map(|l| PurposeLimits {
                purpose: l.purpose.key().into(),
                label: l.purpose.label().into(),
                allowed: l.allowed.iter().map(|k| k.short().to_string()).collect(),
                max_bytes: l.max_bytes,
                hint: l.hint(),
            })
            .collect(),
    )
}

/// Downloads a file. Out of scope and missing both answer 404.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", params(("id" = i64, Path)),
    responses(
        (status = 200, description = "the file, with Content-Disposition naming it", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = ErrorBody),
    ))]
async fn download(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AttachmentId>,
) -> Result<Response, ApiError> {
    let d = attachments::open_scoped(&app, &ctx.principal, id).await?;
    Ok(file_response(d).await?)
}
