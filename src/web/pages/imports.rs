//! Excel imports with a preview (organisations, the expert pool, a cluster's members — the
//! cluster named by `?target=`): upload, look at what each row
//! will do, confirm. The rules are `services::imports`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::clusters::MAX_IMPORT_BYTES;
use crate::services::imports::{self, ImportKind, ImportPreview};
use crate::web::download::xlsx_download;
use crate::web::principal::{Authed, SessionCtx};
use crate::web::upload::{UploadError, read_upload_named};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/imports/{kind}",
            get(upload_form)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)),
        )
        .route("/imports/{kind}/template.xlsx", get(template))
        .route("/imports/{kind}/{id}", get(show))
        .route("/imports/{kind}/{id}/commit", post(commit))
}

fn kind_of(key: &str) -> Result<ImportKind, PageError> {
    ImportKind::from_key(key).ok_or(PageError(AppError::NotFound))
}

/// The navigation entry an import belongs to.
fn nav_key(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Organisations => "orgs",
        ImportKind::Experts => "experts",
        ImportKind::Members => "clusters",
    }
}

/// The record an import goes into (`?target=` on the upload: the cluster of a member import).
#[derive(Deserialize, Default)]
struct TargetQuery {
    #[serde(default)]
    target: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    kind: String,
    kind_label: String,
    list_path: String,
    /// `?target=N` for a kind that imports into one record, else empty.
    target_query: String,
    max_rows: usize,
    max_mb: usize,
    /// A problem with the file as a whole, or with the confirmation.
    error: String,
    preview: Option<ImportPreview>,
}

fn page(
    ctx: &SessionCtx,
    kind: ImportKind,
    target: Option<i64>,
    error: String,
    preview: Option<ImportPreview>,
) -> ImportPage {
    let target = preview
        .as_ref()
        .map(|p| p.target_id)
        .or(target)
        .filter(|_| kind.needs_target());
    ImportPage {
        layout: layout(ctx, nav_key(kind)),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        kind: kind.key().into(),
        kind_label: kind.label().into(),
        list_path: kind.list_path(target.unwrap_or(0)),
        target_query: target.map_or_else(String::new, |t| format!("target={t}&")),
        max_rows: kind.max_rows(),
        max_mb: MAX_IMPORT_BYTES / 1024 / 1024,
        error,
        preview,
    }
}

async fn upload_form(
    Authed(ctx): Authed,
    Path(kind): Path<String>,
    Query(q): Query<TargetQuery>,
) -> Result<ImportPage, PageError> {
    let kind = kind_of(&kind)?;
    if !imports::may_import(&ctx.principal, kind) {
        return Err(PageError(AppError::Forbidden));
    }
    Ok(page(&ctx, kind, q.target, String::new(), None))
}

async fn upload(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(kind): Path<String>,
    Query(q): Query<TargetQuery>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, PageError> {
    let kind = kind_of(&kind)?;
    if !imports::may_import(&ctx.principal, kind) {
        return Err(PageError(AppError::Forbidden));
    }
    let refused = |status: StatusCode, message: String| {
        (status, page(&ctx, kind, q.target, message, None)).into_response()
    };
    let Ok(multipart) = multipart else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            UploadError::Malformed.message(),
        ));
    };
    let (file_name, bytes) = match read_upload_named(multipart).await {
        Ok(b) => b,
        Err(e @ UploadError::TooLarge) => {
            return Ok(refused(StatusCode::PAYLOAD_TOO_LARGE, e.message()));
        }
        Err(e) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, e.message())),
    };
    match imports::preview_upload(&app, &ctx.principal, kind, q.target, &file_name, bytes).await {
        Ok(p) => Ok(Redirect::to(&format!("/imports/{}/{}", kind.key(), p.id)).into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let message = e
                .fields()
                .first()
                .map_or_else(|| e.to_string(), |f| f.message.clone());
            Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, message))
        }
        Err(e) => Err(PageError(e)),
    }
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((kind, id)): Path<(String, i64)>,
) -> Result<ImportPage, PageError> {
    let kind = kind_of(&kind)?;
    let preview = imports::preview(&app, &ctx.principal, id).await?;
    if preview.kind != kind.key() {
        return Err(PageError(AppError::NotFound));
    }
    Ok(page(&ctx, kind, None, String::new(), Some(preview)))
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    digest: String,
}

async fn commit(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((kind, id)): Path<(String, i64)>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let kind = kind_of(&kind)?;
    match imports::commit(&app, &ctx.principal, id, &form.digest).await {
        Ok(_) => Ok(Redirect::to(&format!("/imports/{}/{id}", kind.key())).into_response()),
        Err(e @ (AppError::Conflict(_) | AppError::Invalid(_))) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::CONFLICT);
            let message = match &e {
                AppError::Invalid(f) => f.first().map_or_else(String::new, |f| f.message.clone()),
                other => other.to_string(),
            };
            let preview = imports::preview(&app, &ctx.principal, id).await?;
            Ok((status, page(&ctx, kind, None, message, Some(preview))).into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

async fn template(Authed(ctx): Authed, Path(kind): Path<String>) -> Result<Response, PageError> {
    let kind = kind_of(&kind)?;
    if !imports::may_import(&ctx.principal, kind) {
        return Err(PageError(AppError::Forbidden));
    }
    let bytes = imports::template_xlsx(kind)?;
    Ok(xlsx_download(
        bytes,
        &format!("{}导入模板.xlsx", kind.label()),
        &format!("{}-template.xlsx", kind.key()),
    ))
}
