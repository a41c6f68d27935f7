//! The per-county cap (第十六条, in principle: the policy's `quota.per_county`), counted the two
//! ways the programme needs it: when a city bureau recommends applications (those already
//! recommended or supported in the county, plus the batch) and when the province fixes a
//! round's proposed list (the chosen clusters plus those already designated there). The cap
//! itself and whether exceeding it blocks or only warns come from the policy file, as
//! parameters; "in principle" means a warning that needs a recorded reason, not a silent block.

use std::collections::{BTreeMap, BTreeSet};

use crate::application::{CapCheck, county_cap};
use crate::region;

/// What exceeding the cap does (the policy's `quota.per_county.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapMode {
    /// Refused outright.
    Block,
    /// Allowed with a written reason.
    Warn,
}

/// Which county-level divisions the cap counts (the policy's `quota.per_county.divisions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Divisions {
    /// Every division, 市辖区 included.
    All,
    /// 县（市）: counties, autonomous counties and county-level cities; 市辖区 are not capped.
    CountiesOnly,
}

/// Whether the cap counts clusters of this county-level division. A code that is not a known
/// county is counted (the cap never lapses for want of region data).
pub fn counted(divisions: Divisions, county_code: &str) -> bool {
    match divisions {
        Divisions::All => true,
        Divisions::CountiesOnly => county_code
            .parse()
            .ok()
            .and_then(region::county)
            .is_none_or(|c| c.kind() != region::CountyKind::District),
    }
}

/// Whether a city's recommendation over the cap may go ahead: in block mode never (whatever
/// the justification), in warn mode with a written justification. `principle` is the policy's
/// statement of the cap; the warnings are `recommendation_warnings`.
pub fn check_recommendation(
    mode: CapMode,
    principle: &str,
    warnings: &[String],
    justification: &str,
) -> Result<(), CapRefusal> {
    if warnings.is_empty() {
        return Ok(());
    }
    match mode {
        CapMode::Block => Err(CapRefusal::Blocked(format!(
            "{}：{}",
            principle.trim_end_matches('。'),
            warnings.join("；")
        ))),
        CapMode::Warn if justification.trim().is_empty() => Err(CapRefusal::NeedsReason(
            recommendation_refusal(principle, warnings),
        )),
        CapMode::Warn => Ok(()),
    }
}

/// A county's full name ("长沙市芙蓉区"), or the code itself when it is not a Hunan county.
pub fn county_name(code: &str) -> String {
    code.parse()
        .ok()
        .and_then(region::county)
        .map(|c| c.full_name())
        .unwrap_or_else(|| code.to_string())
}

/// The counties a batch of recommendations touches, each with how many the batch adds, in
/// code order.
pub fn batch_by_county<'a>(codes: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, u32> {
    let mut out = BTreeMap::new();
    for code in codes {
        *out.entry(code).or_insert(0) += 1;
    }
    out
}

/// One county's figures for a recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecommendationCount {
    pub county: String,
    /// Applications of the competition already recommended (or further) in the county, plus
    /// clusters there that are cultivation targets or certified.
    pub existing: u32,
    /// Applications of this batch in the county.
    pub adding: u32,
    /// The policy's cap for the competition.
    pub cap: u32,
}

/// "长沙市芙蓉区将有2个集群（上限1个）" for each county the batch takes over its cap, in the
/// order given.
pub fn recommendation_warnings(counts: &[RecommendationCount]) -> Vec<String> {
    counts
        .iter()
        .filter_map(|c| match county_cap(c.existing, c.adding, c.cap) {
            CapCheck::Exceeded { count, cap } => Some(format!(
                "{}将有{count}个集群（上限{cap}个）",
                county_name(&c.county)
            )),
            CapCheck::Within => None,
        })
        .collect()
}

/// The refusal of a recommendation over the cap without a justification; `principle` is the
/// rule as the page states it.
pub fn recommendation_refusal(principle: &str, warnings: &[String]) -> String {
    format!("{}。{}", warnings.join("；"), principle)
}

/// A cluster chosen for a proposed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chosen<'a> {
    pub county: &'a str,
    pub cluster_id: i64,
}

