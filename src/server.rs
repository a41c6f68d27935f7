//! Starting the application: configuration → data dir → database → migrations → key → listener.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::app::{App, Shared};
use crate::clock::Clock;
use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("数据目录 {path} 不可写：{reason}")]
    DataDir { path: String, reason: String },
    #[error("无法连接数据库：{0}")]
    Database(String),
    #[error("数据库迁移失败：{0}")]
    Migrate(String),
    #[error(transparent)]
    Key(#[from] crate::audit::KeyError),
    #[error(transparent)]
    AuditKey(#[from] crate::audit_anchor::StartKeyError),
    #[error(transparent)]
    SealKey(#[from] crate::auth::sealed::SealStartError),
    #[error("附件存储配置无效：{0}")]
    Blobs(String),
    #[error("无法监听 {addr}：{reason}（端口可能已被占用，可用 --listen 或 JIQUN_LISTEN 换一个）")]
    Listen { addr: String, reason: String },
}

fn check_data_dir(config: &Config) -> Result<(), StartError> {
    let dir = &config.data_dir;
    let err = |e: std::io::Error| StartError::DataDir {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}

/// Opens (and migrates) the database and loads the audit key.
pub async fn open(config: Config, create_key: bool) -> Result<App, StartError> {
    check_data_dir(&config)?;
    config.install();
    let db = crate::store::connect(&config.database_url)
        .await
        .map_err(|e| StartError::Database(e.to_string()))?;
    crate::store::migrate(&db)
        .await
        .map_err(|e| StartError::Migrate(e.to_string()))?;
    // Pooled connections that read the schema while the migrations ran keep statements prepared
    // against it (a column added later goes missing from `RETURNING *` on SQLite): serve from
    // fresh connections.
    db.close()
        .await
        .map_err(|e| StartError::Database(e.to_string()))?;
    let mut db = crate::store::connect(&config.database_url)
        .await
        .map_err(|e| StartError::Database(e.to_string()))?;
    if config.count_queries {
        crate::store::counting::install(&mut db);
    }
    // A new key only for an empty trail; an existing trail must verify under the key given.
    let audit_key =
        crate::audit_anchor::load_checked_key(&db, &config.audit_key_file, create_key).await?;
    // TOTP secrets are sealed with a key kept beside the audit key; clear ones left by an older
    // version are sealed now (by servers and commands that may write, as for the audit key).
    let seal_key = crate::auth::sealed::load_at_start(
        &db,
        &config.audit_key_file,
        create_key,
        Clock::default().now(),
        &audit_key,
    )
    .await?;
    // The policy files shipped with this binary are installed once (audited); servers and
    // commands that may write do it, as for the keys above.
    if create_key {
        crate::services::policy::install_builtin(&db, &audit_key, Clock::default().now())
            .await
            .map_err(|e| {
                let detail = e.log_detail().unwrap_or_else(|| e.to_string());
                StartError::Migrate(format!("安装系统内置政策规则失败：{detail}"))
            })?;
    }
    // Uploads interrupted by a crash leave partial files; an hour is far longer than any upload.
    crate::attachments::sweep_temp(&config.data_dir, std::time::Duration::from_secs(3600)).await;
    let blobs = crate::blob_store::BlobStore::from_config(&config.data_dir, &config.attachments)
        .map_err(|e| StartError::Blobs(e.log_detail().unwrap_or_else(|| e.to_string())))?;
    let stamps = crate::store::stamp::Stamps::of(&db);
    Ok(App {
        db,
        blobs,
        config,
        audit_key,
        audit_head: Default::default(),
        seal_key,
        clock: Arc::new(Clock::default()),
        public_pages: Default::default(),
        rankings: Default::default(),
        report_figures: Default::default(),
        dashboards: Default::default(),
        stamps,
        reads: Default::default(),
    })
}

pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Listen {
            addr: addr.to_string(),
            reason: e.to_string(),
        })
}

/// Every ten minutes: deadline reminders and development-report reminders and overdue notices
/// (each goes out once, whichever server sends it), the
/// audit anchor moved to the current head, old rate-limit counts and interrupted uploads swept.
pub fn spawn_reminders(app: Shared) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = crate::services::notifications::remind_deadlines(&app).await {
                tracing::error!("deadline reminders: {e}");
            }
            if let Err(e) = crate::services::reports::remind_reports(&app).await {
                tracing::error!("report reminders: {e}");
            }
            if let Err(e) =
                crate::audit_anchor::advance(&app.db, &app.audit_key, &app.config.audit_key_file)
                    .await
            {
                tracing::error!("audit anchor: {e}");
            }
            if let Err(e) = crate::throttle::sweep(&app.db, app.clock.now()).await {
                tracing::error!("rate-limit sweep: {e}");
            }
            crate::attachments::sweep_temp(
                &app.config.data_dir,
                std::time::Duration::from_secs(3600),
            )
            .await;
        }
    })
}

/// Delivers queued e-mails every 30 seconds when SMTP is configured.
pub fn spawn_mailer(app: Shared) -> Option<tokio::task::JoinHandle<()>> {
    app.config.smtp_url.as_ref()?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(e) = crate::mail::deliver_pending(&app).await {
                tracing::error!("e-mail delivery: {e}");
            }
        }
    }))
}

/// On PostgreSQL, for as long as the database is open: hears which public pages other servers
/// changed (`page_cache::listen`); after a lost connection it listens again a second later, and
/// meanwhile requests check the shared counter.
pub fn spawn_page_listener(app: Shared) -> Option<tokio::task::JoinHandle<()>> {
    if app.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return None;
    }
    let pool = app.db.get_postgres_connection_pool().clone();
    Some(tokio::spawn(async move {
        while !pool.is_closed() {
            if let Err(e) = crate::page_cache::listen(&pool, &app.public_pages).await
                && !pool.is_closed()
            {
                tracing::warn!("listening for changed public pages: {e}");
            }
            app.public_pages.set_listening(false);
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }))
}

/// Serves until the listener fails or the process is stopped.
pub async fn serve(app: Shared, listener: TcpListener) -> std::io::Result<()> {
    let _pages = spawn_page_listener(app.clone());
    let router = crate::web::router(app);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
