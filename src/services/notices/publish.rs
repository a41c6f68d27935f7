//! Publishing a round's notice (公示): the province sets the preamble and the window is fixed.

use crate::store::id::RoundId;
use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::{Status, Transition};
use jiqun_domain::round::{self as round_rules, RoundKind, RoundStep};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::{MAX_NOTICE_CHARS, notice_title_of, period_text};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::services::competitions::policy_of;
use crate::services::{at_most, authorize, required_text, rounds};
use crate::store::{
    self,
    entity::{cluster, round, round_entry},
};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishInput {
    /// The notice's preamble, shown above the list.
    pub notice_text: String,
    /// The round version the editor saw; a stale one is refused with 409.
    #[serde(default)]
    pub version: Option<i32>,
}

fn ensure_version(r: &round::Model, expected: Option<i32>) -> Result<(), AppError> {
    match expected {
        Some(v) if v != r.version => Err(AppError::StaleVersion),
        _ => Ok(()),
    }
}

/// The round the province is about to take a notice step on (publish, confirm): at the version
/// the editor saw, and in a status the step may be taken from.
pub(super) async fn round_for_step<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    round_id: RoundId,
    expected: Option<i32>,
    step: RoundStep,
) -> Result<(round::Model, RoundKind), AppError> {
    let r = rounds::load_for_update(conn, p, round_id).await?;
    ensure_version(&r, expected)?;
    let kind = r.kind;
    round_rules::step(r.status, step).map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok((r, kind))
}

/// Publishes the proposed list (province): the round goes on notice today, for the policy's
/// number of working days; every shortlisted entrant goes on notice with it.
pub async fn publish(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    input: &PublishInput,
) -> Result<round::Model, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    let text = required_text("notice_text", &input.notice_text, "请填写公示说明")?;
    at_most("notice_text", text, "公示说明", MAX_NOTICE_CHARS)?;
    // The calendar is read before the write lock is taken.
    let calendar = crate::services::calendar::load(app).await?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, kind) =
        round_for_step(&txn, p, round_id, input.version, RoundStep::PublishNotice).await?;
    let c = rounds::competition_of(&txn, &r).await?;
    let policy = policy_of(&c)?;
    let window = jiqun_rules::deadline::public_notice_window(&policy, &calendar, today)
        .map_err(|e| AppError::Conflict(format!("无法计算公示期：{e}")))?;
    let listed: Vec<round_entry::Model> = rounds::entries(&txn, r.id)
        .await?
        .into_iter()
        .filter(|e| e.status == Status::Shortlisted)
        .collect();
    if listed.is_empty() {
        return Err(AppError::Conflict(
            "拟定名单中没有拟入选的集群，不能发布公示".into(),
        ));
    }
    let after = rounds::step_round(&txn, &r, RoundStep::PublishNotice, now).await?;
    store::update_at_version(
        &txn,
        r.id,
        after.version,
        round::ActiveModel {
            notice_text: Set(text.to_string()),
            notice_published_on: Set(Some(window.published)),
            notice_first_day: Set(Some(window.first_day)),
            notice_last_day: Set(Some(window.last_day)),
            ..Default::default()
        },
    )
    .await?;
    for e in &listed {
        rounds::move_entry(&txn, p, kind, e, Transition::PublishNotice, "", now).await?;
    }
    // The notice shows these names and figures for good, whatever is edited later.
    let snapshots = crate::services::records::of_entries(&txn, &listed, &policy).await?;
    for (entry_id, snap) in &snapshots {
        round_entry::Entity::update_many()
            .col_expr(
                round_entry::Column::NoticeSnapshot,
                sea_orm::sea_query::Expr::value(snap.to_json()?),
            )
            .filter(round_entry::Column::Id.eq(*entry_id))
            .exec(&txn)
            .await?;
    }
    let period = period_text(window.first_day, window.last_day, window.working_days);
    let title = notice_title_of(&c, kind)?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "notice.publish",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!("发布“{title}”：{}个集群，公示期{period}", listed.len()),
                reason: String::new(),
            },
        )
        .await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&txn, listed.iter().map(|e| e.cluster_id)).await?;
    for e in &listed {
        if let Some(cl) = clusters.get(&e.cluster_id) {
            crate::services::notifications::notify_org(
                &txn,
                cl.org_id,
                &format!("拟入选名单公示：{}", cl.name),
                &format!(
                    "{}已列入“{title}”，公示期{period}。公示期间如收到异议，省工信厅将调查核实后作出处理。",
                    cl.name
                ),
                &format!("/notices/{}", r.id),
                now,
            )
            .await?;
        }
    }
    let out = round::Entity::find_by_id(r.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    app.public_pages.invalidate(&app.db, round_id).await;
    Ok(out)
}
