//! Every rejection the framework makes before a handler runs — a path or query that does not
//! parse, a body that is not JSON or lacks fields, a wrong content type, a body too large, a
//! method the route does not take — answered in the house format: the Chinese JSON error of
//! `api/error.rs` under /api/v1, the Chinese error page in the browser.
//!
//! axum answers these in English `text/plain` (405 with an empty body). Our own handlers never
//! answer an error in plain text, so one layer around the routes recognises the framework's
//! answers by that and rewrites them; no handler needs a special extractor.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::api::FieldErrorSchema;

/// The house answer to a framework rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

pub const TOO_LARGE: &str =
    "提交的内容过大，超过大小上限（页面表单1MB，JSON请求2MB；附件上限见上传说明），未保存任何内容";

/// The answer to a body over the limit, for the middlewares that read bodies themselves.
pub fn too_large(api: bool) -> Response {
    too_large_saying(api, TOO_LARGE.into())
}

/// The same answer with the limit of the handler that knows it (an upload's own size limit).
pub fn too_large_saying(api: bool, message: String) -> Response {
    answer(
        api,
        Explained {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message,
            fields: vec![],
        },
    )
}

/// `text` between the first pair of backticks after `marker`.
fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    let start = rest.find('`')? + 1;
    let len = rest[start..].find('`')?;
    Some(&rest[start..start + len])
}

/// A serde reason in Chinese (the field is named separately).
fn reason(detail: &str) -> String {
    let what = if detail.starts_with("missing field") {
        "缺少此项"
    } else if detail.starts_with("unknown variant") {
        "取值不在可选范围内"
    } else if detail.starts_with("unknown field") {
        "不是可接受的字段"
    } else if detail.starts_with("duplicate field") {
        "重复出现"
    } else if detail.starts_with("invalid type") || detail.starts_with("invalid value") {
        if detail.contains("expected i") || detail.contains("expected u") {
            "应为整数"
        } else if detail.contains("expected f") {
            "应为数字"
        } else if detail.contains("expected a boolean") || detail.contains("expected bool") {
            "应为 true 或 false"
        } else if detail.contains("expected a string") || detail.contains("expected a borrowed") {
            "应为文本"
        } else if detail.contains("expected a sequence") {
            "应为列表"
        } else if detail.contains("expected struct") || detail.contains("expected a map") {
            "应为对象"
        } else {
            "类型不正确"
        }
    } else if detail.contains("invalid digit") || detail.contains("cannot parse") {
        "应为数字"
    } else {
        "格式不正确"
    };
    what.to_string()
}

/// The field and reason of a serde_path_to_error message (`a.b[0]: invalid type: …`).
fn field_and_reason(detail: &str) -> (String, String) {
    let detail = detail.trim();
    let (path, inner) = match detail.split_once(": ") {
        Some((p, rest))
            if !p.is_empty()
                && p.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-')) =>
        {
            (p, rest)
        }
        _ => (".", detail),
    };
    let mut field = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    if let Some(missing) = quoted_after(inner, "missing field") {
        field = if field.is_empty() {
            missing.to_string()
        } else {
            format!("{field}.{missing}")
        };
    }
    if field.is_empty() {
        field = "body".into();
    }
    (field, reason(inner))
}

