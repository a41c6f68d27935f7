//! Competition calls, notifications and deadline reminders, and the province's recommended
//! overview with its Excel export.

use jiqun::store::id::{ApplicationId, ClusterId, CompetitionId, OrgId, UserId};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use jiqun::clock::datetime_local_value;
use jiqun::services::competitions::XLSX_HEADERS;
use jiqun::services::notifications;
use jiqun::store::entity::{
    application, audit_entry, cluster, competition, notification, organisation, recommendation,
    user,
};
use jiqun_rules::policy::BUILTIN_POLICY_SOURCES;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::Duration;

use crate::support::{self, TestApp};
use crate::{call, org_id, token};

const BUSINESS_READERS: [&str; 4] = ["applicant", "changsha", "partner", "expert"];

/// A call for `year` whose submission deadline is `days` from now and the review deadline
/// `review_days` from now (Beijing time, minute precision as the form sends it).
pub(crate) fn call_body(t: &TestApp, year: i32, days: i64, review_days: i64) -> Value {
    let now = t.app.clock.now();
    json!({
        "year": year,
        "title": format!("关于组织开展{year}年度湖南省先进制造业集群竞赛的通知"),
        "policy_id": "hunan-2021",
        "submission_deadline": datetime_local_value(now + Duration::days(days)),
        "review_deadline": datetime_local_value(now + Duration::days(review_days)),
        "notice_text": "各市州工业和信息化局：\n现将有关事项通知如下。",
        // The shipped 2021 Measures ended on 2026-04-06: a later call records its 延续执行.
        "override_reason": OVERRIDE_REASON,
        "override_document": OVERRIDE_DOCUMENT,
    })
}

pub(crate) const OVERRIDE_REASON: &str =
    "新的管理办法尚未印发，经厅长办公会研究，竞赛按2021年办法延续执行";
pub(crate) const OVERRIDE_DOCUMENT: &str = "湘工信办〔2026〕99号";

pub(crate) async fn open_call(t: &TestApp, year: i32, days: i64, review_days: i64) -> Value {
    let province = token(t, "province").await;
    let (status, created) = call(
        t,
        &province,
        "POST",
        "/api/v1/competitions",
        Some(call_body(t, year, days, review_days)),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    created
}

pub(crate) fn field_messages(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_string(),
                        f["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn user_id(t: &TestApp, username: &str) -> UserId {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {username}"))
        .id
}

