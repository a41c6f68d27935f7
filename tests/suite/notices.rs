//! Public notice (公示) of a round's proposed list: the window in working days, objections from
//! the public (window, rate limit, fields, evidence), the province's handling of them,
//! confirmation with numbered designations, certificates (page and PDF), revocation, the
//! annual announcement and the Excel list.

use jiqun::store::id::{ClusterId, EntryId, RoundId};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use jiqun::store::entity::{attachment, cluster, designation, notification, objection};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use time::Duration;
use time::macros::date;

use crate::fixtures::{
    Answer, CHANGSHA, CHANGSHA_ORG, YUEYANG, ZHUZHOU, answer, application_status, audited,
    audited_under, confirmed_round, designation_numbered, error_message, field_message,
    final_round_proposing, forward_to, get_page, on_objection, on_round, post_page, proposed_round,
    publish, published_round, set_day, stored_entry, stored_round, user_id,
};
use crate::support::{self, TestApp};
use crate::{call, token};

// ---------------------------------------------------------------------------------------------
// Objections

async fn objections_stored(t: &TestApp) -> u64 {
    objection::Entity::find().count(&t.app.db).await.unwrap()
}

/// Files an objection through the public JSON API, without a session.
async fn object_json(t: &TestApp, round_id: RoundId, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/notices/{round_id}/objections")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn objection_body(entry_id: EntryId) -> Value {
    json!({
        "entry_id": entry_id,
        "name": "王建国",
        "organisation": "",
        "contact": "13800138000",
        "reason": "该集群申报材料中的营业收入数据与统计年鉴不符。",
    })
}

const BOUNDARY: &str = "----jiqunNoticeBoundary3f9a";

