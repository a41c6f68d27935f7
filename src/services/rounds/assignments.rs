//! Which expert judges which entrant, conflicts of interest avoided, and recusal (第十条).

use crate::store::id::{ApplicationId, AssignmentId, ClusterId, EntryId, ExpertId, OrgId, RoundId};
use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::region::RegionCode;
use jiqun_domain::review::{self, Entrant, Org};
use jiqun_domain::round::RoundStatus;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use time::OffsetDateTime;

use super::{
    cluster_name, cluster_names, ensure_assignable, entries, entry_cluster_name, expert_name,
    load_for_update, panel_ids, source_label,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::services::{authorize, experts, required_text};
use crate::store::{
    self,
    entity::{
        assignment, cluster, cluster_co_applicant, cluster_county, cluster_member, expert,
        organisation, round, round_entry,
    },
};

/// The entrants as the conflict rules see them, keyed by application id.
async fn conflict_view<C: ConnectionTrait>(
    conn: &C,
    entries: &[round_entry::Model],
) -> Result<Vec<Entrant>, AppError> {
    let pairs: Vec<(ClusterId, i64)> = entries
        .iter()
        .map(|e| (e.cluster_id, e.application_id.get()))
        .collect();
    entrants_of(conn, &pairs).await
}

/// Clusters as the conflict rules see them (the whole cluster: organisation, co-applicants,
/// members, core park, every county), each under the id given with it; rounds give the
/// application's, a 复核 panel its recheck's. Five queries whatever the number.
pub(crate) async fn entrants_of<C: ConnectionTrait>(
    conn: &C,
    pairs: &[(ClusterId, i64)],
) -> Result<Vec<Entrant>, AppError> {
    let clusters =
        store::load_by_ids::<cluster::Entity>(conn, pairs.iter().map(|(c, _)| *c)).await?;
    let mut counties_of: BTreeMap<ClusterId, Vec<RegionCode>> = BTreeMap::new();
    for c in store::load_where_in::<cluster_county::Entity>(
        conn,
        cluster_county::Column::ClusterId,
        clusters.keys().copied(),
    )
    .await?
    {
        counties_of
            .entry(c.cluster_id)
            .or_default()
            .push(c.county_code);
    }
    let mut co_applicants_of: BTreeMap<ClusterId, Vec<OrgId>> = BTreeMap::new();
    for c in store::load_where_in::<cluster_co_applicant::Entity>(
        conn,
        cluster_co_applicant::Column::ClusterId,
        clusters.keys().copied(),
    )
    .await?
    {
        co_applicants_of
            .entry(c.cluster_id)
            .or_default()
            .push(c.org_id);
    }
    let orgs = store::load_by_ids::<organisation::Entity>(
        conn,
        clusters
            .values()
            .map(|c| c.org_id)
            .chain(co_applicants_of.values().flatten().copied()),
    )
    .await?;
    let mut members_of: BTreeMap<ClusterId, Vec<cluster_member::Model>> = BTreeMap::new();
    for m in store::load_where_in::<cluster_member::Entity>(
        conn,
        cluster_member::Column::ClusterId,
        clusters.keys().copied(),
    )
    .await?
    {
        members_of.entry(m.cluster_id).or_default().push(m);
    }
    let mut out = Vec::with_capacity(pairs.len());
    for (cluster_id, id) in pairs {
        let cl = clusters.get(cluster_id).ok_or(AppError::NotFound)?;
        let org = orgs.get(&cl.org_id).ok_or(AppError::NotFound)?;
        let members = members_of.get(&cl.id).cloned().unwrap_or_default();
        let lead_county: RegionCode = cl.lead_county_code;
        out.push(Entrant {
            application_id: *id,
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
            counties: counties_of.get(&cl.id).cloned().unwrap_or_default(),
            co_applicants: co_applicants_of
                .get(&cl.id)
                .into_iter()
                .flatten()
                .filter_map(|id| orgs.get(id))
                .map(|o| Org {
                    name: o.name.clone(),
                    credit_code: o.credit_code.clone(),
                })
                .collect(),
        });
    }
    Ok(out)
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
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    pub cluster_name: String,
    pub assigned: u32,
    pub needed: u32,
    pub reason: String,
}

/// The conflict rules of the round's policy: whether an expert of the cluster's city is
/// conflicted is the policy's (`[rounds.panel] same_city_conflict`; a city's own competition
/// may switch it off, since its pool is its own city's experts).
pub(crate) async fn conflict_rules<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
) -> Result<review::ConflictRules, AppError> {
    let c = super::competition_of(conn, r).await?;
    let (_, rule) = super::round_policy(&c, r.kind)?;
    Ok(review::ConflictRules {
        same_city: rule.panel.same_city_conflict(),
    })
}

