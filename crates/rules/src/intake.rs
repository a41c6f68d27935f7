//! The application form as the policy defines it: typed, unit-checked indicator values, the
//! narrative sections (one per scoring criterion), the negative-list attestation, and the
//! completeness and eligibility assessment shown before submission.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::policy::{CallRules, Indicator, Policy, Unit, ValueType};

/// What the applicant typed, kept verbatim so nothing is lost when something is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormData {
    #[serde(default)]
    pub indicators: BTreeMap<String, String>,
    /// One narrative section per criterion key.
    #[serde(default)]
    pub narratives: BTreeMap<String, String>,
    /// Negative-list items the applicant attests do not apply to it.
    #[serde(default)]
    pub attested: Vec<String>,
}

/// Narrative sections are limited so a form stays printable.
pub const NARRATIVE_MAX_CHARS: usize = 5000;
const TEXT_MAX_CHARS: usize = 500;

/// Parses one indicator value. An optional unit suffix is accepted when it is the indicator's own
/// unit ("350亿元" for 亿元); another unit is refused rather than silently misread by 10,000×.
pub fn parse_indicator(ind: &Indicator, raw: &str) -> Result<Option<f64>, String> {
    let text = raw.trim().replace([',', '，', ' '], "");
    if text.is_empty() {
        return Ok(None);
    }
    if ind.value_type == ValueType::IndustryCode {
        let code = raw.trim();
        return match jiqun_domain::industry::division(code) {
            Some(_) => Ok(None),
            None => Err(format!(
                "“{code}”不是{}制造业大类代码，请从列表中选择（C13至C43）",
                jiqun_domain::industry::standard()
            )),
        };
    }
    if ind.value_type == ValueType::Text {
        return if raw.trim().chars().count() > TEXT_MAX_CHARS {
            Err(format!("不能超过{TEXT_MAX_CHARS}个字"))
        } else {
            Ok(None)
        };
    }
    let unit = ind.unit.map(Unit::as_str).unwrap_or("");
    let number = if !unit.is_empty() && text.ends_with(unit) {
        text.trim_end_matches(unit).to_string()
    } else {
        text.clone()
    };
    let value: f64 = match number.parse() {
        Ok(v) => v,
        Err(_) => {
            // "350万元" in an 亿元 field: a number followed by some other unit.
            let looks_like_other_unit = number.starts_with(|c: char| c.is_ascii_digit())
                && !number
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                    .is_empty();
            return Err(if looks_like_other_unit && !unit.is_empty() {
                format!("单位应为{unit}，请换算后只填写数字")
            } else {
                "请填写数字".to_string()
            });
        }
    };
    if !value.is_finite() || value < 0.0 {
        return Err("不能为负数".to_string());
    }
    match ind.value_type {
        ValueType::Integer if value.fract() != 0.0 => Err("应为整数".to_string()),
        ValueType::Percent if value > 100.0 => Err("百分比应在0至100之间".to_string()),
        _ => Ok(Some(value)),
    }
}

/// A problem with one field, for display next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// `indicators.<key>`, `narratives.<key>`, `attested` or `attachments.<purpose>`.
    pub field: String,
    pub message: String,
}

/// Everything the applicant sees before submitting.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Assessment {
    /// Values that are malformed.
    pub invalid: Vec<FieldProblem>,
    /// Required items still empty.
    pub missing: Vec<FieldProblem>,
    /// Entry thresholds not met (e.g. 集群营业收入 below 100亿元).
    pub ineligible: Vec<FieldProblem>,
    /// Parsed numeric values by indicator key.
    pub values: BTreeMap<String, f64>,
}

impl Assessment {
    pub fn ready(&self) -> bool {
        self.invalid.is_empty() && self.missing.is_empty() && self.ineligible.is_empty()
    }

    /// The message for a field, if any (first wins).
    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.invalid
            .iter()
            .chain(&self.missing)
            .chain(&self.ineligible)
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
    }
}

/// Assesses a form against its policy alone, holding it to the thresholds of every kind.
/// `has_attachment(purpose)` says what is uploaded.
pub fn assess(
    policy: &Policy,
    form: &FormData,
    has_attachment: impl Fn(&str) -> bool,
) -> Assessment {
    assess_for(policy, &Terms::default(), form, has_attachment)
}

/// Whom a form is assessed for: the entrant's cluster kind and the call's own rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terms<'a> {
    /// The cluster kind key (`None`: only the thresholds of every kind apply).
    pub kind: Option<&'a str>,
    /// The call's own rules (stricter thresholds, extra files).
    pub call: Option<&'a CallRules>,
}

