//! Conflict-of-interest checks (回避) and the automatic assignment of experts to applications.
//!
//! An expert must not review an application when
//! - the expert works in the same city or prefecture (市州) as the cluster's lead county or as
//!   any other county the cluster spans;
//! - the expert is affiliated with the applicant (the promotion organisation), a co-applicant of
//!   a joint application, a member enterprise or the core park, matched by name or by unified
//!   social credit code;
//! - the expert has declared a conflict with that application.
//!
//! The city rule can be switched off for a competition whose experts all come from the
//! cluster's own city (a city's own competition, 第十六条) through [`ConflictRules`]; the other
//! rules always hold.
//!
//! [`assign`] never adds a conflicted pair, gives every application exactly `k` experts when
//! enough conflict-free experts exist (and says why not otherwise), and balances loads as
//! evenly as the conflicts allow; see its documentation for the precise guarantee.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::region::{self, RegionCode};

/// An organisation named in an application: matched against an expert's affiliations by
/// its name and, when known, its unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Org {
    pub name: String,
    #[serde(default)]
    pub credit_code: Option<String>,
}

impl Org {
    /// An organisation known by name only.
    pub fn named(name: impl Into<String>) -> Org {
        Org {
            name: name.into(),
            credit_code: None,
        }
    }

    /// The normalised, non-empty identifiers this organisation is matched by.
    fn identifiers(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.name.as_str())
            .chain(self.credit_code.as_deref())
            .map(normalise_org)
            .filter(|s| !s.is_empty())
    }
}

/// The comparison form of an organisation name or credit code: whitespace removed,
/// full-width ASCII (including （）) folded to half-width, ASCII letters upper-cased, so
/// "长沙 ABC（集团）有限公司" and "长沙abc(集团)有限公司" match, as do a credit code typed in
/// lower case.
pub fn normalise_org(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A member of the expert pool, as far as conflicts of interest are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    pub id: i64,
    /// Where the expert works: a city code (430100) or one of its counties' codes (430102);
    /// compared at city level.
    pub city: RegionCode,
    /// Names or credit codes of the employer and of every enterprise, park or organisation
    /// the expert holds a post in or has an interest in.
    #[serde(default)]
    pub affiliations: Vec<String>,
    /// Applications the expert has declared a conflict with (本人申报回避).
    #[serde(default)]
    pub declared_conflicts: Vec<i64>,
}

/// An application in a review round, as far as conflicts of interest are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entrant {
    pub application_id: i64,
    /// The cluster's lead county (牵头县市区); its city is the one experts must not share.
    pub lead_county: RegionCode,
    /// The applicant: the cluster promotion organisation (集群发展促进组织).
    pub applicant: Org,
    /// The cluster's member enterprises.
    #[serde(default)]
    pub members: Vec<Org>,
    /// The cluster's core park (核心园区), if it names one.
    #[serde(default)]
    pub core_park: Option<Org>,
    /// Every other county the cluster spans: experts from any of their cities are avoided too.
    #[serde(default)]
    pub counties: Vec<RegionCode>,
    /// The co-applicant organisations of a joint application (联合申报单位).
    #[serde(default)]
    pub co_applicants: Vec<Org>,
}

/// Why an expert may not review an application.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// The expert works in the city (市州) of the cluster's lead county.
    SameCity { city: RegionCode },
    /// The expert works in the city of another county the cluster spans.
    SpannedCity { city: RegionCode },
    /// The expert is affiliated with the applicant (promotion organisation).
    Applicant { name: String },
    /// The expert is affiliated with a co-applicant of a joint application.
    CoApplicant { name: String },
    /// The expert is affiliated with a member enterprise.
    MemberEnterprise { name: String },
    /// The expert is affiliated with the cluster's core park.
    CorePark { name: String },
    /// The expert declared a conflict with this application.
    Declared,
}

