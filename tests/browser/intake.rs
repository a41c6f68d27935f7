//! The intake workflow end to end, as new users of each role would walk it (issue 4): the
//! province opens a competition call; the applicant registers its cluster, imports the member
//! enterprises from Excel, fills in and submits the application; the city bureau returns it; the
//! applicant corrects it and submits again; the city recommends it with the generated letter; the
//! province sees it in its overview and downloads the Excel list, which is read back here.
//!
//! Screenshots: artifacts/screenshots/{backend}-4N-{what}.png.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use calamine::{Data, Reader, Xlsx};
use jiqun_domain::credit_code::CreditCode;
use jiqun_rules::policy::{ValueType, builtin_policies};

use super::{Browser, rows, support};

const ORG: &str = "长沙工程机械产业集群促进会";
const CLUSTER: &str = "长沙工程机械产业集群";
const PARK: &str = "长沙经济技术开发区";
const RETURN_COMMENT: &str = "规上工业企业数与统计部门数据不一致，请核实后重新提交。";

/// A 1×1 PNG image (valid chunks and checksums).
const PNG: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A minimal well-formed one-page PDF, with a correct cross-reference table.
pub(crate) fn minimal_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ];
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        table.push_str(&format!("{off:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    pdf.extend_from_slice(table.as_bytes());
    pdf
}

/// A member list as the applicant would fill in the template: header, then one row per company.
fn member_workbook(path: &Path, members: &[(String, String)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "企业名称").expect("write the header");
    ws.write_string(0, 1, "统一社会信用代码")
        .expect("write the header");
    for (row, (name, code)) in (1u32..).zip(members) {
        ws.write_string(row, 0, name).expect("write a name");
        ws.write_string(row, 1, code).expect("write a code");
    }
    wb.save(path)
        .unwrap_or_else(|e| panic!("save {}: {e}", path.display()));
}

fn credit_code(body: &str) -> String {
    CreditCode::from_parts('9', '1', "430100", body)
        .unwrap_or_else(|e| panic!("a valid credit code from {body}: {e:?}"))
        .as_str()
        .to_string()
}

/// The id at the end of a path such as /clusters/12.
fn id_in(path: &str, prefix: &str) -> i64 {
    path.strip_prefix(prefix)
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("expected {prefix}<id>, got {path}"))
}

/// A local file for a file input, in a directory removed when the test ends.
struct Files(PathBuf);

