//! The 决赛申报材料 (第十一条) and the yearly 集中公告 and 授牌 (第十二条): a 决赛 asks each
//! finalist for materials by a deadline; drafts keep what was typed, submission checks
//! completeness, the deadline is enforced by the server; the expert sees a before/after table;
//! a finalist that did not submit is listed apart and not ranked. The province compiles a year's
//! designations into one frozen announcement and records each title's plaque.

use jiqun::store::entity::{application, round_entry};
use jiqun::store::id::RoundId;
use jiqun_rules::intake::FormData;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use time::macros::date;

use crate::attachments::post_file;
use crate::fixtures::{
    CHANGSHA, ProposedRound, audited, confirmed_round, error_message, field_message, forward_to,
    get_page, panel_of, principal, score_entry, stored_round,
};
use crate::support::{self, TestApp};
use crate::{call, token};

const YUEYANG: &str = "岳阳石化产业集群";
const RENAMED: &str = "长沙智能装备产业集群";

/// What the province sends to open the 决赛 on Monday 7 June 2027: materials due Friday 18 June,
/// scoring from Monday 21 June.
fn final_plan(materials_due: &str) -> Value {
    json!({
        "kind": "final",
        "experts_per_application": 5,
        "quotas": {"leading": 1, "specialty": 1},
        "scoring_opens_at": "2027-06-21T08:00",
        "scoring_closes_at": "2027-06-30T17:30",
        "materials_due": materials_due,
    })
}

struct Finals {
    prelim: ProposedRound,
    round_id: RoundId,
    /// The materials of 长沙 and of 岳阳.
    changsha: i64,
    yueyang: i64,
}

/// 长沙 and 岳阳 become 培育对象 on 4 December 2026; the 决赛 opens on 7 June 2027.
async fn finals_opened(t: &TestApp) -> Finals {
    let prelim = confirmed_round(t).await;
    let competition = stored_round(t, prelim.round_id).await.competition_id;
    forward_to(t, date!(2027 - 06 - 07));
    let province = token(t, "province").await;
    let path = format!("/api/v1/competitions/{competition}/rounds");
    // The materials' deadline cannot be after scoring opens, nor in the past.
    let (status, v) = call(t, &province, "POST", &path, Some(final_plan("2027-06-22"))).await;
    assert_eq!(status, 422, "{v}");
    assert!(
        field_message(&v, "materials_due").contains("应早于评分开始时间"),
        "{v}"
    );
    let (status, v) = call(t, &province, "POST", &path, Some(final_plan("2027-06-01"))).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        field_message(&v, "materials_due"),
        "决赛申报材料截止日不能早于今天"
    );
    // Left blank, the policy's working days are counted by the deadline engine, which needs the
    // year's calendar: without 2027 it says so rather than guess.
    let (status, v) = call(t, &province, "POST", &path, Some(final_plan(""))).await;
    assert_eq!(status, 422, "{v}");
    assert!(field_message(&v, "materials_due").contains("2027"), "{v}");
    let (status, v) = call(t, &province, "POST", &path, Some(final_plan("2027-06-18"))).await;
    assert_eq!(status, 200, "{v}");
    let round_id = RoundId::new(v["round"]["id"].as_i64().unwrap());
    let opened = audited(t, "round.open").await;
    assert!(
        opened
            .last()
            .unwrap()
            .summary
            .contains("决赛申报材料截止2027年6月18日"),
        "{:?}",
        opened.last()
    );
    let mine = |who: &'static str| async move {
        let tok = token(t, who).await;
        let (status, list) = call(t, &tok, "GET", "/api/v1/final-materials", None).await;
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().unwrap().clone();
        assert_eq!(list.len(), 1, "{who}: {list:?}");
        list[0].clone()
    };
    let cs = mine("applicant").await;
    assert_eq!(cs["cluster_name"], CHANGSHA);
    assert_eq!(cs["state"], "open");
    assert_eq!(cs["due_on_zh"], "2027年6月18日");
    let yy = mine("applicant2").await;
    assert_eq!(yy["cluster_name"], YUEYANG);
    Finals {
        prelim,
        round_id,
        changsha: cs["id"].as_i64().unwrap(),
        yueyang: yy["id"].as_i64().unwrap(),
    }
}

