//! How a round's score sheets become a ranking per cluster kind, the quota's cut line and the
//! proposed list (拟定名单, 第十条、第十一条), with every number traceable to the sheets; and
//! the Excel exports of the sheets and the ranking.
//!
//! The arithmetic is the domain's (`score_application`, `outliers`, `rank`, `winners`,
//! `ties_at_cutoff`); this module gathers the sheets, shows the working and records the decision.

use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::{Action, Resource, permission};
use jiqun_domain::application::Transition;
use jiqun_domain::county_cap::{self, CapMode, CapRefusal};
use jiqun_domain::region;
use jiqun_domain::review::{
    self, ApplicationScore, CriterionLimit, CutoffTie, Outlier, OutlierRule, PanelRule, RankInput,
    Ranked,
    shortlist::{self, Contender, Refusal, Standing},
};
use jiqun_domain::round::{self as round_rules, RoundStatus, RoundStep};
use jiqun_rules::Policy;
use jiqun_rules::policy::{Aggregation, QuotaMode, Round as PolicyRound};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::rounds::{self, competition_of, round_policy};
use super::scoring::{self, expert_names, limits, round_label, scores_of, show};
use super::workbook::{excel_time, header_row, styles, xlsx_err};
use super::{authorize, clusters, trimmed};
use crate::app::{App, Principal};
use crate::audit::{self, Audit, Event};
use crate::error::AppError;
use crate::store::{
    self,
    entity::{
        application, cluster, competition, defence_score, designation, round, round_entry,
        score_sheet,
    },
};

/// The policy file sets no outlier rule, so a total is flagged when it is more than this share
/// of the policy's total score (15 points out of 100) away from the mean of the other experts'
/// totals: leaving the total itself out keeps one wild score from hiding itself on a panel of 5.
pub const OUTLIER_GAP_SHARE: f64 = 0.15;
/// The longest reason (ties, county cap) accepted, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

pub fn outlier_rule(policy: &Policy) -> OutlierRule {
    OutlierRule::GapFromOthers(f64::from(policy.scoring.total_score) * OUTLIER_GAP_SHARE)
}

/// The policy's panel rule for this round: trimming only under a trimmed-mean aggregation.
pub fn panel_rule(rule: &PolicyRound) -> PanelRule {
    PanelRule {
        drop_extremes_when_at_least: match rule.panel.aggregation {
            Aggregation::TrimmedMean => rule.panel.trim_when_at_least,
            Aggregation::Mean => None,
        },
        defence_share: rule.panel.defence_share,
    }
}

/// One entrant with everything its score is made of.
struct EntryCalc {
    entry: round_entry::Model,
    cluster_name: String,
    org_name: String,
    org_id: i64,
    /// Submitted written totals of the active assignments: (expert id, total).
    totals: Vec<(i64, f64)>,
    /// Defence scores of the active assignments: (expert id, score).
    defence: Vec<(i64, f64)>,
    assigned: u32,
    score: ApplicationScore,
    outliers: Vec<Outlier>,
}

/// A round's figures, as the ranking page, the proposal and the exports need them.
struct Calc {
    round: round::Model,
    competition: competition::Model,
    policy: Policy,
    rule: PolicyRound,
    criteria: Vec<CriterionLimit>,
    entries: Vec<EntryCalc>,
    ranked: Vec<Ranked>,
    quotas: BTreeMap<String, u32>,
    /// Application ids of the default selection, `winners(quota)`.
    winners: BTreeSet<i64>,
    ties: Vec<CutoffTie>,
    /// Active assignments without a submitted sheet: "专家（集群）".
    missing: Vec<String>,
    /// Assigned (entrant, expert) pairs without a defence score, when a defence is held.
    missing_defence: Vec<String>,
    names: BTreeMap<i64, String>,
    sheets: Vec<score_sheet::Model>,
}

impl Calc {
    fn entry_by_app(&self, application_id: i64) -> Option<&EntryCalc> {
        self.entries
            .iter()
            .find(|e| e.entry.application_id == application_id)
    }
}

