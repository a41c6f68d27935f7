//! Finishing the OpenAPI document: the two ways to authenticate (bearer token, session cookie)
//! and, per operation, the error answers the shell really gives besides those each handler
//! declares — the framework's rejections said in the house format (`web/rejections.rs`), the
//! text hygiene refusals (`web/hygiene.rs`), sign-in, CSRF and the permission table — so that a
//! client (or a conformance checker) meets no undeclared status.

use serde_json::{Map, Value, json};

use crate::auth::session::COOKIE;

/// Operations anyone may call without signing in: the sign-in itself, the public notices and
/// announcements, published revocation decisions and the certificate check.
const PUBLIC: [(&str, &str); 7] = [
    ("post", "/api/v1/session"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/notices"),
    ("get", "/api/v1/notices/{round_id}"),
    ("post", "/api/v1/notices/{round_id}/objections"),
    ("get", "/api/v1/notices/{round_id}/objections/{id}"),
    ("get", "/api/v1/announcements"),
];

/// Operations whose callers are counted per address or account and may be told to wait.
const THROTTLED: [(&str, &str); 3] = [
    ("post", "/api/v1/session"),
    ("post", "/api/v1/session/second-factor"),
    ("post", "/api/v1/notices/{round_id}/objections"),
];

fn is_public(method: &str, path: &str) -> bool {
    PUBLIC.contains(&(method, path))
        || path.starts_with("/api/v1/announcements/")
        || path.starts_with("/api/v1/revocation-decisions")
        || path.starts_with("/api/v1/verify/")
        || path.starts_with("/api/v1/recheck-notices/")
}

fn description(code: u16) -> &'static str {
    match code {
        400 => "请求地址、查询参数或JSON格式不正确",
        401 => "未登录或会话已超时",
        403 => "无权执行此操作、须先修改密码或完成双因素认证，或未通过CSRF校验",
        404 => "对象不存在或不在您的数据范围内",
        409 => "状态冲突或记录已被他人修改",
        413 => "提交的内容过大",
        415 => "请求的内容类型不受支持",
        422 => "提交的内容有误（逐项说明），含不可见控制字符",
        429 => "尝试过于频繁，请稍后再试",
        _ => "错误",
    }
}

/// The error statuses an operation can answer, from what it takes and who may call it.
pub fn error_statuses(method: &str, path: &str, op: &Value) -> Vec<u16> {
    let public = is_public(method, path);
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let has_path = params.iter().any(|p| p["in"] == "path") || path.contains('{');
    let has_query = params.iter().any(|p| p["in"] == "query");
    let has_body = op.get("requestBody").is_some();
    let write = method != "get";
    let mut codes = vec![];
    if has_path || has_query || has_body {
        codes.push(400);
    }
    if !public {
        codes.push(401);
    }
    if !public || write {
        codes.push(403);
    }
    // An id in the path or the body that is missing or outside the caller's scope reads as
    // "not found", so existence is not revealed.
    if has_path || !public {
        codes.push(404);
    }
    if write && !public {
        codes.push(409);
    }
    if has_body {
        codes.extend([413, 415]);
    }
    if has_body || has_query {
        codes.push(422);
    }
    if THROTTLED.contains(&(method, path)) {
        codes.push(429);
    }
    codes
}

/// Adds the security schemes and the error answers to the generated document.
pub fn finish(mut doc: Value) -> Value {
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(c)) = components {
        c.insert(
            "securitySchemes".into(),
            json!({
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "POST /api/v1/session 返回的令牌，放在 Authorization: Bearer … 中"
                },
                "cookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": COOKIE,
                    "description": "页面登录后的会话 Cookie（写操作还须带 X-CSRF-Token 请求头）"
                }
            }),
        );
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(op) = item.get_mut(method) else {
                continue;
            };
            let codes = error_statuses(method, path, op);
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            op.insert(
                "security".into(),
                if is_public(method, path) {
                    json!([])
                } else {
                    json!([{"bearer": []}, {"cookie": []}])
                },
            );
            let responses = op
                .entry("responses")
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(responses) = responses.as_object_mut() else {
                continue;
            };
            for code in codes {
                responses.entry(code.to_string()).or_insert_with(|| {
                    json!({
                        "description": description(code),
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
                    })
                });
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    /// Two API types of one name would share one schema in the document (the later one wins),
    /// so every answer of the other would be checked against the wrong shape.
    #[test]
    fn api_types_have_distinct_schema_names() {
        fn scan(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    scan(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for after in text.split("ToSchema").skip(1) {
                        let name = after
                            .lines()
                            .take(12)
                            .find_map(|l| {
                                let l = l.trim_start();
                                l.strip_prefix("pub struct ")
                                    .or_else(|| l.strip_prefix("pub enum "))
                            })
                            .and_then(|rest| {
                                rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                                    .next()
                            });
                        if let Some(name) = name {
                            out.push((name.to_string(), path.display().to_string()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        scan(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.len() > 50, "the scan found too few: {}", found.len());
        found.sort();
        let twins: Vec<_> = found.windows(2).filter(|w| w[0].0 == w[1].0).collect();
        assert!(twins.is_empty(), "schema names used twice: {twins:?}");
    }

    use super::*;

    #[test]
    fn statuses_follow_what_an_operation_takes() {
        let with_body = json!({"requestBody": {}, "parameters": [{"in": "path", "name": "id"}]});
        assert_eq!(
            error_statuses("put", "/api/v1/users/{id}", &with_body),
            vec![400, 401, 403, 404, 409, 413, 415, 422]
        );
        assert_eq!(
            error_statuses("get", "/api/v1/notices", &json!({})),
            Vec::<u16>::new()
        );
        assert_eq!(
            error_statuses("post", "/api/v1/applications", &json!({"requestBody": {}})),
            vec![400, 401, 403, 404, 409, 413, 415, 422]
        );
        assert_eq!(
            error_statuses("post", "/api/v1/session", &json!({"requestBody": {}})),
            vec![400, 403, 413, 415, 422, 429]
        );
    }
}
