//! How a round's score sheets become a ranking per cluster kind, the quota's cut line and the
//! proposed list (拟定名单, 第十条、第十一条), with every number traceable to the sheets; and
//! the Excel exports of the sheets and the ranking.
//!
//! The arithmetic is the domain's (`score_application`, `outliers`, `rank`, `winners`,
//! `ties_at_cutoff`); this module gathers the sheets, shows the working and records the decision.

use crate::store::id::{ApplicationId, AssignmentId, EntryId, ExpertId, OrgId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiqun_domain::review::{
    self, ApplicationScore, CriterionLimit, CutoffTie, FloorMiss, Outlier, OutlierRule, PanelRule,
    RankInput, Ranked,
};
use jiqun_rules::Policy;
use jiqun_rules::policy::{Aggregation, Normalise, Round as PolicyRound};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::clusters;
use super::rounds::{self, competition_of, round_policy};
use super::scoring::{expert_names, floors_for, limits, limits_for, scores_of};
use crate::error::AppError;
use crate::store::{
    self,
    entity::{cluster, competition, defence_score, round, round_entry, score_sheet},
};

/// The longest reason (ties, county cap) accepted, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

mod cache;
mod exports;
mod proposal;
mod standings;

pub use cache::RankingCache;
pub use exports::*;
pub use proposal::*;
pub use standings::*;

/// A total is flagged when it is further than the policy's share of its total score
/// (`scoring.outlier_gap_share`) from the mean of the other experts' totals: leaving the total
/// itself out keeps one wild score from hiding itself on a panel of 5. No share, no flag.
pub fn outlier_rule(policy: &Policy) -> OutlierRule {
    let share = policy.outlier_gap_share().unwrap_or(1.0);
    OutlierRule::GapFromOthers(f64::from(policy.scoring.total_score) * share)
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
    org_id: OrgId,
    /// Submitted written totals of the active assignments: (expert id, total).
    totals: Vec<(i64, f64)>,
    /// The totals the panel's aggregation used: `totals` normalised when the round's policy
    /// says so (`rounds.panel.normalise`), else the same.
    used_totals: Vec<(i64, f64)>,
    /// Criteria on which the entrant stays below the policy's floor: never among the winners.
    floor_misses: Vec<FloorMiss>,
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
    policy: std::sync::Arc<Policy>,
    rule: PolicyRound,
    criteria: Vec<CriterionLimit>,
    entries: Vec<EntryCalc>,
    ranked: Vec<Ranked>,
    quotas: BTreeMap<String, u32>,
    /// Application ids of the default selection, `winners(quota)` among the entrants that reach
    /// every floor.
    winners: BTreeSet<i64>,
    ties: Vec<CutoffTie>,
    /// Active assignments without a submitted sheet: "专家（集群）".
    missing: Vec<String>,
    /// Assigned (entrant, expert) pairs without a defence score, when a defence is held.
    missing_defence: Vec<String>,
    /// 决赛 entrants left out for not submitting their materials: cluster names.
    not_submitted: Vec<String>,
    names: BTreeMap<ExpertId, String>,
    sheets: Vec<score_sheet::Model>,
    /// Index into `entries` by application.
    by_app: HashMap<ApplicationId, usize>,
}

impl Calc {
    fn entry_by_app(&self, application_id: ApplicationId) -> Option<&EntryCalc> {
        self.by_app
            .get(&application_id)
            .and_then(|i| self.entries.get(*i))
    }
}

async fn calculate<C: ConnectionTrait>(conn: &C, r: round::Model) -> Result<Calc, AppError> {
    let c = competition_of(conn, &r).await?;
    let (policy, rule) = round_policy(&c, r.kind)?;
    let call = super::competitions::call_rules_of(&c);
    let criteria = limits(&policy);
    let panel = panel_rule(&rule);
    // 第十一条: a finalist that did not submit its 决赛申报材料 by the deadline is not ranked;
    // it is listed apart and its sheets are not waited for.
    let unsubmitted = super::finals::not_submitted(conn, r.id).await?;
    let (entries, left_out): (Vec<_>, Vec<_>) = rounds::entries(conn, r.id)
        .await?
        .into_iter()
        .partition(|e| !unsubmitted.contains(&e.id));
    let active = rounds::active_assignments(conn, r.id).await?;
    let active_ids: BTreeSet<AssignmentId> = active.iter().map(|a| a.id).collect();
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
    let clusters = store::load_by_ids::<cluster::Entity>(
        conn,
        entries.iter().chain(&left_out).map(|e| e.cluster_id),
    )
    .await?;
    let orgs = clusters::org_names(conn, clusters.values().map(|c| c.org_id)).await?;
    let not_submitted = left_out
        .iter()
        .filter_map(|e| clusters.get(&e.cluster_id).map(|c| c.name.clone()))
        .collect();
    let rule_out = outlier_rule(&policy);
    // Grouped by entrant once, in their loaded order: the loop below stays linear in the
    // round's size.
    let mut active_by_entry: HashMap<EntryId, Vec<_>> = HashMap::new();
    for a in &active {
        active_by_entry.entry(a.entry_id).or_default().push(a);
    }
    let mut sheets_by_entry: HashMap<EntryId, Vec<&score_sheet::Model>> = HashMap::new();
    for s in &sheets {
        sheets_by_entry.entry(s.entry_id).or_default().push(s);
    }
    let mut defences_by_entry: HashMap<EntryId, Vec<&defence_score::Model>> = HashMap::new();
    for d in &defences {
        defences_by_entry.entry(d.entry_id).or_default().push(d);
    }
    // Normalisation (z-score per expert) runs over every submitted total of the ranked entrants.
    let adjusted = match rule.panel.normalise {
        Normalise::None => None,
        Normalise::ZScore => {
            let apps: HashMap<EntryId, ApplicationId> =
                entries.iter().map(|e| (e.id, e.application_id)).collect();
            let all: Vec<review::normalise::Total> = sheets
                .iter()
                .filter(|s| s.status == crate::store::entity::kinds::ScoreSheetStatus::Submitted)
                .filter_map(|s| {
                    let app = apps.get(&s.entry_id)?;
                    let sheet = review::ScoreSheet {
                        expert_id: s.expert_id.get(),
                        application_id: app.get(),
                        scores: scores_of(s).into_iter().collect(),
                        submitted: true,
                    };
                    Some((s.expert_id.get(), app.get(), review::total(&sheet)))
                })
                .collect();
            Some(review::z_score_totals(&all))
        }
    };
    let mut calcs = Vec::with_capacity(entries.len());
    let mut missing = Vec::new();
    let mut missing_defence = Vec::new();
    for e in entries {
        let cl = clusters.get(&e.cluster_id).ok_or(AppError::NotFound)?;
        let org_name = orgs.get(&cl.org_id).cloned().unwrap_or_default();
        let mine: Vec<_> = active_by_entry.remove(&e.id).unwrap_or_default();
        let domain_sheets: Vec<review::ScoreSheet> = sheets_by_entry
            .remove(&e.id)
            .unwrap_or_default()
            .into_iter()
            .map(|s| review::ScoreSheet {
                expert_id: s.expert_id.get(),
                application_id: e.application_id.get(),
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
            if !totals.iter().any(|(x, _)| *x == a.expert_id.get()) {
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
        let defence: Vec<(i64, f64)> = defences_by_entry
            .remove(&e.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|d| mine.iter().any(|a| a.expert_id == d.expert_id))
            .map(|d| (d.expert_id.get(), d.score))
            .collect();
        if r.defence {
            for a in &mine {
                if !defence.iter().any(|(x, _)| *x == a.expert_id.get()) {
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
        let own_criteria = limits_for(&policy, &e.cluster_kind);
        let score = review::score_application_adjusted(
            e.application_id.get(),
            &domain_sheets,
            &own_criteria,
            held,
            &panel,
            adjusted.as_ref(),
        );
        let used_totals: Vec<(i64, f64)> = totals
            .iter()
            .map(|(expert, total)| {
                let key = (*expert, e.application_id.get());
                (
                    *expert,
                    adjusted
                        .as_ref()
                        .and_then(|a| a.get(&key))
                        .copied()
                        .unwrap_or(*total),
                )
            })
            .collect();
        // Floors are read on the sheets' criterion means, once the entrant has a score.
        let floor_misses = if totals.is_empty() {
            Vec::new()
        } else {
            review::below_floors(
                &score.criterion_means,
                &own_criteria,
                &floors_for(&policy, &e.cluster_kind),
            )
        };
        let outliers = review::outliers(&totals, rule_out);
        calcs.push(EntryCalc {
            cluster_name: cl.name.clone(),
            org_name,
            org_id: cl.org_id,
            totals,
            used_totals,
            floor_misses,
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
    let quotas: BTreeMap<String, u32> = rounds::quotas_of(&r)
        .into_iter()
        .map(|(kind, quota)| {
            let capped = call.cap_quota(&kind, quota);
            (kind, capped)
        })
        .collect();
    let by_app: HashMap<ApplicationId, usize> = calcs
        .iter()
        .enumerate()
        .map(|(i, e)| (e.entry.application_id, i))
        .collect();
    // 第六条: an entrant below a floor keeps its rank but is not among the winners; the places
    // go to the next entrants that reach every floor.
    let contenders: Vec<Ranked> = ranked
        .iter()
        .filter(|r| {
            by_app
                .get(&ApplicationId::new(r.application_id))
                .and_then(|i| calcs.get(*i))
                .is_none_or(|e| e.floor_misses.is_empty())
        })
        .cloned()
        .collect();
    let winners = review::winners(&contenders, &quotas).into_iter().collect();
    let ties = review::ties_at_cutoff(&contenders, &quotas);
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
        not_submitted,
        names,
        sheets,
        by_app,
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