/// Counties over the cap if the chosen clusters join those already designated there (not
/// revoked), by county code, with the working: "长沙市芙蓉区：本次拟入选1个，已纳入省级支持1个，
/// 合计2个（上限1个）". A cluster counts once, whatever its designations; `designated` holds the
/// designated clusters of each county.
pub fn proposed_list_excess(
    cap: u32,
    chosen: &[Chosen<'_>],
    designated: &BTreeMap<String, BTreeSet<i64>>,
) -> BTreeMap<String, String> {
    let counties: BTreeSet<&str> = chosen.iter().map(|c| c.county).collect();
    let mut out = BTreeMap::new();
    for county in counties {
        let listed: BTreeSet<i64> = chosen
            .iter()
            .filter(|c| c.county == county)
            .map(|c| c.cluster_id)
            .collect();
        let already = designated
            .get(county)
            .map_or(0, |d| d.difference(&listed).count());
        let count = u32::try_from(listed.len() + already).unwrap_or(u32::MAX);
        if count > cap {
            out.insert(
                county.to_string(),
                format!(
                    "{}：本次拟入选{}个，已纳入省级支持{}个，合计{count}个（上限{cap}个）",
                    county_name(county),
                    listed.len(),
                    already
                ),
            );
        }
    }
    out
}

/// Why a proposed list over the cap cannot be fixed as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapRefusal {
    /// The policy blocks exceeding the cap.
    Blocked(String),
    /// The policy allows it with a reason, and none was given (the message is for `reason`).
    NeedsReason(String),
}

