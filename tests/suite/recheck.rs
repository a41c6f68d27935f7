//! 复核 (第十四条): the clusters whose live title falls due in a year, by scope.

use serde_json::Value;

use crate::fixtures::{CHANGSHA, confirmed_round, field_message, get_page};
use crate::revocation::revoke_by_case;
use crate::support;
use crate::{call, token};

fn names(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cluster_name"].as_str().unwrap().to_string(),
                r["due_on"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clusters_due_in_a_year_are_listed_three_years_after_designation() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let province = token(&t, "province").await;
    let due = |year: &str| format!("/api/v1/rechecks/due?year={year}");
    let (status, v) = call(&t, &province, "GET", &due("2029"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        names(&v),
        [
            (CHANGSHA.to_string(), "2029-12-04".to_string()),
            ("岳阳石化产业集群".to_string(), "2029-12-04".to_string())
        ]
    );
    assert_eq!(v[0]["certificate_number"], "湘集群培〔2026〕第001号");
    for year in ["2027", "2028", "2030"] {
        let (_, v) = call(&t, &province, "GET", &due(year), None).await;
        assert_eq!(names(&v), [], "{year}");
    }
    let (_, v) = call(&t, &province, "GET", &due("2032"), None).await;
    assert_eq!(names(&v).len(), 2);
    let (status, v) = call(&t, &province, "GET", &due("明年"), None).await;
    assert_eq!(status, 422);
    assert!(field_message(&v, "year").contains("明年"), "{v}");

    // Each reader within its scope.
    let (_, v) = call(&t, &token(&t, "changsha").await, "GET", &due("2029"), None).await;
    assert_eq!(names(&v).len(), 1);
    assert_eq!(v[0]["cluster_name"], CHANGSHA);
    let (_, v) = call(
        &t,
        &token(&t, "applicant2").await,
        "GET",
        &due("2029"),
        None,
    )
    .await;
    assert_eq!(v[0]["cluster_name"], "岳阳石化产业集群");
    assert_eq!(names(&v).len(), 1);
    let (status, _) = call(&t, &token(&t, "partner").await, "GET", &due("2029"), None).await;
    assert_eq!(status, 403);

    // A revoked title is no longer due.
    revoke_by_case(&t, f.entries[2].cluster_id, "applicant2").await;
    let (_, v) = call(&t, &province, "GET", &due("2029"), None).await;
    assert_eq!(
        names(&v),
        [(CHANGSHA.to_string(), "2029-12-04".to_string())]
    );
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/rechecks/due?year=2029").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("2029年12月4日") && html.contains(CHANGSHA),
        "{html}"
    );
}

// ---------------------------------------------------------------------------------------------
// The proceeding: call → materials → city opinion → panel → notice → conclusion

use jiqun::store::entity::{cluster, cluster_county, designation};
use jiqun::store::id::ClusterId;
use jiqun_domain::region::RegionCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use time::macros::date;

use crate::attachments::post_file;
use crate::fixtures::{YUEYANG, audited, error_message, expert_id, forward_to};
use crate::support::TestApp;

/// The two titles the confirmed round conferred on 4 December 2026, dated three years back so
/// they fall due this year (2026-12-04) while the calendar still covers the dates involved.
async fn due_this_year(t: &TestApp) {
    confirmed_round(t).await;
    for d in designation::Entity::find().all(&t.app.db).await.unwrap() {
        let mut m: designation::ActiveModel = d.into();
        m.effective_on = Set(date!(2023 - 12 - 04));
        m.update(&t.app.db).await.unwrap();
    }
}

async fn cluster_named(t: &TestApp, name: &str) -> ClusterId {
    cluster::Entity::find()
        .filter(cluster::Column::Name.eq(name))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn issue(t: &TestApp, province: &str, deadline: &str) -> Value {
    let (status, v) = call(
        t,
        province,
        "POST",
        "/api/v1/recheck-calls",
        Some(
            json!({"year": "2026", "requirements": "对照认定条件，提交近三年发展情况和主要指标。",
            "deadline": deadline}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// The recheck of a cluster, as `tok` lists it.
async fn recheck_of(t: &TestApp, tok: &str, cluster: &str) -> Value {
    let (status, v) = call(t, tok, "GET", "/api/v1/rechecks", None).await;
    assert_eq!(status, 200, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .find(|r| r["cluster_name"] == cluster)
        .cloned()
        .unwrap_or_else(|| panic!("no recheck of {cluster}: {v}"))
}

async fn step(t: &TestApp, tok: &str, id: i64, what: &str, body: Option<Value>) -> (u16, Value) {
    let method = if what == "materials" { "PUT" } else { "POST" };
    call(
        t,
        tok,
        method,
        &format!("/api/v1/rechecks/{id}/{what}"),
        body,
    )
    .await
}

/// Every indicator the form asks for, filled.
fn filled(r: &Value) -> Value {
    let mut m = serde_json::Map::new();
    for f in r["indicators"].as_array().unwrap() {
        let key = f["key"].as_str().unwrap();
        // The industry code is picked from GB/T 4754; every other indicator is a number.
        let value = if key == "leading_industry_code" {
            "C35"
        } else {
            "50"
        };
        m.insert(key.to_string(), json!(value));
    }
    Value::Object(m)
}

/// The cluster uploads evidence and submits complete materials; its city agrees.
async fn submit_and_opine(t: &TestApp, applicant: &str, city: &str, cluster: &str) -> i64 {
    let tok = token(t, applicant).await;
    let r = recheck_of(t, &tok, cluster).await;
    let id = r["id"].as_i64().unwrap();
    let (status, v) = post_file(
        t,
        &tok,
        &format!("owner_type=recheck&owner_id={id}&purpose=evidence"),
        "复核证明材料.pdf",
        b"%PDF-1.4\n%recheck\n",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = step(
        t,
        &tok,
        id,
        "materials",
        Some(json!({"indicators": filled(&r), "self_assessment": "三年来集群规模稳步增长。", "submit": true})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "submitted");
    let (status, v) = step(
        t,
        &token(t, city).await,
        id,
        "opinion",
        Some(json!({"agrees": true, "opinion": "材料属实，同意通过复核。"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "city_reviewed");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recheck_call_runs_to_a_pass_and_a_fail_that_opens_a_revocation_case() {
    let t = support::spawn().await;
    due_this_year(&t).await;
    let province = token(&t, "province").await;

    // The call: a deadline on a working day after today, and clusters due that year.
    for (body, field, says) in [
        (
            json!({"year": "2026", "requirements": "要求", "deadline": "2026-12-19"}),
            "deadline",
            "不是工作日",
        ),
        (
            json!({"year": "2026", "requirements": "要求", "deadline": "2026-12-03"}),
            "deadline",
            "应晚于今天",
        ),
        (
            json!({"year": "2026", "requirements": " ", "deadline": "2026-12-18"}),
            "requirements",
            "请填写",
        ),
        (
            json!({"year": "2027", "requirements": "要求", "deadline": "2026-12-18"}),
            "year",
            "没有到期复核的集群",
        ),
    ] {
        let (status, v) = call(&t, &province, "POST", "/api/v1/recheck-calls", Some(body)).await;
        assert_eq!(status, 422, "{v}");
        assert!(field_message(&v, field).contains(says), "{v}");
    }
    let (status, _) = call(
        &t,
        &token(&t, "changsha").await,
        "POST",
        "/api/v1/recheck-calls",
        Some(json!({"year": "2026", "requirements": "要求", "deadline": "2026-12-18"})),
    )
    .await;
    assert_eq!(status, 403);
    let c = issue(&t, &province, "2026-12-18").await;
    assert_eq!(c["deadline_zh"], "2026年12月18日");
    let (status, v) = call(
        &t,
        &province,
        "POST",
        "/api/v1/recheck-calls",
        Some(json!({"year": "2026", "requirements": "要求", "deadline": "2026-12-18"})),
    )
    .await;
    assert_eq!(status, 409, "{v}");

    // Each due cluster has a recheck to answer; each reader sees its own scope.
    let (_, all) = call(&t, &province, "GET", "/api/v1/rechecks", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    for (user, cluster) in [
        ("changsha", CHANGSHA),
        ("applicant", CHANGSHA),
        ("yueyang", YUEYANG),
        ("applicant2", YUEYANG),
    ] {
        let (_, v) = call(&t, &token(&t, user).await, "GET", "/api/v1/rechecks", None).await;
        assert_eq!(names_of(&v), [cluster], "{user}");
    }
    let changsha_id = recheck_of(&t, &province, CHANGSHA).await["id"]
        .as_i64()
        .unwrap();
    let (status, _) = call(
        &t,
        &token(&t, "yueyang").await,
        "GET",
        &format!("/api/v1/rechecks/{changsha_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let page = support::page_login(&t, "applicant").await;
    let (_, html) = get_page(&page, &t, "/").await;
    assert!(html.contains("复核材料待提交"), "{html}");

    // A draft keeps what was typed; submission wants every required item and evidence.
    let applicant = token(&t, "applicant").await;
    let (status, v) = step(
        &t,
        &applicant,
        changsha_id,
        "materials",
        Some(json!({"indicators": {}, "self_assessment": "草稿：规模增长情况待补充。"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "due");
    assert_eq!(v["self_assessment"], "草稿：规模增长情况待补充。");
    let (status, v) = step(
        &t,
        &applicant,
        changsha_id,
        "materials",
        Some(json!({"indicators": filled(&v), "self_assessment": "完整。", "submit": true})),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        field_message(&v, "attachments.evidence"),
        "请上传至少一份复核证明材料"
    );
    let (_, v) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/rechecks/{changsha_id}"),
        None,
    )
    .await;
    assert_eq!(
        v["self_assessment"], "草稿：规模增长情况待补充。",
        "a refused submission saves nothing"
    );
    let (status, _) = step(
        &t,
        &token(&t, "applicant2").await,
        changsha_id,
        "materials",
        Some(json!({"self_assessment": "越权"})),
    )
    .await;
    assert_eq!(status, 404);

    submit_and_opine(&t, "applicant", "changsha", CHANGSHA).await;
    let yueyang_id = submit_and_opine(&t, "applicant2", "yueyang", YUEYANG).await;

    // The panel: experts tied to the whole cluster are refused, by the city of any county it
    // spans too (长沙工程机械 also spans 湘潭县).
    let cl = cluster_named(&t, CHANGSHA).await;
    cluster_county::ActiveModel {
        cluster_id: Set(cl),
        county_code: Set(RegionCode::new(430321).unwrap()),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    let review = |experts: Vec<i64>, score: &str, reasons: &str| json!({"expert_ids": experts, "score": score, "reasons": reasons});
    let (e1, e2, e3, e4) = (
        expert_id(&t, "expert").await.get(),
        expert_id(&t, "expert2").await.get(),
        expert_id(&t, "expert3").await.get(),
        expert_id(&t, "expert4").await.get(),
    );
    for (panel, says) in [
        (vec![e1, e3], "长沙市"),
        (vec![e2], "跨及的县市区同属湘潭市"),
    ] {
        let (status, v) = step(
            &t,
            &province,
            changsha_id,
            "review",
            Some(review(panel, "85", "指标全面达标")),
        )
        .await;
        assert_eq!(status, 422, "{v}");
        let m = field_message(&v, "expert_ids");
        assert!(m.contains("回避") && m.contains(says), "{m}");
    }
    let (status, v) = step(
        &t,
        &province,
        changsha_id,
        "review",
        Some(review(vec![e3], "八十", "")),
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_message(&v, "score").contains("八十"));
    assert!(field_message(&v, "reasons").contains("请填写"));
    let (status, v) = step(
        &t,
        &province,
        changsha_id,
        "review",
        Some(review(
            vec![e3, e4],
            "85",
            "主要指标全面达标，集群服务体系完善。",
        )),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["result_label"].as_str()),
        (Some("reviewed"), Some("通过"))
    );
    let (status, v) = step(
        &t,
        &province,
        yueyang_id,
        "review",
        Some(review(
            vec![e3],
            "55.5",
            "产业规模下降，公共服务平台未建成。",
        )),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result_label"], "不通过");
    assert_eq!(v["pass_mark"], 60.0);

    // The result list is publicly noticed for five working days before it is confirmed.
    let (status, v) = step(&t, &province, changsha_id, "conclude", None).await;
    assert_eq!(status, 409);
    assert!(error_message(&v).contains("尚未公示"), "{v}");
    let call_id = c["id"].as_i64().unwrap();
    let (status, v) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/recheck-calls/{call_id}/notice"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["notice_last_day"], "2026-12-10");
    let public = reqwest::get(t.url(&format!("/api/v1/recheck-notices/{call_id}")))
        .await
        .unwrap();
    assert_eq!(public.status(), 200);
    let notice: Value = public.json().await.unwrap();
    let results: Vec<(&str, &str)> = notice["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cluster_name"].as_str().unwrap(),
                r["result_label"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(results, [(CHANGSHA, "通过"), (YUEYANG, "不通过")]);
    let (status, v) = step(&t, &province, changsha_id, "conclude", None).await;
    assert_eq!(status, 409);
    assert!(error_message(&v).contains("公示期至2026年12月10日"), "{v}");

    forward_to(&t, date!(2026 - 12 - 11));
    // A week on, the earlier sessions have timed out.
    let province = token(&t, "province").await;
    let applicant = token(&t, "applicant").await;
    let (status, v) = step(&t, &province, changsha_id, "conclude", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "passed");
    assert_eq!(v["next_due_on"], "2029-12-11");
    assert!(v["revocation_case_id"].is_null());
    let (status, v) = step(&t, &province, yueyang_id, "conclude", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "failed");
    let case_id = v["revocation_case_id"].as_i64().expect("a case is opened");
    let (_, case) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/revocations/{case_id}"),
        None,
    )
    .await;
    assert_eq!(case["ground_key"], "recheck_failed");
    assert_eq!(case["ground_name"], "未通过复核");
    assert_eq!(case["cluster_name"], YUEYANG);
    assert!(case["facts"].as_str().unwrap().contains("55.5"), "{case}");
    assert_eq!(audited(&t, "recheck.pass").await.len(), 1);
    assert_eq!(audited(&t, "recheck.fail").await.len(), 1);
    assert_eq!(audited(&t, "revocation.open").await.len(), 1);

    // The next due date counts from the passed recheck; the history tells both.
    let (_, v) = call(&t, &province, "GET", "/api/v1/rechecks/due?year=2029", None).await;
    // 岳阳 keeps its title (and its cycle) until its case is decided.
    assert_eq!(
        names(&v),
        [
            (YUEYANG.to_string(), "2029-12-04".to_string()),
            (CHANGSHA.to_string(), "2029-12-11".to_string())
        ]
    );
    let (_, h) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/clusters/{cl}/history"),
        None,
    )
    .await;
    let titles: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"提交2026年复核材料") && titles.contains(&"2026年复核：复核通过"),
        "{titles:?}"
    );
}

fn names_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["cluster_name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_submits_nothing_by_the_deadline_faces_a_revocation_case() {
    let t = support::spawn().await;
    due_this_year(&t).await;
    let province = token(&t, "province").await;
    issue(&t, &province, "2026-12-08").await;
    let id = recheck_of(&t, &province, YUEYANG).await["id"]
        .as_i64()
        .unwrap();
    let (status, v) = step(&t, &province, id, "conclude", None).await;
    assert_eq!(status, 409);
    assert!(error_message(&v).contains("尚未届满"), "{v}");
    forward_to(&t, date!(2026 - 12 - 09));
    let province = token(&t, "province").await;
    let applicant2 = token(&t, "applicant2").await;
    let (status, v) = step(
        &t,
        &applicant2,
        id,
        "materials",
        Some(json!({"self_assessment": "迟交", "submit": true})),
    )
    .await;
    assert_eq!(status, 409);
    assert!(error_message(&v).contains("2026年12月8日）已过"), "{v}");
    // Only the province concludes.
    for user in ["yueyang", "applicant2"] {
        let (status, _) = step(&t, &token(&t, user).await, id, "conclude", None).await;
        assert_eq!(status, 403, "{user}");
    }
    let (status, v) = step(&t, &province, id, "conclude", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "lapsed");
    let case_id = v["revocation_case_id"].as_i64().unwrap();
    let (_, case) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/revocations/{case_id}"),
        None,
    )
    .await;
    assert_eq!(case["ground_key"], "recheck_not_applied");
    assert!(
        case["facts"].as_str().unwrap().contains("逾期未提交"),
        "{case}"
    );
    assert_eq!(audited(&t, "recheck.lapse").await.len(), 1);
    // A concluded recheck stays concluded.
    let (status, _) = step(&t, &province, id, "conclude", None).await;
    assert_eq!(status, 409);
}

// ---------------------------------------------------------------------------------------------
// Objections to the result notice

/// Files an objection to a 复核 result notice through the public API (no sign-in).
async fn object_to(t: &TestApp, call_id: i64, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/recheck-notices/{call_id}/objections")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Both due clusters submitted, opined and reviewed (长沙 passes, 岳阳 fails), and the result
/// list published on 4 December 2026 (window to 10 December). Returns (call, 长沙, 岳阳).
async fn noticed_results(t: &TestApp) -> (i64, i64, i64) {
    due_this_year(t).await;
    let province = token(t, "province").await;
    let c = issue(t, &province, "2026-12-18").await;
    let changsha = submit_and_opine(t, "applicant", "changsha", CHANGSHA).await;
    let yueyang = submit_and_opine(t, "applicant2", "yueyang", YUEYANG).await;
    let e3 = expert_id(t, "expert3").await.get();
    for (id, score) in [(changsha, "85"), (yueyang, "52")] {
        let (status, v) = step(
            t,
            &province,
            id,
            "review",
            Some(json!({"expert_ids": [e3], "score": score, "reasons": "专家组评审意见。"})),
        )
        .await;
        assert_eq!(status, 200, "{v}");
    }
    let call_id = c["id"].as_i64().unwrap();
    let (status, v) = call(
        t,
        &province,
        "POST",
        &format!("/api/v1/recheck-calls/{call_id}/notice"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    (call_id, changsha, yueyang)
}

fn recheck_objection(recheck_id: i64, reason: &str) -> Value {
    json!({"recheck_id": recheck_id, "name": "王建国", "contact": "13800138000", "reason": reason})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upheld_objection_reverses_a_noticed_recheck_result_before_it_is_confirmed() {
    let t = support::spawn().await;
    let (call_id, changsha, yueyang) = noticed_results(&t).await;

    // The public page offers the form with every noticed result.
    let html = reqwest::get(t.url(&format!("/recheck-notices/{call_id}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("提出异议"), "{html}");
    assert!(
        html.contains(&format!(
            "<option value=\"{changsha}\">{CHANGSHA}（通过）</option>"
        )),
        "{html}"
    );

    // Refusals name the field; nothing is stored.
    let (status, v) = object_to(
        &t,
        call_id,
        json!({"name": "王建国", "contact": "13800138000", "reason": "理由"}),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(field_message(&v, "recheck_id"), "请选择异议所针对的集群");
    let (status, v) = object_to(
        &t,
        call_id,
        json!({"recheck_id": changsha, "contact": "13800138000", "reason": "理由"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_message(&v, "name").contains("真实姓名"), "{v}");
    let (status, v) = object_to(&t, call_id, recheck_objection(changsha + 1000, "理由")).await;
    assert_eq!(status, 422);
    assert_eq!(
        field_message(&v, "recheck_id"),
        "所选集群不在本次复核结果公示名单中"
    );
    let (status, _) = object_to(&t, call_id + 1000, recheck_objection(changsha, "理由")).await;
    assert_eq!(status, 404);

    // A valid objection gets a receipt the objector alone can open.
    let (status, receipt) = object_to(
        &t,
        call_id,
        recheck_objection(
            changsha,
            "该集群近两年营业收入下降，核心园区链主企业已迁出，复核材料数据不实。",
        ),
    )
    .await;
    assert_eq!(status, 200, "{receipt}");
    let number = receipt["receipt_number"].as_str().unwrap().to_string();
    assert!(number.starts_with("复核-2026-"), "{number}");
    let (oid, key) = (
        receipt["id"].as_i64().unwrap(),
        receipt["key"].as_str().unwrap().to_string(),
    );
    let path = format!("/api/v1/recheck-notices/{call_id}/objections/{oid}");
    let got: Value = reqwest::get(t.url(&format!("{path}?key={key}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["status_label"], "已收到，待登记");
    assert_eq!(
        reqwest::get(t.url(&format!("{path}?key=0000")))
            .await
            .unwrap()
            .status(),
        404
    );
    let (status, v) = object_to(
        &t,
        call_id,
        recheck_objection(
            changsha,
            "该集群近两年营业收入下降，核心园区链主企业已迁出，复核材料数据不实。",
        ),
    )
    .await;
    assert_eq!(status, 409, "a duplicate is refused: {v}");
    assert_eq!(audited(&t, "recheck_objection.file").await.len(), 1);

    // Only the province reads the objector's details.
    let province = token(&t, "province").await;
    for user in ["changsha", "applicant", "expert"] {
        let (status, _) = call(
            &t,
            &token(&t, user).await,
            "GET",
            &format!("/api/v1/rechecks/{changsha}/objections"),
            None,
        )
        .await;
        assert!(status == 403 || status == 404, "{user}: {status}");
    }
    let (_, list) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/rechecks/{changsha}/objections"),
        None,
    )
    .await;
    assert_eq!(list[0]["name"], "王建国");

    // After the window the result cannot be confirmed while the objection is open.
    forward_to(&t, date!(2026 - 12 - 11));
    let province = token(&t, "province").await;
    let (status, v) = object_to(&t, call_id, recheck_objection(yueyang, "逾期异议")).await;
    assert_eq!(status, 409);
    assert!(error_message(&v).contains("公示期已结束"), "{v}");
    let (status, v) = step(&t, &province, changsha, "conclude", None).await;
    assert_eq!(status, 409);
    assert!(
        error_message(&v).contains("尚有1件针对该复核结果的异议未办结"),
        "{v}"
    );
    let decide = |step: &str, reply: &str| {
        let (province, step, reply) = (province.clone(), step.to_string(), reply.to_string());
        let t = &t;
        async move {
            call(
                t,
                &province,
                "POST",
                &format!("/api/v1/recheck-objections/{oid}/{step}"),
                Some(json!({"reply": reply})),
            )
            .await
        }
    };
    let (status, v) = decide("uphold", " ").await;
    assert_eq!(status, 422);
    assert!(field_message(&v, "reply").contains("请填写"), "{v}");
    let (status, v) = decide("register", "已转产业集聚推进处调查核实。").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "investigating");
    let (status, v) = call(
        &t,
        &token(&t, "changsha").await,
        "POST",
        &format!("/api/v1/recheck-objections/{oid}/uphold"),
        Some(json!({"reply": "越权"})),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    let (status, v) = decide(
        "uphold",
        "经核实，该集群链主企业已于2026年迁出核心园区，复核结论调整为不通过。",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "upheld");
    let (_, r) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/rechecks/{changsha}"),
        None,
    )
    .await;
    assert_eq!(r["result_label"], "不通过");
    assert!(
        r["result_reasons"].as_str().unwrap().contains(&number),
        "{r}"
    );
    assert_eq!(audited(&t, "recheck_objection.uphold").await.len(), 1);

    // The notice still shows what was published, and the decision beside it.
    let notice: Value = reqwest::get(t.url(&format!("/api/v1/recheck-notices/{call_id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(notice["rows"][0]["result_label"], "通过");
    assert_eq!(notice["decided"][0]["status"], "upheld");
    assert_eq!(notice["decided"][0]["receipt_number"], number.as_str());
    assert!(!notice["accepting"].as_bool().unwrap());

    // Confirming now follows the reversed result: a revocation case on 未通过复核.
    let (status, v) = step(&t, &province, changsha, "conclude", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "failed");
    let case_id = v["revocation_case_id"].as_i64().unwrap();
    let (_, case) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/revocations/{case_id}"),
        None,
    )
    .await;
    assert_eq!(case["ground_key"], "recheck_failed");
    let got: Value = reqwest::get(t.url(&format!("{path}?key={key}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["status_label"], "异议成立");
    assert!(got["reply"].as_str().unwrap().contains("迁出核心园区"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_objections_to_a_recheck_notice_share_one_hourly_allowance_per_address() {
    let t = support::spawn().await;
    let (call_id, changsha, yueyang) = noticed_results(&t).await;
    let limit = t.app.config.objection_rate_limit as usize;
    let url = t.url(&format!("/api/v1/recheck-notices/{call_id}/objections"));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..limit + 3 {
        let target = if i % 2 == 0 { changsha } else { yueyang };
        let body = recheck_objection(
            target,
            &format!("第{i}条：复核材料中的数据与统计公报不符。"),
        );
        let url = url.clone();
        tasks.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = tasks.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        limit,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(audited(&t, "recheck_objection.file").await.len(), limit);
}
