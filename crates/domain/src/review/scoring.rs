//! Score sheets and how a panel's sheets become one score per application.
//!
//! Precision: every score an expert gives (per criterion, or a defence score) is a number
//! of points from 0 to the maximum with at most one decimal place (e.g. 17.5), the usual
//! practice of paper score sheets. [`validate_sheet`] enforces it; [`total`] therefore adds
//! exactly, whatever the order of the criteria.
//!
//! Order never matters: totals are sorted before they are summed, so the same sheets in any
//! order give bit-identical means (floating-point addition is not associative).

use serde::{Deserialize, Serialize};

/// One expert's scores for one application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSheet {
    pub expert_id: i64,
    pub application_id: i64,
    /// (criterion key, points).
    pub scores: Vec<(String, f64)>,
    /// Only submitted sheets count; a draft can still change.
    pub submitted: bool,
}

/// A scoring criterion as the sheet needs it: the policy's key, display name and maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionLimit {
    pub key: String,
    pub name: String,
    pub max_score: u32,
}

/// Whether `value` is a valid score out of `max`: finite, 0 ≤ value ≤ max, at most one
/// decimal place. The message (Chinese) has no subject, so callers can prefix one.
pub fn validate_score(value: f64, max: u32) -> Result<(), String> {
    if !value.is_finite() {
        return Err("得分不是有效数字".to_owned());
    }
    if value < 0.0 || value > f64::from(max) {
        return Err(format!("得分应在0至{max}分之间，当前为{value}"));
    }
    let tenths = value * 10.0;
    // Tolerance for binary noise such as 0.3 * 10 = 3.0000000000000004.
    if (tenths - tenths.round()).abs() > 1e-6 {
        return Err(format!("得分最多保留一位小数，当前为{value}"));
    }
    Ok(())
}

