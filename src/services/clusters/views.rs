//! Clusters as the pages and the API show them, with the caller's relation to each.

use crate::store::id::{ClusterId, OrgId};
use std::collections::{HashMap, HashSet};

use jiqun_domain::industry;
use jiqun_domain::region::{self, RegionCode};
use jiqun_rules::policy::ClusterKind;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::{county_full_name, org_names};
use crate::store::{
    self,
    entity::{cluster, cluster_co_applicant, cluster_county, cluster_member, organisation},
};

/// How the caller stands to a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The caller's organisation is the lead applicant: it may edit.
    Lead,
    /// The caller's organisation is a co-applicant of a joint application: read only.
    CoApplicant,
    /// A city bureau or the province overseeing the cluster: read only.
    Oversight,
}

impl Relation {
    pub fn label(self) -> &'static str {
        match self {
            Relation::Lead => "牵头申报",
            Relation::CoApplicant => "联合申报（成员单位）",
            Relation::Oversight => "",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CountyRef {
    pub code: String,
    /// With the city, e.g. 长沙市长沙县
    pub name: String,
}

impl CountyRef {
    pub(super) fn new(code: &str) -> CountyRef {
        let name = code
            .parse::<RegionCode>()
            .ok()
            .map(county_full_name)
            .unwrap_or_else(|| code.to_string());
        CountyRef {
            code: code.to_string(),
            name,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    #[schema(value_type = i64)]
    pub id: OrgId,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClusterView {
    #[schema(value_type = i64)]
    pub id: ClusterId,
    /// The lead applicant organisation.
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    pub org_name: String,
    pub name: String,
    pub kind: String,
    pub kind_name: String,
    /// e.g. C36
    pub industry_code: String,
    /// e.g. C36 汽车制造业
    pub industry_name: String,
    pub lead_county: CountyRef,
    pub other_counties: Vec<CountyRef>,
    /// The routing city: the lead applicant's city (第八条).
    pub city_code: String,
    pub city_name: String,
    pub core_park: String,
    /// Whether this is a joint application (联合申报).
    pub joint: bool,
    pub co_applicants: Vec<OrgRef>,
    pub member_count: u64,
    /// applicant | cultivation | certified | revoked
    pub lifecycle: String,
    pub lifecycle_label: String,
    pub relation: Relation,
    pub relation_label: String,
    pub version: i32,
    pub updated_at: String,
}

impl ClusterView {
    /// The caller's organisation co-applies to this cluster and may only read it.
    pub fn is_co_applicant(&self) -> bool {
        self.relation == Relation::CoApplicant
    }
}

pub fn lifecycle_label(key: &str) -> &'static str {
    match key {
        "applicant" => "申报阶段",
        "cultivation" => "培育对象",
        "certified" => "省先进制造业集群",
        "revoked" => "已撤销",
        _ => "未知",
    }
}

pub(super) fn kind_name(kinds: &[ClusterKind], key: &str) -> String {
    kinds
        .iter()
        .find(|k| k.key == key)
        .map(|k| k.name.clone())
        .unwrap_or_else(|| key.to_string())
}

pub(crate) fn industry_name(code: &str) -> String {
    industry::division(code)
        .map(|d| d.to_string())
        .unwrap_or_else(|| code.to_string())
}

/// Everything about a cluster, for other services (the applications read clusters from here).
#[derive(Debug, Clone)]
pub struct ClusterRecord {
    pub cluster: cluster::Model,
    pub lead_org: Option<organisation::Model>,
    /// The other counties, in the order they were entered.
    pub other_county_codes: Vec<String>,
    pub co_applicants: Vec<organisation::Model>,
    pub members: Vec<cluster_member::Model>,
    pub relation: Relation,
}

pub(super) struct Related {
    counties: HashMap<ClusterId, Vec<String>>,
    co_applicants: HashMap<ClusterId, Vec<OrgId>>,
    member_counts: HashMap<ClusterId, u64>,
    org_names: HashMap<OrgId, String>,
}

pub(super) async fn related<C: ConnectionTrait>(
    db: &C,
    clusters: &[cluster::Model],
) -> Result<Related, DbErr> {
    let ids: Vec<ClusterId> = clusters.iter().map(|c| c.id).collect();
    let mut counties: HashMap<ClusterId, Vec<String>> = HashMap::new();
    let mut co_applicants: HashMap<ClusterId, Vec<OrgId>> = HashMap::new();
    let mut member_counts: HashMap<ClusterId, u64> = HashMap::new();
    let mut org_ids: HashSet<OrgId> = clusters.iter().map(|c| c.org_id).collect();
    for c in store::load_where_in::<cluster_county::Entity>(
        db,
        cluster_county::Column::ClusterId,
        ids.iter().copied(),
    )
    .await?
    {
        counties
            .entry(c.cluster_id)
            .or_default()
            .push(c.county_code.to_string());
    }
    for c in store::load_where_in::<cluster_co_applicant::Entity>(
        db,
        cluster_co_applicant::Column::ClusterId,
        ids.iter().copied(),
    )
    .await?
    {
        org_ids.insert(c.org_id);
        co_applicants
            .entry(c.cluster_id)
            .or_default()
            .push(c.org_id);
    }
    // Chunks keep the IN lists well under both backends' bound-parameter limits.
    for chunk in ids.chunks(500) {
        let counts: Vec<(ClusterId, i64)> = cluster_member::Entity::find()
            .select_only()
            .column(cluster_member::Column::ClusterId)
            .column_as(cluster_member::Column::Id.count(), "n")
            .filter(cluster_member::Column::ClusterId.is_in(chunk.to_vec()))
            .group_by(cluster_member::Column::ClusterId)
            .into_tuple()
            .all(db)
            .await?;
        for (id, n) in counts {
            member_counts.insert(id, u64::try_from(n).unwrap_or(0));
        }
    }
    let org_names = org_names(db, org_ids).await?;
    Ok(Related {
        counties,
        co_applicants,
        member_counts,
        org_names,
    })
}

pub(super) fn view(
    m: &cluster::Model,
    r: &Related,
    kinds: &[ClusterKind],
    relation: Relation,
) -> ClusterView {
    let org_name = |id: OrgId| r.org_names.get(&id).cloned().unwrap_or_default();
    let co_applicants: Vec<OrgRef> = r
        .co_applicants
        .get(&m.id)
        .map(|ids| {
            ids.iter()
                .map(|&id| OrgRef {
                    id,
                    name: org_name(id),
                })
                .collect()
        })
        .unwrap_or_default();
    ClusterView {
        id: m.id,
        org_id: m.org_id,
        org_name: org_name(m.org_id),
        name: m.name.clone(),
        kind: m.kind.clone(),
        kind_name: kind_name(kinds, &m.kind),
        industry_code: m.industry_code.clone(),
        industry_name: industry_name(&m.industry_code),
        lead_county: CountyRef::new(&m.lead_county_code.to_string()),
        other_counties: r
            .counties
            .get(&m.id)
            .map(|codes| codes.iter().map(|c| CountyRef::new(c)).collect())
            .unwrap_or_default(),
        city_code: m.city_code.to_string(),
        city_name: region::city_name_of(m.city_code),
        core_park: m.core_park.clone(),
        joint: !co_applicants.is_empty(),
        co_applicants,
        member_count: r.member_counts.get(&m.id).copied().unwrap_or(0),
        lifecycle: m.lifecycle.key().to_string(),
        lifecycle_label: lifecycle_label(m.lifecycle.key()).to_string(),
        relation,
        relation_label: relation.label().to_string(),
        version: m.version,
        updated_at: crate::clock::format_local(m.updated_at),
    }
}
