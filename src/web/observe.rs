//! Request tracing: every request carries an `X-Request-Id` (the caller's, or a new one), runs
//! in a span naming its method, route, id and — once the session is known — user, and a panic
//! becomes a Chinese 500 that shows the id, so a user can quote it and the log can be searched.

use crate::store::id::UserId;
use std::any::Any;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const REQUEST_ID: &str = "x-request-id";

/// The longest caller-supplied id that is kept; anything longer or odd is replaced.
const MAX_ID_LEN: usize = 64;

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served, for error pages and log lines.
pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// A caller-supplied id lands in every log line of the request: accept only short, plain ones.
pub async fn drop_unusable_id(mut req: Request, next: Next) -> Response {
    let usable = req.headers().get(REQUEST_ID).is_none_or(|v| {
        v.to_str().is_ok_and(|s| {
            !s.is_empty()
                && s.len() <= MAX_ID_LEN
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
    });
    if !usable {
        req.headers_mut().remove(REQUEST_ID);
    }
    next.run(req).await
}

/// The span of one request; `user_id` is filled in by the session middleware.
pub fn request_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        route = route.as_deref().unwrap_or("-"),
        request_id = id,
        user_id = tracing::field::Empty,
    )
}

/// Records the signed-in user in the request span.
pub fn record_user(user_id: UserId) {
    tracing::Span::current().record("user_id", user_id.get());
}

/// Marks the answer to a panic, so `scope` can render it for the page or API client.
#[derive(Clone, Copy)]
struct Panicked;

/// For `CatchPanicLayer`: the panic is logged; the answer is finished by `scope`, which knows
/// the request.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(
        request_id = current_request_id().unwrap_or_default(),
        "handler panicked: {detail}"
    );
    let mut res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    res.extensions_mut().insert(Panicked);
    res
}

/// Makes the request id available to error answers and turns a caught panic into the Chinese
/// 500 of a page or of the API.
pub async fn scope(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let api = req.uri().path().starts_with("/api/");
    CURRENT
        .scope(id, async move {
            let res = next.run(req).await;
            if res.extensions().get::<Panicked>().is_none() {
                return res;
            }
            let error = crate::error::AppError::internal("handler panicked");
            let mut res = if api {
                super::api::ApiError(error).into_response()
            } else {
                super::pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string())
            };
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        })
        .await
}

/// With `JIQUN_COUNT_QUERIES=true`: the number of database statements the request ran, in the
/// `x-jiqun-queries` header (measurement; see `store::counting`).
pub async fn count_queries(req: Request, next: Next) -> Response {
    let (mut res, n) = crate::store::counting::counted(next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
        res.headers_mut().insert("x-jiqun-queries", v);
    }
    res
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    use super::*;

    async fn answer(path: &str) -> (StatusCode, String) {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let router: Router = Router::new()
            .route("/boom", get(boom))
            .route("/api/v1/boom", get(boom))
            .layer(CatchPanicLayer::custom(super::panic_response))
            .layer(axum::middleware::from_fn(super::scope));
        let req = Request::builder()
            .uri(path)
            .header(super::REQUEST_ID, "req-42")
            .body(Body::empty())
            .unwrap();
        let res = router.oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn a_panic_is_a_chinese_500_naming_the_request() {
        let (status, html) = answer("/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(html.contains("系统内部错误"), "{html}");
        assert!(html.contains("请求编号：req-42"), "{html}");

        let (status, json) = answer("/api/v1/boom").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["message"], "系统内部错误");
        assert_eq!(body["error"]["request_id"], "req-42");
    }
}
