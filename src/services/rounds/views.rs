//! Rounds as the pages and the API show them, and what the opening form offers.

use crate::store::id::{
    ApplicationId, AssignmentId, ClusterId, CompetitionId, EntryId, ExpertId, RoundId,
};
use std::collections::{BTreeMap, HashMap, HashSet};

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::Status;
use jiqun_domain::region;
use jiqun_domain::region::RegionCode;
use jiqun_domain::round::{RoundKind, RoundStatus};
use jiqun_rules::policy::Entrants;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DerivePartialModel, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SelectGetableTuple,
};
use serde::Serialize;

use super::{
    SOURCE_MANUAL, ShortfallView, competition_of, county_name, load, panel_ids, plan, quotas_of,
    round_policy,
};
use crate::app::{App, Principal};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::services::competitions::policy_of;
use crate::services::{authorize, experts};
use crate::store::{
    self,
    entity::{
        assignment, cluster, competition, expert, organisation, round, round_entry, score_sheet,
    },
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
    /// The entrants asked for (every one unless a page was asked).
    pub entries: Vec<EntryView>,
    pub entry_page: EntryPage,
    pub panel: Vec<PanelMemberView>,
    /// While assignments may change: the entrants an automatic assignment could still not
    /// fill from the panel, and why.
    pub shortfalls: Vec<ShortfallView>,
}

/// What the round's pages read of every entrant (a round has up to 1,000): the columns they
/// filter, count and show, without scores, notes, times and snapshots, which cost more to
/// decode than to read.
#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "round_entry::Entity")]
struct EntryLine {
    id: EntryId,
    application_id: ApplicationId,
    cluster_id: ClusterId,
    cluster_kind: String,
    city_code: RegionCode,
    county_code: RegionCode,
    status: Status,
    proposed: bool,
}

async fn entry_lines<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
) -> Result<Vec<EntryLine>, AppError> {
    Ok(round_entry::Entity::find()
        .filter(round_entry::Column::RoundId.eq(round_id))
        .order_by_asc(round_entry::Column::Id)
        .into_partial_model::<EntryLine>()
        .all(conn)
        .await?)
}

async fn summary<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
    c: &competition::Model,
) -> Result<RoundSummary, AppError> {
    let entries = entry_lines(conn, r.id).await?;
    let counts = AssignmentCounts::of(conn, r).await?;
    Ok(summary_of(r, c, &entries, &counts))
}

/// How the round's standing assignments fall, counted in the database: a round of 1,000
/// entrants has 5,000 assignments and as many sheets, and a page needs only their numbers.
struct AssignmentCounts {
    per_expert: HashMap<ExpertId, usize>,
    standing: usize,
    /// Entrants with the round's number of experts (or more), while that number is above 0.
    filled: usize,
    /// Submitted sheets of standing assignments.
    submitted: usize,
}

/// The round's standing (not recused) assignments.
fn standing(round_id: RoundId) -> sea_orm::Select<assignment::Entity> {
    assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(round_id))
        .filter(assignment::Column::RecusedAt.is_null())
}

/// The entrants of a round with at least `k` standing assignments, one row each.
fn filled_entries(round_id: RoundId, k: i32) -> sea_orm::Selector<SelectGetableTuple<EntryId>> {
    standing(round_id)
        .select_only()
        .column(assignment::Column::EntryId)
        .group_by(assignment::Column::EntryId)
        .having(sea_orm::sea_query::ExprTrait::gte(
            assignment::Column::Id.count(),
            k,
        ))
        .into_tuple()
}

impl AssignmentCounts {
    async fn of<C: ConnectionTrait>(conn: &C, r: &round::Model) -> Result<Self, AppError> {
        let per_expert: Vec<(ExpertId, i64)> = standing(r.id)
            .select_only()
            .column(assignment::Column::ExpertId)
            .column_as(assignment::Column::Id.count(), "n")
            .group_by(assignment::Column::ExpertId)
            .into_tuple()
            .all(conn)
            .await?;
        // Counted, not listed: a page needs the number of filled entrants, not the 1,000 rows.
        let filled = filled_entries(r.id, r.experts_per_application.max(1))
            .count(conn)
            .await?;
        // A join, not `IN (subquery)`: counted from the sheets' (round, status) index with one
        // key look-up per sheet, where the subquery made SQLite probe the index per assignment.
        let submitted: Option<i64> = score_sheet::Entity::find()
            .select_only()
            .column_as(score_sheet::Column::Id.count(), "n")
            .join(
                JoinType::InnerJoin,
                score_sheet::Entity::belongs_to(assignment::Entity)
                    .from(score_sheet::Column::AssignmentId)
                    .to(assignment::Column::Id)
                    .into(),
            )
            .filter(score_sheet::Column::RoundId.eq(r.id))
            .filter(
                score_sheet::Column::Status
                    .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
            )
            .filter(assignment::Column::RecusedAt.is_null())
            .into_tuple()
            .one(conn)
            .await?;
        let n = |v: i64| usize::try_from(v).unwrap_or(0);
        Ok(AssignmentCounts {
            standing: per_expert.iter().map(|(_, c)| n(*c)).sum(),
            per_expert: per_expert.into_iter().map(|(id, c)| (id, n(c))).collect(),
            filled: usize::try_from(filled).unwrap_or(0),
            submitted: n(submitted.unwrap_or(0)),
        })
    }
}

