//! The web shell: server-rendered pages in Simplified Chinese and the JSON API, sharing the
//! services, the permission table and the audit trail.

pub mod api;
pub mod assets;
pub mod csrf;
pub mod download;
pub mod forms;
pub mod hygiene;
pub mod kept;
pub mod observe;
pub mod pages;
pub mod principal;
pub mod rejections;
pub mod upload;
pub mod views;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::app::Shared;

/// The largest page form (urlencoded) accepted: what a person types is far smaller.
pub const FORM_LIMIT: usize = 1024 * 1024;
/// The largest JSON body accepted; upload routes (multipart) raise their own limit.
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;

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
    let request_id = HeaderName::from_static(observe::REQUEST_ID);
    let mut router = Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .route("/static/{name}", get(assets::serve))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        // Innermost: refuse control characters before any handler, and say the framework's own
        // rejections in the house format; both inside frame_errors so pages keep their frame.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            kept::keep_page,
        ))
        .layer(axum::middleware::from_fn(hygiene::guard))
        .layer(axum::middleware::from_fn(rejections::house_format))
        .layer(axum::middleware::from_fn(pages::frame_errors))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            pages::demo_clock::banner,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            csrf::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            principal::load_session,
        ))
        // Forms and JSON stay small; upload routes raise their own limit (an inner layer wins).
        .layer(axum::extract::DefaultBodyLimit::max(JSON_LIMIT))
        // Inside the security headers, so a panic's 500 carries them too.
        .layer(CatchPanicLayer::custom(observe::panic_response))
        .layer(axum::middleware::from_fn(observe::scope));
    if app.config.count_queries {
        router = router.layer(axum::middleware::from_fn(observe::count_queries));
    }
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
        // Outermost first: take or make the id, open the span, echo the id.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::middleware::from_fn(observe::drop_unusable_id))
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(observe::request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(request_id)),
        )
        .with_state(app)
}

/// An unknown address: the API's JSON 404 under /api/, the Chinese page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        api::ApiError(crate::error::AppError::NotFound).into_response()
    } else {
        pages::error_page(axum::http::StatusCode::NOT_FOUND, "页面不存在。")
    }
}

/// The client address of a request, for the audit trail and the objection limit: the socket
/// peer, or — when the peer is one of the configured reverse proxies — the nearest address in
/// X-Forwarded-For that is not itself a trusted proxy.
pub fn client_ip(
    trusted: &[std::net::IpAddr],
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
        .to_string()
}

pub fn client_addr(app: &crate::app::App, req: &axum::extract::Request) -> String {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    client_ip(&app.config.trusted_proxies, peer, req.headers())
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use axum::http::HeaderMap;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 203.0.113.9".parse().unwrap());
        // A forged header from an ordinary client is ignored.
        assert_eq!(
            client_ip(&[proxy], Some("198.51.100.7".parse().unwrap()), &headers),
            "198.51.100.7"
        );
        // Behind the proxy, the address the proxy saw (the last one) is the client.
        assert_eq!(client_ip(&[proxy], Some(proxy), &headers), "203.0.113.9");
        // Chained trusted proxies are skipped.
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.3".parse().unwrap());
        let chain: [std::net::IpAddr; 2] = [proxy, "10.0.0.3".parse().unwrap()];
        assert_eq!(client_ip(&chain, Some(proxy), &headers), "203.0.113.9");
        assert_eq!(
            client_ip(&[proxy], Some(proxy), &HeaderMap::new()),
            "10.0.0.2"
        );
    }
}