/// Assesses an application's form as its entrant is held to it: the policy's thresholds for
/// the entrant's kind with the call's stricter values, and the files both require.
pub fn assess_for(
    policy: &Policy,
    terms: &Terms<'_>,
    form: &FormData,
    has_attachment: impl Fn(&str) -> bool,
) -> Assessment {
    let mut a = assess_criteria_of(policy, terms.kind, form);
    let unattested: Vec<&str> = policy
        .eligibility
        .negative_list
        .iter()
        .filter(|item| !form.attested.contains(&item.key))
        .map(|item| item.text.as_str())
        .collect();
    if !unattested.is_empty() {
        a.missing.push(FieldProblem {
            field: "attested".into(),
            message: format!("请逐项确认不存在以下情形：{}", unattested.join("；")),
        });
    }
    // The files the policy requires (`eligibility.required_attachments`).
    for required in policy.required_attachments_for(terms.call) {
        if !has_attachment(&required.purpose) {
            a.missing.push(FieldProblem {
                field: format!("attachments.{}", required.purpose),
                message: format!("请上传{}", required.name),
            });
        }
    }
    // An empty value is reported as missing above; only a value that falls short is ineligible.
    for problem in policy
        .check_thresholds_for(terms.kind, terms.call, |key| a.values.get(key).copied())
        .into_iter()
        .filter(|p| a.values.contains_key(&p.indicator))
    {
        a.ineligible.push(FieldProblem {
            field: format!("indicators.{}", problem.indicator),
            message: problem.message,
        });
    }
    a
}

/// The part of an assessment every form over the policy's criteria shares: each indicator's
/// value (typed, unit-checked, required ones present) and one narrative per criterion. The
/// application adds the attestation, files and thresholds; the 决赛 materials use it as it is.
pub fn assess_criteria(policy: &Policy, form: &FormData) -> Assessment {
    assess_criteria_of(policy, None, form)
}

/// [`assess_criteria`] for a cluster of `kind`: indicators of other kinds are not asked for.
pub fn assess_criteria_of(policy: &Policy, kind: Option<&str>, form: &FormData) -> Assessment {
    let mut a = Assessment::default();
    for criterion in &policy.criteria {
        for ind in criterion.indicators.iter().filter(|i| i.applies_to(kind)) {
            let field = format!("indicators.{}", ind.key);
            let raw = form
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
        let field = format!("narratives.{}", criterion.key);
        let text = form
            .narratives
            .get(&criterion.key)
            .map(|s| s.trim())
            .unwrap_or("");
        if text.is_empty() {
            a.missing.push(FieldProblem {
                field,
                message: format!("请填写“{}”的说明", criterion.name),
            });
        } else if text.chars().count() > NARRATIVE_MAX_CHARS {
            a.invalid.push(FieldProblem {
                field,
                message: format!("“{}”的说明不能超过{NARRATIVE_MAX_CHARS}字", criterion.name),
            });
        }
    }
    a
}

/// What changed between two submitted versions, for the city bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub label: String,
    pub before: String,
    pub after: String,
}

