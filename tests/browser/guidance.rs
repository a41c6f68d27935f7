//! Guided work as the city bureau and an expert meet it (issue 14, items 1 and 4): the to-do
//! names the action and leads to its page; the application and the report show where they
//! stand; the city decides on one page holding the application, its completeness check and one
//! decision box, and the browser will not send a recommendation without the tick; the expert
//! scores beside the material, with a score panel that stays in view and a running total.
//!
//! Screenshots: artifacts/screenshots/{backend}-8N-{what}.png.

use jiqun::store::entity::{application, competition, recommendation, report};
use jiqun_rules::policy::builtin_policies;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::rounds::set_date;
use super::{Browser, support};

impl Browser<'_> {
    /// The workbench's to-dos: (label, link).
    pub(crate) async fn todos(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for a in self
            .client
            .find_all(fantoccini::Locator::Css("#todos a"))
            .await
            .expect("list the to-dos")
        {
            let text = a.text().await.expect("to-do label");
            let href = a
                .attr("href")
                .await
                .expect("to-do link")
                .unwrap_or_default();
            out.push((text, href));
        }
        out
    }

    /// The link of the to-do whose label starts with `label`.
    pub(crate) async fn todo_link(&self, label: &str) -> String {
        let todos = self.todos().await;
        todos
            .iter()
            .find(|(text, _)| text.starts_with(label))
            .map(|(_, href)| href.clone())
            .unwrap_or_else(|| panic!("no to-do “{label}” in {todos:?}"))
    }

    pub(crate) async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run `{script}`: {e}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_decides_beside_the_material_and_confirms_the_recommendation() {
    let app = support::spawn().await;
    set_date(&app, time::macros::date!(2026 - 03 - 09));
    let show = jiqun::demo::seed_showcase(&app.app).await.unwrap();
    jiqun::demo::seed_reports(&app.app).await.unwrap();
    // The showcase's first application is back with the city, within its review period.
    let now = app.app.clock.now();
    let c = competition::Entity::find_by_id(show.competition_id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut c: competition::ActiveModel = c.into();
    c.review_deadline = Set(now + time::Duration::days(10));
    c.update(&app.app.db).await.unwrap();
    let id = show.application_ids[0];
    let a = application::Entity::find_by_id(id)
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut a: application::ActiveModel = a.into();
    a.status = Set(jiqun_domain::application::Status::Submitted);
    a.update(&app.app.db).await.unwrap();
    // The seed recommended it already: that recommendation is taken back with it.
    recommendation::Entity::delete_many()
        .filter(recommendation::Column::ApplicationId.eq(id))
        .exec(&app.app.db)
        .await
        .unwrap();
    let waiting_report = report::Entity::find()
        .filter(report::Column::Status.eq(jiqun_domain::report::Status::Submitted))
        .one(&app.app.db)
        .await
        .unwrap()
        .expect("the demo's submitted report")
        .id;

    let b = Browser::open(&app).await;
    b.login("changsha").await;
    // Each to-do names the action and leads to the one thing waiting.
    assert_eq!(
        b.todo_link("待出具初审意见").await,
        format!("/reviews/{id}")
    );
    assert_eq!(
        b.todo_link("待签署意见并转报发展情况报告").await,
        format!("/reports/{waiting_report}")
    );
    b.screenshot("80-city-workbench").await;

    // The 初审 page: the material, its completeness check, one decision box.
    b.click(&format!("#todos a[href='/reviews/{id}']")).await;
    assert_eq!(b.path().await, format!("/reviews/{id}"));
    assert_eq!(b.text("ol.steps li.current").await, "市州初审");
    assert_eq!(b.text("#next-action").await, "出具初审意见");
    assert!(b.exists("#review-assessment").await);
    assert!(
        b.text("#review-material").await.contains("集群营业收入"),
        "the application's content is on the page"
    );
    assert!(b.exists("#review-files").await);
    assert_eq!(b.texts("form#decision-form").await.len(), 1);
    assert_eq!(b.texts("#decision").await.len(), 1);
    b.screenshot("81-city-review").await;
    // The next action leads down to the decision box (an anchor on the same page).
    b.find("#next-action").await.click().await.unwrap();
    b.screenshot("82-city-decision-box").await;

    // Without the tick the browser keeps the recommendation back, and says which box is missing.
    b.find("#recommend-submit").await.click().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(b.path().await, format!("/reviews/{id}"));
    assert_eq!(
        b.js("return document.querySelector('#decide-acknowledge').validity.valueMissing;")
            .await,
        serde_json::json!(true)
    );
    assert_eq!(b.text("#review-status").await, "已提交，待市州初审");
    let label = b.text("label.confirm").await;
    assert!(
        label.contains("不能撤回"),
        "the tick states the consequence: {label}"
    );
    b.find("#decide-acknowledge").await.click().await.unwrap();
    b.click("#recommend-submit").await;
    assert_eq!(
        b.text("#review-status").await,
        "已推荐至省工信厅",
        "{}",
        b.text("main").await
    );

    // The application page shows where it now stands.
    b.goto(&format!("/applications/{id}")).await;
    assert_eq!(b.text("ol.steps li.current").await, "省级评审");
    assert_eq!(
        b.texts("ol.steps li.done").await,
        vec!["填报申报材料".to_string(), "市州初审".to_string()]
    );

    // The report waiting for the city: its step and the next action on top.
    b.goto("/").await;
    b.click(&format!("#todos a[href='/reports/{waiting_report}']"))
        .await;
    assert_eq!(b.text("ol.steps li.current").await, "市州审阅转报");
    assert_eq!(b.text("#next-action").await, "签署意见并转报");
    assert!(b.exists("#forward-acknowledge").await);
    b.screenshot("83-report-steps").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expert_scores_beside_the_material_with_a_running_total() {
    let app = support::spawn().await;
    set_date(&app, time::macros::date!(2026 - 03 - 09));
    let show = jiqun::demo::seed_showcase(&app.app).await.unwrap();
    let policy = builtin_policies()
        .unwrap()
        .into_iter()
        .find(|p| p.id() == "hunan-2021")
        .unwrap();
    let b = Browser::open(&app).await;
    b.login("province").await;
    let round_id = b
        .open_round(
            show.competition_id,
            "preliminary",
            &[("leading", 1), ("specialty", 1)],
        )
        .await;
    // Opening scoring asks for the tick (the helper ticks it, then opens).
    assert!(b.exists("#open-scoring-acknowledge").await);
    b.panel_assign_and_open(round_id, "84-round-before-scoring")
        .await;
    b.logout().await;

    b.login("expert2").await;
    let link = b.todo_link("待评分并提交评分表").await;
    assert!(link.starts_with("/scoring"), "{link}");
    b.goto(&link).await;
    if b.path().await == "/scoring" {
        b.click("#assignment-table tbody tr a").await;
    }
    assert!(b.path().await.starts_with("/scoring/"));
    // The material on the left, the score panel beside it.
    let layout = b
        .js("const m = document.querySelector('#sheet-material').getBoundingClientRect();
             const p = document.querySelector('#score-panel').getBoundingClientRect();
             return [m.left, m.right, p.left, getComputedStyle(document.querySelector('#score-panel')).position];")
        .await;
    assert_eq!(layout[3], "sticky", "{layout}");
    assert!(
        layout[2].as_f64().unwrap() >= layout[1].as_f64().unwrap(),
        "the panel is beside the material: {layout}"
    );
    // The running total follows the typing.
    let mut total = 0.0;
    for c in &policy.criteria {
        let value = f64::from(c.max_score) * 0.8;
        total += value;
        b.fill(&format!("#score-{}", c.key), &format!("{value:.1}"))
            .await;
    }
    let shown: f64 = b.text("#running-total").await.parse().unwrap();
    assert!((shown - total).abs() < 1e-6, "{shown} vs {total}");
    // Halfway down the material, the panel is still at the top of the window.
    let seen = b
        .js(
            "const m = document.querySelector('#sheet-material').getBoundingClientRect();
             const h = document.querySelector('#score-panel').getBoundingClientRect().height;
             window.scrollTo(0, window.scrollY + m.top + (m.height - h) / 2);
             const p = document.querySelector('#score-panel').getBoundingClientRect();
             return [p.top, m.height, h, window.scrollY];",
        )
        .await;
    let top = seen[0].as_f64().unwrap();
    assert!(
        seen[3].as_f64().unwrap() > 200.0 && (0.0..20.0).contains(&top),
        "the panel stays at the top of the window: {seen}"
    );
    b.screenshot("85-expert-sheet-scrolled").await;
    b.js("window.scrollTo(0, 0); return null;").await;
    b.screenshot("86-expert-sheet").await;
    // 申请回避 is folded away, apart from 提交评分.
    assert_eq!(
        b.js("return document.querySelector('details#recuse').open;")
            .await,
        serde_json::json!(false)
    );
    b.close().await;
}
