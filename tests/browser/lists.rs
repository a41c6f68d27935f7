//! Lists and imports as the system administrator walks them (issue 14, items 5 and 6): an Excel
//! file of organisations is previewed row by row (an error row first, then the corrected file)
//! and confirmed; the organisation list is filtered, paged with the filter kept, and exported.
//! Then the lists added last: applications by year and cluster kind, certificates in number
//! order with their 导出Excel downloaded and opened, the objection list, users by role.
//!
//! Screenshots: artifacts/screenshots/{backend}-8N-{what}.png.

use jiqun_domain::credit_code::CreditCode;

use super::{Browser, rows, support};

const HEADER: [&str; 7] = [
    "单位名称",
    "单位类型",
    "统一社会信用代码",
    "所在市州",
    "所在县（市、区）",
    "联系人",
    "联系电话",
];

fn sheet(rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let s = wb.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            s.write_string(r as u32 + 1, c as u16, cell).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn applicants(n: usize) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            let code = CreditCode::from_parts('9', '1', "430200", &format!("MA4L7{i:03}"))
                .unwrap()
                .as_str()
                .to_string();
            vec![
                format!("株洲测试促进会{i:02}"),
                "申报主体".into(),
                code,
                "株洲市".into(),
                "荷塘区".into(),
                "王五".into(),
                "0731-22334455".into(),
            ]
        })
        .collect()
}

impl Browser<'_> {
    async fn choose_file(&self, bytes: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "jiqun-import-{}.xlsx",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, bytes).unwrap();
        self.find("#import-file")
            .await
            .send_keys(&path.display().to_string())
            .await
            .expect("choose the Excel file");
        path
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_is_previewed_and_confirmed_and_the_list_is_filtered_paged_and_exported() {
    let app = support::spawn().await;
    let b = Browser::open(&app).await;
    b.login("sysadmin").await;
    b.nav("orgs").await;
    b.click("#import-orgs").await;
    assert_eq!(b.path().await, "/imports/organisations");

    // A file with one bad row: every row is shown, nothing can be confirmed.
    let mut bad = applicants(60);
    bad.push(vec![
        "代码有误促进会".into(),
        "申报主体".into(),
        "91430200MA4L0001".into(),
        "株洲市".into(),
        "荷塘区".into(),
        String::new(),
        String::new(),
    ]);
    let file = b.choose_file(&sheet(&bad)).await;
    b.click("#import-submit").await;
    assert!(b.path().await.starts_with("/imports/organisations/"));
    let summary = b.text("#import-summary").await;
    assert!(
        summary.contains("新增60条") && summary.contains("错误1条"),
        "{summary}"
    );
    assert!(!b.exists("#confirm-import").await);
    let last = b.text("#preview-table tr[data-action=error]").await;
    assert!(
        last.contains("第62行") && last.contains("【统一社会信用代码】"),
        "{last}"
    );
    b.screenshot("80-import-preview-with-an-error").await;
    let _ = std::fs::remove_file(file);

    // The corrected file: confirm, and the import says what it did.
    let file = b.choose_file(&sheet(&applicants(60))).await;
    b.click("#import-submit").await;
    assert!(b.text("#import-summary").await.contains("新增60条"));
    b.screenshot("81-import-preview").await;
    b.click("#confirm-import").await;
    assert!(
        b.text("#import-done")
            .await
            .contains("已导入：新增60条，更新0条")
    );
    b.screenshot("82-import-done").await;
    let _ = std::fs::remove_file(file);

    // The list: filter by city and keyword, sort by name downwards, page with the filter kept.
    b.click("#to-list").await;
    b.select("#list-filters select[name=city]", "430200").await;
    b.fill("#list-filters input[name=q]", "测试").await;
    b.click("#list-filters button[type=submit]").await;
    // The list is in name order; the header turns it round.
    b.click("#org-table a.sort[data-sort=name]").await;
    let first = rows(&b, "#org-table").await;
    assert_eq!(first.len(), 50);
    assert_eq!(first[0][0], "株洲测试促进会59");
    assert!(b.text("#pager").await.contains("共60个单位，第1/2页"));
    // No column wraps one character per line: every header cell is wider than two characters.
    let narrow: i64 = b
        .client
        .execute(
            "return [...document.querySelectorAll('#org-table th')].filter(th => th.getBoundingClientRect().width < 40).length;",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(narrow, 0);
    b.screenshot("83-orgs-filtered").await;
    b.click("#next-page").await;
    let second = rows(&b, "#org-table").await;
    assert_eq!(second.len(), 10);
    assert_eq!(second[0][0], "株洲测试促进会09");
    let url = b.url().await;
    let query = url.query().unwrap_or_default().to_string();
    assert!(
        query.contains("city=430200") && query.contains("sort=-name"),
        "{query}"
    );
    b.screenshot("84-orgs-page-2").await;

    // 导出Excel: the whole filtered set, fetched as the browser would download it.
    let href = b
        .find("#export-xlsx")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        href.contains("city=430200") && !href.contains("page="),
        "{href}"
    );
    let got = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch(arguments[0]).then(r => r.arrayBuffer().then(a => done([r.status, r.headers.get('content-type'), a.byteLength])))\
               .catch(e => done(['failed: ' + e]));",
            vec![serde_json::Value::String(href)],
        )
        .await
        .unwrap();
    assert_eq!(got[0], 200, "{got}");
    assert!(got[1].as_str().unwrap().contains("spreadsheetml"), "{got}");
    assert!(got[2].as_i64().unwrap() > 1000, "{got}");
    b.close().await;
}

