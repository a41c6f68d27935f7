//! Rounds of a competition (初赛 第十条, 决赛 第十一条): who enters, the panel, which expert
//! judges which entrant (with conflicts of interest avoided), and the round's own steps.
//!
//! Every entrant moves through the one application state machine; in a 初赛 the application
//! itself follows its entry, so the applicant sees where it stands.

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
use super::competitions::policy_of;
use super::{authorize, experts, required_text, saved, trimmed};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::{local_minutes, parse_local_datetime};
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{
        application, assignment, cluster, cluster_member, competition, designation, expert,
        organisation, panel_member, round, round_entry, score_sheet,
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

/// A round the principal may change (check the version the editor saw before changing it).
pub(crate) async fn load_for_update<C: ConnectionTrait>(
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
                .filter(application::Column::Status.eq(Status::Recommended))
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
    for cand in &found {
        round_entry::ActiveModel {
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

/// The entrants as the conflict rules see them, keyed by application id.
async fn conflict_view<C: ConnectionTrait>(
    conn: &C,
    entries: &[round_entry::Model],
) -> Result<Vec<Entrant>, AppError> {
    let clusters =
        store::load_by_ids::<cluster::Entity>(conn, entries.iter().map(|e| e.cluster_id)).await?;
    let orgs =
        store::load_by_ids::<organisation::Entity>(conn, clusters.values().map(|c| c.org_id))
            .await?;
    let mut members_of: BTreeMap<i64, Vec<cluster_member::Model>> = BTreeMap::new();
    for m in store::load_where_in::<cluster_member::Entity>(
        conn,
        cluster_member::Column::ClusterId,
        clusters.keys().copied(),
    )
    .await?
    {
        members_of.entry(m.cluster_id).or_default().push(m);
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let cl = clusters.get(&e.cluster_id).ok_or(AppError::NotFound)?;
        let org = orgs.get(&cl.org_id).ok_or(AppError::NotFound)?;
        let members = members_of.get(&cl.id).cloned().unwrap_or_default();
        let lead_county: RegionCode = cl.lead_county_code;
        out.push(Entrant {
            application_id: e.application_id,
            lead_county,
            applicant: Org {
                name: org.name.clone(),
                credit_code: org.credit_code.clone(),
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
    let status = r.status;
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
    let known: BTreeSet<i64> = store::load_by_ids::<expert::Entity>(&txn, add.iter().copied())
        .await?
        .into_values()
        .filter(|e| e.active)
        .map(|e| e.id)
        .collect();
    if let Some(bad) = add.iter().find(|id| !known.contains(id)) {
        return Err(AppError::invalid(
            "experts",
            format!("专家{}不在专家库中或已停用", expert_name(&txn, *bad).await?),
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

/// What an automatic assignment of the round's panel would give, without writing it.
struct Plan {
    /// (application id, expert id) pairs standing before the plan.
    existing: BTreeSet<(i64, i64)>,
    /// Every pair after the plan, kept and new.
    pairs: Vec<(i64, i64)>,
    by_app: BTreeMap<i64, round_entry::Model>,
    shortfalls: Vec<ShortfallView>,
}

/// Runs the pure assignment over the round's panel and standing assignments; an expert who
/// recused from an entrant counts as conflicted with it.
async fn plan<C: ConnectionTrait>(conn: &C, r: &round::Model) -> Result<Plan, AppError> {
    let panel = panel_ids(conn, r.id).await?;
    let pool = experts::pool(conn, &panel).await?;
    let entries = entries(conn, r.id).await?;
    let entrants = conflict_view(conn, &entries).await?;
    let all = assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(r.id))
        .all(conn)
        .await?;
    let entry_app: BTreeMap<i64, i64> = entries.iter().map(|e| (e.id, e.application_id)).collect();
    let existing: Vec<(i64, i64)> = all
        .iter()
        .filter(|a| a.recused_at.is_none())
        .filter_map(|a| {
            entry_app
                .get(&a.entry_id)
                .map(|app_id| (*app_id, a.expert_id))
        })
        .collect();
    // A recused expert must not come back to the same entrant.
    let recused: BTreeSet<(i64, i64)> = all
        .iter()
        .filter(|a| a.recused_at.is_some())
        .filter_map(|a| {
            entry_app
                .get(&a.entry_id)
                .map(|app_id| (*app_id, a.expert_id))
        })
        .collect();
    // An expert taken out of service after joining the panel gets no new work.
    let experts: Vec<review::Expert> = pool
        .into_iter()
        .filter(|(m, _)| m.active)
        .map(|(_, mut d)| {
            d.declared_conflicts
                .extend(recused.iter().filter(|(_, e)| *e == d.id).map(|(a, _)| *a));
            d
        })
        .collect();
    let k = r.experts_per_application.max(0) as u32;
    let result = review::assign(&entrants, &experts, k, &existing);
    let by_app: BTreeMap<i64, round_entry::Model> =
        entries.into_iter().map(|e| (e.application_id, e)).collect();
    let names = cluster_names(conn, by_app.values().map(|e| e.cluster_id)).await?;
    let mut shortfalls = Vec::new();
    for s in &result.shortfalls {
        if let Some(entry) = by_app.get(&s.application_id) {
            shortfalls.push(ShortfallView {
                entry_id: entry.id,
                cluster_name: names.get(&entry.cluster_id).cloned().unwrap_or_default(),
                assigned: s.assigned,
                needed: s.needed,
                // The pure rules speak of a pool; here the pool is the round's panel.
                reason: s.reason.replace("专家库", "评审组"),
            });
        }
    }
    Ok(Plan {
        existing: existing.into_iter().collect(),
        pairs: result.pairs,
        by_app,
        shortfalls,
    })
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
    if panel_ids(&txn, r.id).await?.is_empty() {
        return Err(AppError::Conflict("请先从专家库选择评审组成员".into()));
    }
    let plan = plan(&txn, &r).await?;
    let k = r.experts_per_application.max(0) as u32;
    let now = app.clock.now();
    let mut added = 0;
    let mut notified = BTreeSet::new();
    for (app_id, expert_id) in &plan.pairs {
        if plan.existing.contains(&(*app_id, *expert_id)) {
            continue;
        }
        let Some(entry) = plan.by_app.get(app_id) else {
            continue;
        };
        assignment::ActiveModel {
            round_id: Set(r.id),
            entry_id: Set(entry.id),
            expert_id: Set(*expert_id),
            source: Set(crate::store::entity::kinds::AssignmentSource::Auto),
            override_reason: Set(String::new()),
            recused_at: Set(None),
            recusal_reason: Set(String::new()),
            created_by: Set(p.user.id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if notified.insert(*expert_id) {
            notify_if_scoring(&txn, &r, *expert_id, now).await?;
        }
        added += 1;
    }
    let shortfalls = plan.shortfalls;
    let short: Vec<String> = shortfalls
        .iter()
        .map(|s| format!("{}（{}/{}）", s.cluster_name, s.assigned, s.needed))
        .collect();
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.auto_assign",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!(
                    "自动分配：新增{added}项，每个参赛集群{k}名专家，{}个参赛集群专家不足{}",
                    shortfalls.len(),
                    if short.is_empty() {
                        String::new()
                    } else {
                        format!("：{}", short.join("、"))
                    }
                ),
                reason: String::new(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(AssignOutcome { added, shortfalls })
}

/// Tells each of these experts once, in the caller's transaction.
async fn notify_experts<C: ConnectionTrait>(
    conn: &C,
    expert_ids: impl IntoIterator<Item = i64>,
    title: &str,
    body: &str,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    for ex in store::load_where_in::<expert::Entity>(conn, expert::Column::Id, expert_ids).await? {
        crate::services::notifications::notify_user(conn, ex.user_id, title, body, "/scoring", now)
            .await?;
    }
    Ok(())
}

/// Tells experts they have work in this round, and until when.
async fn notify_new_tasks<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
    expert_ids: impl IntoIterator<Item = i64>,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    notify_experts(
        conn,
        expert_ids,
        &format!("评审任务：{}", r.kind.label()),
        &format!(
            "您有新的评审任务，请于{}前完成评分。",
            local_minutes(r.scoring_closes_at)
        ),
        now,
    )
    .await
}

/// An assignment made after scoring opened reaches the expert at once.
async fn notify_if_scoring<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
    expert_id: i64,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    if r.status != RoundStatus::Scoring {
        return Ok(());
    }
    notify_new_tasks(conn, r, [expert_id], now).await
}

pub async fn cluster_name<C: ConnectionTrait>(conn: &C, id: i64) -> Result<String, AppError> {
    Ok(cluster::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default())
}

/// Cluster names by cluster id, in one query for any number of ids.
pub async fn cluster_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, AppError> {
    Ok(store::load_by_ids_map::<cluster::Entity, _>(conn, ids, |c| c.name).await?)
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
    let (expert_model, expert) = experts::pool(&txn, &[expert_id])
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    if !expert_model.active {
        return Err(AppError::invalid(
            "expert_id",
            format!("专家{}已停用，不能再分配评审任务", expert_model.name),
        ));
    }
    let entrant = conflict_view(&txn, std::slice::from_ref(&entry))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let reason = override_reason.trim();
    let conflicts = review::check_manual(&expert, &entrant)
        .err()
        .unwrap_or_default();
    if !conflicts.is_empty() && reason.is_empty() {
        let list: Vec<String> = conflicts.iter().map(ToString::to_string).collect();
        return Err(AppError::invalid(
            "override_reason",
            format!("存在回避情形：{}。如确需分配，请填写理由", list.join("；")),
        ));
    }
    let now = app.clock.now();
    let a = assignment::ActiveModel {
        round_id: Set(r.id),
        entry_id: Set(entry.id),
        expert_id: Set(expert_id),
        source: Set(crate::store::entity::kinds::AssignmentSource::Manual),
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
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: if conflicts.is_empty() {
                    "round.assign"
                } else {
                    "round.assign_override"
                },
                object_type: "assignment",
                object_id: a.id.to_string(),
                summary: format!(
                    "手工分配专家{}评审“{}”{}",
                    expert_model.name,
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
    notify_if_scoring(&txn, &r, expert_id, now).await?;
    txn.commit().await?;
    Ok(a)
}

/// "赵教授（3）、钱研究员（4）" or "无", for audit summaries.
async fn names<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<String, AppError> {
    if ids.is_empty() {
        return Ok("无".into());
    }
    let experts = store::load_by_ids::<expert::Entity>(conn, ids.iter().copied()).await?;
    let out: Vec<String> = ids
        .iter()
        .map(|id| {
            let name = experts
                .get(id)
                .map_or_else(|| format!("（编号{id}）"), |e| e.name.clone());
            format!("{name}（{id}）")
        })
        .collect();
    Ok(out.join("、"))
}

async fn expert_name<C: ConnectionTrait>(conn: &C, id: i64) -> Result<String, AppError> {
    Ok(expert::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map_or_else(|| format!("（编号{id}）"), |e| e.name))
}

async fn entry_cluster_name<C: ConnectionTrait>(
    conn: &C,
    entry_id: i64,
) -> Result<String, AppError> {
    match round_entry::Entity::find_by_id(entry_id).one(conn).await? {
        Some(e) => cluster_name(conn, e.cluster_id).await,
        None => Ok(String::new()),
    }
}

/// Takes an assignment back before scoring has produced a submitted sheet.
pub async fn unassign(
    app: &App,
    p: &Principal,
    assignment_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    let reason = required_text("reason", reason, "请填写取消分配的理由")?;
    let txn = store::write_txn(&app.db).await?;
    let a = assignment::Entity::find_by_id(assignment_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = load_for_update(&txn, p, a.round_id).await?;
    ensure_assignable(&r)?;
    // A recusal is part of the record of who judged what: it stays.
    if a.recused_at.is_some() {
        return Err(AppError::Conflict(
            "该专家已申请回避，此项分配已失效，回避记录予以保留".into(),
        ));
    }
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
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.unassign",
                object_type: "assignment",
                object_id: a.id.to_string(),
                summary: format!(
                    "取消专家{}对“{}”的评审分配（{}）",
                    expert_name(&txn, a.expert_id).await?,
                    entry_cluster_name(&txn, a.entry_id).await?,
                    source_label(a.source.key())
                ),
                reason: reason.to_string(),
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
    let reason = required_text("reason", reason, "请填写回避理由")?;
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
        .filter(
            crate::store::entity::score_sheet::Column::Status
                .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
        )
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
        .filter(
            crate::store::entity::expert_conflict::Column::ApplicationId.eq(entry.application_id),
        )
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
    Audit::of(app, p, now)
        .record(
            &txn,
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

/// Moves the scoring deadline later (province, before or during scoring), so that late or replacement
/// experts can finish; a round whose deadline has passed would otherwise wait for ever.
pub async fn extend_window(
    app: &App,
    p: &Principal,
    round_id: i64,
    closes_at: &str,
    reason: &str,
) -> Result<round::Model, AppError> {
    let reason = super::required_text("reason", reason, "请填写延长评分时间的理由")?;
    super::at_most("reason", reason, "理由", 500)?;
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
    round_id: i64,
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

/// The city a region code belongs to, by name.
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

// ---------------------------------------------------------------------------------------------
// Read views for the pages and the API.

/// What comes next for a round, in the province's words.
pub fn next_step(status: RoundStatus, r: &round::Model) -> String {
    match status {
        RoundStatus::Setup => "组建评审组、为每个参赛集群分配专家，然后开始评分".into(),
        RoundStatus::Scoring => format!(
            "专家评分（截止{}），评分结束后确定拟定名单",
            local_minutes(r.scoring_closes_at)
        ),
        RoundStatus::Proposed => "发布公示".into(),
        RoundStatus::OnNotice => "公示期满且异议处理完毕后确认名单".into(),
        RoundStatus::Confirmed => "本轮评审已结束".into(),
    }
}

/// One line of the round list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundSummary {
    pub id: i64,
    pub competition_id: i64,
    pub competition_year: i32,
    pub competition_title: String,
    /// preliminary | final
    pub kind: String,
    /// 初赛 / 决赛
    pub kind_label: String,
    /// setup | scoring | proposed | on_notice | confirmed
    pub status: String,
    pub status_label: String,
    pub next_step: String,
    pub entrants: usize,
    pub experts_per_application: i32,
    /// Entrants that have their full number of experts.
    pub entrants_ready: usize,
    /// Standing assignments (recusals not counted).
    pub assignments: usize,
    pub sheets_submitted: usize,
    /// e.g. "专家分配：2/3个参赛集群已满5人" or "评分表已提交：7/15".
    pub progress: String,
    /// "2026-05-01 09:00", Beijing time.
    pub scoring_opens_at: String,
    pub scoring_closes_at: String,
    pub defence: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaView {
    pub cluster_kind: String,
    pub cluster_kind_label: String,
    pub winners: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssignmentView {
    pub id: i64,
    pub entry_id: i64,
    pub expert_id: i64,
    pub expert_name: String,
    /// auto | manual
    pub source: String,
    /// 自动 / 手工
    pub source_label: String,
    /// Why a conflict was overridden, when it was.
    pub override_reason: String,
    pub recused: bool,
    /// "2026-05-01 09:30" when the expert recused themselves.
    pub recused_at: Option<String>,
    pub recusal_reason: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub application_id: i64,
    pub cluster_id: i64,
    pub cluster_name: String,
    pub applicant_name: String,
    pub city_code: String,
    pub city_name: String,
    pub county_code: String,
    pub county_name: String,
    pub cluster_kind: String,
    pub cluster_kind_label: String,
    pub status: String,
    pub status_label: String,
    /// Standing assignments.
    pub assigned: usize,
    pub needed: usize,
    /// Every assignment of the entrant, recused ones included (marked).
    pub assignments: Vec<AssignmentView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PanelMemberView {
    pub expert_id: i64,
    pub name: String,
    pub employer: String,
    pub city_name: String,
    pub fields: Vec<String>,
    pub active: bool,
    /// Standing assignments in this round.
    pub load: usize,
}

/// A round with its entrants, their assignments and the panel.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundView {
    pub round: RoundSummary,
    pub panel_note: String,
    pub quotas: Vec<QuotaView>,
    pub policy_min_experts: u32,
    pub policy_max_experts: u32,
    pub version: i32,
    pub entries: Vec<EntryView>,
    pub panel: Vec<PanelMemberView>,
    /// While assignments may change: the entrants an automatic assignment could still not
    /// fill from the panel, and why.
    pub shortfalls: Vec<ShortfallView>,
}

async fn summary<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
    c: &competition::Model,
) -> Result<RoundSummary, AppError> {
    let kind = r.kind;
    let status = r.status;
    let entries = entries(conn, r.id).await?;
    let active = active_assignments(conn, r.id).await?;
    let k = r.experts_per_application.max(0) as usize;
    let ready = entries
        .iter()
        .filter(|e| active.iter().filter(|a| a.entry_id == e.id).count() >= k)
        .count();
    let standing: BTreeSet<i64> = active.iter().map(|a| a.id).collect();
    let submitted = score_sheet::Entity::find()
        .filter(score_sheet::Column::RoundId.eq(r.id))
        .filter(
            score_sheet::Column::Status
                .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
        )
        .all(conn)
        .await?
        .iter()
        .filter(|s| standing.contains(&s.assignment_id))
        .count();
    let proposed = entries.iter().filter(|e| e.proposed).count();
    let progress = match status {
        RoundStatus::Setup => format!("专家分配：{ready}/{}个参赛集群已满{k}人", entries.len()),
        RoundStatus::Scoring => format!("评分表已提交：{submitted}/{}", active.len()),
        _ => format!(
            "评分表已提交：{submitted}/{}；拟定名单{proposed}个",
            active.len()
        ),
    };
    Ok(RoundSummary {
        id: r.id,
        competition_id: c.id,
        competition_year: c.year,
        competition_title: c.title.clone(),
        kind: kind.key().into(),
        kind_label: kind.label().into(),
        status: status.key().into(),
        status_label: status.label().into(),
        next_step: next_step(status, r),
        entrants: entries.len(),
        experts_per_application: r.experts_per_application,
        entrants_ready: ready,
        assignments: active.len(),
        sheets_submitted: submitted,
        progress,
        scoring_opens_at: local_minutes(r.scoring_opens_at),
        scoring_closes_at: local_minutes(r.scoring_closes_at),
        defence: r.defence,
    })
}

/// The rounds the principal may see, newest competition first; optionally of one competition.
pub async fn list(
    app: &App,
    p: &Principal,
    competition_id: Option<i64>,
) -> Result<Vec<RoundSummary>, AppError> {
    authorize(p, Resource::Round, Action::View)?;
    let mut q = round::Entity::find();
    if let Some(id) = competition_id {
        q = q.filter(round::Column::CompetitionId.eq(id));
    }
    let rounds = q.order_by_asc(round::Column::Id).all(&app.db).await?;
    let mut out = Vec::with_capacity(rounds.len());
    for r in &rounds {
        let c = competition_of(&app.db, r).await?;
        out.push(summary(&app.db, r, &c).await?);
    }
    out.sort_by(|a, b| {
        b.competition_year
            .cmp(&a.competition_year)
            .then(b.competition_id.cmp(&a.competition_id))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

fn source_label(source: &str) -> &'static str {
    if source == SOURCE_MANUAL {
        "手工"
    } else {
        "自动"
    }
}

/// A round with everything its page shows.
pub async fn view(app: &App, p: &Principal, id: i64) -> Result<RoundView, AppError> {
    let r = load(&app.db, p, id).await?;
    let c = competition_of(&app.db, &r).await?;
    let kind = r.kind;
    let (policy, rule) = round_policy(&c, kind)?;
    let kind_labels: BTreeMap<&str, &str> = policy
        .cluster_kinds
        .iter()
        .map(|k| (k.key.as_str(), k.name.as_str()))
        .collect();
    let round_summary = summary(&app.db, &r, &c).await?;
    let entries = entries(&app.db, r.id).await?;
    let all = assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(r.id))
        .order_by_asc(assignment::Column::Id)
        .all(&app.db)
        .await?;
    let panel = panel_ids(&app.db, r.id).await?;
    let mut expert_ids: Vec<i64> = panel.clone();
    expert_ids.extend(all.iter().map(|a| a.expert_id));
    let experts_by_id = store::load_by_ids::<expert::Entity>(&app.db, expert_ids).await?;
    let name_of = |id: i64| {
        experts_by_id
            .get(&id)
            .map(|e| e.name.clone())
            .unwrap_or_else(|| format!("专家{id}"))
    };
    let k = r.experts_per_application.max(0) as usize;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, entries.iter().map(|e| e.cluster_id))
            .await?;
    let orgs =
        store::load_by_ids::<organisation::Entity>(&app.db, clusters.values().map(|c| c.org_id))
            .await?;
    let mut entry_views = Vec::with_capacity(entries.len());
    for e in &entries {
        let cl = clusters.get(&e.cluster_id);
        let applicant_name = cl
            .and_then(|cl| orgs.get(&cl.org_id))
            .map(|o| o.name.clone())
            .unwrap_or_default();
        let status = e.status;
        let assignments: Vec<AssignmentView> = all
            .iter()
            .filter(|a| a.entry_id == e.id)
            .map(|a| AssignmentView {
                id: a.id,
                entry_id: a.entry_id,
                expert_id: a.expert_id,
                expert_name: name_of(a.expert_id),
                source: a.source.key().to_string(),
                source_label: source_label(a.source.key()).into(),
                override_reason: a.override_reason.clone(),
                recused: a.recused_at.is_some(),
                recused_at: a.recused_at.map(local_minutes),
                recusal_reason: a.recusal_reason.clone(),
                created_at: local_minutes(a.created_at),
            })
            .collect();
        entry_views.push(EntryView {
            id: e.id,
            application_id: e.application_id,
            cluster_id: e.cluster_id,
            cluster_name: cl.map(|c| c.name.clone()).unwrap_or_default(),
            applicant_name,
            city_code: e.city_code.to_string(),
            city_name: region::city_name_of(e.city_code),
            county_code: e.county_code.to_string(),
            county_name: county_name(&e.county_code.to_string()),
            cluster_kind: e.cluster_kind.clone(),
            cluster_kind_label: kind_labels
                .get(e.cluster_kind.as_str())
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.cluster_kind.clone()),
            status: status.key().into(),
            status_label: status.label().into(),
            assigned: assignments.iter().filter(|a| !a.recused).count(),
            needed: k,
            assignments,
        });
    }
    let panel_views = panel
        .iter()
        .filter_map(|id| experts_by_id.get(id))
        .map(|m| PanelMemberView {
            expert_id: m.id,
            name: m.name.clone(),
            employer: m.employer.clone(),
            city_name: region::city_name_of(m.city_code),
            fields: experts::lines(&m.fields),
            active: m.active,
            load: all
                .iter()
                .filter(|a| a.expert_id == m.id && a.recused_at.is_none())
                .count(),
        })
        .collect();
    let shortfalls = if r.status.assignments_open() && !panel.is_empty() {
        plan(&app.db, &r).await?.shortfalls
    } else {
        Vec::new()
    };
    let quotas = quotas_of(&r);
    Ok(RoundView {
        round: round_summary,
        panel_note: r.panel_note.clone(),
        quotas: policy
            .cluster_kinds
            .iter()
            .map(|ck| QuotaView {
                cluster_kind: ck.key.clone(),
                cluster_kind_label: ck.name.clone(),
                winners: quotas.get(&ck.key).copied().unwrap_or(0),
            })
            .collect(),
        policy_min_experts: rule.panel.min_experts,
        policy_max_experts: rule.panel.max_experts,
        version: r.version,
        entries: entry_views,
        panel: panel_views,
        shortfalls,
    })
}

/// A kind of round the opening form offers.
#[derive(Debug, Clone)]
pub struct KindChoice {
    pub key: String,
    pub label: String,
    pub article: String,
    pub min_experts: u32,
    pub max_experts: u32,
    /// Who enters, e.g. "已推荐至省工信厅的申报".
    pub entrants: String,
    /// The round this competition already has of this kind, if any.
    pub opened_round_id: Option<i64>,
}

/// What the opening form needs to know about a competition and its policy.
#[derive(Debug, Clone)]
pub struct OpeningContext {
    pub competition_id: i64,
    pub competition_year: i32,
    pub competition_title: String,
    pub policy_name: String,
    pub kinds: Vec<KindChoice>,
    /// (key, name) of the policy's cluster kinds.
    pub cluster_kinds: Vec<(String, String)>,
}

pub async fn opening_context(
    app: &App,
    p: &Principal,
    competition_id: i64,
) -> Result<OpeningContext, AppError> {
    authorize(p, Resource::Round, Action::Create)?;
    let c = competition::Entity::find_by_id(competition_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let policy = policy_of(&c)?;
    let existing = round::Entity::find()
        .filter(round::Column::CompetitionId.eq(c.id))
        .all(&app.db)
        .await?;
    let kinds = RoundKind::ALL
        .iter()
        .filter_map(|kind| {
            let rule = policy.rounds.iter().find(|r| r.key == kind.key())?;
            Some(KindChoice {
                key: kind.key().into(),
                label: kind.label().into(),
                article: rule.article.clone().unwrap_or_default(),
                min_experts: rule.panel.min_experts,
                max_experts: rule.panel.max_experts,
                entrants: match rule.entrants {
                    Entrants::Recommended => "已推荐至省工信厅的申报".into(),
                    Entrants::CultivationTargets => format!(
                        "培育期满{}个月的培育对象",
                        rule.cultivation_period.as_ref().map_or(0, |p| p.min_months)
                    ),
                },
                opened_round_id: existing.iter().find(|r| r.kind == *kind).map(|r| r.id),
            })
        })
        .collect();
    Ok(OpeningContext {
        competition_id: c.id,
        competition_year: c.year,
        competition_title: c.title.clone(),
        policy_name: policy.identity.name.clone(),
        kinds,
        cluster_kinds: policy
            .cluster_kinds
            .iter()
            .map(|k| (k.key.clone(), k.name.clone()))
            .collect(),
    })
}
