//! The application state machine (DESIGN.md): one application, one competition.
//!
//! `Draft → Submitted → {ReturnedForRevision → Submitted} | RejectedByCity | Recommended`
//! `Recommended → InReview → Scored → {Shortlisted | NotSelected}`
//! `Shortlisted → OnNotice → {Confirmed | Removed}`
//!
//! Every interface asks [`apply`], so an illegal transition is impossible through any of them.

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
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "returned"))]
    ReturnedForRevision,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "rejected"))]
    RejectedByCity,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "recommended"))]
    Recommended,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "in_review"))]
    InReview,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "scored"))]
    Scored,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "shortlisted"))]
    Shortlisted,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "not_selected"))]
    NotSelected,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "on_notice"))]
    OnNotice,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "confirmed"))]
    Confirmed,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "removed"))]
    Removed,
}

impl Status {
    pub const ALL: [Status; 12] = [
        Status::Draft,
        Status::Submitted,
        Status::ReturnedForRevision,
        Status::RejectedByCity,
        Status::Recommended,
        Status::InReview,
        Status::Scored,
        Status::Shortlisted,
        Status::NotSelected,
        Status::OnNotice,
        Status::Confirmed,
        Status::Removed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::ReturnedForRevision => "returned",
            Status::RejectedByCity => "rejected",
            Status::Recommended => "recommended",
            Status::InReview => "in_review",
            Status::Scored => "scored",
            Status::Shortlisted => "shortlisted",
            Status::NotSelected => "not_selected",
            Status::OnNotice => "on_notice",
            Status::Confirmed => "confirmed",
            Status::Removed => "removed",
        }
    }

    pub fn from_key(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Submitted => "已提交，待市州初审",
            Status::ReturnedForRevision => "已退回修改",
            Status::RejectedByCity => "市州初审未通过",
            Status::Recommended => "已推荐至省工信厅",
            Status::InReview => "专家评审中",
            Status::Scored => "评分完成",
            Status::Shortlisted => "拟入选",
            Status::NotSelected => "未入选",
            Status::OnNotice => "公示中",
            Status::Confirmed => "已确定",
            Status::Removed => "公示后取消",
        }
    }

    /// Whether the applicant may change the content.
    pub fn editable_by_applicant(self) -> bool {
        matches!(self, Status::Draft | Status::ReturnedForRevision)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// 提交 (also resubmission after a return).
    Submit,
    /// 退回修改, with comments.
    Return,
    /// 初审不通过, with a reason.
    Reject,
    /// 正式推荐至省工信厅, with a letter.
    Recommend,
    /// The province starts a round with this application.
    StartReview,
    FinishScoring,
    Shortlist,
    NotSelect,
    PublishNotice,
    Confirm,
    /// An objection was upheld.
    Remove,
}

impl Transition {
    pub const ALL: [Transition; 11] = [
        Transition::Submit,
        Transition::Return,
        Transition::Reject,
        Transition::Recommend,
        Transition::StartReview,
        Transition::FinishScoring,
        Transition::Shortlist,
        Transition::NotSelect,
        Transition::PublishNotice,
        Transition::Confirm,
        Transition::Remove,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::Return => "return",
            Transition::Reject => "reject",
            Transition::Recommend => "recommend",
            Transition::StartReview => "start_review",
            Transition::FinishScoring => "finish_scoring",
            Transition::Shortlist => "shortlist",
            Transition::NotSelect => "not_select",
            Transition::PublishNotice => "publish_notice",
            Transition::Confirm => "confirm",
            Transition::Remove => "remove",
        }
    }

    pub fn from_key(key: &str) -> Option<Transition> {
        Transition::ALL.into_iter().find(|t| t.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Transition::Submit => "提交",
            Transition::Return => "退回修改",
            Transition::Reject => "初审不通过",
            Transition::Recommend => "推荐",
            Transition::StartReview => "进入评审",
            Transition::FinishScoring => "评分完成",
            Transition::Shortlist => "拟入选",
            Transition::NotSelect => "未入选",
            Transition::PublishNotice => "公示",
            Transition::Confirm => "确定",
            Transition::Remove => "取消入选",
        }
    }

    /// The one role that may take this step in the provincial competition.
    pub fn actor(self) -> Role {
        self.actor_under(Actors::default())
    }

    /// Whether `role` may take this step under the programme's actors. The competition's own
    /// steps (a round's entry, scoring, the proposed list, 公示, confirmation) are its
    /// organiser's: the province, or a city bureau for a competition its city organises
    /// (第十六条) — which competition is the services' data scope to check. The application's
    /// submission and first review stay with the programme's applicant and reviewer.
    pub fn may_take_under(self, role: Role, actors: Actors) -> bool {
        role == self.actor_under(actors) || (self.is_organisers() && role == Role::CityBureau)
    }

    /// [`Transition::may_take_under`] in the provincial competition.
    pub fn may_take(self, role: Role) -> bool {
        self.may_take_under(role, Actors::default())
    }

    /// A step of the competition itself, taken by whoever organises it.
    fn is_organisers(self) -> bool {
        !matches!(
            self,
            Transition::Submit | Transition::Return | Transition::Reject | Transition::Recommend
        )
    }

    /// Steps where a person decides and must say why.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Transition::Return | Transition::Reject | Transition::Remove
        )
    }
}

