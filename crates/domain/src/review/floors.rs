//! Floors per criterion (第六条: the six conditions are met 同时, all at once): an entrant whose
//! aggregated score on any criterion is below that criterion's floor is not among the winners,
//! whatever its total. The floors (a share of each criterion's maximum) come from the policy.

use serde::{Deserialize, Serialize};

use super::scoring::CriterionLimit;

/// A criterion on which an entrant stays below its floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloorMiss {
    pub key: String,
    pub name: String,
    /// The entrant's aggregated score on the criterion.
    pub score: f64,
    pub floor: f64,
    pub max_score: u32,
}

impl FloorMiss {
    /// A Chinese note for the ranking: which criterion, its score and the floor.
    pub fn message(&self) -> String {
        format!(
            "“{}”得分{}分，低于底线{}分（满分{}分）",
            self.name,
            show(self.score),
            show(self.floor),
            self.max_score
        )
    }
}

/// Up to two decimals, without trailing zeros.
fn show(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Millionths, so a mean of one-decimal scores equal to its floor is never "below" by noise.
fn quantise(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

/// The criteria (in the order of `criteria`) whose aggregated score `means[i]` is below
/// `floors[i]`; a criterion without a floor (`None`) or without a mean is never missed.
pub fn below_floors(
    means: &[f64],
    criteria: &[CriterionLimit],
    floors: &[Option<f64>],
) -> Vec<FloorMiss> {
    criteria
        .iter()
        .zip(means)
        .zip(floors)
        .filter_map(|((c, &score), floor)| {
            let floor = (*floor)?;
            (quantise(score) < quantise(floor)).then(|| FloorMiss {
                key: c.key.clone(),
                name: c.name.clone(),
                score,
                floor,
                max_score: c.max_score,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Vec<CriterionLimit> {
        [("scale", "产业规模", 25), ("innovation", "创新能力", 20)]
            .into_iter()
            .map(|(key, name, max)| CriterionLimit {
                key: key.into(),
                name: name.into(),
                max_score: max,
            })
            .collect()
    }

    #[test]
    fn a_score_below_a_floor_is_named_with_its_floor() {
        // (means, floors, expected missed keys)
        type Case = (Vec<f64>, Vec<Option<f64>>, Vec<&'static str>);
        let cases: Vec<Case> = vec![
            (vec![20.0, 18.0], vec![Some(15.0), Some(12.0)], vec![]),
            (vec![15.0, 12.0], vec![Some(15.0), Some(12.0)], vec![]),
            (
                vec![14.9, 12.0],
                vec![Some(15.0), Some(12.0)],
                vec!["scale"],
            ),
            (vec![0.0, 0.0], vec![None, None], vec![]),
            (vec![0.0, 11.9], vec![None, Some(12.0)], vec!["innovation"]),
            (
                vec![1.0, 1.0],
                vec![Some(15.0), Some(12.0)],
                vec!["scale", "innovation"],
            ),
            // 0.6 × 25 in binary is not exactly 15: a mean of 15 is not below it.
            (vec![15.0, 20.0], vec![Some(0.6 * 25.0), None], vec![]),
        ];
        for (means, floors, expected) in cases {
            let missed: Vec<String> = below_floors(&means, &limits(), &floors)
                .into_iter()
                .map(|m| m.key)
                .collect();
            assert_eq!(missed, expected, "{means:?} {floors:?}");
        }
        let miss = &below_floors(&[12.5, 20.0], &limits(), &[Some(15.0), None])[0];
        assert_eq!(
            miss.message(),
            "“产业规模”得分12.5分，低于底线15分（满分25分）"
        );
    }
}