/// A multipart body as a browser sends the objection form: text fields, then the file (an
/// empty file part when none is chosen).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (file_name, bytes) = file.unwrap_or(("", b""));
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Posts the public objection form with `client` (anonymous unless signed in) to `action`.
async fn post_form(
    t: &TestApp,
    client: &reqwest::Client,
    action: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> Answer {
    let (ct, body) = multipart(fields, file);
    let res = client
        .post(t.url(action))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    answer(res).await
}

// ---------------------------------------------------------------------------------------------
// Publishing and the window

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_published_on_a_friday_runs_five_working_days_to_thursday() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 11 - 27)); // a Friday
    let f = proposed_round(&t).await;
    let anonymous = support::client();
    // Before publication there is nothing to see or object to.
    let (status, _) = get_page(&anonymous, &t, &format!("/notices/{}", f.round_id)).await;
    assert_eq!(status, 404);
    let (status, _) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 404);
    assert_eq!(objections_stored(&t).await, 0);

    // The province's page offers the default preamble.
    let province_page = support::page_login(&t, "province").await;
    let (status, html) = get_page(
        &province_page,
        &t,
        &format!("/rounds/{}/notice", f.round_id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("现将拟入选名单予以公示"), "{html}");
    assert!(html.contains("以真实姓名或单位名义"));
    // Others may not publish.
    let partner = token(&t, "partner").await;
    let (status, _) = on_round(
        &t,
        &partner,
        "POST",
        f.round_id,
        "notice",
        Some(json!({"notice_text": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    // An empty preamble is refused against its field, through the page too.
    let csrf = support::csrf_from(&html);
    let res = post_page(
        &province_page,
        &t,
        &format!("/rounds/{}/notice", f.round_id),
        &[
            ("_csrf", csrf.as_str()),
            ("notice_text", "  "),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("请填写公示说明"));

    let res = post_page(
        &province_page,
        &t,
        &format!("/rounds/{}/notice", f.round_id),
        &[
            ("_csrf", csrf.as_str()),
            ("notice_text", "根据有关规定，现将拟入选名单予以公示。"),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    let r = stored_round(&t, f.round_id).await;
    assert_eq!(r.status.key(), "on_notice");
    assert_eq!(r.notice_published_on, Some(date!(2026 - 11 - 27)));
    assert_eq!(r.notice_first_day, Some(date!(2026 - 11 - 27)));
    assert_eq!(r.notice_last_day, Some(date!(2026 - 12 - 03)));
    assert_eq!(r.notice_text, "根据有关规定，现将拟入选名单予以公示。");
    // The shortlisted entries and their applications are on notice; the others are not.
    assert_eq!(
        stored_entry(&t, f.entries[0].id).await.status.key(),
        "on_notice"
    );
    assert_eq!(
        stored_entry(&t, f.entries[1].id).await.status.key(),
        "not_selected"
    );
    assert_eq!(
        stored_entry(&t, f.entries[2].id).await.status.key(),
        "on_notice"
    );
    assert_eq!(application_status(&t, f.applications[0]).await, "on_notice");
    assert_eq!(
        application_status(&t, f.applications[1]).await,
        "not_selected"
    );
    // Publishing twice is refused.
    let province = token(&t, "province").await;
    let (status, body) = on_round(
        &t,
        &province,
        "POST",
        f.round_id,
        "notice",
        Some(json!({"notice_text": "再次发布"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"]["message"],
        "评审轮次当前状态为“公示中”，不能执行“发布公示”"
    );

    // The public page: no sign-in, the period in Chinese, the list without scores.
    let (status, html) = get_page(&anonymous, &t, &format!("/notices/{}", f.round_id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("2026年湖南省先进制造业集群培育对象拟入选名单公示"));
    assert!(
        html.contains("公示期：2026年11月27日至2026年12月3日（5个工作日）"),
        "{html}"
    );
    assert!(html.contains(CHANGSHA) && html.contains(YUEYANG));
    assert!(
        html.contains(CHANGSHA_ORG) && html.contains("长沙市") && html.contains("优势产业集群")
    );
    assert!(
        !html.contains(ZHUZHOU),
        "a candidate not selected is not on notice"
    );
    assert!(!html.contains("88.5"), "no scores on the public page");
    assert!(html.contains("id=\"objection-submit\""));
    let (status, list) = get_page(&anonymous, &t, "/notices").await;
    assert_eq!(status, 200);
    assert!(list.contains(&format!("/notices/{}", f.round_id)));
    let res = reqwest::get(t.url(&format!("/api/v1/notices/{}", f.round_id)))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["first_day"], "2026-11-27");
    assert_eq!(v["last_day"], "2026-12-03");
    assert_eq!(v["working_days"], 5);
    assert_eq!(v["accepting"], true);
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    // The API is described.
    let doc: Value = reqwest::get(t.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/notices/{round_id}/objections",
        "/api/v1/objections/{id}/uphold",
        "/api/v1/rounds/{id}/confirm",
        "/api/v1/revocations/{id}/decide",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }

    // Who did it, in the audit trail; the applicant was told.
    let published = audited(&t, "notice.publish").await;
    assert_eq!(published.len(), 1);
    assert!(published[0].actor_name.contains("province"));
    assert!(
        published[0].summary.contains("2个集群"),
        "{}",
        published[0].summary
    );
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id(&t, "applicant").await))
        .all(&t.app.db)
        .await
        .unwrap();
    assert!(
        told.iter().any(|n| n.title.contains("拟入选名单公示")),
        "{told:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objections_are_taken_from_the_first_through_the_last_day_only() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    // First day.
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "received");
    // Last day (the Thursday after).
    forward_to(&t, date!(2026 - 12 - 03));
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[2].id)).await;
    assert_eq!(status, 200, "{body}");
    // The day after: refused, naming the window; nothing stored.
    forward_to(&t, date!(2026 - 12 - 04));
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["error"]["message"],
        "公示期已结束（公示期为2026年11月27日至2026年12月3日），不再受理异议"
    );
    let Answer {
        status, body: html, ..
    } = post_form(
        &t,
        &support::client(),
        &format!("/notices/{}/objections", f.round_id),
        &[
            ("entry_id", &f.entries[0].id.to_string()),
            ("name", "王建国"),
            ("contact", "13800138000"),
            ("reason", "理由"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 409);
    assert!(html.contains("不再受理异议"));
    assert_eq!(objections_stored(&t).await, 2);
    // The page no longer shows the form.
    let (_, html) = get_page(&support::client(), &t, &format!("/notices/{}", f.round_id)).await;
    assert!(html.contains("公示期已结束"));
    assert!(!html.contains("id=\"objection-submit\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_across_national_day_counts_working_days_only() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 09 - 28)); // Monday; 国庆 2026-10-01..07 is off
    let f = proposed_round(&t).await;
    let v = publish(&t, f.round_id).await;
    assert_eq!(v["period"], "2026年9月28日至2026年10月9日（5个工作日）");
    forward_to(&t, date!(2026 - 10 - 05)); // inside the holiday, still inside the window
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 200, "{body}");
    forward_to(&t, date!(2026 - 10 - 09)); // the last working day
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[2].id)).await;
    assert_eq!(status, 200, "{body}");
    forward_to(&t, date!(2026 - 10 - 10)); // a worked Saturday (调休), but after the window
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 409, "{body}");
    assert!(error_message(&body).contains("2026年9月28日至2026年10月9日"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_published_on_a_saturday_opens_on_monday() {
    let t = support::spawn().await;
    set_day(&t, date!(2026 - 11 - 28));
    let f = proposed_round(&t).await;
    let v = publish(&t, f.round_id).await;
    assert_eq!(v["period"], "2026年11月30日至2026年12月4日（5个工作日）");
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["error"]["message"],
        "公示期为2026年11月30日至2026年12月4日，尚未开始，暂不受理异议"
    );
    let (_, html) = get_page(&support::client(), &t, &format!("/notices/{}", f.round_id)).await;
    assert!(html.contains("公示期尚未开始"));
    forward_to(&t, date!(2026 - 11 - 30));
    let (status, _) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// The objection form

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_missing_field_is_named_and_the_input_kept() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let entry = f.entries[0].id.to_string();
    let action = format!("/notices/{}/objections", f.round_id);
    let anonymous = support::client();
    let full = [
        ("entry_id", entry.as_str()),
        ("name", "王建国"),
        ("organisation", ""),
        ("contact", "13800138000"),
        ("reason", "申报数据与统计年鉴不符。"),
    ];
    for (missing, message) in [
        ("name", "请填写真实姓名（匿名异议不予受理）"),
        ("contact", "请填写联系电话或电子邮箱，以便核实和答复"),
        ("reason", "请填写异议事项和理由"),
        ("entry_id", "请选择异议所针对的集群"),
    ] {
        let fields: Vec<(&str, &str)> = full
            .iter()
            .map(|(k, v)| (*k, if *k == missing { "" } else { *v }))
            .collect();
        let Answer {
            status, body: html, ..
        } = post_form(&t, &anonymous, &action, &fields, None).await;
        assert_eq!(status, 422, "{missing}");
        assert!(
            html.contains(&format!("data-error-for=\"{missing}\">{message}")),
            "{missing}: {html}"
        );
        // What was typed is still there.
        if missing != "reason" {
            assert!(html.contains("申报数据与统计年鉴不符。"), "{missing}");
        }
        if missing != "name" {
            assert!(html.contains("value=\"王建国\""), "{missing}");
        }
        // The JSON API gives the same message against the same field.
        let mut body = objection_body(f.entries[0].id);
        body[missing] = if missing == "entry_id" {
            Value::Null
        } else {
            json!("")
        };
        let (status, v) = object_json(&t, f.round_id, body).await;
        assert_eq!(status, 422);
        assert_eq!(field_message(&v, missing), message);
    }
    // A contact that is neither a phone number nor an e-mail address.
    let mut body = objection_body(f.entries[0].id);
    body["contact"] = json!("请打电话");
    let (status, v) = object_json(&t, f.round_id, body).await;
    assert_eq!(status, 422);
    assert!(field_message(&v, "contact").starts_with("联系方式无效"));
    // A candidate not on notice.
    let (status, v) = object_json(&t, f.round_id, objection_body(f.entries[1].id)).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&v, "entry_id"), "所选集群不在本次公示名单中");
    // Objecting in an organisation's name needs its stamped letter (单位盖章).
    let mut body = objection_body(f.entries[0].id);
    body["organisation"] = json!("湖南某某机械有限公司");
    let (status, v) = object_json(&t, f.round_id, body).await;
    assert_eq!(status, 422);
    assert_eq!(
        field_message(&v, "file"),
        "以单位名义提出异议的，须上传加盖单位公章的异议书（PDF或扫描图片）"
    );
    assert_eq!(objections_stored(&t).await, 0);
    assert!(audited_under(&t, "objection.").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_files_at_most_five_objections_an_hour() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    assert_eq!(t.app.config.objection_rate_limit, 5);
    for i in 0..5 {
        // Each a different objection: an identical one is refused as a duplicate.
        let mut objection = objection_body(f.entries[i % 2 * 2].id);
        objection["reason"] = json!(format!("第{i}条：营业收入数据与统计年鉴不符。"));
        let (status, body) = object_json(&t, f.round_id, objection).await;
        assert_eq!(status, 200, "objection {i}: {body}");
    }
    let (status, body) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        body["error"]["message"],
        "同一网络地址每小时最多可提交5件异议，请稍后再试。本次提交未被保存。"
    );
    // The page says the same with 429, and nothing is stored either way.
    let entry = f.entries[0].id.to_string();
    let Answer {
        status, body: html, ..
    } = post_form(
        &t,
        &support::client(),
        &format!("/notices/{}/objections", f.round_id),
        &[
            ("entry_id", &entry),
            ("name", "王建国"),
            ("contact", "13800138000"),
            ("reason", "理由"),
        ],
        Some(("证据.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")),
    )
    .await;
    assert_eq!(status, 429);
    assert!(html.contains("每小时最多可提交5件异议"));
    assert!(html.contains("value=\"王建国\""), "the input is kept");
    assert_eq!(objections_stored(&t).await, 5);
    assert_eq!(
        attachment::Entity::find().count(&t.app.db).await.unwrap(),
        0
    );
    // An hour later the address may file again.
    t.app.clock.advance(Duration::minutes(61));
    let (status, _) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_is_stored_and_only_the_province_downloads_it() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let entry = f.entries[0].id.to_string();
    let action = format!("/notices/{}/objections", f.round_id);
    let fields = [
        ("entry_id", entry.as_str()),
        ("name", "李华"),
        ("organisation", "湖南某某机械有限公司"),
        ("contact", "li@example.com"),
        ("reason", "该集群核心园区数据有误，详见附件。"),
    ];
    // A file that is not a PDF or an image is refused by its content, the input kept.
    let Answer {
        status, body: html, ..
    } = post_form(
        &t,
        &support::client(),
        &action,
        &fields,
        Some(("异议书.pdf", b"just some text, not a pdf at all")),
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("佐证材料须为PDF、JPEG或PNG文件"), "{html}");
    assert!(html.contains("该集群核心园区数据有误"));
    assert_eq!(objections_stored(&t).await, 0);

    // A signed-in visitor posts through the same form: the token rides in the form's action.
    let signed_in = support::page_login(&t, "applicant2").await;
    let (_, page) = get_page(&signed_in, &t, &format!("/notices/{}", f.round_id)).await;
    let marker = "action=\"/notices/";
    let start = page.find(marker).expect("form action") + "action=\"".len();
    let form_action = page[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(form_action.contains("_csrf="), "{form_action}");
    let pdf: &[u8] = b"%PDF-1.4\n% stamped objection letter\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    let Answer {
        status, location, ..
    } = post_form(
        &t,
        &signed_in,
        &form_action,
        &fields,
        Some(("盖章异议书.pdf", pdf)),
    )
    .await;
    assert_eq!(status, 303);
    let o = objection::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        location.starts_with(&format!("/notices/{}/objections/{}?key=", f.round_id, o.id)),
        "{location}"
    );
    assert_eq!(o.organisation, "湖南某某机械有限公司");
    assert_eq!(o.client_addr, "127.0.0.1");
    // The receipt: its number, no personal data.
    let (status, receipt) = get_page(&support::client(), &t, &location).await;
    assert_eq!(status, 200);
    // The receipt number reads as the year filed and a five-digit sequence, "2026-00012".
    let year = jiqun::clock::local(o.filed_at).year();
    assert!(receipt.contains(&format!("id=\"receipt-number\">{year}-{:05}<", o.id)));
    assert!(receipt.contains("盖章异议书.pdf"));
    assert!(!receipt.contains("li@example.com"));
    // The audit names the objector as a member of the public.
    let filed = audited(&t, "objection.file").await;
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0].actor_user_id, None);
    assert_eq!(filed[0].actor_name, "李华");
    assert_eq!(filed[0].actor_role, "public");
    assert_eq!(filed[0].client_addr, "127.0.0.1");
    assert!(
        filed[0].summary.contains("盖章异议书.pdf"),
        "{}",
        filed[0].summary
    );

    let att = attachment::Entity::find()
        .filter(attachment::Column::OwnerType.eq("objection"))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("evidence stored");
    assert_eq!(att.owner_id, o.id.get());
    // The province sees the link and downloads the bytes.
    let province = support::page_login(&t, "province").await;
    let (status, html) =
        get_page(&province, &t, &format!("/rounds/{}/objections", f.round_id)).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/objections/evidence/{}", att.id)));
    assert!(html.contains("li@example.com") && html.contains("湖南某某机械有限公司"));
    let res = province
        .get(t.url(&format!("/objections/evidence/{}", att.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf);
    // Nobody else: not the applicant, not the city, not through the generic attachment route.
    for who in ["applicant", "changsha", "partner"] {
        let c = support::page_login(&t, who).await;
        assert_eq!(
            get_page(&c, &t, &format!("/objections/evidence/{}", att.id))
                .await
                .0,
            404,
            "{who}"
        );
        assert_eq!(
            get_page(&c, &t, &format!("/attachments/{}", att.id))
                .await
                .0,
            404,
            "{who}"
        );
    }
    let res = support::client()
        .get(t.url(&format!("/objections/evidence/{}", att.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "anonymous visitors are sent to sign in");
}

// ---------------------------------------------------------------------------------------------
// Handling objections

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_registers_then_dismisses_with_written_replies() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let (_, filed) = object_json(&t, f.round_id, objection_body(f.entries[0].id)).await;
    let id = filed["id"].as_i64().unwrap();
    let province = token(&t, "province").await;
    let (status, list) = on_round(&t, &province, "GET", f.round_id, "objections", None).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["name"], "王建国");
    assert_eq!(list[0]["contact"], "13800138000");
    assert_eq!(list[0]["status"], "received");
    // Only the province handles objections.
    let partner = token(&t, "partner").await;
    let (status, _) = on_objection(&t, &partner, id, "register", json!({"reply": "登记"})).await;
    assert_eq!(status, 403);
    // A reply is required, on the page as in the API.
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, &format!("/rounds/{}/objections", f.round_id)).await;
    let csrf = support::csrf_from(&html);
    let res = post_page(
        &page,
        &t,
        &format!("/objections/{id}/register"),
        &[("_csrf", csrf.as_str()), ("reply", " ")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("请填写登记说明"));
    let res = post_page(
        &page,
        &t,
        &format!("/objections/{id}/register"),
        &[
            ("_csrf", csrf.as_str()),
            ("reply", "已登记，请长沙市工信局核实营业收入数据。"),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    let (status, v) = on_objection(&t, &province, id, "dismiss", json!({"reply": ""})).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&v, "reply"), "请填写书面答复意见");
    let (status, v) = on_objection(
        &t,
        &province,
        id,
        "dismiss",
        json!({"reply": "经核实，营业收入数据与统计部门数据一致，异议不成立。"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "dismissed");
    assert_eq!(v["decided_by_name"], "产业集聚推进处 李处长");
    // Decided once.
    let (status, v) = on_objection(&t, &province, id, "uphold", json!({"reply": "改为成立"})).await;
    assert_eq!(status, 409);
    assert_eq!(
        v["error"]["message"],
        "异议当前状态为“异议不成立”，不能再处理"
    );
    // The candidate stays on notice.
    assert_eq!(
        stored_entry(&t, f.entries[0].id).await.status.key(),
        "on_notice"
    );
    // The public sees the decision by receipt number, never the objector.
    let (_, html) = get_page(&support::client(), &t, &format!("/notices/{}", f.round_id)).await;
    assert!(html.contains("异议处理结果"));
    assert!(html.contains("经核实，营业收入数据与统计部门数据一致，异议不成立。"));
    assert!(!html.contains("王建国") && !html.contains("13800138000"));
    let key = filed["key"].as_str().unwrap();
    let (status, receipt) = get_page(
        &support::client(),
        &t,
        &format!("/notices/{}/objections/{id}?key={key}", f.round_id),
    )
    .await;
    assert_eq!(status, 200);
    assert!(receipt.contains("异议不成立") && receipt.contains("统计部门数据一致"));
    // Once decided, the receipt no longer promises an investigation.
    assert!(receipt.contains("已处理完毕"), "{receipt}");
    assert!(!receipt.contains("将登记并调查核实"));
    // Without the objector's key a receipt cannot be looked up (no paging through them).
    for wrong in ["", "0000"] {
        let (status, _) = get_page(
            &support::client(),
            &t,
            &format!("/notices/{}/objections/{id}?key={wrong}", f.round_id),
        )
        .await;
        assert_eq!(status, 404);
    }
    let res = reqwest::get(t.url(&format!(
        "/api/v1/notices/{}/objections/{id}?key={key}",
        f.round_id
    )))
    .await
    .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "dismissed");
    // Each step is audited with its reply.
    let registered = audited(&t, "objection.register").await;
    assert_eq!(registered.len(), 1);
    assert_eq!(
        registered[0].reason,
        "已登记，请长沙市工信局核实营业收入数据。"
    );
    let dismissed = audited(&t, "objection.dismiss").await;
    assert_eq!(dismissed.len(), 1);
    assert!(
        dismissed[0]
            .summary
            .contains("已登记，调查核实中 → 异议不成立")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upheld_objection_removes_the_candidate_and_its_application() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let (_, filed) = object_json(&t, f.round_id, objection_body(f.entries[2].id)).await;
    let id = filed["id"].as_i64().unwrap();
    let province = token(&t, "province").await;
    let (status, v) = on_objection(
        &t,
        &province,
        id,
        "uphold",
        json!({"reply": "经核实，该集群存在弄虚作假情形，异议成立。"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "upheld");
    let e = stored_entry(&t, f.entries[2].id).await;
    assert_eq!(e.status.key(), "removed");
    assert!(e.decision_note.contains("弄虚作假"));
    assert_eq!(application_status(&t, f.applications[2]).await, "removed");
    let upheld = audited(&t, "objection.uphold").await;
    assert_eq!(upheld.len(), 1);
    assert!(upheld[0].summary.contains("取消其拟入选资格"));
    // The notice shows the removal; the candidate can no longer be objected to.
    let (_, html) = get_page(&support::client(), &t, &format!("/notices/{}", f.round_id)).await;
    assert!(html.contains("异议成立，已取消拟入选资格"));
    let (status, v) = object_json(&t, f.round_id, objection_body(f.entries[2].id)).await;
    assert_eq!(status, 422);
    assert_eq!(field_message(&v, "entry_id"), "所选集群不在本次公示名单中");
    // The applicant was told.
    let told = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id(&t, "applicant2").await))
        .all(&t.app.db)
        .await
        .unwrap();
    assert!(told.iter().any(|n| n.title.contains("公示异议成立")));
}

// ---------------------------------------------------------------------------------------------
// Confirmation, designations, certificates, revocation, announcement

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmation_waits_for_the_window_and_the_decisions_then_designates() {
    let t = support::spawn().await;
    let f = published_round(&t, date!(2026 - 11 - 27)).await;
    let (_, filed) = object_json(&t, f.round_id, objection_body(f.entries[2].id)).await;
    let objection_id = filed["id"].as_i64().unwrap();
    let province = token(&t, "province").await;
    let confirm = |token: String| {
        let t = &t;
        async move { on_round(t, &token, "POST", f.round_id, "confirm", Some(json!({}))).await }
    };
    // During the window.
    let (status, v) = confirm(province.clone()).await;
    assert_eq!(status, 409);
    assert_eq!(
        v["error"]["message"],
        "公示期至2026年12月3日结束，公示期满后方可确认名单"
    );
    // After the window, with an objection undecided; the page shows the same reason.
    forward_to(&t, date!(2026 - 12 - 04));
    let province = token(&t, "province").await;
    let (status, v) = confirm(province.clone()).await;
    assert_eq!(status, 409);
    assert_eq!(
        v["error"]["message"],
        "还有1件异议尚未作出处理决定，不能确认名单"
    );
    let page = support::page_login(&t, "province").await;
    let (_, html) = get_page(&page, &t, &format!("/rounds/{}/notice", f.round_id)).await;
    assert!(html.contains("还有1件异议尚未作出处理决定"));
    // Blocked: the button is disabled and the reason is said once, even to a forced post.
    assert!(html.contains("id=\"confirm-submit\" disabled"));
    let res = post_page(
        &page,
        &t,
        &format!("/rounds/{}/confirm", f.round_id),
        &[
            ("_csrf", support::csrf_from(&html).as_str()),
            ("acknowledge", "on"),
        ],
    )
    .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.body.matches("还有1件异议尚未作出处理决定").count(), 1);
    let (status, _) = on_objection(
        &t,
        &province,
        objection_id,
        "dismiss",
        json!({"reply": "经核实，异议不成立。"}),
    )
    .await;
    assert_eq!(status, 200);
    // Only the province confirms.
    let partner = token(&t, "partner").await;
    let (status, _) = confirm(partner).await;
    assert_eq!(status, 403);
    // Through the page, which asks the province to say it checked the list first.
    let csrf = support::csrf_from(&html);
    let res = post_page(
        &page,
        &t,
        &format!("/rounds/{}/confirm", f.round_id),
        &[("_csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("请勾选“我已核对名单”"), "{}", res.body);
    assert_eq!(stored_round(&t, f.round_id).await.status.key(), "on_notice");
    let res = post_page(
        &page,
        &t,
        &format!("/rounds/{}/confirm", f.round_id),
        &[("_csrf", csrf.as_str()), ("acknowledge", "on")],
    )
    .await;
    assert_eq!(res.status, 303);
    let r = stored_round(&t, f.round_id).await;
    assert_eq!(r.status.key(), "confirmed");
    assert_eq!(r.confirmed_on, Some(date!(2026 - 12 - 04)));
    for i in [0, 2] {
        assert_eq!(
            stored_entry(&t, f.entries[i].id).await.status.key(),
            "confirmed"
        );
        assert_eq!(application_status(&t, f.applications[i]).await, "confirmed");
    }
    assert_eq!(
        stored_entry(&t, f.entries[1].id).await.status.key(),
        "not_selected"
    );
    let designations = designation::Entity::find().all(&t.app.db).await.unwrap();
    let mut numbers: Vec<(ClusterId, String)> = designations
        .iter()
        .map(|d| (d.cluster_id, d.certificate_number.clone()))
        .collect();
    numbers.sort();
    assert_eq!(
        numbers.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        ["湘集群培〔2026〕第001号", "湘集群培〔2026〕第002号"]
    );
    for d in &designations {
        assert_eq!(d.designation.key(), "cultivation_target");
        assert_eq!(d.effective_on, date!(2026 - 12 - 04));
        assert_eq!(d.year, 2026);
        let c = cluster::Entity::find_by_id(d.cluster_id)
            .one(&t.app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.lifecycle.key(), "cultivation", "{}", c.name);
    }
    let zhuzhou = cluster::Entity::find_by_id(f.entries[1].cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(zhuzhou.lifecycle.key(), "applicant");
    // Confirmed once.
    let (status, _) = confirm(province.clone()).await;
    assert_eq!(status, 409);

    // Scope: an applicant sees its own certificate, a city its city's, the province all.
    let (_, all) = call(&t, &province, "GET", "/api/v1/certificates", None).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let applicant = token(&t, "applicant").await;
    let (_, mine) = call(&t, &applicant, "GET", "/api/v1/certificates", None).await;
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["cluster_name"], CHANGSHA);
    assert_eq!(mine[0]["org_name"], CHANGSHA_ORG);
    assert_eq!(mine[0]["certificate_number"], "湘集群培〔2026〕第001号");
    let yueyang_id = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster_name"] == YUEYANG)
        .and_then(|c| c["id"].as_i64())
        .unwrap();
    let (status, _) = call(
        &t,
        &applicant,
        "GET",
        &format!("/api/v1/certificates/{yueyang_id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let yueyang_city = token(&t, "yueyang").await;
    let (_, theirs) = call(&t, &yueyang_city, "GET", "/api/v1/certificates", None).await;
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert_eq!(theirs[0]["cluster_name"], YUEYANG);

    // The announcement is public and lists the numbers.
    let anonymous = support::client();
    let (status, list) = get_page(&anonymous, &t, "/announcements").await;
    assert_eq!(status, 200);
    assert!(list.contains("关于公布2026年湖南省先进制造业集群培育对象名单的通知"));
    let (status, html) = get_page(&anonymous, &t, &format!("/announcements/{}", f.round_id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("湘集群培〔2026〕第001号") && html.contains("湘集群培〔2026〕第002号"));
    assert!(html.contains(CHANGSHA) && html.contains(YUEYANG) && !html.contains(ZHUZHOU));
    assert!(html.contains("2026年12月4日"));
    let v: Value = reqwest::get(t.url(&format!("/api/v1/announcements/{}", f.round_id)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);

    // Revocation is a proceeding ending in a numbered decision (see revocation.rs).
    crate::revocation::revoke_by_case(&t, f.entries[2].cluster_id, "applicant2").await;
    let (status, v) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/certificates/{yueyang_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["revoked"], true);
    assert_eq!(v["revoked_on"], "2026-12-04");
    let c = cluster::Entity::find_by_id(f.entries[2].cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.lifecycle.key(), "revoked");
    let (_, html) = get_page(&anonymous, &t, &format!("/announcements/{}", f.round_id)).await;
    assert!(html.contains("已于2026年12月4日撤销"));

    // The whole round is in the audit trail, and the chain is intact.
    for (action, n) in [
        ("notice.publish", 1),
        ("objection.file", 1),
        ("objection.dismiss", 1),
        ("round.confirm", 1),
        ("designation.create", 2),
        ("revocation.decide", 1),
    ] {
        let found = audited(&t, action).await;
        assert_eq!(found.len(), n, "{action}");
    }
    let confirmed = audited(&t, "round.confirm").await;
    assert!(
        confirmed[0]
            .summary
            .contains("2个集群被确定为湖南省先进制造业集群培育对象"),
        "{}",
        confirmed[0].summary
    );
    let revoked = audited(&t, "revocation.decide").await;
    assert_eq!(revoked[0].reason, "申报数据与统计数据不符，且无合理解释");
    let verified = jiqun::audit::verify(&t.app.db, &t.app.audit_key)
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified:?}");
}

pub(crate) fn pdf_text(bytes: &[u8], dir: &std::path::Path) -> String {
    let path = dir.join("certificate.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext is needed to read the certificate back (Debian: apt-get install poppler-utils)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_prints_on_a4_and_downloads_as_a_pdf_with_its_text() {
    let t = support::spawn().await;
    confirmed_round(&t).await;
    let d = designation_numbered(&t, "湘集群培〔2026〕第001号").await;
    let applicant = support::page_login(&t, "applicant").await;
    let (status, list) = get_page(&applicant, &t, "/certificates").await;
    assert_eq!(status, 200);
    assert!(list.contains("湘集群培〔2026〕第001号") && !list.contains(YUEYANG));
    let (status, html) = get_page(&applicant, &t, &format!("/certificates/{}", d.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("/static/certificate.css"));
    assert!(html.contains(&format!(
        "{CHANGSHA}（申报主体：{CHANGSHA_ORG}）经评审、公示，被确定为湖南省先进制造业集群培育对象。"
    )));
    assert!(html.contains("湖南省工业和信息化厅") && html.contains("2026年12月4日"));
    assert!(html.contains("id=\"print\""));
    assert!(
        !html.contains("open-revocation"),
        "only the province opens a revocation case"
    );
    let css = reqwest::get(t.url("/static/certificate.css"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("size: A4"));
    // Another organisation's certificate is not there for the applicant.
    let other = designation_numbered(&t, "湘集群培〔2026〕第002号").await;
    let (status, _) = get_page(&applicant, &t, &format!("/certificates/{}", other.id)).await;
    assert_eq!(status, 404);
    let (status, _) = get_page(&applicant, &t, &format!("/certificates/{}.pdf", other.id)).await;
    assert_eq!(status, 404);

    let res = applicant
        .get(t.url(&format!("/certificates/{}.pdf", d.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text: String = pdf_text(&bytes, &t.db.dir)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for wanted in [
        CHANGSHA,
        CHANGSHA_ORG,
        "湘集群培〔2026〕第001号",
        "湖南省先进制造业集群培育对象",
    ] {
        assert!(text.contains(wanted), "{wanted} not in {text}");
    }
    let downloads = audited(&t, "certificate.download").await;
    assert_eq!(downloads.len(), 1);
    assert!(downloads[0].summary.contains("湘集群培〔2026〕第001号"));

    // A revoked certificate is void: the page says so, the PDF is refused.
    crate::revocation::revoke_by_case(&t, d.cluster_id, "applicant").await;
    let (_, html) = get_page(&applicant, &t, &format!("/certificates/{}", d.id)).await;
    assert!(html.contains("证书作废") && html.contains("湘工信集群撤〔2026〕1号"));
    let (status, html) = get_page(&applicant, &t, &format!("/certificates/{}.pdf", d.id)).await;
    assert_eq!(status, 409);
    assert!(html.contains("证书已作废"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_font_is_a_clear_chinese_503() {
    let db = support::fresh_db().await;
    let mut config = support::config_for(&db);
    config.pdf_font = Some(db.dir.join("没有这个字体.ttf"));
    let app: jiqun::app::Shared =
        std::sync::Arc::new(jiqun::server::open(config, true).await.expect("open app"));
    jiqun::demo::seed(&app).await.expect("seed");
    let listener = jiqun::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = app.clone();
    tokio::spawn(async move {
        let _ = jiqun::server::serve(served, listener).await;
    });
    let t = TestApp { base, app, db };
    confirmed_round(&t).await;
    let d = designation::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let page = support::page_login(&t, "province").await;
    let (status, html) = get_page(&page, &t, &format!("/certificates/{}.pdf", d.id)).await;
    assert_eq!(status, 503);
    assert!(html.contains("证书PDF暂时无法生成"), "{html}");
    assert!(html.contains("未找到可用的中文字体文件"), "{html}");
    assert!(audited(&t, "certificate.download").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_round_certifies_its_winners() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    // A 决赛 whose proposed list is fixed (its opening and scoring are built elsewhere).
    let changsha = f.entries[0].clone();
    let prelim = stored_round(&t, f.round_id).await;
    let fin = final_round_proposing(&t, &prelim, &changsha).await;
    let v = publish(&t, fin.id).await;
    assert_eq!(v["title"], "2026年湖南省先进制造业集群拟认定名单公示");
    assert_eq!(v["period"], "2026年12月4日至2026年12月10日（5个工作日）");
    forward_to(&t, date!(2026 - 12 - 11));
    let province = token(&t, "province").await;
    let (status, v) = on_round(&t, &province, "POST", fin.id, "confirm", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["designations"][0]["certificate_number"],
        "湘集群认〔2026〕第001号"
    );
    assert_eq!(
        v["designations"][0]["designation_label"],
        "湖南省先进制造业集群"
    );
    let c = cluster::Entity::find_by_id(changsha.cluster_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.lifecycle.key(), "certified");
    // A final round leaves the 初赛 application as it was.
    assert_eq!(
        application_status(&t, changsha.application_id).await,
        "confirmed"
    );
    let (_, html) = get_page(
        &support::client(),
        &t,
        &format!("/announcements/{}", fin.id),
    )
    .await;
    assert!(html.contains("关于公布2026年湖南省先进制造业集群名单的通知"));
    assert!(html.contains("湘集群认〔2026〕第001号"));
    let id = v["designations"][0]["id"].as_i64().unwrap();
    let page = support::page_login(&t, "applicant").await;
    let (_, html) = get_page(&page, &t, &format!("/certificates/{id}")).await;
    assert!(html.contains("经评审、公示，被认定为湖南省先进制造业集群。"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_exports_the_list_to_excel() {
    let t = support::spawn().await;
    let f = confirmed_round(&t).await;
    let page = support::page_login(&t, "province").await;
    let res = page
        .get(t.url(&format!("/rounds/{}/list.xlsx", f.round_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range("初赛名单").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows[1][0], Data::String("序号".into()));
    assert_eq!(rows[1][1], Data::String("证书编号".into()));
    assert_eq!(rows[2][2], Data::String(CHANGSHA.into()));
    assert_eq!(rows[2][1], Data::String("湘集群培〔2026〕第001号".into()));
    assert_eq!(rows[2][6], Data::Float(88.5));
    assert_eq!(rows[2][8], Data::String("已确定".into()));
    assert_eq!(rows.len(), 4, "title, header and the two listed clusters");
    assert_eq!(audited(&t, "round.export_list").await.len(), 1);
    let partner = support::page_login(&t, "partner").await;
    assert_eq!(
        get_page(&partner, &t, &format!("/rounds/{}/list.xlsx", f.round_id))
            .await
            .0,
        403
    );
}
