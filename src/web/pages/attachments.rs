//! Attachment upload and download for the pages. Upload forms live on the pages of the objects
//! files belong to; they post here:
//!
//! ```html
//! <form method="post" enctype="multipart/form-data"
//!       action="/attachments?owner_type=application&owner_id=12&purpose=report&_csrf=…&back=/applications/12">
//!   <input type="file" name="file" accept="{{ limits.accept_attr() }}" required>
//! </form>
//! ```
//!
//! The CSRF token travels in the query string because the body is streamed to disk, not parsed
//! as a form. Success redirects (303) to `back`; a refusal redirects to `back` with the precise
//! reason in `upload_error` (e.g. "申请报告须为PDF文件，上传的文件实际为PNG图片"), which the page
//! shows beside its form.

use crate::store::id::AttachmentId;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{MessagePage, PageError, layout};
use crate::app::Shared;
use crate::attachments;
use crate::error::AppError;
use crate::web::download::file_response;
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/attachments", post(upload))
        .route("/attachments/{id}", get(download))
        .layer(DefaultBodyLimit::max(attachments::request_limit()))
}

#[derive(Deserialize)]
struct UploadQuery {
    owner_type: Option<String>,
    owner_id: Option<String>,
    purpose: Option<String>,
    back: Option<String>,
}

/// Only a path on this site: no scheme, no host, no protocol-relative "//" or "/\" (which
/// browsers treat as "//"), so the redirect cannot leave the site.
fn local_path(back: Option<&str>) -> String {
    match back.map(str::trim) {
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && !b.contains('\\')
                && !b.chars().any(char::is_control) =>
        {
            b.to_string()
        }
        _ => "/".to_string(),
    }
}

async fn upload(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<UploadQuery>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let back = local_path(q.back.as_deref());
    let result = async {
        let target = attachments::parse_target(
            q.owner_type.as_deref(),
            q.owner_id.as_deref(),
            q.purpose.as_deref(),
        )?;
        let mut multipart = multipart.map_err(|_| {
            AppError::invalid(
                attachments::FILE_FIELD,
                "上传表单有误（须为 multipart/form-data），请返回后重新选择文件",
            )
        })?;
        attachments::upload(&app, &ctx.principal, &target, &mut multipart).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&back).into_response(),
        // Refusals the user can act on go back to the page with the form, which shows
        // `upload_error`; without a page to go back to, a message page says the same.
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden)) => {
            let message = refusal_text(&e);
            if q.back.is_some() {
                Redirect::to(&with_param(&back, "upload_error", &message)).into_response()
            } else {
                (
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                    MessagePage {
                        layout: layout(&ctx, ""),
                        flash: String::new(),
                        heading: "文件未能上传".into(),
                        paragraphs: vec![message],
                        secrets: Vec::new(),
                        next_href: back,
                        next_label: "返回".into(),
                    },
                )
                    .into_response()
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

/// The precise reason: the field messages (the limit, the allowed types), not the generic
/// "提交的内容有误".
fn refusal_text(e: &AppError) -> String {
    match e {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("；"),
        other => other.to_string(),
    }
}

/// Adds a query parameter to a local path, before any fragment.
fn with_param(path: &str, key: &str, value: &str) -> String {
    let (base, fragment) = match path.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (path, None),
    };
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{key}={encoded}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

async fn download(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id.parse::<AttachmentId>().map_err(|_| AppError::NotFound)?;
    let d = attachments::open_scoped(&app, &ctx.principal, id).await?;
    Ok(file_response(d).await?)
}

#[cfg(test)]
mod tests {
    use super::{local_path, with_param};

    #[test]
    fn redirects_stay_on_the_site() {
        assert_eq!(local_path(Some("/applications/3")), "/applications/3");
        assert_eq!(local_path(Some("/a?b=1#c")), "/a?b=1#c");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn the_reason_rides_along_in_the_query() {
        assert_eq!(
            with_param("/applications/3", "upload_error", "须为PDF文件"),
            "/applications/3?upload_error=%E9%A1%BB%E4%B8%BAPDF%E6%96%87%E4%BB%B6"
        );
        assert_eq!(
            with_param("/a?x=1#files", "upload_error", "a b&c"),
            "/a?x=1&upload_error=a+b%26c#files"
        );
    }
}
