//! Statements counted per request, for measurement (`JIQUN_COUNT_QUERIES=true`): every
//! statement SeaORM runs for a request, in or out of a transaction, adds one to the request's
//! counter; the web layer answers with the count in the `x-jiqun-queries` header. Off by
//! default, when nothing is installed and nothing is counted.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::DatabaseConnection;

tokio::task_local! {
    static STATEMENTS: Arc<AtomicUsize>;
}

/// Counts every statement run on `db` for the task that runs it, when that task counts.
pub fn install(db: &mut DatabaseConnection) {
    db.set_metric_callback(|info| {
        if STATEMENTS
            .try_with(|n| n.fetch_add(1, Ordering::Relaxed))
            .is_ok()
        {
            // `RUST_LOG=jiqun::statements=trace` lists what each counted request ran.
            tracing::trace!(
                target: "jiqun::statements",
                micros = info.elapsed.as_micros() as u64,
                "{}",
                info.statement
            );
        }
    });
}

/// Runs `work`, counting the statements it runs on a connection with the counter installed.
pub async fn counted<F: Future>(work: F) -> (F::Output, usize) {
    let n = Arc::new(AtomicUsize::new(0));
    let out = STATEMENTS.scope(n.clone(), work).await;
    (out, n.load(Ordering::Relaxed))
}
