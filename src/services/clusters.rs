//! Cluster profiles (第五条): a promotion organisation keeps the clusters it applies for — name,
//! kind, leading industry, the counties it spans, its core park, its member enterprises and, for
//! a joint application, the co-applicant organisations. Applications (第八条) read them from here.
//!
//! The routing city of a cluster is always its lead applicant's city, also when a joint
//! application spans several cities (第八条: 跨行政区的集群由其申报主体所在市州受理).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;

use jiqun_domain::access::{Action, OrgKind, Resource, ScopeKind, permission};
use jiqun_domain::credit_code::CreditCode;
use jiqun_domain::industry;
use jiqun_domain::region::{self, RegionCode};
use jiqun_rules::policy::ClusterKind;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};
use serde::{Deserialize, Serialize};

use super::{authorize, trimmed};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, FieldError, Problems};
use crate::store::{
    self,
    entity::{cluster, cluster_co_applicant, cluster_county, cluster_member, organisation},
};

// The member sheet's rules (file checks, columns, row checks) are the domain's.
use jiqun_domain::member_sheet::{self as member_sheet, ALREADY_MEMBER, check_member_name};
pub use jiqun_domain::member_sheet::{
    CODE_COLUMN, CellText, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, NAME_COLUMN, SheetRow, ValidMember,
};
/// Name of the data sheet in the import template.
pub const TEMPLATE_SHEET: &str = "成员企业";

const MAX_NAME: usize = 100;
const MAX_PARK: usize = 100;

// ---------------------------------------------------------------------------------------------
// Input and validation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClusterInput {
    /// e.g. 长沙工程机械产业集群
    pub name: String,
    /// A cluster kind key of the policy in force: leading (优势产业集群) | specialty (特色产业集群)
    pub kind: String,
    /// GB/T 4754 manufacturing division: "C36" or "36"
    pub industry_code: String,
    /// 6-digit code of the lead county (牵头县市区)
    pub lead_county_code: String,
    /// The other counties the cluster spans (跨县市区)
    #[serde(default)]
    pub other_county_codes: Vec<String>,
    /// 核心承载园区
    #[serde(default)]
    pub core_park: String,
    /// Co-applicant promotion organisations of a joint application (联合申报); empty when the
    /// lead applicant applies alone.
    #[serde(default)]
    pub co_applicant_org_ids: Vec<i64>,
}

/// The lead applicant a cluster is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lead {
    pub org_id: i64,
    /// The lead applicant organisation's city: the cluster's routing city.
    pub city: RegionCode,
}

/// A checked cluster profile, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCluster {
    pub name: String,
    /// Policy cluster-kind key.
    pub kind: String,
    pub kind_name: String,
    /// Canonical division code, e.g. "C36".
    pub industry_code: String,
    pub lead_county: RegionCode,
    pub other_counties: Vec<RegionCode>,
    pub core_park: String,
    pub co_applicant_org_ids: Vec<i64>,
}

impl ValidCluster {
    pub fn is_joint(&self) -> bool {
        !self.co_applicant_org_ids.is_empty()
    }
}

fn county_full_name(code: RegionCode) -> String {
    region::county(code)
        .map(|c| c.full_name())
        .unwrap_or_else(|| code.to_string())
}

