//! Storage: one SeaORM code path for SQLite and PostgreSQL.

pub mod counting;
pub mod entity;
pub mod id;
mod load;
pub mod lock;
pub mod migration;
pub mod stamp;
#[cfg(test)]
mod tests;
mod together;
mod versioned;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, ExecResult, QueryResult, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use load::{CHUNK, HasId, load_by_ids, load_by_ids_map, load_where_in};
pub use migration::Migrator;
pub use together::{insert_together, sent_together};
pub use versioned::{Versioned, update_at_version, update_versioned, update_versioned_returning};

/// How long a SQLite writer waits for its turn before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // Every connection's commits move the file's generation (see `stamp`).
        let file =
            <sea_orm::sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
                .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())))?
                .get_filename()
                .to_path_buf();
        let generation = stamp::generation_of(file);
        opts.map_sqlx_sqlite_pool_opts(move |p| stamp::hook_commits(p, generation.clone()));
        // Four connections keep two cores busy; each holds its own page cache and prepared
        // statements, and runs on its own thread.
        // A connection of the pool is a thread of this process that nothing outside can close,
        // so it is not pinged at each checkout: the ping was a round trip to that thread before
        // every statement run outside a transaction.
        opts.test_before_acquire(false);
        opts.max_connections(4).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(BUSY_TIMEOUT)
                .foreign_keys(true)
                // Prepared statements kept per connection: the queries of the pages in use stay
                // prepared.
                .statement_cache_capacity(128)
                // Sorts and temporary indexes in memory rather than in temporary files.
                .pragma("temp_store", "memory")
                // 1 MiB of page cache per connection rather than SQLite's 2 MiB: the pages
                // beyond it are a copy away in the operating system's file cache, and four full
                // caches were an eighth of the server's peak memory under load.
                .pragma("cache_size", "-1024")
        });
    } else {
        // A connection in use is not pinged at each checkout (a network round trip before each
        // statement outside a transaction); one idle long enough to have been dropped by the
        // server, a proxy or a firewall still is.
        opts.max_connections(16)
            .test_before_acquire_if_idle_for(Duration::from_secs(60));
    }
    Database::connect(opts).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A write transaction. On SQLite it takes the write lock up front (IMMEDIATE), so a transaction
/// that reads before it writes waits for the lock instead of failing with SQLITE_BUSY; and the
/// writers of one database file queue in this process for their turn first. SQLite's own busy
/// handler waits in sleeps of up to 100 ms, so under concurrent writes most of the time went to
/// sleeping after the lock was already free; the queue hands the lock on at once. PostgreSQL
/// needs no queue: its row locks order writers.
pub async fn write_txn(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = match sqlite_writer(db) {
        // Bounded like SQLite's own busy timeout: a writer never waits for ever.
        Some(writer) => match tokio::time::timeout(BUSY_TIMEOUT, writer.acquire_owned()).await {
            Ok(Ok(turn)) => Some(turn),
            Ok(Err(e)) => return Err(DbErr::Custom(format!("writer queue closed: {e}"))),
            Err(_) => return Err(DbErr::Custom("database is locked (writer queue)".into())),
        },
        None => None,
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
}

/// The queue of writers of one SQLite file (one per file, so that several databases opened by
/// one process — the tests — do not wait for each other).
fn sqlite_writer(db: &DatabaseConnection) -> Option<Arc<Semaphore>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    static WRITERS: LazyLock<Mutex<HashMap<PathBuf, Arc<Semaphore>>>> =
        LazyLock::new(Default::default);
    let mut writers = WRITERS.lock().unwrap_or_else(|e| e.into_inner());
    Some(
        writers
            .entry(file)
            .or_insert_with(|| Arc::new(Semaphore::new(1)))
            .clone(),
    )
}

/// A transaction from [`write_txn`]: used as a connection like any transaction, and holding the
/// writer's turn on SQLite until it is committed, rolled back or dropped.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedSemaphorePermit>,
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
}
