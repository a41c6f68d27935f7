//! Ranking within each cluster kind (优势产业集群 / 特色产业集群 are ranked separately) and
//! the winners under the round's quota.
//!
//! Order within a kind, stated once:
//! 1. final score, higher first;
//! 2. each tie-breaker in turn, higher first (by default the written score, then the
//!    criterion means in policy order: [`ApplicationScore::tie_breakers`]); a missing
//!    tie-breaker ranks below any present one;
//! 3. application id, lower first — only to list fully equal entries in a fixed order.
//!
//! Entries equal on 1 and 2 share a rank (1, 2, 2, 4). Scores are compared to six decimal
//! places, so floating-point noise (about 1e-13 from means and weights) cannot separate
//! scores that are equal, while any real difference between scores built from
//! one-decimal sheets is far larger than 1e-6.
//!
//! [`ApplicationScore::tie_breakers`]: crate::review::scoring::ApplicationScore::tie_breakers

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::review::scoring::ApplicationScore;

/// One application to rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankInput {
    pub application_id: i64,
    /// The cluster kind key from the policy (e.g. "leading", "specialty").
    pub kind: String,
    pub final_score: f64,
    /// Higher first, compared in order after the final score.
    pub tie_breakers: Vec<f64>,
}

impl RankInput {
    /// The input for a scored application, with its default tie-breakers.
    pub fn from_score(score: &ApplicationScore, kind: &str) -> RankInput {
        RankInput {
            application_id: score.application_id,
            kind: kind.to_owned(),
            final_score: score.final_score,
            tie_breakers: score.tie_breakers(),
        }
    }
}

/// One application's place within its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub application_id: i64,
    pub kind: String,
    /// 1-based within the kind; shared only by fully equal entries.
    pub rank: u32,
    pub final_score: f64,
}

/// A score as an integer in millionths, so equality is exact and ordering transitive.
/// NaN ranks below everything; infinities saturate.
fn quantise(score: f64) -> i64 {
    if score.is_nan() {
        i64::MIN
    } else {
        // `as` saturates, which is the intended behaviour for ±∞.
        (score * 1e6).round() as i64
    }
}

/// The comparison key (final score, tie-breakers), quantised: larger is better.
type Merit = (i64, Vec<i64>);

fn merit(entry: &RankInput) -> Merit {
    (
        quantise(entry.final_score),
        entry.tie_breakers.iter().map(|&t| quantise(t)).collect(),
    )
}

/// Ranks the entries within each kind. The result is ordered by kind key, then rank, then
/// application id, and does not depend on the order of `entries`.
pub fn rank(entries: Vec<RankInput>) -> Vec<Ranked> {
    let mut by_kind: BTreeMap<String, Vec<(Merit, RankInput)>> = BTreeMap::new();
    for entry in entries {
        by_kind
            .entry(entry.kind.clone())
            .or_default()
            .push((merit(&entry), entry));
    }
    let mut ranked = Vec::new();
    for (_, mut group) in by_kind {
        group.sort_by(|(ma, a), (mb, b)| {
            mb.cmp(ma)
                .then(a.application_id.cmp(&b.application_id))
                .then(b.final_score.total_cmp(&a.final_score))
        });
        let mut rank = 0u32;
        let mut previous: Option<&Merit> = None;
        for (position, (m, entry)) in group.iter().enumerate() {
            if previous != Some(m) {
                rank = u32::try_from(position + 1).unwrap_or(u32::MAX);
            }
            previous = Some(m);
            ranked.push(Ranked {
                application_id: entry.application_id,
                kind: entry.kind.clone(),
                rank,
                final_score: entry.final_score,
            });
        }
    }
    ranked
}

/// Each kind's entries from [`rank`], in rank order (rank, then application id).
fn by_kind(ranked: &[Ranked]) -> BTreeMap<&str, Vec<&Ranked>> {
    let mut kinds: BTreeMap<&str, Vec<&Ranked>> = BTreeMap::new();
    for r in ranked {
        kinds.entry(r.kind.as_str()).or_default().push(r);
    }
    for group in kinds.values_mut() {
        group.sort_by_key(|r| (r.rank, r.application_id));
    }
    kinds
}

/// The first `quota` applications of each kind (kinds without a quota get none), by kind
/// then rank. When a shared rank straddles the quota, the lower application ids fill the
/// remaining places as the last deterministic resort; [`ties_at_cutoff`] reports such
/// cases so the province can decide and record why.
pub fn winners(ranked: &[Ranked], quota_per_kind: &BTreeMap<String, u32>) -> Vec<i64> {
    let mut ids = Vec::new();
    for (kind, group) in by_kind(ranked) {
        let quota = quota_per_kind.get(kind).copied().unwrap_or(0) as usize;
        ids.extend(group.iter().take(quota).map(|r| r.application_id));
    }
    ids
}

/// Fully equal entries that the quota splits: some win, some do not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutoffTie {
    pub kind: String,
    pub rank: u32,
    /// Every application sharing the rank, by id.
    pub application_ids: Vec<i64>,
    /// How many of them the quota admits.
    pub places: u32,
}