impl Conflict {
    /// A stable key for storage and audit entries (e.g. an override's record).
    pub fn key(&self) -> &'static str {
        match self {
            Conflict::SameCity { .. } => "same_city",
            Conflict::SpannedCity { .. } => "spanned_city",
            Conflict::CoApplicant { .. } => "co_applicant",
            Conflict::Applicant { .. } => "applicant",
            Conflict::MemberEnterprise { .. } => "member_enterprise",
            Conflict::CorePark { .. } => "core_park",
            Conflict::Declared => "declared",
        }
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::SameCity { city } => match region::city(*city) {
                Some(c) => write!(f, "专家与集群牵头县同属{}", c.name()),
                None => write!(f, "专家与集群牵头县同属一个市州（{city}）"),
            },
            Conflict::SpannedCity { city } => match region::city(*city) {
                Some(c) => write!(f, "专家与集群跨及的县市区同属{}", c.name()),
                None => write!(f, "专家与集群跨及的县市区同属一个市州（{city}）"),
            },
            Conflict::Applicant { name } => write!(f, "专家与申报主体“{name}”存在关联"),
            Conflict::CoApplicant { name } => write!(f, "专家与联合申报单位“{name}”存在关联"),
            Conflict::MemberEnterprise { name } => {
                write!(f, "专家与集群成员企业“{name}”存在关联")
            }
            Conflict::CorePark { name } => write!(f, "专家与集群核心园区“{name}”存在关联"),
            Conflict::Declared => write!(f, "专家本人已申报回避该申报"),
        }
    }
}

/// Which conflict rules apply in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConflictRules {
    /// Whether an expert working in the city of the cluster's lead county or of another county
    /// it spans is conflicted (the provincial rule). Off only where the policy says so.
    pub same_city: bool,
}

impl Default for ConflictRules {
    fn default() -> Self {
        ConflictRules { same_city: true }
    }
}

/// Every conflict between an expert and an application, sorted and without repeats;
/// empty when the expert may review it.
pub fn conflicts(expert: &Expert, entrant: &Entrant) -> Vec<Conflict> {
    conflicts_under(expert, entrant, ConflictRules::default())
}

/// [`conflicts`] under the round's rules.
pub fn conflicts_under(expert: &Expert, entrant: &Entrant, rules: ConflictRules) -> Vec<Conflict> {
    let names = Interner::of(std::slice::from_ref(expert));
    PreparedExpert::new(expert, &names)
        .conflicts_with(&PreparedEntrant::new(entrant, &names), rules)
}

/// The check for a hand assignment by the province. A conflicting one may still be made,
/// but only as an override with a recorded reason, which is the caller's job.
pub fn check_manual(expert: &Expert, entrant: &Entrant) -> Result<(), Vec<Conflict>> {
    check_manual_under(expert, entrant, ConflictRules::default())
}

