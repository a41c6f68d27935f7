//! Property tests of the review rules: the guarantees stated on `assign`, `aggregate`,
//! `combine`, `outliers` and `rank`, checked on generated rounds.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;

use super::assignment::{Assignment, Entrant, Expert, Org, assign, conflicts};
use super::normalise::{Total, z_score_totals, z_scores};
use super::ranking::{RankInput, Ranked, rank, ties_at_cutoff, winners};
use super::scoring::{
    CriterionLimit, OutlierRule, PanelRule, ScoreSheet, aggregate, combine, outliers,
    score_application, score_application_adjusted, total, validate_sheet,
};
use crate::region::RegionCode;

/// A deterministic Fisher–Yates shuffle (splitmix64), so a failing case reproduces.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let j = (z % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

const ORGS: [&str; 5] = ["甲公司", "乙公司", "丙园区", "丁促进会", "戊公司"];
/// Two codes in 长沙 (a city and one of its districts), 株洲, 湘潭.
const EXPERT_CITIES: [u32; 4] = [430_100, 430_102, 430_200, 430_300];
/// Lead counties in 长沙, 株洲, 湘潭.
const LEAD_COUNTIES: [u32; 3] = [430_121, 430_211, 430_302];

fn region(code: u32) -> RegionCode {
    RegionCode::new(code).unwrap()
}

/// Distinct application ids with gaps, so index and id differ.
fn app_id(index: usize) -> i64 {
    index as i64 * 3 + 101
}

fn expert_id(index: usize) -> i64 {
    index as i64 * 7 + 5
}

fn entrants(max: usize) -> impl Strategy<Value = Vec<Entrant>> {
    prop::collection::vec(
        (
            0..LEAD_COUNTIES.len(),
            0..ORGS.len(),
            prop::collection::vec(0..ORGS.len(), 0..3),
            prop::option::of(0..ORGS.len()),
        ),
        0..=max,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (county, applicant, members, park))| Entrant {
                application_id: app_id(i),
                lead_county: region(LEAD_COUNTIES[county]),
                applicant: Org::named(ORGS[applicant]),
                members: members.into_iter().map(|m| Org::named(ORGS[m])).collect(),
                core_park: park.map(|p| Org::named(ORGS[p])),
                counties: Vec::new(),
                co_applicants: Vec::new(),
            })
            .collect()
    })
}

fn experts(max: usize, apps: usize) -> impl Strategy<Value = Vec<Expert>> {
    prop::collection::vec(
        (
            0..EXPERT_CITIES.len(),
            prop::collection::vec(0..ORGS.len(), 0..2),
            prop::collection::vec(0..apps.max(1), 0..2),
        ),
        0..=max,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (city, affiliations, declared))| Expert {
                id: expert_id(i),
                city: region(EXPERT_CITIES[city]),
                affiliations: affiliations.into_iter().map(|a| ORGS[a].into()).collect(),
                declared_conflicts: declared.into_iter().map(app_id).collect(),
            })
            .collect()
    })
}

/// A round: entrants, pool, k, existing pairs (some naming unknown ids), a shuffle seed.
type Round = (Vec<Entrant>, Vec<Expert>, u32, Vec<(i64, i64)>, u64);

fn round(max_apps: usize, max_experts: usize, max_k: u32) -> impl Strategy<Value = Round> {
    entrants(max_apps).prop_flat_map(move |apps| {
        let n = apps.len();
        (
            Just(apps),
            experts(max_experts, n),
            0..=max_k,
            prop::collection::vec((0..n + 1, 0..max_experts + 1), 0..4).prop_map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(a, e)| (app_id(a), expert_id(e)))
                    .collect()
            }),
            any::<u64>(),
        )
    })
}

fn free_of_conflict(expert: &Expert, entrant: &Entrant) -> bool {
    conflicts(expert, entrant).is_empty()
}

/// Loads of every expert in the pool (zero included), by expert index.
fn loads(result: &Assignment, pool: &[Expert]) -> Vec<u32> {
    let counted = result.loads();
    pool.iter()
        .map(|e| counted.get(&e.id).copied().unwrap_or(0))
        .collect()
}

fn kept_pairs(apps: &[Entrant], pool: &[Expert], existing: &[(i64, i64)]) -> BTreeSet<(i64, i64)> {
    existing
        .iter()
        .copied()
        .filter(|(a, e)| {
            apps.iter().any(|x| x.application_id == *a) && pool.iter().any(|x| x.id == *e)
        })
        .collect()
}

