//! 复核 as a proceeding (issue 11, items 4 and 8), as the people involved walk it: the province
//! issues the year's recheck call; the certified cluster fills in its materials, uploads evidence
//! and submits; its city bureau gives its opinion; the province records the panel (an expert tied
//! to the cluster's city is refused) with a failing score and publishes the result notice; after
//! the notice the province confirms, which opens a revocation case; the 告知书, the cluster's
//! statement and the decision follow; anyone checking the certificate is told 已撤销.
//!
//! Screenshots: artifacts/screenshots/{backend}-8N-{what}.png.

use jiqun::store::entity::{cluster, designation, expert, user};
use jiqun::store::id::{EntryId, RoundId, UserId};
use jiqun_domain::round::Designation;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{Browser, support};

const CLUSTER: &str = "长沙工程机械产业集群";
const CERTIFICATE: &str = "湘集群认〔2023〕第001号";

async fn expert_of(app: &support::TestApp, username: &str) -> i64 {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    expert::Entity::find()
        .filter(expert::Column::UserId.eq(u.id))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_recheck_runs_through_the_revocation_case_to_the_public_check() {
    let app = support::spawn().await;
    // Friday 4 December 2026, 09:00 in Beijing.
    let target = time::macros::datetime!(2026-12-04 09:00 +8);
    let now = app.app.clock.now();
    app.app.clock.advance(target - now);
    // A cluster certified on 4 December 2023, so due for 复核 on 4 December 2026. The rounds that
    // certify a cluster are walked in rounds.rs; here its title is written directly and its
    // standing derived by the one writer.
    jiqun::demo::seed_showcase(&app.app).await.unwrap();
    let cl = cluster::Entity::find()
        .filter(cluster::Column::Name.eq(CLUSTER))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    designation::ActiveModel {
        cluster_id: Set(cl.id),
        round_id: Set(RoundId::new(0)),
        entry_id: Set(EntryId::new(0)),
        designation: Set(Designation::Certified),
        effective_on: Set(time::macros::date!(2023 - 12 - 04)),
        year: Set(2023),
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
    let (changsha_expert, hengyang_expert) = (
        expert_of(&app, "expert").await,
        expert_of(&app, "expert3").await,
    );

    // The province issues the 2026 call; the due cluster is listed.
    let b = Browser::open(&app).await;
    b.login("province").await;
    b.nav("rechecks").await;
    b.fill("#call-year", "2026").await;
    b.fill(
        "#call-requirements",
        "对照认定条件，提交近三年发展情况、主要指标和自评报告。",
    )
    .await;
    b.client
        .execute(
            "document.querySelector('#call-deadline').value = '2026-12-18'; return null;",
            vec![],
        )
        .await
        .unwrap();
    b.click("#call-submit").await;
    assert!(b.text("#flash").await.contains("复核通知已发布"));
    assert!(b.text("#recheck-list").await.contains(CLUSTER));
    b.screenshot("81-call").await;
    b.logout().await;

    // The cluster fills in its materials, keeps a draft, uploads evidence and submits.
    b.login("applicant").await;
    b.nav("rechecks").await;
    b.click("#recheck-list a").await;
    let recheck_path = b.path().await;
    assert_eq!(b.text("ol.steps li.current").await, "提交复核材料");
    for input in b
        .client
        .find_all(fantoccini::Locator::Css("#materials-form input[type=text]"))
        .await
        .unwrap()
    {
        input.send_keys("50").await.unwrap();
    }
    // The industry code is picked from GB/T 4754, not a number.
    b.fill("#indicator-leading_industry_code", "C35").await;
    b.fill(
        "#self-assessment",
        "三年来集群营业收入稳步增长，公共服务平台运行良好。",
    )
    .await;
    b.click("#materials-save").await;
    assert!(b.text("#flash").await.contains("已保存"));
    let dir = std::env::temp_dir().join(format!("jiqun-recheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("复核证明材料.pdf");
    std::fs::write(&file, b"%PDF-1.4\n%recheck evidence\n").unwrap();
    b.find("#upload-evidence")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    b.click("#upload-evidence-submit").await;
    assert!(b.text("#evidence").await.contains("复核证明材料.pdf"));
    assert_eq!(
        b.value("#self-assessment").await,
        "三年来集群营业收入稳步增长，公共服务平台运行良好。"
    );
    b.click("#materials-submit").await;
    assert_eq!(b.text("#recheck-status").await, "已提交，待市州意见");
    b.screenshot("82-submitted").await;
    b.logout().await;
    let _ = std::fs::remove_dir_all(&dir);

    // Its city bureau gives a written opinion.
    b.login("changsha").await;
    b.goto(&recheck_path).await;
    b.find("#verdict-disagree").await.click().await.unwrap();
    b.fill(
        "#opinion-text",
        "该集群近三年主要指标下滑，不同意通过复核。",
    )
    .await;
    b.click("#opinion-submit").await;
    assert_eq!(
        b.text("#recheck-status").await,
        "市州已出具意见，待省级评审"
    );
    b.logout().await;

    // The province records the panel: an expert working in 长沙 must stand aside.
    b.login("province").await;
    b.goto(&recheck_path).await;
    b.check(&format!("#expert-{changsha_expert}")).await;
    b.fill("#review-score", "45").await;
    b.fill(
        "#review-reasons",
        "主要指标未达认定条件，公共服务平台未持续运行。",
    )
    .await;
    b.click("#review-submit").await;
    assert!(b.text("#step-error").await.contains("回避"));
    assert_eq!(b.value("#review-score").await, "45");
    b.find(&format!("#expert-{changsha_expert}"))
        .await
        .click()
        .await
        .unwrap();
    b.check(&format!("#expert-{hengyang_expert}")).await;
    b.click("#review-submit").await;
    assert_eq!(b.text("#panel-verdict").await, "不通过");
    b.screenshot("83-panel").await;

    // The result list goes through its public notice.
    b.nav("rechecks").await;
    b.click("#call-list button[id^='notice-submit-']").await;
    assert!(b.text("#flash").await.contains("公示"));
    let notice = b
        .find("#call-list a[id^='notice-link-']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    b.logout().await;
    b.goto(&notice).await;
    assert!(b.text("#notice-list").await.contains("不通过"));
    b.screenshot("84-notice").await;

    // A member of the public objects to the result by name; the receipt has its number.
    let option = b
        .find("#recheck_id option:nth-child(2)")
        .await
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    b.select("#recheck_id", &option).await;
    b.fill("#contact", "13800138000").await;
    b.fill("#reason", "该集群2026年新建了公共服务平台，复核结论有误。")
        .await;
    b.click("#objection-submit").await;
    assert!(b.text("[data-error-for='name']").await.contains("真实姓名"));
    assert_eq!(
        b.value("#contact").await,
        "13800138000",
        "the input is kept"
    );
    b.fill("#name", "王建国").await;
    b.click("#objection-submit").await;
    assert!(b.text("#receipt-number").await.starts_with("复核-2026-"));
    b.screenshot("84-recheck-objection-receipt").await;

    // After the notice the province confirms: a revocation case is opened on 未通过复核.
    let after = time::macros::datetime!(2026-12-11 09:00 +8);
    let now = app.app.clock.now();
    app.app.clock.advance(after - now);
    b.login("province").await;
    b.goto(&recheck_path).await;
    // The objection is decided first: the result is confirmed only once every one is.
    assert!(
        b.text("#open-objections")
            .await
            .contains("尚有1件异议未办结")
    );
    b.fill(
        "#objections textarea",
        "经核实，该平台尚未通过认定，不影响复核结论，异议不成立。",
    )
    .await;
    b.click("#objections button[id^='dismiss-']").await;
    assert!(b.text("#flash").await.contains("异议办理结果已记录"));
    b.click("#conclude-submit").await;
    assert_eq!(b.text("#recheck-status").await, "未通过复核，已立案撤销");
    b.click("#case-link").await;
    assert_eq!(b.text("#case-status").await, "已立案，待告知");
    assert!(b.text("main").await.contains("未通过复核"));
    b.check("#notify-acknowledge").await;
    b.click("#notify-submit").await;
    assert_eq!(b.text("ol.steps li.current").await, "陈述申辩");
    let case_path = b.path().await;
    b.screenshot("85-case").await;
    b.logout().await;

    // The cluster states its case.
    b.login("applicant").await;
    b.nav("revocations").await;
    b.click(&format!("#case-list a[href='{case_path}']")).await;
    b.fill(
        "#statement-input",
        "指标下滑系市场周期所致，平台已恢复运行。",
    )
    .await;
    b.check("#respond-acknowledge").await;
    b.click("#respond-submit").await;
    assert_eq!(b.text("#case-status").await, "已陈述申辩，待决定");
    b.logout().await;

    // The province decides to revoke.
    b.login("province").await;
    b.goto(&case_path).await;
    b.find("#outcome-revoke").await.click().await.unwrap();
    b.fill("#reasons", "复核未通过，陈述申辩理由不成立").await;
    b.check("#decide-acknowledge").await;
    b.click("#decide-submit").await;
    assert_eq!(b.text("#case-status").await, "已决定撤销");
    b.logout().await;

    // Anyone checking the certificate is told it was revoked.
    b.goto("/verify/C2023-001").await;
    assert_eq!(b.text("#verify-status").await, "已撤销");
    assert!(b.text("main").await.contains("2026年12月11日"));
    b.screenshot("86-verify").await;
    b.close().await;
}
