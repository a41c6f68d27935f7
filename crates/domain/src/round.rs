//! A round of a competition (初赛 第十条, 决赛 第十一条): its own life cycle, the objections
//! filed against its proposed list (公示异议), and what its winners become.
//!
//! A round moves `Setup → Scoring → Proposed → OnNotice → Confirmed`; each entrant moves through
//! the application state machine ([`crate::application`]) from `Recommended` on.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

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
pub enum RoundKind {
    /// 初赛: the recommended applications compete; winners become 培育对象.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "preliminary"))]
    Preliminary,
    /// 决赛: cultivation targets compete; winners are 认定 as 省先进制造业集群.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "final"))]
    Final,
}

impl RoundKind {
    pub const ALL: [RoundKind; 2] = [RoundKind::Preliminary, RoundKind::Final];

    /// Also the `key` of the round in the policy file.
    pub fn key(self) -> &'static str {
        match self {
            RoundKind::Preliminary => "preliminary",
            RoundKind::Final => "final",
        }
    }

    pub fn from_key(key: &str) -> Option<RoundKind> {
        RoundKind::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            RoundKind::Preliminary => "初赛",
            RoundKind::Final => "决赛",
        }
    }

    /// What a winner becomes.
    pub fn outcome(self) -> Designation {
        match self {
            RoundKind::Preliminary => Designation::CultivationTarget,
            RoundKind::Final => Designation::Certified,
        }
    }
}

/// A cluster's standing in the programme after a confirmed round.
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
pub enum Designation {
    /// 培育对象.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "cultivation_target"))]
    CultivationTarget,
    /// 省先进制造业集群.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "certified"))]
    Certified,
}

impl Designation {
    pub const ALL: [Designation; 2] = [Designation::CultivationTarget, Designation::Certified];

    pub fn key(self) -> &'static str {
        match self {
            Designation::CultivationTarget => "cultivation_target",
            Designation::Certified => "certified",
        }
    }

    pub fn from_key(key: &str) -> Option<Designation> {
        Designation::ALL.into_iter().find(|d| d.key() == key)
    }

    /// The cluster life-cycle key this designation sets.
    pub fn lifecycle(self) -> &'static str {
        match self {
            Designation::CultivationTarget => "cultivation",
            Designation::Certified => "certified",
        }
    }

    /// The certificate number: the programme's prefix for the kind (from the policy), the
    /// year and a sequence within both: prefix〔2026〕第001号.
    pub fn certificate_number(self, prefixes: &CertificatePrefixes, year: i32, seq: u32) -> String {
        format!("{}〔{year}〕第{seq:03}号", prefixes.of(self))
    }
}

/// The certificate number prefix of each title, as the programme's policy words them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificatePrefixes {
    pub cultivation_target: String,
    pub certified: String,
}

impl CertificatePrefixes {
    pub fn of(&self, d: Designation) -> &str {
        match d {
            Designation::CultivationTarget => &self.cultivation_target,
            Designation::Certified => &self.certified,
        }
    }
}

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
pub enum RoundStatus {
    /// 筹备: panel and assignments are being prepared.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "setup"))]
    Setup,
    /// 评分中: experts score within the window.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "scoring"))]
    Scoring,
    /// 拟定名单已确定: scores are final and the proposed list is fixed.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "proposed"))]
    Proposed,
    /// 公示中.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "on_notice"))]
    OnNotice,
    /// 已确定: the list is confirmed and the winners designated.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "confirmed"))]
    Confirmed,
}