/// The number of experts each application should end with under guarantee 2.
fn expected_count(app: &Entrant, pool: &[Expert], kept: &BTreeSet<(i64, i64)>, k: u32) -> u32 {
    let kept_here = pool
        .iter()
        .filter(|e| kept.contains(&(app.application_id, e.id)))
        .count() as u32;
    let available = pool
        .iter()
        .filter(|e| kept.contains(&(app.application_id, e.id)) || free_of_conflict(e, app))
        .count() as u32;
    kept_here.max(k.min(available))
}

/// An independent check of decreasing minimality: no chain of exchanges (via new pairs
/// only) leads from an expert to one whose load is two or more lower.
fn improving_path(
    apps: &[Entrant],
    pool: &[Expert],
    result: &Assignment,
    kept: &BTreeSet<(i64, i64)>,
) -> Option<(i64, i64)> {
    let load = loads(result, pool);
    let assigned: BTreeSet<(i64, i64)> = result.pairs.iter().copied().collect();
    for (s, source) in pool.iter().enumerate() {
        let mut seen = vec![false; pool.len()];
        seen[s] = true;
        let mut queue = VecDeque::from([s]);
        while let Some(x) = queue.pop_front() {
            for app in apps {
                let pair = (app.application_id, pool[x].id);
                if !assigned.contains(&pair) || kept.contains(&pair) {
                    continue;
                }
                for (b, taker) in pool.iter().enumerate() {
                    if seen[b]
                        || assigned.contains(&(app.application_id, taker.id))
                        || !free_of_conflict(taker, app)
                    {
                        continue;
                    }
                    if load[b] + 2 <= load[s] {
                        return Some((source.id, taker.id));
                    }
                    seen[b] = true;
                    queue.push_back(b);
                }
            }
        }
    }
    None
}

/// All ways to choose `size` items from `items`.
fn combinations(items: &[usize], size: usize) -> Vec<Vec<usize>> {
    if size == 0 {
        return vec![vec![]];
    }
    let mut all = Vec::new();
    for (i, &first) in items.iter().enumerate() {
        for mut rest in combinations(&items[i + 1..], size - 1) {
            rest.insert(0, first);
            all.push(rest);
        }
    }
    all
}

/// The lexicographically smallest descending load vector over every valid assignment.
fn brute_force_best(
    apps: &[Entrant],
    pool: &[Expert],
    kept: &BTreeSet<(i64, i64)>,
    k: u32,
) -> Vec<u32> {
    let mut base = vec![0u32; pool.len()];
    let mut choices: Vec<Vec<Vec<usize>>> = Vec::new();
    for app in apps {
        let mut kept_here = 0;
        let mut free = Vec::new();
        for (e, expert) in pool.iter().enumerate() {
            if kept.contains(&(app.application_id, expert.id)) {
                base[e] += 1;
                kept_here += 1;
            } else if free_of_conflict(expert, app) {
                free.push(e);
            }
        }
        let need = (k as usize).saturating_sub(kept_here).min(free.len());
        choices.push(combinations(&free, need));
    }
    let mut best: Option<Vec<u32>> = None;
    let mut pick = vec![0usize; choices.len()];
    loop {
        let mut load = base.clone();
        for (a, &c) in pick.iter().enumerate() {
            for &e in &choices[a][c] {
                load[e] += 1;
            }
        }
        load.sort_unstable_by(|x, y| y.cmp(x));
        if best.as_ref().is_none_or(|b| load < *b) {
            best = Some(load);
        }
        // Next combination of choices (odometer).
        let mut i = 0;
        loop {
            if i == pick.len() {
                return best.unwrap_or_default();
            }
            pick[i] += 1;
            if pick[i] < choices[i].len() {
                break;
            }
            pick[i] = 0;
            i += 1;
        }
    }
}

fn sheet_criteria() -> Vec<CriterionLimit> {
    [("a", 20), ("b", 30), ("c", 50)]
        .into_iter()
        .map(|(key, max)| CriterionLimit {
            key: key.into(),
            name: key.into(),
            max_score: max,
        })
        .collect()
}

/// A score in tenths within `max`.
fn tenths(max: u32) -> impl Strategy<Value = f64> {
    (0..=max * 10).prop_map(|t| f64::from(t) / 10.0)
}

