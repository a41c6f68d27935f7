//! Lockout and unlock, idle-session expiry, CSRF, first-login password change, second factor.

use serde_json::{Value, json};

use crate::support::{self, DEMO_PASSWORD, TestApp};
use crate::{call, token};

async fn api_login(t: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(t.url("/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn audit_actions(t: &TestApp) -> Vec<String> {
    let auditor = token(t, "auditor").await;
    let (status, page) = call(t, &auditor, "GET", "/api/v1/audit", None).await;
    assert_eq!(status, 200);
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_the_account_until_unlocked_or_expired() {
    let t = support::spawn().await;
    for i in 1..=4 {
        let (status, body) = api_login(&t, "applicant", "Wrong@password1").await;
        assert_eq!(status, 401, "attempt {i}");
        assert_eq!(body["error"]["message"], "用户名或密码错误");
    }
    let (status, body) = api_login(&t, "applicant", "Wrong@password1").await;
    assert_eq!(status, 401);
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("连续5次密码错误，账户已锁定"), "{msg}");
    // The right password is refused while locked.
    let (status, body) = api_login(&t, "applicant", DEMO_PASSWORD).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("账户已锁定"),
        "{body}"
    );
    // The security administrator unlocks it, with a reason.
    let sec = token(&t, "secadmin").await;
    let (_, users) = call(&t, &sec, "GET", "/api/v1/users?q=applicant", None).await;
    let id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "applicant")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{id}/credentials"),
        Some(json!({"action": "unlock", "reason": ""})),
    )
    .await;
    assert_eq!(status, 422, "a reason is required: {body}");
    let (status, _) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{id}/credentials"),
        Some(json!({"action": "unlock", "reason": "本人电话确认"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = api_login(&t, "applicant", DEMO_PASSWORD).await;
    assert_eq!(status, 200);
    let actions = audit_actions(&t).await;
    for expected in [
        "login.failure",
        "account.locked",
        "login.refused_locked",
        "user.unlock",
        "login.success",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "missing {expected} in {actions:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_runs_out_after_fifteen_minutes() {
    let t = support::spawn().await;
    for _ in 0..5 {
        api_login(&t, "expert", "Wrong@password1").await;
    }
    assert_eq!(api_login(&t, "expert", DEMO_PASSWORD).await.0, 401);
    t.app.clock.advance(time::Duration::minutes(14));
    assert_eq!(api_login(&t, "expert", DEMO_PASSWORD).await.0, 401);
    t.app.clock.advance(time::Duration::minutes(1));
    assert_eq!(api_login(&t, "expert", DEMO_PASSWORD).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_end_after_thirty_minutes() {
    let t = support::spawn().await;
    let tok = token(&t, "partner").await;
    t.app.clock.advance(time::Duration::minutes(29));
    assert_eq!(call(&t, &tok, "GET", "/api/v1/me", None).await.0, 200);
    // Activity renewed the session; 29 more idle minutes are still fine, 30 are not.
    t.app.clock.advance(time::Duration::minutes(29));
    assert_eq!(call(&t, &tok, "GET", "/api/v1/me", None).await.0, 200);
    t.app.clock.advance(time::Duration::minutes(30));
    let (status, body) = call(&t, &tok, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "session_expired");
    // The same on a page: back to the login form with a notice.
    let client = support::client();
    client
        .post(t.url("/login"))
        .form(&[("username", "partner"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(client.get(t.url("/")).send().await.unwrap().status(), 200);
    t.app.clock.advance(time::Duration::minutes(31));
    let res = client.get(t.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login?expired=1");
    let login = client
        .get(t.url("/login?expired=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("会话空闲超过30分钟"), "{login}");
    assert!(
        audit_actions(&t)
            .await
            .iter()
            .any(|a| a == "session.expired")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_without_the_csrf_token_are_refused() {
    let t = support::spawn().await;
    let client = support::client();
    let res = client
        .post(t.url("/login"))
        .form(&[("username", "applicant"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let page = client
        .get(t.url("/account/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = support::csrf_from(&page);
    let form = |token: &str| {
        vec![
            ("_csrf", token.to_string()),
            ("current", DEMO_PASSWORD.to_string()),
            ("new", "Another@pass2026".to_string()),
            ("confirm", "Another@pass2026".to_string()),
        ]
    };
    // No token, a wrong token, a cross-site origin: all refused, nothing changed.
    let res = client
        .post(t.url("/account/password"))
        .form(&form("")[1..])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(t.url("/account/password"))
        .form(&form("forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("CSRF"));
    let res = client
        .post(t.url("/account/password"))
        .header("origin", "http://evil.example")
        .form(&form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Cookie-authenticated JSON needs the header too.
    let res = client.post(t.url("/api/v1/me/password")).json(&json!({"current": DEMO_PASSWORD, "new": "Another@pass2026", "confirm": "Another@pass2026"})).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        api_login(&t, "applicant", DEMO_PASSWORD).await.0,
        200,
        "password unchanged"
    );
    // With the token it goes through.
    let res = client
        .post(t.url("/account/password"))
        .form(&form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(api_login(&t, "applicant", "Another@pass2026").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_account_must_change_its_initial_password_first() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let org = crate::org_id(&t, "岳阳石化产业集群促进会").await;
    let (status, created) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        Some(json!({
        "username": "chen.lin", "display_name": "陈琳", "org_id": org, "role": "applicant"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    // The first password goes to the security administrator at activation (三权分立).
    let sec = token(&t, "secadmin").await;
    let (status, activated) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{}/activation", created["user"]["id"]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{activated}");
    let initial = activated["initial_password"].as_str().unwrap().to_string();
    // An administrator role cannot be handed out from the web (三权分立).
    let (status, body) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        Some(json!({
        "username": "admin2", "display_name": "某", "org_id": 1, "role": "audit_admin"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "role");

    let (status, login) = api_login(&t, "chen.lin", &initial).await;
    assert_eq!(status, 200);
    assert_eq!(login["stage"], "change_password");
    let tok = login["token"].as_str().unwrap();
    let (status, body) = call(&t, tok, "GET", "/api/v1/organisations", None).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "password_change_required");
    let (status, body) = call(
        &t,
        tok,
        "POST",
        "/api/v1/me/password",
        Some(json!({"current": initial, "new": "short", "confirm": "short"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["message"], "密码长度至少10位");
    let (status, _) = call(
        &t,
        tok,
        "POST",
        "/api/v1/me/password",
        Some(json!({"current": initial, "new": "Chenlin@2026x", "confirm": "Chenlin@2026x"})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, orgs) = call(&t, tok, "GET", "/api/v1/organisations", None).await;
    assert_eq!(status, 200);
    assert_eq!(orgs.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileged_roles_need_the_second_factor() {
    let t = support::spawn().await;
    let (status, login) = api_login(&t, "province", DEMO_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(login["stage"], "verify_second_factor");
    let tok = login["token"].as_str().unwrap();
    let (status, body) = call(&t, tok, "GET", "/api/v1/organisations", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("second_factor_required"))
    );
    let (status, _) = call(
        &t,
        tok,
        "POST",
        "/api/v1/session/second-factor",
        Some(json!({"code": "000000"})),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = call(
        &t,
        tok,
        "POST",
        "/api/v1/session/second-factor",
        Some(json!({"code": t.totp("province")})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        call(&t, tok, "GET", "/api/v1/organisations", None).await.0,
        200
    );
    // Logging out ends the session.
    assert_eq!(
        call(&t, tok, "DELETE", "/api/v1/session", None).await.0,
        204
    );
    assert_eq!(call(&t, tok, "GET", "/api/v1/me", None).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolling_a_second_factor_shows_a_qr_code_and_one_time_recovery_codes() {
    let t = support::spawn().await;
    let sec = token(&t, "secadmin").await;
    let (_, users) = call(&t, &sec, "GET", "/api/v1/users?q=province", None).await;
    let id = users[0]["id"].as_i64().unwrap();
    let (status, _) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{id}/credentials"),
        Some(json!({"action": "reset_second_factor", "reason": "手机丢失"})),
    )
    .await;
    assert_eq!(status, 200);

    let client = support::client();
    let res = client
        .post(t.url("/login"))
        .form(&[("username", "province"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "/account/mfa",
        "a privileged role must enrol first"
    );
    assert_eq!(
        client.get(t.url("/")).send().await.unwrap().headers()["location"],
        "/account/mfa"
    );
    let page = client
        .get(t.url("/account/mfa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "QR code shown");
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let csrf = support::csrf_from(&page);
    let res = client
        .post(t.url("/account/mfa"))
        .form(&[("_csrf", csrf.as_str()), ("code", "123456")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("验证码不正确"));
    let now = t.app.clock.now().unix_timestamp();
    let code = jiqun::auth::totp::code_at(&secret, now).unwrap();
    let done = client
        .post(t.url("/account/mfa"))
        .form(&[("_csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let recovery: Vec<String> = done
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10, "{done}");
    assert_eq!(client.get(t.url("/")).send().await.unwrap().status(), 200);

    // A recovery code works once.
    for attempt in 0..2 {
        let c = support::client();
        let res = c
            .post(t.url("/login"))
            .form(&[("username", "province"), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/login/mfa");
        let page = c
            .get(t.url("/login/mfa"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = support::csrf_from(&page);
        let res = c
            .post(t.url("/login/mfa"))
            .form(&[("_csrf", csrf.as_str()), ("code", recovery[0].as_str())])
            .send()
            .await
            .unwrap();
        if attempt == 0 {
            assert_eq!(res.headers()["location"], "/");
        } else {
            assert_eq!(res.status(), 422, "a used recovery code is refused");
        }
    }
    let actions = audit_actions(&t).await;
    for expected in [
        "user.reset_mfa",
        "account.mfa_enabled",
        "login.mfa_success",
        "login.mfa_failure",
    ] {
        assert!(actions.iter().any(|a| a == expected), "missing {expected}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticator_code_is_accepted_only_once() {
    let t = support::spawn().await;
    let code = t.totp("auditor");
    let login = |code: String| {
        let url = t.url("/api/v1/session");
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"username": "auditor", "password": DEMO_PASSWORD, "code": code}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login(code.clone()).await.status(), 200);
    let replay = login(code).await;
    assert_eq!(replay.status(), 422, "a replayed code is refused");
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "code");
}
