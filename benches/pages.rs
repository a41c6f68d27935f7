//! Pages at the programme's real scale (not a test; `cargo bench --bench pages`): builds the
//! shape of `jiqun demo --scale N` (default 1,000 applications, 20 experts, 5,000 submitted
//! sheets, a published notice) on SQLite and on PostgreSQL, starts `jiqun serve` as its own
//! process over each, signs in as the people who read each page, and measures:
//!
//! - the public 公示 page, beside nginx serving the very same bytes as a static file;
//! - the province's ranking of all entrants; one application as the province sees it;
//! - the applicant's workbench; the round page; an expert's task list.
//!
//! For each: `wrk -t2 -c32 -d10s` (requests per second, p50 and p99) and "alone" (the median of
//! 20 sequential requests on one keep-alive connection), the page's size and the number of
//! database statements it ran (the server runs with `JIQUN_COUNT_QUERIES=true`, which answers
//! every request with an `x-jiqun-queries` header). The server's resident memory is read from
//! `/proc` at rest (after sign-in) and at its peak (after the runs).
//!
//! Needs Debian's `wrk` and `nginx` (or `nginx-light`). Settings: `JIQUN_BENCH_ENTRIES`
//! (default 1000), `JIQUN_BENCH_SECONDS` (default 10), `JIQUN_BENCH_CONNECTIONS` (default 32),
//! `JIQUN_BENCH_POSTGRES_URL` (an administrator's URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; a database is created for the run and dropped
//! after it; `none` skips PostgreSQL), `JIQUN_BENCH_ONLY` (`sqlite` or `postgres`).
// A failed set-up step ends the benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiqun::store::entity::{application, round, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QueryOrder};

type Error = Box<dyn std::error::Error + Send + Sync>;

const ALONE: usize = 20;
/// Who reads the pages: the province, an applicant of the generated round, a demo expert.
const READERS: [&str; 3] = ["province", "scale0001", "expert"];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args([
            "-c",
            &format!("command -v {tool} || test -x /usr/sbin/{tool}"),
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> Result<u16, std::io::Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A child process stopped when the run ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn id(&self) -> u32 {
        self.0.id()
    }
}

/// Resident and peak resident memory of a process, in MiB, from `/proc`.
fn memory_of(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn start_nginx(dir: &Path, port: u16) -> Result<Running, Error> {
    let conf = format!(
        "worker_processes auto;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
         fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
         server {{\n    listen 127.0.0.1:{port};\n    root {d}/www;\n\
         location / {{ default_type \"text/html; charset=utf-8\"; }}\n  }}\n}}\n",
        d = dir.display()
    );
    std::fs::create_dir_all(dir.join("tmp"))?;
    std::fs::create_dir_all(dir.join("www"))?;
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let nginx = if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    };
    let child = Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(Running(child))
}

/// Requests per second, p50 and p99 of a wrk run.
fn wrk(url: &str, cookie: &str, seconds: usize, connections: usize) -> Result<Wrk, Error> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if !cookie.is_empty() {
        cmd.args(["-H", &format!("Cookie: {cookie}")]);
    }
    let out = cmd.arg(url).output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.contains("Non-2xx") {
        return Err(format!("wrk saw errors for {url}:\n{text}").into());
    }
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk output:\n{text}"))?;
    let pct = |p: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(p))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_string()
    };
    Ok(Wrk {
        rps,
        p50: pct("50%"),
        p99: pct("99%"),
    })
}

struct Wrk {
    rps: f64,
    p50: String,
    p99: String,
}

struct Row {
    page: &'static str,
    bytes: usize,
    queries: String,
    alone_ms: f64,
    /// Alone, with an address of its own each time, so that nothing kept is served.
    rendered_ms: f64,
    wrk: Wrk,
}

/// A browser-like client signed in through the login pages (second factor included).
async fn sign_in(base: &str, username: &str) -> Result<(reqwest::Client, String), Error> {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("username", username),
            ("password", jiqun::demo::DEMO_PASSWORD),
        ])
        .send()
        .await?;
    if res.status() != 303 {
        return Err(format!("{username}: login answered {}", res.status()).into());
    }
    if res.headers()["location"] == "/login/mfa" {
        let page = client
            .get(format!("{base}/login/mfa"))
            .send()
            .await?
            .text()
            .await?;
        let marker = "name=\"_csrf\" value=\"";
        let start = page.find(marker).ok_or("no CSRF field")? + marker.len();
        let csrf = page[start..].split('"').next().unwrap_or_default();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let code = jiqun::auth::totp::code_at(&jiqun::demo::demo_secret(username), now)?;
        let res = client
            .post(format!("{base}/login/mfa"))
            .form(&[("_csrf", csrf), ("code", code.as_str())])
            .send()
            .await?;
        if res.headers().get("location").map(|l| l.as_bytes()) != Some(b"/") {
            return Err(format!("{username}: second factor refused").into());
        }
    }
    let url: url::Url = base.parse()?;
    use reqwest::cookie::CookieStore;
    let cookie = jar
        .cookies(&url)
        .and_then(|v| v.to_str().ok().map(str::to_string))
        .ok_or("no session cookie")?;
    Ok((client, cookie))
}

