//! A yearly call's own rules within what its policy allows (竞赛通知): that year's eligibility
//! thresholds (only stricter than the policy's), the most winners per cluster kind in a round,
//! extra files an application must carry and extra requirements shown to applicants. The
//! thresholds and files an applicant is held to are read through [`Policy::thresholds_for`] and
//! [`Policy::required_attachments_for`], whoever asks (live checks, submission, city review).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{ATTACHMENT_PURPOSES, CompareOp, Policy, RequiredAttachment};

/// A call's own rules, stored with the competition as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallRules {
    /// That year's thresholds, each at least as strict as the policy's for the same kind.
    #[serde(default)]
    pub thresholds: Vec<CallThreshold>,
    /// The most winners per cluster kind in each round of the call.
    #[serde(default)]
    pub quotas: BTreeMap<String, u32>,
    /// Files required besides the policy's.
    #[serde(default)]
    pub attachments: Vec<RequiredAttachment>,
    /// Further requirements of the year's notice, shown to applicants.
    #[serde(default)]
    pub requirements: String,
}

impl CallRules {
    pub fn is_empty(&self) -> bool {
        self == &CallRules::default()
    }

    /// The call's value for the policy threshold on `indicator` for `kind`.
    pub fn threshold(&self, indicator: &str, kind: &str) -> Option<f64> {
        self.thresholds
            .iter()
            .find(|t| t.indicator == indicator && t.kind == kind)
            .map(|t| t.value)
    }

    /// The call's quota for `kind` capping a round's `quota`.
    pub fn cap_quota(&self, kind: &str, quota: u32) -> u32 {
        self.quotas.get(kind).map_or(quota, |max| quota.min(*max))
    }
}

/// One threshold of the call: the policy's threshold on `indicator`, for `kind`, at `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallThreshold {
    pub indicator: String,
    pub kind: String,
    pub value: f64,
}

/// A threshold as an entrant is held to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectiveThreshold {
    pub indicator: String,
    pub op: CompareOp,
    pub value: f64,
    /// The policy's value for the entrant's kind.
    pub policy_value: f64,
    pub message: String,
    /// Set by the call, stricter than the policy.
    pub from_call: bool,
}

/// Up to four decimals, without trailing zeros.
fn show(x: f64) -> String {
    let text = format!("{x:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl Policy {
    /// The eligibility thresholds an entrant of `kind` is held to (`None`: the general ones
    /// only), with the call's stricter values where it set them. The one reading of thresholds
    /// for the applicant's live checks, submission and the city review.
    pub fn thresholds_for(
        &self,
        kind: Option<&str>,
        call: Option<&CallRules>,
    ) -> Vec<EffectiveThreshold> {
        self.eligibility
            .thresholds
            .iter()
            .filter(|t| t.applies_to(kind))
            .map(|t| {
                let policy_value = t.value_for(kind);
                let kind_message = kind.and_then(|k| {
                    t.message_by_kind.get(k).cloned().or_else(|| {
                        t.value_by_kind
                            .contains_key(k)
                            .then(|| self.threshold_message(&t.indicator, t.op, policy_value))
                    })
                });
                let policy_message = kind_message.unwrap_or_else(|| t.message.clone());
                let call_value = kind
                    .zip(call)
                    .and_then(|(k, c)| c.threshold(&t.indicator, k))
                    .filter(|v| *v != policy_value && t.op.at_least_as_strict(*v, policy_value));
                match call_value {
                    Some(value) => EffectiveThreshold {
                        indicator: t.indicator.clone(),
                        op: t.op,
                        value,
                        policy_value,
                        message: self.threshold_message(&t.indicator, t.op, value),
                        from_call: true,
                    },
                    None => EffectiveThreshold {
                        indicator: t.indicator.clone(),
                        op: t.op,
                        value: policy_value,
                        policy_value,
                        message: policy_message,
                        from_call: false,
                    },
                }
            })
            .collect()
    }

    /// A threshold worded from its indicator: “集群营业收入应不低于50亿元”.
    pub fn threshold_message(&self, indicator: &str, op: CompareOp, value: f64) -> String {
        let (name, unit) = self.indicator(indicator).map_or((indicator, ""), |i| {
            (i.name.as_str(), i.unit.map_or("", |u| u.as_str()))
        });
        format!("{name}应{}{}{unit}", op.words(), show(value))
    }

    /// The files an application to a call must carry: the policy's, then the call's own.
    pub fn required_attachments_for(&self, call: Option<&CallRules>) -> Vec<RequiredAttachment> {
        let mut list = self.required_attachments().to_vec();
        for extra in call.map(|c| c.attachments.as_slice()).unwrap_or_default() {
            if !list.iter().any(|a| a.purpose == extra.purpose) {
                list.push(extra.clone());
            }
        }
        list
    }

    /// Checks a call's own rules against the policy: every problem as (field, Chinese message).
    /// Fields (as the call form names them): `threshold.<indicator>.<kind>`, `quota.<kind>`,
    /// `attachment.<purpose>`.
    pub fn check_call_rules(&self, call: &CallRules) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for t in &call.thresholds {
            let field = format!("threshold.{}.{}", t.indicator, t.kind);
            if !seen.insert((t.indicator.clone(), t.kind.clone())) {
                problems.push((field, "同一门槛重复设置".to_string()));
                continue;
            }
            let Some(kind) = self.cluster_kind(&t.kind) else {
                problems.push((field, format!("集群类别“{}”不在办法规定之中", t.kind)));
                continue;
            };
            let Some(base) = self
                .eligibility
                .thresholds
                .iter()
                .find(|b| b.indicator == t.indicator && b.applies_to(Some(&t.kind)))
            else {
                problems.push((
                    field,
                    format!("办法对{}没有“{}”的门槛，不能另设", kind.name, t.indicator),
                ));
                continue;
            };
            let policy_value = base.value_for(Some(&t.kind));
            let name = self
                .indicator(&t.indicator)
                .map_or(t.indicator.as_str(), |i| i.name.as_str());
            if !t.value.is_finite() || t.value < 0.0 {
                problems.push((field, format!("“{name}”门槛应为不小于0的数字")));
            } else if !base.op.at_least_as_strict(t.value, policy_value) {
                problems.push((
                    field,
                    format!(
                        "{}“{name}”门槛不能比办法规定的{}{}更宽松",
                        kind.name,
                        base.op.symbol(),
                        show(policy_value)
                    ),
                ));
            }
        }
        for (kind, max) in &call.quotas {
            let field = format!("quota.{kind}");
            if self.cluster_kind(kind).is_none() {
                problems.push((field, format!("集群类别“{kind}”不在办法规定之中")));
            } else if *max == 0 {
                problems.push((field, "每轮胜出名额上限应至少为1".to_string()));
            }
        }
        let policy_purposes: Vec<&str> = self
            .required_attachments()
            .iter()
            .map(|a| a.purpose.as_str())
            .collect();
        for a in &call.attachments {
            let field = format!("attachment.{}", a.purpose);
            if !ATTACHMENT_PURPOSES.contains(&a.purpose.as_str()) {
                problems.push((
                    field,
                    format!(
                        "附件用途“{}”无效，可选值：{}",
                        a.purpose,
                        ATTACHMENT_PURPOSES.join("、")
                    ),
                ));
            } else if policy_purposes.contains(&a.purpose.as_str()) {
                problems.push((field, "办法已要求此类附件，无需另设".to_string()));
            } else if a.name.trim().is_empty() {
                problems.push((field, "请填写附件名称".to_string()));
            }
        }
        problems
    }
}
