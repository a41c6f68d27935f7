//! Objections (异议) to a 复核 result notice. While the notice runs anyone may object, by name,
//! to one cluster's result, under the rules a round's notice follows (the policy's
//! `public_notice.objection`; one hourly allowance per address across both kinds of notice).
//! The province registers, dismisses or upholds each one with a written reply. Upholding
//! reverses the result the notice showed (通过 becomes 不通过 and the other way round) once,
//! however many objections are upheld; a result is confirmed only once every objection to it is decided.

use std::collections::HashMap;

use jiqun_domain::access::{Action, Resource, Role};
use jiqun_domain::recheck::Status;
use jiqun_domain::round::{Designation, ObjectionStatus, ObjectionStep, date_zh};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use super::{cluster_name, policy_today};
use crate::app::{App, Principal};
use crate::attachments::{self, AttachmentView, Received};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::services::notices::{
    self, FileError, MAX_REPLY_CHARS, ObjectionInput, WindowState, public_actor,
};
use crate::services::owners::OwnerType;
use crate::services::{at_most, authorize, required_text, trimmed};
use crate::store::id::{RecheckCallId, RecheckId, RecheckObjectionId};
use crate::store::{
    self,
    entity::{recheck, recheck_call, recheck_objection},
};

const RECEIPT_TAG: &[u8] = b"jiqun-recheck-objection-receipt-v1";

/// An objection to one result of a 复核 result notice, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecheckObjectionInput {
    /// The result objected to (the recheck's id, as the notice lists it).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub recheck_id: Option<RecheckId>,
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

impl RecheckObjectionInput {
    /// The objector's part, checked by the same rule as a round's objection.
    fn objector(&self) -> ObjectionInput {
        ObjectionInput {
            entry_id: None,
            name: self.name.clone(),
            organisation: self.organisation.clone(),
            contact: self.contact.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// A filed objection's receipt (受理回执).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecheckObjectionReceipt {
    #[schema(value_type = i64)]
    pub id: RecheckObjectionId,
    /// 受理编号, "复核-2026-00003"
    pub receipt_number: String,
    #[schema(value_type = i64)]
    pub call_id: RecheckCallId,
    pub notice_title: String,
    pub cluster_name: String,
    /// YYYY-MM-DD HH:MM:SS, Beijing time
    pub filed_at: String,
    pub status: String,
    pub status_label: String,
    /// The province's reply, once the objection is decided.
    pub reply: String,
    pub evidence: Vec<String>,
    /// Opens the receipt again: `/recheck-notices/{call_id}/objections/{id}?key=…`.
    pub key: String,
}

/// An objection as the province handles it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecheckObjectionView {
    #[schema(value_type = i64)]
    pub id: RecheckObjectionId,
    pub receipt_number: String,
    #[schema(value_type = i64)]
    pub recheck_id: RecheckId,
    pub name: String,
    pub organisation: String,
    pub contact: String,
    pub reason: String,
    pub filed_at: String,
    /// received | investigating | dismissed | upheld
    pub status: String,
    pub status_label: String,
    pub reply: String,
    pub evidence: Vec<AttachmentView>,
    pub version: i32,
    pub decided: bool,
}

/// A decided objection as the public sees it: the receipt number, never the objector.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecheckDecidedObjection {
    pub receipt_number: String,
    pub cluster_name: String,
    /// 2026年12月4日
    pub filed_on: String,
    /// dismissed | upheld
    pub status: String,
    pub status_label: String,
    pub reply: String,
}

/// "复核-2026-00003": numbered apart from a round's objections, so the prefix tells them apart.
pub fn receipt_number(o: &recheck_objection::Model) -> String {
    format!(
        "复核-{}",
        jiqun_domain::round::receipt_number(crate::clock::local(o.filed_at).year(), o.id.get())
    )
}

pub fn notice_title(year: i32, title: &str) -> String {
    format!("{year}年{title}复核结果公示")
}

/// Whether the call's notice takes objections today, or why not.
fn accepting(call: &recheck_call::Model, today: time::Date) -> Result<(), AppError> {
    let (Some(first), Some(last)) = (call.notice_published_on, call.notice_last_day) else {
        return Err(AppError::NotFound);
    };
    let period = format!("{}至{}", date_zh(first), date_zh(last));
    match WindowState::of(today, first, last) {
        WindowState::Open => Ok(()),
        WindowState::NotStarted => Err(AppError::Conflict(format!(
            "公示期为{period}，尚未开始，暂不受理异议"
        ))),
        WindowState::Closed => Err(AppError::Conflict(format!(
            "公示期已结束（公示期为{period}），不再受理异议"
        ))),
    }
}

