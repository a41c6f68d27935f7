//! The dashboards (第五条, 第十三条) on the demo data: the province's charts drawn in the browser
//! from the tables beside them, a cluster's monitoring chart and flags, and a city bureau's
//! dashboard limited to its city.
//!
//! Screenshots: artifacts/screenshots/{backend}-9N-{what}.png.

use super::{Browser, support};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_sees_charts_and_a_city_its_own_city() {
    let app = support::spawn().await;
    jiqun::demo::seed_for_serve(&app.app).await.unwrap();
    let b = Browser::open(&app).await;
    b.login("province").await;
    b.nav("dashboard").await;
    assert_eq!(b.heading().await, "数据看板：湖南省");
    // Every table is drawn as a chart (a canvas by ECharts) above it.
    for key in [
        "by-city",
        "by-area",
        "by-kind",
        "by-status",
        "compliance",
        "trend",
    ] {
        b.find(&format!("#chart-{key}[data-rendered='1'] canvas"))
            .await;
    }
    let cities = b.texts("table[data-table='by-city'] tbody tr").await;
    assert_eq!(cities.len(), 14, "{cities:?}");
    let compliance = b.texts("table[data-table='compliance'] tbody tr").await;
    assert!(
        compliance
            .iter()
            .any(|r| r.starts_with("逾期未报") && !r.ends_with(" 0")),
        "the demo has an overdue report: {compliance:?}"
    );
    b.screenshot("94-dashboard-province").await;
    // A number leads to the list behind it.
    b.click("table[data-table='compliance'] tbody tr:nth-child(3) td.num a")
        .await;
    assert_eq!(b.path().await, "/reports");
    assert!(b.text("#obligation-filter").await.contains("逾期未报"));
    let overdue = b.texts("#obligations tbody tr").await;
    assert!(!overdue.is_empty());
    assert!(
        overdue.iter().all(|r| r.contains("逾期未报")),
        "{overdue:?}"
    );

    // The flagged demo cluster: its series drawn, the flag's reason, the way to a case.
    b.goto("/clusters?q=新能源汽车").await;
    b.click("main table tbody tr a").await;
    b.find("#chart-series[data-rendered='1'] canvas").await;
    let page = b.url().await;
    b.goto(&format!("{}#monitoring", page.path())).await;
    b.find("#chart-series[data-rendered='1'] canvas").await;
    let flags = b.texts("#monitoring [data-flag]").await;
    assert!(flags.iter().any(|f| f.contains("较上年同期")), "{flags:?}");
    assert!(b.exists("#monitoring a[data-revoke]").await);
    b.screenshot("95-monitoring-province").await;
    b.logout().await;

    b.login("changsha").await;
    b.nav("dashboard").await;
    assert_eq!(b.heading().await, "数据看板：长沙市");
    b.find("#chart-by-city[data-rendered='1'] canvas").await;
    let cities = b.texts("table[data-table='by-city'] tbody tr").await;
    assert_eq!(cities.len(), 1, "{cities:?}");
    assert!(cities[0].starts_with("长沙市"));
    let trend = b
        .texts("table[data-table='compliance-by-city'] tbody tr")
        .await;
    assert!(trend.iter().all(|r| r.starts_with("长沙市")), "{trend:?}");
    b.screenshot("96-dashboard-city").await;
    b.close().await;
}