/// The 初赛 form of an entrant's application.
async fn prelim_form(t: &TestApp, f: &Finals, i: usize) -> FormData {
    let a = application::Entity::find_by_id(f.prelim.applications[i])
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&a.form).unwrap()
}

/// The materials as the API takes them: the 初赛 indicators with the first numeric one raised
/// by 10, and an account of achievements per criterion. Returns the body and the raised key.
fn materials_from(before: &FormData) -> (Value, String, String, String) {
    let mut indicators = before.indicators.clone();
    let (key, old) = before
        .indicators
        .iter()
        .find(|(_, v)| v.trim().parse::<f64>().is_ok())
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let new = format!("{}", old.trim().parse::<f64>().unwrap() + 10.0);
    indicators.insert(key.clone(), new.clone());
    let achievements: serde_json::Map<String, Value> = before
        .narratives
        .keys()
        .map(|k| (k.clone(), json!(format!("培育期间{k}方面取得明显成效"))))
        .collect();
    (
        json!({"indicators": indicators, "achievements": achievements}),
        key,
        old,
        new,
    )
}

async fn materials(t: &TestApp, who: &str, id: i64) -> (u16, Value) {
    let tok = token(t, who).await;
    call(
        t,
        &tok,
        "GET",
        &format!("/api/v1/final-materials/{id}"),
        None,
    )
    .await
}

async fn save(t: &TestApp, who: &str, id: i64, form: Value, version: i64) -> (u16, Value) {
    let tok = token(t, who).await;
    call(
        t,
        &tok,
        "PUT",
        &format!("/api/v1/final-materials/{id}"),
        Some(json!({"form": form, "version": version})),
    )
    .await
}

