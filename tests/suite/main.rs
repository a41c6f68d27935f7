//! Storage and HTTP tests against a real server, on SQLite by default and on PostgreSQL when
//! JIQUN_TEST_DATABASE_URL is set. Each test gets its own database.
// A failed set-up step ends the test or benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod access;
mod applications;
mod attachments;
mod audit_chain;
mod audit_changes;
mod bulk_recommend;
mod call_rules;
mod city_competitions;
mod clusters;
mod competitions;
mod county;
mod dashboard;
mod demo_clock;
mod doors;
mod extensions;
mod finals;
mod fixtures;
mod floors;
mod funding;
mod guidance;
mod hardening;
mod hygiene;
mod imports;
mod kept_pages;
mod lifecycle;
mod listing;
mod lists;
mod mail;
mod nomination;
mod notices;
mod observability;
mod organisations;
mod performance;
mod policies;
mod presentation;
mod recheck;
mod records;
mod reports;
mod revocation;
mod round_flow;
mod rounds;
mod scale;
mod scale_out;
mod scopes;
mod scoring;
mod sealing;
mod second_programme;
mod security;
mod startup;
mod tokens;

use jiqun::store::id::OrgId;
use serde_json::{Value, json};
use support::{DEMO_PASSWORD, TestApp};

/// Signs in through the API (second factor included) and returns the bearer token.
pub async fn token(t: &TestApp, username: &str) -> String {
    let mut body = json!({"username": username, "password": DEMO_PASSWORD});
    if matches!(username, "sysadmin" | "secadmin" | "auditor" | "province") {
        body["code"] = json!(t.totp(username));
    }
    let res = reqwest::Client::new()
        .post(t.url("/api/v1/session"))
        .json(&body)
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status(), 200, "login of {username}");
    let v: Value = res.json().await.expect("login json");
    assert_eq!(v["stage"], "complete", "{username}: {v}");
    v["token"].as_str().expect("token").to_string()
}

pub async fn call(
    t: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    // Never follow redirects: an API answer must be the API's own.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut req = client
        .request(method.parse().expect("method"), t.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The id of a demo organisation by name.
pub async fn org_id(t: &TestApp, name: &str) -> OrgId {
    let admin = token(t, "sysadmin").await;
    let (status, list) = call(t, &admin, "GET", "/api/v1/organisations", None).await;
    assert_eq!(status, 200);
    list.as_array()
        .expect("list")
        .iter()
        .find(|o| o["name"] == name)
        .and_then(|o| o["id"].as_i64())
        .map(OrgId::new)
        .unwrap_or_else(|| panic!("no organisation {name}"))
}
