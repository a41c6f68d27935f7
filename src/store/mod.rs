//! Storage: one SeaORM code path for SQLite and PostgreSQL.

pub mod counting;
pub mod entity;
pub mod id;
mod load;
pub mod lock;
pub mod migration;
#[cfg(test)]
mod tests;
mod versioned;

use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use load::{CHUNK, HasId, load_by_ids, load_by_ids_map, load_where_in};
pub use migration::Migrator;
pub use versioned::{Versioned, update_at_version, update_versioned};

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Prepared statements kept per connection: every page's queries stay prepared.
                .statement_cache_capacity(256)
                // Sorts and temporary indexes in memory rather than in temporary files.
                .pragma("temp_store", "memory")
        });
    } else {
        opts.max_connections(16);
    }
    Database::connect(opts).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A write transaction. On SQLite it takes the write lock up front (IMMEDIATE), so a transaction
/// that reads before it writes waits for the lock instead of failing with SQLITE_BUSY.
pub async fn write_txn(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
