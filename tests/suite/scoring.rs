//! Expert scoring, the province's progress and reopening, defence scores, the ranking with its
//! working, fixing the proposed list, and the Excel exports.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use jiqun::clock::local_minutes;
use jiqun::store::entity::{assignment, designation, expert, notification, score_sheet};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::Duration;

use crate::applications::a_cluster;
use crate::fixtures::{
    CHANGSHA_ORG, application_status, audited, error_message, expert_id, field_messages, get_page,
    on_round, panel_of, post_page, propose, score_all, score_entry, scores_json, scoring_round,
    stored_entry, stored_round, stored_sheet, submit, user_id,
};
use crate::support;
use crate::{call, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expert_scores_only_their_own_assignments_within_the_maxima() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), false).await;
    let changsha = &r.entries[0];
    let panel = panel_of(&t, changsha.id).await;
    // The 长沙 expert is conflicted with the 长沙 cluster: never on its panel.
    assert!(panel.iter().all(|(_, who)| who != "expert"), "{panel:?}");
    let (mine, me) = panel[0].clone();
    let (theirs, other) = panel[1].clone();
    let tok = token(&t, &me).await;

    // 评审任务 lists exactly my assignments.
    let (status, list) = call(&t, &tok, "GET", "/api/v1/scoring", None).await;
    assert_eq!(status, 200, "{list}");
    let mine_in_db = assignment::Entity::find()
        .filter(assignment::Column::ExpertId.eq(expert_id(&t, &me).await))
        .count(&t.app.db)
        .await
        .unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len() as u64, mine_in_db);
    let row = rows
        .iter()
        .find(|a| a["assignment_id"] == mine.get())
        .expect("listed");
    assert_eq!(row["cluster_name"], "长沙工程机械产业集群");
    assert_eq!(row["round_label"], "2026年度初赛");
    assert_eq!(row["status_label"], "未开始");
    assert_eq!(row["window"], "open");
    assert!(!rows.iter().any(|a| a["assignment_id"] == theirs.get()));

    // Another expert's sheet does not exist for me, through the API or the page.
    let (status, _) = call(&t, &tok, "GET", &format!("/api/v1/scoring/{theirs}"), None).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &t,
        &tok,
        "PUT",
        &format!("/api/v1/scoring/{theirs}"),
        Some(json!({"scores": {"openness": 5}, "comment": "", "version": 0})),
    )
    .await;
    assert_eq!(status, 404);
    let browser = support::page_login(&t, &me).await;
    assert_eq!(
        get_page(&browser, &t, &format!("/scoring/{theirs}"))
            .await
            .0,
        404
    );

    // The sheet shows the application's content and the criteria with their maxima.
    let (status, sheet) = call(&t, &tok, "GET", &format!("/api/v1/scoring/{mine}"), None).await;
    assert_eq!(status, 200, "{sheet}");
    assert_eq!(sheet["version"], 0);
    assert_eq!(sheet["content_visible"], true);
    assert_eq!(sheet["criteria"][0]["name"], "产业特色明显");
    assert_eq!(sheet["criteria"][0]["max_score"], 15);
    let revenue = sheet["criteria"][1]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "cluster_revenue")
        .unwrap()["value"]
        .clone();
    assert_eq!(revenue, "150");

    // Above a criterion's maximum: refused, naming the criterion and the maximum.
    let (status, body) = call(
        &t,
        &tok,
        "PUT",
        &format!("/api/v1/scoring/{mine}"),
        Some(json!({"scores": {"industry_character": 16, "openness": 8}, "comment": "", "version": 0})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        field_messages(&body),
        vec![(
            "scores.industry_character".to_string(),
            "“产业特色明显”得分应在0至15分之间，当前为16".to_string()
        )]
    );
    // The page redraws the form with the message under the field and the input kept.
    let (_, page) = get_page(&browser, &t, &format!("/scoring/{mine}")).await;
    assert!(page.contains("长沙工程机械产业集群"));
    assert!(page.contains("产业特色明显（满分15分）"), "{page}");
    let csrf = support::csrf_from(&page);
    let res = post_page(
        &browser,
        &t,
        &format!("/scoring/{mine}"),
        &[
            ("_csrf", csrf.as_str()),
            ("version", "0"),
            ("score.industry_character", "16"),
            ("score.openness", "八"),
            ("score.governance", "12.5"),
            ("comment", "材料翔实"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    let page = res.body;
    assert!(page.contains(
        "data-error-for=\"scores.industry_character\">“产业特色明显”得分应在0至15分之间，当前为16"
    ));
    assert!(
        page.contains("data-error-for=\"scores.openness\">“开放合作水平高”请填写0至10之间的数字")
    );
    assert!(page.contains("value=\"12.5\""), "the other input is kept");
    assert!(page.contains("材料翔实"));
    assert_eq!(
        score_sheet::Entity::find().count(&t.app.db).await.unwrap(),
        0,
        "nothing saved"
    );

    // A partial draft saves; submitting needs every criterion and a comment.
    let (status, saved) = call(
        &t,
        &tok,
        "PUT",
        &format!("/api/v1/scoring/{mine}"),
        Some(json!({"scores": {"industry_character": 12.5}, "comment": "", "version": 0})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["status"], "draft");
    assert_eq!(saved["version"], 1);
    let (status, body) = call(
        &t,
        &tok,
        "POST",
        &format!("/api/v1/scoring/{mine}/submit"),
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let fields = field_messages(&body);
    assert!(fields.contains(&(
        "scores.openness".to_string(),
        "请为“开放合作水平高”评分（满分10分）".to_string()
    )));
    assert!(fields.contains(&(
        "comment".to_string(),
        "提交评分前请填写评审意见".to_string()
    )));
    // A stale version is refused.
    let (status, _) = call(
        &t,
        &tok,
        "POST",
        &format!("/api/v1/scoring/{mine}/submit"),
        Some(json!({"scores": scores_json(86.5), "comment": "优", "version": 0})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, done) = call(
        &t,
        &tok,
        "POST",
        &format!("/api/v1/scoring/{mine}/submit"),
        Some(json!({"scores": scores_json(86.5), "comment": "产业特色鲜明，规模效益突出。", "version": 1})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "submitted");
    assert_eq!(done["total"], 86.5);
    assert_eq!(done["editable"], false);
    assert_eq!(done["can_recuse"], false);

    // Submitted means locked, on the server.
    let (status, body) = call(
        &t,
        &tok,
        "PUT",
        &format!("/api/v1/scoring/{mine}"),
        Some(json!({"scores": scores_json(90.0), "comment": "改", "version": 2})),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        error_message(&body).contains("评分表已提交，不能再修改"),
        "{body}"
    );
    let stored = stored_sheet(&t, mine).await;
    assert_eq!(stored.total, Some(86.5));
    assert_eq!(stored.status.key(), "submitted");
    let (_, page) = get_page(&browser, &t, &format!("/scoring/{mine}")).await;
    assert!(!page.contains("id=\"score-form\""));
    assert!(page.contains("id=\"sheet-total\">86.5<"));
    assert!(!page.contains("id=\"recuse\""));
    let (_, list_page) = get_page(&browser, &t, "/scoring").await;
    assert!(list_page.contains("已提交"));

    // Another expert sees nothing of my scores.
    let other_tok = token(&t, &other).await;
    let (_, their_sheet) = call(
        &t,
        &other_tok,
        "GET",
        &format!("/api/v1/scoring/{theirs}"),
        None,
    )
    .await;
    assert!(their_sheet["total"].is_null());
    assert!(!their_sheet.to_string().contains("86.5"));
    // Nor do partners or applicants reach the province's views.
    for who in ["partner", "applicant", other.as_str()] {
        let tok = token(&t, who).await;
        let (status, _) = on_round(&t, &tok, "GET", r.id, "progress", None).await;
        assert_eq!(status, 403, "{who}");
    }

    // The other expert steps back from their (unsubmitted) assignment on the sheet page.
    let other_browser = support::page_login(&t, &other).await;
    let (_, page) = get_page(&other_browser, &t, &format!("/scoring/{theirs}")).await;
    assert!(page.contains("id=\"recuse\""));
    let csrf = support::csrf_from(&page);
    let res = post_page(
        &other_browser,
        &t,
        &format!("/scoring/{theirs}/recuse"),
        &[("_csrf", csrf.as_str()), ("reason", " ")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("请填写回避理由"));
    let res = post_page(
        &other_browser,
        &t,
        &format!("/scoring/{theirs}/recuse"),
        &[
            ("_csrf", csrf.as_str()),
            ("reason", "曾为该集群链主企业提供咨询服务"),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location, "/scoring?done=recused");
    let (status, _) = call(
        &t,
        &other_tok,
        "GET",
        &format!("/api/v1/scoring/{theirs}"),
        None,
    )
    .await;
    assert_eq!(
        status, 404,
        "a recused assignment is no longer the expert's"
    );
    assert_eq!(audited(&t, "round.recuse").await.len(), 1);

    // The API is described.
    let (_, doc) = call(&t, "", "GET", "/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/scoring/{assignment_id}/submit",
        "/api/v1/score-sheets/{id}/reopen",
        "/api/v1/rounds/{id}/propose",
        "/api/v1/rounds/{id}/defence",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }

    let saves = audited(&t, "score.save").await;
    assert_eq!(saves.len(), 1);
    let submits = audited(&t, "score.submit").await;
    assert_eq!(submits.len(), 1);
    assert!(
        submits[0].summary.contains("合计86.5分"),
        "{}",
        submits[0].summary
    );
    assert_eq!(submits[0].object_id, stored.id.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_is_refused_outside_the_window_and_a_reopened_sheet_can_be_corrected() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::days(1), Duration::days(5), false).await;
    let opens = local_minutes(r.opens);
    let closes = local_minutes(r.closes);
    let (mine, me) = panel_of(&t, r.entries[1].id).await[0].clone();
    let tok = token(&t, &me).await;

    // Before the window: listed with the opening time, no form, saving refused.
    let (_, list) = call(&t, &tok, "GET", "/api/v1/scoring", None).await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["assignment_id"] == mine.get())
        .unwrap()
        .clone();
    assert_eq!(row["window"], "not_open");
    assert_eq!(row["window_label"], format!("评分将于{opens}开始"));
    let browser = support::page_login(&t, &me).await;
    let (_, page) = get_page(&browser, &t, "/scoring").await;
    assert!(page.contains(&format!("评分将于{opens}开始")));
    assert!(!page.contains(&format!("href=\"/scoring/{mine}\"")));
    let (_, sheet) = call(&t, &tok, "GET", &format!("/api/v1/scoring/{mine}"), None).await;
    assert_eq!(sheet["editable"], false);
    assert_eq!(sheet["content_visible"], false, "{sheet}");
    let body = json!({"scores": scores_json(80.0), "comment": "良", "version": 0});
    let (status, refused) = call(
        &t,
        &tok,
        "PUT",
        &format!("/api/v1/scoring/{mine}"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        error_message(&refused),
        format!("评分尚未开始，评分将于{opens}（北京时间）开始")
    );

    // Inside the window (moving the clock ends idle sessions: sign in again).
    t.app.clock.advance(Duration::days(2));
    let tok = token(&t, &me).await;
    let (status, done) = call(
        &t,
        &tok,
        "POST",
        &format!("/api/v1/scoring/{mine}/submit"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let (second, second_expert) = panel_of(&t, r.entries[1].id).await[1].clone();
    let second_tok = token(&t, &second_expert).await;
    let (status, _) = call(
        &t,
        &second_tok,
        "PUT",
        &format!("/api/v1/scoring/{second}"),
        Some(json!({"scores": {"openness": 6}, "comment": "", "version": 0})),
    )
    .await;
    assert_eq!(status, 200);

    // After the window: read-only, refused with the closing time.
    t.app.clock.advance(Duration::days(4));
    let tok = token(&t, &me).await;
    let second_tok = token(&t, &second_expert).await;
    let (status, refused) = call(
        &t,
        &second_tok,
        "PUT",
        &format!("/api/v1/scoring/{second}"),
        Some(json!({"scores": {"openness": 7}, "comment": "", "version": 1})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        error_message(&refused),
        format!("评分已于{closes}（北京时间）截止，不能再保存或提交评分")
    );
    let (_, sheet) = call(
        &t,
        &second_tok,
        "GET",
        &format!("/api/v1/scoring/{second}"),
        None,
    )
    .await;
    assert_eq!(sheet["window"], "closed");
    assert_eq!(sheet["editable"], false);

    // The province reopens a submitted sheet: a reason is required; audited; the expert is told.
    let province = token(&t, "province").await;
    let sheet_id = stored_sheet(&t, mine).await.id;
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/score-sheets/{sheet_id}/reopen"),
        Some(json!({"reason": "  "})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        field_messages(&body),
        vec![("reason".to_string(), "请填写退回评分表的理由".to_string())]
    );
    let browser = support::page_login(&t, "province").await;
    let (_, page) = get_page(&browser, &t, &format!("/rounds/{}/progress", r.id)).await;
    assert!(
        page.contains(&format!("data-reopen=\"{sheet_id}\"")),
        "{page}"
    );
    let csrf = support::csrf_from(&page);
    let res = post_page(
        &browser,
        &t,
        &format!("/score-sheets/{sheet_id}/reopen"),
        &[
            ("_csrf", csrf.as_str()),
            ("round_id", r.id.to_string().as_str()),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body
            .contains("data-error-for=\"reason\">请填写退回评分表的理由")
    );
    // Experts cannot reopen, not even their own sheet.
    let (status, _) = call(
        &t,
        &tok,
        "POST",
        &format!("/api/v1/score-sheets/{sheet_id}/reopen"),
        Some(json!({"reason": "想改"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, reopened) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/score-sheets/{sheet_id}/reopen"),
        Some(json!({"reason": "“产业规模效益突出”评分与评审意见不一致，请核实"})),
    )
    .await;
    assert_eq!(status, 200, "{reopened}");
    assert_eq!(reopened["status"], "draft");
    let entry = &audited(&t, "score.reopen").await[0];
    assert_eq!(
        entry.reason,
        "“产业规模效益突出”评分与评审意见不一致，请核实"
    );
    assert_eq!(entry.object_id, sheet_id.to_string());
    let me_user = user_id(&t, &me).await;
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(me_user))
        .filter(notification::Column::Title.contains("评分表被退回"))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("the expert is notified");
    assert!(told.body.contains("评分与评审意见不一致"));
    assert_eq!(told.link, format!("/scoring/{mine}"));
    // Reopening again is pointless: the sheet is a draft.
    let (status, _) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/score-sheets/{sheet_id}/reopen"),
        Some(json!({"reason": "再次"})),
    )
    .await;
    assert_eq!(status, 409);

    // The expert corrects and resubmits, although the window has closed.
    let (_, sheet) = call(&t, &tok, "GET", &format!("/api/v1/scoring/{mine}"), None).await;
    assert_eq!(sheet["editable"], true);
    assert_eq!(
        sheet["reopened_reason"],
        "“产业规模效益突出”评分与评审意见不一致，请核实"
    );
    let version = sheet["version"].as_i64().unwrap();
    let (status, done) = call(
        &t,
        &tok,
        "POST",
        &format!("/api/v1/scoring/{mine}/submit"),
        Some(json!({"scores": scores_json(78.0), "comment": "已核实调整", "version": version})),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["total"], 78.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_shows_who_has_not_finished_and_the_list_waits_for_every_sheet() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), false).await;
    score_entry(&t, r.entries[0].id, &[80.0, 81.0, 82.0, 83.0, 84.0]).await;
    score_entry(&t, r.entries[2].id, &[70.0, 71.0, 72.0, 73.0, 74.0]).await;
    let zhuzhou = panel_of(&t, r.entries[1].id).await;
    for ((id, who), total) in zhuzhou.iter().zip([90.0, 91.0, 92.0]) {
        submit(&t, *id, who, total).await;
    }
    let late: Vec<&String> = zhuzhou[3..].iter().map(|(_, who)| who).collect();

    let province = token(&t, "province").await;
    let (status, v) = on_round(&t, &province, "GET", r.id, "progress", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["assigned"], 15);
    assert_eq!(v["submitted"], 13);
    let zz = v["entrants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry_id"] == r.entries[1].id.get())
        .unwrap();
    assert_eq!(
        (zz["assigned"].as_u64(), zz["submitted"].as_u64()),
        (Some(5), Some(3))
    );
    let missing: u64 = v["experts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["missing"].as_u64().unwrap())
        .sum();
    assert_eq!(missing, 2);
    for who in &late {
        let name = expert::Entity::find_by_id(expert_id(&t, who).await)
            .one(&t.app.db)
            .await
            .unwrap()
            .unwrap()
            .name;
        let row = v["experts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["expert_name"] == name.as_str())
            .unwrap();
        assert!(row["missing"].as_u64().unwrap() >= 1);
        assert!(
            row["missing_clusters"]
                .as_array()
                .unwrap()
                .contains(&json!("株洲轨道交通装备产业集群"))
        );
    }

    // The page says the same.
    let browser = support::page_login(&t, "province").await;
    let (_, page) = get_page(&browser, &t, &format!("/rounds/{}/progress", r.id)).await;
    assert!(page.contains("id=\"submitted-total\">13<"), "{page}");
    assert!(page.contains("已提交 3/5"));
    // The expert page is not the province's.
    let expert_browser = support::page_login(&t, "expert2").await;
    assert_eq!(
        get_page(&expert_browser, &t, &format!("/rounds/{}/progress", r.id))
            .await
            .0,
        403
    );

    // Fixing the list is refused, naming who is missing.
    let (status, body) = propose(&t, &province, r.id.get(), json!({"reason": ""})).await;
    assert_eq!(status, 409, "{body}");
    let text = error_message(&body);
    assert!(
        text.starts_with("以下评分表尚未提交，不能确定拟定名单："),
        "{text}"
    );
    assert_eq!(
        text.matches("株洲轨道交通装备产业集群").count(),
        2,
        "{text}"
    );
    let still = stored_round(&t, r.id).await;
    assert_eq!(still.status.key(), "scoring");
    assert!(audited(&t, "round.propose").await.is_empty());
}

/// Hand computation for the next test. 长沙: 92, 88, 85, 80, 60 → drop 60 and 92 → (80 + 85 +
/// 88) / 3 = 84.33; 60 is 26.25 below the others' mean 86.25 (flagged, gap > 15). 株洲: 95, 90,
/// 70, 75, 80 → drop 70 and 95 → (75 + 80 + 90) / 3 = 81.67. 岳阳: 70 … 78 → 74.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ranking_matches_a_hand_computation_and_fixing_the_list_moves_every_entrant() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), false).await;
    score_all(
        &t,
        &r,
        [
            &[92.0, 88.0, 85.0, 80.0, 60.0],
            &[95.0, 90.0, 70.0, 75.0, 80.0],
            &[70.0, 72.0, 74.0, 76.0, 78.0],
        ],
    )
    .await;

    let province = token(&t, "province").await;
    let (status, v) = on_round(&t, &province, "GET", r.id, "ranking", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["complete"], true);
    assert_eq!(v["fixed"], false);
    assert_eq!(v["can_propose"], true);
    let kinds = v["kinds"].as_array().unwrap();
    assert_eq!(kinds[0]["kind"], "leading");
    assert_eq!(kinds[0]["quota"], 1);
    let leading = kinds[0]["rows"].as_array().unwrap();
    assert_eq!(leading[0]["cluster_name"], "长沙工程机械产业集群");
    assert_eq!(leading[0]["rank"], 1);
    assert!((leading[0]["final_score"].as_f64().unwrap() - 253.0 / 3.0).abs() < 1e-9);
    assert!((leading[0]["written_mean"].as_f64().unwrap() - 253.0 / 3.0).abs() < 1e-9);
    assert_eq!(leading[0]["within_quota"], true);
    assert_eq!(leading[0]["cut_after"], true);
    assert_eq!(leading[1]["cluster_name"], "株洲轨道交通装备产业集群");
    assert_eq!(leading[1]["rank"], 2);
    assert!((leading[1]["final_score"].as_f64().unwrap() - 245.0 / 3.0).abs() < 1e-9);
    assert_eq!(leading[1]["within_quota"], false);
    let specialty = kinds[1]["rows"].as_array().unwrap();
    assert_eq!(specialty[0]["cluster_name"], "岳阳石化产业集群");
    assert_eq!(specialty[0]["final_score"], 74.0);
    // Every number traces to the sheets: the dropped totals and the flagged outlier.
    let written = leading[0]["written"].as_array().unwrap();
    let dropped: Vec<(f64, &str)> = written
        .iter()
        .filter(|w| w["dropped"] != "")
        .map(|w| (w["total"].as_f64().unwrap(), w["dropped"].as_str().unwrap()))
        .collect();
    assert_eq!(dropped.len(), 2);
    assert!(dropped.contains(&(60.0, "low")) && dropped.contains(&(92.0, "high")));
    let flagged: Vec<&Value> = written.iter().filter(|w| w["outlier"] != "").collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(
        flagged[0]["outlier"],
        "该专家评分60分，比参照平均分86.25分低26.25分，请复核"
    );
    assert_eq!(leading[0]["outliers"].as_array().unwrap().len(), 1);
    assert!(v["county_warnings"].as_array().unwrap().is_empty());
    // The page shows the same working; partners read it, experts do not.
    let browser = support::page_login(&t, "province").await;
    let (_, page) = get_page(&browser, &t, &format!("/rounds/{}/ranking", r.id)).await;
    assert!(page.contains("<strong>84.33</strong>"), "{page}");
    assert!(page.contains("<strong>81.67</strong>"));
    assert!(page.contains("60（去掉的最低分）"));
    assert!(page.contains("名额线：优势产业集群名额1个"));
    assert!(page.contains("id=\"propose-form\""));
    let partner = token(&t, "partner").await;
    let (status, pv) = on_round(&t, &partner, "GET", r.id, "ranking", None).await;
    assert_eq!(status, 200);
    assert_eq!(pv["can_propose"], false);
    let (status, _) = propose(&t, &partner, r.id.get(), json!({"reason": ""})).await;
    assert_eq!(status, 403);
    let expert_tok = token(&t, "expert2").await;
    let (status, _) = on_round(&t, &expert_tok, "GET", r.id, "ranking", None).await;
    assert_eq!(status, 403);

    // Fix the list through the page.
    let csrf = support::csrf_from(&page);
    let res = post_page(
        &browser,
        &t,
        &format!("/rounds/{}/propose", r.id),
        &[
            ("_csrf", csrf.as_str()),
            ("reason", ""),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);

    let stored = stored_round(&t, r.id).await;
    assert_eq!(stored.status.key(), "proposed");
    let expected = [
        (0, "shortlisted", 1, true, 253.0 / 3.0),
        (1, "not_selected", 2, false, 245.0 / 3.0),
        (2, "shortlisted", 1, true, 74.0),
    ];
    for (i, status, rank, proposed, score) in expected {
        let e = stored_entry(&t, r.entries[i].id).await;
        assert_eq!(e.status.key(), status);
        assert_eq!(e.rank, Some(rank));
        assert_eq!(e.proposed, proposed);
        assert!((e.final_score.unwrap() - score).abs() < 1e-9);
        assert_eq!(
            application_status(&t, e.application_id).await,
            status,
            "the application follows its entry"
        );
    }
    let proposed = audited(&t, "round.propose").await;
    assert_eq!(proposed.len(), 1);
    assert_eq!(proposed[0].object_id, r.id.to_string());
    assert!(
        proposed[0]
            .summary
            .contains("优势产业集群（名额1）第1名 长沙工程机械产业集群（84.33分）"),
        "{}",
        proposed[0].summary
    );
    assert!(
        proposed[0]
            .summary
            .contains("未入选：第2名 株洲轨道交通装备产业集群（81.67分）")
    );
    // Applicants hear that the review is over, not the outcome.
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id(&t, "applicant").await))
        .filter(notification::Column::Title.contains("评审已完成"))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("applicant notified");
    assert!(told.body.contains("评审结果将在拟定名单公示时公布"));
    assert!(!told.body.contains("入选"));

    // Scores are final now; fixing again is refused.
    let (mine, me) = panel_of(&t, r.entries[0].id).await[0].clone();
    let sheet_id = stored_sheet(&t, mine).await.id;
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/score-sheets/{sheet_id}/reopen"),
        Some(json!({"reason": "复核"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let tok = token(&t, &me).await;
    let (_, sheet) = call(&t, &tok, "GET", &format!("/api/v1/scoring/{mine}"), None).await;
    assert_eq!(
        sheet["locked_reason"],
        "本轮评分已结束，拟定名单已确定，不能再修改评分"
    );
    let (status, body) = propose(&t, &province, r.id.get(), json!({"reason": ""})).await;
    assert_eq!(status, 409);
    assert!(
        error_message(&body).contains("不能执行“确定拟定名单”"),
        "{body}"
    );
    let (_, after) = on_round(&t, &province, "GET", r.id, "ranking", None).await;
    assert_eq!(after["fixed"], true);
    assert_eq!(after["kinds"][0]["rows"][0]["proposed"], true);
    assert_eq!(after["kinds"][0]["rows"][1]["proposed"], false);

    // The exports: Chinese headers, numbers as numbers; audited.
    let res = browser
        .get(t.url(&format!("/rounds/{}/ranking.xlsx", r.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("排名").unwrap();
    let header = |c: u32| match sheet.get_value((1, c)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("header {c}: {other:?}"),
    };
    let headers: Vec<String> = (0..9).map(header).collect();
    assert_eq!(
        headers,
        [
            "集群类型",
            "排名",
            "参赛集群",
            "区域",
            "申报主体",
            "牵头县（市、区）",
            "最终得分",
            "书面评审得分",
            "答辩得分"
        ]
    );
    assert_eq!(
        sheet.get_value((2, 2)),
        Some(&Data::String("长沙工程机械产业集群".into()))
    );
    // 长沙 is in the policy's 长株潭 grouping.
    assert_eq!(
        sheet.get_value((2, 3)),
        Some(&Data::String("长株潭".into()))
    );
    assert_eq!(sheet.get_value((2, 1)), Some(&Data::Float(1.0)));
    match sheet.get_value((2, 6)) {
        Some(Data::Float(f)) => assert!((f - 253.0 / 3.0).abs() < 1e-9),
        other => panic!("final score cell: {other:?}"),
    }
    let proposed_col = (0..30)
        .find(|c| sheet.get_value((1, *c)) == Some(&Data::String("是否拟入选".into())))
        .expect("是否拟入选 column");
    assert_eq!(
        sheet.get_value((2, proposed_col)),
        Some(&Data::String("是".into()))
    );
    assert_eq!(
        sheet.get_value((3, proposed_col)),
        Some(&Data::String("否".into()))
    );
    let low_col = (0..30)
        .find(|c| sheet.get_value((1, *c)) == Some(&Data::String("去掉的最低分".into())))
        .expect("去掉的最低分 column");
    assert_eq!(sheet.get_value((2, low_col)), Some(&Data::Float(60.0)));

    let (status, _) = on_round(&t, &province, "GET", r.id, "scores.xlsx", None).await;
    assert_eq!(status, 200);
    let res = browser
        .get(t.url(&format!("/rounds/{}/scores.xlsx", r.id)))
        .send()
        .await
        .unwrap();
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("评分表").unwrap();
    assert_eq!(
        sheet.get_value((1, 5)),
        Some(&Data::String("产业特色明显（满分15分）".into()))
    );
    assert_eq!(sheet.get_value((1, 11)), Some(&Data::String("合计".into())));
    let totals: Vec<f64> = (2..17)
        .filter_map(|row| match sheet.get_value((row, 11)) {
            Some(Data::Float(f)) => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(totals.len(), 15, "one row per sheet");
    assert!(totals.contains(&60.0) && totals.contains(&95.0));
    assert_eq!(audited(&t, "ranking.export").await.len(), 1);
    assert_eq!(audited(&t, "score.export").await.len(), 2);
    let (status, _) = on_round(&t, &partner, "GET", r.id, "ranking.xlsx", None).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tie_at_the_cut_needs_a_choice_and_a_reason() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), false).await;
    let same = [88.0, 84.0, 86.0, 90.0, 70.0];
    score_all(
        &t,
        &r,
        [
            &same,
            &[70.0, 90.0, 86.0, 84.0, 88.0],
            &[70.0, 72.0, 74.0, 76.0, 78.0],
        ],
    )
    .await;
    let (changsha, zhuzhou) = (r.entries[0].id, r.entries[1].id);

    let province = token(&t, "province").await;
    let (_, v) = on_round(&t, &province, "GET", r.id, "ranking", None).await;
    let leading = &v["kinds"][0];
    assert_eq!(leading["rows"][0]["rank"], 1);
    assert_eq!(
        leading["rows"][1]["rank"], 1,
        "fully equal entrants share the rank"
    );
    let tie = &leading["ties"][0];
    assert_eq!(tie["places"], 1);
    assert_eq!(
        tie["message"],
        "优势产业集群第1名有2个申报得分及各项排序依据完全相同，但剩余名额仅1个，需研究确定"
    );

    // No choice: refused, the tie explained.
    let (status, body) = propose(&t, &province, r.id.get(), json!({"reason": "研究决定"})).await;
    assert_eq!(status, 422, "{body}");
    let fields = field_messages(&body);
    assert_eq!(fields[0].0, "chosen");
    assert!(
        fields[0]
            .1
            .contains("请在“长沙工程机械产业集群”、“株洲轨道交通装备产业集群”中选择1个"),
        "{fields:?}"
    );
    // Both tied, or someone out of the ranking: refused.
    for chosen in [vec![changsha, zhuzhou, r.entries[2].id], vec![changsha]] {
        let (status, body) = propose(
            &t,
            &province,
            r.id.get(),
            json!({"chosen": chosen, "reason": "研究决定"}),
        )
        .await;
        assert_eq!(status, 422, "{chosen:?}: {body}");
        assert_eq!(field_messages(&body)[0].0, "chosen");
    }
    // A choice without a reason: refused on the page, the ticks kept.
    let browser = support::page_login(&t, "province").await;
    let (_, page) = get_page(&browser, &t, &format!("/rounds/{}/ranking", r.id)).await;
    assert!(page.contains(&format!("name=\"tie_{zhuzhou}\"")), "{page}");
    let csrf = support::csrf_from(&page);
    let tick = format!("tie_{zhuzhou}");
    let res = post_page(
        &browser,
        &t,
        &format!("/rounds/{}/propose", r.id),
        &[
            ("_csrf", csrf.as_str()),
            (tick.as_str(), "on"),
            ("reason", ""),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    let page = res.body;
    assert!(page.contains("名额线上存在得分完全相同的参赛集群，请说明选择的理由"));
    assert!(page.contains(&format!("id=\"tie-{zhuzhou}\" checked")));
    let reason = "两集群得分完全相同，经厅党组会议研究，株洲集群产业链协同更紧密";
    let res = post_page(
        &browser,
        &t,
        &format!("/rounds/{}/propose", r.id),
        &[
            ("_csrf", csrf.as_str()),
            (tick.as_str(), "on"),
            ("reason", reason),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    let zz = stored_entry(&t, zhuzhou).await;
    let cs = stored_entry(&t, changsha).await;
    assert_eq!((zz.status.key(), zz.proposed), ("shortlisted", true));
    assert_eq!((cs.status.key(), cs.proposed), ("not_selected", false));
    assert_eq!(
        zz.decision_note,
        format!("名额线上并列第1名，经研究确定入选：{reason}")
    );
    assert_eq!(
        cs.decision_note,
        format!("名额线上并列第1名，经研究未入选：{reason}")
    );
    let logged = &audited(&t, "round.propose").await[0];
    assert_eq!(logged.reason, reason);
    assert!(logged.summary.contains("名额线并列"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defence_scores_are_recorded_and_weighted_by_the_policy() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), true).await;
    score_all(
        &t,
        &r,
        [
            &[80.0, 80.0, 80.0, 80.0, 80.0],
            &[90.0, 90.0, 90.0, 90.0, 90.0],
            &[70.0, 70.0, 70.0, 70.0, 70.0],
        ],
    )
    .await;
    let province = token(&t, "province").await;
    let path = format!("/api/v1/rounds/{}/defence", r.id);
    let changsha = panel_of(&t, r.entries[0].id).await;
    let first = expert_id(&t, &changsha[0].1).await;

    // The scale is the policy's total; an expert not on the entrant's panel cannot be scored.
    let (status, body) = call(
        &t,
        &province,
        "PUT",
        &path,
        Some(json!({"entry_id": r.entries[0].id, "expert_id": first, "score": 100.5})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        field_messages(&body)[0].0,
        format!("defence.{}.{first}", r.entries[0].id)
    );
    assert!(field_messages(&body)[0].1.contains("得分应在0至100分之间"));
    let outsider = expert_id(&t, "expert").await;
    let (status, _) = call(
        &t,
        &province,
        "PUT",
        &path,
        Some(json!({"entry_id": r.entries[0].id, "expert_id": outsider, "score": 50})),
    )
    .await;
    assert_eq!(status, 422);

    let browser = support::page_login(&t, "province").await;
    let (_, page) = get_page(&browser, &t, &format!("/rounds/{}/defence", r.id)).await;
    let field = format!("defence.{}.{first}", r.entries[0].id);
    assert!(page.contains(&format!("name=\"{field}\"")), "{page}");
    let csrf = support::csrf_from(&page);
    let res = post_page(
        &browser,
        &t,
        &format!("/rounds/{}/defence", r.id),
        &[("_csrf", csrf.as_str()), (field.as_str(), "九十")],
    )
    .await;
    assert_eq!(res.status, 422);
    let page = res.body;
    assert!(page.contains(&format!("data-error-for=\"{field}\">请填写数字")));
    assert!(page.contains("value=\"九十\""));

    // Missing defence scores hold the list back.
    let (status, body) = propose(&t, &province, r.id.get(), json!({"reason": ""})).await;
    assert_eq!(status, 409);
    assert!(
        error_message(&body).starts_with("以下答辩评分尚未录入"),
        "{body}"
    );

    // 长沙 defence 100 × 5 → 80 × 0.6 + 100 × 0.4 = 88; 株洲 60 × 5 → 90 × 0.6 + 60 × 0.4 = 78.
    for (entry, score) in [(0, 100.0), (1, 60.0), (2, 70.0)] {
        for (_, who) in panel_of(&t, r.entries[entry].id).await {
            let id = expert_id(&t, &who).await;
            let (status, body) = call(
                &t,
                &province,
                "PUT",
                &path,
                Some(json!({"entry_id": r.entries[entry].id, "expert_id": id, "score": score})),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let (_, grid) = call(&t, &province, "GET", &path, None).await;
    assert_eq!(grid["missing"], 0);
    assert_eq!(grid["max_score"], 100);
    assert_eq!(audited(&t, "score.defence").await.len(), 15);
    let (_, v) = on_round(&t, &province, "GET", r.id, "ranking", None).await;
    let leading = v["kinds"][0]["rows"].as_array().unwrap();
    assert_eq!(leading[0]["cluster_name"], "长沙工程机械产业集群");
    assert!((leading[0]["final_score"].as_f64().unwrap() - 88.0).abs() < 1e-9);
    assert_eq!(leading[0]["defence_mean"], 100.0);
    assert!((leading[1]["final_score"].as_f64().unwrap() - 78.0).abs() < 1e-9);
    let (status, _) = propose(&t, &province, r.id.get(), json!({"reason": ""})).await;
    assert_eq!(status, 200);
    // After the list is fixed, defence scores are final too.
    let (status, _) = call(
        &t,
        &province,
        "PUT",
        &path,
        Some(json!({"entry_id": r.entries[0].id, "expert_id": first, "score": 10})),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_over_the_cap_needs_a_justification() {
    let t = support::spawn().await;
    let r = scoring_round(&t, Duration::hours(-1), Duration::days(7), false).await;
    // Another cluster of 长沙县 is already a cultivation target.
    let other = a_cluster(
        &t,
        CHANGSHA_ORG,
        "长沙县智能装备产业集群",
        "430100",
        "430121",
    )
    .await;
    let now = t.app.clock.now();
    designation::ActiveModel {
        cluster_id: Set(other),
        round_id: Set(r.id),
        entry_id: Set(r.entries[0].id),
        designation: Set(jiqun_domain::round::Designation::CultivationTarget),
        effective_on: Set(now.date()),
        year: Set(2025),
        seq: Set(1),
        certificate_number: Set("湘集群培〔2025〕第001号".into()),
        revoked_on: Set(None),
        revoke_reason: Set(String::new()),
        decided_by: Set(user_id(&t, "province").await),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    score_all(
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
    let (_, v) = on_round(&t, &province, "GET", r.id, "ranking", None).await;
    assert_eq!(
        v["county_warnings"],
        json!(["长沙市长沙县：本次拟入选1个，已纳入省级支持1个，合计2个（上限1个）"])
    );
    let (status, body) = propose(&t, &province, r.id.get(), json!({"reason": " "})).await;
    assert_eq!(status, 422, "{body}");
    let fields = field_messages(&body);
    assert_eq!(fields[0].0, "reason");
    assert!(fields[0].1.contains("原则上不超过1个"), "{fields:?}");
    assert!(fields[0].1.contains("长沙县"));
    let reason = "长沙县两集群分属不同产业链，经研究予以支持";
    let (status, _) = propose(&t, &province, r.id.get(), json!({"reason": reason})).await;
    assert_eq!(status, 200);
    let cs = stored_entry(&t, r.entries[0].id).await;
    assert!(cs.proposed);
    assert_eq!(cs.decision_note, format!("突破县域上限：{reason}"));
    let logged = &audited(&t, "round.propose").await[0];
    assert!(logged.summary.contains("突破县域上限"));
    assert_eq!(logged.reason, reason);
}
