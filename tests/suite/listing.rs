//! Back-office lists: filters, sort, pages that keep the filters, 导出Excel of the whole
//! filtered set, Chinese messages for bad parameters, and a city bureau sees its city only —
//! in the list and in the export.

use calamine::{Reader, Xlsx};

use crate::imports::{code, import_orgs};
use crate::support::{self, TestApp};
use crate::token;

async fn get(client: &reqwest::Client, t: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(t.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The data rows of the first sheet of an export (after the title and header rows).
async fn export_rows(client: &reqwest::Client, t: &TestApp, path: &str) -> Vec<Vec<String>> {
    let res = client.get(t.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".xlsx")
    );
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

/// The names in the first column of a list table, in order.
fn names(html: &str, table: &str) -> Vec<String> {
    let body = html
        .split(&format!("id=\"{table}\""))
        .nth(1)
        .and_then(|s| s.split("<tbody>").nth(1))
        .and_then(|s| s.split("</tbody>").next())
        .unwrap_or_default();
    body.split("<tr")
        .skip(1)
        .filter_map(|row| {
            let cell = row.split("<td>").nth(1)?;
            let text = cell.split("</td>").next()?;
            // The name is the text of the link.
            let text = text.split('>').nth(1).unwrap_or(text);
            Some(text.split('<').next().unwrap_or(text).to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisation_list_filters_sorts_pages_and_exports_the_filtered_rows() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    // 60 applicants in 株洲 (two pages of 50), named so the order is known.
    let codes: Vec<String> = (0..60).map(|i| code(&format!("MA4L2{i:03}"))).collect();
    let names_in: Vec<String> = (0..60).map(|i| format!("株洲测试促进会{i:02}")).collect();
    let rows: Vec<Vec<&str>> = (0..60)
        .map(|i| {
            vec![
                names_in[i].as_str(),
                "申报主体",
                codes[i].as_str(),
                "株洲市",
                "荷塘区",
                "",
                "",
            ]
        })
        .collect();
    assert_eq!(import_orgs(&t, &admin, &rows).await, (60, 0));
    let page = support::page_login(&t, "sysadmin").await;

    let (status, html) = get(
        &page,
        &t,
        "/orgs?city=430200&q=%E6%B5%8B%E8%AF%95&sort=-name",
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let first = names(&html, "org-table");
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "株洲测试促进会59");
    assert_eq!(first[49], "株洲测试促进会10");
    assert!(html.contains("共60个单位，第1/2页"), "{html}");
    // The next page keeps the filters and the sort.
    let next = html
        .split("id=\"next-page\"")
        .next()
        .and_then(|s| s.rsplit("href=\"").next())
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(
        next.contains("city=430200") && next.contains("sort=-name") && next.ends_with("page=2"),
        "{next}"
    );
    let (_, html) = get(&page, &t, &next).await;
    let second = names(&html, "org-table");
    assert_eq!(second.first().map(String::as_str), Some("株洲测试促进会09"));
    assert_eq!(second.len(), 10);

    // The export holds the whole filtered set in the list's order, not only the page.
    let rows = export_rows(
        &page,
        &t,
        "/orgs/export.xlsx?city=430200&q=%E6%B5%8B%E8%AF%95&sort=-name",
    )
    .await;
    assert_eq!(rows.len(), 60);
    let exported: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let shown: Vec<&str> = first
        .iter()
        .chain(second.iter())
        .map(String::as_str)
        .collect();
    assert_eq!(exported, shown);
    assert_eq!(rows[0][3], "株洲市");

    // A kind filter.
    let (_, html) = get(&page, &t, "/orgs?kind=city_bureau").await;
    assert_eq!(names(&html, "org-table").len(), 14, "{html}");
    let rows = export_rows(&page, &t, "/orgs/export.xlsx?kind=city_bureau").await;
    assert_eq!(rows.len(), 14);
    assert!(rows.iter().all(|r| r[1] == "市州工信局"), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_parameters_are_refused_in_chinese() {
    let t = support::spawn().await;
    let page = support::page_login(&t, "sysadmin").await;
    for (path, expected) in [
        ("/orgs?sort=password", "不能按“password”排序"),
        ("/orgs?page=0", "页码“0”无效"),
        ("/orgs?page=abc", "页码“abc”无效"),
        ("/orgs?city=110100", "“110100”不是湖南省的市州代码"),
        ("/orgs?kind=bank", "单位类型“bank”无效"),
        ("/orgs/export.xlsx?sort=-x", "不能按“-x”排序"),
    ] {
        let (status, html) = get(&page, &t, path).await;
        assert_eq!(status, 422, "{path}");
        assert!(html.contains(expected), "{path}: {html}");
    }
    let province = support::page_login(&t, "province").await;
    let (status, html) = get(&province, &t, "/experts?status=gone&sort=age").await;
    assert_eq!(status, 422);
    assert!(
        html.contains("状态“gone”无效") && html.contains("不能按“age”排序"),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_bureau_lists_and_exports_its_own_city_only() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let zhuzhou = code("MA4L6001");
    import_orgs(
        &t,
        &admin,
        &[vec![
            "株洲某促进会",
            "申报主体",
            &zhuzhou,
            "株洲市",
            "荷塘区",
            "",
            "",
        ]],
    )
    .await;
    let city = support::page_login(&t, "changsha").await;
    let (status, html) = get(&city, &t, "/orgs").await;
    assert_eq!(status, 200);
    assert!(!html.contains("株洲某促进会"));
    let rows = export_rows(&city, &t, "/orgs/export.xlsx").await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[3] == "长沙市"), "{rows:?}");
    // Asking for another city gives nothing, not that city's rows.
    let (status, html) = get(&city, &t, "/orgs?city=430200").await;
    assert_eq!(status, 200);
    assert!(names(&html, "org-table").is_empty(), "{html}");
    assert!(
        export_rows(&city, &t, "/orgs/export.xlsx?city=430200")
            .await
            .is_empty()
    );
    // The province sees the 株洲 applicant.
    let province = support::page_login(&t, "province").await;
    let (_, html) = get(&province, &t, "/orgs?city=430200").await;
    assert!(html.contains("株洲某促进会"));
    // An applicant may look at its own organisation but not export the list.
    let applicant = support::page_login(&t, "applicant").await;
    let res = applicant
        .get(t.url("/orgs/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expert_pool_filters_by_city_and_status_and_exports() {
    let t = support::spawn().await;
    let province = support::page_login(&t, "province").await;
    let (status, html) = get(&province, &t, "/experts?city=430100&sort=name").await;
    assert_eq!(status, 200);
    let shown = names(&html, "expert-table");
    assert!(!shown.is_empty());
    let rows = export_rows(&province, &t, "/experts/export.xlsx?city=430100&sort=name").await;
    let exported: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        exported,
        shown.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(rows.iter().all(|r| r[3] == "长沙市"), "{rows:?}");
    let (_, html) = get(&province, &t, "/experts?status=inactive").await;
    assert!(html.contains("没有符合条件的专家"), "{html}");
    // An expert has no pool list to export.
    let expert = support::page_login(&t, "expert").await;
    let res = expert
        .get(t.url("/experts/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_are_filtered_by_industry_and_the_industry_code_comes_from_the_table() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    // A code that is not a GB/T 4754 manufacturing division is refused, named by its field.
    let (status, body) = crate::call(
        &t,
        &applicant,
        "POST",
        "/api/v1/clusters",
        Some(serde_json::json!({
            "name": "长沙某某产业集群", "kind": "leading", "industry_code": "C99",
            "lead_county_code": "430121", "other_county_codes": [], "core_park": "某园区"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string()
            .contains("“C99”不是GB/T 4754-2017制造业大类代码"),
        "{body}"
    );
    // The form picks the industry from the table and the counties grouped by city.
    let page = support::page_login(&t, "applicant").await;
    let (_, html) = get(&page, &t, "/clusters/new").await;
    assert!(html.contains("<option value=\"C36\""), "{html}");
    assert!(html.contains("<optgroup label=\"长沙市\">"), "{html}");
    // The province filters the clusters by industry and exports them.
    let (status, body) = crate::call(
        &t,
        &applicant,
        "POST",
        "/api/v1/clusters",
        Some(serde_json::json!({
            "name": "长沙工程机械产业集群", "kind": "leading", "industry_code": "35",
            "lead_county_code": "430121", "other_county_codes": ["430104"],
            "core_park": "长沙经济技术开发区"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let province = support::page_login(&t, "province").await;
    let (_, html) = get(&province, &t, "/clusters?industry=C35&sort=-name").await;
    let c35 = names(&html, "cluster-table");
    assert_eq!(c35, vec!["长沙工程机械产业集群".to_string()], "{html}");
    let rows = export_rows(
        &province,
        &t,
        "/clusters/export.xlsx?industry=C35&sort=-name",
    )
    .await;
    let exported: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(exported, c35.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(rows[0][2].starts_with("C35"), "{rows:?}");
    let (_, html) = get(&province, &t, "/clusters?industry=C37").await;
    assert!(html.contains("没有符合条件的集群"), "{html}");
    // A city bureau's export holds its own city's clusters only.
    let city = support::page_login(&t, "changsha").await;
    let rows = export_rows(&city, &t, "/clusters/export.xlsx").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][4], "长沙市");
    let other = support::page_login(&t, "yueyang").await;
    assert!(
        export_rows(&other, &t, "/clusters/export.xlsx")
            .await
            .is_empty()
    );
    let (_, html) = get(&province, &t, "/clusters?industry=C99").await;
    assert!(html.contains("主导产业“C99”无效"), "{html}");
}
