//! The signed-in pages kept between requests (`web::kept`): served again while nothing changed,
//! and equal to a fresh render after every kind of change — a form saved, a submission, a
//! city's return with its notification, the clock moving on, the session ended elsewhere.
//!
//! On PostgreSQL the stamp is the server's snapshot, which any transaction of any database on
//! that server moves: with the other tests running beside, a read is seldom kept, so there the
//! tests hold the pages equal to fresh ones and check that they were kept on SQLite only.

use jiqun::store::stamp::SETTLE;
use jiqun::web::kept::KEPT_HEADER;
use serde_json::{Value, json};
use time::Duration;

use crate::applications::{call_json, complete_form, open_call, started, submit_complete};
use crate::fixtures::user_id;
use crate::support::{self, TestApp};
use crate::token;

/// A page as the client gets it: (status, served from what was kept, body).
pub(crate) async fn fetch(
    t: &TestApp,
    client: &reqwest::Client,
    path: &str,
) -> (u16, bool, String) {
    let res = client.get(t.url(path)).send().await.expect("page");
    let status = res.status().as_u16();
    let kept = res.headers().contains_key(KEPT_HEADER);
    (status, kept, res.text().await.expect("body"))
}

/// 长沙's applicant's draft under a new call: (id, version).
pub(crate) async fn a_draft(t: &TestApp) -> (i64, i32) {
    let call = open_call(t).await;
    started(
        t,
        call,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙工程机械产业集群",
    )
    .await
}

/// The applicant saves a complete form with `revenue` through the API; the answer.
pub(crate) async fn save_revenue(t: &TestApp, id: i64, version: i32, revenue: &str) -> Value {
    let me = token(t, "applicant").await;
    let (status, body) = call_json(
        t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form(revenue), "version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Whether reads are expected to be kept here (see the module's note).
fn keeps() -> bool {
    support::backend() == "sqlite"
}

/// Waits until a commit just made can no longer hold a render back from being kept.
async fn settle() {
    tokio::time::sleep(SETTLE + std::time::Duration::from_millis(50)).await;
}

/// Reads `path` twice after the last change settled: the second answer is the kept one and is
/// the same page; then a render with nothing kept must be that page too. Returns it.
async fn kept_equals_fresh(
    t: &TestApp,
    client: &reqwest::Client,
    path: &str,
    after: &str,
) -> String {
    settle().await;
    let (status, _, first) = fetch(t, client, path).await;
    assert_eq!(status, 200, "{path} after {after}");
    let (_, kept, again) = fetch(t, client, path).await;
    assert!(kept || !keeps(), "{path} is served as kept after {after}");
    assert_eq!(again, first, "{path}: the kept page after {after}");
    t.app.reads.clear();
    let (_, kept, fresh) = fetch(t, client, path).await;
    assert!(!kept);
    assert_eq!(
        fresh, first,
        "{path}: the kept page after {after} is the fresh one"
    );
    fresh
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_pages_equal_a_fresh_render_after_every_kind_of_change() {
    let t = support::spawn().await;
    let (id, version) = a_draft(&t).await;
    let client = support::page_login(&t, "applicant").await;
    let app_page = format!("/applications/{id}");
    let home = kept_equals_fresh(&t, &client, "/", "sign-in").await;
    let page = kept_equals_fresh(&t, &client, &app_page, "sign-in").await;

    // A form saved through the API: the application page shows the new figure at once.
    let body = save_revenue(&t, id, version, "987.5").await;
    let (_, kept, saved) = fetch(&t, &client, &app_page).await;
    assert!(!kept, "a write makes the kept page stale");
    assert!(saved.contains("987.5") && !page.contains("987.5"));
    assert_eq!(
        kept_equals_fresh(&t, &client, &app_page, "a save").await,
        saved
    );

    // Submitted: the workbench no longer asks for the draft.
    let version = body["application"]["version"].as_i64().unwrap() as i32;
    submit_complete(&t, "applicant", id, version).await;
    let submitted = kept_equals_fresh(&t, &client, "/", "the submission").await;
    assert_ne!(submitted, home, "the workbench follows the submission");

    // The city returns it: a to-do and an unread notification for the applicant.
    let city = token(&t, "changsha").await;
    let (status, body) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{id}/return"),
        json!({"comment": "请补充产业链图谱"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let returned = kept_equals_fresh(&t, &client, "/", "a return").await;
    assert_ne!(returned, submitted);
    assert!(returned.contains("待补正申报材料"), "{returned}");
    let shown = kept_equals_fresh(&t, &client, &app_page, "a return").await;
    assert!(shown.contains("请补充产业链图谱"));

    // The clock moves on without any write: a page of another minute is rendered afresh.
    t.app.clock.advance(Duration::minutes(10));
    let (_, kept, later) = fetch(&t, &client, "/").await;
    assert!(!kept, "a page of another minute is rendered afresh");
    assert_eq!(
        kept_equals_fresh(&t, &client, "/", "the clock moved").await,
        later
    );

    // An hour later the session has run past its idle timeout: what was kept is no way round
    // it.
    t.app.clock.advance(Duration::hours(1));
    let res = client.get(t.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303, "the idle session is not kept");
    assert_eq!(res.headers()["location"], "/login?expired=1");

    // A session ended elsewhere (a password reset ends every session): signed out at once.
    let client = support::page_login(&t, "applicant").await;
    kept_equals_fresh(&t, &client, "/", "signing in again").await;
    jiqun::auth::session::delete_for_user(&t.app.db, user_id(&t, "applicant").await)
        .await
        .unwrap();
    let res = client.get(t.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303, "the ended session is not kept");
    assert_eq!(res.headers()["location"], "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_page_is_one_sessions_own() {
    let t = support::spawn().await;
    let (id, _) = a_draft(&t).await;
    let path = format!("/applications/{id}");
    let applicant = support::page_login(&t, "applicant").await;
    let other = support::page_login(&t, "applicant").await;
    settle().await;
    let (_, _, mine) = fetch(&t, &applicant, &path).await;
    let (_, kept, _) = fetch(&t, &applicant, &path).await;
    assert!(kept || !keeps());
    // The same account in another session gets its own page (its own form token).
    let (_, kept, theirs) = fetch(&t, &other, &path).await;
    assert!(!kept, "another session's page is not served");
    assert_ne!(
        support::csrf_from(&mine),
        support::csrf_from(&theirs),
        "each session's page carries its own form token"
    );
    // Another city may not read the application: the kept page is no way round that.
    let yueyang = support::page_login(&t, "yueyang").await;
    let (status, kept, _) = fetch(&t, &yueyang, &path).await;
    assert_eq!(status, 404);
    assert!(!kept);
}