async fn published_call<C: ConnectionTrait>(
    conn: &C,
    id: RecheckCallId,
) -> Result<recheck_call::Model, AppError> {
    recheck_call::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|c| c.notice_published_on.is_some())
        .ok_or(AppError::NotFound)
}

/// The checks that need no request body (the notice is open, the address has allowance left),
/// run before an upload is read.
pub async fn precheck_objection(
    app: &App,
    call_id: RecheckCallId,
    client_addr: &str,
) -> Result<(), FileError> {
    let call = published_call(&app.db, call_id).await?;
    accepting(&call, crate::services::calendar::today(app))?;
    notices::ensure_allowance(app, &app.db, client_addr, app.clock.now()).await
}

/// Files an objection to one result of the notice, with evidence already received.
pub async fn file_objection(
    app: &App,
    call_id: RecheckCallId,
    client_addr: &str,
    input: &RecheckObjectionInput,
    evidence: Option<Received>,
) -> Result<RecheckObjectionReceipt, FileError> {
    let call = published_call(&app.db, call_id).await?;
    let now = app.clock.now();
    accepting(&call, crate::clock::local(now).date())?;
    let policy = policy_today(app)?;
    let rules = notices::rules_view(&policy);
    if evidence.is_some() && !rules.evidence_allowed {
        return Err(AppError::invalid(attachments::FILE_FIELD, "本次公示不接受上传附件").into());
    }
    let mut problems = Problems::default();
    if input.recheck_id.is_none() {
        problems.add("recheck_id", "请选择异议所针对的集群");
    }
    notices::check_objector(&mut problems, &input.objector(), &rules, evidence.is_some());
    problems.into_result()?;
    let target = match input.recheck_id {
        Some(id) => recheck::Entity::find_by_id(id)
            .one(&app.db)
            .await?
            .filter(|r| r.call_id == call.id && r.passed.is_some()),
        None => None,
    };
    let Some(target) = target else {
        return Err(AppError::invalid("recheck_id", "所选集群不在本次复核结果公示名单中").into());
    };
    notices::ensure_allowance(app, &app.db, client_addr, now).await?;
    let stored = notices::store_public_evidence(app, evidence).await?;
    let name = trimmed(&input.name);
    let organisation = trimmed(&input.organisation);
    let contact = trimmed(&input.contact);
    let reason = input.reason.trim().to_string();
    let txn = store::write_txn(&app.db).await?;
    notices::claim_allowance(app, &txn, client_addr, now).await?;
    store::lock::serialise(&txn, &format!("recheck-objection:call:{}", call.id)).await?;
    if let Some(same) = recheck_objection::Entity::find()
        .filter(recheck_objection::Column::RecheckId.eq(target.id))
        .filter(recheck_objection::Column::Name.eq(&name))
        .filter(recheck_objection::Column::Organisation.eq(&organisation))
        .filter(recheck_objection::Column::Contact.eq(&contact))
        .filter(recheck_objection::Column::Reason.eq(&reason))
        .one(&txn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "您已对该集群的复核结果提交过内容相同的异议（受理编号{}），无需重复提交；可凭回执查询办理进度",
            receipt_number(&same)
        ))
        .into());
    }
    let o = recheck_objection::ActiveModel {
        call_id: Set(call.id),
        recheck_id: Set(target.id),
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
        evidence_note = notices::attach_public_evidence(
            &txn,
            OwnerType::RecheckObjection,
            o.id.get(),
            evidence,
            now,
        )
        .await?;
        evidence_names.push(evidence.1.clone());
    }
    let cluster = cluster_name(&txn, target.cluster_id).await?;
    let title = notice_title(call.year, crate::config::title_of(Designation::Certified));
    let number = receipt_number(&o);
    Audit::by(app, public_actor(&name, &organisation, client_addr), now)
        .record(
            &txn,
            Event {
                action: "recheck_objection.file",
                object_type: "recheck_objection",
                object_id: o.id.to_string(),
                summary: format!(
                    "对“{title}”中“{cluster}”的复核结果提出异议（受理编号{number}）{evidence_note}"
                ),
                reason: o.reason.clone(),
            },
        )
        .await?;
    if let Some(province) = crate::store::entity::user::Entity::find_by_id(call.issued_by)
        .one(&txn)
        .await?
    {
        crate::services::notifications::notify_org(
            &txn,
            province.org_id,
            &format!("收到复核结果公示异议：{cluster}"),
            &format!(
                "“{title}”收到一件针对“{cluster}”复核结果的异议（受理编号{number}），请登记并调查核实。"
            ),
            &format!("/rechecks/{}#objections", target.id),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(RecheckObjectionReceipt {
        id: o.id,
        receipt_number: number,
        call_id: call.id,
        notice_title: title,
        cluster_name: cluster,
        filed_at: crate::clock::format_local(o.filed_at),
        status: o.status.key().into(),
        status_label: o.status.label().into(),
        reply: String::new(),
        evidence: evidence_names,
        key: notices::keyed_receipt(app, RECEIPT_TAG, o.id.get()),
    })
}

/// A receipt as the public sees it again: status and reply, never the objector's details.
pub async fn objection_receipt(
    app: &App,
    call_id: RecheckCallId,
    id: RecheckObjectionId,
    key: &str,
) -> Result<RecheckObjectionReceipt, AppError> {
    if !notices::key_matches(key, &notices::keyed_receipt(app, RECEIPT_TAG, id.get())) {
        return Err(AppError::NotFound);
    }
    let call = published_call(&app.db, call_id).await?;
    let o = recheck_objection::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .filter(|o| o.call_id == call.id)
        .ok_or(AppError::NotFound)?;
    let r = recheck::Entity::find_by_id(o.recheck_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let evidence = attachments::list(app, OwnerType::RecheckObjection, o.id.get())
        .await?
        .into_iter()
        .map(|a| a.file_name)
        .collect();
    Ok(RecheckObjectionReceipt {
        id: o.id,
        receipt_number: receipt_number(&o),
        call_id: call.id,
        notice_title: notice_title(call.year, crate::config::title_of(Designation::Certified)),
        cluster_name: cluster_name(&app.db, r.cluster_id).await?,
        filed_at: crate::clock::format_local(o.filed_at),
        status: o.status.key().into(),
        status_label: o.status.label().into(),
        reply: if o.status.decided() {
            o.reply.clone()
        } else {
            String::new()
        },
        evidence,
        key: key.to_string(),
    })
}

/// The decided objections of a call's notice, for the public page (one query).
pub(super) async fn decided_of_call<C: ConnectionTrait>(
    conn: &C,
    call_id: RecheckCallId,
    names: &HashMap<RecheckId, String>,
) -> Result<Vec<RecheckDecidedObjection>, AppError> {
    Ok(recheck_objection::Entity::find()
        .filter(recheck_objection::Column::CallId.eq(call_id))
        .filter(recheck_objection::Column::Status.is_in([
            ObjectionStatus::Dismissed.key(),
            ObjectionStatus::Upheld.key(),
        ]))
        .order_by_asc(recheck_objection::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|o| RecheckDecidedObjection {
            receipt_number: receipt_number(&o),
            cluster_name: names.get(&o.recheck_id).cloned().unwrap_or_default(),
            filed_on: date_zh(crate::clock::local(o.filed_at).date()),
            status: o.status.key().into(),
            status_label: o.status.label().into(),
            reply: o.reply,
        })
        .collect())
}

/// How many objections to each recheck are still being handled (one query).
pub(super) async fn open_counts<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = RecheckId>,
) -> Result<HashMap<RecheckId, usize>, AppError> {
    let ids: Vec<RecheckId> = ids.into_iter().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(store::CHUNK) {
        for o in recheck_objection::Entity::find()
            .filter(recheck_objection::Column::RecheckId.is_in(chunk.iter().copied()))
            .filter(recheck_objection::Column::Status.is_in([
                ObjectionStatus::Received.key(),
                ObjectionStatus::Investigating.key(),
            ]))
            .all(conn)
            .await?
        {
            *out.entry(o.recheck_id).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// The objections to one recheck's result, for the province (with the objector and evidence).
pub async fn objections_of(
    app: &App,
    p: &Principal,
    id: RecheckId,
) -> Result<Vec<RecheckObjectionView>, AppError> {
    may_decide(p)?;
    super::load(&app.db, p, id, Action::Review).await?;
    let rows = recheck_objection::Entity::find()
        .filter(recheck_objection::Column::RecheckId.eq(id))
        .order_by_asc(recheck_objection::Column::Id)
        .all(&app.db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for o in rows {
        let evidence = attachments::list(app, OwnerType::RecheckObjection, o.id.get()).await?;
        out.push(view(o, evidence));
    }
    Ok(out)
}

fn view(o: recheck_objection::Model, evidence: Vec<AttachmentView>) -> RecheckObjectionView {
    RecheckObjectionView {
        id: o.id,
        receipt_number: receipt_number(&o),
        recheck_id: o.recheck_id,
        filed_at: crate::clock::format_local(o.filed_at),
        status: o.status.key().into(),
        status_label: o.status.label().into(),
        decided: o.status.decided(),
        name: o.name,
        organisation: o.organisation,
        contact: o.contact,
        reason: o.reason,
        reply: o.reply,
        evidence,
        version: o.version,
    }
}

/// Objections are the province's to handle.
fn may_decide(p: &Principal) -> Result<(), AppError> {
    authorize(p, Resource::Recheck, Action::Review)?;
    if p.role != Role::Province {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// Whether the principal may read an objection's evidence (the province); NotFound otherwise.
pub async fn can_read_objection(
    app: &App,
    p: &Principal,
    id: RecheckObjectionId,
) -> Result<(), AppError> {
    may_decide(p).map_err(|_| AppError::NotFound)?;
    recheck_objection::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound)
}

/// Registers, dismisses or upholds an objection (province) with a written reply. Upholding
/// reverses the noticed result of the recheck, in the same transaction.
pub async fn decide_objection(
    app: &App,
    p: &Principal,
    id: RecheckObjectionId,
    step: ObjectionStep,
    reply: &str,
    expected_version: Option<i32>,
) -> Result<RecheckObjectionView, AppError> {
    may_decide(p)?;
    let reply = required_text(
        "reply",
        reply,
        match step {
            ObjectionStep::Register => "请填写登记说明（如调查核实的安排）",
            _ => "请填写书面答复意见",
        },
    )?;
    at_most("reply", reply, "答复", MAX_REPLY_CHARS)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let o = recheck_objection::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if expected_version.is_some_and(|v| v != o.version) {
        return Err(AppError::StaleVersion);
    }
    let (r, call) = super::load(&txn, p, o.recheck_id, Action::Review).await?;
    if r.status != Status::Reviewed {
        return Err(AppError::Conflict(format!(
            "复核当前状态为“{}”，不能再处理异议",
            r.status.label()
        )));
    }
    let from = o.status;
    let to = jiqun_domain::round::objection_step(from, step)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    store::update_versioned(
        &txn,
        o.id,
        o.version,
        recheck_objection::ActiveModel {
            status: Set(to),
            reply: Set(reply.to_string()),
            registered_at: Set(if step == ObjectionStep::Register {
                Some(now)
            } else {
                o.registered_at
            }),
            decided_at: Set(to.decided().then_some(now)),
            decided_by: Set(to.decided().then_some(p.user.id)),
            ..Default::default()
        },
    )
    .await?;
    let name = cluster_name(&txn, r.cluster_id).await?;
    let number = receipt_number(&o);
    let mut effect = String::new();
    if step == ObjectionStep::Uphold {
        let upheld_before = recheck_objection::Entity::find()
            .filter(recheck_objection::Column::RecheckId.eq(r.id))
            .filter(recheck_objection::Column::Id.ne(o.id))
            .filter(recheck_objection::Column::Status.eq(ObjectionStatus::Upheld.key()))
            .count(&txn)
            .await?;
        if upheld_before > 0 {
            effect = "（该复核结果此前已因异议成立而调整）".into();
        } else {
            let reversed = r.passed != Some(true);
            let label = if reversed { "通过" } else { "不通过" };
            store::update_versioned(
                &txn,
                r.id,
                r.version,
                recheck::ActiveModel {
                    passed: Set(Some(reversed)),
                    result_reasons: Set(format!(
                        "{}\n异议成立（受理编号{number}），复核结果调整为{label}：{reply}",
                        r.result_reasons
                    )),
                    updated_at: Set(now),
                    ..Default::default()
                },
            )
            .await?;
            effect = format!("，复核结果调整为{label}");
            crate::services::notifications::notify_org(
                &txn,
                r.org_id,
                &format!("复核结果公示异议成立：{name}"),
                &format!(
                    "经调查核实，针对“{name}”{}年复核结果的异议成立，复核结果调整为{label}。答复意见：{reply}",
                    call.year
                ),
                &format!("/rechecks/{}", r.id),
                now,
            )
            .await?;
        }
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: match step {
                    ObjectionStep::Register => "recheck_objection.register",
                    ObjectionStep::Dismiss => "recheck_objection.dismiss",
                    ObjectionStep::Uphold => "recheck_objection.uphold",
                },
                object_type: "recheck_objection",
                object_id: o.id.to_string(),
                summary: format!(
                    "{}：针对“{name}”复核结果的异议（受理编号{number}），{} → {}{effect}",
                    notices::step_label(step),
                    from.label(),
                    to.label()
                ),
                reason: reply.to_string(),
            },
        )
        .await?;
    let after = recheck_objection::Entity::find_by_id(o.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    let evidence = attachments::list(app, OwnerType::RecheckObjection, after.id.get()).await?;
    Ok(view(after, evidence))
}

/// The recheck an objection is aimed at, for the province (to show its page again).
pub async fn objection_recheck(
    app: &App,
    p: &Principal,
    id: RecheckObjectionId,
) -> Result<RecheckId, AppError> {
    may_decide(p)?;
    recheck_objection::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .map(|o| o.recheck_id)
        .ok_or(AppError::NotFound)
}