/// [`check_manual`] under the round's rules.
pub fn check_manual_under(
    expert: &Expert,
    entrant: &Entrant,
    rules: ConflictRules,
) -> Result<(), Vec<Conflict>> {
    let found = conflicts_under(expert, entrant, rules);
    if found.is_empty() { Ok(()) } else { Err(found) }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum OrgRole {
    Applicant,
    CoApplicant,
    Member,
    CorePark,
}

/// Numbers for the normalised identifiers experts are affiliated with, so the pairwise
/// check compares integers; an organisation no expert names can never conflict.
struct Interner(HashMap<String, u32>);

impl Interner {
    fn of(experts: &[Expert]) -> Self {
        let mut numbers = HashMap::new();
        for id in experts
            .iter()
            .flat_map(|e| &e.affiliations)
            .map(|a| normalise_org(a))
        {
            if !id.is_empty() {
                let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
                numbers.entry(id).or_insert(next);
            }
        }
        Interner(numbers)
    }

    fn get(&self, id: &str) -> Option<u32> {
        self.0.get(id).copied()
    }
}

/// An entrant's organisations that some expert names, as (number, role, display name),
/// sorted.
struct PreparedEntrant<'a> {
    application_id: i64,
    city: RegionCode,
    /// The cities of the other counties spanned, without the lead's, sorted.
    spanned: Vec<RegionCode>,
    orgs: Vec<(u32, OrgRole, &'a str)>,
}

impl<'a> PreparedEntrant<'a> {
    fn new(entrant: &'a Entrant, names: &Interner) -> Self {
        let named = std::iter::once((OrgRole::Applicant, &entrant.applicant))
            .chain(
                entrant
                    .co_applicants
                    .iter()
                    .map(|o| (OrgRole::CoApplicant, o)),
            )
            .chain(entrant.members.iter().map(|m| (OrgRole::Member, m)))
            .chain(entrant.core_park.iter().map(|p| (OrgRole::CorePark, p)));
        let mut orgs: Vec<(u32, OrgRole, &'a str)> = named
            .flat_map(|(role, org)| {
                org.identifiers()
                    .filter_map(|id| names.get(&id))
                    .map(move |n| (n, role, org.name.as_str()))
            })
            .collect();
        orgs.sort_unstable();
        orgs.dedup();
        PreparedEntrant {
            application_id: entrant.application_id,
            city: entrant.lead_county.city_part(),
            spanned: {
                let lead = entrant.lead_county.city_part();
                let mut cities: Vec<RegionCode> = entrant
                    .counties
                    .iter()
                    .map(|c| c.city_part())
                    .filter(|c| *c != lead)
                    .collect();
                cities.sort_unstable();
                cities.dedup();
                cities
            },
            orgs,
        }
    }
}

/// An expert with numbered affiliations and sorted declarations.
struct PreparedExpert {
    city: RegionCode,
    affiliations: Vec<u32>,
    declared: Vec<i64>,
}

impl PreparedExpert {
    fn new(expert: &Expert, names: &Interner) -> Self {
        let mut affiliations: Vec<u32> = expert
            .affiliations
            .iter()
            .filter_map(|a| names.get(&normalise_org(a)))
            .collect();
        affiliations.sort_unstable();
        affiliations.dedup();
        let mut declared = expert.declared_conflicts.clone();
        declared.sort_unstable();
        PreparedExpert {
            city: expert.city.city_part(),
            affiliations,
            declared,
        }
    }

    /// The single definition of a conflict; `assign` and `conflicts` both use it.
    fn conflicts_with(&self, entrant: &PreparedEntrant<'_>, rules: ConflictRules) -> Vec<Conflict> {
        let mut found = Vec::new();
        if !rules.same_city {
            // The city rule is off for this round.
        } else if self.city == entrant.city {
            found.push(Conflict::SameCity { city: entrant.city });
        } else if entrant.spanned.contains(&self.city) {
            found.push(Conflict::SpannedCity { city: self.city });
        }
        for &affiliation in &self.affiliations {
            let from = entrant.orgs.partition_point(|o| o.0 < affiliation);
            for &(_, role, name) in entrant.orgs[from..]
                .iter()
                .take_while(|o| o.0 == affiliation)
            {
                let name = name.to_owned();
                found.push(match role {
                    OrgRole::Applicant => Conflict::Applicant { name },
                    OrgRole::CoApplicant => Conflict::CoApplicant { name },
                    OrgRole::Member => Conflict::MemberEnterprise { name },
                    OrgRole::CorePark => Conflict::CorePark { name },
                });
            }
        }
        if self.declared.binary_search(&entrant.application_id).is_ok() {
            found.push(Conflict::Declared);
        }
        found.sort();
        found.dedup();
        found
    }
}

/// An application that could not get its `k` experts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    pub application_id: i64,
    /// Experts it has after assignment (kept pairs included).
    pub assigned: u32,
    /// Experts it should have (`k`).
    pub needed: u32,
    /// Why, in Chinese.
    pub reason: String,
}

/// The result of [`assign`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Assignment {
    /// Every (application id, expert id) pair, kept and new, sorted.
    pub pairs: Vec<(i64, i64)>,
    /// Applications with fewer than `k` experts, by application id.
    pub shortfalls: Vec<Shortfall>,
    /// Existing pairs naming an application or expert not in this round: not kept.
    pub ignored: Vec<(i64, i64)>,
}

impl Assignment {
    /// Applications per expert, for experts with at least one.
    pub fn loads(&self) -> BTreeMap<i64, u32> {
        let mut loads = BTreeMap::new();
        for &(_, expert) in &self.pairs {
            *loads.entry(expert).or_insert(0) += 1;
        }
        loads
    }

    /// The experts assigned to an application, by id.
    pub fn experts_of(&self, application_id: i64) -> Vec<i64> {
        self.pairs
            .iter()
            .filter(|(a, _)| *a == application_id)
            .map(|&(_, e)| e)
            .collect()
    }
}

