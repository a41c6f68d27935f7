//! Revocation as a proceeding (issue 11, item 5), as the people involved walk it: the province
//! opens a case from a certificate, attaches nothing more and sends the 告知书; the cluster's
//! promotion organisation reads it and states its case; the province decides 撤销 and prints the
//! numbered 决定书; anyone checking the certificate is told 已撤销 with the date.
//!
//! Screenshots: artifacts/screenshots/{backend}-9N-{what}.png.

use jiqun::store::entity::{cluster, designation};
use jiqun::store::id::{EntryId, RoundId, UserId};
use jiqun_domain::round::{Designation, date_zh};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{Browser, support};

const CLUSTER: &str = "长沙工程机械产业集群";
const CERTIFICATE: &str = "湘集群认〔2026〕第001号";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_runs_from_the_certificate_to_the_decision_and_the_public_check() {
    let app = support::spawn().await;
    // Friday 4 December 2026, 09:00 in Beijing.
    let target = time::macros::datetime!(2026-12-04 09:00 +8);
    let now = app.app.clock.now();
    app.app.clock.advance(target - now);
    let today = jiqun::clock::local(app.app.clock.now()).date();
    // A certified cluster: the rounds that certify it are walked in rounds.rs; here its title
    // is written directly and its standing derived by the one writer.
    jiqun::demo::seed_showcase(&app.app).await.unwrap();
    let cl = cluster::Entity::find()
        .filter(cluster::Column::Name.eq(CLUSTER))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let d = designation::ActiveModel {
        cluster_id: Set(cl.id),
        round_id: Set(RoundId::new(0)),
        entry_id: Set(EntryId::new(0)),
        designation: Set(Designation::Certified),
        effective_on: Set(today),
        year: Set(2026),
        seq: Set(1),
        certificate_number: Set(CERTIFICATE.into()),
        superseded_on: Set(None),
        revoked_on: Set(None),
        revoke_reason: Set(String::new()),
        decided_by: Set(UserId::new(1)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&app.app.db)
    .await
    .unwrap();
    jiqun::services::designations::refresh_standing(&app.app.db, cl.id, now)
        .await
        .unwrap();

    let b = Browser::open(&app).await;
    b.login("province").await;
    b.goto(&format!("/certificates/{}", d.id)).await;
    b.click("#open-revocation").await;
    assert_eq!(b.heading().await, "立案撤销称号");
    assert_eq!(b.value("#cluster_id").await, cl.id.to_string());
    b.select("#ground", "fraud").await;
    b.fill(
        "#facts",
        "经核查，该集群申报的产业规模数据与统计部门数据严重不符。",
    )
    .await;
    b.click("#open-submit").await;
    assert_eq!(b.text("#case-status").await, "已立案，待告知");
    // The case shows where it stands and its next step on top.
    assert_eq!(b.text("ol.steps li.current").await, "发出告知书");
    assert_eq!(b.text("#next-action").await, "发出告知书");
    b.check("#notify-acknowledge").await;
    b.click("#notify-submit").await;
    assert!(b.text("#case-deadline").await.contains("2026年12月17日"));
    assert_eq!(b.text("ol.steps li.current").await, "陈述申辩");
    assert!(b.text("#notice-text").await.contains(CERTIFICATE));
    let case_path = b.path().await;
    b.screenshot("91-notified").await;
    b.logout().await;

    // The cluster reads the 告知书 from its workbench and answers.
    b.login("applicant").await;
    b.nav("revocations").await;
    b.click(&format!("#case-list a[href='{case_path}']")).await;
    b.fill(
        "#statement-input",
        "统计口径不同，并非弄虚作假，相关说明见附件。",
    )
    .await;
    b.check("#respond-acknowledge").await;
    b.click("#respond-submit").await;
    assert_eq!(b.text("#case-status").await, "已陈述申辩，待决定");
    b.logout().await;

    // The province decides; the 决定书 is numbered and printable.
    b.login("province").await;
    b.goto(&case_path).await;
    b.find("#outcome-revoke").await.click().await.unwrap();
    b.fill("#reasons", "申报数据与统计数据不符，且无合理解释")
        .await;
    b.check("#decide-acknowledge").await;
    b.click("#decide-submit").await;
    assert_eq!(b.text("#case-status").await, "已决定撤销");
    b.click("#decision-link").await;
    assert_eq!(b.text("#decision-number").await, "湘工信集群撤〔2026〕1号");
    assert!(b.text("#decision-title").await.contains(CLUSTER));
    b.screenshot("92-decision").await;
    b.logout().await;

    // Anyone checking the certificate is told it was revoked, and when.
    b.goto("/verify/C2026-001").await;
    assert_eq!(b.text("#verify-status").await, "已撤销");
    assert!(b.text("main").await.contains(&date_zh(today)));
    b.goto("/revocation-decisions").await;
    assert!(
        b.text("#decision-list")
            .await
            .contains("湘工信集群撤〔2026〕1号")
    );
    b.screenshot("93-verify").await;
    b.close().await;
}