pub fn diff(policy: &Policy, before: &FormData, after: &FormData) -> Vec<Change> {
    let mut out = Vec::new();
    for criterion in &policy.criteria {
        for ind in &criterion.indicators {
            let b = before
                .indicators
                .get(&ind.key)
                .map(|s| s.trim())
                .unwrap_or("");
            let a = after
                .indicators
                .get(&ind.key)
                .map(|s| s.trim())
                .unwrap_or("");
            if a != b {
                let unit = ind.unit.map(Unit::as_str).unwrap_or("");
                out.push(Change {
                    label: if unit.is_empty() {
                        ind.name.clone()
                    } else {
                        format!("{}（{unit}）", ind.name)
                    },
                    before: b.to_string(),
                    after: a.to_string(),
                });
            }
        }
        let b = before
            .narratives
            .get(&criterion.key)
            .map(|s| s.trim())
            .unwrap_or("");
        let a = after
            .narratives
            .get(&criterion.key)
            .map(|s| s.trim())
            .unwrap_or("");
        if a != b {
            out.push(Change {
                label: format!("{}（说明）", criterion.name),
                before: b.to_string(),
                after: a.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::builtin_policies;

    fn policy() -> Policy {
        builtin_policies().unwrap().remove(0)
    }

    fn indicator(key: &str) -> Indicator {
        policy().indicator(key).unwrap().clone()
    }

    #[test]
    fn numbers_are_typed_and_unit_checked() {
        let revenue = indicator("cluster_revenue");
        assert_eq!(parse_indicator(&revenue, " 350.5 "), Ok(Some(350.5)));
        assert_eq!(parse_indicator(&revenue, "1,200亿元"), Ok(Some(1200.0)));
        assert_eq!(
            parse_indicator(&revenue, "350万元"),
            Err("单位应为亿元，请换算后只填写数字".into())
        );
        assert_eq!(parse_indicator(&revenue, "-1"), Err("不能为负数".into()));
        assert_eq!(parse_indicator(&revenue, "很多"), Err("请填写数字".into()));
        assert_eq!(parse_indicator(&revenue, ""), Ok(None));
        let count = indicator("above_scale_enterprises");
        assert_eq!(parse_indicator(&count, "12.5"), Err("应为整数".into()));
        assert_eq!(parse_indicator(&count, "120家"), Ok(Some(120.0)));
        let share = indicator("leading_industry_revenue_share");
        assert_eq!(
            parse_indicator(&share, "101"),
            Err("百分比应在0至100之间".into())
        );
    }

    #[test]
    fn the_leading_industry_is_a_gbt4754_manufacturing_division() {
        let code = indicator("leading_industry_code");
        assert_eq!(code.value_type, ValueType::IndustryCode);
        for good in ["C36", "c36", " 36 ", "C13", "C43"] {
            assert_eq!(parse_indicator(&code, good), Ok(None), "{good}");
        }
        for bad in ["C99", "C12", "C44", "汽车", "C3", "A01"] {
            let e = parse_indicator(&code, bad).unwrap_err();
            assert!(
                e.contains("GB/T 4754-2017") && e.contains("请从列表中选择"),
                "{bad}: {e}"
            );
        }
        assert_eq!(parse_indicator(&code, ""), Ok(None));
    }

    fn complete_form(p: &Policy) -> FormData {
        let mut form = FormData::default();
        for c in &p.criteria {
            for ind in &c.indicators {
                let v = match ind.value_type {
                    ValueType::Text | ValueType::IndustryCode => "C35",
                    ValueType::Percent => "50",
                    _ => "120",
                };
                form.indicators.insert(ind.key.clone(), v.into());
            }
            form.narratives.insert(c.key.clone(), "说明".into());
        }
        form.attested = p
            .eligibility
            .negative_list
            .iter()
            .map(|i| i.key.clone())
            .collect();
        form
    }

    /// The shipped text with one required indicator that only 特色 clusters report.
    fn with_specialty_indicator() -> Policy {
        let text = crate::policy::BUILTIN_POLICY_SOURCES[0].1.replacen(
            "indicators = [",
            "indicators = [\n  { key = \"niche_share\", name = \"细分领域国内市场占有率\", unit = \"%\", value_type = \"percent\", required = true, kinds = [\"specialty\"] },",
            1,
        );
        Policy::parse(&text, "test").unwrap()
    }

    #[test]
    fn an_indicator_of_one_kind_is_asked_of_that_kind_only() {
        let p = with_specialty_indicator();
        let mut form = complete_form(&p);
        form.indicators.remove("niche_share");
        let of = |kind: &str| {
            assess_for(
                &p,
                &Terms {
                    kind: Some(kind),
                    call: None,
                },
                &form,
                |_| true,
            )
        };
        assert!(of("leading").ready(), "{:?}", of("leading"));
        let specialty = of("specialty");
        assert_eq!(
            specialty
                .missing
                .iter()
                .map(|m| m.message.as_str())
                .collect::<Vec<_>>(),
            ["请填写“细分领域国内市场占有率”"]
        );
        // An unknown kind in `kinds` is refused at load, with its key path.
        let text = crate::policy::BUILTIN_POLICY_SOURCES[0].1.replacen(
            "indicators = [",
            "indicators = [\n  { key = \"niche_share\", name = \"细分领域国内市场占有率\", unit = \"%\", value_type = \"percent\", required = true, kinds = [\"niche\"] },",
            1,
        );
        let err = Policy::parse(&text, "test").unwrap_err().to_string();
        assert!(err.contains("criteria[0].indicators[0].kinds[0]"), "{err}");
        assert!(
            err.contains("集群类别“niche”不在 cluster_kinds 中"),
            "{err}"
        );
    }

    #[test]
    fn a_complete_eligible_form_is_ready() {
        let p = policy();
        let a = assess(&p, &complete_form(&p), |_| true);
        assert!(a.ready(), "{a:?}");
        assert_eq!(a.values.get("cluster_revenue"), Some(&120.0));
    }

    #[test]
    fn thresholds_missing_items_and_attachments_are_named() {
        let p = policy();
        let mut form = complete_form(&p);
        form.indicators
            .insert("cluster_revenue".into(), "80".into());
        form.narratives.remove("openness");
        form.attested.pop();
        let a = assess(&p, &form, |purpose| purpose == "report");
        assert_eq!(
            a.message_for("indicators.cluster_revenue"),
            Some("集群营业收入应不低于100亿元")
        );
        assert!(
            a.message_for("narratives.openness")
                .unwrap()
                .contains("开放合作")
        );
        assert!(a.message_for("attested").is_some());
        assert!(
            a.message_for("attachments.pledge")
                .unwrap()
                .contains("真实性承诺书")
        );
        assert!(a.message_for("attachments.report").is_none());
        assert!(!a.ready());
    }

    #[test]
    fn an_empty_threshold_value_is_missing_not_ineligible() {
        let p = policy();
        let mut form = complete_form(&p);
        form.indicators.remove("cluster_revenue");
        let a = assess(&p, &form, |_| true);
        assert_eq!(
            a.message_for("indicators.cluster_revenue"),
            Some("请填写“集群营业收入”")
        );
        assert!(a.ineligible.is_empty(), "{:?}", a.ineligible);
    }

    #[test]
    fn the_diff_lists_changed_fields_only() {
        let p = policy();
        let before = complete_form(&p);
        let mut after = before.clone();
        after
            .indicators
            .insert("cluster_revenue".into(), "150".into());
        let changes = diff(&p, &before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].label, "集群营业收入（亿元）");
        assert_eq!(
            (changes[0].before.as_str(), changes[0].after.as_str()),
            ("120", "150")
        );
    }
}
