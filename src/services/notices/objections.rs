//! Filing an objection (异议) by a member of the public: the window and rate checks, the
//! checked fields, the evidence and the receipt.

use crate::store::id::{EntryId, ObjectionId, OrgId, RoundId, UserId};
use jiqun_domain::application::Status;
use jiqun_domain::contact;
use jiqun_domain::round::{ObjectionStatus, RoundStatus, date_zh};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::decisions::evidence_of;
use super::public::{ObjectionRulesView, published_round, rules_view};
use super::{
    MAX_CONTACT_CHARS, MAX_NAME_CHARS, MAX_ORG_CHARS, MAX_REASON_CHARS, WindowState,
    notice_title_of, public_actor, window_of,
};
use crate::app::App;
use crate::attachments::{self, Kind, Purpose, Received};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::services::competitions::policy_of;
use crate::services::owners::OwnerType;
use crate::services::{rounds, trimmed};
use crate::store::{
    self,
    entity::{attachment, blob, objection, recheck_objection, round, round_entry, user},
};

/// An objection as typed by a member of the public.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ObjectionInput {
    /// The candidate (round entry) objected to.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub entry_id: Option<EntryId>,
    /// 实名: the objector's real name.
    #[serde(default)]
    pub name: String,
    /// 单位: when objecting in the name of an organisation (then a stamped letter is uploaded).
    #[serde(default)]
    pub organisation: String,
    /// A phone number or an e-mail address.
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub reason: String,
}

/// Why an objection was not taken.
#[derive(Debug)]
pub enum FileError {
    /// Too many objections from this client address within the last hour (429).
    RateLimited {
        limit: u32,
    },
    App(AppError),
}

impl From<AppError> for FileError {
    fn from(e: AppError) -> Self {
        FileError::App(e)
    }
}

impl From<sea_orm::DbErr> for FileError {
    fn from(e: sea_orm::DbErr) -> Self {
        FileError::App(AppError::from(e))
    }
}

pub fn rate_limit_message(limit: u32) -> String {
    format!("同一网络地址每小时最多可提交{limit}件异议，请稍后再试。本次提交未被保存。")
}

/// A filed objection's receipt (受理回执).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionReceipt {
    #[schema(value_type = i64)]
    pub id: ObjectionId,
    /// 受理编号, "2026-00012"
    pub receipt_number: String,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    pub notice_title: String,
    pub cluster_name: String,
    /// YYYY-MM-DD HH:MM:SS, Beijing time
    pub filed_at: String,
    pub status: String,
    pub status_label: String,
    /// The province's reply, once the objection is decided.
    pub reply: String,
    /// Names of the evidence files received.
    pub evidence: Vec<String>,
    /// Opens the receipt again: `/notices/{round_id}/objections/{id}?key=…`. Only the objector
    /// gets it, so nobody can page through receipts to learn who is being objected to.
    pub key: String,
}

/// The key of a receipt: a keyed digest of its number, so it needs no column of its own.
pub fn receipt_key(app: &App, objection_id: ObjectionId) -> String {
    keyed_receipt(app, b"jiqun-objection-receipt-v1", objection_id.get())
}

/// A receipt key for an objection of the kind `tag` names (kinds number their objections
/// separately, so the tag keeps one kind's key from opening another's receipt).
pub(crate) fn keyed_receipt(app: &App, tag: &[u8], id: i64) -> String {
    let digest = jiqun_domain::audit::sm3_hex(&[tag, &app.audit_key.0, &id.to_be_bytes()].concat());
    digest.get(..24).unwrap_or_default().to_string()
}

