//! The audit chain catches rows altered, deleted or inserted directly in the database — checked
//! by the service and by `jiqun audit verify` against the same database.

use jiqun_domain::audit::ChainBreak;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::support::{self, TestApp};
use crate::{call, token};

async fn with_activity() -> TestApp {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let org = crate::org_id(&t, "长沙工程机械产业集群促进会").await;
    let (status, _) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        Some(json!({
        "username": "wang.wu", "display_name": "王五", "org_id": org, "role": "applicant"})),
    )
    .await;
    assert_eq!(status, 200);
    t
}

async fn verify(t: &TestApp) -> Result<i64, ChainBreak> {
    jiqun::audit::verify(&t.app.db, &t.app.audit_key)
        .await
        .expect("read audit log")
}

fn cli_verify(t: &TestApp) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jiqun"))
        .args(["audit", "verify"])
        .env("JIQUN_DATA_DIR", &t.db.dir)
        .env("JIQUN_DATABASE_URL", &t.db.url)
        .output()
        .expect("run jiqun");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

async fn sql(t: &TestApp, statement: &str) {
    t.app
        .db
        .execute_unprepared(statement)
        .await
        .expect(statement);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intact_log_verifies_in_the_service_and_the_cli() {
    let t = with_activity().await;
    let n = verify(&t).await.expect("intact");
    assert!(n >= 4, "{n} entries");
    let (code, out) = cli_verify(&t);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("审计链完整"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_row_is_named() {
    let t = with_activity().await;
    sql(
        &t,
        "UPDATE audit_entries SET summary = '无事发生' WHERE seq = 3",
    )
    .await;
    assert_eq!(verify(&t).await, Err(ChainBreak::Altered { seq: 3 }));
    let (code, out) = cli_verify(&t);
    assert_ne!(code, 0);
    assert!(out.contains("第3条"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_row_is_named() {
    let t = with_activity().await;
    sql(&t, "DELETE FROM audit_entries WHERE seq = 2").await;
    assert_eq!(
        verify(&t).await,
        Err(ChainBreak::Missing {
            expected: 2,
            found: 3
        })
    );
    let (code, out) = cli_verify(&t);
    assert_ne!(code, 0);
    assert!(out.contains("第2条审计记录缺失"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inserted_row_is_named() {
    let t = with_activity().await;
    let last = verify(&t).await.expect("intact");
    // A forged entry correctly linked to the last one, but without the key its hash cannot match.
    sql(&t, "INSERT INTO audit_entries (seq, at, actor_user_id, actor_name, actor_role, actor_org, action, \
             object_type, object_id, summary, reason, client_addr, prev_hash, hash) \
             SELECT seq + 1, at, actor_user_id, actor_name, actor_role, actor_org, 'user.create', object_type, \
             object_id, '伪造的记录', reason, client_addr, hash, hash FROM audit_entries \
             WHERE seq = (SELECT MAX(seq) FROM audit_entries)").await;
    assert_eq!(verify(&t).await, Err(ChainBreak::Altered { seq: last + 1 }));
    let (code, out) = cli_verify(&t);
    assert_ne!(code, 0);
    assert!(out.contains(&format!("第{}条", last + 1)), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cutting_off_the_newest_rows_is_caught() {
    let t = with_activity().await;
    let last = verify(&t).await.expect("intact");
    sql(&t, &format!("DELETE FROM audit_entries WHERE seq = {last}")).await;
    assert_eq!(
        verify(&t).await,
        Err(ChainBreak::Head {
            last_seq: last - 1,
            head_seq: last
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_is_recorded_with_who_what_and_why() {
    let t = with_activity().await;
    let auditor = token(&t, "auditor").await;
    let (status, page) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?action=user.create",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let entry = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["summary"].as_str().unwrap_or("").contains("wang.wu"))
        .expect("the account creation is in the log");
    assert_eq!(entry["actor_role"], "sys_admin");
    assert_eq!(entry["actor_org"], "湖南省工业和信息化厅");
    assert!(entry["actor_name"].as_str().unwrap().contains("sysadmin"));
    assert_eq!(entry["client_addr"], "127.0.0.1");
    // The audit administrator's own reads are recorded as well.
    let (status, _) = call(&t, &auditor, "POST", "/api/v1/audit/verify", None).await;
    assert_eq!(status, 200);
    let (_, own) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?action=audit.verify",
        None,
    )
    .await;
    assert_eq!(own["entries"][0]["actor_role"], "audit_admin", "{own}");
    // The export carries the same rows, Excel-friendly.
    let csv = support::client()
        .get(t.url("/audit/export?action=user.create"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 303, "export needs a signed-in page session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_administrator_exports_the_log_and_the_export_is_recorded() {
    let t = with_activity().await;
    let browser = support::page_login(&t, "auditor").await;
    let res = browser
        .get(t.url("/audit/export?action=user.create"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}序号,时间,操作人"), "{csv}");
    assert!(csv.contains("wang.wu"), "{csv}");
    let auditor = token(&t, "auditor").await;
    let (_, own) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?action=audit.export",
        None,
    )
    .await;
    assert!(
        own["entries"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("导出审计日志"),
        "{own}"
    );
    assert!(
        jiqun::audit::verify(&t.app.db, &t.app.audit_key)
            .await
            .unwrap()
            .is_ok()
    );
}

/// Each server remembers where it last moved the chain's head and appends from there without
/// reading it; another server's entries and an entry rolled back must not break the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_a_rolled_back_entry_keep_one_unbroken_chain() {
    use jiqun::audit::{Actor, Audit, Event};
    let t = with_activity().await;
    let other = std::sync::Arc::new(
        jiqun::server::open(support::config_for(&t.db), false)
            .await
            .expect("open a second server on the same database"),
    );
    let before = verify(&t).await.expect("intact");
    let event = |what: &str| Event {
        action: "test.note",
        object_type: "test",
        object_id: what.to_string(),
        ..Default::default()
    };
    let record = |app: jiqun::app::Shared, what: String| {
        let e = event(&what);
        async move {
            jiqun::audit::record_own(&app, Actor::console("test"), e)
                .await
                .expect("record");
        }
    };
    // This server's entry, rolled back: its head moved only in its memory.
    let txn = jiqun::store::write_txn(&t.app.db).await.expect("begin");
    Audit::by(&t.app, Actor::console("test"), t.app.clock.now())
        .record(&txn, event("rolled back"))
        .await
        .expect("record");
    txn.rollback().await.expect("roll back");
    // The two servers in turn: each finds the head moved by the other.
    for i in 0..3 {
        record(t.app.clone(), format!("a{i}")).await;
        record(other.clone(), format!("b{i}")).await;
    }
    // And at once.
    let at_once: Vec<_> = (0..8)
        .map(|i| {
            let app = if i % 2 == 0 {
                t.app.clone()
            } else {
                other.clone()
            };
            tokio::spawn(record(app, format!("c{i}")))
        })
        .collect();
    for task in at_once {
        task.await.expect("task");
    }
    assert_eq!(verify(&t).await, Ok(before + 6 + 8));
    let (code, out) = cli_verify(&t);
    assert_eq!(code, 0, "{out}");
    // Nothing of the rolled-back entry remains.
    let (rows, total) = jiqun::audit::query(
        &t.app.db,
        &jiqun::audit::Filter {
            object_type: Some("test".into()),
            ..Default::default()
        },
        1,
        100,
    )
    .await
    .expect("query");
    assert_eq!(total, 14);
    assert!(rows.iter().all(|r| r.object_id != "rolled back"));
}
