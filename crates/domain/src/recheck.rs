//! 复核 (第十四条) as a proceeding: the steps one cluster's recheck goes through, the panel's
//! conflict-of-interest rule and the verdict a panel score gives against the policy's pass mark.
//!
//! A recheck is due once the province's call lists the cluster. The cluster saves its materials
//! as often as it likes and submits them by the call's deadline; its city bureau gives a written
//! opinion; the province records the panel's decision (named, conflict-free experts, a score);
//! once the result list's public notice has run its course the province confirms it. A cluster
//! that did not submit by the deadline lapses. Failing and lapsing open a revocation case (the
//! shell does that in the same transaction).

use serde::{Deserialize, Serialize};
use time::Date;

use crate::review::{Conflict, Entrant, Expert, conflicts};

/// Where a recheck stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter)
)]
#[cfg_attr(
    feature = "sea-orm",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
pub enum Status {
    /// Listed by the call; the cluster prepares its materials.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "due"))]
    Due,
    /// Submitted; the city bureau gives its opinion.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "submitted"))]
    Submitted,
    /// The city has given its opinion; the province reviews.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "city_reviewed"))]
    CityReviewed,
    /// The panel's result is recorded; it goes through the public notice.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "reviewed"))]
    Reviewed,
    /// Confirmed as passed.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "passed"))]
    Passed,
    /// Confirmed as failed: a revocation case is open.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "failed"))]
    Failed,
    /// Not submitted by the deadline: a revocation case is open.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "lapsed"))]
    Lapsed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Due,
        Status::Submitted,
        Status::CityReviewed,
        Status::Reviewed,
        Status::Passed,
        Status::Failed,
        Status::Lapsed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Due => "due",
            Status::Submitted => "submitted",
            Status::CityReviewed => "city_reviewed",
            Status::Reviewed => "reviewed",
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Lapsed => "lapsed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Due => "待提交复核材料",
            Status::Submitted => "已提交，待市州意见",
            Status::CityReviewed => "市州已出具意见，待省级评审",
            Status::Reviewed => "已评审，待公示确认",
            Status::Passed => "复核通过",
            Status::Failed => "未通过复核，已立案撤销",
            Status::Lapsed => "未按期提交，已立案撤销",
        }
    }

    /// Whether the recheck is over.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Passed | Status::Failed | Status::Lapsed)
    }
}

/// What someone asks to do with a recheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The cluster saves a draft of its materials.
    Save,
    /// The cluster submits its materials.
    Submit,
    /// The city bureau gives its written opinion.
    CityOpinion,
    /// The province records the panel's decision.
    Review,
    /// The province confirms the result after the public notice.
    Confirm,
    /// The province records that nothing was submitted by the deadline.
    Lapse,
}

/// When a step is asked: today, the call's deadline, the result notice's last day (if the
/// list has been published) and how many objections to this recheck's result are still
/// being handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub today: Date,
    pub deadline: Date,
    pub notice_last_day: Option<Date>,
    pub open_objections: usize,
}

/// Why a step is refused, in Chinese.
pub fn next(status: Status, step: Step, t: Timing) -> Result<Status, String> {
    let late = t.today > t.deadline;
    match (status, step) {
        (Status::Due, Step::Save | Step::Submit) if late => Err(format!(
            "复核材料提交截止日期（{}）已过，不能再保存或提交",
            crate::round::date_zh(t.deadline)
        )),
        (Status::Due, Step::Save) => Ok(Status::Due),
        (Status::Due, Step::Submit) => Ok(Status::Submitted),
        (Status::Due, Step::Lapse) if late => Ok(Status::Lapsed),
        (Status::Due, Step::Lapse) => Err(format!(
            "复核材料提交截止日期（{}）尚未届满，不能认定为未按期提交",
            crate::round::date_zh(t.deadline)
        )),
        (Status::Submitted, Step::CityOpinion) => Ok(Status::CityReviewed),
        (Status::CityReviewed, Step::Review) => Ok(Status::Reviewed),
        (Status::Reviewed, Step::Confirm) => match t.notice_last_day {
            None => Err("复核结果尚未公示，请先发布复核结果公示".into()),
            Some(last) if t.today <= last => Err(format!(
                "复核结果公示期至{}，公示期满后方可确认结果",
                crate::round::date_zh(last)
            )),
            Some(_) if t.open_objections > 0 => Err(format!(
                "尚有{}件针对该复核结果的异议未办结，办结后方可确认结果",
                t.open_objections
            )),
            Some(_) => Ok(Status::Reviewed),
        },
        (s, _) => Err(format!("复核当前状态为“{}”，不能办理此步骤", s.label())),
    }
}

