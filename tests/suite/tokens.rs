//! Integration API tokens: issued and revoked by the security administrator, acting in one role
//! for one organisation, API only, stored as a digest, their use recorded.

use jiqun::store::entity::api_token;
use jiqun::store::id::OrgId;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use time::Duration;

use crate::fixtures::{CHANGSHA_ORG, audited, error_message, get_page, post_page};
use crate::support::{self, TestApp, csrf_from, page_login};
use crate::{call, org_id, token};

/// Issues a token as the security administrator: (status, answer).
async fn issue(t: &TestApp, body: Value) -> (u16, Value) {
    let sec = token(t, "secadmin").await;
    call(t, &sec, "POST", "/api/v1/tokens", Some(body)).await
}

async fn applicant_token(t: &TestApp, org: OrgId, expires_on: Option<&str>) -> (i64, String) {
    let (status, issued) = issue(
        t,
        json!({"name": "长沙市产业大数据平台", "role": "applicant", "org_id": org, "expires_on": expires_on}),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let secret = issued["secret"].as_str().unwrap().to_string();
    (issued["token"]["id"].as_i64().unwrap(), secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issued_token_works_for_the_api_only_within_its_organisation() {
    let t = support::spawn().await;
    let own = org_id(&t, CHANGSHA_ORG).await;
    let other = org_id(&t, "岳阳石化产业集群促进会").await;
    let (id, secret) = applicant_token(&t, own, None).await;
    assert!(secret.starts_with("jq_") && secret.len() == 67, "{secret}");

    let (status, me) = call(&t, &secret, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["role"], "applicant");
    assert_eq!(me["organisation"]["id"], own.get());
    let (status, org) = call(
        &t,
        &secret,
        "GET",
        &format!("/api/v1/organisations/{own}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{org}");
    // Another organisation's data stays out of reach, in lists and by id.
    let (status, body) = call(
        &t,
        &secret,
        "GET",
        &format!("/api/v1/organisations/{other}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, list) = call(&t, &secret, "GET", "/api/v1/organisations", None).await;
    assert_eq!(status, 200);
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![own.get()]);

    // Its role's limits hold too: an applicant cannot read the audit log or list accounts.
    let (status, _) = call(&t, &secret, "GET", "/api/v1/audit", None).await;
    assert_eq!(status, 403);

    // Only the digest is stored; the prefix shown is too short to use.
    let stored = api_token::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.digest, secret);
    assert!(!stored.digest.contains(&secret[3..]));
    assert_eq!(
        stored.digest,
        jiqun_domain::audit::sm3_hex(secret.as_bytes())
    );
    assert!(secret.starts_with(&stored.prefix) && stored.prefix.len() < 16);
    assert!(stored.last_used_at.is_some());

    // Issue and first use of the day are audited once, whatever the number of calls; the use
    // names the token as the actor.
    assert_eq!(audited(&t, "api_token.create").await.len(), 1);
    let uses = audited(&t, "api_token.use").await;
    assert_eq!(uses.len(), 1, "one entry per token per day");
    assert!(
        uses[0].actor_name.contains("长沙市产业大数据平台"),
        "{uses:?}"
    );
    assert_eq!(uses[0].actor_user_id, None);
    t.app.clock.advance(Duration::days(1));
    let (status, _) = call(&t, &secret, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        audited(&t, "api_token.use").await.len(),
        2,
        "a new day, a new entry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_expired_and_unknown_tokens_are_refused_in_chinese() {
    let t = support::spawn().await;
    let own = org_id(&t, CHANGSHA_ORG).await;
    let today = jiqun::clock::local(t.app.clock.now()).date();
    let (_, expiring) = applicant_token(&t, own, Some(&today.to_string())).await;
    assert_eq!(call(&t, &expiring, "GET", "/api/v1/me", None).await.0, 200);
    let (revoked_id, revoked) = applicant_token(&t, own, None).await;
    assert_eq!(call(&t, &revoked, "GET", "/api/v1/me", None).await.0, 200);

    let sec = token(&t, "secadmin").await;
    let path = format!("/api/v1/tokens/{revoked_id}/revoke");
    let (status, body) = call(&t, &sec, "POST", &path, Some(json!({"reason": ""}))).await;
    assert_eq!(status, 422, "a revocation needs a reason: {body}");
    let (status, body) = call(
        &t,
        &sec,
        "POST",
        &path,
        Some(json!({"reason": "对接系统下线"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "revoked");
    let (status, body) = call(&t, &revoked, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        error_message(&body).contains("已于") && error_message(&body).contains("吊销"),
        "{body}"
    );
    let (status, _) = call(&t, &sec, "POST", &path, Some(json!({"reason": "再次"}))).await;
    assert_eq!(status, 409, "a token is revoked once");
    assert_eq!(audited(&t, "api_token.revoke").await.len(), 1);

    // Valid through the last day, refused the day after.
    t.app.clock.advance(Duration::days(1));
    let (status, body) = call(&t, &expiring, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401, "{body}");
    assert!(error_message(&body).contains("已过期"), "{body}");

    let unknown = format!("jq_{}", "0".repeat(64));
    let (status, body) = call(&t, &unknown, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert!(error_message(&body).contains("接口令牌无效"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_never_opens_a_page_nor_the_session_routes() {
    let t = support::spawn().await;
    let own = org_id(&t, CHANGSHA_ORG).await;
    let (_, secret) = applicant_token(&t, own, None).await;
    let client = support::client();
    for path in ["/", "/clusters", &format!("/orgs/{own}")] {
        let res = client
            .get(t.url(path))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(res.headers()["location"], "/login", "{path}");
    }
    let (status, _) = call(&t, &secret, "DELETE", "/api/v1/session", None).await;
    assert_eq!(status, 403);
    let body = json!({"current": "x", "new": "y", "confirm": "y"});
    let (status, _) = call(&t, &secret, "POST", "/api/v1/me/password", Some(body)).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_security_administrator_issues_tokens_and_only_for_business_roles() {
    let t = support::spawn().await;
    let own = org_id(&t, CHANGSHA_ORG).await;
    let body = json!({"name": "某系统", "role": "applicant", "org_id": own});
    for who in ["sysadmin", "auditor", "province", "applicant"] {
        let tok = token(&t, who).await;
        let (status, _) = call(&t, &tok, "POST", "/api/v1/tokens", Some(body.clone())).await;
        assert_eq!(status, 403, "{who} may not issue tokens");
        let (status, _) = call(&t, &tok, "GET", "/api/v1/tokens", None).await;
        assert_eq!(status, 403, "{who} may not list tokens");
    }
    // A token cannot issue another one, even a province token.
    let province_org = org_id(&t, "湖南省工业和信息化厅").await;
    let (status, issued) = issue(
        &t,
        json!({"name": "省级平台", "role": "province", "org_id": province_org}),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    let secret = issued["secret"].as_str().unwrap();
    let (status, _) = call(&t, secret, "POST", "/api/v1/tokens", Some(body.clone())).await;
    assert_eq!(status, 403);
    // Administrator and expert roles are refused, as is an organisation of the wrong kind.
    for role in ["sec_admin", "sys_admin", "audit_admin", "expert"] {
        let (status, answer) = issue(
            &t,
            json!({"name": "某系统", "role": role, "org_id": province_org}),
        )
        .await;
        assert_eq!(status, 422, "{role}: {answer}");
        assert_eq!(answer["error"]["fields"][0]["field"], "role", "{answer}");
    }
    let (status, answer) = issue(
        &t,
        json!({"name": "某系统", "role": "applicant", "org_id": province_org}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(answer["error"]["fields"][0]["field"], "org_id", "{answer}");
    let (status, answer) = issue(
        &t,
        json!({"name": "某系统", "role": "applicant", "org_id": own, "expires_on": "2020-01-01"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["error"]["fields"][0]["field"], "expires_on",
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_administrator_issues_and_revokes_on_the_page() {
    let t = support::spawn().await;
    let own = org_id(&t, CHANGSHA_ORG).await;
    let browser = page_login(&t, "secadmin").await;
    let (status, html) = get_page(&browser, &t, "/tokens").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("签发新令牌") && html.contains(CHANGSHA_ORG),
        "{html}"
    );
    let csrf = csrf_from(&html);
    let own_s = own.to_string();
    let answer = post_page(
        &browser,
        &t,
        "/tokens",
        &[
            ("_csrf", csrf.as_str()),
            ("name", "长沙数据平台"),
            ("role", "applicant"),
            ("org_id", own_s.as_str()),
            ("expires_on", ""),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("仅显示这一次"));
    let start = answer.body.find("jq_").expect("the token is shown");
    let secret: String = answer.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(secret.len(), 67);
    assert_eq!(call(&t, &secret, "GET", "/api/v1/me", None).await.0, 200);

    // The list shows the prefix, never the token again.
    let (_, html) = get_page(&browser, &t, "/tokens").await;
    assert!(
        html.contains(&secret[..11]) && !html.contains(&secret),
        "{html}"
    );
    let id = api_token::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let answer = post_page(
        &browser,
        &t,
        &format!("/tokens/{id}/revoke"),
        &[("_csrf", csrf.as_str()), ("reason", "")],
    )
    .await;
    assert_eq!(answer.status, 422);
    assert!(answer.body.contains("请填写吊销理由"));
    let answer = post_page(
        &browser,
        &t,
        &format!("/tokens/{id}/revoke"),
        &[("_csrf", csrf.as_str()), ("reason", "测试结束")],
    )
    .await;
    assert_eq!(answer.status, 303);
    assert_eq!(call(&t, &secret, "GET", "/api/v1/me", None).await.0, 401);
    // Other roles do not see the page.
    let browser = page_login(&t, "sysadmin").await;
    assert_eq!(get_page(&browser, &t, "/tokens").await.0, 403);
}

/// Ten parallel first calls of the day record one use, not ten, on PostgreSQL too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_first_calls_of_a_day_record_one_use() {
    let t = support::spawn().await;
    let own = org_id(&t, CHANGSHA_ORG).await;
    let (_, secret) = applicant_token(&t, own, None).await;
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let (url, secret) = (t.url("/api/v1/me"), secret.clone());
            tokio::spawn(async move {
                reqwest::Client::new()
                    .get(url)
                    .bearer_auth(secret)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 200);
    }
    assert_eq!(audited(&t, "api_token.use").await.len(), 1);
}
