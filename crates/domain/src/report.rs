//! The development report's states (第十三条): the cluster's promotion organisation drafts and
//! submits it, the city bureau adds its opinion and forwards it (第五条 市州工信局 及时掌握集群
//! 建设和运营情况), the province accepts it or returns it with comments, and a returned report is
//! resubmitted.
//!
//! `Draft → Submitted → Forwarded → {Accepted | Returned → Submitted …}`
//!
//! Every interface asks [`apply`], so an illegal step is impossible through any of them.

use serde::{Deserialize, Serialize};

use crate::access::Role;

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
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "draft"))]
    Draft,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "submitted"))]
    Submitted,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "forwarded"))]
    Forwarded,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "returned"))]
    Returned,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "accepted"))]
    Accepted,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Submitted,
        Status::Forwarded,
        Status::Returned,
        Status::Accepted,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Forwarded => "forwarded",
            Status::Returned => "returned",
            Status::Accepted => "accepted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Submitted => "已提交，待市州工信局审阅",
            Status::Forwarded => "市州已转报，待省工信厅审核",
            Status::Returned => "已退回修改",
            Status::Accepted => "省工信厅已接收",
        }
    }

    /// The label under a route: without a city step a submitted report waits for the province.
    pub fn label_on(self, route: Route) -> &'static str {
        match (self, route) {
            (Status::Submitted, Route::Direct) => "已提交，待省工信厅审核",
            _ => self.label(),
        }
    }

    /// Whether the cluster may change the content.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }

    /// Whether the report counts as filed for its period (it is no longer the cluster's to do).
    pub fn filed(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::Forwarded | Status::Accepted
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// 提交 (also resubmission after a return).
    Submit,
    /// 市州工信局 adds its opinion and forwards to the province.
    Forward,
    /// 省工信厅 returns it with comments.
    Return,
    /// 省工信厅 accepts it.
    Accept,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Submit, Step::Forward, Step::Return, Step::Accept];

    pub fn key(self) -> &'static str {
        match self {
            Step::Submit => "submit",
            Step::Forward => "forward",
            Step::Return => "return",
            Step::Accept => "accept",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::Submit => "提交",
            Step::Forward => "签署意见并转报",
            Step::Return => "退回修改",
            Step::Accept => "接收",
        }
    }

    /// The one role that takes the step.
    pub fn role(self) -> Role {
        match self {
            Step::Submit => Role::Applicant,
            Step::Forward => Role::CityBureau,
            Step::Return | Step::Accept => Role::Province,
        }
    }
}

/// Why a step cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{}不能办理“{}”", .role.label(), .step.label())]
    WrongRole { step: Step, role: Role },
    #[error("报告当前状态为“{}”，不能{}", .from.label(), .step.label())]
    WrongState { step: Step, from: Status },
}

/// Which way a report travels: through the city bureau (第五条, the provincial programme), or
/// straight to the province (a programme whose 初审 is the province's, e.g. the national
/// 中小企业特色产业集群's yearly return), which then accepts or returns a submitted report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Route {
    #[default]
    ViaCity,
    Direct,
}

/// The state after `step` from `from` taken by `role`.
pub fn apply(from: Status, step: Step, role: Role) -> Result<Status, Refusal> {
    apply_on(from, step, role, Route::ViaCity)
}

/// The state after `step` from `from` taken by `role` on `route`.
pub fn apply_on(from: Status, step: Step, role: Role, route: Route) -> Result<Status, Refusal> {
    if step.role() != role {
        return Err(Refusal::WrongRole { step, role });
    }
    let awaiting_province = match route {
        Route::ViaCity => Status::Forwarded,
        Route::Direct => Status::Submitted,
    };
    match (from, step) {
        (Status::Draft | Status::Returned, Step::Submit) => Ok(Status::Submitted),
        (Status::Submitted, Step::Forward) if route == Route::ViaCity => Ok(Status::Forwarded),
        (f, Step::Return) if f == awaiting_province => Ok(Status::Returned),
        (f, Step::Accept) if f == awaiting_province => Ok(Status::Accepted),
        _ => Err(Refusal::WrongState { step, from }),
    }
}

