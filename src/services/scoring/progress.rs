//! The province follows scoring (who has not finished) and reopens a submitted sheet with a reason.

use crate::store::id::{AssignmentId, EntryId, ExpertId, RoundId, ScoreSheetId};
use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::Action;
use jiqun_domain::round::RoundStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;

use super::{
    MAX_REASON_CHARS, NOT_STARTED, ProvinceRound, SUBMITTED, kind_label, load_province_round,
    organiser_wide, round_label, sheet_status_label, show,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::services::rounds;
use crate::store::{
    self,
    entity::{expert, round_entry, score_sheet},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetStatus {
    #[schema(value_type = i64)]
    pub assignment_id: AssignmentId,
    #[schema(value_type = Option<i64>)]
    pub sheet_id: Option<ScoreSheetId>,
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
    pub expert_name: String,
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    pub cluster_name: String,
    /// not_started | draft | submitted
    pub status: String,
    pub status_label: String,
    pub total: Option<f64>,
    pub submitted_at: String,
    pub reopened_reason: String,
}

impl SheetStatus {
    pub fn total_text(&self) -> String {
        self.total.map(show).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExpertProgress {
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
    pub expert_name: String,
    pub assigned: u32,
    pub submitted: u32,
    pub missing: u32,
    /// The clusters still waiting for this expert's submitted sheet.
    pub missing_clusters: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntrantProgress {
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    pub cluster_name: String,
    pub kind_label: String,
    pub assigned: u32,
    pub submitted: u32,
    pub sheets: Vec<SheetStatus>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgressView {
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    pub round_label: String,
    /// The round status key and label.
    pub status: String,
    pub status_label: String,
    pub opens_at: String,
    pub closes_at: String,
    pub assigned: u32,
    pub submitted: u32,
    pub experts: Vec<ExpertProgress>,
    pub entrants: Vec<EntrantProgress>,
    /// Submitted sheets can be reopened (the round is in scoring).
    pub can_reopen: bool,
    pub defence: bool,
}

/// Who has scored what in a round (province).
pub async fn progress(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<ProgressView, AppError> {
    let ProvinceRound {
        r,
        c,
        policy,
        entries,
        active,
        ..
    } = load_province_round(app, p, round_id).await?;
    let sheets: BTreeMap<AssignmentId, score_sheet::Model> = score_sheet::Entity::find()
        .filter(score_sheet::Column::RoundId.eq(r.id))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|s| (s.assignment_id, s))
        .collect();
    let names = expert_names(&app.db, active.iter().map(|a| a.expert_id)).await?;
    let clusters = rounds::cluster_names(&app.db, entries.iter().map(|e| e.cluster_id)).await?;
    let cluster_names: BTreeMap<EntryId, String> = entries
        .iter()
        .map(|e| {
            (
                e.id,
                clusters.get(&e.cluster_id).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let statuses: Vec<SheetStatus> = active
        .iter()
        .map(|a| {
            let s = sheets.get(&a.id);
            let status = s.map_or(NOT_STARTED.to_string(), |s| s.status.key().to_string());
            SheetStatus {
                assignment_id: a.id,
                sheet_id: s.map(|s| s.id),
                expert_id: a.expert_id,
                expert_name: names.get(&a.expert_id).cloned().unwrap_or_default(),
                entry_id: a.entry_id,
                cluster_name: cluster_names.get(&a.entry_id).cloned().unwrap_or_default(),
                status_label: sheet_status_label(&status).into(),
                status,
                total: s.and_then(|s| s.total),
                submitted_at: s
                    .and_then(|s| s.submitted_at)
                    .map(local_minutes)
                    .unwrap_or_default(),
                reopened_reason: s.map(|s| s.reopened_reason.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let count = |list: &[&SheetStatus]| {
        (
            u32::try_from(list.len()).unwrap_or(u32::MAX),
            u32::try_from(list.iter().filter(|s| s.status == SUBMITTED).count())
                .unwrap_or(u32::MAX),
        )
    };
    let mut experts = Vec::new();
    let expert_ids: BTreeSet<ExpertId> = active.iter().map(|a| a.expert_id).collect();
    for id in expert_ids {
        let mine: Vec<&SheetStatus> = statuses.iter().filter(|s| s.expert_id == id).collect();
        let (assigned, submitted) = count(&mine);
        experts.push(ExpertProgress {
            expert_id: id,
            expert_name: names.get(&id).cloned().unwrap_or_default(),
            assigned,
            submitted,
            missing: assigned - submitted,
            missing_clusters: mine
                .iter()
                .filter(|s| s.status != SUBMITTED)
                .map(|s| s.cluster_name.clone())
                .collect(),
        });
    }
    let entrants = entries
        .iter()
        .map(|e| {
            let theirs: Vec<&SheetStatus> =
                statuses.iter().filter(|s| s.entry_id == e.id).collect();
            let (assigned, submitted) = count(&theirs);
            EntrantProgress {
                entry_id: e.id,
                cluster_name: cluster_names.get(&e.id).cloned().unwrap_or_default(),
                kind_label: kind_label(&policy, &e.cluster_kind),
                assigned,
                submitted,
                sheets: theirs.into_iter().cloned().collect(),
            }
        })
        .collect();
    let all: Vec<&SheetStatus> = statuses.iter().collect();
    let (assigned, submitted) = count(&all);
    let status = r.status;
    Ok(ProgressView {
        round_id: r.id,
        round_label: round_label(&c, &r),
        status: status.key().into(),
        status_label: status.label().into(),
        opens_at: local_minutes(r.scoring_opens_at),
        closes_at: local_minutes(r.scoring_closes_at),
        assigned,
        submitted,
        experts,
        entrants,
        can_reopen: status == RoundStatus::Scoring,
        defence: r.defence,
    })
}

/// Experts' names by id.
pub async fn expert_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = ExpertId>,
) -> Result<BTreeMap<ExpertId, String>, AppError> {
    Ok(
        store::load_by_ids_map::<expert::Entity, _>(conn, ids, |e| e.name)
            .await?
            .into_iter()
            .collect(),
    )
}

/// The province sends a submitted sheet back to its expert as a draft, with a reason; only while
/// the round is in scoring. The expert is notified and may correct it even after the window.
pub async fn reopen(
    app: &App,
    p: &Principal,
    sheet_id: ScoreSheetId,
    reason: &str,
) -> Result<score_sheet::Model, AppError> {
    organiser_wide(p, Action::Update)?;
    let reason = crate::services::required_text("reason", reason, "请填写退回评分表的理由")?;
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("理由不能超过{MAX_REASON_CHARS}字"),
        ));
    }
    let txn = store::write_txn(&app.db).await?;
    let s = score_sheet::Entity::find_by_id(sheet_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = rounds::load_for_update(&txn, p, s.round_id).await?;
    let status = r.status;
    if status != RoundStatus::Scoring {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再退回评分表",
            status.label()
        )));
    }
    if s.status != crate::store::entity::kinds::ScoreSheetStatus::Submitted {
        return Err(AppError::Conflict("该评分表尚未提交，无需退回".into()));
    }
    let now = app.clock.now();
    store::update_versioned(
        &txn,
        s.id,
        s.version,
        score_sheet::ActiveModel {
            status: Set(crate::store::entity::kinds::ScoreSheetStatus::Draft),
            submitted_at: Set(None),
            reopened_reason: Set(reason.to_string()),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let entry = round_entry::Entity::find_by_id(s.entry_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let name = rounds::cluster_name(&txn, entry.cluster_id).await?;
    let ex = expert::Entity::find_by_id(s.expert_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "score.reopen",
                object_type: "score_sheet",
                object_id: s.id.to_string(),
                summary: format!(
                    "退回{}对“{name}”的评分表（原合计{}分），改为草稿",
                    ex.name,
                    s.total.map(show).unwrap_or_default()
                ),
                reason: reason.to_string(),
            },
        )
        .await?;
    crate::services::notifications::notify_user(
        &txn,
        ex.user_id,
        &format!("评分表被退回：{name}"),
        &format!("省工信厅退回了您对“{name}”的评分表，理由：{reason}。请修改后重新提交。"),
        &format!("/scoring/{}", s.assignment_id),
        now,
    )
    .await?;
    let after = score_sheet::Entity::find_by_id(s.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(after)
}
