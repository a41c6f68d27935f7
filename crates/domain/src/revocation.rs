//! Revocation as a proceeding (第十四条 按程序撤销): the steps of a case, as a pure state machine.
//!
//! The province opens a case against a cluster holding a live title, naming a ground from the
//! policy; it sends the 告知书 to the cluster and its city, which opens a window of working days
//! (computed by the deadline engine) for a written statement (陈述申辩); once the statement is
//! in, or the window has passed, the province decides 撤销 or 不予撤销. A decided case is final.

use serde::{Deserialize, Serialize};
use time::Date;

/// Where a revocation case stands.
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
pub enum CaseStatus {
    /// 已立案: facts and evidence are being put together; nobody has been told yet.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "opened"))]
    Opened,
    /// 已告知: the 告知书 went out; the statement window runs.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "notified"))]
    Notified,
    /// 已陈述申辩: the cluster answered in writing.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "responded"))]
    Responded,
    /// 已决定撤销.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "revoked"))]
    Revoked,
    /// 已决定不予撤销.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "not_revoked"))]
    NotRevoked,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 5] = [
        CaseStatus::Opened,
        CaseStatus::Notified,
        CaseStatus::Responded,
        CaseStatus::Revoked,
        CaseStatus::NotRevoked,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CaseStatus::Opened => "opened",
            CaseStatus::Notified => "notified",
            CaseStatus::Responded => "responded",
            CaseStatus::Revoked => "revoked",
            CaseStatus::NotRevoked => "not_revoked",
        }
    }

    pub fn from_key(key: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Opened => "已立案，待告知",
            CaseStatus::Notified => "已告知，陈述申辩期内",
            CaseStatus::Responded => "已陈述申辩，待决定",
            CaseStatus::Revoked => "已决定撤销",
            CaseStatus::NotRevoked => "已决定不予撤销",
        }
    }

    /// A decided case is final.
    pub fn is_decided(self) -> bool {
        matches!(self, CaseStatus::Revoked | CaseStatus::NotRevoked)
    }
}

/// What the province decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 撤销
    Revoke,
    /// 不予撤销
    Keep,
}

impl Outcome {
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Revoke => "revoke",
            Outcome::Keep => "keep",
        }
    }

    pub fn from_key(key: &str) -> Option<Outcome> {
        [Outcome::Revoke, Outcome::Keep]
            .into_iter()
            .find(|o| o.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Revoke => "撤销",
            Outcome::Keep => "不予撤销",
        }
    }

    fn status(self) -> CaseStatus {
        match self {
            Outcome::Revoke => CaseStatus::Revoked,
            Outcome::Keep => CaseStatus::NotRevoked,
        }
    }
}

/// One step of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The province sends the 告知书.
    Notify,
    /// The cluster states its case in writing.
    Respond,
    /// The province decides.
    Decide(Outcome),
}

/// Why a step cannot be taken now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The 告知书 has not gone out: nobody can answer, nothing can be decided.
    NotNotified,
    /// The 告知书 went out already.
    AlreadyNotified,
    /// The statement came after the window's last day.
    WindowClosed { last_day: Date },
    /// The cluster already answered; one written statement per case.
    AlreadyResponded,
    /// No statement yet and the window still runs through `last_day`: the decision waits.
    WindowOpen { last_day: Date },
    /// The case was decided; a decision is final.
    Decided(CaseStatus),
}

impl Refusal {
    /// The refusal in a sentence (dates as 2026年12月4日).
    pub fn message(self) -> String {
        use crate::round::date_zh;
        match self {
            Refusal::NotNotified => "尚未发出告知书，不能进行此步骤".into(),
            Refusal::AlreadyNotified => "告知书已经发出，不能重复告知".into(),
            Refusal::WindowClosed { last_day } => format!(
                "陈述申辩期限已于{}届满，不再受理陈述申辩",
                date_zh(last_day)
            ),
            Refusal::AlreadyResponded => "已提交陈述申辩，不能重复提交".into(),
            Refusal::WindowOpen { last_day } => format!(
                "陈述申辩期限至{}，当事方尚未提交陈述申辩；期限届满后方可作出决定",
                date_zh(last_day)
            ),
            Refusal::Decided(s) => format!("该案件{}，决定不可更改", s.label()),
        }
    }
}

/// A case as the steps need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub status: CaseStatus,
    /// The last day of the statement window; set once notified.
    pub last_day: Option<Date>,
}

/// The status after `step` taken on `today`, or why it cannot be taken.
pub fn next(case: Case, step: Step, today: Date) -> Result<CaseStatus, Refusal> {
    use CaseStatus::*;
    if case.status.is_decided() {
        return Err(Refusal::Decided(case.status));
    }
    match (step, case.status, case.last_day) {
        (Step::Notify, Opened, _) => Ok(Notified),
        (Step::Notify, _, _) => Err(Refusal::AlreadyNotified),
        (_, Opened, _) | (_, Notified, None) => Err(Refusal::NotNotified),
        (Step::Respond, Notified, Some(last_day)) if today > last_day => {
            Err(Refusal::WindowClosed { last_day })
        }
        (Step::Respond, Notified, Some(_)) => Ok(Responded),
        (Step::Respond, _, _) => Err(Refusal::AlreadyResponded),
        (Step::Decide(_), Notified, Some(last_day)) if today <= last_day => {
            Err(Refusal::WindowOpen { last_day })
        }
        (Step::Decide(o), _, _) => Ok(o.status()),
    }
}

