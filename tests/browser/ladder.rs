//! 分级培育梯队 (第十六条) on the demo data: the 长沙 cluster holds a city title from 长沙's own
//! competition; the province filters the ladder to the city rung and finds it with its highest
//! title, and 岳阳's bureau does not see it.
//!
//! Screenshots: artifacts/screenshots/{backend}-L1-{what}.png.

use jiqun::store::entity::{application, city_designation, competition, round, round_entry};
use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, EntityTrait, Set};

use super::{Browser, support};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_finds_a_city_title_on_the_ladder() {
    let app = support::spawn().await;
    let show = jiqun::demo::seed_showcase(&app.app).await.unwrap();
    let db = &app.app.db;
    let now = app.app.clock.now();
    let changsha = "430100".parse().unwrap();
    // 长沙's own call, round and entry, written directly (their flow has HTTP tests).
    let provincial = competition::Entity::find_by_id(show.competition_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let mut call: competition::ActiveModel = provincial.into();
    call.id = NotSet;
    call.title = Set("2026年度长沙市先进制造业集群竞赛".into());
    call.organiser_city_code = Set(Some(changsha));
    let call = call.insert(db).await.unwrap();
    let r = round::ActiveModel {
        competition_id: Set(call.id),
        kind: Set(jiqun_domain::round::RoundKind::Preliminary),
        status: Set(jiqun_domain::round::RoundStatus::Confirmed),
        experts_per_application: Set(3),
        panel_note: Set(String::new()),
        quotas: Set(r#"{"leading":1}"#.into()),
        scoring_opens_at: Set(now),
        scoring_closes_at: Set(now),
        defence: Set(false),
        notice_text: Set(String::new()),
        notice_published_on: Set(None),
        notice_first_day: Set(None),
        notice_last_day: Set(None),
        confirmed_on: Set(None),
        created_by: Set(call.created_by),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let a = application::Entity::find_by_id(show.application_ids[0])
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let e = round_entry::ActiveModel {
        round_id: Set(r.id),
        application_id: Set(a.id),
        cluster_id: Set(a.cluster_id),
        cluster_kind: Set(a.kind.clone()),
        city_code: Set(a.city_code),
        county_code: Set(a.county_code),
        status: Set(jiqun_domain::application::Status::Confirmed),
        final_score: Set(Some(90.0)),
        rank: Set(Some(1)),
        proposed: Set(true),
        decision_note: Set(String::new()),
        version: Set(1),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    city_designation::ActiveModel {
        cluster_id: Set(a.cluster_id),
        competition_id: Set(call.id),
        round_id: Set(r.id),
        entry_id: Set(e.id),
        city_code: Set(changsha),
        title: Set("市级先进制造业集群".into()),
        year: Set(2026),
        effective_on: Set(time::macros::date!(2026 - 12 - 21)),
        revoked_on: Set(None),
        decided_by: Set(call.created_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();

    let b = Browser::open(&app).await;
    b.login("province").await;
    b.nav("ladder").await;
    assert_eq!(b.heading().await, "分级培育梯队");
    b.select("#level-filter", "city").await;
    b.click("#list-filters button[type=submit]").await;
    let rows = b.texts("#ladder-list tbody tr").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("长沙工程机械产业集群"), "{rows:?}");
    assert!(
        b.text("#ladder-list tbody tr .highest")
            .await
            .contains("市级：2026年市级先进制造业集群")
    );
    b.screenshot("L1-ladder-city-rung").await;
    b.logout().await;

    b.login("yueyang").await;
    b.nav("ladder").await;
    let all = b.text("main").await;
    assert!(!all.contains("长沙工程机械产业集群"), "{all}");
    b.close().await;
}
