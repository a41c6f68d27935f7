//! Audit entries of edits carry the before/after of the changed fields, chained with the entry.

use jiqun::store::entity::audit_entry;
use jiqun_domain::audit::ChainBreak;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

use crate::fixtures::{audited, get_page};
use crate::support::{self, page_login};
use crate::{call, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_shows_before_and_after_and_tampering_with_them_breaks_the_chain() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let (_, own) = call(&t, &applicant, "GET", "/api/v1/organisations", None).await;
    let org = &own[0];
    let id = org["id"].as_i64().unwrap();
    let before_person = org["contact_person"].as_str().unwrap().to_string();
    let edit = json!({"name": org["name"], "kind": "promotion_org", "credit_code": org["credit_code"],
        "city_code": org["city_code"], "county_code": org["county_code"], "contact_person": "刘一",
        "contact_phone": org["contact_phone"], "version": org["version"]});
    let path = format!("/api/v1/organisations/{id}");
    let (status, body) = call(&t, &applicant, "PUT", &path, Some(edit)).await;
    assert_eq!(status, 200, "{body}");

    // The API shows exactly the changed field, nothing of the bookkeeping.
    let auditor = token(&t, "auditor").await;
    let (status, page) = call(&t, &auditor, "GET", "/api/v1/audit?action=org.update", None).await;
    assert_eq!(status, 200);
    let entry = &page["entries"][0];
    assert_eq!(
        entry["changes"],
        json!({"contact_person": {"before": before_person, "after": "刘一"}}),
        "{entry}"
    );
    // Entries that change no fields carry none.
    let (_, page) = call(&t, &auditor, "GET", "/api/v1/audit?action=login", None).await;
    assert!(
        page["entries"][0]
            .get("changes")
            .is_none_or(|c| c.is_null())
    );

    // The audit page shows them, the field by the name a person reads.
    let browser = page_login(&t, "auditor").await;
    let (status, html) = get_page(&browser, &t, "/audit?action=org.update").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("修改前") && html.contains("<td>联系人</td>"),
        "{html}"
    );
    assert!(html.contains(&before_person) && html.contains("刘一"));
    // The export carries them too, as the API gives them.
    let csv = browser
        .get(t.url("/audit/export?action=org.update"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains(",字段变更,"), "{csv}");
    assert!(
        csv.contains("contact_person") && csv.contains("刘一"),
        "{csv}"
    );

    // Old-style entries (no changes) and new ones verify together.
    let n = jiqun::audit::verify(&t.app.db, &t.app.audit_key)
        .await
        .unwrap()
        .unwrap();
    assert!(n > 1);
    let stored = audited(&t, "org.update").await.remove(0);
    let seq = stored.seq;
    for forged in [
        Some(r#"{"contact_person":{"after":"王五","before":"刘一"}}"#.to_string()),
        None,
    ] {
        let mut row: audit_entry::ActiveModel = stored.clone().into();
        row.changes = Set(forged);
        row.update(&t.app.db).await.unwrap();
        let result = jiqun::audit::verify(&t.app.db, &t.app.audit_key)
            .await
            .unwrap();
        assert_eq!(result, Err(ChainBreak::Altered { seq }));
    }
    let mut row: audit_entry::ActiveModel = stored.clone().into();
    row.changes = Set(stored.changes.clone());
    row.update(&t.app.db).await.unwrap();
    assert!(
        jiqun::audit::verify(&t.app.db, &t.app.audit_key)
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_status_change_is_recorded_field_by_field() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let (_, users) = call(&t, &admin, "GET", "/api/v1/users?q=applicant2", None).await;
    let u = &users[0];
    let id = u["id"].as_i64().unwrap();
    let body = json!({"display_name": u["display_name"], "phone": u["phone"], "email": u["email"],
        "active": false, "version": u["version"]});
    let (status, answer) = call(
        &t,
        &admin,
        "PUT",
        &format!("/api/v1/users/{id}"),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let entry = audited(&t, "user.update").await.remove(0);
    let changes: serde_json::Value =
        serde_json::from_str(entry.changes.as_deref().unwrap()).unwrap();
    assert_eq!(changes, json!({"active": {"before": true, "after": false}}));
}
