//! Policies installed at run time (第十八条: the 2021 Measures ran out on 2026-04-06): the
//! built-in file on first start, a successor installed by the system administrator through the
//! API, the page or the command line, validated with key paths, refused when duplicated; calls
//! bound to the exact text, refused outside the policy's validity unless 延续执行 is recorded,
//! and limited to the policy's calls per year, closed ones included, under parallel requests.

use jiqun::store::entity::{audit_entry, competition, policy};
use jiqun_rules::policy::BUILTIN_POLICY_SOURCES;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use time::Duration;

use crate::attachments::multipart;
use crate::support::{self, TestApp};
use crate::{call, token};

/// The 2021 file turned into a successor in force from 2026-04-07 for five years.
fn successor() -> String {
    BUILTIN_POLICY_SOURCES[0]
        .1
        .replacen("id = \"hunan-2021\"", "id = \"hunan-2026\"", 1)
        // A new id starts at version 1 (the shipped text's own version stays with its id).
        .replacen("\nversion = 5\n", "\n", 1)
        .replace("〔2021〕82号", "〔2026〕15号")
        .replacen("issued = 2021-03-15", "issued = 2026-03-20", 1)
        .replacen("published = 2021-04-07", "published = 2026-04-07", 1)
        .replacen(
            "effective_from = 2021-04-07",
            "effective_from = 2026-04-07",
            1,
        )
        .replacen("effective_to = 2026-04-06", "effective_to = 2031-04-06", 1)
}

fn call_body(t: &TestApp, year: i32, policy_id: &str) -> Value {
    let now = t.app.clock.now();
    json!({
        "year": year,
        "title": format!("关于组织开展{year}年度先进制造业集群竞赛的通知"),
        "policy_id": policy_id,
        "submission_deadline": jiqun::clock::datetime_local_value(now + Duration::days(20)),
        "review_deadline": jiqun::clock::datetime_local_value(now + Duration::days(30)),
        "notice_text": "各市州工业和信息化局：现将有关事项通知如下。",
    })
}