/// The steps of a recheck for its step indicator, and where it stands.
pub fn steps(status: Status) -> Vec<(&'static str, crate::round::StepState)> {
    const LABELS: [&str; 5] = [
        "提交复核材料",
        "市州意见",
        "省级评审",
        "结果公示",
        "确认结果",
    ];
    let (at, stopped) = match status {
        Status::Due => (0, false),
        Status::Submitted => (1, false),
        Status::CityReviewed => (2, false),
        Status::Reviewed => (3, false),
        Status::Passed => (LABELS.len(), false),
        Status::Failed => (4, true),
        Status::Lapsed => (0, true),
    };
    crate::round::indicator(&LABELS, at, stopped)
}

/// The panel experts who may not judge this cluster, each with why (回避): ties to the
/// promotion organisation, co-applicants, members or core park, and experts working in the city
/// of the lead county or of ANY other county the cluster spans (the round rules, whole cluster).
/// Empty when the panel may judge it.
pub fn panel_conflicts(panel: &[Expert], cluster: &Entrant) -> Vec<(i64, Vec<Conflict>)> {
    panel
        .iter()
        .map(|e| (e.id, conflicts(e, cluster)))
        .filter(|(_, c)| !c.is_empty())
        .collect()
}

/// Whether a panel score passes: at or above the pass mark.
pub fn passes(score: f64, pass_mark: f64) -> bool {
    score >= pass_mark
}