async fn calculate<C: ConnectionTrait>(conn: &C, r: round::Model) -> Result<Calc, AppError> {
    let c = competition_of(conn, &r).await?;
    let (policy, rule) = round_policy(&c, r.kind)?;
    let criteria = limits(&policy);
    let panel = panel_rule(&rule);
    let entries = rounds::entries(conn, r.id).await?;
    let active = rounds::active_assignments(conn, r.id).await?;
    let active_ids: BTreeSet<i64> = active.iter().map(|a| a.id).collect();
    let sheets: Vec<score_sheet::Model> = score_sheet::Entity::find()
        .filter(score_sheet::Column::RoundId.eq(r.id))
        .all(conn)
        .await?
        .into_iter()
        .filter(|s| active_ids.contains(&s.assignment_id))
        .collect();
    let defences = defence_score::Entity::find()
        .filter(defence_score::Column::RoundId.eq(r.id))
        .all(conn)
        .await?;
    let names = expert_names(conn, active.iter().map(|a| a.expert_id)).await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(conn, entries.iter().map(|e| e.cluster_id)).await?;
    let orgs = clusters::org_names(conn, clusters.values().map(|c| c.org_id)).await?;
    let rule_out = outlier_rule(&policy);
    let mut calcs = Vec::with_capacity(entries.len());
    let mut missing = Vec::new();
    let mut missing_defence = Vec::new();
    for e in entries {
        let cl = clusters.get(&e.cluster_id).ok_or(AppError::NotFound)?;
        let org_name = orgs.get(&cl.org_id).cloned().unwrap_or_default();
        let mine: Vec<_> = active.iter().filter(|a| a.entry_id == e.id).collect();
        let domain_sheets: Vec<review::ScoreSheet> = sheets
            .iter()
            .filter(|s| s.entry_id == e.id)
            .map(|s| review::ScoreSheet {
                expert_id: s.expert_id,
                application_id: e.application_id,
                scores: scores_of(s).into_iter().collect(),
                submitted: s.status == crate::store::entity::kinds::ScoreSheetStatus::Submitted,
            })
            .collect();
        let totals: Vec<(i64, f64)> = domain_sheets
            .iter()
            .filter(|s| s.submitted)
            .map(|s| (s.expert_id, review::total(s)))
            .collect();
        for a in &mine {
            if !totals.iter().any(|(x, _)| *x == a.expert_id) {
                missing.push(format!(
                    "{}（{}）",
                    names.get(&a.expert_id).cloned().unwrap_or_default(),
                    cl.name
                ));
            }
        }
        // Recusals can thin a panel out; an entrant is ranked on the round's full panel only.
        let k = usize::try_from(r.experts_per_application).unwrap_or_default();
        if mine.len() < k {
            missing.push(format!(
                "{}（评审专家仅{}人，应为{k}人，请补充分配专家）",
                cl.name,
                mine.len()
            ));
        }
        let defence: Vec<(i64, f64)> = defences
            .iter()
            .filter(|d| d.entry_id == e.id && mine.iter().any(|a| a.expert_id == d.expert_id))
            .map(|d| (d.expert_id, d.score))
            .collect();
        if r.defence {
            for a in &mine {
                if !defence.iter().any(|(x, _)| *x == a.expert_id) {
                    missing_defence.push(format!(
                        "{}（{}）",
                        names.get(&a.expert_id).cloned().unwrap_or_default(),
                        cl.name
                    ));
                }
            }
        }
        let defence_scores: Vec<f64> = defence.iter().map(|(_, s)| *s).collect();
        // Before any defence score is in, the written score stands (the page says so).
        let held = (r.defence && !defence_scores.is_empty()).then_some(defence_scores.as_slice());
        let score =
            review::score_application(e.application_id, &domain_sheets, &criteria, held, &panel);
        let outliers = review::outliers(&totals, rule_out);
        calcs.push(EntryCalc {
            cluster_name: cl.name.clone(),
            org_name,
            org_id: cl.org_id,
            totals,
            defence,
            assigned: u32::try_from(mine.len()).unwrap_or(u32::MAX),
            score,
            outliers,
            entry: e,
        });
    }
    let ranked = review::rank(
        calcs
            .iter()
            .map(|e| RankInput::from_score(&e.score, &e.entry.cluster_kind))
            .collect(),
    );
    let quotas = rounds::quotas_of(&r);
    let winners = review::winners(&ranked, &quotas).into_iter().collect();
    let ties = review::ties_at_cutoff(&ranked, &quotas);
    Ok(Calc {
        round: r,
        competition: c,
        policy,
        rule,
        criteria,
        entries: calcs,
        ranked,
        quotas,
        winners,
        ties,
        missing,
        missing_defence,
        names,
        sheets,
    })
}

