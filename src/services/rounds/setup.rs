//! Opening a round (第十条、第十一条): who may enter, the opening form and its checks.

use crate::store::id::CompetitionId;
use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::Status;
use jiqun_domain::round::{self as round_rules, RoundKind, RoundStatus};
use jiqun_rules::Policy;
use jiqun_rules::policy::{Entrants, Round as PolicyRound};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::round_policy;
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::{local_minutes, parse_local_datetime};
use crate::error::{AppError, Problems};
use crate::services::{authorize, trimmed};
use crate::store::{
    self,
    entity::{application, cluster, competition, designation, round, round_entry},
};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenRoundInput {
    /// "preliminary" (初赛) or "final" (决赛).
    pub kind: String,
    /// Experts per entrant; the policy's panel size unless a reason is given.
    pub experts_per_application: u32,
    /// Required when fewer experts than the policy's minimum judge each entrant.
    #[serde(default)]
    pub panel_note: String,
    /// Winners per cluster kind key, e.g. {"leading": 2, "specialty": 3}.
    pub quotas: BTreeMap<String, u32>,
    /// Beijing time, "YYYY-MM-DDTHH:MM".
    pub scoring_opens_at: String,
    pub scoring_closes_at: String,
    /// Whether a defence (答辩) session is held.
    #[serde(default)]
    pub defence: bool,
    /// 决赛 only: the last day (YYYY-MM-DD, Beijing time) for the finalists' 决赛申报材料; blank
    /// for the policy's period (`cultivation_period.materials_working_days` working days).
    #[serde(default)]
    pub materials_due: String,
}

/// One candidate for a round: the cluster and the application it is judged on.
struct Candidate {
    application: application::Model,
    cluster: cluster::Model,
}

