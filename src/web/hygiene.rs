//! Text hygiene at the door: NUL and the other control characters are refused in every query
//! string, urlencoded form and JSON body — signed in or not (login, the public objection form) —
//! with a 422 naming the field, before any handler or database sees them. PostgreSQL refuses NUL
//! in text outright and SQLite would store it silently; one rule for both, in one place. The rule
//! itself is `jiqun_domain::text::forbidden_char` (tab, line feed and carriage return stay
//! allowed for multi-line fields; single-line fields check their own shape).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiqun_domain::text::{forbidden_char, forbidden_message};
use serde_json::Value;

use super::api::ApiError;
use crate::error::AppError;

/// A refused value: the field as the client named it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub message: String,
}

fn check(field: &str, value: &str) -> Option<Refusal> {
    // A control character in the name itself is named by a printable rendering of it.
    if let Some((pos, c)) = forbidden_char(field) {
        return Some(Refusal {
            field: field.escape_default().to_string(),
            message: forbidden_message(pos, c),
        });
    }
    forbidden_char(value).map(|(pos, c)| Refusal {
        field: field.to_string(),
        message: forbidden_message(pos, c),
    })
}

/// The first forbidden character in urlencoded pairs (a query string or a form body).
pub fn check_urlencoded(bytes: &[u8]) -> Option<Refusal> {
    url::form_urlencoded::parse(bytes).find_map(|(k, v)| check(&k, &v))
}

/// The first forbidden character in any key or string of a JSON document; the field is named by
/// its path (`form.narratives.x`, `members[2].name`).
pub fn check_json(value: &Value) -> Option<Refusal> {
    fn walk(v: &Value, path: &str) -> Option<Refusal> {
        match v {
            Value::String(s) => check(if path.is_empty() { "body" } else { path }, s),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &format!("{path}[{i}]"))),
            Value::Object(map) => map.iter().find_map(|(k, item)| {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                check(&here, "").or_else(|| walk(item, &here))
            }),
            _ => None,
        }
    }
    walk(value, "")
}

enum BodyKind {
    Json,
    Form,
    Other,
}

fn body_kind(req: &Request) -> BodyKind {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return BodyKind::Other;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        BodyKind::Json
    } else if mime == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else {
        BodyKind::Other
    }
}

fn refuse(api: bool, r: Refusal) -> Response {
    if api {
        ApiError(AppError::invalid(&r.field, r.message)).into_response()
    } else {
        super::pages::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "“{}”一栏{}。未保存任何内容，请返回上一页修改。",
                r.field, r.message
            ),
        )
    }
}

/// The middleware. Multipart bodies (uploads) are files and pass untouched; a JSON body that is
/// not JSON at all is left to the extractor, which answers it in the house format.
pub async fn guard(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    if let Some(r) = req
        .uri()
        .query()
        .and_then(|q| check_urlencoded(q.as_bytes()))
    {
        return refuse(api, r);
    }
    let kind = body_kind(&req);
    if matches!(kind, BodyKind::Other) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let limit = match kind {
        BodyKind::Form => super::FORM_LIMIT,
        _ => super::JSON_LIMIT,
    };
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return super::rejections::too_large(api);
    };
    let refusal = match kind {
        BodyKind::Form => check_urlencoded(&bytes),
        BodyKind::Json => serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| check_json(&v)),
        BodyKind::Other => None,
    };
    if let Some(r) = refusal {
        return refuse(api, r);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_and_queries_name_the_field() {
        let r = check_urlencoded(b"username=a%00b&password=x").unwrap();
        assert_eq!(r.field, "username");
        assert!(r.message.contains("U+0000"), "{}", r.message);
        assert_eq!(check_urlencoded(b"reason=%E7%AC%AC%0A%09ok"), None);
        assert_eq!(check_urlencoded(b"a%07=1").unwrap().field, "a\\u{7}");
    }

    #[test]
    fn json_strings_are_named_by_their_path() {
        let v = json!({"form": {"narratives": {"x": "好\u{0}"}}, "members": [{"name": "ok"}, {"name": "\u{1b}"}]});
        let r = check_json(&v).unwrap();
        assert!(
            r.field == "form.narratives.x" || r.field == "members[1].name",
            "{r:?}"
        );
        assert_eq!(
            check_json(&json!({"members": [{"name": "a"}, {"name": "b\u{7f}"}]}))
                .unwrap()
                .field,
            "members[1].name"
        );
        assert_eq!(
            check_json(&json!({"text": "第一行\n\t第二行", "n": 3})),
            None
        );
        assert_eq!(check_json(&json!("\u{0}")).unwrap().field, "body");
    }
}
