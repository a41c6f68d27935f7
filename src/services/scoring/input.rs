//! What an expert sends on a score sheet and how it is checked against the policy's criteria.

use std::collections::BTreeMap;

use jiqun_domain::review::{self, CriterionLimit};
use serde::{Deserialize, Serialize};

use super::MAX_COMMENT_CHARS;
use crate::error::FieldError;

/// What an expert sends: the points per criterion (a draft may leave some out), the comment,
/// and the version of the sheet they saw (0 before the first save).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SheetInput {
    /// Criterion key → points (0 to the criterion's maximum, at most one decimal).
    #[serde(default)]
    pub scores: BTreeMap<String, f64>,
    /// 评审意见: required to submit.
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub version: i32,
}

/// The field a criterion's problems are reported against.
pub fn score_field(key: &str) -> String {
    format!("scores.{key}")
}

/// Checks a sheet against the criteria. A draft may be partial, but every score given must be
/// valid; a submitted sheet scores every criterion (domain `validate_sheet`) and has a comment.
pub fn check_input(
    input: &SheetInput,
    criteria: &[CriterionLimit],
    submit: bool,
) -> Vec<FieldError> {
    let sheet = review::ScoreSheet {
        expert_id: 0,
        application_id: 0,
        scores: input.scores.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        submitted: submit,
    };
    let mut problems: Vec<(String, String)> = Vec::new();
    if submit {
        if let Err(found) = review::validate_sheet(&sheet, criteria) {
            problems.extend(found.into_iter().map(|(key, message)| {
                // Name the maximum with a missing criterion too, so the expert sees the scale.
                match criteria.iter().find(|c| c.key == key) {
                    Some(c) if !input.scores.contains_key(&key) => (
                        key,
                        format!("请为“{}”评分（满分{}分）", c.name, c.max_score),
                    ),
                    _ => (key, message),
                }
            }));
        }
    } else {
        for c in criteria {
            if let Some(v) = input.scores.get(&c.key)
                && let Err(message) = review::validate_score(*v, c.max_score)
            {
                problems.push((c.key.clone(), format!("“{}”{message}", c.name)));
            }
        }
        for key in input.scores.keys() {
            if !criteria.iter().any(|c| c.key == *key) {
                problems.push((key.clone(), format!("评分项“{key}”不在本轮评分标准中")));
            }
        }
    }
    let mut out: Vec<FieldError> = problems
        .into_iter()
        .map(|(key, message)| FieldError {
            field: score_field(&key),
            message,
        })
        .collect();
    let comment = input.comment.trim();
    if submit && comment.is_empty() {
        out.push(FieldError {
            field: "comment".into(),
            message: "提交评分前请填写评审意见".into(),
        });
    }
    if comment.chars().count() > MAX_COMMENT_CHARS {
        out.push(FieldError {
            field: "comment".into(),
            message: format!("评审意见不能超过{MAX_COMMENT_CHARS}字"),
        });
    }
    out
}

/// Parses the text a score field was filled in with: empty is "not scored"; anything else must
/// be a number. Returns the scores and the fields that were not numbers.
pub fn parse_typed(
    typed: &BTreeMap<String, String>,
    criteria: &[CriterionLimit],
) -> (BTreeMap<String, f64>, Vec<FieldError>) {
    let mut scores = BTreeMap::new();
    let mut problems = Vec::new();
    for c in criteria {
        let text = typed
            .get(&c.key)
            .map(|t| t.trim().replace('，', "."))
            .unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => {
                scores.insert(c.key.clone(), v);
            }
            _ => problems.push(FieldError {
                field: score_field(&c.key),
                message: format!("“{}”请填写0至{}之间的数字", c.name, c.max_score),
            }),
        }
    }
    (scores, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria() -> Vec<CriterionLimit> {
        [("a", "产业特色明显", 15), ("b", "产业规模效益突出", 25)]
            .into_iter()
            .map(|(key, name, max)| CriterionLimit {
                key: key.into(),
                name: name.into(),
                max_score: max,
            })
            .collect()
    }

    fn input(scores: &[(&str, f64)], comment: &str) -> SheetInput {
        SheetInput {
            scores: scores.iter().map(|(k, v)| ((*k).into(), *v)).collect(),
            comment: comment.into(),
            version: 0,
        }
    }

    fn fields(p: &[FieldError]) -> Vec<(&str, &str)> {
        p.iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect()
    }

    #[test]
    fn a_draft_may_be_partial_but_each_score_is_checked() {
        assert!(check_input(&input(&[("a", 12.5)], ""), &criteria(), false).is_empty());
        let p = check_input(&input(&[("a", 16.0), ("z", 1.0)], ""), &criteria(), false);
        assert_eq!(
            fields(&p),
            vec![
                ("scores.a", "“产业特色明显”得分应在0至15分之间，当前为16"),
                ("scores.z", "评分项“z”不在本轮评分标准中"),
            ]
        );
    }

    #[test]
    fn a_submission_scores_everything_and_has_a_comment() {
        let p = check_input(&input(&[("a", 12.0)], " "), &criteria(), true);
        assert_eq!(
            fields(&p),
            vec![
                ("scores.b", "请为“产业规模效益突出”评分（满分25分）"),
                ("comment", "提交评分前请填写评审意见"),
            ]
        );
        assert!(
            check_input(&input(&[("a", 12.0), ("b", 20.5)], "好"), &criteria(), true).is_empty()
        );
    }

    #[test]
    fn typed_scores_must_be_numbers() {
        let typed: BTreeMap<String, String> = [("a", " 12.5 "), ("b", "十分")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let (scores, problems) = parse_typed(&typed, &criteria());
        assert_eq!(scores.get("a"), Some(&12.5));
        assert_eq!(
            fields(&problems),
            vec![("scores.b", "“产业规模效益突出”请填写0至25之间的数字")]
        );
    }
}
