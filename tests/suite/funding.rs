//! The funding ledger (第十七条): entries recorded by the province with defaults from the policy
//! and the year's setting, their steps, the totals per cluster, city, fund and year, the scopes
//! (a cluster its own, a city its city), a revoked cluster's pending money flagged, amounts
//! refused in Chinese with nothing written, and the workbook with numbers as numbers.

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use jiqun::store::entity::{designation, funding_entry};
use jiqun::store::id::ClusterId;
use jiqun_domain::round::Designation;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use time::macros::date;

use crate::fixtures::{
    CHANGSHA, YUEYANG, ZHUZHOU, audited, error_message, get_page, post_page, set_day, showcase,
};
use crate::reports::designate;
use crate::support::{self, TestApp};
use crate::{call, token};

const SMALL_FIRMS_FUND: &str = "中小企业发展专项资金";

/// Three titled clusters: 长沙 and 株洲 培育对象 (长沙株洲 share no city), 岳阳 认定.
async fn titled(t: &TestApp) -> (ClusterId, ClusterId, ClusterId) {
    showcase(t).await;
    set_day(t, date!(2026 - 03 - 02));
    let cs = designate(
        t,
        CHANGSHA,
        Designation::CultivationTarget,
        date!(2024 - 03 - 01),
        None,
    )
    .await;
    let zz = designate(
        t,
        ZHUZHOU,
        Designation::CultivationTarget,
        date!(2024 - 03 - 01),
        None,
    )
    .await;
    let yy = designate(
        t,
        YUEYANG,
        Designation::Certified,
        date!(2025 - 07 - 01),
        None,
    )
    .await;
    (cs, zz, yy)
}

async fn create(t: &TestApp, tok: &str, body: Value) -> (u16, Value) {
    call(t, tok, "POST", "/api/v1/funding", Some(body)).await
}