async fn province_todos(t: &TestApp) -> Vec<(String, String, u64)> {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq("province"))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let org = organisation::Entity::find_by_id(u.org_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let p = jiqun::app::Principal {
        user: u,
        org,
        role: jiqun_domain::access::Role::Province,
        client_addr: "test".into(),
    };
    jiqun::services::workbench::call_todos(t.app(), &p)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_opens_a_call_that_every_business_role_reads() {
    let t = support::spawn().await;
    let todo = "发布本年度竞赛通知".to_string();
    let todos = province_todos(&t).await;
    assert!(
        todos.iter().any(|(label, _, _)| *label == todo),
        "{todos:?}"
    );
    let created = open_call(&t, 2027, 30, 40).await;
    let id = created["id"].as_i64().unwrap();
    let todos = province_todos(&t).await;
    assert!(
        !todos.iter().any(|(label, _, _)| *label == todo),
        "{todos:?}"
    );
    assert_eq!(created["status"], "open");
    assert_eq!(created["policy_id"], "hunan-2021");
    assert_eq!(
        created["policy_document_number"],
        "湘工信产业集聚〔2021〕82号"
    );
    assert!(
        created["submission_deadline"]
            .as_str()
            .unwrap()
            .ends_with("+08:00"),
        "{created}"
    );
    // The 2021 Measures ended on 2026-04-06: a warning, not a refusal.
    assert!(
        created["policy_warning"]
            .as_str()
            .unwrap()
            .contains("不在其有效期内"),
        "{created}"
    );

    // The call keeps the exact policy text it was bound to, and the change is audited.
    let stored = competition::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policy_source, BUILTIN_POLICY_SOURCES[0].1);
    let audited = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("competition.create"))
        .filter(audit_entry::Column::ObjectId.eq(id.to_string()))
        .count(&t.app.db)
        .await
        .unwrap();
    assert_eq!(audited, 1);

    for who in BUSINESS_READERS {
        let tok = token(&t, who).await;
        let (status, _) = call(
            &t,
            &tok,
            "POST",
            "/api/v1/competitions",
            Some(call_body(&t, 2028, 30, 40)),
        )
        .await;
        assert_eq!(status, 403, "{who} may not open a call");
        let (status, _) = call(
            &t,
            &tok,
            "POST",
            &format!("/api/v1/competitions/{id}/close"),
            None,
        )
        .await;
        assert_eq!(status, 403, "{who} may not close a call");
        let (status, list) = call(&t, &tok, "GET", "/api/v1/competitions", None).await;
        assert_eq!(status, 200, "{who}");
        assert!(list.as_array().unwrap().iter().any(|c| c["id"] == id));
        let (status, one) =
            call(&t, &tok, "GET", &format!("/api/v1/competitions/{id}"), None).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(one["title"], created["title"]);
    }
    for admin in ["sysadmin", "auditor"] {
        let tok = token(&t, admin).await;
        let (status, _) = call(&t, &tok, "GET", "/api/v1/competitions", None).await;
        assert_eq!(status, 403, "{admin}");
    }
    let (status, _) = call(
        &t,
        &token(&t, "applicant").await,
        "GET",
        "/api/v1/competitions/999999",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, doc) = call(&t, "", "GET", "/api/v1/openapi.json", None).await;
    for path in [
        "/api/v1/competitions/{id}/close",
        "/api/v1/notifications/{id}/read",
        "/api/v1/recommended.xlsx",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_checked_field_by_field() {
    let t = support::spawn().await;
    let province = token(&t, "province").await;
    let cases = [
        (
            "submission deadline in the past",
            {
                let mut b = call_body(&t, 2027, -1, 10);
                b["title"] = json!("过期的通知");
                b
            },
            "submission_deadline",
            "应晚于当前时间",
        ),
        (
            "review before submission",
            call_body(&t, 2027, 10, 5),
            "review_deadline",
            "应晚于申报截止时间",
        ),
        (
            "unknown policy",
            {
                let mut b = call_body(&t, 2027, 10, 20);
                b["policy_id"] = json!("hunan-2031");
                b
            },
            "policy_id",
            "不存在",
        ),
        (
            "no title",
            {
                let mut b = call_body(&t, 2027, 10, 20);
                b["title"] = json!("  ");
                b
            },
            "title",
            "请填写",
        ),
        (
            "year out of range",
            call_body(&t, 2019, 10, 20),
            "year",
            "2021至2100",
        ),
        (
            "not a date and time",
            {
                let mut b = call_body(&t, 2027, 10, 20);
                b["submission_deadline"] = json!("2027-02-30 17:30");
                b
            },
            "submission_deadline",
            "无效",
        ),
        (
            "notice too long",
            {
                let mut b = call_body(&t, 2027, 10, 20);
                b["notice_text"] = json!("字".repeat(20_001));
                b
            },
            "notice_text",
            "20000",
        ),
    ];
    for (what, body, field, expected) in cases {
        let (status, answer) =
            call(&t, &province, "POST", "/api/v1/competitions", Some(body)).await;
        assert_eq!(status, 422, "{what}: {answer}");
        let fields = field_messages(&answer);
        assert!(
            fields
                .iter()
                .any(|(f, m)| f == field && m.contains(expected)),
            "{what}: {answer}"
        );
    }
    // 第七条: one call a year. A second open call for 2027 is refused; 2028 is fine.
    open_call(&t, 2027, 10, 20).await;
    let (status, answer) = call(
        &t,
        &province,
        "POST",
        "/api/v1/competitions",
        Some(call_body(&t, 2027, 12, 22)),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        field_messages(&answer)
            .iter()
            .any(|(f, m)| f == "year" && m.contains("每年组织一次")),
        "{answer}"
    );
    open_call(&t, 2028, 10, 20).await;
    assert_eq!(
        competition::Entity::find().count(&t.app.db).await.unwrap(),
        2,
        "nothing stored for the refused calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_keep_the_bound_policy_text_and_refuse_stale_versions() {
    let t = support::spawn().await;
    let created = open_call(&t, 2027, 30, 40).await;
    let id = created["id"].as_i64().unwrap();
    // The call was bound to the text of its day. Pretend the file shipped today differs: an
    // edit must keep the text the call was bound to.
    let bound = format!(
        "{}\n# 2027年竞赛绑定时的文本\n",
        BUILTIN_POLICY_SOURCES[0].1
    );
    let mut row: competition::ActiveModel = competition::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    row.policy_source = Set(bound.clone());
    row.update(&t.app.db).await.unwrap();

    let province = token(&t, "province").await;
    let mut edit = call_body(&t, 2027, 31, 41);
    edit["title"] = json!("关于组织开展2027年度湖南省先进制造业集群竞赛的通知（更正）");
    edit["version"] = json!(1);
    let path = format!("/api/v1/competitions/{id}");
    let (status, updated) = call(&t, &province, "PUT", &path, Some(edit.clone())).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    assert!(updated["title"].as_str().unwrap().ends_with("（更正）"));
    let stored = competition::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policy_source, bound, "the bound text never changes");

    // Someone else saved first: version 1 is stale.
    let (status, answer) = call(&t, &province, "PUT", &path, Some(edit.clone())).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "stale_version");

    // Closing ends the call; a closed call is not edited or closed again, and it still counts
    // for its year (competition.per_year counts every call of the year).
    let (status, closed) = call(&t, &province, "POST", &format!("{path}/close"), None).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["accepting_submissions"], false);
    let (status, _) = call(&t, &province, "POST", &format!("{path}/close"), None).await;
    assert_eq!(status, 409);
    edit["version"] = closed["version"].clone();
    let (status, _) = call(&t, &province, "PUT", &path, Some(edit)).await;
    assert_eq!(status, 409);
    assert!(
        jiqun::services::competitions::open_call(t.app())
            .await
            .unwrap()
            .is_none()
    );
    let (status, answer) = call(
        &t,
        &province,
        "POST",
        "/api/v1/competitions",
        Some(call_body(&t, 2027, 30, 40)),
    )
    .await;
    assert_eq!(status, 422, "a closed 2027 call still counts: {answer}");
    assert!(
        field_messages(&answer)
            .iter()
            .any(|(f, m)| f == "year" && m.contains("含已关闭的")),
        "{answer}"
    );
    let again = open_call(&t, 2028, 30, 40).await;
    let open = jiqun::services::competitions::open_call(t.app())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(open.id.get()), again["id"].as_i64());
    assert!(jiqun::services::competitions::is_open_for_submission(
        &open,
        t.app.clock.now()
    ));
    assert!(!jiqun::services::competitions::is_open_for_submission(
        &open,
        open.submission_deadline
    ));
    let policy = jiqun::services::competitions::policy_of(&open).unwrap();
    assert_eq!(policy.id(), "hunan-2021");
}

