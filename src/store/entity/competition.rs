use crate::store::id::{CompetitionId, UserId};
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

use super::kinds::CompetitionStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "competitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: CompetitionId,
    pub year: i32,
    pub title: String,
    /// The policy the competition runs under; `policy_source` keeps its exact text.
    pub policy_id: String,
    pub policy_source: String,
    pub submission_deadline: TimeDateTimeWithTimeZone,
    pub review_deadline: TimeDateTimeWithTimeZone,
    pub notice_text: String,
    pub status: CompetitionStatus,
    pub created_by: UserId,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
    /// SM3 of `policy_source`: the installed policy the call opened under.
    pub policy_hash: Option<String>,
    /// 延续执行: why the call opened under a policy outside its validity, and the document
    /// that decided it; both absent when the policy was in force.
    pub override_reason: Option<String>,
    pub override_document: Option<String>,
    /// The call's own rules within its policy (JSON `jiqun_rules::policy::CallRules`): that
    /// year's stricter thresholds, quotas per kind, extra files and requirements; absent = none.
    pub call_rules: Option<String>,
    /// The organising city (第十六条), or `None` for the province.
    pub organiser_city_code: Option<RegionCode>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
