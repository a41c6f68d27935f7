//! What is kept to serve pages at scale shows what a fresh computation shows: the ranking kept
//! per state of its round after every kind of change (a sheet submitted, reopened, a recusal,
//! an objection decided), and the public notice served like a file (ETag, gzip) and rendered
//! afresh after a decision.

use jiqun::store::id::{RoundId, ScoreSheetId};
use std::io::Read;

use jiqun::app::Principal;
use jiqun::services::ranking;
use serde_json::{Value, json};
use time::Duration;
use time::macros::date;

use crate::fixtures::{
    on_objection, panel_of, principal, published_round, score_entry, scoring_round, stored_sheet,
    submit,
};
use crate::support::{self, TestApp};
use crate::token;

/// The ranking as the service answers it (kept when the round's state is unchanged), and as a
/// fresh computation; they must be equal. Returns it.
async fn kept_equals_fresh(t: &TestApp, p: &Principal, round: RoundId, after: &str) -> Value {
    let kept = ranking::ranking(&t.app, p, round).await.unwrap();
    t.app.rankings.clear();
    let fresh = ranking::ranking(&t.app, p, round).await.unwrap();
    let (kept, fresh) = (
        serde_json::to_value(kept).unwrap(),
        serde_json::to_value(fresh).unwrap(),
    );
    assert_eq!(
        kept, fresh,
        "the kept ranking after {after} is the fresh one"
    );
    fresh
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kept_ranking_equals_a_fresh_one_after_every_change_to_the_sheets() {
    let t = support::spawn().await;
    let round = scoring_round(&t, Duration::days(-1), Duration::days(5), false).await;
    let province = principal(&t, "province").await;
    score_entry(&t, round.entries[0].id, &[80.0, 82.0, 84.0, 86.0, 88.0]).await;
    score_entry(&t, round.entries[1].id, &[70.0, 72.0, 74.0, 76.0, 78.0]).await;
    let third = panel_of(&t, round.entries[2].id).await;
    for (id, who) in &third[..3] {
        submit(&t, *id, who, 90.0).await;
    }
    let start = kept_equals_fresh(&t, &province, round.id, "the first sheets").await;
    // Read twice without a change: the same answer.
    assert_eq!(
        kept_equals_fresh(&t, &province, round.id, "no change").await,
        start
    );

    // A sheet submitted.
    let (id, who) = &third[3];
    submit(&t, *id, who, 60.0).await;
    let submitted = kept_equals_fresh(&t, &province, round.id, "a sheet submitted").await;
    assert_ne!(submitted, start, "the new sheet moves the ranking");

    // A sheet reopened by the province.
    let first = panel_of(&t, round.entries[0].id).await;
    let sheet: ScoreSheetId = stored_sheet(&t, first[0].0).await.id;
    jiqun::services::scoring::reopen(&t.app, &province, sheet, "请核对第一项得分")
        .await
        .unwrap();
    let reopened = kept_equals_fresh(&t, &province, round.id, "a sheet reopened").await;
    assert_ne!(reopened, submitted, "the reopened sheet no longer counts");

    // An expert recuses from an assignment not yet scored.
    let (id, who) = &third[4];
    let expert = principal(&t, who).await;
    jiqun::services::rounds::recuse(&t.app, &expert, *id, "与该集群牵头单位存在任职关系")
        .await
        .unwrap();
    let recused = kept_equals_fresh(&t, &province, round.id, "a recusal").await;
    assert_ne!(recused, reopened, "the recusal thins the panel");
    assert!(
        recused["missing"].to_string().contains("请补充分配专家"),
        "{}",
        recused["missing"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kept_ranking_and_the_public_notice_follow_a_decided_objection() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let province_p = principal(&t, "province").await;
    let before = kept_equals_fresh(&t, &province_p, f.round_id, "publication").await;
    let url = t.url(&format!("/notices/{}", f.round_id));
    let client = reqwest::Client::new();

    // The public page: brotli or gzip when asked for, each with its strong validator; 304 when
    // already held.
    let res = client
        .get(&url)
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["vary"], "accept-encoding");
    let br_etag = res.headers()["etag"].to_str().unwrap().to_string();
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut &res.bytes().await.unwrap()[..], &mut unbrotli).unwrap();
    let res = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    assert_ne!(br_etag, etag);
    let mut html = String::new();
    flate2::read::GzDecoder::new(&res.bytes().await.unwrap()[..])
        .read_to_string(&mut html)
        .unwrap();
    assert!(html.contains("岳阳石化产业集群"), "{html}");
    assert_eq!(
        String::from_utf8(unbrotli).unwrap(),
        html,
        "brotli and gzip carry the same page"
    );
    let plain = client.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_etag = plain.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(plain_etag, etag, "each encoding has its own validator");
    assert_eq!(
        plain.text().await.unwrap(),
        html,
        "the same page either way"
    );
    let again = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // An objection against 岳阳, upheld.
    let res = client
        .post(t.url(&format!("/api/v1/notices/{}/objections", f.round_id)))
        .json(&json!({
            "entry_id": f.entries[2].id,
            "name": "王建国",
            "organisation": "",
            "contact": "13800138000",
            "reason": "该集群申报材料中的营业收入数据与统计年鉴不符。",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let filed: Value = res.json().await.unwrap();
    let province = token(&t, "province").await;
    let (status, v) = on_objection(
        &t,
        &province,
        filed["id"].as_i64().unwrap(),
        "uphold",
        json!({"reply": "经核实，该集群存在弄虚作假情形，异议成立。"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");

    let after = kept_equals_fresh(&t, &province_p, f.round_id, "an upheld objection").await;
    assert_ne!(after, before, "the removed entrant shows in the ranking");

    // The page held by the client is stale now: the full new page comes back.
    let res = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the decision shows at once");
    assert_ne!(res.headers()["etag"].to_str().unwrap(), etag);
    let mut html = String::new();
    flate2::read::GzDecoder::new(&res.bytes().await.unwrap()[..])
        .read_to_string(&mut html)
        .unwrap();
    assert!(html.contains("经核实，该集群存在弄虚作假情形"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ranking_page_shows_a_page_of_each_kind_and_filters_by_name() {
    let t = support::spawn().await;
    let round = scoring_round(&t, Duration::days(-1), Duration::days(5), false).await;
    score_entry(&t, round.entries[0].id, &[80.0, 82.0, 84.0, 86.0, 88.0]).await;
    let client = support::page_login(&t, "province").await;
    let (status, page) =
        crate::fixtures::get_page(&client, &t, &format!("/rounds/{}/ranking", round.id)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"ranking-filter\""), "{page}");
    assert!(page.contains("长沙工程机械产业集群") && page.contains("岳阳石化产业集群"));
    let (status, page) = crate::fixtures::get_page(
        &client,
        &t,
        &format!("/rounds/{}/ranking?q=%E9%95%BF%E6%B2%99", round.id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("长沙工程机械产业集群"), "{page}");
    assert!(
        !page.contains("<td>株洲轨道交通装备产业集群<div"),
        "only the rows asked for: {page}"
    );
    assert!(page.contains("符合筛选条件的1个"), "{page}");
    let (status, page) = crate::fixtures::get_page(
        &client,
        &t,
        &format!("/rounds/{}/ranking?kind=specialty", round.id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("岳阳石化产业集群"));
    assert!(!page.contains("data-kind=\"leading\""), "{page}");

    // The API: everything without a filter, the filter when asked.
    let province = token(&t, "province").await;
    let (status, all) = crate::call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/rounds/{}/ranking", round.id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{all}");
    let rows = |v: &Value| {
        v["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["rows"].as_array().unwrap().len())
            .sum::<usize>()
    };
    assert_eq!(rows(&all), 3);
    let (status, some) = crate::call(
        &t,
        &province,
        "GET",
        &format!(
            "/api/v1/rounds/{}/ranking?q=%E5%B2%B3%E9%98%B3&page=1",
            round.id
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{some}");
    assert_eq!(rows(&some), 1, "{some}");
}