/// What an automatic assignment of the round's panel would give, without writing it.
pub(super) struct Plan {
    /// (application id, expert id) pairs standing before the plan.
    existing: BTreeSet<(i64, i64)>,
    /// Every pair after the plan, kept and new.
    pairs: Vec<(i64, i64)>,
    by_app: BTreeMap<ApplicationId, round_entry::Model>,
    pub(super) shortfalls: Vec<ShortfallView>,
}

/// Runs the pure assignment over the round's panel and standing assignments; an expert who
/// recused from an entrant counts as conflicted with it.
pub(super) async fn plan<C: ConnectionTrait>(conn: &C, r: &round::Model) -> Result<Plan, AppError> {
    let panel = panel_ids(conn, r.id).await?;
    let pool = experts::pool(conn, &panel).await?;
    let entries = entries(conn, r.id).await?;
    let entrants = conflict_view(conn, &entries).await?;
    let all = assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(r.id))
        .all(conn)
        .await?;
    let entry_app: BTreeMap<EntryId, ApplicationId> =
        entries.iter().map(|e| (e.id, e.application_id)).collect();
    // Standing pairs, and recused ones: a recused expert must not come back to the same entrant.
    let mut existing: Vec<(i64, i64)> = Vec::new();
    let mut recused: BTreeSet<(i64, i64)> = BTreeSet::new();
    for a in &all {
        let Some(app_id) = entry_app.get(&a.entry_id) else {
            continue;
        };
        if a.recused_at.is_none() {
            existing.push((app_id.get(), a.expert_id.get()));
        } else {
            recused.insert((app_id.get(), a.expert_id.get()));
        }
    }
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
    let rules = conflict_rules(conn, r).await?;
    let result = review::assign_under(&entrants, &experts, k, &existing, rules);
    let by_app: BTreeMap<ApplicationId, round_entry::Model> =
        entries.into_iter().map(|e| (e.application_id, e)).collect();
    let names = cluster_names(conn, by_app.values().map(|e| e.cluster_id)).await?;
    let mut shortfalls = Vec::new();
    for s in &result.shortfalls {
        if let Some(entry) = by_app.get(&ApplicationId::new(s.application_id)) {
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
    round_id: RoundId,
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
        let Some(entry) = plan.by_app.get(&ApplicationId::new(*app_id)) else {
            continue;
        };
        assignment::ActiveModel {
            round_id: Set(r.id),
            entry_id: Set(entry.id),
            expert_id: Set(ExpertId::new(*expert_id)),
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
            notify_if_scoring(&txn, &r, ExpertId::new(*expert_id), now).await?;
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
pub(super) async fn notify_experts<C: ConnectionTrait>(
    conn: &C,
    expert_ids: impl IntoIterator<Item = ExpertId>,
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
pub(super) async fn notify_new_tasks<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
    expert_ids: impl IntoIterator<Item = ExpertId>,
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
    expert_id: ExpertId,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    if r.status != RoundStatus::Scoring {
        return Ok(());
    }
    notify_new_tasks(conn, r, [expert_id], now).await
}

/// A hand assignment by the province. A conflicted pair is refused, naming the conflicts,
/// unless a reason to override is given; the reason is kept with the assignment.
pub async fn assign(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    entry_id: EntryId,
    expert_id: ExpertId,
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
    let conflicts = review::check_manual_under(&expert, &entrant, conflict_rules(&txn, &r).await?)
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

/// Takes an assignment back before scoring has produced a submitted sheet.
pub async fn unassign(
    app: &App,
    p: &Principal,
    assignment_id: AssignmentId,
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
    assignment_id: AssignmentId,
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

/// The organisation of whoever opened the round: the province's department.
async fn opener_org<C: ConnectionTrait>(conn: &C, r: &round::Model) -> Result<OrgId, AppError> {
    Ok(crate::store::entity::user::Entity::find_by_id(r.created_by)
        .one(conn)
        .await?
        .map(|u| u.org_id)
        .unwrap_or_default())
}
