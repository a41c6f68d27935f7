//! Item 6 of issue 13 over HTTP: a floor per criterion keeps a high total out of the winners
//! (shown on the ranking with the reason), z-score normalisation changes the order in a crafted
//! round, and per-kind thresholds hold a 特色 cluster to the 特色 value only.

use std::collections::{BTreeMap, BTreeSet};

use jiqun::services::scoring::{self, SheetInput};
use jiqun::store::entity::{cluster, competition};
use jiqun::store::id::{AssignmentId, CompetitionId, RoundId};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use time::Duration;

use crate::applications::{call_json, complete_form, open_call, started};
use crate::fixtures::{
    CRITERIA, ScoringRound, get_page, on_round, panel_of, principal, propose, scores_for,
    scoring_round, stored_entry,
};
use crate::support::{self, TestApp};
use crate::token;

/// Rewrites the policy text a competition is bound to (the text is data: a call bound to a
/// programme with floors, normalisation or per-kind values).
async fn bind_text(t: &TestApp, id: CompetitionId, edit: impl Fn(&str) -> String) {
    let c = competition::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let text = edit(&c.policy_source);
    assert_ne!(text, c.policy_source, "the edit changed nothing");
    jiqun_rules::Policy::parse(&text, "test").expect("the edited text is a valid policy");
    let mut m: competition::ActiveModel = c.into();
    m.policy_source = Set(text);
    m.update(&t.app.db).await.unwrap();
    // The bound text is not part of the ranking cache's state (it never changes in real use).
    t.app.rankings.clear();
}

async fn competition_of_round(t: &TestApp, r: &ScoringRound) -> CompetitionId {
    crate::fixtures::stored_round(t, r.id).await.competition_id
}

/// A sheet at `share` of every criterion's maximum.
fn even(share: f64) -> BTreeMap<String, f64> {
    CRITERIA
        .iter()
        .map(|(k, max)| ((*k).to_string(), (max * share * 10.0).round() / 10.0))
        .collect()
}

async fn submit_scores(
    t: &TestApp,
    assignment: AssignmentId,
    who: &str,
    scores: BTreeMap<String, f64>,
) {
    let p = principal(t, who).await;
    let input = SheetInput {
        scores,
        comment: "评审意见".into(),
        version: 0,
    };
    scoring::save(&t.app, &p, assignment, Some(&input), true)
        .await
        .unwrap_or_else(|e| panic!("submit {assignment} by {who}: {e:?}"));
}

async fn ranking(t: &TestApp, round: RoundId) -> Value {
    let province = token(t, "province").await;
    let (status, v) = on_round(t, &province, "GET", round, "ranking", None).await;
    assert_eq!(status, 200, "{v}");
    v
}

