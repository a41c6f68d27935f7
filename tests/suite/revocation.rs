//! Revocation as a proceeding (第十四条 按程序撤销): a case opened on a ground from the policy,
//! the 告知书 to the cluster and its city, the statement window in working days, the numbered
//! 决定书 (撤销 or 不予撤销) frozen at the decision, the published decisions and the public check
//! of a revoked certificate; scopes, parallel numbering and the pages.

use jiqun::store::entity::{cluster, notification, revocation_case, user};
use jiqun::store::id::ClusterId;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use time::macros::date;

use crate::attachments::post_file;
use crate::fixtures::{
    CHANGSHA, audited, confirmed_round, designation_numbered, error_message, field_message,
    forward_to, get_page, post_page,
};
use crate::support::{self, TestApp};
use crate::{call, token};

const CT_CHANGSHA: &str = "湘集群培〔2026〕第001号";
const CT_YUEYANG: &str = "湘集群培〔2026〕第002号";
const YUEYANG: &str = "岳阳石化产业集群";

async fn lifecycle_of(t: &TestApp, cluster_id: ClusterId) -> String {
    cluster::Entity::find_by_id(cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .lifecycle
        .key()
        .to_string()
}

/// Opens a case through the API and returns it.
pub async fn open_case(t: &TestApp, province: &str, cluster_id: ClusterId, ground: &str) -> Value {
    let (status, v) = call(
        t,
        province,
        "POST",
        "/api/v1/revocations",
        Some(json!({"cluster_id": cluster_id, "ground": ground,
            "facts": "经核查，该集群申报材料中的产业规模数据与统计部门数据严重不符。"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn step(t: &TestApp, tok: &str, id: i64, what: &str, body: Option<Value>) -> (u16, Value) {
    call(
        t,
        tok,
        "POST",
        &format!("/api/v1/revocations/{id}/{what}"),
        body,
    )
    .await
}

/// The whole proceeding on today's date, ending in 撤销: open, notify, the cluster's statement
/// (so the decision need not wait for the window), decide. Returns the decided case.
pub async fn revoke_by_case(t: &TestApp, cluster_id: ClusterId, respondent: &str) -> Value {
    let province = token(t, "province").await;
    let case = open_case(t, &province, cluster_id, "fraud").await;
    let id = case["id"].as_i64().unwrap();
    let (status, v) = step(t, &province, id, "notify", None).await;
    assert_eq!(status, 200, "{v}");
    let party = token(t, respondent).await;
    let (status, v) = step(
        t,
        &party,
        id,
        "respond",
        Some(json!({"statement": "数据口径不同，并非弄虚作假。"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = step(
        t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "revoke", "reasons": "申报数据与统计数据不符，且无合理解释"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn notified_users(t: &TestApp, username: &str) -> Vec<notification::Model> {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    notification::Entity::find()
        .filter(notification::Column::UserId.eq(u.id))
        .all(&t.app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_ends_in_revocation_after_the_statement_and_the_certificate_reads_revoked() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let yueyang = f.entries[2].cluster_id;
    let province = token(&t, "province").await;
    let party = token(&t, "applicant2").await;
    let city = token(&t, "yueyang").await;

    let case = open_case(&t, &province, yueyang, "fraud").await;
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["status"], "opened");
    assert_eq!(case["ground_name"], "弄虚作假");
    assert_eq!(case["ground_article"], "第十四条");
    assert_eq!(case["can_notify"], true);
    // Before the 告知书 the case is the offices' file: the city bureau reads it, the cluster not.
    let path = format!("/api/v1/revocations/{id}");
    assert_eq!(call(&t, &party, "GET", &path, None).await.0, 404);
    assert_eq!(call(&t, &city, "GET", &path, None).await.0, 200);
    // Nothing can be answered or decided before the 告知书.
    let (status, v) = step(
        &t,
        &party,
        id,
        "respond",
        Some(json!({"statement": "异议"})),
    )
    .await;
    assert_eq!(status, 404, "{v}");
    let (status, v) = step(
        &t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "revoke", "reasons": "理由"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(error_message(&v), "尚未发出告知书，不能进行此步骤");
    // Evidence goes with the case before the 告知书.
    let pdf = b"%PDF-1.7\n% evidence\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    let query = format!("owner_type=revocation_case&owner_id={id}&purpose=evidence");
    let (status, v) = post_file(&t, &province, &query, "统计数据比对.pdf", pdf).await;
    assert_eq!(status, 200, "{v}");

    // The 告知书 on Friday 4 December 2026: ten working days, through Thursday 17 December.
    let (status, v) = step(&t, &province, id, "notify", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "notified");
    assert_eq!(v["response_last_day"], "2026-12-17");
    assert_eq!(v["response_working_days"], 10);
    let notice = v["notice_text"].as_str().unwrap();
    assert!(
        notice.contains("2026年12月17日前") && notice.contains(CT_YUEYANG),
        "{notice}"
    );
    let (status, v) = step(&t, &province, id, "notify", None).await;
    assert_eq!(status, 409);
    assert_eq!(error_message(&v), "告知书已经发出，不能重复告知");
    // Evidence is closed once the parties were told.
    let (status, _) = post_file(&t, &province, &query, "补充.pdf", pdf).await;
    assert_eq!(status, 409);
    // The cluster and its city are told, in the app (and the e-mail outbox).
    for who in ["applicant2", "yueyang"] {
        let got = notified_users(&t, who).await;
        assert!(
            got.iter()
                .any(|n| n.title.contains("撤销称号告知书")
                    && n.link == format!("/revocations/{id}")),
            "{who}: {got:?}"
        );
    }
    let (status, v) = call(&t, &party, "GET", &path, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["can_respond"], true);
    assert_eq!(v["evidence"][0]["file_name"], "统计数据比对.pdf");
    // Within the window and before a statement the decision waits.
    let (status, v) = step(
        &t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "revoke", "reasons": "理由"})),
    )
    .await;
    assert_eq!(status, 409);
    assert!(error_message(&v).contains("2026年12月17日"), "{v}");

    // The statement, with a file, on the window's last day.
    forward_to(&t, date!(2026 - 12 - 17));
    let (province, party, city) = (
        token(&t, "province").await,
        token(&t, "applicant2").await,
        token(&t, "yueyang").await,
    );
    let query = format!("owner_type=revocation_response&owner_id={id}&purpose=evidence");
    let (status, v) = post_file(&t, &party, &query, "说明.pdf", pdf).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = step(&t, &party, id, "respond", Some(json!({"statement": "  "}))).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&v, "statement"), "请填写陈述申辩意见");
    let (status, v) = step(
        &t,
        &party,
        id,
        "respond",
        Some(json!({"statement": "统计口径不同，并非弄虚作假。"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "responded");
    assert_eq!(v["statement_files"][0]["file_name"], "说明.pdf");
    let (status, v) = step(
        &t,
        &party,
        id,
        "respond",
        Some(json!({"statement": "再说"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(error_message(&v), "已提交陈述申辩，不能重复提交");

    // The decision: 撤销, numbered, frozen; the title and certificate are void.
    let (status, v) = step(
        &t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "maybe", "reasons": ""})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(field_message(&v, "outcome").contains("revoke"));
    assert_eq!(field_message(&v, "reasons"), "请填写决定理由");
    let (status, v) = step(
        &t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "revoke", "reasons": "申报数据与统计数据不符，且无合理解释"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["decision_number"], "湘工信集群撤〔2026〕1号");
    assert_eq!(lifecycle_of(&t, yueyang).await, "revoked");
    let d = designation_numbered(&t, CT_YUEYANG).await;
    assert_eq!(d.revoked_on, Some(date!(2026 - 12 - 17)));
    assert!(d.revoke_reason.contains("湘工信集群撤〔2026〕1号"));
    // 长沙 is untouched.
    assert_eq!(designation_numbered(&t, CT_CHANGSHA).await.revoked_on, None);
    let (status, v) = step(
        &t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "keep", "reasons": "改判"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(error_message(&v), "该案件已决定撤销，决定不可更改");

    // The 决定书 as the parties read it, and as the public reads it.
    let (status, doc) = call(&t, &city, "GET", &format!("{path}/decision"), None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["title"], format!("关于撤销{YUEYANG}称号的决定"));
    let body = doc["paragraphs"].as_array().unwrap();
    assert!(
        body.iter()
            .any(|p| p.as_str().unwrap().contains("统计口径不同"))
    );
    assert!(
        body.iter()
            .any(|p| p.as_str().unwrap().contains(CT_YUEYANG))
    );
    let (status, list) = reqwest::get(t.url("/api/v1/revocation-decisions"))
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    let list: Value = list.json().await.unwrap();
    assert_eq!(list[0]["number"], "湘工信集群撤〔2026〕1号");
    assert_eq!(list[0]["certificates"][0], CT_YUEYANG);
    let (status, html) = get_page(&support::client(), &t, "/revocation-decisions").await;
    assert_eq!(status, 200);
    assert!(html.contains("湘工信集群撤〔2026〕1号"), "{html}");
    let (status, html) = get_page(
        &support::client(),
        &t,
        &format!("/revocation-decisions/{id}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"decision-number\">湘工信集群撤〔2026〕1号"),
        "{html}"
    );

    // The public check says 已撤销 with the date.
    let shipped = jiqun::services::competitions::builtin().unwrap();
    let prefixes = jiqun::services::policy::prefixes_of(&shipped[0].policy).unwrap();
    let code = jiqun_domain::certificate::CertificateKey::parse(CT_YUEYANG, &[prefixes])
        .unwrap()
        .code();
    let (status, html) = get_page(&support::client(), &t, &format!("/verify/{code}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("已撤销") && html.contains("2026年12月17日"),
        "{html}"
    );
    let res = reqwest::get(t.url(&format!("/api/v1/verify/{code}")))
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["closed_on"], "2026-12-17");

    // Every step is in the audit trail.
    for action in [
        "revocation.open",
        "revocation.notify",
        "revocation.respond",
        "revocation.decide",
    ] {
        assert_eq!(audited(&t, action).await.len(), 1, "{action}");
    }
    let decided = audited(&t, "revocation.decide").await;
    assert!(
        decided[0].summary.contains("cultivation → revoked"),
        "{}",
        decided[0].summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_statement_the_window_runs_out_and_the_province_may_keep_the_title() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let province = token(&t, "province").await;
    let case = open_case(&t, &province, changsha, "law_violation").await;
    let id = case["id"].as_i64().unwrap();
    let (status, _) = step(&t, &province, id, "notify", None).await;
    assert_eq!(status, 200);

    // A day after the last day: no statement is taken any more, and the decision may be made.
    forward_to(&t, date!(2026 - 12 - 18));
    let (province, party) = (token(&t, "province").await, token(&t, "applicant").await);
    let (status, v) = step(
        &t,
        &party,
        id,
        "respond",
        Some(json!({"statement": "迟到的申辩"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        error_message(&v),
        "陈述申辩期限已于2026年12月17日届满，不再受理陈述申辩"
    );
    let (status, v) = call(
        &t,
        &party,
        "GET",
        &format!("/api/v1/revocations/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["can_respond"], false);
    let (status, v) = step(
        &t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "keep", "reasons": "经核实，相关违法行为已整改完毕，情节轻微"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "not_revoked");
    assert_eq!(v["decision_number"], "湘工信集群撤〔2026〕1号");
    // The title stands.
    assert_eq!(lifecycle_of(&t, changsha).await, "cultivation");
    assert_eq!(designation_numbered(&t, CT_CHANGSHA).await.revoked_on, None);
    let (status, doc) = call(
        &t,
        &party,
        "GET",
        &format!("/api/v1/revocations/{id}/decision"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["title"], format!("关于不予撤销{CHANGSHA}称号的决定"));
    let body = doc["paragraphs"].as_array().unwrap();
    assert!(
        body.iter().any(|p| p
            .as_str()
            .unwrap()
            .contains("2026年12月17日届满）内未提出陈述申辩")),
        "{doc}"
    );
    // Only decisions to revoke are published.
    let list: Value = reqwest::get(t.url("/api/v1/revocation-decisions"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    let res = reqwest::get(t.url(&format!("/api/v1/revocation-decisions/{id}")))
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A new case may be opened now the old one is closed.
    open_case(&t, &province, changsha, "fraud").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_needs_a_live_title_a_ground_of_the_policy_and_no_pending_case() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let province = token(&t, "province").await;
    // 株洲 was not selected: it holds no title.
    let zhuzhou = f.entries[1].cluster_id;
    let (status, v) = call(
        &t,
        &province,
        "POST",
        "/api/v1/revocations",
        Some(json!({"cluster_id": zhuzhou, "ground": "fraud", "facts": "事实"})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        field_message(&v, "cluster_id").contains("未持有有效称号"),
        "{v}"
    );
    let (status, v) = call(
        &t,
        &province,
        "POST",
        "/api/v1/revocations",
        Some(json!({"cluster_id": f.entries[0].cluster_id, "ground": "bad_weather", "facts": ""})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        field_message(&v, "ground").contains("fraud（弄虚作假）"),
        "{v}"
    );
    assert_eq!(field_message(&v, "facts"), "请填写查明的事实");
    let case = open_case(&t, &province, f.entries[0].cluster_id, "fraud").await;
    let (status, v) = call(
        &t,
        &province,
        "POST",
        "/api/v1/revocations",
        Some(json!({"cluster_id": f.entries[0].cluster_id, "ground": "law_violation", "facts": "又一案"})),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        error_message(&v).contains(&format!("第{}号", case["id"])),
        "{v}"
    );
    // The grounds come from the policy; the candidates are the titled clusters.
    let (_, grounds) = call(&t, &province, "GET", "/api/v1/revocations/grounds", None).await;
    assert!(
        grounds
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["key"] == "recheck_failed")
    );
    let (_, candidates) = call(&t, &province, "GET", "/api/v1/revocations/candidates", None).await;
    let names: Vec<&str> = candidates
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cluster_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&CHANGSHA) && names.contains(&YUEYANG));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_sees_its_clusters_cases_and_the_cluster_its_own() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let province = token(&t, "province").await;
    let mut ids = Vec::new();
    for cluster_id in [f.entries[0].cluster_id, f.entries[2].cluster_id] {
        let id = open_case(&t, &province, cluster_id, "fraud").await["id"]
            .as_i64()
            .unwrap();
        let (status, _) = step(&t, &province, id, "notify", None).await;
        assert_eq!(status, 200);
        ids.push(id);
    }
    let (changsha_case, yueyang_case) = (ids[0], ids[1]);
    let listed = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    for (who, expected) in [
        ("province", vec![yueyang_case, changsha_case]),
        ("changsha", vec![changsha_case]),
        ("yueyang", vec![yueyang_case]),
        ("applicant", vec![changsha_case]),
        ("applicant2", vec![yueyang_case]),
    ] {
        let tok = token(&t, who).await;
        let (status, v) = call(&t, &tok, "GET", "/api/v1/revocations", None).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(listed(&v), expected, "{who}");
    }
    for who in ["partner", "expert", "sysadmin"] {
        let tok = token(&t, who).await;
        let (status, _) = call(&t, &tok, "GET", "/api/v1/revocations", None).await;
        assert_eq!(status, 403, "{who}");
    }
    // Out of scope reads as not found; the wrong role is refused.
    let changsha_city = token(&t, "changsha").await;
    let path = format!("/api/v1/revocations/{yueyang_case}");
    assert_eq!(call(&t, &changsha_city, "GET", &path, None).await.0, 404);
    let applicant = token(&t, "applicant").await;
    assert_eq!(call(&t, &applicant, "GET", &path, None).await.0, 404);
    let (status, _) = step(
        &t,
        &applicant,
        yueyang_case,
        "respond",
        Some(json!({"statement": "不是我们的案件"})),
    )
    .await;
    assert_eq!(status, 404);
    let yueyang_city = token(&t, "yueyang").await;
    let (status, _) = step(
        &t,
        &yueyang_city,
        yueyang_case,
        "respond",
        Some(json!({"statement": "市州意见"})),
    )
    .await;
    assert_eq!(status, 403);
    let party = token(&t, "applicant2").await;
    let (status, _) = step(
        &t,
        &party,
        yueyang_case,
        "decide",
        Some(json!({"outcome": "keep", "reasons": "自己决定"})),
    )
    .await;
    assert_eq!(status, 403);
    // The evidence is as visible as the case.
    let pdf = b"%PDF-1.7\n% statement\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    let query = format!("owner_type=revocation_response&owner_id={yueyang_case}&purpose=evidence");
    let (status, file) = post_file(&t, &party, &query, "说明.pdf", pdf).await;
    assert_eq!(status, 200, "{file}");
    let (status, _) = post_file(&t, &applicant, &query, "冒充.pdf", pdf).await;
    assert_eq!(status, 404);
    let download = format!("/api/v1/attachments/{}", file["id"]);
    assert_eq!(call(&t, &yueyang_city, "GET", &download, None).await.0, 200);
    assert_eq!(
        call(&t, &changsha_city, "GET", &download, None).await.0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_made_at_once_take_distinct_numbers_in_order() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let province = token(&t, "province").await;
    let mut ids = Vec::new();
    for (cluster_id, party) in [
        (f.entries[0].cluster_id, "applicant"),
        (f.entries[2].cluster_id, "applicant2"),
    ] {
        let id = open_case(&t, &province, cluster_id, "fraud").await["id"]
            .as_i64()
            .unwrap();
        assert_eq!(step(&t, &province, id, "notify", None).await.0, 200);
        let tok = token(&t, party).await;
        let (status, _) = step(&t, &tok, id, "respond", Some(json!({"statement": "申辩"}))).await;
        assert_eq!(status, 200);
        ids.push(id);
    }
    let decide = |id: i64| {
        let (t, province) = (&t, province.clone());
        async move {
            step(
                t,
                &province,
                id,
                "decide",
                Some(json!({"outcome": "revoke", "reasons": "经研究决定"})),
            )
            .await
        }
    };
    let (a, b) = tokio::join!(decide(ids[0]), decide(ids[1]));
    assert_eq!(a.0, 200, "{}", a.1);
    assert_eq!(b.0, 200, "{}", b.1);
    let mut numbers = vec![
        a.1["decision_number"].as_str().unwrap().to_string(),
        b.1["decision_number"].as_str().unwrap().to_string(),
    ];
    numbers.sort();
    assert_eq!(
        numbers,
        ["湘工信集群撤〔2026〕1号", "湘工信集群撤〔2026〕2号"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_reads_as_issued_after_the_cluster_is_renamed() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let yueyang = f.entries[2].cluster_id;
    let v = revoke_by_case(&t, yueyang, "applicant2").await;
    let id = v["id"].as_i64().unwrap();
    let before: Value = reqwest::get(t.url(&format!("/api/v1/revocation-decisions/{id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t.app
        .db
        .execute_unprepared(&format!(
            "UPDATE clusters SET name = '改名后的集群' WHERE id = {yueyang}"
        ))
        .await
        .unwrap();
    let after: Value = reqwest::get(t.url(&format!("/api/v1/revocation-decisions/{id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
    assert_eq!(after["cluster_name"], YUEYANG);
    let (_, html) = get_page(
        &support::client(),
        &t,
        &format!("/revocation-decisions/{id}"),
    )
    .await;
    assert!(
        html.contains(YUEYANG) && !html.contains("改名后的集群"),
        "{html}"
    );
    let stored = revocation_case::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.decision_snapshot.contains(YUEYANG));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_carry_a_case_from_opening_to_the_printed_decision() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let yueyang = f.entries[2].cluster_id;
    let page = support::page_login(&t, "province").await;
    // The certificate page leads to the case form, with the cluster chosen.
    let d = designation_numbered(&t, CT_YUEYANG).await;
    let (_, html) = get_page(&page, &t, &format!("/certificates/{}", d.id)).await;
    assert!(
        html.contains(&format!("/revocations/new?cluster_id={yueyang}")),
        "{html}"
    );
    let (status, html) =
        get_page(&page, &t, &format!("/revocations/new?cluster_id={yueyang}")).await;
    assert_eq!(status, 200);
    let csrf = support::csrf_from(&html);
    // A refusal keeps what was typed and names the field.
    let yid = yueyang.to_string();
    let a = post_page(
        &page,
        &t,
        "/revocations",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", yid.as_str()),
            ("ground", ""),
            ("facts", "已查明的事实"),
        ],
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("data-error-for=\"ground\""), "{}", a.body);
    assert!(a.body.contains("已查明的事实"));
    let a = post_page(
        &page,
        &t,
        "/revocations",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", yid.as_str()),
            ("ground", "fraud"),
            ("facts", "已查明的事实"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let id: i64 = a
        .location
        .trim_start_matches("/revocations/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let a = post_page(
        &page,
        &t,
        &format!("/revocations/{id}/notify"),
        &[("_csrf", csrf.as_str()), ("acknowledge", "on")],
    )
    .await;
    assert_eq!(a.status, 303);
    // The decision waits for the window; the page says why and keeps the reasons typed.
    let a = post_page(
        &page,
        &t,
        &format!("/revocations/{id}/decide"),
        &[
            ("_csrf", csrf.as_str()),
            ("outcome", "revoke"),
            ("reasons", "理由已写"),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(a.status, 409);
    assert!(
        a.body.contains("2026年12月17日") && a.body.contains("理由已写"),
        "{}",
        a.body
    );

    let party = support::page_login(&t, "applicant2").await;
    let (_, html) = get_page(&party, &t, &format!("/revocations/{id}")).await;
    assert!(html.contains("respond-submit"), "{html}");
    assert!(html.contains("id=\"notice-text\""));
    let party_csrf = support::csrf_from(&html);
    let a = post_page(
        &party,
        &t,
        &format!("/revocations/{id}/respond"),
        &[
            ("_csrf", party_csrf.as_str()),
            ("statement", "我们不认可"),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(a.status, 303);
    let a = post_page(
        &page,
        &t,
        &format!("/revocations/{id}/decide"),
        &[
            ("_csrf", csrf.as_str()),
            ("outcome", "revoke"),
            ("reasons", "事实清楚，证据确凿"),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (status, html) = get_page(&page, &t, &format!("/revocations/{id}/decision")).await;
    assert_eq!(status, 200);
    assert!(html.contains("湘工信集群撤〔2026〕1号") && html.contains("我们不认可"));
    let res = page
        .get(t.url(&format!("/revocations/{id}/decision?pdf=1")))
        .send()
        .await
        .unwrap();
    // 503 only where the machine has no CJK font; the page says so and the print view remains.
    assert!(
        [200, 503].contains(&res.status().as_u16()),
        "{}",
        res.status()
    );
    if res.status() == 200 {
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert!(res.bytes().await.unwrap().starts_with(b"%PDF"));
        assert_eq!(audited(&t, "revocation.download").await.len(), 1);
    }
    // The navigation leads to the list.
    let (_, html) = get_page(&party, &t, "/revocations").await;
    assert!(html.contains(&format!("data-case=\"{id}\"")));
    assert!(!html.contains("id=\"open-case\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbench_says_what_a_case_waits_for() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let province = token(&t, "province").await;
    let id = open_case(&t, &province, f.entries[2].cluster_id, "fraud").await["id"]
        .as_i64()
        .unwrap();
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, "/").await;
    assert!(html.contains("待发出撤销告知书"), "{html}");
    // The to-do leads to the case itself, where the 告知书 is sent.
    assert!(
        html.contains(&format!("href=\"/revocations/{id}\">待发出撤销告知书")),
        "{html}"
    );
    assert_eq!(step(&t, &province, id, "notify", None).await.0, 200);
    let party = support::page_login(&t, "applicant2").await;
    let (_, html) = get_page(&party, &t, "/").await;
    assert!(html.contains("待提交陈述申辩（撤销称号告知书"), "{html}");
    let (_, html) = get_page(&page, &t, "/").await;
    assert!(!html.contains("待作出撤销决定"), "the window still runs");
    forward_to(&t, date!(2026 - 12 - 18));
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, "/").await;
    assert!(html.contains("待作出撤销决定"), "{html}");
    let party = support::page_login(&t, "applicant2").await;
    let (_, html) = get_page(&party, &t, "/").await;
    assert!(!html.contains("待提交陈述申辩（撤销称号告知书"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_history_tells_the_whole_story_in_date_order() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let yueyang = f.entries[2].cluster_id;
    let province = token(&t, "province").await;
    // A case the province has opened but not yet notified is its own file.
    let id = open_case(&t, &province, yueyang, "fraud").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/clusters/{yueyang}/history");
    let kinds = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, v) = call(&t, &province, "GET", &path, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        kinds(&v),
        [
            "application",
            "notice",
            "result",
            "designation",
            "revocation"
        ],
        "{v}"
    );
    let party = token(&t, "applicant2").await;
    let (_, v) = call(&t, &party, "GET", &path, None).await;
    assert_eq!(
        kinds(&v),
        ["application", "notice", "result", "designation"],
        "{v}"
    );
    assert_eq!(v[1]["date"], "2026-11-27");
    assert!(
        v[1]["detail"]
            .as_str()
            .unwrap()
            .contains("2026年11月27日至")
    );
    assert_eq!(v[3]["number"], CT_YUEYANG);

    // The proceeding runs to its end on 17 December; the story gains the steps and the decision.
    assert_eq!(step(&t, &province, id, "notify", None).await.0, 200);
    forward_to(&t, date!(2026 - 12 - 17));
    let (province, party) = (token(&t, "province").await, token(&t, "applicant2").await);
    let (status, _) = step(
        &t,
        &party,
        id,
        "respond",
        Some(json!({"statement": "申辩"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = step(
        &t,
        &province,
        id,
        "decide",
        Some(json!({"outcome": "revoke", "reasons": "事实清楚"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, v) = call(&t, &party, "GET", &path, None).await;
    let events: Vec<(String, String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["date"].as_str().unwrap().to_string(),
                e["title"].as_str().unwrap().to_string(),
                e["number"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let dates: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    let mut sorted = dates.clone();
    sorted.sort_unstable();
    assert_eq!(dates, sorted, "{events:?}");
    let last = &events[events.len() - 1];
    assert_eq!(last.0, "2026-12-17");
    assert!(last.1.contains("称号被撤销"), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| e.1 == "作出撤销决定" && e.2 == "湘工信集群撤〔2026〕1号"),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.1 == "发出撤销称号告知书" && e.0 == "2026-12-04")
    );
    // The page shows it; another city's bureau cannot read it.
    let page = support::page_login(&t, "yueyang").await;
    let (status, html) = get_page(&page, &t, &format!("/clusters/{yueyang}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"history-table\"") && html.contains("湘工信集群撤〔2026〕1号"),
        "{html}"
    );
    let changsha = token(&t, "changsha").await;
    assert_eq!(call(&t, &changsha, "GET", &path, None).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_bureau_opens_a_case_against_its_own_cluster_and_the_province_carries_it_on() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let city = token(&t, "changsha").await;
    // Only its own city's clusters: the form offers them, the server holds to it.
    let page = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&page, &t, "/revocations/new").await;
    assert_eq!(status, 200);
    assert!(html.contains(CHANGSHA) && !html.contains(YUEYANG), "{html}");
    let (status, v) = call(
        &t,
        &city,
        "POST",
        "/api/v1/revocations",
        Some(
            json!({"cluster_id": f.entries[2].cluster_id, "ground": "fraud",
            "facts": "岳阳的集群不归长沙市工信局管辖。"}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        field_message(&v, "cluster_id"),
        "只能对本市州的集群提请立案撤销"
    );
    let case = open_case(&t, &city, f.entries[0].cluster_id, "fraud").await;
    assert_eq!(case["status"], "opened");
    let id = case["id"].as_i64().unwrap();
    // The 告知书 and the decision stay the province's.
    let (status, _) = step(&t, &city, id, "notify", None).await;
    assert_eq!(status, 403);
    let (status, v) = step(&t, &token(&t, "province").await, id, "notify", None).await;
    assert_eq!(status, 200, "{v}");
    let opened = audited(&t, "revocation.open").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].actor_role, "city_bureau");
}