/// Signs in through the login pages (with the authenticator code where needed).
async fn page_login(t: &TestApp, username: &str) -> reqwest::Client {
    support::page_login(t, username).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_shows_chinese_errors_beside_the_fields_and_keeps_the_input() {
    let t = support::spawn().await;
    let client = page_login(&t, "province").await;
    let page = client
        .get(t.url("/competitions/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("type=\"datetime-local\""), "{page}");
    let csrf = support::csrf_from(&page);
    let body = call_body(&t, 2027, 10, 20);
    let s = |k: &str| body[k].as_str().unwrap().to_string();
    let notice = "各市州：\n请于截止前提交。<b>加粗</b>";
    let bad = vec![
        ("_csrf", csrf.clone()),
        ("year", "2027".into()),
        ("title", "".into()),
        ("policy_id", "hunan-2021".into()),
        ("submission_deadline", s("submission_deadline")),
        ("review_deadline", s("submission_deadline")),
        ("notice_text", notice.into()),
        ("version", "0".into()),
        ("override_reason", OVERRIDE_REASON.into()),
        ("override_document", OVERRIDE_DOCUMENT.into()),
    ];
    let res = client
        .post(t.url("/competitions/new"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-error-for=\"title\""), "{html}");
    assert!(html.contains("请填写竞赛通知标题"));
    assert!(html.contains("data-error-for=\"review_deadline\""));
    assert!(html.contains("市州初审截止时间应晚于申报截止时间"));
    assert!(
        html.contains("请于截止前提交。&#60;b&#62;加粗&#60;/b&#62;"),
        "input kept, escaped: {html}"
    );
    assert!(html.contains(&format!("value=\"{}\"", s("submission_deadline"))));

    let mut good = bad.clone();
    good[2].1 = s("title");
    good[5].1 = s("review_deadline");
    let res = client
        .post(t.url("/competitions/new"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/competitions/"), "{location}");
    let html = client
        .get(t.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("竞赛通知已发布"));
    assert!(html.contains("class=\"pre\""));
    assert!(
        html.contains("&#60;b&#62;加粗&#60;/b&#62;") && !html.contains("<b>加粗"),
        "notice text escaped: {html}"
    );
    assert!(html.contains("湘工信产业集聚〔2021〕82号"));
    assert!(html.contains("hunan-2021"));
    assert!(html.contains("id=\"notice-attachments\""));
    assert!(html.contains("id=\"close-competition\""));
    assert!(html.contains("id=\"policy-warning\""));

    // An applicant reads the notice but gets neither the publish button nor the form.
    let applicant = page_login(&t, "applicant").await;
    let list = applicant
        .get(t.url("/competitions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&s("title")));
    assert!(!list.contains("id=\"new-competition\""));
    let shown = applicant.get(t.url(&location)).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    assert!(
        !shown
            .text()
            .await
            .unwrap()
            .contains("id=\"close-competition\"")
    );
    let res = applicant
        .get(t.url("/competitions/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_reach_every_user_of_the_organisation_and_are_marked_read() {
    let t = support::spawn().await;
    let org = org_id(&t, "长沙工程机械产业集群促进会").await;
    let admin = token(&t, "sysadmin").await;
    let (status, second) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        Some(
            json!({"username": "applicant_b", "display_name": "长沙工程机械促进会 王干事",
            "org_id": org, "role": "applicant"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let second_id = UserId::new(second["user"]["id"].as_i64().unwrap());
    // In use once the security administrator has activated it (三权分立).
    let sec = token(&t, "secadmin").await;
    let (status, _) = call(
        &t,
        &sec,
        "POST",
        &format!("/api/v1/users/{second_id}/activation"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let now = t.app.clock.now();
    let sent = notifications::notify_org(
        &t.app.db,
        org,
        "申报已退回修改",
        "请按市州意见修改后重新提交。",
        "/competitions",
        now,
    )
    .await
    .unwrap();
    assert_eq!(sent, 2);
    for u in [user_id(&t, "applicant").await, second_id] {
        let n = notification::Entity::find()
            .filter(notification::Column::UserId.eq(u))
            .count(&t.app.db)
            .await
            .unwrap();
        assert_eq!(n, 1, "user {u}");
    }
    let sent = notifications::notify_city(&t.app.db, "430600", "有新的申报", "", "/reviews", now)
        .await
        .unwrap();
    assert_eq!(sent, 1, "the Yueyang bureau has one account");

    let applicant = token(&t, "applicant").await;
    let (_, count) = call(
        &t,
        &applicant,
        "GET",
        "/api/v1/notifications/unread-count",
        None,
    )
    .await;
    assert_eq!(count["unread"], 1);
    let (status, list) = call(&t, &applicant, "GET", "/api/v1/notifications", None).await;
    assert_eq!(status, 200);
    let item = &list[0];
    assert_eq!(item["title"], "申报已退回修改");
    assert_eq!(item["read"], false);
    let id = item["id"].as_i64().unwrap();

    // The unread one is bold on the page.
    let client = page_login(&t, "applicant").await;
    let html = client
        .get(t.url("/notifications"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(
            "<strong><a href=\"/notifications/{id}/open\">申报已退回修改</a></strong>"
        )),
        "{html}"
    );

    // The workbench leads to it, counted with the frame's own count.
    let unread_todo = "<a href=\"/notifications\">未读通知</a> <span class=\"badge\">1</span>";
    let (_, html) = crate::fixtures::get_page(&client, &t, "/").await;
    assert!(html.contains(unread_todo), "{html}");

    // Somebody else's notification is not found.
    let other = token(&t, "applicant2").await;
    let (status, _) = call(
        &t,
        &other,
        "POST",
        &format!("/api/v1/notifications/{id}/read"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, read) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/notifications/{id}/read"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["read"], true);
    let (_, count) = call(
        &t,
        &applicant,
        "GET",
        "/api/v1/notifications/unread-count",
        None,
    )
    .await;
    assert_eq!(count["unread"], 0);
    let (_, html) = crate::fixtures::get_page(&client, &t, "/").await;
    assert!(!html.contains("未读通知"), "{html}");
    // The other user of the organisation still has theirs unread.
    assert_eq!(
        notifications::unread_count(t.app(), second_id)
            .await
            .unwrap(),
        1
    );
}

pub(crate) async fn insert_cluster(
    t: &TestApp,
    org: OrgId,
    name: &str,
    city: &str,
    county: &str,
) -> ClusterId {
    let now = t.app.clock.now();
    cluster::ActiveModel {
        org_id: Set(org),
        name: Set(name.into()),
        kind: Set("leading".into()),
        industry_code: Set("C35".into()),
        lead_county_code: Set(county.parse().unwrap()),
        city_code: Set(city.parse().unwrap()),
        core_park: Set("长沙经济技术开发区".into()),
        lifecycle: Set(jiqun::store::entity::kinds::Lifecycle::Applicant),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap()
    .id
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_application(
    t: &TestApp,
    competition_id: CompetitionId,
    cluster_id: ClusterId,
    org: OrgId,
    city: &str,
    county: &str,
    status: &str,
    form: Value,
) -> ApplicationId {
    let now = t.app.clock.now();
    let submitted = status != "draft";
    application::ActiveModel {
        competition_id: Set(competition_id),
        cluster_id: Set(cluster_id),
        org_id: Set(org),
        city_code: Set(city.parse().unwrap()),
        county_code: Set(county.parse().unwrap()),
        kind: Set("leading".into()),
        status: Set(jiqun_domain::application::Status::from_key(status).unwrap()),
        form: Set(form.to_string()),
        revision: Set(i32::from(submitted)),
        submitted_at: Set(submitted.then_some(now)),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap()
    .id
}

pub(crate) async fn notifications_with_link(t: &TestApp, username: &str, fragment: &str) -> u64 {
    notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id(t, username).await))
        .filter(notification::Column::Link.contains(fragment))
        .count(&t.app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_reminders_are_sent_once() {
    let t = support::spawn().await;
    let created = open_call(&t, 2027, 10, 20).await;
    let cid = CompetitionId::new(created["id"].as_i64().unwrap());
    let changsha_org = org_id(&t, "长沙工程机械产业集群促进会").await;
    let yueyang_org = org_id(&t, "岳阳石化产业集群促进会").await;
    let c1 = insert_cluster(&t, changsha_org, "长沙工程机械产业集群", "430100", "430121").await;
    let c2 = insert_cluster(&t, yueyang_org, "岳阳石化产业集群", "430600", "430603").await;
    insert_application(
        &t,
        cid,
        c1,
        changsha_org,
        "430100",
        "430121",
        "draft",
        json!({}),
    )
    .await;
    insert_application(
        &t,
        cid,
        c2,
        yueyang_org,
        "430600",
        "430603",
        "submitted",
        json!({}),
    )
    .await;
    let app = t.app();

    // Nothing is due yet.
    assert_eq!(notifications::remind_deadlines(app).await.unwrap(), 0);
    // Two days before the submission deadline: the applicant with a draft, once.
    t.app.clock.advance(Duration::days(8));
    assert_eq!(notifications::remind_deadlines(app).await.unwrap(), 1);
    assert_eq!(notifications::remind_deadlines(app).await.unwrap(), 0);
    assert_eq!(
        notifications_with_link(&t, "applicant", "reminder-submission-3d").await,
        1
    );
    assert_eq!(
        notifications_with_link(&t, "applicant2", "reminder").await,
        0,
        "a submitted application needs no reminder"
    );
    // Half a day before: the one-day reminder, once.
    t.app.clock.advance(Duration::hours(36));
    assert_eq!(notifications::remind_deadlines(app).await.unwrap(), 1);
    assert_eq!(notifications::remind_deadlines(app).await.unwrap(), 0);
    assert_eq!(
        notifications_with_link(&t, "applicant", "reminder-submission-1d").await,
        1
    );
    // Two days before the review deadline: the Yueyang bureau, which has a submitted
    // application waiting; not Changsha.
    t.app.clock.advance(Duration::days(8));
    assert_eq!(notifications::remind_deadlines(app).await.unwrap(), 1);
    assert_eq!(notifications::remind_deadlines(app).await.unwrap(), 0);
    assert_eq!(
        notifications_with_link(&t, "yueyang", "reminder-review-3d").await,
        1
    );
    assert_eq!(notifications_with_link(&t, "changsha", "reminder").await, 0);
    let applicant_total = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id(&t, "applicant").await))
        .count(&t.app.db)
        .await
        .unwrap();
    assert_eq!(applicant_total, 2, "no reminder after the deadline passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recommended_list_exports_to_excel_with_numbers_as_numbers() {
    let t = support::spawn().await;
    let created = open_call(&t, 2027, 10, 20).await;
    let cid = CompetitionId::new(created["id"].as_i64().unwrap());
    let changsha_org = org_id(&t, "长沙工程机械产业集群促进会").await;
    let yueyang_org = org_id(&t, "岳阳石化产业集群促进会").await;
    let c1 = insert_cluster(&t, changsha_org, "长沙工程机械产业集群", "430100", "430121").await;
    let c2 = insert_cluster(&t, yueyang_org, "岳阳石化产业集群", "430600", "430603").await;
    let recommended = insert_application(
        &t,
        cid,
        c1,
        changsha_org,
        "430100",
        "430121",
        "recommended",
        json!({"indicators": {"cluster_revenue": 123.45}}),
    )
    .await;
    // Submitted but not yet recommended: not on the list.
    insert_application(
        &t,
        cid,
        c2,
        yueyang_org,
        "430600",
        "430603",
        "submitted",
        json!({"indicators": {"cluster_revenue": 300}}),
    )
    .await;
    recommendation::ActiveModel {
        application_id: Set(recommended),
        letter_attachment_id: Set(None),
        letter_text: Set("推荐函".into()),
        cap_justification: Set("长沙县为国家级经开区所在地，特此说明".into()),
        recommended_by: Set(user_id(&t, "changsha").await),
        recommended_at: Set(t.app.clock.now()),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();

    let province = token(&t, "province").await;
    let (status, overview) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/recommended?competition_id={cid}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["total"], 1);
    let cities = overview["cities"].as_array().unwrap();
    assert_eq!(cities.len(), 14);
    assert_eq!(cities[0]["city_name"], "长沙市");
    assert_eq!(cities[0]["count"], 1);
    assert_eq!(cities[0]["rows"][0]["cluster_name"], "长沙工程机械产业集群");
    assert_eq!(cities[0]["rows"][0]["kind_label"], "优势产业集群");
    assert!(cities[1..].iter().all(|c| c["count"] == 0));

    // The page lists all 14 cities.
    let res = reqwest::Client::new()
        .get(t.url(&format!("/recommended?competition_id={cid}")))
        .bearer_auth(&province)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert_eq!(html.matches("data-city=").count(), 14);
    assert!(html.contains("长沙工程机械产业集群"));
    assert!(html.contains("123.45"));
    assert!(html.contains("导出Excel"));

    for who in ["applicant", "changsha", "partner"] {
        let tok = token(&t, who).await;
        let (status, _) = call(
            &t,
            &tok,
            "GET",
            &format!("/api/v1/recommended.xlsx?competition_id={cid}"),
            None,
        )
        .await;
        assert_eq!(status, 403, "{who}");
    }

    let res = reqwest::Client::new()
        .get(t.url(&format!("/recommended.xlsx?competition_id={cid}")))
        .bearer_auth(&province)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("filename*=UTF-8''%E6%8E%A8%E8%8D%90%E5%90%8D%E5%8D%95-2027.xlsx"),
        "{disposition}"
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec!["推荐名单", "按市州统计"]);
    let list = book.worksheet_range("推荐名单").unwrap();
    let headers: Vec<String> = (0..XLSX_HEADERS.len() as u32)
        .map(|c| {
            list.get_value((1, c))
                .map(|d| d.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(headers, XLSX_HEADERS);
    assert!(
        list.get_value((0, 0))
            .unwrap()
            .to_string()
            .contains("推荐名单")
    );
    assert_eq!(list.get_value((2, 0)), Some(&Data::Float(1.0)));
    assert_eq!(list.get_value((2, 1)), Some(&Data::String("长沙市".into())));
    assert_eq!(
        list.get_value((2, 2)),
        Some(&Data::String("长沙工程机械产业集群".into()))
    );
    assert_eq!(list.get_value((2, 7)), Some(&Data::Float(123.45)));
    assert!(matches!(list.get_value((2, 8)), Some(Data::DateTime(_))));
    assert!(
        list.get_value((2, 9))
            .unwrap()
            .to_string()
            .contains("特此说明")
    );
    assert!(
        list.get_value((3, 2)).is_none_or(|d| *d == Data::Empty),
        "only the recommended application is listed"
    );

    let per_city = book.worksheet_range("按市州统计").unwrap();
    let count_of = |name: &str| {
        (1..=15u32)
            .find(|r| per_city.get_value((*r, 0)) == Some(&Data::String(name.into())))
            .and_then(|r| per_city.get_value((r, 1)).cloned())
    };
    assert_eq!(count_of("长沙市"), Some(Data::Float(1.0)));
    assert_eq!(count_of("岳阳市"), Some(Data::Float(0.0)));
    assert_eq!(count_of("湘西土家族苗族自治州"), Some(Data::Float(0.0)));
    assert_eq!(count_of("合计"), Some(Data::Float(1.0)));
}
