//! What people read: stored keys shown in Chinese, one date style (2026年12月4日 14:05), public
//! pages that stand on their own (their 404, their icon).

use crate::fixtures::{confirmed_round, get_page};
use crate::support;
use sea_orm::EntityTrait;

/// Whether `text` shows a date the ISO way ("2026-12-04") outside form values and addresses.
fn shows_iso_date(text: &str) -> Option<String> {
    let visible = strip_tags(text);
    let chars: Vec<char> = visible.chars().collect();
    chars.windows(10).find_map(|w| {
        let s: String = w.iter().collect();
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        (s.is_ascii()
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10))
        .then_some(s)
    })
}

/// The text between tags, without scripts, styles or attribute values.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_audit_read_in_chinese_with_dates_written_the_chinese_way() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;

    // The applicant's 办理记录 names each step, never its stored key.
    let applicant = support::page_login(&t, "applicant").await;
    let (status, html) = get_page(
        &applicant,
        &t,
        &format!("/applications/{}", f.applications[0]),
    )
    .await;
    assert_eq!(status, 200);
    let history = &html[html.find("办理记录").expect("history section")..];
    assert!(
        history.contains("<td>公示</td>") && history.contains("<td>确定</td>"),
        "{history}"
    );
    for key in ["<td>publish_notice</td>", "<td>confirm</td>"] {
        assert!(!history.contains(key), "{key} shown as a stored key");
    }
    assert_eq!(shows_iso_date(&html), None, "the application page");

    // The audit log: actions and objects by name, times as 2026年12月4日 09:00:00.
    let auditor = support::page_login(&t, "auditor").await;
    let (status, html) = get_page(&auditor, &t, "/audit").await;
    assert_eq!(status, 200);
    let table = &html[html.find("id=\"audit-table\"").expect("audit table")..];
    assert!(
        table.contains("双因素认证通过"),
        "login.mfa_success by name"
    );
    assert!(table.contains("确认名单"), "round.confirm by name");
    assert!(table.contains("账户（编号"), "objects by name and number");
    assert!(!table.contains(">login.mfa_success<") && !table.contains("user#"));
    assert!(
        table.contains("2026年12月"),
        "times written the Chinese way"
    );
    assert_eq!(shows_iso_date(table), None, "the audit table");
    // The stored key stays what a filter matches on.
    let (_, filtered) = get_page(&auditor, &t, "/audit?action=round.confirm").await;
    assert!(filtered.contains("确认名单"));
    assert!(!filtered[filtered.find("id=\"audit-table\"").unwrap()..].contains("双因素认证通过"));
    // The export keeps both: the name for people, the key for machines.
    let (_, csv) = get_page(&auditor, &t, "/audit/export?action=round.confirm").await;
    assert!(csv.contains("操作,操作代码"), "{csv}");
    assert!(csv.contains("确认名单,round.confirm"), "{csv}");

    // Notices, announcements and certificates carry their dates the same way.
    let province = support::page_login(&t, "province").await;
    for path in [
        "/notices".to_string(),
        format!("/notices/{}", f.round_id),
        "/announcements".to_string(),
        format!("/rounds/{}/notice", f.round_id),
        "/certificates".to_string(),
    ] {
        let (status, html) = get_page(&province, &t, &path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(shows_iso_date(&html), None, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_gets_its_own_404_and_every_page_an_icon() {
    let t = support::spawn().await;
    let (status, html) = get_page(&support::client(), &t, "/no-such-page").await;
    assert_eq!(status, 404);
    assert!(html.contains("页面不存在"));
    assert!(html.contains("href=\"/notices\"") && html.contains("href=\"/announcements\""));
    assert!(!html.contains("返回工作台"), "a visitor has no workbench");
    let staff = support::page_login(&t, "applicant").await;
    let (status, html) = get_page(&staff, &t, "/no-such-page").await;
    assert_eq!(status, 404);
    assert!(html.contains("返回工作台"));

    assert!(html.contains("rel=\"icon\" href=\"/static/favicon.svg\""));
    let res = reqwest::get(t.url("/static/favicon.svg")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.text().await.unwrap().starts_with("<svg"));
}

/// Every page names the installation and its department from the settings (by default the
/// shipped policy's title and issuer), not from words written into the code; the footer no
/// longer cites the expired 2021 Measures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_name_the_installation_from_its_settings() {
    let t = support::spawn().await;
    let site = jiqun::config::site();
    let (_, html) = get_page(&support::client(), &t, "/login").await;
    assert!(html.contains(&format!("- {}</title>", site.name)), "{html}");
    assert!(
        html.contains(&format!(
            "<span id=\"footer-department\">{}</span>",
            site.department
        )),
        "{html}"
    );
    let footer = &html[html.find("<footer>").expect("footer")..];
    assert!(!footer.contains("2021"), "{footer}");
    let api: serde_json::Value = reqwest::get(t.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["info"]["title"], format!("jiqun {} API", site.name));
}

/// The province's to-dos name the next step of each competition and round and lead to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_workbench_names_each_next_step_and_links_to_it() {
    let todo = |html: &str, label: &str, href: &str| {
        assert!(
            html.contains(&format!("<a href=\"{href}\">{label}</a>")),
            "to-do “{label}” → {href} in: {}",
            &html[html.find("id=\"todos\"").unwrap_or(0)..]
        );
    };
    // Recommended clusters wait for a 初赛 to be opened.
    let t = support::spawn().await;
    let show = crate::fixtures::showcase(&t).await;
    let province = support::page_login(&t, "province").await;
    let (_, html) = get_page(&province, &t, "/").await;
    todo(
        &html,
        "待开设初赛（3个集群已推荐）",
        &format!("/competitions/{}/rounds/new", show.competition_id),
    );
    assert!(!html.contains("待省级审核"));

    // A proposed list waits for its notice; a notice past its window for confirmation.
    let t = support::spawn().await;
    let f = crate::fixtures::proposed_round(&t).await;
    let province = support::page_login(&t, "province").await;
    let (_, html) = get_page(&province, &t, "/").await;
    todo(
        &html,
        "待发布公示（初赛拟定名单）",
        &format!("/rounds/{}/notice", f.round_id),
    );
    // The round's pages show where it stands: the list is fixed, 公示 is the step at hand.
    for path in [
        format!("/rounds/{}", f.round_id),
        format!("/rounds/{}/notice", f.round_id),
    ] {
        let (_, html) = get_page(&province, &t, &path).await;
        let steps = &html[html.find("id=\"round-steps\"").expect("step indicator")..];
        let steps = &steps[..steps.find("</ol>").unwrap()];
        assert!(
            steps.contains("<li class=\"done\">确定拟定名单</li>"),
            "{steps}"
        );
        assert!(
            steps.contains("<li class=\"current\" aria-current=\"step\">公示</li>"),
            "{steps}"
        );
        assert!(
            steps.contains("<li class=\"ahead\">确认名单</li>"),
            "{steps}"
        );
    }
    let t = support::spawn().await;
    let f = crate::fixtures::published_round(&t, time::macros::date!(2026 - 11 - 27)).await;
    crate::fixtures::forward_to(&t, time::macros::date!(2026 - 12 - 04));
    let province = support::page_login(&t, "province").await;
    let (_, html) = get_page(&province, &t, "/").await;
    todo(
        &html,
        "公示期满待确认（初赛名单）",
        &format!("/rounds/{}/notice", f.round_id),
    );
}

/// The users list filters by role and pages fifty at a time, keeping the filter across pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_list_filters_by_role_and_pages() {
    let t = support::spawn().await;
    let admin = crate::token(&t, "sysadmin").await;
    let dept = crate::org_id(&t, "湖南省工业和信息化厅").await;
    for i in 0..30 {
        let (status, v) = crate::call(
            &t,
            &admin,
            "POST",
            "/api/v1/users",
            Some(serde_json::json!({
                "username": format!("clerk{i:02}"),
                "display_name": format!("办事员{i:02}"),
                "org_id": dept,
                "role": "province",
            })),
        )
        .await;
        assert_eq!(status, 200, "{v}");
    }
    let page = support::page_login(&t, "sysadmin").await;
    let (status, html) = get_page(&page, &t, "/users").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<tr><td><a href=\"/users/").count(), 50);
    assert!(html.contains("第1/2页"), "{html}");
    let (_, second) = get_page(&page, &t, "/users?page=2").await;
    assert!(second.contains("第2/2页") && second.contains("clerk29"));
    // By role: the province's 31 accounts on one page, the role kept in the links.
    let (_, html) = get_page(&page, &t, "/users?role=province").await;
    assert!(html.contains("共31个账户，第1/1页"), "{html}");
    assert!(!html.contains(">expert<"));
    assert!(html.contains("<option value=\"province\" selected>"));
    let (status, html) = get_page(&page, &t, "/users?role=nobody").await;
    assert_eq!(status, 422);
    assert!(html.contains("角色“nobody”无效"));
}

/// The city's 初审 queue shows one year at a time, the newest first, with a way to see the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_queue_shows_one_call_at_a_time() {
    let t = support::spawn().await;
    let show = crate::fixtures::showcase(&t).await;
    let city = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&city, &t, "/reviews").await;
    assert_eq!(status, 200);
    let year = jiqun::store::entity::competition::Entity::find_by_id(show.competition_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .year;
    assert!(
        html.contains(&format!("<option value=\"{year}\" selected>")),
        "the newest year is shown: {html}"
    );
    assert!(html.contains("长沙工程机械产业集群"));
    let (_, all) = get_page(&city, &t, "/reviews?year=all").await;
    assert!(
        all.contains("<option value=\"all\" selected>") && all.contains("长沙工程机械产业集群")
    );
    let (_, other) = get_page(&city, &t, "/reviews?year=2001").await;
    assert!(
        !other.contains("长沙工程机械产业集群"),
        "another year's queue is empty"
    );
}
