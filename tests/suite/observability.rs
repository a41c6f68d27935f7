//! Request ids: every answer carries one, a caller's own is echoed, and error answers show it so
//! a user can quote it.

use sea_orm::ConnectionTrait;

use crate::support;
use crate::{call, token};

fn request_id(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id header")
        .to_string()
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_echoes_the_callers() {
    let t = support::spawn().await;
    let client = support::client();
    let first = client.get(t.url("/login")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let a = request_id(&first);
    let second = client.get(t.url("/healthz")).send().await.unwrap();
    let b = request_id(&second);
    assert!(!a.is_empty());
    assert_ne!(a, b, "each request gets its own id");

    let mine = client
        .get(t.url("/login"))
        .header("x-request-id", "ticket-4711.a_b")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&mine), "ticket-4711.a_b");

    // An id that cannot go into a log line as is gets replaced.
    let odd = client
        .get(t.url("/login"))
        .header("x-request-id", "a b\"c")
        .send()
        .await
        .unwrap();
    assert_ne!(request_id(&odd), "a b\"c");
}

#[tokio::test]
async fn error_pages_and_internal_api_errors_show_the_request_id() {
    let t = support::spawn().await;
    let client = support::client();
    let res = client.get(t.url("/no-such-page")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let id = request_id(&res);
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("请求编号：{id}")), "{html}");

    // A broken database is a 500 that names the request, on a page and in the API.
    let admin = token(&t, "province").await;
    t.app()
        .db
        .execute_unprepared("ALTER TABLE rounds RENAME TO rounds_away")
        .await
        .unwrap();
    let res = client
        .get(t.url("/notices"))
        .header("x-request-id", "broken-page-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(request_id(&res), "broken-page-1");
    let html = res.text().await.unwrap();
    assert!(html.contains("请求编号：broken-page-1"), "{html}");

    let (status, body) = call(&t, &admin, "GET", "/api/v1/rounds", None).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal");
    assert!(
        body["error"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{body}"
    );
}
