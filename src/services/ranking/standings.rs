//! The ranking per cluster kind with its working: totals, dropped scores, ties and the cut line.

use crate::store::id::{ApplicationId, ClusterId, EntryId, ExpertId, RoundId};
use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::{Action, Resource, permission};
use jiqun_domain::county_cap;
use jiqun_domain::region;
use jiqun_domain::review::{FloorMiss, Outlier, OutlierRule};
use jiqun_domain::round::RoundStatus;
use jiqun_rules::Policy;
use jiqun_rules::policy::{Normalise, QuotaMode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::{Calc, EntryCalc, dropped_label, dropped_marks, outlier_rule, panel_rule};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::services::rounds;
use crate::services::scoring::{round_label, show};
use crate::store::entity::{cluster, designation, round_entry};

/// An expert's written total for an entrant, and whether the trimming dropped it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExpertTotal {
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
    pub expert_name: String,
    pub total: f64,
    /// The total after normalisation (`rounds.panel.normalise`), which the aggregation used;
    /// absent without normalisation.
    pub normalised: Option<f64>,
    /// "low" or "high" when dropped by the trimming, else empty.
    pub dropped: String,
    pub dropped_label: String,
    /// The outlier note, when flagged.
    pub outlier: String,
}

impl ExpertTotal {
    pub fn total_text(&self) -> String {
        show(self.total)
    }
    pub fn normalised_text(&self) -> String {
        self.normalised.map(show).unwrap_or_default()
    }
}

/// One defence score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceMark {
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
    pub expert_name: String,
    pub score: f64,
    pub dropped: String,
    pub dropped_label: String,
}

