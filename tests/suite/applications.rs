//! Applications and the city's review: every allowed and forbidden transition, deadlines, the
//! county cap and its justified override, joint-application routing, versions and their diff.

use jiqun::store::entity::{attachment, blob, cluster, cluster_co_applicant, competition};
use jiqun::store::id::{ApplicationId, ClusterId, CompetitionId, UserId};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::support::{self, TestApp};
use crate::{call, org_id, token};

/// A call open for 10 more days, review 20 days, bound to the shipped policy text.
pub async fn open_call(t: &TestApp) -> CompetitionId {
    let now = t.app.clock.now();
    let (_, text) = jiqun_rules::policy::BUILTIN_POLICY_SOURCES[0];
    competition::ActiveModel {
        year: Set(2026),
        title: Set("2026年湖南省先进制造业集群竞赛".into()),
        policy_id: Set("hunan-2021".into()),
        policy_source: Set(text.into()),
        submission_deadline: Set(now + time::Duration::days(10)),
        review_deadline: Set(now + time::Duration::days(20)),
        notice_text: Set("各市州工信局：……".into()),
        status: Set(jiqun::store::entity::kinds::CompetitionStatus::Open),
        created_by: Set(UserId::new(4)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .expect("competition")
    .id
}

pub async fn a_cluster(t: &TestApp, org: &str, name: &str, city: &str, county: &str) -> ClusterId {
    let now = t.app.clock.now();
    cluster::ActiveModel {
        org_id: Set(org_id(t, org).await),
        name: Set(name.into()),
        kind: Set("leading".into()),
        industry_code: Set("C35".into()),
        lead_county_code: Set(county.parse().unwrap()),
        city_code: Set(city.parse().unwrap()),
        core_park: Set("长沙经济技术开发区".into()),
        lifecycle: Set(jiqun::store::entity::kinds::Lifecycle::Applicant),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .expect("cluster")
    .id
}

/// Registers the two required files against an application (the upload path has its own tests).
async fn required_files(t: &TestApp, application: i64) {
    let now = t.app.clock.now();
    for (i, purpose) in ["report", "pledge"].into_iter().enumerate() {
        let b = blob::ActiveModel {
            sm3: Set(format!("{application:032}{i:032}")),
            size: Set(1024),
            mime: Set("application/pdf".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&t.app.db)
        .await
        .unwrap();
        attachment::ActiveModel {
            blob_id: Set(b.id),
            owner_type: Set("application".into()),
            owner_id: Set(application),
            purpose: Set(purpose.into()),
            file_name: Set(format!("{purpose}.pdf")),
            uploaded_by: Set(UserId::new(7)),
            uploaded_at: Set(now),
            ..Default::default()
        }
        .insert(&t.app.db)
        .await
        .unwrap();
    }
}

/// A complete, eligible form for the shipped policy.
pub fn complete_form(revenue: &str) -> Value {
    let policy = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
    let mut indicators = serde_json::Map::new();
    let mut narratives = serde_json::Map::new();
    for c in &policy.criteria {
        for i in &c.indicators {
            let v = match i.value_type {
                jiqun_rules::policy::ValueType::Text
                | jiqun_rules::policy::ValueType::IndustryCode => "C35",
                jiqun_rules::policy::ValueType::Percent => "45.5",
                _ => "12",
            };
            indicators.insert(i.key.clone(), json!(v));
        }
        narratives.insert(c.key.clone(), json!(format!("{}的情况说明。", c.name)));
    }
    indicators.insert("cluster_revenue".into(), json!(revenue));
    let attested: Vec<String> = policy
        .eligibility
        .negative_list
        .iter()
        .map(|n| n.key.clone())
        .collect();
    json!({"indicators": indicators, "narratives": narratives, "attested": attested})
}

/// Starts an application as `applicant` for a new cluster and returns (id, version).
pub(crate) async fn started(
    t: &TestApp,
    call: CompetitionId,
    who: &str,
    org: &str,
    city: &str,
    county: &str,
    name: &str,
) -> (i64, i32) {
    let cl = a_cluster(t, org, name, city, county).await;
    let tok = token(t, who).await;
    let (status, body) = call_json(
        t,
        &tok,
        "POST",
        "/api/v1/applications",
        json!({"competition_id": call, "cluster_id": cl}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["application"]["id"].as_i64().unwrap();
    required_files(t, id).await;
    (id, body["application"]["version"].as_i64().unwrap() as i32)
}

pub(crate) async fn call_json(
    t: &TestApp,
    tok: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    call(t, tok, method, path, Some(body)).await
}

pub(crate) async fn submit_complete(t: &TestApp, who: &str, id: i64, version: i32) -> i32 {
    let tok = token(t, who).await;
    let (status, body) = call_json(
        t,
        &tok,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form("150"), "version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let version = body["application"]["version"].as_i64().unwrap() as i32;
    let (status, body) = call_json(
        t,
        &tok,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["application"]["version"].as_i64().unwrap() as i32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_return_fix_resubmit_and_recommend() {
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

    // An empty draft: not ready, every missing item named.
    let (_, d) = call(&t, &me, "GET", &format!("/api/v1/applications/{id}"), None).await;
    assert_eq!(d["ready"], false);
    assert!(
        d["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["message"] == "请填写“集群营业收入”"),
        "{d}"
    );

    // Below the entry threshold: saved (nothing lost) but submission is refused with the reason.
    let (status, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form("80"), "version": v}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(d["form"]["indicators"]["cluster_revenue"], "80");
    let v = d["application"]["version"].as_i64().unwrap() as i32;
    let (status, err) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": v}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        err["error"]["fields"][0]["message"],
        "集群营业收入应不低于100亿元"
    );
    // A wrong unit is refused, not misread.
    let mut form = complete_form("150");
    form["indicators"]["cluster_revenue"] = json!("150万元");
    let (_, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": form, "version": v}),
    )
    .await;
    assert!(
        d["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains("单位应为亿元")),
        "{d}"
    );
    let v = d["application"]["version"].as_i64().unwrap() as i32;

    let v = submit_complete(&t, "applicant", id, v).await;
    // A double submit creates one submission.
    let (status, d) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": v - 1}),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["application"]["revision"], 1);
    // Editing after submission is impossible.
    let (status, _) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form("160"), "version": v}),
    )
    .await;
    assert_eq!(status, 409);

    // Forbidden transitions, by role and by state.
    let (status, _) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/return"),
        json!({"comment": "x"}),
    )
    .await;
    assert_eq!(status, 403, "the applicant cannot review");
    let yueyang = token(&t, "yueyang").await;
    let (status, _) = call_json(
        &t,
        &yueyang,
        "POST",
        &format!("/api/v1/applications/{id}/return"),
        json!({"comment": "x"}),
    )
    .await;
    assert_eq!(status, 404, "another city cannot even see it");
    let province = token(&t, "province").await;
    let (status, _) = call_json(
        &t,
        &province,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 403, "only the city recommends");

    // The city returns it with comments; an empty comment is refused.
    let city = token(&t, "changsha").await;
    let (status, err) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{id}/return"),
        json!({"comment": " "}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["message"], "请填写退回修改意见");
    let (status, d) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{id}/return"),
        json!({"comment": "请补充出口交货值的佐证材料"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(d["application"]["status"], "returned");
    let (status, _) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{id}/reject"),
        json!({"comment": "x"}),
    )
    .await;
    assert_eq!(status, 409, "a returned application cannot be rejected");
    let (_, notes) = call(&t, &me, "GET", "/api/v1/notifications", None).await;
    assert!(
        notes.to_string().contains("请补充出口交货值的佐证材料"),
        "the applicant is notified: {notes}"
    );

    // The applicant fixes and resubmits: a second version, and the city sees what changed.
    let v = d["application"]["version"].as_i64().unwrap() as i32;
    let mut form = complete_form("150");
    form["indicators"]["export_delivery_value"] = json!("33.5");
    let (_, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": form, "version": v}),
    )
    .await;
    let v = d["application"]["version"].as_i64().unwrap() as i32;
    let (status, d) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": v}),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["application"]["revision"], 2);
    let versions = jiqun::services::applications::versions(&t.app, ApplicationId::new(id))
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);
    let policy = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
    let changes =
        jiqun::services::applications::changes_since_last(&t.app, &policy, ApplicationId::new(id))
            .await
            .unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (changes[0].before.as_str(), changes[0].after.as_str()),
        ("12", "33.5")
    );

    // Recommended with a generated letter.
    let (status, rows) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows[0]["status"], "recommended");
    let rec = jiqun::services::reviews::recommendation_of(&t.app, ApplicationId::new(id))
        .await
        .unwrap()
        .unwrap();
    assert!(
        rec.letter_text.contains("湖南省工业和信息化厅：")
            && rec.letter_text.contains("长沙工程机械产业集群"),
        "{}",
        rec.letter_text
    );
    let (_, d) = call(&t, &me, "GET", &format!("/api/v1/applications/{id}"), None).await;
    let actions: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["submit", "return", "submit", "recommend"]);

    // Every step is in the audit trail, and the chain is intact.
    let auditor = token(&t, "auditor").await;
    let (_, log) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?object_type=application",
        None,
    )
    .await;
    let logged: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "application.create",
        "application.save",
        "application.submit",
        "application.return",
        "application.recommend",
    ] {
        assert!(logged.contains(&a), "{a} missing from {logged:?}");
    }
    assert!(
        jiqun::audit::verify(&t.app.db, &t.app.audit_key)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_submissions_are_refused_by_the_server() {
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
    t.app.clock.advance(time::Duration::days(10));
    let me = token(&t, "applicant").await;
    let (status, err) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": v}),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("截止"),
        "{err}"
    );
    let cl = a_cluster(
        &t,
        "长沙工程机械产业集群促进会",
        "另一集群",
        "430100",
        "430121",
    )
    .await;
    let (status, _) = call_json(
        &t,
        &me,
        "POST",
        "/api/v1/applications",
        json!({"competition_id": call_id, "cluster_id": cl}),
    )
    .await;
    assert_eq!(status, 409, "no new applications after the deadline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_review_deadline_is_enforced() {
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
    submit_complete(&t, "applicant", id, v).await;
    t.app.clock.advance(time::Duration::days(21));
    let city = token(&t, "changsha").await;
    let (status, err) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [id]}),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("市州初审已于"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_cap_warns_and_a_justification_overrides_it() {
    let t = support::spawn().await;
    let call_id = open_call(&t).await;
    let (a, va) = started(
        &t,
        call_id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙县工程机械集群",
    )
    .await;
    let (b, vb) = started(
        &t,
        call_id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙县智能制造集群",
    )
    .await;
    submit_complete(&t, "applicant", a, va).await;
    submit_complete(&t, "applicant", b, vb).await;
    let city = token(&t, "changsha").await;
    // Both at once: the county would have two.
    let (status, err) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [a, b]}),
    )
    .await;
    assert_eq!(status, 422);
    let msg = err["error"]["fields"][0]["message"].as_str().unwrap();
    assert_eq!(err["error"]["fields"][0]["field"], "cap_justification");
    assert!(msg.contains("长沙市长沙县将有2个集群（上限1个）"), "{msg}");
    let (_, list) = call(&t, &city, "GET", "/api/v1/applications", None).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "submitted"),
        "nothing recommended: {list}"
    );
    // One is within the cap; the second needs a justification.
    let (status, _) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [a]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [b]}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, rows) = call_json(
        &t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": [b], "cap_justification": "两个集群主导产业不同，经市政府同意一并推荐"}),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    let rec = jiqun::services::reviews::recommendation_of(&t.app, ApplicationId::new(b))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rec.cap_justification,
        "两个集群主导产业不同，经市政府同意一并推荐"
    );
    let auditor = token(&t, "auditor").await;
    let (_, log) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?action=application.recommend",
        None,
    )
    .await;
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "两个集群主导产业不同，经市政府同意一并推荐")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_application_goes_to_the_lead_applicants_city() {
    let t = support::spawn().await;
    let call_id = open_call(&t).await;
    // Led from 长沙, spanning into 岳阳, with the 岳阳 promotion organisation as co-applicant.
    let (id, v) = started(
        &t,
        call_id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长岳跨区域装备集群",
    )
    .await;
    let cluster_id = {
        let m = jiqun::store::entity::application::Entity::find_by_id(id);
        use sea_orm::EntityTrait;
        m.one(&t.app.db).await.unwrap().unwrap().cluster_id
    };
    cluster_co_applicant::ActiveModel {
        cluster_id: Set(cluster_id),
        org_id: Set(org_id(&t, "岳阳石化产业集群促进会").await),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    submit_complete(&t, "applicant", id, v).await;
    let changsha = token(&t, "changsha").await;
    let yueyang = token(&t, "yueyang").await;
    assert_eq!(
        call(
            &t,
            &changsha,
            "GET",
            &format!("/api/v1/applications/{id}"),
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &t,
            &yueyang,
            "GET",
            &format!("/api/v1/applications/{id}"),
            None
        )
        .await
        .0,
        404
    );
    // The co-applicant reads it but cannot change it.
    let co = token(&t, "applicant2").await;
    let (status, d) = call(&t, &co, "GET", &format!("/api/v1/applications/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(d["application"]["city_code"], "430100");
    let (status, _) = call_json(
        &t,
        &co,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form("1"), "version": 1}),
    )
    .await;
    assert_eq!(status, 403);
}
