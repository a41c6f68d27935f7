//! A cluster's life after the competition (第三条、第十条、第十一条、第十四条): certification
//! supersedes the 培育对象 title, revoking a closed title changes nothing current, a designated
//! cluster cannot enter a 初赛 again, existing data is upgraded; and certificates anyone can
//! check at /verify/{code}, also from the QR code on the PDF.

use jiqun::store::entity::{cluster, designation, round_entry};
use jiqun::store::id::{ClusterId, CompetitionId};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use time::macros::date;

use crate::fixtures::{
    CHANGSHA, ProposedRound, audited, confirmed_round, designation_numbered, error_message,
    final_round_proposing, forward_to, get_page, on_round, post_page, publish, stored_round,
};
use crate::revocation::revoke_by_case;
use crate::support::{self, TestApp};
use crate::{call, token};

const CT_CHANGSHA: &str = "湘集群培〔2026〕第001号";
const CT_YUEYANG: &str = "湘集群培〔2026〕第002号";
const CERT_CHANGSHA: &str = "湘集群认〔2026〕第001号";

/// The 初赛 confirmed on 4 December 2026 (长沙 and 岳阳 designated 培育对象), then a 决赛 whose
/// proposed list (长沙 alone) is published and confirmed on 11 December 2026 through the API.
pub async fn certified(t: &TestApp) -> ProposedRound {
    let f = confirmed_round(t).await;
    let changsha = f.entries[0].clone();
    let prelim = stored_round(t, f.round_id).await;
    // The 决赛's opening and scoring are tested elsewhere; its fixed list is written directly.
    let fin = final_round_proposing(t, &prelim, &changsha).await;
    publish(t, fin.id).await;
    forward_to(t, date!(2026 - 12 - 11));
    let province = token(t, "province").await;
    let (status, v) = on_round(t, &province, "POST", fin.id, "confirm", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["designations"][0]["certificate_number"], CERT_CHANGSHA);
    f
}

