use crate::store::id::{ClusterId, RevocationCaseId, UserId};
use jiqun_domain::revocation::CaseStatus;
use sea_orm::entity::prelude::*;

/// A revocation case (撤销案件, 第十四条): ground and facts, the 告知书, the cluster's written
/// statement (陈述申辩) and the numbered 决定书, frozen in `decision_snapshot` when decided.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revocation_cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: RevocationCaseId,
    pub cluster_id: ClusterId,
    /// The policy's `revocation.reasons` key, with its name and article as they read at opening.
    pub ground_key: String,
    pub ground_name: String,
    pub ground_article: String,
    pub facts: String,
    pub status: CaseStatus,
    pub opened_by: UserId,
    pub opened_on: TimeDate,
    pub notified_on: Option<TimeDate>,
    /// The last day of the statement window (deadline engine, working days).
    pub response_last_day: Option<TimeDate>,
    pub response_working_days: Option<i32>,
    /// The 告知书 as sent.
    pub notice_text: String,
    pub response_text: String,
    pub responded_at: Option<TimeDateTimeWithTimeZone>,
    pub responded_by: Option<UserId>,
    pub decided_on: Option<TimeDate>,
    pub decision_year: Option<i32>,
    pub decision_seq: Option<i32>,
    pub decision_number: Option<String>,
    pub decision_reasons: String,
    pub decided_by: Option<UserId>,
    /// The 决定书 as issued (JSON); the public and printed copies read only this.
    pub decision_snapshot: String,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
