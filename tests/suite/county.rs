//! 第十六条: the county bureau (县（市、区）工信部门) — its scope is its county's clusters (by
//! lead county): it reads their applications and certificates, gives its opinion in the city's
//! 初审, and cannot do what only the city may (recommend, return, reject). The system
//! administrator creates county bureaus and their accounts.

use serde_json::{Value, json};

use crate::applications::{call_json, open_call, started, submit_complete};
use crate::fixtures::{get_page, post_page};
use crate::support::{self, TestApp};
use crate::{call, token};

const COUNTY: &str = "changshaxian";

/// Three submitted applications: 长沙县 (the demo county bureau's), 岳麓区 (its neighbour in
/// 长沙), and one of 岳阳.
async fn three_submitted(t: &TestApp) -> [i64; 3] {
    let call_id = open_call(t).await;
    let mut ids = [0; 3];
    for (i, (who, org, city, county, name)) in [
        (
            "applicant",
            "长沙工程机械产业集群促进会",
            "430100",
            "430121",
            "长沙县智能装备集群",
        ),
        (
            "applicant",
            "长沙工程机械产业集群促进会",
            "430100",
            "430104",
            "岳麓区新材料集群",
        ),
        (
            "applicant2",
            "岳阳石化产业集群促进会",
            "430600",
            "430603",
            "岳阳云溪化工集群",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (id, v) = started(t, call_id, who, org, city, county, name).await;
        submit_complete(t, who, id, v).await;
        ids[i] = id;
    }
    ids
}

fn ids_of(list: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_bureau_sees_its_county_only_and_cannot_decide() {
    let t = support::spawn().await;
    let [own, neighbour, other_city] = three_submitted(&t).await;
    let county = token(&t, COUNTY).await;

    // The list holds its county's application only; the others are "not found" by id.
    let (status, list) = call(&t, &county, "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids_of(&list), vec![own]);
    let (status, _) = call(
        &t,
        &county,
        "GET",
        &format!("/api/v1/applications/{own}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    for id in [neighbour, other_city] {
        let (status, body) = call(
            &t,
            &county,
            "GET",
            &format!("/api/v1/applications/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 404, "{id}: {body}");
    }

    // Its own list of clusters (集群名录) holds the clusters its county leads, on the page.
    let page = support::page_login(&t, COUNTY).await;
    let (_, home) = get_page(&page, &t, "/").await;
    assert!(
        home.contains("data-nav=\"clusters\">集群名录</a>"),
        "{home}"
    );
    let (status, clusters) = get_page(&page, &t, "/clusters").await;
    assert_eq!(status, 200, "{clusters}");
    assert!(clusters.contains("长沙县智能装备集群"), "{clusters}");
    assert!(!clusters.contains("岳麓区新材料集群"), "{clusters}");
    assert!(!clusters.contains("岳阳云溪化工集群"), "{clusters}");
    assert!(!clusters.contains("新建集群"), "{clusters}");

    // Only the city decides the 初审: recommend, return and reject are refused.
    for (path, body) in [
        (
            "/api/v1/applications/recommend".to_string(),
            json!({"ids": [own]}),
        ),
        (
            format!("/api/v1/applications/{own}/return"),
            json!({"comment": "请补充材料"}),
        ),
        (
            format!("/api/v1/applications/{own}/reject"),
            json!({"comment": "不符合条件"}),
        ),
    ] {
        let (status, answer) = call_json(&t, &county, "POST", &path, body).await;
        assert_eq!(status, 403, "{path}: {answer}");
    }

    // Certificates: its county's cluster's, not the neighbour's.
    let day = crate::fixtures::today(&t);
    support::designate(
        &t,
        "长沙县智能装备集群",
        jiqun_domain::round::Designation::CultivationTarget,
        day,
        None,
    )
    .await;
    support::designate(
        &t,
        "岳麓区新材料集群",
        jiqun_domain::round::Designation::CultivationTarget,
        day,
        None,
    )
    .await;
    let (status, certificates) = call(&t, &county, "GET", "/api/v1/certificates", None).await;
    assert_eq!(status, 200, "{certificates}");
    let text = certificates.to_string();
    assert!(text.contains("长沙县智能装备集群"), "{text}");
    assert!(!text.contains("岳麓区新材料集群"), "{text}");
    let (_, city_certificates) = call(
        &t,
        &token(&t, "changsha").await,
        "GET",
        "/api/v1/certificates",
        None,
    )
    .await;
    assert!(city_certificates.to_string().contains("岳麓区新材料集群"));

    // Lists of what hangs off its clusters open to it, cut to its county.
    for path in [
        "/api/v1/reports",
        "/api/v1/revocations",
        "/api/v1/rechecks/due?year=2029",
    ] {
        let (status, body) = call(&t, &county, "GET", path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.to_string().contains("岳麓区"), "{path}: {body}");
    }
    // Not the funding ledger, the nominations or the dashboard: those stay with the city.
    for path in ["/api/v1/funding", "/api/v1/nominations?year=2026"] {
        let (status, _) = call(&t, &county, "GET", path, None).await;
        assert_eq!(status, 403, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_gives_its_opinion_and_the_city_reads_it_at_its_review() {
    let t = support::spawn().await;
    let [own, neighbour, _] = three_submitted(&t).await;
    let county = token(&t, COUNTY).await;
    let page = support::page_login(&t, COUNTY).await;

    // The workbench asks for the opinion; the queue lists its county's application only.
    let (status, home) = get_page(&page, &t, "/").await;
    assert_eq!(status, 200);
    assert!(home.contains("待提出县级意见"), "{home}");
    let (status, queue) = get_page(&page, &t, "/reviews").await;
    assert_eq!(status, 200, "{queue}");
    assert!(queue.contains("长沙县智能装备集群"), "{queue}");
    assert!(!queue.contains("岳麓区新材料集群"), "{queue}");
    assert!(!queue.contains("id=\"bulk-recommend\""), "{queue}");
    let (status, _) = get_page(&page, &t, &format!("/reviews/{neighbour}")).await;
    assert_eq!(status, 404);
    let (status, review) = get_page(&page, &t, &format!("/reviews/{own}")).await;
    assert_eq!(status, 200);
    assert!(review.contains("id=\"county-opinion\""), "{review}");
    assert!(!review.contains("id=\"decision-form\""), "{review}");
    // The application's own page (with its history) opens to it too, read-only.
    let (status, _) = get_page(&page, &t, &format!("/applications/{own}")).await;
    assert_eq!(status, 200);
    let (status, _) = get_page(&page, &t, &format!("/applications/{neighbour}")).await;
    assert_eq!(status, 404);

    // An empty opinion is refused against its field; the neighbour's is out of reach.
    let csrf = support::csrf_from(&review);
    let answer = post_page(
        &page,
        &t,
        &format!("/reviews/{own}/county-opinion"),
        &[("_csrf", csrf.as_str()), ("opinion", "  ")],
    )
    .await;
    assert_eq!(answer.status, 422);
    assert!(answer.body.contains("请填写县级意见"), "{}", answer.body);
    let (status, _) = call_json(
        &t,
        &county,
        "POST",
        &format!("/api/v1/applications/{neighbour}/county-opinions"),
        json!({"opinion": "同意推荐"}),
    )
    .await;
    assert_eq!(status, 404);

    // Given on the page, it is kept, audited and no longer a to-do.
    let opinion = "该集群龙头企业带动作用明显，县里已配套建设产业园，同意推荐。";
    let answer = post_page(
        &page,
        &t,
        &format!("/reviews/{own}/county-opinion"),
        &[("_csrf", csrf.as_str()), ("opinion", opinion)],
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let entries = crate::fixtures::audited(&t, "application.county_opinion").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_role, "county_bureau");
    let (_, home) = get_page(&page, &t, "/").await;
    assert!(!home.contains("待提出县级意见"), "{home}");

    // The city sees it on its review page and in the API, and cannot give one itself.
    let city_page = support::page_login(&t, "changsha").await;
    let (_, city_review) = get_page(&city_page, &t, &format!("/reviews/{own}")).await;
    assert!(
        city_review.contains("id=\"county-opinions\""),
        "{city_review}"
    );
    assert!(city_review.contains(opinion), "{city_review}");
    assert!(city_review.contains("长沙县"), "{city_review}");
    assert!(
        city_review.contains("id=\"decision-form\""),
        "{city_review}"
    );
    let city = token(&t, "changsha").await;
    // The city was told, and the opinion stands in the application's 办理记录 for the offices.
    let (status, told) = call(&t, &city, "GET", "/api/v1/notifications", None).await;
    assert_eq!(status, 200, "{told}");
    assert!(
        told.to_string().contains("县级意见：长沙县智能装备集群"),
        "{told}"
    );
    let (_, city_app) = get_page(&city_page, &t, &format!("/applications/{own}")).await;
    let history = city_app.split("id=\"history\"").nth(1).unwrap();
    assert!(
        history.contains("提出县级意见") && history.contains(opinion),
        "{history}"
    );
    let (status, detail) = call(
        &t,
        &token(&t, "applicant").await,
        "GET",
        &format!("/api/v1/applications/{own}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    assert!(!detail.to_string().contains(opinion), "{detail}");
    let (status, list) = call(
        &t,
        &city,
        "GET",
        &format!("/api/v1/applications/{own}/county-opinions"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["opinion"], opinion, "{list}");
    assert_eq!(list[0]["county_name"], "长沙县", "{list}");
    let (status, _) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{own}/county-opinions"),
        json!({"opinion": "市里的意见"}),
    )
    .await;
    assert_eq!(status, 403);
    // The applicant does not read the advice between departments.
    let (status, mine) = call(
        &t,
        &token(&t, "applicant").await,
        "GET",
        &format!("/api/v1/applications/{own}/county-opinions"),
        None,
    )
    .await;
    assert_eq!((status, mine), (200, json!([])));

    // Once the city has decided, the county's opinion is closed.
    let (status, body) = call_json(
        &t,
        &city,
        "POST",
        &format!("/api/v1/applications/{own}/return"),
        json!({"comment": "请补充县级配套政策文件"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call_json(
        &t,
        &county,
        "POST",
        &format!("/api/v1/applications/{own}/county-opinions"),
        json!({"opinion": "补充意见"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_administrator_creates_a_county_bureau_and_its_account() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let org = |county: &str| {
        json!({"name": "浏阳市工业和信息化局", "kind": "county_bureau", "credit_code": "",
            "city_code": "430100", "county_code": county, "contact_person": "", "contact_phone": ""})
    };
    // A county bureau needs its county, and a county of its city.
    let (status, body) = call_json(&t, &admin, "POST", "/api/v1/organisations", org("")).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        crate::fixtures::field_message(&body, "county_code").contains("请选择所在县"),
        "{body}"
    );
    let (status, body) =
        call_json(&t, &admin, "POST", "/api/v1/organisations", org("430603")).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        crate::fixtures::field_message(&body, "county_code").contains("不属于长沙市"),
        "{body}"
    );
    let (status, created) =
        call_json(&t, &admin, "POST", "/api/v1/organisations", org("430181")).await;
    assert_eq!(status, 200, "{created}");
    let org_id = created["id"].as_i64().unwrap();
    // Its account takes the county role; a county role in a city bureau is refused.
    let (status, user) = call_json(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        json!({"username": "liuyang", "display_name": "浏阳经办人", "org_id": org_id, "role": "county_bureau"}),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["user"]["role"], "county_bureau");
    let city_org = crate::org_id(&t, "长沙市工业和信息化局").await;
    let (status, body) = call_json(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        json!({"username": "wrong.place", "display_name": "错配", "org_id": city_org, "role": "county_bureau"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    // The page offers the kind and the county picker limited by the chosen city.
    let page = support::page_login(&t, "sysadmin").await;
    let (status, form) = get_page(&page, &t, "/orgs/new").await;
    assert_eq!(status, 200);
    assert!(form.contains("value=\"county_bureau\""), "{form}");
    assert!(form.contains("county-picker.js"), "{form}");
}

/// 第十六条: clusters of the policy's 长株潭 grouping carry its tag in the applications list,
/// the API and the city's queue; others do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changzhutan_clusters_are_tagged_from_the_policys_grouping() {
    let t = support::spawn().await;
    let [own, neighbour, other_city] = three_submitted(&t).await;
    let province = token(&t, "province").await;
    let (status, list) = call(&t, &province, "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 200, "{list}");
    let groupings = |id: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["groupings"].clone())
            .unwrap()
    };
    assert_eq!(groupings(own), json!(["长株潭"]));
    assert_eq!(groupings(neighbour), json!(["长株潭"]));
    assert_eq!(groupings(other_city), json!([]));
    let city_page = support::page_login(&t, "changsha").await;
    let (_, queue) = get_page(&city_page, &t, "/reviews?year=all").await;
    assert_eq!(
        queue.matches("data-grouping=\"长株潭\"").count(),
        2,
        "{queue}"
    );
    let yueyang_page = support::page_login(&t, "yueyang").await;
    let (_, queue) = get_page(&yueyang_page, &t, "/reviews?year=all").await;
    assert!(queue.contains("岳阳云溪化工集群"), "{queue}");
    assert!(!queue.contains("data-grouping"), "{queue}");

    // The province's Excel of the list carries the area beside each cluster.
    let province_page = support::page_login(&t, "province").await;
    let res = province_page
        .get(t.url("/applications/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let first = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&first).unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let header = rows.iter().find(|r| r.iter().any(|c| c == "区域")).unwrap();
    let area = header.iter().position(|c| c == "区域").unwrap();
    let area_of = |id: i64| {
        rows.iter()
            .find(|r| r[0] == id.to_string())
            .map(|r| r[area].clone())
            .unwrap()
    };
    assert_eq!(area_of(own), "长株潭");
    assert_eq!(area_of(neighbour), "长株潭");
    assert_eq!(area_of(other_city), "");
}

/// A 2026 call bound to the shipped policy text as `edit` changes it.
async fn call_under(t: &TestApp, edit: impl Fn(&str) -> String) -> jiqun::store::id::CompetitionId {
    use jiqun::store::entity::competition;
    use sea_orm::{ActiveModelTrait, Set};
    let now = t.app.clock.now();
    let (_, text) = jiqun_rules::policy::BUILTIN_POLICY_SOURCES[0];
    competition::ActiveModel {
        year: Set(2026),
        title: Set("2026年湖南省先进制造业集群竞赛".into()),
        policy_id: Set("hunan-2021".into()),
        policy_source: Set(edit(text)),
        submission_deadline: Set(now + time::Duration::days(10)),
        review_deadline: Set(now + time::Duration::days(20)),
        notice_text: Set("各市州工信局：……".into()),
        status: Set(jiqun::store::entity::kinds::CompetitionStatus::Open),
        created_by: Set(crate::fixtures::user_id(t, "province").await),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .expect("competition")
    .id
}

/// Two submitted 长沙 applications in one county-level division.
async fn two_in(t: &TestApp, call_id: jiqun::store::id::CompetitionId, county: &str) -> [i64; 2] {
    let mut ids = [0; 2];
    for (i, name) in ["甲集群", "乙集群"].into_iter().enumerate() {
        let (id, v) = started(
            t,
            call_id,
            "applicant",
            "长沙工程机械产业集群促进会",
            "430100",
            county,
            &format!("{county}{name}"),
        )
        .await;
        submit_complete(t, "applicant", id, v).await;
        ids[i] = id;
    }
    ids
}

async fn recommend(t: &TestApp, ids: &[i64], justification: &str) -> (u16, Value) {
    let city = token(t, "changsha").await;
    call_json(
        t,
        &city,
        "POST",
        "/api/v1/applications/recommend",
        json!({"ids": ids, "cap_justification": justification}),
    )
    .await
}

/// 第十六条 as the shipped policy reads it: the cap counts 县（市）, not 市辖区, and in warn
/// mode a written reason lets the city go over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_counts_counties_and_county_cities_and_warns_at_recommendation() {
    let t = support::spawn().await;
    let call_id = call_under(&t, str::to_string).await;
    // Two in 岳麓区 (a district): no cap, no reason asked.
    let districts = two_in(&t, call_id, "430104").await;
    let (status, body) = recommend(&t, &districts, "").await;
    assert_eq!(status, 200, "{body}");
    // Two in 长沙县 (a county): over the cap, a reason is needed and then recorded.
    let county = two_in(&t, call_id, "430121").await;
    let (status, body) = recommend(&t, &county, "").await;
    assert_eq!(status, 422, "{body}");
    let message = crate::fixtures::field_message(&body, "cap_justification");
    assert!(
        message.contains("长沙县将有2个集群（上限1个）"),
        "{message}"
    );
    let (status, body) = recommend(&t, &county, "两个集群分处产业链上下游").await;
    assert_eq!(status, 200, "{body}");

    // A call bound to a text that caps every division counts the district too.
    let all = call_under(&t, |text| {
        text.replacen("counts = \"counties\"", "counts = \"all\"", 1)
    })
    .await;
    let districts = two_in(&t, all, "430103").await;
    let (status, body) = recommend(&t, &districts, "").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        crate::fixtures::field_message(&body, "cap_justification").contains("天心区"),
        "{body}"
    );
}

/// A policy whose cap blocks refuses the city's recommendation over it, whatever the reason,
/// and recommends nothing of the batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_cap_refuses_the_recommendation_over_it() {
    let t = support::spawn().await;
    let call_id = call_under(&t, |text| {
        text.replacen("mode = \"warn\"", "mode = \"block\"", 1)
    })
    .await;
    let [a, b] = two_in(&t, call_id, "430121").await;
    let (status, body) = recommend(&t, &[a, b], "两个集群分处产业链上下游").await;
    assert_eq!(status, 409, "{body}");
    let message = crate::fixtures::error_message(&body);
    assert!(
        message.contains("长沙县将有2个集群（上限1个）"),
        "{message}"
    );
    let city = token(&t, "changsha").await;
    for id in [a, b] {
        let (_, detail) = call(
            &t,
            &city,
            "GET",
            &format!("/api/v1/applications/{id}"),
            None,
        )
        .await;
        assert_eq!(detail["application"]["status"], "submitted", "{detail}");
    }
    // One alone is within the cap.
    let (status, body) = recommend(&t, &[a], "").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = recommend(&t, &[b], "确有必要").await;
    assert_eq!(status, 409, "{body}");
}