fn sheets(apps: usize, experts: usize) -> impl Strategy<Value = Vec<ScoreSheet>> {
    prop::collection::vec(
        (
            0..apps,
            0..experts,
            tenths(20),
            tenths(30),
            tenths(50),
            prop::bool::weighted(0.9),
        ),
        0..40,
    )
    .prop_map(|rows| {
        let mut seen = BTreeSet::new();
        rows.into_iter()
            // One sheet per (application, expert), as the store enforces.
            .filter(|(a, e, ..)| seen.insert((*a, *e)))
            .map(|(a, e, x, y, z, submitted)| ScoreSheet {
                expert_id: expert_id(e),
                application_id: app_id(a),
                scores: vec![("a".into(), x), ("b".into(), y), ("c".into(), z)],
                submitted,
            })
            .collect()
    })
}

fn rank_inputs() -> impl Strategy<Value = Vec<RankInput>> {
    // Few distinct values, so ties on scores and tie-breakers are common.
    prop::collection::vec(
        (
            0..3usize,
            prop::sample::select(vec![70.0, 80.0, 80.0, 85.5, f64::NAN]),
            prop::collection::vec(prop::sample::select(vec![1.0, 2.0]), 0..3),
        ),
        0..25,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (kind, score, ties))| RankInput {
                application_id: app_id(i),
                kind: ["leading", "specialty", "other"][kind].into(),
                final_score: score,
                tie_breakers: ties,
            })
            .collect()
    })
}

