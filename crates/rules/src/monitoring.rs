//! Monitoring a titled cluster's reported figures (第五条 及时掌握集群建设和运营情况, 第十四条
//! 弄虚作假): figures that deserve a question are flagged with the reason in Chinese, by the
//! policy's `[reports.flags]` — a change year on year beyond a share, a half-year figure above
//! the same year's annual one, a 第六条 threshold an annual figure no longer meets.

use std::collections::BTreeMap;

use crate::deadline::{ReportKind, ReportPeriod};
use crate::policy::{Policy, ReportForm, Unit};

/// Parsed figures of one report by indicator key.
pub type Figures = BTreeMap<String, f64>;

/// Why a figure is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlagKind {
    /// A change from the same period a year before beyond the policy's share.
    YearOnYear,
    /// A half-year period flow above the same year's annual figure.
    HalfAboveAnnual,
    /// An annual figure below a 第六条 threshold.
    ThresholdNotMet,
    /// The first annual report's figure far from the application's (弄虚作假 checks, 第十四条).
    ContradictsApplication,
}

impl FlagKind {
    pub fn key(self) -> &'static str {
        match self {
            FlagKind::YearOnYear => "year_on_year",
            FlagKind::HalfAboveAnnual => "half_above_annual",
            FlagKind::ThresholdNotMet => "threshold_not_met",
            FlagKind::ContradictsApplication => "contradicts_application",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FlagKind::YearOnYear => "同比变化异常",
            FlagKind::HalfAboveAnnual => "半年度高于全年",
            FlagKind::ThresholdNotMet => "不再满足第六条门槛",
            FlagKind::ContradictsApplication => "与申报数据不符",
        }
    }

    pub const ALL: [FlagKind; 4] = [
        FlagKind::YearOnYear,
        FlagKind::HalfAboveAnnual,
        FlagKind::ThresholdNotMet,
        FlagKind::ContradictsApplication,
    ];

    pub fn from_key(key: &str) -> Option<FlagKind> {
        FlagKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub indicator: String,
    pub kind: FlagKind,
    /// The reason, in Chinese, naming the figures.
    pub reason: String,
}

/// The other reports a report is read against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The same kind of report for the year before.
    pub year_before: Option<&'a Figures>,
    /// The same year's other kind: the annual report for a half-year one and the other way round.
    pub same_year_other: Option<&'a Figures>,
}

