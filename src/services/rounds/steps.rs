//! A round's own steps, its entrants' moves through the state machine and its scoring window.

use crate::store::id::RoundId;
use jiqun_domain::application::{self as machine, Transition};
use jiqun_domain::round::{self as round_rules, RoundKind, RoundStep};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;

use super::{
    active_assignments, cluster_names, entries, load_for_update, notify_experts, notify_new_tasks,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::{local_minutes, parse_local_datetime};
use crate::error::AppError;
use crate::services::applications::{Step, record_event};
use crate::services::saved;
use crate::store::{
    self,
    entity::{application, round, round_entry},
};

/// Moves an entrant one step through the application state machine, in the caller's
/// transaction. In a 初赛 the application follows, with its history row.
pub async fn move_entry<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    kind: RoundKind,
    entry: &round_entry::Model,
    transition: Transition,
    comment: &str,
    now: OffsetDateTime,
) -> Result<round_entry::Model, AppError> {
    let from = entry.status;
    let to =
        machine::apply(from, transition, p.role).map_err(|e| AppError::Conflict(e.to_string()))?;
    store::update_versioned(
        conn,
        entry.id,
        entry.version,
        round_entry::ActiveModel {
            status: Set(to),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let after = round_entry::Entity::find_by_id(entry.id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if kind == RoundKind::Preliminary {
        let res = application::Entity::update_many()
            .col_expr(
                application::Column::Status,
                sea_orm::sea_query::Expr::value(to),
            )
            .col_expr(
                application::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(application::Column::Id.eq(entry.application_id))
            .filter(application::Column::Status.eq(from))
            .exec(conn)
            .await?;
        saved(&res)?;
        // The applicant reads this history: the province's internal reasons for the proposed
        // list (ties, the county cap) stay with the round.
        let shown = if matches!(transition, Transition::Shortlist | Transition::NotSelect) {
            ""
        } else {
            comment
        };
        record_event(
            conn,
            p,
            Step {
                id: entry.application_id,
                from,
                to,
                transition,
                comment: shown,
            },
            now,
        )
        .await?;
    }
    Ok(after)
}

/// Steps the round itself, with the version the editor saw.
pub async fn step_round<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
    step: RoundStep,
    now: OffsetDateTime,
) -> Result<round::Model, AppError> {
    let to = round_rules::step(r.status, step).map_err(|e| AppError::Conflict(e.to_string()))?;
    store::update_versioned(
        conn,
        r.id,
        r.version,
        round::ActiveModel {
            status: Set(to),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    round::Entity::find_by_id(r.id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// Moves the scoring deadline later (province, before or during scoring), so that late or replacement
/// experts can finish; a round whose deadline has passed would otherwise wait for ever.
pub async fn extend_window(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    closes_at: &str,
    reason: &str,
) -> Result<round::Model, AppError> {
    let reason = crate::services::required_text("reason", reason, "请填写延长评分时间的理由")?;
    crate::services::at_most("reason", reason, "理由", 500)?;
    let txn = store::write_txn(&app.db).await?;
    let r = load_for_update(&txn, p, round_id).await?;
    let status = r.status;
    if !status.assignments_open() {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，评分已结束，不能再调整评分截止时间",
            status.label()
        )));
    }
    let now = app.clock.now();
    let closes = parse_local_datetime(closes_at).ok_or_else(|| {
        AppError::invalid(
            "scoring_closes_at",
            "评分截止时间无效，应为“年-月-日 时:分”（北京时间）",
        )
    })?;
    if closes <= now || closes <= r.scoring_closes_at {
        return Err(AppError::invalid(
            "scoring_closes_at",
            format!(
                "新的评分截止时间应晚于原截止时间（{}）和当前时间",
                local_minutes(r.scoring_closes_at)
            ),
        ));
    }
    store::update_versioned(
        &txn,
        r.id,
        r.version,
        round::ActiveModel {
            scoring_closes_at: Set(closes),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record_changes(
            &txn,
            Event {
                action: "round.extend_window",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!(
                    "评分截止时间由{}延长至{}",
                    local_minutes(r.scoring_closes_at),
                    local_minutes(closes)
                ),
                reason: reason.to_string(),
            },
            crate::audit::changes_since::<round::Entity, _>(&txn, &r).await?,
        )
        .await?;
    notify_experts(
        &txn,
        active_assignments(&txn, r.id)
            .await?
            .iter()
            .map(|a| a.expert_id),
        "评分截止时间已延长",
        &format!(
            "评分截止时间已延长至{}（北京时间）。",
            local_minutes(closes)
        ),
        now,
    )
    .await?;
    let after = round::Entity::find_by_id(r.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(after)
}

/// Starts scoring: every entrant must have the round's number of experts.
pub async fn open_scoring(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<round::Model, AppError> {
    let txn = store::write_txn(&app.db).await?;
    let r = load_for_update(&txn, p, round_id).await?;
    let kind = r.kind;
    let entries = entries(&txn, r.id).await?;
    let active = active_assignments(&txn, r.id).await?;
    let k = r.experts_per_application.max(0) as usize;
    let names = cluster_names(&txn, entries.iter().map(|e| e.cluster_id)).await?;
    let mut short = Vec::new();
    for e in &entries {
        let n = active.iter().filter(|a| a.entry_id == e.id).count();
        if n < k {
            let name = names.get(&e.cluster_id).cloned().unwrap_or_default();
            short.push(format!("{name}（{n}/{k}）"));
        }
    }
    if !short.is_empty() {
        return Err(AppError::Conflict(format!(
            "以下参赛集群的评审专家不足，不能开始评分：{}",
            short.join("、")
        )));
    }
    let now = app.clock.now();
    if r.scoring_closes_at <= now {
        return Err(AppError::Conflict(format!(
            "评分截止时间（{}）已过，请先延长评分截止时间",
            local_minutes(r.scoring_closes_at)
        )));
    }

    let after = step_round(&txn, &r, RoundStep::OpenScoring, now).await?;
    for e in &entries {
        move_entry(&txn, p, kind, e, Transition::StartReview, "", now).await?;
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.open_scoring",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!(
                    "{}开始评分：{}个参赛集群，{}项评审任务，截止{}",
                    kind.label(),
                    entries.len(),
                    active.len(),
                    local_minutes(r.scoring_closes_at)
                ),
                reason: String::new(),
            },
        )
        .await?;
    notify_new_tasks(&txn, &r, active.iter().map(|a| a.expert_id), now).await?;
    txn.commit().await?;
    Ok(after)
}