impl RoundStatus {
    pub const ALL: [RoundStatus; 5] = [
        RoundStatus::Setup,
        RoundStatus::Scoring,
        RoundStatus::Proposed,
        RoundStatus::OnNotice,
        RoundStatus::Confirmed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RoundStatus::Setup => "setup",
            RoundStatus::Scoring => "scoring",
            RoundStatus::Proposed => "proposed",
            RoundStatus::OnNotice => "on_notice",
            RoundStatus::Confirmed => "confirmed",
        }
    }

    pub fn from_key(key: &str) -> Option<RoundStatus> {
        RoundStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            RoundStatus::Setup => "筹备中（组建评审组、分配专家）",
            RoundStatus::Scoring => "专家评分中",
            RoundStatus::Proposed => "拟定名单已确定",
            RoundStatus::OnNotice => "公示中",
            RoundStatus::Confirmed => "结果已确定",
        }
    }

    /// Whether panel and assignments may still change.
    pub fn assignments_open(self) -> bool {
        matches!(self, RoundStatus::Setup | RoundStatus::Scoring)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoundStep {
    /// 开始评分: every entrant has its experts.
    OpenScoring,
    /// 确定拟定名单.
    FixProposedList,
    /// 发布公示.
    PublishNotice,
    /// 确认名单.
    Confirm,
}

impl RoundStep {
    pub const ALL: [RoundStep; 4] = [
        RoundStep::OpenScoring,
        RoundStep::FixProposedList,
        RoundStep::PublishNotice,
        RoundStep::Confirm,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RoundStep::OpenScoring => "开始评分",
            RoundStep::FixProposedList => "确定拟定名单",
            RoundStep::PublishNotice => "发布公示",
            RoundStep::Confirm => "确认名单",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("评审轮次当前状态为“{}”，不能执行“{}”", .from.label(), .step.label())]
pub struct RoundStepError {
    pub from: RoundStatus,
    pub step: RoundStep,
}

/// The round's status after `step`, or why it cannot happen.
pub fn step(from: RoundStatus, step: RoundStep) -> Result<RoundStatus, RoundStepError> {
    use RoundStatus::*;
    use RoundStep::*;
    match (from, step) {
        (Setup, OpenScoring) => Ok(Scoring),
        (Scoring, FixProposedList) => Ok(Proposed),
        (Proposed, PublishNotice) => Ok(OnNotice),
        (OnNotice, Confirm) => Ok(Confirmed),
        _ => Err(RoundStepError { from, step }),
    }
}

/// Where an objection (异议) stands.
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
pub enum ObjectionStatus {
    /// 已收到: filed by the public, not yet looked at.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "received"))]
    Received,
    /// 已登记，调查核实中.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "investigating"))]
    Investigating,
    /// 异议不成立.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "dismissed"))]
    Dismissed,
    /// 异议成立: the candidate is removed from the list.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "upheld"))]
    Upheld,
}

impl ObjectionStatus {
    pub const ALL: [ObjectionStatus; 4] = [
        ObjectionStatus::Received,
        ObjectionStatus::Investigating,
        ObjectionStatus::Dismissed,
        ObjectionStatus::Upheld,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ObjectionStatus::Received => "received",
            ObjectionStatus::Investigating => "investigating",
            ObjectionStatus::Dismissed => "dismissed",
            ObjectionStatus::Upheld => "upheld",
        }
    }

    pub fn from_key(key: &str) -> Option<ObjectionStatus> {
        ObjectionStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            ObjectionStatus::Received => "已收到，待登记",
            ObjectionStatus::Investigating => "已登记，调查核实中",
            ObjectionStatus::Dismissed => "异议不成立",
            ObjectionStatus::Upheld => "异议成立",
        }
    }

    pub fn decided(self) -> bool {
        matches!(self, ObjectionStatus::Dismissed | ObjectionStatus::Upheld)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectionStep {
    /// 登记并调查.
    Register,
    Dismiss,
    Uphold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("异议当前状态为“{}”，不能再处理", .from.label())]
pub struct ObjectionStepError {
    pub from: ObjectionStatus,
}

/// An objection is registered before it is decided, and decided once.
pub fn objection_step(
    from: ObjectionStatus,
    step: ObjectionStep,
) -> Result<ObjectionStatus, ObjectionStepError> {
    use ObjectionStatus::*;
    use ObjectionStep::*;
    match (from, step) {
        (Received, Register) => Ok(Investigating),
        (Received | Investigating, Dismiss) => Ok(Dismissed),
        (Received | Investigating, Uphold) => Ok(Upheld),
        _ => Err(ObjectionStepError { from }),
    }
}

/// Whether the list may be confirmed: the notice window is over and every objection decided.
pub fn confirmable(
    today: Date,
    last_notice_day: Date,
    objections: &[ObjectionStatus],
) -> Result<(), String> {
    if today <= last_notice_day {
        return Err(format!(
            "公示期至{}结束，公示期满后方可确认名单",
            date_zh(last_notice_day)
        ));
    }
    let open = objections.iter().filter(|o| !o.decided()).count();
    if open > 0 {
        return Err(format!("还有{open}件异议尚未作出处理决定，不能确认名单"));
    }
    Ok(())
}

/// Where a step of a round stands, for the step indicator on the round's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Done,
    Current,
    Ahead,
    /// The object ended at this step without going further (初审不通过, 未入选, …).
    Stopped,
}

impl StepState {
    pub fn key(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Current => "current",
            StepState::Ahead => "ahead",
            StepState::Stopped => "stopped",
        }
    }
}

