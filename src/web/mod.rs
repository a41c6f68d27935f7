//! The web shell: server-rendered pages in Simplified Chinese and the JSON API, sharing the
//! services, the permission table and the audit trail.

pub mod api;
pub mod api_applications;
pub mod api_attachments;
pub mod api_clusters;
pub mod api_competitions;
pub mod api_notices;
pub mod api_rounds;
pub mod api_scoring;
pub mod csrf;
pub mod pages;
pub mod principal;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::Shared;

pub fn router(app: Shared) -> Router {
    let security_headers = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let mut router = Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .route("/static/app.css", get(stylesheet))
        .route("/static/letter.css", get(letter_stylesheet))
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::middleware::from_fn(pages::frame_errors))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            csrf::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            principal::load_session,
        ))
        .layer(axum::middleware::from_fn(explain_too_large))
        // Forms and JSON stay small; upload routes raise their own limit (an inner layer wins).
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024));
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(app)
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn letter_stylesheet() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/letter.css"),
    )
}

/// The body-limit rejection of axum is a bare English line; say it in Chinese, in the form the
/// client expects.
async fn explain_too_large(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if res.status() != axum::http::StatusCode::PAYLOAD_TOO_LARGE || !plain {
        return res;
    }
    let message = "提交的内容超过大小上限（表单2MB；附件上限见上传说明），未保存任何内容";
    if api {
        let mut r = api::ApiError(crate::error::AppError::invalid("body", message)).into_response();
        *r.status_mut() = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
        r
    } else {
        pages::error_page(axum::http::StatusCode::PAYLOAD_TOO_LARGE, message)
    }
}

/// The client address of a request, for the audit trail.
pub fn client_addr(req: &axum::extract::Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
