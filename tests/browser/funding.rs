//! The funding ledger (第十七条) as the province and a city bureau see it on the demo data:
//! totals and entries, a malformed amount refused beside its field, a city limited to its city.
//!
//! Screenshots: artifacts/screenshots/{backend}-8N-{what}.png.

use super::{Browser, support};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_keeps_the_ledger_and_a_city_reads_its_own() {
    let app = support::spawn().await;
    jiqun::demo::seed_for_serve(&app.app).await.unwrap();
    let b = Browser::open(&app).await;
    b.login("province").await;
    b.goto("/funding").await;
    assert!(b.text("#funding-totals h2").await.contains("4笔"));
    assert_eq!(b.texts("#entry-list tbody tr").await.len(), 4);
    b.fill("#entry-project", "工程机械再制造中心").await;
    b.fill("#entry-amount", "12.345").await;
    b.click("#entry-submit").await;
    assert_eq!(
        b.text("[data-error-for=amount]").await,
        "金额最多保留两位小数"
    );
    assert_eq!(b.value("#entry-project").await, "工程机械再制造中心");
    b.screenshot("81-funding-province").await;
    b.logout().await;
    b.login("changsha").await;
    b.goto("/funding").await;
    let rows = b.texts("#entry-list tbody tr").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.contains("长沙")), "{rows:?}");
    assert!(!b.exists("#entry-form").await);
    b.screenshot("82-funding-city").await;
    b.close().await;
}