fn leading(v: &Value) -> &Vec<Value> {
    v["kinds"][0]["rows"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_floor_keeps_a_high_total_out_of_the_winners_with_the_reason() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), false).await;
    let c = competition_of_round(&t, &r).await;
    // 60 % of each criterion's maximum; 产业特色明显 (15) needs 9.
    bind_text(&t, c, |text| {
        text.replacen(
            "outlier_gap_share = 0.15\n",
            "outlier_gap_share = 0.15\nfloor_share = 0.6\n",
            1,
        )
    })
    .await;
    // 长沙: 90 in total but only 5 of 15 on 产业特色明显; 株洲: 80 % everywhere.
    for (assignment, who) in panel_of(&t, r.entries[0].id).await {
        submit_scores(&t, assignment, &who, scores_for(90.0)).await;
    }
    for (assignment, who) in panel_of(&t, r.entries[1].id).await {
        submit_scores(&t, assignment, &who, even(0.8)).await;
    }
    for (assignment, who) in panel_of(&t, r.entries[2].id).await {
        submit_scores(&t, assignment, &who, even(0.75)).await;
    }

    let v = ranking(&t, r.id).await;
    let rows = leading(&v);
    assert_eq!(rows[0]["cluster_name"], "长沙工程机械产业集群");
    assert_eq!(rows[0]["rank"], 1, "the floor does not change the rank");
    assert_eq!(rows[0]["final_score"], 90.0);
    assert_eq!(rows[0]["within_quota"], false);
    assert_eq!(
        rows[0]["below_floor"],
        json!(["“产业特色明显”得分5分，低于底线9分（满分15分）"])
    );
    assert_eq!(rows[1]["cluster_name"], "株洲轨道交通装备产业集群");
    assert_eq!(rows[1]["within_quota"], true);
    assert_eq!(
        rows[0]["cut_after"], false,
        "the cut runs below the last winner"
    );
    assert!(rows[1]["below_floor"].as_array().unwrap().is_empty());
    let method = v["method"].to_string();
    assert!(method.contains("产业特色明显60%"), "{method}");
    // The page says why, beside the entrant.
    let browser = support::page_login(&t, "province").await;
    let (_, page) = get_page(&browser, &t, &format!("/rounds/{}/ranking", r.id)).await;
    assert!(
        page.contains("未达底线，不列入胜出名单：“产业特色明显”得分5分，低于底线9分（满分15分）"),
        "{page}"
    );

    // Fixing the list takes the ranking as the floors leave it.
    let province = token(&t, "province").await;
    let (status, body) = propose(&t, &province, r.id.get(), json!({"reason": ""})).await;
    assert_eq!(status, 200, "{body}");
    let changsha = stored_entry(&t, r.entries[0].id).await;
    assert!(!changsha.proposed);
    assert!(
        changsha
            .decision_note
            .starts_with("未达底线，不列入胜出名单：“产业特色明显”"),
        "{}",
        changsha.decision_note
    );
    assert!(stored_entry(&t, r.entries[1].id).await.proposed);
    assert!(stored_entry(&t, r.entries[2].id).await.proposed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn z_score_normalisation_changes_the_order_in_a_crafted_round() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), false).await;
    let c = competition_of_round(&t, &r).await;
    let panels: Vec<Vec<(AssignmentId, String)>> = {
        let mut out = Vec::new();
        for e in &r.entries {
            out.push(panel_of(&t, e.id).await);
        }
        out
    };
    // Two experts on both leading panels prefer 株洲 by 20 points; every other expert prefers
    // 长沙 by one point. Raw, the wide gaps win (株洲); per expert, the majority wins (长沙).
    let on = |i: usize| -> BTreeSet<&str> { panels[i].iter().map(|(_, w)| w.as_str()).collect() };
    let both: Vec<&str> = on(0).intersection(&on(1)).copied().collect();
    assert!(both.len() >= 4, "{both:?}");
    let wide: BTreeSet<&str> = both.iter().take(2).copied().collect();
    let total = |who: &str, entrant: usize| -> f64 {
        match (wide.contains(who), entrant) {
            (true, 0) => 60.0,
            (true, 1) => 80.0,
            (true, _) => 70.0,
            (false, 0) => 71.0,
            (false, 1) => 70.0,
            (false, _) => 70.5,
        }
    };
    for (i, panel) in panels.iter().enumerate() {
        for (assignment, who) in panel {
            submit_scores(&t, *assignment, who, scores_for(total(who, i))).await;
        }
    }
    let names = |v: &Value| -> Vec<String> {
        leading(v)
            .iter()
            .map(|r| r["cluster_name"].as_str().unwrap().to_string())
            .collect()
    };
    let raw = ranking(&t, r.id).await;
    assert_eq!(
        names(&raw),
        ["株洲轨道交通装备产业集群", "长沙工程机械产业集群"]
    );
    assert_eq!(raw["normalised"], false);

    bind_text(&t, c, |text| {
        text.replacen("\nnormalise = \"none\"", "\nnormalise = \"z_score\"", 1)
    })
    .await;
    let z = ranking(&t, r.id).await;
    assert_eq!(z["normalised"], true);
    assert_eq!(
        names(&z),
        ["长沙工程机械产业集群", "株洲轨道交通装备产业集群"]
    );
    // The raw totals stay on show beside the normalised ones the aggregation used.
    let written = leading(&z)[0]["written"].as_array().unwrap();
    assert!(written.iter().all(|w| w["normalised"].is_number()), "{z}");
    assert!(written.iter().any(|w| w["total"] == 71.0));
    assert!(z["method"].to_string().contains("专家评分标准化"));
    // The kept figures equal a fresh computation.
    let kept = ranking(&t, r.id).await;
    t.app.rankings.clear();
    assert_eq!(ranking(&t, r.id).await, kept);
}

