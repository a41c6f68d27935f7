//! Cluster profiles (第五条): creation and editing through the API and the pages, the county and
//! joint-application rules, data scope, and the Excel import of member enterprises.

use jiqun::services::clusters::{CODE_COLUMN, NAME_COLUMN};
use jiqun_domain::credit_code::CreditCode;
use serde_json::{Value, json};

use crate::support::{self, TestApp};
use crate::{call, org_id, token};

const APPLICANT_ORG: &str = "长沙工程机械产业集群促进会";
const YUEYANG_ORG: &str = "岳阳石化产业集群促进会";

fn code(body: &str) -> String {
    CreditCode::from_parts('9', '1', "430100", body)
        .unwrap()
        .as_str()
        .to_string()
}

fn single() -> Value {
    json!({
        "name": "长沙工程机械产业集群",
        "kind": "leading",
        "industry_code": "35",
        "lead_county_code": "430121",
        "other_county_codes": ["430104"],
        "core_park": "长沙经济技术开发区",
    })
}

async fn create(t: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = call(t, token, "POST", "/api/v1/clusters", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    created
}

fn field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body["error"]["fields"]
        .as_array()?
        .iter()
        .find(|f| f["field"] == name)
        .and_then(|f| f["message"].as_str())
}

/// An .xlsx with the given rows under the header, as a person would fill the template.
fn member_sheet(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, NAME_COLUMN).unwrap();
    sheet.write_string(0, 1, CODE_COLUMN).unwrap();
    for (i, (name, credit)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        if !name.is_empty() {
            sheet.write_string(r, 0, *name).unwrap();
        }
        sheet.write_string(r, 1, *credit).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

const BOUNDARY: &str = "jiqun-test-boundary-5f0c";

fn multipart_body(file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"members.xlsx\"\r\n\
         Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads a member sheet for a preview (nothing is written yet).
async fn api_import(t: &TestApp, token: &str, cluster: i64, file: &[u8]) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/imports/members?target={cluster}")))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart_body(file))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Confirms a member import with the digest of its preview.
async fn api_confirm(t: &TestApp, token: &str, preview: &Value) -> (u16, Value) {
    call(
        t,
        token,
        "POST",
        &format!("/api/v1/imports/members/{}/commit", preview["id"]),
        Some(json!({"digest": preview["digest"]})),
    )
    .await
}

/// The problems of one row of a preview, as (column key, message).
fn row_errors(preview: &Value, row: i64) -> Vec<(String, String)> {
    preview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["row"] == row)
        .flat_map(|r| r["errors"].as_array().unwrap().clone())
        .map(|e| {
            (
                e["column_key"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn members(t: &TestApp, token: &str, cluster: i64) -> Vec<Value> {
    let (status, list) = call(
        t,
        token,
        "GET",
        &format!("/api/v1/clusters/{cluster}/members"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

/// A signed-in browser session (cookies, no redirects followed).
async fn browser(t: &TestApp, username: &str) -> reqwest::Client {
    support::page_login(t, username).await
}

async fn page(client: &reqwest::Client, t: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(t.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_is_created_read_and_edited_with_a_version_check() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let created = create(&t, &applicant, single()).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["industry_code"], "C35", "stored canonical");
    assert_eq!(created["industry_name"], "C35 专用设备制造业");
    assert_eq!(created["kind_name"], "优势产业集群");
    assert_eq!(created["city_code"], "430100");
    assert_eq!(created["lead_county"]["name"], "长沙市长沙县");
    assert_eq!(created["other_counties"][0]["code"], "430104");
    assert_eq!(created["joint"], false);
    assert_eq!(created["relation"], "lead");
    assert_eq!(created["version"], 1);

    let (status, got) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/clusters/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["name"], "长沙工程机械产业集群");

    let mut edit = single();
    edit["kind"] = json!("specialty");
    edit["core_park"] = json!("长沙经开区星沙产业基地");
    edit["other_county_codes"] = json!(["430104", "430112"]);
    edit["version"] = json!(1);
    let (status, updated) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/clusters/{id}"),
        Some(edit.clone()),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["kind_name"], "特色产业集群");
    assert_eq!(updated["other_counties"].as_array().unwrap().len(), 2);

    // A second editor who still holds version 1 is refused, and the first edit stands.
    edit["core_park"] = json!("别的园区");
    let (status, body) = call(
        &t,
        &applicant,
        "PUT",
        &format!("/api/v1/clusters/{id}"),
        Some(edit),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "stale_version");
    let (_, now) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/clusters/{id}"),
        None,
    )
    .await;
    assert_eq!(now["core_park"], "长沙经开区星沙产业基地");

    let auditor = token(&t, "auditor").await;
    let (_, log) = call(&t, &auditor, "GET", "/api/v1/audit?action=cluster.", None).await;
    let entries = log["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["cluster.update", "cluster.create"]);
    let summary = entries[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("修改前：") && summary.contains("优势产业集群"),
        "{summary}"
    );
    assert!(
        summary.contains("修改后：") && summary.contains("特色产业集群"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_error_is_named_and_a_single_application_stays_in_its_city() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let changsha_bureau = org_id(&t, "长沙市工业和信息化局").await;
    let (status, body) = call(
        &t,
        &applicant,
        "POST",
        "/api/v1/clusters",
        Some(json!({
            "name": "",
            "kind": "biggest",
            "industry_code": "C12",
            "lead_county_code": "430602",
            "other_county_codes": ["430121", "430121"],
            "core_park": "",
        })),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    for (name, expected) in [
        ("name", "请填写集群名称"),
        ("kind", "优势产业集群或特色产业集群"),
        ("industry_code", "C13至C43"),
        ("lead_county_code", "岳阳市岳阳楼区不在申报主体所在的长沙市"),
        ("other_county_codes", "选择了多次"),
        ("core_park", "请填写核心承载园区"),
    ] {
        let message = field(&body, name).unwrap_or_else(|| panic!("no error on {name}: {body}"));
        assert!(message.contains(expected), "{name}: {message}");
    }
    assert!(
        field(&body, "lead_county_code")
            .unwrap()
            .contains("联合申报"),
        "the message says what to do instead: {body}"
    );

    // Co-applicants must be promotion organisations: a city bureau is not one.
    let mut joint = single();
    joint["co_applicant_org_ids"] = json!([changsha_bureau]);
    let (status, body) = call(&t, &applicant, "POST", "/api/v1/clusters", Some(joint)).await;
    assert_eq!(status, 422);
    assert!(
        field(&body, "co_applicant_org_ids")
            .unwrap()
            .contains("不是已登记的集群发展促进组织"),
        "{body}"
    );
    let (_, list) = call(&t, &applicant, "GET", "/api/v1/clusters", None).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_application_spans_cities_and_is_routed_to_the_lead_city() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let yueyang_org = org_id(&t, YUEYANG_ORG).await;
    let mut joint = single();
    joint["name"] = json!("长岳工程机械与石化装备产业集群");
    joint["other_county_codes"] = json!(["430104", "430602", "430603"]);
    joint["co_applicant_org_ids"] = json!([yueyang_org]);
    let created = create(&t, &applicant, joint.clone()).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["joint"], true);
    assert_eq!(
        created["city_code"], "430100",
        "routed to the lead org's city"
    );
    assert_eq!(created["co_applicants"][0]["name"], YUEYANG_ORG);
    let path = format!("/api/v1/clusters/{id}");

    // The lead applicant's city reviews it; the other city does not see it.
    let changsha = token(&t, "changsha").await;
    let yueyang = token(&t, "yueyang").await;
    assert_eq!(call(&t, &changsha, "GET", &path, None).await.0, 200);
    assert_eq!(call(&t, &yueyang, "GET", &path, None).await.0, 404);
    let (_, yueyang_list) = call(&t, &yueyang, "GET", "/api/v1/clusters", None).await;
    assert_eq!(yueyang_list.as_array().unwrap().len(), 0);
    let province = token(&t, "province").await;
    assert_eq!(call(&t, &province, "GET", &path, None).await.0, 200);

    // The co-applicant sees it, read only.
    let applicant2 = token(&t, "applicant2").await;
    let (status, seen) = call(&t, &applicant2, "GET", &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(seen["relation"], "co_applicant");
    let (_, list) = call(&t, &applicant2, "GET", "/api/v1/clusters", None).await;
    assert_eq!(list[0]["relation_label"], "联合申报（成员单位）");
    let mut edit = joint.clone();
    edit["name"] = json!("改名");
    edit["version"] = json!(1);
    let (status, _) = call(&t, &applicant2, "PUT", &path, Some(edit)).await;
    assert!(matches!(status, 403 | 404), "co-applicant edit: {status}");
    let (status, _) = call(
        &t,
        &applicant2,
        "POST",
        &format!("{path}/members"),
        Some(json!({"name": "某公司", "credit_code": code("MA4L0009")})),
    )
    .await;
    assert!(
        matches!(status, 403 | 404),
        "co-applicant member add: {status}"
    );
    assert_eq!(
        call(&t, &applicant2, "GET", &format!("{path}/members"), None)
            .await
            .0,
        200
    );

    // Its page shows it read-only: no edit link, no member forms.
    let client = browser(&t, "applicant2").await;
    let (status, html) = page(&client, &t, &format!("/clusters/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"co-applicant-note\""), "{html}");
    assert!(!html.contains("id=\"edit-cluster\""));
    assert!(!html.contains("id=\"import-form\""));
    assert_eq!(
        page(&client, &t, &format!("/clusters/{id}/edit")).await.0,
        403
    );
    let (_, list_html) = page(&client, &t, "/clusters").await;
    assert!(list_html.contains("联合申报（成员单位）"), "{list_html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_applicants_do_not_see_a_cluster_and_the_province_does() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let id = create(&t, &applicant, single()).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/clusters/{id}");
    let applicant2 = token(&t, "applicant2").await;
    let (status, body) = call(&t, &applicant2, "GET", &path, None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        call(&t, &applicant2, "GET", &format!("{path}/members"), None)
            .await
            .0,
        404
    );
    let (status, _) = call(
        &t,
        &applicant2,
        "PUT",
        &path,
        Some({
            let mut e = single();
            e["version"] = json!(1);
            e
        }),
    )
    .await;
    assert_eq!(status, 404);
    let (_, list) = call(&t, &applicant2, "GET", "/api/v1/clusters", None).await;
    assert_eq!(list.as_array().unwrap().len(), 0);

    let province = token(&t, "province").await;
    let (status, seen) = call(&t, &province, "GET", &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(seen["relation"], "oversight");
    let (status, _) = call(&t, &province, "POST", "/api/v1/clusters", Some(single())).await;
    assert_eq!(status, 403, "the province does not keep cluster profiles");
    let expert = token(&t, "expert").await;
    assert_eq!(call(&t, &expert, "GET", &path, None).await.0, 404);

    // The city bureau and the province read the page; the bureau of another city does not.
    let client = browser(&t, "changsha").await;
    let (status, html) = page(&client, &t, &format!("/clusters/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("长沙经济技术开发区"));
    assert!(!html.contains("id=\"edit-cluster\""));
    let client = browser(&t, "yueyang").await;
    assert_eq!(page(&client, &t, &format!("/clusters/{id}")).await.0, 404);
    let client = browser(&t, "province").await;
    assert_eq!(page(&client, &t, &format!("/clusters/{id}")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_added_and_removed_one_by_one() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let id = create(&t, &applicant, single()).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/clusters/{id}/members");
    let member =
        json!({"name": "三一重工股份有限公司", "credit_code": code("MA4L0001").to_lowercase()});
    let (status, added) = call(&t, &applicant, "POST", &path, Some(member.clone())).await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["credit_code"], code("MA4L0001"), "stored upper-case");
    let (status, body) = call(&t, &applicant, "POST", &path, Some(member)).await;
    assert_eq!(status, 422);
    assert_eq!(field(&body, "credit_code"), Some("该企业已在成员名单中"));
    let (status, body) = call(
        &t,
        &applicant,
        "POST",
        &path,
        Some(json!({"name": " ", "credit_code": "91430100MA4L0001"})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(field(&body, "name").is_some(), "{body}");
    assert!(
        field(&body, "credit_code").unwrap().contains("18位"),
        "{body}"
    );
    let member_id = added["id"].as_i64().unwrap();
    let (status, _) = call(
        &t,
        &applicant,
        "DELETE",
        &format!("{path}/{member_id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(members(&t, &applicant, id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_member_sheet_imports_every_row() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let id = create(&t, &applicant, single()).await["id"]
        .as_i64()
        .unwrap();
    let codes: Vec<String> = (1..=4).map(|i| code(&format!("MA4L000{i}"))).collect();
    let file = member_sheet(&[
        ("三一重工股份有限公司", &codes[0]),
        ("中联重科股份有限公司", &codes[1]),
        ("山河智能装备股份有限公司", &codes[2]),
        ("铁建重工集团股份有限公司", &codes[3]),
    ]);
    let (status, preview) = api_import(&t, &applicant, id, &file).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (preview["new"].as_i64(), preview["errors"].as_i64()),
        (Some(4), Some(0))
    );
    assert_eq!(preview["target_id"], id);
    assert_eq!(preview["target_name"], "长沙工程机械产业集群");
    assert!(
        members(&t, &applicant, id).await.is_empty(),
        "nothing before the confirmation"
    );
    let (status, done) = api_confirm(&t, &applicant, &preview).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["created"], 4);
    let list = members(&t, &applicant, id).await;
    assert_eq!(list.len(), 4);
    assert_eq!(list[1]["name"], "中联重科股份有限公司");
    let (_, cluster) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/clusters/{id}"),
        None,
    )
    .await;
    assert_eq!(cluster["member_count"], 4);
    // A second confirmation imports nothing.
    let (status, _) = api_confirm(&t, &applicant, &preview).await;
    assert_eq!(status, 409);

    // The same codes again, one name corrected: every row is an update, nothing is duplicated.
    let file = member_sheet(&[
        ("三一重工股份有限公司", &codes[0]),
        ("中联重科股份有限公司", &codes[1]),
        ("山河智能装备股份有限公司", &codes[2]),
        ("中国铁建重工集团股份有限公司", &codes[3]),
    ]);
    let (status, preview) = api_import(&t, &applicant, id, &file).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (preview["new"].as_i64(), preview["updated"].as_i64()),
        (Some(0), Some(4))
    );
    let renamed = &preview["rows"][3];
    assert_eq!(renamed["action_label"], "更新");
    assert!(
        renamed["summary"]
            .as_str()
            .unwrap()
            .contains("名称由“铁建重工集团股份有限公司”改为“中国铁建重工集团股份有限公司”"),
        "{renamed}"
    );
    let (status, done) = api_confirm(&t, &applicant, &preview).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["created"].as_i64(), done["updated"].as_i64()),
        (Some(0), Some(4))
    );
    let list = members(&t, &applicant, id).await;
    assert_eq!(list.len(), 4);
    assert_eq!(list[3]["name"], "中国铁建重工集团股份有限公司");

    let auditor = token(&t, "auditor").await;
    let (_, log) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?action=cluster.members_import",
        None,
    )
    .await;
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "one audit entry per confirmed import");
    assert!(
        entries
            .iter()
            .any(|e| e["summary"].as_str().unwrap().contains("新增4家，更新0家")),
        "{log}"
    );

    // Nobody but the cluster's own applicant may import into it, nor see its imports.
    let other = token(&t, "applicant2").await;
    let (status, _) = api_import(&t, &other, id, &file).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &t,
        &other,
        "GET",
        &format!("/api/v1/imports/members/{}", preview["id"]),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let city = token(&t, "changsha").await;
    let (status, _) = api_import(&t, &city, id, &file).await;
    assert_eq!(status, 403);
    // A member import names its cluster.
    let res = reqwest::Client::new()
        .post(t.url("/api/v1/imports/members"))
        .bearer_auth(&applicant)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart_body(&file))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert!(field(&body, "target").is_some(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sheet_with_bad_rows_imports_nothing_and_names_each_row() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let id = create(&t, &applicant, single()).await["id"]
        .as_i64()
        .unwrap();
    let good = code("MA4L0001");
    let mut wrong_check = code("MA4L0002");
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '1' { '2' } else { '1' });
    let file = member_sheet(&[
        ("三一重工股份有限公司", &good),                 // row 2
        ("中联重科股份有限公司", &wrong_check),          // row 3: bad check character
        ("", &code("MA4L0003")),                         // row 4: no name
        ("山河智能装备股份有限公司", &good),             // row 5: same code as row 2
        ("铁建重工集团股份有限公司", &code("MA4L0004")), // row 6
    ]);
    let (status, preview) = api_import(&t, &applicant, id, &file).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["errors"], 3, "{preview}");
    assert_eq!(preview["committable"], false);
    let actions: Vec<&str> = preview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["new", "error", "error", "error", "new"]);
    let bad = row_errors(&preview, 3);
    assert_eq!(bad[0].0, "credit_code");
    assert!(bad[0].1.contains("校验码错误"), "{bad:?}");
    assert_eq!(
        row_errors(&preview, 4)[0],
        ("name".to_string(), "企业名称未填写".to_string())
    );
    assert!(row_errors(&preview, 5)[0].1.contains("第2行"));
    assert_eq!(
        preview["rows"][1]["errors"][0]["column"],
        "统一社会信用代码"
    );
    // A preview with errors cannot be confirmed: nothing is written.
    let (status, body) = api_confirm(&t, &applicant, &preview).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        field(&body, "file").unwrap().contains("未导入任何数据"),
        "{body}"
    );
    assert!(
        members(&t, &applicant, id).await.is_empty(),
        "all or nothing"
    );

    // The page shows the same problems row by row and keeps nothing.
    let client = browser(&t, "applicant").await;
    let (_, html) = page(&client, &t, &format!("/clusters/{id}")).await;
    assert!(
        html.contains(&format!("/imports/members?target={id}")),
        "{html}"
    );
    let csrf = support::csrf_from(&html);
    let upload = |file: Vec<u8>, with_csrf: bool| {
        let url = if with_csrf {
            t.url(&format!("/imports/members?target={id}&_csrf={csrf}"))
        } else {
            t.url(&format!("/imports/members?target={id}"))
        };
        client
            .post(url)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart_body(&file))
            .send()
    };
    let res = upload(file.clone(), true).await.unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/imports/members/"), "{location}");
    let (status, html) = page(&client, &t, &location).await;
    assert_eq!(status, 200);
    for row in ["data-row=\"3\"", "data-row=\"4\"", "data-row=\"5\""] {
        assert!(html.contains(row), "{row}: {html}");
    }
    assert!(html.contains("企业名称未填写"), "{html}");
    assert!(html.contains("不会写入任何数据"), "{html}");
    assert!(!html.contains("id=\"confirm-import\""));
    assert!(
        html.contains(&format!("/clusters/{id}#members")),
        "back to the cluster"
    );
    assert!(members(&t, &applicant, id).await.is_empty());

    // Without the CSRF token the upload is refused.
    let res = upload(member_sheet(&[("甲公司", &good)]), false)
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // A good file through the page: the preview, the confirmation, the members listed.
    let res = upload(member_sheet(&[("甲公司", &good)]), true)
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = page(&client, &t, &location).await;
    assert!(html.contains("新增<strong>1</strong>条"), "{html}");
    let digest = html
        .split("name=\"digest\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let res = client
        .post(t.url(&format!("{location}/commit")))
        .form(&[("_csrf", csrf.as_str()), ("digest", digest.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, html) = page(&client, &t, &location).await;
    assert!(html.contains("已导入：新增1条"), "{html}");
    let (_, html) = page(&client, &t, &format!("/clusters/{id}")).await;
    assert!(html.contains("甲公司"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_cannot_be_imported_get_a_clear_message() {
    let t = support::spawn().await;
    let applicant = token(&t, "applicant").await;
    let id = create(&t, &applicant, single()).await["id"]
        .as_i64()
        .unwrap();
    let (status, body) =
        api_import(&t, &applicant, id, "企业名称,统一社会信用代码\n".as_bytes()).await;
    assert_eq!(status, 422);
    assert!(
        field(&body, "file").unwrap().contains("不是Excel工作簿"),
        "{body}"
    );
    let mut damaged = member_sheet(&[("甲公司", &code("MA4L0001"))]);
    damaged.truncate(damaged.len() / 2);
    let (status, body) = api_import(&t, &applicant, id, &damaged).await;
    assert_eq!(status, 422);
    assert!(field(&body, "file").unwrap().contains("损坏"), "{body}");
    // Above the size limit: refused with 413 before anything is read. The server may answer
    // and close while the client is still sending, so a reset connection also counts.
    let big = multipart_body(&vec![b'x'; 6 * 1024 * 1024]);
    let sent = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/imports/members?target={id}")))
        .bearer_auth(&applicant)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(big)
        .send()
        .await;
    if let Ok(res) = sent {
        assert_eq!(res.status(), 413);
    }
    assert!(members(&t, &applicant, id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_template_downloads_and_reads_back() {
    use calamine::{Reader, Xlsx};

    let t = support::spawn().await;
    let client = browser(&t, "applicant").await;
    let res = client
        .get(t.url("/clusters/members-template.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment"),
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), vec!["成员企业", "填写说明"]);
    let range = wb.worksheet_range("成员企业").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header, vec![NAME_COLUMN, CODE_COLUMN]);

    let applicant = token(&t, "applicant").await;
    let res = reqwest::Client::new()
        .get(t.url("/api/v1/clusters/members-template.xlsx"))
        .bearer_auth(&applicant)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_keeps_what_was_typed_and_puts_each_error_by_its_field() {
    let t = support::spawn().await;
    let client = browser(&t, "applicant").await;
    let (status, html) = page(&client, &t, "/clusters/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("C36 汽车制造业"), "all divisions offered");
    assert!(html.contains("<optgroup label=\"岳阳市\">"));
    assert!(html.contains(YUEYANG_ORG), "co-applicant choices");
    assert!(
        !html.contains(&format!(">{APPLICANT_ORG}<"))
            && !html.contains(&format!("> {APPLICANT_ORG}<")),
        "its own organisation is not offered as a co-applicant"
    );
    let csrf = support::csrf_from(&html);
    let form = |lead: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("version", "0".into()),
            ("name", "星沙工程机械产业集群".into()),
            ("kind", "leading".into()),
            ("industry_code", "C35".into()),
            ("lead_county_code", lead.into()),
            ("other_county_codes", "430104".into()),
            ("other_county_codes", "430112".into()),
            ("core_park", "".into()),
        ]
    };
    let res = client
        .post(t.url("/clusters/new"))
        .form(&form("430602"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("data-error-for=\"lead_county_code\""),
        "{html}"
    );
    assert!(html.contains("data-error-for=\"core_park\""));
    assert!(html.contains("value=\"星沙工程机械产业集群\""), "name kept");
    assert!(
        html.contains("value=\"430112\" checked"),
        "checked counties kept"
    );
    assert!(
        html.contains("value=\"430602\" selected"),
        "lead county kept"
    );

    let mut good = form("430121");
    good.pop();
    good.push(("core_park", "长沙经济技术开发区".into()));
    let res = client
        .post(t.url("/clusters/new"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let (status, html) = page(&client, &t, &location).await;
    assert_eq!(status, 200);
    assert!(html.contains("集群信息已保存"));
    assert!(html.contains("长沙市岳麓区、长沙市望城区"), "{html}");
    assert!(html.contains("id=\"import-form\""));
    assert!(html.contains("下载导入模板"));
    let (_, list) = page(&client, &t, "/clusters").await;
    assert!(list.contains("星沙工程机械产业集群"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_lists_the_cluster_api() {
    let t = support::spawn().await;
    let spec: Value = reqwest::get(t.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [
        ("/api/v1/clusters", "post"),
        ("/api/v1/clusters/{id}", "put"),
        ("/api/v1/clusters/{id}/members", "post"),
        ("/api/v1/clusters/{id}/members/{member_id}", "delete"),
        ("/api/v1/imports/{kind}", "post"),
        ("/api/v1/imports/{kind}/{id}/commit", "post"),
        ("/api/v1/clusters/members-template.xlsx", "get"),
    ] {
        assert!(spec["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(
        spec["paths"]["/api/v1/imports/{kind}"]["post"]["requestBody"]["content"]
            ["multipart/form-data"]
            .is_object()
    );
}
