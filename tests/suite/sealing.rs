//! TOTP secrets sealed at rest (SM4-CTR + HMAC-SM3) with a key kept beside the audit key.

use std::sync::Arc;

use jiqun::store::entity::user;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::fixtures::audited;
use crate::support::{self, DEMO_PASSWORD, TestApp, demo_secret};
use crate::{call, token};

async fn stored_secret(t: &TestApp, username: &str) -> Option<String> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .totp_secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_secrets_are_stored_sealed_and_sign_in_still_works() {
    let t = support::spawn().await;
    let stored = stored_secret(&t, "province").await.unwrap();
    assert!(stored.starts_with("sm4:"), "{stored}");
    assert!(!stored.contains(&demo_secret("province")));
    let key_file = t.db.dir.join("secrets.key");
    assert!(key_file.exists(), "the key lives beside audit.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Sign-in with the authenticator code still works.
    let province = token(&t, "province").await;
    assert_eq!(call(&t, &province, "GET", "/api/v1/me", None).await.0, 200);

    // A fresh enrolment stores the new secret sealed as well.
    let sec = token(&t, "secadmin").await;
    let (_, users) = call(&t, &sec, "GET", "/api/v1/users?q=province", None).await;
    let id = users[0]["id"].as_i64().unwrap();
    let reset = json!({"action": "reset_second_factor", "reason": "手机更换"});
    let path = format!("/api/v1/users/{id}/credentials");
    assert_eq!(call(&t, &sec, "POST", &path, Some(reset)).await.0, 200);
    let client = support::client();
    client
        .post(t.url("/login"))
        .form(&[("username", "province"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    let page = client
        .get(t.url("/account/mfa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let shown = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let stored = stored_secret(&t, "province").await.unwrap();
    assert!(
        stored.starts_with("sm4:") && !stored.contains(&shown),
        "{stored}"
    );
    let code = jiqun::auth::totp::code_at(&shown, t.app.clock.now().unix_timestamp()).unwrap();
    let csrf = support::csrf_from(&page);
    let res = client
        .post(t.url("/account/mfa"))
        .form(&[("_csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(client.get(t.url("/")).send().await.unwrap().status(), 200);
    let stored = stored_secret(&t, "province").await.unwrap();
    assert!(stored.starts_with("sm4:") && !stored.contains(&shown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clear_secret_is_read_then_sealed_at_the_next_start_and_the_key_stays_out_of_backups() {
    let t = support::spawn().await;
    // A database written by an older version: the secret in clear.
    let clear = demo_secret("province");
    let row = user::Entity::find()
        .filter(user::Column::Username.eq("province"))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut a: user::ActiveModel = row.into();
    a.totp_secret = Set(Some(clear.clone()));
    a.update(&t.app.db).await.unwrap();
    // Read as it is during the change.
    token(&t, "province").await;

    let TestApp { db, app: _old, .. } = t;
    let reopened = jiqun::server::open(support::config_for(&db), true)
        .await
        .unwrap();
    let t = support::serve_on(db, Arc::new(reopened)).await;
    let stored = stored_secret(&t, "province").await.unwrap();
    assert!(
        stored.starts_with("sm4:") && !stored.contains(&clear),
        "{stored}"
    );
    assert_eq!(audited(&t, "system.seal_totp_secrets").await.len(), 1);
    // The secret opens with the key: sign-in works (on a clock past the steps already used); a
    // second start seals nothing more.
    t.app.clock.advance(time::Duration::minutes(10));
    token(&t, "province").await;
    jiqun::server::open(support::config_for(&t.db), true)
        .await
        .unwrap();
    assert_eq!(stored_secret(&t, "province").await.unwrap(), stored);
    assert_eq!(audited(&t, "system.seal_totp_secrets").await.len(), 1);
    assert!(
        jiqun::audit::verify(&t.app.db, &t.app.audit_key)
            .await
            .unwrap()
            .is_ok()
    );

    // The key is not in a backup.
    let target = t.db.dir.join("backup");
    jiqun::backup::backup(
        &t.app.db,
        &t.app.config.database_url,
        &t.app.config.data_dir,
        &target,
        t.app.clock.now(),
    )
    .await
    .unwrap();
    let names: Vec<String> = walk(&target);
    assert!(!names.is_empty());
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with("secrets.key") && !n.ends_with("audit.key")),
        "{names:?}"
    );

    // Without its key, or with another one, the server refuses to start and says why.
    let key_file = t.db.dir.join("secrets.key");
    let kept = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let err = jiqun::server::open(support::config_for(&t.db), true)
        .await
        .err()
        .expect("refused without the key")
        .to_string();
    assert!(
        err.contains("secrets.key") && err.contains("拒绝启动"),
        "{err}"
    );
    assert!(!key_file.exists(), "no new key made over sealed secrets");
    std::fs::write(&key_file, hex_key(9)).unwrap();
    let err = jiqun::server::open(support::config_for(&t.db), true)
        .await
        .err()
        .expect("refused with another key")
        .to_string();
    assert!(err.contains("不匹配"), "{err}");
    std::fs::write(&key_file, kept).unwrap();
    jiqun::server::open(support::config_for(&t.db), true)
        .await
        .unwrap();
}

fn hex_key(byte: u8) -> String {
    format!("{byte:02x}").repeat(32)
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}
