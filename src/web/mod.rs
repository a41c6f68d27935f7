//! The web shell: server-rendered pages in Simplified Chinese and the JSON API, sharing the
//! services, the permission table and the audit trail.

pub mod api;
pub mod api_applications;
pub mod api_attachments;
pub mod api_clusters;
pub mod api_competitions;
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
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            2 * 1024 * 1024,
        ));
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

/// The client address of a request, for the audit trail.
pub fn client_addr(req: &axum::extract::Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
