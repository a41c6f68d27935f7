//! Writes through the JSON API (not a test; `cargo bench --bench writes`): four clients at once
//! start applications, save their forms, upload the two required files, submit, have their city
//! bureaus recommend them, and experts submit score sheets — each step as its own phase, every
//! request through HTTP, the session check, the permission table, the service's transaction and
//! its audit entry, as an integration or a browser would send it. Prints requests per second and
//! p50/p99 per phase, on SQLite and (when reachable) on PostgreSQL.
//!
//! The server runs in this process on 127.0.0.1 over a fresh database with the demo accounts,
//! with the allocator settings of `jiqun serve` (`jiqun::malloc`), so its peak memory is the
//! server's;
//! the organisations, clusters, panel and round are made through the same services the pages use
//! (`jiqun::scale`). Signed-in sessions are bearer tokens, so no sign-in is measured.
//!
//! Settings: `JIQUN_BENCH_WRITES` (applications, default 400), `JIQUN_BENCH_CLIENTS` (default 4),
//! `JIQUN_BENCH_POSTGRES_URL` (an administrator's URL, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; `none` skips PostgreSQL), `JIQUN_BENCH_ONLY`
//! (`sqlite` or `postgres`).
// A failed set-up step ends the benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use jiqun::app::{Principal, Shared};
use jiqun::config::{Config, ConfigArgs};
use jiqun::scale;
use jiqun::store::entity::{assignment, user};
use jiqun::store::id::ExpertId;
use jiqun_domain::region;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

const TARGET_PER_SECOND: f64 = 500.0;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// One request a client will send.
struct Call {
    method: reqwest::Method,
    path: String,
    token: String,
    body: Body,
}

