//! 三权分立 without gaps (the system administrator never holds a credential of an account it
//! creates; no administrator becomes a business role) and the city bureau's reach (an
//! application and its files only once submitted), through the API and the pages.

use serde_json::{Value, json};

use crate::applications::{a_cluster, complete_form, open_call};
use crate::support::{self, DEMO_PASSWORD, TestApp};
use crate::{call, org_id, token};

const PROVINCE_DEPT: &str = "湖南省工业和信息化厅";

async fn login(t: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(t.url("/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn create_province_account(t: &TestApp, admin: &str, username: &str) -> Value {
    let dept = org_id(t, PROVINCE_DEPT).await;
    let (status, created) = call(
        t,
        admin,
        "POST",
        "/api/v1/users",
        Some(json!({"username": username, "display_name": "周处长", "org_id": dept, "role": "province"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_administrator_never_holds_a_credential_of_an_account_it_creates() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let created = create_province_account(&t, &admin, "zhou.chu").await;
    // No credential in the answer, and the account waits for activation.
    assert!(
        created.get("initial_password").is_none() && !created.to_string().contains("初始密码"),
        "{created}"
    );
    let user = &created["user"];
    assert_eq!(user["activation_pending"], true);
    assert_eq!(user["active"], false);
    assert_eq!(user["status_label"], "待激活");
    let id = user["id"].as_i64().unwrap();

    // The system administrator can neither enable it nor activate it.
    let (status, body) = call(
        &t,
        &admin,
        "PUT",
        &format!("/api/v1/users/{id}"),
        Some(json!({"display_name": "周处长", "active": true, "version": 1})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("待安全管理员激活"),
        "{body}"
    );
    let (status, _) = call(
        &t,
        &admin,
        "POST",
        &format!("/api/v1/users/{id}/activation"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // Nor can anyone sign in to it meanwhile.
    let (status, _) = login(&t, "zhou.chu", DEMO_PASSWORD).await;
    assert_eq!(status, 401);

    // The security administrator activates it and receives the first password, once.
    let sec = token(&t, "secadmin").await;
    let (status, activated) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{id}/activation"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{activated}");
    assert_eq!(activated["user"]["status_label"], "待修改初始密码");
    let initial = activated["initial_password"].as_str().unwrap().to_string();
    let (status, again) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{id}/activation"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{again}");

    // The person signs in and must first choose a password.
    let (status, session) = login(&t, "zhou.chu", &initial).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["stage"], "change_password");

    // Activation is audited as the security administrator's act.
    let entries = crate::fixtures::audited(&t, "user.activate").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_role, "sec_admin");
    assert!(
        !entries[0].summary.contains(&initial),
        "no secret in the trail"
    );

    // Stopped by the system administrator, it cannot sign in, with the reason in Chinese.
    let (_, current) = call(&t, &admin, "GET", &format!("/api/v1/users/{id}"), None).await;
    let (status, _) = call(
        &t,
        &admin,
        "PUT",
        &format!("/api/v1/users/{id}"),
        Some(json!({"display_name": "周处长", "active": false, "version": current["version"]})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = login(&t, "zhou.chu", &initial).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "账户已停用，请联系系统管理员");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_activations_issue_exactly_one_credential() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let id = create_province_account(&t, &admin, "zhou.bing").await["user"]["id"]
        .as_i64()
        .unwrap();
    let sec = token(&t, "secadmin").await;
    let url = t.url(&format!("/api/v1/users/{id}/activation"));
    // Eight requests in flight at once, each on its own task.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (url, sec) = (url.clone(), sec.clone());
        tasks.spawn(async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(sec)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        });
    }
    let results = tasks.join_all().await;
    let ok: Vec<&(u16, Value)> = results.iter().filter(|(s, _)| *s == 200).collect();
    let conflicts = results.iter().filter(|(s, _)| *s == 409).count();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert_eq!(conflicts, 7, "{results:?}");
    let initial = ok[0].1["initial_password"].as_str().unwrap();
    assert_eq!(login(&t, "zhou.bing", initial).await.0, 200);
    assert_eq!(crate::fixtures::audited(&t, "user.activate").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_create_waiting_accounts_and_the_security_administrator_activates_them() {
    let t = support::spawn().await;
    let admin = support::page_login(&t, "sysadmin").await;
    let form = admin
        .get(t.url("/users/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = support::csrf_from(&form);
    let res = admin
        .post(t.url("/users/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "wu.ke"),
            ("display_name", "吴科长"),
            ("role", "partner"),
            ("org_id", &org_id(&t, "湖南省财政厅").await.to_string()),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let page = res.text().await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("账户已创建，待激活"), "{page}");
    assert!(
        !page.contains("id=\"secrets\""),
        "no credential shown: {page}"
    );
    let sec = token(&t, "secadmin").await;
    let (_, list) = call(&t, &sec, "GET", "/api/v1/users?q=wu.ke", None).await;
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["status_label"], "待激活");
    // The system administrator's own page offers no activation, and posting it is refused.
    let shown = admin
        .get(t.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains("待激活") && !shown.contains("activate-user"),
        "{shown}"
    );
    let res = admin
        .post(t.url(&format!("/users/{id}/activate")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Nor may the edit form put it into use or make it an administrator.
    let res = admin
        .post(t.url(&format!("/users/{id}/edit")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("display_name", "吴科长"),
            ("active", "true"),
            ("version", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("待安全管理员激活"));
    let province = crate::fixtures::user_id(&t, "province").await;
    let res = admin
        .post(t.url(&format!("/users/{province}/edit")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("display_name", "产业集聚推进处 李处长"),
            ("role", "sec_admin"),
            ("active", "true"),
            ("version", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("三权分立"));
    let (_, still) = call(&t, &sec, "GET", &format!("/api/v1/users/{province}"), None).await;
    assert_eq!(still["role"], "province");

    // The security administrator activates it on the page and sees the password once.
    let sec_page = support::page_login(&t, "secadmin").await;
    let shown = sec_page
        .get(t.url(&format!("/users/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("id=\"activate-user\""), "{shown}");
    let csrf = support::csrf_from(&shown);
    let res = sec_page
        .post(t.url(&format!("/users/{id}/activate")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let done = res.text().await.unwrap();
    assert!(done.contains("账户已激活"), "{done}");
    let initial = done
        .split("<li><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let (status, session) = login(&t, "wu.ke", &initial).await;
    assert_eq!(
        (status, session["stage"].as_str()),
        (200, Some("change_password"))
    );
}

/// Uploads a small PDF to an application as `tok`; returns the attachment id.
async fn upload_pdf(t: &TestApp, tok: &str, application: i64, purpose: &str) -> i64 {
    let boundary = "jiqunscopesboundary";
    let pdf = b"%PDF-1.7\n% scope\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{purpose}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = reqwest::Client::new()
        .post(t.url(&format!(
            "/api/v1/attachments?owner_type=application&owner_id={application}&purpose={purpose}"
        )))
        .bearer_auth(tok)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    v["id"].as_i64().unwrap()
}

async fn page_status(client: &reqwest::Client, t: &TestApp, path: &str) -> u16 {
    client
        .get(t.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_bureau_reaches_an_application_only_once_it_is_submitted() {
    let t = support::spawn().await;
    let competition = open_call(&t).await;
    let cluster = a_cluster(
        &t,
        "长沙工程机械产业集群促进会",
        "长沙工程机械产业集群",
        "430100",
        "430121",
    )
    .await;
    let applicant = token(&t, "applicant").await;
    let (status, started) = call(
        &t,
        &applicant,
        "POST",
        "/api/v1/applications",
        Some(json!({"competition_id": competition, "cluster_id": cluster})),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let id = started["application"]["id"].as_i64().unwrap();
    let report = upload_pdf(&t, &applicant, id, "report").await;
    upload_pdf(&t, &applicant, id, "pledge").await;
    let (status, saved) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        Some(json!({"form": complete_form("150"), "version": started["application"]["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");

    // A draft: the city bureau finds nothing by id — not the application, its file, or its review.
    let city = token(&t, "changsha").await;
    let city_page = support::page_login(&t, "changsha").await;
    let object_paths = [
        format!("/api/v1/applications/{id}"),
        format!("/api/v1/attachments/{report}"),
    ];
    let page_paths = [
        format!("/applications/{id}"),
        format!("/reviews/{id}"),
        format!("/attachments/{report}"),
    ];
    for path in &object_paths {
        let (status, body) = call(&t, &city, "GET", path, None).await;
        assert_eq!(status, 404, "draft {path}: {body}");
    }
    for path in &page_paths {
        assert_eq!(page_status(&city_page, &t, path).await, 404, "draft {path}");
    }
    // The lead applicant still sees its own draft.
    assert_eq!(
        call(&t, &applicant, "GET", &object_paths[0], None).await.0,
        200
    );

    // Submitted: the same routes open to the city bureau.
    let (status, submitted) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        Some(json!({"version": saved["application"]["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    for path in &object_paths {
        let (status, body) = call(&t, &city, "GET", path, None).await;
        assert_eq!(status, 200, "submitted {path}: {body}");
    }
    for path in &page_paths {
        assert_eq!(
            page_status(&city_page, &t, path).await,
            200,
            "submitted {path}"
        );
    }

    // Returned for revision, it stays in reach with its history.
    let (status, returned) = call(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{id}/return"),
        Some(json!({"comment": "请补充配套说明", "version": submitted["application"]["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{returned}");
    let (status, detail) = call(&t, &city, "GET", &object_paths[0], None).await;
    assert_eq!(status, 200, "{detail}");
}
