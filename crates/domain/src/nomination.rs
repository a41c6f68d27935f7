//! National nomination (第十七条 择优推荐): who the province may put forward to apply as a
//! national advanced manufacturing cluster in a year, and the steps of a nomination.
//!
//! Only a cluster holding a live 省先进制造业集群 title may be nominated (a 培育对象, a cluster
//! never designated or one whose title was revoked may not), once a year. A nomination waits for
//! the national outcome, which is recorded once: 入选 or 未入选. A recorded outcome is final.

use serde::{Deserialize, Serialize};

use crate::lifecycle::Standing;

/// Where a nomination stands.
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
pub enum Outcome {
    /// 已推荐，待国家公布结果.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "pending"))]
    Pending,
    /// 入选国家级先进制造业集群.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "selected"))]
    Selected,
    /// 未入选.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "not_selected"))]
    NotSelected,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Pending, Outcome::Selected, Outcome::NotSelected];

    pub fn key(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Selected => "selected",
            Outcome::NotSelected => "not_selected",
        }
    }

    pub fn from_key(key: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pending => "已推荐，待公布结果",
            Outcome::Selected => "入选",
            Outcome::NotSelected => "未入选",
        }
    }
}

/// Why a cluster may not be nominated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NominationRefusal {
    /// It holds only a 培育对象 title.
    CultivationOnly,
    /// Its title was revoked.
    Revoked,
    /// It was never designated.
    NotDesignated,
    /// It was already nominated for that year.
    AlreadyNominated,
}

impl NominationRefusal {
    /// The sentence a person reads.
    pub fn message(self) -> &'static str {
        match self {
            NominationRefusal::CultivationOnly => {
                "该集群目前为培育对象，尚未认定为省先进制造业集群，不能推荐申报国家级先进制造业集群"
            }
            NominationRefusal::Revoked => "该集群的称号已被撤销，不能推荐申报国家级先进制造业集群",
            NominationRefusal::NotDesignated => {
                "该集群尚未认定为省先进制造业集群，不能推荐申报国家级先进制造业集群"
            }
            NominationRefusal::AlreadyNominated => "该集群本年度已推荐申报，不能重复推荐",
        }
    }
}

/// Whether a cluster standing as `standing`, already nominated for the year or not, may be
/// nominated for it.
pub fn may_nominate(standing: Standing, already_nominated: bool) -> Result<(), NominationRefusal> {
    match standing {
        Standing::Certified if already_nominated => Err(NominationRefusal::AlreadyNominated),
        Standing::Certified => Ok(()),
        Standing::Cultivation => Err(NominationRefusal::CultivationOnly),
        Standing::Revoked => Err(NominationRefusal::Revoked),
        Standing::None => Err(NominationRefusal::NotDesignated),
    }
}

/// Why an outcome cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeRefusal {
    /// Only 入选 or 未入选 is an outcome.
    NotAnOutcome,
    /// The outcome was recorded already.
    AlreadyRecorded(Outcome),
}

impl OutcomeRefusal {
    pub fn message(self) -> String {
        match self {
            OutcomeRefusal::NotAnOutcome => "结果应为“入选”或“未入选”".into(),
            OutcomeRefusal::AlreadyRecorded(o) => {
                format!("该推荐的国家评选结果已记录为“{}”，不能更改", o.label())
            }
        }
    }
}

/// The step from `current` to the outcome `to`.
pub fn record_outcome(current: Outcome, to: Outcome) -> Result<Outcome, OutcomeRefusal> {
    if to == Outcome::Pending {
        return Err(OutcomeRefusal::NotAnOutcome);
    }
    match current {
        Outcome::Pending => Ok(to),
        done => Err(OutcomeRefusal::AlreadyRecorded(done)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_certified_cluster_not_yet_nominated_that_year_may_be_nominated() {
        let table = [
            (Standing::Certified, false, Ok(())),
            (
                Standing::Certified,
                true,
                Err(NominationRefusal::AlreadyNominated),
            ),
            (
                Standing::Cultivation,
                false,
                Err(NominationRefusal::CultivationOnly),
            ),
            (
                Standing::Cultivation,
                true,
                Err(NominationRefusal::CultivationOnly),
            ),
            (Standing::Revoked, false, Err(NominationRefusal::Revoked)),
            (Standing::None, false, Err(NominationRefusal::NotDesignated)),
        ];
        for (standing, already, expected) in table {
            assert_eq!(
                may_nominate(standing, already),
                expected,
                "{standing:?} {already}"
            );
        }
    }

    #[test]
    fn an_outcome_is_recorded_once_and_is_selected_or_not() {
        use Outcome::*;
        let table = [
            (Pending, Selected, Ok(Selected)),
            (Pending, NotSelected, Ok(NotSelected)),
            (Pending, Pending, Err(OutcomeRefusal::NotAnOutcome)),
            (
                Selected,
                NotSelected,
                Err(OutcomeRefusal::AlreadyRecorded(Selected)),
            ),
            (
                NotSelected,
                Selected,
                Err(OutcomeRefusal::AlreadyRecorded(NotSelected)),
            ),
            (Selected, Pending, Err(OutcomeRefusal::NotAnOutcome)),
        ];
        for (from, to, expected) in table {
            assert_eq!(record_outcome(from, to), expected, "{from:?} → {to:?}");
        }
    }

    #[test]
    fn keys_round_trip_and_refusals_read_in_chinese() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_key(o.key()), Some(o));
        }
        assert!(
            NominationRefusal::CultivationOnly
                .message()
                .contains("培育对象")
        );
        assert!(
            OutcomeRefusal::AlreadyRecorded(Outcome::Selected)
                .message()
                .contains("入选")
        );
    }
}