impl CutoffTie {
    /// A Chinese note for the list screen.
    pub fn message(&self) -> String {
        format!(
            "第{}名有{}个申报得分及各项排序依据完全相同，但剩余名额仅{}个，需研究确定",
            self.rank,
            self.application_ids.len(),
            self.places
        )
    }
}

/// The ties [`winners`] had to split by application id, by kind.
pub fn ties_at_cutoff(ranked: &[Ranked], quota_per_kind: &BTreeMap<String, u32>) -> Vec<CutoffTie> {
    let mut ties = Vec::new();
    for (kind, group) in by_kind(ranked) {
        let quota = quota_per_kind.get(kind).copied().unwrap_or(0) as usize;
        let (Some(last_in), Some(first_out)) = (
            quota.checked_sub(1).and_then(|i| group.get(i)),
            group.get(quota),
        ) else {
            continue;
        };
        if last_in.rank != first_out.rank {
            continue;
        }
        let tied: Vec<&&Ranked> = group.iter().filter(|r| r.rank == last_in.rank).collect();
        let places = tied
            .iter()
            .filter(|r| {
                group
                    .iter()
                    .take(quota)
                    .any(|w| w.application_id == r.application_id)
            })
            .count();
        ties.push(CutoffTie {
            kind: kind.to_owned(),
            rank: last_in.rank,
            application_ids: tied.iter().map(|r| r.application_id).collect(),
            places: u32::try_from(places).unwrap_or(u32::MAX),
        });
    }
    ties
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(id: i64, kind: &str, score: f64, ties: &[f64]) -> RankInput {
        RankInput {
            application_id: id,
            kind: kind.to_owned(),
            final_score: score,
            tie_breakers: ties.to_vec(),
        }
    }

    fn places(ranked: &[Ranked]) -> Vec<(i64, &str, u32)> {
        ranked
            .iter()
            .map(|r| (r.application_id, r.kind.as_str(), r.rank))
            .collect()
    }

    #[test]
    fn kinds_are_ranked_separately_with_the_stated_tie_breakers() {
        let ranked = rank(vec![
            input(1, "leading", 85.0, &[85.0, 18.0]),
            input(2, "leading", 90.0, &[90.0, 10.0]),
            input(3, "leading", 85.0, &[85.0, 19.0]),
            input(4, "specialty", 70.0, &[70.0]),
            input(5, "leading", 85.0, &[85.0, 18.0]),
            input(6, "specialty", 88.0, &[88.0]),
            input(7, "leading", 80.0, &[80.0]),
            input(8, "leading", 85.0, &[85.0]), // missing tie-breaker ranks lower
        ]);
        assert_eq!(
            places(&ranked),
            vec![
                (2, "leading", 1),
                (3, "leading", 2),
                (1, "leading", 3),
                (5, "leading", 3),
                (8, "leading", 5),
                (7, "leading", 6),
                (6, "specialty", 1),
                (4, "specialty", 2),
            ]
        );
    }

    #[test]
    fn floating_point_noise_does_not_separate_equal_scores() {
        let noisy = 80.0 * 0.6 + 90.0 * 0.4; // 84.00000000000001 or so
        let ranked = rank(vec![
            input(2, "k", noisy, &[]),
            input(1, "k", 84.0, &[]),
            input(3, "k", 84.000_01, &[]),
            input(4, "k", f64::NAN, &[]),
        ]);
        assert_eq!(
            places(&ranked),
            vec![(3, "k", 1), (1, "k", 2), (2, "k", 2), (4, "k", 4)]
        );
    }

    #[test]
    fn winners_follow_the_quota_and_split_ties_are_reported() {
        let ranked = rank(vec![
            input(1, "leading", 90.0, &[]),
            input(2, "leading", 85.0, &[]),
            input(3, "leading", 85.0, &[]),
            input(4, "leading", 80.0, &[]),
            input(5, "specialty", 70.0, &[]),
            input(6, "specialty", 75.0, &[]),
            input(7, "other", 99.0, &[]),
        ]);
        let quota: BTreeMap<String, u32> =
            [("leading".to_owned(), 2), ("specialty".to_owned(), 5)].into();
        assert_eq!(winners(&ranked, &quota), vec![1, 2, 6, 5]);
        let ties = ties_at_cutoff(&ranked, &quota);
        assert_eq!(
            ties,
            vec![CutoffTie {
                kind: "leading".into(),
                rank: 2,
                application_ids: vec![2, 3],
                places: 1,
            }]
        );
        assert_eq!(
            ties[0].message(),
            "第2名有2个申报得分及各项排序依据完全相同，但剩余名额仅1个，需研究确定"
        );
        let three: BTreeMap<String, u32> = [("leading".to_owned(), 3)].into();
        assert_eq!(winners(&ranked, &three), vec![1, 2, 3]);
        assert!(ties_at_cutoff(&ranked, &three).is_empty());
        let none: BTreeMap<String, u32> = [("leading".to_owned(), 0)].into();
        assert!(winners(&ranked, &none).is_empty());
        assert!(ties_at_cutoff(&ranked, &none).is_empty());
    }
}
