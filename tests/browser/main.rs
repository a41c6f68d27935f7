//! Headless-browser tests: what a new user of each role sees and does, clicking through the real
//! pages in Chromium driven by chromedriver.
//!
//! Needs Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver; the
//! paths can be overridden with `JIQUN_CHROMIUM` and `JIQUN_CHROMEDRIVER`). Without them the tests
//! fail with a message saying so: they never skip silently.
//!
//! Each test spawns its own jiqun server over a fresh database, its own chromedriver (in its own
//! process group, so the browsers it launches are ended with it) and its own browser session.
//! Screenshots go to artifacts/screenshots/{backend}-{NN}-{what}.png.
// A failed set-up step ends the test or benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod accessibility;
mod county;
mod dashboard;
mod finals;
mod funding;
mod guidance;
mod intake;
mod ladder;
mod lists;
mod national;
mod recheck;
mod reports;
mod revocation;
mod rounds;

use jiqun::store::id::OrgId;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use jiqun::store::entity::organisation;
use jiqun_domain::credit_code::CreditCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use support::{DEMO_PASSWORD, TestApp};

/// The navigation keys of the organisation, user, audit and account pages this suite checks.
const CORE_NAV: [&str; 5] = ["home", "orgs", "users", "audit", "account"];

const SCREENSHOT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts/screenshots");
/// How long to wait for a page or an element before failing.
const WAIT: Duration = Duration::from_secs(15);

/// A browser tool, which must be installed: the suite fails, never skips, without it.
fn tool(env: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{} not found: the browser tests need Debian's `{package}` package \
         (apt-get install chromium chromium-driver fonts-noto-cjk), or set {env} to its path",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free local port for chromedriver")
        .port()
}

/// A chromedriver process, leader of its own process group; dropping it kills the group, which
/// takes any browser it started along, whether or not the test got as far as closing it.
struct Driver {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Driver {
    async fn start() -> Driver {
        let exe = tool(
            "JIQUN_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromium-driver",
        );
        let dir =
            std::env::temp_dir().join(format!("jiqun-browser-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the browser temp dir");
        let log_path = dir.join("chromedriver.log");
        let log = std::fs::File::create(&log_path).expect("create the chromedriver log");
        let port = free_port();
        let child = Command::new(&exe)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", exe.display()));
        let mut driver = Driver { child, port, dir };
        let status_url = format!("http://127.0.0.1:{port}/status");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!(
                    "chromedriver exited at start ({status}); its log:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if let Ok(resp) = http.get(&status_url).send().await
                && let Ok(body) = resp.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return driver;
            }
            if started.elapsed() > WAIT {
                // Dropping `driver` while unwinding ends the half-started process.
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!(
                    "chromedriver did not answer on port {port} within {WAIT:?}; its log:\n{log}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One browser session against one test server.
struct Browser<'a> {
    client: Client,
    app: &'a TestApp,
    // Dropped after the client: kills chromedriver and the browser.
    _driver: Driver,
}

impl<'a> Browser<'a> {
    async fn open(app: &'a TestApp) -> Browser<'a> {
        let chromium = tool("JIQUN_CHROMIUM", "/usr/bin/chromium", "chromium");
        let driver = Driver::start().await;
        let profile = driver.dir.join("profile");
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1366,900",
                    // The users are in Hunan: Accept-Language zh-CN (native controls such as date
                    // pickers follow it only if the chromium-l10n package is installed).
                    "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!("capabilities are an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "open a Chromium session through chromedriver: {e}; chromedriver log:\n{}",
                    std::fs::read_to_string(driver.dir.join("chromedriver.log"))
                        .unwrap_or_default()
                )
            });
        Browser {
            client,
            app,
            _driver: driver,
        }
    }

    /// Ends the browser session (the driver is killed when the Browser is dropped).
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Types an address into the address bar.
    async fn goto(&self, path: &str) {
        self.client
            .goto(&self.app.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    async fn url(&self) -> url::Url {
        self.client
            .current_url()
            .await
            .expect("read the current URL")
    }

    /// The current path, without the query.
    async fn path(&self) -> String {
        self.url().await.path().to_string()
    }

    async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let url = self.url().await;
                let body = match self.client.find(Locator::Css("body")).await {
                    Ok(body) => body.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("no element `{css}` on {url} within {WAIT:?} ({e}); the page says:\n{body}")
            }
        }
    }

    async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("query the page")
            .is_empty()
    }

    async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("read the text of `{css}`: {e}"))
    }

