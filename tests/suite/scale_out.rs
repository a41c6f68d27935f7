//! Several jiqun servers on one PostgreSQL database and one S3-compatible bucket behave as one
//! system (issue 15, item 7): a file uploaded through one server is downloaded through the other
//! and lives in the bucket under its SM3 name; a server stopped while a file is streaming in
//! leaves no row, no object and no half-written content, and the others work on; the public
//! notice a server keeps is dropped when another server changes it; the objection allowance per
//! address holds across both; a reminder and an e-mail go out once with both servers ticking;
//! a signed-in page one server keeps is stale once the other commits a change.
//!
//! PostgreSQL only: several servers on one SQLite file are not a supported deployment, so on
//! SQLite each test prints why it did not run and passes. On PostgreSQL the S3-compatible server
//! is required (`JIQUN_TEST_S3_ENDPOINT`); `scripts/test` starts moto's server mode for its
//! PostgreSQL pass. By hand, from the repository root:
//!
//! ```text
//! python3 -m venv .venv-s3 && .venv-s3/bin/pip install "moto[server]"
//! .venv-s3/bin/moto_server -H 127.0.0.1 -p 5055 &
//! JIQUN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   JIQUN_TEST_S3_ENDPOINT=http://127.0.0.1:5055 cargo test --test suite scale_out::
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiqun::config::{Config, ConfigArgs};
use jiqun::store::entity::{attachment, blob, mail_outbox, objection};
use jiqun::store::id::CompetitionId;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use time::macros::date;
use tokio::io::AsyncWriteExt;

use crate::attachments::{a_competition, multipart, post_file};
use crate::competitions::{insert_application, insert_cluster, notifications_with_link, open_call};
use crate::fixtures::{
    CHANGSHA, forward_to, on_objection, published_round, set_day, showcase, user_id,
};
use crate::support::{self, TestApp, TestDb};
use crate::{org_id, token};

const MIB: usize = 1024 * 1024;
const PREFIX: &str = "jiqun/attachments";

/// The S3-compatible server's address, or None (with the reason printed) on SQLite.
fn endpoint() -> Option<String> {
    if support::backend() != "postgres" {
        println!(
            "scale_out: not run on SQLite (several servers on one SQLite file are not a supported \
             deployment); it runs on PostgreSQL, in scripts/test's second pass"
        );
        return None;
    }
    match std::env::var("JIQUN_TEST_S3_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim().trim_end_matches('/').to_string()),
        _ => panic!(
            "JIQUN_TEST_S3_ENDPOINT is not set: the scale-out tests on PostgreSQL need an \
             S3-compatible server (scripts/test starts moto; the module doc shows how by hand)"
        ),
    }
}

