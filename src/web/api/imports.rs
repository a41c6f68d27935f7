//! Excel imports with a preview through the JSON API (routes relative to /api/v1). `{kind}` is
//! `organisations`, `experts` or `members` (a cluster's member enterprises: the upload names
//! the cluster with `?target={cluster id}`; only its lead applicant may import).
//!
//! `POST /imports/{kind}` (multipart field `file`) keeps the file and answers the preview: every
//! row with `action` `new` / `update` / `error` and its problems per column, plus a `digest`.
//! Nothing is written until `POST /imports/{kind}/{id}/commit` with that digest: all rows or
//! none, once (a second confirmation answers 409), and 409 when the database changed the plan
//! since the preview.

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::clusters::MAX_IMPORT_BYTES;
use crate::services::imports::{
    self, ImportConfirm, ImportKind, ImportOutcome, ImportPreview, ImportPreviewRow, ImportRowError,
};
use crate::web::download::xlsx_download;
use crate::web::principal::Authed;
use crate::web::upload::{UploadError, read_upload_named};

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/imports/{kind}",
            post(upload).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)),
        )
        .route("/imports/{kind}/template.xlsx", get(template))
        .route("/imports/{kind}/{id}", get(preview))
        .route("/imports/{kind}/{id}/commit", post(commit))
}

#[derive(OpenApi)]
#[openapi(
    paths(upload, preview, commit, template),
    components(schemas(
        ImportPreview,
        ImportPreviewRow,
        ImportRowError,
        ImportOutcome,
        ImportConfirm,
        ImportFileUpload
    ))
)]
pub struct Doc;

fn kind_of(key: &str) -> Result<ImportKind, ApiError> {
    ImportKind::from_key(key).ok_or(ApiError(AppError::NotFound))
}

/// The multipart body of an import with a preview.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportFileUpload {
    /// The .xlsx file: first sheet, the template's header row.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The record an import goes into.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportTarget {
    /// `members`: the id of the cluster whose members are imported (required); other kinds: none.
    pub target: Option<i64>,
}

/// Keeps an Excel file and answers what importing it would do, row by row. Nothing is written.
#[utoipa::path(post, path = "/api/v1/imports/{kind}", params(("kind" = String, Path, description = "organisations | experts | members"), ImportTarget),
    request_body(content = ImportFileUpload, content_type = "multipart/form-data"),
    responses((status = 200, body = ImportPreview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(kind): Path<String>,
    Query(q): Query<ImportTarget>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let kind = kind_of(&kind)?;
    let (name, bytes) = match read_upload_named(multipart).await {
        Ok(b) => b,
        Err(e @ UploadError::TooLarge) => {
            return Ok(crate::web::rejections::too_large_saying(true, e.message()));
        }
        Err(e) => return Err(ApiError(AppError::invalid("file", e.message()))),
    };
    let preview =
        imports::preview_upload(&app, &ctx.principal, kind, q.target, &name, bytes).await?;
    Ok(Json(preview).into_response())
}

/// The preview of one of the caller's imports, planned against the database as it is now.
#[utoipa::path(get, path = "/api/v1/imports/{kind}/{id}",
    params(("kind" = String, Path, description = "organisations | experts | members"), ("id" = i64, Path)),
    responses((status = 200, body = ImportPreview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn preview(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((kind, id)): Path<(String, i64)>,
) -> ApiResult<ImportPreview> {
    let kind = kind_of(&kind)?;
    let p = imports::preview(&app, &ctx.principal, id).await?;
    if p.kind != kind.key() {
        return Err(ApiError(AppError::NotFound));
    }
    Ok(Json(p))
}

/// Confirms an import with the digest of its preview: every row is written, or none.
#[utoipa::path(post, path = "/api/v1/imports/{kind}/{id}/commit",
    params(("kind" = String, Path, description = "organisations | experts | members"), ("id" = i64, Path)),
    request_body = ImportConfirm,
    responses((status = 200, body = ImportOutcome), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn commit(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((kind, id)): Path<(String, i64)>,
    Json(body): Json<ImportConfirm>,
) -> ApiResult<ImportOutcome> {
    let kind = kind_of(&kind)?;
    let p = imports::preview(&app, &ctx.principal, id).await?;
    if p.kind != kind.key() {
        return Err(ApiError(AppError::NotFound));
    }
    Ok(Json(
        imports::commit(&app, &ctx.principal, id, &body.digest).await?,
    ))
}

/// The import template of a kind (.xlsx, headers in Chinese, a 填写说明 sheet).
#[utoipa::path(get, path = "/api/v1/imports/{kind}/template.xlsx",
    params(("kind" = String, Path, description = "organisations | experts | members")),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn template(Authed(ctx): Authed, Path(kind): Path<String>) -> Result<Response, ApiError> {
    let kind = kind_of(&kind)?;
    if !imports::may_import(&ctx.principal, kind) {
        return Err(ApiError(AppError::Forbidden));
    }
    Ok(xlsx_download(
        imports::template_xlsx(kind)?,
        &format!("{}导入模板.xlsx", kind.label()),
        &format!("{}-template.xlsx", kind.key()),
    ))
}
