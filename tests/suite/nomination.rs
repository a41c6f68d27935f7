//! National nomination (第十七条 择优推荐): the province nominates a certified cluster for a year,
//! refused in Chinese (nothing written) for a 培育对象, a revoked cluster and a second nomination,
//! also when two arrive at once; the dossier ZIP read back (files, workbook numbers, certificate
//! PDF, manifest hashes); the national outcome recorded once and shown on the cluster page; scopes.

use jiqun::store::id::ClusterId;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use jiqun::store::entity::{nomination, report};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use sm3::{Digest, Sm3};

use crate::fixtures::{audited, error_message, field_message, get_page, post_page};
use crate::lifecycle::certified;
use crate::reports::complete_fields;
use crate::revocation::revoke_by_case;
use crate::support::{self, TestApp};
use crate::{call, token};

const CERT_CHANGSHA: &str = "湘集群认〔2026〕第001号";
const DOC: &str = "湘工信产业函〔2026〕88号";

async fn nominate(t: &TestApp, tok: &str, cluster_id: ClusterId) -> (u16, Value) {
    call(
        t,
        tok,
        "POST",
        "/api/v1/nominations",
        Some(
            json!({"cluster_id": cluster_id, "year": 2026, "document_number": DOC,
            "reason": "集群规模和创新能力居全省前列，产业链配套完善。"}),
        ),
    )
    .await
}

async fn stored(t: &TestApp) -> u64 {
    nomination::Entity::find().count(&t.app.db).await.unwrap()
}