/// Assigns `k` experts (the policy's panel size) to each application.
///
/// `existing` pairs (earlier or hand-made assignments, possibly conflicting overrides) are
/// kept as they are and count towards `k` and towards loads; pairs naming an unknown
/// application or expert are returned in `ignored`.
///
/// Guarantees:
/// 1. No new pair has a conflict ([`conflicts`] is empty for it).
/// 2. Each application ends with `max(kept, min(k, kept + conflict-free others))` experts:
///    exactly `k` whenever the pool allows, never more unless kept pairs already exceed
///    `k`; every application with fewer than `k` is in `shortfalls` with the reason.
/// 3. Loads (applications per expert, kept pairs included) are decreasingly minimal among
///    all assignments with the same kept pairs and the same number of experts per
///    application: the largest load is as small as possible, then the second largest, and
///    so on; equivalently the sum of squared loads is minimal, and the smallest load is as
///    large as possible. Hence, when every expert may review every application and nothing
///    is kept, loads differ by at most one. When conflicts force imbalance (an expert
///    eligible for few applications), the difference can be larger, and no assignment does
///    better.
/// 4. The result depends only on the set of inputs: ids are sorted and every tie is broken
///    by the smaller id, so input order does not matter. Duplicate ids are merged
///    conservatively: a pair is conflict-free only if no record of either id conflicts.
///
/// Method: a greedy pass (most constrained application first, least-loaded eligible expert
/// next), then repairs along exchange paths (expert A gives an application to B, who gives
/// another to C, …) while one leads from an expert to another with a load at least two
/// lower. The reachable loads form an M-convex set, so when no such path remains the loads
/// are decreasingly minimal (Frank & Murota, "Discrete decreasing minimization").
pub fn assign(
    entrants: &[Entrant],
    experts: &[Expert],
    k: u32,
    existing: &[(i64, i64)],
) -> Assignment {
    assign_under(entrants, experts, k, existing, ConflictRules::default())
}

/// [`assign`] under the round's conflict rules.
pub fn assign_under(
    entrants: &[Entrant],
    experts: &[Expert],
    k: u32,
    existing: &[(i64, i64)],
    rules: ConflictRules,
) -> Assignment {
    let mut app_ids: Vec<i64> = entrants.iter().map(|e| e.application_id).collect();
    app_ids.sort_unstable();
    app_ids.dedup();
    let mut expert_ids: Vec<i64> = experts.iter().map(|e| e.id).collect();
    expert_ids.sort_unstable();
    expert_ids.dedup();

    let mut solver = Solver::new(app_ids.len(), expert_ids.len());

    let names = Interner::of(experts);
    let prepared_entrants: Vec<(usize, PreparedEntrant<'_>)> = entrants
        .iter()
        .filter_map(|e| {
            let index = app_ids.binary_search(&e.application_id).ok()?;
            Some((index, PreparedEntrant::new(e, &names)))
        })
        .collect();
    for expert in experts {
        let Ok(e) = expert_ids.binary_search(&expert.id) else {
            continue;
        };
        let prepared = PreparedExpert::new(expert, &names);
        for (a, entrant) in &prepared_entrants {
            if !prepared.conflicts_with(entrant, rules).is_empty() {
                solver.set(*a, e, Cell::Conflicted);
            }
        }
    }

    let mut kept: Vec<(i64, i64)> = existing.to_vec();
    kept.sort_unstable();
    kept.dedup();
    let mut ignored = Vec::new();
    for (app, expert) in kept {
        match (
            app_ids.binary_search(&app),
            expert_ids.binary_search(&expert),
        ) {
            (Ok(a), Ok(e)) => {
                solver.set(a, e, Cell::Kept);
                solver.load[e] += 1;
            }
            _ => ignored.push((app, expert)),
        }
    }

    solver.index_candidates();
    solver.greedy(k);
    solver.repair();

    let mut pairs = Vec::new();
    let mut shortfalls = Vec::new();
    for (a, &app) in app_ids.iter().enumerate() {
        let mut assigned = 0u32;
        let mut conflicted = 0usize;
        for (e, &expert) in expert_ids.iter().enumerate() {
            match solver.get(a, e) {
                Cell::Kept | Cell::Assigned => {
                    pairs.push((app, expert));
                    assigned += 1;
                }
                Cell::Conflicted => conflicted += 1,
                Cell::Free => {}
            }
        }
        if assigned < k {
            shortfalls.push(Shortfall {
                application_id: app,
                assigned,
                needed: k,
                reason: shortfall_reason(k, expert_ids.len(), conflicted, assigned),
            });
        }
    }
    Assignment {
        pairs,
        shortfalls,
        ignored,
    }
}

fn shortfall_reason(k: u32, pool: usize, conflicted: usize, available: u32) -> String {
    if pool == 0 {
        format!("专家库中没有评审专家，需要{k}名")
    } else {
        format!(
            "回避后专家不足：需要{k}名评审专家，专家库共{pool}名，其中{conflicted}名存在利益冲突，仅{available}名可分配"
        )
    }
}

/// The state of one (application, expert) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// Conflict-free and not assigned.
    Free,
    /// A conflict of interest; never assigned by `assign`.
    Conflicted,
    /// Assigned by `assign`; may move during repair.
    Assigned,
    /// An existing pair; never moves.
    Kept,
}