/// Which totals the trimming dropped, by expert: the domain drops the lowest and the highest of
/// the sorted totals; among equal totals the one of the lower expert id is named.
fn dropped_marks(totals: &[(i64, f64)], dropped: bool) -> BTreeMap<i64, &'static str> {
    let mut marks = BTreeMap::new();
    if !dropped {
        return marks;
    }
    let mut sorted = totals.to_vec();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    if let Some((id, _)) = sorted.first() {
        marks.insert(*id, "low");
    }
    if let Some(&(_, highest)) = sorted.last()
        && let Some((id, _)) = sorted
            .iter()
            .find(|(id, t)| *t == highest && !marks.contains_key(id))
    {
        marks.insert(*id, "high");
    }
    marks
}

fn dropped_label(mark: &str) -> &'static str {
    match mark {
        "low" => "去掉的最低分",
        "high" => "去掉的最高分",
        _ => "",
    }
}

/// An expert's written total for an entrant, and whether the trimming dropped it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExpertTotal {
    pub expert_id: i64,
    pub expert_name: String,
    pub total: f64,
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
}

/// One defence score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DefenceMark {
    pub expert_id: i64,
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
    pub entry_id: i64,
    pub application_id: i64,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    pub county_code: String,
    pub county_name: String,
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
    pub entry_id: i64,
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
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RankingView {
    pub round_id: i64,
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
    pub defence: bool,
    pub defence_share: f64,
    pub trim_when_at_least: Option<u32>,
    /// How the numbers are made, in words.
    pub method: Vec<String>,
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
async fn county_excess<C: ConnectionTrait>(
    conn: &C,
    policy: &Policy,
    chosen: &[&round_entry::Model],
) -> Result<BTreeMap<String, String>, AppError> {
    let cap = policy.quota.per_county.max;
    let designated: BTreeSet<i64> = designation::Entity::find()
        .filter(designation::Column::RevokedOn.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|d| d.cluster_id)
        .collect();
    let counties: BTreeSet<jiqun_domain::region::RegionCode> =
        chosen.iter().map(|e| e.county_code).collect();
    // The designated clusters led from each county; the counting is the domain's.
    let mut by_county: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for county in counties {
        if designated.is_empty() {
            break;
        }
        let here: BTreeSet<i64> = cluster::Entity::find()
            .filter(cluster::Column::Id.is_in(designated.iter().copied()))
            .filter(cluster::Column::LeadCountyCode.eq(county))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        by_county.insert(county.to_string(), here);
    }
    let codes: Vec<String> = chosen.iter().map(|e| e.county_code.to_string()).collect();
    let chosen: Vec<county_cap::Chosen> = chosen
        .iter()
        .zip(&codes)
        .map(|(e, county)| county_cap::Chosen {
            county,
            cluster_id: e.cluster_id,
        })
        .collect();
    Ok(county_cap::proposed_list_excess(cap, &chosen, &by_county))
}

fn view(calc: &Calc, p: &Principal, county_warnings: Vec<String>) -> Result<RankingView, AppError> {
    let status = calc.round.status;
    let fixed = !matches!(status, RoundStatus::Setup | RoundStatus::Scoring);
    let panel = panel_rule(&calc.rule);
    let mut kinds: Vec<KindRanking> = Vec::new();
    for r in &calc.ranked {
        let Some(e) = calc.entry_by_app(r.application_id) else {
            continue;
        };
        let marks = dropped_marks(&e.totals, !e.score.written.dropped.is_empty());
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
                    expert_id: *id,
                    expert_name: calc.names.get(id).cloned().unwrap_or_default(),
                    total: *total,
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
                    expert_id: *id,
                    expert_name: calc.names.get(id).cloned().unwrap_or_default(),
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
            }),
        }
    }
    for k in &mut kinds {
        let quota = k.quota as usize;
        let len = k.rows.len();
        if quota > 0
            && quota < len
            && let Some(row) = k.rows.get_mut(quota - 1)
        {
            row.cut_after = true;
        }
    }
    for t in &calc.ties {
        if let Some(k) = kinds.iter_mut().find(|k| k.kind == t.kind) {
            let members: Vec<&EntryCalc> = t
                .application_ids
                .iter()
                .filter_map(|id| calc.entry_by_app(*id))
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
        defence: calc.round.defence,
        defence_share: panel.defence_share,
        trim_when_at_least: panel.drop_extremes_when_at_least,
        method: method(calc),
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

/// The ranking of a round (province; partner departments read it).
pub async fn ranking(app: &App, p: &Principal, round_id: i64) -> Result<RankingView, AppError> {
    let r = rounds::load(&app.db, p, round_id).await?;
    let calc = calculate(&app.db, r).await?;
    let shown: Vec<&round_entry::Model> = calc
        .entries
        .iter()
        .filter(|e| {
            if !matches!(calc.round.status, RoundStatus::Setup | RoundStatus::Scoring) {
                e.entry.proposed
            } else {
                calc.winners.contains(&e.entry.application_id)
            }
        })
        .map(|e| &e.entry)
        .collect();
    let warnings = county_excess(&app.db, &calc.policy, &shown).await?;
    view(&calc, p, warnings.into_values().collect())
}

/// The province's decision on the proposed list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProposeInput {
    /// The whole proposed list, by entry id. Leave it out to take the ranking as it stands; it
    /// is needed when the quota splits a tie, and may differ from the ranking only there.
    #[serde(default)]
    pub chosen: Option<Vec<i64>>,
    /// Why the tied entrants were chosen, and why a county may exceed the cap (required then).
    #[serde(default)]
    pub reason: String,
}

/// Fixes the proposed list (确定拟定名单): all sheets submitted (and defence scores recorded),
/// the quota by rank, ties at the cut decided with a reason, the county cap justified. In one
/// transaction the round becomes `proposed`, every entrant `shortlisted` or `not_selected` with
/// its final score and rank, the decision is audited and the applicants are told that the
/// review is over (the outcome itself is published with the notice).
pub async fn propose(
    app: &App,
    p: &Principal,
    round_id: i64,
    input: &ProposeInput,
) -> Result<RankingView, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    let reason = trimmed(&input.reason);
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "reason",
            format!("理由不能超过{MAX_REASON_CHARS}字"),
        ));
    }
    let txn = store::write_txn(&app.db).await?;
    let r = round::Entity::find_by_id(round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    round_rules::step(r.status, RoundStep::FixProposedList)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let kind = r.kind;
    let calc = calculate(&txn, r).await?;
    // Which entrants make the list is the domain's decision (`review::shortlist`).
    let contenders: Vec<Contender> = calc
        .entries
        .iter()
        .map(|e| Contender {
            entry_id: e.entry.id,
            application_id: e.entry.application_id,
            cluster_name: &e.cluster_name,
            scored: !e.totals.is_empty(),
        })
        .collect();
    let standing = Standing {
        contenders: &contenders,
        missing_sheets: &calc.missing,
        missing_defence: &calc.missing_defence,
        winners: &calc.winners,
        ties: &calc.ties,
    };
    let chosen_apps = shortlist::choose(&standing, input.chosen.as_deref(), &reason, |t| {
        tie_note(&calc, t)
    })
    .map_err(|e| match e {
        Refusal::Conflict(message) => AppError::Conflict(message),
        Refusal::Invalid { field, message } => AppError::invalid(field, message),
    })?;
    let chosen_entries: Vec<&round_entry::Model> = calc
        .entries
        .iter()
        .filter(|e| chosen_apps.contains(&e.entry.application_id))
        .map(|e| &e.entry)
        .collect();
    let over = county_excess(&txn, &calc.policy, &chosen_entries).await?;
    let warnings: Vec<String> = over.values().cloned().collect();
    let cap = &calc.policy.quota.per_county;
    let mode = match cap.mode {
        QuotaMode::Block => CapMode::Block,
        QuotaMode::Warn => CapMode::Warn,
    };
    county_cap::check_proposed_list(mode, &cap.message, &warnings, &reason).map_err(
        |e| match e {
            CapRefusal::Blocked(message) => AppError::Conflict(message),
            CapRefusal::NeedsReason(message) => AppError::invalid("reason", message),
        },
    )?;
    let now = app.clock.now();
    super::rounds::step_round(&txn, &calc.round, RoundStep::FixProposedList, now).await?;
    let mut lines: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut not_selected = Vec::new();
    let decisions = shortlist::decide(
        &calc.ranked,
        &chosen_apps,
        &calc.ties,
        |app| {
            calc.entry_by_app(app)
                .is_some_and(|e| over.contains_key(&e.entry.county_code.to_string()))
        },
        &reason,
    );
    for (r, decision) in calc.ranked.iter().zip(&decisions) {
        let Some(e) = calc.entry_by_app(r.application_id) else {
            continue;
        };
        let proposed = decision.proposed;
        let note = decision.note.clone();
        let scored =
            rounds::move_entry(&txn, p, kind, &e.entry, Transition::FinishScoring, "", now).await?;
        let decided = rounds::move_entry(
            &txn,
            p,
            kind,
            &scored,
            if proposed {
                Transition::Shortlist
            } else {
                Transition::NotSelect
            },
            &note,
            now,
        )
        .await?;
        store::update_versioned(
            &txn,
            decided.id,
            decided.version,
            round_entry::ActiveModel {
                final_score: Set(Some(r.final_score)),
                rank: Set(Some(i32::try_from(r.rank).unwrap_or(i32::MAX))),
                proposed: Set(proposed),
                decision_note: Set(note),
                ..Default::default()
            },
        )
        .await?;
        let line = format!(
            "第{}名 {}（{}分）",
            r.rank,
            e.cluster_name,
            show(r.final_score)
        );
        if proposed {
            lines.entry(r.kind.as_str()).or_default().push(line);
        } else {
            not_selected.push(line);
        }
        if let Some(a) = application::Entity::find_by_id(e.entry.application_id)
            .one(&txn)
            .await?
        {
            crate::services::notifications::notify_org(
                &txn,
                e.org_id,
                &format!("评审已完成：{}", e.cluster_name),
                &format!(
                    "您的申报“{}”已完成{}专家评审，评审结果将在拟定名单公示时公布。",
                    e.cluster_name,
                    round_label(&calc.competition, &calc.round)
                ),
                &format!("/applications/{}", a.id),
                now,
            )
            .await?;
        }
    }
    let mut summary = format!(
        "确定{}拟定名单：",
        round_label(&calc.competition, &calc.round)
    );
    let kinds: Vec<String> = calc
        .quotas
        .iter()
        .map(|(k, quota)| {
            let label = calc
                .policy
                .cluster_kind(k)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| k.clone());
            let list = lines
                .get(k.as_str())
                .map(|l| l.join("、"))
                .unwrap_or_default();
            format!(
                "{label}（名额{quota}）{}",
                if list.is_empty() { "无".into() } else { list }
            )
        })
        .collect();
    summary.push_str(&kinds.join("；"));
    if !not_selected.is_empty() {
        summary.push_str(&format!("。未入选：{}", not_selected.join("、")));
    }
    if !calc.ties.is_empty() {
        let notes: Vec<String> = calc.ties.iter().map(CutoffTie::message).collect();
        summary.push_str(&format!("。名额线并列：{}", notes.join("；")));
    }
    if !warnings.is_empty() {
        summary.push_str(&format!("。突破县域上限：{}", warnings.join("；")));
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.propose",
                object_type: "round",
                object_id: calc.round.id.to_string(),
                summary,
                reason: reason.clone(),
            },
        )
        .await?;
    txn.commit().await?;
    ranking(app, p, round_id).await
}

