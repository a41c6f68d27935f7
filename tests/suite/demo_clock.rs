//! The demo clock: a demonstration installation can move its date forward to show a 公示 window
//! closing; a real installation cannot, and the date never moves back.

use std::sync::Arc;

use jiqun::clock::{day_for_people, local};
use jiqun::services::demo_clock;
use time::Duration;

use crate::fixtures::{audited, get_page, post_page};
use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_installation_has_no_demo_clock() {
    // A database the demo did not make: the clock refuses to start.
    let db = support::fresh_db().await;
    let app = jiqun::server::open(support::config_for(&db), true)
        .await
        .expect("open");
    let ahead = local(app.clock.now()).date() + Duration::days(10);
    let refused = demo_clock::start(&app, Some(ahead)).await.unwrap_err();
    assert!(
        refused.to_string().contains("只能用于演示数据库"),
        "{refused}"
    );
    assert!(!app.clock.is_demo());
    assert_eq!(app.clock.offset(), Duration::ZERO);

    // Without the demo clock started there is no page and no banner.
    let t = support::spawn().await;
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/demo/clock").await;
    assert_eq!(status, 404);
    assert!(!html.contains("demo-banner"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_date_moves_forward_only_is_kept_and_shows_on_every_page() {
    let t = support::spawn().await;
    let today = local(t.app.clock.now()).date();
    let started = demo_clock::start(&t.app, Some(today + Duration::days(14)))
        .await
        .expect("start the demo clock");
    assert_eq!(started, today + Duration::days(14));
    assert_eq!(local(t.app.clock.now()).date(), started);

    // Every page, public or signed in, says it is a demo and which day it is.
    let shown = format!("系统日期为{}", day_for_people(started));
    let (_, login) = get_page(&support::client(), &t, "/login").await;
    assert!(
        login.contains("id=\"demo-banner\"") && login.contains(&shown),
        "{login}"
    );
    let page = support::page_login(&t, "applicant").await;
    let (_, home) = get_page(&page, &t, "/").await;
    assert!(home.contains(&shown));

    // Forward by the page; audited.
    let (status, html) = get_page(&page, &t, "/demo/clock").await;
    assert_eq!(status, 200);
    let csrf = support::csrf_from(&html);
    let later = started + Duration::days(7);
    let res = post_page(
        &page,
        &t,
        "/demo/clock",
        &[("_csrf", csrf.as_str()), ("date", &later.to_string())],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(local(t.app.clock.now()).date(), later);
    let moved = audited(&t, "demo.clock").await;
    assert_eq!(moved.len(), 1);
    assert!(moved[0].summary.contains(&day_for_people(later)));

    // Never back, never a malformed day; what was typed stays in the field.
    let res = post_page(
        &page,
        &t,
        "/demo/clock",
        &[("_csrf", csrf.as_str()), ("date", &started.to_string())],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("只能向后调整"), "{}", res.body);
    assert!(res.body.contains(&format!("value=\"{started}\"")));
    let res = post_page(
        &page,
        &t,
        "/demo/clock",
        &[("_csrf", csrf.as_str()), ("date", "2026-02-30")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("请选择日期"));
    assert_eq!(local(t.app.clock.now()).date(), later);

    // An authenticator app keeps the real time: the province still signs in with its code.
    let province = support::client();
    let res = province
        .post(t.url("/login"))
        .form(&[
            ("username", "province"),
            ("password", support::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/login/mfa");
    let (_, html) = get_page(&province, &t, "/login/mfa").await;
    let real_now = time::OffsetDateTime::now_utc().unix_timestamp();
    let code = jiqun::auth::totp::code_at(&support::demo_secret("province"), real_now).unwrap();
    let res = post_page(
        &province,
        &t,
        "/login/mfa",
        &[
            ("_csrf", support::csrf_from(&html).as_str()),
            ("code", code.as_str()),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    let (status, _) = get_page(&province, &t, "/demo/clock").await;
    assert_eq!(status, 200, "signed in with the phone's code");

    // A restarted demo keeps its date.
    let again = Arc::new(
        jiqun::server::open(support::config_for(&t.db), true)
            .await
            .expect("reopen"),
    );
    assert_eq!(demo_clock::start(&again, None).await.unwrap(), later);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_competition_runs_under_a_policy_in_force() {
    let t = support::spawn().await;
    let show = jiqun::demo::seed_showcase(&t.app).await.expect("showcase");
    let province = support::page_login(&t, "province").await;

    // The 2021 Measures ended on 2026-04-06; the demo call is bound to the successor template,
    // so nothing warns of an expired policy or asks for 延续执行.
    let (status, call) = get_page(
        &province,
        &t,
        &format!("/competitions/{}", show.competition_id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!call.contains("id=\"policy-warning\""), "{call}");
    assert!(call.contains("继任办法模板"), "{call}");
    let (_, policy) = get_page(&province, &t, "/policy").await;
    assert!(!policy.contains("id=\"policy-warning\""), "{policy}");
    // Installed like any policy: audited, with its validity written for people.
    let installs = audited(&t, "policy.install").await;
    assert!(
        installs.iter().any(|e| e.summary.contains("继任办法模板")
            && e.summary.contains("2026年4月7日至2031年4月6日")),
        "{installs:?}"
    );
    // Seeding twice (a restart of `serve --demo`) installs it once.
    jiqun::demo::demo_policy(&t.app).await.expect("again");
    assert_eq!(
        audited(&t, "policy.install")
            .await
            .iter()
            .filter(|e| e.summary.contains("继任办法模板"))
            .count(),
        1
    );
}
