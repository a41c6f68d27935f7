//! A whole 初赛 and a later 决赛 as new users walk them (issue 5): the province opens the round
//! from the competition page, picks a panel and assigns experts automatically; three experts
//! score; the province fixes the proposed list and publishes the notice; a member of the public
//! objects with evidence; the province dismisses the objection; once the notice window has
//! closed (the test clock moves, nothing sleeps) the province confirms the list and the cluster
//! shows as 培育对象; half a year later a 决赛 certifies it, and the certificate PDF carries the
//! right Chinese text, read back with `pdftotext`.
//!
//! Screenshots: artifacts/screenshots/{backend}-5N-{what}.png.

use jiqun::store::id::{ClusterId, CompetitionId, ExpertId, RoundId};
use std::process::Command;
use std::time::Instant;

use jiqun::store::entity::{cluster, expert, round};
use jiqun_rules::policy::builtin_policies;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{Browser, support};

const LEADING_WINNER: &str = "长沙工程机械产业集群";
const LEADING_WINNER_ORG: &str = "长沙工程机械产业集群促进会";
const LEADING_OTHER: &str = "株洲轨道交通装备产业集群";
const SPECIALTY: &str = "岳阳石化产业集群";
/// The panel: three experts from cities none of the demo clusters is led from.
const PANEL: [&str; 3] = ["expert2", "expert3", "expert4"];
const OBJECTION_REASON: &str = "该集群申报材料中的营业收入数据与统计年鉴不一致，请核实。";
const DISMISSAL: &str = "经核实，申报数据与统计部门出具的证明一致，异议不成立。";

/// The share of each criterion's maximum an expert gives a cluster: 长沙 leads its kind.
fn share_for(cluster_name: &str) -> f64 {
    match cluster_name {
        LEADING_WINNER => 0.9,
        LEADING_OTHER => 0.75,
        _ => 0.85,
    }
}

/// The id at the end of a path such as /rounds/12.
fn id_in<T: std::str::FromStr>(path: &str, prefix: &str) -> T {
    path.strip_prefix(prefix)
        .and_then(|id| id.split('/').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("expected {prefix}<id>, got {path}"))
}

/// "YYYY-MM-DDTHH:MM" in Beijing time, as a datetime-local control holds it.
fn local(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::macros::offset!(+8));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