async fn submit(t: &TestApp, who: &str, id: i64, version: i64) -> (u16, Value) {
    let tok = token(t, who).await;
    call(
        t,
        &tok,
        "POST",
        &format!("/api/v1/final-materials/{id}/submit"),
        Some(json!({"version": version})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalists_draft_and_submit_materials_before_the_deadline() {
    let t = support::spawn().await;
    let f = finals_opened(&t).await;

    // Scopes: the other finalist and another city see nothing; the city and the province read.
    for who in ["applicant2", "zhuzhou"] {
        let (status, _) = materials(&t, who, f.changsha).await;
        assert_eq!(status, 404, "{who}");
    }
    for who in ["changsha", "province"] {
        let (status, v) = materials(&t, who, f.changsha).await;
        assert_eq!(status, 200, "{who}: {v}");
        assert_eq!(v["can_edit"], false, "{who}");
    }
    let (status, _) = save(&t, "applicant2", f.changsha, json!({}), 1).await;
    assert_eq!(status, 404);
    let (status, _) = save(&t, "changsha", f.changsha, json!({}), 1).await;
    assert_eq!(status, 403);

    // The workbench asks the finalist for its materials, with the deadline.
    let client = support::page_login(&t, "applicant").await;
    let (_, html) = get_page(&client, &t, "/").await;
    assert!(
        html.contains("待提交决赛申报材料：长沙工程机械产业集群")
            && html.contains("截止2027年6月18日"),
        "{html}"
    );

    // A draft keeps a malformed value as typed and names what is missing; submitting refuses.
    let before = prelim_form(&t, &f, 0).await;
    let (body, key, old, new) = materials_from(&before);
    let mut draft = body.clone();
    draft["indicators"][&key] = json!("很多");
    draft["achievements"] = json!({});
    let (status, v) = save(&t, "applicant", f.changsha, draft, 1).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["complete"], false);
    let ind = v["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["indicators"].as_array().unwrap())
        .find(|i| i["key"] == key.as_str())
        .unwrap()
        .clone();
    assert_eq!(ind["value"], "很多");
    assert_eq!(ind["before"], old.as_str(), "the 初赛 value beside it");
    assert!(
        ind["problem"].as_str().unwrap().contains("请填写数字"),
        "{ind}"
    );
    let (status, v) = submit(&t, "applicant", f.changsha, 2).await;
    assert_eq!(status, 422, "{v}");
    assert!(
        field_message(&v, &format!("indicators.{key}")).contains("请填写数字"),
        "{v}"
    );
    assert!(
        v["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"]
                .as_str()
                .unwrap()
                .contains("培育期间取得的成效")),
        "{v}"
    );
    // A stale version is refused; nothing is lost.
    let (status, _) = save(&t, "applicant", f.changsha, body.clone(), 1).await;
    assert_eq!(status, 409);

    // Complete materials with an evidence file, then submitted.
    let tok = token(&t, "applicant").await;
    let (status, v) = post_file(
        &t,
        &tok,
        &format!(
            "owner_type=final_materials&owner_id={}&purpose=evidence",
            f.changsha
        ),
        "培育成效佐证.pdf",
        b"%PDF-1.4\n%evidence\n",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = save(&t, "applicant", f.changsha, body.clone(), 2).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["complete"], true, "{v}");
    let (status, v) = submit(&t, "applicant", f.changsha, 3).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["state"], "submitted");
    assert_eq!(v["attachments"].as_array().unwrap().len(), 1);
    // A double click answers with the submission already made; then nothing changes any more.
    let (status, _) = submit(&t, "applicant", f.changsha, 3).await;
    assert_eq!(status, 200);
    let (status, v) = save(&t, "applicant", f.changsha, body.clone(), 4).await;
    assert_eq!(status, 409);
    assert_eq!(error_message(&v), "决赛申报材料已提交，不能再修改");
    let submitted = audited(&t, "final_materials.submit").await;
    assert_eq!(submitted.len(), 1);
    assert!(submitted[0].summary.contains(CHANGSHA), "{submitted:?}");
    // The materials join the cluster's monitoring series, after its application.
    let cluster = f.prelim.entries[0].cluster_id;
    let (status, m) = call(
        &t,
        &token(&t, "province").await,
        "GET",
        &format!("/api/v1/clusters/{cluster}/monitoring"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{m}");
    let rows = m["series"]["rows"].as_array().unwrap();
    assert!(
        rows[0][0]["text"].as_str().unwrap().starts_with("申报书"),
        "{m}"
    );
    assert_eq!(
        rows[1][0]["text"], "决赛申报材料（2027年6月7日提交）",
        "{m}"
    );
    let revenue: f64 = body["indicators"]["cluster_revenue"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rows[1][1]["value"], revenue, "{m}");
    assert_eq!(audited(&t, "final_materials.save").await.len(), 2);
    let _ = new;

    // 岳阳 keeps a draft but lets the deadline pass: the server refuses it from then on.
    let (status, _) = save(&t, "applicant2", f.yueyang, json!({"indicators": {}}), 1).await;
    assert_eq!(status, 200);
    forward_to(&t, date!(2027 - 06 - 19));
    let (status, v) = save(&t, "applicant2", f.yueyang, json!({}), 2).await;
    assert_eq!(status, 409);
    assert_eq!(
        error_message(&v),
        "决赛申报材料已于2027年6月18日截止，系统不再接收"
    );
    let (status, v) = submit(&t, "applicant2", f.yueyang, 2).await;
    assert_eq!(status, 409, "{v}");
    let tok = token(&t, "applicant2").await;
    let (status, v) = post_file(
        &t,
        &tok,
        &format!(
            "owner_type=final_materials&owner_id={}&purpose=evidence",
            f.yueyang
        ),
        "迟交.pdf",
        b"%PDF-1.4\n%late\n",
    )
    .await;
    assert_eq!(status, 409, "{v}");
    let (_, v) = materials(&t, "province", f.yueyang).await;
    assert_eq!(v["state"], "missed");
    assert_eq!(v["state_label"], "未提交决赛材料");
    let _ = f.round_id;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expert_sees_before_and_after_and_a_non_submitter_is_not_ranked() {
    let t = support::spawn().await;
    let f = finals_opened(&t).await;
    let before = prelim_form(&t, &f, 0).await;
    let (body, key, old, new) = materials_from(&before);
    let (status, v) = save(&t, "applicant", f.changsha, body, 1).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = submit(&t, "applicant", f.changsha, 2).await;
    assert_eq!(status, 200, "{v}");

    // The panel is set while the materials are collected; scoring opens after the deadline.
    let province = principal(&t, "province").await;
    let pool = crate::fixtures::pool(&t).await;
    jiqun::services::rounds::set_panel(t.app(), &province, f.round_id, &pool, &[])
        .await
        .unwrap();
    let out = jiqun::services::rounds::auto_assign(t.app(), &province, f.round_id)
        .await
        .unwrap();
    assert!(out.shortfalls.is_empty(), "{out:?}");
    jiqun::services::rounds::open_scoring(t.app(), &province, f.round_id)
        .await
        .unwrap();
    forward_to(&t, date!(2027 - 06 - 21));
    let entries = round_entry::Entity::find()
        .filter(round_entry::Column::RoundId.eq(f.round_id))
        .all(&t.app.db)
        .await
        .unwrap();
    let entry_of = |cluster| entries.iter().find(|e| e.cluster_id == cluster).unwrap().id;
    let changsha = entry_of(f.prelim.entries[0].cluster_id);
    let yueyang = entry_of(f.prelim.entries[2].cluster_id);

    // 长沙's expert: the 初赛 value, the 决赛 value and the change, per indicator.
    let (aid, expert) = panel_of(&t, changsha).await[0].clone();
    let tok = token(&t, &expert).await;
    let (status, v) = call(&t, &tok, "GET", &format!("/api/v1/scoring/{aid}"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["finals"]["state"], "submitted", "{v}");
    let row = v["finals"]["table"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["indicators"].as_array().unwrap())
        .find(|i| i["key"] == key.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["before"], old.as_str());
    assert_eq!(row["after"], new.as_str());
    assert_eq!(row["change"], "+10");
    assert_eq!(row["direction"], "up");
    assert!(
        v["finals"]["table"][0]["achievements"]
            .as_str()
            .unwrap()
            .contains("取得明显成效")
    );
    // The page shows the same table beside the score panel.
    let client = support::page_login(&t, &expert).await;
    let (status, html) = get_page(&client, &t, &format!("/scoring/{aid}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"final-materials\"") && html.contains("+10"),
        "{html}"
    );
    // The expert reads the materials, not the drafts of the list.
    let (status, list) = call(&t, &tok, "GET", "/api/v1/final-materials", None).await;
    assert_eq!((status, list), (200, json!([])));

    // 岳阳's expert is told it did not submit.
    let (aid, expert) = panel_of(&t, yueyang).await[0].clone();
    let tok = token(&t, &expert).await;
    let (_, v) = call(&t, &tok, "GET", &format!("/api/v1/scoring/{aid}"), None).await;
    assert_eq!(v["finals"]["state"], "missed", "{v}");
    assert_eq!(v["finals"]["table"], json!([]));

    // 长沙 is scored; 岳阳's sheets are not waited for and it is listed apart, not ranked.
    score_entry(&t, changsha, &[90.0, 88.0, 86.0, 92.0, 89.0]).await;
    let ptok = token(&t, "province").await;
    let (status, v) = call(
        &t,
        &ptok,
        "GET",
        &format!("/api/v1/rounds/{}/ranking", f.round_id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["not_submitted"], json!([YUEYANG]), "{v}");
    assert_eq!(v["complete"], true, "{v}");
    assert!(
        !v.to_string()
            .contains(&format!("\"cluster_name\":\"{YUEYANG}\"")),
        "{v}"
    );
    let client = support::page_login(&t, "province").await;
    let (_, html) = get_page(&client, &t, &format!("/rounds/{}/ranking", f.round_id)).await;
    assert!(
        html.contains("未提交决赛材料（不参与排名）") && html.contains(YUEYANG),
        "{html}"
    );
}

// ---------------------------------------------------------------------------------------------
// 集中公告 and 授牌

async fn publish_yearly(t: &TestApp, who: &str, year: i32, number: &str) -> (u16, Value) {
    let tok = token(t, who).await;
    call(
        t,
        &tok,
        "POST",
        "/api/v1/yearly-announcements",
        Some(json!({"year": year, "document_number": number})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_yearly_announcement_is_compiled_once_and_stays_as_published() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;

    let (status, _) = publish_yearly(&t, "applicant", 2026, "湘工信集群〔2026〕12号").await;
    assert_eq!(status, 403);
    let (status, v) = publish_yearly(&t, "province", 2026, "  ").await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&v, "document_number"), "请填写公告文号");
    let (status, v) = publish_yearly(&t, "province", 2025, "湘工信集群〔2025〕1号").await;
    assert_eq!(status, 409);
    assert_eq!(
        error_message(&v),
        "2025年度尚无认定的集群或培育对象，暂不能发布集中公告"
    );
    let (status, v) = publish_yearly(&t, "province", 2026, "湘工信集群〔2026〕12号").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    assert_eq!(v["rows"][0]["cluster_name"], CHANGSHA);
    assert!(
        v["paragraphs"][0].as_str().unwrap().contains("培育对象2个"),
        "{v}"
    );
    let (status, v) = publish_yearly(&t, "province", 2026, "湘工信集群〔2026〕13号").await;
    assert_eq!(status, 409);
    assert_eq!(error_message(&v), "2026年度集中公告已发布，不能重复发布");
    assert_eq!(audited(&t, "yearly_announcement.publish").await.len(), 1);

    // 长沙 is renamed through an approved 变更申请 (its certificate is reissued) ...
    let (status, v) = call(
        &t,
        &token(&t, "applicant").await,
        "POST",
        "/api/v1/change-requests",
        Some(json!({"cluster_id": changsha, "name": RENAMED, "reasons": "主导产业升级"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (status, v) = call(
        &t,
        &token(&t, "changsha").await,
        "POST",
        &format!("/api/v1/change-requests/{id}/opinion"),
        Some(json!({"agrees": true, "opinion": "情况属实"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = call(
        &t,
        &token(&t, "province").await,
        "POST",
        &format!("/api/v1/change-requests/{id}/decision"),
        Some(json!({"approve": true, "reasons": "依据证明材料"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");

    // ... and the announcement, public on the API, the page and the list, reads as published.
    let (status, v) = call(&t, "", "GET", "/api/v1/announcements/yearly/2026", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["rows"][0]["cluster_name"], CHANGSHA);
    assert_eq!(v["document_number"], "湘工信集群〔2026〕12号");
    let (status, list) = call(&t, "", "GET", "/api/v1/announcements/yearly", None).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["count"], 2);
    let anon = support::client();
    let (status, html) = get_page(&anon, &t, "/yearly-announcements/2026").await;
    assert_eq!(status, 200);
    assert!(html.contains(CHANGSHA) && !html.contains(RENAMED), "{html}");
    let (status, _) = get_page(&anon, &t, "/yearly-announcements/2030").await;
    assert_eq!(status, 404);
    // The cluster's history names the announcement.
    let (status, v) = call(
        &t,
        &token(&t, "applicant").await,
        "GET",
        &format!("/api/v1/clusters/{changsha}/history"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "yearly_announcement" && e["number"] == "湘工信集群〔2026〕12号"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaque_is_recorded_once_per_title() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let yueyang = f.entries[2].cluster_id;
    let ptok = token(&t, "province").await;
    let (_, certs) = call(&t, &ptok, "GET", "/api/v1/certificates", None).await;
    let cert = certs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_id"] == yueyang.get())
        .unwrap()
        .clone();
    let path = format!("/api/v1/certificates/{}/plaque", cert["id"]);
    let plaque = |on: &str, number: &str| json!({"presented_on": on, "plaque_number": number});

    let (status, _) = call(
        &t,
        &token(&t, "applicant2").await,
        "POST",
        &path,
        Some(plaque("2026-12-04", "HN-2026-001")),
    )
    .await;
    assert_eq!(status, 403);
    let (status, v) = call(
        &t,
        &ptok,
        "POST",
        &path,
        Some(plaque("2026-12-03", "HN-2026-001")),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        field_message(&v, "presented_on"),
        "授牌日期不能早于认定日期（2026年12月4日）"
    );
    let (status, v) = call(
        &t,
        &ptok,
        "POST",
        &path,
        Some(plaque("2026-12-31", "HN-2026-001")),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&v, "presented_on"), "授牌日期不能晚于今天");
    let (status, v) = call(&t, &ptok, "POST", &path, Some(plaque("2026-12-04", ""))).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&v, "plaque_number"), "请填写牌匾编号");
    let (status, v) = call(
        &t,
        &ptok,
        "POST",
        &path,
        Some(plaque("2026-12-04", "HN-2026-001")),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["presented_on_zh"], "2026年12月4日");
    let (status, v) = call(
        &t,
        &ptok,
        "POST",
        &path,
        Some(plaque("2026-12-04", "HN-2026-002")),
    )
    .await;
    assert_eq!(status, 409);
    assert!(error_message(&v).contains("授牌已登记"), "{v}");
    // Another title cannot take the same plaque number.
    let other = certs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_id"] != yueyang.get())
        .unwrap();
    let (status, v) = call(
        &t,
        &ptok,
        "POST",
        &format!("/api/v1/certificates/{}/plaque", other["id"]),
        Some(plaque("2026-12-04", "HN-2026-001")),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        field_message(&v, "plaque_number").contains("已被使用"),
        "{v}"
    );
    let recorded = audited(&t, "plaque.record").await;
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].summary.contains("HN-2026-001"));

    // Shown on the certificate list (the cluster's own and the province's) and its history.
    let client = support::page_login(&t, "applicant2").await;
    let (_, html) = get_page(&client, &t, "/certificates").await;
    assert!(
        html.contains("2026年12月4日授牌，牌匾编号HN-2026-001"),
        "{html}"
    );
    assert!(
        !html.contains("data-plaque-form"),
        "only the province records"
    );
    let (_, v) = call(
        &t,
        &token(&t, "applicant2").await,
        "GET",
        &format!("/api/v1/clusters/{yueyang}/history"),
        None,
    )
    .await;
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "plaque" && e["number"] == "HN-2026-001"),
        "{v}"
    );
    let client = support::page_login(&t, "province").await;
    let (_, html) = get_page(&client, &t, "/certificates").await;
    assert!(html.contains("data-plaque-form"), "{html}");
}

/// The round's text with a required indicator only 特色 clusters report.
fn with_specialty_indicator(text: &str) -> String {
    text.replacen(
        "indicators = [",
        "indicators = [\n  { key = \"niche_share\", name = \"细分领域国内市场占有率\", unit = \"%\", value_type = \"percent\", required = true, kinds = [\"specialty\"] },",
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finalist_is_asked_only_for_the_indicators_of_its_kind() {
    use sea_orm::{ActiveModelTrait, Set};
    let t = support::spawn().await;
    let f = finals_opened(&t).await;
    let competition = stored_round(&t, f.round_id).await.competition_id;
    let c = jiqun::store::entity::competition::Entity::find_by_id(competition)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let text = with_specialty_indicator(&c.policy_source);
    jiqun_rules::Policy::parse(&text, "test").expect("the edited text is a valid policy");
    let mut m: jiqun::store::entity::competition::ActiveModel = c.into();
    m.policy_source = Set(text);
    m.update(&t.app.db).await.unwrap();
    let asks = |v: &Value| {
        v["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["indicators"].as_array().unwrap())
            .any(|i| i["key"] == "niche_share")
    };

    // An 优势 finalist is not asked for it, and its complete materials go in without it.
    let before = prelim_form(&t, &f, 0).await;
    let (body, _, _, _) = materials_from(&before);
    let (status, v) = save(&t, "applicant", f.changsha, body.clone(), 1).await;
    assert_eq!(status, 200, "{v}");
    assert!(!asks(&v), "{v}");
    assert_eq!(v["complete"], true, "{v}");

    // The same materials of a 特色 finalist lack it, named, and cannot be submitted.
    let fm = jiqun::store::entity::final_materials::Entity::find_by_id(
        jiqun::store::id::FinalMaterialsId::new(f.yueyang),
    )
    .one(&t.app.db)
    .await
    .unwrap()
    .unwrap();
    let entry = round_entry::Entity::find_by_id(fm.entry_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let prelim = application::Entity::find_by_id(entry.application_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let before: FormData = serde_json::from_str(&prelim.form).unwrap();
    let mut e: round_entry::ActiveModel = entry.into();
    e.cluster_kind = Set("specialty".into());
    e.update(&t.app.db).await.unwrap();
    let (body, _, _, _) = materials_from(&before);
    let (status, v) = save(&t, "applicant2", f.yueyang, body, 1).await;
    assert_eq!(status, 200, "{v}");
    assert!(asks(&v), "{v}");
    assert_eq!(v["complete"], false, "{v}");
    let (status, v) = submit(&t, "applicant2", f.yueyang, 2).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        field_message(&v, "indicators.niche_share"),
        "请填写“细分领域国内市场占有率”"
    );
}
