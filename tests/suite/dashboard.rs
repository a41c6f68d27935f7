//! Dashboards and monitoring (第五条, 第十三条, 第十四条): the province's and a city's counts, the
//! compliance of a period (on time, late, missing) and the lists behind the numbers, a table as
//! Excel, a cluster's series and flags (the application contradicted included), notes on a
//! flag, and the way from a flag to a revocation case.

use calamine::{Data, Reader, Xlsx};
use jiqun::store::entity::{cluster, report, report_version};
use jiqun::store::id::{ClusterId, UserId};
use jiqun_domain::region::RegionCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::Date;
use time::macros::{date, offset};

use crate::fixtures::{
    CHANGSHA, YUEYANG, ZHUZHOU, audited, get_page, post_page, set_day, showcase,
};
use crate::reports::{complete_fields, designate};
use crate::support::{self, TestApp};
use crate::{call, token};
use jiqun_domain::round::Designation;

/// A report filed (submitted) on `day`, written straight into the tables: the report flow
/// itself is tested in `reports.rs`.
async fn filed(t: &TestApp, cid: ClusterId, kind: &str, year: i32, revenue: &str, day: Date) {
    let cl = cluster::Entity::find_by_id(cid)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let at = day.with_hms(10, 0, 0).unwrap().assume_offset(offset!(+8));
    let form = complete_fields(revenue).to_string();
    let r = report::ActiveModel {
        cluster_id: Set(cid),
        org_id: Set(cl.org_id),
        city_code: Set(cl.city_code),
        period_kind: Set(kind.into()),
        period_year: Set(year),
        status: Set(jiqun_domain::report::Status::Submitted),
        form: Set(form.clone()),
        revision: Set(1),
        city_opinion: Set(String::new()),
        province_comment: Set(String::new()),
        submitted_at: Set(Some(at)),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    report_version::ActiveModel {
        report_id: Set(r.id),
        revision: Set(1),
        form: Set(form),
        submitted_by: Set(UserId::new(0)),
        submitted_at: Set(at),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
}

fn table<'a>(d: &'a Value, key: &str) -> &'a Value {
    d["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key)
        .unwrap_or_else(|| panic!("no table {key} in {d}"))
}

/// The count in the row whose first cell reads `label`.
fn count(d: &Value, key: &str, label: &str) -> f64 {
    row(d, key, label)[1]["value"].as_f64().unwrap()
}

fn row<'a>(d: &'a Value, key: &str, label: &str) -> &'a Vec<Value> {
    table(d, key)["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap())
        .find(|r| r[0]["text"] == label)
        .unwrap_or_else(|| panic!("no row {label} in {key}: {d}"))
}

async fn clusters_in(t: &TestApp, cities: &[RegionCode]) -> u64 {
    cluster::Entity::find()
        .filter(cluster::Column::CityCode.is_in(cities.iter().copied()))
        .count(&t.app.db)
        .await
        .unwrap()
}

