//! The development report (第十三条) as the policy's `[reports.form]` defines it: the period's
//! indicators typed and unit-checked like the application's, the 第十五条 narrative sections
//! and the use of reward funds (第十七条); the completeness check made at submission and the
//! difference between two submitted versions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::intake::{Assessment, Change, FieldProblem, NARRATIVE_MAX_CHARS, parse_indicator};
use crate::policy::{ReportForm, ReportSection, Unit};

/// What the cluster typed, kept verbatim so nothing is lost when something is wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportData {
    #[serde(default)]
    pub indicators: BTreeMap<String, String>,
    /// One text per section key, the reward-funds text included.
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
}

impl ReportData {
    /// Keeps only the fields the form defines, each bounded, so a stored draft stays printable.
    pub fn within(mut self, form: &ReportForm) -> ReportData {
        self.indicators
            .retain(|k, _| form.indicators.iter().any(|i| &i.key == k));
        self.sections
            .retain(|k, _| all_sections(form).any(|s| &s.key == k));
        for text in self.indicators.values_mut() {
            *text = text.chars().take(200).collect();
        }
        for text in self.sections.values_mut() {
            *text = text.chars().take(NARRATIVE_MAX_CHARS * 2).collect();
        }
        self
    }
}

/// The narrative sections and then the reward-funds text, in form order.
pub fn all_sections(form: &ReportForm) -> impl Iterator<Item = &ReportSection> {
    form.sections
        .iter()
        .chain(std::iter::once(&form.reward_funds))
}

/// The field name of an indicator (`indicators.<key>`) or a section (`sections.<key>`), as pages
/// and the API name it.
pub fn indicator_field(key: &str) -> String {
    format!("indicators.{key}")
}

pub fn section_field(key: &str) -> String {
    format!("sections.{key}")
}

/// Every problem with the report as it stands: malformed numbers (also shown on a draft),
/// required items still empty.
pub fn assess(form: &ReportForm, data: &ReportData) -> Assessment {
    let mut a = Assessment::default();
    for ind in &form.indicators {
        let field = indicator_field(&ind.key);
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
    for s in all_sections(form) {
        let field = section_field(&s.key);
        let text = data.sections.get(&s.key).map(|t| t.trim()).unwrap_or("");
        if text.is_empty() && s.required {
            a.missing.push(FieldProblem {
                field,
                message: format!("请填写“{}”", s.name),
            });
        } else if text.chars().count() > NARRATIVE_MAX_CHARS {
            a.invalid.push(FieldProblem {
                field,
                message: format!("“{}”不能超过{NARRATIVE_MAX_CHARS}字", s.name),
            });
        }
    }
    a
}

/// What changed between two versions, field by field in form order.
pub fn diff(form: &ReportForm, before: &ReportData, after: &ReportData) -> Vec<Change> {
    let get = |m: &BTreeMap<String, String>, k: &str| {
        m.get(k).map(|s| s.trim().to_string()).unwrap_or_default()
    };
    let mut out = Vec::new();
    for ind in &form.indicators {
        let (b, a) = (
            get(&before.indicators, &ind.key),
            get(&after.indicators, &ind.key),
        );
        if a != b {
            let unit = ind.unit.map(Unit::as_str).unwrap_or("");
            out.push(Change {
                label: if unit.is_empty() {
                    ind.name.clone()
                } else {
                    format!("{}（{unit}）", ind.name)
                },
                before: b,
                after: a,
            });
        }
    }
    for s in all_sections(form) {
        let (b, a) = (get(&before.sections, &s.key), get(&after.sections, &s.key));
        if a != b {
            out.push(Change {
                label: s.name.clone(),
                before: b,
                after: a,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::builtin_policies;

    fn form() -> ReportForm {
        builtin_policies().unwrap().remove(0).reports.form.unwrap()
    }

    fn complete(f: &ReportForm) -> ReportData {
        let mut d = ReportData::default();
        for i in &f.indicators {
            d.indicators.insert(i.key.clone(), "12".into());
        }
        for s in all_sections(f) {
            d.sections
                .insert(s.key.clone(), format!("{}：进展顺利", s.name));
        }
        d
    }

    #[test]
    fn a_complete_report_is_ready() {
        let f = form();
        let a = assess(&f, &complete(&f));
        assert!(a.ready(), "{a:?}");
        assert_eq!(a.values.get("period_revenue"), Some(&12.0));
    }

    #[test]
    fn each_problem_names_its_field_in_chinese() {
        let f = form();
        struct Case {
            field: &'static str,
            value: &'static str,
            message: &'static str,
        }
        let cases = [
            Case {
                field: "period_revenue",
                value: "三百亿",
                message: "“本期集群营业收入”请填写数字",
            },
            Case {
                field: "period_revenue",
                value: "350万元",
                message: "“本期集群营业收入”单位应为亿元，请换算后只填写数字",
            },
            Case {
                field: "new_little_giants",
                value: "2.5",
                message: "“本期新增专精特新“小巨人”企业数”应为整数",
            },
            Case {
                field: "period_rd_intensity",
                value: "120",
                message: "“本期研发经费投入强度”百分比应在0至100之间",
            },
            Case {
                field: "new_projects",
                value: "",
                message: "请填写“本期新开工重大项目数”",
            },
        ];
        for c in cases {
            let mut d = complete(&f);
            d.indicators.insert(c.field.into(), c.value.into());
            let a = assess(&f, &d);
            assert_eq!(
                a.message_for(&indicator_field(c.field)),
                Some(c.message),
                "{}={}",
                c.field,
                c.value
            );
            assert!(!a.ready());
        }
        let mut d = complete(&f);
        d.sections.remove("reward_funds");
        d.sections.insert("brand".into(), "  ".into());
        let a = assess(&f, &d);
        assert_eq!(
            a.message_for("sections.reward_funds"),
            Some("请填写“奖励资金使用情况”")
        );
        assert_eq!(a.message_for("sections.brand"), Some("请填写“品牌”"));
    }

    #[test]
    fn unknown_fields_are_dropped_and_the_diff_lists_changes() {
        let f = form();
        let mut d = complete(&f);
        d.indicators.insert("colour".into(), "red".into());
        let kept = d.clone().within(&f);
        assert!(!kept.indicators.contains_key("colour"));
        let mut after = kept.clone();
        after
            .indicators
            .insert("period_revenue".into(), "15".into());
        after
            .sections
            .insert("brand".into(), "新增区域品牌2个".into());
        let changes = diff(&f, &kept, &after);
        let labels: Vec<&str> = changes.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["本期集群营业收入（亿元）", "品牌"]);
        assert_eq!(changes[0].before, "12");
        assert_eq!(changes[0].after, "15");
    }
}