/// The steps of a round in order, each with where it stands at `status`: 组建评审组 → 专家评分 →
/// 确定拟定名单 → 公示 → 确认名单. A confirmed round has every step done.
pub fn steps(status: RoundStatus) -> Vec<(&'static str, StepState)> {
    const LABELS: [&str; 5] = ["组建评审组", "专家评分", "确定拟定名单", "公示", "确认名单"];
    let current = match status {
        RoundStatus::Setup => 0,
        RoundStatus::Scoring => 1,
        // The list is fixed; publishing it is what comes next.
        RoundStatus::Proposed | RoundStatus::OnNotice => 3,
        RoundStatus::Confirmed => LABELS.len(),
    };
    indicator(&LABELS, current, false)
}

/// A step indicator over `labels`: the steps before `at` are done; the one at `at` is current,
/// or where the object stopped when `stopped`; `at` past the end means every step is done.
/// Every multi-step object (round, application, report, case) builds its indicator here.
pub fn indicator(
    labels: &[&'static str],
    at: usize,
    stopped: bool,
) -> Vec<(&'static str, StepState)> {
    labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let state = match i.cmp(&at) {
                std::cmp::Ordering::Less => StepState::Done,
                std::cmp::Ordering::Equal if stopped => StepState::Stopped,
                std::cmp::Ordering::Equal => StepState::Current,
                std::cmp::Ordering::Greater => StepState::Ahead,
            };
            (*label, state)
        })
        .collect()
}

/// An objection's receipt number as the objector and the public read it: the year it was filed
/// and its sequence, "2026-00012".
pub fn receipt_number(filed_year: i32, id: i64) -> String {
    format!("{filed_year}-{id:05}")
}

/// A date as Chinese documents write it: 2026年10月9日.
pub fn date_zh(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month() as u8, d.day())
}

/// Whether a cultivation target designated on `since` has served `min_months` by `today`
/// (决赛 entrants, 第三条). A month is a calendar month; the 31st runs to the month's last day.
pub fn cultivation_served(since: Date, today: Date, min_months: u32) -> bool {
    today >= add_months(since, min_months)
}

