//! The city's bulk 推荐 from the 初审 queue (第九条, the per-county cap of 第十六条): several
//! applications in one transaction through the same service as one at a time, all or nothing,
//! one confirmation tick on the page, and two bulk requests at once cannot pass the cap.

use serde_json::{Value, json};

use crate::applications::{call_json, open_call, started, submit_complete};
use crate::fixtures::{get_page, post_page};
use crate::support::{self, TestApp};
use crate::{call, token};

const ORG: &str = "长沙工程机械产业集群促进会";

/// Three submitted 长沙 applications: two in 长沙县 (cap 1), one in 岳麓区.
async fn three_submitted(t: &TestApp) -> [i64; 3] {
    let call_id = open_call(t).await;
    let mut ids = [0; 3];
    for (i, (county, name)) in [
        ("430121", "长沙县工程机械集群"),
        ("430121", "长沙县智能制造集群"),
        ("430104", "岳麓区新材料集群"),
    ]
    .into_iter()
    .enumerate()
    {
        let (id, v) = started(t, call_id, "applicant", ORG, "430100", county, name).await;
        submit_complete(t, "applicant", id, v).await;
        ids[i] = id;
    }
    ids
}

async fn statuses(t: &TestApp, tok: &str) -> Vec<(i64, String)> {
    let (status, list) = call(t, tok, "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 200, "{list}");
    let mut out: Vec<(i64, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    out.sort();
    out
}

fn recommended(list: &[(i64, String)]) -> usize {
    list.iter().filter(|(_, s)| s == "recommended").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_are_recommended_at_once_each_audited() {
    let t = support::spawn().await;
    let [a, _, c] = three_submitted(&t).await;
    let city = token(&t, "changsha").await;
    let (status, body) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [a, c]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list = statuses(&t, &city).await;
    assert_eq!(recommended(&list), 2, "{list:?}");
    let auditor = token(&t, "auditor").await;
    let (_, log) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?action=application.recommend",
        None,
    )
    .await;
    assert_eq!(log["entries"].as_array().unwrap().len(), 2, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_that_cannot_be_recommended_stops_the_batch_and_is_named() {
    let t = support::spawn().await;
    let [a, _, c] = three_submitted(&t).await;
    let city = token(&t, "changsha").await;
    let (status, _) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [c]}),
    )
    .await;
    assert_eq!(status, 200);
    // c is already recommended: the batch writes nothing and names it.
    let (status, body) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [a, c]}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("“岳麓区新材料集群”")
            && message.contains("已推荐")
            && message.contains("所选申报均未推荐"),
        "{message}"
    );
    let list = statuses(&t, &city).await;
    assert_eq!(recommended(&list), 1, "a was not recommended: {list:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_asks_for_one_tick_and_keeps_the_choice_without_it() {
    let t = support::spawn().await;
    let [a, _, c] = three_submitted(&t).await;
    let client = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&client, &t, "/reviews").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"bulk-acknowledge\""), "{html}");
    let csrf = support::csrf_from(&html);
    let pick_a = format!("id_{a}");
    let pick_c = format!("id_{c}");
    let res = post_page(
        &client,
        &t,
        "/reviews/recommend",
        &[
            ("_csrf", csrf.as_str()),
            (pick_a.as_str(), "on"),
            (pick_c.as_str(), "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("data-error-for=\"acknowledge\"")
            && res
                .body
                .contains("请勾选“我已审阅所选申报的材料和完整性检查结果”"),
        "{}",
        res.body
    );
    let city = token(&t, "changsha").await;
    assert_eq!(
        recommended(&statuses(&t, &city).await),
        0,
        "nothing written"
    );
    let res = post_page(
        &client,
        &t,
        "/reviews/recommend",
        &[
            ("_csrf", csrf.as_str()),
            (pick_a.as_str(), "on"),
            (pick_c.as_str(), "on"),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(recommended(&statuses(&t, &city).await), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bulk_requests_at_once_cannot_pass_the_county_cap() {
    let t = support::spawn().await;
    let [a, b, _] = three_submitted(&t).await;
    let city = token(&t, "changsha").await;
    let send = |id: i64| {
        let t = &t;
        let city = city.clone();
        async move {
            call_json(
                t,
                &city,
                "POST",
                "/api/v1/applications/recommend",
                json!({"ids": [id]}),
            )
            .await
        }
    };
    let ((sa, ba), (sb, bb)): ((u16, Value), (u16, Value)) = tokio::join!(send(a), send(b));
    let mut answered = [sa, sb];
    answered.sort_unstable();
    assert_eq!(answered, [200, 422], "{ba} {bb}");
    let refused = if sa == 422 { ba } else { bb };
    assert_eq!(refused["error"]["fields"][0]["field"], "cap_justification");
    let list = statuses(&t, &city).await;
    assert_eq!(recommended(&list), 1, "the cap of 长沙县 holds: {list:?}");
}