/// Pure validation against the lead applicant and the policy's cluster kinds; every problem is
/// reported against its field (one message per field, several joined with "；").
/// Whether co-applicant ids name existing promotion organisations needs the database and is
/// checked by [`create`] and [`update`].
pub fn validate(
    input: &ClusterInput,
    lead: Lead,
    kinds: &[ClusterKind],
) -> Result<ValidCluster, AppError> {
    let mut p = Problems::default();

    let name = trimmed(&input.name);
    if name.is_empty() {
        p.add("name", "请填写集群名称");
    } else if name.chars().count() > MAX_NAME {
        p.add("name", format!("集群名称不能超过{MAX_NAME}个字"));
    }

    let kind_text = input.kind.trim();
    let kind = kinds
        .iter()
        .find(|k| k.key == kind_text || (!kind_text.is_empty() && k.name == kind_text));
    if kind.is_none() {
        let names: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
        p.add("kind", format!("请选择集群类型（{}）", names.join("或")));
    }

    let industry_text = input.industry_code.trim();
    let division = industry::division(industry_text);
    if industry_text.is_empty() {
        p.add(
            "industry_code",
            "请选择主导产业（国民经济行业分类制造业大类）",
        );
    } else if division.is_none() {
        p.add(
            "industry_code",
            format!(
                "“{industry_text}”不是{}制造业大类代码（应为C13至C43）",
                industry::standard()
            ),
        );
    }

    // Co-applicants first: whether the application is joint decides the county rule.
    let mut co_problems = Vec::new();
    let mut co_ids: Vec<i64> = Vec::new();
    for &id in &input.co_applicant_org_ids {
        if id <= 0 {
            co_problems.push("联合申报单位编号无效，请从列表中选择".to_string());
        } else if id == lead.org_id {
            co_problems.push("本单位是牵头申报主体，不必再列为联合申报单位".to_string());
        } else if co_ids.contains(&id) {
            co_problems.push("同一联合申报单位选择了多次".to_string());
        } else {
            co_ids.push(id);
        }
    }
    co_problems.dedup();
    let joint = !input.co_applicant_org_ids.is_empty();
    let home = region::city_name(&lead.city.to_string());
    let single_rule = |county: RegionCode| -> Option<String> {
        let c = region::county(county)?;
        (!joint && c.city_code() != lead.city).then(|| {
            format!(
                "{}不在申报主体所在的{home}。单独申报的集群应位于本市州；\
                 跨市州的集群请与所在地的集群发展促进组织联合申报（第五条）",
                c.full_name()
            )
        })
    };

    let lead_text = input.lead_county_code.trim();
    let lead_county = if lead_text.is_empty() {
        p.add("lead_county_code", "请选择牵头县（市、区）");
        None
    } else {
        match lead_text
            .parse::<RegionCode>()
            .ok()
            .and_then(region::county)
        {
            Some(c) => {
                if let Some(problem) = single_rule(c.code()) {
                    p.add("lead_county_code", problem);
                }
                Some(c.code())
            }
            None => {
                p.add(
                    "lead_county_code",
                    format!("“{lead_text}”不是湖南省的县级行政区划代码"),
                );
                None
            }
        }
    };

    let mut county_problems = Vec::new();
    let mut others: Vec<RegionCode> = Vec::new();
    for text in input
        .other_county_codes
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        match text.parse::<RegionCode>().ok().and_then(region::county) {
            None => county_problems.push(format!("“{text}”不是湖南省的县级行政区划代码")),
            Some(c) if Some(c.code()) == lead_county => county_problems.push(format!(
                "{}已是牵头县（市、区），不必重复选择",
                c.full_name()
            )),
            Some(c) if others.contains(&c.code()) => {
                county_problems.push(format!("{}选择了多次", c.full_name()))
            }
            Some(c) => {
                if let Some(problem) = single_rule(c.code()) {
                    county_problems.push(problem);
                }
                others.push(c.code());
            }
        }
    }
    if !county_problems.is_empty() {
        p.add("other_county_codes", county_problems.join("；"));
    }

    let core_park = trimmed(&input.core_park);
    if core_park.is_empty() {
        p.add("core_park", "请填写核心承载园区");
    } else if core_park.chars().count() > MAX_PARK {
        p.add("core_park", format!("核心承载园区不能超过{MAX_PARK}个字"));
    }

    if !co_problems.is_empty() {
        p.add("co_applicant_org_ids", co_problems.join("；"));
    }

    p.into_result()?;
    let (Some(kind), Some(division), Some(lead_county)) = (kind, division, lead_county) else {
        return Err(AppError::Internal("cluster fields checked above".into()));
    };
    Ok(ValidCluster {
        name,
        kind: kind.key.clone(),
        kind_name: kind.name.clone(),
        industry_code: division.code().to_string(),
        lead_county,
        other_counties: others,
        core_park,
        co_applicant_org_ids: co_ids,
    })
}

/// The cluster kinds of the policy in force today (or the latest one, as the policy page shows).
pub fn cluster_kinds(app: &App) -> Result<Vec<ClusterKind>, AppError> {
    Ok(super::policy::current_on(super::calendar::today(app))?
        .policy
        .cluster_kinds)
}

/// Merges field errors found in the database into those of the pure check, one message per field.
fn merge_problems(
    pure: Result<ValidCluster, AppError>,
    extra: Vec<FieldError>,
) -> Result<ValidCluster, AppError> {
    match pure {
        Ok(v) if extra.is_empty() => Ok(v),
        Ok(_) => Err(AppError::Invalid(extra)),
        Err(AppError::Invalid(mut fields)) => {
            for e in extra {
                match fields.iter_mut().find(|f| f.field == e.field) {
                    Some(f) => {
                        f.message.push('；');
                        f.message.push_str(&e.message);
                    }
                    None => fields.push(e),
                }
            }
            Err(AppError::Invalid(fields))
        }
        Err(other) => Err(other),
    }
}

