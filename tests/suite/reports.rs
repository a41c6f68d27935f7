//! Development reports (第十三条): obligations from a cluster's titles and the working-day
//! calendar, a report from draft to acceptance through the city bureau and the province with a
//! return in between, the scopes, the files, and reminders and overdue notices sent once each on
//! the test clock.

use jiqun::services::reports;
use jiqun::store::entity::{mail_outbox, notification, report, user};
use jiqun::store::id::ClusterId;
use jiqun_domain::round::Designation;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::macros::date;

use crate::attachments::post_file;
use crate::fixtures::{
    CHANGSHA, YUEYANG, ZHUZHOU, audited, error_message, forward_to, get_page, post_page, set_day,
    showcase, user_id,
};
use crate::support::{self, TestApp};
use crate::{call, token};

pub(crate) use crate::support::designate;

fn periods(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["cluster_name"].as_str().unwrap(),
                o["title"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

fn find<'a>(list: &'a Value, cluster: &str, title: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|o| o["cluster_name"] == cluster && o["title"] == title)
        .unwrap_or_else(|| panic!("no obligation {cluster} {title} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obligations_follow_the_titles_held_and_the_calendar() {
    let t = support::spawn().await;
    showcase(&t).await;
    set_day(&t, date!(2025 - 02 - 03));
    // 长沙: 培育对象 since 4 December 2023 — held on 31 December 2023 and onwards.
    designate(
        &t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2023 - 12 - 04),
        None,
    )
    .await;
    // 株洲: 培育对象 from 1 March 2024, revoked on 31 December 2024 — not held that day.
    designate(
        &t,
        ZHUZHOU,
        Designation::CultivationTarget,
        date!(2024 - 03 - 01),
        Some((true, date!(2024 - 12 - 31))),
    )
    .await;
    // 岳阳: certified on 1 July 2024 — not held on 30 June.
    designate(
        &t,
        YUEYANG,
        Designation::Certified,
        date!(2024 - 07 - 01),
        None,
    )
    .await;

    let province = token(&t, "province").await;
    let (status, all) = call(&t, &province, "GET", "/api/v1/reports/obligations", None).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        periods(&all),
        [
            "岳阳石化产业集群 2024年度发展情况报告",
            "株洲轨道交通装备产业集群 2024年半年度发展情况报告",
            "长沙工程机械产业集群 2023年度发展情况报告",
            "长沙工程机械产业集群 2024年半年度发展情况报告",
            "长沙工程机械产业集群 2024年度发展情况报告",
        ]
    );
    // 2025-01-31 falls in 春节: the 2024 annual report is due on 5 February, not yet overdue.
    let y2024 = find(&all, CHANGSHA, "2024年度发展情况报告");
    assert_eq!(y2024["nominal_due"], "2025-01-31");
    assert_eq!(y2024["due"], "2025-02-05");
    assert_eq!(y2024["due_zh"], "2025年2月5日");
    assert_eq!(y2024["days_left"], 2);
    assert_eq!(y2024["overdue"], false);
    assert_eq!(y2024["status"], "not_started");
    let h2024 = find(&all, CHANGSHA, "2024年半年度发展情况报告");
    assert_eq!(h2024["due"], "2024-07-31");
    assert_eq!(h2024["overdue"], true);

    // Scopes: the applicant its own cluster, each city bureau its city.
    let applicant = token(&t, "applicant").await;
    let (_, own) = call(&t, &applicant, "GET", "/api/v1/reports/obligations", None).await;
    assert!(
        periods(&own).iter().all(|p| p.starts_with(CHANGSHA)),
        "{own}"
    );
    assert_eq!(periods(&own).len(), 3);
    let yueyang = token(&t, "yueyang").await;
    let (_, city) = call(&t, &yueyang, "GET", "/api/v1/reports/obligations", None).await;
    assert_eq!(periods(&city), ["岳阳石化产业集群 2024年度发展情况报告"]);

    // The applicant may start only a report it owes.
    let changsha_id = y2024["cluster_id"].as_i64().unwrap();
    let (status, body) = call(
        &t,
        &applicant,
        "POST",
        "/api/v1/reports",
        Some(json!({"cluster_id": changsha_id, "period_kind": "semi_annual", "period_year": 2023})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(error_message(&body).contains("2023年6月30日"), "{body}");
    let (status, body) = call(
        &t,
        &applicant,
        "POST",
        "/api/v1/reports",
        Some(json!({"cluster_id": changsha_id, "period_kind": "quarterly", "period_year": 2024})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "period_kind");

    // The workbench lists them, each linking to where it is done.
    let page = support::page_login(&t, "applicant").await;
    let (status, html) = get_page(&page, &t, "/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("逾期未报：长沙工程机械产业集群2024年半年度发展情况报告"),
        "{html}"
    );
    assert!(
        html.contains(
            "待提交：长沙工程机械产业集群2024年度发展情况报告（截止日期2025年2月5日，还剩2天）"
        ),
        "{html}"
    );
    let city_page = support::page_login(&t, "changsha").await;
    let (_, html) = get_page(&city_page, &t, "/").await;
    assert!(html.contains("逾期未报的发展情况报告"), "{html}");
}

async fn start_report(
    t: &TestApp,
    tok: &str,
    cluster_id: ClusterId,
    kind: &str,
    year: i32,
) -> Value {
    let (status, v) = call(
        t,
        tok,
        "POST",
        "/api/v1/reports",
        Some(json!({"cluster_id": cluster_id, "period_kind": kind, "period_year": year})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// A complete set of fields for the shipped form.
pub fn complete_fields(revenue: &str) -> Value {
    let form = jiqun_rules::policy::builtin_policies()
        .unwrap()
        .remove(0)
        .reports
        .form
        .unwrap();
    let mut indicators = serde_json::Map::new();
    for i in &form.indicators {
        indicators.insert(i.key.clone(), json!("12"));
    }
    indicators.insert("period_revenue".into(), json!(revenue));
    let mut sections = serde_json::Map::new();
    for s in jiqun_rules::report_form::all_sections(&form) {
        sections.insert(s.key.clone(), json!(format!("{}：按计划推进。", s.name)));
    }
    json!({"indicators": indicators, "sections": sections})
}

fn problem<'a>(view: &'a Value, field: &str) -> &'a Value {
    &view["form"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == field)
        .unwrap_or_else(|| panic!("no field {field}"))["problem"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_goes_from_draft_through_city_and_return_to_acceptance() {
    let t = support::spawn().await;
    showcase(&t).await;
    set_day(&t, date!(2026 - 01 - 10));
    let cid = designate(
        &t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2025 - 07 - 01),
        None,
    )
    .await;
    let applicant = token(&t, "applicant").await;
    let v = start_report(&t, &applicant, cid, "annual", 2025).await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["title"], "2025年度发展情况报告");
    // 31 January 2026 is a Saturday: due Monday 2 February.
    assert_eq!(v["due"], "2026-02-02");
    assert_eq!(v["status"], "draft");
    // Starting again answers with the same draft.
    assert_eq!(
        start_report(&t, &applicant, cid, "annual", 2025).await["id"],
        id
    );

    // A draft keeps everything typed, a malformed number included, with its problem in Chinese.
    let mut fields = complete_fields("三百五十亿");
    fields["sections"]["brand"] = json!("");
    let (status, saved) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        Some(json!({"fields": fields, "version": v["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["fields"]["indicators"]["period_revenue"],
        "三百五十亿"
    );
    assert_eq!(
        problem(&saved, "indicators.period_revenue"),
        "“本期集群营业收入”请填写数字"
    );
    assert_eq!(problem(&saved, "sections.brand"), "请填写“品牌”");
    assert_eq!(saved["complete"], false);

    // The city bureau sees the period as not yet reported while it is a draft.
    let changsha = token(&t, "changsha").await;
    let (_, city) = call(&t, &changsha, "GET", "/api/v1/reports/obligations", None).await;
    let owed = find(&city, CHANGSHA, "2025年度发展情况报告");
    assert_eq!(owed["status"], "not_started", "{owed}");
    assert_eq!(owed["report_id"], Value::Null);

    // Submission checks completeness and names each field.
    let (status, body) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        Some(json!({"version": saved["version"]})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let named: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["indicators.period_revenue", "sections.brand"]);

    // A report attaches its files while it is the cluster's to change.
    let pdf = b"%PDF-1.7\n% report\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    let query = format!("owner_type=report&owner_id={id}&purpose=report");
    let (status, file) = post_file(&t, &applicant, &query, "2025年度发展情况报告.pdf", pdf).await;
    assert_eq!(status, 200, "{file}");

    let (_, saved) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        Some(json!({"fields": complete_fields("356.2"), "version": saved["version"]})),
    )
    .await;
    assert_eq!(saved["complete"], true, "{saved}");
    let (status, submitted) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        Some(json!({"version": saved["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(
        submitted["attachments"][0]["file_name"],
        "2025年度发展情况报告.pdf"
    );
    // Files are frozen once submitted.
    let (status, _) = post_file(&t, &applicant, &query, "补充.pdf", pdf).await;
    assert_eq!(status, 409);

    // Another city and another applicant see nothing of it.
    let yueyang = token(&t, "yueyang").await;
    let applicant2 = token(&t, "applicant2").await;
    for tok in [&yueyang, &applicant2] {
        let (status, _) = call(&t, tok, "GET", &format!("/api/v1/reports/{id}"), None).await;
        assert_eq!(status, 404);
        let (_, list) = call(&t, tok, "GET", "/api/v1/reports", None).await;
        assert_eq!(list, json!([]));
    }
    let (status, _) = call(
        &t,
        &yueyang,
        "POST",
        &format!("/api/v1/reports/{id}/forward"),
        Some(json!({"opinion": "同意", "version": submitted["version"]})),
    )
    .await;
    assert_eq!(status, 404);
    // The applicant cannot decide for the city, nor the province before the city.
    let (status, _) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/forward"),
        Some(json!({"opinion": "同意", "version": submitted["version"]})),
    )
    .await;
    assert_eq!(status, 403);
    let province = token(&t, "province").await;
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/reports/{id}/accept"),
        Some(json!({"version": submitted["version"]})),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // The city bureau of the cluster's city: an opinion is required.
    let (status, body) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/reports/{id}/forward"),
        Some(json!({"opinion": "  ", "version": submitted["version"]})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "opinion");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "请填写市州工信局意见"
    );
    let (status, forwarded) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/reports/{id}/forward"),
        Some(json!({"opinion": "情况属实，同意报送。", "version": submitted["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{forwarded}");
    assert_eq!(forwarded["status"], "forwarded");
    assert_eq!(forwarded["city_opinion"], "情况属实，同意报送。");

    // The province returns it with comments; the applicant resubmits.
    let (status, body) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/reports/{id}/return"),
        Some(json!({"comment": "", "version": forwarded["version"]})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, returned) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/reports/{id}/return"),
        Some(json!({"comment": "营业收入与统计快报不一致，请核实。", "version": forwarded["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{returned}");
    assert_eq!(returned["status"], "returned");
    let (_, resaved) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        Some(json!({"fields": complete_fields("342.8"), "version": returned["version"]})),
    )
    .await;
    let (status, resubmitted) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        Some(json!({"version": resaved["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{resubmitted}");
    assert_eq!(resubmitted["revision"], 2);
    // The change between the versions is shown.
    assert_eq!(
        resubmitted["changes"],
        json!([{"label": "本期集群营业收入（亿元）", "before": "356.2", "after": "342.8"}])
    );
    let (_, forwarded) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/reports/{id}/forward"),
        Some(json!({"opinion": "已核实修改。", "version": resubmitted["version"]})),
    )
    .await;
    let (status, accepted) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/reports/{id}/accept"),
        Some(json!({"version": forwarded["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    let steps: Vec<&str> = accepted["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "提交",
            "签署意见并转报",
            "退回修改",
            "提交",
            "签署意见并转报",
            "接收"
        ]
    );

    // Every step is audited.
    for (action, n) in [
        ("report.create", 1),
        ("report.submit", 2),
        ("report.forward", 2),
        ("report.return", 1),
        ("report.accept", 1),
    ] {
        assert_eq!(audited(&t, action).await.len(), n, "{action}");
    }
    // The applicant was told of the return and the acceptance, in-app.
    let applicant_user = user_id(&t, "applicant").await;
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(applicant_user))
        .filter(notification::Column::Link.eq(format!("/reports/{id}")))
        .count(&t.app.db)
        .await
        .unwrap();
    assert_eq!(told, 2);

    // Accepted: nothing more to do for anyone.
    let (status, _) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        Some(json!({"fields": complete_fields("1"), "version": accepted["version"]})),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_keep_what_was_typed_and_carry_each_step() {
    let t = support::spawn().await;
    showcase(&t).await;
    set_day(&t, date!(2026 - 01 - 10));
    let cid = designate(
        &t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2025 - 07 - 01),
        None,
    )
    .await;
    let page = support::page_login(&t, "applicant").await;
    let (status, html) = get_page(&page, &t, "/reports").await;
    assert_eq!(status, 200);
    assert!(html.contains("2025年度发展情况报告"), "{html}");
    assert!(
        html.contains(&format!("id=\"start-{cid}-annual-2025\"")),
        "{html}"
    );
    let csrf = support::csrf_from(&html);
    let res = post_page(
        &page,
        &t,
        "/reports/start",
        &[
            ("_csrf", csrf.clone()),
            ("cluster_id", cid.to_string()),
            ("period_kind", "annual".into()),
            ("period_year", "2025".into()),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let id = report::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let path = format!("/reports/{id}");
    assert_eq!(res.location, path);
    let res = post_page(
        &page,
        &t,
        &path,
        &[
            ("_csrf", csrf.clone()),
            ("version", "1".to_string()),
            ("action", "submit".into()),
            ("acknowledge", "on".into()),
            ("ind.period_revenue", "350万元".into()),
            ("sec.platforms", "新建省级制造业创新中心1家".into()),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("草稿已保存，但还不能提交"),
        "{}",
        res.body
    );
    assert!(res.body.contains("value=\"350万元\""), "{}", res.body);
    assert!(
        res.body
            .contains("“本期集群营业收入”单位应为亿元，请换算后只填写数字"),
        "{}",
        res.body
    );
    assert!(res.body.contains("新建省级制造业创新中心1家"));

    // Submitted through the API, then the city bureau's page asks for its opinion.
    let applicant = token(&t, "applicant").await;
    let (_, v) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/reports/{id}"),
        None,
    )
    .await;
    let (_, saved) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        Some(json!({"fields": complete_fields("356.2"), "version": v["version"]})),
    )
    .await;
    let (status, submitted) = call(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        Some(json!({"version": saved["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    let version = submitted["version"].as_i64().unwrap().to_string();
    let city = support::page_login(&t, "changsha").await;
    let (_, html) = get_page(&city, &t, &path).await;
    assert!(html.contains("id=\"forward-form\""), "{html}");
    let city_csrf = support::csrf_from(&html);
    let res = post_page(
        &city,
        &t,
        &format!("{path}/forward"),
        &[
            ("_csrf", city_csrf.clone()),
            ("text", " ".to_string()),
            ("version", version.clone()),
            ("acknowledge", "on".to_string()),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("请填写市州工信局意见"), "{}", res.body);
    let res = post_page(
        &city,
        &t,
        &format!("{path}/forward"),
        &[
            ("_csrf", city_csrf),
            ("text", "同意报送。".to_string()),
            ("version", version),
            ("acknowledge", "on".to_string()),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let province = support::page_login(&t, "province").await;
    let (_, html) = get_page(&province, &t, "/").await;
    assert!(html.contains("待审核接收发展情况报告"), "{html}");
    let (_, html) = get_page(&province, &t, &path).await;
    assert!(html.contains("id=\"accept-report\""), "{html}");
    assert!(html.contains("同意报送。"));
    // Another city's bureau is refused the page.
    let other = support::page_login(&t, "yueyang").await;
    let (status, _) = get_page(&other, &t, &path).await;
    assert_eq!(status, 404);
}

async fn with_email(t: &TestApp, username: &str) {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut m: user::ActiveModel = u.into();
    m.email = Set(format!("{username}@example.cn"));
    m.update(&t.app.db).await.unwrap();
}

async fn told(t: &TestApp, username: &str, title_part: &str) -> u64 {
    let id = user_id(t, username).await;
    notification::Entity::find()
        .filter(notification::Column::UserId.eq(id))
        .filter(notification::Column::Title.contains(title_part))
        .count(&t.app.db)
        .await
        .unwrap()
}

async fn mailed(t: &TestApp, username: &str) -> u64 {
    mail_outbox::Entity::find()
        .filter(mail_outbox::Column::ToAddress.eq(format!("{username}@example.cn")))
        .count(&t.app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_and_overdue_notices_go_out_once_each() {
    let t = support::spawn().await;
    showcase(&t).await;
    set_day(&t, date!(2026 - 01 - 01));
    // Held on 31 December 2025 only: the 2025 annual report, due Monday 2 February 2026.
    designate(
        &t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2025 - 07 - 01),
        None,
    )
    .await;
    with_email(&t, "applicant").await;
    let app = t.app();
    let tick = || reports::remind_reports(app);

    // 32 days before: nothing yet.
    assert_eq!(tick().await.unwrap(), 0);
    // 30 days before: the reminder, in-app and by e-mail, once — also when two ticks race.
    forward_to(&t, date!(2026 - 01 - 03));
    let (a, b) = tokio::join!(tick(), tick());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(tick().await.unwrap(), 0);
    assert_eq!(told(&t, "applicant", "报送提醒").await, 1);
    assert_eq!(mailed(&t, "applicant").await, 1);
    // 7 days and 1 day before.
    forward_to(&t, date!(2026 - 01 - 27));
    assert_eq!(tick().await.unwrap(), 1);
    forward_to(&t, date!(2026 - 02 - 01));
    assert_eq!(tick().await.unwrap(), 1);
    assert_eq!(tick().await.unwrap(), 0);
    assert_eq!(told(&t, "applicant", "报送提醒").await, 3);
    assert_eq!(mailed(&t, "applicant").await, 3);
    // The due day itself: nothing more.
    forward_to(&t, date!(2026 - 02 - 02));
    assert_eq!(tick().await.unwrap(), 0);
    // The next working day: the cluster and its city bureau, not another city, not the province.
    forward_to(&t, date!(2026 - 02 - 03));
    assert_eq!(tick().await.unwrap(), 1);
    assert_eq!(tick().await.unwrap(), 0);
    assert_eq!(told(&t, "applicant", "逾期未报").await, 1);
    assert_eq!(told(&t, "changsha", "逾期未报").await, 1);
    assert_eq!(told(&t, "yueyang", "逾期未报").await, 0);
    assert_eq!(told(&t, "province", "逾期未报").await, 0);
    // The province after 5 working days (2 February + 5 = Monday 9 February).
    forward_to(&t, date!(2026 - 02 - 06));
    assert_eq!(tick().await.unwrap(), 0);
    forward_to(&t, date!(2026 - 02 - 09));
    assert_eq!(tick().await.unwrap(), 1);
    assert_eq!(tick().await.unwrap(), 0);
    assert_eq!(told(&t, "province", "逾期未报").await, 1);
    assert_eq!(told(&t, "applicant", "逾期未报").await, 1);
    assert_eq!(audited(&t, "report.alert").await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_starts_make_one_report() {
    let t = support::spawn().await;
    showcase(&t).await;
    set_day(&t, date!(2026 - 01 - 10));
    let cid = designate(
        &t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2025 - 07 - 01),
        None,
    )
    .await;
    let applicant = token(&t, "applicant").await;
    let body = json!({"cluster_id": cid, "period_kind": "annual", "period_year": 2025});
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (url, tok, body) = (t.url("/api/v1/reports"), applicant.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(tok)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let (status, v) = task.await.unwrap();
        assert_eq!(status, 200, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(report::Entity::find().count(&t.app.db).await.unwrap(), 1);
    assert_eq!(audited(&t, "report.create").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_reports_at_every_stage_and_one_overdue() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 12 - 07));
    jiqun::demo::seed_for_serve(t.app()).await.unwrap();
    let province = token(&t, "province").await;
    let (_, all) = call(&t, &province, "GET", "/api/v1/reports/obligations", None).await;
    let overdue: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["overdue"] == true)
        .map(|o| {
            format!(
                "{}{}",
                o["cluster_name"].as_str().unwrap(),
                o["title"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(overdue, ["岳阳绿色化工产业集群2026年半年度发展情况报告"]);
    let (_, list) = call(&t, &province, "GET", "/api/v1/reports", None).await;
    let mut statuses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [
            "accepted",
            "accepted",
            "accepted",
            "forwarded",
            "returned",
            "submitted"
        ]
    );
    // The overdue one reaches the cluster and its city bureau, and the province, once.
    assert_eq!(reports::remind_reports(t.app()).await.unwrap(), 2);
    assert_eq!(told(&t, "yueyang", "逾期未报").await, 1);
    assert_eq!(told(&t, "province", "逾期未报").await, 1);
    // One report is flagged for the province, not for its cluster.
    let flagged: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["cluster_name"] == "长沙新能源汽车产业集群" && r["title"] == "2025年度发展情况报告"
        })
        .collect();
    let id = flagged[0]["id"].as_i64().unwrap();
    let (_, v) = call(&t, &province, "GET", &format!("/api/v1/reports/{id}"), None).await;
    assert_eq!(v["flags"][0]["kind"], "year_on_year", "{v}");
    // The workbench of 岳阳's promotion organisation lists the returned and the overdue report.
    let page = support::page_login(&t, "applicant2").await;
    let (_, html) = get_page(&page, &t, "/").await;
    assert!(
        html.contains("待按退回意见修改并重新提交：岳阳绿色化工产业集群2025年度发展情况报告"),
        "{html}"
    );
    assert!(
        html.contains("逾期未报：岳阳绿色化工产业集群2026年半年度发展情况报告"),
        "{html}"
    );
}

/// Starts, fills in and submits a report; returns its view.
async fn filed(
    t: &TestApp,
    tok: &str,
    cluster_id: ClusterId,
    kind: &str,
    year: i32,
    revenue: &str,
) -> Value {
    let v = start_report(t, tok, cluster_id, kind, year).await;
    let id = v["id"].as_i64().unwrap();
    let (status, saved) = call(
        t,
        tok,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        Some(json!({"fields": complete_fields(revenue), "version": v["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let (status, submitted) = call(
        t,
        tok,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        Some(json!({"version": saved["version"]})),
    )
    .await;
    assert_eq!(status, 200, "{submitted}");
    submitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_that_deserve_a_question_are_flagged_for_city_and_province() {
    let t = support::spawn().await;
    showcase(&t).await;
    set_day(&t, date!(2026 - 01 - 10));
    let cid = designate(
        &t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2024 - 07 - 01),
        None,
    )
    .await;
    let applicant = token(&t, "applicant").await;
    filed(&t, &applicant, cid, "annual", 2024, "200").await;
    filed(&t, &applicant, cid, "semi_annual", 2025, "260").await;
    let own = filed(&t, &applicant, cid, "annual", 2025, "90").await;
    let id = own["id"].as_i64().unwrap();
    // The cluster itself is not shown the flags.
    assert_eq!(own["flags"], json!([]));
    let changsha = token(&t, "changsha").await;
    let (_, v) = call(&t, &changsha, "GET", &format!("/api/v1/reports/{id}"), None).await;
    let reasons: Vec<(&str, &str)> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "year_on_year",
                "“本期集群营业收入”90亿元，较上年同期200亿元下降55%，超过±50%的提示幅度"
            ),
            (
                "half_above_annual",
                "“本期集群营业收入”2025年上半年为260亿元，高于全年的90亿元"
            ),
            (
                "threshold_not_met",
                "“本期集群营业收入”90亿元，已不满足第六条门槛：集群营业收入应不低于100亿元"
            ),
        ]
    );
    // The province's page shows them with the reasons.
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, &format!("/reports/{id}")).await;
    assert!(html.contains("id=\"flags\""), "{html}");
    assert!(html.contains("已不满足第六条门槛"), "{html}");
}