/// Checks a sheet against the round's criteria: each criterion scored exactly once within
/// its maximum (see [`validate_score`]) and nothing else scored. Problems come as
/// (criterion key, Chinese message), in the order of `criteria`, then unknown keys.
pub fn validate_sheet(
    sheet: &ScoreSheet,
    criteria: &[CriterionLimit],
) -> Result<(), Vec<(String, String)>> {
    let mut problems = Vec::new();
    for c in criteria {
        let mut given = sheet.scores.iter().filter(|(k, _)| *k == c.key);
        match (given.next(), given.next()) {
            (None, _) => problems.push((c.key.clone(), format!("缺少“{}”的评分", c.name))),
            (Some(_), Some(_)) => problems.push((c.key.clone(), format!("“{}”重复评分", c.name))),
            (Some((_, value)), None) => {
                if let Err(message) = validate_score(*value, c.max_score) {
                    problems.push((c.key.clone(), format!("“{}”{message}", c.name)));
                }
            }
        }
    }
    for (key, _) in &sheet.scores {
        if !criteria.iter().any(|c| c.key == *key) {
            problems.push((key.clone(), format!("评分项“{key}”不在本轮评分标准中")));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The sheet's total, added in tenths of a point so the result is exact (for scores that
/// pass [`validate_sheet`]) and independent of the order of the criteria.
pub fn total(sheet: &ScoreSheet) -> f64 {
    let tenths: f64 = sheet.scores.iter().map(|(_, v)| (v * 10.0).round()).sum();
    tenths / 10.0
}

/// A panel's totals after the policy's trimming.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Mean of `used`; 0 when nothing was scored.
    pub mean: f64,
    /// The totals that count, ascending.
    pub used: Vec<f64>,
    /// The dropped totals, `[lowest, highest]`, or empty.
    pub dropped: Vec<f64>,
}

/// Aggregates a panel's totals: the mean, after dropping ONE lowest and ONE highest total
/// when `drop_extremes_when_at_least` is set and at least that many totals (and at least
/// three, so something remains) were given. Equal extremes drop one copy each. The result
/// does not depend on the order of `totals`.
pub fn aggregate(totals: &[f64], drop_extremes_when_at_least: Option<u32>) -> Aggregate {
    let mut sorted = totals.to_vec();
    sorted.sort_by(f64::total_cmp);
    let count = u32::try_from(sorted.len()).unwrap_or(u32::MAX);
    let drops = drop_extremes_when_at_least.is_some_and(|at_least| count >= at_least.max(3));
    let (used, dropped) = match (drops, sorted.first(), sorted.last()) {
        (true, Some(&low), Some(&high)) => (sorted[1..sorted.len() - 1].to_vec(), vec![low, high]),
        _ => (sorted, Vec::new()),
    };
    Aggregate {
        mean: mean(&used),
        used,
        dropped,
    }
}

/// Mean of values already in a fixed (sorted) order; 0 for none.
fn mean(sorted: &[f64]) -> f64 {
    if sorted.is_empty() {
        0.0
    } else {
        sorted.iter().sum::<f64>() / sorted.len() as f64
    }
}

/// The round score from the written score and the defence (答辩) score, both on the same
/// scale: `written × (1 − share) + defence × share`. `None` means the round held no
/// defence, and the written score stands; an entrant absent from a defence that was held
/// should be given a defence score (e.g. 0), not `None`. `defence_share` is the policy's
/// share, clamped to 0..=1 (NaN counts as 0).
pub fn combine(written: f64, defence: Option<f64>, defence_share: f64) -> f64 {
    let share = if defence_share.is_nan() {
        0.0
    } else {
        defence_share.clamp(0.0, 1.0)
    };
    match defence {
        None => written,
        Some(_) if share == 0.0 => written,
        Some(d) if share == 1.0 => d,
        Some(d) => written * (1.0 - share) + d * share,
    }
}

/// When a total is far enough from the panel to be flagged for review. Flagging only
/// draws the province's attention; it changes no score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", content = "threshold", rename_all = "snake_case")]
pub enum OutlierRule {
    /// More than this many points from the mean of the OTHER experts' totals. Leaving the
    /// total itself out keeps one wild score from pulling the mean toward itself, which
    /// matters on panels of 5 to 7. Suits the usual 100-point scale (e.g. 15 points).
    GapFromOthers(f64),
    /// More than this many population standard deviations from the panel mean (all
    /// totals). Note: with n totals none can be more than √(n−1) deviations away, so a
    /// 2-deviation rule can never flag anything on a panel of 5.
    StdDevs(f64),
}

/// A total flagged by [`outliers`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlier {
    pub expert_id: i64,
    pub total: f64,
    /// The mean it was compared with (others' mean, or the panel mean).
    pub reference_mean: f64,
    /// `total − reference_mean`.
    pub gap: f64,
}

impl Outlier {
    /// A Chinese note for the review screen.
    pub fn message(&self) -> String {
        let direction = if self.gap > 0.0 { "高" } else { "低" };
        format!(
            "该专家评分{}分，比参照平均分{}分{direction}{}分，请复核",
            show(self.total),
            show(self.reference_mean),
            show(self.gap.abs())
        )
    }
}

/// Up to two decimals, without trailing zeros.
fn show(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The totals (expert id, total) of one panel that `rule` flags, by expert id. Panels of
/// fewer than two totals flag nothing; so does a panel whose totals are all equal.
pub fn outliers(totals: &[(i64, f64)], rule: OutlierRule) -> Vec<Outlier> {
    let mut panel = totals.to_vec();
    panel.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    if panel.len() < 2 {
        return Vec::new();
    }
    let mut values: Vec<f64> = panel.iter().map(|p| p.1).collect();
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    let sum: f64 = values.iter().sum();
    let flagged = |&(expert_id, total): &(i64, f64)| {
        let (reference_mean, limit) = match rule {
            OutlierRule::GapFromOthers(gap) => ((sum - total) / (n - 1.0), gap),
            OutlierRule::StdDevs(deviations) => {
                let panel_mean = sum / n;
                let variance = values.iter().map(|v| (v - panel_mean).powi(2)).sum::<f64>() / n;
                (panel_mean, deviations * variance.sqrt())
            }
        };
        let gap = total - reference_mean;
        // An all-equal panel has no spread: nothing to flag.
        let spread = values.first() != values.last();
        (spread && gap.abs() > limit).then_some(Outlier {
            expert_id,
            total,
            reference_mean,
            gap,
        })
    };
    panel.iter().filter_map(flagged).collect()
}

/// The policy's panel rule, as `aggregate` and `combine` need it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PanelRule {
    /// `Some(n)` when the policy drops the extremes from `n` scores (trimmed mean);
    /// `None` for a plain mean.
    pub drop_extremes_when_at_least: Option<u32>,
    /// Share of the round score from the defence, 0..=1.
    pub defence_share: f64,
}

/// One application's result from its panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationScore {
    pub application_id: i64,
    /// The written (书面) scores: totals of the submitted sheets, aggregated.
    pub written: Aggregate,
    /// The defence scores, aggregated by the same rule; `None` without a defence.
    pub defence: Option<Aggregate>,
    /// [`combine`] of the two means.
    pub final_score: f64,
    /// Per criterion, in the order given, the mean over all counted sheets (no trimming:
    /// the policy trims totals, not criteria). Used to break ties.
    pub criterion_means: Vec<f64>,
}

