//! CSRF protection for every state-changing request: a per-session synchronizer token (form
//! field `_csrf` or header `X-CSRF-Token`), plus an Origin / Sec-Fetch-Site check.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::ApiError;
use super::principal::SessionCtx;
use crate::app::Shared;
use crate::error::AppError;

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(api: bool) -> Response {
    if api {
        ApiError(AppError::Csrf).into_response()
    } else {
        super::pages::error_page(
            StatusCode::FORBIDDEN,
            "请求未通过安全校验（CSRF），可能是页面已过期。请返回上一页刷新后重试。",
        )
    }
}

fn same_origin(req: &Request) -> bool {
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return false;
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        // Non-browser clients send no Origin; the token check below still applies.
        (None, _) => true,
        (Some(_), None) => false,
    }
}

pub async fn guard(State(_app): State<Shared>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let ctx = req.extensions().get::<SessionCtx>().cloned();
    if ctx.as_ref().is_some_and(|c| c.bearer) {
        return next.run(req).await;
    }
    if !same_origin(&req) {
        return refuse(api);
    }
    let Some(ctx) = ctx else {
        // No session yet (the login form): the origin check above is what applies.
        return next.run(req).await;
    };
    let expected = ctx.session.csrf_token.as_bytes().to_vec();
    if let Some(sent) = req.headers().get("x-csrf-token")
        && constant_time_eq(sent.as_bytes(), &expected)
    {
        return next.run(req).await;
    }
    // Multipart bodies are streamed to disk, so their token travels in the query string.
    if let Some(query) = req.uri().query()
        && url::form_urlencoded::parse(query.as_bytes())
            .any(|(k, v)| k == "_csrf" && constant_time_eq(v.as_bytes(), &expected))
    {
        return next.run(req).await;
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return refuse(api);
    }
    let (parts, body) = req.into_parts();
    // A form over the limit is too large, not a forged request: say so.
    let Ok(bytes) = axum::body::to_bytes(body, super::FORM_LIMIT).await else {
        return super::rejections::too_large(api);
    };
    let ok = url::form_urlencoded::parse(&bytes)
        .any(|(k, v)| k == "_csrf" && constant_time_eq(v.as_bytes(), &expected));
    if !ok {
        return refuse(api);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
