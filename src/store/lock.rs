//! Serialising a read-then-write (a limit counted before an insert, the next number in a series)
//! on both databases. SQLite write transactions already hold the database's write lock from their
//! first statement (`write_txn` begins IMMEDIATE); PostgreSQL's default isolation lets two
//! transactions read the same count, so there a transaction-scoped advisory lock on the named
//! key makes the second wait until the first commits.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

/// Takes the lock for `key` until the transaction ends. Call it before the read it protects,
/// inside a transaction (`store::write_txn`); generic so that helpers taking any connection
/// (and called with the caller's transaction) can use it.
pub async fn serialise<C: ConnectionTrait>(txn: &C, key: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "select pg_advisory_xact_lock(hashtextextended($1, 0))",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}