/// Whether a proposed list with these over-cap `warnings` may be fixed: `message` is the
/// policy's statement of the cap.
pub fn check_proposed_list(
    mode: CapMode,
    message: &str,
    warnings: &[String],
    reason: &str,
) -> Result<(), CapRefusal> {
    if warnings.is_empty() {
        return Ok(());
    }
    match mode {
        CapMode::Block => Err(CapRefusal::Blocked(format!(
            "{}：{}",
            message,
            warnings.join("；")
        ))),
        CapMode::Warn if reason.is_empty() => Err(CapRefusal::NeedsReason(format!(
            "{}。{}",
            message.trim_end_matches('。'),
            warnings.join("；")
        ))),
        CapMode::Warn => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FURONG: &str = "430102";
    const TIANXIN: &str = "430103";

    #[test]
    fn counties_are_named_in_full() {
        assert_eq!(county_name(FURONG), "长沙市芙蓉区");
        assert_eq!(county_name("999999"), "999999");
    }

    #[test]
    fn a_recommendation_warns_above_the_cap() {
        let batch = batch_by_county([TIANXIN, FURONG, FURONG]);
        assert_eq!(batch, BTreeMap::from([(FURONG, 2), (TIANXIN, 1)]));
        let counts = [
            RecommendationCount {
                county: FURONG.into(),
                existing: 0,
                adding: 2,
                cap: 1,
            },
            RecommendationCount {
                county: TIANXIN.into(),
                existing: 0,
                adding: 1,
                cap: 1,
            },
            RecommendationCount {
                county: "430104".into(),
                existing: 1,
                adding: 1,
                cap: 2,
            },
        ];
        let warnings = recommendation_warnings(&counts);
        assert_eq!(warnings, vec!["长沙市芙蓉区将有2个集群（上限1个）"]);
        assert_eq!(
            recommendation_refusal("（政策原文）", &warnings),
            "长沙市芙蓉区将有2个集群（上限1个）。（政策原文）"
        );
    }

    #[test]
    fn a_proposed_list_counts_each_cluster_once() {
        let chosen = [
            Chosen {
                county: FURONG,
                cluster_id: 1,
            },
            Chosen {
                county: TIANXIN,
                cluster_id: 2,
            },
        ];
        // Cluster 1 is already designated: it is not counted twice.
        let designated = BTreeMap::from([
            (FURONG.to_string(), BTreeSet::from([1])),
            (TIANXIN.to_string(), BTreeSet::from([7])),
        ]);
        let over = proposed_list_excess(1, &chosen, &designated);
        assert_eq!(
            over,
            BTreeMap::from([(
                TIANXIN.to_string(),
                "长沙市天心区：本次拟入选1个，已纳入省级支持1个，合计2个（上限1个）".to_string()
            )])
        );
        assert!(proposed_list_excess(2, &chosen, &designated).is_empty());
    }

    #[test]
    fn the_policy_decides_whether_the_cap_blocks_or_warns() {
        let w = vec!["长沙市天心区：合计2个（上限1个）".to_string()];
        let msg = "（政策原文）";
        assert_eq!(check_proposed_list(CapMode::Block, msg, &[], ""), Ok(()));
        assert_eq!(
            check_proposed_list(CapMode::Block, msg, &w, "理由"),
            Err(CapRefusal::Blocked(
                "（政策原文）：长沙市天心区：合计2个（上限1个）".into()
            ))
        );
        assert_eq!(
            check_proposed_list(CapMode::Warn, msg, &w, ""),
            Err(CapRefusal::NeedsReason(
                "（政策原文）。长沙市天心区：合计2个（上限1个）".into()
            ))
        );
        assert_eq!(
            check_proposed_list(CapMode::Warn, msg, &w, "集群协同"),
            Ok(())
        );
    }

    proptest! {
        /// A county is over the cap exactly when its distinct chosen and designated clusters
        /// are more than the cap.
        #[test]
        fn excess_matches_distinct_clusters(
            chosen in proptest::collection::vec((0usize..3, 0i64..6), 0..8),
            designated in proptest::collection::vec((0usize..3, 0i64..6), 0..8),
            cap in 0u32..4,
        ) {
            let counties = [FURONG, TIANXIN, "430104"];
            let picks: Vec<Chosen> = chosen
                .iter()
                .map(|(c, id)| Chosen { county: counties[*c], cluster_id: *id })
                .collect();
            let mut by_county: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
            for (c, id) in &designated {
                by_county.entry(counties[*c].to_string()).or_default().insert(*id);
            }
            let over = proposed_list_excess(cap, &picks, &by_county);
            for county in counties {
                let mut all: BTreeSet<i64> =
                    picks.iter().filter(|p| p.county == county).map(|p| p.cluster_id).collect();
                let touched = !all.is_empty();
                all.extend(by_county.get(county).into_iter().flatten());
                let expected = touched && all.len() as u32 > cap;
                prop_assert_eq!(over.contains_key(county), expected);
            }
        }
    }

    #[test]
    fn which_divisions_the_cap_counts() {
        // (code, kind) — 芙蓉区 and 天心区 are districts; 长沙县 a county; 浏阳市 a county-level
        // city; 城步苗族自治县 an autonomous county; 999999 is no county.
        for (code, all, counties_only) in [
            (FURONG, true, false),
            (TIANXIN, true, false),
            ("430121", true, true),
            ("430181", true, true),
            ("430529", true, true),
            ("999999", true, true),
        ] {
            assert_eq!(counted(Divisions::All, code), all, "{code}");
            assert_eq!(
                counted(Divisions::CountiesOnly, code),
                counties_only,
                "{code}"
            );
        }
    }

    #[test]
    fn a_recommendation_over_the_cap_is_blocked_or_needs_a_reason_as_the_policy_says() {
        let warnings = vec!["长沙市长沙县将有2个集群（上限1个）".to_string()];
        let principle = "每个县（市）原则上不超过1个。";
        for (mode, reason, expected) in [
            (CapMode::Warn, "", Some(false)),
            (CapMode::Warn, "  ", Some(false)),
            (CapMode::Warn, "两个集群产业链互补", None),
            (CapMode::Block, "", Some(true)),
            (CapMode::Block, "两个集群产业链互补", Some(true)),
        ] {
            let got = check_recommendation(mode, principle, &warnings, reason);
            match (expected, got) {
                (None, Ok(())) => {}
                (Some(true), Err(CapRefusal::Blocked(m))) => {
                    assert!(m.contains("长沙县将有2个集群"), "{m}");
                }
                (Some(false), Err(CapRefusal::NeedsReason(m))) => {
                    assert!(m.contains("原则上不超过1个"), "{m}");
                }
                (e, g) => panic!("{mode:?} {reason:?}: expected {e:?}, got {g:?}"),
            }
        }
        for mode in [CapMode::Warn, CapMode::Block] {
            assert_eq!(check_recommendation(mode, principle, &[], ""), Ok(()));
        }
    }
}
