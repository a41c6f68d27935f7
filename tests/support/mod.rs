//! Test support: a real jiqun server on 127.0.0.1:0 over a fresh database — a temporary SQLite
//! file, or a new PostgreSQL database when JIQUN_TEST_DATABASE_URL points at a server.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use jiqun::app::{App, Shared};
use jiqun::config::{Config, ConfigArgs};
use sea_orm::{ConnectionTrait, Database};

pub use jiqun::demo::{DEMO_PASSWORD, demo_secret};

pub struct TestDb {
    pub url: String,
    pub dir: PathBuf,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // PostgreSQL test databases are dropped by scripts/test; the SQLite file lives here.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The backend under test, from the environment.
pub fn backend() -> &'static str {
    match std::env::var("JIQUN_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

pub async fn fresh_db() -> TestDb {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("jiqun-test-{id}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = match std::env::var("JIQUN_TEST_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let name = format!("jiqun_test_{id}");
            let conn = Database::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            conn.close().await.ok();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
        _ => jiqun::config::sqlite_url(&dir.join("jiqun.db")),
    };
    TestDb { url, dir }
}

pub struct TestApp {
    pub base: String,
    pub app: Shared,
    pub db: TestDb,
}

pub fn config_for(db: &TestDb) -> Config {
    Config::resolve(&ConfigArgs {
        data_dir: Some(db.dir.clone()),
        database_url: Some(db.url.clone()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    })
    .expect("test config")
}

/// Starts the server with the demo organisations and accounts.
pub async fn spawn() -> TestApp {
    let db = fresh_db().await;
    let app: Shared = Arc::new(
        jiqun::server::open(config_for(&db), true)
            .await
            .expect("open app"),
    );
    jiqun::demo::seed(&app).await.expect("seed demo data");
    serve_on(db, app).await
}

/// Serves an application already opened over `db` on a free port.
pub async fn serve_on(db: TestDb, app: Shared) -> TestApp {
    let listener = jiqun::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = app.clone();
    tokio::spawn(async move {
        let _ = jiqun::server::serve(served, listener).await;
    });
    TestApp { base, app, db }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A fresh authenticator code of a demo account. A code is accepted once (RFC 6238), so the
    /// server clock first moves to the next 30-second step, as a person would wait for it. Under
    /// a demo clock the phone keeps real time, so the person really waits for the next step.
    pub fn totp(&self, username: &str) -> String {
        if !self.app.clock.is_demo() {
            self.app.clock.advance(time::Duration::seconds(30));
            let now = self.app.clock.now().unix_timestamp();
            return jiqun::auth::totp::code_at(&demo_secret(username), now).expect("totp");
        }
        static LAST_STEP: std::sync::Mutex<i64> = std::sync::Mutex::new(0);
        let mut last = LAST_STEP.lock().unwrap_or_else(|e| e.into_inner());
        let mut now = time::OffsetDateTime::now_utc().unix_timestamp();
        if now / 30 <= *last {
            let wait = (*last + 1) * 30 - now;
            std::thread::sleep(std::time::Duration::from_secs(wait.max(0) as u64 + 1));
            now = time::OffsetDateTime::now_utc().unix_timestamp();
        }
        *last = now / 30;
        jiqun::auth::totp::code_at(&demo_secret(username), now).expect("totp")
    }

    pub fn app(&self) -> &App {
        &self.app
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The CSRF token embedded in a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A browser-like session signed in through the login pages, second factor included.
pub async fn page_login(t: &TestApp, username: &str) -> reqwest::Client {
    let client = client();
    let res = client
        .post(t.url("/login"))
        .form(&[("username", username), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303, "{username} login");
    if res.headers()["location"] == "/login/mfa" {
        let page = client
            .get(t.url("/login/mfa"))
            .send()
            .await
            .expect("second-factor page")
            .text()
            .await
            .unwrap_or_default();
        let csrf = csrf_from(&page);
        let res = client
            .post(t.url("/login/mfa"))
            .form(&[("_csrf", csrf), ("code", t.totp(username))])
            .send()
            .await
            .expect("second factor");
        assert_eq!(res.headers()["location"], "/", "{username} second factor");
    }
    client
}

/// Gives a cluster (by name) a title directly (the rounds that confer titles are tested
/// elsewhere), closed on `closed` when given (revoked, or superseded for a 培育对象).
pub async fn designate(
    t: &TestApp,
    cluster_name: &str,
    kind: jiqun_domain::round::Designation,
    on: time::Date,
    closed: Option<(bool, time::Date)>,
) -> jiqun::store::id::ClusterId {
    use jiqun::store::entity::{cluster, designation};
    use jiqun::store::id::{EntryId, RoundId, UserId};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
    let cl = cluster::Entity::find()
        .filter(cluster::Column::Name.eq(cluster_name))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let seq = designation::Entity::find().count(&t.app.db).await.unwrap() as i32 + 1;
    let (revoked_on, superseded_on) = match closed {
        Some((true, d)) => (Some(d), None),
        Some((false, d)) => (None, Some(d)),
        None => (None, None),
    };
    designation::ActiveModel {
        cluster_id: Set(cl.id),
        round_id: Set(RoundId::new(0)),
        entry_id: Set(EntryId::new(0)),
        designation: Set(kind),
        effective_on: Set(on),
        year: Set(on.year()),
        seq: Set(seq),
        certificate_number: Set(format!("测试〔{}〕第{seq:03}号", on.year())),
        superseded_on: Set(superseded_on),
        revoked_on: Set(revoked_on),
        revoke_reason: Set(String::new()),
        decided_by: Set(UserId::new(0)),
        created_at: Set(t.app.clock.now()),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    jiqun::services::designations::refresh_standing(&t.app.db, cl.id, t.app.clock.now())
        .await
        .unwrap();
    cl.id
}
