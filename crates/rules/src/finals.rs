//! The 决赛申报材料 (第十一条): a finalist's updated indicators for the same policy criteria and
//! what it achieved during cultivation per criterion, checked like the application's criteria;
//! the before/after table the experts read; and whether a finalist is still in time, submitted,
//! or missed the deadline.

use serde::Serialize;
use time::OffsetDateTime;

use crate::intake::{self, Assessment, FormData};
use crate::policy::{Policy, Unit, ValueType};

/// The completeness check of the materials of a finalist of `kind`: every required indicator of
/// that kind valid and one account of achievements per criterion. Entry thresholds do not apply:
/// a finalist is already a 培育对象.
pub fn assess(policy: &Policy, kind: Option<&str>, form: &FormData) -> Assessment {
    let mut a = intake::assess_criteria_of(policy, kind, form);
    for problem in a.missing.iter_mut() {
        if let Some(key) = problem.field.strip_prefix("narratives.")
            && let Some(c) = policy.criteria.iter().find(|c| c.key == key)
        {
            problem.message = format!("请填写“{}”方面培育期间取得的成效", c.name);
        }
    }
    a
}

/// Where a finalist's materials stand at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not submitted and the deadline is ahead: drafts may change.
    Open,
    Submitted,
    /// Not submitted by the deadline: listed as 未提交决赛材料 and not ranked.
    Missed,
}

impl State {
    /// The deadline is the end of `due_at` (exclusive): at that instant the window has closed.
    pub fn at(submitted: bool, due_at: OffsetDateTime, now: OffsetDateTime) -> State {
        if submitted {
            State::Submitted
        } else if now < due_at {
            State::Open
        } else {
            State::Missed
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Submitted => "submitted",
            State::Missed => "missed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Open => "待提交",
            State::Submitted => "已提交",
            State::Missed => "未提交决赛材料",
        }
    }
}

/// One indicator in the before/after table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorChange {
    pub key: String,
    pub name: String,
    pub unit: String,
    /// As typed in the 初赛 application and in the 决赛 materials.
    pub before: String,
    pub after: String,
    /// "+12.5", "-3", "0" for numbers; empty when either side is not a number.
    pub change: String,
    /// up | down | same | "" (not comparable)
    pub direction: String,
}

/// One criterion: its indicators before and after, and what the finalist says it achieved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionChange {
    pub key: String,
    pub name: String,
    pub indicators: Vec<IndicatorChange>,
    pub achievements: String,
}

fn number(ind: &crate::policy::Indicator, raw: &str) -> Option<f64> {
    if ind.value_type == ValueType::Text {
        return None;
    }
    intake::parse_indicator(ind, raw).ok().flatten()
}

/// "+12.5" / "-3" / "0", at most two decimals, no trailing zeros.
fn signed(delta: f64) -> String {
    let rounded = (delta * 100.0).round() / 100.0;
    if rounded == 0.0 {
        return "0".into();
    }
    let text = format!("{:.2}", rounded.abs());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{}{text}", if rounded > 0.0 { "+" } else { "-" })
}

