//! The 复核 materials (第十四条): the same indicators the application form asks for (the
//! policy's criteria), typed and unit-checked the same way, a self-assessment and evidence. A
//! draft keeps whatever was typed; submission needs the required indicators, the
//! self-assessment and at least one evidence file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::intake::{Assessment, FieldProblem, NARRATIVE_MAX_CHARS, parse_indicator};
use crate::policy::Policy;

/// What the cluster typed, kept verbatim so nothing is lost when something is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecheckData {
    /// Indicator values by the policy's indicator key, as typed.
    #[serde(default)]
    pub indicators: BTreeMap<String, String>,
    /// The cluster's self-assessment (自评报告).
    #[serde(default)]
    pub self_assessment: String,
}

impl RecheckData {
    /// Keeps only the indicators the policy defines, each bounded, so a stored draft stays
    /// printable.
    pub fn within(mut self, policy: &Policy) -> RecheckData {
        self.indicators.retain(|k, _| {
            policy
                .criteria
                .iter()
                .flat_map(|c| &c.indicators)
                .any(|i| &i.key == k)
        });
        for text in self.indicators.values_mut() {
            *text = text.chars().take(200).collect();
        }
        self.self_assessment = self
            .self_assessment
            .chars()
            .take(NARRATIVE_MAX_CHARS * 2)
            .collect();
        self
    }
}

/// Checks the materials for submission; `has_evidence` says whether a file is attached.
pub fn assess(policy: &Policy, data: &RecheckData, has_evidence: bool) -> Assessment {
    let mut a = Assessment::default();
    for ind in policy.criteria.iter().flat_map(|c| &c.indicators) {
        let field = format!("indicators.{}", ind.key);
        let raw = data
            .indicators
            .get(&ind.key)
            .map(String::as_str)
            .unwrap_or("");
        match parse_indicator(ind, raw) {
            Ok(Some(v)) => {
                a.values.insert(ind.key.clone(), v);
            }
            Ok(None) if raw.trim().is_empty() && ind.required => a.missing.push(FieldProblem {
                field,
                message: format!("请填写“{}”", ind.name),
            }),
            Ok(None) => {}
            Err(message) => a.invalid.push(FieldProblem {
                field,
                message: format!("“{}”{}", ind.name, message),
            }),
        }
    }
    let text = data.self_assessment.trim();
    if text.is_empty() {
        a.missing.push(FieldProblem {
            field: "self_assessment".into(),
            message: "请填写复核自评报告".into(),
        });
    } else if text.chars().count() > NARRATIVE_MAX_CHARS {
        a.invalid.push(FieldProblem {
            field: "self_assessment".into(),
            message: format!("复核自评报告不能超过{NARRATIVE_MAX_CHARS}字"),
        });
    }
    if !has_evidence {
        a.missing.push(FieldProblem {
            field: "attachments.evidence".into(),
            message: "请上传至少一份复核证明材料".into(),
        });
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Policy {
        Policy::parse(
            crate::policy::BUILTIN_POLICY_SOURCES[0].1,
            "hunan-2021.toml",
        )
        .unwrap()
    }

    fn complete(p: &Policy) -> RecheckData {
        let mut d = RecheckData {
            self_assessment: "三年来集群规模稳步增长。".into(),
            ..Default::default()
        };
        for ind in p.criteria.iter().flat_map(|c| &c.indicators) {
            // The industry code is picked from GB/T 4754; the rest are numbers.
            let v = if ind.value_type.is_number() {
                "10"
            } else {
                "C35"
            };
            d.indicators.insert(ind.key.clone(), v.into());
        }
        d
    }

    #[test]
    fn complete_materials_pass_and_each_gap_is_named() {
        let p = shipped();
        let d = complete(&p);
        assert!(assess(&p, &d, true).ready());
        let a = assess(&p, &d, false);
        assert_eq!(
            a.message_for("attachments.evidence"),
            Some("请上传至少一份复核证明材料")
        );
        let required = p
            .criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|i| i.required)
            .unwrap();
        let mut gap = d.clone();
        gap.indicators.insert(required.key.clone(), " ".into());
        gap.self_assessment.clear();
        let a = assess(&p, &gap, true);
        let field = format!("indicators.{}", required.key);
        assert!(a.message_for(&field).unwrap().contains(&required.name));
        assert_eq!(a.message_for("self_assessment"), Some("请填写复核自评报告"));
        let numeric = p
            .criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|i| i.value_type != crate::policy::ValueType::Text)
            .unwrap();
        let mut bad = d.clone();
        bad.indicators.insert(numeric.key.clone(), "很多".into());
        let field = format!("indicators.{}", numeric.key);
        assert!(assess(&p, &bad, true).message_for(&field).is_some());
    }

    #[test]
    fn a_draft_keeps_only_the_policy_indicators() {
        let p = shipped();
        let mut d = complete(&p);
        d.indicators.insert("unknown".into(), "1".into());
        let kept = d.clone().within(&p);
        assert!(!kept.indicators.contains_key("unknown"));
        assert_eq!(kept.indicators.len(), d.indicators.len() - 1);
    }
}