async fn lifecycle_of(t: &TestApp, cluster_id: ClusterId) -> String {
    cluster::Entity::find_by_id(cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .lifecycle
        .key()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// One truthful lifecycle

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certification_supersedes_the_cultivation_title_and_revoking_it_changes_nothing() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let changsha = f.entries[0].cluster_id;
    assert_eq!(lifecycle_of(&t, changsha).await, "certified");

    // The certified cluster holds no live 培育对象 title: it was superseded that day.
    let ct = designation_numbered(&t, CT_CHANGSHA).await;
    assert_eq!(ct.superseded_on, Some(date!(2026 - 12 - 11)));
    assert_eq!(ct.revoked_on, None);
    let province = token(&t, "province").await;
    let (status, v) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/certificates/{}", ct.id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["superseded"], true, "{v}");
    assert_eq!(v["superseded_on"], "2026-12-11");
    let created = audited(&t, "designation.create").await;
    assert!(
        created
            .iter()
            .any(|a| a.summary.contains(CERT_CHANGSHA) && a.summary.contains("同日换发")),
        "{created:?}"
    );

    // The page offers no revocation case on the superseded title and says why it no longer holds.
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, &format!("/certificates/{}", ct.id)).await;
    assert!(html.contains("id=\"superseded\""), "{html}");
    assert!(!html.contains("open-revocation"));

    // A revocation decision voids the live title only: the superseded one stays as it closed,
    // and the standing moves by the rule, once.
    let v = revoke_by_case(&t, changsha, "applicant").await;
    assert_eq!(v["status"], "revoked");
    assert_eq!(lifecycle_of(&t, changsha).await, "revoked");
    let cert = designation_numbered(&t, CERT_CHANGSHA).await;
    assert_eq!(cert.revoked_on, Some(date!(2026 - 12 - 11)));
    let ct = designation_numbered(&t, CT_CHANGSHA).await;
    assert_eq!(ct.revoked_on, None);
    assert_eq!(ct.superseded_on, Some(date!(2026 - 12 - 11)));
    let decided = audited(&t, "revocation.decide").await;
    assert_eq!(decided.len(), 1);
    assert!(
        decided[0].summary.contains("certified → revoked")
            && decided[0].summary.contains(CERT_CHANGSHA)
            && !decided[0].summary.contains(CT_CHANGSHA),
        "{}",
        decided[0].summary
    );
    // With no live title left, no new case can be opened.
    let (status, v) = call(
        &t,
        &province,
        "POST",
        "/api/v1/revocations",
        Some(json!({"cluster_id": changsha, "ground": "fraud", "facts": "再次撤销"})),
    )
    .await;
    assert_eq!(status, 422, "{v}");

    // 岳阳, still a 培育对象, is untouched by 长沙's certification.
    let yueyang = designation_numbered(&t, CT_YUEYANG).await;
    assert_eq!(yueyang.superseded_on, None);
    assert_eq!(
        lifecycle_of(&t, f.entries[2].cluster_id).await,
        "cultivation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_decisions_of_one_case_decide_once() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let province = token(&t, "province").await;
    let case = crate::revocation::open_case(&t, &province, f.entries[0].cluster_id, "fraud").await;
    let id = case["id"].as_i64().unwrap();
    let url = t.url(&format!("/api/v1/revocations/{id}/notify"));
    let res = reqwest::Client::new()
        .post(url)
        .bearer_auth(&province)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let applicant = token(&t, "applicant").await;
    let (status, _) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/revocations/{id}/respond"),
        Some(json!({"statement": "申辩"})),
    )
    .await;
    assert_eq!(status, 200);
    let url = t.url(&format!("/api/v1/revocations/{id}/decide"));
    let calls: Vec<_> = (0..4)
        .map(|i| {
            let (url, province) = (url.clone(), province.clone());
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(province)
                    .json(&json!({ "outcome": "revoke", "reasons": format!("复核不合格{i}") }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for c in calls {
        answers.push(c.await.unwrap());
    }
    let mut statuses = answers.clone();
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 409, 409, 409], "{answers:?}");
    assert_eq!(audited(&t, "revocation.decide").await.len(), 1);
    assert_eq!(
        designation_numbered(&t, CT_CHANGSHA).await.revoked_on,
        Some(date!(2026 - 12 - 04))
    );
}

async fn start_api(t: &TestApp, competition: CompetitionId, cluster: ClusterId) -> (u16, Value) {
    let applicant = token(t, "applicant").await;
    call(
        t,
        &applicant,
        "POST",
        "/api/v1/applications",
        Some(json!({"competition_id": competition, "cluster_id": cluster})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_designated_cluster_cannot_start_a_new_preliminary_application() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let next_call = crate::applications::open_call(&t).await;

    // A 培育对象 is told to wait for the 决赛, on the API and on the page.
    let (status, v) = start_api(&t, next_call, changsha).await;
    assert_eq!(status, 409, "{v}");
    let message = error_message(&v);
    assert!(
        message.contains(CHANGSHA) && message.contains("培育对象") && message.contains("决赛"),
        "{message}"
    );
    let page = support::page_login(&t, "applicant").await;
    let (status, html) = get_page(&page, &t, "/applications").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-barred") && html.contains("请届时参加决赛"));
    assert!(
        !html.contains(&format!("<option value=\"{changsha}\">")),
        "a 培育对象 is not offered a 初赛 application"
    );
    let csrf = support::csrf_from(&html);
    let res = post_page(
        &page,
        &t,
        "/applications/start",
        &[
            ("_csrf", csrf.as_str()),
            ("competition_id", &next_call.to_string()),
            ("cluster_id", &changsha.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("请届时参加决赛"), "{}", res.body);
    assert!(audited(&t, "application.create").await.len() <= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certified_cluster_is_told_it_is_already_certified() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let changsha = f.entries[0].cluster_id;
    let next_call = crate::applications::open_call(&t).await;
    let (status, v) = start_api(&t, next_call, changsha).await;
    assert_eq!(status, 409, "{v}");
    let message = error_message(&v);
    assert!(
        message.contains("已被认定为湖南省先进制造业集群") && message.contains("复核"),
        "{message}"
    );
    // Once its title is revoked, it stands where any cluster does and may apply again.
    revoke_by_case(&t, changsha, "applicant").await;
    let (status, v) = start_api(&t, next_call, changsha).await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_upgrades_titles_and_standings_left_by_earlier_versions() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let (changsha, zhuzhou, yueyang) = (
        f.entries[0].cluster_id,
        f.entries[1].cluster_id,
        f.entries[2].cluster_id,
    );
    let ct = designation_numbered(&t, CT_CHANGSHA).await;
    let ct_yueyang = designation_numbered(&t, CT_YUEYANG).await;
    // What earlier versions stored: no closure but revocation, and a standing set by hand —
    // 长沙's 培育对象 title still open beside its certification, 岳阳's revoked title with its
    // standing left at 培育对象, 株洲 (never designated) shown as certified.
    let db = &t.app.db;
    let backend = db.get_database_backend();
    let exec = |sql: String| async move {
        db.execute_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .unwrap();
    };
    exec(format!(
        "UPDATE designations SET revoked_on = '2026-12-05', revoke_reason = '弄虚作假' WHERE id = {}",
        ct_yueyang.id
    ))
    .await;
    exec("ALTER TABLE designations DROP COLUMN superseded_on".into()).await;
    exec(format!(
        "UPDATE clusters SET lifecycle = 'cultivation' WHERE id = {yueyang}"
    ))
    .await;
    exec(format!(
        "UPDATE clusters SET lifecycle = 'certified' WHERE id = {zhuzhou}"
    ))
    .await;
    exec(format!(
        "UPDATE clusters SET lifecycle = 'revoked' WHERE id = {changsha}"
    ))
    .await;
    exec("DELETE FROM seaql_migrations WHERE version = 'm0011_lifecycle'".into()).await;

    jiqun::store::migrate(db).await.expect("upgrade");

    let after = designation_numbered(&t, CT_CHANGSHA).await;
    assert_eq!(after.id, ct.id);
    assert_eq!(after.superseded_on, Some(date!(2026 - 12 - 11)));
    assert_eq!(after.revoked_on, None);
    let cert = designation_numbered(&t, CERT_CHANGSHA).await;
    assert_eq!(cert.superseded_on, None);
    let yueyang_after = designation_numbered(&t, CT_YUEYANG).await;
    assert_eq!(yueyang_after.superseded_on, None);
    assert_eq!(yueyang_after.revoked_on, Some(date!(2026 - 12 - 05)));
    assert_eq!(lifecycle_of(&t, changsha).await, "certified");
    assert_eq!(lifecycle_of(&t, yueyang).await, "revoked");
    assert_eq!(lifecycle_of(&t, zhuzhou).await, "applicant");
    // Every designation still reads as it did.
    assert_eq!(designation::Entity::find().all(db).await.unwrap().len(), 3);
}

// ---------------------------------------------------------------------------------------------
// Certificates anyone can check

const PUBLIC_URL: &str = "https://jiqun.example.gov.cn";

/// A server whose public address is configured, as the QR code needs.
async fn spawn_public() -> TestApp {
    let db = support::fresh_db().await;
    let mut config = support::config_for(&db);
    config.public_url = format!("{PUBLIC_URL}/");
    let app: jiqun::app::Shared =
        std::sync::Arc::new(jiqun::server::open(config, true).await.expect("open app"));
    jiqun::demo::seed(&app).await.expect("seed");
    support::serve_on(db, app).await
}

/// The public check as a stranger sees it: (status, page) and (status, JSON).
async fn check(t: &TestApp, number: &str) -> ((u16, String), (u16, Value)) {
    let anonymous = support::client();
    let page = get_page(&anonymous, t, &format!("/verify/{number}")).await;
    let res = anonymous
        .get(t.url(&format!("/api/v1/verify/{number}")))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let json: Value = res.json().await.unwrap();
    (page, (status, json))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_checks_a_certificate_valid_superseded_or_revoked() {
    let t = spawn_public().await;
    let f = confirmed_round(&t).await;

    // A fresh 培育对象 certificate is valid, by its short code or its whole number.
    let ((status, html), (api_status, v)) = check(&t, "P2026-001").await;
    assert_eq!((status, api_status), (200, 200), "{v}");
    assert!(
        html.contains("id=\"verify-status\" class=\"ok\">有效<"),
        "{html}"
    );
    assert!(html.contains(CHANGSHA) && html.contains("湖南省先进制造业集群培育对象"));
    assert!(html.contains("2026年12月4日") && html.contains(CT_CHANGSHA));
    assert_eq!(v["status"], "valid");
    assert_eq!(v["status_label"], "有效");
    assert_eq!(v["certificate_number"], CT_CHANGSHA);
    assert_eq!(v["cluster_name"], CHANGSHA);
    assert_eq!(v["effective_on"], "2026-12-04");
    assert_eq!(v["closed_on"], "");
    let (_, (status, by_number)) = check(&t, CT_CHANGSHA).await;
    assert_eq!(status, 200);
    assert_eq!(by_number["verify_code"], "P2026-001");
    // The form sends a typed number on to the address the QR code carries.
    let res = support::client()
        .get(t.url("/verify"))
        .query(&[("number", CT_CHANGSHA)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/verify/P2026-001");

    // The PDF carries the absolute check address under its QR code.
    let applicant = support::page_login(&t, "applicant").await;
    let ct = designation_numbered(&t, CT_CHANGSHA).await;
    let (_, page) = get_page(&applicant, &t, &format!("/certificates/{}", ct.id)).await;
    assert!(page.contains("href=\"/verify/P2026-001\""), "{page}");
    let res = applicant
        .get(t.url(&format!("/certificates/{}.pdf", ct.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let path = t.db.dir.join("verify.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian: apt-get install poppler-utils)");
    let text: String = String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(
        text.contains(&format!("{PUBLIC_URL}/verify/P2026-001")),
        "{text}"
    );
    // And the QR code itself reads back to that address: the page rasterised, then decoded.
    let png = t.db.dir.join("verify-page");
    let raster = std::process::Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-singlefile"])
        .arg(&path)
        .arg(&png)
        .status()
        .expect("pdftoppm (Debian: apt-get install poppler-utils)");
    assert!(raster.success());
    let decoded = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(png.with_extension("png"))
        .output()
        .expect("zbarimg (Debian: apt-get install zbar-tools)");
    assert_eq!(
        String::from_utf8_lossy(&decoded.stdout).trim(),
        format!("{PUBLIC_URL}/verify/P2026-001")
    );

    // Certification supersedes it: 已换发, with the day and the certificate that replaced it.
    let t = certify_again(t).await;
    let ((status, html), (_, v)) = check(&t, "P2026-001").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(">已换发<") && html.contains("2026年12月11日"),
        "{html}"
    );
    assert_eq!(v["status"], "superseded");
    assert_eq!(v["closed_on"], "2026-12-11");
    assert_eq!(v["replaced_by"], CERT_CHANGSHA);
    let (_, (_, v)) = check(&t, "C2026-001").await;
    assert_eq!(v["status"], "valid");
    assert_eq!(v["designation_label"], "湖南省先进制造业集群");

    // Revoked: 已撤销 with the day.
    revoke_by_case(&t, f.entries[0].cluster_id, "applicant").await;
    let ((status, html), (_, v)) = check(&t, "C2026-001").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(">已撤销<") && html.contains("2026年12月11日"),
        "{html}"
    );
    assert!(
        !html.contains("复核不合格"),
        "the reason is not published here"
    );
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["status_label"], "已撤销");
    assert_eq!(v["closed_on"], "2026-12-11");
}

/// Puts 长沙 through the 决赛 on the server already running (its 初赛 is confirmed).
async fn certify_again(t: TestApp) -> TestApp {
    let changsha = designation_numbered(&t, CT_CHANGSHA).await;
    let entry = round_entry::Entity::find_by_id(changsha.entry_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let prelim = stored_round(&t, changsha.round_id).await;
    let fin = final_round_proposing(&t, &prelim, &entry).await;
    publish(&t, fin.id).await;
    forward_to(&t, date!(2026 - 12 - 11));
    let province = token(&t, "province").await;
    let (status, v) = on_round(&t, &province, "POST", fin.id, "confirm", None).await;
    assert_eq!(status, 200, "{v}");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_or_malformed_numbers_get_a_clear_404() {
    let t = spawn_public().await;
    confirmed_round(&t).await;
    let ((status, html), (api_status, v)) = check(&t, "C2026-999").await;
    assert_eq!((status, api_status), (404, 404));
    assert!(
        html.contains("未查到编号为“湘集群认〔2026〕第999号”的证书"),
        "{html}"
    );
    assert!(html.contains("id=\"verify-form\""));
    assert_eq!(v["error"]["code"], "not_found");
    assert!(error_message(&v).contains("湘集群认〔2026〕第999号"), "{v}");
    for malformed in ["abc", "湘集群认〔2026〕第1号", "C2026-000"] {
        let ((status, html), (api_status, v)) = check(&t, malformed).await;
        assert_eq!((status, api_status), (404, 404), "{malformed}");
        assert!(html.contains("不是有效的证书编号"), "{malformed}: {html}");
        assert!(error_message(&v).contains("不是有效的证书编号"), "{v}");
    }
    // What a visitor typed is shown escaped, never as markup.
    let ((status, html), _) = check(&t, "%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(status, 404);
    assert!(!html.contains("<script>alert"), "{html}");
    // The JSON twin is in the OpenAPI document with its 404.
    let doc: Value = reqwest::get(t.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = &doc["paths"]["/api/v1/verify/{number}"]["get"];
    assert!(path["responses"]["200"].is_object(), "{path}");
    assert!(path["responses"]["404"].is_object(), "{path}");
    // Anyone may check a certificate: no sign-in is asked for.
    assert_eq!(path["security"], serde_json::json!([]), "{path}");
    assert!(path["responses"]["401"].is_null(), "{path}");
}