/// Three clusters designated in July 2025 owe the 2025 annual report, due 2 February 2026:
/// 长沙 filed on time, 岳阳 late, 株洲 not at all.
async fn three_owing(t: &TestApp) -> (ClusterId, ClusterId, ClusterId) {
    showcase(t).await;
    set_day(t, date!(2026 - 03 - 10));
    let on = date!(2025 - 07 - 01);
    let cs = designate(t, CHANGSHA, Designation::CultivationTarget, on, None).await;
    let yy = designate(t, YUEYANG, Designation::Certified, on, None).await;
    let zz = designate(t, ZHUZHOU, Designation::CultivationTarget, on, None).await;
    filed(t, cs, "annual", 2025, "150", date!(2026 - 01 - 20)).await;
    filed(t, yy, "annual", 2025, "200.5", date!(2026 - 02 - 10)).await;
    (cs, yy, zz)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_counts_the_clusters_and_the_reports_in_scope() {
    let t = support::spawn().await;
    let (cs, yy, zz) = three_owing(&t).await;
    let all = cluster::Entity::find().count(&t.app.db).await.unwrap() as f64;

    let province = token(&t, "province").await;
    let (status, d) = call(&t, &province, "GET", "/api/v1/dashboard", None).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["scope"], "湖南省");
    assert_eq!(d["clusters"].as_f64().unwrap(), all);
    assert_eq!(d["period"]["key"], "annual-2025");
    // Every city of the province has its row; the counts add up.
    assert_eq!(table(&d, "by-city")["rows"].as_array().unwrap().len(), 14);
    assert_eq!(
        count(&d, "by-city", "长沙市"),
        clusters_in(&t, &[RegionCode::CHANGSHA]).await as f64
    );
    assert_eq!(
        count(&d, "by-area", "长株潭"),
        clusters_in(
            &t,
            &jiqun::services::policy::grouping_cities_on(
                jiqun::services::calendar::today(t.app()),
                "changzhutan"
            )
            .unwrap()
        )
        .await as f64
    );
    assert_eq!(
        count(&d, "by-area", "长株潭") + count(&d, "by-area", "其他市州"),
        all
    );
    assert_eq!(count(&d, "by-status", "培育对象"), 2.0);
    assert_eq!(count(&d, "by-status", "省先进制造业集群"), 1.0);
    // Compliance of the 2025 annual report.
    assert_eq!(count(&d, "compliance", "按时报送"), 1.0);
    assert_eq!(count(&d, "compliance", "逾期报送"), 1.0);
    assert_eq!(count(&d, "compliance", "逾期未报"), 1.0);
    assert_eq!(count(&d, "compliance", "未到截止日期"), 0.0);
    let late_link = row(&d, "compliance", "逾期报送")[1]["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        late_link,
        "/reports?period=annual-2025&compliance=late#obligations"
    );
    // Totals of the reported figures.
    let y2025 = row(&d, "trend", "2025年度发展情况报告");
    assert_eq!(y2025[1]["value"], 2.0);
    assert_eq!(y2025[2]["text"], "350.5", "{y2025:?}");
    assert_eq!(y2025[2]["value"], 350.5);

    // The numbers lead to the lists behind them.
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, &late_link).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("data-obligation=\"{yy}-annual-2025\"")),
        "{html}"
    );
    assert!(!html.contains(&format!("data-obligation=\"{cs}-annual-2025\"")));
    assert!(html.contains("逾期报送"));
    let missing = row(&d, "compliance", "逾期未报")[1]["link"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, html) = get_page(&page, &t, &missing).await;
    assert!(html.contains(&format!("data-obligation=\"{zz}-annual-2025\"")));
    assert!(!html.contains(&format!("data-obligation=\"{yy}-annual-2025\"")));
    let cultivation = row(&d, "by-status", "培育对象")[1]["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(cultivation, "/clusters?lifecycle=cultivation");
    let (status, html) = get_page(&page, &t, &cultivation).await;
    assert_eq!(status, 200);
    assert!(html.contains(CHANGSHA) && html.contains(ZHUZHOU), "{html}");
    assert!(!html.contains(YUEYANG));
    // The page shows every table with its chart data and its export.
    let (status, html) = get_page(&page, &t, "/dashboard").await;
    assert_eq!(status, 200);
    for key in [
        "by-city",
        "by-area",
        "by-kind",
        "by-industry",
        "by-status",
        "compliance",
        "trend",
    ] {
        assert!(
            html.contains(&format!("data-chart=\"chart-{key}\"")),
            "{key}"
        );
        assert!(html.contains(&format!("id=\"export-{key}\"")), "{key}");
    }
    assert!(html.contains("/static/echarts-5.6.0.min.js"));

    // A city bureau sees its city only, whatever it asks for.
    let changsha = token(&t, "changsha").await;
    let (status, c) = call(&t, &changsha, "GET", "/api/v1/dashboard", None).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["scope"], "长沙市");
    assert_eq!(
        c["clusters"].as_f64().unwrap(),
        clusters_in(&t, &[RegionCode::CHANGSHA]).await as f64
    );
    assert_eq!(table(&c, "by-city")["rows"].as_array().unwrap().len(), 1);
    assert_eq!(count(&c, "compliance", "按时报送"), 1.0);
    assert_eq!(count(&c, "compliance", "逾期报送"), 0.0);
    assert_eq!(count(&c, "compliance", "逾期未报"), 0.0);
    assert_eq!(row(&c, "trend", "2025年度发展情况报告")[2]["value"], 150.0);

    // A cluster and an expert have no dashboard; a bad period is named.
    let applicant = token(&t, "applicant").await;
    let (status, _) = call(&t, &applicant, "GET", "/api/v1/dashboard", None).await;
    assert_eq!(status, 403);
    let (status, body) = call(&t, &province, "GET", "/api/v1/dashboard?period=2025", None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "period");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_table_exports_numbers_as_numbers() {
    let t = support::spawn().await;
    three_owing(&t).await;
    let province = token(&t, "province").await;
    let res = reqwest::Client::new()
        .get(t.url("/api/v1/dashboard.xlsx?table=compliance"))
        .bearer_auth(&province)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("数据").unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert!(
        rows[0][0]
            .to_string()
            .contains("湖南省报送情况：2025年度发展情况报告")
    );
    assert_eq!(rows[1][0].to_string(), "报送情况");
    assert_eq!(rows[2][0], Data::String("按时报送".into()));
    assert_eq!(rows[2][1], Data::Float(1.0));
    assert_eq!(rows[4][0], Data::String("逾期未报".into()));
    assert_eq!(rows[4][1], Data::Float(1.0));
    assert_eq!(audited(&t, "dashboard.export").await.len(), 1);

    // The page's link gives the city's own table.
    let page = support::page_login(&t, "changsha").await;
    let res = page
        .get(t.url("/dashboard/export.xlsx?table=by-city"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("数据").unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[2][0], Data::String("长沙市".into()));
    assert!(matches!(rows[2][1], Data::Float(_)));

    let (status, body) = call(
        &t,
        &province,
        "GET",
        "/api/v1/dashboard.xlsx?table=money",
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("trend")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_carry_their_reason_and_take_notes_from_province_and_city() {
    let t = support::spawn().await;
    showcase(&t).await;
    set_day(&t, date!(2026 - 03 - 10));
    let cs = designate(
        &t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2024 - 07 - 01),
        None,
    )
    .await;
    // The application stated 150亿元; the first annual report 60, the next 320.
    filed(&t, cs, "annual", 2024, "60", date!(2025 - 01 - 20)).await;
    filed(&t, cs, "annual", 2025, "320", date!(2026 - 01 - 20)).await;

    let province = token(&t, "province").await;
    let path = format!("/api/v1/clusters/{cs}/monitoring");
    let (status, m) = call(&t, &province, "GET", &path, None).await;
    assert_eq!(status, 200, "{m}");
    let sources: Vec<&str> = m["series"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 3, "{m}");
    assert!(sources[0].starts_with("申报书"), "{sources:?}");
    assert_eq!(
        &sources[1..],
        ["2024年度发展情况报告", "2025年度发展情况报告"]
    );
    assert_eq!(m["series"]["rows"][0][1]["value"], 150.0);
    let flags = m["flags"].as_array().unwrap();
    let flag = |kind: &str, title: &str| {
        flags
            .iter()
            .find(|f| {
                f["kind"] == kind
                    && f["report_title"] == title
                    && f["indicator"] == "period_revenue"
            })
            .unwrap_or_else(|| panic!("no {kind} on {title}: {m}"))
    };
    assert_eq!(
        flag("year_on_year", "2025年度发展情况报告")["reason"],
        "“本期集群营业收入”320亿元，较上年同期60亿元增长433.33%，超过±50%的提示幅度"
    );
    assert_eq!(
        flag("contradicts_application", "2024年度发展情况报告")["reason"],
        "“本期集群营业收入”2024年度为60亿元，申报书填报的“集群营业收入”为150亿元，低了60%，超过±50%的提示幅度，请核实申报数据是否真实"
    );
    assert_eq!(
        flag("threshold_not_met", "2024年度发展情况报告")["kind_label"],
        "不再满足第六条门槛"
    );
    // Only the first annual report is read against the application.
    assert!(
        !flags.iter().any(|f| f["kind"] == "contradicts_application"
            && f["report_title"] == "2025年度发展情况报告")
    );
    assert_eq!(
        m["revocation_link"],
        format!("/revocations/new?cluster_id={cs}&ground=fraud")
    );

    // The city bureau adds a note; it is audited and shown under the flag.
    let yoy = flag("year_on_year", "2025年度发展情况报告").clone();
    let changsha = token(&t, "changsha").await;
    let note_path = format!("/api/v1/clusters/{cs}/monitoring/notes");
    let note = json!({"report_id": yoy["report_id"].to_string(), "indicator": "period_revenue",
        "kind": "year_on_year", "note": "已电话核实：新增两家链主企业投产。"});
    let (status, body) = call(&t, &changsha, "POST", &note_path, Some(note.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["note"], "已电话核实：新增两家链主企业投产。");
    let entries = audited(&t, "monitoring.note").await;
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0].summary.contains("长沙工程机械产业集群"),
        "{:?}",
        entries[0]
    );
    let (_, city_view) = call(&t, &changsha, "GET", &path, None).await;
    assert_eq!(
        city_view["revocation_link"],
        format!("/revocations/new?cluster_id={cs}&ground=fraud"),
        "the city opens a case against its own cluster too"
    );
    let (status, _) = call(&t, &token(&t, "expert").await, "GET", &path, None).await;
    assert_eq!(status, 403, "an expert reviews no reports");
    let noted = city_view["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "year_on_year")
        .unwrap();
    assert_eq!(
        noted["notes"][0]["note"],
        "已电话核实：新增两家链主企业投产。"
    );

    // Bad notes are refused with the field named, nothing written.
    let mut empty = note.clone();
    empty["note"] = json!("  ");
    let (status, body) = call(&t, &province, "POST", &note_path, Some(empty)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "note");
    let mut gone = note.clone();
    gone["kind"] = json!("half_above_annual");
    let (status, body) = call(&t, &province, "POST", &note_path, Some(gone)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "flag");
    assert_eq!(audited(&t, "monitoring.note").await.len(), 1);

    // Another city and the cluster itself do not reach the flags.
    let yueyang = token(&t, "yueyang").await;
    let (status, _) = call(&t, &yueyang, "GET", &path, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(&t, &yueyang, "POST", &note_path, Some(note)).await;
    assert_eq!(status, 404);
    let applicant = token(&t, "applicant").await;
    let (status, _) = call(&t, &applicant, "GET", &path, None).await;
    assert_eq!(status, 403);

    // On the cluster page: the series, the flags with their notes, the way to a case.
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, &format!("/clusters/{cs}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"monitoring\""));
    assert!(html.contains("较上年同期60亿元增长433.33%"), "{html}");
    assert!(html.contains("已电话核实：新增两家链主企业投产。"));
    assert!(html.contains(&format!(
        "/revocations/new?cluster_id={cs}&#38;ground=fraud"
    )));
    let (status, html) = get_page(
        &page,
        &t,
        &format!("/revocations/new?cluster_id={cs}&ground=fraud"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("<option value=\"fraud\" selected>"), "{html}");
    // A note refused on the page comes back with the problem beside it.
    let csrf = support::csrf_from(&html);
    let rid = yoy["report_id"].to_string();
    let a = post_page(
        &page,
        &t,
        &format!("/clusters/{cs}/monitoring/notes"),
        &[
            ("_csrf", csrf.as_str()),
            ("report_id", rid.as_str()),
            ("indicator", "period_revenue"),
            ("kind", "year_on_year"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("请填写备注"));
    let a = post_page(
        &page,
        &t,
        &format!("/clusters/{cs}/monitoring/notes"),
        &[
            ("_csrf", csrf.as_str()),
            ("report_id", rid.as_str()),
            ("indicator", "period_revenue"),
            ("kind", "year_on_year"),
            ("note", "请市州督促说明。"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert!(a.location.ends_with("#monitoring"), "{}", a.location);
    assert_eq!(audited(&t, "monitoring.note").await.len(), 2);
    let cluster_page = support::page_login(&t, "applicant").await;
    let (_, html) = get_page(&cluster_page, &t, &format!("/clusters/{cs}")).await;
    assert!(
        !html.contains("id=\"monitoring\""),
        "the cluster sees no flags"
    );
}

/// The province's dashboard as answered (possibly kept), and computed afresh.
async fn kept_and_fresh(t: &TestApp, province: &str) -> (Value, Value) {
    let (status, kept) = call(t, province, "GET", "/api/v1/dashboard", None).await;
    assert_eq!(status, 200, "{kept}");
    t.app.dashboards.clear();
    let (_, fresh) = call(t, province, "GET", "/api/v1/dashboard", None).await;
    (kept, fresh)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_dashboard_equals_a_fresh_one_after_every_kind_of_change() {
    let t = support::spawn().await;
    let (_, _, zz) = three_owing(&t).await;
    let province = token(&t, "province").await;
    let (before, _) = kept_and_fresh(&t, &province).await;
    assert_eq!(count(&before, "compliance", "逾期未报"), 1.0);

    // A report filed late.
    filed(&t, zz, "annual", 2025, "120", date!(2026 - 03 - 09)).await;
    let (kept, fresh) = kept_and_fresh(&t, &province).await;
    assert_eq!(kept, fresh);
    assert_eq!(count(&kept, "compliance", "逾期未报"), 0.0);

    // A title conferred.
    let certified = count(&kept, "by-status", "省先进制造业集群");
    // 长沙, a 培育对象, is certified.
    designate(
        &t,
        CHANGSHA,
        Designation::Certified,
        date!(2026 - 03 - 01),
        None,
    )
    .await;
    let (kept, fresh) = kept_and_fresh(&t, &province).await;
    assert_eq!(kept, fresh);
    assert_eq!(
        count(&kept, "by-status", "省先进制造业集群"),
        certified + 1.0
    );

    // The next day: a report due since falls overdue without any write.
    set_day(&t, date!(2027 - 02 - 05));
    let province = token(&t, "province").await;
    let (kept, fresh) = kept_and_fresh(&t, &province).await;
    assert_eq!(kept, fresh);
    assert_eq!(kept["period"]["key"], "annual-2026");
}