/// Co-applicants must be registered, active promotion organisations.
async fn check_co_applicants<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<Vec<FieldError>, AppError> {
    let wanted: Vec<i64> = ids.iter().copied().filter(|id| *id > 0).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashSet<i64> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(wanted.clone()))
        .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg))
        .filter(organisation::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|id| !found.contains(id))
        .map(|id| id.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![FieldError {
        field: "co_applicant_org_ids".into(),
        message: format!(
            "编号为{}的单位不是已登记的集群发展促进组织，不能作为联合申报单位",
            missing.join("、")
        ),
    }])
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

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
    fn new(code: &str) -> CountyRef {
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
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClusterView {
    pub id: i64,
    /// The lead applicant organisation.
    pub org_id: i64,
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

fn kind_name(kinds: &[ClusterKind], key: &str) -> String {
    kinds
        .iter()
        .find(|k| k.key == key)
        .map(|k| k.name.clone())
        .unwrap_or_else(|| key.to_string())
}

fn industry_name(code: &str) -> String {
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

struct Related {
    counties: HashMap<i64, Vec<String>>,
    co_applicants: HashMap<i64, Vec<i64>>,
    member_counts: HashMap<i64, u64>,
    org_names: HashMap<i64, String>,
}

async fn related<C: ConnectionTrait>(
    db: &C,
    clusters: &[cluster::Model],
) -> Result<Related, DbErr> {
    let ids: Vec<i64> = clusters.iter().map(|c| c.id).collect();
    let mut counties: HashMap<i64, Vec<String>> = HashMap::new();
    let mut co_applicants: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut member_counts: HashMap<i64, u64> = HashMap::new();
    let mut org_ids: HashSet<i64> = clusters.iter().map(|c| c.org_id).collect();
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
        let counts: Vec<(i64, i64)> = cluster_member::Entity::find()
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

fn view(m: &cluster::Model, r: &Related, kinds: &[ClusterKind], relation: Relation) -> ClusterView {
    let org_name = |id: i64| r.org_names.get(&id).cloned().unwrap_or_default();
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

// ---------------------------------------------------------------------------------------------
// Scope
// ---------------------------------------------------------------------------------------------

async fn is_co_applicant<C: ConnectionTrait>(
    db: &C,
    cluster_id: i64,
    org_id: i64,
) -> Result<bool, DbErr> {
    Ok(cluster_co_applicant::Entity::find()
        .filter(cluster_co_applicant::Column::ClusterId.eq(cluster_id))
        .filter(cluster_co_applicant::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .is_some())
}

/// How the principal stands to the cluster, or `None` when it is outside the principal's scope.
async fn relation_to<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    m: &cluster::Model,
) -> Result<Option<Relation>, DbErr> {
    let Some(scope) = permission(p.role, Resource::Cluster, Action::View) else {
        return Ok(None);
    };
    Ok(match scope {
        ScopeKind::OwnOrg if m.org_id == p.org.id => Some(Relation::Lead),
        ScopeKind::OwnOrg => is_co_applicant(db, m.id, p.org.id)
            .await?
            .then_some(Relation::CoApplicant),
        ScopeKind::OwnCity => p
            .org
            .city_code
            .is_some_and(|c| c == m.city_code)
            .then_some(Relation::Oversight),
        ScopeKind::All => Some(Relation::Oversight),
        ScopeKind::OwnAccount => None,
    })
}

/// A cluster the principal may see (and so its files), or "not found".
pub async fn load_visible<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
) -> Result<cluster::Model, AppError> {
    Ok(load_scoped(db, p, id, Action::View).await?.0)
}

/// Loads a cluster the principal may see; anything else is "not found", so existence is not
/// revealed. For `Action::Update` the principal's organisation must also be the lead applicant:
/// a co-applicant or an overseeing bureau sees the cluster but is refused (403).
async fn load_scoped<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
    action: Action,
) -> Result<(cluster::Model, Relation), AppError> {
    let m = cluster::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let relation = relation_to(db, p, &m).await?.ok_or(AppError::NotFound)?;
    if action != Action::View {
        authorize(p, Resource::Cluster, action)?;
        if relation != Relation::Lead {
            return Err(AppError::Forbidden);
        }
    }
    Ok((m, relation))
}

/// The lead applicant for clusters the principal creates or edits: its own organisation.
fn lead_of(p: &Principal) -> Result<Lead, AppError> {
    let city = p
        .org
        .city_code
        .filter(|c| region::city(*c).is_some())
        .ok_or_else(|| {
            AppError::Conflict(
                "本单位尚未登记所在市州，请先在“本单位信息”中补充后再填写集群信息".into(),
            )
        })?;
    Ok(Lead {
        org_id: p.org.id,
        city,
    })
}

// ---------------------------------------------------------------------------------------------
// Clusters
// ---------------------------------------------------------------------------------------------

/// The clusters the principal may see: an applicant's own and those it co-applies to; a city
/// bureau's city; everything for the province.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<ClusterView>, AppError> {
    let scope = authorize(p, Resource::Cluster, Action::View)?;
    let condition = match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => match &p.org.city_code {
            Some(city) => Condition::all().add(cluster::Column::CityCode.eq(*city)),
            None => Condition::all().add(cluster::Column::Id.eq(-1)),
        },
        ScopeKind::OwnOrg => {
            let joined: Vec<i64> = cluster_co_applicant::Entity::find()
                .filter(cluster_co_applicant::Column::OrgId.eq(p.org.id))
                .all(&app.db)
                .await?
                .into_iter()
                .map(|c| c.cluster_id)
                .collect();
            let mut any = Condition::any().add(cluster::Column::OrgId.eq(p.org.id));
            if !joined.is_empty() {
                any = any.add(cluster::Column::Id.is_in(joined));
            }
            any
        }
        ScopeKind::OwnAccount => Condition::all().add(cluster::Column::Id.eq(-1)),
    };
    let rows = cluster::Entity::find()
        .filter(condition)
        .order_by_asc(cluster::Column::Id)
        .all(&app.db)
        .await?;
    let r = related(&app.db, &rows).await?;
    let kinds = cluster_kinds(app)?;
    Ok(rows
        .iter()
        .map(|m| {
            let relation = match scope {
                ScopeKind::OwnOrg if m.org_id == p.org.id => Relation::Lead,
                ScopeKind::OwnOrg => Relation::CoApplicant,
                _ => Relation::Oversight,
            };
            view(m, &r, &kinds, relation)
        })
        .collect())
}

pub async fn get(app: &App, p: &Principal, id: i64) -> Result<ClusterView, AppError> {
    let (m, relation) = load_scoped(&app.db, p, id, Action::View).await?;
    let r = related(&app.db, std::slice::from_ref(&m)).await?;
    Ok(view(&m, &r, &cluster_kinds(app)?, relation))
}

/// The cluster with its counties, co-applicants and members, for a principal allowed to see it.
/// Check `relation` before acting on it: only `Relation::Lead` may change or submit it.
pub async fn get_model(app: &App, p: &Principal, id: i64) -> Result<ClusterRecord, AppError> {
    let (m, relation) = load_scoped(&app.db, p, id, Action::View).await?;
    record(&app.db, m, relation).await
}

async fn record<C: ConnectionTrait>(
    db: &C,
    m: cluster::Model,
    relation: Relation,
) -> Result<ClusterRecord, AppError> {
    let other_county_codes = cluster_county::Entity::find()
        .filter(cluster_county::Column::ClusterId.eq(m.id))
        .order_by_asc(cluster_county::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.county_code.to_string())
        .collect();
    let co_ids: Vec<i64> = cluster_co_applicant::Entity::find()
        .filter(cluster_co_applicant::Column::ClusterId.eq(m.id))
        .order_by_asc(cluster_co_applicant::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.org_id)
        .collect();
    let mut co_orgs =
        store::load_by_ids::<organisation::Entity>(db, co_ids.iter().copied()).await?;
    let co_applicants = co_ids.iter().filter_map(|id| co_orgs.remove(id)).collect();
    let members = cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.eq(m.id))
        .order_by_asc(cluster_member::Column::Id)
        .all(db)
        .await?;
    let lead_org = organisation::Entity::find_by_id(m.org_id).one(db).await?;
    Ok(ClusterRecord {
        cluster: m,
        lead_org,
        other_county_codes,
        co_applicants,
        members,
        relation,
    })
}