fn total(list: &Value, group: &str, key: &str) -> (i64, i64, i64) {
    let row = list[group]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {group} {key} in {list}"));
    (
        row["entries"].as_i64().unwrap(),
        row["arranged_fen"].as_i64().unwrap(),
        row["disbursed_fen"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_step_from_planned_to_disbursed_and_add_up_per_group() {
    let t = support::spawn().await;
    let (cs, zz, yy) = titled(&t).await;
    let province = token(&t, "province").await;

    // A reward with no amount takes the policy's default (100万元) and its fund.
    let (status, reward) = create(
        &t,
        &province,
        json!({"cluster_id": cs.to_string(), "kind": "reward_cultivation", "year": "2024"}),
    )
    .await;
    assert_eq!(status, 200, "{reward}");
    assert_eq!(reward["amount_fen"], 100_000_000);
    assert_eq!(reward["amount_yuan"], "1,000,000.00");
    assert_eq!(reward["fund"], "湖南省制造强省专项资金");
    assert_eq!(reward["status"], "planned");
    assert_eq!(reward["status_label"], "拟安排");
    let (status, project) = create(
        &t,
        &province,
        json!({"cluster_id": cs.to_string(), "kind": "project", "fund": SMALL_FIRMS_FUND,
            "project": "工程机械智能制造公共服务平台", "year": "2025", "amount": "350.5", "unit": "wan",
            "document_number": "湘财企指〔2025〕12号"}),
    )
    .await;
    assert_eq!(status, 200, "{project}");
    assert_eq!(project["amount_fen"], 350_500_000);
    let (status, yueyang) = create(
        &t,
        &province,
        json!({"cluster_id": yy.to_string(), "kind": "project", "fund": SMALL_FIRMS_FUND,
            "project": "石化园区数字化改造", "year": "2025", "amount": "1,234.56", "unit": "yuan"}),
    )
    .await;
    assert_eq!(status, 200, "{yueyang}");
    assert_eq!(yueyang["amount_fen"], 123_456);
    let (status, _) = create(
        &t,
        &province,
        json!({"cluster_id": zz.to_string(), "kind": "reward_cultivation", "year": "2024", "amount": "80"}),
    )
    .await;
    assert_eq!(status, 200);
    // 岳阳 holds no 培育对象 title: no such reward.
    let (status, body) = create(
        &t,
        &province,
        json!({"cluster_id": yy.to_string(), "kind": "reward_cultivation", "year": "2025"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("未获"),
        "{body}"
    );

    // 下达 with its document, 拨付; a second 拨付 is refused, naming the status.
    let id = project["id"].as_i64().unwrap();
    let (status, issued) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/funding/{id}/steps"),
        Some(json!({"step": "issue", "version": 1, "document_number": "湘财企指〔2025〕30号"})),
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(issued["status_label"], "已下达");
    assert_eq!(issued["document_number"], "湘财企指〔2025〕30号");
    let (status, paid) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/funding/{id}/steps"),
        Some(json!({"step": "disburse", "version": 2})),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "disbursed");
    let (status, again) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/funding/{id}/steps"),
        Some(json!({"step": "disburse", "version": 3})),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(
        error_message(&again),
        "该笔资金当前状态为“已拨付”，不能拨付"
    );
    // A page that showed an older version does not overwrite.
    let (status, _) = call(
        &t,
        &province,
        "POST",
        &format!("/api/v1/funding/{id}/steps"),
        Some(json!({"step": "recover", "version": 1})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(audited(&t, "funding.create").await.len(), 4);
    assert_eq!(audited(&t, "funding.step").await.len(), 2);

    // Totals per group, in 分.
    let (status, all) = call(&t, &province, "GET", "/api/v1/funding", None).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["rows"].as_array().unwrap().len(), 4);
    let sum = 100_000_000 + 350_500_000 + 123_456 + 80_000_000;
    assert_eq!(all["total"]["arranged_fen"], sum);
    assert_eq!(all["total"]["disbursed_fen"], 350_500_000);
    assert_eq!(
        total(&all, "by_city", "430100"),
        (2, 450_500_000, 350_500_000)
    );
    assert_eq!(total(&all, "by_city", "430600"), (1, 123_456, 0));
    assert_eq!(total(&all, "by_year", "2024"), (2, 180_000_000, 0));
    assert_eq!(
        total(&all, "by_fund", SMALL_FIRMS_FUND),
        (2, 350_623_456, 350_500_000)
    );
    assert_eq!(
        total(&all, "by_cluster", &cs.to_string()),
        (2, 450_500_000, 350_500_000)
    );
    let by_year = &all["by_year"][0];
    assert_eq!(by_year["link"], "/funding?year=2025");
    // A filter narrows the rows and the totals alike.
    let (_, y2025) = call(
        &t,
        &province,
        "GET",
        "/api/v1/funding?year=2025&city=430600",
        None,
    )
    .await;
    assert_eq!(y2025["rows"].as_array().unwrap().len(), 1);
    assert_eq!(y2025["total"]["arranged_fen"], 123_456);
    let (status, bad) = call(
        &t,
        &province,
        "GET",
        "/api/v1/funding?year=二〇二五&city=999999",
        None,
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["error"]["fields"].as_array().unwrap().len(), 2, "{bad}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_sees_its_own_a_city_its_city_and_revoked_pending_money_is_flagged() {
    let t = support::spawn().await;
    let (cs, zz, yy) = titled(&t).await;
    let province = token(&t, "province").await;
    let mut ids = Vec::new();
    for (cluster, amount) in [(cs, "10"), (zz, "20"), (yy, "30")] {
        let (status, e) = create(
            &t,
            &province,
            json!({"cluster_id": cluster.to_string(), "kind": "project", "fund": SMALL_FIRMS_FUND,
                "project": "公共服务平台", "year": "2025", "amount": amount}),
        )
        .await;
        assert_eq!(status, 200, "{e}");
        ids.push(e["id"].as_i64().unwrap());
    }
    let names = |list: &Value| -> Vec<String> {
        let mut v: Vec<String> = list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["cluster_name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let applicant = token(&t, "applicant").await;
    let (status, own) = call(&t, &applicant, "GET", "/api/v1/funding", None).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(names(&own), [CHANGSHA]);
    let changsha = token(&t, "changsha").await;
    let (_, city) = call(&t, &changsha, "GET", "/api/v1/funding", None).await;
    assert_eq!(names(&city), [CHANGSHA]);
    assert_eq!(city["total"]["arranged_fen"], 10 * 1_000_000);
    let yueyang = token(&t, "yueyang").await;
    let (_, other) = call(&t, &yueyang, "GET", "/api/v1/funding", None).await;
    assert_eq!(names(&other), [YUEYANG]);
    // Another city's entry is not found; nobody but the province writes.
    let (status, _) = call(
        &t,
        &changsha,
        "GET",
        &format!("/api/v1/funding/{}", ids[2]),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/funding/{}", ids[1]),
        None,
    )
    .await;
    assert_eq!(status, 404);
    for tok in [&applicant, &changsha] {
        let (status, _) = create(
            &t,
            tok,
            json!({"cluster_id": cs.to_string(), "kind": "project", "fund": SMALL_FIRMS_FUND,
                "project": "x", "year": "2025", "amount": "1"}),
        )
        .await;
        assert_eq!(status, 403);
        let (status, _) = call(
            &t,
            tok,
            "POST",
            &format!("/api/v1/funding/{}/steps", ids[0]),
            Some(json!({"step": "issue", "version": 1})),
        )
        .await;
        assert!(status == 403 || status == 404, "{status}");
    }
    let expert = token(&t, "expert").await;
    let (status, _) = call(&t, &expert, "GET", "/api/v1/funding", None).await;
    assert_eq!(status, 403);

    // 株洲's title is revoked: its planned money is flagged for the province and its city.
    let d = designation::Entity::find()
        .filter(designation::Column::ClusterId.eq(zz))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let mut am: designation::ActiveModel = d.into();
    am.revoked_on = Set(Some(date!(2026 - 02 - 01)));
    am.update(&t.app.db).await.unwrap();
    jiqun::services::designations::refresh_standing(&t.app.db, zz, t.app.clock.now())
        .await
        .unwrap();
    let (_, all) = call(&t, &province, "GET", "/api/v1/funding", None).await;
    assert_eq!(all["flagged"], 1, "{all}");
    let flagged: Vec<&Value> = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["flag"].is_null())
        .collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["cluster_name"], ZHUZHOU);
    assert!(flagged[0]["flag"].as_str().unwrap().contains("撤销"));
    let (_, only) = call(&t, &province, "GET", "/api/v1/funding?flagged=1", None).await;
    assert_eq!(names(&only), [ZHUZHOU]);
    let (_, city) = call(&t, &changsha, "GET", "/api/v1/funding", None).await;
    assert_eq!(city["flagged"], 0);
    // No new money for a revoked cluster.
    let (status, body) = create(
        &t,
        &province,
        json!({"cluster_id": zz.to_string(), "kind": "project", "fund": SMALL_FIRMS_FUND,
            "project": "x", "year": "2026", "amount": "1"}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("已撤销")
    );

    // Pages: the province sees the flag, a city only its own.
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, "/funding").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"flagged-note\""), "{html}");
    assert!(html.contains(YUEYANG) && html.contains(ZHUZHOU));
    let page = support::page_login(&t, "changsha").await;
    let (status, html) = get_page(&page, &t, "/funding").await;
    assert_eq!(status, 200);
    assert!(html.contains(CHANGSHA) && !html.contains(YUEYANG), "{html}");
    assert!(!html.contains("id=\"entry-form\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amounts_are_refused_in_chinese_and_nothing_is_written() {
    let t = support::spawn().await;
    let (cs, _, _) = titled(&t).await;
    let province = token(&t, "province").await;
    for (amount, unit, message) in [
        ("-5", "wan", "金额不能为负数"),
        ("1.234", "wan", "金额最多保留两位小数"),
        (
            "一百万",
            "yuan",
            "金额“一百万”不是有效的数字，请填写如 1234.56 的数字",
        ),
        ("0", "yuan", "金额应大于零"),
        ("20000000000", "yuan", "金额不能超过100亿元"),
        ("", "wan", "请填写金额"),
    ] {
        let (status, body) = create(
            &t,
            &province,
            json!({"cluster_id": cs.to_string(), "kind": "project", "fund": SMALL_FIRMS_FUND,
                "project": "平台", "year": "2025", "amount": amount, "unit": unit}),
        )
        .await;
        assert_eq!(status, 422, "{amount}: {body}");
        let fields = body["error"]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 1, "{body}");
        assert_eq!(fields[0]["field"], "amount");
        assert_eq!(fields[0]["message"], message);
    }
    // Every problem at once.
    let (status, body) = create(
        &t,
        &province,
        json!({"cluster_id": "x", "kind": "gift", "fund": "某基金", "year": "1900", "amount": "1.001"}),
    )
    .await;
    assert_eq!(status, 422);
    let mut fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["amount", "cluster_id", "fund", "kind", "year"],
        "{body}"
    );
    let (status, body) = call(
        &t,
        &province,
        "PUT",
        "/api/v1/funding/rewards",
        Some(json!({"year": "2026", "kind": "reward_certified", "amount": "-1"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["message"], "金额不能为负数");
    assert_eq!(
        funding_entry::Entity::find()
            .count(&t.app.db)
            .await
            .unwrap(),
        0
    );
    assert!(audited(&t, "funding.create").await.is_empty());
    assert!(audited(&t, "funding.reward_set").await.is_empty());

    // The page keeps what was typed and names the problem beside the field.
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, "/funding").await;
    let csrf = support::csrf_from(&html);
    let res = post_page(
        &page,
        &t,
        "/funding",
        &[
            ("_csrf", csrf.as_str()),
            ("cluster_id", &cs.to_string()),
            ("kind", "project"),
            ("fund", SMALL_FIRMS_FUND),
            ("project", "工程机械再制造中心"),
            ("year", "2025"),
            ("amount", "12.345"),
            ("unit", "wan"),
            ("document_number", ""),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body
            .contains("data-error-for=\"amount\">金额最多保留两位小数"),
        "{}",
        res.body
    );
    assert!(res.body.contains("value=\"工程机械再制造中心\""));
    assert!(res.body.contains("value=\"12.345\""));
    assert_eq!(
        funding_entry::Entity::find()
            .count(&t.app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_year_reward_is_set_by_the_province_and_the_ledger_exports_numbers() {
    let t = support::spawn().await;
    let (cs, _, yy) = titled(&t).await;
    let province = token(&t, "province").await;
    let (status, before) = call(
        &t,
        &province,
        "GET",
        "/api/v1/funding/rewards?year=2025",
        None,
    )
    .await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before[1]["kind"], "reward_certified");
    assert_eq!(before[1]["amount_fen"], 500_000_000);
    assert_eq!(before[1]["origin"], "policy");
    let (status, after) = call(
        &t,
        &province,
        "PUT",
        "/api/v1/funding/rewards",
        Some(json!({"year": "2025", "kind": "reward_certified", "amount": "300"})),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after[1]["amount_fen"], 300_000_000);
    assert_eq!(after[1]["origin"], "set");
    let entries = audited(&t, "funding.reward_set").await;
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0].summary.contains("政策默认 → 3,000,000.00元"),
        "{}",
        entries[0].summary
    );
    // Another year keeps the policy's amount; this year's reward takes the setting.
    let (_, other) = call(
        &t,
        &province,
        "GET",
        "/api/v1/funding/rewards?year=2026",
        None,
    )
    .await;
    assert_eq!(other[1]["origin"], "policy");
    let (status, reward) = create(
        &t,
        &province,
        json!({"cluster_id": yy.to_string(), "kind": "reward_certified", "year": "2025"}),
    )
    .await;
    assert_eq!(status, 200, "{reward}");
    assert_eq!(reward["amount_fen"], 300_000_000);
    let (status, _) = create(
        &t,
        &province,
        json!({"cluster_id": cs.to_string(), "kind": "project", "fund": SMALL_FIRMS_FUND,
            "project": "平台", "year": "2025", "amount": "0.01", "unit": "yuan"}),
    )
    .await;
    assert_eq!(status, 200);
    let changsha = token(&t, "changsha").await;
    let (status, _) = call(
        &t,
        &changsha,
        "PUT",
        "/api/v1/funding/rewards",
        Some(json!({"year": "2025", "kind": "reward_certified", "amount": "1"})),
    )
    .await;
    assert_eq!(status, 403);

    // The workbook: amounts as numbers of 元 (one 分 survives), totals per group.
    let res = reqwest::Client::new()
        .get(t.url("/api/v1/funding.xlsx"))
        .bearer_auth(&province)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let ledger = wb.worksheet_range("资金台账").unwrap();
    let amounts: Vec<Data> = (2..4)
        .map(|row| ledger.get_value((row, 6)).unwrap().clone())
        .collect();
    assert!(amounts.contains(&Data::Float(3_000_000.0)), "{amounts:?}");
    assert!(amounts.contains(&Data::Float(0.01)), "{amounts:?}");
    assert_eq!(ledger.get_value((2, 0)), Some(&Data::Float(2025.0)));
    let by_city = wb.worksheet_range("按市州").unwrap();
    let cities: Vec<String> = (2..5)
        .filter_map(|row| by_city.get_value((row, 0)).map(|d| d.to_string()))
        .collect();
    assert_eq!(cities, ["长沙市", "岳阳市", "合计"]);
    assert_eq!(by_city.get_value((4, 2)), Some(&Data::Float(3_000_000.01)));
    assert_eq!(audited(&t, "funding.export").await.len(), 1);
    // A city's workbook holds its city only.
    let res = reqwest::Client::new()
        .get(t.url("/api/v1/funding.xlsx"))
        .bearer_auth(&changsha)
        .send()
        .await
        .unwrap();
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let ledger = wb.worksheet_range("资金台账").unwrap();
    assert_eq!(
        ledger.get_value((2, 1)),
        Some(&Data::String(CHANGSHA.into()))
    );
    assert_eq!(ledger.get_value((3, 1)), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_settings_of_one_year_leave_one_setting() {
    let t = support::spawn().await;
    let p = crate::fixtures::principal(&t, "province").await;
    let mut tasks = Vec::new();
    for i in 1..=6 {
        let app = t.app.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            jiqun::services::funding::set_reward(
                &app,
                &p,
                &jiqun::services::funding::RewardInput {
                    year: "2027".into(),
                    kind: "reward_cultivation".into(),
                    amount: format!("{i}0"),
                    unit: String::new(),
                },
            )
            .await
            .is_ok()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap());
    }
    let rows = jiqun::store::entity::funding_reward::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(audited(&t, "funding.reward_set").await.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_ledger_is_populated() {
    let t = support::spawn().await;
    jiqun::demo::seed_for_serve(t.app()).await.unwrap();
    let province = token(&t, "province").await;
    let (status, all) = call(&t, &province, "GET", "/api/v1/funding", None).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["rows"].as_array().unwrap().len(), 4, "{all}");
    // 培育对象 100万 + 认定 500万 paid; two projects of 250万 planned.
    assert_eq!(all["total"]["disbursed_fen"], 600_000_000);
    assert_eq!(all["total"]["arranged_fen"], 1_100_000_000);
    let changsha = token(&t, "changsha").await;
    let (_, city) = call(&t, &changsha, "GET", "/api/v1/funding", None).await;
    assert_eq!(city["rows"].as_array().unwrap().len(), 2, "{city}");
}
