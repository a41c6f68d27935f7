//! Input hygiene at the door: control characters refused with a Chinese 422 naming the field in
//! every form, JSON body and query string (signed in or not), and every rejection the framework
//! makes answered in the house format — JSON under /api/v1, the Chinese error page elsewhere.

use jiqun::store::entity::objection;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use time::macros::date;

use crate::fixtures::{audited, published_round};
use crate::support::{self, DEMO_PASSWORD, TestApp};
use crate::{call, token};

struct Answer {
    status: u16,
    content_type: String,
    allow: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let res = req.send().await.unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_string())
    };
    let content_type = header("content-type").unwrap_or_default();
    let allow = header("allow");
    let status = res.status().as_u16();
    Answer {
        status,
        content_type,
        allow,
        body: res.text().await.unwrap_or_default(),
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn refused_field(a: &Answer, field: &str) {
    assert_eq!(a.status, 422, "{field}: {}", a.body);
    assert!(
        a.content_type.starts_with("application/json"),
        "{}",
        a.content_type
    );
    let v = a.json();
    assert_eq!(v["error"]["fields"][0]["field"], field, "{v}");
    let message = v["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("控制字符"), "{message}");
}

fn refused_page(a: &Answer, field: &str) {
    assert_eq!(a.status, 422, "{field}: {}", a.body);
    assert!(
        a.content_type.starts_with("text/html"),
        "{}",
        a.content_type
    );
    assert!(
        a.body.contains(field) && a.body.contains("控制字符"),
        "{field}: {}",
        a.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_naming_the_field_before_anything_is_stored() {
    let t = support::spawn().await;
    let anonymous = no_redirects();

    // Signing in, through the API and the page, without a session.
    let a = send(
        anonymous
            .post(t.url("/api/v1/session"))
            .json(&json!({"username": "appli\u{0}cant", "password": DEMO_PASSWORD})),
    )
    .await;
    refused_field(&a, "username");
    let a = send(
        anonymous
            .post(t.url("/login"))
            .form(&[("username", "applicant"), ("password", "Demo\u{0}pass")]),
    )
    .await;
    refused_page(&a, "password");
    assert!(
        audited(&t, "login.failure").await.is_empty(),
        "nothing reached the sign-in"
    );

    // Signed in: a cluster's name, a competition's title, a search.
    let applicant = token(&t, "applicant").await;
    let a = send(
        anonymous
            .post(t.url("/api/v1/clusters"))
            .bearer_auth(&applicant)
            .json(&json!({"name": "长沙\u{0}工程机械产业集群", "kind": "leading"})),
    )
    .await;
    refused_field(&a, "name");
    let province = token(&t, "province").await;
    let a = send(
        anonymous
            .post(t.url("/api/v1/competitions"))
            .bearer_auth(&province)
            .json(&json!({"title": "2026年竞赛\u{7}", "year": 2026})),
    )
    .await;
    refused_field(&a, "title");
    let admin = token(&t, "sysadmin").await;
    let a = send(
        anonymous
            .get(t.url("/api/v1/users?q=%00"))
            .bearer_auth(&admin),
    )
    .await;
    refused_field(&a, "q");
    let page = support::page_login(&t, "sysadmin").await;
    let a = send(page.get(t.url("/users?q=li%1B"))).await;
    refused_page(&a, "q");
    assert!(a.body.contains("id=\"nav\""), "the page keeps its frame");

    // Multi-line text keeps its line breaks and tabs.
    let sec = token(&t, "secadmin").await;
    let applicant2 = crate::fixtures::user_id(&t, "applicant2").await;
    let (status, body) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{applicant2}/credentials"),
        Some(json!({"action": "unlock", "reason": "本人来电\n\t核实身份"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_objection_form_refuses_control_characters() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let entry = f.entries[0].id;
    let anonymous = no_redirects();
    let a = send(
        anonymous
            .post(t.url(&format!("/api/v1/notices/{}/objections", f.round_id)))
            .json(&json!({
                "entry_id": entry, "name": "王建国", "organisation": "",
                "contact": "13800138000", "reason": "数据不符\u{0}。"
            })),
    )
    .await;
    refused_field(&a, "reason");
    // The browser's form is multipart: the same rule, the same field.
    let boundary = "jiqunHygieneBoundary";
    let mut body = String::new();
    for (name, value) in [
        ("entry_id", entry.to_string()),
        ("name", "王\u{0}建国".to_string()),
        ("organisation", String::new()),
        ("contact", "13800138000".to_string()),
        ("reason", "申报数据与统计年鉴不符。".to_string()),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--{boundary}--\r\n"
    ));
    let a = send(
        anonymous
            .post(t.url(&format!("/notices/{}/objections", f.round_id)))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("控制字符"), "{}", a.body);
    assert_eq!(objection::Entity::find().count(&t.app.db).await.unwrap(), 0);
}

/// A malformed request and what the house answer must say.
struct Malformed {
    what: &'static str,
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Option<String>,
    status: u16,
    /// Text the Chinese answer contains.
    says: &'static str,
}

fn case(
    what: &'static str,
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Option<&str>,
    status: u16,
    says: &'static str,
) -> Malformed {
    Malformed {
        what,
        method,
        path,
        content_type,
        body: body.map(str::to_string),
        status,
        says,
    }
}

async fn run(
    t: &TestApp,
    client: &reqwest::Client,
    auth: Option<&str>,
    csrf: Option<&str>,
    c: &Malformed,
) -> Answer {
    let mut req = client.request(c.method.parse().unwrap(), t.url(c.path));
    if let Some(tok) = auth {
        req = req.bearer_auth(tok);
    }
    if let Some(csrf) = csrf {
        req = req.header("x-csrf-token", csrf);
    }
    if let Some(ct) = c.content_type {
        req = req.header("content-type", ct);
    }
    if let Some(b) = &c.body {
        req = req.body(b.clone());
    }
    send(req).await
}

fn looks_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        && !text.contains("Failed to")
        && !text.contains("Invalid URL")
        && !text.contains("Expected request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_rejections_answer_in_chinese_in_the_house_format() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let auditor = token(&t, "auditor").await;
    let json = Some("application/json");
    let big_json = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "x".repeat(2_200_000)
    );
    let api = [
        case(
            "a word for an id",
            "GET",
            "/api/v1/users/abc",
            None,
            None,
            400,
            "abc",
        ),
        case(
            "a fraction for an id",
            "GET",
            "/api/v1/applications/1.5",
            None,
            None,
            400,
            "1.5",
        ),
        case(
            "an id beyond i64",
            "GET",
            "/api/v1/organisations/99999999999999999999",
            None,
            None,
            400,
            "请求地址有误",
        ),
        case(
            "a public route's bad id",
            "GET",
            "/api/v1/notices/abc",
            None,
            None,
            400,
            "abc",
        ),
        case(
            "broken JSON",
            "POST",
            "/api/v1/users",
            json,
            Some("{\"username\":"),
            400,
            "不是有效的JSON",
        ),
        case(
            "missing fields",
            "POST",
            "/api/v1/users",
            json,
            Some("{\"username\": \"zhang\"}"),
            422,
            "缺少此项",
        ),
        case(
            "a word for a number",
            "POST",
            "/api/v1/users",
            json,
            Some(
                "{\"username\": \"zhang\", \"display_name\": \"张\", \"org_id\": \"abc\", \"role\": \"applicant\"}",
            ),
            422,
            "应为整数",
        ),
        case(
            "not JSON at all",
            "POST",
            "/api/v1/users",
            Some("text/plain"),
            Some("username=zhang"),
            415,
            "JSON",
        ),
        case(
            "no content type",
            "POST",
            "/api/v1/users",
            None,
            Some("{}"),
            415,
            "JSON",
        ),
        case(
            "the wrong method",
            "DELETE",
            "/api/v1/users",
            None,
            None,
            405,
            "DELETE",
        ),
        case(
            "an unknown route",
            "GET",
            "/api/v1/no-such-thing",
            None,
            None,
            404,
            "未找到",
        ),
        case(
            "an unknown version",
            "GET",
            "/api/v2/users",
            None,
            None,
            404,
            "未找到",
        ),
        case(
            "a body too large",
            "POST",
            "/api/v1/session",
            json,
            Some(&big_json),
            413,
            "过大",
        ),
    ];
    let client = no_redirects();
    let mut failures = Vec::new();
    for c in &api {
        let a = run(&t, &client, Some(&admin), None, c).await;
        let v = a.json();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        let fields = v["error"]["fields"].to_string();
        let ok = a.status == c.status
            && a.content_type.starts_with("application/json")
            && v["error"]["code"].is_string()
            && v["error"]["fields"].is_array()
            && looks_chinese(message)
            && (message.contains(c.says) || fields.contains(c.says));
        if !ok {
            failures.push(format!(
                "API {}: {} {} → {} {} {}",
                c.what,
                c.method,
                c.path,
                a.status,
                a.content_type,
                a.body.chars().take(300).collect::<String>()
            ));
        }
        if c.status == 405 && a.allow.is_none() {
            failures.push(format!("API {}: 405 without Allow", c.what));
        }
    }
    // A query that does not parse (the audit log's page number).
    let a = run(
        &t,
        &client,
        Some(&auditor),
        None,
        &case(
            "a word for a page",
            "GET",
            "/api/v1/audit?page=abc",
            None,
            None,
            400,
            "page",
        ),
    )
    .await;
    let v = a.json();
    if !(a.status == 400
        && v["error"]["fields"][0]["field"] == "page"
        && looks_chinese(v["error"]["message"].as_str().unwrap_or_default()))
    {
        failures.push(format!("API bad query → {} {}", a.status, a.body));
    }

    // The same in the browser: the Chinese error page, framed for the signed-in user.
    let page = support::page_login(&t, "sysadmin").await;
    let html = page
        .get(t.url("/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = support::csrf_from(&html);
    let form = Some("application/x-www-form-urlencoded");
    let big_form = format!("_csrf={csrf}&display_name={}", "x".repeat(1_500_000));
    let pages = [
        case(
            "a word for an id",
            "GET",
            "/users/abc",
            None,
            None,
            400,
            "请求地址有误",
        ),
        case(
            "a word for a count in the query",
            "GET",
            "/imports/members?target=abc",
            None,
            None,
            400,
            "查询参数有误",
        ),
        case(
            "an unknown page",
            "GET",
            "/no-such-page",
            None,
            None,
            404,
            "页面不存在",
        ),
        case(
            "the wrong method",
            "POST",
            "/users",
            form,
            Some(&format!("_csrf={csrf}")),
            405,
            "POST",
        ),
        case(
            "JSON to a form",
            "POST",
            "/users/new",
            json,
            Some("{}"),
            415,
            "表单",
        ),
        case(
            "a form of 1.5 MB",
            "POST",
            "/users/new",
            form,
            Some(&big_form),
            413,
            "过大",
        ),
        case(
            "a missing form field",
            "POST",
            "/users/1/credentials",
            form,
            Some(&format!("_csrf={csrf}")),
            422,
            "action",
        ),
    ];
    for c in &pages {
        let a = run(&t, &page, None, Some(&csrf), c).await;
        let ok = a.status == c.status
            && a.content_type.starts_with("text/html")
            && looks_chinese(&a.body)
            && a.body.contains(c.says)
            && !a.body.contains("CSRF")
            && a.body.contains("id=\"nav\"");
        if !ok {
            failures.push(format!(
                "page {}: {} {} → {} {} {}",
                c.what,
                c.method,
                c.path,
                a.status,
                a.content_type,
                a.body.chars().take(300).collect::<String>()
            ));
        }
    }
    // Signed out, a large login form is "too large", not an expired page.
    let a = send(
        no_redirects()
            .post(t.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "username=applicant&password={}",
                "x".repeat(1_500_000)
            )),
    )
    .await;
    if !(a.status == 413 && a.body.contains("过大") && !a.body.contains("CSRF")) {
        failures.push(format!("large login form → {} {}", a.status, a.body));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_declares_the_schemes_and_the_errors_given() {
    let t = support::spawn().await;
    let (status, doc) = call(&t, "", "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["cookie"]["in"], "cookie");
    let op = &doc["paths"]["/api/v1/users/{id}"]["put"];
    for code in ["400", "401", "403", "404", "409", "413", "415", "422"] {
        assert_eq!(
            op["responses"][code]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "PUT /users/{{id}} {code}"
        );
    }
    assert_eq!(op["security"][0]["bearer"], json!([]));
    let login = &doc["paths"]["/api/v1/session"]["post"];
    assert_eq!(login["security"], json!([]));
    assert!(login["responses"]["429"].is_object());
    // Every operation declares what it needs to be called with.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["security"].is_array(), "{method} {path}");
        }
    }
}