/// Promotion organisations an applicant may name as co-applicants: every active one but its
/// own, names only. (An applicant may not browse other organisations through the organisation
/// service, so this picker reads the table directly.)
pub async fn co_applicant_choices(app: &App, p: &Principal) -> Result<Vec<OrgRef>, AppError> {
    authorize(p, Resource::Cluster, Action::Create)?;
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg))
        .filter(organisation::Column::Active.eq(true))
        .filter(organisation::Column::Id.ne(p.org.id))
        .order_by_asc(organisation::Column::Name)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|o| OrgRef {
            id: o.id,
            name: o.name,
        })
        .collect())
}

fn describe(v: &ValidCluster, city: RegionCode, co_names: &HashMap<i64, String>) -> String {
    let others: Vec<String> = v
        .other_counties
        .iter()
        .map(|c| county_full_name(*c))
        .collect();
    let co: Vec<String> = v
        .co_applicant_org_ids
        .iter()
        .map(|id| {
            format!(
                "{}（{id}）",
                co_names.get(id).map(String::as_str).unwrap_or("-")
            )
        })
        .collect();
    format!(
        "名称={}；类型={}；主导产业={}；牵头县区={}；其他县区={}；核心园区={}；受理市州={}；联合申报单位={}",
        v.name,
        v.kind_name,
        industry_name(&v.industry_code),
        county_full_name(v.lead_county),
        if others.is_empty() {
            "-".into()
        } else {
            others.join("、")
        },
        v.core_park,
        region::city_name(&city.to_string()),
        if co.is_empty() {
            "-".into()
        } else {
            co.join("、")
        },
    )
}

fn describe_record(r: &ClusterRecord, kinds: &[ClusterKind]) -> String {
    let m = &r.cluster;
    let others: Vec<String> = r
        .other_county_codes
        .iter()
        .map(|c| CountyRef::new(c).name)
        .collect();
    let co: Vec<String> = r
        .co_applicants
        .iter()
        .map(|o| format!("{}（{}）", o.name, o.id))
        .collect();
    format!(
        "名称={}；类型={}；主导产业={}；牵头县区={}；其他县区={}；核心园区={}；受理市州={}；联合申报单位={}",
        m.name,
        kind_name(kinds, &m.kind),
        industry_name(&m.industry_code),
        CountyRef::new(&m.lead_county_code.to_string()).name,
        if others.is_empty() {
            "-".into()
        } else {
            others.join("、")
        },
        m.core_park,
        region::city_name_of(m.city_code),
        if co.is_empty() {
            "-".into()
        } else {
            co.join("、")
        },
    )
}

/// Organisation names by id (no query for none).
pub(crate) async fn org_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    store::load_by_ids_map::<organisation::Entity, _>(db, ids, |o| o.name).await
}

