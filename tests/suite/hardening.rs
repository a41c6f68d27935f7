//! The doors: limits that hold under parallel requests on both databases, backups that restore.

use jiqun::throttle::{self, Limit, Verdict};
use time::Duration;

use crate::attachments::{a_competition, multipart, post_file};
use crate::support;
use crate::token;

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

/// The restore drill: a backup taken while files are being uploaded, restored into a new
/// installation with the audit key put back beside it; the chain verifies there and a file
/// downloads byte for byte as it was uploaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_writes_restores_elsewhere_and_verifies() {
    let t = support::spawn().await;
    let competition = a_competition(&t).await;
    let province = token(&t, "province").await;
    let query = format!("owner_type=competition&owner_id={competition}&purpose=notice");
    let pdf: Vec<u8> = [b"%PDF-1.7\n".as_slice(), &[7u8; 300_000], b"\n%%EOF\n"].concat();
    let (status, view) = post_file(&t, &province, &query, "竞赛通知.pdf", &pdf).await;
    assert_eq!(status, 200, "{view}");
    let id = view["id"].as_i64().unwrap();

    // Uploads keep arriving while the backup runs.
    let writer = {
        let (base, token, query) = (t.base.clone(), province.clone(), query.clone());
        tokio::spawn(async move {
            let t2 = TestUrl(base);
            for i in 0..8u8 {
                let body = [b"%PDF-1.7\n".as_slice(), &[i; 50_000], b"\n%%EOF\n"].concat();
                let (ct, body) = multipart("file", &format!("附件{i}.pdf"), &body);
                let res = reqwest::Client::new()
                    .post(t2.url(&format!("/api/v1/attachments?{query}")))
                    .bearer_auth(&token)
                    .header("content-type", ct)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
            }
        })
    };
    let target = t.db.dir.join("backup-1");
    let summary = jiqun::backup::backup(
        &t.app.db,
        &t.app.config.database_url,
        &t.app.config.data_dir,
        &target,
        t.app.clock.now(),
    )
    .await
    .unwrap();
    writer.await.unwrap();
    assert!(summary.attachments >= 1, "{summary:?}");
    assert!(target.join(jiqun::backup::MANIFEST).exists());
    assert!(
        !target.join("audit.key").exists(),
        "the key is never in a backup"
    );

    // A second backup into the same folder is refused rather than mixed in.
    let again = jiqun::backup::backup(
        &t.app.db,
        &t.app.config.database_url,
        &t.app.config.data_dir,
        &target,
        t.app.clock.now(),
    )
    .await;
    assert!(again.unwrap_err().to_string().contains("已存在且不为空"));

    // Restore into a new installation; without the key it refuses to open.
    let fresh = support::fresh_db().await;
    let config = support::config_for(&fresh);
    jiqun::backup::restore(&target, &config.database_url, &config.data_dir)
        .await
        .unwrap();
    let refused = jiqun::server::open(config.clone(), true)
        .await
        .err()
        .unwrap();
    assert!(refused.to_string().contains("审计密钥文件"), "{refused}");
    assert!(!config.audit_key_file.exists(), "no new key was made");
    std::fs::copy(&t.app.config.audit_key_file, &config.audit_key_file).unwrap();
    // The key sealing the second-factor secrets is kept apart the same way.
    let refused = jiqun::server::open(config.clone(), false)
        .await
        .err()
        .unwrap();
    assert!(refused.to_string().contains("secrets.key"), "{refused}");
    let sealing_key = |c: &jiqun::config::Config| jiqun::auth::sealed::key_path(&c.audit_key_file);
    std::fs::copy(sealing_key(&t.app.config), sealing_key(&config)).unwrap();
    let restored = std::sync::Arc::new(jiqun::server::open(config, false).await.unwrap());
    let n = jiqun::audit::verify(&restored.db, &restored.audit_key)
        .await
        .unwrap()
        .unwrap();
    assert!(n > 0);
    // Past the original server's last second-factor step, so the demo code is fresh.
    restored.clock.advance(Duration::minutes(10));
    let t2 = support::serve_on(fresh, restored).await;
    let province2 = token(&t2, "province").await;
    let bytes = reqwest::Client::new()
        .get(t2.url(&format!("/api/v1/attachments/{id}")))
        .bearer_auth(&province2)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        bytes.as_ref(),
        pdf.as_slice(),
        "the file comes back byte for byte"
    );

    // Restoring over an installation that has data is refused.
    let twice = jiqun::backup::restore(
        &target,
        &t2.app.config.database_url,
        &t2.app.config.data_dir,
    )
    .await;
    assert!(twice.unwrap_err().to_string().contains("恢复目标不是空的"));
}

/// A base URL for a task that outlives no test app.
struct TestUrl(String);

impl TestUrl {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

/// `jiqun audit verify` on the server's own configuration.
fn audit_verify(t: &support::TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_jiqun"))
        .args(["--data-dir".as_ref(), t.app.config.data_dir.as_os_str()])
        .args([
            "--database-url",
            &t.app.config.database_url,
            "audit",
            "verify",
        ])
        .output()
        .unwrap()
}

/// An emptied audit trail is a valid chain of nothing: the anchor that `audit verify` leaves
/// beside the key catches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_trail_fails_verification_against_the_anchor() {
    let t = support::spawn().await;
    let first = audit_verify(&t);
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{said}");
    assert!(said.contains("已写入锚定文件"), "{said}");

    use sea_orm::EntityTrait;
    jiqun::store::entity::audit_entry::Entity::delete_many()
        .exec(&t.app.db)
        .await
        .unwrap();
    jiqun::store::entity::audit_head::Entity::delete_many()
        .exec(&t.app.db)
        .await
        .unwrap();
    let emptied = jiqun::audit::verify(&t.app.db, &t.app.audit_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(emptied, 0, "the chain alone cannot tell");
    let second = audit_verify(&t);
    let said = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{said}");
    assert!(said.contains("审计链被截断或清空"), "{said}");
}

#[tokio::test]
async fn a_server_does_not_start_under_a_different_audit_key() {
    let t = support::spawn().await;
    let mut config = t.app.config.clone();
    let other = t.db.dir.join("other.key");
    std::fs::write(&other, hex_key(9)).unwrap();
    config.audit_key_file = other;
    let e = jiqun::server::open(config, true).await.err().unwrap();
    assert!(e.to_string().contains("与审计日志不匹配"), "{e}");
}

fn hex_key(byte: u8) -> String {
    format!("{byte:02x}").repeat(32)
}
