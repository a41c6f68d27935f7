//! A designated cluster's 变更申请 (第十二条: the published designation stays as announced; a
//! change of name, kind, counties or promotion organisation goes through the province): the
//! applicant files what changes to what with reasons and evidence, its city bureau gives a
//! written opinion (同意 or 不同意), the province approves — which reissues the certificate
//! (换发) — or refuses with reasons. A decided request is final.

use serde::{Deserialize, Serialize};

use crate::round::StepState;

/// Where a change request stands.
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
pub enum ChangeStatus {
    /// 待市州意见
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "awaiting_city"))]
    AwaitingCity,
    /// 待省级审批
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "awaiting_province"))]
    AwaitingProvince,
    /// 已批准（已换发证书）
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "approved"))]
    Approved,
    /// 不予批准
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "refused"))]
    Refused,
}

impl ChangeStatus {
    pub const ALL: [ChangeStatus; 4] = [
        ChangeStatus::AwaitingCity,
        ChangeStatus::AwaitingProvince,
        ChangeStatus::Approved,
        ChangeStatus::Refused,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ChangeStatus::AwaitingCity => "awaiting_city",
            ChangeStatus::AwaitingProvince => "awaiting_province",
            ChangeStatus::Approved => "approved",
            ChangeStatus::Refused => "refused",
        }
    }

    pub fn from_key(key: &str) -> Option<ChangeStatus> {
        ChangeStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            ChangeStatus::AwaitingCity => "待市州工信部门出具意见",
            ChangeStatus::AwaitingProvince => "待省工信厅审批",
            ChangeStatus::Approved => "已批准，证书已换发",
            ChangeStatus::Refused => "不予批准",
        }
    }

    pub fn is_decided(self) -> bool {
        matches!(self, ChangeStatus::Approved | ChangeStatus::Refused)
    }
}

/// A step on a change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeStep {
    /// The applicant adds evidence (only before the city has spoken).
    Attach,
    /// The city bureau's written opinion, 同意 or 不同意.
    CityOpinion,
    /// The province approves: the change applies and the certificate is reissued.
    Approve,
    /// The province refuses with reasons: nothing changes.
    Refuse,
}

impl ChangeStep {
    fn label(self) -> &'static str {
        match self {
            ChangeStep::Attach => "补充证明材料",
            ChangeStep::CityOpinion => "出具市州意见",
            ChangeStep::Approve => "批准变更",
            ChangeStep::Refuse => "不予批准",
        }
    }
}

/// Where a step leads from a status, or why it cannot be taken now (in Chinese).
pub fn next(status: ChangeStatus, step: ChangeStep) -> Result<ChangeStatus, String> {
    use ChangeStatus as S;
    use ChangeStep as T;
    match (status, step) {
        (S::AwaitingCity, T::Attach) => Ok(S::AwaitingCity),
        (S::AwaitingCity, T::CityOpinion) => Ok(S::AwaitingProvince),
        (S::AwaitingProvince, T::Approve) => Ok(S::Approved),
        (S::AwaitingProvince, T::Refuse) => Ok(S::Refused),
        (S::AwaitingCity, T::Approve | T::Refuse) => Err(format!(
            "变更申请当前状态为“{}”，须先由市州工信部门出具意见，省工信厅才能{}",
            status.label(),
            step.label()
        )),
        (s, _) if s.is_decided() => Err(format!(
            "变更申请已办结（{}），不能再{}",
            status.label(),
            step.label()
        )),
        _ => Err(format!(
            "变更申请当前状态为“{}”，不能{}",
            status.label(),
            step.label()
        )),
    }
}