fn tie_note(calc: &Calc, t: &CutoffTie) -> String {
    let names: Vec<String> = t
        .application_ids
        .iter()
        .filter_map(|id| calc.entry_by_app(*id))
        .map(|e| format!("“{}”", e.cluster_name))
        .collect();
    let kind = calc
        .policy
        .cluster_kind(&t.kind)
        .map(|k| k.name.clone())
        .unwrap_or_else(|| t.kind.clone());
    format!(
        "{kind}{}：请在{}中选择{}个，并说明理由",
        t.message(),
        names.join("、"),
        t.places
    )
}

// ---------------------------------------------------------------------------------------------
// Excel exports.

/// A round loaded for export (province), with the export audited.
async fn for_export(
    app: &App,
    p: &Principal,
    round_id: i64,
    what: &'static str,
) -> Result<Calc, AppError> {
    authorize(p, Resource::Round, Action::Export)?;
    scoring::province_wide(p, Action::Export)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let calc = calculate(&app.db, r).await?;
    audit::record_export(
        app,
        p,
        Event {
            action: if what == "scores" {
                "score.export"
            } else {
                "ranking.export"
            },
            object_type: "round",
            object_id: calc.round.id.to_string(),
            summary: format!(
                "导出{}{}（Excel）",
                round_label(&calc.competition, &calc.round),
                if what == "scores" {
                    "评分表"
                } else {
                    "排名"
                }
            ),
            reason: String::new(),
        },
    )
    .await?;
    Ok(calc)
}