/// A panel score as typed (0–100, at most one decimal), or why not, in Chinese.
pub fn parse_score(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("请填写专家组评分".into());
    }
    let v: f64 = t
        .parse()
        .map_err(|_| format!("评分“{t}”无效，应为0至100之间的数字"))?;
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(format!("评分“{t}”无效，应为0至100之间的数字"));
    }
    if t.split_once('.').is_some_and(|(_, f)| f.len() > 1) {
        return Err("评分最多保留一位小数".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::RegionCode;
    use crate::review::Org;
    use time::macros::date;

    fn code(n: u32) -> RegionCode {
        RegionCode::try_from(n).unwrap()
    }

    fn expert(id: i64, city: u32, affiliations: &[&str]) -> Expert {
        Expert {
            id,
            city: code(city),
            affiliations: affiliations.iter().map(|s| s.to_string()).collect(),
            declared_conflicts: Vec::new(),
        }
    }

    /// A cluster led from 长沙县 (长沙市) that also spans 湘潭县 (湘潭市), with a co-applicant.
    fn cluster() -> Entrant {
        Entrant {
            application_id: 0,
            lead_county: code(430121),
            applicant: Org::named("长沙工程机械产业集群促进会"),
            members: vec![Org::named("三一重工股份有限公司")],
            core_park: None,
            counties: vec![code(430321)],
            co_applicants: vec![Org::named("湘潭经开区管委会")],
        }
    }

    #[test]
    fn the_panel_avoids_every_tie_to_the_whole_cluster() {
        let cases: [(Expert, &[&str]); 6] = [
            // Works in 衡阳市, no ties: may judge.
            (expert(1, 430400, &["湖南大学"]), &[]),
            // Works in 长沙市, the lead county's city.
            (expert(2, 430100, &[]), &["same_city"]),
            // Works in 湘潭市: a county the cluster spans, not its lead county.
            (expert(3, 430302, &["湘潭大学"]), &["spanned_city"]),
            // Tied to the promotion organisation.
            (
                expert(4, 430400, &["长沙工程机械产业集群促进会"]),
                &["applicant"],
            ),
            // Tied to a co-applicant, written with full-width spaces.
            (expert(5, 430500, &["湘潭经开区 管委会"]), &["co_applicant"]),
            // Works in 湘潭市 and for a member enterprise.
            (
                expert(6, 430300, &["三一重工股份有限公司"]),
                &["spanned_city", "member_enterprise"],
            ),
        ];
        let c = cluster();
        for (e, expected) in &cases {
            let mut found: Vec<&str> = conflicts(e, &c).iter().map(Conflict::key).collect();
            found.sort_unstable();
            let mut want = expected.to_vec();
            want.sort_unstable();
            assert_eq!(found, want, "expert {}", e.id);
        }
        let panel: Vec<Expert> = cases.iter().map(|(e, _)| e.clone()).collect();
        let refused: Vec<i64> = panel_conflicts(&panel, &c)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(refused, [2, 3, 4, 5, 6]);
        assert!(panel_conflicts(&panel[..1], &c).is_empty());
    }

    #[test]
    fn scores_pass_at_the_mark() {
        for (score, mark, pass) in [
            (60.0, 60.0, true),
            (59.9, 60.0, false),
            (100.0, 60.0, true),
            (0.0, 0.0, true),
        ] {
            assert_eq!(passes(score, mark), pass, "{score} {mark}");
        }
        assert_eq!(parse_score(" 72.5 "), Ok(72.5));
        for bad in ["", "七十", "-1", "100.5", "72.55", "NaN", "inf"] {
            assert!(parse_score(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_follow_the_proceeding_and_the_dates() {
        let deadline = date!(2029 - 10 - 31);
        let on = |today, notice| Timing {
            today,
            deadline,
            notice_last_day: notice,
            open_objections: 0,
        };
        let before = on(date!(2029 - 10 - 31), None);
        let after = on(date!(2029 - 11 - 01), None);
        use Status::*;
        use Step::*;
        let ok = [
            (Due, Save, before, Due),
            (Due, Submit, before, Submitted),
            (Due, Lapse, after, Lapsed),
            (Submitted, CityOpinion, after, CityReviewed),
            (CityReviewed, Review, after, Reviewed),
            (
                Reviewed,
                Confirm,
                on(date!(2029 - 12 - 09), Some(date!(2029 - 12 - 08))),
                Reviewed,
            ),
        ];
        for (from, step, t, to) in ok {
            assert_eq!(next(from, step, t), Ok(to), "{from:?} {step:?}");
        }
        let refused = [
            (Due, Submit, after, "截止日期（2029年10月31日）已过"),
            (Due, Save, after, "已过"),
            (Due, Lapse, before, "尚未届满"),
            (Due, CityOpinion, before, "待提交复核材料"),
            (Submitted, Review, before, "待市州意见"),
            (Reviewed, Confirm, after, "尚未公示"),
            (
                Reviewed,
                Confirm,
                on(date!(2029 - 12 - 08), Some(date!(2029 - 12 - 08))),
                "公示期至2029年12月8日",
            ),
            (
                Reviewed,
                Confirm,
                Timing {
                    open_objections: 2,
                    ..on(date!(2029 - 12 - 09), Some(date!(2029 - 12 - 08)))
                },
                "尚有2件针对该复核结果的异议未办结",
            ),
            (Passed, Confirm, after, "复核通过"),
            (Failed, Lapse, after, "已立案撤销"),
        ];
        for (from, step, t, says) in refused {
            let e = next(from, step, t).unwrap_err();
            assert!(e.contains(says), "{from:?} {step:?}: {e}");
        }
    }
}
