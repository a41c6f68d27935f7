//! A whole round through the services, as the province, the experts and the public meet it,
//! with the audit trail it leaves.

use jiqun::app::Principal;
use jiqun::services::rounds::{self, OpenRoundInput};
use jiqun::store::entity::{organisation, user};
use jiqun_domain::access::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use serde_json::{Value, json};

use crate::support::{self, TestApp};
use crate::{call, token};

/// The demo account as a principal of the services.
pub async fn principal(t: &TestApp, username: &str) -> Principal {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .expect("user query")
        .expect("demo user");
    let org = organisation::Entity::find_by_id(u.org_id)
        .one(&t.app.db)
        .await
        .expect("org query")
        .expect("org");
    Principal {
        role: Role::from_key(&u.role).expect("role"),
        user: u,
        org,
        client_addr: "127.0.0.1".into(),
    }
}

/// Beijing time "YYYY-MM-DDTHH:MM", `days` from the test clock's now.
pub fn local_in(t: &TestApp, days: i64) -> String {
    jiqun::services::competitions::datetime_local_value(
        t.app.clock.now() + time::Duration::days(days),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preliminary_round_is_opened_and_assigned_without_conflicts() {
    let t = support::spawn().await;
    let show = jiqun::demo::seed_showcase(&t.app).await.expect("showcase");
    let province = principal(&t, "province").await;
    let input = OpenRoundInput {
        kind: "preliminary".into(),
        experts_per_application: 3,
        panel_note: "演示：专家库规模有限".into(),
        quotas: [("leading".to_string(), 1), ("specialty".to_string(), 1)]
            .into_iter()
            .collect(),
        scoring_opens_at: local_in(&t, 0),
        scoring_closes_at: local_in(&t, 7),
        defence: false,
    };
    let r = rounds::open_round(&t.app, &province, show.competition_id, &input)
        .await
        .expect("open");
    let entries = rounds::entries(&t.app.db, r.id).await.unwrap();
    assert_eq!(entries.len(), 3);
    let pool: Vec<i64> = jiqun::store::entity::expert::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    rounds::set_panel(&t.app, &province, r.id, &pool, &[])
        .await
        .expect("panel");
    let out = rounds::auto_assign(&t.app, &province, r.id)
        .await
        .expect("assign");
    assert_eq!(out.added, 9, "{out:?}");
    assert!(out.shortfalls.is_empty());
    rounds::open_scoring(&t.app, &province, r.id)
        .await
        .expect("open scoring");

    // An assigned expert reads the application's files during the window, nobody else does.
    use jiqun::services::owners::{OwnerType, can_read};
    let changsha = show.application_ids[0];
    let assigned = jiqun::store::entity::assignment::Entity::find()
        .filter(jiqun::store::entity::assignment::Column::EntryId.eq(entries[0].id))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("an assignment");
    let judge_user = jiqun::store::entity::expert::Entity::find_by_id(assigned.expert_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .user_id;
    let judge_name = user::Entity::find_by_id(judge_user)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .username;
    let judge = principal(&t, &judge_name).await;
    assert!(
        can_read(&t.app, &judge, OwnerType::Application, changsha)
            .await
            .is_ok()
    );
    // `expert` works in 长沙 and was never assigned the 长沙 cluster.
    let local = principal(&t, "expert").await;
    assert!(
        can_read(&t.app, &local, OwnerType::Application, changsha)
            .await
            .is_err()
    );
    t.app.clock.advance(time::Duration::days(8));
    assert!(
        can_read(&t.app, &judge, OwnerType::Application, changsha)
            .await
            .is_err(),
        "closed with the window"
    );
}

/// Moves the server clock to `date` 10:00 Beijing time.
pub fn set_date(t: &TestApp, date: time::Date) {
    let target = time::PrimitiveDateTime::new(date, time::macros::time!(10:00))
        .assume_offset(time::macros::offset!(+8));
    t.app.clock.advance(target - t.app.clock.now());
}

async fn expert_of(t: &TestApp, username: &str) -> i64 {
    let u = principal(t, username).await;
    jiqun::store::entity::expert::Entity::find()
        .filter(jiqun::store::entity::expert::Column::UserId.eq(u.user.id))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("pool entry")
        .id
}

/// Every criterion at `share` of its maximum, as the API takes it.
fn scores(share: f64) -> Value {
    let policy = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
    let mut out = serde_json::Map::new();
    for c in &policy.criteria {
        out.insert(
            c.key.clone(),
            json!((f64::from(c.max_score) * share * 10.0).round() / 10.0),
        );
    }
    Value::Object(out)
}

fn entry_named(view: &Value, name: &str) -> Value {
    view["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["cluster_name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no entry {name} in {view}"))
}

async fn application_status(t: &TestApp, id: i64) -> String {
    jiqun::store::entity::application::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

/// A whole 初赛 through the JSON API only, as an integrating system would drive it: every step
/// answers as the pages do, every entrant and application moves through the state machine, and
/// the audit trail holds one entry per decision and still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_round_through_the_api_leaves_its_audit_trail() {
    let t = support::spawn().await;
    set_date(&t, time::macros::date!(2026 - 03 - 09));
    let show = jiqun::demo::seed_showcase(&t.app).await.expect("showcase");
    let province = token(&t, "province").await;
    let (status, view) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/competitions/{}/rounds", show.competition_id),
        Some(json!({
            "kind": "preliminary",
            "experts_per_application": 3,
            "panel_note": "专家库规模有限",
            "quotas": {"leading": 1, "specialty": 1},
            "scoring_opens_at": local_in(&t, 0),
            "scoring_closes_at": local_in(&t, 5),
        })),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let round = view["round"]["id"].as_i64().unwrap();
    let changsha = entry_named(&view, "长沙工程机械产业集群");
    let zhuzhou = entry_named(&view, "株洲轨道交通装备产业集群");
    let yueyang = entry_named(&view, "岳阳石化产业集群");
    let mut pool = Vec::new();
    for u in [
        "expert", "expert2", "expert3", "expert4", "expert5", "expert6",
    ] {
        pool.push(expert_of(&t, u).await);
    }
    let (status, body) = call(
        &t,
        &province,
        "PUT",
        &format!("/api/v1/rounds/{round}/panel"),
        Some(json!({"add": pool, "remove": []})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/auto-assign"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 9);

    // The 长沙 expert may judge the 长沙 cluster only as a recorded override.
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/assignments"),
        Some(json!({"entry_id": changsha["id"], "expert_id": pool[0], "override_reason": ""})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("长沙市"), "{body}");
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/assignments"),
        Some(json!({"entry_id": changsha["id"], "expert_id": pool[0],
                    "override_reason": "该专家为行业唯一的工程机械领域院士，经分管厅领导批准"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/open-scoring"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for id in &show.application_ids {
        assert_eq!(application_status(&t, *id).await, "in_review");
    }

    // Every expert scores what they were given: 长沙 best, 株洲 next.
    let mut sheets = 0;
    for u in [
        "expert", "expert2", "expert3", "expert4", "expert5", "expert6",
    ] {
        let tok = token(&t, u).await;
        let (_, mine) = call(&t, &tok, "GET", "/api/v1/scoring", None).await;
        for a in mine.as_array().unwrap() {
            let id = a["assignment_id"].as_i64().unwrap();
            let share = match a["cluster_name"].as_str().unwrap() {
                "长沙工程机械产业集群" => 0.9,
                "株洲轨道交通装备产业集群" => 0.7,
                _ => 0.8,
            };
            let (status, saved) = call(
                &t,
                &tok,
                "PUT",
                &format!("/api/v1/scoring/{id}"),
                Some(json!({"scores": scores(share), "comment": "材料翔实。", "version": 0})),
            )
            .await;
            assert_eq!(status, 200, "{saved}");
            let (status, body) = call(
                &t,
                &tok,
                "POST",
                &format!("/api/v1/scoring/{id}/submit"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            sheets += 1;
        }
    }
    assert_eq!(sheets, 10, "nine automatic assignments and the override");

    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/propose"),
        Some(json!({"reason": ""})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        application_status(&t, zhuzhou["application_id"].as_i64().unwrap()).await,
        "not_selected"
    );
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/notice"),
        Some(json!({"notice_text": "现将拟入选名单予以公示。"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Two named objections from the public: one dismissed, one upheld.
    let public = reqwest::Client::new();
    let mut filed = Vec::new();
    for (entry, reason) in [
        (&changsha, "营业收入数据与统计年鉴不一致。"),
        (&yueyang, "核心园区存在重大安全生产事故。"),
    ] {
        let res = public
            .post(t.url(&format!("/api/v1/notices/{round}/objections")))
            .json(&json!({"entry_id": entry["id"], "name": "王建国",
                          "contact": "13907310000", "reason": reason}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        filed.push(body["id"].as_i64().expect("receipt number"));
    }
    let reply = json!({"reply": "已登记，转请所在市州核实。"});
    for id in &filed {
        let (status, body) = call(
            &t,
            &province,
            "POST",
            &format!("/api/v1/objections/{id}/register"),
            Some(reply.clone()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/objections/{}/dismiss", filed[0]),
        Some(json!({"reply": "经核实，数据一致，异议不成立。"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/objections/{}/uphold", filed[1]),
        Some(json!({"reply": "经核实，异议成立，取消拟入选资格。"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        application_status(&t, yueyang["application_id"].as_i64().unwrap()).await,
        "removed"
    );

    // Not before the window has closed (Friday 13 March is its last day).
    set_date(&t, time::macros::date!(2026 - 03 - 13));
    let province = token(&t, "province").await;
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/confirm"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    set_date(&t, time::macros::date!(2026 - 03 - 16));
    let province = token(&t, "province").await;
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/rounds/{round}/confirm"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        application_status(&t, changsha["application_id"].as_i64().unwrap()).await,
        "confirmed"
    );
    let (_, certificates) = call(&t, &province, "GET", "/api/v1/certificates", None).await;
    let listed = certificates.to_string();
    assert!(listed.contains("湘集群培〔2026〕第001号"), "{listed}");
    assert!(listed.contains("长沙工程机械产业集群"));
    assert!(
        !listed.contains("岳阳石化产业集群"),
        "the removed candidate is not designated"
    );

    // One audit entry per decision, in order, and the chain still verifies.
    let actions: Vec<String> = jiqun::store::entity::audit_entry::Entity::find()
        .order_by_asc(jiqun::store::entity::audit_entry::Column::Seq)
        .all(&t.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    let expected = [
        "round.open",
        "round.panel",
        "round.auto_assign",
        "round.assign_override",
        "round.open_scoring",
        "score.save",
        "score.submit",
        "round.propose",
        "notice.publish",
        "objection.file",
        "objection.register",
        "objection.dismiss",
        "objection.uphold",
        "designation.create",
        "round.confirm",
    ];
    let mut at = 0;
    for step in expected {
        let found = actions[at..]
            .iter()
            .position(|a| a == step)
            .unwrap_or_else(|| panic!("no {step} after position {at} in {actions:?}"));
        at += found;
    }
    assert_eq!(actions.iter().filter(|a| *a == "score.submit").count(), 10);
    assert_eq!(actions.iter().filter(|a| *a == "objection.file").count(), 2);
    let verified = jiqun::audit::verify(&t.app.db, &t.app.audit_key)
        .await
        .unwrap();
    assert!(verified.is_ok(), "the audit chain verifies: {verified:?}");
}
