//! Review-rules benchmark (not a test; `cargo bench -p jiqun-domain --bench review`).
//!
//! 1. Assignment: 1,000 applications, a pool of 300 experts, k = 7, with seeded random
//!    conflicts shaped like the real pool: 40% of experts work in 长沙, the rest spread over
//!    the other cities; every expert has two enterprise affiliations out of 3,000 and some
//!    a park; every application has 20 member enterprises and a core park out of 100; a few
//!    experts declare conflicts. A second, lopsided round puts 70% of experts in 长沙 and
//!    40% of lead counties there, so the same-city rule bites hard.
//! 2. Scoring: 1,000 applications × 7 experts × 6 criteria, validated, aggregated (trimmed
//!    mean from 5, defence share 0.4 with 7 defence scores each) and ranked in two kinds,
//!    then winners under a quota.
//!
//! Prints the median of several runs in milliseconds, and checks the results.
// A failed set-up step ends the test or benchmark run; that is what a panic is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use jiqun_domain::region::{self, RegionCode};
use jiqun_domain::review::{
    CriterionLimit, Entrant, Expert, Org, PanelRule, RankInput, ScoreSheet, assign, conflicts,
    rank, score_application, validate_sheet, winners,
};

const APPLICATIONS: usize = 1_000;
const EXPERTS: usize = 300;
const K: u32 = 7;
const CRITERIA: usize = 6;
const RUNS: usize = 9;

/// splitmix64: seeded, so every run sees the same round.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2].as_secs_f64() * 1e3
}

fn enterprise(n: usize) -> String {
    format!("湖南示例制造{n:04}有限公司")
}

fn park(n: usize) -> String {
    format!("示例产业园区{n:03}")
}

/// A round; `changsha_experts` and `changsha_leads` are the percentages of experts working
/// in 长沙 and of clusters led from a 长沙 county (the rest spread evenly).
fn round(rng: &mut Rng, changsha_experts: u64, changsha_leads: u64) -> (Vec<Entrant>, Vec<Expert>) {
    let counties: Vec<RegionCode> = region::counties().map(|c| c.code()).collect();
    let (in_changsha, elsewhere): (Vec<RegionCode>, Vec<RegionCode>) = counties
        .iter()
        .partition(|c| c.city_part() == RegionCode::CHANGSHA);
    let cities: Vec<RegionCode> = region::cities().iter().map(|c| c.code()).collect();
    let entrants = (0..APPLICATIONS)
        .map(|i| Entrant {
            application_id: 10_000 + i as i64,
            lead_county: if rng.chance(changsha_leads) {
                in_changsha[rng.below(in_changsha.len())]
            } else {
                elsewhere[rng.below(elsewhere.len())]
            },
            applicant: Org::named(format!("集群发展促进会{i:04}")),
            members: (0..20)
                .map(|_| Org::named(enterprise(rng.below(3_000))))
                .collect(),
            core_park: Some(Org::named(park(rng.below(100)))),
            counties: Vec::new(),
            co_applicants: Vec::new(),
        })
        .collect();
    let experts = (0..EXPERTS)
        .map(|i| {
            let city = if rng.chance(changsha_experts) {
                RegionCode::CHANGSHA
            } else {
                cities[1 + rng.below(cities.len() - 1)]
            };
            let mut affiliations = vec![enterprise(rng.below(3_000)), enterprise(rng.below(3_000))];
            if rng.chance(20) {
                affiliations.push(park(rng.below(100)));
            }
            let declared_conflicts = if rng.chance(30) {
                vec![10_000 + rng.below(APPLICATIONS) as i64]
            } else {
                vec![]
            };
            Expert {
                id: 1 + i as i64,
                city,
                affiliations,
                declared_conflicts,
            }
        })
        .collect();
    (entrants, experts)
}