/// A development report of 长沙 that has left its draft, written directly (its steps are tested
/// in `reports`).
async fn submitted_report(t: &TestApp, cluster_id: ClusterId) {
    let cl = jiqun::store::entity::cluster::Entity::find_by_id(cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let now = t.app.clock.now();
    report::ActiveModel {
        cluster_id: Set(cluster_id),
        org_id: Set(cl.org_id),
        city_code: Set(cl.city_code),
        period_kind: Set("annual".into()),
        period_year: Set(2025),
        status: Set(jiqun_domain::report::Status::Submitted),
        form: Set(complete_fields("350").to_string()),
        revision: Set(1),
        city_opinion: Set(String::new()),
        province_comment: Set(String::new()),
        submitted_at: Set(Some(now)),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
}

fn files_of(zip_bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        out.insert(f.name().unwrap().to_string(), bytes);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certified_cluster_is_nominated_and_its_dossier_reads_back() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let changsha = f.entries[0].cluster_id;
    submitted_report(&t, changsha).await;
    let province = token(&t, "province").await;
    let (status, v) = nominate(&t, &province, changsha).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["outcome"], "pending");
    assert_eq!(v["outcome_label"], "已推荐，待公布结果");
    assert_eq!(v["nominated_on"], "2026-12-11");
    assert_eq!(v["document_number"], DOC);
    let created = audited(&t, "nomination.create").await;
    assert_eq!(created.len(), 1);
    assert!(created[0].summary.contains("2026年国家级先进制造业集群"));
    let id = v["id"].as_i64().unwrap();

    // The dossier, as the province downloads it through the API.
    let res = reqwest::Client::new()
        .get(t.url(&format!("/api/v1/nominations/{id}/dossier")))
        .bearer_auth(&province)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let files = files_of(&res.bytes().await.unwrap());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    for expected in [
        "01-申请报告.txt",
        "02-2025年度发展情况报告.txt",
        "指标汇总表.xlsx",
        "文件清单.txt",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let pdf = &files[&format!("证书-{CERT_CHANGSHA}.pdf")];
    assert!(pdf.starts_with(b"%PDF"));
    let application = String::from_utf8(files["01-申请报告.txt"].clone()).unwrap();
    assert!(
        application.contains("长沙工程机械产业集群申请报告"),
        "{application}"
    );
    let report = String::from_utf8(files["02-2025年度发展情况报告.txt"].clone()).unwrap();
    assert!(report.contains("350"), "{report}");

    // The workbook opens and carries numbers as numbers, the report's 350 among them.
    use calamine::{Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(files["指标汇总表.xlsx"].clone())).unwrap();
    let range = wb.worksheet_range("指标").unwrap();
    let numbers: Vec<f64> = range
        .rows()
        .filter_map(|r| match r.get(3) {
            Some(Data::Float(n)) => Some(*n),
            Some(Data::Int(n)) => Some(*n as f64),
            _ => None,
        })
        .collect();
    assert!(numbers.contains(&350.0), "{numbers:?}");
    assert!(
        range
            .rows()
            .any(|r| r.first().map(|c| c.to_string()) == Some("申请报告".into())),
        "the application's indicators are in the workbook"
    );

    // The manifest names every other file with its SM3 hash and size.
    let manifest = String::from_utf8(files["文件清单.txt"].clone()).unwrap();
    let mut listed = 0;
    for line in manifest.lines() {
        let parts: Vec<&str> = line.splitn(3, "  ").collect();
        if parts.len() != 3 || parts[0].len() != 64 {
            continue;
        }
        let bytes = files.get(parts[2]).unwrap_or_else(|| panic!("{line}"));
        assert_eq!(parts[0], hex::encode(Sm3::digest(bytes)), "{line}");
        assert_eq!(parts[1], bytes.len().to_string(), "{line}");
        listed += 1;
    }
    assert_eq!(listed, files.len() - 1, "{manifest}");
    assert_eq!(audited(&t, "nomination.dossier").await.len(), 1);

    // Only the province exports it; the cluster and its city read the nomination.
    for who in ["applicant", "changsha"] {
        let tok = token(&t, who).await;
        let (status, _) = call(
            &t,
            &tok,
            "GET",
            &format!("/api/v1/nominations/{id}/dossier"),
            None,
        )
        .await;
        assert_eq!(status, 403, "{who}");
        let (status, v) = call(&t, &tok, "GET", &format!("/api/v1/nominations/{id}"), None).await;
        assert_eq!(status, 200, "{who}: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cultivation_target_and_a_revoked_cluster_are_refused_with_nothing_written() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let yueyang = f.entries[2].cluster_id;
    let province = token(&t, "province").await;
    let (status, v) = nominate(&t, &province, yueyang).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        field_message(&v, "cluster_id"),
        "“岳阳石化产业集群”：该集群目前为培育对象，尚未认定为省先进制造业集群，不能推荐申报国家级先进制造业集群"
    );
    // Missing fields are named, each in Chinese.
    let (status, v) = call(
        &t,
        &province,
        "POST",
        "/api/v1/nominations",
        Some(json!({"cluster_id": f.entries[0].cluster_id})),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(field_message(&v, "reason"), "请填写推荐理由");
    assert_eq!(field_message(&v, "document_number"), "请填写推荐文件的文号");

    revoke_by_case(&t, yueyang, "applicant2").await;
    let (status, v) = nominate(&t, &province, yueyang).await;
    assert_eq!(status, 422, "{v}");
    assert!(
        field_message(&v, "cluster_id").contains("称号已被撤销"),
        "{v}"
    );
    assert_eq!(stored(&t).await, 0);
    assert!(audited(&t, "nomination.create").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nominations_of_one_cluster_at_once_make_one() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let changsha = f.entries[0].cluster_id;
    let province = token(&t, "province").await;
    let (a, b) = tokio::join!(
        nominate(&t, &province, changsha),
        nominate(&t, &province, changsha)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} {}", a.1, b.1);
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    assert!(
        error_message(refused).contains("本年度已推荐申报，不能重复推荐"),
        "{refused}"
    );
    assert_eq!(stored(&t).await, 1);
    assert_eq!(audited(&t, "nomination.create").await.len(), 1);
    // Another year is another nomination.
    let (status, v) = call(
        &t,
        &province,
        "POST",
        "/api/v1/nominations",
        Some(json!({"cluster_id": changsha, "year": 2027, "document_number": "湘工信产业函〔2027〕1号",
            "reason": "再次推荐"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outcome_is_recorded_once_from_the_page_and_shown_on_the_cluster_page() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let changsha = f.entries[0].cluster_id;
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/nominations?year=2026").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("目前没有") || html.contains("nominate-form"),
        "{html}"
    );
    let csrf = support::csrf_from(&html);
    let cid = changsha.to_string();
    // A refusal keeps what was typed.
    let a = post_page(
        &page,
        &t,
        "/nominations",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", cid.as_str()),
            ("year", "2026"),
            ("document_number", DOC),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("请填写推荐理由") && a.body.contains(DOC));
    let a = post_page(
        &page,
        &t,
        "/nominations",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", cid.as_str()),
            ("year", "2026"),
            ("document_number", DOC),
            ("reason", "产业链完整，龙头企业带动作用强"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location, "/nominations?year=2026&saved=nominated");
    let n = nomination::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let (_, html) = get_page(&page, &t, &a.location).await;
    assert!(html.contains(&format!("/nominations/{}/dossier.zip", n.id)));

    // The outcome: a bad one is refused against its field, then 入选 is recorded, then no more.
    let outcome_path = format!("/nominations/{}/outcome", n.id);
    let a = post_page(
        &page,
        &t,
        &outcome_path,
        &[
            ("_csrf", csrf.as_str()),
            ("outcome", "maybe"),
            ("decided_on", "2026-12-20"),
            ("document_number", "工信部规函〔2026〕200号"),
        ],
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("结果应为“入选”或“未入选”"), "{}", a.body);
    assert!(a.body.contains("工信部规函〔2026〕200号"));
    let a = post_page(
        &page,
        &t,
        &outcome_path,
        &[
            ("_csrf", csrf.as_str()),
            ("outcome", "selected"),
            ("decided_on", "2026-12-20"),
            ("document_number", "工信部规函〔2026〕200号"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let province = token(&t, "province").await;
    let (status, v) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1{outcome_path}"),
        Some(
            json!({"outcome": "not_selected", "decided_on": "2026-12-21",
            "document_number": "另一文号"}),
        ),
    )
    .await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(
        error_message(&v),
        "该推荐的国家评选结果已记录为“入选”，不能更改"
    );
    assert_eq!(audited(&t, "nomination.outcome").await.len(), 1);

    // The cluster page's story shows both steps, to the province and to the cluster itself.
    for who in ["province", "applicant"] {
        let c = support::page_login(&t, who).await;
        let (status, html) = get_page(&c, &t, &format!("/clusters/{changsha}")).await;
        assert_eq!(status, 200, "{who}");
        assert!(html.contains("推荐申报2026年国家级先进制造业集群"), "{who}");
        assert!(
            html.contains("2026年国家级先进制造业集群评选结果：入选"),
            "{who}: {html}"
        );
        assert!(html.contains("工信部规函〔2026〕200号"), "{who}");
        assert!(html.contains("id=\"nominations-link\""), "{who}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_city_and_another_cluster_do_not_see_a_nomination() {
    let t = support::spawn().await;
    let f = certified(&t).await;
    let changsha = f.entries[0].cluster_id;
    let province = token(&t, "province").await;
    let (status, v) = nominate(&t, &province, changsha).await;
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_i64().unwrap();
    for (who, sees) in [
        ("changsha", true),
        ("applicant", true),
        ("yueyang", false),
        ("applicant2", false),
    ] {
        let tok = token(&t, who).await;
        let (status, list) = call(&t, &tok, "GET", "/api/v1/nominations?year=2026", None).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(list.as_array().unwrap().len(), usize::from(sees), "{who}");
        let (status, _) = call(&t, &tok, "GET", &format!("/api/v1/nominations/{id}"), None).await;
        assert_eq!(status, if sees { 200 } else { 404 }, "{who}");
        // Nobody but the province nominates or records an outcome.
        let (status, _) = nominate(&t, &tok, changsha).await;
        assert_eq!(status, 403, "{who}");
        let c = support::page_login(&t, who).await;
        let (status, html) = get_page(&c, &t, "/nominations?year=2026").await;
        assert_eq!(status, 200, "{who}");
        let row = format!("data-cluster=\"{changsha}\"");
        assert_eq!(html.contains(&row), sees, "{who}");
        assert!(!html.contains("nominate-form"), "{who}");
    }
    // A malformed year is named.
    let (status, v) = call(&t, &province, "GET", "/api/v1/nominations?year=abc", None).await;
    assert_eq!(status, 422, "{v}");
    assert!(field_message(&v, "year").contains("年份“abc”无效"), "{v}");
}
