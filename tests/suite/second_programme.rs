//! A second real programme under the same code: the national 中小企业特色产业集群
//! (《促进中小企业特色产业集群发展暂行办法》, 工信部企业〔2022〕119号) as the province handles its
//! part. The county's department applies, the province does the 初审 with 实地抽查 and recommends
//! at most the notice's number to the ministry, records the ministry's result; the title is held
//! three years and the yearly figures are owed by 30 April — all from the policy file.

use jiqun::clock::datetime_local_value;
use jiqun_rules::policy::{PROGRAMME_POLICY_SOURCES, Policy, ValueType};
use serde_json::{Value, json};
use time::Duration;
use time::macros::date;

use crate::applications::{a_cluster, call_json};
use crate::fixtures::{audited, error_message, forward_to, set_day};
use crate::support::{self, TestApp};
use crate::{call, token};

const POLICY_ID: &str = "national-sme-2022";
/// 长沙县's department (a demo county bureau) and a promotion organisation of 长沙.
const COUNTY: &str = "changshaxian";
const PROMOTER: &str = "长沙工程机械产业集群促进会";

fn national() -> Policy {
    let (origin, text) = PROGRAMME_POLICY_SOURCES[0];
    Policy::parse(text, origin).unwrap()
}

/// A complete form for the national policy.
fn complete_form() -> Value {
    let policy = national();
    let mut indicators = serde_json::Map::new();
    let mut narratives = serde_json::Map::new();
    for c in &policy.criteria {
        for i in &c.indicators {
            let v = match i.value_type {
                ValueType::Text | ValueType::IndustryCode => "C35",
                ValueType::Percent => "45.5",
                _ => "12",
            };
            indicators.insert(i.key.clone(), json!(v));
        }
        narratives.insert(c.key.clone(), json!(format!("{}的情况说明。", c.name)));
    }
    let attested: Vec<String> = policy
        .eligibility
        .negative_list
        .iter()
        .map(|n| n.key.clone())
        .collect();
    json!({"indicators": indicators, "narratives": narratives, "attested": attested})
}