    async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("query the page")
        {
            out.push(e.text().await.expect("read an element's text"));
        }
        out
    }

    /// The value currently in a form field.
    async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap_or_else(|e| panic!("read the value of `{css}`: {e}"))
            .unwrap_or_default()
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear `{css}`: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value} in `{css}`: {e}"));
    }

    /// Clicks something that loads a new page, and waits for that page to finish loading.
    async fn click(&self, css: &str) {
        let target = self.find(css).await;
        self.click_element(target, css).await;
    }

    async fn click_element(&self, target: Element, what: &str) {
        self.client
            .execute("window.__jiqunOldPage = true; return null;", vec![])
            .await
            .expect("mark the current page");
        target
            .click()
            .await
            .unwrap_or_else(|e| panic!("click `{what}`: {e}"));
        let started = Instant::now();
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__jiqunOldPage === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            if started.elapsed() > WAIT {
                panic!("clicking `{what}` did not load a new page within {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Follows the navigation link with the given data-nav key.
    async fn nav(&self, key: &str) {
        self.click(&format!("#nav a[data-nav='{key}']")).await;
    }

    /// The side navigation, in order: (data-nav key, label, href).
    async fn nav_entries(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for link in self
            .client
            .find_all(Locator::Css("#nav a"))
            .await
            .expect("query the navigation")
        {
            let key = link.attr("data-nav").await.expect("read data-nav");
            let href = link.attr("href").await.expect("read href");
            let label = link.text().await.expect("read a link's label");
            out.push((key.unwrap_or_default(), label, href.unwrap_or_default()));
        }
        out
    }

    /// The labels of the side navigation's account-and-organisation links (home, orgs, users,
    /// audit, account), in order. Feature pages that every role may open (the calendar, the
    /// policy rules) are left out: `check_nav` opens those to show they are allowed.
    async fn nav_labels(&self) -> Vec<String> {
        self.nav_entries()
            .await
            .into_iter()
            .filter(|(key, _, _)| CORE_NAV.contains(&key.as_str()))
            .map(|(_, label, _)| label)
            .collect()
    }

    /// The role sees exactly `expected` among the core links, and every link it is shown opens
    /// a page rather than the error page. Ends back on the workbench.
    async fn check_nav(&self, who: &str, expected: &[&str]) {
        assert_eq!(
            self.nav_labels().await,
            labels(expected),
            "{who}'s navigation"
        );
        for (key, label, href) in self.nav_entries().await {
            self.goto(&href).await;
            assert!(
                !self.exists("#error-message").await,
                "{who}'s navigation link {label} ({href}) leads to the error page: {}",
                self.text("#error-message").await
            );
            assert!(
                self.exists(&format!("#nav a.current[data-nav='{key}']"))
                    .await,
                "{who}: {label} ({href}) is marked as the current page"
            );
        }
        self.goto("/").await;
    }

    async fn heading(&self) -> String {
        self.text("main h1").await
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        std::fs::create_dir_all(SCREENSHOT_DIR).expect("create artifacts/screenshots");
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("take screenshot {name}: {e}"));
        let path = PathBuf::from(SCREENSHOT_DIR).join(format!("{}-{name}.png", support::backend()));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Fills in and submits the login form; wherever it leads.
    async fn submit_login(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("#login-submit").await;
    }

    /// Enters the current authenticator code on the second-factor page.
    async fn second_factor(&self, username: &str) {
        assert_eq!(
            self.path().await,
            "/login/mfa",
            "{username} should be asked for the second factor"
        );
        self.fill("#code", &self.app.totp(username)).await;
        self.click("#mfa-submit").await;
    }

    /// Signs a demo account in (with its authenticator code where the role needs one) and checks
    /// that the workbench opens.
    async fn login(&self, username: &str) {
        self.submit_login(username, DEMO_PASSWORD).await;
        if self.path().await == "/login/mfa" {
            self.second_factor(username).await;
        }
        assert_eq!(
            self.path().await,
            "/",
            "{username} should land on the workbench after signing in"
        );
        self.find("#todo-count").await;
    }

    async fn logout(&self) {
        self.click("#logout").await;
        assert_eq!(
            self.path().await,
            "/login",
            "logging out leads to the login page"
        );
        assert!(
            !self.exists("#nav").await,
            "no navigation after logging out"
        );
    }

    /// Types a forbidden address and checks that the error page refuses it.
    async fn refused(&self, path: &str, status: &str) {
        self.goto(path).await;
        let message = self.text("#error-message").await;
        assert_eq!(
            self.heading().await,
            status,
            "{path} should be refused with {status} (message: {message})"
        );
        let expected = match status {
            "403" => "无权执行此操作",
            _ => "未找到该对象，或您无权查看",
        };
        assert_eq!(message, expected, "error message for {path}");
    }
}

/// The id of a demo organisation, looked up in the database.
async fn org_id(app: &TestApp, name: &str) -> OrgId {
    organisation::Entity::find()
        .filter(organisation::Column::Name.eq(name))
        .one(&app.app.db)
        .await
        .expect("query organisations")
        .unwrap_or_else(|| panic!("demo organisation {name} exists"))
        .id
}

fn labels(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The body text of a table's rows, one string per row, cells separated by tabs.
async fn rows(b: &Browser<'_>, table: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for row in b
        .client
        .find_all(Locator::Css(&format!("{table} tbody tr")))
        .await
        .expect("query table rows")
    {
        let mut cells = Vec::new();
        for cell in row
            .find_all(Locator::Css("td"))
            .await
            .expect("query table cells")
        {
            cells.push(cell.text().await.expect("read a cell"));
        }
        out.push(cells);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applicant_and_city_bureau_reach_only_their_own_pages() {
    let app = support::spawn().await;
    let b = Browser::open(&app).await;
    let changsha_applicant = org_id(&app, "长沙工程机械产业集群促进会").await;
    let yueyang_applicant = org_id(&app, "岳阳石化产业集群促进会").await;

    // The applicant: its own organisation, its account, nothing else.
    b.login("applicant").await;
    assert_eq!(b.heading().await, "申报主体工作台");
    b.check_nav("applicant", &["工作台", "本单位信息", "账户安全"])
        .await;
    assert!(
        b.text("#who").await.contains("长沙工程机械产业集群促进会"),
        "the header names the applicant's organisation"
    );
    b.screenshot("01-applicant-workbench").await;
    b.nav("orgs").await;
    assert_eq!(b.path().await, format!("/orgs/{changsha_applicant}"));
    assert_eq!(b.text("#org-name").await, "长沙工程机械产业集群促进会");
    b.refused("/audit", "403").await;
    b.refused("/users", "403").await;
    b.refused("/orgs/new", "403").await;
    b.refused(&format!("/orgs/{yueyang_applicant}"), "404")
        .await;
    b.goto("/").await;
    b.logout().await;

    // The Changsha bureau: the organisations of Changsha only.
    b.login("changsha").await;
    assert_eq!(b.heading().await, "市州工信局工作台");
    b.check_nav("changsha", &["工作台", "本市单位", "账户安全"])
        .await;
    assert!(
        b.text("#stats").await.contains("本市申报主体"),
        "the bureau's workbench counts its city's applicants"
    );
    b.screenshot("02-changsha-workbench").await;
    b.nav("orgs").await;
    assert_eq!(b.path().await, "/orgs");
    let listed = rows(&b, "#org-table").await;
    assert!(
        listed.len() >= 2,
        "the bureau sees its own bureau and Changsha's applicant: {listed:?}"
    );
    for row in &listed {
        assert_eq!(
            row.get(3).map(String::as_str),
            Some("长沙市"),
            "a Changsha bureau sees only Changsha organisations, not {row:?}"
        );
    }
    let names: Vec<&str> = listed.iter().map(|r| r[0].as_str()).collect();
    assert!(names.contains(&"长沙工程机械产业集群促进会"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("岳阳")), "{names:?}");
    assert!(
        !b.exists("#new-org").await,
        "a bureau cannot create organisations"
    );
    b.screenshot("03-changsha-orgs").await;
    b.refused(&format!("/orgs/{yueyang_applicant}"), "404")
        .await;
    b.refused("/users", "403").await;
    b.refused("/audit", "403").await;
    b.goto(&format!("/orgs/{changsha_applicant}")).await;
    assert_eq!(b.text("#org-name").await, "长沙工程机械产业集群促进会");
    b.logout().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn province_and_system_administrator_use_a_second_factor() {
    let app = support::spawn().await;
    let b = Browser::open(&app).await;

    // The province: the password, then the authenticator code; a wrong code is explained.
    b.submit_login("province", DEMO_PASSWORD).await;
    assert_eq!(b.path().await, "/login/mfa");
    assert!(
        !b.exists("#nav").await,
        "no navigation before the second factor"
    );
    b.screenshot("04-province-second-factor").await;
    let right = app.totp("province");
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    b.fill("#code", wrong).await;
    b.click("#mfa-submit").await;
    assert!(
        b.text("p.field-error[data-error-for=code]")
            .await
            .contains("验证码错误"),
        "a wrong code is refused with a message"
    );
    b.goto("/").await;
    assert_eq!(
        b.path().await,
        "/login/mfa",
        "the workbench stays closed until the second factor is given"
    );
    b.second_factor("province").await;
    assert_eq!(b.path().await, "/");
    assert_eq!(b.heading().await, "省工信厅工作台");
    b.check_nav("province", &["工作台", "单位管理", "账户安全"])
        .await;
    b.screenshot("05-province-workbench").await;
    b.nav("orgs").await;
    let names: Vec<String> = rows(&b, "#org-table")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(
        names.contains(&"岳阳石化产业集群促进会".to_string())
            && names.contains(&"长沙工程机械产业集群促进会".to_string()),
        "the province sees every city's organisations: {names:?}"
    );
    assert!(
        !b.exists("#new-org").await,
        "the province does not create organisations"
    );
    b.refused("/orgs/new", "403").await;
    b.refused("/users", "403").await;
    b.refused("/audit", "403").await;
    b.goto("/").await;
    b.logout().await;

    // The system administrator: organisations and users, not the audit log.
    b.login("sysadmin").await;
    assert_eq!(b.heading().await, "系统管理员工作台");
    b.check_nav("sysadmin", &["工作台", "单位管理", "用户管理", "账户安全"])
        .await;
    b.screenshot("06-sysadmin-workbench").await;
    b.refused("/audit", "403").await;
    b.goto("/").await;
    b.logout().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditor_and_security_administrator_reach_only_their_duties() {
    let app = support::spawn().await;
    let b = Browser::open(&app).await;

    b.login("auditor").await;
    assert_eq!(b.heading().await, "审计管理员工作台");
    b.check_nav("auditor", &["工作台", "审计日志", "账户安全"])
        .await;
    b.screenshot("07-auditor-workbench").await;
    b.refused("/orgs", "403").await;
    b.refused("/users", "403").await;
    b.goto("/").await;
    b.logout().await;

    b.login("secadmin").await;
    assert_eq!(b.heading().await, "安全管理员工作台");
    b.check_nav("secadmin", &["工作台", "用户管理", "账户安全"])
        .await;
    b.screenshot("08-secadmin-workbench").await;
    b.nav("users").await;
    assert!(
        !b.exists("#new-user").await,
        "the security administrator does not create accounts"
    );
    b.refused("/users/new", "403").await;
    b.refused("/orgs", "403").await;
    b.refused("/audit", "403").await;
    b.goto("/").await;
    b.logout().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sysadmin_registers_an_applicant_whose_first_user_sets_a_password() {
    let app = support::spawn().await;
    let b = Browser::open(&app).await;
    let org_name = "湘潭智能装备产业集群促进会";
    let good_code = CreditCode::from_parts('5', '1', "430300", "MJJ00990")
        .expect("a valid credit code")
        .as_str()
        .to_string();
    let check = good_code.chars().last().expect("18 characters");
    let wrong_check = if check == '1' { '2' } else { '1' };
    let bad_code = format!("{}{wrong_check}", &good_code[..17]);

    b.login("sysadmin").await;
    b.nav("orgs").await;
    b.click("#new-org").await;
    assert_eq!(b.path().await, "/orgs/new");
    assert_eq!(b.heading().await, "新建单位");
    b.fill("#name", org_name).await;
    b.select("#kind", "promotion_org").await;
    b.fill("#credit_code", &bad_code).await;
    b.select("#city_code", "430300").await;
    b.select("#county_code", "430302").await;
    b.fill("#contact_person", "周晓明").await;
    b.fill("#contact_phone", "0731-58880000").await;
    b.click("#org-submit").await;

    // The check character is wrong: the message says which it should be; nothing typed is lost.
    let error = b.text("p.field-error[data-error-for=credit_code]").await;
    assert!(
        error.contains("校验码")
            && error.contains("第18位")
            && error.contains(&format!("应为“{check}”")),
        "the credit-code error names the check character: {error}"
    );
    assert!(b.exists("#form-error").await, "the form-level notice shows");
    assert_eq!(b.value("#name").await, org_name);
    assert_eq!(b.value("#kind").await, "promotion_org");
    assert_eq!(b.value("#credit_code").await, bad_code);
    assert_eq!(b.value("#city_code").await, "430300");
    assert_eq!(b.value("#county_code").await, "430302");
    assert_eq!(b.value("#contact_person").await, "周晓明");
    assert_eq!(b.value("#contact_phone").await, "0731-58880000");
    assert_eq!(
        b.texts("p.field-error").await.len(),
        1,
        "only the credit code is in error"
    );
    b.screenshot("10-org-credit-code-error").await;

    b.fill("#credit_code", &good_code).await;
    b.click("#org-submit").await;
    let path = b.path().await;
    let org_id: OrgId = path
        .strip_prefix("/orgs/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the new organisation's page opens, not {path}"));
    assert_eq!(b.text("#org-name").await, org_name);
    assert_eq!(b.text("#org-credit-code").await, good_code);
    b.screenshot("11-org-created").await;

    // Its first user.
    b.nav("users").await;
    b.click("#new-user").await;
    assert_eq!(b.heading().await, "新建用户");
    let username = "xtzb.zhou";
    b.fill("#username", username).await;
    b.fill("#display_name", "湘潭智能装备促进会 周秘书长").await;
    b.select("#role", "applicant").await;
    b.select("#org_id", &org_id.to_string()).await;
    b.click("#user-submit").await;
    assert_eq!(b.heading().await, "账户已创建，待激活");
    assert!(
        !b.exists("#secrets").await,
        "the system administrator never sees a credential (三权分立)"
    );
    b.screenshot("12-user-created").await;
    b.click("#continue").await;
    let user_page = b.path().await;
    assert_eq!(b.text("#user-status").await, "待激活");
    b.logout().await;

    // The security administrator activates it and receives the first password.
    b.login("secadmin").await;
    b.goto(&user_page).await;
    b.click("#activate-user").await;
    assert_eq!(b.heading().await, "账户已激活");
    let initial = b.text("#secrets code").await;
    assert!(
        initial.chars().count() >= 10,
        "an initial password is shown to the security administrator: {initial:?}"
    );
    b.logout().await;

    // The new user must choose a password before anything else.
    b.submit_login(username, &initial).await;
    assert_eq!(b.path().await, "/account/password");
    assert!(
        b.find("#forced-change")
            .await
            .is_displayed()
            .await
            .expect("visibility"),
        "the forced-change notice is visible"
    );
    assert!(
        !b.exists("#nav").await,
        "no navigation before the password is changed"
    );
    b.screenshot("13-forced-password-change").await;
    b.goto("/").await;
    assert_eq!(
        b.path().await,
        "/account/password",
        "the workbench stays closed until the password is changed"
    );
    b.fill("#current", &initial).await;
    b.fill("#new", "abcdefghijkl").await;
    b.fill("#confirm", "abcdefghijkl").await;
    b.click("#password-submit").await;
    let weak = b.text("p.field-error[data-error-for=new]").await;
    assert!(
        weak.contains("至少三类"),
        "a weak password is refused with the complexity rule: {weak}"
    );
    assert!(b.exists("#forced-change").await, "still the forced change");
    b.screenshot("14-weak-password").await;
    let chosen = "Xiangjiang#2026";
    b.fill("#current", &initial).await;
    b.fill("#new", chosen).await;
    b.fill("#confirm", chosen).await;
    b.click("#password-submit").await;
    assert_eq!(b.heading().await, "密码已修改");
    b.click("#continue").await;
    assert_eq!(b.path().await, "/");
    assert_eq!(b.heading().await, "申报主体工作台");
    b.check_nav(
        "the new applicant user",
        &["工作台", "本单位信息", "账户安全"],
    )
    .await;
    b.nav("orgs").await;
    assert_eq!(b.text("#org-name").await, org_name);
    b.logout().await;

    // The new password is the one that works from now on.
    b.submit_login(username, &initial).await;
    assert_eq!(b.text("#login-error").await, "用户名或密码错误");
    b.submit_login(username, chosen).await;
    assert_eq!(b.path().await, "/");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_account_is_unlocked_by_the_security_administrator_and_audited() {
    let app = support::spawn().await;
    let b = Browser::open(&app).await;
    let reason = "本人来电核实身份，申请解锁";

    for attempt in 1..=5 {
        b.submit_login("applicant2", &format!("Wrong#Pass{attempt}"))
            .await;
        assert_eq!(b.path().await, "/login");
        let message = b.text("#login-error").await;
        if attempt < 5 {
            assert_eq!(message, "用户名或密码错误", "attempt {attempt}");
        } else {
            assert!(
                message.contains("锁定") && message.contains("连续5次"),
                "the fifth failure locks the account: {message}"
            );
        }
        assert_eq!(b.value("#username").await, "applicant2", "the name is kept");
    }
    b.screenshot("20-account-locked").await;
    b.submit_login("applicant2", DEMO_PASSWORD).await;
    assert_eq!(
        b.path().await,
        "/login",
        "the right password is refused while locked"
    );
    let message = b.text("#login-error").await;
    assert!(message.contains("锁定"), "{message}");

    // The security administrator unlocks it, giving a reason.
    b.login("secadmin").await;
    assert!(
        b.text("#todos").await.contains("核实并解锁被锁定的账户"),
        "the security administrator's to-do list shows the locked account"
    );
    b.nav("users").await;
    let row = rows(&b, "#user-table")
        .await
        .into_iter()
        .find(|r| r.first().map(String::as_str) == Some("applicant2"))
        .expect("applicant2 is listed");
    assert_eq!(row[4], "已锁定", "{row:?}");
    let link = b
        .client
        .find(Locator::LinkText("applicant2"))
        .await
        .expect("a link to applicant2");
    b.click_element(link, "applicant2").await;
    assert!(b.text("#user-status").await.starts_with("已锁定"));
    b.select("#credential-action", "unlock").await;
    b.fill("#credential-reason", "").await;
    b.click("#credential-submit").await;
    assert_eq!(
        b.text("p.field-error[data-error-for=reason]").await,
        "请填写操作理由",
        "a reason is required"
    );
    assert!(b.text("#user-status").await.starts_with("已锁定"));
    b.select("#credential-action", "unlock").await;
    b.fill("#credential-reason", reason).await;
    b.click("#credential-submit").await;
    assert!(
        b.text("#flash").await.contains("操作已完成"),
        "the unlock is confirmed"
    );
    assert_eq!(b.text("#user-status").await, "正常");
    b.screenshot("21-account-unlocked").await;
    b.logout().await;

    b.login("applicant2").await;
    assert_eq!(b.heading().await, "申报主体工作台");
    b.logout().await;

    // The audit administrator finds it all in the log, and the chain checks out.
    b.login("auditor").await;
    let todos = b.text("#todos").await;
    assert!(
        todos.contains("核查近24小时的登录失败") && todos.contains("核查近24小时的账户锁定"),
        "the auditor's to-do list: {todos}"
    );
    b.nav("audit").await;
    // Filtered by the stored key; each row names the action in Chinese.
    for (action, at_least) in [
        ("login.failure", 5),
        ("account.locked", 1),
        ("user.unlock", 1),
    ] {
        let name = jiqun_domain::audit_vocabulary::action_label(action).unwrap_or(action);
        b.fill("input[name=action]", action).await;
        b.click("#audit-filter").await;
        let found = rows(&b, "#audit-table").await;
        let about_applicant2: Vec<&Vec<String>> = found
            .iter()
            .filter(|r| r[4] == name && r.join(" ").contains("applicant2"))
            .collect();
        assert!(
            about_applicant2.len() >= at_least,
            "{action}: at least {at_least} entries about applicant2, found {found:?}"
        );
        if action == "user.unlock" {
            let entry = about_applicant2[0];
            assert!(
                entry[2].contains("secadmin"),
                "unlocked by secadmin: {entry:?}"
            );
            assert_eq!(entry[7], reason, "the reason is recorded");
            b.screenshot("22-audit-unlock-entry").await;
        }
    }
    b.click("#audit-verify").await;
    let verdict = b.text("#verify-result").await;
    assert!(verdict.contains("审计链完整"), "{verdict}");
    b.screenshot("23-audit-verified").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_session_times_out_to_the_login_page() {
    let app = support::spawn().await;
    let b = Browser::open(&app).await;
    b.login("applicant").await;

    // Activity keeps the session alive: 29 idle minutes, then a click.
    app.app.clock.advance(time::Duration::minutes(29));
    b.nav("account").await;
    assert_eq!(
        b.path().await,
        "/account",
        "29 idle minutes are within the limit"
    );
    assert_eq!(b.heading().await, "账户安全");

    app.app.clock.advance(time::Duration::minutes(31));
    b.nav("home").await;
    assert_eq!(
        b.path().await,
        "/login",
        "after 31 idle minutes the next page is the login page"
    );
    let notice = b.text("#flash").await;
    assert!(
        notice.contains("会话空闲超过30分钟"),
        "the login page says why: {notice}"
    );
    assert!(!b.exists("#nav").await);
    b.screenshot("30-session-timeout").await;

    // The old session is gone for good; signing in again works.
    b.goto("/").await;
    assert_eq!(b.path().await, "/login");
    b.login("applicant").await;
    b.close().await;
}
