//! Upload benchmark (not a test; `cargo bench --bench uploads`): N concurrent applicants each
//! upload a distinct file of M MB as multipart over HTTP into the attachment store, on SQLite and,
//! when `JIQUN_BENCH_POSTGRES_URL` (or `JIQUN_TEST_DATABASE_URL`) names a PostgreSQL server, on
//! PostgreSQL too. It reports throughput, latency percentiles and the peak resident memory of the
//! process, and checks that nothing was lost: N blob rows, N attachment rows, N files named by
//! their SM3 digest, an empty temporary folder.
//!
//! Settings: `JIQUN_BENCH_CLIENTS` (default 300), `JIQUN_BENCH_MB` (default 20),
//! `JIQUN_BENCH_BACKENDS` (default "sqlite,postgres"), `RUST_LOG` for server-side logs.
//!
//! The server runs in this process on 127.0.0.1. Its upload route is mounted by the benchmark
//! around the same functions the API's `POST /api/v1/attachments` uses
//! (`attachments::receive_multipart` and `attachments::attach`: streaming, SM3, type check,
//! content-addressed placement, blob/attachment rows and the audit entry in one transaction). It
//! leaves out the session lookup and `owners::can_attach`, which need a real application per
//! applicant; those are a few indexed reads per request and do not touch the body.
//!
//! The clients write raw HTTP/1.1 over TCP and generate each file as they send it (a unique
//! header, then a shared 1 MB block repeated), so they hold no file in memory: the peak RSS
//! measured is the server's working set, not the test data.
// A failed set-up step ends the test or benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jiqun::app::{App, Principal};
use jiqun::attachments::{self, Limits, Purpose};
use jiqun::config::{Config, ConfigArgs};
use jiqun::services::owners::OwnerType;
use jiqun::store::entity::{attachment, blob, organisation};
use jiqun::web::api::ApiError;
use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use serde::Deserialize;
use sm3::{Digest, Sm3};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MIB: usize = 1024 * 1024;
const BOUNDARY: &str = "----jiqunBenchBoundary0123456789";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// `VmRSS` / `VmHWM` of this process, in KB.
fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the peak-RSS mark (Linux: writing 5 to clear_refs), so each backend's run is measured
/// on its own.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Bench {
    app: Arc<App>,
    principal: Principal,
    limits: Limits,
}

#[derive(Deserialize)]
struct UploadQuery {
    owner_id: i64,
}

