//! Individual extensions: the province gives one applicant more time to submit, the city bureau
//! more time for its own review of one application; each with a reason, audited, visible to the
//! applicant and the city, and enforced by the server exactly like the call's deadline.

use jiqun::store::entity::audit_entry;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use time::Duration;

use crate::applications::{call_json, complete_form, open_call, started};
use crate::support;
use crate::token;

fn field_of(body: &Value, field: &str) -> String {
    body["error"]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|x| x["field"] == field))
        .and_then(|x| x["message"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_applicant_gets_more_time_and_the_server_holds_it_to_it() {
    let t = support::spawn().await;
    let call_id = open_call(&t).await;
    let (id, v) = started(
        &t,
        call_id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙工程机械产业集群",
    )
    .await;
    let me = token(&t, "applicant").await;
    let (_, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form("150"), "version": v}),
    )
    .await;
    let v = d["application"]["version"].as_i64().unwrap() as i32;
    // The call's deadline passes: the submission is refused.
    t.app.clock.advance(Duration::days(10) + Duration::hours(1));
    let me = token(&t, "applicant").await;
    let submit = format!("/api/v1/applications/{id}/submit");
    let (status, _) = call_json(&t, &me, "POST", &submit, json!({"version": v})).await;
    assert_eq!(status, 409);

    let path = format!("/api/v1/applications/{id}/extensions");
    let until = jiqun::clock::datetime_local_value(t.app.clock.now() + Duration::days(2));
    // Nobody but the province extends a submission; a reason is required.
    let (status, _) = call_json(
        &t,
        &me,
        "POST",
        &path,
        json!({"step": "submission", "until": until, "reason": "系统故障"}),
    )
    .await;
    assert_eq!(status, 403, "the applicant cannot extend itself");
    let province = token(&t, "province").await;
    let (status, answer) = call_json(
        &t,
        &province,
        "POST",
        &path,
        json!({"step": "submission", "until": until, "reason": " "}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        field_of(&answer, "reason").contains("请填写延期理由"),
        "{answer}"
    );
    let (status, granted) = call_json(
        &t,
        &province,
        "POST",
        &path,
        json!({"step": "submission", "until": until,
               "reason": "申报截止当日系统故障2小时，经核实予以个别延期"}),
    )
    .await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["step_label"], "申报提交");
    assert_eq!(
        audit_entry::Entity::find()
            .filter(audit_entry::Column::Action.eq("application.extend"))
            .filter(audit_entry::Column::ObjectId.eq(id.to_string()))
            .count(&t.app.db)
            .await
            .unwrap(),
        1
    );
    // The applicant sees it and may submit again until the new deadline.
    let (status, list) = call_json(&t, &me, "GET", &path, json!(null)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["reason"], granted["reason"]);
    let (status, body) = call_json(&t, &me, "POST", &submit, json!({"version": v})).await;
    assert_eq!(status, 200, "{body}");

    // The city's review deadline passes; its recommendation is refused until the city extends
    // its own review for this application (it may not extend a submission).
    t.app.clock.advance(Duration::days(10));
    let city = token(&t, "changsha").await;
    let (status, _) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 409);
    let until = jiqun::clock::datetime_local_value(t.app.clock.now() + Duration::days(3));
    let (status, answer) = call_json(
        &t,
        &city,
        "POST",
        &path,
        json!({"step": "submission", "until": until, "reason": "x"}),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        field_of(&answer, "step").contains("只能延长本市初审"),
        "{answer}"
    );
    let (status, answer) = call_json(
        &t,
        &city,
        "POST",
        &path,
        json!({"step": "review", "until": until, "reason": "初审专家因公出差，延期三天"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, body) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, list) = call_json(&t, &city, "GET", &path, json!(null)).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);

    // The applicant's page lists both grants, without the form.
    let client = support::page_login(&t, "applicant").await;
    let html = client
        .get(t.url(&format!("/applications/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"extension-list\""), "{html}");
    assert!(html.contains("初审专家因公出差"), "{html}");
    assert!(
        !html.contains("id=\"extension-form\""),
        "the applicant gets no form"
    );
}