/// A new bucket on the S3-compatible server (moto takes unsigned requests).
async fn new_bucket(endpoint: &str) -> String {
    let name = format!("jiqun-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let res = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .expect("the S3-compatible server answers");
    assert!(res.status().is_success(), "create bucket: {}", res.status());
    name
}

/// The object names in the bucket.
async fn objects(endpoint: &str, bucket: &str) -> Vec<String> {
    let xml = reqwest::get(format!("{endpoint}/{bucket}?list-type=2&max-keys=1000"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

fn args(db_url: &str, dir: &Path, key: Option<&Path>, endpoint: &str, bucket: &str) -> ConfigArgs {
    ConfigArgs {
        data_dir: Some(dir.to_path_buf()),
        database_url: Some(db_url.to_string()),
        listen: Some("127.0.0.1:0".into()),
        audit_key_file: key.map(Path::to_path_buf),
        attachments_url: Some(format!("s3://{bucket}/{PREFIX}")),
        s3_endpoint: Some(endpoint.to_string()),
        s3_access_key_id: Some("testing".into()),
        s3_secret_access_key: Some("testing".into()),
        ..Default::default()
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jiqun-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Servers {
    a: TestApp,
    b: TestApp,
    endpoint: String,
    bucket: String,
}

/// Two servers on one new database and one new bucket, each with its own data folder, the same
/// audit key (as the README asks of every server) and one time source (as NTP gives machines).
async fn two_servers(endpoint: &str, smtp: Option<u16>) -> Servers {
    let bucket = new_bucket(endpoint).await;
    let db = support::fresh_db().await;
    let mut config_a = Config::resolve(&args(&db.url, &db.dir, None, endpoint, &bucket)).unwrap();
    let key = config_a.audit_key_file.clone();
    let dir_b = temp_dir();
    let mut config_b =
        Config::resolve(&args(&db.url, &dir_b, Some(&key), endpoint, &bucket)).unwrap();
    if let Some(port) = smtp {
        for c in [&mut config_a, &mut config_b] {
            c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
            c.smtp_from = "湖南省工信厅 <noreply@jiqun.test>".into();
        }
    }
    let app_a = Arc::new(jiqun::server::open(config_a, true).await.expect("open A"));
    jiqun::demo::seed(&app_a).await.expect("seed");
    let mut app_b = jiqun::server::open(config_b, true).await.expect("open B");
    app_b.clock = app_a.clock.clone();
    let url = db.url.clone();
    let a = support::serve_on(db, app_a).await;
    let b = support::serve_on(TestDb { url, dir: dir_b }, Arc::new(app_b)).await;
    Servers {
        a,
        b,
        endpoint: endpoint.to_string(),
        bucket,
    }
}

/// `len` bytes that any server recognises as a PDF, different per `seed`.
fn pdf_of(len: usize, seed: u8) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut x = u32::from(seed) | 1;
    while out.len() < len - 6 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x & 0xff) as u8);
    }
    out.extend_from_slice(b"%%EOF\n");
    out
}

async fn download(t: &TestApp, tok: &str, id: i64) -> (u16, Vec<u8>) {
    let res = reqwest::Client::new()
        .get(t.url(&format!("/api/v1/attachments/{id}")))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

fn notice_query(competition: CompetitionId) -> String {
    format!("owner_type=competition&owner_id={competition}&purpose=notice")
}

fn stored_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(stored_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_through_one_server_is_downloaded_through_the_other() {
    let Some(endpoint) = endpoint() else { return };
    let s = two_servers(&endpoint, None).await;
    let competition = a_competition(&s.a).await;
    let province = token(&s.a, "province").await;
    let query = notice_query(competition);

    // 12 MB: sent to the bucket in parts; and a small one, in one request.
    let large = pdf_of(12 * MIB, 1);
    let small = pdf_of(40 * 1024, 2);
    let mut ids = Vec::new();
    for (name, bytes) in [("通知.pdf", &large), ("附件.pdf", &small)] {
        let (status, view) = post_file(&s.a, &province, &query, name, bytes).await;
        assert_eq!(status, 200, "{view}");
        let sm3 = view["sm3"].as_str().unwrap().to_string();
        ids.push((view["id"].as_i64().unwrap(), sm3, bytes));
    }
    for (id, _, bytes) in &ids {
        let (status, got) = download(&s.b, &province, *id).await;
        assert_eq!(status, 200);
        assert!(got == **bytes, "the other server sends the same bytes");
    }
    // In the bucket under their SM3 names, on neither server's disk.
    let names = objects(&s.endpoint, &s.bucket).await;
    for (_, sm3, _) in &ids {
        let name = format!("{PREFIX}/{}/{sm3}", &sm3[..2]);
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    for dir in [&s.a.db.dir, &s.b.db.dir] {
        let kept: Vec<_> = stored_files(&dir.join("attachments"));
        assert!(kept.is_empty(), "nothing stored locally: {kept:?}");
    }
    // The same bytes through the other server: one blob, one object, two attachments.
    let (status, again) = post_file(&s.b, &province, &query, "通知（重发）.pdf", &large).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["sm3"].as_str(), Some(ids[0].1.as_str()));
    assert_eq!(blob::Entity::find().count(&s.a.app.db).await.unwrap(), 2);
    assert_eq!(
        attachment::Entity::find().count(&s.a.app.db).await.unwrap(),
        3
    );
    assert_eq!(objects(&s.endpoint, &s.bucket).await.len(), 2);

    // `jiqun backup` on this configuration copies the database and says the bucket is not in it.
    let target = temp_dir().join("backup");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jiqun"))
        .args(["--data-dir".as_ref(), s.b.db.dir.as_os_str()])
        .args([
            "--audit-key-file".as_ref(),
            s.a.app.config.audit_key_file.as_os_str(),
        ])
        .args(["--database-url", &s.a.db.url])
        .args(["--attachments-url", &format!("s3://{}/{PREFIX}", s.bucket)])
        .args([
            "--s3-endpoint",
            &s.endpoint,
            "--s3-access-key-id",
            "testing",
        ])
        .env("JIQUN_S3_SECRET_ACCESS_KEY", "not-printed-anywhere")
        .args(["backup".as_ref(), target.as_os_str()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("其中附件0个"), "{said}");
    assert!(said.contains("本次备份只包含数据库，不包含附件"), "{said}");
    assert!(
        said.contains(&format!("s3://{}/{PREFIX}", s.bucket)),
        "{said}"
    );
    assert!(!said.contains("not-printed-anywhere"));
    assert!(!target.join("attachments").exists());
    let _ = std::fs::remove_dir_all(target.parent().unwrap());
}

/// A server in its own runtime, so that stopping it ends every task it runs (connections
/// included) where it stands, as killing its process would.
struct Doomed {
    addr: std::net::SocketAddr,
    dir: PathBuf,
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

fn start_doomed(config: Config) -> Doomed {
    let dir = config.data_dir.clone();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop, stop_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let app = Arc::new(jiqun::server::open(config, true).await.expect("open C"));
            let listener = jiqun::server::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            tokio::spawn(jiqun::server::serve(app, listener));
        });
        let _ = stop_rx.recv();
        rt.shutdown_background();
    });
    let addr = addr_rx.recv().expect("server C started");
    Doomed {
        addr,
        dir,
        stop,
        thread,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_mid_upload_leaves_nothing_half_written_and_the_other_works_on() {
    let Some(endpoint) = endpoint() else { return };
    let s = two_servers(&endpoint, None).await;
    let competition = a_competition(&s.a).await;
    let province = token(&s.a, "province").await;
    let query = notice_query(competition);
    let dir_c = temp_dir();
    let c = start_doomed(
        Config::resolve(&args(
            &s.a.db.url,
            &dir_c,
            Some(&s.a.app.config.audit_key_file),
            &s.endpoint,
            &s.bucket,
        ))
        .unwrap(),
    );

    // Half of a 20 MB upload reaches server C, which then stops.
    let pdf = pdf_of(20 * MIB, 3);
    let (ct, body) = multipart("file", "中断.pdf", &pdf);
    let mut conn = tokio::net::TcpStream::connect(c.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/attachments?{query} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {province}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        c.addr,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..body.len() / 2]).await.unwrap();
    let temp = c.dir.join("attachments").join("tmp");
    let mut receiving = false;
    for _ in 0..200 {
        let written: u64 = stored_files(&temp)
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        if written > MIB as u64 {
            receiving = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(receiving, "server C was receiving the file");
    c.stop.send(()).unwrap();
    c.thread.join().unwrap();
    drop(conn);

    // Nothing names the file, nothing of it is in the bucket.
    assert_eq!(
        attachment::Entity::find().count(&s.a.app.db).await.unwrap(),
        0
    );
    assert_eq!(blob::Entity::find().count(&s.a.app.db).await.unwrap(), 0);
    assert!(objects(&s.endpoint, &s.bucket).await.is_empty());
    // The others work on: the whole file through B, read back through A.
    let (status, view) = post_file(&s.b, &province, &query, "中断.pdf", &pdf).await;
    assert_eq!(status, 200, "{view}");
    let (status, got) = download(&s.a, &province, view["id"].as_i64().unwrap()).await;
    assert_eq!(status, 200);
    assert!(got == pdf);
    assert_eq!(objects(&s.endpoint, &s.bucket).await.len(), 1);
    let _ = std::fs::remove_dir_all(&dir_c);
}

/// Files an objection through the public JSON API of `t`.
async fn object(
    t: &TestApp,
    round: impl std::fmt::Display,
    entry: Value,
    i: usize,
) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/notices/{round}/objections")))
        .json(&json!({
            "entry_id": entry,
            "name": "王建国",
            "organisation": "",
            "contact": "13800138000",
            "reason": format!("第{i}条：营业收入数据与统计年鉴不符。"),
        }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn notice_page(t: &TestApp, round: impl std::fmt::Display) -> String {
    let res = reqwest::get(t.url(&format!("/notices/{round}")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_objection_allowance_and_the_public_notice_hold_across_servers() {
    let Some(endpoint) = endpoint() else { return };
    let s = two_servers(&endpoint, None).await;
    let f = published_round(&s.a, date!(2026 - 11 - 27)).await;
    let limit = s.a.app.config.objection_rate_limit as usize;
    assert_eq!(limit, 5);

    // One address, alternating servers: the allowance is counted once for both.
    let mut first = None;
    for i in 0..limit {
        let server = if i % 2 == 0 { &s.a } else { &s.b };
        let entry = json!(f.entries[i % 2 * 2].id);
        let (status, body) = object(server, f.round_id, entry, i).await;
        assert_eq!(status, 200, "objection {i}: {body}");
        first.get_or_insert(body["id"].as_i64().unwrap());
    }
    for server in [&s.a, &s.b] {
        let (status, body) = object(server, f.round_id, json!(f.entries[0].id), 99).await;
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["error"]["code"], "rate_limited");
    }
    assert_eq!(
        objection::Entity::find().count(&s.a.app.db).await.unwrap(),
        limit as u64
    );

    // B keeps the notice's page; decided through A, the page B serves shows the answer at once
    // (B hears A's change on the notification channel), not a minute later.
    for _ in 0..100 {
        if s.b.app.public_pages.listening() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(s.b.app.public_pages.listening(), "B listens for changes");
    let before = notice_page(&s.b, f.round_id).await;
    assert_eq!(notice_page(&s.b, f.round_id).await, before);
    let province = token(&s.a, "province").await;
    let reply = "经核实，营业收入数据与统计部门数据一致，异议不成立。";
    let (status, v) = on_objection(
        &s.a,
        &province,
        first.unwrap(),
        "dismiss",
        json!({ "reply": reply }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(!before.contains(reply));
    // The notification arrives within milliseconds of A's commit.
    let mut seen = false;
    for _ in 0..20 {
        if notice_page(&s.b, f.round_id).await.contains(reply) {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen, "the other server's kept page was dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_and_an_e_mail_go_out_once_with_both_servers_ticking() {
    let Some(endpoint) = endpoint() else { return };
    let dir = temp_dir();
    let sink = crate::mail::smtp_sink(&dir);
    let s = two_servers(&endpoint, Some(sink.port)).await;
    let created = open_call(&s.a, 2027, 10, 20).await;
    let cid = CompetitionId::new(created["id"].as_i64().unwrap());
    let org = org_id(&s.a, "长沙工程机械产业集群促进会").await;
    let cluster = insert_cluster(&s.a, org, "长沙工程机械产业集群", "430100", "430121").await;
    insert_application(
        &s.a,
        cid,
        cluster,
        org,
        "430100",
        "430121",
        "draft",
        json!({}),
    )
    .await;
    let applicant = jiqun::services::users::find_by_username(&s.a.app, "applicant")
        .await
        .unwrap()
        .unwrap();
    let mut with_mail: jiqun::store::entity::user::ActiveModel = applicant.into();
    with_mail.email = Set("liu@cluster.test".into());
    with_mail.update(&s.a.app.db).await.unwrap();

    // Two days before the submission deadline both servers tick at once, several times.
    s.a.app.clock.advance(time::Duration::days(8));
    let mut sent = 0;
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            jiqun::services::notifications::remind_deadlines(&s.a.app),
            jiqun::services::notifications::remind_deadlines(&s.b.app),
        );
        sent += a.unwrap() + b.unwrap();
    }
    assert_eq!(sent, 1);
    assert_eq!(
        notifications_with_link(&s.a, "applicant", "reminder-submission-3d").await,
        1
    );

    // The reminder's e-mail: both mailers run at once, the relay receives it once.
    let queued = mail_outbox::Entity::find()
        .count(&s.a.app.db)
        .await
        .unwrap();
    assert!(queued >= 1, "the reminder queued an e-mail");
    let mut delivered = 0;
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            jiqun::mail::deliver_pending(&s.a.app),
            jiqun::mail::deliver_pending(&s.b.app),
        );
        delivered += a.unwrap() + b.unwrap();
    }
    assert_eq!(u64::from(delivered), queued);
    let received = std::fs::read_to_string(&sink.file).unwrap_or_default();
    assert_eq!(
        received.matches("\n----\n").count() as u64,
        queued,
        "each message reaches the relay once: {received}"
    );
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_reminders_and_escalations_go_out_once_with_both_servers_ticking() {
    use jiqun::services::reports::remind_reports;
    use jiqun::store::entity::{notification, report_alert};
    use sea_orm::{ColumnTrait, QueryFilter};
    let Some(endpoint) = endpoint() else { return };
    let s = two_servers(&endpoint, None).await;
    showcase(&s.a).await;
    set_day(&s.a, date!(2026 - 01 - 01));
    // Held on 31 December 2025: the 2025 annual report, due Monday 2 February 2026.
    support::designate(
        &s.a,
        CHANGSHA,
        jiqun_domain::round::Designation::CultivationTarget,
        date!(2025 - 07 - 01),
        None,
    )
    .await;
    let mut sent = 0;
    // The reminder 30 days before, then the overdue notice the next working day.
    for day in [date!(2026 - 01 - 03), date!(2026 - 02 - 03)] {
        forward_to(&s.a, day);
        for _ in 0..3 {
            let (a, b) = tokio::join!(remind_reports(&s.a.app), remind_reports(&s.b.app));
            sent += a.unwrap() + b.unwrap();
        }
    }
    let alerts = report_alert::Entity::find()
        .count(&s.a.app.db)
        .await
        .unwrap();
    assert!(sent >= 2, "{sent}");
    assert_eq!(
        u64::from(sent),
        alerts,
        "one alert each, whichever server sent it"
    );
    let applicant = user_id(&s.a, "applicant").await;
    for title in ["报送提醒", "逾期未报"] {
        let told = notification::Entity::find()
            .filter(notification::Column::UserId.eq(applicant))
            .filter(notification::Column::Title.contains(title))
            .count(&s.a.app.db)
            .await
            .unwrap();
        assert_eq!(told, 1, "{title}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_kept_by_one_server_is_stale_once_the_other_writes() {
    let Some(endpoint) = endpoint() else { return };
    let s = two_servers(&endpoint, None).await;
    let (id, version) = crate::kept_pages::a_draft(&s.a).await;
    // One session for both servers (it lives in the database; the cookie ignores the port).
    let client = support::page_login(&s.a, "applicant").await;
    let path = format!("/applications/{id}");
    for server in [&s.a, &s.b] {
        let (status, _, page) = crate::kept_pages::fetch(server, &client, &path).await;
        assert_eq!(status, 200);
        assert!(!page.contains("987.5"));
    }
    // B has read the page (and keeps it while the database's snapshot holds). Saved through A:
    // B's next answer shows the figure, with no wait and no message between the servers.
    crate::kept_pages::save_revenue(&s.a, id, version, "987.5").await;
    let (_, kept, page) = crate::kept_pages::fetch(&s.b, &client, &path).await;
    assert!(!kept, "B's kept page is stale");
    assert!(page.contains("987.5"), "B shows what A saved");
}