/// The steps of a request in order, each with where it stands: 提出申请 → 市州意见 → 省级审批 →
/// 换发证书 (or 不予批准 in the last place for a refused request).
pub fn steps(status: ChangeStatus) -> Vec<(&'static str, StepState)> {
    let last = if status == ChangeStatus::Refused {
        "不予批准"
    } else {
        "换发证书"
    };
    let labels = ["提出申请", "市州意见", "省级审批", last];
    let current = match status {
        ChangeStatus::AwaitingCity => 1,
        ChangeStatus::AwaitingProvince => 2,
        ChangeStatus::Approved | ChangeStatus::Refused => labels.len(),
    };
    labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let state = match i.cmp(&current) {
                std::cmp::Ordering::Less => StepState::Done,
                std::cmp::Ordering::Equal => StepState::Current,
                std::cmp::Ordering::Greater => StepState::Ahead,
            };
            (*label, state)
        })
        .collect()
}

/// The fields only a 变更申请 may change once a cluster holds a live title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Kind,
    Counties,
    Organisation,
}

impl Field {
    pub const ALL: [Field; 4] = [
        Field::Name,
        Field::Kind,
        Field::Counties,
        Field::Organisation,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "集群名称",
            Field::Kind => "集群类型",
            Field::Counties => "所跨县市区",
            Field::Organisation => "集群发展促进组织",
        }
    }

    /// "集群名称、集群类型、所跨县市区或集群发展促进组织"
    pub fn all_text() -> String {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.label()).collect();
        let (last, rest) = names.split_last().map_or(("", &[][..]), |(l, r)| (*l, r));
        format!("{}或{last}", rest.join("、"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChangeStatus as S;
    use ChangeStep as T;

    #[test]
    fn every_step_from_every_status() {
        let table = [
            (S::AwaitingCity, T::Attach, Some(S::AwaitingCity)),
            (S::AwaitingCity, T::CityOpinion, Some(S::AwaitingProvince)),
            (S::AwaitingCity, T::Approve, None),
            (S::AwaitingCity, T::Refuse, None),
            (S::AwaitingProvince, T::Attach, None),
            (S::AwaitingProvince, T::CityOpinion, None),
            (S::AwaitingProvince, T::Approve, Some(S::Approved)),
            (S::AwaitingProvince, T::Refuse, Some(S::Refused)),
            (S::Approved, T::Attach, None),
            (S::Approved, T::CityOpinion, None),
            (S::Approved, T::Approve, None),
            (S::Approved, T::Refuse, None),
            (S::Refused, T::Attach, None),
            (S::Refused, T::CityOpinion, None),
            (S::Refused, T::Approve, None),
            (S::Refused, T::Refuse, None),
        ];
        for (from, step, to) in table {
            assert_eq!(next(from, step).ok(), to, "{from:?} {step:?}");
        }
    }

    #[test]
    fn refusals_say_why_in_chinese() {
        let e = next(S::AwaitingCity, T::Approve).unwrap_err();
        assert!(e.contains("须先由市州工信部门出具意见"), "{e}");
        let e = next(S::Approved, T::Refuse).unwrap_err();
        assert!(e.contains("已办结"), "{e}");
    }

    #[test]
    fn the_step_indicator_follows_the_status() {
        let states = |s| steps(s).into_iter().map(|(_, st)| st).collect::<Vec<_>>();
        use StepState::{Ahead, Current, Done};
        assert_eq!(states(S::AwaitingCity), [Done, Current, Ahead, Ahead]);
        assert_eq!(states(S::AwaitingProvince), [Done, Done, Current, Ahead]);
        assert_eq!(states(S::Approved), [Done, Done, Done, Done]);
        assert_eq!(steps(S::Refused)[3].0, "不予批准");
        assert_eq!(steps(S::Approved)[3].0, "换发证书");
    }

    #[test]
    fn keys_round_trip() {
        for s in ChangeStatus::ALL {
            assert_eq!(ChangeStatus::from_key(s.key()), Some(s));
        }
        assert_eq!(
            Field::all_text(),
            "集群名称、集群类型、所跨县市区或集群发展促进组织"
        );
    }
}
