//! Rounds as the pages and the API show them, and what the opening form offers.

use crate::store::id::{
    ApplicationId, AssignmentId, ClusterId, CompetitionId, EntryId, ExpertId, RoundId,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::region;
use jiqun_domain::round::{RoundKind, RoundStatus};
use jiqun_rules::policy::Entrants;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::{
    SOURCE_MANUAL, ShortfallView, active_assignments, competition_of, county_name, entries, load,
    panel_ids, plan, quotas_of, round_policy,
};
use crate::app::{App, Principal};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::services::competitions::policy_of;
use crate::services::{authorize, experts};
use crate::store::{
    self,
    entity::{assignment, cluster, competition, expert, organisation, round, score_sheet},
};

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
    #[schema(value_type = i64)]
    pub id: RoundId,
    #[schema(value_type = i64)]
    pub competition_id: CompetitionId,
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
    #[schema(value_type = i64)]
    pub id: AssignmentId,
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
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
    #[schema(value_type = i64)]
    pub id: EntryId,
    #[schema(value_type = i64)]
    pub application_id: ApplicationId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
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
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
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
    let mut per_entry: HashMap<EntryId, usize> = HashMap::new();
    for a in &active {
        *per_entry.entry(a.entry_id).or_default() += 1;
    }
    let ready = entries
        .iter()
        .filter(|e| per_entry.get(&e.id).copied().unwrap_or(0) >= k)
        .count();
    let standing: BTreeSet<AssignmentId> = active.iter().map(|a| a.id).collect();
    // Only the assignment of each submitted sheet is read, not the sheets themselves.
    let submitted_of: Vec<AssignmentId> = score_sheet::Entity::find()
        .select_only()
        .column(score_sheet::Column::AssignmentId)
        .filter(score_sheet::Column::RoundId.eq(r.id))
        .filter(
            score_sheet::Column::Status
                .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
        )
        .into_tuple()
        .all(conn)
        .await?;
    let submitted = submitted_of
        .iter()
        .filter(|id| standing.contains(id))
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
    competition_id: Option<CompetitionId>,
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

pub(super) fn source_label(source: &str) -> &'static str {
    if source == SOURCE_MANUAL {
        "手工"
    } else {
        "自动"
    }
}

/// A round with everything its page shows.
pub async fn view(app: &App, p: &Principal, id: RoundId) -> Result<RoundView, AppError> {
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
    let mut expert_ids: Vec<ExpertId> = panel.clone();
    expert_ids.extend(all.iter().map(|a| a.expert_id));
    let experts_by_id = store::load_by_ids::<expert::Entity>(&app.db, expert_ids).await?;
    let name_of = |id: ExpertId| {
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
    let mut by_entry: HashMap<EntryId, Vec<&assignment::Model>> = HashMap::new();
    let mut load: HashMap<ExpertId, usize> = HashMap::new();
    for a in &all {
        by_entry.entry(a.entry_id).or_default().push(a);
        if a.recused_at.is_none() {
            *load.entry(a.expert_id).or_default() += 1;
        }
    }
    let mut entry_views = Vec::with_capacity(entries.len());
    for e in &entries {
        let cl = clusters.get(&e.cluster_id);
        let applicant_name = cl
            .and_then(|cl| orgs.get(&cl.org_id))
            .map(|o| o.name.clone())
            .unwrap_or_default();
        let status = e.status;
        let assignments: Vec<AssignmentView> = by_entry
            .remove(&e.id)
            .unwrap_or_default()
            .into_iter()
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
            load: load.get(&m.id).copied().unwrap_or(0),
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
    pub opened_round_id: Option<RoundId>,
}

/// What the opening form needs to know about a competition and its policy.
#[derive(Debug, Clone)]
pub struct OpeningContext {
    pub competition_id: CompetitionId,
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
    competition_id: CompetitionId,
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
