//! Organisations through the API: credit-code validation, region checks, concurrent edits.

use jiqun_domain::credit_code::CreditCode;
use serde_json::json;

use crate::support;
use crate::{call, token};

fn code(body: &str) -> String {
    CreditCode::from_parts('9', '1', "430100", body)
        .unwrap()
        .as_str()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_codes_are_checked_with_a_message_that_says_what_is_wrong() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let valid = code("MA4L0001");
    let mut wrong_check = valid.clone();
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '1' { '2' } else { '1' });
    let cases = [
        ("", "申报主体须填写统一社会信用代码"),
        ("91430100MA4L0001", "应为18位"),
        (wrong_check.as_str(), "校验码错误"),
        ("91430100MA4I00010X", "不允许使用"),
    ];
    for (credit, expected) in cases {
        let (status, body) = call(
            &t,
            &admin,
            "POST",
            "/api/v1/organisations",
            Some(json!({
            "name": "某产业集群促进会", "kind": "promotion_org", "credit_code": credit,
            "city_code": "430100", "county_code": "430102"})),
        )
        .await;
        assert_eq!(status, 422, "{credit}");
        let field = &body["error"]["fields"][0];
        assert_eq!(field["field"], "credit_code", "{body}");
        assert!(
            field["message"].as_str().unwrap().contains(expected),
            "{credit}: {body}"
        );
    }
    let (status, created) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/organisations",
        Some(json!({
        "name": "某产业集群促进会", "kind": "promotion_org", "credit_code": valid.to_lowercase(),
        "city_code": "430100", "county_code": "430102"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["credit_code"], valid, "stored upper-case");
    assert_eq!(created["county_name"], "芙蓉区");
    let (status, body) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/organisations",
        Some(json!({
        "name": "另一促进会", "kind": "promotion_org", "credit_code": valid,
        "city_code": "430100", "county_code": "430102"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "该统一社会信用代码已登记"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_must_belong_to_the_city() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let (status, body) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/organisations",
        Some(json!({
        "name": "某促进会", "kind": "promotion_org", "credit_code": code("MA4L0002"),
        "city_code": "430100", "county_code": "430602"})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("不属于长沙市"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_edit_is_refused_not_silently_applied() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let (_, own) = call(&t, &applicant, "GET", "/api/v1/organisations", None).await;
    let org = &own[0];
    let id = org["id"].as_i64().unwrap();
    let mut edit = json!({"name": org["name"], "kind": "promotion_org", "credit_code": org["credit_code"],
        "city_code": "430100", "county_code": "430121", "contact_person": "刘一", "contact_phone": "0731-1234567",
        "version": org["version"]});
    let (status, first) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/organisations/{id}"),
        Some(edit.clone()),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    edit["contact_person"] = json!("刘二");
    let (status, body) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/organisations/{id}"),
        Some(edit),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "stale_version");
    let (_, now) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/organisations/{id}"),
        None,
    )
    .await;
    assert_eq!(now["contact_person"], "刘一");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_lists_the_api() {
    let t = support::spawn().await;
    let spec: serde_json::Value = reqwest::get(t.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/session",
        "/api/v1/organisations",
        "/api/v1/users",
        "/api/v1/audit",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_working_day_calendar_answers_and_takes_a_new_year() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let (status, day) = call(&t, &applicant, "GET", "/api/v1/calendar/2026-10-01", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (day["working"].as_bool(), day["reason"].as_str()),
        (Some(false), Some("国庆节"))
    );
    let (status, day) = call(&t, &applicant, "GET", "/api/v1/calendar/2026-02-14", None).await;
    assert_eq!(
        (status, day["working"].as_bool()),
        (200, Some(true)),
        "调休上班 on a Saturday"
    );
    let (status, body) = call(&t, &applicant, "GET", "/api/v1/calendar/2027-01-04", None).await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2027"),
        "{body}"
    );

    // The system administrator imports 2027 on the calendar page; the API then knows it.
    let client = support::page_login(&t, "sysadmin").await;
    let home = client
        .get(t.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("导入2027年节假日安排（国务院办公厅通知发布后）"),
        "the workbench asks for next year's schedule: {home}"
    );
    let page = client
        .get(t.url("/calendar"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = support::csrf_from(&page);
    let source = "[2027]\nholidays = [\n  { name = \"元旦\", from = 2027-01-01, to = 2027-01-03 },\n]\nworkdays = []\n";
    let res = client
        .post(t.url("/calendar/import"))
        .form(&[("_csrf", csrf.as_str()), ("source", source)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let (status, day) = call(&t, &applicant, "GET", "/api/v1/calendar/2027-01-04", None).await;
    assert_eq!((status, day["working"].as_bool()), (200, Some(true)));
    let (_, day) = call(&t, &applicant, "GET", "/api/v1/calendar/2027-01-01", None).await;
    assert_eq!(day["reason"], "元旦");
    let home = client
        .get(t.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("尚未导入2027年"), "the to-do is gone");
}
