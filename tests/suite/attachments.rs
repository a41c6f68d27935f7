//! The attachment store against a real data dir and database: streaming, limits, content-type
//! checks, dedupe under concurrency, and the HTTP routes' answers.

use jiqun::store::id::{CompetitionId, UserId};
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use jiqun::app::Principal;
use jiqun::attachments::{self, IterChunks, Kind, Limits, Purpose};
use jiqun::services::owners::OwnerType;
use jiqun::store::entity::{attachment, audit_entry, blob, competition, organisation};
use jiqun_domain::attachment::testing::zip_with;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::Value;
use sm3::{Digest, Sm3};

use crate::support::{self, TestApp};
use crate::{call, token};

const MIB: usize = 1024 * 1024;

async fn principal(t: &TestApp, username: &str) -> Principal {
    let user = jiqun::services::users::find_by_username(t.app(), username)
        .await
        .unwrap()
        .unwrap();
    let org = organisation::Entity::find_by_id(user.org_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    let role = user.role;
    Principal {
        user,
        org,
        role,
        client_addr: "127.0.0.1".into(),
    }
}

/// `total` bytes starting with `header`, then a deterministic pseudo-random fill, in 1 MB chunks:
/// generated as it is consumed, so a 60 MB upload never exists whole in the test either.
fn generated(header: &'static [u8], total: usize, seed: u64) -> impl Iterator<Item = Bytes> + Send {
    let mut state = seed | 1;
    let mut sent = 0usize;
    std::iter::from_fn(move || {
        if sent >= total {
            return None;
        }
        let n = MIB.min(total - sent);
        let mut chunk = Vec::with_capacity(n);
        if sent == 0 {
            chunk.extend_from_slice(&header[..header.len().min(n)]);
        }
        while chunk.len() < n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let take = (n - chunk.len()).min(8);
            chunk.extend_from_slice(&state.to_le_bytes()[..take]);
        }
        sent += n;
        Some(Bytes::from(chunk))
    })
}

fn sm3_of(chunks: impl Iterator<Item = Bytes>) -> String {
    let mut h = Sm3::new();
    for c in chunks {
        h.update(&c);
    }
    hex::encode(h.finalize())
}

fn once(bytes: &[u8]) -> IterChunks<std::vec::IntoIter<Bytes>> {
    IterChunks(vec![Bytes::copy_from_slice(bytes)].into_iter())
}

