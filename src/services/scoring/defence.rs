//! Defence (答辩) scores, recorded by the province for each assigned expert and entrant.

use crate::store::id::{EntryId, ExpertId, RoundId};
use std::collections::BTreeMap;

use jiqun_domain::access::Action;
use jiqun_domain::review;
use jiqun_domain::round::RoundStatus;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::{
    ProvinceRound, expert_names, kind_label, load_province_round, organiser_wide, round_label, show,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, FieldError};
use crate::services::rounds::{self, competition_of, round_policy};
use crate::store::{
    self,
    entity::{defence_score, round_entry},
};

/// One defence score: the points an assigned expert gave an entrant at the defence, on the
/// policy's total scale (e.g. 0 to 100), so it combines with the written score by the weight.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DefenceInput {
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
    pub score: f64,
}

/// The field a defence score's problem is reported against.
pub fn defence_field(entry_id: EntryId, expert_id: ExpertId) -> String {
    format!("defence.{entry_id}.{expert_id}")
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceCell {
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
    pub expert_name: String,
    pub score: Option<f64>,
}

impl DefenceCell {
    pub fn score_text(&self) -> String {
        self.score.map(show).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceRow {
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    pub cluster_name: String,
    pub kind_label: String,
    pub cells: Vec<DefenceCell>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceView {
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    pub round_label: String,
    pub defence: bool,
    /// The scale: the policy's total score.
    pub max_score: u32,
    pub defence_share: f64,
    pub editable: bool,
    pub rows: Vec<DefenceRow>,
    /// Assigned (entrant, expert) pairs without a defence score.
    pub missing: u32,
}

/// The defence grid: every entrant with each of its assigned experts.
pub async fn defence(app: &App, p: &Principal, round_id: RoundId) -> Result<DefenceView, AppError> {
    let ProvinceRound {
        r,
        c,
        policy,
        rule,
        entries,
        active,
    } = load_province_round(app, p, round_id).await?;
    let recorded: BTreeMap<(EntryId, ExpertId), f64> = defence_score::Entity::find()
        .filter(defence_score::Column::RoundId.eq(r.id))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|d| ((d.entry_id, d.expert_id), d.score))
        .collect();
    let names = expert_names(&app.db, active.iter().map(|a| a.expert_id)).await?;
    let clusters = rounds::cluster_names(&app.db, entries.iter().map(|e| e.cluster_id)).await?;
    let mut rows = Vec::new();
    let mut missing = 0;
    for e in &entries {
        let cells: Vec<DefenceCell> = active
            .iter()
            .filter(|a| a.entry_id == e.id)
            .map(|a| DefenceCell {
                expert_id: a.expert_id,
                expert_name: names.get(&a.expert_id).cloned().unwrap_or_default(),
                score: recorded.get(&(e.id, a.expert_id)).copied(),
            })
            .collect();
        missing += cells.iter().filter(|c| c.score.is_none()).count() as u32;
        rows.push(DefenceRow {
            entry_id: e.id,
            cluster_name: clusters.get(&e.cluster_id).cloned().unwrap_or_default(),
            kind_label: kind_label(&policy, &e.cluster_kind),
            cells,
        });
    }
    Ok(DefenceView {
        round_id: r.id,
        round_label: round_label(&c, &r),
        defence: r.defence,
        max_score: policy.scoring.total_score,
        defence_share: rule.panel.defence_share,
        editable: r.defence && r.status == RoundStatus::Scoring,
        rows,
        missing,
    })
}

/// Records defence scores (province), each for an expert assigned to the entrant; a second
/// recording replaces the first and says so in the audit trail. All or nothing.
pub async fn record_defence(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    scores: &[DefenceInput],
) -> Result<usize, AppError> {
    organiser_wide(p, Action::Update)?;
    let txn = store::write_txn(&app.db).await?;
    let r = rounds::load_for_update(&txn, p, round_id).await?;
    if !r.defence {
        return Err(AppError::Conflict(
            "本轮评审未安排答辩，无需录入答辩评分".into(),
        ));
    }
    let status = r.status;
    if status != RoundStatus::Scoring {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再录入答辩评分",
            status.label()
        )));
    }
    let c = competition_of(&txn, &r).await?;
    let (policy, _) = round_policy(&c, r.kind)?;
    let max = policy.scoring.total_score;
    let active = rounds::active_assignments(&txn, r.id).await?;
    let names = expert_names(&txn, active.iter().map(|a| a.expert_id)).await?;
    let mut problems = Vec::new();
    for d in scores {
        let field = defence_field(d.entry_id, d.expert_id);
        if !active
            .iter()
            .any(|a| a.entry_id == d.entry_id && a.expert_id == d.expert_id)
        {
            problems.push(FieldError {
                field,
                message: "该专家未分配评审此参赛集群，不能录入其答辩评分".into(),
            });
        } else if let Err(message) = review::validate_score(d.score, max) {
            problems.push(FieldError {
                field,
                message: format!(
                    "{}的答辩{message}",
                    names.get(&d.expert_id).cloned().unwrap_or_default()
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let now = app.clock.now();
    let mut changed = 0;
    for d in scores {
        let prior = defence_score::Entity::find()
            .filter(defence_score::Column::EntryId.eq(d.entry_id))
            .filter(defence_score::Column::ExpertId.eq(d.expert_id))
            .one(&txn)
            .await?;
        if prior.as_ref().is_some_and(|x| x.score == d.score) {
            continue;
        }
        let id = match &prior {
            Some(x) => {
                let mut m: defence_score::ActiveModel = x.clone().into();
                m.score = Set(d.score);
                m.recorded_by = Set(p.user.id);
                m.recorded_at = Set(now);
                m.update(&txn).await?.id
            }
            None => {
                defence_score::ActiveModel {
                    round_id: Set(r.id),
                    entry_id: Set(d.entry_id),
                    expert_id: Set(d.expert_id),
                    score: Set(d.score),
                    recorded_by: Set(p.user.id),
                    recorded_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
                .id
            }
        };
        let entry = round_entry::Entity::find_by_id(d.entry_id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        Audit::of(app, p, now)
            .record(
                &txn,
                Event {
                    action: "score.defence",
                    object_type: "defence_score",
                    object_id: id.to_string(),
                    summary: format!(
                        "录入答辩评分：“{}”，{} {}分{}",
                        rounds::cluster_name(&txn, entry.cluster_id).await?,
                        names.get(&d.expert_id).cloned().unwrap_or_default(),
                        show(d.score),
                        prior
                            .map(|x| format!("（原{}分）", show(x.score)))
                            .unwrap_or_default()
                    ),
                    reason: String::new(),
                },
            )
            .await?;
        changed += 1;
    }
    txn.commit().await?;
    Ok(changed)
}