fn number(v: f64) -> String {
    let rounded = (v * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}

/// The flags of a report of `period` with `figures`, read against `ctx`, in form order.
pub fn flags(
    policy: &Policy,
    form: &ReportForm,
    period: ReportPeriod,
    figures: &Figures,
    ctx: Context<'_>,
) -> Vec<Flag> {
    let Some(rules) = &policy.reports.flags else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ind in &form.indicators {
        let Some(&cur) = figures.get(&ind.key) else {
            continue;
        };
        let unit = ind.unit.map(Unit::as_str).unwrap_or("");
        let name = &ind.name;
        if let Some(&before) = ctx.year_before.and_then(|f| f.get(&ind.key))
            && before > 0.0
        {
            let change = (cur - before) / before * 100.0;
            if change.abs() > rules.year_on_year_change_percent {
                out.push(Flag {
                    indicator: ind.key.clone(),
                    kind: FlagKind::YearOnYear,
                    reason: format!(
                        "“{name}”{}{unit}，较上年同期{}{unit}{}{}%，超过±{}%的提示幅度",
                        number(cur),
                        number(before),
                        if change > 0.0 { "增长" } else { "下降" },
                        number(change.abs()),
                        number(rules.year_on_year_change_percent),
                    ),
                });
            }
        }
        if rules.cumulative.contains(&ind.key)
            && let Some(&other) = ctx.same_year_other.and_then(|f| f.get(&ind.key))
        {
            let (half, annual) = match period.kind {
                ReportKind::SemiAnnual => (cur, other),
                ReportKind::Annual => (other, cur),
            };
            if half > annual {
                out.push(Flag {
                    indicator: ind.key.clone(),
                    kind: FlagKind::HalfAboveAnnual,
                    reason: format!(
                        "“{name}”{}年上半年为{}{unit}，高于全年的{}{unit}",
                        period.year,
                        number(half),
                        number(annual)
                    ),
                });
            }
        }
        if period.kind == ReportKind::Annual {
            for t in rules.thresholds.iter().filter(|t| t.indicator == ind.key) {
                for th in policy
                    .eligibility
                    .thresholds
                    .iter()
                    .filter(|x| x.indicator == t.eligibility)
                {
                    if !th.op.holds(cur, th.value) {
                        out.push(Flag {
                            indicator: ind.key.clone(),
                            kind: FlagKind::ThresholdNotMet,
                            reason: format!(
                                "“{name}”{}{unit}，已不满足第六条门槛：{}",
                                number(cur),
                                th.message
                            ),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Which application indicator carries the same figure as a report indicator: the same key
/// (e.g. 规上工业企业数) or a pair of `[reports.flags] thresholds`, with the same unit.
/// (application key, report key), in report form order.
pub fn application_pairs(policy: &Policy, form: &ReportForm) -> Vec<(String, String)> {
    let app_indicator = |key: &str| {
        policy
            .criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|i| i.key == key)
    };
    let mut out = Vec::new();
    for ind in &form.indicators {
        let mapped = policy
            .reports
            .flags
            .iter()
            .flat_map(|f| &f.thresholds)
            .filter(|t| t.indicator == ind.key)
            .map(|t| t.eligibility.as_str());
        for app_key in std::iter::once(ind.key.as_str()).chain(mapped) {
            if let Some(a) = app_indicator(app_key)
                && a.unit.is_some()
                && a.unit == ind.unit
                && !out
                    .iter()
                    .any(|(k, r): &(String, String)| k == app_key && *r == ind.key)
            {
                out.push((app_key.to_string(), ind.key.clone()));
            }
        }
    }
    out
}

/// The figures of an annual report (the cluster's first after its application) that lie the
/// policy's share or more away from what the application stated, with the reason.
pub fn contradictions(
    policy: &Policy,
    form: &ReportForm,
    period: ReportPeriod,
    figures: &Figures,
    application: &Figures,
) -> Vec<Flag> {
    let Some(rules) = &policy.reports.flags else {
        return Vec::new();
    };
    if period.kind != ReportKind::Annual {
        return Vec::new();
    }
    let share = rules.application_share();
    let app_name = |key: &str| {
        policy
            .criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|i| i.key == key)
            .map_or(key.to_string(), |i| i.name.clone())
    };
    let mut out = Vec::new();
    for (app_key, rep_key) in application_pairs(policy, form) {
        let (Some(&cur), Some(&stated)) = (figures.get(&rep_key), application.get(&app_key)) else {
            continue;
        };
        let Some(ind) = form.indicators.iter().find(|i| i.key == rep_key) else {
            continue;
        };
        if stated <= 0.0 {
            continue;
        }
        let change = (cur - stated) / stated * 100.0;
        if change.abs() > share {
            let unit = ind.unit.map(Unit::as_str).unwrap_or("");
            out.push(Flag {
                indicator: rep_key.clone(),
                kind: FlagKind::ContradictsApplication,
                reason: format!(
                    "“{}”{}年度为{}{unit}，申报书填报的“{}”为{}{unit}，{}{}%，超过±{}%的提示幅度，请核实申报数据是否真实",
                    ind.name,
                    period.year,
                    number(cur),
                    app_name(&app_key),
                    number(stated),
                    if change > 0.0 { "高出" } else { "低了" },
                    number(change.abs()),
                    number(share),
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::builtin_policies;
    use proptest::prelude::*;

    fn policy() -> (Policy, ReportForm) {
        let p = builtin_policies().unwrap().remove(0);
        let f = p.reports.form.clone().unwrap();
        (p, f)
    }

    fn figures(pairs: &[(&str, f64)]) -> Figures {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn kinds(list: &[Flag]) -> Vec<(&str, FlagKind)> {
        list.iter()
            .map(|f| (f.indicator.as_str(), f.kind))
            .collect()
    }

    #[test]
    fn each_kind_of_flag_with_its_reason() {
        let (p, form) = policy();
        let y2025 = ReportPeriod::annual(2025);
        // A jump year on year.
        let before = figures(&[("period_revenue", 200.0), ("new_projects", 10.0)]);
        let now = figures(&[("period_revenue", 320.0), ("new_projects", 12.0)]);
        let list = flags(
            &p,
            &form,
            y2025,
            &now,
            Context {
                year_before: Some(&before),
                same_year_other: None,
            },
        );
        assert_eq!(kinds(&list), [("period_revenue", FlagKind::YearOnYear)]);
        assert_eq!(
            list[0].reason,
            "“本期集群营业收入”320亿元，较上年同期200亿元增长60%，超过±50%的提示幅度"
        );
        // A fall is flagged as well.
        let fallen = figures(&[("period_revenue", 80.0)]);
        let list = flags(
            &p,
            &form,
            y2025,
            &fallen,
            Context {
                year_before: Some(&before),
                same_year_other: None,
            },
        );
        assert!(list[0].reason.contains("下降60%"), "{list:?}");
        // A half year above the annual figure, from either side.
        let half = figures(&[("period_revenue", 180.0), ("above_scale_enterprises", 90.0)]);
        let annual = figures(&[("period_revenue", 150.0), ("above_scale_enterprises", 80.0)]);
        let from_half = flags(
            &p,
            &form,
            ReportPeriod::semi_annual(2025),
            &half,
            Context {
                year_before: None,
                same_year_other: Some(&annual),
            },
        );
        assert_eq!(
            kinds(&from_half),
            [("period_revenue", FlagKind::HalfAboveAnnual)],
            "enterprises at the end of a period are a stock, not a flow"
        );
        assert_eq!(
            from_half[0].reason,
            "“本期集群营业收入”2025年上半年为180亿元，高于全年的150亿元"
        );
        let from_annual = flags(
            &p,
            &form,
            y2025,
            &annual,
            Context {
                year_before: None,
                same_year_other: Some(&half),
            },
        );
        assert!(
            from_annual
                .iter()
                .any(|f| f.kind == FlagKind::HalfAboveAnnual && f.reason == from_half[0].reason)
        );
        // 第六条 thresholds, for annual reports only: 150亿元 meets the 100亿元 threshold.
        assert!(
            !from_annual
                .iter()
                .any(|f| f.kind == FlagKind::ThresholdNotMet)
        );
        let low = figures(&[("period_revenue", 80.0), ("period_leading_revenue", 12.0)]);
        let list = flags(&p, &form, y2025, &low, Context::default());
        assert_eq!(
            list.iter().map(|f| f.reason.as_str()).collect::<Vec<_>>(),
            ["“本期集群营业收入”80亿元，已不满足第六条门槛：集群营业收入应不低于100亿元"]
        );
        let list = flags(
            &p,
            &form,
            ReportPeriod::semi_annual(2025),
            &low,
            Context::default(),
        );
        assert!(
            list.is_empty(),
            "a half year is not read against annual thresholds"
        );
    }

    #[test]
    fn an_annual_report_far_from_the_application_is_flagged() {
        let (p, form) = policy();
        let pairs = application_pairs(&p, &form);
        assert!(pairs.contains(&("cluster_revenue".into(), "period_revenue".into())));
        assert!(pairs.contains(&(
            "chain_leader_revenue".into(),
            "period_leading_revenue".into()
        )));
        assert!(pairs.contains(&(
            "above_scale_enterprises".into(),
            "above_scale_enterprises".into()
        )));
        let application = figures(&[
            ("cluster_revenue", 300.0),
            ("above_scale_enterprises", 100.0),
        ]);
        let report = figures(&[
            ("period_revenue", 120.0),
            ("above_scale_enterprises", 120.0),
        ]);
        let list = contradictions(&p, &form, ReportPeriod::annual(2025), &report, &application);
        assert_eq!(
            kinds(&list),
            [("period_revenue", FlagKind::ContradictsApplication)]
        );
        assert_eq!(
            list[0].reason,
            "“本期集群营业收入”2025年度为120亿元，申报书填报的“集群营业收入”为300亿元，低了60%，超过±50%的提示幅度，请核实申报数据是否真实"
        );
        // Half-year figures are not compared with a year's.
        assert!(
            contradictions(
                &p,
                &form,
                ReportPeriod::semi_annual(2025),
                &report,
                &application
            )
            .is_empty()
        );
        // The policy may set its own share.
        let mut strict = p.clone();
        if let Some(f) = strict.reports.flags.as_mut() {
            f.application_change_percent = Some(10.0);
        }
        let list = contradictions(
            &strict,
            &form,
            ReportPeriod::annual(2025),
            &report,
            &application,
        );
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(list[1].reason.contains("高出20%，超过±10%"), "{list:?}");
    }

    #[test]
    fn flag_kinds_read_back() {
        for k in FlagKind::ALL {
            assert_eq!(FlagKind::from_key(k.key()), Some(k));
            assert!(!k.label().is_empty());
        }
    }

    #[test]
    fn a_policy_without_flag_rules_flags_nothing() {
        let (mut p, form) = policy();
        p.reports.flags = None;
        let low = figures(&[("period_revenue", 1.0)]);
        assert!(
            flags(
                &p,
                &form,
                ReportPeriod::annual(2025),
                &low,
                Context::default()
            )
            .is_empty()
        );
    }

    proptest! {
        /// The year-on-year flag is raised exactly when the change exceeds the policy's share,
        /// whatever the scale of the figures; a half-year flow above the annual one is flagged
        /// the same from either report.
        #[test]
        fn flags_follow_the_rules(
            before in 1.0f64..10_000.0,
            ratio in 0.0f64..3.0,
            scale in 0.01f64..100.0,
            half_share in 0.0f64..2.0,
        ) {
            let (p, form) = policy();
            let t = p.reports.flags.as_ref().unwrap().year_on_year_change_percent;
            let cur = before * ratio;
            let change = (cur - before).abs() / before * 100.0;
            prop_assume!((change - t).abs() > 1e-6);
            let run = |k: f64| {
                let b = figures(&[("new_projects", before * k)]);
                let c = figures(&[("new_projects", cur * k)]);
                flags(&p, &form, ReportPeriod::annual(2025), &c, Context { year_before: Some(&b), same_year_other: None })
            };
            let flagged = run(1.0).iter().any(|f| f.kind == FlagKind::YearOnYear);
            prop_assert_eq!(flagged, change > t);
            prop_assert_eq!(run(scale).iter().any(|f| f.kind == FlagKind::YearOnYear), flagged);

            let annual = figures(&[("new_projects", before)]);
            let half = figures(&[("new_projects", before * half_share)]);
            let from_half = flags(&p, &form, ReportPeriod::semi_annual(2025), &half,
                Context { year_before: None, same_year_other: Some(&annual) });
            let from_annual = flags(&p, &form, ReportPeriod::annual(2025), &annual,
                Context { year_before: None, same_year_other: Some(&half) });
            let h = from_half.iter().any(|f| f.kind == FlagKind::HalfAboveAnnual);
            let a = from_annual.iter().any(|f| f.kind == FlagKind::HalfAboveAnnual);
            prop_assert_eq!(h, before * half_share > before);
            prop_assert_eq!(h, a);
        }

        /// A report figure contradicts the application exactly when it lies beyond the share,
        /// either way.
        #[test]
        fn contradictions_follow_the_share(stated in 1.0f64..10_000.0, ratio in 0.0f64..3.0) {
            let (p, form) = policy();
            let share = p.reports.flags.as_ref().unwrap().application_share();
            let cur = stated * ratio;
            let change = (cur - stated).abs() / stated * 100.0;
            prop_assume!((change - share).abs() > 1e-6);
            let list = contradictions(&p, &form, ReportPeriod::annual(2025),
                &figures(&[("period_revenue", cur)]), &figures(&[("cluster_revenue", stated)]));
            prop_assert_eq!(!list.is_empty(), change > share);
        }
    }
}