/// Whether a step may be taken now (pages show its form only then).
pub fn allows(case: Case, step: Step, today: Date) -> bool {
    next(case, step, today).is_ok()
}

/// The steps of a case for its step indicator: 立案 → 发出告知书 → 陈述申辩 → 作出决定. A case
/// exists only once opened, so 立案 is always done.
pub fn steps(status: CaseStatus) -> Vec<(&'static str, crate::round::StepState)> {
    const LABELS: [&str; 4] = ["立案", "发出告知书", "陈述申辩", "作出决定"];
    let at = match status {
        CaseStatus::Opened => 1,
        CaseStatus::Notified => 2,
        CaseStatus::Responded => 3,
        CaseStatus::Revoked | CaseStatus::NotRevoked => LABELS.len(),
    };
    crate::round::indicator(&LABELS, at, false)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const LAST: Date = date!(2026 - 12 - 18);

    fn case(status: CaseStatus) -> Case {
        Case {
            status,
            last_day: (status != CaseStatus::Opened).then_some(LAST),
        }
    }

    #[test]
    fn the_steps_of_a_case() {
        use CaseStatus::*;
        let before = date!(2026 - 12 - 10);
        let on = LAST;
        let after = date!(2026 - 12 - 21);
        let revoke = Step::Decide(Outcome::Revoke);
        let keep = Step::Decide(Outcome::Keep);
        let closed = Refusal::WindowClosed { last_day: LAST };
        let open = Refusal::WindowOpen { last_day: LAST };
        let table: Vec<(CaseStatus, Step, Date, Result<CaseStatus, Refusal>)> = vec![
            (Opened, Step::Notify, before, Ok(Notified)),
            (Opened, Step::Respond, before, Err(Refusal::NotNotified)),
            (Opened, revoke, after, Err(Refusal::NotNotified)),
            (
                Notified,
                Step::Notify,
                before,
                Err(Refusal::AlreadyNotified),
            ),
            // The statement is taken through the window's last day, not after.
            (Notified, Step::Respond, before, Ok(Responded)),
            (Notified, Step::Respond, on, Ok(Responded)),
            (Notified, Step::Respond, after, Err(closed)),
            // Without a statement the decision waits for the window to end.
            (Notified, revoke, before, Err(open)),
            (Notified, keep, on, Err(open)),
            (Notified, revoke, after, Ok(Revoked)),
            (Notified, keep, after, Ok(NotRevoked)),
            // Once the statement is in, the province need not wait.
            (Responded, revoke, before, Ok(Revoked)),
            (Responded, keep, before, Ok(NotRevoked)),
            (
                Responded,
                Step::Respond,
                before,
                Err(Refusal::AlreadyResponded),
            ),
            (
                Responded,
                Step::Notify,
                before,
                Err(Refusal::AlreadyNotified),
            ),
            (Revoked, keep, after, Err(Refusal::Decided(Revoked))),
            (NotRevoked, revoke, after, Err(Refusal::Decided(NotRevoked))),
            (
                Revoked,
                Step::Respond,
                before,
                Err(Refusal::Decided(Revoked)),
            ),
        ];
        for (status, step, today, expected) in table {
            assert_eq!(
                next(case(status), step, today),
                expected,
                "{status:?} {step:?} {today}"
            );
            assert_eq!(allows(case(status), step, today), expected.is_ok());
        }
    }

    #[test]
    fn a_notified_case_without_a_window_cannot_go_on() {
        let broken = Case {
            status: CaseStatus::Notified,
            last_day: None,
        };
        assert_eq!(next(broken, Step::Respond, LAST), Err(Refusal::NotNotified));
    }

    #[test]
    fn keys_round_trip_and_refusals_are_chinese() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::from_key(s.key()), Some(s));
        }
        for o in [Outcome::Revoke, Outcome::Keep] {
            assert_eq!(Outcome::from_key(o.key()), Some(o));
        }
        assert_eq!(Outcome::from_key("maybe"), None);
        assert_eq!(
            Refusal::WindowClosed { last_day: LAST }.message(),
            "陈述申辩期限已于2026年12月18日届满，不再受理陈述申辩"
        );
    }

    #[test]
    fn a_case_shows_its_step() {
        use crate::round::StepState::{Ahead as A, Current as C, Done as D};
        let table = [
            (CaseStatus::Opened, [D, C, A, A]),
            (CaseStatus::Notified, [D, D, C, A]),
            (CaseStatus::Responded, [D, D, D, C]),
            (CaseStatus::Revoked, [D, D, D, D]),
            (CaseStatus::NotRevoked, [D, D, D, D]),
        ];
        for (status, expected) in table {
            let got: Vec<_> = steps(status).into_iter().map(|(_, s)| s).collect();
            assert_eq!(got, expected, "{status:?}");
        }
    }
}