/// Whether a receipt's key is the one expected, compared in constant time.
pub(crate) fn key_matches(key: &str, expected: &str) -> bool {
    key.len() == expected.len()
        && key
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Refuses an objection outside the window (server side, whatever the page showed).
fn ensure_accepting(r: &round::Model, today: Date) -> Result<(), AppError> {
    let (_, first, last) = window_of(r)?;
    let period = format!("{}至{}", date_zh(first), date_zh(last));
    if r.status != RoundStatus::OnNotice {
        return Err(AppError::Conflict(format!(
            "公示期已结束（公示期为{period}），不再受理异议"
        )));
    }
    match WindowState::of(today, first, last) {
        WindowState::NotStarted => Err(AppError::Conflict(format!(
            "公示期为{period}，尚未开始，暂不受理异议"
        ))),
        WindowState::Closed => Err(AppError::Conflict(format!(
            "公示期已结束（公示期为{period}），不再受理异议"
        ))),
        WindowState::Open => Ok(()),
    }
}

/// Objections of every kind (a round's notice, a 复核 result notice) filed from the address in
/// the last hour: the limit is one allowance per address.
pub(crate) async fn filed_last_hour<C: ConnectionTrait>(
    conn: &C,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<u64, AppError> {
    let since = now - time::Duration::hours(1);
    let rounds = objection::Entity::find()
        .filter(objection::Column::ClientAddr.eq(client_addr))
        .filter(objection::Column::FiledAt.gt(since))
        .count(conn)
        .await?;
    let rechecks = recheck_objection::Entity::find()
        .filter(recheck_objection::Column::ClientAddr.eq(client_addr))
        .filter(recheck_objection::Column::FiledAt.gt(since))
        .count(conn)
        .await?;
    Ok(rounds + rechecks)
}

/// Refuses when the address has used its hourly allowance.
pub(crate) async fn ensure_allowance<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<(), FileError> {
    let limit = app.config.objection_rate_limit;
    if filed_last_hour(conn, client_addr, now).await? >= u64::from(limit) {
        return Err(FileError::RateLimited { limit });
    }
    Ok(())
}

/// The same check inside the writing transaction, under a lock per address (SQLite's write
/// lock is not enough on PostgreSQL), so parallel requests cannot slip past the limit.
pub(crate) async fn claim_allowance<C: ConnectionTrait>(
    app: &App,
    txn: &C,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<(), FileError> {
    store::lock::serialise(txn, &format!("objection:addr:{client_addr}")).await?;
    ensure_allowance(app, txn, client_addr, now).await
}

/// The checks that need no request body: the notice exists and is open today, and the address
/// has not used up its hourly allowance. Run before an upload is read, so a refused request
/// costs no disk.
pub async fn precheck(app: &App, round_id: RoundId, client_addr: &str) -> Result<(), FileError> {
    let r = published_round(&app.db, round_id).await?;
    ensure_accepting(&r, crate::services::calendar::today(app))?;
    ensure_allowance(app, &app.db, client_addr, app.clock.now()).await
}

fn validate_objection(
    input: &ObjectionInput,
    rules: &ObjectionRulesView,
    has_evidence: bool,
) -> Result<(), AppError> {
    let mut p = Problems::default();
    if input.entry_id.is_none() {
        p.add("entry_id", "请选择异议所针对的集群");
    }
    check_objector(&mut p, input, rules, has_evidence);
    p.into_result()
}

/// The objector's part of any objection (name, organisation, contact, reason, evidence) against
/// the policy's rules; the caller checks what the objection is aimed at.
pub(crate) fn check_objector(
    p: &mut Problems,
    input: &ObjectionInput,
    rules: &ObjectionRulesView,
    has_evidence: bool,
) {
    let name = input.name.trim();
    let organisation = input.organisation.trim();
    let contact_text = input.contact.trim();
    let reason = input.reason.trim();
    if name.is_empty() {
        if rules.real_name {
            p.add("name", "请填写真实姓名（匿名异议不予受理）");
        }
    } else if name.chars().count() > MAX_NAME_CHARS {
        p.add("name", format!("姓名不能超过{MAX_NAME_CHARS}个字"));
    }
    if organisation.chars().count() > MAX_ORG_CHARS {
        p.add(
            "organisation",
            format!("单位名称不能超过{MAX_ORG_CHARS}个字"),
        );
    }
    if contact_text.is_empty() {
        if rules.contact_required {
            p.add("contact", "请填写联系电话或电子邮箱，以便核实和答复");
        }
    } else if contact_text.chars().count() > MAX_CONTACT_CHARS
        || !(contact::is_phone(contact_text) || contact::is_email(contact_text))
    {
        p.add(
            "contact",
            "联系方式无效：请填写电话号码（如0731-88888888或13800138000）或电子邮箱",
        );
    }
    let reason_chars = reason.chars().count();
    if reason.is_empty() {
        p.add("reason", "请填写异议事项和理由");
    } else if reason_chars > MAX_REASON_CHARS {
        p.add(
            "reason",
            format!("异议理由不能超过{MAX_REASON_CHARS}字（当前{reason_chars}字）"),
        );
    }
    if !has_evidence {
        if rules.evidence_required {
            p.add(attachments::FILE_FIELD, "请上传证明材料");
        } else if rules.unit_seal_required && !organisation.is_empty() {
            p.add(
                attachments::FILE_FIELD,
                "以单位名义提出异议的，须上传加盖单位公章的异议书（PDF或扫描图片）",
            );
        }
    }
}

/// Files an objection from the public, with optional evidence already received (streamed to a
/// temporary file by the caller). On any refusal the evidence is dropped, which removes it.
pub async fn file_objection(
    app: &App,
    round_id: RoundId,
    client_addr: &str,
    input: &ObjectionInput,
    evidence: Option<Received>,
) -> Result<ObjectionReceipt, FileError> {
    let r = published_round(&app.db, round_id).await?;
    let now = app.clock.now();
    ensure_accepting(&r, crate::clock::local(now).date())?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let policy = policy_of(&c)?;
    let rules = rules_view(&policy);
    if evidence.is_some() && !rules.evidence_allowed {
        return Err(AppError::invalid(attachments::FILE_FIELD, "本次公示不接受上传附件").into());
    }
    validate_objection(input, &rules, evidence.is_some())?;
    let entry = match input.entry_id {
        Some(id) => round_entry::Entity::find_by_id(id)
            .one(&app.db)
            .await?
            .filter(|e| e.round_id == r.id),
        None => None,
    };
    let Some(entry) = entry.filter(|e| e.status == Status::OnNotice) else {
        return Err(AppError::invalid("entry_id", "所选集群不在本次公示名单中").into());
    };
    ensure_allowance(app, &app.db, client_addr, now).await?;
    // The file moves into the store before the write lock is taken (as attachments do).
    let stored = store_public_evidence(app, evidence).await?;
    let name = trimmed(&input.name);
    let organisation = trimmed(&input.organisation);
    let txn = store::write_txn(&app.db).await?;
    // Counted again under a lock per address; then per notice, for the duplicate check.
    claim_allowance(app, &txn, client_addr, now).await?;
    store::lock::serialise(&txn, &format!("objection:round:{}", r.id)).await?;
    let reason = input.reason.trim().to_string();
    let contact = trimmed(&input.contact);
    if let Some(same) = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .filter(objection::Column::EntryId.eq(entry.id))
        .filter(objection::Column::Name.eq(&name))
        .filter(objection::Column::Organisation.eq(&organisation))
        .filter(objection::Column::Contact.eq(&contact))
        .filter(objection::Column::Reason.eq(&reason))
        .one(&txn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "您已对该集群提交过内容相同的异议（受理编号{}），无需重复提交；可凭回执查询办理进度",
            same.id
        ))
        .into());
    }
    let o = objection::ActiveModel {
        round_id: Set(r.id),
        entry_id: Set(entry.id),
        name: Set(name.clone()),
        organisation: Set(organisation.clone()),
        contact: Set(contact),
        reason: Set(reason),
        client_addr: Set(client_addr.to_string()),
        status: Set(ObjectionStatus::Received),
        reply: Set(String::new()),
        filed_at: Set(now),
        registered_at: Set(None),
        decided_at: Set(None),
        decided_by: Set(None),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut evidence_names = Vec::new();
    let mut evidence_note = String::new();
    if let Some(evidence) = &stored {
        evidence_note =
            attach_public_evidence(&txn, OwnerType::Objection, o.id.get(), evidence, now).await?;
        evidence_names.push(evidence.1.clone());
    }
    let cluster_name = rounds::cluster_name(&txn, entry.cluster_id).await?;
    let title = notice_title_of(&c, r.kind)?;
    Audit::by(app, public_actor(&name, &organisation, client_addr), now)
        .record(
            &txn,
            Event {
                action: "objection.file",
                object_type: "objection",
                object_id: o.id.to_string(),
                summary: format!(
                    "对“{title}”中的“{cluster_name}”提出异议（受理编号{}）{evidence_note}",
                    o.id
                ),
                reason: o.reason.clone(),
            },
        )
        .await?;
    if let Some(org) = creator_org(&txn, &r).await? {
        crate::services::notifications::notify_org(
            &txn,
            org,
            &format!("收到公示异议：{cluster_name}"),
            &format!(
                "“{title}”收到一件针对“{cluster_name}”的异议（受理编号{}），请登记并调查核实。",
                o.id
            ),
            &format!("/rounds/{}/objections", r.id),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    app.public_pages.invalidate(&app.db, r.id).await;
    Ok(ObjectionReceipt {
        id: o.id,
        receipt_number: jiqun_domain::round::receipt_number(
            crate::clock::local(o.filed_at).year(),
            o.id.get(),
        ),
        round_id: r.id,
        notice_title: title,
        cluster_name,
        filed_at: crate::clock::format_local(o.filed_at),
        status: o.status.key().to_string(),
        status_label: ObjectionStatus::Received.label().into(),
        reply: String::new(),
        evidence: evidence_names,
        key: receipt_key(app, o.id),
    })
}

/// Evidence the public sent with an objection, moved into the blob store (before the writing
/// transaction, as attachments are), with its file name and kind.
pub(crate) async fn store_public_evidence(
    app: &App,
    evidence: Option<Received>,
) -> Result<Option<(blob::Model, String, Kind)>, AppError> {
    let Some(received) = evidence else {
        return Ok(None);
    };
    let file_name = received.file_name.clone();
    let kind = received.kind;
    let blob = attachments::store(app, &app.db, received).await?;
    Ok(Some((blob, file_name, kind)))
}

/// Attaches stored public evidence to its objection (the public has no account) and returns the
/// note the audit entry carries: name, kind, size and SM3.
pub(crate) async fn attach_public_evidence<C: ConnectionTrait>(
    txn: &C,
    owner: OwnerType,
    owner_id: i64,
    (blob, file_name, kind): &(blob::Model, String, Kind),
    now: OffsetDateTime,
) -> Result<String, AppError> {
    attachment::ActiveModel {
        blob_id: Set(blob.id),
        owner_type: Set(owner.key().into()),
        owner_id: Set(owner_id),
        purpose: Set(Purpose::Evidence.key().into()),
        file_name: Set(file_name.clone()),
        uploaded_by: Set(UserId::new(0)),
        uploaded_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(format!(
        "，附证明材料“{file_name}”（{}，{}，SM3 {}…）",
        kind.label(),
        attachments::human_size(u64::try_from(blob.size).unwrap_or_default()),
        blob.sm3.get(..16).unwrap_or_default()
    ))
}

/// The organisation of whoever opened the round: the province's department.
async fn creator_org<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
) -> Result<Option<OrgId>, AppError> {
    Ok(user::Entity::find_by_id(r.created_by)
        .one(conn)
        .await?
        .map(|u| u.org_id))
}

/// A receipt as the public sees it again: status and reply, never the objector's details.
pub async fn receipt(
    app: &App,
    round_id: RoundId,
    objection_id: ObjectionId,
    key: &str,
) -> Result<ObjectionReceipt, AppError> {
    if !key_matches(key, &receipt_key(app, objection_id)) {
        return Err(AppError::NotFound);
    }
    let r = published_round(&app.db, round_id).await?;
    let o = objection::Entity::find_by_id(objection_id)
        .one(&app.db)
        .await?
        .filter(|o| o.round_id == r.id)
        .ok_or(AppError::NotFound)?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let entry = round_entry::Entity::find_by_id(o.entry_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = o.status;
    let evidence = evidence_of(&app.db, &[o.id])
        .await?
        .into_iter()
        .map(|e| e.file_name)
        .collect();
    Ok(ObjectionReceipt {
        id: o.id,
        receipt_number: jiqun_domain::round::receipt_number(
            crate::clock::local(o.filed_at).year(),
            o.id.get(),
        ),
        round_id: r.id,
        notice_title: notice_title_of(&c, r.kind)?,
        cluster_name: rounds::cluster_name(&app.db, entry.cluster_id).await?,
        filed_at: crate::clock::format_local(o.filed_at),
        status: o.status.key().to_string(),
        status_label: status.label().into(),
        reply: if status.decided() {
            o.reply.clone()
        } else {
            String::new()
        },
        evidence,
        key: key.to_string(),
    })
}
