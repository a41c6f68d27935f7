//! Handling objections (province): the objections of a round with their evidence, registering
//! and deciding each with a written reply.

use crate::store::id::{AttachmentId, EntryId, ObjectionId, RoundId};
use std::collections::HashMap;

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::{Status, Transition};
use jiqun_domain::round::{self as round_rules, ObjectionStep, RoundStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use super::MAX_REPLY_CHARS;
use crate::app::{App, Principal};
use crate::attachments::{self, Kind};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::services::{at_most, authorize, required_text, rounds};
use crate::store::{
    self,
    entity::{attachment, blob, cluster, objection, round, round_entry, user},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    #[schema(value_type = i64)]
    pub id: AttachmentId,
    #[schema(value_type = i64)]
    pub objection_id: ObjectionId,
    pub file_name: String,
    pub size_label: String,
    pub type_label: String,
}

pub(super) async fn evidence_of<C: ConnectionTrait>(
    conn: &C,
    objection_ids: &[ObjectionId],
) -> Result<Vec<EvidenceView>, AppError> {
    if objection_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = attachment::Entity::find()
        .filter(
            attachment::Column::OwnerType.eq(crate::services::owners::OwnerType::Objection.key()),
        )
        .filter(attachment::Column::OwnerId.is_in(objection_ids.iter().copied()))
        .order_by_asc(attachment::Column::Id)
        .all(conn)
        .await?;
    let blobs = store::load_by_ids::<blob::Entity>(conn, rows.iter().map(|r| r.blob_id)).await?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let b = blobs.get(&a.blob_id);
            EvidenceView {
                id: a.id,
                objection_id: ObjectionId::new(a.owner_id),
                file_name: a.file_name,
                size_label: b
                    .map(|b| attachments::human_size(u64::try_from(b.size).unwrap_or_default()))
                    .unwrap_or_default(),
                type_label: b
                    .and_then(|b| Kind::from_mime(&b.mime))
                    .map(|k| k.label().to_string())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// An objection as the province handles it, with the objector's details.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionView {
    #[schema(value_type = i64)]
    pub id: ObjectionId,
    /// 受理编号, "2026-00012"
    pub receipt_number: String,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    pub cluster_name: String,
    pub name: String,
    pub organisation: String,
    pub contact: String,
    pub reason: String,
    pub client_addr: String,
    /// received | investigating | dismissed | upheld
    pub status: String,
    pub status_label: String,
    pub decided: bool,
    /// The latest written reply (登记说明 while investigating, the decision's reply after).
    pub reply: String,
    /// Beijing time, YYYY-MM-DD HH:MM:SS
    pub filed_at: String,
    pub registered_at: String,
    pub decided_at: String,
    pub decided_by_name: String,
    pub evidence: Vec<EvidenceView>,
    pub version: i32,
}

async fn objection_views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<objection::Model>,
) -> Result<Vec<ObjectionView>, AppError> {
    let ids: Vec<ObjectionId> = rows.iter().map(|o| o.id).collect();
    let mut evidence: HashMap<ObjectionId, Vec<EvidenceView>> = HashMap::new();
    for e in evidence_of(conn, &ids).await? {
        evidence.entry(e.objection_id).or_default().push(e);
    }
    let entries = store::load_by_ids_map::<round_entry::Entity, _>(
        conn,
        rows.iter().map(|o| o.entry_id),
        |e| e.cluster_id,
    )
    .await?;
    let clusters = store::load_by_ids::<cluster::Entity>(conn, entries.values().copied()).await?;
    let names = store::load_by_ids_map::<user::Entity, _>(
        conn,
        rows.iter().filter_map(|o| o.decided_by),
        |u| u.display_name,
    )
    .await?;
    rows.into_iter()
        .map(|o| {
            let status = o.status;
            Ok(ObjectionView {
                id: o.id,
                receipt_number: jiqun_domain::round::receipt_number(
                    crate::clock::local(o.filed_at).year(),
                    o.id.get(),
                ),
                round_id: o.round_id,
                entry_id: o.entry_id,
                cluster_name: entries
                    .get(&o.entry_id)
                    .and_then(|c| clusters.get(c))
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                name: o.name,
                organisation: o.organisation,
                contact: o.contact,
                reason: o.reason,
                client_addr: o.client_addr,
                status: status.key().into(),
                status_label: status.label().into(),
                decided: status.decided(),
                reply: o.reply,
                filed_at: crate::clock::format_local(o.filed_at),
                registered_at: o
                    .registered_at
                    .map(crate::clock::format_local)
                    .unwrap_or_default(),
                decided_at: o
                    .decided_at
                    .map(crate::clock::format_local)
                    .unwrap_or_default(),
                decided_by_name: o
                    .decided_by
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_default(),
                evidence: evidence.remove(&o.id).unwrap_or_default(),
                version: o.version,
            })
        })
        .collect()
}

/// The objections against a round's notice (province), oldest first.
pub async fn objections(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<(round::Model, Vec<ObjectionView>), AppError> {
    authorize(p, Resource::Objection, Action::View)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let rows = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .order_by_asc(objection::Column::Id)
        .all(&app.db)
        .await?;
    let views = objection_views(&app.db, rows).await?;
    Ok((r, views))
}

/// One objection (province).
pub async fn objection_view(
    app: &App,
    p: &Principal,
    objection_id: ObjectionId,
) -> Result<ObjectionView, AppError> {
    authorize(p, Resource::Objection, Action::View)?;
    let o = objection::Entity::find_by_id(objection_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    rounds::load(&app.db, p, o.round_id).await?;
    objection_views(&app.db, vec![o])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

pub fn step_key(step: ObjectionStep) -> &'static str {
    match step {
        ObjectionStep::Register => "register",
        ObjectionStep::Dismiss => "dismiss",
        ObjectionStep::Uphold => "uphold",
    }
}

pub fn step_from_key(key: &str) -> Option<ObjectionStep> {
    [
        ObjectionStep::Register,
        ObjectionStep::Dismiss,
        ObjectionStep::Uphold,
    ]
    .into_iter()
    .find(|s| step_key(*s) == key)
}

pub(crate) fn step_label(step: ObjectionStep) -> &'static str {
    match step {
        ObjectionStep::Register => "登记调查",
        ObjectionStep::Dismiss => "异议不成立",
        ObjectionStep::Uphold => "异议成立",
    }
}

/// Registers, dismisses or upholds an objection (province) with a written reply. Upholding
/// removes the candidate from the list (and, in a 初赛, its application).
pub async fn decide(
    app: &App,
    p: &Principal,
    objection_id: ObjectionId,
    step: ObjectionStep,
    reply: &str,
    expected_version: Option<i32>,
) -> Result<ObjectionView, AppError> {
    authorize(p, Resource::Objection, Action::Review)?;
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
    let o = objection::Entity::find_by_id(objection_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    // Only the competition's organiser answers (第十六条: a city its own competition's).
    rounds::load_for_update(&txn, p, o.round_id).await?;
    if expected_version.is_some_and(|v| v != o.version) {
        return Err(AppError::StaleVersion);
    }
    let r = round::Entity::find_by_id(o.round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = o.status;
    let to =
        round_rules::objection_step(from, step).map_err(|e| AppError::Conflict(e.to_string()))?;
    if r.status != RoundStatus::OnNotice {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再处理异议",
            r.status.label()
        )));
    }
    store::update_versioned(
        &txn,
        o.id,
        o.version,
        objection::ActiveModel {
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
    let entry = round_entry::Entity::find_by_id(o.entry_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let cluster = cluster::Entity::find_by_id(entry.cluster_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut effect = String::new();
    if step == ObjectionStep::Uphold {
        if entry.status == Status::OnNotice {
            let kind = r.kind;
            let moved =
                rounds::move_entry(&txn, p, kind, &entry, Transition::Remove, reply, now).await?;
            let mut active: round_entry::ActiveModel = moved.clone().into();
            active.decision_note = Set(format!("异议成立（受理编号{}）：{reply}", o.id));
            active.version = Set(moved.version + 1);
            active.update(&txn).await?;
            effect = "，取消其拟入选资格".into();
            crate::services::notifications::notify_org(
                &txn,
                cluster.org_id,
                &format!("公示异议成立：{}", cluster.name),
                &format!(
                    "经调查核实，针对{}的公示异议成立，取消其拟入选资格。答复意见：{reply}",
                    cluster.name
                ),
                &format!("/notices/{}", r.id),
                now,
            )
            .await?;
        } else {
            // An earlier upheld objection already removed the candidate.
            effect = "（该集群此前已被取消拟入选资格）".into();
        }
    }
    Audit::of(app, p, now)
        .record_changes(
            &txn,
            Event {
                action: match step {
                    ObjectionStep::Register => "objection.register",
                    ObjectionStep::Dismiss => "objection.dismiss",
                    ObjectionStep::Uphold => "objection.uphold",
                },
                object_type: "objection",
                object_id: o.id.to_string(),
                summary: format!(
                    "{}：针对“{}”的异议（受理编号{}），{} → {}{effect}",
                    step_label(step),
                    cluster.name,
                    o.id,
                    from.label(),
                    to.label()
                ),
                reason: reply.to_string(),
            },
            crate::audit::changes_since::<objection::Entity, _>(&txn, &o).await?,
        )
        .await?;
    let after = objection::Entity::find_by_id(o.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let view = objection_views(&txn, vec![after])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    app.public_pages.invalidate(&app.db, o.round_id).await;
    Ok(view)
}

/// Opens an objection's evidence for the province (Resource::Objection); 404 for anyone else
/// and for files that are not objection evidence.
pub async fn open_evidence(
    app: &App,
    p: &Principal,
    attachment_id: AttachmentId,
) -> Result<attachments::Download, AppError> {
    let a = attachment::Entity::find_by_id(attachment_id)
        .one(&app.db)
        .await?
        .filter(|a| a.owner_type == crate::services::owners::OwnerType::Objection.key())
        .ok_or(AppError::NotFound)?;
    crate::services::owners::can_read_objection(app, p, ObjectionId::new(a.owner_id)).await?;
    attachments::open(app, a.id).await
}
