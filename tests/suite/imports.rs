//! Excel imports with a preview: what each row will do (新增 / 更新 / 错误 with the reason per
//! column), nothing written before the confirmation, all rows or none, and one import however
//! many confirmations race.

use jiqun_domain::credit_code::CreditCode;
use serde_json::{Value, json};

use crate::support::{self, TestApp};
use crate::{call, token};

pub fn code(body: &str) -> String {
    CreditCode::from_parts('9', '1', "430100", body)
        .unwrap()
        .as_str()
        .to_string()
}

/// An .xlsx with a header row and data rows, every cell text.
pub fn sheet(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let s = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            s.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

pub const ORG_HEADER: [&str; 7] = [
    "单位名称",
    "单位类型",
    "统一社会信用代码",
    "所在市州",
    "所在县（市、区）",
    "联系人",
    "联系电话",
];

const BOUNDARY: &str = "jiqun-import-boundary-7a1d";

fn multipart_body(file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"名单.xlsx\"\r\n\
         Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads a file for a preview through the API.
pub async fn api_preview(t: &TestApp, token: &str, kind: &str, file: &[u8]) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/imports/{kind}")))
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

pub async fn api_commit(t: &TestApp, token: &str, kind: &str, preview: &Value) -> (u16, Value) {
    call(
        t,
        token,
        "POST",
        &format!("/api/v1/imports/{kind}/{}/commit", preview["id"]),
        Some(json!({"digest": preview["digest"]})),
    )
    .await
}

/// Imports organisations through the API, asserting the preview is clean; (created, updated).
pub async fn import_orgs(t: &TestApp, token: &str, rows: &[Vec<&str>]) -> (i64, i64) {
    let mut all = vec![ORG_HEADER.to_vec()];
    all.extend(rows.iter().cloned());
    let (status, preview) = api_preview(t, token, "organisations", &sheet(&all)).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["errors"], 0, "{preview}");
    let (status, done) = api_commit(t, token, "organisations", &preview).await;
    assert_eq!(status, 200, "{done}");
    (
        done["created"].as_i64().unwrap(),
        done["updated"].as_i64().unwrap(),
    )
}

async fn orgs(t: &TestApp, token: &str) -> Vec<Value> {
    let (status, list) = call(t, token, "GET", "/api/v1/organisations", None).await;
    assert_eq!(status, 200);
    list.as_array().unwrap().clone()
}

fn actions(preview: &Value) -> Vec<(i64, String)> {
    preview["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_import_shows_each_row_and_writes_only_on_confirmation() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let before = orgs(&t, &admin).await;
    let existing = before
        .iter()
        .find(|o| o["kind"] == "promotion_org" && o["credit_code"].is_string())
        .expect("a demo applicant")
        .clone();
    let existing_code = existing["credit_code"].as_str().unwrap().to_string();
    let existing_name = existing["name"].as_str().unwrap().to_string();
    let existing_city = existing["city_name"].as_str().unwrap().to_string();
    let existing_county = existing["county_name"].as_str().unwrap().to_string();
    let new_code = code("MA4L1001");
    let file = sheet(&[
        ORG_HEADER.to_vec(),
        vec![
            "岳麓新材料产业促进会",
            "申报主体",
            &new_code,
            "长沙市",
            "岳麓区",
            "李四",
            "0731-12345678",
        ],
        vec![
            &existing_name,
            "申报主体",
            &existing_code,
            &existing_city,
            &existing_county,
            "新联系人",
            "0731-87654321",
        ],
        vec![
            "代码有误促进会",
            "申报主体",
            "91430100MA4L0001",
            "长沙市",
            "岳麓区",
            "",
            "",
        ],
        vec![
            "县区不符促进会",
            "申报主体",
            &code("MA4L1002"),
            "长沙市",
            "荷塘区",
            "",
            "",
        ],
    ]);
    let (status, preview) = api_preview(&t, &admin, "organisations", &file).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        actions(&preview),
        vec![
            (2, "new".into()),
            (3, "update".into()),
            (4, "error".into()),
            (5, "error".into())
        ]
    );
    assert_eq!(preview["rows"][0]["action_label"], "新增");
    assert_eq!(preview["rows"][1]["action_label"], "更新");
    let e = &preview["rows"][2]["errors"][0];
    assert_eq!(e["column"], "统一社会信用代码", "{preview}");
    assert!(e["message"].as_str().unwrap().contains("18位"), "{e}");
    let e = &preview["rows"][3]["errors"][0];
    assert_eq!(e["column"], "所在县（市、区）", "{preview}");
    assert!(
        e["message"].as_str().unwrap().contains("不属于长沙市"),
        "{e}"
    );
    assert_eq!(preview["committable"], false);
    // A preview writes nothing, and a plan with errors cannot be confirmed.
    assert_eq!(orgs(&t, &admin).await.len(), before.len());
    let (status, body) = api_commit(&t, &admin, "organisations", &preview).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(orgs(&t, &admin).await.len(), before.len());

    // The corrected file: one new, one update, all written at once.
    let file = sheet(&[
        ORG_HEADER.to_vec(),
        vec![
            "岳麓新材料产业促进会",
            "申报主体",
            &new_code,
            "430100",
            "430104",
            "李四",
            "0731-12345678",
        ],
        vec![
            &existing_name,
            "promotion_org",
            &existing_code,
            &existing_city,
            &existing_county,
            "新联系人",
            "0731-87654321",
        ],
    ]);
    let (status, preview) = api_preview(&t, &admin, "organisations", &file).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (preview["new"].as_i64(), preview["updated"].as_i64()),
        (Some(1), Some(1))
    );
    let (status, done) = api_commit(&t, &admin, "organisations", &preview).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["created"].as_i64(), done["updated"].as_i64()),
        (Some(1), Some(1))
    );
    let after = orgs(&t, &admin).await;
    assert_eq!(after.len(), before.len() + 1);
    let updated = after.iter().find(|o| o["id"] == existing["id"]).unwrap();
    assert_eq!(updated["contact_person"], "新联系人");
    let created = after
        .iter()
        .find(|o| o["credit_code"] == new_code.as_str())
        .unwrap();
    assert_eq!(created["county_name"], "岳麓区");
    // The preview of a confirmed import says so and cannot be confirmed again.
    let (status, again) = api_commit(&t, &admin, "organisations", &preview).await;
    assert_eq!(status, 409, "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("已经导入")
    );
    let (status, shown) = call(
        &t,
        &admin,
        "GET",
        &format!("/api/v1/imports/organisations/{}", preview["id"]),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(shown["status"], "committed");
    assert_eq!(shown["committable"], false);
    assert_eq!(orgs(&t, &admin).await.len(), before.len() + 1);
    // The trail names the import and each organisation written.
    let auditor = token(&t, "auditor").await;
    let (_, audit) = call(
        &t,
        &auditor,
        "GET",
        "/api/v1/audit?action=import.commit",
        None,
    )
    .await;
    assert!(audit.to_string().contains("新增1条，更新1条"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_confirmations_import_once() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let before = orgs(&t, &admin).await.len();
    let codes: Vec<String> = (1..=3).map(|i| code(&format!("MA4L300{i}"))).collect();
    let mut rows = vec![ORG_HEADER.to_vec()];
    for (i, c) in codes.iter().enumerate() {
        rows.push(vec![
            ["甲促进会", "乙促进会", "丙促进会"][i],
            "申报主体",
            c,
            "长沙市",
            "岳麓区",
            "",
            "",
        ]);
    }
    let (status, preview) = api_preview(&t, &admin, "organisations", &sheet(&rows)).await;
    assert_eq!(status, 200, "{preview}");
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (t2, admin, preview) = (t.url(""), admin.clone(), preview.clone());
        tasks.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(format!(
                    "{t2}/api/v1/imports/organisations/{}/commit",
                    preview["id"]
                ))
                .bearer_auth(admin)
                .json(&json!({"digest": preview["digest"]}))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 409, 409, 409]);
    assert_eq!(orgs(&t, &admin).await.len(), before + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_of_a_preview_the_database_has_overtaken_writes_nothing() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let (a, b) = (code("MA4L4001"), code("MA4L4002"));
    let file = sheet(&[
        ORG_HEADER.to_vec(),
        vec!["甲促进会", "申报主体", &a, "长沙市", "岳麓区", "", ""],
        vec!["乙促进会", "申报主体", &b, "长沙市", "岳麓区", "", ""],
    ]);
    let (_, preview) = api_preview(&t, &admin, "organisations", &file).await;
    assert_eq!(preview["new"], 2, "{preview}");
    // Someone registers one of the rows meanwhile: the plan is now 1 new + 1 update.
    let (status, _) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/organisations",
        Some(
            json!({"name": "乙促进会", "kind": "promotion_org", "credit_code": b,
                    "city_code": "430100", "county_code": "430104"}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let before = orgs(&t, &admin).await.len();
    let (status, body) = api_commit(&t, &admin, "organisations", &preview).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("数据已有变化")
    );
    assert_eq!(orgs(&t, &admin).await.len(), before, "nothing written");
    // Looked at again, the import can be confirmed as it now stands.
    let (_, fresh) = call(
        &t,
        &admin,
        "GET",
        &format!("/api/v1/imports/organisations/{}", preview["id"]),
        None,
    )
    .await;
    assert_eq!(
        actions(&fresh),
        vec![(2, "new".into()), (3, "update".into())]
    );
    let (status, done) = api_commit(&t, &admin, "organisations", &fresh).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(orgs(&t, &admin).await.len(), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expert_pool_imports_new_and_known_accounts_and_names_bad_rows() {
    let t = support::spawn().await;
    let admin = token(&t, "sysadmin").await;
    let province = token(&t, "province").await;
    let home = crate::org_id(&t, "中南大学").await;
    let (status, body) = call(
        &t,
        &admin,
        "POST",
        "/api/v1/users",
        Some(json!({"username": "expert9", "display_name": "新专家", "org_id": home, "role": "expert"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let header = vec![
        "登录账户",
        "姓名",
        "所在市州",
        "工作单位",
        "专业领域",
        "关联单位",
        "状态",
    ];
    let file = sheet(&[
        header.clone(),
        vec![
            "expert9",
            "新专家",
            "岳阳市",
            "湖南大学",
            "智能制造、工业软件",
            "",
            "",
        ],
        vec![
            "expert",
            "张专家",
            "长沙市",
            "中南大学",
            "工程机械",
            "某某公司",
            "在库",
        ],
        vec!["nobody", "无名", "长沙市", "某大学", "机械", "", ""],
        vec!["changsha", "某人", "长沙市", "某大学", "机械", "", ""],
        vec!["expert9", "重复", "北京市", "", "", "", "暂停"],
    ]);
    // Organisations are the system administrator's; the pool is the province's.
    let (status, _) = api_preview(&t, &admin, "experts", &file).await;
    assert_eq!(status, 403);
    let (status, preview) = api_preview(&t, &province, "experts", &file).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        actions(&preview),
        vec![
            (2, "new".into()),
            (3, "update".into()),
            (4, "error".into()),
            (5, "error".into()),
            (6, "error".into())
        ]
    );
    let msg = |row: usize| preview["rows"][row]["errors"].to_string();
    assert!(msg(2).contains("账户“nobody”不存在"), "{}", msg(2));
    assert!(msg(3).contains("不是评审专家账户"), "{}", msg(3));
    let sixth = &preview["rows"][4]["errors"];
    let columns: Vec<&str> = sixth
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        vec!["登录账户", "所在市州", "工作单位", "专业领域", "状态"],
        "{sixth}"
    );
    // Without the bad rows it goes in.
    let file = sheet(&[
        header.clone(),
        vec![
            "expert9",
            "新专家",
            "岳阳市",
            "湖南大学",
            "智能制造、工业软件",
            "",
            "",
        ],
        vec![
            "expert",
            "张专家",
            "长沙市",
            "中南大学",
            "工程机械",
            "某某公司",
            "在库",
        ],
    ]);
    let (_, preview) = api_preview(&t, &province, "experts", &file).await;
    let (status, done) = api_commit(&t, &province, "experts", &preview).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["created"].as_i64(), done["updated"].as_i64()),
        (Some(1), Some(1))
    );
    let page = support::page_login(&t, "province").await;
    let html = page
        .get(t.url("/experts?q=%E6%99%BA%E8%83%BD%E5%88%B6%E9%80%A0"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("新专家") && html.contains("岳阳市"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_preview_and_confirm_and_keep_imports_to_their_owner() {
    let t = support::spawn().await;
    let page = support::page_login(&t, "sysadmin").await;
    // The template opens in Excel with the Chinese headers.
    let res = page
        .get(t.url("/imports/organisations/template.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let first = wb.sheet_names()[0].clone();
        let range = wb.worksheet_range(&first).unwrap();
        let header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header[0], "单位名称*");
        assert_eq!(header[2], "统一社会信用代码");
    }
    let html = page
        .get(t.url("/imports/organisations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = support::csrf_from(&html);
    let file = sheet(&[
        ORG_HEADER.to_vec(),
        vec![
            "页面促进会",
            "申报主体",
            &code("MA4L5001"),
            "长沙市",
            "岳麓区",
            "",
            "",
        ],
    ]);
    let res = page
        .post(t.url(&format!("/imports/organisations?_csrf={csrf}")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart_body(&file))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let at = res.headers()["location"].to_str().unwrap().to_string();
    let html = page
        .get(t.url(&at))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-action=\"new\""), "{html}");
    assert!(html.contains("确认导入（新增1条，更新0条）"), "{html}");
    let digest = html
        .split("name=\"digest\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    // Another administrator's session sees no such import; a city bureau may not import.
    let city = support::page_login(&t, "changsha").await;
    assert_eq!(city.get(t.url(&at)).send().await.unwrap().status(), 404);
    assert_eq!(
        city.get(t.url("/imports/organisations"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let res = page
        .post(t.url(&format!("{at}/commit")))
        .form(&[("_csrf", csrf.as_str()), ("digest", digest.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = page
        .get(t.url(&at))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("已导入：新增1条，更新0条"), "{html}");
    assert!(!html.contains("confirm-import"), "{html}");
    // A second post of the same confirmation imports nothing and says why.
    let res = page
        .post(t.url(&format!("{at}/commit")))
        .form(&[("_csrf", csrf.as_str()), ("digest", digest.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("未重复导入"));
    let list = page
        .get(t.url("/orgs?q=%E9%A1%B5%E9%9D%A2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(list.matches("页面促进会").count(), 1, "{list}");
}