impl DefenceMark {
    pub fn score_text(&self) -> String {
        show(self.score)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RankRow {
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    #[schema(value_type = i64)]
    pub application_id: ApplicationId,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    pub county_code: String,
    pub county_name: String,
    /// The round's policy's groupings that take in the cluster's city (第十六条: 长株潭).
    pub groupings: Vec<String>,
    /// Within the cluster kind; shared only by entrants equal on every tie-breaker.
    pub rank: u32,
    pub final_score: f64,
    /// Mean of the written totals that count (after trimming).
    pub written_mean: f64,
    /// Mean of the defence scores that count; absent without a defence.
    pub defence_mean: Option<f64>,
    pub written: Vec<ExpertTotal>,
    pub defence: Vec<DefenceMark>,
    /// Per criterion in policy order, the mean over the submitted sheets (tie-breakers).
    pub criterion_means: Vec<f64>,
    /// "产业特色明显 12.5" per criterion, for the page.
    #[serde(skip)]
    #[schema(ignore)]
    pub criterion_lines: Vec<String>,
    pub assigned: u32,
    pub submitted: u32,
    /// In the default selection: within the quota by rank.
    pub within_quota: bool,
    /// Shares the rank that the quota splits.
    pub tied_at_cut: bool,
    /// The quota's cut line runs below this row.
    pub cut_after: bool,
    /// On the proposed list: as fixed, or (before fixing) the default selection.
    pub proposed: bool,
    /// Outlier notes for the province to review.
    pub outliers: Vec<String>,
    /// 第六条: the criteria on which the entrant stays below the policy's floor, with its score
    /// and the floor; such an entrant is never among the winners.
    pub below_floor: Vec<String>,
    pub decision_note: String,
    pub status_label: String,
}

impl RankRow {
    pub fn final_text(&self) -> String {
        show(self.final_score)
    }
    pub fn written_text(&self) -> String {
        show(self.written_mean)
    }
    pub fn defence_text(&self) -> String {
        self.defence_mean.map(show).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TieMember {
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    pub cluster_name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TieView {
    pub rank: u32,
    /// Every entrant sharing the rank.
    pub members: Vec<TieMember>,
    /// How many of them the quota admits.
    pub places: u32,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KindRanking {
    pub kind: String,
    pub kind_label: String,
    pub quota: u32,
    pub rows: Vec<RankRow>,
    pub ties: Vec<TieView>,
    /// Entrants of this kind matching the filter asked for (all of them without one); `rows`
    /// holds the asked page of them.
    pub matched: usize,
    /// False when a filter on another kind hides this one (its ties stay for the form).
    pub shown: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RankingView {
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    pub round_label: String,
    pub status: String,
    pub status_label: String,
    /// The proposed list has been fixed.
    pub fixed: bool,
    /// The caller may fix the list now (province, round in scoring).
    pub can_propose: bool,
    /// Every sheet submitted and, with a defence, every defence score recorded.
    pub complete: bool,
    /// Sheets not yet submitted: "专家（集群）".
    pub missing: Vec<String>,
    pub missing_defence: Vec<String>,
    /// 决赛 entrants not ranked: no 决赛申报材料 submitted by the deadline (cluster names).
    pub not_submitted: Vec<String>,
    pub defence: bool,
    pub defence_share: f64,
    pub trim_when_at_least: Option<u32>,
    /// How the numbers are made, in words.
    pub method: Vec<String>,
    /// Each expert's totals are normalised (z-score) before aggregation.
    pub normalised: bool,
    pub criteria: Vec<String>,
    pub kinds: Vec<KindRanking>,
    /// Counties over the per-county cap with the list as shown.
    pub county_warnings: Vec<String>,
    /// The policy's wording of the cap.
    pub cap_message: String,
    /// warn | block
    pub cap_mode: String,
}

fn method(calc: &Calc) -> Vec<String> {
    let panel = panel_rule(&calc.rule);
    let total = calc.policy.scoring.total_score;
    let mut out = vec![match panel.drop_extremes_when_at_least {
        Some(n) => format!(
            "书面评审得分：每位专家各项得分之和（满分{total}分）；有效评分达到{n}份时去掉一个最高分和一个最低分，其余取算术平均。"
        ),
        None => format!("书面评审得分：每位专家各项得分之和（满分{total}分）的算术平均。"),
    }];
    if calc.round.defence {
        let share = panel.defence_share.clamp(0.0, 1.0);
        out.push(format!(
            "答辩得分：各位专家答辩评分（满分{total}分）按同一规则平均。最终得分 = 书面评审得分 × {}% + 答辩得分 × {}%。",
            show((1.0 - share) * 100.0),
            show(share * 100.0)
        ));
    } else {
        out.push("本轮未安排答辩，最终得分即书面评审得分。".into());
    }
    let names: Vec<&str> = calc.criteria.iter().map(|c| c.name.as_str()).collect();
    out.push(format!(
        "同一集群类型内按最终得分排序；得分相同时依次比较书面评审得分、各项平均分（{}），仍相同者并列。",
        names.join("、")
    ));
    if calc.rule.panel.normalise == Normalise::ZScore {
        out.push(
            "专家评分标准化：每位专家的书面总分先按其所评全部集群换算为标准分（减去该专家的平均分、除以其标准差），再以本轮全部评分的平均分和标准差还原到百分制，然后按上述规则汇总；表中括号内为标准化后的分数。"
                .into(),
        );
    }
    let floors: Vec<String> = calc
        .policy
        .criteria
        .iter()
        .filter_map(|c| {
            let share = c.floor_share.or(calc.policy.scoring.floor_share)?;
            Some(format!("{}{}%", c.name, show(share * 100.0)))
        })
        .collect();
    if !floors.is_empty() {
        out.push(format!(
            "各项底线（占该项满分的比例）：{}。任一项平均分低于底线的集群保留排名，但不列入胜出名单，名额依次由达到全部底线的集群递补。",
            floors.join("、")
        ));
    }
    if let OutlierRule::GapFromOthers(gap) = outlier_rule(&calc.policy) {
        out.push(format!(
            "异常评分：某位专家的总分与其他专家平均分相差超过{}分时标出，供复核，不改变得分。",
            show(gap)
        ));
    }
    out
}

/// Counties over the policy's per-county cap (第十六条) if `chosen` entries join the clusters
/// already designated there (not revoked), by county code. A cluster counts once, whatever its
/// designations.
pub(super) async fn county_excess<C: ConnectionTrait>(
    conn: &C,
    policy: &Policy,
    chosen: &[&round_entry::Model],
) -> Result<BTreeMap<String, String>, AppError> {
    let cap = policy.quota.per_county.max;
    // Only the divisions the policy caps (县（市）, or every division).
    let divisions = crate::services::reviews::cap_divisions(&policy.quota.per_county);
    let chosen: Vec<&round_entry::Model> = chosen
        .iter()
        .copied()
        .filter(|e| county_cap::counted(divisions, &e.county_code.to_string()))
        .collect();
    let designated: BTreeSet<ClusterId> = designation::Entity::find()
        .filter(designation::Column::RevokedOn.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|d| d.cluster_id)
        .collect();
    let counties: BTreeSet<jiqun_domain::region::RegionCode> =
        chosen.iter().map(|e| e.county_code).collect();
    // The designated clusters led from each county, in one read; the counting is the domain's.
    let mut by_county: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    if !designated.is_empty() && !counties.is_empty() {
        for county in &counties {
            by_county.insert(county.to_string(), BTreeSet::new());
        }
        let here = cluster::Entity::find()
            .filter(cluster::Column::Id.is_in(designated.iter().copied()))
            .filter(cluster::Column::LeadCountyCode.is_in(counties.iter().copied()))
            .all(conn)
            .await?;
        for c in here {
            by_county
                .entry(c.lead_county_code.to_string())
                .or_default()
                .insert(c.id.get());
        }
    }
    let codes: Vec<String> = chosen.iter().map(|e| e.county_code.to_string()).collect();
    let chosen: Vec<county_cap::Chosen> = chosen
        .iter()
        .zip(&codes)
        .map(|(e, county)| county_cap::Chosen {
            county,
            cluster_id: e.cluster_id.get(),
        })
        .collect();
    Ok(county_cap::proposed_list_excess(cap, &chosen, &by_county))
}

pub(super) fn view(
    calc: &Calc,
    p: &Principal,
    county_warnings: Vec<String>,
) -> Result<RankingView, AppError> {
    let status = calc.round.status;
    let fixed = !matches!(status, RoundStatus::Setup | RoundStatus::Scoring);
    let panel = panel_rule(&calc.rule);
    let mut kinds: Vec<KindRanking> = Vec::new();
    for r in &calc.ranked {
        let Some(e) = calc.entry_by_app(ApplicationId::new(r.application_id)) else {
            continue;
        };
        let marks = dropped_marks(&e.used_totals, !e.score.written.dropped.is_empty());
        let normalised = calc.rule.panel.normalise != Normalise::None;
        let defence_marks = dropped_marks(
            &e.defence,
            e.score
                .defence
                .as_ref()
                .is_some_and(|d| !d.dropped.is_empty()),
        );
        let mut written: Vec<ExpertTotal> = e
            .totals
            .iter()
            .map(|(id, total)| {
                let mark = marks.get(id).copied().unwrap_or("");
                ExpertTotal {
                    expert_id: ExpertId::new(*id),
                    expert_name: calc
                        .names
                        .get(&ExpertId::new(*id))
                        .cloned()
                        .unwrap_or_default(),
                    total: *total,
                    normalised: normalised
                        .then(|| e.used_totals.iter().find(|(x, _)| x == id).map(|u| u.1))
                        .flatten(),
                    dropped: mark.into(),
                    dropped_label: dropped_label(mark).into(),
                    outlier: e
                        .outliers
                        .iter()
                        .find(|o| o.expert_id == *id)
                        .map(Outlier::message)
                        .unwrap_or_default(),
                }
            })
            .collect();
        written.sort_by_key(|w| w.expert_id);
        let mut defence: Vec<DefenceMark> = e
            .defence
            .iter()
            .map(|(id, score)| {
                let mark = defence_marks.get(id).copied().unwrap_or("");
                DefenceMark {
                    expert_id: ExpertId::new(*id),
                    expert_name: calc
                        .names
                        .get(&ExpertId::new(*id))
                        .cloned()
                        .unwrap_or_default(),
                    score: *score,
                    dropped: mark.into(),
                    dropped_label: dropped_label(mark).into(),
                }
            })
            .collect();
        defence.sort_by_key(|d| d.expert_id);
        let within = calc.winners.contains(&r.application_id);
        let tied = calc
            .ties
            .iter()
            .any(|t| t.kind == r.kind && t.application_ids.contains(&r.application_id));
        let row = RankRow {
            entry_id: e.entry.id,
            application_id: e.entry.application_id,
            cluster_name: e.cluster_name.clone(),
            org_name: e.org_name.clone(),
            city_name: region::city_name_of(e.entry.city_code),
            county_code: e.entry.county_code.to_string(),
            county_name: rounds::county_name(&e.entry.county_code.to_string()),
            groupings: calc
                .policy
                .groupings_of_city(&e.entry.city_code.to_string())
                .into_iter()
                .map(String::from)
                .collect(),
            rank: r.rank,
            final_score: e.score.final_score,
            written_mean: e.score.written.mean,
            defence_mean: e.score.defence.as_ref().map(|d| d.mean),
            written,
            defence,
            criterion_means: e.score.criterion_means.clone(),
            criterion_lines: calc
                .criteria
                .iter()
                .zip(&e.score.criterion_means)
                .map(|(c, m)| format!("{} {}", c.name, show(*m)))
                .collect(),
            assigned: e.assigned,
            submitted: u32::try_from(e.totals.len()).unwrap_or(u32::MAX),
            within_quota: within,
            tied_at_cut: tied,
            cut_after: false,
            proposed: if fixed {
                e.entry.proposed
            } else {
                within && !tied
            },
            outliers: e.outliers.iter().map(Outlier::message).collect(),
            below_floor: e.floor_misses.iter().map(FloorMiss::message).collect(),
            decision_note: e.entry.decision_note.clone(),
            status_label: e.entry.status.label().to_string(),
        };
        match kinds.iter_mut().find(|k| k.kind == r.kind) {
            Some(k) => k.rows.push(row),
            None => kinds.push(KindRanking {
                kind: r.kind.clone(),
                kind_label: calc
                    .policy
                    .cluster_kind(&r.kind)
                    .map(|k| k.name.clone())
                    .unwrap_or_else(|| r.kind.clone()),
                quota: calc.quotas.get(&r.kind).copied().unwrap_or(0),
                rows: vec![row],
                ties: Vec::new(),
                matched: 0,
                shown: true,
            }),
        }
    }
    for k in &mut kinds {
        k.matched = k.rows.len();
        // The cut line runs below the last entrant the quota admits (an entrant below a floor
        // above it keeps its place in the list but not in the quota).
        let len = k.rows.len();
        if k.quota > 0
            && let Some(last) = k.rows.iter().rposition(|r| r.within_quota)
            && last + 1 < len
            && let Some(row) = k.rows.get_mut(last)
        {
            row.cut_after = true;
        }
    }
    for t in &calc.ties {
        if let Some(k) = kinds.iter_mut().find(|k| k.kind == t.kind) {
            let members: Vec<&EntryCalc> = t
                .application_ids
                .iter()
                .filter_map(|id| calc.entry_by_app(ApplicationId::new(*id)))
                .collect();
            k.ties.push(TieView {
                rank: t.rank,
                members: members
                    .iter()
                    .map(|e| TieMember {
                        entry_id: e.entry.id,
                        cluster_name: e.cluster_name.clone(),
                    })
                    .collect(),
                places: t.places,
                message: format!("{}{}", k.kind_label, t.message()),
            });
        }
    }
    Ok(RankingView {
        round_id: calc.round.id,
        round_label: round_label(&calc.competition, &calc.round),
        status: status.key().into(),
        status_label: status.label().into(),
        fixed,
        can_propose: status == RoundStatus::Scoring
            && permission(p.role, Resource::Round, Action::Update).is_some(),
        complete: calc.missing.is_empty() && calc.missing_defence.is_empty(),
        missing: calc.missing.clone(),
        missing_defence: calc.missing_defence.clone(),
        not_submitted: calc.not_submitted.clone(),
        defence: calc.round.defence,
        defence_share: panel.defence_share,
        trim_when_at_least: panel.drop_extremes_when_at_least,
        method: method(calc),
        normalised: calc.rule.panel.normalise != Normalise::None,
        criteria: calc.criteria.iter().map(|c| c.name.clone()).collect(),
        kinds,
        county_warnings,
        cap_message: calc.policy.quota.per_county.message.clone(),
        cap_mode: match calc.policy.quota.per_county.mode {
            QuotaMode::Warn => "warn".into(),
            QuotaMode::Block => "block".into(),
        },
    })
}

/// The ranking of a round (province; partner departments read it). The figures are computed
/// once per state of the round (`cache`); the county cap is read afresh.
pub async fn ranking(app: &App, p: &Principal, round_id: RoundId) -> Result<RankingView, AppError> {
    let r = rounds::load(&app.db, p, round_id).await?;
    let calc = super::cache::figures(&app.rankings, &app.db, r).await?;
    let shown: Vec<&round_entry::Model> = calc
        .entries
        .iter()
        .filter(|e| {
            if !matches!(calc.round.status, RoundStatus::Setup | RoundStatus::Scoring) {
                e.entry.proposed
            } else {
                calc.winners.contains(&e.entry.application_id.get())
            }
        })
        .map(|e| &e.entry)
        .collect();
    let warnings = county_excess(&app.db, &calc.policy, &shown).await?;
    view(&calc, p, warnings.into_values().collect())
}

/// What a person asks of the ranking: one cluster kind, a name (cluster, organisation, city or
/// county), and a page of `listing::PAGE_SIZE` entrants per kind. The full list stays in the
/// Excel export (and in the API without `page`).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// Only this cluster kind (leading | specialty …).
    pub kind: Option<String>,
    /// Part of a cluster's, organisation's, city's or county's name.
    pub q: Option<String>,
    /// The page (from 1) of each kind's entrants.
    pub page: Option<u64>,
}

impl RankingQuery {
    pub fn kind(&self) -> &str {
        self.kind.as_deref().map(str::trim).unwrap_or_default()
    }

    pub fn text(&self) -> &str {
        self.q.as_deref().map(str::trim).unwrap_or_default()
    }

    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1).max(1)
    }
}

impl RankingView {
    /// The view narrowed to what `q` asks: the kind and name filters, then one page of each
    /// kind's matching entrants. Returns the page shown and the number of pages (of the kind
    /// with the most matches).
    pub fn narrow(&mut self, q: &RankingQuery) -> (u64, u64) {
        let size = usize::try_from(crate::services::listing::PAGE_SIZE).unwrap_or(50);
        let kind = q.kind();
        let needle = q.text();
        let mut pages = 1u64;
        for k in &mut self.kinds {
            k.shown = kind.is_empty() || k.kind == kind;
            if !k.shown {
                k.rows.clear();
                k.matched = 0;
                continue;
            }
            if !needle.is_empty() {
                k.rows.retain(|r| {
                    r.cluster_name.contains(needle)
                        || r.org_name.contains(needle)
                        || r.city_name.contains(needle)
                        || r.county_name.contains(needle)
                });
            }
            k.matched = k.rows.len();
            pages = pages.max(u64::try_from(k.matched.div_ceil(size)).unwrap_or(1));
        }
        let page = q.page().min(pages);
        let skip = usize::try_from(page - 1).unwrap_or(0) * size;
        for k in &mut self.kinds {
            k.rows = std::mem::take(&mut k.rows)
                .into_iter()
                .skip(skip)
                .take(size)
                .collect();
        }
        (page, pages)
    }
}