impl Files {
    fn new() -> Files {
        let dir = std::env::temp_dir().join(format!(
            "jiqun-intake-files-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("create the upload temp dir");
        Files(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser<'_> {
    /// Chooses a local file in a file input and presses that form's button.
    async fn upload(&self, input: &str, button: &str, file: &Path) {
        self.find(input)
            .await
            .send_keys(&file.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choose {} in `{input}`: {e}", file.display()));
        self.click(button).await;
    }

    /// Ticks a checkbox (no page load).
    async fn tick(&self, css: &str) {
        let boxed = self.find(css).await;
        if !boxed.is_selected().await.expect("read a checkbox") {
            boxed
                .click()
                .await
                .unwrap_or_else(|e| panic!("tick `{css}`: {e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_application_goes_from_applicant_through_city_to_province() {
    let started = Instant::now();
    let app = support::spawn().await;
    let b = Browser::open(&app).await;
    let files = Files::new();
    let policy = builtin_policies()
        .expect("the built-in policies load")
        .into_iter()
        .find(|p| p.id() == "hunan-2021")
        .expect("the 2021 Measures are built in");

    // ---- The province opens the call, with deadlines a few days ahead (Beijing time). ----
    let beijing = time::macros::offset!(+8);
    let now = app.app.clock.now().to_offset(beijing);
    let local = |t: time::OffsetDateTime| {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    };
    let submission = local(now + time::Duration::days(5));
    let review = local(now + time::Duration::days(12));
    let title = format!(
        "关于组织开展{}年度湖南省先进制造业集群竞赛的通知",
        now.year()
    );
    b.login("province").await;
    b.nav("competitions").await;
    b.click("#new-competition").await;
    assert_eq!(b.path().await, "/competitions/new");
    assert_eq!(b.value("#year").await, now.year().to_string());
    assert_eq!(
        b.value("#policy_id").await,
        "hunan-2021",
        "the form offers the built-in policy"
    );
    b.fill("#title", &title).await;
    // Native datetime-local controls take typed keys field by field (and in the locale's
    // order); the value is set the way the control itself would set it.
    b.client
        .execute(
            "document.querySelector('#submission_deadline').value = arguments[0];\
             document.querySelector('#review_deadline').value = arguments[1];\
             return null;",
            vec![submission.clone().into(), review.clone().into()],
        )
        .await
        .expect("set the deadlines");
    assert_eq!(b.value("#submission_deadline").await, submission);
    assert_eq!(b.value("#review_deadline").await, review);
    b.fill(
        "#notice_text",
        "各市州工业和信息化局：\n现组织开展本年度先进制造业集群竞赛，请按通知要求组织申报。",
    )
    .await;
    // The shipped 2021 Measures ran out on 2026-04-06: the call records its 延续执行.
    b.fill(
        "#override_reason",
        "新的管理办法尚未印发，本年度竞赛延续执行2021年办法",
    )
    .await;
    b.fill("#override_document", "湘工信办函〔2026〕88号").await;
    // That year's own rules: a stricter 特色 threshold and a requirement shown to applicants.
    b.fill("#threshold-cluster_revenue-specialty", "120").await;
    b.fill("#requirements", "申报材料须经市州工信局盖章后上传。")
        .await;
    b.click("#competition-submit").await;
    let competition_id = id_in(&b.path().await, "/competitions/");
    assert_eq!(b.text("#flash").await, "竞赛通知已发布。");
    assert_eq!(b.text("#competition-title").await, title);
    // Shown the way people write it: 2026年12月11日 17:30.
    assert_eq!(
        b.text("#submission-deadline").await,
        format!(
            "{}（北京时间）",
            jiqun::clock::local_minutes(now + time::Duration::days(5))
        )
    );
    assert_eq!(
        b.text("#call-requirements").await,
        "申报材料须经市州工信局盖章后上传。"
    );
    assert!(
        b.text("#call-rules")
            .await
            .contains("特色产业集群：集群营业收入应不低于120亿元（办法规定≥100）")
    );
    b.screenshot("40-competition-published").await;
    b.logout().await;

    // ---- The applicant registers its cluster. ----
    b.login("applicant").await;
    b.nav("clusters").await;
    b.click("#new-cluster").await;
    assert_eq!(b.heading().await, "新建集群信息");
    b.fill("#name", CLUSTER).await;
    b.select("#kind", "leading").await;
    b.select("#industry_code", "C35").await;
    b.select("#lead_county_code", "430121").await;
    b.fill("#core_park", PARK).await;
    b.click("#cluster-submit").await;
    let cluster_id = id_in(&b.path().await, "/clusters/");
    assert_eq!(b.text("#flash").await, "集群信息已保存。");
    assert_eq!(b.text("#cluster-name").await, CLUSTER);
    assert_eq!(b.text("#cluster-kind").await, "优势产业集群");
    assert!(b.text("#cluster-industry").await.contains("C35"));
    assert_eq!(b.text("#cluster-lead-county").await, "长沙市长沙县");
    assert_eq!(b.text("#cluster-park").await, PARK);
    assert_eq!(b.text("#cluster-city").await, "长沙市工业和信息化局");
    assert!(b.exists("#no-members").await);

    // ---- Members from Excel: a list with one bad row imports nothing and names the row. ----
    let members: Vec<(String, String)> = [
        ("三一重工股份有限公司", "MA4L0001"),
        ("中联重科股份有限公司", "MA4L0002"),
        ("山河智能装备股份有限公司", "MA4L000X"),
    ]
    .iter()
    .map(|(name, body)| (name.to_string(), credit_code(body)))
    .collect();
    let mut bad = members.clone();
    let good_check = bad[1].1.chars().last().expect("18 characters");
    let wrong_check = if good_check == '1' { '2' } else { '1' };
    bad[1].1 = format!("{}{wrong_check}", &bad[1].1[..17]);
    let bad_file = files.path("成员企业名单（有误）.xlsx");
    member_workbook(&bad_file, &bad);
    let good_file = files.path("成员企业名单.xlsx");
    member_workbook(&good_file, &members);

    // The upload shows every row first: one error, so nothing can be confirmed.
    b.upload("#import-file", "#import-submit", &bad_file).await;
    assert!(b.path().await.starts_with("/imports/members/"));
    let summary = b.text("#import-summary").await;
    assert!(
        summary.contains("共3行")
            && summary.contains("错误1条")
            && summary.contains("不会写入任何数据"),
        "the preview explains that nothing will be written: {summary}"
    );
    let preview = rows(&b, "#preview-table").await;
    assert_eq!(preview.len(), 3, "{preview:?}");
    let wrong: Vec<&Vec<String>> = preview.iter().filter(|r| r[1] == "错误").collect();
    assert_eq!(wrong.len(), 1, "one error, in one row: {preview:?}");
    assert_eq!(wrong[0][0], "第3行", "the second company is on sheet row 3");
    assert!(
        wrong[0][3].contains("【统一社会信用代码】")
            && wrong[0][3].contains("校验码")
            && wrong[0][3].contains(&format!("应为“{good_check}”")),
        "the row error names the column and the right check character: {preview:?}"
    );
    assert!(
        !b.exists("#confirm-import").await,
        "an import with an error cannot be confirmed"
    );
    b.screenshot("41-member-import-errors").await;
    b.click("#back-to-list").await;
    assert!(
        b.exists("#no-members").await,
        "a list with an error imports none of its rows"
    );

    // The corrected list: three new rows, confirmed, listed on the cluster.
    b.upload("#import-file", "#import-submit", &good_file).await;
    assert!(b.text("#import-summary").await.contains("新增3条"));
    b.click("#confirm-import").await;
    assert!(b.text("#import-done").await.contains("新增3条"));
    b.click("#to-list").await;
    let listed = rows(&b, "#member-table").await;
    let listed: Vec<(String, String)> = listed
        .iter()
        .map(|r| (r[1].clone(), r[2].clone()))
        .collect();
    assert_eq!(listed, members, "the members as listed in the workbook");
    b.screenshot("42-members-imported").await;

    // ---- The application: start it for the cluster. ----
    b.nav("applications").await;
    assert!(
        b.text("#open-call").await.contains(&title),
        "the open call is offered"
    );
    b.select("#start-cluster", &cluster_id.to_string()).await;
    b.click("#start-application").await;
    let application_id = id_in(&b.path().await, "/applications/");
    assert_eq!(
        b.text("#application-title").await,
        format!("{CLUSTER} · {title}")
    );
    assert_eq!(b.text("#application-status").await, "草稿");
    let missing = b.text("#assessment").await;
    assert!(
        missing.contains("请填写“集群营业收入”") && missing.contains("请上传申请报告（PDF）"),
        "an empty application lists what is missing: {missing}"
    );

    // A picture is not a report: refused with the reason, nothing stored.
    let png_report = files.write("申请报告扫描件.png", &PNG);
    b.upload("#upload-report", "#upload-report-submit", &png_report)
        .await;
    assert_eq!(b.path().await, format!("/applications/{application_id}"));
    assert_eq!(
        b.text("#upload-error").await,
        "申请报告须为PDF文件，上传的文件实际为PNG图片"
    );
    assert!(
        rows(&b, "#attachments").await.is_empty(),
        "the refused file is not stored"
    );
    b.screenshot("43-report-refused").await;

    let report = files.write(&format!("{CLUSTER}申请报告.pdf"), &minimal_pdf());
    b.upload("#upload-report", "#upload-report-submit", &report)
        .await;
    assert!(!b.exists("#upload-error").await, "the PDF is accepted");
    let pledge = files.write("真实性承诺书（盖章）.png", &PNG);
    b.upload("#upload-pledge", "#upload-pledge-submit", &pledge)
        .await;
    assert!(!b.exists("#upload-error").await, "the scan is accepted");
    let stored: Vec<(String, String)> = rows(&b, "#attachments")
        .await
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        stored,
        vec![
            ("申请报告".to_string(), format!("{CLUSTER}申请报告.pdf")),
            (
                "真实性承诺书".to_string(),
                "真实性承诺书（盖章）.png".to_string()
            ),
        ]
    );

    // Every indicator, narrative and attestation; revenue below the threshold at first.
    for criterion in &policy.criteria {
        for ind in &criterion.indicators {
            let value = match (ind.key.as_str(), ind.value_type) {
                ("cluster_revenue", _) => "80",
                (_, ValueType::Text | ValueType::IndustryCode) => "C35",
                (_, ValueType::Percent) => "45.5",
                _ => "120",
            };
            b.fill(&format!("#ind-{}", ind.key), value).await;
        }
        b.fill(
            &format!("#nar-{}", criterion.key),
            &format!(
                "{}：集群围绕工程机械整机及关键零部件形成完整产业链。",
                criterion.name
            ),
        )
        .await;
    }
    for item in &policy.eligibility.negative_list {
        b.tick(&format!("#att-{}", item.key)).await;
    }
    b.click("#save-draft").await;
    assert_eq!(b.text("#saved").await, "草稿已保存。");
    let assessment = b.text("#assessment").await;
    assert!(
        assessment.contains("集群营业收入应不低于100亿元"),
        "the eligibility threshold is named: {assessment}"
    );
    assert_eq!(
        b.texts("#assessment li").await,
        vec!["不符合申报条件：集群营业收入应不低于100亿元".to_string()],
        "the threshold is the only problem left"
    );
    assert_eq!(
        b.text("p.field-error[data-error-for='indicators.cluster_revenue']")
            .await,
        "集群营业收入应不低于100亿元"
    );
    assert_eq!(b.value("#ind-cluster_revenue").await, "80", "input kept");
    b.screenshot("44-revenue-below-threshold").await;

    // Submitting as it stands is refused, and says why.
    b.tick("#submit-acknowledge").await;
    b.click("#submit-application").await;
    assert!(
        b.text("#general-error").await.contains("还不能提交"),
        "an ineligible application is not submitted"
    );
    assert_eq!(b.text("#application-status").await, "草稿");

    b.fill("#ind-cluster_revenue", "150").await;
    b.tick("#submit-acknowledge").await;
    b.click("#submit-application").await;
    assert_eq!(b.text("#application-status").await, "已提交，待市州初审");
    assert_eq!(b.text("#saved").await, "申报已提交，等待市州工信局初审。");
    assert!(
        !b.exists("#application-form").await,
        "a submitted application is no longer editable"
    );
    assert_eq!(
        b.text("#application-readonly td[data-indicator='cluster_revenue']")
            .await,
        "150"
    );
    b.screenshot("45-submitted").await;
    b.logout().await;

    // ---- The city bureau returns it with a comment. ----
    b.login("changsha").await;
    b.nav("reviews").await;
    let queue = rows(&b, "#review-table").await;
    // A 长株潭 cluster carries the policy grouping's tag beside its name.
    let tagged = format!("{CLUSTER} 长株潭");
    let row = queue
        .iter()
        .find(|r| r.get(1) == Some(&tagged))
        .unwrap_or_else(|| panic!("the city's queue lists the application: {queue:?}"));
    assert_eq!(row[2], ORG);
    assert_eq!(row[3], "长沙市长沙县");
    assert_eq!(row[4], "已提交，待市州初审");
    b.click(&format!(
        "#review-table a[href='/reviews/{application_id}']"
    ))
    .await;
    assert_eq!(b.heading().await, format!("初审：{CLUSTER}"));
    assert_eq!(b.text("#review-status").await, "已提交，待市州初审");
    b.fill("#return-comment", "").await;
    b.click("#return-submit").await;
    assert_eq!(
        b.text("p.field-error[data-error-for=comment]").await,
        "请填写退回修改意见",
        "a return needs a comment"
    );
    b.fill("#return-comment", RETURN_COMMENT).await;
    b.click("#return-submit").await;
    assert_eq!(b.text("#review-status").await, "已退回修改");
    b.logout().await;

    // ---- The applicant is told, corrects one figure and submits again. ----
    b.login("applicant").await;
    assert_eq!(
        b.text("#bell #unread-count").await,
        "1",
        "the bell counts the new notification"
    );
    b.click("#bell").await;
    let notes = rows(&b, "#notification-table").await;
    assert!(
        notes
            .iter()
            .any(|n| n[1].contains(&format!("申报被退回修改：{CLUSTER}"))
                && n[1].contains(RETURN_COMMENT)),
        "the notification names the cluster and the comment: {notes:?}"
    );
    assert_eq!(notes.len(), 1, "one notification so far: {notes:?}");
    b.click("#notification-table a[href$='/open']").await;
    assert_eq!(b.path().await, format!("/applications/{application_id}"));
    assert!(
        !b.exists("#bell #unread-count").await,
        "opening the notification marks it read"
    );
    assert_eq!(b.text("#application-status").await, "已退回修改");
    assert_eq!(
        b.text("#return-comment").await,
        format!("市州退回意见：{RETURN_COMMENT}")
    );
    assert_eq!(b.value("#ind-above_scale_enterprises").await, "120");
    b.screenshot("46-returned-to-applicant").await;
    b.fill("#ind-above_scale_enterprises", "126").await;
    b.tick("#submit-acknowledge").await;
    b.click("#submit-application").await;
    assert_eq!(b.text("#application-status").await, "已提交，待市州初审");
    // 办理记录 in Chinese: each step by its name, dates as people write them.
    let history = rows(&b, "#history").await;
    let actions: Vec<&str> = history.iter().map(|r| r[2].as_str()).collect();
    assert!(
        actions.contains(&"提交") && actions.contains(&"退回修改"),
        "the history names its steps in Chinese: {history:?}"
    );
    assert!(
        history
            .iter()
            .all(|r| !r[2].is_ascii() && r[0].contains('年') && r[0].contains('日')),
        "no stored key and no ISO date in the history: {history:?}"
    );
    b.nav("applications").await;
    let mine = rows(&b, "#application-table").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0][2], "已提交，待市州初审");
    assert_eq!(mine[0][3], "2", "submitted twice");
    b.logout().await;

    // ---- The city sees what changed and recommends it with the generated letter. ----
    b.login("changsha").await;
    b.goto(&format!("/reviews/{application_id}")).await;
    let changes = b.text("#changes").await;
    assert!(
        changes.contains("第2次提交") && changes.contains("修改前") && changes.contains("修改后"),
        "{changes}"
    );
    assert_eq!(
        rows(&b, "#changes").await,
        vec![vec![
            "规上工业企业数（家）".to_string(),
            "120".to_string(),
            "126".to_string()
        ]],
        "exactly the corrected figure is shown as changed"
    );
    b.screenshot("47-city-sees-changes").await;
    assert!(
        b.find("#letter-generated")
            .await
            .is_selected()
            .await
            .expect("read the radio button"),
        "with no uploaded letter, the generated draft is preselected"
    );
    b.tick("#letter-generated").await;
    b.tick("#decide-acknowledge").await;
    b.click("#recommend-submit").await;
    assert_eq!(b.text("#review-status").await, "已推荐至省工信厅");
    b.click("#letter-draft").await;
    assert_eq!(b.path().await, format!("/reviews/{application_id}/letter"));
    let letter = b.text("#letter").await;
    for expected in ["湖南省工业和信息化厅：", CLUSTER, PARK, &title, "（盖章）"] {
        assert!(
            letter.contains(expected),
            "the letter contains {expected}: {letter}"
        );
    }
    b.screenshot("48-recommendation-letter").await;
    b.goto("/").await;
    b.logout().await;

    // ---- The province sees it under 长沙市 and downloads the list. ----
    b.login("province").await;
    b.nav("recommended").await;
    assert_eq!(b.value("#competition_id").await, competition_id.to_string());
    assert_eq!(b.text("#recommended-total").await, "1");
    assert_eq!(
        b.text("#city-counts tr[data-city='430100'] td.count").await,
        "1"
    );
    assert_eq!(b.text("#city-430100").await, "长沙市（1）");
    let listed = rows(&b, "#recommended-table").await;
    let row = listed
        .iter()
        .find(|r| r.first().map(String::as_str) == Some(CLUSTER))
        .unwrap_or_else(|| panic!("the cluster is listed: {listed:?}"));
    assert_eq!(row[1], ORG);
    assert_eq!(row[2], "长沙县");
    assert_eq!(row[3], "优势产业集群");
    assert!(row[4].starts_with("C35"), "{row:?}");
    assert_eq!(row[5], "150.00");
    assert_eq!(row[8], "已推荐至省工信厅");
    assert!(
        b.exists(&format!(
            "#city-430100 ~ tr[data-application='{application_id}']"
        ))
        .await
    );
    // The list under its city, below the 14-city count table.
    b.client
        .execute(
            "document.querySelector('#recommended-table').scrollIntoView(); return null;",
            vec![],
        )
        .await
        .expect("scroll to 长沙市");
    b.screenshot("49-province-recommended").await;

    let href = b
        .find("#export-xlsx")
        .await
        .attr("href")
        .await
        .expect("read the export link")
        .expect("the export link has an address");
    assert_eq!(
        href,
        format!("/recommended.xlsx?competition_id={competition_id}")
    );
    let session = b
        .client
        .get_named_cookie("jiqun_session")
        .await
        .expect("the browser holds the session cookie");
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
        .get(app.url(&href))
        .header(
            reqwest::header::COOKIE,
            format!("jiqun_session={}", session.value()),
        )
        .send()
        .await
        .expect("download the list");
    assert_eq!(resp.status(), 200, "the province may download the list");
    assert_eq!(
        resp.headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let disposition = resp
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".xlsx"),
        "{disposition}"
    );
    let bytes = resp.bytes().await.expect("read the workbook");
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a valid .xlsx");
    assert_eq!(workbook.sheet_names(), vec!["推荐名单", "按市州统计"]);
    let sheet = workbook.worksheet_range("推荐名单").expect("read 推荐名单");
    let text = |row: u32, col: u32| match sheet.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("cell ({row}, {col}) should be text, not {other:?}"),
    };
    assert!(text(0, 0).contains(&title), "the title row names the call");
    let header: Vec<String> = (0..10).map(|col| text(1, col)).collect();
    assert_eq!(
        header,
        [
            "序号",
            "市州",
            "集群名称",
            "申报主体",
            "牵头县（市、区）",
            "集群类型",
            "主导产业",
            "集群营业收入（亿元）",
            "推荐时间",
            "超限说明",
        ]
    );
    assert_eq!(sheet.get_value((2, 0)), Some(&Data::Float(1.0)));
    assert_eq!(text(2, 1), "长沙市");
    assert_eq!(text(2, 2), CLUSTER);
    assert_eq!(text(2, 3), ORG);
    assert_eq!(text(2, 4), "长沙县");
    assert_eq!(text(2, 5), "优势产业集群");
    assert!(text(2, 6).starts_with("C35"));
    assert_eq!(
        sheet.get_value((2, 7)),
        Some(&Data::Float(150.0)),
        "the revenue is a number"
    );
    assert!(
        matches!(sheet.get_value((2, 8)), Some(Data::DateTime(_))),
        "the recommendation time is an Excel date-time: {:?}",
        sheet.get_value((2, 8))
    );
    assert_eq!(
        sheet.get_value((3, 2)),
        None,
        "one application recommended, one row"
    );
    let counts = workbook
        .worksheet_range("按市州统计")
        .expect("read 按市州统计");
    let changsha = (1..=14)
        .find(|&r| counts.get_value((r, 0)) == Some(&Data::String("长沙市".into())))
        .expect("长沙市 is counted");
    assert_eq!(counts.get_value((changsha, 1)), Some(&Data::Float(1.0)));
    assert_eq!(
        counts.get_value((15, 0)),
        Some(&Data::String("合计".into()))
    );
    assert_eq!(counts.get_value((15, 1)), Some(&Data::Float(1.0)));

    b.goto("/").await;
    b.logout().await;
    b.close().await;
    eprintln!(
        "intake walk-through on {} took {:.1} s",
        support::backend(),
        started.elapsed().as_secs_f64()
    );
}