struct Solver {
    experts: usize,
    cells: Vec<Cell>,
    load: Vec<u32>,
    /// Per application: experts whose cell is Free or Assigned (may move), ascending.
    candidates: Vec<Vec<usize>>,
    /// Per expert: applications whose cell is Free or Assigned, ascending.
    candidate_apps: Vec<Vec<usize>>,
    kept: Vec<u32>,
}

impl Solver {
    fn new(apps: usize, experts: usize) -> Self {
        Solver {
            experts,
            cells: vec![Cell::Free; apps * experts],
            load: vec![0; experts],
            candidates: vec![Vec::new(); apps],
            candidate_apps: vec![Vec::new(); experts],
            kept: vec![0; apps],
        }
    }

    fn get(&self, a: usize, e: usize) -> Cell {
        self.cells[a * self.experts + e]
    }

    fn set(&mut self, a: usize, e: usize, cell: Cell) {
        self.cells[a * self.experts + e] = cell;
    }

    fn index_candidates(&mut self) {
        for a in 0..self.candidates.len() {
            for e in 0..self.experts {
                match self.get(a, e) {
                    Cell::Free | Cell::Assigned => {
                        self.candidates[a].push(e);
                        self.candidate_apps[e].push(a);
                    }
                    Cell::Kept => self.kept[a] += 1,
                    Cell::Conflicted => {}
                }
            }
        }
    }

    /// Most constrained application first (least slack), each taking its least-loaded
    /// candidates; ties by index, i.e. by id.
    fn greedy(&mut self, k: u32) {
        let need: Vec<usize> = self
            .kept
            .iter()
            .map(|&kept| k.saturating_sub(kept) as usize)
            .collect();
        let mut order: Vec<usize> = (0..self.candidates.len()).collect();
        order.sort_by_key(|&a| (self.candidates[a].len().saturating_sub(need[a]), a));
        let mut ranked: Vec<(u32, usize)> = Vec::new();
        for a in order {
            ranked.clear();
            ranked.extend(self.candidates[a].iter().map(|&e| (self.load[e], e)));
            ranked.sort_unstable();
            for &(_, e) in ranked.iter().take(need[a]) {
                self.set(a, e, Cell::Assigned);
                self.load[e] += 1;
            }
        }
    }

    /// For each expert, the smallest load of an expert it can pass one application to
    /// through a chain of exchanges (itself included). Experts are visited in ascending
    /// load, walking exchange edges backwards, so each is reached first from its minimum.
    fn min_reachable_load(&self) -> Vec<u32> {
        let mut order: Vec<usize> = (0..self.experts).collect();
        order.sort_by_key(|&e| (self.load[e], e));
        let mut reach = vec![u32::MAX; self.experts];
        let mut app_seen = vec![false; self.candidates.len()];
        let mut queue = VecDeque::new();
        for root in order {
            if reach[root] != u32::MAX {
                continue;
            }
            let floor = self.load[root];
            reach[root] = floor;
            queue.push_back(root);
            while let Some(b) = queue.pop_front() {
                // b can take application a; whoever holds a (movably) can reach b.
                for &a in &self.candidate_apps[b] {
                    if app_seen[a] || self.get(a, b) != Cell::Free {
                        continue;
                    }
                    app_seen[a] = true;
                    for &holder in &self.candidates[a] {
                        if reach[holder] == u32::MAX && self.get(a, holder) == Cell::Assigned {
                            reach[holder] = floor;
                            queue.push_back(holder);
                        }
                    }
                }
            }
        }
        reach
    }