impl ApplicationScore {
    /// The tie-breakers for [`crate::review::ranking::rank`]: the written score, then the
    /// criterion means in policy order (higher first).
    pub fn tie_breakers(&self) -> Vec<f64> {
        std::iter::once(self.written.mean)
            .chain(self.criterion_means.iter().copied())
            .collect()
    }
}

/// Scores one application from its panel's sheets: only submitted sheets for
/// `application_id` count (drafts and other applications' sheets are skipped), and they
/// should have passed [`validate_sheet`]. `defence` holds the defence experts' scores when
/// the round held a defence. Independent of the order of sheets and defence scores.
pub fn score_application(
    application_id: i64,
    sheets: &[ScoreSheet],
    criteria: &[CriterionLimit],
    defence: Option<&[f64]>,
    rule: &PanelRule,
) -> ApplicationScore {
    score_application_adjusted(application_id, sheets, criteria, defence, rule, None)
}

/// [`score_application`] with the written totals replaced, where `adjusted` has them, by
/// (expert id, application id) — the normalised totals (see `normalise`). The criterion means
/// stay those of the sheets.
pub fn score_application_adjusted(
    application_id: i64,
    sheets: &[ScoreSheet],
    criteria: &[CriterionLimit],
    defence: Option<&[f64]>,
    rule: &PanelRule,
    adjusted: Option<&std::collections::BTreeMap<(i64, i64), f64>>,
) -> ApplicationScore {
    let counted: Vec<&ScoreSheet> = sheets
        .iter()
        .filter(|s| s.submitted && s.application_id == application_id)
        .collect();
    let totals: Vec<f64> = counted
        .iter()
        .map(|s| {
            adjusted
                .and_then(|a| a.get(&(s.expert_id, application_id)))
                .copied()
                .unwrap_or_else(|| total(s))
        })
        .collect();
    let written = aggregate(&totals, rule.drop_extremes_when_at_least);
    let defence = defence.map(|scores| aggregate(scores, rule.drop_extremes_when_at_least));
    let final_score = combine(
        written.mean,
        defence.as_ref().map(|d| d.mean),
        rule.defence_share,
    );
    let criterion_means = criteria
        .iter()
        .map(|c| {
            let mut values: Vec<f64> = counted
                .iter()
                .filter_map(|s| s.scores.iter().find(|(k, _)| *k == c.key).map(|p| p.1))
                .collect();
            values.sort_by(f64::total_cmp);
            mean(&values)
        })
        .collect();
    ApplicationScore {
        application_id,
        written,
        defence,
        final_score,
        criterion_means,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria() -> Vec<CriterionLimit> {
        [("scale", "产业规模", 20), ("innovation", "创新能力", 30)]
            .into_iter()
            .map(|(key, name, max)| CriterionLimit {
                key: key.into(),
                name: name.into(),
                max_score: max,
            })
            .collect()
    }

    fn sheet(expert_id: i64, scores: &[(&str, f64)]) -> ScoreSheet {
        ScoreSheet {
            expert_id,
            application_id: 1,
            scores: scores.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            submitted: true,
        }
    }

    #[test]
    fn sheets_are_checked_against_the_criteria() {
        type Case<'a> = (Vec<(&'a str, f64)>, Vec<(&'a str, &'a str)>);
        let cases: Vec<Case> = vec![
            (vec![("scale", 20.0), ("innovation", 0.0)], vec![]),
            (vec![("innovation", 17.5), ("scale", 0.3)], vec![]),
            (
                vec![("scale", 12.0)],
                vec![("innovation", "缺少“创新能力”的评分")],
            ),
            (
                vec![("scale", 12.0), ("scale", 13.0), ("innovation", 1.0)],
                vec![("scale", "“产业规模”重复评分")],
            ),
            (
                vec![("scale", 21.0), ("innovation", -1.0)],
                vec![
                    ("scale", "“产业规模”得分应在0至20分之间，当前为21"),
                    ("innovation", "“创新能力”得分应在0至30分之间，当前为-1"),
                ],
            ),
            (
                vec![("scale", 12.25), ("innovation", f64::NAN)],
                vec![
                    ("scale", "“产业规模”得分最多保留一位小数，当前为12.25"),
                    ("innovation", "“创新能力”得分不是有效数字"),
                ],
            ),
            (
                vec![("scale", 1.0), ("innovation", 1.0), ("bonus", 5.0)],
                vec![("bonus", "评分项“bonus”不在本轮评分标准中")],
            ),
        ];
        for (scores, expected) in cases {
            let got = validate_sheet(&sheet(1, &scores), &criteria());
            let expected: Vec<(String, String)> = expected
                .into_iter()
                .map(|(k, m)| (k.to_owned(), m.to_owned()))
                .collect();
            match got {
                Ok(()) => assert!(expected.is_empty(), "{scores:?} accepted"),
                Err(problems) => assert_eq!(problems, expected, "{scores:?}"),
            }
        }
    }

    #[test]
    fn totals_are_exact_in_tenths() {
        let s = sheet(1, &[("scale", 0.1), ("innovation", 0.2)]);
        assert_eq!(total(&s), 0.3);
        let s = sheet(1, &[("scale", 19.9), ("innovation", 29.9)]);
        assert_eq!(total(&s), 49.8);
    }

    #[test]
    fn aggregation_drops_one_of_each_extreme_only_from_the_threshold() {
        let at5 = Some(5);
        let four = aggregate(&[90.0, 60.0, 80.0, 70.0], at5);
        assert_eq!(four.used, vec![60.0, 70.0, 80.0, 90.0]);
        assert!(four.dropped.is_empty());
        assert_eq!(four.mean, 75.0);

        let five = aggregate(&[90.0, 60.0, 80.0, 70.0, 100.0], at5);
        assert_eq!(five.used, vec![70.0, 80.0, 90.0]);
        assert_eq!(five.dropped, vec![60.0, 100.0]);
        assert_eq!(five.mean, 80.0);

        // Equal extremes: one copy each.
        let ties = aggregate(&[80.0, 80.0, 80.0, 90.0, 90.0], at5);
        assert_eq!(ties.used, vec![80.0, 80.0, 90.0]);
        assert_eq!(ties.dropped, vec![80.0, 90.0]);

        // Plain mean, and a threshold too small to leave anything.
        assert_eq!(aggregate(&[90.0, 60.0, 80.0, 70.0, 100.0], None).mean, 80.0);
        assert!(aggregate(&[60.0, 90.0], Some(2)).dropped.is_empty());
        assert_eq!(aggregate(&[60.0, 90.0, 75.0], Some(2)).used, vec![75.0]);

        let empty = aggregate(&[], at5);
        assert_eq!((empty.mean, empty.used.len()), (0.0, 0));
    }

    #[test]
    fn the_defence_is_weighted_by_the_policy_share() {
        assert_eq!(combine(80.0, None, 0.4), 80.0);
        assert!((combine(80.0, Some(90.0), 0.4) - 84.0).abs() < 1e-9);
        assert_eq!(combine(80.0, Some(90.0), 0.0), 80.0);
        assert_eq!(combine(80.0, Some(90.0), 1.0), 90.0);
        assert_eq!(combine(80.0, Some(90.0), 1.5), 90.0);
        assert_eq!(combine(80.0, Some(90.0), -0.5), 80.0);
        assert_eq!(combine(80.0, Some(90.0), f64::NAN), 80.0);
        assert!((combine(80.0, Some(0.0), 0.25) - 60.0).abs() < 1e-9);
    }

    #[test]
    fn outliers_by_gap_from_the_others() {
        let panel = [(1, 80.0), (2, 82.0), (3, 78.0), (4, 81.0), (5, 55.0)];
        let flagged = outliers(&panel, OutlierRule::GapFromOthers(15.0));
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].expert_id, 5);
        assert_eq!(flagged[0].reference_mean, 80.25);
        assert_eq!(flagged[0].gap, -25.25);
        assert_eq!(
            flagged[0].message(),
            "该专家评分55分，比参照平均分80.25分低25.25分，请复核"
        );
        assert!(outliers(&panel, OutlierRule::GapFromOthers(30.0)).is_empty());
        // Exactly at the gap is not flagged.
        assert!(outliers(&[(1, 70.0), (2, 85.0)], OutlierRule::GapFromOthers(15.0)).is_empty());
        assert_eq!(
            outliers(&[(1, 70.0), (2, 85.5)], OutlierRule::GapFromOthers(15.0)).len(),
            2
        );
        assert!(outliers(&[(1, 70.0)], OutlierRule::GapFromOthers(0.0)).is_empty());
        assert!(outliers(&[(1, 70.0), (2, 70.0)], OutlierRule::GapFromOthers(-1.0)).is_empty());
    }

    #[test]
    fn outliers_by_standard_deviations() {
        // Mean 80, population deviation √120 ≈ 10.95: 100 is 1.83 deviations away.
        let panel = [(1, 70.0), (2, 70.0), (3, 80.0), (4, 80.0), (5, 100.0)];
        let sd = |t| outliers(&panel, OutlierRule::StdDevs(t));
        assert!(sd(2.0).is_empty());
        let flagged: Vec<i64> = sd(1.5).iter().map(|o| o.expert_id).collect();
        assert_eq!(flagged, vec![5]);
        assert_eq!(
            sd(1.5)[0].message(),
            "该专家评分100分，比参照平均分80分高20分，请复核"
        );
        // √(n−1) bound: the farthest possible total on a panel of 5 is exactly 2 away.
        let lone = [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0), (5, 100.0)];
        assert!(outliers(&lone, OutlierRule::StdDevs(2.0)).is_empty());
        assert_eq!(outliers(&lone, OutlierRule::StdDevs(1.99)).len(), 1);
    }

    #[test]
    fn an_application_is_scored_from_submitted_sheets_only() {
        let mut sheets: Vec<ScoreSheet> = [
            (1, 15.0, 25.0),
            (2, 16.0, 26.0),
            (3, 10.0, 10.0),
            (4, 20.0, 30.0),
            (5, 17.0, 27.0),
        ]
        .into_iter()
        .map(|(e, a, b)| sheet(e, &[("scale", a), ("innovation", b)]))
        .collect();
        let mut draft = sheet(6, &[("scale", 0.0), ("innovation", 0.0)]);
        draft.submitted = false;
        let mut other = sheet(7, &[("scale", 0.0), ("innovation", 0.0)]);
        other.application_id = 2;
        sheets.extend([draft, other]);
        let rule = PanelRule {
            drop_extremes_when_at_least: Some(5),
            defence_share: 0.4,
        };
        let written_only = score_application(1, &sheets, &criteria(), None, &rule);
        assert_eq!(written_only.written.used, vec![40.0, 42.0, 44.0]);
        assert_eq!(written_only.written.dropped, vec![20.0, 50.0]);
        assert_eq!(written_only.final_score, 42.0);
        assert_eq!(written_only.criterion_means, vec![15.6, 23.6]);
        assert_eq!(written_only.tie_breakers(), vec![42.0, 15.6, 23.6]);

        let with_defence = score_application(1, &sheets, &criteria(), Some(&[50.0, 60.0]), &rule);
        assert_eq!(with_defence.defence.as_ref().map(|d| d.mean), Some(55.0));
        assert!((with_defence.final_score - (42.0 * 0.6 + 55.0 * 0.4)).abs() < 1e-9);
    }
}
