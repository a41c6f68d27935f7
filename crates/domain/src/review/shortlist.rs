//! Fixing the proposed list (确定拟定名单, 第十条、第十一条): which entrants are shortlisted and
//! which are not selected, given the ranking, the quota per cluster kind, the province's choice
//! among entrants tied at the cut and its reason. The list may differ from the ranking only
//! among the tied entrants; every choice among them, and every county over the cap (第十六条,
//! see `county_cap`), is recorded with the reason on the entrant it concerns.
//!
//! The service loads the round, calls [`choose`] and [`decide`], and writes the outcome.

use std::collections::BTreeSet;

use super::ranking::{CutoffTie, Ranked};

/// One entrant of the round as the choice needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contender<'a> {
    pub entry_id: i64,
    pub application_id: i64,
    pub cluster_name: &'a str,
    /// Whether at least one expert's submitted total counts for it.
    pub scored: bool,
}

/// Where the round stands when the list is fixed.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    pub contenders: &'a [Contender<'a>],
    /// Active assignments without a submitted sheet (or panels short of experts), as named
    /// to the province: "专家（集群）".
    pub missing_sheets: &'a [String],
    /// Assigned (entrant, expert) pairs without a defence score, when a defence is held.
    pub missing_defence: &'a [String],
    /// Application ids the quota admits by rank, ties at the cut included.
    pub winners: &'a BTreeSet<i64>,
    pub ties: &'a [CutoffTie],
}

/// Why the list cannot be fixed as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The round is not ready (sheets or scores missing).
    Conflict(String),
    /// The province's input needs correcting: `field` is `chosen` or `reason`.
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> Refusal {
    Refusal::Invalid {
        field,
        message: message.into(),
    }
}

/// The application ids of the proposed list. `chosen` is the whole list by entry id, or None
/// to take the ranking as it stands (possible only without ties at the cut); `tie_note` words
/// a tie for the province ("…：请在“甲”、“乙”中选择1个，并说明理由").
pub fn choose(
    standing: &Standing<'_>,
    chosen: Option<&[i64]>,
    reason: &str,
    tie_note: impl Fn(&CutoffTie) -> String,
) -> Result<BTreeSet<i64>, Refusal> {
    if !standing.missing_sheets.is_empty() {
        return Err(Refusal::Conflict(format!(
            "以下评分表尚未提交，不能确定拟定名单：{}",
            standing.missing_sheets.join("、")
        )));
    }
    if !standing.missing_defence.is_empty() {
        return Err(Refusal::Conflict(format!(
            "以下答辩评分尚未录入，不能确定拟定名单：{}",
            standing.missing_defence.join("、")
        )));
    }
    let unscored: Vec<&str> = standing
        .contenders
        .iter()
        .filter(|c| !c.scored)
        .map(|c| c.cluster_name)
        .collect();
    if !unscored.is_empty() {
        return Err(Refusal::Conflict(format!(
            "以下参赛集群没有有效评分，请先补充分配专家：{}",
            unscored.join("、")
        )));
    }
    let tied = tied(standing.ties);
    let apps = match chosen {
        None if !standing.ties.is_empty() => {
            let notes: Vec<String> = standing.ties.iter().map(&tie_note).collect();
            return Err(invalid("chosen", notes.join("；")));
        }
        None => standing.winners.clone(),
        Some(ids) => {
            let mut apps = BTreeSet::new();
            for id in ids {
                let c = standing
                    .contenders
                    .iter()
                    .find(|c| c.entry_id == *id)
                    .ok_or_else(|| {
                        invalid("chosen", format!("参赛集群（编号{id}）不在本轮评审中"))
                    })?;
                apps.insert(c.application_id);
            }
            let mut problems = Vec::new();
            for t in standing.ties {
                let picked = t
                    .application_ids
                    .iter()
                    .filter(|a| apps.contains(a))
                    .count();
                if picked != t.places as usize {
                    problems.push(tie_note(t));
                }
            }
            let fixed: BTreeSet<i64> = standing.winners.difference(&tied).copied().collect();
            let untied: BTreeSet<i64> = apps.difference(&tied).copied().collect();
            if untied != fixed {
                problems.push(
                    "拟定名单须按排名和名额确定，只有名额线上得分完全相同的参赛集群需要研究选择"
                        .to_string(),
                );
            }
            if !problems.is_empty() {
                return Err(invalid("chosen", problems.join("；")));
            }
            apps
        }
    };
    if !standing.ties.is_empty() && reason.is_empty() {
        return Err(invalid(
            "reason",
            "名额线上存在得分完全相同的参赛集群，请说明选择的理由",
        ));
    }
    Ok(apps)
}

