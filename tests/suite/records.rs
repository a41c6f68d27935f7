//! Published records never change (第十条至第十二条): the 公示, the announcement, the certificate
//! and its public check keep what they showed when published, whatever is edited later; a
//! designated cluster's name, kind, counties or promotion organisation change only through a
//! 变更申请 (city opinion, province decision), whose approval reissues the certificate (换发).

use jiqun::store::entity::cluster;
use jiqun::store::id::{ClusterId, DesignationId};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::fixtures::{
    CHANGSHA, ProposedRound, audited, confirmed_round, designation_numbered, error_message,
    get_page,
};
use crate::support::{self, TestApp};
use crate::{call, token};

const CT_CHANGSHA: &str = "湘集群培〔2026〕第001号";
const CT_YUEYANG: &str = "湘集群培〔2026〕第002号";
const RENAMED: &str = "长沙智能装备产业集群";

async fn rename_in_db(t: &TestApp, cluster_id: ClusterId, name: &str) {
    let cl = cluster::Entity::find_by_id(cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: cluster::ActiveModel = cl.into();
    active.name = Set(name.into());
    active.update(&t.app.db).await.unwrap();
}

/// What the public and the province read of 长沙 on the notice, the announcement, the
/// certificate (API and page) and the public check (API and page).
async fn public_names(
    t: &TestApp,
    f: &ProposedRound,
    cert_id: DesignationId,
    code: &str,
) -> Vec<String> {
    let province = token(t, "province").await;
    let anon = reqwest::Client::new();
    let mut out = Vec::new();
    let (status, v) = call(
        t,
        "",
        "GET",
        &format!("/api/v1/notices/{}", f.round_id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    out.push(
        v["entries"][0]["cluster_name"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let (status, v) = call(
        t,
        "",
        "GET",
        &format!("/api/v1/announcements/{}", f.round_id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    out.push(v["rows"][0]["cluster_name"].as_str().unwrap().to_string());
    let (status, v) = call(
        t,
        &province,
        "GET",
        &format!("/api/v1/certificates/{cert_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    out.push(v["cluster_name"].as_str().unwrap().to_string());
    let (status, v) = call(t, "", "GET", &format!("/api/v1/verify/{code}"), None).await;
    assert_eq!(status, 200, "{v}");
    out.push(v["cluster_name"].as_str().unwrap().to_string());
    for path in [
        format!("/notices/{}", f.round_id),
        format!("/announcements/{}", f.round_id),
        format!("/verify/{code}"),
    ] {
        let (status, html) = get_page(&anon, t, &path).await;
        assert_eq!(status, 200, "{path}");
        out.push(if html.contains(RENAMED) {
            RENAMED.to_string()
        } else if html.contains(CHANGSHA) {
            CHANGSHA.to_string()
        } else {
            format!("{path}: neither name")
        });
    }
    let client = support::page_login(t, "province").await;
    let (status, html) = get_page(&client, t, &format!("/certificates/{cert_id}")).await;
    assert_eq!(status, 200);
    out.push(if html.contains(RENAMED) {
        RENAMED.to_string()
    } else {
        CHANGSHA.to_string()
    });
    out
}

fn all_read(names: &[String], name: &str) {
    assert!(names.iter().all(|n| n == name), "{names:?}");
}

// ---------------------------------------------------------------------------------------------
// Frozen records

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_records_keep_the_name_they_were_published_with() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let ct = designation_numbered(&t, CT_CHANGSHA).await;

    // The applicant cannot rename a designated cluster directly: a 变更申请 is the way.
    let applicant = token(&t, "applicant").await;
    let (status, mut body) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/clusters/{changsha}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let update = json!({
        "name": RENAMED,
        "kind": body["kind"],
        "industry_code": body["industry_code"],
        "lead_county_code": body["lead_county"]["code"],
        "other_county_codes": body["other_counties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].clone())
            .filter(|c| *c != body["lead_county"]["code"])
            .collect::<Vec<Value>>(),
        "core_park": body["core_park"],
        "version": body["version"],
    });
    let (status, v) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/clusters/{changsha}"),
        Some(update.clone()),
    )
    .await;
    assert_eq!(status, 409, "{v}");
    assert!(error_message(&v).contains("变更申请"), "{v}");
    // Fields the title does not cover stay editable.
    body["core_park"] = json!("长沙经济技术开发区（新址）");
    let mut park = update.clone();
    park["name"] = body["name"].clone();
    park["core_park"] = body["core_park"].clone();
    let (status, v) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/clusters/{changsha}"),
        Some(park),
    )
    .await;
    assert_eq!(status, 200, "{v}");

    // Whatever happens to the live row later, every published record reads as published.
    rename_in_db(&t, changsha, RENAMED).await;
    let code = "P2026-001";
    let names = public_names(&t, &f, ct.id, code).await;
    all_read(&names, CHANGSHA);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_made_before_snapshots_reads_the_same_after_the_upgrade() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let ct = designation_numbered(&t, CT_CHANGSHA).await;
    let code = "P2026-001";
    let before = public_names(&t, &f, ct.id, code).await;
    all_read(&before, CHANGSHA);
    // What the previous version stored: no snapshot columns, no new tables.
    let db = &t.app.db;
    let backend = db.get_database_backend();
    let exec = |sql: &'static str| async move {
        db.execute_raw(sea_orm::Statement::from_string(backend, sql.to_string()))
            .await
            .unwrap();
    };
    exec("ALTER TABLE round_entries DROP COLUMN notice_snapshot").await;
    exec("ALTER TABLE designations DROP COLUMN snapshot").await;
    exec("ALTER TABLE designations DROP COLUMN superseded_by").await;
    exec("DROP TABLE change_requests").await;
    exec("DELETE FROM seaql_migrations WHERE version = 'm0015_records'").await;

    jiqun::store::migrate(db).await.expect("upgrade");

    let after = designation_numbered(&t, CT_CHANGSHA).await;
    assert!(after.snapshot.contains(CHANGSHA), "{}", after.snapshot);
    let yueyang = designation_numbered(&t, CT_YUEYANG).await;
    assert!(yueyang.snapshot.contains("岳阳"), "{}", yueyang.snapshot);
    assert_eq!(public_names(&t, &f, ct.id, code).await, before);
    // And from now on they are frozen: a rename does not reach them.
    rename_in_db(&t, changsha, RENAMED).await;
    all_read(&public_names(&t, &f, ct.id, code).await, CHANGSHA);
}

// ---------------------------------------------------------------------------------------------
// 变更申请 and 换发

async fn file_change(t: &TestApp, who: &str, cluster_id: ClusterId, name: &str) -> (u16, Value) {
    let tok = token(t, who).await;
    call(
        t,
        &tok,
        "POST",
        "/api/v1/change-requests",
        Some(json!({"cluster_id": cluster_id, "name": name, "reasons": "集群主导产业升级，名称随之调整"})),
    )
    .await
}

async fn opinion(t: &TestApp, who: &str, id: i64, agrees: bool) -> (u16, Value) {
    let tok = token(t, who).await;
    call(
        t,
        &tok,
        "POST",
        &format!("/api/v1/change-requests/{id}/opinion"),
        Some(json!({"agrees": agrees, "opinion": "经核实，情况属实"})),
    )
    .await
}

async fn decision(t: &TestApp, id: i64, approve: bool) -> (u16, Value) {
    let tok = token(t, "province").await;
    call(
        t,
        &tok,
        "POST",
        &format!("/api/v1/change-requests/{id}/decision"),
        Some(json!({"approve": approve, "reasons": "依据证明材料作出决定"})),
    )
    .await
}

async fn verify(t: &TestApp, code: &str) -> Value {
    let (status, v) = call(t, "", "GET", &format!("/api/v1/verify/{code}"), None).await;
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_change_request_reissues_the_certificate() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let (status, v) = file_change(&t, "applicant", changsha, RENAMED).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "awaiting_city");
    assert_eq!(v["changes"][0]["label"], "集群名称");
    assert_eq!(v["changes"][0]["before"], CHANGSHA);
    assert_eq!(v["changes"][0]["after"], RENAMED);
    let id = v["id"].as_i64().unwrap();

    // Scopes: another cluster's organisation and another city see nothing; the applicant
    // cannot decide; the province cannot decide before the city has spoken.
    for who in ["applicant2", "zhuzhou"] {
        let tok = token(&t, who).await;
        let (status, _) = call(
            &t,
            &tok,
            "GET",
            &format!("/api/v1/change-requests/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 404, "{who}");
        let (status, list) = call(&t, &tok, "GET", "/api/v1/change-requests", None).await;
        assert_eq!(
            (status, list.as_array().map(Vec::len)),
            (200, Some(0)),
            "{who}"
        );
    }
    let (status, _) = opinion(&t, "zhuzhou", id, true).await;
    assert_eq!(status, 404);
    let (status, _) = opinion(&t, "applicant", id, true).await;
    assert_eq!(status, 403);
    let (status, v) = decision(&t, id, true).await;
    assert_eq!(status, 409, "{v}");
    assert!(error_message(&v).contains("市州"), "{v}");
    // One open request per cluster.
    let (status, v) = file_change(&t, "applicant", changsha, "又一个名称产业集群").await;
    assert_eq!(status, 409, "{v}");

    let (status, v) = opinion(&t, "changsha", id, true).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "awaiting_province");
    assert_eq!(v["city_verdict"], "同意");
    let (status, v) = decision(&t, id, true).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "approved");
    assert_eq!(v["old_certificate"], CT_CHANGSHA);
    assert_eq!(v["new_certificate"], "湘集群培〔2026〕第003号");

    // The cluster carries the new name; its title and standing are unchanged.
    let cl = cluster::Entity::find_by_id(changsha)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cl.name, RENAMED);
    assert_eq!(cl.lifecycle.key(), "cultivation");
    // The old certificate says 已换发 with the day and the new number; the new one is valid
    // and shows the new name; the published notice and announcement are as they were.
    let old = verify(&t, "P2026-001").await;
    assert_eq!(old["status_label"], "已换发", "{old}");
    assert_eq!(old["replaced_by"], "湘集群培〔2026〕第003号");
    assert_eq!(old["closed_on_zh"], "2026年12月4日");
    assert_eq!(old["cluster_name"], CHANGSHA);
    let new = verify(&t, "P2026-003").await;
    assert_eq!(new["status_label"], "有效", "{new}");
    assert_eq!(new["cluster_name"], RENAMED);
    let (_, page) = get_page(&reqwest::Client::new(), &t, "/verify/P2026-001").await;
    assert!(
        page.contains("已换发") && page.contains("湘集群培〔2026〕第003号"),
        "{page}"
    );
    let (_, notice) = call(
        &t,
        "",
        "GET",
        &format!("/api/v1/notices/{}", f.round_id),
        None,
    )
    .await;
    assert_eq!(notice["entries"][0]["cluster_name"], CHANGSHA);
    let province = token(&t, "province").await;
    let new_id = v["new_designation_id"].as_i64().unwrap();
    let (status, cert) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/certificates/{new_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{cert}");
    assert_eq!(cert["reissue_of"], CT_CHANGSHA);
    assert_eq!(cert["effective_on"], "2026-12-04");
    for action in [
        "change_request.file",
        "change_request.city_opinion",
        "change_request.approve",
    ] {
        assert_eq!(audited(&t, action).await.len(), 1, "{action}");
    }
    // Decided is final.
    let (status, _) = decision(&t, id, false).await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_request_changes_nothing() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let (status, v) = file_change(&t, "applicant", changsha, RENAMED).await;
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (status, v) = opinion(&t, "changsha", id, false).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["city_verdict"], "不同意");
    let (status, v) = decision(&t, id, false).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "refused");
    assert_eq!(v["new_certificate"], "");
    let cl = cluster::Entity::find_by_id(changsha)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cl.name, CHANGSHA);
    assert_eq!(verify(&t, "P2026-001").await["status_label"], "有效");
    assert_eq!(
        jiqun::store::entity::designation::Entity::find()
            .all(&t.app.db)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(audited(&t, "change_request.refuse").await.len(), 1);
    // Once decided, the cluster may ask again.
    let (status, v) = file_change(&t, "applicant", changsha, RENAMED).await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_at_once_take_distinct_numbers() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let (changsha, yueyang) = (f.entries[0].cluster_id, f.entries[2].cluster_id);
    let (status, a) = file_change(&t, "applicant", changsha, RENAMED).await;
    assert_eq!(status, 200, "{a}");
    let (status, b) = file_change(&t, "applicant2", yueyang, "岳阳绿色化工新材料产业集群").await;
    assert_eq!(status, 200, "{b}");
    let (a, b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    assert_eq!(opinion(&t, "changsha", a, true).await.0, 200);
    assert_eq!(opinion(&t, "yueyang", b, true).await.0, 200);
    // One sign-in: the second factor's code is accepted once.
    let province = token(&t, "province").await;
    let (pa, pb) = (
        format!("/api/v1/change-requests/{a}/decision"),
        format!("/api/v1/change-requests/{b}/decision"),
    );
    let body = json!({"approve": true, "reasons": "依据证明材料作出决定"});
    let ((sa, va), (sb, vb)) = tokio::join!(
        call(&t, &province, "POST", &pa, Some(body.clone())),
        call(&t, &province, "POST", &pb, Some(body.clone()))
    );
    assert_eq!((sa, sb), (200, 200), "{va} {vb}");
    let mut numbers = vec![
        va["new_certificate"].as_str().unwrap().to_string(),
        vb["new_certificate"].as_str().unwrap().to_string(),
    ];
    numbers.sort();
    assert_eq!(
        numbers,
        ["湘集群培〔2026〕第003号", "湘集群培〔2026〕第004号"]
    );
}

/// The pages: the cluster page points a titled cluster to the 变更申请; the city and the province
/// each find theirs on the workbench and act on the request page, whose step indicator follows;
/// the cluster's history tells the request and the reissue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_request_runs_through_the_pages() {
    use crate::fixtures::post_page;
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let applicant = support::page_login(&t, "applicant").await;
    let (status, page) = get_page(&applicant, &t, &format!("/clusters/{changsha}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"file-change\""), "{page}");
    let (status, form) = get_page(
        &applicant,
        &t,
        &format!("/change-requests/new?cluster_id={changsha}"),
    )
    .await;
    assert_eq!(status, 200);
    let csrf = support::csrf_from(&form);
    // Nothing changed is refused on the form, with what was typed kept.
    let cid = changsha.to_string();
    let a = post_page(
        &applicant,
        &t,
        "/change-requests",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", cid.as_str()),
            ("reasons", "理由已写"),
        ],
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("未提出任何变更") && a.body.contains("理由已写"));
    let a = post_page(
        &applicant,
        &t,
        "/change-requests",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", cid.as_str()),
            ("name", RENAMED),
            ("reasons", "主导产业升级"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let show = a.location.split('?').next().unwrap().to_string();

    let city = support::page_login(&t, "changsha").await;
    let (_, wb) = get_page(&city, &t, "/").await;
    assert!(wb.contains("变更申请待出具市州意见"), "{wb}");
    let (status, page) = get_page(&city, &t, &show).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"change-steps\"") && page.contains("aria-current=\"step\">市州意见"),
        "{page}"
    );
    let csrf = support::csrf_from(&page);
    let a = post_page(
        &city,
        &t,
        &format!("{show}/opinion"),
        &[
            ("_csrf", csrf.as_str()),
            ("verdict", "agree"),
            ("text", "属实"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);

    let province = support::page_login(&t, "province").await;
    let (_, wb) = get_page(&province, &t, "/").await;
    assert!(wb.contains("变更申请待审批"), "{wb}");
    let (_, page) = get_page(&province, &t, &show).await;
    let csrf = support::csrf_from(&page);
    // A decision without reasons is refused, saying so.
    let a = post_page(
        &province,
        &t,
        &format!("{show}/decision"),
        &[
            ("_csrf", csrf.as_str()),
            ("verdict", "approve"),
            ("text", ""),
        ],
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body.contains("请填写批准意见"));
    let a = post_page(
        &province,
        &t,
        &format!("{show}/decision"),
        &[
            ("_csrf", csrf.as_str()),
            ("verdict", "approve"),
            ("text", "同意变更"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (_, page) = get_page(&province, &t, &show).await;
    assert!(
        page.contains("湘集群培〔2026〕第003号") && page.contains("已批准"),
        "{page}"
    );

    let (_, page) = get_page(&applicant, &t, &format!("/clusters/{changsha}")).await;
    assert!(
        page.contains("提出变更申请（第") && page.contains("证书换发"),
        "{page}"
    );
}

/// A titled cluster's edit page shows its name, kind and counties without letting them be
/// changed and points to the 变更申请, while the rest still saves; the filing form picks the
/// new kind and promotion organisation from lists, and an organisation change is filed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_titled_cluster_edits_only_what_was_not_announced() {
    use crate::fixtures::post_page;
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let changsha = f.entries[0].cluster_id;
    let applicant = support::page_login(&t, "applicant").await;
    let (status, form) = get_page(&applicant, &t, &format!("/clusters/{changsha}/edit")).await;
    assert_eq!(status, 200);
    assert!(
        form.contains("id=\"locked-hint\"")
            && form.contains(&format!(
                "href=\"/change-requests/new?cluster_id={changsha}\" id=\"locked-change\""
            )),
        "{form}"
    );
    let name_input = form
        .split("id=\"name\"")
        .next()
        .and_then(|before| before.rsplit("<input").next())
        .unwrap_or_default();
    assert!(name_input.contains("disabled"), "{name_input}");

    // Saving the form changes the park and keeps the announced name.
    let mut fields: Vec<(String, String)> = Vec::new();
    for part in form.split("<input type=\"hidden\" name=\"").skip(1) {
        let name = part.split('"').next().unwrap_or_default().to_string();
        let value = part
            .split("value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or_default()
            .to_string();
        fields.push((name, value));
    }
    let industry = form
        .split("id=\"industry_code\"")
        .nth(1)
        .and_then(|s| s.split("selected").next())
        .and_then(|s| s.rsplit("value=\"").next())
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string();
    fields.push(("industry_code".into(), industry));
    fields.push(("core_park".into(), "长沙经开区二期".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let a = post_page(
        &applicant,
        &t,
        &format!("/clusters/{changsha}/edit"),
        &pairs,
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (_, page) = get_page(&applicant, &t, &format!("/clusters/{changsha}")).await;
    assert!(page.contains("长沙经开区二期"), "{page}");

    // The filing form offers the kinds and the other promotion organisations.
    let credit = jiqun_domain::credit_code::CreditCode::from_parts('9', '1', "430100", "MA4L0001")
        .unwrap()
        .as_str()
        .to_string();
    let (status, created) = call(
        &t,
        &token(&t, "sysadmin").await,
        "POST",
        "/api/v1/organisations",
        Some(
            json!({"name": "长沙智能制造产业联盟", "kind": "promotion_org",
            "credit_code": credit, "city_code": "430100", "county_code": "430102"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let (_, form) = get_page(
        &applicant,
        &t,
        &format!("/change-requests/new?cluster_id={changsha}"),
    )
    .await;
    assert!(
        form.contains("<select name=\"kind\" id=\"change-kind\"") && form.contains("特色产业集群"),
        "{form}"
    );
    let other = created["id"].to_string();
    assert!(
        form.contains(&format!(
            "<option value=\"{other}\">长沙智能制造产业联盟</option>"
        )),
        "{form}"
    );
    let other_name = "长沙智能制造产业联盟";
    let csrf = support::csrf_from(&form);
    let cid = changsha.to_string();
    // An organisation that is not on the list is refused with the choice kept.
    let a = post_page(
        &applicant,
        &t,
        "/change-requests",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", cid.as_str()),
            ("org_id", "某组织"),
            ("reasons", "促进组织改组"),
        ],
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body.contains("请从列表中选择集群发展促进组织") && a.body.contains("促进组织改组"),
        "{}",
        a.body
    );
    let a = post_page(
        &applicant,
        &t,
        "/change-requests",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", cid.as_str()),
            ("org_id", other.as_str()),
            ("reasons", "促进组织改组"),
        ],
    )
    .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let (_, page) = get_page(&applicant, &t, &a.location).await;
    assert!(page.contains(other_name), "{other_name}: {page}");
}
