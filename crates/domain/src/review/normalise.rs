//! Normalising each expert's written totals before the panel's aggregation (z-score per expert,
//! as Evalato and HotCRP offer): an expert who scores everyone generously or harshly, or who
//! uses only part of the scale, weighs the same as the others. Each expert's totals become
//! z-scores across the entrants that expert scored, mapped back to the score scale with the
//! round's overall mean and (population) standard deviation of all totals.
//!
//! An expert whose totals are all equal (or who scored one entrant) gives z = 0, the overall
//! mean. The z-scores do not change when an expert adds a constant to all their totals; the
//! mapped totals then move together, so the order of entrants is kept. Independent of the
//! order of the input.

use std::collections::BTreeMap;

/// One written total: (expert id, application id, total).
pub type Total = (i64, i64, f64);

/// Mean and population standard deviation of values sorted first (so order never matters).
fn mean_sd(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let mut squares: Vec<f64> = values.iter().map(|v| (v - mean).powi(2)).collect();
    squares.sort_by(f64::total_cmp);
    (mean, (squares.iter().sum::<f64>() / n).sqrt())
}

/// Each (expert, application) total as a z-score across that expert's totals.
pub fn z_scores(totals: &[Total]) -> BTreeMap<(i64, i64), f64> {
    let mut by_expert: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (expert, _, total) in totals {
        by_expert.entry(*expert).or_default().push(*total);
    }
    let stats: BTreeMap<i64, (f64, f64)> = by_expert
        .into_iter()
        .map(|(expert, mut values)| (expert, mean_sd(&mut values)))
        .collect();
    totals
        .iter()
        .map(|(expert, app, total)| {
            let (mean, sd) = stats.get(expert).copied().unwrap_or_default();
            // A spread below the scale's precision (0.1 point) is no spread at all.
            let z = if sd > 1e-9 { (total - mean) / sd } else { 0.0 };
            ((*expert, *app), z)
        })
        .collect()
}

/// Each (expert, application) total normalised: overall mean + overall sd × z-score. Without
/// any spread overall the totals are returned as they are.
pub fn z_score_totals(totals: &[Total]) -> BTreeMap<(i64, i64), f64> {
    let mut all: Vec<f64> = totals.iter().map(|t| t.2).collect();
    let (mean, sd) = mean_sd(&mut all);
    if sd <= 1e-9 {
        return totals.iter().map(|(e, a, t)| ((*e, *a), *t)).collect();
    }
    z_scores(totals)
        .into_iter()
        .map(|(key, z)| (key, mean + sd * z))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generous_expert_is_brought_to_the_others_scale() {
        // Expert 1 scores 90 and 80; expert 2 scores the same two entrants 70 and 60.
        let totals = [(1, 10, 90.0), (1, 11, 80.0), (2, 10, 70.0), (2, 11, 60.0)];
        let z = z_scores(&totals);
        assert_eq!(z[&(1, 10)], 1.0);
        assert_eq!(z[&(2, 11)], -1.0);
        // Overall mean 75, sd √125 ≈ 11.18.
        let n = z_score_totals(&totals);
        let sd = 125f64.sqrt();
        assert!((n[&(1, 10)] - (75.0 + sd)).abs() < 1e-9);
        assert!((n[&(2, 10)] - (75.0 + sd)).abs() < 1e-9);
        assert!((n[&(1, 11)] - (75.0 - sd)).abs() < 1e-9);
    }

    #[test]
    fn no_spread_gives_the_mean_and_no_spread_at_all_changes_nothing() {
        let totals = [(1, 10, 80.0), (1, 11, 80.0), (2, 10, 60.0), (2, 11, 90.0)];
        let n = z_score_totals(&totals);
        assert_eq!(n[&(1, 10)], 77.5);
        assert_eq!(n[&(1, 11)], 77.5);
        let flat = [(1, 10, 70.0), (2, 10, 70.0)];
        assert_eq!(z_score_totals(&flat)[&(2, 10)], 70.0);
        assert!(z_score_totals(&[]).is_empty());
    }
}