enum Body {
    Json(Value),
    /// A file as `multipart/form-data` under the field `file`.
    File(&'static str, Vec<u8>),
}

struct Row {
    phase: &'static str,
    /// Database statements of one request (the server's `x-jiqun-queries`).
    statements: String,
    requests: usize,
    seconds: f64,
    p50: f64,
    p99: f64,
}

/// Sends each client's calls in order, the clients side by side; every answer must be a
/// success. Returns the phase's figures and the answers, per client in order.
async fn phase(
    name: &'static str,
    base: &str,
    per_client: Vec<Vec<Call>>,
) -> Result<(Row, Vec<Vec<Value>>), Error> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for calls in per_client {
        let client = client.clone();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(calls.len());
            let mut answers = Vec::with_capacity(calls.len());
            let mut statements = String::new();
            for call in calls {
                let req = client
                    .request(call.method.clone(), format!("{base}{}", call.path))
                    .bearer_auth(&call.token);
                let req = match call.body {
                    Body::Json(v) => req.json(&v),
                    Body::File(name, bytes) => {
                        let boundary = "jiqunbenchboundary7c1f";
                        let mut body = format!(
                            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
                        )
                        .into_bytes();
                        body.extend_from_slice(&bytes);
                        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                        req.header(
                            "content-type",
                            format!("multipart/form-data; boundary={boundary}"),
                        )
                        .body(body)
                    }
                };
                let t = Instant::now();
                let res = req.send().await?;
                let status = res.status();
                if statements.is_empty() {
                    statements = res
                        .headers()
                        .get("x-jiqun-queries")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("?")
                        .to_string();
                }
                let text = res.text().await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                if !status.is_success() {
                    return Err::<_, Error>(
                        format!("{} {} answered {status}: {text}", call.method, call.path).into(),
                    );
                }
                answers.push(serde_json::from_str(&text).unwrap_or(Value::Null));
            }
            Ok((times, answers, statements))
        }));
    }
    let mut times = Vec::new();
    let mut answers = Vec::new();
    let mut statements = String::new();
    for t in tasks {
        let (ts, a, st) = t.await??;
        times.extend(ts);
        answers.push(a);
        if statements.is_empty() {
            statements = st;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if std::env::var("JIQUN_BENCH_MEMORY").is_ok() {
        println!("   {name}之后：常驻内存{:.1} MiB", memory_mb("VmRSS:"));
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Ok((
        Row {
            phase: name,
            statements,
            requests: times.len(),
            seconds,
            p50: at(0.5),
            p99: at(0.99),
        },
        answers,
    ))
}

/// A bearer session for an account, second factor passed, first password already changed.
async fn session_of(app: &Shared, p: &Principal) -> Result<String, Error> {
    user::Entity::update_many()
        .col_expr(user::Column::MustChangePassword, Expr::value(false))
        .filter(user::Column::Id.eq(p.user.id))
        .exec(&app.db)
        .await?;
    Ok(
        jiqun::auth::session::create(&app.db, p.user.id, true, "127.0.0.1", app.clock.now())
            .await?,
    )
}

fn post(path: String, token: &str, body: Value) -> Call {
    Call {
        method: reqwest::Method::POST,
        path,
        token: token.to_string(),
        body: Body::Json(body),
    }
}

/// Runs every phase over a fresh database at `url` (data in `dir`).
async fn run(
    label: &str,
    url: &str,
    dir: &std::path::Path,
    n: usize,
    clients: usize,
) -> Result<Vec<Row>, Error> {
    let config = Config::resolve(&ConfigArgs {
        data_dir: Some(dir.to_path_buf()),
        database_url: Some(url.to_string()),
        listen: Some("127.0.0.1:0".into()),
        count_queries: Some(true),
        ..Default::default()
    })?;
    let app: Shared = Arc::new(jiqun::server::open(config, true).await?);
    jiqun::demo::seed(&app).await?;
    let listener = jiqun::server::bind("127.0.0.1:0".parse()?).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let served = app.clone();
    tokio::spawn(async move {
        let _ = jiqun::server::serve(served, listener).await;
    });
    println!("== {label}：准备{clients}个申报主体、{n}个集群……");
    let province = scale::principal(&app, "province").await?;
    let (bound, call) = scale::open_call(&app, &province).await?;
    let cities = region::cities();
    let mut promoters = Vec::new();
    let mut bureaus = Vec::new();
    for (c, city) in cities.iter().take(clients).enumerate() {
        let counties = city.counties();
        let p = scale::promoter(&app, c, city, &counties[0]).await?;
        let b = scale::bureau_of(&app, &city.code().to_string()).await?;
        promoters.push((session_of(&app, &p).await?, p));
        bureaus.push(b);
    }
    let mut clusters = vec![Vec::new(); clients];
    for i in 0..n {
        let c = i % clients;
        let city = &cities[c];
        let counties = city.counties();
        let county = &counties[(i / clients) % counties.len().max(1)];
        let kind = if i % 3 == 2 { "specialty" } else { "leading" };
        clusters[c].push((
            i,
            scale::cluster(&app, &promoters[c].1, i, county, kind).await?,
        ));
    }

    if std::env::var("JIQUN_BENCH_MEMORY").is_ok() {
        println!("   准备之后：常驻内存{:.1} MiB", memory_mb("VmRSS:"));
    }
    let mut rows = Vec::new();
    let per_client = |f: &dyn Fn(usize, &str) -> Vec<Call>| -> Vec<Vec<Call>> {
        (0..clients).map(|c| f(c, &promoters[c].0)).collect()
    };
    let (row, started) = phase(
        "开始申报 POST /applications",
        &base,
        per_client(&|c, token| {
            clusters[c]
                .iter()
                .map(|(_, id)| {
                    post(
                        "/api/v1/applications".into(),
                        token,
                        json!({"competition_id": call.id, "cluster_id": id}),
                    )
                })
                .collect()
        }),
    )
    .await?;
    rows.push(row);
    let ids: Vec<Vec<(i64, i64)>> = started
        .iter()
        .map(|answers| {
            answers
                .iter()
                .map(|a| {
                    (
                        a["application"]["id"].as_i64().unwrap_or(0),
                        a["application"]["version"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .collect();

    let (row, saved) = phase(
        "保存表单 PUT /applications/{id}",
        &base,
        per_client(&|c, token| {
            ids[c]
                .iter()
                .zip(&clusters[c])
                .map(|((id, version), (i, _))| Call {
                    method: reqwest::Method::PUT,
                    path: format!("/api/v1/applications/{id}"),
                    token: token.to_string(),
                    body: Body::Json(
                        json!({"form": scale::form_for(&bound.policy, *i), "version": version}),
                    ),
                })
                .collect()
        }),
    )
    .await?;
    rows.push(row);
    let versions: Vec<Vec<i64>> = saved
        .iter()
        .map(|answers| {
            answers
                .iter()
                .map(|a| a["application"]["version"].as_i64().unwrap_or(0))
                .collect()
        })
        .collect();

    let (row, _) = phase(
        "上传附件 POST /attachments",
        &base,
        per_client(&|c, token| {
            ids[c]
                .iter()
                .flat_map(|(id, _)| {
                    [("report", "集群发展报告.pdf"), ("pledge", "信用承诺书.pdf")].map(|(purpose, name)| Call {
                        method: reqwest::Method::POST,
                        path: format!("/api/v1/attachments?owner_type=application&owner_id={id}&purpose={purpose}"),
                        token: token.to_string(),
                        body: Body::File(
                            name,
                            format!("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% bench {id} {purpose}\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes(),
                        ),
                    })
                })
                .collect()
        }),
    )
    .await?;
    rows.push(row);

    let (row, _) = phase(
        "提交申报 POST /applications/{id}/submit",
        &base,
        per_client(&|c, token| {
            ids[c]
                .iter()
                .zip(&versions[c])
                .map(|((id, _), version)| {
                    post(
                        format!("/api/v1/applications/{id}/submit"),
                        token,
                        json!({"version": version}),
                    )
                })
                .collect()
        }),
    )
    .await?;
    rows.push(row);

    // The city bureaus recommend after the submission deadline, one application per request.
    app.clock.advance(time::Duration::days(6));
    let mut bureau_tokens = Vec::new();
    for b in &bureaus {
        bureau_tokens.push(session_of(&app, b).await?);
    }
    let (row, _) = phase(
        "市州推荐 POST /applications/recommend",
        &base,
        (0..clients)
            .map(|c| {
                ids[c]
                    .iter()
                    .map(|(id, _)| post("/api/v1/applications/recommend".into(), &bureau_tokens[c], json!({
                        "ids": [id],
                        "cap_justification": "本市申报集群较多，同一县市区的集群主导产业不同，经市人民政府同意一并推荐（性能测试数据）",
                    })))
                    .collect()
            })
            .collect(),
    )
    .await?;
    rows.push(row);

    app.clock.advance(time::Duration::days(5));
    let panel = scale::expert_pool(&app, &province).await?;
    let pool: Vec<ExpertId> = panel.iter().map(|(id, _)| *id).collect();
    let quotas: BTreeMap<String, u32> =
        [("leading".to_string(), 10), ("specialty".to_string(), 5)].into();
    let round = scale::scoring_round(&app, &province, call.id, &pool, quotas).await?;
    app.clock.advance(time::Duration::days(1));
    let mut sheets: Vec<Vec<Call>> = (0..clients).map(|_| Vec::new()).collect();
    for (k, (expert_id, p)) in panel.iter().enumerate() {
        let token = session_of(&app, p).await?;
        let tasks = assignment::Entity::find()
            .filter(assignment::Column::ExpertId.eq(*expert_id))
            .filter(assignment::Column::RoundId.eq(round.id))
            .order_by_asc(assignment::Column::Id)
            .all(&app.db)
            .await?;
        for a in tasks {
            let total = 70.0 + (a.id.get() % 25) as f64;
            sheets[k % clients].push(post(
                format!("/api/v1/scoring/{}/submit", a.id),
                &token,
                json!({
                    "scores": scale::scores_for(&bound.policy, total),
                    "comment": "主导产业特色鲜明，协同创新有一定基础，建议继续培育。（性能测试数据）",
                    "version": 0,
                }),
            ));
        }
    }
    if std::env::var("JIQUN_BENCH_MEMORY").is_ok() {
        println!(
            "   专家库和初赛之后：常驻内存{:.1} MiB",
            memory_mb("VmRSS:")
        );
    }
    let (row, _) = phase("提交评分 POST /scoring/{id}/submit", &base, sheets).await?;
    rows.push(row);
    Ok(rows)
}

fn print_table(label: &str, rows: &[Row], clients: usize) {
    println!("\n{label}：{clients}个客户端并发（目标每项≥{TARGET_PER_SECOND:.0}次/秒）");
    println!("| 写操作 | 语句数 | 请求数 | 次/秒 | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.1} | {:.1} |",
            r.phase,
            r.statements,
            r.requests,
            r.requests as f64 / r.seconds,
            r.p50,
            r.p99
        );
    }
}

/// This process's memory from `/proc`: `VmRSS:` now, `VmHWM:` at its peak.
fn memory_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(key)).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn main() -> Result<(), Error> {
    // The server runs in this process: the same allocator settings as `jiqun serve`.
    jiqun::malloc::fix_mmap_threshold();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

async fn bench() -> Result<(), Error> {
    // `RUST_LOG=jiqun::statements=trace` lists the statements of every request.
    if std::env::var("RUST_LOG").is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let n = env_number("JIQUN_BENCH_WRITES", 400);
    let clients = env_number("JIQUN_BENCH_CLIENTS", 4).min(region::cities().len());
    let only = std::env::var("JIQUN_BENCH_ONLY").unwrap_or_default();
    let root = std::env::temp_dir().join(format!("jiqun-bench-writes-{}", std::process::id()));
    if only != "postgres" {
        let dir = root.join("sqlite");
        std::fs::create_dir_all(&dir)?;
        let rows = run(
            "SQLite",
            &jiqun::config::sqlite_url(&dir.join("jiqun.db")),
            &dir,
            n,
            clients,
        )
        .await?;
        print_table("SQLite", &rows, clients);
    }
    let admin = std::env::var("JIQUN_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    if only != "sqlite" && admin != "none" {
        match Database::connect(&admin).await {
            Ok(conn) => {
                let name = format!("jiqun_bench_writes_{}", std::process::id());
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                let dir = root.join("postgres");
                std::fs::create_dir_all(&dir)?;
                let result = run("PostgreSQL", &format!("{base}/{name}"), &dir, n, clients).await;
                conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                print_table("PostgreSQL", &result?, clients);
            }
            Err(e) => println!("PostgreSQL不可用，跳过：{e}"),
        }
    }
    println!(
        "\n本进程（服务器与客户端）峰值常驻内存：{:.1} MiB",
        memory_mb("VmHWM:")
    );
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
