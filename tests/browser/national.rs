//! The national 中小企业特色产业集群 programme on the pages: the county's department starts its
//! application from 我的申报, fills it in and submits it; the province opens its 初审 queue,
//! records the 实地抽查, recommends to the ministry and records the ministry's result.
//!
//! Screenshots: artifacts/screenshots/{backend}-N{n}-{what}.png.

use jiqun::store::entity::{cluster, competition};
use jiqun::store::id::UserId;
use jiqun_rules::policy::{PROGRAMME_POLICY_SOURCES, Policy, ValueType};
use sea_orm::{ActiveModelTrait, Set};

use super::{Browser, org_id, support};

const CLUSTER: &str = "长沙县智能装备特色产业集群";

/// Sets a control's value as typed (a date input included).
async fn set_value(b: &Browser<'_>, css: &str, value: &str) {
    b.client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1]; return null;",
            vec![css.into(), value.into()],
        )
        .await
        .unwrap_or_else(|e| panic!("set {css}: {e}"));
}

/// Ticks a checkbox (no page load).
async fn tick(b: &Browser<'_>, css: &str) {
    let boxed = b.find(css).await;
    if !boxed.is_selected().await.expect("read a checkbox") {
        boxed
            .click()
            .await
            .unwrap_or_else(|e| panic!("tick `{css}`: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_applies_and_the_province_recommends_to_the_ministry() {
    let app = support::spawn().await;
    let (origin, text) = PROGRAMME_POLICY_SOURCES[0];
    let policy = Policy::parse(text, origin).expect("the national policy");
    let now = app.app.clock.now();
    let today = jiqun::clock::local(now).date();
    let db = &app.app.db;
    // The year's call, as the province publishes it (its page has its own tests).
    competition::ActiveModel {
        year: Set(today.year()),
        title: Set(format!(
            "关于组织推荐{}年度中小企业特色产业集群的通知",
            today.year()
        )),
        policy_id: Set(policy.id().to_string()),
        policy_source: Set(text.into()),
        submission_deadline: Set(now + time::Duration::days(10)),
        review_deadline: Set(now + time::Duration::days(20)),
        notice_text: Set("各市州、县市区中小企业主管部门：……".into()),
        status: Set(jiqun::store::entity::kinds::CompetitionStatus::Open),
        created_by: Set(UserId::new(4)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("the call");
    // A cluster 长沙县 leads, registered by its promotion organisation.
    cluster::ActiveModel {
        org_id: Set(org_id(&app, "长沙工程机械产业集群促进会").await),
        name: Set(CLUSTER.into()),
        kind: Set("leading".into()),
        industry_code: Set("C35".into()),
        lead_county_code: Set("430121".parse().unwrap()),
        city_code: Set("430100".parse().unwrap()),
        core_park: Set("长沙经济技术开发区".into()),
        lifecycle: Set(jiqun::store::entity::kinds::Lifecycle::Applicant),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("the cluster");

    let b = Browser::open(&app).await;
    // The county's department starts from 我的申报.
    b.login("changshaxian").await;
    b.nav("applications").await;
    assert!(
        b.text("#open-call")
            .await
            .contains("中小企业特色产业集群的通知")
    );
    b.screenshot("N1-county-open-call").await;
    b.click("#start-application").await;
    assert!(b.path().await.starts_with("/applications/"));
    let id: i64 = b
        .path()
        .await
        .trim_start_matches("/applications/")
        .parse()
        .expect("the application's id");
    assert_eq!(b.text("#application-status").await, "草稿");

    // The 申报表 the policy requires, then every indicator, narrative and attestation.
    let file = std::env::temp_dir().join(format!("jiqun-national-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&file, super::intake::minimal_pdf()).expect("write the file");
    b.find("#upload-report")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("choose the file");
    b.click("#upload-report-submit").await;
    let _ = std::fs::remove_file(&file);
    assert!(!b.exists("#upload-error").await, "the PDF is accepted");
    for criterion in &policy.criteria {
        for ind in &criterion.indicators {
            let value = match ind.value_type {
                // Picked already from the cluster's registered industry.
                ValueType::IndustryCode => continue,
                ValueType::Text => "智能装备",
                ValueType::Percent => "45.5",
                _ => "120",
            };
            b.fill(&format!("#ind-{}", ind.key), value).await;
        }
        b.fill(
            &format!("#nar-{}", criterion.key),
            &format!(
                "{}：集群以智能装备整机为主导，配套企业集聚。",
                criterion.name
            ),
        )
        .await;
    }
    for item in &policy.eligibility.negative_list {
        tick(&b, &format!("#att-{}", item.key)).await;
    }
    b.click("#save-draft").await;
    assert_eq!(b.text("#saved").await, "草稿已保存。");
    b.screenshot("N2-county-form-filled").await;
    tick(&b, "#submit-acknowledge").await;
    b.click("#submit-application").await;
    let status = b.text("#application-status").await;
    assert!(status.contains("已提交"), "{status}");
    assert!(!b.exists("#application-form").await);
    assert_eq!(b.text("#saved").await, "申报已提交，等待省工信厅初审。");
    b.screenshot("N3-county-submitted").await;
    b.logout().await;

    // The province: its 初审 queue holds the application.
    b.login("province").await;
    assert!(b.text("main").await.contains("待出具省级初审意见"));
    b.nav("reviews").await;
    let rows = b.texts("#review-table tbody tr").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains(CLUSTER), "{rows:?}");
    b.screenshot("N4-province-queue").await;
    b.click("#review-table tbody tr a").await;
    assert_eq!(b.path().await, format!("/reviews/{id}"));
    assert_eq!(b.text("#recommend-submit").await, "推荐至工业和信息化部");
    // The 实地抽查, recorded on the application page.
    b.click("#record-field-check").await;
    set_value(&b, "#field-check-date", &today.to_string()).await;
    b.fill(
        "#field-check-findings",
        "实地查看核心企业生产线，与申报一致。",
    )
    .await;
    tick(&b, "#field-check-passed").await;
    b.click("#field-check-submit").await;
    assert!(b.text("#field-checks").await.contains("抽查情况与申报一致"));
    b.screenshot("N5-province-field-check").await;
    // Back to the 初审: recommended to the ministry.
    b.goto(&format!("/reviews/{id}")).await;
    tick(&b, "#decide-acknowledge").await;
    b.click("#recommend-submit").await;
    assert_eq!(b.text("#review-status").await, "已推荐至工业和信息化部");
    b.screenshot("N6-province-recommended").await;
    b.goto("/").await;
    assert!(
        b.text("main")
            .await
            .contains("待登记工业和信息化部认定结果")
    );

    // The ministry's result, recorded once.
    b.goto(&format!("/applications/{id}")).await;
    b.select("#result-outcome", "selected").await;
    set_value(&b, "#result-date", &today.to_string()).await;
    b.fill("#result-document", "工信部企业函〔2026〕300号")
        .await;
    tick(&b, "#result-acknowledge").await;
    b.click("#ministry-result-submit").await;
    let result = b.text("#ministry-result").await;
    assert!(result.contains("认定为中小企业特色产业集群"), "{result}");
    assert!(!b.exists("#ministry-result-form").await);
    b.screenshot("N7-province-ministry-result").await;
    b.goto("/").await;
    assert!(
        !b.text("main")
            .await
            .contains("待登记工业和信息化部认定结果")
    );
    b.close().await;
}