/// The shipped text with 特色 clusters held to 50亿元 of revenue and the chain-leader revenue
/// threshold for 优势 clusters only.
fn per_kind(text: &str) -> String {
    text.replacen(
        "message = \"集群营业收入应不低于100亿元\", source",
        "message = \"集群营业收入应不低于100亿元\", value_by_kind = { specialty = 50 }, source",
        1,
    )
    .replacen(
        "message = \"链主企业年营业收入应不低于10亿元\", source",
        "message = \"链主企业年营业收入应不低于10亿元\", kinds = [\"leading\"], source",
        1,
    )
    // An indicator only 特色 clusters report.
    .replacen(
        "indicators = [",
        "indicators = [\n  { key = \"niche_share\", name = \"细分领域国内市场占有率\", unit = \"%\", value_type = \"percent\", required = false, kinds = [\"specialty\"] },",
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_kind_thresholds_hold_a_specialty_cluster_to_its_own_value() {
    let t = support::spawn().await;
    let call_id = open_call(&t).await;
    bind_text(&t, call_id, per_kind).await;
    let me = token(&t, "applicant").await;
    let (id, v) = started(
        &t,
        call_id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙新材料产业集群",
    )
    .await;
    // As an 优势 application its form does not ask for the 特色 indicator.
    let page = support::page_login(&t, "applicant").await;
    let (_, html) = get_page(&page, &t, &format!("/applications/{id}")).await;
    assert!(html.contains("集群营业收入"), "{html}");
    assert!(!html.contains("细分领域国内市场占有率"), "{html}");
    // Make the cluster (and its application) a 特色 one.
    let app_row = jiqun::store::entity::application::Entity::find_by_id(
        jiqun::store::id::ApplicationId::new(id),
    )
    .one(&t.app.db)
    .await
    .unwrap()
    .unwrap();
    let cl = cluster::Entity::find_by_id(app_row.cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut cm: cluster::ActiveModel = cl.into();
    cm.kind = Set("specialty".into());
    cm.update(&t.app.db).await.unwrap();
    let mut am: jiqun::store::entity::application::ActiveModel = app_row.into();
    am.kind = Set("specialty".into());
    am.update(&t.app.db).await.unwrap();

    let (_, html) = get_page(&page, &t, &format!("/applications/{id}")).await;
    assert!(html.contains("细分领域国内市场占有率"), "{html}");
    // 40亿元 with a chain leader of 5亿元: under the 特色 value of 50, and only that is named.
    let mut form = complete_form("40");
    form["indicators"]["chain_leader_revenue"] = json!("5");
    let (status, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": form, "version": v}),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    let v = d["application"]["version"].as_i64().unwrap() as i32;
    let (status, err) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": v}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        err["error"]["fields"],
        json!([{"field": "indicators.cluster_revenue", "message": "集群营业收入应不低于50亿元"}])
    );
    // 60亿元 is below the 优势 value of 100 but enough for a 特色 cluster.
    form["indicators"]["cluster_revenue"] = json!("60");
    let (_, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": form, "version": v}),
    )
    .await;
    assert_eq!(d["ready"], true, "{d}");
    let v = d["application"]["version"].as_i64().unwrap() as i32;
    let (status, body) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": v}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A 优势 cluster with the same figures is refused on both 优势 thresholds.
    let (id2, v2) = started(
        &t,
        call_id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙工程机械产业集群",
    )
    .await;
    let (_, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id2}"),
        json!({"form": form, "version": v2}),
    )
    .await;
    let messages: Vec<&str> = d["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains(&"集群营业收入应不低于100亿元"), "{d}");
    assert!(
        messages.contains(&"链主企业年营业收入应不低于10亿元"),
        "{d}"
    );
}
