//! The authorization table: every role against every resource type and action, allowed and
//! denied, through the API and the pages.

use serde_json::json;

use crate::support::{self, TestApp};
use crate::{call, org_id, token};

const ROLES: [&str; 9] = [
    "applicant",
    "changsha",
    "changshaxian",
    "province",
    "partner",
    "expert",
    "sysadmin",
    "secadmin",
    "auditor",
];

struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    body: Option<serde_json::Value>,
    /// Expected status per role, in the order of ROLES.
    expect: [u16; 9],
}

async fn cases(t: &TestApp) -> Vec<Case> {
    let own_applicant = org_id(t, "长沙工程机械产业集群促进会").await;
    let yueyang_applicant = org_id(t, "岳阳石化产业集群促进会").await;
    let admin = token(t, "sysadmin").await;
    let (_, users) = call(t, &admin, "GET", "/api/v1/users", None).await;
    let applicant2 = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "applicant2")
        .and_then(|u| u["id"].as_i64())
        .unwrap();
    let province_user = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "province")
        .and_then(|u| u["id"].as_i64())
        .unwrap();
    // An account the system administrator created, waiting for activation (待激活).
    let province_dept = org_id(t, "湖南省工业和信息化厅").await;
    let (status, waiting) = call(
        t,
        &admin,
        "POST",
        "/api/v1/users",
        Some(json!({"username": "waiting.li", "display_name": "李待", "org_id": province_dept, "role": "province"})),
    )
    .await;
    assert_eq!(status, 200, "{waiting}");
    let waiting = waiting["user"]["id"].as_i64().unwrap();
    let new_org = json!({"name": "测试促进会", "kind": "promotion_org",
        "credit_code": jiqun_domain::credit_code::CreditCode::from_parts('5', '1', "430100", "MTQT0001").unwrap().as_str(),
        "city_code": "430100", "county_code": "430102"});
    let update_own = |version: i32| {
        json!({"name": "长沙工程机械产业集群促进会", "kind": "promotion_org",
            "credit_code": "", "city_code": "430100", "county_code": "430121", "version": version})
    };
    //         applicant changsha changshaxian province partner expert sysadmin secadmin auditor
    vec![
        Case {
            what: "list organisations",
            method: "GET",
            path: "/api/v1/organisations".into(),
            body: None,
            expect: [200, 200, 403, 200, 403, 403, 200, 403, 403],
        },
        Case {
            what: "view own-city applicant",
            method: "GET",
            path: format!("/api/v1/organisations/{own_applicant}"),
            body: None,
            expect: [200, 200, 404, 200, 404, 404, 200, 404, 404],
        },
        Case {
            what: "view other-city applicant",
            method: "GET",
            path: format!("/api/v1/organisations/{yueyang_applicant}"),
            body: None,
            expect: [404, 404, 404, 200, 404, 404, 200, 404, 404],
        },
        Case {
            what: "view a missing organisation",
            method: "GET",
            path: "/api/v1/organisations/999999".into(),
            body: None,
            expect: [404, 404, 404, 404, 404, 404, 404, 404, 404],
        },
        Case {
            what: "create organisation",
            method: "POST",
            path: "/api/v1/organisations".into(),
            body: Some(new_org.clone()),
            // The applicant/city/province are refused before validation; sysadmin creates it.
            expect: [403, 403, 403, 403, 403, 403, 200, 403, 403],
        },
        Case {
            what: "update other-city applicant",
            method: "PUT",
            path: format!("/api/v1/organisations/{yueyang_applicant}"),
            body: Some(update_own(1)),
            expect: [404, 404, 404, 403, 404, 404, 422, 404, 404],
        },
        Case {
            what: "list users",
            method: "GET",
            path: "/api/v1/users".into(),
            body: None,
            expect: [200, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            what: "view another user",
            method: "GET",
            path: format!("/api/v1/users/{applicant2}"),
            body: None,
            expect: [404, 404, 404, 404, 404, 404, 200, 200, 404],
        },
        Case {
            what: "create user",
            method: "POST",
            path: "/api/v1/users".into(),
            body: Some(
                json!({"username": "newbie", "display_name": "新人", "org_id": own_applicant, "role": "applicant"}),
            ),
            expect: [403, 403, 403, 403, 403, 403, 200, 403, 403],
        },
        Case {
            what: "update another user",
            method: "PUT",
            path: format!("/api/v1/users/{applicant2}"),
            body: Some(json!({"display_name": "陈秘书长", "active": true, "version": 1})),
            // Out of scope reads as "not found"; in scope but not permitted is 403.
            expect: [404, 404, 404, 404, 404, 404, 200, 403, 404],
        },
        Case {
            what: "unlock another user",
            method: "POST",
            path: format!("/api/v1/users/{applicant2}/credentials"),
            body: Some(json!({"action": "unlock", "reason": "测试"})),
            expect: [404, 404, 404, 404, 404, 404, 403, 200, 404],
        },
        Case {
            what: "activate a waiting account",
            method: "POST",
            path: format!("/api/v1/users/{waiting}/activation"),
            body: None,
            expect: [404, 404, 404, 404, 404, 404, 403, 200, 404],
        },
        Case {
            what: "enable a waiting account without activation",
            method: "PUT",
            path: format!("/api/v1/users/{waiting}"),
            body: Some(json!({"display_name": "李待", "active": true, "version": 1})),
            expect: [404, 404, 404, 404, 404, 404, 409, 403, 404],
        },
        Case {
            what: "give a business account an administrator role",
            method: "PUT",
            path: format!("/api/v1/users/{province_user}"),
            body: Some(
                json!({"display_name": "省厅", "active": true, "role": "sys_admin", "version": 1}),
            ),
            // The province reaches its own account but may not edit it.
            expect: [404, 404, 404, 403, 404, 404, 422, 403, 404],
        },
        Case {
            what: "read the audit log",
            method: "GET",
            path: "/api/v1/audit".into(),
            body: None,
            expect: [403, 403, 403, 403, 403, 403, 403, 403, 200],
        },
        Case {
            what: "verify the audit log",
            method: "POST",
            path: "/api/v1/audit/verify".into(),
            body: None,
            expect: [403, 403, 403, 403, 403, 403, 403, 403, 200],
        },
        Case {
            what: "list installed policies",
            method: "GET",
            path: "/api/v1/policies".into(),
            body: None,
            expect: [200, 200, 200, 200, 200, 200, 200, 403, 403],
        },
        Case {
            what: "install a policy",
            method: "POST",
            path: "/api/v1/policies".into(),
            body: Some(
                json!({"source": jiqun_rules::policy::BUILTIN_POLICY_SOURCES[0]
                .1
                .replacen("id = \"hunan-2021\"", "id = \"hunan-access\"", 1)}),
            ),
            expect: [403, 403, 403, 403, 403, 403, 200, 403, 403],
        },
        Case {
            what: "no interface edits the audit log",
            method: "DELETE",
            path: "/api/v1/audit".into(),
            body: None,
            expect: [405, 405, 405, 405, 405, 405, 405, 405, 405],
        },
        // 按程序撤销: the province (or the city bureau, for its own clusters) opens, the province
        // decides, the cluster states its case.
        Case {
            what: "list revocation cases",
            method: "GET",
            path: "/api/v1/revocations".into(),
            body: None,
            expect: [200, 200, 200, 200, 403, 403, 403, 403, 403],
        },
        Case {
            what: "open a revocation case",
            method: "POST",
            path: "/api/v1/revocations".into(),
            body: Some(json!({"cluster_id": 999_999, "ground": "fraud", "facts": "事实"})),
            expect: [403, 422, 403, 422, 403, 403, 403, 403, 403],
        },
        Case {
            what: "state a case (陈述申辩)",
            method: "POST",
            path: "/api/v1/revocations/999999/respond".into(),
            body: Some(json!({"statement": "申辩"})),
            expect: [404, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            what: "decide a revocation case",
            method: "POST",
            path: "/api/v1/revocations/999999/decide".into(),
            body: Some(json!({"outcome": "keep", "reasons": "理由"})),
            expect: [403, 403, 403, 404, 403, 403, 403, 403, 403],
        },
        Case {
            what: "list the clusters due for 复核",
            method: "GET",
            path: "/api/v1/rechecks/due?year=2029".into(),
            body: None,
            expect: [200, 200, 200, 200, 403, 403, 403, 403, 403],
        },
        Case {
            what: "read the published revocation decisions",
            method: "GET",
            path: "/api/v1/revocation-decisions".into(),
            body: None,
            expect: [200, 200, 200, 200, 200, 200, 200, 200, 200],
        },
        Case {
            what: "list development reports",
            method: "GET",
            path: "/api/v1/reports".into(),
            body: None,
            expect: [200, 200, 200, 200, 403, 403, 403, 403, 403],
        },
        Case {
            what: "list report obligations",
            method: "GET",
            path: "/api/v1/reports/obligations".into(),
            body: None,
            expect: [200, 200, 200, 200, 403, 403, 403, 403, 403],
        },
        Case {
            what: "start a report for a cluster that is not one's own",
            method: "POST",
            path: "/api/v1/reports".into(),
            body: Some(json!({"cluster_id": 999999, "period_kind": "annual", "period_year": 2025})),
            expect: [404, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            what: "view a missing report",
            method: "GET",
            path: "/api/v1/reports/999999".into(),
            body: None,
            expect: [404, 404, 404, 404, 404, 404, 404, 404, 404],
        },
        Case {
            what: "read the funding ledger",
            method: "GET",
            path: "/api/v1/funding".into(),
            body: None,
            expect: [200, 200, 403, 200, 403, 403, 403, 403, 403],
        },
        Case {
            what: "record an item in the funding ledger",
            method: "POST",
            path: "/api/v1/funding".into(),
            body: Some(
                json!({"cluster_id": "999999", "kind": "project", "year": "2025", "amount": "1"}),
            ),
            expect: [403, 403, 403, 422, 403, 403, 403, 403, 403],
        },
        Case {
            what: "set a year's reward amount",
            method: "PUT",
            path: "/api/v1/funding/rewards".into(),
            body: Some(json!({"year": "2025", "kind": "reward_certified", "amount": "100"})),
            expect: [403, 403, 403, 200, 403, 403, 403, 403, 403],
        },
        Case {
            what: "step a missing ledger entry",
            method: "POST",
            path: "/api/v1/funding/999999/steps".into(),
            body: Some(json!({"step": "issue", "version": 1})),
            expect: [404, 404, 403, 404, 403, 403, 403, 403, 403],
        },
        Case {
            what: "forward a missing report",
            method: "POST",
            path: "/api/v1/reports/999999/forward".into(),
            body: Some(json!({"opinion": "同意", "version": 1})),
            expect: [404, 404, 404, 404, 404, 404, 404, 404, 404],
        },
        // 择优推荐: the province nominates, records the outcome and exports the dossier.
        Case {
            what: "list national nominations",
            method: "GET",
            path: "/api/v1/nominations?year=2026".into(),
            body: None,
            expect: [200, 200, 403, 200, 403, 403, 403, 403, 403],
        },
        Case {
            what: "nominate a missing cluster",
            method: "POST",
            path: "/api/v1/nominations".into(),
            body: Some(
                json!({"cluster_id": 999_999, "year": 2026, "reason": "理由", "document_number": "文号"}),
            ),
            expect: [403, 403, 403, 422, 403, 403, 403, 403, 403],
        },
        Case {
            what: "record the outcome of a missing nomination",
            method: "POST",
            path: "/api/v1/nominations/999999/outcome".into(),
            body: Some(
                json!({"outcome": "selected", "decided_on": "2026-12-20", "document_number": "文号"}),
            ),
            expect: [403, 403, 403, 404, 403, 403, 403, 403, 403],
        },
        Case {
            what: "give a county opinion on a missing application",
            method: "POST",
            path: "/api/v1/applications/999999/county-opinions".into(),
            body: Some(json!({"opinion": "同意推荐"})),
            expect: [403, 403, 404, 403, 403, 403, 403, 403, 403],
        },
        Case {
            what: "export the dossier of a missing nomination",
            method: "GET",
            path: "/api/v1/nominations/999999/dossier".into(),
            body: None,
            expect: [403, 403, 403, 404, 403, 403, 403, 403, 403],
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_against_every_resource_and_action() {
    let mut failures = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        // A fresh server per role, so one role's writes do not change the next role's answers.
        let t = support::spawn().await;
        let tok = token(&t, role).await;
        for case in cases(&t).await {
            let (status, body) = call(&t, &tok, case.method, &case.path, case.body.clone()).await;
            if status != case.expect[i] {
                failures.push(format!(
                    "{role} / {}: expected {}, got {status} {body}",
                    case.what, case.expect[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization table mismatches:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_are_cut_to_the_callers_scope() {
    let t = support::spawn().await;
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, own) = call(
        &t,
        &token(&t, "applicant").await,
        "GET",
        "/api/v1/organisations",
        None,
    )
    .await;
    assert_eq!(names(&own), vec!["长沙工程机械产业集群促进会"]);
    let (_, city) = call(
        &t,
        &token(&t, "changsha").await,
        "GET",
        "/api/v1/organisations",
        None,
    )
    .await;
    let city = names(&city);
    assert!(
        city.contains(&"长沙工程机械产业集群促进会".to_string()),
        "{city:?}"
    );
    assert!(
        !city
            .iter()
            .any(|n| n.contains("岳阳") || n.contains("株洲")),
        "{city:?}"
    );
    let (_, all) = call(
        &t,
        &token(&t, "province").await,
        "GET",
        "/api/v1/organisations",
        None,
    )
    .await;
    assert!(names(&all).len() >= 20);
    let (_, me_only) = call(&t, &token(&t, "expert").await, "GET", "/api/v1/users", None).await;
    assert_eq!(me_only.as_array().unwrap().len(), 1);
    assert_eq!(me_only[0]["username"], "expert");
}

/// The pages obey the same table: what the navigation hides is refused when typed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_refuse_what_the_role_may_not_use() {
    let t = support::spawn().await;
    let yueyang = org_id(&t, "岳阳石化产业集群促进会").await;
    let expectations: [(&str, &str, u16); 19] = [
        ("applicant", "/audit", 403),
        ("applicant", "/users", 403),
        ("applicant", "/orgs/new", 403),
        ("changsha", "/users", 403),
        ("auditor", "/orgs", 403),
        ("auditor", "/audit", 200),
        ("secadmin", "/users", 200),
        ("secadmin", "/users/new", 403),
        ("sysadmin", "/audit", 403),
        ("province", "/orgs", 200),
        ("applicant", "/revocations", 200),
        ("partner", "/revocations", 403),
        ("changsha", "/revocations/new", 200),
        ("applicant", "/revocations/new", 403),
        ("province", "/revocations/new", 200),
        ("changshaxian", "/reviews", 200),
        ("changshaxian", "/dashboard", 403),
        ("changshaxian", "/orgs", 403),
        ("changshaxian", "/revocations/new", 403),
    ];
    for (role, path, expected) in expectations {
        let (status, body) = page_status(&t, role, path).await;
        assert_eq!(status, expected, "{role} {path}");
        if status == 403 {
            assert!(body.contains("无权执行此操作"), "{role} {path}: {body}");
            assert!(
                body.contains("id=\"nav\""),
                "the refused user keeps the navigation: {body}"
            );
        }
    }
    assert_eq!(
        page_status(&t, "changsha", &format!("/orgs/{yueyang}"))
            .await
            .0,
        404
    );
}

async fn page_status(t: &TestApp, role: &str, path: &str) -> (u16, String) {
    let client = support::page_login(t, role).await;
    let res = client.get(t.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}