/// The header row of the score-sheet workbook.
pub fn scores_headers(criteria: &[CriterionLimit]) -> Vec<String> {
    let mut h: Vec<String> = ["序号", "集群类型", "参赛集群", "申报主体", "评审专家"]
        .map(String::from)
        .to_vec();
    h.extend(
        criteria
            .iter()
            .map(|c| format!("{}（满分{}分）", c.name, c.max_score)),
    );
    h.extend(["合计", "评审意见", "状态", "提交时间"].map(String::from));
    h
}

/// Every score sheet of a round as an .xlsx workbook (「评分表」): one row per active
/// assignment, scores as numbers. Returns the bytes and the download name.
pub async fn scores_xlsx(
    app: &App,
    p: &Principal,
    round_id: i64,
) -> Result<(Vec<u8>, String), AppError> {
    let calc = for_export(app, p, round_id, "scores").await?;
    let st = styles();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("评分表").map_err(xlsx_err)?;
    let label = round_label(&calc.competition, &calc.round);
    let headers = scores_headers(&calc.criteria);
    header_row(ws, &st, &format!("{label}专家评分表"), &headers)?;
    for (col, w) in (0u16..).zip(headers.iter()) {
        let width = match col {
            0 => 6.0,
            2 | 3 => 28.0,
            _ if w == "评审意见" => 40.0,
            _ => 14.0,
        };
        ws.set_column_width(col, width).map_err(xlsx_err)?;
    }
    let active = rounds::active_assignments(&app.db, calc.round.id).await?;
    let mut row = 2u32;
    for r in &calc.ranked {
        let Some(e) = calc.entry_by_app(r.application_id) else {
            continue;
        };
        for a in active.iter().filter(|a| a.entry_id == e.entry.id) {
            let sheet = calc.sheets.iter().find(|s| s.assignment_id == a.id);
            let scores = sheet.map(scores_of).unwrap_or_default();
            ws.write_number_with_format(row, 0, f64::from(row - 1), &st.cell)
                .map_err(xlsx_err)?;
            let kind = calc
                .policy
                .cluster_kind(&e.entry.cluster_kind)
                .map(|k| k.name.clone())
                .unwrap_or_default();
            ws.write_string_with_format(row, 1, &kind, &st.cell)
                .map_err(xlsx_err)?;
            ws.write_string_with_format(row, 2, &e.cluster_name, &st.wrap)
                .map_err(xlsx_err)?;
            ws.write_string_with_format(row, 3, &e.org_name, &st.wrap)
                .map_err(xlsx_err)?;
            let name = calc.names.get(&a.expert_id).cloned().unwrap_or_default();
            ws.write_string_with_format(row, 4, &name, &st.cell)
                .map_err(xlsx_err)?;
            let mut col = 5u16;
            for c in &calc.criteria {
                match scores.get(&c.key) {
                    Some(v) => ws.write_number_with_format(row, col, *v, &st.number),
                    None => ws.write_blank(row, col, &st.cell),
                }
                .map_err(xlsx_err)?;
                col += 1;
            }
            match sheet.and_then(|s| s.total) {
                Some(t) => ws.write_number_with_format(row, col, t, &st.number),
                None => ws.write_blank(row, col, &st.cell),
            }
            .map_err(xlsx_err)?;
            let comment = sheet.map(|s| s.comment.clone()).unwrap_or_default();
            ws.write_string_with_format(row, col + 1, &comment, &st.wrap)
                .map_err(xlsx_err)?;
            let status = sheet.map_or(scoring::NOT_STARTED, |s| s.status.key());
            ws.write_string_with_format(
                row,
                col + 2,
                scoring::sheet_status_label(status),
                &st.cell,
            )
            .map_err(xlsx_err)?;
            match sheet.and_then(|s| s.submitted_at) {
                Some(at) => ws.write_datetime_with_format(row, col + 3, excel_time(at)?, &st.when),
                None => ws.write_blank(row, col + 3, &st.cell),
            }
            .map_err(xlsx_err)?;
            row += 1;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xlsx_err)?;
    Ok((bytes, format!("评分表-{label}.xlsx")))
}

/// The header row of the ranking workbook.
pub fn ranking_headers(criteria: &[CriterionLimit]) -> Vec<String> {
    let mut h: Vec<String> = [
        "集群类型",
        "排名",
        "参赛集群",
        "申报主体",
        "牵头县（市、区）",
        "最终得分",
        "书面评审得分",
        "答辩得分",
    ]
    .map(String::from)
    .to_vec();
    h.extend(criteria.iter().map(|c| format!("{}平均分", c.name)));
    h.extend(
        [
            "各专家总分",
            "去掉的最低分",
            "去掉的最高分",
            "异常评分提示",
            "是否拟入选",
            "说明",
        ]
        .map(String::from),
    );
    h
}

/// The ranking of a round as an .xlsx workbook (「排名」): per kind in rank order, the scores as
/// numbers, the dropped totals and outlier notes, and whether each entrant is proposed.
pub async fn ranking_xlsx(
    app: &App,
    p: &Principal,
    round_id: i64,
) -> Result<(Vec<u8>, String), AppError> {
    let calc = for_export(app, p, round_id, "ranking").await?;
    let v = view(&calc, p, Vec::new())?;
    let st = styles();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("排名").map_err(xlsx_err)?;
    let label = round_label(&calc.competition, &calc.round);
    let headers = ranking_headers(&calc.criteria);
    header_row(ws, &st, &format!("{label}评审排名"), &headers)?;
    for (col, h) in (0u16..).zip(headers.iter()) {
        let width = match h.as_str() {
            "参赛集群" | "申报主体" | "各专家总分" => 28.0,
            "异常评分提示" | "说明" => 40.0,
            "排名" => 6.0,
            _ => 12.0,
        };
        ws.set_column_width(col, width).map_err(xlsx_err)?;
    }
    let mut row = 2u32;
    for k in &v.kinds {
        for r in &k.rows {
            let mut col = 0u16;
            let text = |ws: &mut rust_xlsxwriter::Worksheet, s: &str, col: &mut u16| {
                let res = ws
                    .write_string_with_format(row, *col, s, &st.wrap)
                    .map(|_| ());
                *col += 1;
                res.map_err(xlsx_err)
            };
            text(ws, &k.kind_label, &mut col)?;
            ws.write_number_with_format(row, col, f64::from(r.rank), &st.cell)
                .map_err(xlsx_err)?;
            col += 1;
            text(ws, &r.cluster_name, &mut col)?;
            text(ws, &r.org_name, &mut col)?;
            text(ws, &r.county_name, &mut col)?;
            for n in [Some(r.final_score), Some(r.written_mean), r.defence_mean]
                .into_iter()
                .chain(r.criterion_means.iter().map(|m| Some(*m)))
            {
                match n {
                    Some(x) => ws.write_number_with_format(row, col, x, &st.number),
                    None => ws.write_blank(row, col, &st.cell),
                }
                .map_err(xlsx_err)?;
                col += 1;
            }
            let totals: Vec<String> = r
                .written
                .iter()
                .map(|w| format!("{} {}", w.expert_name, w.total_text()))
                .collect();
            text(ws, &totals.join("；"), &mut col)?;
            for mark in ["low", "high"] {
                match r.written.iter().find(|w| w.dropped == mark) {
                    Some(w) => ws.write_number_with_format(row, col, w.total, &st.number),
                    None => ws.write_blank(row, col, &st.cell),
                }
                .map_err(xlsx_err)?;
                col += 1;
            }
            text(ws, &r.outliers.join("；"), &mut col)?;
            let proposed = if r.tied_at_cut && !v.fixed {
                "并列待定"
            } else if r.proposed {
                "是"
            } else {
                "否"
            };
            text(ws, proposed, &mut col)?;
            text(ws, &r.decision_note, &mut col)?;
            row += 1;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xlsx_err)?;
    Ok((bytes, format!("评审排名-{label}.xlsx")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dropped_totals_are_named_by_expert() {
        let totals = [(3, 80.0), (1, 90.0), (2, 60.0), (4, 90.0), (5, 60.0)];
        let marks = dropped_marks(&totals, true);
        assert_eq!(marks.get(&2), Some(&"low"));
        assert_eq!(marks.get(&1), Some(&"high"));
        assert_eq!(marks.len(), 2);
        assert!(dropped_marks(&totals, false).is_empty());
    }
}