    /// The shortest exchange path from `source` to the first expert (in breadth-first,
    /// id order) with load `target_load`, as (giver, application, taker) steps.
    fn path(&self, source: usize, target_load: u32) -> Option<Vec<(usize, usize, usize)>> {
        let mut expert_seen = vec![false; self.experts];
        let mut app_seen = vec![false; self.candidates.len()];
        let mut via_app = vec![usize::MAX; self.experts];
        let mut giver = vec![usize::MAX; self.candidates.len()];
        let mut queue = VecDeque::from([source]);
        expert_seen[source] = true;
        while let Some(x) = queue.pop_front() {
            for &a in &self.candidate_apps[x] {
                if app_seen[a] || self.get(a, x) != Cell::Assigned {
                    continue;
                }
                app_seen[a] = true;
                giver[a] = x;
                for &b in &self.candidates[a] {
                    if expert_seen[b] || self.get(a, b) != Cell::Free {
                        continue;
                    }
                    expert_seen[b] = true;
                    via_app[b] = a;
                    if self.load[b] == target_load {
                        let mut steps = Vec::new();
                        let mut taker = b;
                        while taker != source {
                            let app = via_app[taker];
                            let from = giver[app];
                            steps.push((from, app, taker));
                            taker = from;
                        }
                        return Some(steps);
                    }
                    queue.push_back(b);
                }
            }
        }
        None
    }

