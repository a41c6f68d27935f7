//! Rounds of a competition (初赛 第十条, 决赛 第十一条): who enters, the panel, which expert
//! judges which entrant (with conflicts of interest avoided), and the round's own steps.
//!
//! Every entrant moves through the one application state machine; in a 初赛 the application
//! itself follows its entry, so the applicant sees where it stands.

use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::{self as machine, Status, Transition};
use jiqun_domain::region::{self, RegionCode};
use jiqun_domain::review::{self, Entrant, Org};
use jiqun_domain::round::{self as round_rules, RoundKind, RoundStatus, RoundStep};
use jiqun_rules::Policy;
use jiqun_rules::policy::{Entrants, Round as PolicyRound};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::applications::{Step, record_event};
use super::competitions::{local_minutes, parse_local_datetime, policy_of};
use super::{authorize, experts, saved, trimmed};
use crate::app::{App, Principal};
use crate::audit::{self, Event};
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{
        application, assignment, cluster, cluster_member, competition, designation, expert,
        organisation, panel_member, round, round_entry,
    },
};

pub const SOURCE_AUTO: &str = "auto";
pub const SOURCE_MANUAL: &str = "manual";

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
}

pub fn kind_of(r: &round::Model) -> Result<RoundKind, AppError> {
    RoundKind::from_key(&r.kind).ok_or_else(|| AppError::Internal(format!("round kind {}", r.kind)))
}

pub fn status_of(r: &round::Model) -> Result<RoundStatus, AppError> {
    RoundStatus::from_key(&r.status)
        .ok_or_else(|| AppError::Internal(format!("round status {}", r.status)))
}

pub fn entry_status(e: &round_entry::Model) -> Result<Status, AppError> {
    Status::from_key(&e.status)
        .ok_or_else(|| AppError::Internal(format!("entry status {}", e.status)))
}

pub fn quotas_of(r: &round::Model) -> BTreeMap<String, u32> {
    serde_json::from_str(&r.quotas).unwrap_or_default()
}

/// The competition's bound policy and its settings for this kind of round.
pub fn round_policy(
    c: &competition::Model,
    kind: RoundKind,
) -> Result<(Policy, PolicyRound), AppError> {
    let policy = policy_of(c)?;
    let rule = policy
        .rounds
        .iter()
        .find(|r| r.key == kind.key())
        .cloned()
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "竞赛所依据的政策《{}》没有规定{}",
                policy.identity.name,
                kind.label()
            ))
        })?;
    Ok((policy, rule))
}

pub async fn competition_of<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
) -> Result<competition::Model, AppError> {
    competition::Entity::find_by_id(r.competition_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A round the principal may see.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: i64,
) -> Result<round::Model, AppError> {
    authorize(p, Resource::Round, Action::View)?;
    round::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A round the principal may change, with the version the editor saw.
async fn load_for_update<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: i64,
) -> Result<round::Model, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    round::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn entries<C: ConnectionTrait>(
    conn: &C,
    round_id: i64,
) -> Result<Vec<round_entry::Model>, AppError> {
    Ok(round_entry::Entity::find()
        .filter(round_entry::Column::RoundId.eq(round_id))
        .order_by_asc(round_entry::Column::Id)
        .all(conn)
        .await?)
}

/// Assignments of a round that still stand (recused ones stay on record but do not count).
pub async fn active_assignments<C: ConnectionTrait>(
    conn: &C,
    round_id: i64,
) -> Result<Vec<assignment::Model>, AppError> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(round_id))
        .filter(assignment::Column::RecusedAt.is_null())
        .order_by_asc(assignment::Column::Id)
        .all(conn)
        .await?)
}

