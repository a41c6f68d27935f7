use crate::store::id::{ChangeRequestId, ClusterId, DesignationId, OrgId, UserId};
use jiqun_domain::change_request::ChangeStatus;
use jiqun_domain::region::RegionCode;
use sea_orm::entity::prelude::*;

/// A designated cluster's 变更申请: what it held and what it asks for (JSON), the reasons, the
/// city bureau's written opinion and the province's decision; an approval names the
/// certificate it replaced and the one it reissued (换发).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ChangeRequestId,
    pub cluster_id: ClusterId,
    /// The promotion organisation that filed it.
    pub org_id: OrgId,
    /// The cluster's city when filed: whose bureau gives the opinion.
    pub city_code: RegionCode,
    pub status: ChangeStatus,
    pub before_json: String,
    pub changes_json: String,
    pub reasons: String,
    pub city_agrees: Option<bool>,
    pub city_opinion: String,
    pub city_by: Option<UserId>,
    pub city_at: Option<TimeDateTimeWithTimeZone>,
    pub decision_reasons: String,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<TimeDateTimeWithTimeZone>,
    pub old_designation_id: Option<DesignationId>,
    pub new_designation_id: Option<DesignationId>,
    pub filed_by: UserId,
    pub version: i32,
    pub created_at: TimeDateTimeWithTimeZone,
    pub updated_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
