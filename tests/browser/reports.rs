//! A 培育对象's annual development report (第十三条) as its users meet it: the reminder in the
//! cluster's notifications leads to the report, which is filled in and submitted; the city bureau
//! signs its opinion from its to-do; the province accepts it from its own.
//!
//! Screenshots: artifacts/screenshots/{backend}-9N-{what}.png.

use jiqun_domain::round::Designation;
use time::macros::date;

use super::rounds::set_date;
use super::{Browser, support};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_annual_report_goes_from_reminder_to_acceptance() {
    let app = support::spawn().await;
    set_date(&app, date!(2026 - 01 - 01));
    jiqun::demo::seed_showcase(&app.app).await.unwrap();
    // Held on 31 December 2025: the 2025 annual report, due Monday 2 February 2026.
    let cid = support::designate(
        &app,
        "长沙工程机械产业集群",
        Designation::CultivationTarget,
        date!(2025 - 07 - 01),
        None,
    )
    .await;
    // Thirty days before the due date the reminder goes out.
    set_date(&app, date!(2026 - 01 - 03));
    assert_eq!(
        jiqun::services::reports::remind_reports(&app.app)
            .await
            .unwrap(),
        1
    );

    let b = Browser::open(&app).await;
    b.login("applicant").await;
    b.goto("/notifications").await;
    let reminder = b.text("#notification-table tbody tr").await;
    assert!(reminder.contains("报送提醒"), "{reminder}");
    b.screenshot("91-report-reminder").await;
    b.click("#notification-table tbody tr a").await;
    assert_eq!(b.path().await, "/reports");
    b.click(&format!("#start-{cid}-annual-2025")).await;
    assert!(b.text("#report-title").await.contains("2025年度"));
    assert_eq!(b.text("#report-due").await, "2026年2月2日");

    // Submitting with a figure in the wrong unit keeps the draft and says what to change.
    b.js(
        "document.querySelectorAll('#report-indicators input').forEach(i => i.value = '12');\
         document.querySelectorAll('#report-sections textarea').forEach(t => t.value = '按年度计划推进，成效明显。');",
    )
    .await;
    b.fill("#ind-period_revenue", "350万元").await;
    b.find("#submit-acknowledge").await.click().await.unwrap();
    b.click("#submit-report").await;
    assert_eq!(
        b.text("#report-indicators .field-error").await,
        "“本期集群营业收入”单位应为亿元，请换算后只填写数字"
    );
    assert_eq!(b.value("#ind-period_revenue").await, "350万元");
    assert_eq!(
        b.value("#sec-platforms").await,
        "按年度计划推进，成效明显。"
    );
    b.screenshot("92-report-problem").await;
    b.fill("#ind-period_revenue", "356.2").await;
    b.find("#submit-acknowledge").await.click().await.unwrap();
    b.click("#submit-report").await;
    assert_eq!(b.text("#report-status").await, "已提交，待市州工信局审阅");
    b.screenshot("93-report-submitted").await;
    b.logout().await;

    // The city bureau signs its opinion from its to-do.
    b.login("changsha").await;
    let link = b.todo_link("待签署意见并转报发展情况报告").await;
    b.goto(&link).await;
    b.fill("#opinion", "经审阅，报告内容属实，同意转报。").await;
    b.find("#forward-acknowledge").await.click().await.unwrap();
    b.click("#forward-report").await;
    assert_eq!(b.text("#report-status").await, "市州已转报，待省工信厅审核");
    b.logout().await;

    // The province accepts it from its to-do.
    b.login("province").await;
    let link = b.todo_link("待审核接收发展情况报告").await;
    b.goto(&link).await;
    assert!(
        b.text("#city-opinion")
            .await
            .contains("经审阅，报告内容属实，同意转报。")
    );
    b.find("#accept-acknowledge").await.click().await.unwrap();
    b.click("#accept-report").await;
    assert_eq!(b.text("#report-status").await, "省工信厅已接收");
    b.screenshot("94-report-accepted").await;
    b.close().await;
}