/// The before/after table per criterion of the policy for a finalist of `kind`: the 初赛
/// application's values beside the 决赛 materials' values, with the change where both are
/// numbers; indicators of other kinds are left out.
pub fn compare(
    policy: &Policy,
    kind: Option<&str>,
    before: &FormData,
    after: &FormData,
) -> Vec<CriterionChange> {
    policy
        .criteria
        .iter()
        .map(|c| CriterionChange {
            key: c.key.clone(),
            name: c.name.clone(),
            indicators: c
                .indicators
                .iter()
                .filter(|ind| ind.applies_to(kind))
                .map(|ind| {
                    let b = before.indicators.get(&ind.key).map_or("", |s| s.trim());
                    let a = after.indicators.get(&ind.key).map_or("", |s| s.trim());
                    let (change, direction) = match (number(ind, b), number(ind, a)) {
                        (Some(x), Some(y)) => {
                            let d = y - x;
                            let text = signed(d);
                            let dir = match text.chars().next() {
                                Some('+') => "up",
                                Some('-') => "down",
                                _ => "same",
                            };
                            (text, dir.to_string())
                        }
                        _ => (String::new(), String::new()),
                    };
                    IndicatorChange {
                        key: ind.key.clone(),
                        name: ind.name.clone(),
                        unit: ind.unit.map(Unit::as_str).unwrap_or("").to_string(),
                        before: b.to_string(),
                        after: a.to_string(),
                        change,
                        direction,
                    }
                })
                .collect(),
            achievements: after
                .narratives
                .get(&c.key)
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::builtin_policies;
    use time::macros::datetime;

    fn policy() -> Policy {
        builtin_policies().unwrap().remove(0)
    }

    /// A form with every indicator and narrative of the policy filled with `value`.
    fn full(p: &Policy, value: &str) -> FormData {
        let mut f = FormData::default();
        for c in &p.criteria {
            for i in &c.indicators {
                let v = match i.value_type {
                    ValueType::Text => "说明".to_string(),
                    ValueType::IndustryCode => "C35".to_string(),
                    _ => value.to_string(),
                };
                f.indicators.insert(i.key.clone(), v);
            }
            f.narratives.insert(c.key.clone(), "培育期间的成效".into());
        }
        f
    }

    #[test]
    fn states_follow_submission_and_the_deadline() {
        let due = datetime!(2026-12-25 00:00 +8);
        let cases = [
            (false, datetime!(2026-12-24 23:59 +8), State::Open),
            (false, datetime!(2026-12-25 00:00 +8), State::Missed),
            (true, datetime!(2026-12-24 10:00 +8), State::Submitted),
            (true, datetime!(2027-01-10 10:00 +8), State::Submitted),
        ];
        for (submitted, now, want) in cases {
            assert_eq!(State::at(submitted, due, now), want, "{submitted} {now}");
        }
        assert_eq!(State::Missed.label(), "未提交决赛材料");
    }

    #[test]
    fn a_complete_form_is_ready_and_thresholds_do_not_apply() {
        let p = policy();
        // 1 is below every entry threshold, yet the materials are complete.
        let a = assess(&p, None, &full(&p, "1"));
        assert!(a.ready(), "{a:?}");
    }

    #[test]
    fn missing_achievements_and_bad_values_are_named() {
        let p = policy();
        let mut f = full(&p, "10");
        let c = &p.criteria[0];
        f.narratives.remove(&c.key);
        let ind = c
            .indicators
            .iter()
            .find(|i| i.value_type.is_number())
            .unwrap();
        f.indicators.insert(ind.key.clone(), "很多".into());
        let a = assess(&p, None, &f);
        assert!(!a.ready());
        assert_eq!(
            a.message_for(&format!("narratives.{}", c.key)),
            Some(format!("请填写“{}”方面培育期间取得的成效", c.name).as_str())
        );
        assert!(
            a.message_for(&format!("indicators.{}", ind.key))
                .is_some_and(|m| m.contains("请填写数字"))
        );
    }

    #[test]
    fn the_table_shows_each_indicator_before_after_and_change() {
        let p = policy();
        let before = full(&p, "100");
        let mut after = full(&p, "100");
        let ind = p
            .criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|i| i.value_type == ValueType::Decimal)
            .unwrap();
        after.indicators.insert(ind.key.clone(), "112.5".into());
        let table = compare(&p, None, &before, &after);
        assert_eq!(table.len(), p.criteria.len());
        let row = table
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|r| r.key == ind.key)
            .unwrap();
        assert_eq!((row.before.as_str(), row.after.as_str()), ("100", "112.5"));
        assert_eq!(
            (row.change.as_str(), row.direction.as_str()),
            ("+12.5", "up")
        );
        let same = table
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|r| r.key != ind.key && !r.change.is_empty())
            .unwrap();
        assert_eq!(
            (same.change.as_str(), same.direction.as_str()),
            ("0", "same")
        );
        assert_eq!(table[0].achievements, "培育期间的成效");
    }

    #[test]
    fn a_finalist_is_asked_only_for_the_indicators_of_its_kind() {
        let mut p = policy();
        let kinds: Vec<String> = p.cluster_kinds.iter().map(|k| k.key.clone()).collect();
        let (own, other) = (kinds[0].as_str(), kinds[1].as_str());
        let ind = p
            .criteria
            .iter_mut()
            .flat_map(|c| c.indicators.iter_mut())
            .find(|i| i.required)
            .unwrap();
        ind.kinds = Some(vec![own.to_string()]);
        let key = ind.key.clone();
        let mut f = full(&p, "10");
        f.indicators.remove(&key);
        let field = format!("indicators.{key}");
        assert!(assess(&p, Some(own), &f).message_for(&field).is_some());
        assert!(assess(&p, Some(other), &f).ready());
        let shown = |kind| {
            compare(&p, Some(kind), &f, &f)
                .iter()
                .flat_map(|c| &c.indicators)
                .any(|r| r.key == key)
        };
        assert!(shown(own));
        assert!(!shown(other));
    }

    #[test]
    fn changes_are_signed_and_rounded() {
        let cases = [
            (12.5, "+12.5"),
            (-3.0, "-3"),
            (0.0, "0"),
            (0.004, "0"),
            (1.239, "+1.24"),
            (-0.1, "-0.1"),
        ];
        for (d, want) in cases {
            assert_eq!(signed(d), want, "{d}");
        }
    }

    #[test]
    fn a_value_that_is_not_a_number_has_no_change() {
        let p = policy();
        let before = FormData::default();
        let after = full(&p, "5");
        let table = compare(&p, None, &before, &after);
        assert!(
            table
                .iter()
                .flat_map(|c| &c.indicators)
                .all(|r| r.change.is_empty() && r.direction.is_empty())
        );
    }
}