/// Every application in a tie at the cut.
fn tied(ties: &[CutoffTie]) -> BTreeSet<i64> {
    ties.iter()
        .flat_map(|t| t.application_ids.iter().copied())
        .collect()
}

/// The outcome for one ranked entrant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub application_id: i64,
    /// Shortlisted (入选拟定名单), or not selected.
    pub proposed: bool,
    /// Why, where a person chose: the tie at the cut and the county cap, with the reason.
    pub note: String,
}

/// One decision per ranked entrant, in ranking order. `over_cap` says whether an application's
/// county is over the per-county cap with this list.
pub fn decide(
    ranked: &[Ranked],
    chosen: &BTreeSet<i64>,
    ties: &[CutoffTie],
    over_cap: impl Fn(i64) -> bool,
    reason: &str,
) -> Vec<Decision> {
    let tied = tied(ties);
    ranked
        .iter()
        .map(|r| {
            let proposed = chosen.contains(&r.application_id);
            let mut notes = Vec::new();
            if tied.contains(&r.application_id) {
                notes.push(format!(
                    "名额线上并列第{}名，经研究{}：{reason}",
                    r.rank,
                    if proposed {
                        "确定入选"
                    } else {
                        "未入选"
                    }
                ));
            }
            if proposed && over_cap(r.application_id) {
                notes.push(format!("突破县域上限：{reason}"));
            }
            Decision {
                application_id: r.application_id,
                proposed,
                note: notes.join("；"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::review::{RankInput, rank, ties_at_cutoff, winners};
    use proptest::prelude::*;

    const NAMES: [&str; 5] = ["甲", "乙", "丙", "丁", "戊"];

    /// Five entrants of one kind (entry id = application id + 100); `scores` by application id
    /// 1..=5.
    fn round(scores: [f64; 5], quota: u32) -> (Vec<Ranked>, BTreeSet<i64>, Vec<CutoffTie>) {
        let inputs = (1..=5)
            .map(|id| RankInput {
                application_id: id,
                kind: "leading".into(),
                final_score: scores[(id - 1) as usize],
                tie_breakers: vec![],
            })
            .collect();
        let ranked = rank(inputs);
        let quotas = BTreeMap::from([("leading".to_string(), quota)]);
        let w = winners(&ranked, &quotas).into_iter().collect();
        let ties = ties_at_cutoff(&ranked, &quotas);
        (ranked, w, ties)
    }

    fn contenders() -> Vec<Contender<'static>> {
        (1..=5)
            .map(|id| Contender {
                entry_id: id + 100,
                application_id: id,
                cluster_name: NAMES[(id - 1) as usize],
                scored: true,
            })
            .collect()
    }

    fn note(t: &CutoffTie) -> String {
        format!("第{}名并列，选{}个", t.rank, t.places)
    }

    fn standing<'a>(
        c: &'a [Contender<'a>],
        w: &'a BTreeSet<i64>,
        ties: &'a [CutoffTie],
    ) -> Standing<'a> {
        Standing {
            contenders: c,
            missing_sheets: &[],
            missing_defence: &[],
            winners: w,
            ties,
        }
    }

    #[test]
    fn without_ties_the_ranking_is_the_list() {
        let (ranked, w, ties) = round([90.0, 80.0, 70.0, 60.0, 50.0], 2);
        let c = contenders();
        let s = standing(&c, &w, &ties);
        let chosen = choose(&s, None, "", note).unwrap();
        assert_eq!(chosen, BTreeSet::from([1, 2]));
        // The same list given explicitly is accepted; another one is not.
        assert_eq!(choose(&s, Some(&[101, 102]), "", note), Ok(chosen.clone()));
        assert_eq!(
            choose(&s, Some(&[101, 103]), "", note),
            Err(Refusal::Invalid {
                field: "chosen",
                message:
                    "拟定名单须按排名和名额确定，只有名额线上得分完全相同的参赛集群需要研究选择"
                        .into()
            })
        );
        assert_eq!(
            choose(&s, Some(&[101, 999]), "", note),
            Err(Refusal::Invalid {
                field: "chosen",
                message: "参赛集群（编号999）不在本轮评审中".into()
            })
        );
        let d = decide(&ranked, &chosen, &ties, |_| false, "");
        let outcome: Vec<(i64, bool, &str)> = d
            .iter()
            .map(|d| (d.application_id, d.proposed, d.note.as_str()))
            .collect();
        assert_eq!(
            outcome,
            vec![
                (1, true, ""),
                (2, true, ""),
                (3, false, ""),
                (4, false, ""),
                (5, false, "")
            ]
        );
    }

    #[test]
    fn a_tie_at_the_cut_needs_a_choice_and_a_reason() {
        // 乙 and 丙 share second place; one place is left.
        let (ranked, w, ties) = round([90.0, 80.0, 80.0, 60.0, 50.0], 2);
        assert_eq!(ties.len(), 1);
        let c = contenders();
        let s = standing(&c, &w, &ties);
        let tie = Err(Refusal::Invalid {
            field: "chosen",
            message: "第2名并列，选1个".into(),
        });
        assert_eq!(choose(&s, None, "理由", note), tie);
        assert_eq!(choose(&s, Some(&[101, 102, 103]), "理由", note), tie);
        assert_eq!(
            choose(&s, Some(&[101, 103]), "", note),
            Err(Refusal::Invalid {
                field: "reason",
                message: "名额线上存在得分完全相同的参赛集群，请说明选择的理由".into()
            })
        );
        let chosen = choose(&s, Some(&[101, 103]), "产业链更完整", note).unwrap();
        assert_eq!(chosen, BTreeSet::from([1, 3]));
        let d = decide(&ranked, &chosen, &ties, |app| app == 3, "产业链更完整");
        let notes: BTreeMap<i64, (bool, &str)> = d
            .iter()
            .map(|d| (d.application_id, (d.proposed, d.note.as_str())))
            .collect();
        assert_eq!(
            notes[&3],
            (
                true,
                "名额线上并列第2名，经研究确定入选：产业链更完整；突破县域上限：产业链更完整"
            )
        );
        assert_eq!(
            notes[&2],
            (false, "名额线上并列第2名，经研究未入选：产业链更完整")
        );
        assert_eq!(notes[&1], (true, ""));
    }

    #[test]
    fn an_unfinished_round_cannot_be_fixed() {
        let (_, w, ties) = round([90.0, 80.0, 70.0, 60.0, 50.0], 2);
        let mut c = contenders();
        let missing = vec!["张三（甲）".to_string()];
        let s = Standing {
            missing_sheets: &missing,
            ..standing(&c, &w, &ties)
        };
        assert_eq!(
            choose(&s, None, "", note),
            Err(Refusal::Conflict(
                "以下评分表尚未提交，不能确定拟定名单：张三（甲）".into()
            ))
        );
        let s = Standing {
            missing_defence: &missing,
            ..standing(&c, &w, &ties)
        };
        assert_eq!(
            choose(&s, None, "", note),
            Err(Refusal::Conflict(
                "以下答辩评分尚未录入，不能确定拟定名单：张三（甲）".into()
            ))
        );
        c[3].scored = false;
        assert_eq!(
            choose(&standing(&c, &w, &ties), None, "", note),
            Err(Refusal::Conflict(
                "以下参赛集群没有有效评分，请先补充分配专家：丁".into()
            ))
        );
    }

    proptest! {
        /// Whatever the scores and the quota, an accepted list keeps every untied winner,
        /// takes exactly the tie's places from the tie, and the decisions follow it.
        #[test]
        fn an_accepted_list_respects_rank_and_quota(
            scores in proptest::array::uniform5(prop_oneof![Just(70.0), Just(80.0), Just(90.0)]),
            quota in 0u32..6,
            pick in proptest::collection::vec(any::<bool>(), 5),
        ) {
            let (ranked, w, ties) = round(scores, quota);
            let c = contenders();
            let s = standing(&c, &w, &ties);
            let ids: Vec<i64> = (1..=5).filter(|i| pick[(*i - 1) as usize]).map(|i| i + 100).collect();
            if let Ok(chosen) = choose(&s, Some(&ids), "理由", note) {
                let tied = tied(&ties);
                for winner in w.difference(&tied) {
                    prop_assert!(chosen.contains(winner));
                }
                for t in &ties {
                    let n = t.application_ids.iter().filter(|a| chosen.contains(a)).count();
                    prop_assert_eq!(n, t.places as usize);
                }
                let d = decide(&ranked, &chosen, &ties, |_| false, "理由");
                prop_assert_eq!(d.iter().filter(|d| d.proposed).count(), chosen.len());
            }
            if ties.is_empty() {
                prop_assert_eq!(choose(&s, None, "", note), Ok(w.clone()));
            }
        }
    }
}