impl Browser<'_> {
    /// Sets datetime-local controls the way the control itself would.
    async fn set_values(&self, pairs: &[(&str, String)]) {
        for (css, value) in pairs {
            self.client
                .execute(
                    "document.querySelector(arguments[0]).value = arguments[1]; return null;",
                    vec![(*css).into(), value.clone().into()],
                )
                .await
                .unwrap_or_else(|e| panic!("set {css}: {e}"));
        }
    }

    /// Ticks a checkbox (no page load).
    pub(crate) async fn check(&self, css: &str) {
        let boxed = self.find(css).await;
        if !boxed.is_selected().await.expect("read a checkbox") {
            boxed
                .click()
                .await
                .unwrap_or_else(|e| panic!("tick `{css}`: {e}"));
        }
    }

    /// The province opens a round of the competition from its page and lands on the round.
    pub(crate) async fn open_round(
        &self,
        competition_id: CompetitionId,
        kind: &str,
        quotas: &[(&str, u32)],
    ) -> RoundId {
        self.goto(&format!("/competitions/{competition_id}")).await;
        self.click("#open-round").await;
        self.select("#kind", kind).await;
        self.fill("#experts_per_application", "3").await;
        self.fill(
            "#panel_note",
            "演示评审：本轮专家库规模有限，每个集群由3名专家评审。",
        )
        .await;
        for (kind, n) in quotas {
            self.fill(&format!("#quota_{kind}"), &n.to_string()).await;
        }
        let now = self.app.app.clock.now();
        self.set_values(&[
            ("#scoring_opens_at", local(now - time::Duration::hours(1))),
            ("#scoring_closes_at", local(now + time::Duration::days(7))),
        ])
        .await;
        self.click("#open-round-submit").await;
        id_in(&self.path().await, "/rounds/")
    }

    /// Puts the three panel experts on the round, assigns automatically and opens scoring.
    pub(crate) async fn panel_assign_and_open(&self, round_id: RoundId, shot: &str) {
        for username in PANEL {
            let id = expert_id(self.app, username).await;
            self.check(&format!("#expert-{id}")).await;
        }
        self.click("#save-panel").await;
        self.click("#auto-assign").await;
        assert!(
            !self.exists("#shortfalls li").await,
            "every entrant gets its three experts: {}",
            self.text("main").await
        );
        self.screenshot(shot).await;
        self.check("#open-scoring-acknowledge").await;
        self.click("#open-scoring").await;
        assert_eq!(self.path().await, format!("/rounds/{round_id}"));
        assert!(
            self.text("#round-status").await.contains("专家评分中"),
            "scoring is open: {}",
            self.text("#round-status").await
        );
    }

    /// An expert signs in and scores every assignment open to them, then submits each.
    async fn score_everything(&self, username: &str, criteria: &[(String, u32)]) -> usize {
        self.login(username).await;
        self.nav("scoring").await;
        let mut links = Vec::new();
        for row in self
            .client
            .find_all(fantoccini::Locator::Css("#assignment-table tbody tr"))
            .await
            .expect("list the assignments")
        {
            let cells = row
                .find_all(fantoccini::Locator::Css("td"))
                .await
                .expect("cells");
            let name = cells[1].text().await.expect("cluster name");
            let status = cells[3]
                .attr("data-status")
                .await
                .expect("read the sheet status")
                .unwrap_or_default();
            if status == "submitted" {
                continue; // an earlier round's sheet
            }
            let id = row
                .attr("data-assignment")
                .await
                .expect("read the assignment")
                .unwrap_or_default();
            links.push((id, name));
        }
        for (id, name) in &links {
            self.goto(&format!("/scoring/{id}")).await;
            let share = share_for(name);
            for (key, max) in criteria {
                let value = (f64::from(*max) * share * 10.0).round() / 10.0;
                self.fill(&format!("#score-{key}"), &value.to_string())
                    .await;
            }
            self.fill("#comment", &format!("{name}：材料翔实，特色鲜明。"))
                .await;
            self.check("#submit-sheet-acknowledge").await;
            self.click("#submit-sheet").await;
            assert!(
                self.exists("#sheet-readonly").await,
                "{username}'s sheet for {name} is locked after submitting: {}",
                self.text("main").await
            );
        }
        self.logout().await;
        links.len()
    }

    /// The province fixes the proposed list from the ranking and publishes the notice; returns
    /// the notice period as the page states it.
    async fn propose_and_publish(&self, round_id: RoundId, shot: &str) -> String {
        self.goto(&format!("/rounds/{round_id}/ranking")).await;
        self.screenshot(shot).await;
        self.check("#propose-acknowledge").await;
        self.click("#propose-submit").await;
        self.goto(&format!("/rounds/{round_id}/notice")).await;
        self.check("#publish-acknowledge").await;
        self.click("#publish-submit").await;
        self.text("#notice-period").await
    }

    /// After the window, the province confirms the list.
    async fn confirm(&self, round_id: RoundId) {
        self.goto(&format!("/rounds/{round_id}/notice")).await;
        self.check("#confirm-acknowledge").await;
        self.click("#confirm-submit").await;
        assert!(
            self.text("#round-status").await.contains("结果已确定"),
            "the list is confirmed: {}",
            self.text("main").await
        );
    }
}

async fn expert_id(app: &support::TestApp, username: &str) -> ExpertId {
    let user = jiqun::store::entity::user::Entity::find()
        .filter(jiqun::store::entity::user::Column::Username.eq(username))
        .one(&app.app.db)
        .await
        .expect("query users")
        .expect("demo expert account");
    expert::Entity::find()
        .filter(expert::Column::UserId.eq(user.id))
        .one(&app.app.db)
        .await
        .expect("query the pool")
        .expect("demo expert in the pool")
        .id
}

async fn lifecycle_of(app: &support::TestApp, name: &str) -> (ClusterId, String) {
    let c = cluster::Entity::find()
        .filter(cluster::Column::Name.eq(name))
        .one(&app.app.db)
        .await
        .expect("query clusters")
        .expect("demo cluster");
    (c.id, c.lifecycle.key().to_string())
}