fn bench_assignment(rng: &mut Rng, label: &str, changsha_experts: u64, changsha_leads: u64) {
    let (entrants, experts) = round(rng, changsha_experts, changsha_leads);
    let conflicted = entrants
        .iter()
        .flat_map(|a| experts.iter().map(move |e| (a, e)))
        .filter(|(a, e)| !conflicts(e, a).is_empty())
        .count();
    let ms = median_ms(|| {
        black_box(assign(black_box(&entrants), black_box(&experts), K, &[]));
    });
    let result = assign(&entrants, &experts, K, &[]);
    let loads = result.loads();
    let (min, max) = (
        experts
            .iter()
            .map(|e| loads.get(&e.id).copied().unwrap_or(0))
            .min()
            .unwrap_or(0),
        loads.values().copied().max().unwrap_or(0),
    );
    assert!(result.pairs.iter().all(|&(a, e)| {
        let app = &entrants[(a - 10_000) as usize];
        let expert = &experts[(e - 1) as usize];
        conflicts(expert, app).is_empty()
    }));
    println!(
        "assignment ({label}): {APPLICATIONS} applications × {EXPERTS} experts, k = {K}: \
         {ms:.1} ms (median of {RUNS}); {:.1}% of pairs conflicted; {} pairs, {} shortfalls, \
         loads {min}..={max}",
        100.0 * conflicted as f64 / (APPLICATIONS * EXPERTS) as f64,
        result.pairs.len(),
        result.shortfalls.len(),
    );
}

fn bench_scoring(rng: &mut Rng) {
    let maxima = [20, 20, 15, 15, 15, 15];
    let criteria: Vec<CriterionLimit> = maxima
        .iter()
        .enumerate()
        .map(|(i, &max)| CriterionLimit {
            key: format!("c{i}"),
            name: format!("评分项{i}"),
            max_score: max,
        })
        .collect();
    let mut sheets = Vec::with_capacity(APPLICATIONS * K as usize);
    let mut defence = BTreeMap::new();
    for a in 0..APPLICATIONS {
        let application_id = 10_000 + a as i64;
        for e in 0..K as usize {
            sheets.push(ScoreSheet {
                expert_id: 1 + ((a * 7 + e) % EXPERTS) as i64,
                application_id,
                scores: criteria
                    .iter()
                    .map(|c| {
                        let tenths = rng.below(c.max_score as usize * 10 + 1);
                        (c.key.clone(), tenths as f64 / 10.0)
                    })
                    .collect(),
                submitted: true,
            });
        }
        let scores: Vec<f64> = (0..K).map(|_| rng.below(1_001) as f64 / 10.0).collect();
        defence.insert(application_id, scores);
    }
    let rule = PanelRule {
        drop_extremes_when_at_least: Some(5),
        defence_share: 0.4,
    };
    let quota: BTreeMap<String, u32> =
        [("leading".to_owned(), 20), ("specialty".to_owned(), 30)].into();

    let validate_ms = median_ms(|| {
        for s in &sheets {
            black_box(validate_sheet(black_box(s), &criteria).is_ok());
        }
    });
    let mut chosen = Vec::new();
    let rank_ms = median_ms(|| {
        let mut by_application: BTreeMap<i64, Vec<ScoreSheet>> = BTreeMap::new();
        for s in &sheets {
            by_application
                .entry(s.application_id)
                .or_default()
                .push(s.clone());
        }
        let inputs: Vec<RankInput> = by_application
            .iter()
            .map(|(&id, group)| {
                let held = defence.get(&id).map(Vec::as_slice);
                let score = score_application(id, group, &criteria, held, &rule);
                let kind = if id % 3 == 0 { "specialty" } else { "leading" };
                RankInput::from_score(&score, kind)
            })
            .collect();
        let ranked = rank(inputs);
        chosen = winners(&ranked, &quota);
    });
    assert_eq!(chosen.len(), 50);
    println!(
        "scoring: {APPLICATIONS} applications × {K} experts × {CRITERIA} criteria: \
         validate {validate_ms:.2} ms; group + aggregate + defence + rank + winners \
         {rank_ms:.2} ms (median of {RUNS})"
    );
}

fn main() {
    let mut rng = Rng(0x4A49_5155_4E5F_3230); // "JIQUN_20"
    bench_assignment(&mut rng, "40% of experts in 长沙, leads spread", 40, 7);
    bench_assignment(
        &mut rng,
        "70% of experts in 长沙, 40% of leads there",
        70,
        40,
    );
    bench_scoring(&mut rng);
}