pub async fn panel_ids<C: ConnectionTrait>(conn: &C, round_id: i64) -> Result<Vec<i64>, AppError> {
    Ok(panel_member::Entity::find()
        .filter(panel_member::Column::RoundId.eq(round_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.expert_id)
        .collect())
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
        Entrants::Recommended => {
            let apps = application::Entity::find()
                .filter(application::Column::CompetitionId.eq(c.id))
                .filter(application::Column::Status.eq(Status::Recommended.key()))
                .order_by_asc(application::Column::Id)
                .all(conn)
                .await?;
            for a in apps {
                if let Some(cl) = cluster::Entity::find_by_id(a.cluster_id).one(conn).await? {
                    out.push(Candidate {
                        application: a,
                        cluster: cl,
                    });
                }
            }
        }
        Entrants::CultivationTargets => {
            let min_months = rule.cultivation_period.as_ref().map_or(0, |p| p.min_months);
            let targets = designation::Entity::find()
                .filter(
                    designation::Column::Designation
                        .eq(RoundKind::Preliminary.outcome().key()),
                )
                .filter(designation::Column::RevokedOn.is_null())
                .order_by_asc(designation::Column::Id)
                .all(conn)
                .await?;
            for d in targets {
                if !round_rules::cultivation_served(d.effective_on, today, min_months) {
                    continue;
                }
                let Some(cl) = cluster::Entity::find_by_id(d.cluster_id).one(conn).await? else {
                    continue;
                };
                if cl.lifecycle != RoundKind::Preliminary.outcome().lifecycle() {
                    continue;
                }
                let Some(entry) = round_entry::Entity::find_by_id(d.entry_id).one(conn).await?
                else {
                    continue;
                };
                if let Some(a) = application::Entity::find_by_id(entry.application_id)
                    .one(conn)
                    .await?
                {
                    out.push(Candidate {
                        application: a,
                        cluster: cl,
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
) -> Result<(OffsetDateTime, OffsetDateTime), AppError> {
    let mut p = Problems::default();
    let k = input.experts_per_application;
    let panel = &rule.panel;
    if k == 0 {
        p.add("experts_per_application", "每个参赛集群至少需要1名评审专家");
    } else if k > panel.max_experts {
        p.add(
            "experts_per_application",
            format!("每个参赛集群的评审专家不能超过政策规定的{}人", panel.max_experts),
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
    let known: BTreeSet<&str> = policy.cluster_kinds.iter().map(|k| k.key.as_str()).collect();
    for key in input.quotas.keys() {
        if !known.contains(key.as_str()) {
            p.add("quotas", format!("未知的集群类型“{key}”"));
        }
    }
    if input.quotas.values().all(|n| *n == 0) {
        p.add("quotas", "请至少为一类集群设置大于0的入选名额");
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
    competition_id: i64,
    input: &OpenRoundInput,
) -> Result<round::Model, AppError> {
    authorize(p, Resource::Round, Action::Create)?;
    let kind = RoundKind::from_key(input.kind.trim())
        .ok_or_else(|| AppError::invalid("kind", "请选择评审轮次（初赛或决赛）"))?;
    let txn = store::write_txn(&app.db).await?;
    let c = competition::Entity::find_by_id(competition_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let (policy, rule) = round_policy(&c, kind)?;
    let (opens, closes) = validate(input, &policy, &rule)?;
    let exists = round::Entity::find()
        .filter(round::Column::CompetitionId.eq(c.id))
        .filter(round::Column::Kind.eq(kind.key()))
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
    let found = candidates(&txn, &c, &rule, today).await?;
    if found.is_empty() {
        return Err(AppError::Conflict(match rule.entrants {
            Entrants::Recommended => "没有已推荐至省工信厅的申报，暂不能开设初赛".to_string(),
            Entrants::CultivationTargets => format!(
                "没有培育期满{}个月的培育对象，暂不能开设决赛",
                rule.cultivation_period.as_ref().map_or(0, |p| p.min_months)
            ),
        }));
    }
    let r = round::ActiveModel {
        competition_id: Set(c.id),
        kind: Set(kind.key().into()),
        status: Set(RoundStatus::Setup.key().into()),
        experts_per_application: Set(input.experts_per_application as i32),
        panel_note: Set(trimmed(&input.panel_note)),
        quotas: Set(serde_json::to_string(&input.quotas)
            .map_err(|e| AppError::Internal(e.to_string()))?),
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
    for cand in &found {
        round_entry::ActiveModel {
            round_id: Set(r.id),
            application_id: Set(cand.application.id),
            cluster_id: Set(cand.cluster.id),
            cluster_kind: Set(cand.cluster.kind.clone()),
            city_code: Set(cand.cluster.city_code.clone()),
            county_code: Set(cand.cluster.lead_county_code.clone()),
            status: Set(Status::Recommended.key().into()),
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
    }
    let quotas: Vec<String> = input
        .quotas
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    audit::append(
        &txn,
        &app.audit_key,
        now,
        &p.actor(),
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
            ),
            reason: trimmed(&input.panel_note),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

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
    let from = entry_status(entry)?;
    let to =
        machine::apply(from, transition, p.role).map_err(|e| AppError::Conflict(e.to_string()))?;
    let mut active: round_entry::ActiveModel = entry.clone().into();
    active.status = Set(to.key().into());
    active.version = Set(entry.version + 1);
    active.updated_at = Set(now);
    let after = active.update(conn).await?;
    if kind == RoundKind::Preliminary {
        let res = application::Entity::update_many()
            .col_expr(
                application::Column::Status,
                sea_orm::sea_query::Expr::value(to.key()),
            )
            .col_expr(
                application::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(application::Column::Id.eq(entry.application_id))
            .filter(application::Column::Status.eq(from.key()))
            .exec(conn)
            .await?;
        saved(&res)?;
        record_event(
            conn,
            p,
            Step {
                id: entry.application_id,
                from,
                to,
                transition,
                comment,
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
    let to = round_rules::step(status_of(r)?, step).map_err(|e| AppError::Conflict(e.to_string()))?;
    let res = round::Entity::update_many()
        .col_expr(round::Column::Status, sea_orm::sea_query::Expr::value(to.key()))
        .col_expr(
            round::Column::Version,
            sea_orm::sea_query::Expr::value(r.version + 1),
        )
        .col_expr(round::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(round::Column::Id.eq(r.id))
        .filter(round::Column::Version.eq(r.version))
        .exec(conn)
        .await?;
    saved(&res)?;
    round::Entity::find_by_id(r.id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// The entrants as the conflict rules see them, keyed by application id.
async fn conflict_view<C: ConnectionTrait>(
    conn: &C,
    entries: &[round_entry::Model],
) -> Result<Vec<Entrant>, AppError> {
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let cl = cluster::Entity::find_by_id(e.cluster_id)
            .one(conn)
            .await?
            .ok_or(AppError::NotFound)?;
        let org = organisation::Entity::find_by_id(cl.org_id)
            .one(conn)
            .await?
            .ok_or(AppError::NotFound)?;
        let members = cluster_member::Entity::find()
            .filter(cluster_member::Column::ClusterId.eq(cl.id))
            .all(conn)
            .await?;
        let lead_county: RegionCode = cl
            .lead_county_code
            .parse()
            .map_err(|_| AppError::Internal(format!("cluster {} county", cl.id)))?;
        out.push(Entrant {
            application_id: e.application_id,
            lead_county,
            applicant: Org {
                name: org.name,
                credit_code: org.credit_code,
            },
            members: members
                .into_iter()
                .map(|m| Org {
                    name: m.name,
                    credit_code: Some(m.credit_code),
                })
                .collect(),
            core_park: (!cl.core_park.trim().is_empty()).then(|| Org::named(cl.core_park.clone())),
        });
    }
    Ok(out)
}

fn ensure_assignable(r: &round::Model) -> Result<(), AppError> {
    let status = status_of(r)?;
    if status.assignments_open() {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再调整评审组或专家分配",
            status.label()
        )))
    }
}

/// Adds experts to and removes them from the round's panel.
pub async fn set_panel(
    app: &App,
    p: &Principal,
    round_id: i64,
    add: &[i64],
    remove: &[i64],
) -> Result<Vec<i64>, AppError> {
    let txn = store::write_txn(&app.db).await?;
    let r = load_for_update(&txn, p, round_id).await?;
    ensure_assignable(&r)?;
    let now = app.clock.now();
    let current: BTreeSet<i64> = panel_ids(&txn, r.id).await?.into_iter().collect();
    let known: BTreeSet<i64> = expert::Entity::find()
        .filter(expert::Column::Id.is_in(add.iter().copied()))
        .filter(expert::Column::Active.eq(true))
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    if let Some(bad) = add.iter().find(|id| !known.contains(id)) {
        return Err(AppError::invalid(
            "experts",
            format!("专家（编号{bad}）不在专家库中或已停用"),
        ));
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
                "专家（编号{id}）已有评审任务，请先取消其分配再移出评审组"
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
        audit::append(
            &txn,
            &app.audit_key,
            now,
            &p.actor(),
            Event {
                action: "round.panel",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!("评审组加入专家{added:?}，移出专家{removed:?}"),
                reason: String::new(),
            },
        )
        .await?;
    }
    let ids = panel_ids(&txn, r.id).await?;
    txn.commit().await?;
    Ok(ids)
}

/// What an automatic assignment did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssignOutcome {
    /// New (entry, expert) assignments made.
    pub added: usize,
    /// Entrants that could not get enough conflict-free experts, and why.
    pub shortfalls: Vec<ShortfallView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShortfallView {
    pub entry_id: i64,
    pub cluster_name: String,
    pub assigned: u32,
    pub needed: u32,
    pub reason: String,
}

/// Gives every entrant the round's number of experts from the panel: never a conflicted pair,
/// loads as even as the conflicts allow; assignments already made are kept.
pub async fn auto_assign(
    app: &App,
    p: &Principal,
    round_id: i64,
) -> Result<AssignOutcome, AppError> {
    let txn = store::write_txn(&app.db).await?;
    let r = load_for_update(&txn, p, round_id).await?;
    ensure_assignable(&r)?;
    let panel = panel_ids(&txn, r.id).await?;
    if panel.is_empty() {
        return Err(AppError::Conflict("请先从专家库选择评审组成员".into()));
    }
    let pool = experts::pool(&txn, &panel).await?;
    let entries = entries(&txn, r.id).await?;
    let entrants = conflict_view(&txn, &entries).await?;
    let by_app: BTreeMap<i64, &round_entry::Model> =
        entries.iter().map(|e| (e.application_id, e)).collect();
    let all = assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(r.id))
        .all(&txn)
        .await?;
    let entry_app: BTreeMap<i64, i64> = entries.iter().map(|e| (e.id, e.application_id)).collect();
    let existing: Vec<(i64, i64)> = all
        .iter()
        .filter(|a| a.recused_at.is_none())
        .filter_map(|a| entry_app.get(&a.entry_id).map(|app_id| (*app_id, a.expert_id)))
        .collect();
    // A recused expert must not come back to the same entrant.
    let recused: BTreeSet<(i64, i64)> = all
        .iter()
        .filter(|a| a.recused_at.is_some())
        .filter_map(|a| entry_app.get(&a.entry_id).map(|app_id| (*app_id, a.expert_id)))
        .collect();
    let experts: Vec<review::Expert> = pool
        .into_iter()
        .map(|(_, mut d)| {
            d.declared_conflicts.extend(
                recused
                    .iter()
                    .filter(|(_, e)| *e == d.id)
                    .map(|(a, _)| *a),
            );
            d
        })
        .collect();
    let k = r.experts_per_application.max(0) as u32;
    let result = review::assign(&entrants, &experts, k, &existing);
    let now = app.clock.now();
    let before: BTreeSet<(i64, i64)> = existing.iter().copied().collect();
    let mut added = 0;
    for (app_id, expert_id) in &result.pairs {
        if before.contains(&(*app_id, *expert_id)) {
            continue;
        }
        let Some(entry) = by_app.get(app_id) else {
            continue;
        };
        assignment::ActiveModel {
            round_id: Set(r.id),
            entry_id: Set(entry.id),
            expert_id: Set(*expert_id),
            source: Set(SOURCE_AUTO.into()),
            override_reason: Set(String::new()),
            recused_at: Set(None),
            recusal_reason: Set(String::new()),
            created_by: Set(p.user.id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        added += 1;
    }
    let mut shortfalls = Vec::new();
    for s in &result.shortfalls {
        if let Some(entry) = by_app.get(&s.application_id) {
            shortfalls.push(ShortfallView {
                entry_id: entry.id,
                cluster_name: cluster_name(&txn, entry.cluster_id).await?,
                assigned: s.assigned,
                needed: s.needed,
                reason: s.reason.clone(),
            });
        }
    }
    audit::append(
        &txn,
        &app.audit_key,
        now,
        &p.actor(),
        Event {
            action: "round.auto_assign",
            object_type: "round",
            object_id: r.id.to_string(),
            summary: format!(
                "自动分配：新增{added}项，每个参赛集群{k}名专家，{}个参赛集群专家不足",
                shortfalls.len()
            ),
            reason: String::new(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(AssignOutcome { added, shortfalls })
}

pub async fn cluster_name<C: ConnectionTrait>(conn: &C, id: i64) -> Result<String, AppError> {
    Ok(cluster::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default())
}

/// A hand assignment by the province. A conflicted pair is refused, naming the conflicts,
/// unless a reason to override is given; the reason is kept with the assignment.
pub async fn assign(
    app: &App,
    p: &Principal,
    round_id: i64,
    entry_id: i64,
    expert_id: i64,
    override_reason: &str,
) -> Result<assignment::Model, AppError> {
    let txn = store::write_txn(&app.db).await?;
    let r = load_for_update(&txn, p, round_id).await?;
    ensure_assignable(&r)?;
    let entry = round_entry::Entity::find_by_id(entry_id)
        .one(&txn)
        .await?
        .filter(|e| e.round_id == r.id)
        .ok_or(AppError::NotFound)?;
    if !panel_ids(&txn, r.id).await?.contains(&expert_id) {
        return Err(AppError::invalid("expert_id", "该专家不在本轮评审组中"));
    }
    let prior = assignment::Entity::find()
        .filter(assignment::Column::EntryId.eq(entry.id))
        .filter(assignment::Column::ExpertId.eq(expert_id))
        .one(&txn)
        .await?;
    match prior {
        Some(a) if a.recused_at.is_some() => {
            return Err(AppError::Conflict(
                "该专家已对此参赛集群申请回避，不能再分配".into(),
            ));
        }
        Some(_) => return Err(AppError::Conflict("该专家已分配评审此参赛集群".into())),
        None => {}
    }
    let (_, expert) = experts::pool(&txn, &[expert_id])
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let entrant = conflict_view(&txn, std::slice::from_ref(&entry))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let reason = override_reason.trim();
    let conflicts = review::check_manual(&expert, &entrant).err().unwrap_or_default();
    if !conflicts.is_empty() && reason.is_empty() {
        let list: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
        return Err(AppError::invalid(
            "override_reason",
            format!(
                "存在回避情形：{}。如确需分配，请填写理由",
                list.join("；")
            ),
        ));
    }
    let now = app.clock.now();
    let a = assignment::ActiveModel {
        round_id: Set(r.id),
        entry_id: Set(entry.id),
        expert_id: Set(expert_id),
        source: Set(SOURCE_MANUAL.into()),
        override_reason: Set(if conflicts.is_empty() {
            String::new()
        } else {
            reason.to_string()
        }),
        recused_at: Set(None),
        recusal_reason: Set(String::new()),
        created_by: Set(p.user.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let keys: Vec<&str> = conflicts.iter().map(|c| c.key()).collect();
    audit::append(
        &txn,
        &app.audit_key,
        now,
        &p.actor(),
        Event {
            action: if conflicts.is_empty() {
                "round.assign"
            } else {
                "round.assign_override"
            },
            object_type: "assignment",
            object_id: a.id.to_string(),
            summary: format!(
                "手工分配专家{expert_id}评审“{}”{}",
                cluster_name(&txn, entry.cluster_id).await?,
                if keys.is_empty() {
                    String::new()
                } else {
                    format!("（越过回避：{}）", keys.join(","))
                }
            ),
            reason: a.override_reason.clone(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(a)
}

/// Takes an assignment back before scoring has produced a submitted sheet.
pub async fn unassign(
    app: &App,
    p: &Principal,
    assignment_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    let txn = store::write_txn(&app.db).await?;
    let a = assignment::Entity::find_by_id(assignment_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = load_for_update(&txn, p, a.round_id).await?;
    ensure_assignable(&r)?;
    let sheets = crate::store::entity::score_sheet::Entity::find()
        .filter(crate::store::entity::score_sheet::Column::AssignmentId.eq(a.id))
        .one(&txn)
        .await?;
    if sheets.is_some() {
        return Err(AppError::Conflict(
            "该专家已开始评分，不能取消分配；如需更换，请由专家申请回避".into(),
        ));
    }
    assignment::Entity::delete_by_id(a.id).exec(&txn).await?;
    let now = app.clock.now();
    audit::append(
        &txn,
        &app.audit_key,
        now,
        &p.actor(),
        Event {
            action: "round.unassign",
            object_type: "assignment",
            object_id: a.id.to_string(),
            summary: format!("取消专家{}对参赛集群{}的评审分配", a.expert_id, a.entry_id),
            reason: reason.trim().to_string(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An expert declares a conflict with an assigned entrant and steps back from it; the
/// declaration also keeps them off that application in later rounds.
pub async fn recuse(
    app: &App,
    p: &Principal,
    assignment_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    authorize(p, Resource::ScoreSheet, Action::Update)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "请填写回避理由"));
    }
    let txn = store::write_txn(&app.db).await?;
    let me = experts::of_user(&txn, p.user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let a = assignment::Entity::find_by_id(assignment_id)
        .one(&txn)
        .await?
        .filter(|a| a.expert_id == me.id && a.recused_at.is_none())
        .ok_or(AppError::NotFound)?;
    let r = round::Entity::find_by_id(a.round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    ensure_assignable(&r)?;
    let submitted = crate::store::entity::score_sheet::Entity::find()
        .filter(crate::store::entity::score_sheet::Column::AssignmentId.eq(a.id))
        .filter(crate::store::entity::score_sheet::Column::Status.eq("submitted"))
        .one(&txn)
        .await?;
    if submitted.is_some() {
        return Err(AppError::Conflict(
            "评分表已提交，不能再申请回避；如有回避情形，请联系省工信厅".into(),
        ));
    }
    let entry = round_entry::Entity::find_by_id(a.entry_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = app.clock.now();
    let mut active: assignment::ActiveModel = a.clone().into();
    active.recused_at = Set(Some(now));
    active.recusal_reason = Set(reason.to_string());
    active.update(&txn).await?;
    let declared = crate::store::entity::expert_conflict::Entity::find()
        .filter(crate::store::entity::expert_conflict::Column::ExpertId.eq(me.id))
        .filter(crate::store::entity::expert_conflict::Column::ApplicationId.eq(entry.application_id))
        .one(&txn)
        .await?;
    if declared.is_none() {
        crate::store::entity::expert_conflict::ActiveModel {
            expert_id: Set(me.id),
            application_id: Set(entry.application_id),
            reason: Set(reason.to_string()),
            declared_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let name = cluster_name(&txn, entry.cluster_id).await?;
    audit::append(
        &txn,
        &app.audit_key,
        now,
        &p.actor(),
        Event {
            action: "round.recuse",
            object_type: "assignment",
            object_id: a.id.to_string(),
            summary: format!("专家{}申请回避“{name}”", me.name),
            reason: reason.to_string(),
        },
    )
    .await?;
    crate::services::notifications::notify_org(
        &txn,
        opener_org(&txn, &r).await?,
        &format!("专家申请回避：{name}"),
        &format!("{}申请回避，理由：{reason}。请补充分配专家。", me.name),
        &format!("/rounds/{}", r.id),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Starts scoring: every entrant must have the round's number of experts.
pub async fn open_scoring(
    app: &App,
    p: &Principal,
    round_id: i64,
) -> Result<round::Model, AppError> {
    let txn = store::write_txn(&app.db).await?;
    let r = load_for_update(&txn, p, round_id).await?;
    let kind = kind_of(&r)?;
    let entries = entries(&txn, r.id).await?;
    let active = active_assignments(&txn, r.id).await?;
    let k = r.experts_per_application.max(0) as usize;
    let mut short = Vec::new();
    for e in &entries {
        let n = active.iter().filter(|a| a.entry_id == e.id).count();
        if n < k {
            short.push(format!("{}（{n}/{k}）", cluster_name(&txn, e.cluster_id).await?));
        }
    }
    if !short.is_empty() {
        return Err(AppError::Conflict(format!(
            "以下参赛集群的评审专家不足，不能开始评分：{}",
            short.join("、")
        )));
    }
    let now = app.clock.now();
    let after = step_round(&txn, &r, RoundStep::OpenScoring, now).await?;
    for e in &entries {
        move_entry(&txn, p, kind, e, Transition::StartReview, "", now).await?;
    }
    audit::append(
        &txn,
        &app.audit_key,
        now,
        &p.actor(),
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
    let mut experts_notified = BTreeSet::new();
    for a in &active {
        if experts_notified.insert(a.expert_id)
            && let Some(ex) = expert::Entity::find_by_id(a.expert_id).one(&txn).await?
        {
            crate::services::notifications::notify_user(
                &txn,
                ex.user_id,
                &format!("评审任务：{}", kind.label()),
                &format!(
                    "您有新的评审任务，请于{}前完成评分。",
                    local_minutes(r.scoring_closes_at)
                ),
                "/scoring",
                now,
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(after)
}

/// The city a region code belongs to, by name.
pub fn city_name(code: &str) -> String {
    code.parse::<RegionCode>()
        .ok()
        .and_then(region::city)
        .map(|c| c.name().to_string())
        .unwrap_or_default()
}

pub fn county_name(code: &str) -> String {
    code.parse::<RegionCode>()
        .ok()
        .and_then(region::county)
        .map(|c| c.name().to_string())
        .unwrap_or_default()
}

/// The organisation of whoever opened the round: the province's department.
async fn opener_org<C: ConnectionTrait>(conn: &C, r: &round::Model) -> Result<i64, AppError> {
    Ok(crate::store::entity::user::Entity::find_by_id(r.created_by)
        .one(conn)
        .await?
        .map(|u| u.org_id)
        .unwrap_or_default())
}
