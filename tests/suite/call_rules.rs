//! Item 4 of issue 13 over HTTP: the yearly notice's own rules. The province sets, within the
//! policy, that year's stricter thresholds, quotas per kind, extra files and requirements on the
//! call (form and API); they are shown on the call, read by the applicant's checks and the
//! submission, refused when looser than the policy, and frozen once an application is submitted.

use jiqun::store::id::CompetitionId;
use serde_json::{Value, json};

use crate::applications::{call_json, complete_form, started};
use crate::competitions::{OVERRIDE_DOCUMENT, OVERRIDE_REASON, call_body, field_messages};
use crate::support::{self, TestApp};
use crate::{call, token};

async fn create(t: &TestApp, rules: Value) -> (u16, Value) {
    let province = token(t, "province").await;
    let mut body = call_body(t, 2027, 10, 20);
    body["call_rules"] = rules;
    call(t, &province, "POST", "/api/v1/competitions", Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stricter_threshold_refuses_what_the_policy_would_accept() {
    let t = support::spawn().await;
    let (status, c) = create(
        &t,
        json!({
            "thresholds": {"cluster_revenue.leading": "120", "cluster_revenue.specialty": ""},
            "quotas": {"leading": "2"},
            "attachments": {"evidence": "2026年度统计年报"},
            "requirements": "申报材料须经市州工信局盖章。"
        }),
    )
    .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        c["call_rules"],
        json!([
            "优势产业集群：集群营业收入应不低于120亿元（办法规定≥100）",
            "优势产业集群：每轮胜出不超过2个",
            "申报须另附：2026年度统计年报"
        ])
    );
    assert_eq!(c["requirements"], "申报材料须经市州工信局盖章。");
    let id = CompetitionId::new(c["id"].as_i64().unwrap());
    // The call's page shows them.
    let browser = support::page_login(&t, "applicant").await;
    let page = browser
        .get(t.url(&format!("/competitions/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("集群营业收入应不低于120亿元（办法规定≥100）"),
        "{page}"
    );
    assert!(page.contains("申报材料须经市州工信局盖章。"));

    // 110亿元 meets the policy's 100 but not this year's 120; the extra file is asked for.
    let (app, v) = started(
        &t,
        id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙工程机械产业集群",
    )
    .await;
    // The application page repeats that year's requirements to the applicant.
    let page = browser
        .get(t.url(&format!("/applications/{app}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("本年度申报要求") && page.contains("申报材料须经市州工信局盖章。"),
        "{page}"
    );
    let me = token(&t, "applicant").await;
    let (_, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{app}"),
        json!({"form": complete_form("110"), "version": v}),
    )
    .await;
    let problems: Vec<(String, String)> = d["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap().into(),
                p["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        problems.contains(&(
            "indicators.cluster_revenue".into(),
            "集群营业收入应不低于120亿元".into()
        )),
        "{d}"
    );
    assert!(
        problems.contains(&(
            "attachments.evidence".into(),
            "请上传2026年度统计年报".into()
        )),
        "{d}"
    );
    let v = d["application"]["version"].as_i64().unwrap() as i32;
    let (status, err) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{app}/submit"),
        json!({"version": v}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        field_messages(&err).contains(&(
            "indicators.cluster_revenue".into(),
            "集群营业收入应不低于120亿元".into()
        )),
        "{err}"
    );

    // Until an application is submitted the province may still change the rules …
    let province = token(&t, "province").await;
    let mut body = call_body(&t, 2027, 10, 20);
    body["call_rules"] = json!({"thresholds": {"cluster_revenue.leading": "110"}});
    body["version"] = c["version"].clone();
    let (status, updated) = call(
        &t,
        &province,
        "PUT",
        &format!("/api/v1/competitions/{id}"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["call_rules"],
        json!(["优势产业集群：集群营业收入应不低于110亿元（办法规定≥100）"])
    );
    // … and 110亿元 now passes.
    let v = submit_complete_with(&t, app, v, "110").await;
    assert!(v > 0);

    // Once one is submitted the rules are frozen; the rest of the call may still change.
    let mut frozen = body.clone();
    frozen["call_rules"] = json!({"thresholds": {"cluster_revenue.leading": "130"}});
    frozen["version"] = updated["version"].clone();
    let (status, err) = call(
        &t,
        &province,
        "PUT",
        &format!("/api/v1/competitions/{id}"),
        Some(frozen),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        field_messages(&err)
            .iter()
            .any(|(f, m)| f == "requirements" && m.contains("已冻结")),
        "{err}"
    );
    let mut title = body.clone();
    title["title"] = json!("关于组织开展2027年度竞赛的通知（修订）");
    title["version"] = updated["version"].clone();
    let (status, ok) = call(
        &t,
        &province,
        "PUT",
        &format!("/api/v1/competitions/{id}"),
        Some(title),
    )
    .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["call_rules"], updated["call_rules"]);
}

/// Saves the complete form with `revenue` and submits it.
async fn submit_complete_with(t: &TestApp, app: i64, version: i32, revenue: &str) -> i32 {
    let me = token(t, "applicant").await;
    let (status, d) = call_json(
        t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{app}"),
        json!({"form": complete_form(revenue), "version": version}),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    let version = d["application"]["version"].as_i64().unwrap() as i32;
    let (status, body) = call_json(
        t,
        &me,
        "POST",
        &format!("/api/v1/applications/{app}/submit"),
        json!({"version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["application"]["version"].as_i64().unwrap() as i32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looser_threshold_is_refused_on_the_call_form_with_a_chinese_message() {
    let t = support::spawn().await;
    // The API names the field and writes nothing.
    let (status, err) = create(
        &t,
        json!({"thresholds": {"cluster_revenue.leading": "90"}, "quotas": {"leading": "0"}}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    let fields = field_messages(&err);
    assert!(
        fields.contains(&(
            "threshold.cluster_revenue.leading".into(),
            "优势产业集群“集群营业收入”门槛不能比办法规定的≥100更宽松".into()
        )),
        "{err}"
    );
    assert!(fields.contains(&("quota.leading".into(), "每轮胜出名额上限应至少为1".into())));

    // The page shows the message beside the field and keeps the other input.
    let client = support::page_login(&t, "province").await;
    let page = client
        .get(t.url("/competitions/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"threshold.cluster_revenue.specialty\""),
        "{page}"
    );
    let csrf = support::csrf_from(&page);
    let body = call_body(&t, 2027, 10, 20);
    let s = |k: &str| body[k].as_str().unwrap().to_string();
    let form = vec![
        ("_csrf", csrf),
        ("year", "2027".into()),
        ("title", s("title")),
        ("policy_id", "hunan-2021".into()),
        ("submission_deadline", s("submission_deadline")),
        ("review_deadline", s("review_deadline")),
        ("notice_text", s("notice_text")),
        ("version", "0".into()),
        ("override_reason", OVERRIDE_REASON.into()),
        ("override_document", OVERRIDE_DOCUMENT.into()),
        ("threshold.cluster_revenue.specialty", "abc".into()),
        ("threshold.chain_leader_revenue.leading", "8".into()),
        ("quota.specialty", "3".into()),
        ("requirements", "须附统计年报。".into()),
    ];
    let res = client
        .post(t.url("/competitions/new"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("data-error-for=\"threshold.chain_leader_revenue.leading\""),
        "{html}"
    );
    assert!(html.contains("优势产业集群“链主企业营业收入”门槛不能比办法规定的≥10更宽松"));
    assert!(html.contains("data-error-for=\"threshold.cluster_revenue.specialty\""));
    assert!(html.contains("请填写数字"));
    assert!(html.contains("value=\"3\""), "the other input is kept");
    assert!(html.contains("须附统计年报。"));
    let province = token(&t, "province").await;
    let (_, list) = call(&t, &province, "GET", "/api/v1/competitions", None).await;
    assert!(
        !list.to_string().contains("2027年度"),
        "nothing was written: {list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calls_quota_per_kind_caps_a_rounds_quota() {
    use jiqun::store::entity::{competition, round};
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let t = support::spawn().await;
    let r = crate::fixtures::scoring_round(
        &t,
        time::Duration::hours(-1),
        time::Duration::days(7),
        false,
    )
    .await;
    let stored = crate::fixtures::stored_round(&t, r.id).await;
    let c = competition::Entity::find_by_id(stored.competition_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    // The round was opened with two 优势 places; that year's call allows one.
    let mut rm: round::ActiveModel = stored.into();
    rm.quotas = Set(r#"{"leading":2,"specialty":1}"#.into());
    rm.update(&t.app.db).await.unwrap();
    let mut cm: competition::ActiveModel = c.into();
    cm.call_rules = Set(Some(r#"{"quotas":{"leading":1}}"#.into()));
    cm.update(&t.app.db).await.unwrap();
    t.app.rankings.clear();
    crate::fixtures::score_all(
        &t,
        &r,
        [
            &[90.0, 90.0, 90.0, 90.0, 90.0],
            &[80.0, 80.0, 80.0, 80.0, 80.0],
            &[70.0, 70.0, 70.0, 70.0, 70.0],
        ],
    )
    .await;
    let province = token(&t, "province").await;
    let (status, v) = crate::fixtures::on_round(&t, &province, "GET", r.id, "ranking", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["kinds"][0]["quota"], 1);
    let rows = v["kinds"][0]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["within_quota"], true);
    assert_eq!(rows[1]["within_quota"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_cannot_be_opened_with_more_places_than_the_call_allows() {
    use jiqun::store::entity::competition;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let t = support::spawn().await;
    let s = crate::fixtures::showcase(&t).await;
    let c = competition::Entity::find_by_id(s.competition_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut cm: competition::ActiveModel = c.into();
    cm.call_rules = Set(Some(r#"{"quotas":{"leading":1}}"#.into()));
    cm.update(&t.app.db).await.unwrap();
    let province = token(&t, "province").await;
    let path = format!("/api/v1/competitions/{}/rounds", s.competition_id);
    let mut plan = crate::fixtures::RoundPlan::new("preliminary", 5, "").json(&t);
    plan["quotas"] = json!({"leading": 2, "specialty": 1});
    let (status, v) = call(&t, &province, "POST", &path, Some(plan.clone())).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        field_messages(&v),
        [(
            "quotas".to_string(),
            "本年度竞赛通知规定优势产业集群每轮最多入选1个，不能设置为2个".to_string()
        )]
    );
    plan["quotas"] = json!({"leading": 1, "specialty": 1});
    let (status, v) = call(&t, &province, "POST", &path, Some(plan)).await;
    assert_eq!(status, 200, "{v}");
}