/// The summary from the round's entrants and the counts of its standing assignments.
fn summary_of(
    r: &round::Model,
    c: &competition::Model,
    entries: &[EntryLine],
    counts: &AssignmentCounts,
) -> RoundSummary {
    let kind = r.kind;
    let status = r.status;
    let k = r.experts_per_application.max(0) as usize;
    // Every entrant is ready when none needs an expert.
    let ready = if k == 0 { entries.len() } else { counts.filled };
    let active_count = counts.standing;
    let submitted = counts.submitted;
    let proposed = entries.iter().filter(|e| e.proposed).count();
    let progress = match status {
        RoundStatus::Setup => format!("专家分配：{ready}/{}个参赛集群已满{k}人", entries.len()),
        RoundStatus::Scoring => format!("评分表已提交：{submitted}/{active_count}"),
        _ => format!("评分表已提交：{submitted}/{active_count}；拟定名单{proposed}个"),
    };
    RoundSummary {
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
        assignments: active_count,
        sheets_submitted: submitted,
        progress,
        scoring_opens_at: local_minutes(r.scoring_opens_at),
        scoring_closes_at: local_minutes(r.scoring_closes_at),
        defence: r.defence,
    }
}

/// The rounds the principal may see, newest competition first; optionally of one competition.
pub async fn list(
    app: &App,
    p: &Principal,
    competition_id: Option<CompetitionId>,
) -> Result<Vec<RoundSummary>, AppError> {
    let scope = authorize(p, Resource::Round, Action::View)?;
    let mut q = round::Entity::find().filter(crate::services::organisers::of_scope(
        p,
        scope,
        round::Column::CompetitionId,
    ));
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
    view_of(app, p, id, &EntryQuery::default()).await
}

/// What a person asks of a round's entrants: one cluster kind, a name (cluster, organisation,
/// city or county), only those still short of experts, and a page of `listing::PAGE_SIZE`. The
/// API without `page` answers every entrant.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// Only this cluster kind (leading | specialty …).
    pub kind: Option<String>,
    /// Part of a cluster's, organisation's, city's or county's name.
    pub q: Option<String>,
    /// `true`: only entrants that do not yet have all their experts.
    pub unfilled: Option<bool>,
    /// The page (from 1); without it, every entrant.
    pub page: Option<u64>,
}

impl EntryQuery {
    pub fn kind(&self) -> &str {
        self.kind.as_deref().map(str::trim).unwrap_or_default()
    }

    pub fn text(&self) -> &str {
        self.q.as_deref().map(str::trim).unwrap_or_default()
    }

    pub fn unfilled(&self) -> bool {
        self.unfilled.unwrap_or(false)
    }

    pub fn filtered(&self) -> bool {
        !self.kind().is_empty() || !self.text().is_empty() || self.unfilled()
    }
}

/// Which entrants a view shows: how many matched the filter, and the page shown of how many.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryPage {
    pub matched: usize,
    pub page: u64,
    pub pages: u64,
}