    /// Moves one application at a time from the busiest improvable expert along an
    /// exchange path to the least-loaded expert it reaches, until no path links two
    /// experts whose loads differ by two or more. Each move lowers the sum of squared
    /// loads by at least two, so this ends.
    fn repair(&mut self) {
        loop {
            let reach = self.min_reachable_load();
            let source = (0..self.experts)
                .filter(|&e| self.load[e] >= reach[e].saturating_add(2))
                .max_by_key(|&e| (self.load[e], std::cmp::Reverse(e)));
            let Some(source) = source else {
                return;
            };
            let Some(steps) = self.path(source, reach[source]) else {
                // Unreachable: `reach` says a path exists. Stop rather than loop.
                return;
            };
            // Steps run from the target back to the source; only the ends change load.
            let Some(&(_, _, target)) = steps.first() else {
                return;
            };
            for &(from, app, to) in &steps {
                self.set(app, from, Cell::Free);
                self.set(app, to, Cell::Assigned);
            }
            self.load[source] -= 1;
            self.load[target] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(n: u32) -> RegionCode {
        RegionCode::new(n).unwrap()
    }

    fn expert(id: i64, city: u32) -> Expert {
        Expert {
            id,
            city: code(city),
            affiliations: vec![],
            declared_conflicts: vec![],
        }
    }

    fn entrant(id: i64, county: u32) -> Entrant {
        Entrant {
            application_id: id,
            lead_county: code(county),
            applicant: Org::named("湘江装备产业集群促进会"),
            members: vec![
                Org {
                    name: "长沙重工机械有限公司".into(),
                    credit_code: Some("91430100MA4L0AAA0X".into()),
                },
                Org::named("株洲电机股份有限公司"),
            ],
            core_park: Some(Org::named("长沙经济技术开发区")),
            counties: Vec::new(),
            co_applicants: Vec::new(),
        }
    }

    #[test]
    fn a_city_competition_may_switch_the_city_rule_off_but_never_the_others() {
        // A city's own competition: its experts all work in the cluster's city.
        let off = ConflictRules { same_city: false };
        let app = Entrant {
            counties: vec![code(430_121), code(430_321)],
            ..entrant(1, 430_121)
        };
        let local = expert(1, 430_100);
        assert_eq!(conflicts(&local, &app)[0].key(), "same_city");
        assert!(conflicts_under(&local, &app, off).is_empty());
        assert!(conflicts_under(&expert(2, 430_300), &app, off).is_empty());
        let tied = Expert {
            affiliations: vec!["长沙经济技术开发区".into()],
            ..expert(3, 430_100)
        };
        let found = check_manual_under(&tied, &app, off).unwrap_err();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key(), "core_park");
        // The automatic assignment follows the same rules.
        let experts = [local.clone(), expert(2, 430_100), tied];
        assert!(
            assign(std::slice::from_ref(&app), &experts, 2, &[])
                .pairs
                .is_empty()
        );
        let pairs = assign_under(&[app], &experts, 2, &[], off).pairs;
        assert_eq!(pairs, vec![(1, 1), (1, 2)]);
    }

    #[test]
    fn the_whole_cluster_counts_every_county_and_every_co_applicant() {
        // A 长沙县-led cluster that also spans 湘潭县 and 韶山市, applied for jointly.
        let app = Entrant {
            counties: vec![code(430_121), code(430_321), code(430_382)],
            co_applicants: vec![Org {
                name: "湘潭智造促进中心".into(),
                credit_code: Some("12430300MB1234567X".into()),
            }],
            ..entrant(9, 430_121)
        };
        let said = |e: &Expert| -> Vec<String> {
            conflicts(e, &app).iter().map(|c| c.to_string()).collect()
        };
        // The lead's city is said once, as the lead's.
        assert_eq!(
            said(&expert(1, 430_102)),
            vec!["专家与集群牵头县同属长沙市"]
        );
        assert_eq!(
            said(&expert(2, 430_304)),
            vec!["专家与集群跨及的县市区同属湘潭市"]
        );
        assert_eq!(said(&expert(3, 430_200)), Vec::<String>::new());
        let tied = Expert {
            affiliations: vec!["12430300mb1234567x".into()],
            ..expert(4, 430_200)
        };
        assert_eq!(
            said(&tied),
            vec!["专家与联合申报单位“湘潭智造促进中心”存在关联"]
        );
        assert_eq!(conflicts(&tied, &app)[0].key(), "co_applicant");
        // The assignment avoids them all: only the 株洲 expert is free.
        let pool = [
            expert(1, 430_102),
            expert(2, 430_304),
            expert(3, 430_200),
            tied,
        ];
        let plan = assign(std::slice::from_ref(&app), &pool, 1, &[]);
        assert_eq!(plan.pairs, vec![(9, 3)]);
    }

    #[test]
    fn each_kind_of_conflict_is_found_and_said_in_chinese() {
        let app = entrant(7, 430_121); // 长沙县
        let cases: Vec<(Expert, Vec<&str>)> = vec![
            (expert(1, 430_102), vec!["专家与集群牵头县同属长沙市"]),
            (expert(2, 430_100), vec!["专家与集群牵头县同属长沙市"]),
            (expert(3, 430_200), vec![]),
            (
                Expert {
                    affiliations: vec!["湘江装备产业集群促进会".into()],
                    ..expert(4, 430_200)
                },
                vec!["专家与申报主体“湘江装备产业集群促进会”存在关联"],
            ),
            (
                Expert {
                    // by credit code, typed in lower case with a space
                    affiliations: vec!["91430100ma4l0aaa0x ".into()],
                    ..expert(5, 430_300)
                },
                vec!["专家与集群成员企业“长沙重工机械有限公司”存在关联"],
            ),
            (
                Expert {
                    affiliations: vec!["长沙经济技术开发区".into()],
                    ..expert(6, 430_300)
                },
                vec!["专家与集群核心园区“长沙经济技术开发区”存在关联"],
            ),
            (
                Expert {
                    declared_conflicts: vec![3, 7],
                    ..expert(7, 430_300)
                },
                vec!["专家本人已申报回避该申报"],
            ),
            (
                Expert {
                    affiliations: vec![
                        "株洲电机股份有限公司".into(),
                        "长沙重工机械有限公司".into(),
                        "91430100MA4L0AAA0X".into(),
                    ],
                    declared_conflicts: vec![7],
                    ..expert(8, 430_124)
                },
                vec![
                    "专家与集群牵头县同属长沙市",
                    "专家与集群成员企业“株洲电机股份有限公司”存在关联",
                    "专家与集群成员企业“长沙重工机械有限公司”存在关联",
                    "专家本人已申报回避该申报",
                ],
            ),
        ];
        for (ex, expected) in cases {
            let said: Vec<String> = conflicts(&ex, &app).iter().map(|c| c.to_string()).collect();
            assert_eq!(said, expected, "expert {}", ex.id);
            assert_eq!(check_manual(&ex, &app).is_ok(), expected.is_empty());
        }
    }

    #[test]
    fn a_city_outside_the_table_is_named_by_code() {
        let c = Conflict::SameCity {
            city: code(440_100),
        };
        assert_eq!(c.to_string(), "专家与集群牵头县同属一个市州（440100）");
        assert_eq!(c.key(), "same_city");
    }

    #[test]
    fn names_are_compared_in_normal_form() {
        assert_eq!(
            normalise_org(" 长沙 ABC（集团）有限公司 "),
            "长沙ABC(集团)有限公司"
        );
        assert_eq!(
            normalise_org("长沙abc(集团)有限公司"),
            "长沙ABC(集团)有限公司"
        );
        assert_eq!(normalise_org("ｘｙ　z"), "XYZ");
        // An empty park name or affiliation matches nothing.
        let app = Entrant {
            core_park: Some(Org::named("  ")),
            counties: Vec::new(),
            co_applicants: Vec::new(),
            ..entrant(1, 430_121)
        };
        let ex = Expert {
            affiliations: vec!["".into(), " ".into()],
            ..expert(1, 430_300)
        };
        assert!(conflicts(&ex, &app).is_empty());
    }

    #[test]
    fn a_short_pool_is_reported_with_the_reason() {
        let apps = [entrant(1, 430_121)];
        let pool = [
            expert(10, 430_102), // 长沙: conflicted
            expert(11, 430_200),
            expert(12, 430_300),
            expert(13, 430_400),
        ];
        let result = assign(&apps, &pool, 5, &[]);
        assert_eq!(result.pairs, vec![(1, 11), (1, 12), (1, 13)]);
        assert_eq!(
            result.shortfalls,
            vec![Shortfall {
                application_id: 1,
                assigned: 3,
                needed: 5,
                reason:
                    "回避后专家不足：需要5名评审专家，专家库共4名，其中1名存在利益冲突，仅3名可分配"
                        .into(),
            }]
        );
        let empty = assign(&apps, &[], 5, &[]);
        assert_eq!(empty.shortfalls[0].reason, "专家库中没有评审专家，需要5名");
        assert!(assign(&apps, &pool, 0, &[]).pairs.is_empty());
    }

    #[test]
    fn kept_pairs_stay_count_and_may_be_overrides() {
        let apps = [entrant(1, 430_121), entrant(2, 430_121)];
        let pool = [
            expert(10, 430_102), // conflicted with both, kept on 1 as an override
            expert(11, 430_200),
            expert(12, 430_300),
            expert(13, 430_400),
        ];
        let result = assign(&apps, &pool, 2, &[(1, 10), (1, 10), (9, 11), (2, 99)]);
        assert!(result.pairs.contains(&(1, 10)));
        assert_eq!(result.experts_of(1).len(), 2);
        assert_eq!(result.experts_of(2).len(), 2);
        assert!(!result.experts_of(2).contains(&10));
        assert_eq!(result.ignored, vec![(2, 99), (9, 11)]);
        assert!(result.shortfalls.is_empty());
        // Kept pairs beyond k are not removed.
        let over = assign(&apps, &pool, 1, &[(2, 11), (2, 12)]);
        assert_eq!(over.experts_of(2), vec![11, 12]);
    }

    #[test]
    fn repair_follows_a_chain_of_exchanges() {
        // Applications 0..3, experts A=0, B=1, C=2. Eligible: 0 {A, B}, 1 {A}, 2 {B, C}.
        // Start uneven: A holds 0 and 1, B holds 2, C nothing. Only the chain
        // A → 0 → B → 2 → C evens it out.
        let mut solver = Solver::new(3, 3);
        solver.set(0, 2, Cell::Conflicted);
        solver.set(1, 1, Cell::Conflicted);
        solver.set(1, 2, Cell::Conflicted);
        solver.set(2, 0, Cell::Conflicted);
        solver.index_candidates();
        for (a, e) in [(0, 0), (1, 0), (2, 1)] {
            solver.set(a, e, Cell::Assigned);
            solver.load[e] += 1;
        }
        assert_eq!(solver.min_reachable_load(), vec![0, 0, 0]);
        solver.repair();
        assert_eq!(solver.load, vec![1, 1, 1]);
        assert_eq!(solver.get(0, 1), Cell::Assigned);
        assert_eq!(solver.get(2, 2), Cell::Assigned);
        assert_eq!(solver.get(1, 0), Cell::Assigned);
    }
}