/// Who takes the applicant's step (submit) and the 初审 steps (return, reject, recommend): the
/// lead promotion organisation and its city bureau in the provincial competition, another
/// role where a programme's policy says so (a county bureau applies, the province reviews).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actors {
    pub applicant: Role,
    pub reviewer: Role,
}

impl Default for Actors {
    fn default() -> Self {
        Actors {
            applicant: Role::Applicant,
            reviewer: Role::CityBureau,
        }
    }
}

impl Actors {
    /// What the programme's actors may do with an application of one of its calls beyond the
    /// permission table (which is the provincial competition's): the applicant role reads,
    /// starts and edits its own applications, the reviewer role does the 初审 (Review) — the
    /// province over all, a city bureau over its city. `None` with the default actors, so the
    /// table alone decides there. The services ask this only for an application of a call
    /// whose policy names these actors.
    pub fn grant(
        self,
        role: Role,
        action: crate::access::Action,
    ) -> Option<crate::access::ScopeKind> {
        use crate::access::{Action, ScopeKind};
        if self == Actors::default() {
            return None;
        }
        match action {
            Action::View | Action::Create | Action::Update if role == self.applicant => {
                Some(ScopeKind::OwnOrg)
            }
            Action::View | Action::Review if role == self.reviewer => match role {
                Role::Province => Some(ScopeKind::All),
                Role::CityBureau => Some(ScopeKind::OwnCity),
                _ => None,
            },
            _ => None,
        }
    }
}

impl Transition {
    /// The one role that may take this step under `actors`.
    pub fn actor_under(self, actors: Actors) -> Role {
        match self {
            Transition::Submit => actors.applicant,
            Transition::Return | Transition::Reject | Transition::Recommend => actors.reviewer,
            _ => Role::Province,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("只有{}可以执行“{}”", .role.label(), .transition.label())]
    WrongRole { transition: Transition, role: Role },
    #[error("申报当前状态为“{}”，不能执行“{}”", .from.label(), .transition.label())]
    NotAllowed {
        from: Status,
        transition: Transition,
    },
}

/// The state after `transition`, or why it cannot happen.
pub fn apply(from: Status, transition: Transition, role: Role) -> Result<Status, TransitionError> {
    apply_under(from, transition, role, Actors::default())
}

/// `apply` with the programme's own actors.
pub fn apply_under(
    from: Status,
    transition: Transition,
    role: Role,
    actors: Actors,
) -> Result<Status, TransitionError> {
    use Status::*;
    use Transition::*;
    let actor = transition.actor_under(actors);
    if !transition.may_take_under(role, actors) {
        return Err(TransitionError::WrongRole {
            transition,
            role: actor,
        });
    }
    let to = match (from, transition) {
        (Draft | ReturnedForRevision, Submit) => Submitted,
        (Submitted, Return) => ReturnedForRevision,
        (Submitted, Reject) => RejectedByCity,
        (Submitted, Recommend) => Recommended,
        (Recommended, StartReview) => InReview,
        (InReview, FinishScoring) => Scored,
        (Scored, Shortlist) => Shortlisted,
        (Scored, NotSelect) => NotSelected,
        (Shortlisted, PublishNotice) => OnNotice,
        (OnNotice, Confirm) => Confirmed,
        (OnNotice, Remove) => Removed,
        _ => return Err(TransitionError::NotAllowed { from, transition }),
    };
    Ok(to)
}

/// The per-county cap (第十六条: 原则上不超过1个): a warning that needs a recorded justification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapCheck {
    Within,
    /// Recommending would make `count` clusters in the county against a cap of `cap`.
    Exceeded {
        count: u32,
        cap: u32,
    },
}

pub fn county_cap(already_in_county: u32, adding: u32, cap: u32) -> CapCheck {
    let count = already_in_county + adding;
    if count > cap {
        CapCheck::Exceeded { count, cap }
    } else {
        CapCheck::Within
    }
}