/// A round with the entrants `q` asks for (every one without a page).
pub async fn view_of(
    app: &App,
    p: &Principal,
    id: RoundId,
    q: &EntryQuery,
) -> Result<RoundView, AppError> {
    let r = load(&app.db, p, id).await?;
    let c = competition_of(&app.db, &r).await?;
    let kind = r.kind;
    let (policy, rule) = round_policy(&c, kind)?;
    let kind_labels: BTreeMap<&str, &str> = policy
        .cluster_kinds
        .iter()
        .map(|k| (k.key.as_str(), k.name.as_str()))
        .collect();
    let entries = entry_lines(&app.db, r.id).await?;
    let counts = AssignmentCounts::of(&app.db, &r).await?;
    let round_summary = summary_of(&r, &c, &entries, &counts);
    let k = r.experts_per_application.max(0) as usize;
    let (kind_wanted, needle) = (q.kind(), q.text());
    // The filled entrants are listed only for the filter that leaves them out.
    let filled: HashSet<EntryId> = if q.unfilled() && k > 0 {
        filled_entries(r.id, r.experts_per_application)
            .all(&app.db)
            .await?
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    let by_kind_and_filling: Vec<&EntryLine> = entries
        .iter()
        .filter(|e| kind_wanted.is_empty() || e.cluster_kind == kind_wanted)
        .filter(|e| !q.unfilled() || (k > 0 && !filled.contains(&e.id)))
        .collect();
    // Names are read for the entrants a text filter looks at, else only for the page shown.
    let names_for = |wanted: &[&EntryLine]| {
        let ids: Vec<ClusterId> = wanted.iter().map(|e| e.cluster_id).collect();
        async move {
            let clusters = store::load_by_ids::<cluster::Entity>(&app.db, ids).await?;
            let orgs = store::load_by_ids::<organisation::Entity>(
                &app.db,
                clusters.values().map(|c| c.org_id),
            )
            .await?;
            Ok::<_, AppError>((clusters, orgs))
        }
    };
    let (mut clusters, mut orgs) = if needle.is_empty() {
        Default::default()
    } else {
        names_for(&by_kind_and_filling).await?
    };
    let applicant_in = |clusters: &HashMap<ClusterId, cluster::Model>,
                        orgs: &HashMap<_, organisation::Model>,
                        e: &EntryLine| {
        clusters
            .get(&e.cluster_id)
            .and_then(|cl| orgs.get(&cl.org_id))
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let matching: Vec<&EntryLine> = by_kind_and_filling
        .into_iter()
        .filter(|e| {
            needle.is_empty()
                || clusters
                    .get(&e.cluster_id)
                    .is_some_and(|cl| cl.name.contains(needle))
                || applicant_in(&clusters, &orgs, e).contains(needle)
                || region::city_name_of(e.city_code).contains(needle)
                || county_name(&e.county_code.to_string()).contains(needle)
        })
        .collect();
    let size = usize::try_from(crate::services::listing::PAGE_SIZE).unwrap_or(50);
    let matched = matching.len();
    let (shown, page, pages): (Vec<&EntryLine>, u64, u64) = match q.page {
        None => (matching, 1, 1),
        Some(asked) => {
            let pages = u64::try_from(matched.div_ceil(size)).unwrap_or(1).max(1);
            let page = asked.clamp(1, pages);
            let skip = usize::try_from(page - 1).unwrap_or(0) * size;
            (
                matching.into_iter().skip(skip).take(size).collect(),
                page,
                pages,
            )
        }
    };
    if needle.is_empty() {
        (clusters, orgs) = names_for(&shown).await?;
    }
    let panel = panel_ids(&app.db, r.id).await?;
    let shown_ids: Vec<EntryId> = shown.iter().map(|e| e.id).collect();
    let shown_assignments = if shown_ids.is_empty() {
        Vec::new()
    } else {
        // By entrant only (an entrant belongs to one round): one index look-up per entrant.
        assignment::Entity::find()
            .filter(assignment::Column::EntryId.is_in(shown_ids))
            .order_by_asc(assignment::Column::Id)
            .all(&app.db)
            .await?
    };
    let mut expert_ids: Vec<ExpertId> = panel.clone();
    expert_ids.extend(shown_assignments.iter().map(|a| a.expert_id));
    let experts_by_id = store::load_by_ids::<expert::Entity>(&app.db, expert_ids).await?;
    let name_of = |id: ExpertId| {
        experts_by_id
            .get(&id)
            .map(|e| e.name.clone())
            .unwrap_or_else(|| format!("专家{id}"))
    };
    let mut by_entry: HashMap<EntryId, Vec<&assignment::Model>> = HashMap::new();
    for a in &shown_assignments {
        by_entry.entry(a.entry_id).or_default().push(a);
    }
    let mut entry_views = Vec::with_capacity(shown.len());
    for e in shown {
        let cl = clusters.get(&e.cluster_id);
        let applicant_name = applicant_in(&clusters, &orgs, e);
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
            load: counts.per_expert.get(&m.id).copied().unwrap_or(0),
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
        entry_page: EntryPage {
            matched,
            page,
            pages,
        },
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
    crate::services::organisers::check_run(p, &c)?;
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
                    Entrants::Submitted => "本市已提交的申报（市级竞赛不另设初审）".into(),
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
