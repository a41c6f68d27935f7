//! The county bureau (第十六条) on the demo data: it signs in, finds its county's application at
//! the city's 初审 under 县级意见, gives its opinion, and the city reads it on its review page.
//!
//! Screenshots: artifacts/screenshots/{backend}-C1-{what}.png.

use jiqun::store::entity::{application, competition};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use super::{Browser, support};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_gives_its_opinion_and_the_city_reads_it() {
    let app = support::spawn().await;
    let show = jiqun::demo::seed_showcase(&app.app).await.unwrap();
    // The showcase's 长沙 application (lead county 长沙县) back at the city's review, open.
    let db = &app.app.db;
    let id = show.application_ids[0];
    let m = application::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let mut a: application::ActiveModel = m.into();
    a.status = Set(jiqun_domain::application::Status::Submitted);
    a.update(db).await.unwrap();
    let c = competition::Entity::find_by_id(show.competition_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let mut c: competition::ActiveModel = c.into();
    c.review_deadline = Set(app.app.clock.now() + time::Duration::days(10));
    c.update(db).await.unwrap();

    let b = Browser::open(&app).await;
    b.login("changshaxian").await;
    assert!(b.text("main").await.contains("待提出县级意见"));
    b.nav("reviews").await;
    assert_eq!(b.heading().await, "县级意见");
    let rows = b.texts("#review-table tbody tr").await;
    assert_eq!(rows.len(), 1, "its county's application only: {rows:?}");
    assert!(rows[0].contains("长沙工程机械产业集群"), "{rows:?}");
    assert!(rows[0].contains("长株潭"), "{rows:?}");
    assert!(!b.exists("#bulk-recommend").await);
    b.click("#review-table tbody tr a").await;
    assert!(
        !b.exists("#decision-form").await,
        "the county does not decide"
    );
    let opinion = "长沙县已将该集群列入县级重点产业链，同意推荐。";
    b.fill("#opinion", opinion).await;
    b.screenshot("C1-county-opinion-form").await;
    b.click("#opinion-submit").await;
    assert!(b.text("#county-opinions").await.contains(opinion));
    b.screenshot("C2-county-opinion-given").await;
    b.logout().await;

    b.login("changsha").await;
    b.goto(&format!("/reviews/{id}")).await;
    let shown = b.text("#county-opinions").await;
    assert!(
        shown.contains(opinion) && shown.contains("长沙县"),
        "{shown}"
    );
    b.find("#decision-form").await;
    b.screenshot("C3-city-reads-county-opinion").await;
    b.close().await;
}