/// The steps of a report for its step indicator: 填报报告 → 市州审阅转报 → 省工信厅接收. A
/// returned report is back at the first step.
pub fn steps(status: Status) -> Vec<(&'static str, crate::round::StepState)> {
    steps_on(status, Route::ViaCity)
}

/// The steps on a route; without the city step: 填报报告 → 省工信厅接收.
pub fn steps_on(status: Status, route: Route) -> Vec<(&'static str, crate::round::StepState)> {
    const LABELS: [&str; 3] = ["填报报告", "市州审阅转报", "省工信厅接收"];
    const DIRECT: [&str; 2] = ["填报报告", "省工信厅接收"];
    match route {
        Route::ViaCity => {
            let at = match status {
                Status::Draft | Status::Returned => 0,
                Status::Submitted => 1,
                Status::Forwarded => 2,
                Status::Accepted => LABELS.len(),
            };
            crate::round::indicator(&LABELS, at, false)
        }
        Route::Direct => {
            let at = match status {
                Status::Draft | Status::Returned => 0,
                Status::Submitted | Status::Forwarded => 1,
                Status::Accepted => DIRECT.len(),
            };
            crate::round::indicator(&DIRECT, at, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_steps() {
        use Status::*;
        let allowed = [
            (Draft, Step::Submit, Submitted),
            (Returned, Step::Submit, Submitted),
            (Submitted, Step::Forward, Forwarded),
            (Forwarded, Step::Return, Returned),
            (Forwarded, Step::Accept, Accepted),
        ];
        for from in Status::ALL {
            for step in Step::ALL {
                for role in Role::ALL {
                    let expected = allowed
                        .iter()
                        .find(|(f, s, _)| *f == from && *s == step && role == step.role())
                        .map(|(_, _, to)| *to);
                    assert_eq!(
                        apply(from, step, role).ok(),
                        expected,
                        "{from:?} {step:?} {role:?}"
                    );
                }
            }
        }
        assert_eq!(
            apply(Accepted, Step::Submit, Role::Applicant)
                .unwrap_err()
                .to_string(),
            "报告当前状态为“省工信厅已接收”，不能提交"
        );
        assert_eq!(
            apply(Submitted, Step::Accept, Role::CityBureau)
                .unwrap_err()
                .to_string(),
            "市州工信局不能办理“接收”"
        );
    }

    #[test]
    fn without_the_city_step_the_province_decides_a_submitted_report() {
        use Status::*;
        let allowed = [
            (Draft, Step::Submit, Submitted),
            (Returned, Step::Submit, Submitted),
            (Submitted, Step::Return, Returned),
            (Submitted, Step::Accept, Accepted),
        ];
        for from in Status::ALL {
            for step in Step::ALL {
                for role in Role::ALL {
                    let expected = allowed
                        .iter()
                        .find(|(f, s, _)| *f == from && *s == step && role == step.role())
                        .map(|(_, _, to)| *to);
                    assert_eq!(
                        apply_on(from, step, role, Route::Direct).ok(),
                        expected,
                        "{from:?} {step:?} {role:?}"
                    );
                }
            }
        }
        assert_eq!(Submitted.label_on(Route::Direct), "已提交，待省工信厅审核");
        assert_eq!(steps_on(Submitted, Route::Direct).len(), 2);
    }

    #[test]
    fn only_drafts_and_returned_reports_are_editable() {
        for s in Status::ALL {
            assert_eq!(s.editable(), matches!(s, Status::Draft | Status::Returned));
            assert_eq!(s.filed(), !s.editable());
        }
    }

    #[test]
    fn a_report_shows_its_step() {
        use crate::round::StepState::{Ahead as A, Current as C, Done as D};
        let table = [
            (Status::Draft, [C, A, A]),
            (Status::Returned, [C, A, A]),
            (Status::Submitted, [D, C, A]),
            (Status::Forwarded, [D, D, C]),
            (Status::Accepted, [D, D, D]),
        ];
        assert_eq!(table.len(), Status::ALL.len());
        for (status, expected) in table {
            let got: Vec<_> = steps(status).into_iter().map(|(_, s)| s).collect();
            assert_eq!(got, expected, "{status:?}");
        }
    }
}