fn add_months(date: Date, months: u32) -> Date {
    let total = date.month() as i64 - 1 + months as i64;
    let year = date.year() + (total / 12) as i32;
    let month = Month::try_from((total % 12 + 1) as u8).unwrap_or(Month::December);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_round_moves_forward_only() {
        let allowed = [
            (
                RoundStatus::Setup,
                RoundStep::OpenScoring,
                RoundStatus::Scoring,
            ),
            (
                RoundStatus::Scoring,
                RoundStep::FixProposedList,
                RoundStatus::Proposed,
            ),
            (
                RoundStatus::Proposed,
                RoundStep::PublishNotice,
                RoundStatus::OnNotice,
            ),
            (
                RoundStatus::OnNotice,
                RoundStep::Confirm,
                RoundStatus::Confirmed,
            ),
        ];
        for from in RoundStatus::ALL {
            for s in RoundStep::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, st, _)| *f == from && *st == s)
                    .map(|(_, _, to)| *to);
                assert_eq!(step(from, s).ok(), expected, "{from:?} {s:?}");
            }
        }
        assert_eq!(
            step(RoundStatus::Setup, RoundStep::Confirm)
                .unwrap_err()
                .to_string(),
            "评审轮次当前状态为“筹备中（组建评审组、分配专家）”，不能执行“确认名单”"
        );
    }

    #[test]
    fn objections_are_decided_once() {
        use ObjectionStatus::*;
        use ObjectionStep::*;
        assert_eq!(objection_step(Received, Register), Ok(Investigating));
        assert_eq!(objection_step(Investigating, Dismiss), Ok(Dismissed));
        assert_eq!(objection_step(Received, Uphold), Ok(Upheld));
        for done in [Dismissed, Upheld] {
            for s in [Register, Dismiss, Uphold] {
                assert!(objection_step(done, s).is_err());
            }
        }
        assert!(objection_step(Investigating, Register).is_err());
    }

    #[test]
    fn confirmation_waits_for_the_window_and_the_decisions() {
        let last = date!(2026 - 10 - 12);
        assert!(confirmable(last, last, &[]).is_err());
        assert!(confirmable(date!(2026 - 10 - 13), last, &[]).is_ok());
        let err = confirmable(
            date!(2026 - 10 - 13),
            last,
            &[ObjectionStatus::Dismissed, ObjectionStatus::Investigating],
        )
        .unwrap_err();
        assert_eq!(err, "还有1件异议尚未作出处理决定，不能确认名单");
        assert!(confirmable(date!(2026 - 10 - 13), last, &[ObjectionStatus::Upheld]).is_ok());
    }

    #[test]
    fn cultivation_periods_count_calendar_months() {
        assert!(!cultivation_served(
            date!(2026 - 03 - 15),
            date!(2026 - 09 - 14),
            6
        ));
        assert!(cultivation_served(
            date!(2026 - 03 - 15),
            date!(2026 - 09 - 15),
            6
        ));
        // 31 August + 6 months ends on the last day of February.
        assert!(!cultivation_served(
            date!(2026 - 08 - 31),
            date!(2027 - 02 - 27),
            6
        ));
        assert!(cultivation_served(
            date!(2026 - 08 - 31),
            date!(2027 - 02 - 28),
            6
        ));
        assert!(cultivation_served(
            date!(2026 - 11 - 01),
            date!(2027 - 11 - 01),
            12
        ));
    }

    #[test]
    fn certificate_numbers_name_kind_year_and_sequence() {
        let prefixes = CertificatePrefixes {
            cultivation_target: "湘集群培".into(),
            certified: "湘集群认".into(),
        };
        assert_eq!(
            Designation::Certified.certificate_number(&prefixes, 2026, 1),
            "湘集群认〔2026〕第001号"
        );
        assert_eq!(
            Designation::CultivationTarget.certificate_number(&prefixes, 2027, 12),
            "湘集群培〔2027〕第012号"
        );
        assert_eq!(RoundKind::Final.outcome(), Designation::Certified);
        for k in RoundKind::ALL {
            assert_eq!(RoundKind::from_key(k.key()), Some(k));
        }
    }

    #[test]
    fn a_round_has_one_current_step_until_confirmed() {
        for status in RoundStatus::ALL {
            let list = steps(status);
            assert_eq!(list.len(), 5);
            let current: Vec<_> = list
                .iter()
                .filter(|(_, s)| *s == StepState::Current)
                .collect();
            let done = list
                .iter()
                .take_while(|(_, s)| *s == StepState::Done)
                .count();
            if status == RoundStatus::Confirmed {
                assert!(current.is_empty());
                assert_eq!(done, 5);
            } else {
                assert_eq!(current.len(), 1, "{status:?}");
                // Done steps come first, then the current one, then the rest.
                assert_eq!(list[done].1, StepState::Current);
                assert!(list[done + 1..].iter().all(|(_, s)| *s == StepState::Ahead));
            }
        }
        assert_eq!(
            steps(RoundStatus::Scoring)[1],
            ("专家评分", StepState::Current)
        );
        assert_eq!(
            steps(RoundStatus::OnNotice)[3],
            ("公示", StepState::Current)
        );
    }
}