async fn write_links<C: ConnectionTrait>(
    db: &C,
    cluster_id: i64,
    v: &ValidCluster,
) -> Result<(), DbErr> {
    cluster_county::Entity::delete_many()
        .filter(cluster_county::Column::ClusterId.eq(cluster_id))
        .exec(db)
        .await?;
    cluster_co_applicant::Entity::delete_many()
        .filter(cluster_co_applicant::Column::ClusterId.eq(cluster_id))
        .exec(db)
        .await?;
    if !v.other_counties.is_empty() {
        cluster_county::Entity::insert_many(v.other_counties.iter().map(|c| {
            cluster_county::ActiveModel {
                cluster_id: Set(cluster_id),
                county_code: Set(*c),
                ..Default::default()
            }
        }))
        .exec(db)
        .await?;
    }
    if !v.co_applicant_org_ids.is_empty() {
        cluster_co_applicant::Entity::insert_many(v.co_applicant_org_ids.iter().map(|id| {
            cluster_co_applicant::ActiveModel {
                cluster_id: Set(cluster_id),
                org_id: Set(*id),
                ..Default::default()
            }
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Creates a cluster profile for the principal's own organisation (the lead applicant); its
/// routing city is that organisation's city.
pub async fn create(
    app: &App,
    p: &Principal,
    input: &ClusterInput,
) -> Result<ClusterView, AppError> {
    authorize(p, Resource::Cluster, Action::Create)?;
    let lead = lead_of(p)?;
    let kinds = cluster_kinds(app)?;
    let pure = validate(input, lead, &kinds);
    let extra = check_co_applicants(&app.db, &input.co_applicant_org_ids).await?;
    let v = merge_problems(pure, extra)?;
    let co_names = org_names(&app.db, v.co_applicant_org_ids.iter().copied()).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = cluster::ActiveModel {
        org_id: Set(lead.org_id),
        name: Set(v.name.clone()),
        kind: Set(v.kind.clone()),
        industry_code: Set(v.industry_code.clone()),
        lead_county_code: Set(v.lead_county),
        city_code: Set(lead.city),
        core_park: Set(v.core_park.clone()),
        lifecycle: Set(crate::store::entity::kinds::Lifecycle::Applicant),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_links(&txn, m.id, &v).await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "cluster.create",
                object_type: "cluster",
                object_id: m.id.to_string(),
                summary: format!("新建集群：{}", describe(&v, lead.city, &co_names)),
                ..Default::default()
            },
        )
        .await?;
    let r = related(&txn, std::slice::from_ref(&m)).await?;
    txn.commit().await?;
    Ok(view(&m, &r, &kinds, Relation::Lead))
}

/// Updates a cluster profile; only the lead applicant may, and only from the version it saw.
pub async fn update(
    app: &App,
    p: &Principal,
    id: i64,
    input: &ClusterInput,
    expected_version: i32,
) -> Result<ClusterView, AppError> {
    let (before, _) = load_scoped(&app.db, p, id, Action::Update).await?;
    let lead = lead_of(p)?;
    let kinds = cluster_kinds(app)?;
    let pure = validate(input, lead, &kinds);
    let extra = check_co_applicants(&app.db, &input.co_applicant_org_ids).await?;
    let v = merge_problems(pure, extra)?;
    let co_names = org_names(&app.db, v.co_applicant_org_ids.iter().copied()).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let before = record(&txn, before, Relation::Lead).await?;
    // Optimistic concurrency: the update only applies to the version the editor saw.
    store::update_versioned(
        &txn,
        id,
        expected_version,
        cluster::ActiveModel {
            name: Set(v.name.clone()),
            kind: Set(v.kind.clone()),
            industry_code: Set(v.industry_code.clone()),
            lead_county_code: Set(v.lead_county),
            // The routing city follows the lead applicant's registered city (第八条).
            city_code: Set(lead.city),
            core_park: Set(v.core_park.clone()),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    write_links(&txn, id, &v).await?;
    Audit::of(app, p, now)
        .record_changes(
            &txn,
            Event {
                action: "cluster.update",
                object_type: "cluster",
                object_id: id.to_string(),
                summary: format!(
                    "修改前：{}\n修改后：{}",
                    describe_record(&before, &kinds),
                    describe(&v, lead.city, &co_names)
                ),
                ..Default::default()
            },
            crate::audit::changes_since::<cluster::Entity, _>(&txn, &before.cluster).await?,
        )
        .await?;
    let after = cluster::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let r = related(&txn, std::slice::from_ref(&after)).await?;
    txn.commit().await?;
    Ok(view(&after, &r, &kinds, Relation::Lead))
}

// ---------------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberInput {
    /// 企业名称
    pub name: String,
    /// 统一社会信用代码
    pub credit_code: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
}

impl MemberView {
    fn from_model(m: &cluster_member::Model) -> MemberView {
        MemberView {
            id: m.id,
            name: m.name.clone(),
            credit_code: m.credit_code.clone(),
        }
    }
}

/// Pure validation of one member enterprise.
pub fn validate_member(input: &MemberInput) -> Result<ValidMember, AppError> {
    let mut p = Problems::default();
    let name = check_member_name(&input.name)
        .map_err(|e| p.add("name", e))
        .ok();
    let code = if input.credit_code.trim().is_empty() {
        p.add("credit_code", "请填写统一社会信用代码");
        None
    } else {
        CreditCode::parse(&input.credit_code)
            .map_err(|e| p.add("credit_code", e.to_string()))
            .ok()
    };
    p.into_result()?;
    match (name, code) {
        (Some(name), Some(credit_code)) => Ok(ValidMember { name, credit_code }),
        _ => Err(AppError::Internal("member fields checked above".into())),
    }
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub async fn list_members(
    app: &App,
    p: &Principal,
    cluster_id: i64,
) -> Result<Vec<MemberView>, AppError> {
    load_scoped(&app.db, p, cluster_id, Action::View).await?;
    Ok(cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.eq(cluster_id))
        .order_by_asc(cluster_member::Column::Id)
        .all(&app.db)
        .await?
        .iter()
        .map(MemberView::from_model)
        .collect())
}

async fn member_codes<C: ConnectionTrait>(
    db: &C,
    cluster_id: i64,
) -> Result<HashSet<String>, DbErr> {
    Ok(cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.eq(cluster_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.credit_code)
        .collect())
}

pub async fn add_member(
    app: &App,
    p: &Principal,
    cluster_id: i64,
    input: &MemberInput,
) -> Result<MemberView, AppError> {
    let (c, _) = load_scoped(&app.db, p, cluster_id, Action::Update).await?;
    let v = validate_member(input)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    if member_codes(&txn, cluster_id)
        .await?
        .contains(v.credit_code.as_str())
    {
        txn.rollback().await?;
        return Err(AppError::invalid("credit_code", ALREADY_MEMBER));
    }
    let inserted = cluster_member::ActiveModel {
        cluster_id: Set(cluster_id),
        name: Set(v.name.clone()),
        credit_code: Set(v.credit_code.as_str().to_string()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let m = match inserted {
        Ok(m) => m,
        // A concurrent add of the same code lost the race to the unique index.
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::invalid("credit_code", ALREADY_MEMBER));
        }
        Err(e) => return Err(e.into()),
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "cluster.member_add",
                object_type: "cluster",
                object_id: cluster_id.to_string(),
                summary: format!(
                    "集群“{}”新增成员企业：{}（{}）",
                    c.name,
                    v.name,
                    v.credit_code.as_str()
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(MemberView::from_model(&m))
}

pub async fn remove_member(
    app: &App,
    p: &Principal,
    cluster_id: i64,
    member_id: i64,
) -> Result<(), AppError> {
    let (c, _) = load_scoped(&app.db, p, cluster_id, Action::Update).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = cluster_member::Entity::find_by_id(member_id)
        .filter(cluster_member::Column::ClusterId.eq(cluster_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    cluster_member::Entity::delete_by_id(m.id)
        .exec(&txn)
        .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "cluster.member_remove",
                object_type: "cluster",
                object_id: cluster_id.to_string(),
                summary: format!(
                    "集群“{}”移除成员企业：{}（{}）",
                    c.name, m.name, m.credit_code
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Excel import of members
// ---------------------------------------------------------------------------------------------

/// One problem in an import file, where the user sees it in Excel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row number as Excel shows it (the header is usually row 1).
    pub row: u32,
    /// The column header, e.g. 统一社会信用代码.
    pub column: String,
    /// `name` | `credit_code`: the column as a machine key.
    pub column_key: String,
    pub message: String,
}

/// The outcome of an import. All or nothing: when `errors` is not empty nothing was imported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Members added (0 when there are errors).
    pub imported: usize,
    /// Data rows read from the sheet (empty rows are skipped).
    pub rows: usize,
    pub errors: Vec<RowError>,
}

impl ImportReport {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

fn file_error(message: impl Into<String>) -> AppError {
    AppError::invalid("file", message)
}

fn cell_text(v: &calamine::Data) -> CellText {
    use calamine::Data;
    match v {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => CellText {
            text: s.clone(),
            numeric: false,
        },
        Data::Int(i) => CellText {
            text: i.to_string(),
            numeric: true,
        },
        Data::Float(f) => CellText {
            text: if f.fract() == 0.0 && f.abs() < 1e19 {
                format!("{f:.0}")
            } else {
                f.to_string()
            },
            numeric: true,
        },
        Data::Empty => CellText::default(),
        other => CellText {
            text: other.to_string(),
            numeric: false,
        },
    }
}

/// Reads the member rows of the first sheet of an .xlsx file. File-level problems (not an
/// Excel file, damaged, no header, too many rows) are an `Invalid` error on field `file`.
pub fn read_member_sheet(bytes: &[u8]) -> Result<Vec<SheetRow>, AppError> {
    use calamine::{Reader, Xlsx};

    member_sheet::check_file(bytes).map_err(file_error)?;
    let damaged = |e: &dyn std::fmt::Display| {
        tracing::debug!("member import: unreadable workbook: {e}");
        file_error(member_sheet::DAMAGED)
    };
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| damaged(&e))?;
    let Some(first) = workbook.sheet_names().into_iter().next() else {
        return Err(file_error("Excel文件中没有工作表"));
    };
    // Stream the cells instead of loading the whole sheet, so an oversized sheet is refused
    // as soon as it passes the row limit.
    let mut rows: BTreeMap<u32, Vec<(u32, CellText)>> = BTreeMap::new();
    {
        let mut cells = workbook
            .worksheet_cells_reader(&first)
            .map_err(|e| damaged(&e))?;
        while let Some(cell) = cells.next_cell().map_err(|e| damaged(&e))? {
            let (row, col) = cell.get_position();
            let value = cell_text(&calamine::Data::from(cell.get_value().clone()));
            if value.text.trim().is_empty() {
                continue;
            }
            rows.entry(row).or_default().push((col, value));
            // One header row plus the allowed data rows.
            if rows.len() > MAX_IMPORT_ROWS + 1 {
                return Err(file_error(member_sheet::too_many_rows()));
            }
        }
    }
    member_sheet::member_rows(&rows).map_err(file_error)
}

/// Checks every row against the others and the current members (the domain's
/// `member_sheet::check_rows`), with the problems as the API reports them.
pub fn check_rows(
    rows: &[SheetRow],
    existing: &HashSet<String>,
) -> (Vec<ValidMember>, Vec<RowError>) {
    let (valid, problems) = member_sheet::check_rows(rows, existing);
    let errors = problems
        .into_iter()
        .map(|e| RowError {
            row: e.row,
            column: e.column.into(),
            column_key: e.column_key.into(),
            message: e.message,
        })
        .collect();
    (valid, errors)
}

/// Imports member enterprises from an .xlsx file (first sheet; header 企业名称、统一社会信用代码
/// in either order). Every row is checked; when any row has a problem nothing is imported and
/// the report lists every problem. Otherwise all rows are added in one transaction.
pub async fn import_members(
    app: &App,
    p: &Principal,
    cluster_id: i64,
    bytes: &[u8],
) -> Result<ImportReport, AppError> {
    let (c, _) = load_scoped(&app.db, p, cluster_id, Action::Update).await?;
    let rows = read_member_sheet(bytes)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let existing = member_codes(&txn, cluster_id).await?;
    let (valid, errors) = check_rows(&rows, &existing);
    if !errors.is_empty() {
        txn.rollback().await?;
        return Ok(ImportReport {
            imported: 0,
            rows: rows.len(),
            errors,
        });
    }
    for chunk in valid.chunks(1000) {
        let result = cluster_member::Entity::insert_many(chunk.iter().map(|m| {
            cluster_member::ActiveModel {
                cluster_id: Set(cluster_id),
                name: Set(m.name.clone()),
                credit_code: Set(m.credit_code.as_str().to_string()),
                ..Default::default()
            }
        }))
        .exec(&txn)
        .await;
        match result {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::Conflict(
                    "导入期间成员名单被他人修改，未导入任何数据，请刷新后重新导入".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "cluster.members_import",
                object_type: "cluster",
                object_id: cluster_id.to_string(),
                summary: format!("集群“{}”从Excel导入成员企业{}家", c.name, valid.len()),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(ImportReport {
        imported: valid.len(),
        rows: rows.len(),
        errors: Vec::new(),
    })
}

/// The import template: sheet 成员企业 with the header (bold, frozen, text-formatted columns so
/// Excel keeps credit codes as typed) and a sheet 填写说明 with the rules and an example.
pub fn template_xlsx() -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook, XlsxError};

    fn build() -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold().set_background_color(0xF0F2F4);
        let text = Format::new().set_num_format("@");
        let sheet = wb.add_worksheet();
        sheet.set_name(TEMPLATE_SHEET)?;
        sheet.write_string_with_format(0, 0, NAME_COLUMN, &bold)?;
        sheet.write_string_with_format(0, 1, CODE_COLUMN, &bold)?;
        sheet.set_column_width(0, 44)?;
        sheet.set_column_width(1, 26)?;
        sheet.set_column_format(0, &text)?;
        sheet.set_column_format(1, &text)?;
        sheet.set_freeze_panes(1, 0)?;

        let notes = wb.add_worksheet();
        notes.set_name("填写说明")?;
        notes.set_column_width(0, 22)?;
        notes.set_column_width(1, 80)?;
        let example = CreditCode::from_parts('9', '1', "430100", "MA4L0001")
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        let lines: [(&str, String); 7] = [
            ("用途", "湖南省先进制造业集群成员企业名单导入".to_string()),
            (
                "填写位置",
                format!("在“{TEMPLATE_SHEET}”工作表第1行表头下方，从第2行起每行填写一家企业"),
            ),
            (
                NAME_COLUMN,
                "必填，企业营业执照上的全称，不超过100个字".to_string(),
            ),
            (
                CODE_COLUMN,
                "必填，18位，字母须为大写；请保持单元格为“文本”格式，避免Excel改变长数字"
                    .to_string(),
            ),
            (
                "数量",
                format!("每次最多导入{MAX_IMPORT_ROWS}家；同一代码不能重复，也不能与已有成员重复"),
            ),
            (
                "结果",
                "任一行有误时整份名单都不会导入，系统会列出每一处错误的行号，改正后重新上传即可"
                    .to_string(),
            ),
            ("示例", format!("长沙某某重工机械有限公司　{example}")),
        ];
        notes.write_string_with_format(0, 0, "项目", &bold)?;
        notes.write_string_with_format(0, 1, "说明", &bold)?;
        for (i, (k, v)) in lines.iter().enumerate() {
            let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
            notes.write_string(row, 0, *k)?;
            notes.write_string(row, 1, v)?;
        }
        wb.save_to_buffer()
    }

    build().map_err(|e| AppError::internal(format!("member import template: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiqun_domain::member_sheet::{MAX_EXPANDED_BYTES, expanded_size};

    fn kinds() -> Vec<ClusterKind> {
        super::super::policy::current_on(time::macros::date!(2025 - 01 - 01))
            .unwrap()
            .policy
            .cluster_kinds
    }

    const CHANGSHA: Lead = Lead {
        org_id: 7,
        city: RegionCode::CHANGSHA,
    };

    fn input() -> ClusterInput {
        ClusterInput {
            name: "长沙工程机械产业集群".into(),
            kind: "leading".into(),
            industry_code: "35".into(),
            lead_county_code: "430121".into(),
            other_county_codes: vec!["430104".into()],
            core_park: "长沙经济技术开发区".into(),
            co_applicant_org_ids: vec![],
        }
    }

    fn fields(e: &AppError) -> Vec<&str> {
        e.fields().iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_complete_single_application_is_valid() {
        let v = validate(&input(), CHANGSHA, &kinds()).unwrap();
        assert_eq!(v.industry_code, "C35");
        assert_eq!(v.kind_name, "优势产业集群");
        assert!(!v.is_joint());
    }

    #[test]
    fn every_problem_is_reported_against_its_field() {
        let mut i = input();
        i.name = " ".into();
        i.kind = "other".into();
        i.industry_code = "C12".into();
        i.lead_county_code = "430602".into();
        i.other_county_codes = vec!["999999".into(), "430602".into()];
        i.core_park = String::new();
        let e = validate(&i, CHANGSHA, &kinds()).unwrap_err();
        assert_eq!(
            fields(&e),
            vec![
                "name",
                "kind",
                "industry_code",
                "lead_county_code",
                "other_county_codes",
                "core_park"
            ]
        );
        assert!(
            e.fields()[3]
                .message
                .contains("岳阳市岳阳楼区不在申报主体所在的长沙市")
        );
        assert!(e.fields()[4].message.contains("“999999”"));
        assert!(e.fields()[4].message.contains("已是牵头县"));
    }

    #[test]
    fn a_joint_application_may_span_cities() {
        let mut i = input();
        i.lead_county_code = "430602".into();
        i.other_county_codes = vec!["430121".into(), "430203".into()];
        i.co_applicant_org_ids = vec![8, 9];
        let v = validate(&i, CHANGSHA, &kinds()).unwrap();
        assert!(v.is_joint());
        assert_eq!(v.other_counties.len(), 2);
    }

    #[test]
    fn co_applicants_are_distinct_and_not_the_lead() {
        let mut i = input();
        i.co_applicant_org_ids = vec![7, 8, 8];
        let e = validate(&i, CHANGSHA, &kinds()).unwrap_err();
        assert_eq!(fields(&e), vec!["co_applicant_org_ids"]);
        assert!(e.fields()[0].message.contains("牵头申报主体"));
        assert!(e.fields()[0].message.contains("多次"));
    }

    #[test]
    fn other_counties_of_a_single_application_stay_in_the_city() {
        let mut i = input();
        i.other_county_codes = vec!["430203".into(), "430104".into(), "430104".into()];
        let e = validate(&i, CHANGSHA, &kinds()).unwrap_err();
        assert_eq!(fields(&e), vec!["other_county_codes"]);
        assert!(e.fields()[0].message.contains("联合申报"));
        assert!(e.fields()[0].message.contains("选择了多次"));
    }

    fn code(body: &str) -> String {
        CreditCode::from_parts('9', '1', "430100", body)
            .unwrap()
            .as_str()
            .to_string()
    }

    fn row(n: u32, name: &str, code: &str) -> SheetRow {
        SheetRow {
            row: n,
            name: CellText {
                text: name.into(),
                numeric: false,
            },
            credit_code: CellText {
                text: code.into(),
                numeric: false,
            },
        }
    }

    #[test]
    fn rows_are_checked_against_each_other_and_the_members() {
        let a = code("MA4L0001");
        let b = code("MA4L0002");
        let existing: HashSet<String> = [b.clone()].into();
        let rows = vec![
            row(2, "甲公司", &a),
            row(3, "", &code("MA4L0003")),
            row(4, "乙公司", &a.to_lowercase()),
            row(5, "丙公司", &b),
            row(6, "丁公司", "91430100MA4L0000"),
        ];
        let (valid, errors) = check_rows(&rows, &existing);
        assert_eq!(valid.len(), 1);
        let found: Vec<(u32, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (3, NAME_COLUMN),
                (4, CODE_COLUMN),
                (5, CODE_COLUMN),
                (6, CODE_COLUMN)
            ]
        );
        assert!(errors[1].message.contains("第2行"));
        assert_eq!(errors[2].message, ALREADY_MEMBER);
        assert!(errors[3].message.contains("18位"));
    }

    #[test]
    fn the_template_reads_back_as_an_empty_member_sheet() {
        let bytes = template_xlsx().unwrap();
        let e = read_member_sheet(&bytes).unwrap_err();
        assert!(e.fields()[0].message.contains("没有成员企业数据"), "{e:?}");
    }

    #[test]
    fn files_that_are_not_xlsx_are_named() {
        let e = read_member_sheet(b"name,code\n").unwrap_err();
        assert!(e.fields()[0].message.contains("不是Excel工作簿"));
        let e = read_member_sheet(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).unwrap_err();
        assert!(e.fields()[0].message.contains(".xls"));
        let e = read_member_sheet(b"PK\x03\x04garbage").unwrap_err();
        assert!(e.fields()[0].message.contains("损坏"));
    }

    #[test]
    fn a_compression_bomb_is_refused_before_it_is_opened() {
        let bytes = template_xlsx().unwrap();
        let size = expanded_size(&bytes).unwrap();
        assert!(size > bytes.len() as u64 && size < MAX_EXPANDED_BYTES);
        // Declare a huge uncompressed size for the first entry of the central directory.
        let mut bomb = bytes.clone();
        let cd = bomb.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bomb[cd + 24..cd + 28].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        let e = read_member_sheet(&bomb).unwrap_err();
        assert!(e.fields()[0].message.contains("解压后过大"), "{e:?}");
    }

    fn sheet(rows: &[(&str, &str)]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let s = wb.add_worksheet();
        for (i, (a, b)) in rows.iter().enumerate() {
            let r = i as u32;
            s.write_string(r, 0, *a).unwrap();
            s.write_string(r, 1, *b).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn headers_may_be_swapped_and_padded() {
        let a = code("MA4L0001");
        let bytes = sheet(&[(" 统一社会 信用代码 ", "企业名称*"), (&a, "甲公司")]);
        let rows = read_member_sheet(&bytes).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].name.text, "甲公司");
        assert_eq!(rows[0].credit_code.text, a);
        let e = read_member_sheet(&sheet(&[("名称", "代码"), ("甲", "乙")])).unwrap_err();
        assert!(
            e.fields()[0]
                .message
                .contains("“企业名称”、“统一社会信用代码”")
        );
    }

    #[test]
    fn numbers_keep_their_digits_and_get_a_hint() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let s = wb.add_worksheet();
        s.write_string(0, 0, NAME_COLUMN).unwrap();
        s.write_string(0, 1, CODE_COLUMN).unwrap();
        s.write_string(1, 0, "甲公司").unwrap();
        s.write_number(1, 1, 914301001234567890.0).unwrap();
        let rows = read_member_sheet(&wb.save_to_buffer().unwrap()).unwrap();
        assert!(rows[0].credit_code.numeric);
        let (_, errors) = check_rows(&rows, &HashSet::new());
        assert!(errors[0].message.contains("文本"), "{errors:?}");
    }
}
