//! The round's panel: the experts the organiser draws on for its assignments (第十条) — the
//! province from the provincial pool, a city bureau for its own competition from its city's
//! pool only (第十六条).

use crate::store::id::{ExpertId, RoundId};
use std::collections::BTreeSet;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{
    active_assignments, competition_of, ensure_assignable, expert_name, load_for_update, names,
    panel_ids,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::services::experts;
use crate::store::{
    self,
    entity::{expert, panel_member},
};

/// Adds experts to and removes them from the round's panel.
pub async fn set_panel(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    add: &[ExpertId],
    remove: &[ExpertId],
) -> Result<Vec<ExpertId>, AppError> {
    let txn = store::write_txn(&app.db).await?;
    let r = load_for_update(&txn, p, round_id).await?;
    ensure_assignable(&r)?;
    let pool = competition_of(&txn, &r).await?.organiser_city_code;
    let now = app.clock.now();
    let current: BTreeSet<ExpertId> = panel_ids(&txn, r.id).await?.into_iter().collect();
    let found = store::load_by_ids::<expert::Entity>(&txn, add.iter().copied()).await?;
    for id in add {
        match found.get(id) {
            Some(e) if e.pool_city_code != pool => {
                return Err(AppError::invalid(
                    "experts",
                    format!(
                        "专家{}属于{}，本竞赛的评审组只能从{}中选择",
                        e.name,
                        experts::pool_label(e.pool_city_code),
                        experts::pool_label(pool)
                    ),
                ));
            }
            Some(e) if e.active => {}
            _ => {
                return Err(AppError::invalid(
                    "experts",
                    format!("专家{}不在专家库中或已停用", expert_name(&txn, *id).await?),
                ));
            }
        }
    }
    let active = active_assignments(&txn, r.id).await?;
    let mut added = Vec::new();
    for id in add.iter().filter(|id| !current.contains(id)) {
        panel_member::ActiveModel {
            round_id: Set(r.id),
            expert_id: Set(*id),
            added_by: Set(p.user.id),
            added_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        added.push(*id);
    }
    let mut removed = Vec::new();
    for id in remove.iter().filter(|id| current.contains(id)) {
        if active.iter().any(|a| a.expert_id == *id) {
            return Err(AppError::Conflict(format!(
                "专家{}已有评审任务，请先取消其分配再移出评审组",
                expert_name(&txn, *id).await?
            )));
        }
        panel_member::Entity::delete_many()
            .filter(panel_member::Column::RoundId.eq(r.id))
            .filter(panel_member::Column::ExpertId.eq(*id))
            .exec(&txn)
            .await?;
        removed.push(*id);
    }
    if !added.is_empty() || !removed.is_empty() {
        Audit::of(app, p, now)
            .record(
                &txn,
                Event {
                    action: "round.panel",
                    object_type: "round",
                    object_id: r.id.to_string(),
                    summary: format!(
                        "评审组加入专家{}，移出专家{}",
                        names(&txn, &added).await?,
                        names(&txn, &removed).await?
                    ),
                    reason: String::new(),
                },
            )
            .await?;
    }
    let ids = panel_ids(&txn, r.id).await?;
    txn.commit().await?;
    Ok(ids)
}
