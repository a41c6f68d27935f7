//! Whether the database has changed since a reader last looked: the stamp that the caches of
//! signed-in requests (`web::kept`) keep their entries under. Equal stamps mean no write was
//! committed in between, so whatever was read under the first may be served under the second.
//!
//! On SQLite (one server process per file) every pooled connection carries a commit hook that
//! bumps the file's [`Generation`]: reading the stamp costs no statement. SQLite calls the hook
//! just before the commit becomes visible, so a reader that takes the new generation in that
//! instant could still read the old rows; a stamp read within [`SETTLE`] of a commit is
//! therefore not one to keep anything under ([`read`] answers `None`). Writes by another process
//! on the same file (a command run beside the server) are not seen; the caches' expiry bounds
//! how long they stay unseen.
//!
//! On PostgreSQL the stamp is the server's current snapshot (`pg_current_snapshot()`): it moves
//! whenever any transaction is given an id or ends, so every committed write, through whichever
//! jiqun server, changes it. One statement per read; several servers stay right without talking
//! to each other.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// How long after a commit a generation is not trusted to describe what readers see.
pub const SETTLE: Duration = Duration::from_millis(500);

/// Commits seen on one SQLite file by this process.
#[derive(Debug)]
pub struct Generation {
    count: AtomicU64,
    /// Milliseconds since `EPOCH` of the last commit (0: none yet).
    last_commit_ms: AtomicU64,
}

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn elapsed_ms() -> u64 {
    // Counted from 1 so that 0 can mean "never".
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
}

impl Generation {
    /// Called by SQLite as a transaction commits. The time goes first: a reader that sees the
    /// new count also sees how recent it is.
    fn committed(&self) {
        self.last_commit_ms.store(elapsed_ms(), Ordering::Release);
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    fn read(&self) -> Option<u64> {
        let count = self.count.load(Ordering::Acquire);
        let last = self.last_commit_ms.load(Ordering::Acquire);
        let settled = last == 0
            || elapsed_ms().saturating_sub(last)
                >= u64::try_from(SETTLE.as_millis()).unwrap_or(u64::MAX);
        settled.then_some(count)
    }
}

/// The generation of one SQLite file (one per file: the tests open many databases in one
/// process).
pub fn generation_of(file: PathBuf) -> Arc<Generation> {
    static FILES: LazyLock<Mutex<HashMap<PathBuf, Arc<Generation>>>> =
        LazyLock::new(Default::default);
    let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    files
        .entry(file)
        .or_insert_with(|| {
            Arc::new(Generation {
                count: AtomicU64::new(0),
                last_commit_ms: AtomicU64::new(0),
            })
        })
        .clone()
}

/// Pool options that hook every new SQLite connection's commits to `generation`.
pub fn hook_commits(
    pool: sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Sqlite>,
    generation: Arc<Generation>,
) -> sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Sqlite> {
    pool.after_connect(move |conn, _| {
        let generation = generation.clone();
        Box::pin(async move {
            conn.lock_handle().await?.set_commit_hook(move || {
                generation.committed();
                // Never veto the commit.
                true
            });
            Ok(())
        })
    })
}

/// A state of the database as a reader saw it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Stamp {
    Sqlite(u64),
    Postgres(String),
}

/// Where a server reads its stamps: the SQLite file's generation, or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Stamps {
    sqlite: Option<Arc<Generation>>,
}

impl Stamps {
    pub fn of(db: &DatabaseConnection) -> Stamps {
        let sqlite = (db.get_database_backend() == DbBackend::Sqlite).then(|| {
            generation_of(
                db.get_sqlite_connection_pool()
                    .connect_options()
                    .get_filename()
                    .to_path_buf(),
            )
        });
        Stamps { sqlite }
    }

    /// The database's state now, or `None` when a commit is too recent for anything read now
    /// to be kept.
    pub async fn read(&self, db: &DatabaseConnection) -> Result<Option<Stamp>, DbErr> {
        if let Some(generation) = &self.sqlite {
            return Ok(generation.read().map(Stamp::Sqlite));
        }
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_current_snapshot()::text AS s",
            ))
            .await?;
        Ok(match row {
            Some(row) => Some(Stamp::Postgres(row.try_get("", "s")?)),
            None => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_moves_the_generation_and_is_not_trusted_until_it_settles() {
        let g = generation_of(PathBuf::from("stamp-test-a"));
        assert_eq!(g.read(), Some(0), "no commit yet: settled");
        g.committed();
        assert_eq!(g.read(), None, "just committed: not settled");
        std::thread::sleep(SETTLE + Duration::from_millis(20));
        assert_eq!(g.read(), Some(1));
    }

    #[test]
    fn each_file_has_its_own_generation() {
        let a = generation_of(PathBuf::from("stamp-test-b"));
        let b = generation_of(PathBuf::from("stamp-test-c"));
        a.committed();
        assert_eq!(b.read(), Some(0));
        assert!(Arc::ptr_eq(
            &a,
            &generation_of(PathBuf::from("stamp-test-b"))
        ));
    }
}
