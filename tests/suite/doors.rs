//! The doors around the data: second-factor guessing, the lockout under parallel guesses, the
//! per-address limit (429 with Retry-After), the owner's way past a lock set by others, the public
//! objection limit and duplicates, certificate numbering under parallel confirmation, and the
//! session rules (password change, absolute lifetime, experts' second factor).

use jiqun::store::id::{EntryId, UserId};
use std::sync::Arc;

use jiqun::config::Config;
use jiqun::store::entity::{audit_entry, designation, objection, user};
use jiqun_domain::round::RoundKind;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use time::macros::date;

use crate::fixtures::{principal, published_round, stored_round};
use crate::support::{self, DEMO_PASSWORD, TestApp};
use crate::{call, token};

/// A server over the demo data with some settings changed.
async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let db = support::fresh_db().await;
    let mut cfg = support::config_for(&db);
    tweak(&mut cfg);
    let app = Arc::new(jiqun::server::open(cfg, true).await.unwrap());
    jiqun::demo::seed(&app).await.unwrap();
    support::serve_on(db, app).await
}

/// Requests appear to come from `addr` (the test client is 127.0.0.1, a trusted proxy here).
fn behind_proxy(cfg: &mut Config) {
    cfg.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
}

/// An answer: status, JSON body, Retry-After.
struct Reply {
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

async fn post_json(
    t: &TestApp,
    path: &str,
    from: Option<&str>,
    bearer: Option<&str>,
    body: Value,
) -> Reply {
    let mut req = reqwest::Client::new().post(t.url(path)).json(&body);
    if let Some(addr) = from {
        req = req.header("x-forwarded-for", addr);
    }
    if let Some(tok) = bearer {
        req = req.bearer_auth(tok);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let text = res.text().await.unwrap();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        retry_after,
    }
}

async fn api_login(
    t: &TestApp,
    from: Option<&str>,
    username: &str,
    password: &str,
    code: Option<String>,
) -> Reply {
    let mut body = json!({"username": username, "password": password});
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    post_json(t, "/api/v1/session", from, None, body).await
}

fn message(r: &Reply) -> String {
    r.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn stored_user(t: &TestApp, username: &str) -> user::Model {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn audit_count(t: &TestApp, action: &str) -> u64 {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq(action))
        .count(&t.app.db)
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// 1. The second factor cannot be guessed without limit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_second_factor_codes_lock_the_account_and_end_the_session() {
    let t = support::spawn().await;
    let threshold = t.app.config.security.lockout_threshold;
    let first = api_login(&t, None, "province", DEMO_PASSWORD, None).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["stage"], "verify_second_factor");
    let half = first.body["token"].as_str().unwrap().to_string();
    // Wrong authenticator codes and a wrong recovery code count alike.
    for i in 1..threshold {
        let code = if i == 2 { "ABCDE-FGHJK" } else { "000000" };
        let r = post_json(
            &t,
            "/api/v1/session/second-factor",
            None,
            Some(&half),
            json!({"code": code}),
        )
        .await;
        assert_eq!(r.status, 422, "wrong code {i}: {:?}", r.body);
    }
    let last = post_json(
        &t,
        "/api/v1/session/second-factor",
        None,
        Some(&half),
        json!({"code": "000000"}),
    )
    .await;
    assert_eq!(last.status, 401, "{:?}", last.body);
    assert!(
        message(&last).contains(&format!("连续{threshold}次验证码错误，账户已锁定")),
        "{}",
        message(&last)
    );
    // The right code no longer helps: the half-signed-in session is gone.
    let right = post_json(
        &t,
        "/api/v1/session/second-factor",
        None,
        Some(&half),
        json!({"code": t.totp("province")}),
    )
    .await;
    assert_eq!(
        right.status, 401,
        "the right code after the lock: {:?}",
        right.body
    );
    assert_ne!(right.body["stage"], "complete");
    // Nor does a fresh sign-in with both factors: whoever guessed codes had the password.
    let again = api_login(
        &t,
        None,
        "province",
        DEMO_PASSWORD,
        Some(t.totp("province")),
    )
    .await;
    assert_eq!(again.status, 401, "{:?}", again.body);
    assert!(
        message(&again).contains("账户已锁定"),
        "{}",
        message(&again)
    );
    let u = stored_user(&t, "province").await;
    assert!(u.locked_until.is_some() && u.locked_by_second_factor);
    assert_eq!(
        audit_count(&t, "login.mfa_failure").await,
        u64::from(threshold)
    );
    assert_eq!(audit_count(&t, "account.locked").await, 1);
    // The security administrator's unlock clears it; then both factors work again.
    let sec = token(&t, "secadmin").await;
    let (status, _) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{}/credentials", u.id),
        Some(json!({"action": "unlock", "reason": "本人电话确认"})),
    )
    .await;
    assert_eq!(status, 200);
    let ok = api_login(
        &t,
        None,
        "province",
        DEMO_PASSWORD,
        Some(t.totp("province")),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["stage"], "complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_factor_page_locks_the_same_way() {
    let t = support::spawn().await;
    let threshold = t.app.config.security.lockout_threshold;
    let client = support::client();
    let res = client
        .post(t.url("/login"))
        .form(&[("username", "province"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/login/mfa");
    let page = client
        .get(t.url("/login/mfa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = support::csrf_from(&page);
    for i in 1..=threshold {
        let res = client
            .post(t.url("/login/mfa"))
            .form(&[("_csrf", csrf.as_str()), ("code", "123456")])
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let html = res.text().await.unwrap();
        if i < threshold {
            assert_eq!(status, 422, "wrong code {i}");
        } else {
            assert_eq!(status, 401, "the last wrong code ends the sign-in");
            assert!(html.contains("账户已锁定"), "{html}");
        }
    }
    let res = client
        .post(t.url("/login/mfa"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("code", t.totp("province").as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string()),
        Some("/".to_string()),
        "the right code after the lock must not sign in"
    );
    assert_eq!(
        client.get(t.url("/")).send().await.unwrap().headers()["location"],
        "/login"
    );
    assert!(stored_user(&t, "province").await.locked_by_second_factor);
}

// ---------------------------------------------------------------------------------------------
// 2. The lockout holds under parallel guesses

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_evaluate_at_most_the_threshold() {
    // The address limit is out of the way here: this is about the account's own lock.
    let t = spawn_with(|c| c.security.login_address_limit = 10_000).await;
    let threshold = t.app.config.security.lockout_threshold;
    for username in ["applicant", "partner", "expert"] {
        let mut tasks = Vec::new();
        for i in 0..31 {
            let (base, name) = (t.base.clone(), username.to_string());
            let password = if i == 15 {
                DEMO_PASSWORD.to_string()
            } else {
                format!("Wrong@guess{i}")
            };
            tasks.push(tokio::spawn(async move {
                let res = reqwest::Client::new()
                    .post(format!("{base}/api/v1/session"))
                    .json(&json!({"username": name, "password": password}))
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let v: Value = res.json().await.unwrap();
                (
                    i == 15,
                    status,
                    v["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            }));
        }
        let mut evaluated = 0;
        let mut wrong_evaluated = 0;
        let mut right_signed_in = false;
        for task in tasks {
            let (right, status, msg) = task.await.unwrap();
            if status == 200 {
                assert!(right);
                right_signed_in = true;
                evaluated += 1;
            } else if msg == "用户名或密码错误" || msg.contains("次密码错误，账户已锁定至")
            {
                // The answer tells the guesser whether the guess was right: it was evaluated.
                evaluated += 1;
                wrong_evaluated += 1;
            } else {
                assert!(msg.starts_with("账户已锁定"), "{status} {msg}");
            }
        }
        eprintln!(
            "[{}] {username}: 31 parallel attempts (30 wrong, 1 right), guesses evaluated: {evaluated} \
             (wrong {wrong_evaluated}), right password signed in: {right_signed_in}, threshold {threshold}",
            support::backend()
        );
        let u = stored_user(&t, username).await;
        assert!(
            u.locked_until.is_some(),
            "{username} is locked after the attack"
        );
        // One lock, never more wrong guesses than the threshold between a right one and the lock.
        assert_eq!(audit_count_for(&t, "account.locked", u.id).await, 1);
        if right_signed_in {
            // The right password came before the lock (it is one of the evaluated guesses) and
            // started the count afresh; the lock came after at most `threshold` more.
            assert!(wrong_evaluated < 2 * threshold, "{wrong_evaluated}");
            let success = last_id(&t, "login.success", u.id).await;
            let locked = last_id(&t, "account.locked", u.id).await;
            assert!(
                success < locked,
                "the right password signed in after the lock"
            );
        } else {
            assert_eq!(wrong_evaluated, threshold, "{username}");
        }
        // And once locked, the right password is refused.
        let after = api_login(&t, None, username, DEMO_PASSWORD, None).await;
        assert_eq!(after.status, 401);
        assert!(message(&after).starts_with("账户已锁定"));
    }
}

async fn audit_count_for(t: &TestApp, action: &str, user_id: UserId) -> u64 {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq(action))
        .filter(audit_entry::Column::ObjectId.eq(user_id.to_string()))
        .count(&t.app.db)
        .await
        .unwrap()
}

async fn last_id(t: &TestApp, action: &str, user_id: UserId) -> i64 {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq(action))
        .filter(audit_entry::Column::ObjectId.eq(user_id.to_string()))
        .order_by_desc(audit_entry::Column::Seq)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {action}"))
        .seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_failures_all_count() {
    let t = spawn_with(|c| {
        c.security.lockout_threshold = 100;
        c.security.login_address_limit = 10_000;
    })
    .await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let base = t.base.clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/session"))
                .json(&json!({"username": "applicant", "password": format!("Wrong@guess{i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 401);
    }
    assert_eq!(
        stored_user(&t, "applicant").await.failed_logins,
        20,
        "no failure lost"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. The per-address limit, unknown names, and the owner's way past a lock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_past_its_limit_is_answered_429_with_retry_after() {
    let t = spawn_with(|c| {
        behind_proxy(c);
        c.security.login_address_limit = 3;
        c.security.login_address_window_minutes = 10;
    })
    .await;
    let from = Some("203.0.113.7");
    // Unknown user names use up the allowance like wrong passwords.
    for name in ["nobody1", "nobody2", "nobody3"] {
        assert_eq!(
            api_login(&t, from, name, "Wrong@guess1", None).await.status,
            401
        );
    }
    // Now even the right password of a real account waits.
    let r = api_login(&t, from, "applicant", DEMO_PASSWORD, None).await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], "too_many_requests");
    assert!(
        message(&r).contains("登录尝试过于频繁，请于10分钟后再试"),
        "{}",
        message(&r)
    );
    let secs: i64 = r
        .retry_after
        .as_deref()
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=600).contains(&secs), "{secs}");
    // The login page answers the same, in a Chinese page.
    let res = support::client()
        .post(t.url("/login"))
        .header("x-forwarded-for", "203.0.113.7")
        .form(&[("username", "applicant"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().get("retry-after").is_some());
    assert!(res.text().await.unwrap().contains("登录尝试过于频繁"));
    // Another address is not affected; its second-factor step counts against it alike.
    let other = Some("198.51.100.20");
    let half = api_login(&t, other, "province", DEMO_PASSWORD, None).await;
    assert_eq!(half.status, 200);
    let half = half.body["token"].as_str().unwrap().to_string();
    for _ in 0..3 {
        let r = post_json(
            &t,
            "/api/v1/session/second-factor",
            other,
            Some(&half),
            json!({"code": "000000"}),
        )
        .await;
        assert_eq!(r.status, 422);
    }
    let r = post_json(
        &t,
        "/api/v1/session/second-factor",
        other,
        Some(&half),
        json!({"code": t.totp("province")}),
    )
    .await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert!(r.retry_after.is_some());
    // The window passes and the address may try again.
    t.app.clock.advance(time::Duration::minutes(11));
    assert_eq!(
        api_login(&t, from, "applicant", DEMO_PASSWORD, None)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_passwords_do_not_use_up_the_allowance() {
    let t = spawn_with(|c| c.security.login_address_limit = 3).await;
    for i in 0..6 {
        assert_eq!(
            api_login(&t, None, "applicant", DEMO_PASSWORD, None)
                .await
                .status,
            200,
            "sign-in {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_passes_a_lock_set_by_others_with_both_factors() {
    let t = spawn_with(behind_proxy).await;
    let threshold = t.app.config.security.lockout_threshold;
    let attacker = Some("203.0.113.66");
    for _ in 0..threshold {
        api_login(&t, attacker, "province", "Wrong@guess1", None).await;
    }
    assert!(stored_user(&t, "province").await.locked_until.is_some());
    let owner = Some("198.51.100.7");
    // The password alone does not pass the lock, and says nothing about the password.
    let r = api_login(&t, owner, "province", DEMO_PASSWORD, None).await;
    assert_eq!(r.status, 401);
    assert!(
        message(&r).contains("可同时输入验证码登录"),
        "{}",
        message(&r)
    );
    // Both factors from an address that never failed on the account do.
    let r = api_login(
        &t,
        owner,
        "province",
        DEMO_PASSWORD,
        Some(t.totp("province")),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["stage"], "complete");
    // The lock still holds for the attacker's address, even with both factors.
    let r = api_login(
        &t,
        attacker,
        "province",
        DEMO_PASSWORD,
        Some(t.totp("province")),
    )
    .await;
    assert_eq!(r.status, 401);
    // A new address has one try: a wrong code spends it, and the answer is the plain lock.
    let probe = Some("192.0.2.44");
    let r = api_login(&t, probe, "province", DEMO_PASSWORD, Some("000000".into())).await;
    assert_eq!(r.status, 401);
    assert!(message(&r).starts_with("账户已锁定"));
    let r = api_login(
        &t,
        probe,
        "province",
        DEMO_PASSWORD,
        Some(t.totp("province")),
    )
    .await;
    assert_eq!(r.status, 401, "one try per address during the lock");
    // The same through the login page: the lock message offers the code field.
    let client = support::client();
    let res = client
        .post(t.url("/login"))
        .header("x-forwarded-for", "198.51.100.8")
        .form(&[("username", "province"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("id=\"code\""));
    let res = client
        .post(t.url("/login"))
        .header("x-forwarded-for", "198.51.100.8")
        .form(&[
            ("username", "province"),
            ("password", DEMO_PASSWORD),
            ("code", t.totp("province").as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    // An account without a second factor keeps the plain lock.
    for _ in 0..threshold {
        api_login(&t, attacker, "applicant", "Wrong@guess1", None).await;
    }
    let r = api_login(&t, owner, "applicant", DEMO_PASSWORD, Some("123456".into())).await;
    assert_eq!(r.status, 401);
}

// ---------------------------------------------------------------------------------------------
// 4. Public objections and certificate numbers under parallel requests

fn objection_json(entry_id: EntryId, name: &str, reason: &str) -> Value {
    json!({
        "entry_id": entry_id,
        "name": name,
        "organisation": "",
        "contact": "13800138000",
        "reason": reason,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_objections_from_one_address_stop_at_the_limit() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let limit = t.app.config.objection_rate_limit;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = t.url(&format!("/api/v1/notices/{}/objections", f.round_id));
        let body = objection_json(
            f.entries[0].id,
            "王建国",
            &format!("第{i}条理由：营业收入数据与统计年鉴不符。"),
        );
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            200 => accepted += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    eprintln!(
        "[{}] 20 parallel objections, limit {limit}: {accepted} accepted",
        support::backend()
    );
    assert_eq!(accepted, limit);
    assert_eq!(
        objection::Entity::find().count(&t.app.db).await.unwrap(),
        u64::from(limit)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identical_objection_is_refused_not_stored_twice() {
    let t = spawn_with(behind_proxy).await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let path = format!("/api/v1/notices/{}/objections", f.round_id);
    let body = objection_json(f.entries[0].id, "王建国", "营业收入数据与统计年鉴不符。");
    let first = post_json(&t, &path, Some("203.0.113.1"), None, body.clone()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let again = post_json(&t, &path, Some("203.0.113.1"), None, body.clone()).await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert!(
        message(&again).contains("已对该集群提交过内容相同的异议"),
        "{}",
        message(&again)
    );
    // Another text from the same person is a new objection.
    let other = objection_json(f.entries[0].id, "王建国", "另有一条理由。");
    assert_eq!(
        post_json(&t, &path, Some("203.0.113.1"), None, other)
            .await
            .status,
        200
    );
    // Sent at once from eight addresses, a new identical objection is stored once.
    let same = objection_json(f.entries[2].id, "李四", "同一理由。");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (url, body) = (t.url(&path), same.clone());
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("x-forwarded-for", format!("192.0.2.{}", 10 + i))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(objection::Entity::find().count(&t.app.db).await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_numbers_stay_distinct_and_gapless_under_parallel_confirmation() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let p = principal(&t, "province").await;
    let r = stored_round(&t, f.round_id).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (app, p, r, entry) = (
            t.app.clone(),
            p.clone(),
            r.clone(),
            f.entries[i % 3].clone(),
        );
        tasks.push(tokio::spawn(async move {
            let txn = jiqun::store::write_txn(&app.db).await.unwrap();
            let now = app.clock.now();
            let d = jiqun::services::designations::designate(
                &app,
                &txn,
                &p,
                &r,
                RoundKind::Preliminary,
                &entry,
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
            txn.commit().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(d.certificate_number)
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(
            task.await
                .unwrap()
                .expect("every parallel designation gets a number"),
        );
    }
    let mut seqs: Vec<i32> = designation::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap()
        .iter()
        .map(|d| d.seq)
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=8).collect::<Vec<_>>(),
        "distinct and gapless: {numbers:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Sessions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_other_sessions() {
    let t = support::spawn().await;
    let here = token(&t, "partner").await;
    let elsewhere = token(&t, "partner").await;
    let (status, body) = call(&t, &here, "POST", "/api/v1/me/password",
        Some(json!({"current": DEMO_PASSWORD, "new": "Another@pass2026", "confirm": "Another@pass2026"}))).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        call(&t, &here, "GET", "/api/v1/me", None).await.0,
        200,
        "the current session stays"
    );
    let (status, body) = call(&t, &elsewhere, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401, "the other session ended: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_after_its_absolute_lifetime() {
    let t = support::spawn().await;
    assert_eq!(t.app.config.security.session_max_hours, 12);
    let tok = token(&t, "partner").await;
    let client = support::page_login(&t, "partner").await;
    // Active every 25 minutes, well inside the idle timeout, for 11 h 40 min.
    for step in 1..=28 {
        t.app.clock.advance(time::Duration::minutes(25));
        assert_eq!(
            call(&t, &tok, "GET", "/api/v1/me", None).await.0,
            200,
            "step {step}"
        );
        assert_eq!(
            client.get(t.url("/")).send().await.unwrap().status(),
            200,
            "step {step}"
        );
    }
    t.app.clock.advance(time::Duration::minutes(25));
    let (status, body) = call(&t, &tok, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "session_expired");
    let res = client.get(t.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login?expired=lifetime");
    let html = client
        .get(t.url("/login?expired=lifetime"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("自登录起已满12小时"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experts_must_enrol_a_second_factor_when_the_setting_says_so() {
    let t = spawn_with(|c| c.security.expert_second_factor = true).await;
    let r = api_login(&t, None, "expert", DEMO_PASSWORD, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["stage"], "enrol_second_factor");
    let tok = r.body["token"].as_str().unwrap();
    let (status, body) = call(&t, tok, "GET", "/api/v1/rounds", None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "second_factor_required");
    // The page sends the expert to enrol before anything else.
    let client = support::client();
    let res = client
        .post(t.url("/login"))
        .form(&[("username", "expert"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/account/mfa");
    assert_eq!(
        client.get(t.url("/")).send().await.unwrap().headers()["location"],
        "/account/mfa"
    );
    // Other roles without the requirement are unaffected.
    let r = api_login(&t, None, "partner", DEMO_PASSWORD, None).await;
    assert_eq!(r.body["stage"], "complete");
}