fn fields(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_string(),
                        f["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn installed(t: &TestApp) -> Vec<Value> {
    let admin = token(t, "sysadmin").await;
    let (status, list) = call(t, &admin, "GET", "/api/v1/policies", None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_administrator_installs_a_successor_without_a_rebuild() {
    let t = support::spawn().await;
    // First start installed the shipped files, audited: the 2021 Measures, which have run out,
    // and the national programme the province takes part in.
    let list = installed(&t).await;
    assert_eq!(list.len(), 2, "{list:?}");
    let hunan = list.iter().find(|p| p["key"] == "hunan-2021").unwrap();
    assert_eq!(hunan["origin"], "系统内置");
    assert_eq!(hunan["standing"], "已失效");
    assert_eq!(hunan["validity"], "2021年4月7日至2026年4月6日");
    assert_eq!(
        hunan["sm3"],
        jiqun::services::policy::sm3_hex(BUILTIN_POLICY_SOURCES[0].1)
    );
    let national = list
        .iter()
        .find(|p| p["key"] == "national-sme-2022")
        .unwrap();
    assert_eq!(national["origin"], "系统内置");
    assert_eq!(national["validity"], "2022年9月13日起长期有效");

    let admin = token(&t, "sysadmin").await;
    // A broken file: every problem with its key path, in Chinese, nothing installed.
    let broken = successor()
        .replacen("max_score = 25", "max_score = -25", 1)
        .replacen("per_year = 1", "per_year = 0", 1);
    let (status, answer) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": broken, "file_name": "hunan-2026.toml"})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let problems = fields(&answer);
    assert!(
        problems.iter().any(|(f, m)| f == "criteria[1].max_score"
            && m.starts_with("hunan-2026.toml:")
            && m.contains("criteria[1].max_score：不能为负数")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|(f, m)| f == "competition.per_year" && m.contains("每年竞赛次数必须大于0")),
        "{problems:?}"
    );
    assert_eq!(installed(&t).await.len(), 2);

    // The province may read but not install.
    let province = token(&t, "province").await;
    let (status, _) = call(
        &t,
        &province,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": successor()})),
    )
    .await;
    assert_eq!(status, 403);

    let (status, v) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": successor(), "file_name": "hunan-2026.toml"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["key"], "hunan-2026");
    assert_eq!(v["version"], 1);
    assert_eq!(v["standing"], "现行有效");
    assert_eq!(v["offered"], true);
    let audited = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("policy.install"))
        .filter(audit_entry::Column::ObjectId.eq(v["id"].as_i64().unwrap().to_string()))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("the install is audited");
    assert!(
        audited.summary.contains("hunan-2026"),
        "{}",
        audited.summary
    );
    assert!(
        audited.actor_name.contains("sysadmin"),
        "{}",
        audited.actor_name
    );

    // The same text again, and another text under the same id and version: clear refusals.
    let (status, answer) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": successor()})),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("已经安装"),
        "{answer}"
    );
    let edited = format!("{}\n# 修改后的文本\n", successor());
    let (status, answer) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": edited})),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("identity.version"),
        "{answer}"
    );

    // The successor is offered; a call opens under it without any 延续执行 and is listed with it.
    let (status, created) = call(
        &t,
        &province,
        "POST",
        "/api/v1/competitions",
        Some(call_body(&t, 2027, "hunan-2026")),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        created["policy_document_number"],
        "湘工信产业集聚〔2026〕15号"
    );
    assert_eq!(created["policy_warning"], "");
    let stored = competition::Entity::find_by_id(created["id"].as_i64().unwrap())
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policy_source, successor());
    assert_eq!(stored.policy_hash.as_deref(), v["sm3"].as_str());
    let list = installed(&t).await;
    let bound = list.iter().find(|p| p["key"] == "hunan-2026").unwrap();
    assert_eq!(bound["competitions"][0]["id"], created["id"]);
    assert_eq!(bound["competitions"][0]["year"], 2027);

    // A higher version replaces it for new calls; the call keeps the text it opened under.
    let v2 = successor().replacen("id = \"hunan-2026\"", "id = \"hunan-2026\"\nversion = 2", 1);
    let (status, answer) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": v2})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let list = installed(&t).await;
    let first = list
        .iter()
        .find(|p| p["key"] == "hunan-2026" && p["version"] == 1)
        .unwrap();
    assert_eq!(first["offered"], false);
    assert_eq!(first["competitions"].as_array().unwrap().len(), 1);
    let stored = competition::Entity::find_by_id(created["id"].as_i64().unwrap())
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.policy_source,
        successor(),
        "the bound text never changes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_page_lists_and_installs_an_uploaded_file() {
    let t = support::spawn().await;
    let client = support::page_login(&t, "sysadmin").await;
    let page = client
        .get(t.url("/policy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"installed-policies\""), "{page}");
    assert!(page.contains("id=\"install-policy\""), "{page}");
    let csrf: String =
        url::form_urlencoded::byte_serialize(support::csrf_from(&page).as_bytes()).collect();
    let upload = |name: &'static str, text: String| {
        let client = client.clone();
        let url = t.url(&format!("/policy/install?_csrf={csrf}"));
        async move {
            let (ct, body) = multipart("file", name, text.as_bytes());
            client
                .post(url)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let broken = successor().replacen("due = \"01-31\"", "due = \"02-29\"", 1);
    let res = upload("新办法.toml", broken).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"install-errors\""), "{html}");
    assert!(html.contains("新办法.toml:"), "{html}");
    assert!(html.contains("reports.annual.due"), "{html}");

    let res = upload("新办法.toml", successor()).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let html = client
        .get(t.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("政策规则文件已安装"), "{html}");
    assert!(html.contains("data-key=\"hunan-2026\""), "{html}");
    // The policy in force is now the successor.
    assert!(html.contains("〔2026〕15号"), "{html}");

    let res = upload("新办法.toml", successor()).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("已经安装"));

    // Other roles read the list but get no upload form, and cannot post one.
    let province = support::page_login(&t, "province").await;
    let html = province
        .get(t.url("/policy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"installed-policies\""));
    assert!(!html.contains("id=\"install-policy\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_installs_as_the_console_and_refuses_a_duplicate() {
    let t = support::spawn().await;
    let actor = jiqun::audit::Actor::console("ops");
    let v = jiqun::services::policy::install_as(t.app(), &actor, &successor(), "hunan-2026.toml")
        .await
        .unwrap();
    assert_eq!(v.installed_by, "命令行:ops");
    let again =
        jiqun::services::policy::install_as(t.app(), &actor, &successor(), "hunan-2026.toml")
            .await
            .unwrap_err();
    assert!(again.to_string().contains("已经安装"), "{again}");
    let broken =
        jiqun::services::policy::install_as(t.app(), &actor, "format_version = 1", "x.toml")
            .await
            .unwrap_err();
    assert!(
        broken
            .fields()
            .iter()
            .any(|f| f.field == "identity" && f.message.contains("缺少必填项")),
        "{:?}",
        broken.fields()
    );
    // Restarting installs nothing twice.
    let added =
        jiqun::services::policy::install_builtin(&t.app.db, &t.app.audit_key, t.app.clock.now())
            .await
            .unwrap();
    assert_eq!(added, 0);
    // The two shipped files and the successor.
    assert_eq!(policy::Entity::find().count(&t.app.db).await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_policy_binds_a_call_only_with_a_recorded_continuation() {
    let t = support::spawn().await;
    let province = token(&t, "province").await;
    let (status, answer) = call(
        &t,
        &province,
        "POST",
        "/api/v1/competitions",
        Some(call_body(&t, 2027, "hunan-2021")),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let problems = fields(&answer);
    assert!(
        problems
            .iter()
            .any(|(f, m)| f == "override_reason" && m.contains("不在其有效期内")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|(f, _)| f == "override_document"));
    assert_eq!(
        competition::Entity::find().count(&t.app.db).await.unwrap(),
        0
    );

    let mut body = call_body(&t, 2027, "hunan-2021");
    body["override_reason"] = json!("新的管理办法尚在制定，经研究本年度竞赛按2021年办法延续执行");
    body["override_document"] = json!("湘工信办函〔2026〕88号");
    let (status, created) = call(&t, &province, "POST", "/api/v1/competitions", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["override_document"], "湘工信办函〔2026〕88号");
    let id = created["id"].as_i64().unwrap();
    let audited = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("competition.create"))
        .filter(audit_entry::Column::ObjectId.eq(id.to_string()))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(audited.reason.contains("延续执行"), "{}", audited.reason);
    assert!(audited.summary.contains("湘工信办函〔2026〕88号"));
    // Shown on the call page to everyone who reads it.
    let applicant = support::page_login(&t, "applicant").await;
    let html = applicant
        .get(t.url(&format!("/competitions/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"policy-override\""), "{html}");
    assert!(html.contains("湘工信办函〔2026〕88号"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_calls_for_one_year_open_only_as_many_as_the_policy_allows() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let (status, answer) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": successor()})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let province = token(&t, "province").await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let mut body = call_body(&t, 2029, "hunan-2026");
        body["title"] = json!(format!("关于组织开展2029年度竞赛的通知（第{i}份）"));
        let url = t.url("/api/v1/competitions");
        let token = province.clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 422, 422, 422, 422, 422]);
    assert_eq!(
        competition::Entity::find()
            .filter(competition::Column::Year.eq(2029))
            .count(&t.app.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_database_upgrades_with_its_calls_bound_to_their_texts() {
    use sea_orm_migration::MigratorTrait;

    let db = support::fresh_db().await;
    let conn = jiqun::store::connect(&db.url).await.unwrap();
    // The schema as it stood before policies were installed, with a call bound to its text.
    jiqun::store::Migrator::up(&conn, Some(11)).await.unwrap();
    let old_text = format!(
        "{}\n# 2025年竞赛绑定时的文本\n",
        BUILTIN_POLICY_SOURCES[0].1
    );
    let at = time::macros::datetime!(2025-04-01 09:00 UTC);
    let mut insert = sea_orm::sea_query::Query::insert();
    insert
        .into_table("competitions")
        .columns([
            "year",
            "title",
            "policy_id",
            "policy_source",
            "submission_deadline",
            "review_deadline",
            "notice_text",
            "status",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ])
        .values([
            2025.into(),
            "2025年度竞赛".into(),
            "hunan-2021".into(),
            old_text.clone().into(),
            (at + Duration::days(30)).into(),
            (at + Duration::days(50)).into(),
            "".into(),
            "closed".into(),
            1.into(),
            1.into(),
            at.into(),
            at.into(),
        ])
        .unwrap();
    conn.execute(&insert).await.unwrap();
    conn.close().await.unwrap();

    let app = jiqun::server::open(support::config_for(&db), true)
        .await
        .unwrap();
    let rows = policy::Entity::find().all(&app.db).await.unwrap();
    let old_hash = jiqun::services::policy::sm3_hex(&old_text);
    let upgraded = rows
        .iter()
        .find(|r| r.sm3 == old_hash)
        .expect("old text kept");
    assert_eq!(upgraded.origin, "upgrade");
    assert_eq!(upgraded.source, old_text);
    assert!(
        rows.iter()
            .any(|r| r.origin == "builtin" && r.source == BUILTIN_POLICY_SOURCES[0].1),
        "the shipped file is installed beside it"
    );
    let call = competition::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.policy_hash.as_deref(), Some(old_hash.as_str()));
    assert_eq!(call.policy_source, old_text, "nothing lost");
}