fn limits(purpose: Purpose, max_bytes: u64) -> Limits {
    Limits {
        purpose,
        max_bytes,
        allowed: purpose.allowed(),
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Files in the content store (the temporary folder excluded).
fn stored_files(t: &TestApp) -> Vec<PathBuf> {
    let root = t.app.config.data_dir.join("attachments");
    let tmp = attachments::temp_dir(&t.app.config.data_dir);
    files_under(&root)
        .into_iter()
        .filter(|p| !p.starts_with(&tmp))
        .collect()
}

fn temp_files(t: &TestApp) -> Vec<PathBuf> {
    files_under(&attachments::temp_dir(&t.app.config.data_dir))
}

fn message(e: &jiqun::error::AppError) -> String {
    assert_eq!(e.fields().len(), 1, "{e:?}");
    assert_eq!(e.fields()[0].field, "file");
    e.fields()[0].message.clone()
}

async fn count_blobs(t: &TestApp) -> u64 {
    blob::Entity::find().count(&t.app.db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_streams_to_a_file_named_by_its_sm3() {
    let t = support::spawn().await;
    let p = principal(&t, "applicant").await;
    let size = 60 * MIB;
    let expected = sm3_of(generated(b"%PDF-1.7\n", size, 7));
    let received = attachments::receive_stream(
        t.app(),
        IterChunks(generated(b"%PDF-1.7\n", size, 7)),
        "集群申请报告.pdf",
        &limits(Purpose::Evidence, 64 * MIB as u64),
    )
    .await
    .unwrap();
    assert_eq!(received.sm3, expected);
    assert_eq!(received.size, size as u64);
    assert_eq!(received.kind, Kind::Pdf);
    assert!(
        received
            .temp_path()
            .starts_with(attachments::temp_dir(&t.app.config.data_dir))
    );
    let view = attachments::attach(
        t.app(),
        &p,
        OwnerType::Application,
        41,
        Purpose::Evidence,
        received,
    )
    .await
    .unwrap();
    assert_eq!(view.sm3, expected);
    assert_eq!(view.size_label, "60MB");
    assert_eq!(view.purpose_label, "佐证材料");
    assert_eq!(view.file_name, "集群申请报告.pdf");
    let path = jiqun::blob_store::local_path(&t.app.config.data_dir, &expected).unwrap();
    assert_eq!(path.file_name().unwrap().to_str().unwrap(), expected);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size as u64);
    // The name is the digest of what is on disk, recomputed from the file.
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(sm3_of(std::iter::once(Bytes::from(on_disk))), expected);
    assert!(temp_files(&t).is_empty(), "{:?}", temp_files(&t));
    let b = blob::Entity::find()
        .filter(blob::Column::Sm3.eq(expected.as_str()))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((b.size, b.mime.as_str()), (size as i64, "application/pdf"));
    let audit = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("attachment.upload"))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(audit.object_id, view.id.to_string());
    assert!(
        audit.summary.contains("集群申请报告.pdf") && audit.summary.contains(&expected[..16]),
        "{}",
        audit.summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_file_is_refused_with_its_limit_named_and_nothing_kept() {
    let t = support::spawn().await;
    let evidence = attachments::limits_for("evidence").unwrap();
    assert_eq!(evidence.max_bytes, attachments::max_upload_bytes());
    let over = evidence.max_bytes as usize + 10 * MIB;
    let err = attachments::receive_stream(
        t.app(),
        IterChunks(generated(b"%PDF-1.7\n", over, 3)),
        "太大的文件.pdf",
        &evidence,
    )
    .await
    .unwrap_err();
    let limit = attachments::human_size(evidence.max_bytes);
    assert_eq!(
        message(&err),
        format!("文件超过{limit}上限，请压缩或拆分后再上传")
    );
    if std::env::var("JIQUN_MAX_UPLOAD_MB").is_err() {
        assert!(message(&err).contains("50MB"));
    }
    assert!(temp_files(&t).is_empty(), "{:?}", temp_files(&t));
    assert!(stored_files(&t).is_empty());
    assert_eq!(count_blobs(&t).await, 0);
    // A file exactly at the limit is accepted.
    let at = attachments::receive_stream(
        t.app(),
        IterChunks(generated(b"%PDF-1.7\n", 2 * MIB, 4)),
        "刚好.pdf",
        &limits(Purpose::Evidence, 2 * MIB as u64),
    )
    .await
    .unwrap();
    assert_eq!(at.size, 2 * MIB as u64);
    drop(at);
    assert!(
        temp_files(&t).is_empty(),
        "dropping a received file removes it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_not_the_name_decides_the_type() {
    let t = support::spawn().await;
    let max = 50 * MIB as u64;
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[7; 20_000]);
    let refuse = async |bytes: &[u8], name: &str, purpose: Purpose| {
        let err = attachments::receive_stream(t.app(), once(bytes), name, &limits(purpose, max))
            .await
            .unwrap_err();
        message(&err)
    };
    assert_eq!(
        refuse(&png, "申请报告.pdf", Purpose::Report).await,
        "申请报告须为PDF文件，上传的文件实际为PNG图片"
    );
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "成员单位").unwrap();
    let xlsx = wb.save_to_buffer().unwrap();
    assert_eq!(
        refuse(&xlsx, "申请报告.pdf", Purpose::Report).await,
        "申请报告须为PDF文件，上传的文件实际为Excel表格（XLSX）"
    );
    let docx = zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
    assert_eq!(
        refuse(&docx, "成员.xlsx", Purpose::MemberImport).await,
        "成员单位导入表须为Excel表格（XLSX），上传的文件实际为Word文档（DOCX）"
    );
    assert_eq!(
        refuse(b"GIF89a\x01\x00\x01\x00", "承诺书.jpg", Purpose::Pledge).await,
        "真实性承诺书须为PDF、JPEG或PNG文件，上传的文件实际为GIF图片"
    );
    let mut truncated = docx.clone();
    truncated.truncate(docx.len() - 10);
    assert!(
        refuse(&truncated, "a.zip", Purpose::Evidence)
            .await
            .contains("已损坏")
    );
    assert!(temp_files(&t).is_empty(), "{:?}", temp_files(&t));
    assert_eq!(count_blobs(&t).await, 0);

    // Accepted by content, whatever the name says; the name gets the right extension.
    let ok = attachments::receive_stream(
        t.app(),
        once(&xlsx),
        "成员单位名单",
        &limits(Purpose::MemberImport, max),
    )
    .await
    .unwrap();
    assert_eq!(
        (ok.kind, ok.file_name.as_str()),
        (Kind::Xlsx, "成员单位名单.xlsx")
    );
    let ok = attachments::receive_stream(
        t.app(),
        once(b"%PDF-1.4\n%stamped\n"),
        "盖章页.png",
        &limits(Purpose::Pledge, max),
    )
    .await
    .unwrap();
    assert_eq!(
        (ok.kind, ok.file_name.as_str()),
        (Kind::Pdf, "盖章页.png.pdf")
    );
    let ok = attachments::receive_stream(
        t.app(),
        once(&docx),
        "说明.docx",
        &limits(Purpose::Evidence, max),
    )
    .await
    .unwrap();
    assert_eq!(ok.kind, Kind::Docx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_is_refused() {
    let t = support::spawn().await;
    let l = limits(Purpose::Evidence, 50 * MIB as u64);
    let empty = || IterChunks(Vec::<Bytes>::new().into_iter());
    let err = attachments::receive_stream(t.app(), empty(), "空.pdf", &l)
        .await
        .unwrap_err();
    assert_eq!(message(&err), "文件为空（0字节），请检查后重新选择");
    let err = attachments::receive_stream(t.app(), empty(), "", &l)
        .await
        .unwrap_err();
    assert_eq!(message(&err), "请选择要上传的文件");
    assert!(temp_files(&t).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_uploaded_twice_are_stored_once() {
    let t = support::spawn().await;
    let p = principal(&t, "applicant").await;
    let l = limits(Purpose::Evidence, 50 * MIB as u64);
    let bytes: Vec<u8> = generated(b"%PDF-1.6\n", 3 * MIB, 11)
        .flat_map(|c| c.to_vec())
        .collect();
    let mut views = Vec::new();
    for (name, owner_id) in [("营业执照.pdf", 5), ("营业执照（副本）.pdf", 6)] {
        let r = attachments::receive_stream(t.app(), once(&bytes), name, &l)
            .await
            .unwrap();
        views.push(
            attachments::attach(
                t.app(),
                &p,
                OwnerType::Application,
                owner_id,
                Purpose::Evidence,
                r,
            )
            .await
            .unwrap(),
        );
    }
    assert_eq!(views[0].sm3, views[1].sm3);
    assert_eq!(count_blobs(&t).await, 1);
    assert_eq!(stored_files(&t).len(), 1);
    assert!(temp_files(&t).is_empty());
    assert_eq!(
        attachment::Entity::find().count(&t.app.db).await.unwrap(),
        2
    );
    let listed = attachments::list(t.app(), OwnerType::Application, 6)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].file_name, "营业执照（副本）.pdf");
    assert_eq!(listed[0].size_label, "3MB");
    assert_eq!(listed[0].type_label, "PDF文件");
    assert_eq!(listed[0].uploader_name, p.user.display_name);
    // A standalone store of the same content returns the same row.
    let r = attachments::receive_stream(t.app(), once(&bytes), "again.pdf", &l)
        .await
        .unwrap();
    let b = attachments::store(t.app(), &t.app.db, r).await.unwrap();
    assert_eq!(b.sm3, views[0].sm3);
    assert_eq!(count_blobs(&t).await, 1);
    // Opening streams the stored bytes.
    let d = attachments::open(t.app(), views[1].id).await.unwrap();
    assert_eq!(d.blob.size, bytes.len() as i64);
    assert_eq!(d.attachment.owner_id, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_uploads_share_one_blob() {
    let t = support::spawn().await;
    let p = principal(&t, "applicant").await;
    let bytes: Vec<u8> = generated(b"%PDF-1.7\n", 2 * MIB, 99)
        .flat_map(|c| c.to_vec())
        .collect();
    let expected = sm3_of(std::iter::once(Bytes::from(bytes.clone())));
    let mut tasks = Vec::new();
    for i in 0..8i64 {
        let app = t.app.clone();
        let p = p.clone();
        let bytes = bytes.clone();
        tasks.push(tokio::spawn(async move {
            // Chunked like a network stream, so the tasks interleave.
            let chunks: Vec<Bytes> = bytes
                .chunks(64 * 1024)
                .map(Bytes::copy_from_slice)
                .collect();
            let l = limits(Purpose::Evidence, 50 * MIB as u64);
            let r = attachments::receive_stream(
                &app,
                IterChunks(chunks.into_iter()),
                "同一文件.pdf",
                &l,
            )
            .await?;
            attachments::attach(
                &app,
                &p,
                OwnerType::Application,
                100 + i,
                Purpose::Evidence,
                r,
            )
            .await
        }));
    }
    for task in tasks {
        let view = task.await.unwrap().unwrap();
        assert_eq!(view.sm3, expected);
    }
    assert_eq!(count_blobs(&t).await, 1);
    assert_eq!(
        attachment::Entity::find().count(&t.app.db).await.unwrap(),
        8
    );
    let files = stored_files(&t);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name().unwrap().to_str().unwrap(), expected);
    assert!(temp_files(&t).is_empty());
    let verified = jiqun::audit::verify(&t.app.db, &t.app.audit_key)
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified:?}");
}

/// A multipart body with one file field, as a browser sends it.
pub(crate) fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----jiqunTestBoundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn post_file(
    t: &TestApp,
    token: &str,
    query: &str,
    file_name: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let (ct, body) = multipart("file", file_name, bytes);
    let res = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/attachments?{query}")))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
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

pub(crate) async fn a_competition(t: &TestApp) -> CompetitionId {
    let now = t.app.clock.now();
    competition::ActiveModel {
        year: Set(2026),
        title: Set("2026年度先进制造业集群竞赛".into()),
        policy_id: Set("hunan-2021".into()),
        policy_source: Set(String::new()),
        submission_deadline: Set(now + time::Duration::days(30)),
        review_deadline: Set(now + time::Duration::days(60)),
        notice_text: Set(String::new()),
        status: Set(jiqun::store::entity::kinds::CompetitionStatus::Open),
        created_by: Set(UserId::new(1)),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_uploads_lists_and_downloads_within_scope() {
    let t = support::spawn().await;
    let competition = a_competition(&t).await;
    let province = token(&t, "province").await;
    let query = format!("owner_type=competition&owner_id={competition}&purpose=notice");
    let pdf = b"%PDF-1.7\n% notice\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
    let (status, view) = post_file(
        &t,
        &province,
        &query,
        "关于开展2026年度集群竞赛的通知.pdf",
        pdf,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["purpose_label"], "通知附件");
    assert_eq!(view["file_name"], "关于开展2026年度集群竞赛的通知.pdf");
    let id = view["id"].as_i64().unwrap();

    // The wrong type is refused with the rule, as JSON on the "file" field.
    let (status, body) =
        post_file(&t, &province, &query, "通知.pdf", b"\x89PNG\r\n\x1a\n0000").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "file");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "通知附件须为PDF、DOCX或XLSX文件，上传的文件实际为PNG图片"
    );
    // Bad parameters are named.
    let (status, body) = post_file(
        &t,
        &province,
        "owner_type=x&owner_id=1&purpose=report",
        "a.pdf",
        pdf,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "owner_type");

    let (status, list) = call(
        &t,
        &province,
        "GET",
        &format!("/api/v1/attachments?owner_type=competition&owner_id={competition}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);

    let res = reqwest::Client::new()
        .get(t.url(&format!("/api/v1/attachments/{id}")))
        .bearer_auth(&province)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(
        res.headers()["content-length"],
        pdf.len().to_string().as_str()
    );
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename*=UTF-8''%E5%85%B3%E4%BA%8E"),
        "{disposition}"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf);

    // Missing and out of scope look alike.
    let (status, _) = call(&t, &province, "GET", "/api/v1/attachments/999999", None).await;
    assert_eq!(status, 404);
    let applicant = token(&t, "applicant").await;
    let (status, body) = post_file(&t, &applicant, &query, "通知.pdf", pdf).await;
    assert!(matches!(status, 403 | 404), "{status} {body}");
    assert_eq!(
        attachment::Entity::find().count(&t.app.db).await.unwrap(),
        1
    );
    assert!(temp_files(&t).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_scope_files_are_not_found_and_pages_need_a_session() {
    let t = support::spawn().await;
    // A file on an application nobody can see.
    let p = principal(&t, "applicant").await;
    let r = attachments::receive_stream(
        t.app(),
        once(b"%PDF-1.7\nsecret\n"),
        "a.pdf",
        &limits(Purpose::Report, 1024),
    )
    .await
    .unwrap();
    let v = attachments::attach(
        t.app(),
        &p,
        OwnerType::Application,
        987_654,
        Purpose::Report,
        r,
    )
    .await
    .unwrap();
    let other = token(&t, "applicant2").await;
    let (status, body) = call(
        &t,
        &other,
        "GET",
        &format!("/api/v1/attachments/{}", v.id),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = call(
        &t,
        &other,
        "GET",
        "/api/v1/attachments?owner_type=application&owner_id=987654",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, limits) = call(&t, &other, "GET", "/api/v1/attachments/limits", None).await;
    assert_eq!(status, 200);
    assert_eq!(limits.as_array().unwrap().len(), Purpose::ALL.len());
    assert_eq!(limits[0]["purpose"], "report");
    assert_eq!(limits[0]["allowed"][0], "PDF");

    let res = support::client()
        .get(t.url(&format!("/attachments/{}", v.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");

    let (status, doc) = call(&t, &other, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["paths"]["/api/v1/attachments"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/attachments/{id}"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_beyond_the_form_limit_pass_and_files_beyond_the_upload_limit_do_not() {
    let t = support::spawn().await;
    let competition = a_competition(&t).await;
    let province = token(&t, "province").await;
    let query = format!("owner_type=competition&owner_id={competition}&purpose=notice");
    // Well over the 2 MB that forms and JSON may send.
    let big: Vec<u8> = generated(b"%PDF-1.7\n", 5 * MIB, 21)
        .flat_map(|c| c.to_vec())
        .collect();
    let (status, view) = post_file(&t, &province, &query, "附件一.pdf", &big).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["size"], 5 * MIB as i64);
    // Just over the per-file limit (within the request slack, so the whole request is read and
    // the answer always arrives).
    let max = attachments::max_upload_bytes() as usize;
    let over: Vec<u8> = generated(b"%PDF-1.7\n", max + 512 * 1024, 22)
        .flat_map(|c| c.to_vec())
        .collect();
    let (status, body) = post_file(&t, &province, &query, "附件二.pdf", &over).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        format!(
            "文件超过{}上限，请压缩或拆分后再上传",
            attachments::human_size(max as u64)
        )
    );
    assert_eq!(count_blobs(&t).await, 1);
    assert_eq!(stored_files(&t).len(), 1);
    assert!(temp_files(&t).is_empty(), "{:?}", temp_files(&t));
}

/// A signed-in browser session and its CSRF token.
async fn page_session(t: &TestApp, username: &str) -> (reqwest::Client, String) {
    let client = support::page_login(t, username).await;
    let home = client.get(t.url("/")).send().await.unwrap();
    let csrf = support::csrf_from(&home.text().await.unwrap());
    (client, csrf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_form_goes_back_to_its_page_with_the_reason() {
    let t = support::spawn().await;
    let competition = a_competition(&t).await;
    let (client, csrf) = page_session(&t, "province").await;
    let back = format!("/competitions/{competition}");
    let post = async |bytes: &[u8], csrf: &str| {
        let (ct, body) = multipart("file", "通知附件.pdf", bytes);
        client
            .post(t.url(&format!(
                "/attachments?owner_type=competition&owner_id={competition}&purpose=notice&_csrf={csrf}&back={back}"
            )))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap()
    };
    let res = post(b"\x89PNG\r\n\x1a\n0000", &csrf).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let reason: String =
        url::form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "upload_error")
            .map(|(_, v)| v.into_owned())
            .unwrap();
    assert!(location.starts_with(&back), "{location}");
    assert_eq!(
        reason,
        "通知附件须为PDF、DOCX或XLSX文件，上传的文件实际为PNG图片"
    );

    let res = post(b"%PDF-1.7\n%ok\n", &csrf).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], back.as_str());
    // Without the token in the query string the upload is refused before it is read.
    let res = post(b"%PDF-1.7\n%ok\n", "wrong").await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        attachment::Entity::find().count(&t.app.db).await.unwrap(),
        1
    );

    let id = attachment::Entity::find()
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = client
        .get(t.url(&format!("/attachments/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''%E9%80%9A%E7%9F%A5")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-1.7\n%ok\n");
    let res = client
        .get(t.url("/attachments/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