/// Where in the text a JSON syntax error is, in Chinese.
fn position(detail: &str) -> String {
    let num = |marker: &str| -> Option<u64> {
        let rest = &detail[detail.find(marker)? + marker.len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
    };
    match (num("line "), num("column ")) {
        (Some(l), Some(c)) => format!("（第{l}行第{c}列附近）"),
        _ => String::new(),
    }
}

/// Recognises the framework's plain-text answer and says it in Chinese.
pub fn explain(status: StatusCode, text: &str, method: &Method, api: bool) -> Explained {
    let text = text.trim();
    let detail = |prefix: &str| {
        text.strip_prefix(prefix)
            .map(|d| d.trim_start_matches(':').trim().to_string())
    };
    let simple = |status, code, message: String| Explained {
        status,
        code,
        message,
        fields: vec![],
    };
    match status {
        StatusCode::METHOD_NOT_ALLOWED => simple(
            status,
            "method_not_allowed",
            format!("该地址不接受 {method} 请求"),
        ),
        StatusCode::NOT_FOUND => simple(
            status,
            "not_found",
            if api {
                "未找到该对象，或您无权查看".into()
            } else {
                "页面不存在。".into()
            },
        ),
        StatusCode::PAYLOAD_TOO_LARGE => simple(status, "payload_too_large", TOO_LARGE.into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => simple(
            status,
            "unsupported_media_type",
            if text.contains("application/json") {
                "请求正文须为JSON，并带有请求头 Content-Type: application/json".into()
            } else if text.contains("x-www-form-urlencoded") {
                "请通过页面上的表单提交（Content-Type: application/x-www-form-urlencoded）".into()
            } else {
                "不支持此内容类型".into()
            },
        ),
        s if s.is_server_error() => simple(s, "internal", "系统内部错误".into()),
        _ => {
            if let Some(d) = detail("Invalid URL") {
                let value = quoted_after(&d, "with value").or_else(|| quoted_after(&d, "parse"));
                let key = d
                    .contains("with value")
                    .then(|| quoted_after(&d, "parse"))
                    .flatten();
                let message = match value {
                    Some(v) => format!("请求地址有误：“{v}”不是有效的编号或参数"),
                    None => "请求地址有误：其中的参数格式不正确".into(),
                };
                return Explained {
                    status: StatusCode::BAD_REQUEST,
                    code: "bad_request",
                    fields: vec![(key.unwrap_or("path").to_string(), message.clone())],
                    message,
                };
            }
            if let Some(d) = detail("Failed to deserialize query string")
                .or_else(|| detail("Failed to deserialize form body"))
                .or_else(|| detail("Failed to deserialize form"))
                .or_else(|| detail("Failed to deserialize the JSON body into the target type"))
            {
                let (field, why) = field_and_reason(&d);
                let query = text.starts_with("Failed to deserialize query string")
                    || (text.starts_with("Failed to deserialize form")
                        && !text.starts_with("Failed to deserialize form body"));
                let message = if query {
                    format!("查询参数有误：“{field}”{why}")
                } else {
                    format!("提交的内容有误：“{field}”{why}")
                };
                return Explained {
                    status: if query {
                        StatusCode::BAD_REQUEST
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    },
                    code: if query {
                        "bad_request"
                    } else {
                        "invalid_input"
                    },
                    message,
                    fields: vec![(field, why)],
                };
            }
            if let Some(d) = detail("Failed to parse the request body as JSON") {
                return simple(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("请求正文不是有效的JSON{}", position(&d)),
                );
            }
            if text.contains("length limit exceeded") {
                return simple(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    TOO_LARGE.into(),
                );
            }
            simple(
                if status.is_client_error() {
                    status
                } else {
                    StatusCode::BAD_REQUEST
                },
                "bad_request",
                "请求格式不正确".into(),
            )
        }
    }
}

fn answer(api: bool, e: Explained) -> Response {
    if api {
        super::api::error::answer(
            e.status,
            e.code,
            e.message,
            e.fields
                .into_iter()
                .map(|(field, message)| FieldErrorSchema { field, message })
                .collect(),
        )
    } else {
        super::pages::error_page(e.status, &e.message)
    }
}

/// The layer: passes every answer through except the framework's plain-text (or bodiless)
/// errors, which it rewrites.
pub async fn house_format(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let method = req.method().clone();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let content_type = res.headers().get(header::CONTENT_TYPE);
    let framework = match content_type.and_then(|v| v.to_str().ok()) {
        Some(ct) => ct.starts_with("text/plain"),
        None => true,
    };
    if !framework {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let (_, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let explained = explain(status, &String::from_utf8_lossy(&text), &method, api);
    let mut out = answer(api, explained);
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(status: u16, text: &str) -> Explained {
        explain(
            StatusCode::from_u16(status).unwrap(),
            text,
            &Method::POST,
            true,
        )
    }

    #[test]
    fn path_query_and_json_rejections_are_said_in_chinese() {
        let e = ex(400, "Invalid URL: Cannot parse `abc` to a `i64`");
        assert_eq!(e.status, 400);
        assert_eq!(e.message, "请求地址有误：“abc”不是有效的编号或参数");
        let e = ex(
            400,
            "Failed to deserialize query string: page: invalid digit found in string",
        );
        assert_eq!(e.fields, vec![("page".into(), "应为数字".into())]);
        let e = ex(
            422,
            "Failed to deserialize the JSON body into the target type: missing field `org_id` at line 1 column 20",
        );
        assert_eq!(e.status, 422);
        assert_eq!(e.fields, vec![("org_id".into(), "缺少此项".into())]);
        let e = ex(
            422,
            "Failed to deserialize the JSON body into the target type: org_id: invalid type: string \"x\", expected i64 at line 1 column 12",
        );
        assert_eq!(e.fields, vec![("org_id".into(), "应为整数".into())]);
        let e = ex(
            400,
            "Failed to parse the request body as JSON: key must be a string at line 1 column 2",
        );
        assert_eq!(e.message, "请求正文不是有效的JSON（第1行第2列附近）");
        let e = ex(
            415,
            "Expected request with `Content-Type: application/json`",
        );
        assert_eq!(e.code, "unsupported_media_type");
        let e = ex(405, "");
        assert_eq!(e.message, "该地址不接受 POST 请求");
        let e = ex(
            413,
            "Failed to buffer the request body: length limit exceeded",
        );
        assert!(e.message.contains("过大"));
    }
}