impl Browser<'_> {
    /// Downloads a link's target as the browser would (its session cookie) and answers the bytes.
    async fn download(&self, css: &str) -> Vec<u8> {
        let href = self
            .find(css)
            .await
            .attr("href")
            .await
            .expect("read the link")
            .expect("a link with an href");
        let got = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 fetch(arguments[0]).then(r => r.arrayBuffer().then(a => done([r.status, Array.from(new Uint8Array(a))])))\
                   .catch(e => done(['failed: ' + e, []]));",
                vec![serde_json::Value::String(href.clone())],
            )
            .await
            .expect("fetch the download");
        assert_eq!(got[0], 200, "{href}");
        got[1]
            .as_array()
            .expect("the bytes")
            .iter()
            .map(|b| b.as_u64().unwrap_or_default() as u8)
            .collect()
    }
}

/// The data rows of the first sheet of an exported list (after its title and header rows).
fn exported_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .expect("the export opens as an Excel workbook");
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).expect("its first sheet");
    range
        .rows()
        .skip(2)
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lists_added_last_filter_by_year_kind_and_role_sort_certificates_and_export() {
    let app = support::spawn().await;
    let day = time::macros::date!(2026 - 03 - 09);
    super::rounds::set_date(&app, day);
    jiqun::demo::seed_showcase(&app.app).await.unwrap();
    support::designate(
        &app,
        "长沙工程机械产业集群",
        jiqun_domain::round::Designation::CultivationTarget,
        day,
        None,
    )
    .await;
    support::designate(
        &app,
        "岳阳石化产业集群",
        jiqun_domain::round::Designation::CultivationTarget,
        day,
        None,
    )
    .await;
    let b = Browser::open(&app).await;
    b.login("province").await;

    // Applications: the year and the policy's cluster kinds.
    b.goto("/applications").await;
    let year = day.year().to_string();
    b.fill("#year-filter", &year).await;
    b.select("#kind-filter", "specialty").await;
    b.click("#list-filters button[type=submit]").await;
    let listed = rows(&b, "#application-table").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0][0].contains("岳阳石化产业集群"), "{listed:?}");
    let query = b.url().await.query().unwrap_or_default().to_string();
    assert!(
        query.contains("kind=specialty") && query.contains(&format!("year={year}")),
        "{query}"
    );
    b.screenshot("85-applications-by-kind").await;

    // Certificates: 001 before 002.
    b.nav("certificates").await;
    let numbers: Vec<String> = rows(&b, "#certificate-list")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(numbers.len(), 2, "{numbers:?}");
    assert!(
        numbers[0].contains("第001号") && numbers[1].contains("第002号"),
        "{numbers:?}"
    );
    // Fixed column widths: no column is squeezed to one character per line.
    let narrow = b
        .js("return [...document.querySelectorAll('#certificate-list th')].filter(th => th.getBoundingClientRect().width < 60).length;")
        .await;
    assert_eq!(
        narrow, 0,
        "every column of the certificate list keeps its width"
    );
    // 导出Excel downloaded and opened: the same rows in the same order.
    let exported = exported_rows(b.download("#export-xlsx").await);
    let exported: Vec<String> = exported.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(exported, numbers);
    b.screenshot("86-certificates-in-number-order").await;

    // The objection list is one click away for the province.
    b.nav("objections").await;
    assert!(b.exists("#no-objections").await);
    assert!(b.text("#pager").await.contains("共0条异议"));
    b.close().await;

    // Users by role, as the system administrator filters them.
    let b = Browser::open(&app).await;
    b.login("sysadmin").await;
    b.nav("users").await;
    b.select("#role-filter", "expert").await;
    b.click("#list-filters button[type=submit]").await;
    let experts = rows(&b, "#user-table").await;
    assert!(!experts.is_empty());
    assert!(experts.iter().all(|r| r[2] == "评审专家"), "{experts:?}");
    b.screenshot("87-users-by-role").await;
    b.close().await;
}
