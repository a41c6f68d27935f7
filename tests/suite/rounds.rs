//! The expert pool and the set-up of a round: opening a 初赛 or 决赛, the panel, automatic and
//! manual assignment with conflicts of interest, recusal, and the start of scoring; through the
//! API and the pages, with the audit entries each step writes.

use jiqun::store::id::EntryId;
use std::collections::BTreeMap;

use jiqun::clock::datetime_local_value;
use jiqun::store::entity::{
    application, assignment, audit_entry, expert, expert_conflict, notification,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use time::Duration;

use crate::fixtures::{
    Answer, ApiRound, CHANGSHA, EXPERTS, RoundPlan, YUEYANG, ZHUZHOU, api_round, audited, entrant,
    error_message, expert_ids, field_message, get_page, on_round, open_preliminary, post_page,
    set_panel, showcase, user_id,
};
use crate::support::{self, TestApp};
use crate::{call, org_id, token};

async fn get_round(t: &TestApp, tok: &str, round: i64) -> Value {
    let (status, v) = call(t, tok, "GET", &format!("/api/v1/rounds/{round}"), None).await;
    assert_eq!(status, 200, "{v}");
    v
}

/// Expert ids of an entrant's standing assignments.
fn assigned_to(entry: &Value) -> Vec<i64> {
    entry["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["recused"] == false)
        .map(|a| a["expert_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preliminary_round_takes_the_recommended_applications_under_the_policy() {
    let t = support::spawn().await;
    let s = showcase(&t).await;
    let province = token(&t, "province").await;
    let path = format!("/api/v1/competitions/{}/rounds", s.competition_id);

    // Fewer experts than the policy's minimum needs a reason; more than its maximum is refused.
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(RoundPlan::new("preliminary", 3, "").json(&t)),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        field_message(&body, "panel_note").contains("由5至7名专家评审"),
        "{body}"
    );
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(RoundPlan::new("preliminary", 8, "").json(&t)),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        field_message(&body, "experts_per_application").contains("不能超过政策规定的7人"),
        "{body}"
    );
    let mut no_quota = RoundPlan::new("preliminary", 5, "").json(&t);
    no_quota["quotas"] = json!({"leading": 0, "mystery": 2});
    let (status, body) = call(&t, &province, "POST", &path, Some(no_quota)).await;
    assert_eq!(status, 422);
    assert!(
        field_message(&body, "quotas").contains("未知的集群类型“mystery”"),
        "{body}"
    );
    assert_eq!(
        jiqun::store::entity::round::Entity::find()
            .count(&t.app.db)
            .await
            .unwrap(),
        0,
        "nothing refused was stored"
    );

    let round = open_preliminary(&t, &province, s.competition_id, 3).await;
    let id = round["round"]["id"].as_i64().unwrap();
    assert_eq!(round["round"]["kind_label"], "初赛");
    assert_eq!(round["round"]["status"], "setup");
    assert_eq!(round["round"]["experts_per_application"], 3);
    assert_eq!(round["panel_note"], "专家资源有限，经处务会研究");
    assert_eq!(round["policy_min_experts"], 5);
    let mut entrants: Vec<i64> = round["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["application_id"].as_i64().unwrap())
        .collect();
    entrants.sort_unstable();
    let mut expected: Vec<i64> = s.application_ids.iter().map(|a| a.get()).collect();
    expected.sort_unstable();
    assert_eq!(
        entrants, expected,
        "entrants are the recommended applications"
    );
    let yueyang = entrant(&round, YUEYANG);
    assert_eq!(yueyang["cluster_kind_label"], "特色产业集群");
    assert_eq!(yueyang["city_name"], "岳阳市");
    assert_eq!(yueyang["status"], "recommended");
    assert_eq!(
        entrant(&round, CHANGSHA)["applicant_name"],
        "长沙工程机械产业集群促进会"
    );
    let opened = audited(&t, "round.open").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].object_id, id.to_string());
    assert_eq!(opened[0].reason, "专家资源有限，经处务会研究");
    assert!(
        opened[0].summary.contains("参赛3个"),
        "{}",
        opened[0].summary
    );

    // One 初赛 per competition.
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(RoundPlan::new("preliminary", 5, "").json(&t)),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        error_message(&body).contains("2026年度竞赛已开设初赛，不能重复开设"),
        "{body}"
    );
    // No cultivation target has served its period yet: no 决赛.
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(RoundPlan::new("final", 5, "").json(&t)),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        "没有培育期满6个月的培育对象，暂不能开设决赛"
    );
    assert_eq!(audited(&t, "round.open").await.len(), 1);

    // Partner departments read rounds; the list filters by competition.
    let partner = token(&t, "partner").await;
    let (status, list) = call(
        &t,
        &partner,
        "GET",
        &format!("/api/v1/rounds?competition_id={}", s.competition_id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["progress"], "专家分配：0/3个参赛集群已满3人");
    let (_, none) = call(
        &t,
        &partner,
        "GET",
        "/api/v1/rounds?competition_id=999",
        None,
    )
    .await;
    assert_eq!(none, json!([]));
    assert_eq!(get_round(&t, &partner, id).await["round"]["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_assignment_gives_every_entrant_k_conflict_free_experts_with_even_loads() {
    let ApiRound {
        t,
        province,
        id,
        ids,
        ..
    } = api_round(5).await;

    // Without a panel there is nothing to assign from.
    let (status, body) = on_round(&t, &province, "POST", id, "auto-assign", None).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["message"], "请先从专家库选择评审组成员");

    let all: Vec<i64> = EXPERTS.iter().map(|u| ids[*u]).collect();
    let v = set_panel(&t, &province, id, &all).await;
    assert_eq!(v["panel"].as_array().unwrap().len(), 6);
    assert!(v["shortfalls"].as_array().unwrap().is_empty(), "{v}");
    let panel = audited(&t, "round.panel").await;
    assert_eq!(panel.len(), 1);
    assert!(panel[0].summary.contains("赵教授"), "{}", panel[0].summary);

    let (status, outcome) = on_round(&t, &province, "POST", id, "auto-assign", None).await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["added"], 15);
    assert_eq!(outcome["shortfalls"], json!([]));

    let v = get_round(&t, &province, id).await;
    let cities: BTreeMap<i64, String> = expert::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id.get(), e.city_code.to_string()))
        .collect();
    for e in v["entries"].as_array().unwrap() {
        let experts = assigned_to(e);
        assert_eq!(experts.len(), 5, "{e}");
        assert_eq!(e["assigned"], 5);
        for x in &experts {
            assert_ne!(
                cities[x].as_str(),
                e["city_code"].as_str().unwrap(),
                "an expert judges a cluster of their own city: {e}"
            );
        }
        assert!(
            e["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["source"] == "auto" && a["source_label"] == "自动")
        );
    }
    // 赵教授 works in 长沙: never on the 长沙 cluster.
    assert!(!assigned_to(entrant(&v, CHANGSHA)).contains(&ids["expert"]));
    let loads: Vec<i64> = v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["load"].as_i64().unwrap())
        .collect();
    assert_eq!(loads.iter().sum::<i64>(), 15);
    let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
    assert!(max - min <= 1, "loads {loads:?}");
    assert_eq!(v["round"]["progress"], "专家分配：3/3个参赛集群已满5人");
    let auto = audited(&t, "round.auto_assign").await;
    assert_eq!(auto.len(), 1);
    assert!(auto[0].summary.contains("新增15项"), "{}", auto[0].summary);

    // Running it again keeps what stands.
    let (_, again) = on_round(&t, &province, "POST", id, "auto-assign", None).await;
    assert_eq!(again["added"], 0);
    assert_eq!(
        assignment::Entity::find().count(&t.app.db).await.unwrap(),
        15
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_panel_is_reported_and_scoring_waits_until_every_entrant_has_its_experts() {
    let ApiRound {
        t,
        show: s,
        province,
        id,
        ids,
        ..
    } = api_round(5).await;
    let five: Vec<i64> = EXPERTS[..5].iter().map(|u| ids[*u]).collect();
    set_panel(&t, &province, id, &five).await;

    let (status, outcome) = on_round(&t, &province, "POST", id, "auto-assign", None).await;
    assert_eq!(status, 200);
    assert_eq!(outcome["added"], 14);
    let short = outcome["shortfalls"].as_array().unwrap();
    assert_eq!(short.len(), 1, "{outcome}");
    assert_eq!(short[0]["cluster_name"], CHANGSHA);
    assert_eq!(short[0]["assigned"], 4);
    assert_eq!(short[0]["needed"], 5);
    assert!(
        short[0]["reason"]
            .as_str()
            .unwrap()
            .contains("其中1名存在利益冲突"),
        "{outcome}"
    );
    // The round view keeps reporting it while it stands.
    let v = get_round(&t, &province, id).await;
    assert_eq!(v["shortfalls"][0]["cluster_name"], CHANGSHA);

    let (status, body) = on_round(&t, &province, "POST", id, "open-scoring", None).await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        format!("以下参赛集群的评审专家不足，不能开始评分：{CHANGSHA}（4/5）")
    );
    assert_eq!(
        get_round(&t, &province, id).await["round"]["status"],
        "setup"
    );

    // A sixth expert fills the gap; then scoring opens.
    set_panel(&t, &province, id, &[ids["expert6"]]).await;
    let (_, outcome) = on_round(&t, &province, "POST", id, "auto-assign", None).await;
    assert_eq!(outcome["added"], 1);
    assert_eq!(outcome["shortfalls"], json!([]));
    let (status, v) = on_round(&t, &province, "POST", id, "open-scoring", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["round"]["status"], "scoring");
    assert_eq!(v["round"]["progress"], "评分表已提交：0/15");
    for e in v["entries"].as_array().unwrap() {
        assert_eq!(e["status"], "in_review", "{e}");
        assert_eq!(e["status_label"], "专家评审中");
    }
    for a in application::Entity::find()
        .filter(application::Column::Id.is_in(s.application_ids.clone()))
        .all(&t.app.db)
        .await
        .unwrap()
    {
        assert_eq!(
            a.status.key(),
            "in_review",
            "the application follows its entry"
        );
    }
    for username in EXPERTS {
        let told = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id(&t, username).await))
            .filter(notification::Column::Title.eq("评审任务：初赛"))
            .count(&t.app.db)
            .await
            .unwrap();
        assert_eq!(told, 1, "{username} is told once");
    }
    let opened = audited(&t, "round.open_scoring").await;
    assert_eq!(opened.len(), 1);
    assert!(opened[0].summary.contains("15项评审任务"));
    // Scoring opens once.
    let (status, body) = on_round(&t, &province, "POST", id, "open-scoring", None).await;
    assert_eq!(status, 409);
    assert!(
        error_message(&body).contains("不能执行“开始评分”"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicted_hand_assignment_is_refused_unless_overridden_with_a_reason() {
    let ApiRound {
        t,
        province,
        view: round,
        id,
        ids,
        ..
    } = api_round(5).await;

    // 钱研究员 also sits on the board of a 株洲 member enterprise.
    let (_, qian) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/experts/{}", ids["expert2"]),
        None,
    )
    .await;
    let (status, updated) = call(
        &t,
        &province,
        "PUT",
        &format!("/api/v1/experts/{}", ids["expert2"]),
        Some(json!({
            "name": qian["expert"]["name"],
            "city_code": "430300",
            "employer": "湘潭大学",
            "fields": ["新材料", "化工"],
            "affiliations": ["株洲电力机车装备有限公司（独立董事）", " 株洲电力机车装备有限公司 "],
            "active": true,
            "version": qian["expert"]["version"],
        })),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["affiliations"],
        json!([
            "株洲电力机车装备有限公司（独立董事）",
            "株洲电力机车装备有限公司"
        ])
    );
    let (_, detail) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/experts/{}", ids["expert2"]),
        None,
    )
    .await;
    assert!(
        detail["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["kind_label"] == "集群成员企业" && m["cluster_name"] == ZHUZHOU),
        "{detail}"
    );

    let all: Vec<i64> = EXPERTS.iter().map(|u| ids[*u]).collect();
    set_panel(&t, &province, id, &all).await;
    let changsha = entrant(&round, CHANGSHA)["id"].as_i64().unwrap();
    let zhuzhou = entrant(&round, ZHUZHOU)["id"].as_i64().unwrap();
    let yueyang = entrant(&round, YUEYANG)["id"].as_i64().unwrap();
    let path = format!("/api/v1/rounds/{id}/assignments");

    let (status, body) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(json!({"entry_id": changsha, "expert_id": ids["expert"]})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        field_message(&body, "override_reason"),
        "存在回避情形：专家与集群牵头县同属长沙市。如确需分配，请填写理由"
    );
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(json!({"entry_id": zhuzhou, "expert_id": ids["expert2"], "override_reason": "  "})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        field_message(&body, "override_reason")
            .contains("专家与集群成员企业“株洲电力机车装备有限公司”存在关联"),
        "{body}"
    );
    assert_eq!(
        assignment::Entity::find().count(&t.app.db).await.unwrap(),
        0
    );

    let reason = "该领域省内专家仅此一人，经分管厅领导批准";
    let (status, a) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(json!({"entry_id": changsha, "expert_id": ids["expert"], "override_reason": reason})),
    )
    .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["source"], "manual");
    assert_eq!(a["source_label"], "手工");
    assert_eq!(a["override_reason"], reason);
    let stored = assignment::Entity::find_by_id(a["id"].as_i64().unwrap())
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.override_reason, reason);
    let overrides = audited(&t, "round.assign_override").await;
    assert_eq!(overrides.len(), 1);
    assert_eq!(overrides[0].reason, reason);
    assert!(
        overrides[0].summary.contains("same_city"),
        "{}",
        overrides[0].summary
    );
    // The same pair twice is refused.
    let (status, _) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(json!({"entry_id": changsha, "expert_id": ids["expert"], "override_reason": reason})),
    )
    .await;
    assert_eq!(status, 409);

    // A conflict-free pair needs no reason, and none is stored.
    let (status, plain) = call(
        &t,
        &province,
        "POST",
        &path,
        Some(json!({"entry_id": yueyang, "expert_id": ids["expert2"], "override_reason": "多余的理由"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(plain["override_reason"], "");
    assert_eq!(audited(&t, "round.assign").await.len(), 1);

    // Automatic assignment never adds the conflicted pair the province did not override.
    on_round(&t, &province, "POST", id, "auto-assign", None).await;
    let v = get_round(&t, &province, id).await;
    assert!(!assigned_to(entrant(&v, ZHUZHOU)).contains(&ids["expert2"]));
    assert!(assigned_to(entrant(&v, CHANGSHA)).contains(&ids["expert"]));
    let kept = entrant(&v, CHANGSHA)["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["expert_id"] == ids["expert"])
        .unwrap()
        .clone();
    assert_eq!(kept["override_reason"], reason);

    // Taking an assignment back needs a reason.
    let gone = format!("/api/v1/assignments/{}", a["id"]);
    let (status, body) = call(&t, &province, "DELETE", &gone, Some(json!({"reason": ""}))).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&body, "reason"), "请填写取消分配的理由");
    let (status, _) = call(
        &t,
        &province,
        "DELETE",
        &gone,
        Some(json!({"reason": "改由其他市州专家评审"})),
    )
    .await;
    assert_eq!(status, 204);
    let v = get_round(&t, &province, id).await;
    assert!(!assigned_to(entrant(&v, CHANGSHA)).contains(&ids["expert"]));
    let undone = audited(&t, "round.unassign").await;
    assert_eq!(undone.len(), 1);
    assert_eq!(undone[0].reason, "改由其他市州专家评审");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expert_who_recuses_is_not_given_that_entrant_again() {
    let ApiRound {
        t,
        province,
        id,
        ids,
        ..
    } = api_round(5).await;
    let all: Vec<i64> = EXPERTS.iter().map(|u| ids[*u]).collect();
    set_panel(&t, &province, id, &all).await;
    on_round(&t, &province, "POST", id, "auto-assign", None).await;
    let v = get_round(&t, &province, id).await;
    // Someone on the 岳阳 cluster steps back.
    let yueyang = entrant(&v, YUEYANG);
    let (who, mine) = EXPERTS
        .iter()
        .find_map(|u| {
            yueyang["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["expert_id"] == ids[*u])
                .map(|a| (*u, a["id"].as_i64().unwrap()))
        })
        .unwrap();
    let other = EXPERTS.iter().find(|u| **u != who).unwrap();
    let recuse = format!("/api/v1/assignments/{mine}/recuse");

    // Only the assigned expert may recuse from it.
    let tok_other = token(&t, other).await;
    let (status, _) = call(
        &t,
        &tok_other,
        "POST",
        &recuse,
        Some(json!({"reason": "冒名"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &t,
        &province,
        "POST",
        &recuse,
        Some(json!({"reason": "代为申请"})),
    )
    .await;
    assert_eq!(status, 404);
    let tok = token(&t, who).await;
    let (status, body) = call(&t, &tok, "POST", &recuse, Some(json!({"reason": " "}))).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&body, "reason"), "请填写回避理由");
    let why = "本人曾为该集群链主企业提供咨询服务";
    let (status, body) = call(&t, &tok, "POST", &recuse, Some(json!({"reason": why}))).await;
    assert_eq!(status, 204, "{body}");

    let v = get_round(&t, &province, id).await;
    let yueyang = entrant(&v, YUEYANG);
    let marked = yueyang["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == mine)
        .unwrap();
    assert_eq!(marked["recused"], true);
    assert_eq!(marked["recusal_reason"], why);
    assert!(marked["recused_at"].is_string());
    assert_eq!(yueyang["assigned"], 4);
    let declared = expert_conflict::Entity::find()
        .filter(expert_conflict::Column::ExpertId.eq(ids[who]))
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(declared.len(), 1);
    assert_eq!(
        declared[0].application_id,
        yueyang["application_id"].as_i64().unwrap()
    );
    assert_eq!(declared[0].reason, why);
    let recusals = audited(&t, "round.recuse").await;
    assert_eq!(recusals.len(), 1);
    assert_eq!(recusals[0].reason, why);
    assert_eq!(recusals[0].actor_role, "expert");
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id(&t, "province").await))
        .filter(notification::Column::Title.eq(format!("专家申请回避：{YUEYANG}")))
        .count(&t.app.db)
        .await
        .unwrap();
    assert_eq!(told, 1, "the province is told to fill the gap");
    // The expert sees the declaration on their own entry.
    let (status, me) = call(&t, &tok, "GET", "/api/v1/experts/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["conflicts"][0]["cluster_name"], YUEYANG);
    assert_eq!(me["conflicts"][0]["reason"], why);
    // Twice is not possible, nor is taking the record away.
    let (status, _) = call(&t, &tok, "POST", &recuse, Some(json!({"reason": why}))).await;
    assert_eq!(status, 404);
    let (status, body) = call(
        &t,
        &province,
        "DELETE",
        &format!("/api/v1/assignments/{mine}"),
        Some(json!({"reason": "清理"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // The gap is filled by someone else, never by the expert who stepped back.
    let (_, outcome) = on_round(&t, &province, "POST", id, "auto-assign", None).await;
    assert_eq!(outcome["added"], 1, "{outcome}");
    let v = get_round(&t, &province, id).await;
    let now = assigned_to(entrant(&v, YUEYANG));
    assert_eq!(now.len(), 5);
    assert!(!now.contains(&ids[who]));
    let (status, body) = on_round(&t, &province, "POST", id, "assignments", Some(json!({"entry_id": yueyang["id"], "expert_id": ids[who], "override_reason": "仍请评审"})))
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        "该专家已对此参赛集群申请回避，不能再分配"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_province_sets_up_rounds_and_keeps_the_pool() {
    let ApiRound {
        t,
        show: s,
        province,
        id,
        ids,
        ..
    } = api_round(5).await;
    let all: Vec<i64> = EXPERTS.iter().map(|u| ids[*u]).collect();
    set_panel(&t, &province, id, &all).await;
    on_round(&t, &province, "POST", id, "auto-assign", None).await;
    let v = get_round(&t, &province, id).await;
    let entry_id = entrant(&v, YUEYANG)["id"].as_i64().unwrap();
    let assignment_id = entrant(&v, YUEYANG)["assignments"][0]["id"]
        .as_i64()
        .unwrap();

    let expert_body = json!({
        "user_id": user_id(&t, "expert").await,
        "name": "某专家",
        "city_code": "430100",
        "employer": "某大学",
        "fields": ["智能制造"],
    });
    for who in [
        "partner",
        "applicant",
        "changsha",
        "expert",
        "sysadmin",
        "auditor",
    ] {
        let tok = token(&t, who).await;
        let attempts: [(&str, String, Option<Value>); 9] = [
            (
                "POST",
                format!("/api/v1/competitions/{}/rounds", s.competition_id),
                Some(RoundPlan::new("final", 5, "").json(&t)),
            ),
            (
                "PUT",
                format!("/api/v1/rounds/{id}/panel"),
                Some(json!({"add": [], "remove": [all[0]]})),
            ),
            ("POST", format!("/api/v1/rounds/{id}/auto-assign"), None),
            (
                "POST",
                format!("/api/v1/rounds/{id}/assignments"),
                Some(json!({"entry_id": entry_id, "expert_id": all[0], "override_reason": "x"})),
            ),
            (
                "DELETE",
                format!("/api/v1/assignments/{assignment_id}"),
                Some(json!({"reason": "x"})),
            ),
            ("POST", format!("/api/v1/rounds/{id}/open-scoring"), None),
            ("POST", "/api/v1/experts".into(), Some(expert_body.clone())),
            (
                "PUT",
                format!("/api/v1/experts/{}", all[0]),
                Some(
                    json!({"name": "改名", "city_code": "430100", "employer": "某大学",
                            "fields": ["智能制造"], "version": 1}),
                ),
            ),
            ("GET", "/api/v1/experts/accounts".into(), None),
        ];
        for (method, path, body) in attempts {
            // A city bureau keeps its own city's pool (第十六条; city_competitions.rs): it adds
            // experts to that one, never edits the provincial pool.
            if who == "changsha" && path.starts_with("/api/v1/experts") && method != "PUT" {
                continue;
            }
            let (status, answer) = call(&t, &tok, method, &path, body).await;
            assert!(
                status == 403 || status == 404,
                "{who} {method} {path}: {status} {answer}"
            );
        }
    }
    assert_eq!(
        audit_entry::Entity::find()
            .filter(audit_entry::Column::Action.starts_with("round."))
            .count(&t.app.db)
            .await
            .unwrap(),
        audited(&t, "round.open").await.len() as u64
            + audited(&t, "round.panel").await.len() as u64
            + audited(&t, "round.auto_assign").await.len() as u64,
        "no refused step left a trace"
    );
    let v = get_round(&t, &province, id).await;
    assert_eq!(v["round"]["status"], "setup");
    assert_eq!(v["panel"].as_array().unwrap().len(), 6);

    // Reading: partner departments see rounds, others do not; experts see only their own entry.
    for who in ["applicant", "changsha", "expert"] {
        let tok = token(&t, who).await;
        let (status, _) = call(&t, &tok, "GET", &format!("/api/v1/rounds/{id}"), None).await;
        assert_eq!(status, 403, "{who}");
        let (status, list) = call(&t, &tok, "GET", "/api/v1/rounds", None).await;
        if who == "changsha" {
            // A city bureau lists the rounds of its own city's competitions (第十六条): none.
            assert_eq!(status, 200, "{who}");
            assert!(list.as_array().unwrap().is_empty(), "{list}");
        } else {
            assert_eq!(status, 403, "{who}");
        }
    }
    let expert_tok = token(&t, "expert").await;
    let (status, list) = call(&t, &expert_tok, "GET", "/api/v1/experts", None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["username"], "expert");
    let (status, _) = call(
        &t,
        &expert_tok,
        "GET",
        &format!("/api/v1/experts/{}", ids["expert2"]),
        None,
    )
    .await;
    assert_eq!(status, 404);
    for who in ["partner", "applicant"] {
        let (status, _) = call(&t, &token(&t, who).await, "GET", "/api/v1/experts", None).await;
        assert_eq!(status, 403, "{who}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_puts_expert_accounts_into_the_pool() {
    let t = support::spawn().await;
    let province = token(&t, "province").await;
    let (status, pool) = call(&t, &province, "GET", "/api/v1/experts", None).await;
    assert_eq!(status, 200);
    assert_eq!(pool.as_array().unwrap().len(), 6);
    let zhao = pool
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["username"] == "expert")
        .unwrap();
    assert_eq!(zhao["city_name"], "长沙市");
    assert_eq!(zhao["fields"], json!(["工程机械", "智能制造"]));
    assert_eq!(zhao["rounds"], 0);
    assert_eq!(zhao["assignments"], 0);
    let (_, free) = call(&t, &province, "GET", "/api/v1/experts/accounts", None).await;
    assert_eq!(free, json!([]), "every demo expert account is in the pool");

    // A new expert account, created by the system administrator.
    let admin = token(&t, "sysadmin").await;
    let (status, created) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        Some(json!({
            "username": "expert7",
            "display_name": "评审专家 郑教授",
            "org_id": org_id(&t, "中南大学").await,
            "role": "expert",
        })),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let account = created["user"]["id"].as_i64().unwrap();
    // In use once the security administrator has activated it (三权分立).
    let sec = token(&t, "secadmin").await;
    let (status, _) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{account}/activation"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, free) = call(&t, &province, "GET", "/api/v1/experts/accounts", None).await;
    assert_eq!(free[0]["user_id"], account);

    let (status, body) = call(
        &t,
        &province,
        "POST",
        "/api/v1/experts",
        Some(
            json!({"user_id": user_id(&t, "applicant").await, "name": " ", "city_code": "430121",
                    "employer": "", "fields": []}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        field_message(&body, "user_id"),
        "账户“applicant”不是评审专家账户"
    );
    assert_eq!(field_message(&body, "name"), "请填写专家姓名");
    assert_eq!(
        field_message(&body, "city_code"),
        "“430121”不是湖南省的市州代码，请从列表中选择"
    );
    assert!(field_message(&body, "employer").starts_with("请填写工作单位"));
    assert_eq!(
        field_message(&body, "fields"),
        "请至少填写一个专业领域（每行一个）"
    );

    let input = json!({
        "user_id": account,
        "name": "郑教授",
        "city_code": "431300",
        "employer": "湖南人文科技学院",
        "fields": ["装备制造\n工业设计"],
        "affiliations": ["娄底经济技术开发区"],
    });
    let (status, e) = call(
        &t,
        &province,
        "POST",
        "/api/v1/experts",
        Some(input.clone()),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["city_name"], "娄底市");
    assert_eq!(e["fields"], json!(["装备制造", "工业设计"]));
    assert_eq!(e["active"], true);
    assert_eq!(e["version"], 1);
    let (status, body) = call(&t, &province, "POST", "/api/v1/experts", Some(input)).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&body, "user_id"), "账户“expert7”已在专家库中");
    let created = audited(&t, "expert.create").await;
    assert_eq!(created.len(), 1);
    assert!(created[0].summary.contains("郑教授"));

    let path = format!("/api/v1/experts/{}", e["id"]);
    let update = json!({
        "name": "郑教授",
        "city_code": "431300",
        "employer": "湖南人文科技学院",
        "fields": ["装备制造"],
        "affiliations": [],
        "active": false,
        "version": 1,
    });
    let (status, after) = call(&t, &province, "PUT", &path, Some(update.clone())).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["active"], false);
    assert_eq!(after["version"], 2);
    let (status, body) = call(&t, &province, "PUT", &path, Some(update)).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "stale_version");
    let updated = audited(&t, "expert.update").await;
    assert_eq!(updated.len(), 1);
    assert!(
        updated[0].summary.contains("停用"),
        "{}",
        updated[0].summary
    );

    // The API documents what it offers.
    let (_, doc) = call(&t, "", "GET", "/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/experts",
        "/api/v1/experts/{id}",
        "/api/v1/competitions/{id}/rounds",
        "/api/v1/rounds",
        "/api/v1/rounds/{id}",
        "/api/v1/rounds/{id}/panel",
        "/api/v1/rounds/{id}/auto-assign",
        "/api/v1/rounds/{id}/assignments",
        "/api/v1/rounds/{id}/open-scoring",
        "/api/v1/assignments/{id}",
        "/api/v1/assignments/{id}/recuse",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }

    // A stopped expert cannot join a panel.
    let s = showcase(&t).await;
    let round = open_preliminary(&t, &province, s.competition_id, 5).await;
    let (status, body) = on_round(
        &t,
        &province,
        "PUT",
        &round["round"]["id"],
        "panel",
        Some(json!({"add": [e["id"]]})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        field_message(&body, "experts"),
        "专家郑教授不在专家库中或已停用"
    );
}

// ---------------------------------------------------------------------------------------------
// Pages.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_page_names_the_conflict_and_keeps_the_selection() {
    let ApiRound {
        t,
        province,
        view: round,
        id,
        ids,
        ..
    } = api_round(5).await;
    let all: Vec<i64> = EXPERTS.iter().map(|u| ids[*u]).collect();
    set_panel(&t, &province, id, &all).await;
    let changsha = entrant(&round, CHANGSHA)["id"].as_i64().unwrap();

    let client = support::page_login(&t, "province").await;
    let (status, html) = get_page(&client, &t, &format!("/rounds/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("筹备中（组建评审组、分配专家）"), "{html}");
    assert!(html.contains("id=\"auto-assign\""));
    let csrf = support::csrf_from(&html);
    let form = |reason: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("entry_id", changsha.to_string()),
            ("expert_id", ids["expert"].to_string()),
            ("override_reason", reason.to_string()),
        ]
    };
    let Answer {
        status, body: html, ..
    } = post_page(&client, &t, &format!("/rounds/{id}/assign"), &form("")).await;
    assert_eq!(status, 422);
    assert!(
        html.contains(
            "<p class=\"field-error\" data-error-for=\"override_reason\">存在回避情形：专家与集群牵头县同属长沙市。如确需分配，请填写理由</p>"
        ),
        "{html}"
    );
    assert!(
        html.contains(&format!("<option value=\"{changsha}\" selected>")),
        "the entrant stays selected"
    );
    assert!(
        html.contains(&format!("<option value=\"{}\" selected>", ids["expert"])),
        "the expert stays selected"
    );

    let Answer {
        status, location, ..
    } = post_page(
        &client,
        &t,
        &format!("/rounds/{id}/assign"),
        &form("经分管厅领导批准"),
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.starts_with(&format!("/rounds/{id}?done=assigned")));
    let (_, html) = get_page(&client, &t, &location).await;
    assert!(html.contains("已手工分配专家。"));
    assert!(
        html.contains(
            "赵教授（手工） <span class=\"warn\">越过回避，理由：经分管厅领导批准</span>"
        ),
        "{html}"
    );

    // Automatic assignment from the page reports what it did.
    let Answer {
        status, location, ..
    } = post_page(
        &client,
        &t,
        &format!("/rounds/{id}/auto-assign"),
        &[("_csrf", csrf.clone())],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = get_page(&client, &t, &location).await;
    assert!(
        html.contains("自动分配完成：新增14项分配。每个参赛集群的评审专家均已配齐。"),
        "{html}"
    );

    // A recusal stays on the page, struck through with its reason.
    let v = get_round(&t, &province, id).await;
    let a = &entrant(&v, YUEYANG)["assignments"][0];
    let username = EXPERTS
        .iter()
        .find(|u| ids[**u] == a["expert_id"].as_i64().unwrap())
        .unwrap();
    let (status, _) = call(
        &t,
        &token(&t, username).await,
        "POST",
        &format!("/api/v1/assignments/{}/recuse", a["id"]),
        Some(json!({"reason": "曾任该集群顾问"})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, html) = get_page(&client, &t, &format!("/rounds/{id}")).await;
    assert!(
        html.contains(&format!(
            "<del>{}（自动）</del> 已回避",
            a["expert_name"].as_str().unwrap()
        )),
        "{html}"
    );
    assert!(html.contains("：曾任该集群顾问</li>"));

    // Partner departments read the page without the set-up forms.
    let partner = support::page_login(&t, "partner").await;
    let (status, html) = get_page(&partner, &t, &format!("/rounds/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(CHANGSHA));
    assert!(!html.contains("id=\"auto-assign\""));
    assert!(!html.contains("id=\"assign-form\""));
    let Answer { status, .. } = post_page(
        &partner,
        &t,
        &format!("/rounds/{id}/open-scoring"),
        &[("_csrf", support::csrf_from(&html))],
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_opens_a_round_and_keeps_the_pool_from_the_pages() {
    let t = support::spawn().await;
    let s = showcase(&t).await;
    let client = support::page_login(&t, "province").await;
    let new = format!("/competitions/{}/rounds/new", s.competition_id);
    let (status, html) = get_page(&client, &t, &new).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("政策规定每个参赛集群由5至7名专家评审"),
        "{html}"
    );
    assert!(
        html.contains(
            "name=\"experts_per_application\" id=\"experts_per_application\" value=\"5\""
        )
    );
    assert!(html.contains("name=\"quota_leading\""));
    assert!(html.contains("name=\"quota_specialty\""));
    let csrf = support::csrf_from(&html);
    let now = t.app.clock.now();
    let form = |k: &str, note: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("kind", "preliminary".to_string()),
            ("experts_per_application", k.to_string()),
            ("panel_note", note.to_string()),
            ("quota_leading", "1".to_string()),
            ("quota_specialty", "1".to_string()),
            (
                "scoring_opens_at",
                datetime_local_value(now + Duration::days(1)),
            ),
            (
                "scoring_closes_at",
                datetime_local_value(now + Duration::days(10)),
            ),
            ("defence", "yes".to_string()),
        ]
    };
    let Answer {
        status, body: html, ..
    } = post_page(&client, &t, &new, &form("3", "")).await;
    assert_eq!(status, 422);
    assert!(
        html.contains(
            "data-error-for=\"panel_note\">政策规定每个参赛集群由5至7名专家评审；少于5人须说明理由"
        ),
        "{html}"
    );
    assert!(html.contains("value=\"3\""), "the typed number is kept");
    assert!(
        html.contains("<option value=\"yes\" selected>"),
        "the defence choice is kept"
    );
    let Answer {
        status, location, ..
    } = post_page(&client, &t, &new, &form("3", "专家资源有限")).await;
    assert_eq!(status, 303);
    assert!(location.contains("done=opened"), "{location}");
    let (_, html) = get_page(&client, &t, &location).await;
    assert!(html.contains("评审轮次已开设：3个参赛集群。"), "{html}");
    assert!(html.contains("少于政策人数的理由：专家资源有限"));
    assert!(html.contains("<dt>答辩</dt><dd>安排答辩</dd>"), "{html}");
    let Answer {
        status, body: html, ..
    } = post_page(&client, &t, &new, &form("5", "")).await;
    assert_eq!(status, 409);
    assert!(
        html.contains("2026年度竞赛已开设初赛，不能重复开设"),
        "{html}"
    );
    let (_, html) = get_page(
        &client,
        &t,
        &format!("/rounds?competition={}", s.competition_id),
    )
    .await;
    assert!(html.contains("2026年度初赛"), "{html}");
    assert!(html.contains("专家分配：0/3个参赛集群已满3人"));

    // The pool.
    let (status, html) = get_page(&client, &t, "/experts").await;
    assert_eq!(status, 200);
    for name in [
        "赵教授",
        "钱研究员",
        "孙教授",
        "李高工",
        "周教授",
        "吴研究员",
    ] {
        assert!(html.contains(name), "{name}");
    }
    let (_, html) = get_page(&client, &t, "/experts/new").await;
    assert!(html.contains("所有评审专家账户均已入库"));
    let Answer {
        status, body: html, ..
    } = post_page(
        &client,
        &t,
        "/experts/new",
        &[
            ("_csrf", csrf.clone()),
            ("user_id", String::new()),
            ("name", "新专家".into()),
            ("city_code", String::new()),
            ("employer", "湖南大学".into()),
            ("fields", "".into()),
            ("active", "on".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("data-error-for=\"user_id\">请选择专家的登录账户"));
    assert!(html.contains("data-error-for=\"city_code\">请选择专家工作所在市州"));
    assert!(html.contains("value=\"湖南大学\""), "input kept");
    let zhao = expert_ids(&t).await["expert"];
    let (_, html) = get_page(&client, &t, &format!("/experts/{zhao}")).await;
    let version = "name=\"version\" value=\"1\"";
    assert!(html.contains(version), "{html}");
    let Answer {
        status, location, ..
    } = post_page(
        &client,
        &t,
        &format!("/experts/{zhao}"),
        &[
            ("_csrf", csrf.clone()),
            ("version", "1".into()),
            ("name", "赵教授".into()),
            ("city_code", "430100".into()),
            ("employer", "中南大学".into()),
            ("fields", "工程机械\n智能制造".into()),
            ("affiliations", "长沙经济技术开发区".into()),
            ("active", "on".into()),
        ],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    let (_, html) = get_page(&client, &t, &location).await;
    assert!(html.contains("专家信息已保存。"));
    assert!(
        html.contains("<td>核心园区</td>"),
        "the park is recognised: {html}"
    );

    // The expert reads their own entry.
    let expert = support::page_login(&t, "expert").await;
    let res = expert.get(t.url("/experts")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/experts/me");
    let (status, html) = get_page(&expert, &t, "/experts/me").await;
    assert_eq!(status, 200);
    assert!(html.contains("我的专家信息"));
    assert!(html.contains("长沙经济技术开发区"));
    assert!(!html.contains("name=\"name\""), "read-only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_cover_every_county_and_every_co_applicant_of_the_cluster() {
    use jiqun::store::entity::{cluster_co_applicant, cluster_county};
    use sea_orm::{ActiveModelTrait, Set};

    let ApiRound {
        t,
        province,
        view: round,
        id,
        ids,
        ..
    } = api_round(5).await;
    // 长沙's cluster also spans 韶山市 (湘潭) and is applied for jointly with 岳阳's promotion
    // organisation, to which the 衡阳 expert is tied.
    let changsha = EntryId::new(entrant(&round, CHANGSHA)["id"].as_i64().unwrap());
    let cluster_id = crate::fixtures::stored_entry(&t, changsha).await.cluster_id;
    cluster_county::ActiveModel {
        cluster_id: Set(cluster_id),
        county_code: Set("430382".parse().unwrap()),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    cluster_co_applicant::ActiveModel {
        cluster_id: Set(cluster_id),
        org_id: Set(crate::org_id(&t, "岳阳石化产业集群促进会").await),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    let hengyang = expert::Entity::find_by_id(ids["expert3"])
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hengyang.city_code.to_string(), "430400");
    let mut tied: expert::ActiveModel = hengyang.into();
    tied.affiliations = Set("岳阳石化产业集群促进会".into());
    tied.update(&t.app.db).await.unwrap();

    let all: Vec<i64> = EXPERTS.iter().map(|u| ids[*u]).collect();
    set_panel(&t, &province, id, &all).await;
    let path = format!("/api/v1/rounds/{id}/assignments");
    for (expert, said) in [
        ("expert2", "专家与集群跨及的县市区同属湘潭市"),
        (
            "expert3",
            "专家与联合申报单位“岳阳石化产业集群促进会”存在关联",
        ),
    ] {
        let (status, body) = call(
            &t,
            &province,
            "POST",
            &path,
            Some(json!({"entry_id": changsha, "expert_id": ids[expert]})),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert!(
            field_message(&body, "override_reason").contains(said),
            "{expert}: {body}"
        );
    }
    // The automatic assignment avoids them too.
    let (status, outcome) = on_round(&t, &province, "POST", id, "auto-assign", None).await;
    assert_eq!(status, 200, "{outcome}");
    let given: Vec<i64> = assignment::Entity::find()
        .filter(assignment::Column::EntryId.eq(changsha))
        .all(&t.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.expert_id.get())
        .collect();
    assert!(!given.is_empty());
    for barred in ["expert", "expert2", "expert3"] {
        assert!(!given.contains(&ids[barred]), "{barred} in {given:?}");
    }
}