/// Who may enter: the recommended applications of the competition (初赛), or the cultivation
/// targets that have served the policy's cultivation period by `today` (决赛).
async fn candidates<C: ConnectionTrait>(
    conn: &C,
    c: &competition::Model,
    rule: &PolicyRound,
    today: time::Date,
) -> Result<Vec<Candidate>, AppError> {
    let mut out = Vec::new();
    match rule.entrants {
        Entrants::Recommended | Entrants::Submitted => {
            // A city's own competition has no separate 初审 (第十六条): its submitted
            // applications enter; otherwise the ones the cities recommended (第九条).
            let status = if rule.entrants == Entrants::Submitted {
                Status::Submitted
            } else {
                Status::Recommended
            };
            let apps = application::Entity::find()
                .filter(application::Column::CompetitionId.eq(c.id))
                .filter(application::Column::Status.eq(status))
                .order_by_asc(application::Column::Id)
                .all(conn)
                .await?;
            let clusters =
                store::load_by_ids::<cluster::Entity>(conn, apps.iter().map(|a| a.cluster_id))
                    .await?;
            for a in apps {
                if let Some(cl) = clusters.get(&a.cluster_id) {
                    out.push(Candidate {
                        application: a,
                        cluster: cl.clone(),
                    });
                }
            }
        }
        Entrants::CultivationTargets => {
            let min_months = rule.cultivation_period.as_ref().map_or(0, |p| p.min_months);
            let targets = designation::Entity::find()
                .filter(designation::Column::Designation.eq(RoundKind::Preliminary.outcome()))
                .filter(designation::Column::RevokedOn.is_null())
                .order_by_asc(designation::Column::Id)
                .all(conn)
                .await?;
            let served: Vec<designation::Model> = targets
                .into_iter()
                .filter(|d| round_rules::cultivation_served(d.effective_on, today, min_months))
                .collect();
            let clusters =
                store::load_by_ids::<cluster::Entity>(conn, served.iter().map(|d| d.cluster_id))
                    .await?;
            let entries =
                store::load_by_ids::<round_entry::Entity>(conn, served.iter().map(|d| d.entry_id))
                    .await?;
            let apps = store::load_by_ids::<application::Entity>(
                conn,
                entries.values().map(|e| e.application_id),
            )
            .await?;
            for d in served {
                let Some(cl) = clusters.get(&d.cluster_id) else {
                    continue;
                };
                if cl.lifecycle.key() != RoundKind::Preliminary.outcome().lifecycle() {
                    continue;
                }
                let Some(entry) = entries.get(&d.entry_id) else {
                    continue;
                };
                if let Some(a) = apps.get(&entry.application_id) {
                    out.push(Candidate {
                        application: a.clone(),
                        cluster: cl.clone(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Checks the opening form; the policy's panel size and cluster kinds are the yardstick.
fn validate(
    input: &OpenRoundInput,
    policy: &Policy,
    rule: &PolicyRound,
    call: &jiqun_rules::policy::CallRules,
) -> Result<(OffsetDateTime, OffsetDateTime), AppError> {
    let mut p = Problems::default();
    let k = input.experts_per_application;
    let panel = &rule.panel;
    if k == 0 {
        p.add("experts_per_application", "每个参赛集群至少需要1名评审专家");
    } else if k > panel.max_experts {
        p.add(
            "experts_per_application",
            format!(
                "每个参赛集群的评审专家不能超过政策规定的{}人",
                panel.max_experts
            ),
        );
    } else if k < panel.min_experts && input.panel_note.trim().is_empty() {
        p.add(
            "panel_note",
            format!(
                "政策规定每个参赛集群由{}至{}名专家评审；少于{}人须说明理由",
                panel.min_experts, panel.max_experts, panel.min_experts
            ),
        );
    }
    let known: BTreeSet<&str> = policy
        .cluster_kinds
        .iter()
        .map(|k| k.key.as_str())
        .collect();
    for key in input.quotas.keys() {
        if !known.contains(key.as_str()) {
            p.add("quotas", format!("未知的集群类型“{key}”"));
        }
    }
    if input.quotas.values().all(|n| *n == 0) {
        p.add("quotas", "请至少为一类集群设置大于0的入选名额");
    }
    // The year's call may cap a kind's winners per round (its own rules within the policy).
    for (key, n) in &input.quotas {
        if let Some(cap) = call.quotas.get(key).filter(|cap| n > cap) {
            let name = policy
                .cluster_kinds
                .iter()
                .find(|k| &k.key == key)
                .map_or(key.as_str(), |k| k.name.as_str());
            p.add(
                "quotas",
                format!("本年度竞赛通知规定{name}每轮最多入选{cap}个，不能设置为{n}个"),
            );
        }
    }
    let opens = parse_local_datetime(&input.scoring_opens_at);
    let closes = parse_local_datetime(&input.scoring_closes_at);
    if opens.is_none() {
        p.add(
            "scoring_opens_at",
            "评分开始时间无效，应为“年-月-日 时:分”（北京时间）",
        );
    }
    if closes.is_none() {
        p.add(
            "scoring_closes_at",
            "评分截止时间无效，应为“年-月-日 时:分”（北京时间）",
        );
    }
    if let (Some(o), Some(c)) = (opens, closes)
        && c <= o
    {
        p.add("scoring_closes_at", "评分截止时间应晚于开始时间");
    }
    p.into_result()?;
    match (opens, closes) {
        (Some(o), Some(c)) => Ok((o, c)),
        _ => Err(AppError::Internal("validated window".into())),
    }
}

/// Opens a round of a competition with every eligible entrant.
pub async fn open_round(
    app: &App,
    p: &Principal,
    competition_id: CompetitionId,
    input: &OpenRoundInput,
) -> Result<round::Model, AppError> {
    authorize(p, Resource::Round, Action::Create)?;
    let kind = RoundKind::from_key(input.kind.trim())
        .ok_or_else(|| AppError::invalid("kind", "请选择评审轮次（初赛或决赛）"))?;
    // The deadline engine's calendar, read before the write transaction.
    let calendar = match kind {
        RoundKind::Final => Some(crate::services::calendar::load(app).await?),
        RoundKind::Preliminary => None,
    };
    let txn = store::write_txn(&app.db).await?;
    let c = competition::Entity::find_by_id(competition_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::services::organisers::check_run(p, &c)?;
    let (policy, rule) = round_policy(&c, kind)?;
    let call = crate::services::competitions::call_rules_of(&c);
    let (opens, closes) = validate(input, &policy, &rule, &call)?;
    let exists = round::Entity::find()
        .filter(round::Column::CompetitionId.eq(c.id))
        .filter(round::Column::Kind.eq(kind))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(AppError::Conflict(format!(
            "{}年度竞赛已开设{}，不能重复开设",
            c.year,
            kind.label()
        )));
    }
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    // Whether anyone may enter comes before the details of the form.
    let found = candidates(&txn, &c, &rule, today).await?;
    if found.is_empty() {
        return Err(AppError::Conflict(match rule.entrants {
            Entrants::Recommended => "没有已推荐至省工信厅的申报，暂不能开设初赛".to_string(),
            Entrants::Submitted => format!("没有已提交的申报，暂不能开设{}", rule.name),
            Entrants::CultivationTargets => format!(
                "没有培育期满{}个月的培育对象，暂不能开设决赛",
                rule.cultivation_period.as_ref().map_or(0, |p| p.min_months)
            ),
        }));
    }
    let materials_due = match &rule.cultivation_period {
        Some(period) if rule.entrants == Entrants::CultivationTargets => Some(materials_due(
            calendar.as_ref(),
            input,
            period,
            today,
            opens,
        )?),
        _ => None,
    };
    let r = round::ActiveModel {
        competition_id: Set(c.id),
        kind: Set(kind),
        status: Set(RoundStatus::Setup),
        experts_per_application: Set(input.experts_per_application as i32),
        panel_note: Set(trimmed(&input.panel_note)),
        quotas: Set(
            serde_json::to_string(&input.quotas).map_err(|e| AppError::internal(e.to_string()))?
        ),
        scoring_opens_at: Set(opens),
        scoring_closes_at: Set(closes),
        defence: Set(input.defence),
        notice_text: Set(String::new()),
        notice_published_on: Set(None),
        notice_first_day: Set(None),
        notice_last_day: Set(None),
        confirmed_on: Set(None),
        created_by: Set(p.user.id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut finalists = Vec::new();
    for cand in &found {
        if rule.entrants == Entrants::Submitted {
            // The organising city takes the application into its round itself: the step a
            // city's recommendation is elsewhere, recorded in the application's history.
            crate::services::rounds::accept_submitted(&txn, p, &cand.application, now).await?;
        }
        let entry = round_entry::ActiveModel {
            round_id: Set(r.id),
            application_id: Set(cand.application.id),
            cluster_id: Set(cand.cluster.id),
            cluster_kind: Set(cand.cluster.kind.clone()),
            city_code: Set(cand.cluster.city_code),
            county_code: Set(cand.cluster.lead_county_code),
            status: Set(Status::Recommended),
            final_score: Set(None),
            rank: Set(None),
            proposed: Set(false),
            decision_note: Set(String::new()),
            version: Set(1),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        finalists.push((entry, cand.cluster.clone()));
    }
    if let Some(due) = materials_due {
        crate::services::finals::ask(&txn, &r, &finalists, due, now).await?;
    }
    let quotas: Vec<String> = input
        .quotas
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.open",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!(
                    "开设{}年度{}：参赛{}个，每个参赛集群{}名专家，名额{}，评分时间{}至{}{}",
                    c.year,
                    kind.label(),
                    found.len(),
                    input.experts_per_application,
                    quotas.join("、"),
                    local_minutes(opens),
                    local_minutes(closes),
                    if input.defence { "，安排答辩" } else { "" }
                ) + &materials_due
                    .map(|d| format!("，决赛申报材料截止{}", round_rules::date_zh(d)))
                    .unwrap_or_default(),
                reason: trimmed(&input.panel_note),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(r)
}

/// The last day of the 决赛申报材料: the day typed on the form, else the policy's period counted
/// from today by the deadline engine. It may not be past, nor after scoring opens.
fn materials_due(
    calendar: Option<&jiqun_rules::Calendar>,
    input: &OpenRoundInput,
    period: &jiqun_rules::policy::CultivationPeriod,
    today: time::Date,
    scoring_opens: OffsetDateTime,
) -> Result<time::Date, AppError> {
    const FIELD: &str = "materials_due";
    let typed = input.materials_due.trim();
    let due = if typed.is_empty() {
        let calendar = calendar.ok_or_else(|| AppError::internal("calendar not loaded"))?;
        jiqun_rules::deadline::final_materials_due(period, calendar, today)
            .map_err(|e| AppError::invalid(FIELD, format!("无法计算决赛申报材料截止日：{e}")))?
    } else {
        crate::services::calendar::parse_date(typed)
            .map_err(|_| AppError::invalid(FIELD, "决赛申报材料截止日无效，应为“年-月-日”"))?
    };
    if due < today {
        return Err(AppError::invalid(FIELD, "决赛申报材料截止日不能早于今天"));
    }
    if crate::services::finals::end_of(due) > scoring_opens {
        return Err(AppError::invalid(
            FIELD,
            format!(
                "决赛申报材料截止日（{}）应早于评分开始时间，专家须在材料截止后评分",
                round_rules::date_zh(due)
            ),
        ));
    }
    Ok(due)
}