/// The steps of an application for its step indicator: 填报申报材料 → 市州初审 → 省级评审 → 公示 →
/// 确定. A returned application is back at the first step; one that ended early (初审不通过,
/// 未入选, 公示后取消) shows where it stopped.
pub fn steps(status: Status) -> Vec<(&'static str, crate::round::StepState)> {
    const LABELS: [&str; 5] = ["填报申报材料", "市州初审", "省级评审", "公示", "确定"];
    let (at, stopped) = match status {
        Status::Draft | Status::ReturnedForRevision => (0, false),
        Status::Submitted => (1, false),
        Status::RejectedByCity => (1, true),
        Status::Recommended | Status::InReview | Status::Scored => (2, false),
        Status::NotSelected => (2, true),
        Status::Shortlisted | Status::OnNotice => (3, false),
        Status::Removed => (3, true),
        Status::Confirmed => (LABELS.len(), false),
    };
    crate::round::indicator(&LABELS, at, stopped)
}

/// The steps under a call's actors: where the province does the 初审 (a programme whose result
/// is decided above the province, the national one), 填报申报材料 → 省级初审 → 上级评审与认定;
/// otherwise the provincial competition's `steps`.
pub fn steps_under(status: Status, actors: Actors) -> Vec<(&'static str, crate::round::StepState)> {
    if actors.reviewer != Role::Province {
        return steps(status);
    }
    const LABELS: [&str; 3] = ["填报申报材料", "省级初审", "上级评审与认定"];
    let (at, stopped) = match status {
        Status::Draft | Status::ReturnedForRevision => (0, false),
        Status::Submitted => (1, false),
        Status::RejectedByCity => (1, true),
        Status::Recommended => (2, false),
        Status::NotSelected | Status::Removed => (2, true),
        Status::InReview
        | Status::Scored
        | Status::Shortlisted
        | Status::OnNotice
        | Status::Confirmed => (LABELS.len(), false),
    };
    crate::round::indicator(&LABELS, at, stopped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_programme_reviewed_by_the_province_shows_its_own_steps() {
        use crate::round::StepState;
        let national = Actors {
            applicant: Role::CountyBureau,
            reviewer: Role::Province,
        };
        let labels = |v: Vec<(&'static str, StepState)>| -> Vec<&'static str> {
            v.into_iter().map(|(l, _)| l).collect()
        };
        assert_eq!(
            labels(steps_under(Status::Recommended, national)),
            ["填报申报材料", "省级初审", "上级评审与认定"]
        );
        assert_eq!(
            steps_under(Status::Recommended, national),
            crate::round::indicator(&["填报申报材料", "省级初审", "上级评审与认定"], 2, false)
        );
        assert_eq!(
            steps_under(Status::RejectedByCity, national),
            crate::round::indicator(&["填报申报材料", "省级初审", "上级评审与认定"], 1, true)
        );
        // The provincial competition keeps its five steps.
        for s in Status::ALL {
            assert_eq!(steps_under(s, Actors::default()), steps(s));
        }
    }

    #[test]
    fn a_programme_names_its_own_applicant_and_reviewer() {
        use crate::access::{Action, ScopeKind};
        let national = Actors {
            applicant: Role::CountyBureau,
            reviewer: Role::Province,
        };
        assert_eq!(
            apply_under(
                Status::Draft,
                Transition::Submit,
                Role::CountyBureau,
                national
            ),
            Ok(Status::Submitted)
        );
        assert_eq!(
            apply_under(
                Status::Submitted,
                Transition::Recommend,
                Role::Province,
                national
            ),
            Ok(Status::Recommended)
        );
        // The provincial competition's actors are refused there, and the reverse.
        assert!(apply_under(Status::Draft, Transition::Submit, Role::Applicant, national).is_err());
        let err = apply_under(
            Status::Submitted,
            Transition::Recommend,
            Role::CityBureau,
            national,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "只有省工信厅可以执行“推荐”");
        assert!(apply(Status::Draft, Transition::Submit, Role::CountyBureau).is_err());
        assert!(apply(Status::Submitted, Transition::Recommend, Role::Province).is_err());
        // Grants beyond the table: only for a programme with other actors.
        assert_eq!(
            Actors::default().grant(Role::CountyBureau, Action::Create),
            None
        );
        assert_eq!(
            national.grant(Role::CountyBureau, Action::Create),
            Some(ScopeKind::OwnOrg)
        );
        assert_eq!(
            national.grant(Role::Province, Action::Review),
            Some(ScopeKind::All)
        );
        assert_eq!(national.grant(Role::CityBureau, Action::Review), None);
        assert_eq!(national.grant(Role::Applicant, Action::Create), None);
    }

    /// Every (state, step, role) triple: exactly the listed ones are allowed.
    #[test]
    fn the_whole_table() {
        let allowed = [
            (Status::Draft, Transition::Submit, Status::Submitted),
            (
                Status::ReturnedForRevision,
                Transition::Submit,
                Status::Submitted,
            ),
            (
                Status::Submitted,
                Transition::Return,
                Status::ReturnedForRevision,
            ),
            (
                Status::Submitted,
                Transition::Reject,
                Status::RejectedByCity,
            ),
            (
                Status::Submitted,
                Transition::Recommend,
                Status::Recommended,
            ),
            (
                Status::Recommended,
                Transition::StartReview,
                Status::InReview,
            ),
            (Status::InReview, Transition::FinishScoring, Status::Scored),
            (Status::Scored, Transition::Shortlist, Status::Shortlisted),
            (Status::Scored, Transition::NotSelect, Status::NotSelected),
            (
                Status::Shortlisted,
                Transition::PublishNotice,
                Status::OnNotice,
            ),
            (Status::OnNotice, Transition::Confirm, Status::Confirmed),
            (Status::OnNotice, Transition::Remove, Status::Removed),
        ];
        for from in Status::ALL {
            for t in Transition::ALL {
                for role in Role::ALL {
                    let expected = allowed
                        .iter()
                        .find(|(f, tr, _)| *f == from && *tr == t)
                        .map(|(_, _, to)| *to)
                        .filter(|_| {
                            role == t.actor()
                                || (t.actor() == Role::Province && role == Role::CityBureau)
                        });
                    assert_eq!(
                        apply(from, t, role).ok(),
                        expected,
                        "{from:?} {t:?} {role:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_city_bureau_takes_the_organiser_steps_but_never_the_applicant_s() {
        assert!(Transition::Confirm.may_take(Role::CityBureau));
        assert!(Transition::StartReview.may_take(Role::CityBureau));
        assert!(!Transition::Submit.may_take(Role::CityBureau));
        assert!(!Transition::Confirm.may_take(Role::CountyBureau));
        assert!(!Transition::Recommend.may_take(Role::Province));
    }

    #[test]
    fn refusals_say_why_in_chinese() {
        assert_eq!(
            apply(Status::Recommended, Transition::Submit, Role::Applicant)
                .unwrap_err()
                .to_string(),
            "申报当前状态为“已推荐至省工信厅”，不能执行“提交”"
        );
        assert_eq!(
            apply(Status::Submitted, Transition::Recommend, Role::Applicant)
                .unwrap_err()
                .to_string(),
            "只有市州工信局可以执行“推荐”"
        );
    }

    #[test]
    fn only_drafts_and_returned_applications_are_editable() {
        let editable: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.editable_by_applicant())
            .collect();
        assert_eq!(editable, vec![Status::Draft, Status::ReturnedForRevision]);
    }

    #[test]
    fn the_county_cap_warns_above_one() {
        assert_eq!(county_cap(0, 1, 1), CapCheck::Within);
        assert_eq!(county_cap(1, 1, 1), CapCheck::Exceeded { count: 2, cap: 1 });
        assert_eq!(county_cap(0, 2, 1), CapCheck::Exceeded { count: 2, cap: 1 });
    }

    #[test]
    fn keys_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_key(s.key()), Some(s));
        }
        for t in Transition::ALL {
            assert_eq!(Transition::from_key(t.key()), Some(t));
        }
        assert_eq!(Transition::from_key("unknown"), None);
    }

    #[test]
    fn an_application_shows_where_it_stands_or_where_it_stopped() {
        use crate::round::StepState::{Ahead as A, Current as C, Done as D, Stopped as S};
        let table = [
            (Status::Draft, [C, A, A, A, A]),
            (Status::ReturnedForRevision, [C, A, A, A, A]),
            (Status::Submitted, [D, C, A, A, A]),
            (Status::RejectedByCity, [D, S, A, A, A]),
            (Status::Recommended, [D, D, C, A, A]),
            (Status::InReview, [D, D, C, A, A]),
            (Status::Scored, [D, D, C, A, A]),
            (Status::NotSelected, [D, D, S, A, A]),
            (Status::Shortlisted, [D, D, D, C, A]),
            (Status::OnNotice, [D, D, D, C, A]),
            (Status::Removed, [D, D, D, S, A]),
            (Status::Confirmed, [D, D, D, D, D]),
        ];
        assert_eq!(table.len(), Status::ALL.len());
        for (status, expected) in table {
            let got: Vec<_> = steps(status).into_iter().map(|(_, s)| s).collect();
            assert_eq!(got, expected, "{status:?}");
        }
        assert_eq!(steps(Status::Submitted)[1].0, "市州初审");
    }
}