/// The county uploads the 申报表 the policy requires, through the attachments API.
async fn application_form_file(t: &TestApp, county: &str, application: i64) {
    let pdf = format!("%PDF-1.4\n% 申报表 {application}\n");
    let (status, body) = crate::attachments::post_file(
        t,
        county,
        &format!("owner_type=application&owner_id={application}&purpose=report"),
        "申报表.pdf",
        pdf.as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// The province opens the year's call under the shipped national policy, as offered to a new
/// call.
async fn national_call(t: &TestApp, province: &str) -> i64 {
    let now = t.app.clock.now();
    let (status, created) = call(
        t,
        province,
        "POST",
        "/api/v1/competitions",
        Some(json!({
            "year": 2027,
            "title": "关于组织推荐2027年度中小企业特色产业集群的通知",
            "policy_id": POLICY_ID,
            "submission_deadline": datetime_local_value(now + Duration::days(10)),
            "review_deadline": datetime_local_value(now + Duration::days(20)),
            "notice_text": "各市州、县市区中小企业主管部门：\n现将有关事项通知如下。",
        })),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    created["id"].as_i64().unwrap()
}

/// The county's department starts and submits an application for a cluster of its county.
async fn county_applies(t: &TestApp, county: &str, call_id: i64, name: &str) -> i64 {
    let cl = a_cluster(t, PROMOTER, name, "430100", "430121").await;
    let (status, body) = call_json(
        t,
        county,
        "POST",
        "/api/v1/applications",
        json!({"competition_id": call_id, "cluster_id": cl}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["application"]["id"].as_i64().unwrap();
    let version = body["application"]["version"].as_i64().unwrap();
    application_form_file(t, county, id).await;
    let (status, body) = call_json(
        t,
        county,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form(), "version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let version = body["application"]["version"].as_i64().unwrap();
    let (status, body) = call_json(
        t,
        county,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["application"]["status"], "submitted", "{body}");
    id
}

async fn recommend(t: &TestApp, who: &str, ids: &[i64]) -> (u16, Value) {
    call_json(
        t,
        who,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": ids}),
    )
    .await
}

async fn result_of(t: &TestApp, who: &str, id: i64) -> Value {
    let (status, v) = call(
        t,
        who,
        "GET",
        &format!("/api/v1/applications/{id}/ministry-result"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_programme_runs_from_the_county_to_the_ministrys_title() {
    let t = support::spawn().await;
    // Monday 8 March 2027: the ministry's yearly notice is out.
    set_day(&t, date!(2027 - 03 - 08));
    let mut province = token(&t, "province").await;
    let mut county = token(&t, COUNTY).await;
    let city = token(&t, "changsha").await;
    let applicant = token(&t, "applicant").await;
    let call_id = national_call(&t, &province).await;

    // Who applies is the policy's: the promotion organisation may not, its county's department does.
    let cl = a_cluster(&t, PROMOTER, "长沙县某集群", "430100", "430121").await;
    let (status, _) = call_json(
        &t,
        &applicant,
        "POST",
        "/api/v1/applications",
        json!({"competition_id": call_id, "cluster_id": cl}),
    )
    .await;
    assert_eq!(status, 403, "a promotion organisation does not apply here");
    let ids: Vec<i64> = {
        let mut ids = Vec::new();
        for i in 1..=9 {
            ids.push(
                county_applies(&t, &county, call_id, &format!("长沙县特色产业集群{i}号")).await,
            );
        }
        ids
    };
    // The county reads its own application, draft history included.
    let (status, one) = call(
        &t,
        &county,
        "GET",
        &format!("/api/v1/applications/{}", ids[0]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{one}");

    // No city review step: the city bureau may not recommend, the province does.
    let (status, body) = recommend(&t, &city, &ids[..1]).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        error_message(&body).contains("只有省工信厅可以执行“推荐”"),
        "{body}"
    );

    // The province's 初审 with its 实地抽查 recorded.
    let (status, body) = call_json(
        &t,
        &province,
        "POST",
        &format!("/api/v1/applications/{}/field-checks", ids[0]),
        json!({"checked_on": "2027-03-08", "findings": "实地查看了核心企业生产线，与申报一致。", "passed": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["passed_label"], "抽查情况与申报一致");
    assert_eq!(body[0]["checked_on_zh"], "2027年3月8日");
    let (status, body) = call_json(
        &t,
        &province,
        "POST",
        &format!("/api/v1/applications/{}/field-checks", ids[1]),
        json!({"checked_on": "2027-03-08", "findings": "  ", "passed": true}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    // The county sees the check on its application; the city may not record one.
    let (status, seen) = call(
        &t,
        &county,
        "GET",
        &format!("/api/v1/applications/{}/field-checks", ids[0]),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen.as_array().unwrap().len(), 1);
    let (status, _) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{}/field-checks", ids[1]),
        json!({"checked_on": "2027-03-08", "findings": "看过了", "passed": true}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(audited(&t, "application.field_check").await.len(), 1);

    // Recommendation to the ministry within the notice's number: eight pass, the ninth is refused.
    let (status, body) = recommend(&t, &province, &ids[..8]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 8);
    assert_eq!(body[0]["status_label"], "已推荐至工业和信息化部");
    let (status, body) = recommend(&t, &province, &ids[8..]).await;
    assert_eq!(status, 409, "{body}");
    let message = error_message(&body);
    assert!(message.contains("每省推荐数量不超过8个"), "{message}");
    assert!(message.contains("已推荐8个"), "{message}");
    let (_, ninth) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/applications/{}", ids[8]),
        None,
    )
    .await;
    assert_eq!(
        ninth["application"]["status"], "submitted",
        "nothing written"
    );
    let rec = audited(&t, "application.recommend").await;
    assert_eq!(rec.len(), 8);
    assert!(
        rec[0].summary.contains("推荐至工业和信息化部"),
        "{}",
        rec[0].summary
    );

    // No result before the ministry decides; the county cannot record one.
    assert_eq!(result_of(&t, &county, ids[0]).await, Value::Null);
    let outcome = json!({"outcome": "selected", "decided_on": "2027-11-08", "document_number": "工信部企业函〔2027〕300号"});
    forward_to(&t, date!(2027 - 11 - 08));
    // Sessions do not last months: everyone signs in again.
    (province, county) = (token(&t, "province").await, token(&t, COUNTY).await);
    let path = format!("/api/v1/applications/{}/ministry-result", ids[0]);
    let (status, _) = call_json(&t, &county, "POST", &path, outcome.clone()).await;
    assert_eq!(status, 403);

    // The ministry's result recorded once; the title runs three years from its decision.
    let (status, r) = call_json(&t, &province, "POST", &path, outcome.clone()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["outcome_label"], "认定为中小企业特色产业集群");
    assert_eq!(r["valid_until"], "2030-11-07");
    assert_eq!(r["validity_zh"], "2027年11月8日至2030年11月7日");
    assert_eq!(r["standing_label"], "有效期内");
    assert_eq!(
        r["owed"],
        json!([]),
        "no year has ended under the title yet"
    );
    let (status, again) = call_json(&t, &province, "POST", &path, outcome).await;
    assert_eq!(status, 409, "{again}");
    assert!(error_message(&again).contains("不能重复登记"));
    let (status, r2) = call_json(
        &t,
        &province,
        "POST",
        &format!("/api/v1/applications/{}/ministry-result", ids[1]),
        json!({"outcome": "not_selected", "decided_on": "2027-11-08", "document_number": "工信部企业函〔2027〕300号"}),
    )
    .await;
    assert_eq!(status, 200, "{r2}");
    assert_eq!(r2["outcome_label"], "未获认定");
    assert_eq!(r2["owed"], json!([]));
    // An application never recommended has no result to record.
    let (status, body) = call_json(
        &t,
        &province,
        "POST",
        &format!("/api/v1/applications/{}/ministry-result", ids[8]),
        json!({"outcome": "selected", "decided_on": "2027-11-08", "document_number": "工信部企业函〔2027〕300号"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(audited(&t, "application.ministry_result").await.len(), 2);

    // The yearly figures: 2027's are owed by 30 April 2028, overdue after it.
    forward_to(&t, date!(2028 - 01 - 05));
    county = token(&t, COUNTY).await;
    let r = result_of(&t, &county, ids[0]).await;
    assert_eq!(r["owed"][0]["period"], "2027年度");
    assert_eq!(r["owed"][0]["name"], "年度发展情况");
    assert_eq!(r["owed"][0]["due_zh"], "2028年4月30日");
    assert_eq!(r["owed"][0]["overdue"], false);
    forward_to(&t, date!(2028 - 05 - 02));
    province = token(&t, "province").await;
    let r = result_of(&t, &province, ids[0]).await;
    assert_eq!(r["owed"][0]["overdue"], true);

    // After three years the title has lapsed (the lifecycle rule); the years held are owed.
    forward_to(&t, date!(2030 - 11 - 08));
    province = token(&t, "province").await;
    let r = result_of(&t, &province, ids[0]).await;
    assert_eq!(r["standing"], "lapsed", "{r}");
    assert_eq!(r["standing_label"], "已过有效期");
    let periods: Vec<&str> = r["owed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2027年度", "2028年度", "2029年度"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_recommendations_never_pass_the_notices_number() {
    let t = support::spawn().await;
    set_day(&t, date!(2027 - 03 - 08));
    let province = token(&t, "province").await;
    let county = token(&t, COUNTY).await;
    let call_id = national_call(&t, &province).await;
    let mut ids = Vec::new();
    for i in 1..=10 {
        ids.push(county_applies(&t, &county, call_id, &format!("长沙县并行集群{i}号")).await);
    }
    // Ten single recommendations at once: exactly eight pass, whatever the order.
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let t = t.base.clone();
        let tok = province.clone();
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{t}/api/v1/applications/recommend"))
                .bearer_auth(tok)
                .json(&json!({"ids": [id]}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut passed = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            200 => passed += 1,
            409 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((passed, refused), (8, 2));
    assert_eq!(audited(&t, "application.recommend").await.len(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_programme_counts_its_own_calls_of_the_year() {
    let t = support::spawn().await;
    set_day(&t, date!(2027 - 03 - 08));
    let province = token(&t, "province").await;
    // The provincial competition's 2027 call does not use up the national programme's year …
    let hunan = crate::competitions::open_call(&t, 2027, 10, 20).await;
    national_call(&t, &province).await;
    // The workbench's and the applicant's pages' call stays the provincial competition's, though
    // the national call is newer.
    let open = jiqun::services::competitions::open_call(t.app())
        .await
        .unwrap();
    assert_eq!(open.map(|c| c.id.get()), hunan["id"].as_i64());
    // … but a second national call that year is refused with the policy's own sentence.
    let now = t.app.clock.now();
    let (status, body) = call(
        &t,
        &province,
        "POST",
        "/api/v1/competitions",
        Some(json!({
            "year": 2027,
            "title": "关于组织推荐2027年度中小企业特色产业集群的补充通知",
            "policy_id": POLICY_ID,
            "submission_deadline": datetime_local_value(now + Duration::days(10)),
            "review_deadline": datetime_local_value(now + Duration::days(20)),
            "notice_text": "各有关单位：",
        })),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let year = crate::fixtures::field_message(&body, "year");
    assert!(
        year.contains("工业和信息化部每年发布一次推荐通知"),
        "{year}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_records_the_field_check_and_the_ministrys_result_on_the_page() {
    use crate::fixtures::{get_page, post_page};
    let t = support::spawn().await;
    set_day(&t, date!(2027 - 03 - 08));
    let province = token(&t, "province").await;
    let county = token(&t, COUNTY).await;
    let call_id = national_call(&t, &province).await;
    let id = county_applies(&t, &county, call_id, "长沙县页面集群").await;
    let path = format!("/applications/{id}");

    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"no-field-checks\""), "{html}");
    let csrf = support::csrf_from(&html);
    // A refusal keeps what was typed.
    let refused = post_page(
        &page,
        &t,
        &format!("{path}/field-checks"),
        &[
            ("_csrf", csrf.as_str()),
            ("checked_on", "2027-03-32"),
            ("findings", "产线在建"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("日期“2027-03-32”无效"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("产线在建"));
    let done = post_page(
        &page,
        &t,
        &format!("{path}/field-checks"),
        &[
            ("_csrf", csrf.as_str()),
            ("checked_on", "2027-03-08"),
            ("findings", "产线在建，与申报一致"),
            ("passed", "on"),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, html) = get_page(&page, &t, &path).await;
    assert!(html.contains("id=\"field-checks\""));
    assert!(html.contains("2027年3月8日"));
    assert!(
        !html.contains("id=\"ministry-result-form\""),
        "not recommended yet"
    );

    let (status, body) = recommend(&t, &province, &[id]).await;
    assert_eq!(status, 200, "{body}");
    let (_, html) = get_page(&page, &t, &path).await;
    assert!(html.contains("id=\"ministry-result-form\""));
    assert!(
        !html.contains("id=\"field-check-form\""),
        "the 初审 is over"
    );
    // Without the tick nothing is recorded, and the input is kept.
    let form = |tick: bool| {
        let mut f = vec![
            ("_csrf", csrf.clone()),
            ("outcome", "selected".to_string()),
            ("decided_on", "2027-03-08".to_string()),
            ("document_number", "工信部企业函〔2027〕300号".to_string()),
        ];
        if tick {
            f.push(("acknowledge", "on".to_string()));
        }
        f
    };
    let refused = post_page(&page, &t, &format!("{path}/ministry-result"), &form(false)).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("请勾选“我已核对部里公布的名单和文号”")
    );
    assert!(refused.body.contains("工信部企业函〔2027〕300号"));
    let done = post_page(&page, &t, &format!("{path}/ministry-result"), &form(true)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, html) = get_page(&page, &t, &path).await;
    assert!(html.contains("认定为中小企业特色产业集群"), "{html}");
    assert!(
        html.contains("2027年3月8日至2030年3月7日（有效期内）"),
        "{html}"
    );
    assert!(!html.contains("id=\"ministry-result-form\""));

    // The county's department reads the same panel on its application.
    let county_page = support::page_login(&t, COUNTY).await;
    let (status, html) = get_page(&county_page, &t, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"ministry-result\""));
    assert!(!html.contains("id=\"ministry-result-form\""));
    assert!(
        !html.contains("id=\"ministry-recheck-form\""),
        "the province's"
    );

    // In the term's last year the province records the 复核 result, after ticking.
    forward_to(&t, date!(2029 - 03 - 08));
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, &path).await;
    assert!(html.contains("id=\"ministry-recheck-form\""), "{html}");
    assert!(html.contains("虚假申报或隐瞒违法违规行为（有效期内可随时撤销）"));
    let csrf = support::csrf_from(&html);
    let form = |tick: bool| {
        let mut f = vec![
            ("_csrf", csrf.clone()),
            ("outcome", "revoked".to_string()),
            ("reason", "recheck_failed".to_string()),
            ("decided_on", "2029-03-08".to_string()),
            ("document_number", "工信部企业函〔2029〕66号".to_string()),
        ];
        if tick {
            f.push(("acknowledge", "on".to_string()));
        }
        f
    };
    let refused = post_page(&page, &t, &format!("{path}/ministry-recheck"), &form(false)).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("工信部企业函〔2029〕66号"));
    assert!(audited(&t, "application.ministry_term").await.is_empty());
    let done = post_page(&page, &t, &format!("{path}/ministry-recheck"), &form(true)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (_, html) = get_page(&page, &t, &path).await;
    assert!(html.contains("已撤销（经复核未通过）"), "{html}");
    assert!(html.contains("id=\"ministry-terms\""));
    assert!(!html.contains("id=\"ministry-recheck-form\""));
}

/// A provincial-competition application already with the city (written directly: its own
/// flow has its tests), to show which queue it is in.
async fn provincial_submitted(t: &TestApp, name: &str) -> i64 {
    use jiqun::store::entity::application;
    use sea_orm::{ActiveModelTrait, Set};
    let call = crate::applications::open_call(t).await;
    let cl = a_cluster(t, PROMOTER, name, "430100", "430121").await;
    let now = t.app.clock.now();
    application::ActiveModel {
        competition_id: Set(call),
        cluster_id: Set(cl),
        org_id: Set(crate::org_id(t, PROMOTER).await),
        city_code: Set("430100".parse().unwrap()),
        county_code: Set("430121".parse().unwrap()),
        kind: Set("leading".into()),
        status: Set(jiqun_domain::application::Status::Submitted),
        form: Set("{}".into()),
        revision: Set(1),
        submitted_at: Set(Some(now)),
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
    .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_starts_on_its_list_page_and_the_province_reviews_from_its_queue() {
    use crate::fixtures::{get_page, post_page};
    let t = support::spawn().await;
    set_day(&t, date!(2027 - 03 - 08));
    let province = token(&t, "province").await;
    let county = token(&t, COUNTY).await;
    let call_id = national_call(&t, &province).await;
    let provincial = provincial_submitted(&t, "省级竞赛某集群").await;
    let mine = a_cluster(&t, PROMOTER, "长沙县列表集群", "430100", "430121").await;
    let elsewhere = a_cluster(&t, PROMOTER, "浏阳市某集群", "430100", "430181").await;

    // The county's list page offers the national call for the clusters its county leads.
    let county_page = support::page_login(&t, COUNTY).await;
    let (status, html) = get_page(&county_page, &t, "/applications").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/applications\""), "in the menu");
    assert!(html.contains("id=\"open-call\""), "{html}");
    assert!(html.contains("关于组织推荐2027年度中小企业特色产业集群的通知"));
    assert!(html.contains(&format!("<option value=\"{mine}\">长沙县列表集群")));
    assert!(!html.contains("浏阳市某集群"), "another county's cluster");
    let csrf = support::csrf_from(&html);
    // Another county's cluster is not the county's to start.
    let refused = post_page(
        &county_page,
        &t,
        "/applications/start",
        &[
            ("_csrf", csrf.clone()),
            ("competition_id", call_id.to_string()),
            ("cluster_id", elsewhere.to_string()),
        ],
    )
    .await;
    assert_eq!(refused.status, 404);
    let started = post_page(
        &county_page,
        &t,
        "/applications/start",
        &[
            ("_csrf", csrf.clone()),
            ("competition_id", call_id.to_string()),
            ("cluster_id", mine.to_string()),
        ],
    )
    .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let id: i64 = started
        .location
        .trim_start_matches("/applications/")
        .parse()
        .unwrap();
    // Its draft is on its list, its form page is editable, and its workbench says what is left.
    let (_, html) = get_page(&county_page, &t, "/applications").await;
    assert!(
        html.contains(&format!("href=\"/applications/{id}\"")),
        "{html}"
    );
    assert!(
        !html.contains(&format!("<option value=\"{mine}\">")),
        "started already"
    );
    let (status, html) = get_page(&county_page, &t, &format!("/applications/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"submit-application\""), "{html}");
    let (_, html) = get_page(&county_page, &t, "/").await;
    assert!(html.contains("待提交申报：长沙县列表集群"), "{html}");

    // Completed and submitted (the form's fields are the browser test's), it leaves the to-do.
    let (_, body) = call(
        &t,
        &county,
        "GET",
        &format!("/api/v1/applications/{id}"),
        None,
    )
    .await;
    let version = body["application"]["version"].as_i64().unwrap();
    application_form_file(&t, &county, id).await;
    let (status, body) = call_json(
        &t,
        &county,
        "PUT",
        &format!("/api/v1/applications/{id}"),
        json!({"form": complete_form(), "version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let version = body["application"]["version"].as_i64().unwrap();
    let (status, body) = call_json(
        &t,
        &county,
        "POST",
        &format!("/api/v1/applications/{id}/submit"),
        json!({"version": version}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, html) = get_page(&county_page, &t, "/").await;
    assert!(!html.contains("待提交申报：长沙县列表集群"));

    // The province's queue holds the national application, not the provincial competition's.
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/reviews?year=all").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("长沙县列表集群"), "{html}");
    assert!(!html.contains("省级竞赛某集群"), "the city's to review");
    assert!(
        html.contains("所选申报将一并推荐至工业和信息化部"),
        "{html}"
    );
    let res = page
        .get(t.url("/reviews/export.xlsx?year=all"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the province exports its queue");
    let (_, html) = get_page(&page, &t, "/").await;
    assert!(html.contains("待出具省级初审意见（含实地抽查）"), "{html}");
    assert!(html.contains(&format!("href=\"/reviews/{id}\"")), "{html}");
    // … and the city's queue never shows the national one.
    let city_page = support::page_login(&t, "changsha").await;
    let (_, html) = get_page(&city_page, &t, "/reviews?year=all").await;
    assert!(html.contains("省级竞赛某集群"), "{html}");
    assert!(!html.contains("长沙县列表集群"));
    // The province reads a provincial application without deciding on it.
    let (status, html) = get_page(&page, &t, &format!("/reviews/{provincial}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("id=\"decision\""));

    // The review page decides towards the ministry, the 实地抽查 one click away.
    let path = format!("/reviews/{id}");
    let (status, html) = get_page(&page, &t, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("推荐至工业和信息化部"), "{html}");
    assert!(html.contains("推荐后申报将报送工业和信息化部"));
    assert!(html.contains("上级评审与认定"), "the programme's own steps");
    assert!(!html.contains("市州初审"), "{html}");
    assert!(html.contains(&format!("/applications/{id}#field-check-form")));
    let csrf = support::csrf_from(&html);
    let returned = post_page(
        &page,
        &t,
        &format!("{path}/return"),
        &[("_csrf", csrf.as_str()), ("comment", "  ")],
    )
    .await;
    assert_eq!(returned.status, 422);
    assert!(returned.body.contains("请填写退回修改意见"));

    // Eight others already recommended through the API: the ninth on the page is refused in
    // Chinese, with what was typed kept and nothing written.
    let mut others = Vec::new();
    for i in 1..=8 {
        others.push(county_applies(&t, &county, call_id, &format!("长沙县名额集群{i}号")).await);
    }
    let (status, body) = recommend(&t, &province, &others).await;
    assert_eq!(status, 200, "{body}");
    let refused = post_page(
        &page,
        &t,
        &format!("{path}/recommend"),
        &[
            ("_csrf", csrf.as_str()),
            ("letter", "generated"),
            ("comment", "实地抽查情况良好，建议推荐"),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("每省推荐数量不超过8个"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("实地抽查情况良好，建议推荐"));
    let (_, one) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/applications/{id}"),
        None,
    )
    .await;
    assert_eq!(one["application"]["status"], "submitted");

    // The workbench: eight wait for the ministry's result.
    let (_, html) = get_page(&page, &t, "/").await;
    assert!(html.contains("待登记工业和信息化部认定结果"), "{html}");

    // Returned with a comment, it is the county's to-do again.
    let returned = post_page(
        &page,
        &t,
        &format!("{path}/return"),
        &[("_csrf", csrf.as_str()), ("comment", "请补充核心企业名单")],
    )
    .await;
    assert_eq!(returned.status, 303, "{}", returned.body);
    let (_, html) = get_page(&county_page, &t, "/").await;
    assert!(
        html.contains("待补正申报材料并重新提交：长沙县列表集群"),
        "{html}"
    );
}

// ---------------------------------------------------------------------------------------------
// The title's lifecycle: yearly returns filed as reports, and the close of each term.

const NATIONAL_RETURN: &str = "中小企业特色产业集群2027年度发展情况";

/// Clusters of 长沙县 hold the national title from 8 November 2027 (the ministry's result
/// recorded); each one's application and cluster id.
async fn national_titles(t: &TestApp, names: &[&str]) -> Vec<(i64, i64)> {
    set_day(t, date!(2027 - 03 - 08));
    let province = token(t, "province").await;
    let county = token(t, COUNTY).await;
    let call_id = national_call(t, &province).await;
    let mut ids = Vec::new();
    for name in names {
        ids.push(county_applies(t, &county, call_id, name).await);
    }
    let (status, body) = recommend(t, &province, &ids).await;
    assert_eq!(status, 200, "{body}");
    forward_to(t, date!(2027 - 11 - 08));
    let province = token(t, "province").await;
    let mut out = Vec::new();
    for id in ids {
        let (status, r) = call_json(
            t,
            &province,
            "POST",
            &format!("/api/v1/applications/{id}/ministry-result"),
            json!({"outcome": "selected", "decided_on": "2027-11-08", "document_number": "工信部企业函〔2027〕300号"}),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        let (_, one) = call(
            t,
            &province,
            "GET",
            &format!("/api/v1/applications/{id}"),
            None,
        )
        .await;
        out.push((id, one["application"]["cluster_id"].as_i64().unwrap()));
    }
    out
}

async fn national_title(t: &TestApp, name: &str) -> (i64, i64) {
    national_titles(t, &[name]).await[0]
}

/// The national return's form, filled: every field the policy's `[reports.form]` defines.
fn national_return_fields() -> Value {
    let form = national().reports.form.unwrap();
    let mut indicators = serde_json::Map::new();
    for i in &form.indicators {
        indicators.insert(i.key.clone(), json!("21"));
    }
    indicators.insert("year_revenue".into(), json!("86.5"));
    let mut sections = serde_json::Map::new();
    for s in jiqun_rules::report_form::all_sections(&form) {
        sections.insert(s.key.clone(), json!(format!("{}：稳步推进。", s.name)));
    }
    json!({"indicators": indicators, "sections": sections})
}

fn obligation<'a>(list: &'a Value, cluster_id: i64, policy_id: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|o| o["cluster_id"] == cluster_id && o["policy_id"] == policy_id)
}

async fn ministry_recheck(t: &TestApp, who: &str, id: i64, body: Value) -> (u16, Value) {
    call_json(
        t,
        who,
        "POST",
        &format!("/api/v1/applications/{id}/ministry-recheck"),
        body,
    )
    .await
}

async fn on_national_rung(t: &TestApp, name: &str) -> bool {
    let province = token(t, "province").await;
    let (status, list) = call(t, &province, "GET", "/api/v1/ladder?level=national", None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .any(|r| r["cluster_name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_yearly_return_is_filed_and_received_by_the_province() {
    let t = support::spawn().await;
    let (app_id, cl) = national_title(&t, "长沙县年报集群").await;
    forward_to(&t, date!(2028 - 01 - 05));
    let applicant = token(&t, "applicant").await;
    let province = token(&t, "province").await;
    let city = token(&t, "changsha").await;
    let county = token(&t, COUNTY).await;

    // The cluster's promotion organisation owes the return, due 30 April, on the national form.
    let (status, list) = call(&t, &applicant, "GET", "/api/v1/reports/obligations", None).await;
    assert_eq!(status, 200, "{list}");
    let owed = obligation(&list, cl, POLICY_ID).expect("the national return is owed");
    assert_eq!(owed["title"], NATIONAL_RETURN);
    assert_eq!(owed["programme"], "中小企业特色产业集群");
    assert_eq!(owed["due_zh"], "2028年4月30日");
    assert_eq!(owed["status"], "not_started");
    assert_eq!(owed["overdue"], false);
    assert!(obligation(&list, cl, "").is_none(), "no provincial title");
    // Not a provincial report: the cluster holds no provincial title.
    let (status, body) = call_json(
        &t,
        &applicant,
        "POST",
        "/api/v1/reports",
        json!({"cluster_id": cl, "period_kind": "annual", "period_year": 2027}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, v) = call_json(
        &t,
        &applicant,
        "POST",
        "/api/v1/reports",
        json!({"cluster_id": cl, "policy_id": POLICY_ID, "period_kind": "annual", "period_year": 2027}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["title"], NATIONAL_RETURN);
    assert_eq!(v["due"], "2028-04-30");
    let fields: Vec<&str> = v["form"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"indicators.year_revenue"), "{fields:?}");
    assert!(fields.contains(&"sections.development"), "{fields:?}");
    assert!(
        !fields.contains(&"indicators.period_revenue"),
        "not the provincial form: {fields:?}"
    );

    // Incomplete, it cannot be submitted; complete, it goes straight to the province.
    let (status, body) = call_json(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        json!({"version": v["version"]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, saved) = call_json(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/reports/{id}"),
        json!({"fields": national_return_fields(), "version": v["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["fields"]["indicators"]["year_revenue"], "86.5");
    assert_eq!(saved["complete"], true);
    let (status, sub) = call_json(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        json!({"version": saved["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{sub}");
    assert_eq!(sub["status"], "submitted");
    assert_eq!(sub["status_label"], "已提交，待省工信厅审核");

    // No city step: the city bureau reads it but cannot forward it.
    let (status, seen) = call(&t, &city, "GET", &format!("/api/v1/reports/{id}"), None).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["can_forward"], false);
    let (status, body) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/reports/{id}/forward"),
        json!({"opinion": "同意", "version": sub["version"]}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // The province returns it, the cluster resubmits, the province accepts it.
    let (status, seen) = call(&t, &province, "GET", &format!("/api/v1/reports/{id}"), None).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["can_decide"], true);
    let (status, ret) = call_json(
        &t,
        &province,
        "POST",
        &format!("/api/v1/reports/{id}/return"),
        json!({"comment": "请补充集群服务机构情况", "version": sub["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{ret}");
    assert_eq!(ret["status"], "returned");
    let (status, again) = call_json(
        &t,
        &applicant,
        "POST",
        &format!("/api/v1/reports/{id}/submit"),
        json!({"version": ret["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    let (status, acc) = call_json(
        &t,
        &province,
        "POST",
        &format!("/api/v1/reports/{id}/accept"),
        json!({"comment": "", "version": again["version"]}),
    )
    .await;
    assert_eq!(status, 200, "{acc}");
    assert_eq!(acc["status"], "accepted");
    assert_eq!(audited(&t, "report.accept").await.len(), 1);

    // The application's result shows the return filed.
    let r = result_of(&t, &county, app_id).await;
    assert_eq!(r["owed"][0]["period"], "2027年度");
    assert_eq!(r["owed"][0]["status"], "accepted", "{r}");
    assert_eq!(r["owed"][0]["report_id"], id);
    assert_eq!(r["owed"][0]["overdue"], false);
    let (_, list) = call(&t, &applicant, "GET", "/api/v1/reports/obligations", None).await;
    assert_eq!(
        obligation(&list, cl, POLICY_ID).unwrap()["compliance"],
        "on_time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_both_titles_owes_both_returns_and_overdue_shows() {
    let t = support::spawn().await;
    let name = "长沙县双称号集群";
    let (app_id, cl) = national_title(&t, name).await;
    // The same cluster also holds the provincial 培育对象 title since 2027.
    crate::reports::designate(
        &t,
        name,
        jiqun_domain::round::Designation::CultivationTarget,
        date!(2027 - 06 - 01),
        None,
    )
    .await;
    forward_to(&t, date!(2028 - 03 - 02));
    let applicant = token(&t, "applicant").await;
    let (_, list) = call(&t, &applicant, "GET", "/api/v1/reports/obligations", None).await;
    let provincial = obligation(&list, cl, "").expect("the provincial annual report");
    let national_row = obligation(&list, cl, POLICY_ID).expect("the national return");
    assert_eq!(provincial["period_year"], 2027);
    assert_eq!(national_row["period_year"], 2027);
    assert_ne!(provincial["title"], national_row["title"]);
    // Both started for the same year: two reports.
    let mut ids = Vec::new();
    for policy_id in ["", POLICY_ID] {
        let (status, v) = call_json(
            &t,
            &applicant,
            "POST",
            "/api/v1/reports",
            json!({"cluster_id": cl, "policy_id": policy_id, "period_kind": "annual", "period_year": 2027}),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    assert_ne!(ids[0], ids[1]);
    let (_, list) = call(&t, &applicant, "GET", "/api/v1/reports/obligations", None).await;
    assert_eq!(obligation(&list, cl, "").unwrap()["report_id"], ids[0]);
    assert_eq!(
        obligation(&list, cl, POLICY_ID).unwrap()["report_id"],
        ids[1]
    );

    // The national return not filed by 30 April is overdue on 2 May, for everyone who reads it.
    forward_to(&t, date!(2028 - 05 - 02));
    let applicant = token(&t, "applicant").await;
    let (_, list) = call(&t, &applicant, "GET", "/api/v1/reports/obligations", None).await;
    let row = obligation(&list, cl, POLICY_ID).unwrap();
    assert_eq!(row["overdue"], true, "{row}");
    assert_eq!(row["compliance"], "missing");
    let (_, seen) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/reports/{}", ids[1]),
        None,
    )
    .await;
    assert_eq!(seen["overdue"], true);
    let county = token(&t, COUNTY).await;
    let r = result_of(&t, &county, app_id).await;
    assert_eq!(r["owed"][0]["overdue"], true, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_term_closes_with_the_ministrys_recheck_once() {
    let t = support::spawn().await;
    let titles = national_titles(&t, &["长沙县复核通过集群", "长沙县复核未通过集群"]).await;
    let (passed_id, failed_id) = (titles[0].0, titles[1].0);
    let passed = json!({"outcome": "passed", "decided_on": "2030-09-01", "document_number": "工信部企业函〔2030〕88号"});

    // Before the term's last year a 复核 result cannot be recorded.
    forward_to(&t, date!(2029 - 06 - 01));
    let province = token(&t, "province").await;
    let early = json!({"outcome": "passed", "decided_on": "2029-06-01", "document_number": "工信部企业函〔2029〕1号"});
    let (status, body) = ministry_recheck(&t, &province, passed_id, early).await;
    assert_eq!(status, 409, "{body}");
    assert!(error_message(&body).contains("有效期最后一年"), "{body}");

    forward_to(&t, date!(2030 - 09 - 01));
    let province = token(&t, "province").await;
    let county = token(&t, COUNTY).await;
    // Only the province records it; the ground must be one of the policy's.
    let (status, _) = ministry_recheck(&t, &county, passed_id, passed.clone()).await;
    assert_eq!(status, 403);
    let (status, body) = ministry_recheck(
        &t,
        &province,
        failed_id,
        json!({"outcome": "revoked", "reason": "no_such_ground", "decided_on": "2030-09-01", "document_number": "工信部企业函〔2030〕88号"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        crate::fixtures::field_message(&body, "reason").contains("不在政策列出的理由中"),
        "{body}"
    );

    // Passed: a new term from the decision day, with its own yearly returns later.
    let (status, r) = ministry_recheck(&t, &province, passed_id, passed.clone()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["standing"], "in_force");
    assert_eq!(r["validity_zh"], "2030年9月1日至2033年8月31日");
    assert_eq!(r["terms"].as_array().unwrap().len(), 2);
    assert_eq!(r["terms"][0]["closed"], "passed");
    // Once per term: the same result again is refused (the new term's close is years away).
    let (status, body) = ministry_recheck(&t, &province, passed_id, passed).await;
    assert_eq!(status, 409, "{body}");

    // Failed: revoked, with its ground; the county is told; recorded once.
    let failed = json!({"outcome": "revoked", "reason": "recheck_failed", "decided_on": "2030-09-01", "document_number": "工信部企业函〔2030〕88号"});
    let (status, r) = ministry_recheck(&t, &province, failed_id, failed.clone()).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["standing"], "revoked");
    assert_eq!(r["standing_label"], "已撤销（经复核未通过）");
    assert_eq!(r["revocation_reason"], "recheck_failed");
    let (status, body) = ministry_recheck(&t, &province, failed_id, failed).await;
    assert_eq!(status, 409, "{body}");
    assert!(error_message(&body).contains("已于"), "{body}");
    let entries = audited(&t, "application.ministry_term").await;
    assert_eq!(entries.len(), 2);
    assert!(
        entries[1].summary.contains("经复核未通过"),
        "{}",
        entries[1].summary
    );

    // The ladder: the national rung while the title stands, not after its revocation.
    assert!(on_national_rung(&t, "长沙县复核通过集群").await);
    assert!(!on_national_rung(&t, "长沙县复核未通过集群").await);

    // Years later the renewed title owes the returns of both terms' years.
    forward_to(&t, date!(2031 - 01 - 05));
    let county = token(&t, COUNTY).await;
    let r = result_of(&t, &county, passed_id).await;
    let periods: Vec<&str> = r["owed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2027年度", "2028年度", "2029年度", "2030年度"]);
    let r = result_of(&t, &county, failed_id).await;
    let periods: Vec<&str> = r["owed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["period"].as_str().unwrap())
        .collect();
    assert_eq!(
        periods,
        ["2027年度", "2028年度", "2029年度"],
        "none after the revocation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_for_fraud_may_come_at_any_time_during_the_term() {
    let t = support::spawn().await;
    let name = "长沙县虚假申报集群";
    let (id, _) = national_title(&t, name).await;
    assert!(on_national_rung(&t, name).await, "the title stands");
    forward_to(&t, date!(2028 - 06 - 01));
    let province = token(&t, "province").await;
    // A ground that closes a term is not for the middle of it.
    let (status, body) = ministry_recheck(
        &t,
        &province,
        id,
        json!({"outcome": "revoked", "reason": "recheck_not_applied", "decided_on": "2028-05-20", "document_number": "工信部企业函〔2028〕12号"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    // Missing ground and document: field errors in Chinese, nothing written.
    let (status, body) = ministry_recheck(
        &t,
        &province,
        id,
        json!({"outcome": "revoked", "decided_on": "2028-05-20"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, r) = ministry_recheck(
        &t,
        &province,
        id,
        json!({"outcome": "revoked", "reason": "fraud", "decided_on": "2028-05-20", "document_number": "工信部企业函〔2028〕12号"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["standing"], "revoked");
    assert_eq!(r["revocation_reason_name"], "虚假申报或隐瞒违法违规行为");
    assert_eq!(r["terms"][0]["closed"], "revoked");
    assert!(
        !on_national_rung(&t, name).await,
        "not after the revocation"
    );
    // The county is told.
    let county = token(&t, COUNTY).await;
    let (_, notes) = call(&t, &county, "GET", "/api/v1/notifications", None).await;
    assert!(
        notes.to_string().contains("撤销中小企业特色产业集群认定"),
        "{notes}"
    );
}

/// The notifications `who` has received whose title contains `part`.
async fn told(
    t: &TestApp,
    who: &str,
    part: &str,
) -> Vec<jiqun::store::entity::notification::Model> {
    use jiqun::store::entity::notification;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let p = crate::fixtures::principal(t, who).await;
    notification::Entity::find()
        .filter(notification::Column::UserId.eq(p.user.id))
        .filter(notification::Column::Title.contains(part))
        .all(&t.app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_return_is_reminded_and_escalated_once_without_the_city() {
    use sea_orm::EntityTrait;
    let t = support::spawn().await;
    let name = "长沙县提醒集群";
    let (_, cl) = national_title(&t, name).await;
    // The 2027 return is due Sunday 30 April 2028 (the text does not roll it forward).
    let app = t.app();
    let tick = || jiqun::services::reports::remind_reports(app);
    forward_to(&t, date!(2028 - 03 - 30));
    assert_eq!(tick().await.unwrap(), 0);
    forward_to(&t, date!(2028 - 03 - 31));
    assert_eq!(tick().await.unwrap(), 1);
    assert_eq!(tick().await.unwrap(), 0);
    let reminded = told(&t, "applicant", "报送提醒").await;
    assert_eq!(reminded.len(), 1);
    assert!(reminded[0].title.contains(name), "{:?}", reminded[0]);
    assert!(
        reminded[0].title.contains("中小企业特色产业集群"),
        "{:?}",
        reminded[0]
    );
    assert!(
        reminded[0].body.contains("直接报省工信厅"),
        "{:?}",
        reminded[0]
    );
    forward_to(&t, date!(2028 - 04 - 23));
    assert_eq!(tick().await.unwrap(), 1);
    forward_to(&t, date!(2028 - 04 - 29));
    assert_eq!(tick().await.unwrap(), 1);
    assert_eq!(told(&t, "applicant", "报送提醒").await.len(), 3);

    // Overdue: without 2028's calendar the day cannot be counted, and nothing else is held up.
    forward_to(&t, date!(2028 - 05 - 08));
    assert_eq!(tick().await.unwrap(), 0);
    let sysadmin = crate::fixtures::principal(&t, "sysadmin").await;
    jiqun::services::calendar::import(
        t.app(),
        &sysadmin,
        "[2028]\nholidays = [\n  { name = \"劳动节\", from = 2028-05-01, to = 2028-05-05 },\n]\nworkdays = []\n",
        false,
    )
    .await
    .unwrap();
    // The first working day after the due day (Monday 8 May): the cluster only, no city step.
    assert_eq!(tick().await.unwrap(), 1);
    assert_eq!(tick().await.unwrap(), 0);
    assert_eq!(told(&t, "applicant", "逾期未报").await.len(), 1);
    assert!(told(&t, "changsha", "逾期未报").await.is_empty());
    assert!(told(&t, "province", "逾期未报").await.is_empty());
    // Five working days after the due day (Friday 12 May): the province.
    forward_to(&t, date!(2028 - 05 - 12));
    assert_eq!(tick().await.unwrap(), 1);
    assert_eq!(tick().await.unwrap(), 0);
    assert_eq!(told(&t, "province", "逾期未报").await.len(), 1);
    let alerts = jiqun::store::entity::report_alert::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(alerts.len(), 5);
    assert!(
        alerts
            .iter()
            .all(|a| a.policy_id == POLICY_ID && a.cluster_id.get() == cl)
    );
}
