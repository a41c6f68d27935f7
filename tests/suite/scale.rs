//! The scale generator (`jiqun demo --scale N`): on an empty database it builds, through the
//! services, recommended applications, a 初赛 with its panel and sheets, and a published notice;
//! the audit trail it leaves verifies.

use jiqun::store::id::ApplicationId;
use std::sync::Arc;

use jiqun::app::Shared;

use crate::support::{self, TestApp};
use crate::{call, token};

const N: usize = 12;

async fn generated() -> (TestApp, jiqun::scale::Outcome) {
    let db = support::fresh_db().await;
    let app: Shared = Arc::new(
        jiqun::server::open(support::config_for(&db), true)
            .await
            .expect("open app"),
    );
    // A fixed day whose year the built-in calendar covers, so the test reads the same next year.
    let target = time::macros::datetime!(2026-12-04 09:00 +8);
    app.clock.advance(target - app.clock.now());
    let lines = std::sync::Mutex::new(Vec::new());
    let done = jiqun::scale::generate(&app, N, &|l| lines.lock().unwrap().push(l.to_string()))
        .await
        .expect("scale data");
    let lines = lines.into_inner().unwrap();
    assert!(
        lines.iter().any(|l| l.starts_with("专家评分：完成，用时")),
        "each phase reports its time: {lines:?}"
    );
    (support::serve_on(db, app).await, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generator_builds_a_published_round_through_the_services() {
    let (t, done) = generated().await;
    assert_eq!(done.applications, N);
    assert_eq!(done.winners, N / 2);

    // Every application was submitted and recommended by its city bureau.
    let province = token(&t, "province").await;
    let (status, list) = call(&t, &province, "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 200, "{list}");
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), N, "{list}");
    for r in rows {
        let id = r["id"].as_i64().unwrap();
        let rec = jiqun::services::reviews::recommendation_of(&t.app, ApplicationId::new(id))
            .await
            .unwrap();
        assert!(rec.is_some(), "application {id} recommended: {r}");
    }

    // The round: every entrant, 20 experts on the panel, 5 submitted sheets each.
    let round = done.round_id;
    let (status, view) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/rounds/{round}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["entries"].as_array().unwrap().len(), N);
    assert_eq!(
        view["panel"].as_array().unwrap().len(),
        20,
        "{}",
        view["panel"]
    );
    // The entrants narrowed: one kind, a name, a page; every entrant of a round of this size
    // fits one page.
    let entries = view["entries"].as_array().unwrap();
    let specialty = entries
        .iter()
        .filter(|e| e["cluster_kind"] == "specialty")
        .count();
    assert!(specialty > 0 && specialty < N, "{view}");
    let (status, narrowed) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/rounds/{round}?kind=specialty&page=1"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{narrowed}");
    assert_eq!(narrowed["entries"].as_array().unwrap().len(), specialty);
    assert_eq!(narrowed["entry_page"]["matched"], specialty as u64);
    assert_eq!(narrowed["entry_page"]["pages"], 1);
    let one = entries[N - 1]["cluster_name"].as_str().unwrap().to_string();
    let (_, named) = call(
        &t,
        &province,
        "GET",
        &format!(
            "/api/v1/rounds/{round}?q={}&page=9",
            url::form_urlencoded::byte_serialize(one.as_bytes()).collect::<String>()
        ),
        None,
    )
    .await;
    let named_rows = named["entries"].as_array().unwrap();
    assert_eq!(named_rows.len(), 1, "{named}");
    assert_eq!(named_rows[0]["cluster_name"], one.as_str());
    assert_eq!(
        named["entry_page"]["page"], 1,
        "a page past the end shows the last"
    );
    let (_, unfilled) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/rounds/{round}?unfilled=true"),
        None,
    )
    .await;
    assert!(
        unfilled["entries"].as_array().unwrap().is_empty(),
        "every entrant has its five experts: {unfilled}"
    );
    // The page shows the same filter, and keeps what was asked in its form.
    let browser = support::page_login(&t, "province").await;
    let html = browser
        .get(t.url(&format!(
            "/rounds/{round}?kind=specialty&q=&unfilled=&page=1"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        html.matches("<tr data-entry=").count(),
        specialty,
        "the specialty entrants only"
    );
    assert!(
        html.contains(&format!("符合条件的参赛集群{specialty}个")),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="specialty" selected>"#),
        "{html}"
    );

    let (status, progress) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/rounds/{round}/progress"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(progress["assigned"], 5 * N as u64);
    assert_eq!(progress["submitted"], 5 * N as u64);

    // The public notice, open to anyone, lists the winners.
    let res = reqwest::get(t.url(&format!("/api/v1/notices/{round}")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let notice: serde_json::Value = res.json().await.unwrap();
    assert_eq!(notice["state"], "open", "{notice}");
    assert_eq!(
        notice["entries"].as_array().unwrap().len(),
        N / 2,
        "{notice}"
    );

    // A second run refuses a database that is not empty.
    let again = jiqun::scale::generate(&t.app, 2, &|_| {}).await;
    assert!(again.is_err());

    // `jiqun audit verify` over the same database passes.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jiqun"))
        .args(["audit", "verify"])
        .env("JIQUN_DATA_DIR", &t.db.dir)
        .env("JIQUN_DATABASE_URL", &t.db.url)
        .output()
        .expect("run jiqun");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("审计链完整"), "{text}");
}