async fn upload(
    State(b): State<Arc<Bench>>,
    Query(q): Query<UploadQuery>,
    mut multipart: Multipart,
) -> Response {
    let result = async {
        let received = attachments::receive_multipart(&b.app, &mut multipart, &b.limits).await?;
        attachments::attach(
            &b.app,
            &b.principal,
            OwnerType::Application,
            q.owner_id,
            Purpose::Evidence,
            received,
        )
        .await
    }
    .await;
    match result {
        Ok(view) => axum::Json(view).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

struct BenchDb {
    url: String,
    /// (admin URL, database name) for PostgreSQL, dropped afterwards.
    drop: Option<(String, String)>,
}

async fn fresh_database(backend: &str, dir: &Path, admin: Option<&str>) -> BenchDb {
    match (backend, admin) {
        ("PostgreSQL", Some(admin)) => {
            let name = format!("jiqun_bench_{}", uuid::Uuid::new_v4().simple());
            let conn = Database::connect(admin)
                .await
                .expect("connect to PostgreSQL");
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create bench database");
            conn.close().await.ok();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
            BenchDb {
                url: format!("{base}/{name}"),
                drop: Some((admin.to_string(), name)),
            }
        }
        _ => BenchDb {
            url: jiqun::config::sqlite_url(&dir.join("jiqun.db")),
            drop: None,
        },
    }
}

struct Outcome {
    backend: &'static str,
    clients: usize,
    mb: usize,
    total: Duration,
    latencies: Vec<Duration>,
    errors: Vec<String>,
    rss_before_kb: u64,
    peak_kb: u64,
    peak_reset: bool,
    blobs: u64,
    attachments: u64,
    files: usize,
    temp_left: usize,
    sample_ok: bool,
}

/// One client: a distinct file of `size` bytes, streamed as it is generated.
async fn client(
    addr: SocketAddr,
    i: usize,
    size: usize,
    block: Bytes,
) -> Result<(Duration, String), String> {
    let started = Instant::now();
    let header = format!(
        "%PDF-1.7\n% jiqun bench client {i} {}\n",
        uuid::Uuid::new_v4()
    );
    let pre = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"佐证材料-{i}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    let post = format!("\r\n--{BOUNDARY}--\r\n");
    let length = pre.len() + size + post.len();
    let head = format!(
        "POST /bench/upload?owner_id={} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        i + 1
    );
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).ok();
    let io = |e: std::io::Error| format!("client {i}: {e}");
    s.write_all(head.as_bytes()).await.map_err(io)?;
    s.write_all(pre.as_bytes()).await.map_err(io)?;
    s.write_all(header.as_bytes()).await.map_err(io)?;
    let mut sent = header.len();
    let mut at = 0usize;
    while sent < size {
        let n = (64 * 1024).min(size - sent).min(block.len() - at);
        s.write_all(&block[at..at + n]).await.map_err(io)?;
        sent += n;
        at = (at + n) % block.len();
    }
    s.write_all(post.as_bytes()).await.map_err(io)?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.map_err(io)?;
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    if status != "200" {
        return Err(format!("client {i}: HTTP {status} {body}"));
    }
    let json = &body[body.find('{').unwrap_or(0)..body.rfind('}').map_or(body.len(), |e| e + 1)];
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("client {i}: {e}: {body}"))?;
    let sm3 = v["sm3"].as_str().unwrap_or_default().to_string();
    Ok((elapsed, sm3))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn sm3_file(path: &Path) -> String {
    use std::io::Read;
    let mut f = std::fs::File::open(path).expect("open stored file");
    let mut h = Sm3::new();
    let mut buf = vec![0u8; MIB];
    loop {
        let n = f.read(&mut buf).expect("read stored file");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

async fn run(backend: &'static str, admin: Option<&str>, clients: usize, mb: usize) -> Outcome {
    let dir = std::env::temp_dir().join(format!("jiqun-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let db = fresh_database(backend, &dir, admin).await;
    let config = Config::resolve(&ConfigArgs {
        data_dir: Some(dir.clone()),
        database_url: Some(db.url.clone()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    })
    .expect("bench config");
    let app = Arc::new(jiqun::server::open(config, true).await.expect("open app"));
    jiqun::demo::seed(&app).await.expect("seed demo data");
    let user = jiqun::services::users::find_by_username(&app, "applicant")
        .await
        .expect("applicant")
        .expect("applicant");
    let org = organisation::Entity::find_by_id(user.org_id)
        .one(&app.db)
        .await
        .expect("org")
        .expect("org");
    let role = user.role;
    let size = mb * MIB;
    let limits = Limits {
        purpose: Purpose::Evidence,
        max_bytes: attachments::max_upload_bytes().max(size as u64),
        allowed: Purpose::Evidence.allowed(),
    };
    let bench = Arc::new(Bench {
        app: app.clone(),
        principal: Principal {
            user,
            org,
            role,
            client_addr: "127.0.0.1".into(),
        },
        limits,
    });
    let router = Router::new()
        .route("/bench/upload", post(upload))
        .layer(DefaultBodyLimit::max(size + MIB))
        .with_state(bench);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });

    // One random block shared by every client; each file differs by its header.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let block: Vec<u8> = (0..MIB)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let block = Bytes::from(block);

    let peak_reset = reset_peak();
    let rss_before_kb = proc_status("VmRSS:");
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(client(addr, i, size, block.clone())))
        .collect();
    let mut latencies = Vec::with_capacity(clients);
    let mut errors = Vec::new();
    let mut digests = Vec::with_capacity(clients);
    for t in tasks {
        match t.await {
            Ok(Ok((d, sm3))) => {
                latencies.push(d);
                digests.push(sm3);
            }
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let total = started.elapsed();
    let peak_kb = proc_status("VmHWM:");
    server.abort();

    let blobs = blob::Entity::find()
        .count(&app.db)
        .await
        .expect("count blobs");
    let attachments_n = attachment::Entity::find()
        .count(&app.db)
        .await
        .expect("count attachments");
    let tmp = attachments::temp_dir(&dir);
    let stored: Vec<PathBuf> = files_under(&dir.join("attachments"))
        .into_iter()
        .filter(|p| !p.starts_with(&tmp))
        .collect();
    let temp_left = files_under(&tmp).len();
    // Every answer names a stored file, and a sample of files hash to their names.
    digests.sort();
    digests.dedup();
    let names: std::collections::HashSet<String> = stored
        .iter()
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(String::from))
        .collect();
    let sample_ok = digests.len() == latencies.len()
        && digests.iter().all(|d| names.contains(d))
        && stored
            .iter()
            .take(3)
            .all(|p| p.file_name().and_then(|n| n.to_str()) == Some(sm3_file(p).as_str()));

    app.db.clone().close().await.ok();
    if let Some((admin, name)) = &db.drop
        && let Ok(conn) = Database::connect(admin.as_str()).await
    {
        let _ = conn
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        conn.close().await.ok();
    }
    let _ = std::fs::remove_dir_all(&dir);

    Outcome {
        backend,
        clients,
        mb,
        total,
        latencies,
        errors,
        rss_before_kb,
        peak_kb,
        peak_reset,
        blobs,
        attachments: attachments_n,
        files: stored.len(),
        temp_left,
        sample_ok,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64()
}

fn report(outcomes: &[Outcome]) -> bool {
    println!();
    // ASCII headings keep the columns aligned (CJK characters are double width in a terminal).
    println!(
        "{:<11} {:>7} {:>4} {:>8} {:>7} {:>6} {:>6} {:>6} {:>8} {:>8} {:>6} {:>6} {:>6} {:>4} {:>6}",
        "backend",
        "clients",
        "MB",
        "total_s",
        "MB/s",
        "p50_s",
        "p99_s",
        "max_s",
        "rss0_MB",
        "peak_MB",
        "blobs",
        "rows",
        "files",
        "tmp",
        "errors"
    );
    let mut all_ok = true;
    for o in outcomes {
        let mut l = o.latencies.clone();
        l.sort();
        let mb_total = (o.clients * o.mb) as f64;
        println!(
            "{:<11} {:>7} {:>4} {:>8.1} {:>7.1} {:>6.2} {:>6.2} {:>6.2} {:>8} {:>8} {:>6} {:>6} {:>6} {:>4} {:>6}",
            o.backend,
            o.clients,
            o.mb,
            o.total.as_secs_f64(),
            mb_total / o.total.as_secs_f64(),
            percentile(&l, 50.0),
            percentile(&l, 99.0),
            percentile(&l, 100.0),
            o.rss_before_kb / 1024,
            o.peak_kb / 1024,
            o.blobs,
            o.attachments,
            o.files,
            o.temp_left,
            o.errors.len(),
        );
        let ok = o.errors.is_empty()
            && o.blobs == o.clients as u64
            && o.attachments == o.clients as u64
            && o.files == o.clients
            && o.temp_left == 0
            && o.sample_ok;
        all_ok &= ok;
        if !o.peak_reset {
            println!("  （注意：无法重置峰值RSS，峰值含此前各轮）");
        }
        let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
        for e in &o.errors {
            // "client 12: reason" → count by reason.
            let reason = e.split_once(": ").map_or(e.as_str(), |(_, r)| r);
            *kinds.entry(reason.chars().take(160).collect()).or_default() += 1;
        }
        for (reason, n) in kinds {
            println!("  失败 {n} 次：{reason}");
        }
        println!(
            "  {}：峰值RSS较起始增加 {} MB，即每个并发上传约 {} KB（文件 {} MB）",
            if ok {
                "完整无丢失"
            } else {
                "有丢失或错误！"
            },
            o.peak_kb.saturating_sub(o.rss_before_kb) / 1024,
            o.peak_kb.saturating_sub(o.rss_before_kb) / o.clients.max(1) as u64,
            o.mb
        );
    }
    all_ok
}

fn main() {
    let clients = env_number("JIQUN_BENCH_CLIENTS", 300);
    let mb = env_number("JIQUN_BENCH_MB", 20);
    let postgres = std::env::var("JIQUN_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("JIQUN_TEST_DATABASE_URL"))
        .ok()
        .filter(|u| u.starts_with("postgres"));
    println!(
        "jiqun 附件上传基准：{clients} 个并发申报主体，各上传一个 {mb} MB 的不同文件（HTTP multipart，流式写入 SM3 内容寻址存储）"
    );
    // Server-side errors (database, file system) are logged through tracing.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let backends =
        std::env::var("JIQUN_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcomes = rt.block_on(async {
        let mut out = Vec::new();
        if backends.contains("sqlite") {
            out.push(run("SQLite", None, clients, mb).await);
        }
        if backends.contains("postgres") {
            match &postgres {
                Some(url) => out.push(run("PostgreSQL", Some(url), clients, mb).await),
                None => println!("（未设置 JIQUN_BENCH_POSTGRES_URL，跳过 PostgreSQL）"),
            }
        }
        out
    });
    if !report(&outcomes) {
        std::process::exit(1);
    }
}
