//! The remaining back-office lists on the list component (issue 14 item 6): the applications,
//! the city's 初审 queue one year at a time, users by role, calls, reports, certificates in
//! number order and revocation cases — filtered, paged with the filters kept, sorted, exported
//! (the whole filtered set, opened with calamine) — the paged list APIs, and the leading
//! industry code picked from GB/T 4754; the kind filter from the policy's cluster kinds and
//! the province's objections across rounds.

use calamine::{Reader, Xlsx};
use jiqun::store::entity::{application, cluster, competition};
use jiqun::store::id::CompetitionId;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, Set};

use crate::support::{self, TestApp};
use crate::{call, token};

async fn get(client: &reqwest::Client, t: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(t.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The data rows of the first sheet of an export (after the title and header rows).
async fn export_rows(client: &reqwest::Client, t: &TestApp, path: &str) -> Vec<Vec<String>> {
    let res = client.get(t.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).unwrap();
    range
        .rows()
        .skip(2)
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// The text of cell `col` of every body row of the table `id`, tags removed.
fn column(html: &str, table: &str, col: usize) -> Vec<String> {
    let body = html
        .split(&format!("id=\"{table}\""))
        .nth(1)
        .and_then(|s| s.split("<tbody>").nth(1))
        .and_then(|s| s.split("</tbody>").next())
        .unwrap_or_default();
    body.split("<tr")
        .skip(1)
        .filter_map(|row| {
            let cell = row.split("<td").nth(col + 1)?;
            let cell = cell.split_once('>')?.1;
            let cell = cell.split("</td>").next()?;
            let mut text = String::new();
            let mut in_tag = false;
            for ch in cell.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            Some(text.trim().to_string())
        })
        .collect()
}

/// The `href` of the link with this id, entities decoded.
fn link(html: &str, id: &str) -> String {
    html.split(&format!("id=\"{id}\""))
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// An older call (`year`) with `n` submitted 长沙 applications named 批量集群00…, submitted a
/// minute apart in name order; written directly, as the services are tested elsewhere.
async fn older_call(t: &TestApp, year: i32, n: usize) -> CompetitionId {
    let show = crate::fixtures::showcase(t).await;
    let db = &t.app.db;
    let a0 = application::Entity::find_by_id(show.application_ids[0])
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let c0 = competition::Entity::find_by_id(show.competition_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let cl0 = cluster::Entity::find_by_id(a0.cluster_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        cl0.city_code.to_string(),
        "430100",
        "the first showcase cluster is 长沙's"
    );
    let mut older: competition::ActiveModel = c0.clone().into();
    older.id = NotSet;
    older.year = Set(year);
    older.title = Set(format!("{year}年湖南省先进制造业集群竞赛"));
    let older = older.insert(db).await.unwrap();
    let base = a0.submitted_at.unwrap_or(a0.created_at) - time::Duration::days(400);
    for i in 0..n {
        let mut cl: cluster::ActiveModel = cl0.clone().into();
        cl.id = NotSet;
        cl.name = Set(format!("批量集群{i:02}"));
        let cl = cl.insert(db).await.unwrap();
        let mut a: application::ActiveModel = a0.clone().into();
        a.id = NotSet;
        a.competition_id = Set(older.id);
        a.cluster_id = Set(cl.id);
        a.status = Set(jiqun_domain::application::Status::Submitted);
        a.submitted_at = Set(Some(base + time::Duration::minutes(i as i64)));
        a.insert(db).await.unwrap();
    }
    older.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_queue_shows_one_year_pages_sorts_and_exports() {
    let t = support::spawn().await;
    let older = older_call(&t, 2020, 55).await;
    let city = support::page_login(&t, "changsha").await;

    // The newest year by default: the showcase's 长沙 application only.
    let (status, html) = get(&city, &t, "/reviews").await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("批量集群"), "{html}");
    assert!(html.contains("长沙工程机械产业集群"), "{html}");
    assert!(
        html.contains("<option value=\"2020\">2020年度</option>"),
        "{html}"
    );

    // 2020: 55 applications over two pages, oldest submission first when asked.
    let (status, html) = get(&city, &t, "/reviews?year=2020&sort=submitted").await;
    assert_eq!(status, 200);
    let first = column(&html, "review-table", 1);
    assert_eq!(first.len(), 50, "{html}");
    // 长沙 is in the policy's 长株潭 grouping: its tag follows each name.
    assert_eq!(first[0], "批量集群00 长株潭");
    assert_eq!(first[49], "批量集群49 长株潭");
    assert!(html.contains("共55个申报，第1/2页"), "{html}");
    assert!(html.contains("<option value=\"2020\" selected>"), "{html}");
    let next = link(&html, "next-page");
    assert!(
        next.contains("year=2020") && next.contains("sort=submitted") && next.ends_with("page=2"),
        "{next}"
    );
    let (_, html) = get(&city, &t, &next).await;
    assert_eq!(
        column(&html, "review-table", 1),
        (50..55)
            .map(|i| format!("批量集群{i:02} 长株潭"))
            .collect::<Vec<_>>()
    );
    // Newest submission first the other way round.
    let (_, html) = get(&city, &t, "/reviews?year=2020&sort=-submitted").await;
    assert_eq!(column(&html, "review-table", 1)[0], "批量集群54 长株潭");

    // 导出Excel: the whole filtered year, in the list's order.
    let href = link(&html, "export-xlsx");
    assert!(
        href.starts_with("/reviews/export.xlsx?") && href.contains("year=2020"),
        "{href}"
    );
    let rows = export_rows(&city, &t, &href).await;
    assert_eq!(rows.len(), 55);
    assert_eq!(rows[0][1], "批量集群54");
    assert!(rows.iter().all(|r| r[5].starts_with("2020年")), "{rows:?}");

    // Every year at once, kept in the page links.
    let (_, html) = get(&city, &t, "/reviews?year=all").await;
    assert!(html.contains("<option value=\"all\" selected>"), "{html}");
    assert!(html.contains("共56个申报"), "{html}");
    assert!(link(&html, "next-page").contains("year=all"));
    // A status filter and a bad year, refused in Chinese.
    let (_, html) = get(&city, &t, "/reviews?year=2020&status=recommended").await;
    assert!(html.contains("共0个申报"), "{html}");
    let (status, html) = get(&city, &t, "/reviews?year=20").await;
    assert_eq!(status, 422);
    assert!(html.contains("年度“20”无效，应为四位年份"), "{html}");

    // Another city's bureau sees none of them.
    let other = support::page_login(&t, "yueyang").await;
    let (_, html) = get(&other, &t, &format!("/reviews?year=2020&c={older}")).await;
    assert!(html.contains("共0个申报"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_lists_applications_by_year_city_and_status_and_the_api_is_paged() {
    let t = support::spawn().await;
    older_call(&t, 2020, 52).await;
    let province = support::page_login(&t, "province").await;
    let (status, html) = get(&province, &t, "/applications?city=430100&year=2020").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("共52个申报，第1/2页"), "{html}");
    let (_, html) = get(&province, &t, "/applications?city=430200").await;
    assert!(html.contains("共1个申报"), "{html}");
    assert!(
        column(&html, "application-table", 0)[0].contains("株洲"),
        "{html}"
    );
    let rows = export_rows(
        &province,
        &t,
        "/applications/export.xlsx?year=2020&q=%E6%89%B9%E9%87%8F",
    )
    .await;
    assert_eq!(rows.len(), 52);
    // An applicant lists its own applications without a 导出Excel it may not use.
    let applicant = support::page_login(&t, "applicant").await;
    let (status, html) = get(&applicant, &t, "/applications").await;
    assert_eq!(status, 200);
    assert!(!html.contains("id=\"export-xlsx\""), "{html}");
    let res = applicant
        .get(t.url("/applications/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // The API: the same query keys, 50 a page, the place in the headers.
    let tok = token(&t, "province").await;
    let client = reqwest::Client::new();
    let res = client
        .get(t.url("/api/v1/applications?year=2020&sort=submitted&page=2"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-total-count"], "52");
    assert_eq!(res.headers()["x-page-count"], "2");
    let rows: serde_json::Value = res.json().await.unwrap();
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cluster_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["批量集群50", "批量集群51"]);
    let (status, body) = call(&t, &tok, "GET", "/api/v1/applications?status=lost", None).await;
    assert_eq!(status, 422);
    assert!(body.to_string().contains("状态“lost”无效"), "{body}");
    // The organisations API is paged the same way and documented.
    let res = client
        .get(t.url("/api/v1/organisations?kind=city_bureau&sort=-name"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "14");
    let (_, doc) = call(&t, &tok, "GET", "/api/v1/openapi.json", None).await;
    let params = doc["paths"]["/api/v1/organisations"]["get"]["parameters"].to_string();
    assert!(
        params.contains("\"page\"") && params.contains("\"sort\""),
        "{params}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_by_role_and_status_sorted_and_exported() {
    let t = support::spawn().await;
    let admin = support::page_login(&t, "sysadmin").await;
    let (status, html) = get(&admin, &t, "/users?role=city_bureau&sort=-username").await;
    assert_eq!(status, 200, "{html}");
    let shown = column(&html, "user-table", 0);
    assert!(shown.len() > 1, "{html}");
    let mut sorted = shown.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(shown, sorted);
    assert!(
        column(&html, "user-table", 2)
            .iter()
            .all(|r| r == "市州工信局"),
        "{html}"
    );
    let rows = export_rows(
        &admin,
        &t,
        "/users/export.xlsx?role=city_bureau&sort=-username",
    )
    .await;
    let exported: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(exported, shown);
    let (status, html) = get(&admin, &t, "/users?role=nobody").await;
    assert_eq!(status, 422);
    assert!(html.contains("角色“nobody”无效"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_reports_and_revocation_cases_take_the_same_filters_and_export() {
    let t = support::spawn().await;
    older_call(&t, 2020, 1).await;
    let province = support::page_login(&t, "province").await;
    let (status, html) = get(&province, &t, "/competitions?year=2020").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(column(&html, "competition-table", 0), vec!["2020"]);
    let (_, html) = get(&province, &t, "/competitions?sort=year").await;
    assert_eq!(column(&html, "competition-table", 0)[0], "2020", "{html}");
    let rows = export_rows(&province, &t, "/competitions/export.xlsx?year=2020").await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0][1].starts_with("2020年"), "{rows:?}");
    for path in [
        "/reports?year=2025&kind=annual&city=430100&sort=-submitted",
        "/revocations?year=2026&status=opened&sort=opened",
    ] {
        let (status, html) = get(&province, &t, path).await;
        assert_eq!(status, 200, "{path}: {html}");
        assert!(html.contains("id=\"pager\""), "{path}");
        let href = link(&html, "export-xlsx");
        assert!(href.contains("year="), "{path}: {href}");
        export_rows(&province, &t, &href).await;
    }
    for (path, expected) in [
        ("/reports?kind=monthly", "报告类型“monthly”无效"),
        ("/revocations?status=x", "状态“x”无效"),
        ("/competitions?sort=title", "不能按“title”排序"),
    ] {
        let (status, html) = get(&province, &t, path).await;
        assert_eq!(status, 422, "{path}");
        assert!(html.contains(expected), "{path}: {html}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_listed_in_number_order_filtered_and_exported() {
    let t = support::spawn().await;
    crate::lifecycle::certified(&t).await;
    let province = support::page_login(&t, "province").await;
    let (status, html) = get(&province, &t, "/certificates").await;
    assert_eq!(status, 200, "{html}");
    let numbers = column(&html, "certificate-list", 0);
    assert_eq!(
        numbers,
        vec![
            "湘集群培〔2026〕第001号",
            "湘集群培〔2026〕第002号",
            "湘集群认〔2026〕第001号"
        ],
        "{html}"
    );
    let (_, html) = get(&province, &t, "/certificates?sort=-number").await;
    assert_eq!(
        column(&html, "certificate-list", 0)[0],
        "湘集群认〔2026〕第001号"
    );
    let (_, html) = get(
        &province,
        &t,
        "/certificates?kind=cultivation_target&status=valid",
    )
    .await;
    assert_eq!(
        column(&html, "certificate-list", 0),
        vec!["湘集群培〔2026〕第002号"],
        "the 长沙 title was superseded: {html}"
    );
    let rows = export_rows(&province, &t, "/certificates/export.xlsx?year=2026").await;
    let exported: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(exported, numbers);
    assert!(rows[0][6].contains("换发"), "{rows:?}");
    // A city bureau sees its city's titles and has no export.
    let city = support::page_login(&t, "yueyang").await;
    let (_, html) = get(&city, &t, "/certificates").await;
    assert_eq!(
        column(&html, "certificate-list", 0),
        vec!["湘集群培〔2026〕第002号"]
    );
    assert!(!html.contains("id=\"export-xlsx\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leading_industry_code_is_picked_from_gbt4754() {
    use crate::applications::{call_json, complete_form, open_call, started};
    let t = support::spawn().await;
    let call_id = open_call(&t).await;
    let (id, v) = started(
        &t,
        call_id,
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        "长沙工程机械产业集群",
    )
    .await;
    let me = token(&t, "applicant").await;
    // The new draft carries the cluster's registered industry already.
    let (_, d) = call(&t, &me, "GET", &format!("/api/v1/applications/{id}"), None).await;
    assert_eq!(
        d["form"]["indicators"]["leading_industry_code"], "C35",
        "{d}"
    );

    // The form offers the 31 manufacturing divisions, searchable by code or name.
    let applicant = support::page_login(&t, "applicant").await;
    let (status, html) = get(&applicant, &t, &format!("/applications/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("list=\"choices-leading_industry_code\""),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"C36\">C36 汽车制造业</option>"),
        "{html}"
    );
    assert_eq!(html.matches("<option value=\"C").count(), 31);

    // A code outside the table: kept in the draft, refused at submission, the field named.
    let mut form = complete_form("150");
    form["indicators"]["leading_industry_code"] = serde_json::json!("C99");
    let (status, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        serde_json::json!({"form": form, "version": v}),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    let v = d["application"]["version"].as_i64().unwrap();
    let (status, err) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        serde_json::json!({"version": v}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err.to_string()
            .contains("“C99”不是GB/T 4754-2017制造业大类代码，请从列表中选择"),
        "{err}"
    );
    let (_, html) = get(&applicant, &t, &format!("/applications/{id}")).await;
    assert!(
        html.contains("value=\"C99\""),
        "what was typed is kept: {html}"
    );

    // A division from the list is accepted.
    let mut form = complete_form("150");
    form["indicators"]["leading_industry_code"] = serde_json::json!("C36");
    let (_, d) = call_json(
        &t,
        &me,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        serde_json::json!({"form": form, "version": v}),
    )
    .await;
    let v = d["application"]["version"].as_i64().unwrap();
    let (status, body) = call_json(
        &t,
        &me,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        serde_json::json!({"version": v}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// The number of rows a paged list API reports, and the rows of its first page.
async fn api_list(t: &TestApp, tok: &str, path: &str) -> (u64, Vec<serde_json::Value>) {
    let res = reqwest::Client::new()
        .get(t.url(path))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let total = res.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let rows: serde_json::Value = res.json().await.unwrap();
    (total, rows.as_array().unwrap().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_are_filtered_by_the_policys_cluster_kinds() {
    let t = support::spawn().await;
    let call_id = older_call(&t, 2020, 3).await;
    // One of the three becomes a 特色产业集群 application.
    let one = application::Entity::find()
        .filter(application::Column::CompetitionId.eq(call_id))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let others = if one.kind == "leading" {
        "specialty"
    } else {
        "leading"
    };
    let mut a: application::ActiveModel = one.clone().into();
    a.kind = Set(others.into());
    a.update(&t.app.db).await.unwrap();
    let tok = token(&t, "province").await;
    let (total, rows) = api_list(
        &t,
        &tok,
        &format!("/api/v1/applications?year=2020&kind={others}"),
    )
    .await;
    assert_eq!(total, 1);
    assert_eq!(rows[0]["id"], one.id.get());
    let (total, rows) = api_list(
        &t,
        &tok,
        &format!("/api/v1/applications?year=2020&kind={}", one.kind),
    )
    .await;
    assert_eq!(total, 2);
    assert!(rows.iter().all(|r| r["kind"] == one.kind.as_str()));
    let (status, body) = call(&t, &tok, "GET", "/api/v1/applications?kind=mixed", None).await;
    assert_eq!(status, 422);
    assert!(
        body.to_string()
            .contains("集群类型“mixed”无效，可选：优势产业集群、特色产业集群"),
        "{body}"
    );
    // The pages offer the policy's kinds and keep the choice.
    let province = support::page_login(&t, "province").await;
    let (status, html) = get(&province, &t, "/applications?year=2020&kind=specialty").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<option value=\"specialty\" selected>特色产业集群</option>"),
        "{html}"
    );
    let city = support::page_login(&t, "changsha").await;
    let (status, html) = get(&city, &t, &format!("/reviews?year=2020&kind={others}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("共1个申报"), "{html}");
}

/// Files an objection through the public JSON API, without a session.
async fn object(
    t: &TestApp,
    round_id: jiqun::store::id::RoundId,
    entry_id: i64,
    name: &str,
) -> i64 {
    let res = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/notices/{round_id}/objections")))
        .json(&serde_json::json!({
            "entry_id": entry_id,
            "name": name,
            "organisation": "",
            "contact": "13800138000",
            "reason": format!("{name}：该集群申报材料中的营业收入数据与统计年鉴不符。"),
        }))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_lists_objections_across_rounds_filters_sorts_and_exports() {
    use jiqun::store::entity::objection;
    let t = support::spawn().await;
    let f = crate::fixtures::published_round(&t, time::macros::date!(2026 - 11 - 27)).await;
    let first = object(&t, f.round_id, f.entries[0].id.get(), "王建国").await;
    let unit = object(&t, f.round_id, f.entries[0].id.get(), "李明").await;
    let third = object(&t, f.round_id, f.entries[0].id.get(), "张伟").await;
    // The second in the name of an organisation (the public form asks for its stamped letter).
    let m = objection::Entity::find_by_id(jiqun::store::id::ObjectionId::new(unit))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut a: objection::ActiveModel = m.into();
    a.organisation = Set("湖南省机械工业协会".into());
    a.update(&t.app.db).await.unwrap();
    let tok = token(&t, "province").await;
    let (status, registered) = crate::fixtures::on_objection(
        &t,
        &tok,
        third,
        "register",
        serde_json::json!({"reply": "已登记，请长沙市工信局核实。"}),
    )
    .await;
    assert_eq!(status, 200, "{registered}");

    let province = support::page_login(&t, "province").await;
    let (status, html) = get(&province, &t, "/objections").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("共3条异议"), "{html}");
    assert!(
        html.contains(&format!(
            "href=\"/rounds/{}/objections#objection-{first}\"",
            f.round_id
        )),
        "each row leads to the round's objection page: {html}"
    );
    let receipts = column(&html, "objection-list", 0);
    assert!(receipts[0] > receipts[2], "newest first: {receipts:?}");
    let (_, html) = get(&province, &t, "/objections?sort=id").await;
    let ascending = column(&html, "objection-list", 0);
    assert!(ascending[0] < ascending[2], "{ascending:?}");
    let (_, html) = get(&province, &t, "/objections?objector=unit").await;
    assert!(html.contains("共1条异议"), "{html}");
    assert_eq!(
        column(&html, "objection-list", 5),
        vec!["湖南省机械工业协会（李明）"]
    );
    let (_, html) = get(&province, &t, "/objections?status=investigating").await;
    assert_eq!(column(&html, "objection-list", 5), vec!["张伟"]);
    let (_, html) = get(&province, &t, "/objections?round=final").await;
    assert!(html.contains("共0条异议"), "{html}");
    let (_, html) = get(&province, &t, "/objections?year=2001").await;
    assert!(html.contains("id=\"no-objections\""), "{html}");
    let (status, html) = get(&province, &t, "/objections?year=26&objector=all").await;
    assert_eq!(status, 422);
    assert!(
        html.contains("竞赛年度“26”无效") && html.contains("异议人类型“all”无效，可选：个人、单位"),
        "{html}"
    );
    // 导出Excel: the filtered set, opened back.
    let rows = export_rows(&province, &t, "/objections/export.xlsx?objector=person").await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[4] == "个人"), "{rows:?}");
    // The per-round page still works.
    let (status, html) = get(&province, &t, &format!("/rounds/{}/objections", f.round_id)).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("id=\"objection-{first}\"")));

    // The API: paged with the same keys.
    let (total, rows) = api_list(&t, &tok, "/api/v1/objections?status=received&sort=id").await;
    assert_eq!(total, 2);
    assert_eq!(rows[0]["id"], first);
    assert_eq!(rows[1]["objector_kind"], "unit");
    // Nobody but the province lists objections.
    let city = token(&t, "changsha").await;
    let (status, _) = call(&t, &city, "GET", "/api/v1/objections", None).await;
    assert_eq!(status, 403);
    let city_page = support::page_login(&t, "changsha").await;
    let (status, _) = get(&city_page, &t, "/objections").await;
    assert_eq!(status, 403);
}