/// Moves the server clock to `date` 10:00 Beijing time.
pub(crate) fn set_date(app: &support::TestApp, date: time::Date) {
    let target = time::PrimitiveDateTime::new(date, time::macros::time!(10:00))
        .assume_offset(time::macros::offset!(+8));
    let now = app.app.clock.now();
    app.app.clock.advance(target - now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preliminary_round_then_a_final_round_designate_and_certify_a_cluster() {
    let started = Instant::now();
    let app = support::spawn().await;
    // The round runs in March 2026: a notice window of ordinary working days.
    set_date(&app, time::macros::date!(2026 - 03 - 09));
    let show = jiqun::demo::seed_showcase(&app.app)
        .await
        .expect("seed the showcase competition");
    let policy = builtin_policies()
        .expect("the built-in policies load")
        .into_iter()
        .find(|p| p.id() == "hunan-2021")
        .expect("the 2021 Measures are built in");
    let criteria: Vec<(String, u32)> = policy
        .criteria
        .iter()
        .map(|c| (c.key.clone(), c.max_score))
        .collect();
    let b = Browser::open(&app).await;
    b.goto("/login").await;
    b.check_public_page("49-login").await;

    // ---- 初赛: open, panel, automatic assignment, scoring opens. ----
    b.login("province").await;
    let round_id = b
        .open_round(
            show.competition_id,
            "preliminary",
            &[("leading", 1), ("specialty", 1)],
        )
        .await;
    assert!(b.text("#round-title").await.contains("初赛"));
    assert_eq!(b.texts("#entry-table tbody tr").await.len(), 3);
    b.panel_assign_and_open(round_id, "50-preliminary-assigned")
        .await;
    b.logout().await;

    // ---- Three experts score every entrant. ----
    for username in PANEL {
        assert_eq!(
            b.score_everything(username, &criteria).await,
            3,
            "{username} judges all three entrants"
        );
    }

    // ---- Rank, fix the proposed list, publish the notice (Monday 9 March). ----
    b.login("province").await;
    let period = b
        .propose_and_publish(round_id, "51-preliminary-ranking")
        .await;
    assert!(
        period.contains("2026年3月9日") && period.contains("2026年3月13日"),
        "5 working days from Monday 9 March end on Friday 13 March: {period}"
    );
    b.screenshot("52-notice-published").await;
    b.logout().await;

    // ---- A member of the public objects, with evidence. ----
    b.goto(&format!("/notices/{round_id}")).await;
    let listed = b.text("#notice-entries").await;
    assert!(listed.contains(LEADING_WINNER) && listed.contains(SPECIALTY));
    assert!(
        !listed.contains(LEADING_OTHER),
        "only the proposed list is published"
    );
    b.check_public_page("52-notice-public").await;
    // An objection sent without its particulars comes back to the form, not the page's top.
    b.click("#objection-submit").await;
    assert!(b.exists("#form-error").await, "the refusal is shown");
    assert_eq!(
        b.url().await.fragment(),
        Some("objection"),
        "the answer opens at the objection form"
    );
    b.check_public_page("52-objection-refused").await;
    b.fill("#name", "王建国").await;
    b.fill("#organisation", "湖南某某咨询有限公司").await;
    b.fill("#contact", "13907310000").await;
    let entry = b
        .client
        .execute(
            "return [...document.querySelectorAll('#entry_id option')]\
               .find(o => o.textContent.includes(arguments[0])).value;",
            vec![LEADING_WINNER.into()],
        )
        .await
        .expect("find the objected candidate")
        .as_str()
        .unwrap_or_default()
        .to_string();
    b.select("#entry_id", &entry).await;
    b.fill("#reason", OBJECTION_REASON).await;
    let evidence =
        std::env::temp_dir().join(format!("jiqun-evidence-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&evidence, super::intake::minimal_pdf()).expect("write the evidence file");
    b.find("#evidence")
        .await
        .send_keys(&evidence.display().to_string())
        .await
        .expect("choose the evidence file");
    b.screenshot("53-objection-form").await;
    b.click("#objection-submit").await;
    let receipt = b.text("#receipt-number").await;
    assert!(!receipt.is_empty(), "the objector gets a receipt number");
    b.screenshot("54-objection-receipt").await;
    let _ = std::fs::remove_file(&evidence);

    // ---- The province registers and dismisses it with a written reply. ----
    b.login("province").await;
    b.goto(&format!("/rounds/{round_id}/objections")).await;
    let listed = b.text("main").await;
    assert!(listed.contains(OBJECTION_REASON) && listed.contains("王建国"));
    b.fill(
        "textarea[name='reply']",
        "已登记，转请长沙市工业和信息化局核实。",
    )
    .await;
    b.click("button[data-action='register']").await;
    assert!(b.text("main").await.contains("调查核实中"));
    b.fill("textarea[name='reply']", DISMISSAL).await;
    b.check("input[id^='objection-acknowledge-']").await;
    b.click("button[data-action='dismiss']").await;
    assert!(b.text("main").await.contains("异议不成立"));
    b.screenshot("55-objection-dismissed").await;
    // Confirmation waits for the window.
    b.goto(&format!("/rounds/{round_id}/notice")).await;
    assert!(
        b.text("#confirm-blocker")
            .await
            .contains("公示期满后方可确认名单"),
        "{}",
        b.text("main").await
    );
    b.logout().await;

    // ---- The window closes (Monday 16 March); the province confirms. ----
    set_date(&app, time::macros::date!(2026 - 03 - 16));
    b.login("province").await;
    b.confirm(round_id).await;
    b.screenshot("56-preliminary-confirmed").await;
    b.logout().await;
    b.goto("/notices").await;
    b.check_public_page("56-notice-list").await;
    b.goto("/announcements").await;
    b.check_public_page("56-announcement-list").await;
    b.goto(&format!("/announcements/{round_id}")).await;
    b.check_public_page("56-announcement").await;
    let (cluster_id, lifecycle) = lifecycle_of(&app, LEADING_WINNER).await;
    assert_eq!(lifecycle, "cultivation");
    b.login("applicant").await;
    b.goto(&format!("/clusters/{cluster_id}")).await;
    assert_eq!(b.text("#cluster-lifecycle").await, "培育对象");
    b.screenshot("57-cluster-cultivation-target").await;
    b.logout().await;

    // ---- Half a year later: the 决赛 opens (Monday 21 September); the finalists submit their
    // 决赛申报材料 by Friday 25 September; scoring opens on Monday 28 September. ----
    set_date(&app, time::macros::date!(2026 - 09 - 21));
    b.login("province").await;
    let final_id = b
        .open_final(
            show.competition_id,
            "2026-09-25",
            "2026-09-28T08:00",
            "2026-10-05T17:30",
        )
        .await;
    assert!(b.text("#round-title").await.contains("决赛"));
    assert_eq!(
        b.texts("#entry-table tbody tr").await.len(),
        2,
        "the two cultivation targets enter the final"
    );
    b.panel_assign_and_open(final_id, "58-final-assigned").await;
    b.logout().await;
    b.submit_final_materials("applicant", Some("58-final-materials"))
        .await;
    b.submit_final_materials("applicant2", None).await;
    set_date(&app, time::macros::date!(2026 - 09 - 28));
    for username in PANEL {
        assert_eq!(b.score_everything(username, &criteria).await, 2);
    }
    b.sees_before_after(PANEL[0], LEADING_WINNER, "58-final-before-after")
        .await;
    b.login("province").await;
    let period = b.propose_and_publish(final_id, "59-final-ranking").await;
    // 国庆 falls inside: 28, 29, 30 September, then 8 and 9 October after the holiday.
    assert!(
        period.contains("2026年9月28日") && period.contains("2026年10月9日"),
        "{period}"
    );
    b.logout().await;
    set_date(&app, time::macros::date!(2026 - 10 - 12));
    b.login("province").await;
    b.confirm(final_id).await;
    let (_, lifecycle) = lifecycle_of(&app, LEADING_WINNER).await;
    assert_eq!(lifecycle, "certified");

    // ---- The certificate: printable page and PDF with the right Chinese text. ----
    b.nav("certificates").await;
    let certificates = b.text("#certificate-list").await;
    assert!(
        certificates.contains("湘集群认〔2026〕第001号"),
        "{certificates}"
    );
    let link = b
        .client
        .execute(
            "return [...document.querySelectorAll('#certificate-list a')]\
               .find(a => a.closest('tr').textContent.includes('湘集群认〔2026〕第001号')).getAttribute('href');",
            vec![],
        )
        .await
        .expect("find the certificate link")
        .as_str()
        .unwrap_or_default()
        .to_string();
    b.goto(&link).await;
    assert_eq!(
        b.text("#certificate-number").await,
        "湘集群认〔2026〕第001号"
    );
    let page = b.text("#certificate").await;
    assert!(page.contains(LEADING_WINNER) && page.contains(LEADING_WINNER_ORG));
    b.screenshot("60-certificate").await;
    let pdf_href = b
        .find("#download-pdf")
        .await
        .attr("href")
        .await
        .expect("read the PDF link")
        .unwrap_or_default();
    let pdf = b.fetch_bytes(&pdf_href).await;
    assert!(pdf.starts_with(b"%PDF"), "a PDF file");
    let text = pdf_text(&pdf);
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for expected in [
        "证书",
        "湘集群认〔2026〕第001号",
        LEADING_WINNER,
        LEADING_WINNER_ORG,
        "湖南省先进制造业集群",
        "湖南省工业和信息化厅",
        "2026年10月12日",
    ] {
        assert!(flat.contains(expected), "the PDF says {expected}: {text}");
    }
    // The certificate is a bare A4 page; the workbench has the way out.
    b.goto("/").await;
    b.logout().await;
    let confirmed = round::Entity::find_by_id(final_id)
        .one(&app.app.db)
        .await
        .expect("query the round")
        .expect("the final round");
    assert_eq!(confirmed.status.key(), "confirmed");
    b.close().await;
    eprintln!(
        "rounds walkthrough ({}) took {:.1} s",
        support::backend(),
        started.elapsed().as_secs_f64()
    );
}

impl Browser<'_> {
    /// A file the signed-in browser would download, fetched with the browser's own cookies.
    pub(crate) async fn fetch_bytes(&self, path: &str) -> Vec<u8> {
        let cookies = self
            .client
            .get_all_cookies()
            .await
            .expect("read the browser's cookies");
        let header = cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let res = reqwest::Client::new()
            .get(self.app.url(path))
            .header("cookie", header)
            .send()
            .await
            .unwrap_or_else(|e| panic!("download {path}: {e}"));
        assert_eq!(res.status(), 200, "download {path}");
        res.bytes().await.expect("read the download").to_vec()
    }
}

/// The text of a PDF as Debian's poppler-utils `pdftotext` reads it.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("jiqun-cert-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("run pdftotext ({e}): the test needs Debian's poppler-utils package")
        });
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "pdftotext failed: {:?}", out);
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The README's walk on a fresh demo: everything through the pages, the 公示 window passed with
/// the demo clock's own page, never the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_reaches_confirmation_and_certificates_with_its_clock() {
    let app = support::spawn().await;
    // Pin the demo's day (the test server's clock), then start the demo as `serve --demo` does.
    set_date(&app, time::macros::date!(2026 - 03 - 09));
    jiqun::demo::seed_for_serve(&app.app)
        .await
        .expect("seed the demo");
    jiqun::services::demo_clock::start(&app.app, None)
        .await
        .expect("start the demo clock");
    let criteria: Vec<(String, u32)> = builtin_policies()
        .expect("the built-in policies load")
        .into_iter()
        .find(|p| p.id() == "hunan-2021")
        .expect("the 2021 Measures are built in")
        .criteria
        .iter()
        .map(|c| (c.key.clone(), c.max_score))
        .collect();
    let b = Browser::open(&app).await;
    b.goto("/login").await;
    assert!(
        b.text("#demo-banner").await.contains("2026年3月9日"),
        "every page names the demo's date"
    );
    b.login("province").await;
    b.nav("competitions").await;
    // The province's call (the demo also holds 长沙's own city call).
    b.goto("/competitions?q=%E6%B9%96%E5%8D%97%E7%9C%81").await;
    let competition = b
        .find("td a[href^='/competitions/']")
        .await
        .attr("href")
        .await
        .expect("read the competition link")
        .unwrap_or_default();
    let competition_id = id_in(&competition, "/competitions/");
    let round_id = b
        .open_round(
            competition_id,
            "preliminary",
            &[("leading", 1), ("specialty", 1)],
        )
        .await;
    b.panel_assign_and_open(round_id, "70-demo-assigned").await;
    b.logout().await;
    for username in PANEL {
        assert_eq!(b.score_everything(username, &criteria).await, 3);
    }
    b.login("province").await;
    let period = b.propose_and_publish(round_id, "71-demo-ranking").await;
    assert!(period.contains("2026年3月13日"), "{period}");
    // Confirmation must wait for the window ...
    b.goto(&format!("/rounds/{round_id}/notice")).await;
    assert!(b.exists("#confirm-blocker").await);
    // ... which the demo clock passes, from the banner's link.
    b.click("#demo-banner a").await;
    assert_eq!(b.path().await, "/demo/clock");
    b.set_values(&[("#demo-date", "2026-03-16".to_string())])
        .await;
    b.screenshot("72-demo-clock").await;
    b.click("#demo-clock-submit").await;
    assert_eq!(b.path().await, "/", "still signed in after the move");
    assert!(b.text("#demo-banner").await.contains("2026年3月16日"));
    b.confirm(round_id).await;
    b.screenshot("73-demo-confirmed").await;
    b.nav("certificates").await;
    let list = b.text("#certificate-list").await;
    assert!(list.contains("湘集群培〔2026〕第001号"), "{list}");
    assert!(
        list.find("第001号") < list.find("第002号"),
        "certificates of a day in number order: {list}"
    );
    b.click("#certificate-list tbody a").await;
    assert!(b.text("#certificate").await.contains(LEADING_WINNER));
    b.screenshot("74-demo-certificate").await;
    b.close().await;
}