fn same_ranking(a: &[Ranked], b: &[Ranked]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.application_id == y.application_id
                && x.kind == y.kind
                && x.rank == y.rank
                && x.final_score.to_bits() == y.final_score.to_bits()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_conflicted_pair_is_ever_added(
        (apps, pool, k, existing, _) in round(8, 12, 5),
    ) {
        let result = assign(&apps, &pool, k, &existing);
        let kept = kept_pairs(&apps, &pool, &existing);
        for &(a, e) in &result.pairs {
            if kept.contains(&(a, e)) {
                continue;
            }
            let app = apps.iter().find(|x| x.application_id == a).unwrap();
            let expert = pool.iter().find(|x| x.id == e).unwrap();
            prop_assert!(free_of_conflict(expert, app), "({}, {}) conflicts", a, e);
        }
        // Sorted, no duplicates.
        prop_assert!(result.pairs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn conflicts_agree_with_a_naive_reading_of_the_rules(
        (apps, pool, ..) in round(6, 8, 0),
    ) {
        for app in &apps {
            for expert in &pool {
                let named = |org: &Org| expert.affiliations.contains(&org.name);
                let mut expected = Vec::new();
                if expert.city.get() / 100 == app.lead_county.get() / 100 {
                    expected.push("same_city");
                }
                if named(&app.applicant) {
                    expected.push("applicant");
                }
                if app.members.iter().any(named) {
                    expected.push("member_enterprise");
                }
                if app.core_park.as_ref().is_some_and(named) {
                    expected.push("core_park");
                }
                if expert.declared_conflicts.contains(&app.application_id) {
                    expected.push("declared");
                }
                let mut found: Vec<&str> = conflicts(expert, app).iter().map(|c| c.key()).collect();
                found.dedup();
                prop_assert_eq!(found, expected);
            }
        }
    }

    #[test]
    fn every_application_gets_k_or_a_shortfall_with_the_reason(
        (apps, pool, k, existing, _) in round(8, 12, 6),
    ) {
        let result = assign(&apps, &pool, k, &existing);
        let kept = kept_pairs(&apps, &pool, &existing);
        let shortfalls: BTreeMap<i64, _> =
            result.shortfalls.iter().map(|s| (s.application_id, s)).collect();
        for app in &apps {
            let count = result.experts_of(app.application_id).len() as u32;
            prop_assert_eq!(count, expected_count(app, &pool, &kept, k));
            match shortfalls.get(&app.application_id) {
                Some(s) => {
                    prop_assert!(count < k);
                    prop_assert_eq!(s.assigned, count);
                    prop_assert_eq!(s.needed, k);
                    let available = format!("仅{count}名可分配");
                    prop_assert!(
                        s.reason.contains(&available) || pool.is_empty(),
                        "{}", s.reason
                    );
                }
                None => prop_assert!(count >= k),
            }
        }
        prop_assert_eq!(shortfalls.len(), result.shortfalls.len());
        // Kept pairs stay; the rest of `existing` is reported as ignored.
        for pair in &existing {
            prop_assert!(kept.contains(pair) != result.ignored.contains(pair));
            if kept.contains(pair) {
                prop_assert!(result.pairs.contains(pair));
            }
        }
    }

    #[test]
    fn no_exchange_chain_can_improve_the_loads(
        (apps, pool, k, existing, _) in round(8, 12, 5),
    ) {
        let result = assign(&apps, &pool, k, &existing);
        let kept = kept_pairs(&apps, &pool, &existing);
        prop_assert_eq!(improving_path(&apps, &pool, &result, &kept), None);
    }

    #[test]
    fn loads_match_the_brute_force_optimum(
        (apps, pool, k, existing, _) in round(4, 5, 3),
    ) {
        let result = assign(&apps, &pool, k, &existing);
        let kept = kept_pairs(&apps, &pool, &existing);
        let mut ours = loads(&result, &pool);
        ours.sort_unstable_by(|x, y| y.cmp(x));
        prop_assert_eq!(ours, brute_force_best(&apps, &pool, &kept, k));
    }

    #[test]
    fn without_conflicts_loads_differ_by_at_most_one(
        apps in 0usize..40,
        experts in 1usize..15,
        k in 0u32..16,
    ) {
        let entrants: Vec<Entrant> = (0..apps)
            .map(|i| Entrant {
                application_id: app_id(i),
                lead_county: region(430_121),
                applicant: Org::named("促进会"),
                members: vec![],
                core_park: None,
                counties: Vec::new(),
                co_applicants: Vec::new(),
            })
            .collect();
        let pool: Vec<Expert> = (0..experts)
            .map(|i| Expert {
                id: expert_id(i),
                city: region(430_200),
                affiliations: vec!["别家单位".into()],
                declared_conflicts: vec![],
            })
            .collect();
        let result = assign(&entrants, &pool, k, &[]);
        let load = loads(&result, &pool);
        let (min, max) = (load.iter().min().unwrap(), load.iter().max().unwrap());
        prop_assert!(max - min <= 1, "loads {:?}", load);
        prop_assert_eq!(result.pairs.len(), apps * (k as usize).min(experts));
    }

    #[test]
    fn the_order_of_the_inputs_does_not_matter(
        (apps, pool, k, existing, seed) in round(8, 12, 5),
    ) {
        let expected = assign(&apps, &pool, k, &existing);
        let (mut apps2, mut pool2, mut existing2) = (apps.clone(), pool.clone(), existing.clone());
        shuffle(&mut apps2, seed);
        shuffle(&mut pool2, seed.rotate_left(17));
        shuffle(&mut existing2, seed.rotate_left(31));
        prop_assert_eq!(assign(&apps2, &pool2, k, &existing2), expected);
    }

    #[test]
    fn aggregation_drops_one_lowest_and_one_highest_from_the_threshold(
        totals in prop::collection::vec(tenths(100), 0..10),
        threshold in prop::option::of(0u32..8),
        seed in any::<u64>(),
    ) {
        let result = aggregate(&totals, threshold);
        let mut sorted = totals.clone();
        sorted.sort_by(f64::total_cmp);
        let drops = threshold.is_some_and(|t| totals.len() as u32 >= t.max(3));
        if drops {
            let n = sorted.len();
            prop_assert_eq!(&result.dropped, &vec![sorted[0], sorted[n - 1]]);
            prop_assert_eq!(&result.used, &sorted[1..n - 1].to_vec());
        } else {
            prop_assert!(result.dropped.is_empty());
            prop_assert_eq!(&result.used, &sorted);
        }
        if let (Some(lo), Some(hi)) = (result.used.first(), result.used.last()) {
            prop_assert!(*lo - 1e-9 <= result.mean && result.mean <= *hi + 1e-9);
        }
        let mut shuffled = totals.clone();
        shuffle(&mut shuffled, seed);
        let again = aggregate(&shuffled, threshold);
        prop_assert_eq!(again.mean.to_bits(), result.mean.to_bits());
        prop_assert_eq!(again.used, result.used);
    }

    #[test]
    fn the_defence_weight_interpolates(
        written in tenths(100),
        defence in tenths(100),
        share in 0.0f64..=1.0,
    ) {
        let c = combine(written, Some(defence), share);
        prop_assert!((c - (written + share * (defence - written))).abs() < 1e-9);
        prop_assert!(c >= written.min(defence) - 1e-9 && c <= written.max(defence) + 1e-9);
        prop_assert_eq!(combine(written, Some(defence), 0.0), written);
        prop_assert_eq!(combine(written, Some(defence), 1.0), defence);
        prop_assert_eq!(combine(written, None, share), written);
    }

    #[test]
    fn valid_sheets_pass_and_totals_ignore_criterion_order(
        a in tenths(20), b in tenths(30), c in tenths(50), seed in any::<u64>(),
    ) {
        let mut sheet = ScoreSheet {
            expert_id: 1,
            application_id: 1,
            scores: vec![("a".into(), a), ("b".into(), b), ("c".into(), c)],
            submitted: true,
        };
        prop_assert_eq!(validate_sheet(&sheet, &sheet_criteria()), Ok(()));
        let before = total(&sheet);
        prop_assert!((before - (a + b + c)).abs() < 1e-9);
        shuffle(&mut sheet.scores, seed);
        prop_assert_eq!(total(&sheet).to_bits(), before.to_bits());
        sheet.scores[0].1 += 60.0;
        prop_assert!(validate_sheet(&sheet, &sheet_criteria()).is_err());
    }

    #[test]
    fn outlier_flags_ignore_the_order_of_the_panel(
        totals in prop::collection::vec(tenths(100), 0..9),
        gap in 0.0f64..40.0,
        deviations in 0.5f64..3.0,
        seed in any::<u64>(),
    ) {
        let panel: Vec<(i64, f64)> =
            totals.iter().enumerate().map(|(i, t)| (expert_id(i), *t)).collect();
        let mut shuffled = panel.clone();
        shuffle(&mut shuffled, seed);
        for rule in [OutlierRule::GapFromOthers(gap), OutlierRule::StdDevs(deviations)] {
            let flagged = outliers(&panel, rule);
            prop_assert_eq!(&outliers(&shuffled, rule), &flagged);
            if let OutlierRule::GapFromOthers(g) = rule {
                // Naive re-computation of the rule.
                let n = totals.len();
                let expected: Vec<i64> = (0..n)
                    .filter(|&i| {
                        n >= 2 && {
                            let others: f64 = (0..n).filter(|&j| j != i).map(|j| totals[j]).sum::<f64>()
                                / (n - 1) as f64;
                            (totals[i] - others).abs() > g + 1e-9
                        }
                    })
                    .map(expert_id)
                    .collect();
                let got: Vec<i64> = flagged.iter().map(|o| o.expert_id).collect();
                prop_assume!(totals.iter().all(|t| {
                    // Skip cases within rounding distance of the threshold.
                    let n = totals.len() as f64;
                    let s: f64 = totals.iter().sum();
                    n < 2.0 || ((t - (s - t) / (n - 1.0)).abs() - g).abs() > 1e-6
                }));
                prop_assert_eq!(got, expected);
            }
        }
    }

    #[test]
    fn the_ranking_ignores_the_order_of_entries(
        entries in rank_inputs(),
        seed in any::<u64>(),
    ) {
        let ranked = rank(entries.clone());
        let mut shuffled = entries.clone();
        shuffle(&mut shuffled, seed);
        prop_assert!(same_ranking(&rank(shuffled), &ranked));
        // Rank = 1 + the number of strictly better entries of the same kind.
        let key = |e: &RankInput| {
            let q = |x: f64| if x.is_nan() { i64::MIN } else { (x * 1e6).round() as i64 };
            (q(e.final_score), e.tie_breakers.iter().map(|&t| q(t)).collect::<Vec<_>>())
        };
        for r in &ranked {
            let me = entries.iter().find(|e| e.application_id == r.application_id).unwrap();
            let better = entries
                .iter()
                .filter(|e| e.kind == me.kind && key(e) > key(me))
                .count() as u32;
            prop_assert_eq!(r.rank, better + 1);
        }
    }

    #[test]
    fn winners_take_the_best_ranks_up_to_the_quota(
        entries in rank_inputs(),
        quotas in prop::collection::vec(0u32..6, 3),
    ) {
        let ranked = rank(entries);
        let quota: BTreeMap<String, u32> = ["leading", "specialty", "other"]
            .iter()
            .zip(&quotas)
            .map(|(k, q)| ((*k).to_owned(), *q))
            .collect();
        let chosen: BTreeSet<i64> = winners(&ranked, &quota).into_iter().collect();
        let ties = ties_at_cutoff(&ranked, &quota);
        for (kind, q) in &quota {
            let group: Vec<&Ranked> = ranked.iter().filter(|r| &r.kind == kind).collect();
            let won: Vec<&&Ranked> =
                group.iter().filter(|r| chosen.contains(&r.application_id)).collect();
            prop_assert_eq!(won.len(), group.len().min(*q as usize));
            let worst_in = won.iter().map(|r| r.rank).max();
            let best_out = group
                .iter()
                .filter(|r| !chosen.contains(&r.application_id))
                .map(|r| r.rank)
                .min();
            if let (Some(w), Some(b)) = (worst_in, best_out) {
                prop_assert!(w <= b);
                // A shared rank split by the quota is reported.
                prop_assert_eq!(w == b, ties.iter().any(|t| &t.kind == kind && t.rank == w));
            }
        }
    }

    #[test]
    fn the_ranking_ignores_the_order_of_score_sheets(
        all_sheets in sheets(6, 7),
        defence in prop::collection::vec(prop::collection::vec(tenths(100), 0..6), 6),
        trim in prop::option::of(3u32..6),
        share in prop::sample::select(vec![0.0, 0.3, 0.4]),
        seed in any::<u64>(),
    ) {
        let rule = PanelRule { drop_extremes_when_at_least: trim, defence_share: share };
        let criteria = sheet_criteria();
        let run = |sheets: &[ScoreSheet], defence: &[Vec<f64>]| {
            let inputs: Vec<RankInput> = (0..6)
                .map(|i| {
                    let held = (share > 0.0).then_some(defence[i].as_slice());
                    let score = score_application(app_id(i), sheets, &criteria, held, &rule);
                    RankInput::from_score(&score, if i % 2 == 0 { "leading" } else { "specialty" })
                })
                .collect();
            rank(inputs)
        };
        let expected = run(&all_sheets, &defence);
        let mut shuffled_sheets = all_sheets.clone();
        shuffle(&mut shuffled_sheets, seed);
        let mut shuffled_defence = defence.clone();
        for (i, scores) in shuffled_defence.iter_mut().enumerate() {
            shuffle(scores, seed ^ i as u64);
        }
        prop_assert!(same_ranking(&run(&shuffled_sheets, &shuffled_defence), &expected));
    }

    #[test]
    fn without_normalisation_scores_are_todays(
        all_sheets in sheets(6, 7),
        trim in prop::option::of(3u32..6),
    ) {
        let rule = PanelRule { drop_extremes_when_at_least: trim, defence_share: 0.0 };
        let criteria = sheet_criteria();
        // The raw totals as the "adjusted" ones: the same score as no adjustment at all.
        let raw: BTreeMap<(i64, i64), f64> = all_sheets
            .iter()
            .map(|s| ((s.expert_id, s.application_id), total(s)))
            .collect();
        for i in 0..6 {
            let today = score_application(app_id(i), &all_sheets, &criteria, None, &rule);
            let none = score_application_adjusted(app_id(i), &all_sheets, &criteria, None, &rule, None);
            let same = score_application_adjusted(app_id(i), &all_sheets, &criteria, None, &rule, Some(&raw));
            prop_assert_eq!(&none, &today);
            prop_assert_eq!(&same, &today);
        }
    }

    #[test]
    fn z_scores_ignore_a_constant_an_expert_adds_to_all_their_totals(
        all_sheets in sheets(6, 5),
        expert in 0..5usize,
        shift in prop::sample::select(vec![-30.0, -5.5, 0.1, 7.0, 25.0]),
        seed in any::<u64>(),
    ) {
        let totals: Vec<Total> = all_sheets
            .iter()
            .map(|s| (s.expert_id, s.application_id, total(s)))
            .collect();
        let mut shifted: Vec<Total> = totals
            .iter()
            .map(|&(e, a, t)| (e, a, if e == expert_id(expert) { t + shift } else { t }))
            .collect();
        shuffle(&mut shifted, seed);
        let (before, after) = (z_scores(&totals), z_scores(&shifted));
        prop_assert_eq!(before.len(), after.len());
        for (key, z) in &before {
            prop_assert!((z - after[key]).abs() < 1e-6, "{key:?}: {z} vs {}", after[key]);
        }
        // The normalised totals keep their order: every clear difference keeps its sign.
        let (n1, n2) = (z_score_totals(&totals), z_score_totals(&shifted));
        let keys: Vec<&(i64, i64)> = n1.keys().collect();
        for x in &keys {
            for y in &keys {
                let (d1, d2) = (n1[*x] - n1[*y], n2[*x] - n2[*y]);
                if d1.abs() > 1e-6 {
                    prop_assert_eq!(d1 > 0.0, d2 > 0.0, "{:?} {:?}", x, y);
                }
            }
        }
    }
}
