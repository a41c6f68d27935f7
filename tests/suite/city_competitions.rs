//! 第十六条 分级培育: a city bureau runs its own competition under a city policy — its call, its
//! experts, its 公示 and the city-level title 市级先进制造业集群 — for its own city's clusters only,
//! without a separate city 初审; another city's bureau neither sees nor runs it, the province
//! reads it; and the ladder shows each cluster's rungs and highest title, which moves up with a
//! provincial designation. The city's panel comes from its own expert pool (the provincial pool
//! is the province's), its workbench lists its round's steps, and it exports its round's sheets.

use jiqun::store::entity::{audit_entry, designation, notification};
use jiqun::store::id::{ClusterId, EntryId, RoundId, UserId};
use jiqun_domain::round::Designation;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::Duration;
use time::macros::date;

use crate::applications::{a_cluster, call_json, started, submit_complete};
use crate::fixtures::{
    RoundPlan, application_status, audited, error_message, expert_id, field_message, forward_to,
    get_page, on_round, principal, set_day, set_panel, stored_round,
};
use crate::support::{self, TestApp};
use crate::{call, token};

const CHANGSHA_CLUSTER: &str = "长沙县智能网联汽车集群";
const YUEYANG_CLUSTER: &str = "岳阳云溪新材料集群";
/// 长沙's own pool: (account, name, employer), all working in 长沙.
const CITY_EXPERTS: [(&str, &str, &str); 3] = [
    ("csexpert1", "陈教授", "湖南大学"),
    ("csexpert2", "林研究员", "长沙理工大学"),
    ("csexpert3", "黄高工", "中联重科研究院"),
];

/// An expert account in use at once with the demo password (as the command line creates one).
async fn expert_account(t: &TestApp, username: &str, name: &str) -> i64 {
    let home = crate::org_id(t, "中南大学").await;
    let created = jiqun::services::users::create_account(
        t.app(),
        &jiqun::audit::Actor::console("test"),
        &jiqun::services::users::UserInput {
            username: username.into(),
            display_name: format!("评审专家 {name}"),
            org_id: home,
            role: "expert".into(),
            phone: String::new(),
            email: String::new(),
        },
        false,
        jiqun::services::users::FirstCredential::IssueNow(Some(jiqun::demo::DEMO_PASSWORD.into())),
    )
    .await
    .unwrap();
    // The person has already chosen their password (the first sign-in asks for a new one).
    let id = created.user.id;
    let mut u: jiqun::store::entity::user::ActiveModel =
        jiqun::store::entity::user::Entity::find_by_id(id)
            .one(&t.app.db)
            .await
            .unwrap()
            .unwrap()
            .into();
    u.must_change_password = Set(false);
    u.update(&t.app.db).await.unwrap();
    id.get()
}

