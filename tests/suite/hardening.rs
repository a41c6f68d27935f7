//! The doors: limits that hold under parallel requests on both databases, backups that restore.

use jiqun::throttle::{self, Limit, Verdict};
use time::Duration;

use crate::support;

/// Twenty parallel attempts against a limit of five: exactly five are counted, the others told
/// when to come back — on PostgreSQL too, where a plain count-then-insert lets them all through.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_limit_counts_every_parallel_attempt_exactly_once() {
    let t = support::spawn().await;
    let limit = Limit {
        bucket: "test",
        max: 5,
        window: Duration::minutes(15),
    };
    let now = t.app.clock.now();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = t.app.clone();
            tokio::spawn(async move { throttle::take(&app.db, limit, "10.0.0.9", now).await })
        })
        .collect();
    let mut allowed = 0;
    let mut refused = Vec::new();
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Verdict::Allowed(_) => allowed += 1,
            Verdict::Refused { retry_after_secs } => refused.push(retry_after_secs),
        }
    }
    assert_eq!(allowed, 5, "exactly the limit is counted");
    assert_eq!(refused.len(), 15);
    assert!(refused.iter().all(|s| *s == 900), "{refused:?}");
    // Another subject has its own room, and a forgiven attempt frees its place.
    let other = throttle::take(&t.app.db, limit, "10.0.0.10", now)
        .await
        .unwrap();
    let Verdict::Allowed(id) = other else {
        panic!("another address is not limited: {other:?}")
    };
    throttle::forgive(&t.app.db, id).await.unwrap();
    assert_eq!(
        throttle::sweep(&t.app.db, now + Duration::days(2))
            .await
            .unwrap(),
        5
    );
}
