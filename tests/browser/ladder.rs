//! 分级培育梯队 (第十六条) on the demo data: the 长沙 cluster holds a city title from 长沙's own
//! competition; the province filters the ladder to the city rung and finds it with its highest
//! title, and 岳阳's bureau does not see it.
//!
//! 长沙's bureau finds the title in its 市级称号 list, downloads the certificate and revokes it.
//!
//! Screenshots: artifacts/screenshots/{backend}-L1-{what}.png.

use jiqun::store::entity::{
    application, city_designation, competition, organisation, round, round_entry, user,
};
use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::support::TestApp;
use super::{Browser, support};

/// 长沙's own call (under `policy_source`), its confirmed round and the showcase's first
/// application as its entry, written directly (their flow has HTTP tests).
async fn city_round(
    app: &TestApp,
    policy_source: Option<&str>,
) -> (competition::Model, round::Model, round_entry::Model) {
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
    if let Some(source) = policy_source {
        call.policy_source = Set(source.to_string());
    }
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
    (call, r, e)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_finds_a_city_title_on_the_ladder() {
    let app = support::spawn().await;
    let (call, r, e) = city_round(&app, None).await;
    let db = &app.app.db;
    let now = app.app.clock.now();
    let changsha = "430100".parse().unwrap();
    city_designation::ActiveModel {
        cluster_id: Set(e.cluster_id),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_bureau_lists_downloads_and_revokes_its_city_title() {
    let app = support::spawn().await;
    let (_, template) = jiqun_rules::policy::CITY_TEMPLATE_SOURCE;
    let (call, r, e) = city_round(&app, Some(template)).await;
    let db = &app.app.db;
    // Conferred as a confirmation does: numbered, frozen, issued in 长沙's bureau's name.
    let u = user::Entity::find()
        .filter(user::Column::Username.eq("changsha"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let org = organisation::Entity::find_by_id(u.org_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let p = jiqun::app::Principal {
        role: u.role,
        user: u,
        org,
        client_addr: "127.0.0.1".into(),
    };
    let txn = jiqun::store::write_txn(db).await.unwrap();
    let d = jiqun::services::city_designations::designate(
        &app.app,
        &txn,
        &p,
        &call,
        &r,
        &e,
        "市级先进制造业集群",
        app.app.clock.now(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let number = d.certificate_number.clone();
    assert!(number.starts_with("长沙市集群认〔"), "{number}");

    let b = Browser::open(&app).await;
    b.login("changsha").await;
    b.nav("city-titles").await;
    assert_eq!(b.heading().await, "市级称号");
    let rows = b.texts("#city-title-list tbody tr").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains(&number) && rows[0].contains("有效"),
        "{rows:?}"
    );
    assert!(b.exists("#export-xlsx").await);
    b.screenshot("L1-city-titles").await;
    b.click(&format!("#city-title-list a[href='/city-titles/{}']", d.id))
        .await;
    assert_eq!(b.text("#certificate-number").await, number);
    assert_eq!(b.text("#issuer").await, "长沙市工业和信息化局");
    let href = format!("/city-titles/{}.pdf", d.id);
    assert!(b.exists(&format!("#download-pdf[href='{href}']")).await);
    let pdf = b.fetch_bytes(&href).await;
    let text: String = super::rounds::pdf_text(&pdf)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for wanted in [
        number.as_str(),
        "长沙市工业和信息化局",
        "经评审、公示，被认定为市级先进制造业集群",
    ] {
        assert!(text.contains(wanted), "the PDF says {wanted}: {text}");
    }

    // Revocation: the tick is asked for, then the title is void.
    b.fill("#revoke-reason", "申报数据弄虚作假，经核实属实")
        .await;
    b.fill("#revoke-document", "长工信〔2027〕5号").await;
    b.screenshot("L1-city-title-revoke").await;
    b.check("#revoke-acknowledge").await;
    b.click("#revoke-submit").await;
    assert!(b.text("#flash").await.contains("已撤销该市级称号"));
    assert!(b.text("#revoked").await.contains("长工信〔2027〕5号"));
    assert!(!b.exists("#revoke-form").await);
    assert!(!b.exists("#download-pdf").await);
    b.goto("/city-titles").await;
    assert!(b.text("#city-title-list").await.contains("撤销"));
    b.logout().await;
    b.close().await;
    let stored = city_designation::Entity::find_by_id(d.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.revoked_on.is_some());
}