/// A city bureau registers an expert into its own pool; answers the entry.
async fn pool_entry(
    t: &TestApp,
    bureau: &str,
    username: &str,
    name: &str,
    employer: &str,
    city: &str,
) -> Value {
    let account = expert_account(t, username, name).await;
    let tok = token(t, bureau).await;
    let (status, e) = call(
        t,
        &tok,
        "POST",
        "/api/v1/experts",
        Some(json!({"user_id": account, "name": name, "city_code": city,
                    "employer": employer, "fields": ["智能制造"]})),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    e
}

/// 长沙's pool of three; answers their ids.
async fn changsha_pool(t: &TestApp) -> Vec<i64> {
    let mut ids = Vec::new();
    for (u, name, employer) in CITY_EXPERTS {
        let e = pool_entry(t, "changsha", u, name, employer, "430100").await;
        assert_eq!(e["pool_label"], "长沙市专家库", "{e}");
        ids.push(e["id"].as_i64().unwrap());
    }
    ids
}

/// The principal's round to-dos that lead to this round: (label, link, count).
async fn round_todos(t: &TestApp, who: &str, round: i64) -> Vec<(String, String, u64)> {
    let p = crate::fixtures::principal(t, who).await;
    jiqun::services::workbench::for_principal(t.app(), &p, 0)
        .await
        .unwrap()
        .todos
        .into_iter()
        .filter(|d| d.href.starts_with(&format!("/rounds/{round}")))
        .map(|d| (d.label, d.href, d.count))
        .collect()
}

/// The system administrator installs the city template; it is offered to new calls.
async fn install_city_template(t: &TestApp) {
    let admin = token(t, "sysadmin").await;
    let (_, text) = jiqun_rules::policy::CITY_TEMPLATE_SOURCE;
    let (status, body) = call(
        t,
        &admin,
        "POST",
        "/api/v1/policies",
        Some(json!({"source": text, "file_name": "city-template.toml"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

fn call_body(t: &TestApp, policy_id: &str) -> Value {
    let now = t.app.clock.now();
    json!({
        "year": 2026,
        "title": "关于组织开展2026年度长沙市先进制造业集群竞赛的通知",
        "policy_id": policy_id,
        "submission_deadline": jiqun::clock::datetime_local_value(now + Duration::days(20)),
        "review_deadline": jiqun::clock::datetime_local_value(now + Duration::days(30)),
        "notice_text": "各区县（市）工业和信息化主管部门：现将有关事项通知如下。",
    })
}

/// 长沙's bureau opens its 2026 city competition; returns its id.
async fn open_city_call(t: &TestApp) -> i64 {
    let changsha = token(t, "changsha").await;
    let (status, body) = call(
        t,
        &changsha,
        "POST",
        "/api/v1/competitions",
        Some(call_body(t, "city-template")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["organiser_level"], "city");
    assert_eq!(body["organiser_city_code"], "430100");
    assert_eq!(body["organiser_label"], "市级（长沙市）");
    body["id"].as_i64().unwrap()
}

async fn ladder_row(t: &TestApp, who: &str, cluster: &str) -> Option<Value> {
    let tok = token(t, who).await;
    let (status, list) = call(
        t,
        &tok,
        "GET",
        &format!("/api/v1/ladder?q={}", urlencode(cluster)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|r| r["cluster_name"] == cluster)
        .cloned()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_runs_its_own_competition_to_a_city_title_and_the_ladder_shows_it() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 12 - 07));
    install_city_template(&t).await;

    // The province cannot open a call under a city text; the city its own only.
    let province = token(&t, "province").await;
    let (status, body) = call(
        &t,
        &province,
        "POST",
        "/api/v1/competitions",
        Some(call_body(&t, "city-template")),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        field_message(&body, "policy_id").contains("只能由市州工信局为本市组织竞赛"),
        "{body}"
    );
    let competition = open_city_call(&t).await;

    // A cluster of 长沙 applies and submits; a cluster of 岳阳 is refused in Chinese.
    let (own, version) = started(
        &t,
        jiqun::store::id::CompetitionId::new(competition),
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        CHANGSHA_CLUSTER,
    )
    .await;
    submit_complete(&t, "applicant", own, version).await;
    let other = a_cluster(
        &t,
        "岳阳石化产业集群促进会",
        YUEYANG_CLUSTER,
        "430600",
        "430603",
    )
    .await;
    let applicant2 = token(&t, "applicant2").await;
    let (status, body) = call_json(
        &t,
        &applicant2,
        "POST",
        "/api/v1/applications",
        json!({"competition_id": competition, "cluster_id": other}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let refusal = field_message(&body, "cluster_id");
    assert!(
        refusal.contains("只接受长沙市的集群申报") && refusal.contains("岳阳市"),
        "{refusal}"
    );

    // No separate city 初审: the city's own review refuses, and the round takes the
    // submitted application straight away.
    let changsha = token(&t, "changsha").await;
    let (status, body) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/applications/{own}/return"),
        Some(json!({"comment": "请补充材料"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(error_message(&body).contains("不另设市州初审"), "{body}");

    // Another city's bureau neither sees nor runs the call; the province reads but does not run it.
    let yueyang = token(&t, "yueyang").await;
    let (status, _) = call(
        &t,
        &yueyang,
        "GET",
        &format!("/api/v1/competitions/{competition}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let plan = RoundPlan {
        opens_in: Duration::days(0),
        closes_in: Duration::days(3),
        ..RoundPlan::new("preliminary", 3, "")
    };
    let (status, _) = call(
        &t,
        &yueyang,
        "POST",
        &format!("/api/v1/competitions/{competition}/rounds"),
        Some(plan.json(&t)),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/competitions/{competition}/rounds"),
        Some(plan.json(&t)),
    )
    .await;
    assert_eq!(status, 403);
    let (status, view) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/competitions/{competition}/rounds"),
        Some(plan.json(&t)),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let round = view["round"]["id"].as_i64().unwrap();
    let entries = view["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{view}");
    assert_eq!(entries[0]["cluster_name"], CHANGSHA_CLUSTER);
    for (who, expected) in [("yueyang", 404), ("province", 200), ("changsha", 200)] {
        let tok = token(&t, who).await;
        let (status, _) = call(&t, &tok, "GET", &format!("/api/v1/rounds/{round}"), None).await;
        assert_eq!(status, expected, "{who}");
    }
    let (status, rounds) = call(&t, &yueyang, "GET", "/api/v1/rounds", None).await;
    assert_eq!(status, 200, "{rounds}");
    assert!(rounds.as_array().unwrap().is_empty(), "{rounds}");

    // Its to-dos name the round's steps, as the province's do; the province is not asked.
    let todos = round_todos(&t, "changsha", round).await;
    assert_eq!(todos.len(), 1, "{todos:?}");
    assert!(
        todos[0].0.starts_with("待组建评审组并开始评分"),
        "{todos:?}"
    );
    assert!(round_todos(&t, "province", round).await.is_empty());
    assert!(round_todos(&t, "yueyang", round).await.is_empty());

    // Its own experts: the city puts its pool on its panel, assigns and opens scoring. The
    // provincial pool is the province's: its experts are refused on the city's panel.
    let provincial = expert_id(&t, "expert").await.get();
    let (status, body) = on_round(
        &t,
        &changsha,
        "PUT",
        round,
        "panel",
        Some(json!({"add": [provincial], "remove": []})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let refusal = field_message(&body, "experts");
    assert!(
        refusal.contains("省级专家库") && refusal.contains("长沙市专家库"),
        "{refusal}"
    );
    let pool = changsha_pool(&t).await;
    // The round's page offers the city's pool for its panel, not the province's.
    let panel_page = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&panel_page, &t, &format!("/rounds/{round}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("陈教授") && html.contains("黄高工"), "{html}");
    assert!(!html.contains("赵教授"), "{html}");
    let (status, _) = on_round(
        &t,
        &yueyang,
        "PUT",
        round,
        "panel",
        Some(json!({"add": pool, "remove": []})),
    )
    .await;
    assert_eq!(status, 404);
    set_panel(&t, &changsha, round, &pool).await;
    // All three work in 长沙, as the cluster does: the city text switches the same-city
    // conflict off, so each of them is assigned.
    let (status, body) = on_round(&t, &changsha, "POST", round, "auto-assign", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 3, "{body}");
    assert!(body["shortfalls"].as_array().unwrap().is_empty(), "{body}");
    let (status, body) = on_round(&t, &changsha, "POST", round, "open-scoring", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        application_status(&t, jiqun::store::id::ApplicationId::new(own)).await,
        "in_review"
    );
    let policy = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
    let scores: serde_json::Map<String, Value> = policy
        .criteria
        .iter()
        .map(|c| (c.key.clone(), json!(f64::from(c.max_score) * 0.9)))
        .collect();
    let todos = round_todos(&t, "changsha", round).await;
    assert_eq!(
        todos,
        vec![(
            "评分进行中（初赛，未完成的评分表）".to_string(),
            format!("/rounds/{round}/progress"),
            3
        )]
    );
    let mut sheets = 0;
    for (u, _, _) in CITY_EXPERTS {
        let tok = token(&t, u).await;
        let (_, mine) = call(&t, &tok, "GET", "/api/v1/scoring", None).await;
        for a in mine.as_array().unwrap() {
            let id = a["assignment_id"].as_i64().unwrap();
            let (status, saved) = call(
                &t,
                &tok,
                "PUT",
                &format!("/api/v1/scoring/{id}"),
                Some(json!({"scores": scores, "comment": "材料翔实。", "version": 0})),
            )
            .await;
            assert_eq!(status, 200, "{saved}");
            let (status, body) = call(
                &t,
                &tok,
                "POST",
                &format!("/api/v1/scoring/{id}/submit"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            sheets += 1;
        }
    }
    assert_eq!(sheets, 3);
    let todos = round_todos(&t, "changsha", round).await;
    assert_eq!(todos.len(), 1, "{todos:?}");
    assert!(todos[0].0.starts_with("待确定拟定名单"), "{todos:?}");
    assert_eq!(todos[0].1, format!("/rounds/{round}/ranking"));

    // Its exports: the city downloads its round's score sheets and ranking (API and pages),
    // audited; another city does not find them.
    for what in ["scores", "ranking"] {
        let path = format!("/api/v1/rounds/{round}/{what}.xlsx");
        let res = reqwest::Client::new()
            .get(t.url(&path))
            .bearer_auth(&changsha)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "{path}: not a workbook");
        let (status, _) = call(&t, &yueyang, "GET", &path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    let city_page = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&city_page, &t, &format!("/rounds/{round}/ranking")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"export-scores\""), "{html}");
    let res = city_page
        .get(t.url(&format!("/rounds/{round}/scores.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let exported = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.is_in(["score.export", "ranking.export"]))
        .filter(audit_entry::Column::ObjectId.eq(round.to_string()))
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(exported.len(), 3, "{exported:?}");

    // The proposed list, its 公示 and the confirmation are the city's.
    let (status, _) = on_round(
        &t,
        &province,
        "POST",
        round,
        "propose",
        Some(json!({"reason": ""})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = on_round(
        &t,
        &changsha,
        "POST",
        round,
        "propose",
        Some(json!({"reason": ""})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let todos = round_todos(&t, "changsha", round).await;
    assert_eq!(todos.len(), 1, "{todos:?}");
    assert!(todos[0].0.starts_with("待发布公示"), "{todos:?}");
    let (status, notice) = on_round(&t, &changsha, "GET", round, "notice", None).await;
    assert_eq!(status, 200, "{notice}");
    assert!(
        notice["title"]
            .as_str()
            .unwrap()
            .contains("市级先进制造业集群"),
        "{notice}"
    );
    // Its preamble names the city's office and no city recommendation.
    let preamble = notice["notice_text"].as_str().unwrap();
    assert!(preamble.contains("经专家评审"), "{preamble}");
    assert!(!preamble.contains("市州推荐"), "{preamble}");
    assert!(
        preamble.contains("市州工业和信息化局（承办科室待填写）"),
        "{preamble}"
    );
    let (status, body) = on_round(
        &t,
        &changsha,
        "POST",
        round,
        "notice",
        Some(json!({"notice_text": "现将2026年长沙市先进制造业集群拟入选名单予以公示。"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    forward_to(&t, date!(2026 - 12 - 21));
    // Sessions do not outlive a fortnight: sign in again.
    let province = token(&t, "province").await;
    let yueyang = token(&t, "yueyang").await;
    let changsha = token(&t, "changsha").await;
    let todos = round_todos(&t, "changsha", round).await;
    assert!(
        todos.iter().any(|d| d.0.starts_with("公示期满待确认")),
        "{todos:?}"
    );
    assert!(round_todos(&t, "province", round).await.is_empty());
    let (status, _) = on_round(&t, &province, "POST", round, "confirm", None).await;
    assert_eq!(status, 403);
    let (status, _) = on_round(&t, &yueyang, "POST", round, "confirm", None).await;
    assert_eq!(status, 404);
    let (status, outcome) = on_round(&t, &changsha, "POST", round, "confirm", None).await;
    assert_eq!(status, 200, "{outcome}");
    // A city title, no provincial certificate, and the cluster's provincial standing untouched.
    assert!(outcome["designations"].as_array().unwrap().is_empty());
    let titles = outcome["city_designations"].as_array().unwrap();
    assert_eq!(titles.len(), 1, "{outcome}");
    assert_eq!(titles[0]["title"], "市级先进制造业集群");
    assert_eq!(titles[0]["city_name"], "长沙市");
    assert_eq!(titles[0]["cluster_name"], CHANGSHA_CLUSTER);
    assert_eq!(titles[0]["effective_on_zh"], "2026年12月21日");
    // Confirmed: nothing of the round is left to do.
    assert!(round_todos(&t, "changsha", round).await.is_empty());
    assert_eq!(
        application_status(&t, jiqun::store::id::ApplicationId::new(own)).await,
        "confirmed"
    );
    // No provincial announcement is made of a city's titles.
    let (status, list) = call(&t, &province, "GET", "/api/v1/announcements", None).await;
    assert_eq!(status, 200, "{list}");
    assert!(list.as_array().unwrap().is_empty(), "{list}");
    let (status, _) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/announcements/{round}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let audited = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("city_designation.create"))
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert!(
        audited[0].summary.contains(CHANGSHA_CLUSTER),
        "{}",
        audited[0].summary
    );
    let created = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("competition.create"))
        .all(&t.app.db)
        .await
        .unwrap();
    assert!(
        created.iter().any(|e| e.summary.contains("市级（长沙市）")),
        "{created:?}"
    );

    // The ladder: the province and 长沙 see the cluster's city title as its highest; 岳阳 does
    // not see the row at all.
    let row = ladder_row(&t, "province", CHANGSHA_CLUSTER).await.unwrap();
    assert_eq!(row["highest_level"], "city", "{row}");
    assert_eq!(row["county_name"], "长沙县");
    assert_eq!(row["city_title"], "2026年市级先进制造业集群");
    assert_eq!(row["highest_title"], "2026年市级先进制造业集群");
    assert_eq!(row["province_title"], "");
    assert!(ladder_row(&t, "changsha", CHANGSHA_CLUSTER).await.is_some());
    assert!(ladder_row(&t, "yueyang", CHANGSHA_CLUSTER).await.is_none());
    // The 岳阳 cluster stands on its county rung only.
    let row = ladder_row(&t, "province", YUEYANG_CLUSTER).await.unwrap();
    assert_eq!(row["highest_level"], "county", "{row}");
    assert_eq!(row["highest_title"], "云溪区");
    let (status, list) = call(&t, &province, "GET", "/api/v1/ladder?level=city", None).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cluster_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![CHANGSHA_CLUSTER]);

    // A provincial designation later moves the cluster's highest title up.
    let cluster_id = ClusterId::new(row_cluster(&t, CHANGSHA_CLUSTER).await);
    let entry_id = EntryId::new(entries[0]["id"].as_i64().unwrap());
    provincial_title(&t, cluster_id, RoundId::new(round), entry_id).await;
    let row = ladder_row(&t, "province", CHANGSHA_CLUSTER).await.unwrap();
    assert_eq!(row["highest_level"], "province", "{row}");
    assert_eq!(row["city_title"], "2026年市级先进制造业集群");
    let certified = jiqun::config::title_of(Designation::Certified);
    assert_eq!(row["highest_title"], format!("2027年{certified}"));
    let (_, list) = call(&t, &province, "GET", "/api/v1/ladder?level=city", None).await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");

    // The round's pages are the city's to work in; another city's bureau does not find them.
    let city_page = support::page_login(&t, "changsha").await;
    let other_page = support::page_login(&t, "yueyang").await;
    for path in ["", "/progress", "/ranking", "/notice", "/objections"] {
        let path = format!("/rounds/{round}{path}");
        let (status, _) = get_page(&city_page, &t, &path).await;
        assert_eq!(status, 200, "{path}");
        let (status, _) = get_page(&other_page, &t, &path).await;
        assert_eq!(status, 404, "{path}");
    }

    // The page shows the same.
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/ladder").await;
    assert_eq!(status, 200);
    assert!(html.contains("分级培育梯队"), "{html}");
    assert!(html.contains(&format!("2027年{certified}")), "{html}");
    let page = support::page_login(&t, "yueyang").await;
    let (status, html) = get_page(&page, &t, "/ladder").await;
    assert_eq!(status, 200);
    assert!(!html.contains(CHANGSHA_CLUSTER), "{html}");
}

async fn row_cluster(t: &TestApp, name: &str) -> i64 {
    jiqun::store::entity::cluster::Entity::find()
        .filter(jiqun::store::entity::cluster::Column::Name.eq(name))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .get()
}

/// A provincial 认定 written directly (the provincial flow has its own tests).
async fn provincial_title(t: &TestApp, cluster: ClusterId, round: RoundId, entry: EntryId) {
    let now = t.app.clock.now();
    designation::ActiveModel {
        cluster_id: Set(cluster),
        round_id: Set(round),
        entry_id: Set(entry),
        designation: Set(Designation::Certified),
        effective_on: Set(date!(2027 - 06 - 30)),
        year: Set(2027),
        seq: Set(1),
        certificate_number: Set("湘集群认〔2027〕第001号".into()),
        superseded_on: Set(None),
        revoked_on: Set(None),
        revoke_reason: Set(String::new()),
        decided_by: Set(UserId::new(4)),
        created_at: Set(now),
        snapshot: Set("{}".into()),
        superseded_by: Set(None),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
}

/// A city calls once a year by its own text, counted apart from the province's and the other
/// cities' calls; a closed call still counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_city_counts_its_own_calls_per_year() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 12 - 07));
    install_city_template(&t).await;
    let competition = open_city_call(&t).await;
    let changsha = token(&t, "changsha").await;
    let (status, _) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/competitions/{competition}/close"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &t,
        &changsha,
        "POST",
        "/api/v1/competitions",
        Some(call_body(&t, "city-template")),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("市级竞赛每年组织一次"), "{body}");
    // 株洲's call of the same year is its own.
    let zhuzhou = token(&t, "zhuzhou").await;
    let (status, body) = call(
        &t,
        &zhuzhou,
        "POST",
        "/api/v1/competitions",
        Some(call_body(&t, "city-template")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["organiser_city_code"], "430200");
    // A city cannot close another city's call, nor the province a city's.
    let other = body["id"].as_i64().unwrap();
    let (status, _) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/competitions/{other}/close"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let province = token(&t, "province").await;
    let (status, _) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/competitions/{other}/close"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    // The province's list holds both; 长沙's bureau sees its own only.
    let (_, list) = call(&t, &province, "GET", "/api/v1/competitions", None).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let (_, list) = call(&t, &changsha, "GET", "/api/v1/competitions", None).await;
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![competition], "{list}");

    // The call's page says who organises it and offers its steps to the organiser only.
    let page = support::page_login(&t, "zhuzhou").await;
    let (status, html) = get_page(&page, &t, &format!("/competitions/{other}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("市级（株洲市）"), "{html}");
    assert!(html.contains("id=\"open-round\""), "{html}");
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, &format!("/competitions/{other}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("市级（株洲市）"), "{html}");
    assert!(!html.contains("id=\"open-round\""), "{html}");
    let page = support::page_login(&t, "changsha").await;
    let (status, _) = get_page(&page, &t, &format!("/competitions/{other}")).await;
    assert_eq!(status, 404);
    // The call form offers each level its own texts.
    let (status, html) = get_page(&page, &t, "/competitions/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"city-template\""), "{html}");
    assert!(!html.contains("value=\"hunan-2021\""), "{html}");
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/competitions/new").await;
    assert_eq!(status, 200);
    assert!(!html.contains("value=\"city-template\""), "{html}");
}

/// Two cities publishing at once, three requests each: each city opens one call for the year
/// (counted apart from the other's), the rest are refused, nothing half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_city_calls_open_one_per_city_and_year() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 12 - 07));
    install_city_template(&t).await;
    let mut tasks = Vec::new();
    for (i, who) in [
        "changsha", "changsha", "changsha", "zhuzhou", "zhuzhou", "zhuzhou",
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = call_body(&t, "city-template");
        body["title"] = json!(format!("关于组织开展2026年度市级集群竞赛的通知（第{i}份）"));
        let url = t.url("/api/v1/competitions");
        let tok = token(&t, who).await;
        tasks.push(tokio::spawn(async move {
            let status = reqwest::Client::new()
                .post(url)
                .bearer_auth(tok)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            (who, status)
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        vec![
            ("changsha", 200),
            ("changsha", 422),
            ("changsha", 422),
            ("zhuzhou", 200),
            ("zhuzhou", 422),
            ("zhuzhou", 422)
        ]
    );
    let calls = jiqun::store::entity::competition::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap();
    let mut organisers: Vec<String> = calls
        .iter()
        .map(|c| {
            c.organiser_city_code
                .map(|code| code.to_string())
                .unwrap_or_default()
        })
        .collect();
    organisers.sort();
    assert_eq!(organisers, vec!["430100", "430200"]);

    // The applicant's page offers 长沙's call to its 长沙 cluster; 岳阳's applicant, whose
    // clusters are all in 岳阳, is not offered it.
    a_cluster(
        &t,
        "长沙工程机械产业集群促进会",
        CHANGSHA_CLUSTER,
        "430100",
        "430121",
    )
    .await;
    a_cluster(
        &t,
        "岳阳石化产业集群促进会",
        YUEYANG_CLUSTER,
        "430600",
        "430603",
    )
    .await;
    let page = support::page_login(&t, "applicant").await;
    let (status, html) = get_page(&page, &t, "/applications").await;
    assert_eq!(status, 200);
    assert!(html.contains("市级（长沙市）竞赛"), "{html}");
    assert!(html.contains(CHANGSHA_CLUSTER), "{html}");
    assert!(!html.contains("市级（株洲市）竞赛"), "{html}");
    let page = support::page_login(&t, "applicant2").await;
    let (status, html) = get_page(&page, &t, "/applications").await;
    assert_eq!(status, 200);
    assert!(!html.contains("市级（长沙市）竞赛"), "{html}");
}

// ---------------------------------------------------------------------------------------------
// City titles as records: certificate, PDF, public check, revocation by the conferring city

/// 长沙's bureau runs its competition through to confirmation, 长沙's cluster the one entrant;
/// returns the confirmation's outcome.
async fn city_title_confirmed(t: &TestApp) -> Value {
    set_day(t, date!(2026 - 12 - 07));
    install_city_template(t).await;
    let competition = open_city_call(t).await;
    let (own, version) = started(
        t,
        jiqun::store::id::CompetitionId::new(competition),
        "applicant",
        "长沙工程机械产业集群促进会",
        "430100",
        "430121",
        CHANGSHA_CLUSTER,
    )
    .await;
    submit_complete(t, "applicant", own, version).await;
    let changsha = token(t, "changsha").await;
    let plan = RoundPlan {
        opens_in: Duration::days(0),
        closes_in: Duration::days(3),
        ..RoundPlan::new("preliminary", 3, "")
    };
    let (status, view) = call(
        t,
        &changsha,
        "POST",
        &format!("/api/v1/competitions/{competition}/rounds"),
        Some(plan.json(t)),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let round = view["round"]["id"].as_i64().unwrap();
    let pool = changsha_pool(t).await;
    set_panel(t, &changsha, round, &pool).await;
    let (status, body) = on_round(t, &changsha, "POST", round, "auto-assign", None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = on_round(t, &changsha, "POST", round, "open-scoring", None).await;
    assert_eq!(status, 200, "{body}");
    let policy = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
    let scores: serde_json::Map<String, Value> = policy
        .criteria
        .iter()
        .map(|c| (c.key.clone(), json!(f64::from(c.max_score) * 0.9)))
        .collect();
    for (u, _, _) in CITY_EXPERTS {
        let tok = token(t, u).await;
        let (_, mine) = call(t, &tok, "GET", "/api/v1/scoring", None).await;
        for a in mine.as_array().unwrap() {
            let id = a["assignment_id"].as_i64().unwrap();
            let (status, saved) = call(
                t,
                &tok,
                "PUT",
                &format!("/api/v1/scoring/{id}"),
                Some(json!({"scores": scores, "comment": "材料翔实。", "version": 0})),
            )
            .await;
            assert_eq!(status, 200, "{saved}");
            let path = format!("/api/v1/scoring/{id}/submit");
            let (status, body) = call(t, &tok, "POST", &path, None).await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let (status, body) = on_round(
        t,
        &changsha,
        "POST",
        round,
        "propose",
        Some(json!({"reason": ""})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = on_round(
        t,
        &changsha,
        "POST",
        round,
        "notice",
        Some(json!({"notice_text": "现将2026年长沙市先进制造业集群拟入选名单予以公示。"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    forward_to(t, date!(2026 - 12 - 21));
    let changsha = token(t, "changsha").await;
    let (status, outcome) = on_round(t, &changsha, "POST", round, "confirm", None).await;
    assert_eq!(status, 200, "{outcome}");
    outcome
}

async fn public_check(t: &TestApp, number: &str) -> (u16, Value) {
    let res = reqwest::get(t.url(&format!("/api/v1/verify/{}", urlencode(number))))
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_title_is_a_numbered_certificate_only_the_conferring_city_revokes() {
    let t = support::spawn().await;
    let outcome = city_title_confirmed(&t).await;
    let title = &outcome["city_designations"][0];
    // Numbered under the city policy's prefix with the city's name, issued in its bureau's name.
    assert_eq!(title["certificate_number"], "长沙市集群认〔2026〕第001号");
    assert_eq!(title["verify_code"], "S430100-2026-001");
    assert_eq!(title["issuer"], "长沙市工业和信息化局");
    assert_eq!(title["org_name"], "长沙工程机械产业集群促进会");
    let id = title["id"].as_i64().unwrap();
    let notified = notification::Entity::find()
        .filter(notification::Column::Link.eq(format!("/city-titles/{id}")))
        .all(&t.app.db)
        .await
        .unwrap();
    assert!(
        notified
            .iter()
            .any(|n| n.body.contains("长沙市集群认〔2026〕第001号")),
        "{notified:?}"
    );

    // Who finds it: 长沙's bureau, the cluster and the province; not 岳阳 nor another cluster.
    for (who, seen) in [
        ("changsha", 1),
        ("applicant", 1),
        ("province", 1),
        ("yueyang", 0),
        ("applicant2", 0),
    ] {
        let tok = token(&t, who).await;
        let (status, list) = call(&t, &tok, "GET", "/api/v1/city-titles", None).await;
        assert_eq!(status, 200, "{who}: {list}");
        assert_eq!(list.as_array().unwrap().len(), seen, "{who}: {list}");
        let (status, _) = call(&t, &tok, "GET", &format!("/api/v1/city-titles/{id}"), None).await;
        assert_eq!(status, if seen == 1 { 200 } else { 404 }, "{who}");
    }

    // The certificate shows what it showed when issued, after a rename.
    let cluster = row_cluster(&t, CHANGSHA_CLUSTER).await;
    jiqun::store::entity::cluster::ActiveModel {
        id: Set(ClusterId::new(cluster)),
        name: Set("改名后的集群".into()),
        ..Default::default()
    }
    .update(&t.app.db)
    .await
    .unwrap();
    let changsha = token(&t, "changsha").await;
    let (_, row) = call(
        &t,
        &changsha,
        "GET",
        &format!("/api/v1/city-titles/{id}"),
        None,
    )
    .await;
    assert_eq!(row["cluster_name"], CHANGSHA_CLUSTER, "{row}");

    // The public check by code or by whole number, no sign-in.
    for typed in ["S430100-2026-001", "长沙市集群认〔2026〕第001号"] {
        let (status, v) = public_check(&t, typed).await;
        assert_eq!(status, 200, "{typed}: {v}");
        assert_eq!(v["status"], "valid", "{v}");
        assert_eq!(v["cluster_name"], CHANGSHA_CLUSTER);
        assert_eq!(v["issuer"], "长沙市工业和信息化局");
        assert_eq!(v["designation_label"], "市级先进制造业集群");
    }
    let (status, v) = public_check(&t, "S430100-2026-002").await;
    assert_eq!(status, 404, "{v}");
    assert!(error_message(&v).contains("未查到"), "{v}");

    // The PDF, for the city bureau and the cluster, through the shared certificate drawing.
    for who in ["changsha", "applicant"] {
        let page = support::page_login(&t, who).await;
        let res = page
            .get(t.url(&format!("/city-titles/{id}.pdf")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{who}");
        assert_eq!(res.headers()["content-type"], "application/pdf");
        let bytes = res.bytes().await.unwrap();
        let text: String = crate::notices::pdf_text(&bytes, &t.db.dir)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for wanted in [
            CHANGSHA_CLUSTER,
            "长沙市集群认〔2026〕第001号",
            "长沙市工业和信息化局",
            "经评审、公示，被认定为市级先进制造业集群",
            "2026年12月21日",
            "S430100-2026-001",
        ] {
            assert!(text.contains(wanted), "{who}: {wanted} not in {text}");
        }
    }
    assert_eq!(
        audited(&t, "city_certificate.download").await.len(),
        2,
        "each download audited"
    );
    let page = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&page, &t, "/city-titles").await;
    assert_eq!(status, 200);
    assert!(html.contains("长沙市集群认〔2026〕第001号"), "{html}");
    let res = page
        .get(t.url("/city-titles/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));

    // Revocation: refused to whoever did not confer it, and without a reason or document.
    let path = format!("/api/v1/city-titles/{id}/revoke");
    let body =
        json!({"reason": "申报数据弄虚作假，经核实属实", "document_number": "长工信〔2027〕5号"});
    for (who, expected) in [
        ("province", 403),
        ("applicant", 403),
        ("yueyang", 404),
        ("applicant2", 404),
    ] {
        let tok = token(&t, who).await;
        let (status, answer) = call(&t, &tok, "POST", &path, Some(body.clone())).await;
        assert_eq!(status, expected, "{who}: {answer}");
    }
    let (status, answer) = call(
        &t,
        &changsha,
        "POST",
        &path,
        Some(json!({"reason": " ", "document_number": ""})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(field_message(&answer, "reason"), "请填写撤销理由");
    assert_eq!(
        field_message(&answer, "document_number"),
        "请填写撤销决定的文号"
    );
    // The page asks for the tick; without it nothing is written.
    let (_, html) = get_page(&page, &t, &format!("/city-titles/{id}")).await;
    assert!(html.contains("id=\"revoke-form\""), "{html}");
    let csrf = support::csrf_from(&html);
    let unticked = crate::fixtures::post_page(
        &page,
        &t,
        &format!("/city-titles/{id}/revoke"),
        &[
            ("_csrf", csrf.as_str()),
            ("reason", "申报数据弄虚作假"),
            ("document_number", "长工信〔2027〕5号"),
        ],
    )
    .await;
    assert_eq!(unticked.status, 422);
    assert!(
        unticked.body.contains("申报数据弄虚作假"),
        "the typed reason is kept"
    );
    let (_, row) = call(
        &t,
        &changsha,
        "GET",
        &format!("/api/v1/city-titles/{id}"),
        None,
    )
    .await;
    assert_eq!(row["revoked"], false);

    let (status, row) = call(&t, &changsha, "POST", &path, Some(body.clone())).await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["revoked"], true);
    assert_eq!(row["revoke_document"], "长工信〔2027〕5号");
    let (status, again) = call(&t, &changsha, "POST", &path, Some(body.clone())).await;
    assert_eq!(status, 409, "{again}");
    assert!(error_message(&again).contains("不能重复撤销"), "{again}");
    let revoked = audited(&t, "city_designation.revoke").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].reason, "申报数据弄虚作假，经核实属实");
    assert!(
        revoked[0].summary.contains("长工信〔2027〕5号"),
        "{}",
        revoked[0].summary
    );
    let told = notification::Entity::find()
        .filter(notification::Column::Title.contains("称号已撤销"))
        .all(&t.app.db)
        .await
        .unwrap();
    assert!(
        !told.is_empty()
            && told
                .iter()
                .all(|n| n.body.contains("撤销理由：申报数据弄虚作假"))
    );

    // The ladder drops the city rung; the public check says revoked; the PDF is void.
    let row = ladder_row(&t, "province", "改名后的集群").await.unwrap();
    assert_eq!(row["highest_level"], "county", "{row}");
    assert_eq!(row["city_title"], "", "{row}");
    let (status, v) = public_check(&t, "S430100-2026-001").await;
    assert_eq!(status, 200);
    assert_eq!(v["status"], "revoked", "{v}");
    assert!(v["explanation"].as_str().unwrap().contains("已撤销"), "{v}");
    let (status, html) = get_page(&page, &t, &format!("/city-titles/{id}.pdf")).await;
    assert_eq!(status, 409);
    assert!(html.contains("证书已作废"), "{html}");
    let (_, list) = call(
        &t,
        &changsha,
        "GET",
        "/api/v1/city-titles?status=revoked",
        None,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let verified = jiqun::audit::verify(&t.app.db, &t.app.audit_key)
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified:?}");
}

/// Two cities' rounds confirmed at once: each city's certificates are numbered 1, 2, … in the
/// year without a gap or a repeat, apart from the other city's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_city_titles_number_gap_free_per_city_and_year() {
    let t = support::spawn().await;
    city_title_confirmed(&t).await;
    let first = jiqun::store::entity::city_designation::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let c = jiqun::store::entity::competition::Entity::find_by_id(first.competition_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let r = stored_round(&t, first.round_id).await;
    let e = crate::fixtures::stored_entry(&t, first.entry_id).await;
    let cl = jiqun::store::entity::cluster::Entity::find_by_id(first.cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let p = principal(&t, "changsha").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        // One more cluster per title (one title per cluster and round).
        let mut copy: jiqun::store::entity::cluster::ActiveModel = cl.clone().into();
        copy.id = sea_orm::ActiveValue::NotSet;
        copy.name = Set(format!("并行集群{i}"));
        let other = copy.insert(&t.app.db).await.unwrap();
        let mut entry = e.clone();
        entry.cluster_id = other.id;
        let mut call = c.clone();
        if i % 2 == 1 {
            call.organiser_city_code = Some("430600".parse().unwrap());
        }
        let (app, p, r) = (t.app.clone(), p.clone(), r.clone());
        tasks.push(tokio::spawn(async move {
            let txn = jiqun::store::write_txn(&app.db).await.unwrap();
            let now = app.clock.now();
            let d = jiqun::services::city_designations::designate(
                &app,
                &txn,
                &p,
                &call,
                &r,
                &entry,
                "市级先进制造业集群",
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
                .expect("every parallel title gets a number"),
        );
    }
    let all = jiqun::store::entity::city_designation::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap();
    let seqs = |city: &str| {
        let mut s: Vec<i32> = all
            .iter()
            .filter(|d| d.city_code.to_string() == city)
            .map(|d| d.seq)
            .collect();
        s.sort_unstable();
        s
    };
    assert_eq!(seqs("430100"), (1..=5).collect::<Vec<_>>(), "{numbers:?}");
    assert_eq!(seqs("430600"), (1..=4).collect::<Vec<_>>(), "{numbers:?}");
    assert!(
        numbers.contains(&"岳阳市集群认〔2026〕第004号".to_string()),
        "{numbers:?}"
    );
}

/// A database with city titles from before certificates existed upgrades without loss: each is
/// numbered per city and year in the order conferred, frozen, and issued in its city's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn city_titles_conferred_before_certificates_get_them_on_upgrade() {
    use sea_orm_migration::MigratorTrait;

    let t = support::spawn().await;
    city_title_confirmed(&t).await;
    // Back to the schema before M0029: the title keeps its M0028 columns only.
    let since = jiqun::store::Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m0029_city_certificates")
        .unwrap()
        + 1;
    jiqun::store::Migrator::down(&t.app.db, Some(u32::try_from(since).unwrap()))
        .await
        .unwrap();
    jiqun::store::Migrator::up(&t.app.db, None).await.unwrap();
    let d = jiqun::store::entity::city_designation::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.seq, 1);
    assert_eq!(d.certificate_number, "长沙市集群认〔2026〕第001号");
    assert!(d.revoked_on.is_none() && d.revoke_reason.is_empty());
    let changsha = token(&t, "changsha").await;
    let (status, row) = call(
        &t,
        &changsha,
        "GET",
        &format!("/api/v1/city-titles/{}", d.id),
        None,
    )
    .await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["cluster_name"], CHANGSHA_CLUSTER);
    assert_eq!(row["org_name"], "长沙工程机械产业集群促进会");
    assert_eq!(row["issuer"], "长沙市工业和信息化局");
    assert_eq!(row["verify_code"], "S430100-2026-001");
    assert_eq!(row["title"], "市级先进制造业集群");
}

/// Each city keeps its own pool: it sees, edits and imports its own experts only; the province
/// reads every pool but its rounds take the provincial pool only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_city_keeps_its_own_expert_pool_and_the_province_keeps_its_own() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 12 - 07));
    let own = changsha_pool(&t).await;
    let other = pool_entry(
        &t,
        "zhuzhou",
        "zzexpert1",
        "何教授",
        "湖南工业大学",
        "430200",
    )
    .await;
    assert_eq!(other["pool_label"], "株洲市专家库");
    let other = other["id"].as_i64().unwrap();
    let provincial = expert_id(&t, "expert").await.get();

    // Each city lists its own pool only; the province lists every pool.
    let ids = |list: &Value| -> Vec<i64> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    let changsha = token(&t, "changsha").await;
    let zhuzhou = token(&t, "zhuzhou").await;
    let province = token(&t, "province").await;
    let (status, list) = call(&t, &changsha, "GET", "/api/v1/experts", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), own);
    let (_, list) = call(&t, &zhuzhou, "GET", "/api/v1/experts", None).await;
    assert_eq!(ids(&list), vec![other]);
    let (_, list) = call(&t, &province, "GET", "/api/v1/experts", None).await;
    let all = ids(&list);
    assert!(
        own.iter()
            .chain([&other, &provincial])
            .all(|id| all.contains(id)),
        "{list}"
    );
    for id in [other, provincial] {
        let (status, _) = call(&t, &changsha, "GET", &format!("/api/v1/experts/{id}"), None).await;
        assert_eq!(status, 404, "{id}");
    }
    // It edits its own entries, not another city's nor the province's.
    let (status, e) = call(
        &t,
        &changsha,
        "GET",
        &format!("/api/v1/experts/{}", own[0]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let edit = |version: &Value| {
        json!({"name": "陈教授", "city_code": "430100", "employer": "湖南大学机械学院",
               "fields": ["工程机械"], "version": version})
    };
    let (status, saved) = call(
        &t,
        &changsha,
        "PUT",
        &format!("/api/v1/experts/{}", own[0]),
        Some(edit(&e["expert"]["version"])),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["employer"], "湖南大学机械学院");
    assert_eq!(saved["pool_label"], "长沙市专家库");
    for id in [other, provincial] {
        let (status, _) = call(
            &t,
            &changsha,
            "PUT",
            &format!("/api/v1/experts/{id}"),
            Some(edit(&json!(1))),
        )
        .await;
        assert_eq!(status, 404, "{id}");
    }
    // The list page shows the city its pool only.
    let page = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&page, &t, "/experts").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("陈教授") && html.contains("长沙市专家库"),
        "{html}"
    );
    assert!(
        !html.contains("何教授") && !html.contains("赵教授"),
        "{html}"
    );

    // An import by 株洲 puts new accounts into its pool and refuses 长沙's experts.
    expert_account(&t, "zzexpert2", "许教授").await;
    let header = vec![
        "登录账户",
        "姓名",
        "所在市州",
        "工作单位",
        "专业领域",
        "关联单位",
        "状态",
    ];
    let file = crate::imports::sheet(&[
        header,
        vec![
            "zzexpert2",
            "许教授",
            "株洲市",
            "中车株洲所",
            "轨道交通",
            "",
            "",
        ],
        vec![
            "csexpert2",
            "林研究员",
            "长沙市",
            "长沙理工大学",
            "新材料",
            "",
            "",
        ],
    ]);
    let (status, preview) = crate::imports::api_preview(&t, &zhuzhou, "experts", &file).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["rows"][0]["action_label"], "新增", "{preview}");
    assert!(
        preview["rows"][1]["errors"]
            .to_string()
            .contains("已在长沙市专家库中"),
        "{preview}"
    );
    let file = crate::imports::sheet(&[
        vec![
            "登录账户",
            "姓名",
            "所在市州",
            "工作单位",
            "专业领域",
            "关联单位",
            "状态",
        ],
        vec![
            "zzexpert2",
            "许教授",
            "株洲市",
            "中车株洲所",
            "轨道交通",
            "",
            "",
        ],
    ]);
    let (_, preview) = crate::imports::api_preview(&t, &zhuzhou, "experts", &file).await;
    let (status, done) = crate::imports::api_commit(&t, &zhuzhou, "experts", &preview).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["created"], 1);
    let (_, list) = call(&t, &zhuzhou, "GET", "/api/v1/experts", None).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|e| e["pool_label"] == "株洲市专家库")
    );

    // The province's round takes the provincial pool only.
    let (_, r) =
        crate::fixtures::open_showcase_round(&t, &RoundPlan::new("preliminary", 5, "")).await;
    let (status, body) = on_round(
        &t,
        &province,
        "PUT",
        r.id,
        "panel",
        Some(json!({"add": [own[0]], "remove": []})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let refusal = field_message(&body, "experts");
    assert!(refusal.contains("属于长沙市专家库"), "{refusal}");
    assert!(refusal.contains("只能从省级专家库中选择"), "{refusal}");
    set_panel(&t, &province, r.id.get(), &[provincial]).await;
}

/// `serve --demo`: the city template installed and offered, 长沙's own competition with three
/// submitted 长沙 applications and 长沙's pool of three, so the 长沙 bureau can click through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_gives_changsha_its_own_competition_pool_and_round() {
    let t = support::spawn().await;
    let banner = jiqun::demo::seed_for_serve(t.app()).await.unwrap();
    assert!(banner.contains("csexpert1"), "{banner}");
    let changsha = token(&t, "changsha").await;
    let (status, list) = call(&t, &changsha, "GET", "/api/v1/competitions", None).await;
    assert_eq!(status, 200, "{list}");
    let city_call = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["organiser_city_code"] == "430100")
        .cloned()
        .unwrap_or_else(|| panic!("no 长沙 call: {list}"));
    assert_eq!(city_call["title"], "2026年长沙市先进制造业集群竞赛");
    assert_eq!(city_call["organiser_label"], "市级（长沙市）");
    let competition = city_call["id"].as_i64().unwrap();
    // 岳阳 does not see it.
    let yueyang = token(&t, "yueyang").await;
    let (status, _) = call(
        &t,
        &yueyang,
        "GET",
        &format!("/api/v1/competitions/{competition}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // The city template is offered to 长沙's next calls.
    let page = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&page, &t, "/competitions/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("value=\"city-template\""), "{html}");
    // Its pool is its own three.
    let (_, pool) = call(&t, &changsha, "GET", "/api/v1/experts", None).await;
    let pool: Vec<i64> = pool
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["pool_label"], "长沙市专家库", "{e}");
            e["id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(pool.len(), 3);
    // The workbench asks for the round; the round takes the three submitted applications.
    let p = crate::fixtures::principal(&t, "changsha").await;
    let todos = jiqun::services::workbench::for_principal(t.app(), &p, 0)
        .await
        .unwrap()
        .todos;
    assert!(
        todos.iter().any(|d| d.label.starts_with("待开设评审轮次")
            && d.href == format!("/competitions/{competition}/rounds/new")
            && d.count == 3),
        "{:?}",
        todos.iter().map(|d| &d.label).collect::<Vec<_>>()
    );
    let plan = RoundPlan {
        opens_in: Duration::days(0),
        closes_in: Duration::days(3),
        ..RoundPlan::new("preliminary", 3, "")
    };
    let (status, view) = call(
        &t,
        &changsha,
        "POST",
        &format!("/api/v1/competitions/{competition}/rounds"),
        Some(plan.json(&t)),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["entries"].as_array().unwrap().len(), 3, "{view}");
    let round = view["round"]["id"].as_i64().unwrap();
    set_panel(&t, &changsha, round, &pool).await;
    let (status, body) = on_round(&t, &changsha, "POST", round, "auto-assign", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 9, "{body}");
    // The city's experts sign in with the demo password and find their work.
    let tok = token(&t, "csexpert1").await;
    let (status, mine) = call(&t, &tok, "GET", "/api/v1/scoring", None).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine.as_array().unwrap().len(), 3, "{mine}");
}
