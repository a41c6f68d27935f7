//! Public notice benchmark (not a test; `cargo bench --bench notice_page`): the 公示 page of a
//! round with 1,000 candidates, served by jiqun from SQLite, beside nginx serving the very same
//! bytes as a static file, both measured by `wrk` on this machine in the same run.
//!
//! Needs Debian's `nginx` (or `nginx-light`) and `wrk`; it says so and stops when they are
//! missing. Settings: `JIQUN_BENCH_ENTRIES` (default 1000), `JIQUN_BENCH_SECONDS` (default 10),
//! `JIQUN_BENCH_CONNECTIONS` (default 64).
//!
//! The jiqun server runs in this process, so it shares the machine with wrk exactly as nginx
//! does. Every request reads the round's and its objections' state from the database; the page
//! itself is rendered once per state and then served from memory (see `page_cache`). The
//! first request's time shows what a render costs.
// A failed set-up step ends the test or benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiqun::store::id::{RoundId, UserId};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use jiqun::app::Shared;
use jiqun::config::{Config, ConfigArgs};
use jiqun::store::entity::{application, cluster, competition, organisation, round, round_entry};
use jiqun_domain::access::OrgKind;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

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

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// A round on public notice today with `n` candidates, written straight into the tables.
async fn seed_notice(app: &Shared, n: usize) -> Result<RoundId, Box<dyn std::error::Error>> {
    let show = jiqun::demo::seed_showcase(app).await?;
    let now = app.clock.now();
    let today = jiqun::clock::local(now).date();
    let c = competition::Entity::find_by_id(show.competition_id)
        .one(&app.db)
        .await?
        .ok_or("showcase competition")?;
    let r = round::ActiveModel {
        competition_id: Set(c.id),
        kind: Set(jiqun_domain::round::RoundKind::Preliminary),
        status: Set(jiqun_domain::round::RoundStatus::OnNotice),
        experts_per_application: Set(5),
        panel_note: Set(String::new()),
        quotas: Set(format!(r#"{{"leading":{n},"specialty":0}}"#)),
        scoring_opens_at: Set(now - time::Duration::days(20)),
        scoring_closes_at: Set(now - time::Duration::days(10)),
        defence: Set(false),
        notice_text: Set(
            "根据《湖南省先进制造业集群培育管理办法》，经专家评审，现将拟入选名单予以公示。".into(),
        ),
        notice_published_on: Set(Some(today)),
        notice_first_day: Set(Some(today)),
        notice_last_day: Set(Some(today + time::Duration::days(7))),
        confirmed_on: Set(None),
        created_by: Set(UserId::new(1)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await?;
    let cities = jiqun_domain::region::cities();
    let txn = jiqun::store::write_txn(&app.db).await?;
    for i in 0..n {
        let city = &cities[i % cities.len()];
        let county = &city.counties()[i % city.counties().len()];
        let org = organisation::ActiveModel {
            name: Set(format!("{}第{:04}号产业集群促进会", city.name(), i + 1)),
            kind: Set(OrgKind::PromotionOrg),
            credit_code: Set(None),
            city_code: Set(Some(city.code())),
            county_code: Set(Some(county.code())),
            contact_person: Set("联系人".into()),
            contact_phone: Set("0731-88000000".into()),
            active: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let cl = cluster::ActiveModel {
            org_id: Set(org.id),
            name: Set(format!(
                "{}{}第{:04}号先进制造业集群",
                city.name(),
                county.name(),
                i + 1
            )),
            kind: Set(if i % 3 == 0 { "specialty" } else { "leading" }.into()),
            industry_code: Set("C35".into()),
            lead_county_code: Set(county.code()),
            city_code: Set(city.code()),
            core_park: Set("经济技术开发区".into()),
            lifecycle: Set(jiqun::store::entity::kinds::Lifecycle::Applicant),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let a = application::ActiveModel {
            competition_id: Set(c.id),
            cluster_id: Set(cl.id),
            org_id: Set(org.id),
            city_code: Set(city.code()),
            county_code: Set(county.code()),
            kind: Set(cl.kind.clone()),
            status: Set(jiqun_domain::application::Status::OnNotice),
            form: Set("{}".into()),
            revision: Set(1),
            submitted_at: Set(Some(now)),
            decided_at: Set(Some(now)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        round_entry::ActiveModel {
            round_id: Set(r.id),
            application_id: Set(a.id),
            cluster_id: Set(cl.id),
            cluster_kind: Set(cl.kind.clone()),
            city_code: Set(cl.city_code),
            county_code: Set(cl.lead_county_code),
            status: Set(jiqun_domain::application::Status::OnNotice),
            final_score: Set(Some(90.0 - i as f64 / 100.0)),
            rank: Set(Some(i as i32 + 1)),
            proposed: Set(true),
            decision_note: Set(String::new()),
            version: Set(1),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(r.id)
}

struct Nginx {
    child: std::process::Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(dir: &Path, port: u16) -> Result<Nginx, Box<dyn std::error::Error>> {
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
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(Nginx { child })
}

/// Requests per second and the latency line of a wrk run.
fn wrk(url: &str, seconds: usize, connections: usize) -> Result<(f64, String), String> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.contains("Non-2xx") {
        return Err(format!("wrk saw errors for {url}:\n{text}"));
    }
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk output:\n{text}"))?;
    let latency = text
        .lines()
        .filter(|l| l.trim_start().starts_with("50%") || l.trim_start().starts_with("99%"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ");
    Ok((rps, latency))
}

fn free_port() -> Result<u16, std::io::Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if !have("wrk") || !have("nginx") {
        eprintln!(
            "需要 Debian 软件包 wrk 和 nginx（或 nginx-light）：apt-get install -y wrk nginx-light"
        );
        std::process::exit(2);
    }
    let n = env_number("JIQUN_BENCH_ENTRIES", 1000);
    let seconds = env_number("JIQUN_BENCH_SECONDS", 10);
    let connections = env_number("JIQUN_BENCH_CONNECTIONS", 64);
    let dir: PathBuf =
        std::env::temp_dir().join(format!("jiqun-bench-notice-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("www"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let config = Config::resolve(&ConfigArgs {
            data_dir: Some(dir.join("data")),
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        })?;
        let app: Shared = Arc::new(jiqun::server::open(config, true).await?);
        jiqun::demo::seed(&app).await?;
        let round_id = seed_notice(&app, n).await?;
        let listener = jiqun::server::bind("127.0.0.1:0".parse()?).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let served = app.clone();
        tokio::spawn(async move {
            let _ = jiqun::server::serve(served, listener).await;
        });
        let url = format!("{base}/notices/{round_id}");
        let started = std::time::Instant::now();
        let page = reqwest::get(&url).await?;
        let first = started.elapsed();
        if !page.status().is_success() {
            return Err(format!("{url} answered {}", page.status()).into());
        }
        let bytes = page.bytes().await?;
        let text = String::from_utf8_lossy(&bytes);
        let rows = text.matches("先进制造业集群</td>").count();
        println!(
            "公示页：{n}个拟入选集群，页面{:.1} KB，表格行{rows}",
            bytes.len() as f64 / 1024.0
        );
        let started = std::time::Instant::now();
        for _ in 0..50 {
            reqwest::get(&url).await?.bytes().await?;
        }
        println!(
            "首次请求（渲染并缓存）{:.1} ms；此后逐个请求平均 {:.2} ms",
            first.as_secs_f64() * 1000.0,
            started.elapsed().as_secs_f64() * 1000.0 / 50.0
        );
        std::fs::write(dir.join("www").join("notice.html"), &bytes)?;
        let port = free_port()?;
        let _nginx = start_nginx(&dir, port)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let static_url = format!("http://127.0.0.1:{port}/notice.html");
        let check = reqwest::get(&static_url).await?.bytes().await?;
        if check != bytes {
            return Err("nginx did not serve the same bytes".into());
        }
        let (ours, ours_latency) = tokio::task::spawn_blocking({
            let url = url.clone();
            move || wrk(&url, seconds, connections)
        })
        .await??;
        let (theirs, theirs_latency) = tokio::task::spawn_blocking({
            let url = static_url.clone();
            move || wrk(&url, seconds, connections)
        })
        .await??;
        println!("wrk -t2 -c{connections} -d{seconds}s，同一台机器、同一次运行：");
        println!(
            "  jiqun（SQLite，每次请求读取轮次与异议状态，页面按状态缓存）：{ours:>10.0} 次/秒  延迟 {ours_latency}"
        );
        println!("  nginx（同样字节的静态文件）：  {theirs:>10.0} 次/秒  延迟 {theirs_latency}");
        println!("  jiqun / nginx = {:.1}%", ours / theirs * 100.0);
        Ok::<(), Box<dyn std::error::Error>>(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}
