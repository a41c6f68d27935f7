//! Closed sets of keys kept in string columns that the domain crate has no enum for. Each
//! variant stores exactly the string the column held before it was typed.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Where a cluster stands in the programme (`clusters.lifecycle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Lifecycle {
    /// Applying; not yet designated.
    #[sea_orm(string_value = "applicant")]
    Applicant,
    /// 培育对象.
    #[sea_orm(string_value = "cultivation")]
    Cultivation,
    /// 省先进制造业集群.
    #[sea_orm(string_value = "certified")]
    Certified,
    /// The designation was revoked.
    #[sea_orm(string_value = "revoked")]
    Revoked,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 4] = [
        Lifecycle::Applicant,
        Lifecycle::Cultivation,
        Lifecycle::Certified,
        Lifecycle::Revoked,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Lifecycle::Applicant => "applicant",
            Lifecycle::Cultivation => "cultivation",
            Lifecycle::Certified => "certified",
            Lifecycle::Revoked => "revoked",
        }
    }

    pub fn from_key(key: &str) -> Option<Lifecycle> {
        Lifecycle::ALL.into_iter().find(|v| v.key() == key)
    }

    /// The stage the cluster's titles give it (the column is a cache of this).
    pub fn of_standing(s: jiqun_domain::lifecycle::Standing) -> Lifecycle {
        use jiqun_domain::lifecycle::Standing;
        match s {
            Standing::None => Lifecycle::Applicant,
            Standing::Cultivation => Lifecycle::Cultivation,
            Standing::Certified => Lifecycle::Certified,
            Standing::Revoked => Lifecycle::Revoked,
        }
    }

    /// The standing this cached stage records.
    pub fn standing(self) -> jiqun_domain::lifecycle::Standing {
        use jiqun_domain::lifecycle::Standing;
        match self {
            Lifecycle::Applicant => Standing::None,
            Lifecycle::Cultivation => Standing::Cultivation,
            Lifecycle::Certified => Standing::Certified,
            Lifecycle::Revoked => Standing::Revoked,
        }
    }

    /// The life-cycle stage a designation puts a cluster in.
    pub fn of(d: jiqun_domain::round::Designation) -> Lifecycle {
        match d {
            jiqun_domain::round::Designation::CultivationTarget => Lifecycle::Cultivation,
            jiqun_domain::round::Designation::Certified => Lifecycle::Certified,
        }
    }
}

/// Whether a competition call accepts applications (`competitions.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CompetitionStatus {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
}

impl CompetitionStatus {
    pub const ALL: [CompetitionStatus; 2] = [CompetitionStatus::Open, CompetitionStatus::Closed];

    pub fn key(self) -> &'static str {
        match self {
            CompetitionStatus::Open => "open",
            CompetitionStatus::Closed => "closed",
        }
    }

    pub fn from_key(key: &str) -> Option<CompetitionStatus> {
        CompetitionStatus::ALL.into_iter().find(|v| v.key() == key)
    }
}

/// Whether an expert's score sheet is still being filled in (`score_sheets.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ScoreSheetStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "submitted")]
    Submitted,
}

impl ScoreSheetStatus {
    pub const ALL: [ScoreSheetStatus; 2] = [ScoreSheetStatus::Draft, ScoreSheetStatus::Submitted];

    pub fn key(self) -> &'static str {
        match self {
            ScoreSheetStatus::Draft => "draft",
            ScoreSheetStatus::Submitted => "submitted",
        }
    }

    pub fn from_key(key: &str) -> Option<ScoreSheetStatus> {
        ScoreSheetStatus::ALL.into_iter().find(|v| v.key() == key)
    }
}

/// How an expert came to judge an entry (`assignments.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, EnumIter, DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AssignmentSource {
    /// By the assignment algorithm.
    #[sea_orm(string_value = "auto")]
    Auto,
    /// By hand, by the province.
    #[sea_orm(string_value = "manual")]
    Manual,
}

impl AssignmentSource {
    pub const ALL: [AssignmentSource; 2] = [AssignmentSource::Auto, AssignmentSource::Manual];

    pub fn key(self) -> &'static str {
        match self {
            AssignmentSource::Auto => "auto",
            AssignmentSource::Manual => "manual",
        }
    }

    pub fn from_key(key: &str) -> Option<AssignmentSource> {
        AssignmentSource::ALL.into_iter().find(|v| v.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use jiqun_domain::access::{OrgKind, Role};
    use jiqun_domain::application::Status;
    use jiqun_domain::region::RegionCode;
    use jiqun_domain::round::{Designation, ObjectionStatus, RoundKind, RoundStatus};
    use sea_orm::{ActiveEnum, Value};

    use super::*;

    /// Every variant stores its `key()` and reads back from it, and `ALL` lists every variant:
    /// the column strings can never drift from the keys the rest of the code uses.
    fn stored_as_key<E: ActiveEnum<Value = String> + Copy + PartialEq + std::fmt::Debug>(
        all: &[E],
        key: fn(E) -> &'static str,
    ) {
        assert_eq!(E::iter().count(), all.len());
        for v in E::iter() {
            assert!(all.contains(&v), "{v:?} missing from ALL");
            assert_eq!(v.to_value(), key(v));
            assert_eq!(E::try_from_value(&key(v).to_string()).ok(), Some(v));
        }
    }

    #[test]
    fn every_variant_is_stored_as_its_key() {
        stored_as_key(&Role::ALL, Role::key);
        stored_as_key(&OrgKind::ALL, OrgKind::key);
        stored_as_key(&Status::ALL, Status::key);
        stored_as_key(&RoundKind::ALL, RoundKind::key);
        stored_as_key(&RoundStatus::ALL, RoundStatus::key);
        stored_as_key(&Designation::ALL, Designation::key);
        stored_as_key(&ObjectionStatus::ALL, ObjectionStatus::key);
        stored_as_key(&Lifecycle::ALL, Lifecycle::key);
        stored_as_key(&CompetitionStatus::ALL, CompetitionStatus::key);
        stored_as_key(&ScoreSheetStatus::ALL, ScoreSheetStatus::key);
        stored_as_key(&AssignmentSource::ALL, AssignmentSource::key);
    }

    #[test]
    fn standings_and_stages_map_both_ways() {
        for l in Lifecycle::ALL {
            assert_eq!(Lifecycle::of_standing(l.standing()), l);
        }
    }

    #[test]
    fn designations_set_their_lifecycle_key() {
        for d in Designation::ALL {
            assert_eq!(Lifecycle::of(d).key(), d.lifecycle());
        }
    }

    #[test]
    fn region_codes_are_stored_as_six_digit_strings() {
        let v: Value = RegionCode::CHANGSHA.into();
        assert_eq!(v, Value::String(Some("430100".to_string())));
        let back = <RegionCode as sea_orm::sea_query::ValueType>::try_from(v);
        assert_eq!(back.ok(), Some(RegionCode::CHANGSHA));
    }
}
