//! A whole round through the services, as the province, the experts and the public meet it,
//! with the audit trail it leaves.

use jiqun::services::owners::{OwnerType, can_read};
use jiqun::services::rounds;
use jiqun::store::entity::audit_entry;
use jiqun::store::id::{ApplicationId, RoundId};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use time::Duration;
use time::macros::date;

use crate::fixtures::{
    CHANGSHA, EXPERTS, RoundPlan, YUEYANG, ZHUZHOU, application_status, entrant, expert_id,
    forward_to, on_objection, on_round, open_showcase_round, panel_of, principal, propose, publish,
    set_day, set_panel, showcase, staff_round,
};
use crate::support;
use crate::{call, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preliminary_round_is_opened_and_assigned_without_conflicts() {
    let t = support::spawn().await;
    let plan = RoundPlan {
        opens_in: Duration::days(0),
        closes_in: Duration::days(7),
        ..RoundPlan::new("preliminary", 3, "演示：专家库规模有限")
    };
    let (show, r) = open_showcase_round(&t, &plan).await;
    let entries = rounds::entries(&t.app.db, r.id).await.unwrap();
    assert_eq!(entries.len(), 3);
    let out = staff_round(&t, r.id).await;
    assert_eq!(out.added, 9, "{out:?}");
    assert!(out.shortfalls.is_empty());
    let province = principal(&t, "province").await;
    rounds::open_scoring(&t.app, &province, r.id)
        .await
        .expect("open scoring");

    // An assigned expert reads the application's files during the window, nobody else does.
    let changsha = show.application_ids[0];
    let (_, judge_name) = panel_of(&t, entries[0].id).await[0].clone();
    let judge = principal(&t, &judge_name).await;
    assert!(
        can_read(&t.app, &judge, OwnerType::Application, changsha.get())
            .await
            .is_ok()
    );
    // `expert` works in 长沙 and was never assigned the 长沙 cluster.
    let local = principal(&t, "expert").await;
    assert!(
        can_read(&t.app, &local, OwnerType::Application, changsha.get())
            .await
            .is_err()
    );
    t.app.clock.advance(Duration::days(8));
    assert!(
        can_read(&t.app, &judge, OwnerType::Application, changsha.get())
            .await
            .is_err(),
        "closed with the window"
    );
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

/// A whole 初赛 through the JSON API only, as an integrating system would drive it: every step
/// answers as the pages do, every entrant and application moves through the state machine, and
/// the audit trail holds one entry per decision and still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_round_through_the_api_leaves_its_audit_trail() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 03 - 09));
    let show = showcase(&t).await;
    let province = token(&t, "province").await;
    // As an integrating system sends it: the defence left to its default.
    let mut body = RoundPlan {
        opens_in: Duration::days(0),
        closes_in: Duration::days(5),
        ..RoundPlan::new("preliminary", 3, "专家库规模有限")
    }
    .json(&t);
    body.as_object_mut().unwrap().remove("defence");
    let (status, view) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/competitions/{}/rounds", show.competition_id),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let round = view["round"]["id"].as_i64().unwrap();
    let changsha = entrant(&view, CHANGSHA).clone();
    let zhuzhou = entrant(&view, ZHUZHOU).clone();
    let yueyang = entrant(&view, YUEYANG).clone();
    let mut pool = Vec::new();
    for u in EXPERTS {
        pool.push(expert_id(&t, u).await.get());
    }
    set_panel(&t, &province, round, &pool).await;
    let (status, body) = on_round(&t, &province, "POST", round, "auto-assign", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 9);

    // The 长沙 expert may judge the 长沙 cluster only as a recorded override.
    let (status, body) = on_round(
        &t,
        &province,
        "POST",
        round,
        "assignments",
        Some(json!({"entry_id": changsha["id"], "expert_id": pool[0], "override_reason": ""})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("长沙市"), "{body}");
    let (status, body) = on_round(
        &t,
        &province,
        "POST",
        round,
        "assignments",
        Some(json!({"entry_id": changsha["id"], "expert_id": pool[0],
                    "override_reason": "该专家为行业唯一的工程机械领域院士，经分管厅领导批准"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = on_round(&t, &province, "POST", round, "open-scoring", None).await;
    assert_eq!(status, 200, "{body}");
    for id in &show.application_ids {
        assert_eq!(application_status(&t, *id).await, "in_review");
    }

    // Every expert scores what they were given: 长沙 best, 株洲 next.
    let mut sheets = 0;
    for u in EXPERTS {
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

    let (status, body) = propose(&t, &province, round, json!({"reason": ""})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        application_status(
            &t,
            ApplicationId::new(zhuzhou["application_id"].as_i64().unwrap())
        )
        .await,
        "not_selected"
    );
    publish(&t, RoundId::new(round)).await;

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
    // The public page, served from memory between changes, shows no decision yet.
    let notice_page = || async {
        reqwest::get(t.url(&format!("/notices/{round}")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(
        !notice_page()
            .await
            .contains("经核实，数据一致，异议不成立。")
    );
    let reply = json!({"reply": "已登记，转请所在市州核实。"});
    for id in &filed {
        let (status, body) = on_objection(&t, &province, id, "register", reply.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = on_objection(
        &t,
        &province,
        filed[0],
        "dismiss",
        json!({"reply": "经核实，数据一致，异议不成立。"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = on_objection(
        &t,
        &province,
        filed[1],
        "uphold",
        json!({"reply": "经核实，异议成立，取消拟入选资格。"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        application_status(
            &t,
            ApplicationId::new(yueyang["application_id"].as_i64().unwrap())
        )
        .await,
        "removed"
    );
    // Each decision shows on the public page at once: a decision is a new page.
    let page = notice_page().await;
    assert!(page.contains("经核实，数据一致，异议不成立。"), "{page}");
    assert!(page.contains("经核实，异议成立，取消拟入选资格。"));

    // Not before the window has closed (Friday 13 March is its last day).
    forward_to(&t, date!(2026 - 03 - 13));
    let province = token(&t, "province").await;
    let (status, body) = on_round(&t, &province, "POST", round, "confirm", None).await;
    assert_eq!(status, 409, "{body}");
    forward_to(&t, date!(2026 - 03 - 16));
    let province = token(&t, "province").await;
    let (status, body) = on_round(&t, &province, "POST", round, "confirm", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        application_status(
            &t,
            ApplicationId::new(changsha["application_id"].as_i64().unwrap())
        )
        .await,
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
    let actions: Vec<String> = audit_entry::Entity::find()
        .order_by_asc(audit_entry::Column::Seq)
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

/// An expert who missed the deadline cannot score; the province moves the deadline later with
/// a reason (audited, experts told), and the expert finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_deadline_is_extended_with_a_reason() {
    use crate::fixtures::{audited, local_in, panel_of, principal, scores_for, scoring_round};
    use jiqun::services::scoring::{self, SheetInput};
    let t = support::spawn().await;
    let round = scoring_round(
        &t,
        time::Duration::hours(-1),
        time::Duration::days(2),
        false,
    )
    .await;
    let (assignment, username) = panel_of(&t, round.entries[0].id).await.remove(0);
    let expert = principal(&t, &username).await;
    let input = SheetInput {
        scores: scores_for(80.0),
        comment: "材料翔实。".into(),
        version: 0,
    };
    t.app.clock.advance(time::Duration::days(3));
    let late = scoring::save(&t.app, &expert, assignment, Some(&input), true)
        .await
        .expect_err("the window has closed");
    assert!(late.to_string().contains("截止"), "{late}");

    let province = principal(&t, "province").await;
    let new_close = local_in(&t, time::Duration::days(2));
    let err = rounds::extend_window(&t.app, &province, round.id, &new_close, " ")
        .await
        .expect_err("a reason is required");
    assert_eq!(err.fields()[0].message, "请填写延长评分时间的理由");
    let err = rounds::extend_window(
        &t.app,
        &province,
        round.id,
        &local_in(&t, time::Duration::days(-1)),
        "专家出差",
    )
    .await
    .expect_err("not earlier than now");
    assert!(
        err.fields()[0].message.contains("应晚于原截止时间"),
        "{err:?}"
    );
    rounds::extend_window(
        &t.app,
        &province,
        round.id,
        &new_close,
        "专家因公出差，延长两天",
    )
    .await
    .expect("extend");
    scoring::save(&t.app, &expert, assignment, Some(&input), true)
        .await
        .expect("the expert finishes within the new deadline");
    let told = jiqun::store::entity::notification::Entity::find()
        .filter(jiqun::store::entity::notification::Column::UserId.eq(expert.user.id))
        .filter(jiqun::store::entity::notification::Column::Title.eq("评分截止时间已延长"))
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(told.len(), 1, "the expert is told once of the new deadline");
    let entries = audited(&t, "round.extend_window").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].reason, "专家因公出差，延长两天");
}