/// The statements a request ran, from the server's `x-jiqun-queries` header.
fn statements(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-jiqun-queries")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_string()
}

/// One page: checked once, then alone and under wrk.
async fn measure(
    page: &'static str,
    client: &reqwest::Client,
    cookie: &str,
    url: &str,
    seconds: usize,
    connections: usize,
) -> Result<(Row, Vec<u8>), Error> {
    let res = client.get(url).send().await?;
    if !res.status().is_success() {
        return Err(format!("{page} {url} answered {}", res.status()).into());
    }
    let first = statements(&res);
    let body = res.bytes().await?.to_vec();
    let mut times = Vec::with_capacity(ALONE);
    let mut steady = String::new();
    for _ in 0..ALONE {
        let started = Instant::now();
        let res = client.get(url).send().await?;
        steady = statements(&res);
        res.bytes().await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    // The first request's count (it may fill a cache), then a later one's.
    let queries = if first == steady {
        steady
    } else {
        format!("{first}→{steady}")
    };
    times.sort_by(f64::total_cmp);
    let alone_ms = times[ALONE / 2];
    // The same page rendered each time: an address never asked before is never kept.
    let mut rendered = Vec::with_capacity(ALONE);
    for i in 0..ALONE {
        let sep = if url.contains('?') { '&' } else { '?' };
        let started = Instant::now();
        client
            .get(format!("{url}{sep}_bench={i}"))
            .send()
            .await?
            .bytes()
            .await?;
        rendered.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    rendered.sort_by(f64::total_cmp);
    let rendered_ms = rendered[ALONE / 2];
    let (u, c) = (url.to_string(), cookie.to_string());
    let wrk = tokio::task::spawn_blocking(move || wrk(&u, &c, seconds, connections)).await??;
    Ok((
        Row {
            page,
            bytes: body.len(),
            queries,
            alone_ms,
            rendered_ms,
            wrk,
        },
        body,
    ))
}

fn jiqun_command(data_dir: &Path, database_url: &str) -> Command {
    // JIQUN_BENCH_BIN measures another build of jiqun (e.g. before a change) on the same data.
    let bin =
        std::env::var("JIQUN_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_jiqun").into());
    let mut cmd = Command::new(bin);
    cmd.env("JIQUN_DATA_DIR", data_dir)
        .env("JIQUN_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("JIQUN_CONFIG");
    cmd
}

/// Builds the shape, serves it and measures every page; the table's rows.
async fn run_backend(
    label: &str,
    dir: &Path,
    database_url: &str,
    n: usize,
    seconds: usize,
    connections: usize,
) -> Result<(Vec<Row>, (f64, f64)), Error> {
    let data_dir = dir.join(format!("data-{label}"));
    std::fs::create_dir_all(&data_dir)?;
    let marker = data_dir.join("generated");
    if marker.exists() {
        println!("== {label}：沿用已生成的规模数据（{}）", data_dir.display());
    } else {
        generate(label, &data_dir, database_url, n)?;
        std::fs::write(&marker, n.to_string())?;
    }
    measure_backend(label, dir, &data_dir, database_url, seconds, connections).await
}

fn generate(label: &str, data_dir: &Path, database_url: &str, n: usize) -> Result<(), Error> {
    println!("== {label}：生成规模数据（jiqun demo --scale {n}）……");
    let started = Instant::now();
    let generated = jiqun_command(data_dir, database_url)
        .args(["demo", "--scale", &n.to_string()])
        .stdout(Stdio::piped())
        .output()?;
    if !generated.status.success() {
        return Err(format!(
            "jiqun demo --scale failed:\n{}{}",
            String::from_utf8_lossy(&generated.stdout),
            String::from_utf8_lossy(&generated.stderr)
        )
        .into());
    }
    println!("   生成用时{:.0}秒", started.elapsed().as_secs_f64());
    Ok(())
}

/// Serves the generated data and measures every page; the table's rows.
async fn measure_backend(
    label: &str,
    dir: &Path,
    data_dir: &Path,
    database_url: &str,
    seconds: usize,
    connections: usize,
) -> Result<(Vec<Row>, (f64, f64)), Error> {
    let db = Database::connect(database_url).await?;
    let r = round::Entity::find()
        .filter(round::Column::NoticePublishedOn.is_not_null())
        .order_by_desc(round::Column::Id)
        .one(&db)
        .await?
        .ok_or("no published round")?;
    let a = application::Entity::find()
        .filter(application::Column::CompetitionId.eq(r.competition_id))
        .order_by_asc(application::Column::Id)
        .one(&db)
        .await?
        .ok_or("no application")?;
    // The generated accounts were issued a first password to change; the readers measured here
    // have changed theirs.
    user::Entity::update_many()
        .col_expr(user::Column::MustChangePassword, Expr::value(false))
        .filter(user::Column::Username.is_in(READERS))
        .exec(&db)
        .await?;
    db.close().await?;

    let port = free_port()?;
    let server = Running(
        jiqun_command(data_dir, database_url)
            .env("JIQUN_LISTEN", format!("127.0.0.1:{port}"))
            .env("JIQUN_COUNT_QUERIES", "true")
            .env("JIQUN_LOGIN_ADDRESS_LIMIT", "1000")
            .arg("serve")
            .stdout(Stdio::null())
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let probe = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if probe.get(format!("{base}/login")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        return Err("jiqun serve did not answer".into());
    }
    let (province, province_cookie) = sign_in(&base, "province").await?;
    let (applicant, applicant_cookie) = sign_in(&base, "scale0001").await?;
    let (expert, expert_cookie) = sign_in(&base, "expert").await?;
    let public = reqwest::Client::new();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let at_rest = memory_of(server.id()).0;

    let mut rows = Vec::new();
    let (notice, bytes) = measure(
        "公示页（公众）",
        &public,
        "",
        &format!("{base}/notices/{}", r.id),
        seconds,
        connections,
    )
    .await?;
    rows.push(notice);
    let www = dir.join(format!("nginx-{label}"));
    std::fs::create_dir_all(www.join("www"))?;
    std::fs::write(www.join("www").join("notice.html"), &bytes)?;
    let nginx_port = free_port()?;
    {
        let _nginx = start_nginx(&www, nginx_port)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (row, same) = measure(
            "  nginx 同样字节",
            &public,
            "",
            &format!("http://127.0.0.1:{nginx_port}/notice.html"),
            seconds,
            connections,
        )
        .await?;
        if same != bytes {
            return Err("nginx did not serve the same bytes".into());
        }
        rows.push(row);
    }
    for (page, client, cookie, path) in [
        (
            "省厅排名（全部参评）",
            &province,
            &province_cookie,
            format!("/rounds/{}/ranking", r.id),
        ),
        (
            "单项申报（省厅）",
            &province,
            &province_cookie,
            format!("/applications/{}", a.id),
        ),
        ("申报主体工作台", &applicant, &applicant_cookie, "/".into()),
        (
            "轮次页（省厅）",
            &province,
            &province_cookie,
            format!("/rounds/{}", r.id),
        ),
        ("专家任务列表", &expert, &expert_cookie, "/scoring".into()),
    ] {
        let (row, _) = measure(
            page,
            client,
            cookie,
            &format!("{base}{path}"),
            seconds,
            connections,
        )
        .await?;
        rows.push(row);
    }
    let peak = memory_of(server.id()).1;
    drop(server);
    Ok((rows, (at_rest, peak)))
}

fn print_table(label: &str, rows: &[Row], memory: (f64, f64), connections: usize, seconds: usize) {
    println!();
    println!(
        "### {label}（wrk -t2 -c{connections} -d{seconds}s；单独 = {ALONE}次顺序请求的中位数；单独渲染 = 每次换一个地址、不取留存页的中位数）"
    );
    println!("| 页面 | 大小 | 语句数 | 单独 ms | 单独渲染 ms | 次/秒 | p50 | p99 |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.1} KB | {} | {:.2} | {:.2} | {:.0} | {} | {} |",
            r.page,
            r.bytes as f64 / 1024.0,
            r.queries,
            r.alone_ms,
            r.rendered_ms,
            r.wrk.rps,
            r.wrk.p50,
            r.wrk.p99
        );
    }
    if let (Some(ours), Some(nginx)) = (rows.first(), rows.get(1)) {
        println!(
            "公示页 / nginx = {:.1}%",
            ours.wrk.rps / nginx.wrk.rps * 100.0
        );
    }
    println!(
        "服务进程常驻内存：静止时 {:.1} MiB，测量期间峰值 {:.1} MiB",
        memory.0, memory.1
    );
}

fn main() -> Result<(), Error> {
    if !have("wrk") || !have("nginx") {
        eprintln!(
            "需要 Debian 软件包 wrk 和 nginx（或 nginx-light）：apt-get install -y wrk nginx-light"
        );
        std::process::exit(2);
    }
    let n = env_number("JIQUN_BENCH_ENTRIES", 1000);
    let seconds = env_number("JIQUN_BENCH_SECONDS", 10);
    let connections = env_number("JIQUN_BENCH_CONNECTIONS", 32);
    let only = std::env::var("JIQUN_BENCH_ONLY").unwrap_or_default();
    let pg_admin = std::env::var("JIQUN_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    // With JIQUN_BENCH_REUSE=<dir>, the data generated there by an earlier run (and its
    // PostgreSQL database, jiqun_bench_reuse) is measured again and kept: before and after a
    // change, on the same data.
    let reuse = std::env::var("JIQUN_BENCH_REUSE")
        .ok()
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    let dir: PathBuf = reuse.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("jiqun-bench-pages-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let mut tables = Vec::new();
        if only.is_empty() || only == "sqlite" {
            let url = jiqun::config::sqlite_url(&dir.join("data-SQLite").join("jiqun.db"));
            let (rows, memory) = run_backend("SQLite", &dir, &url, n, seconds, connections).await?;
            print_table("SQLite", &rows, memory, connections, seconds);
            tables.push(("SQLite", rows, memory));
        }
        if (only.is_empty() || only == "postgres") && pg_admin != "none" {
            let name = match &reuse {
                Some(_) => "jiqun_bench_reuse".to_string(),
                None => format!("jiqun_bench_{}", std::process::id()),
            };
            match Database::connect(&pg_admin).await {
                Err(e) => println!("跳过 PostgreSQL：无法连接 {pg_admin}（{e}）"),
                Ok(admin) => {
                    let existing = dir.join("data-PostgreSQL").join("generated").exists();
                    if !existing {
                        admin
                            .execute_unprepared(&format!("CREATE DATABASE {name}"))
                            .await?;
                    }
                    let base = pg_admin
                        .rsplit_once('/')
                        .map(|(b, _)| b)
                        .unwrap_or(&pg_admin);
                    let url = format!("{base}/{name}");
                    let outcome =
                        run_backend("PostgreSQL", &dir, &url, n, seconds, connections).await;
                    if reuse.is_none() {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                    let (rows, memory) = outcome?;
                    print_table("PostgreSQL", &rows, memory, connections, seconds);
                    tables.push(("PostgreSQL", rows, memory));
                }
            }
        }
        println!();
        println!("全部结果（同一台机器、同一次运行）：");
        for (label, rows, memory) in &tables {
            print_table(label, rows, *memory, connections, seconds);
        }
        Ok::<(), Error>(())
    });
    if reuse.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}
