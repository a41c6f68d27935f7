//! Listing, reading, creating and changing cluster profiles (第五条).

use crate::store::id::{ClusterId, OrgId};
use std::collections::HashMap;

use jiqun_domain::access::{Action, OrgKind, Resource, ScopeKind};
use jiqun_domain::region::{self, RegionCode};
use jiqun_rules::policy::ClusterKind;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use super::{
    ClusterInput, ClusterRecord, ClusterView, CountyRef, OrgRef, Relation, ValidCluster,
    check_co_applicants, cluster_kinds, county_full_name, industry_name, kind_name, lead_of,
    load_scoped, merge_problems, related, validate, view,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::services::authorize;
use crate::services::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use crate::store::{
    self,
    entity::{cluster, cluster_co_applicant, cluster_county, cluster_member, organisation},
};

/// The clusters a principal may see with `action`: an applicant's own and those it co-applies
/// to; a city bureau's city; a county bureau's lead county; everything for the province. The one
/// cluster scope every list of clusters (the 名录, the ladder) filters by.
pub(crate) async fn scope_condition(
    app: &App,
    p: &Principal,
    action: Action,
) -> Result<(ScopeKind, Condition), AppError> {
    let scope = authorize(p, Resource::Cluster, action)?;
    let condition = match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => match &p.org.city_code {
            Some(city) => Condition::all().add(cluster::Column::CityCode.eq(*city)),
            None => Condition::all().add(cluster::Column::Id.eq(-1)),
        },
        ScopeKind::OwnCounty => match &p.org.county_code {
            Some(county) => Condition::all().add(cluster::Column::LeadCountyCode.eq(*county)),
            None => Condition::all().add(cluster::Column::Id.eq(-1)),
        },
        ScopeKind::OwnOrg => {
            let joined: Vec<ClusterId> = cluster_co_applicant::Entity::find()
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
    Ok((scope, condition))
}

fn views_of(
    app: &App,
    p: &Principal,
    scope: ScopeKind,
    rows: &[cluster::Model],
    r: &super::Related,
) -> Result<Vec<ClusterView>, AppError> {
    let kinds = cluster_kinds(app)?;
    Ok(rows
        .iter()
        .map(|m| {
            let relation = match scope {
                ScopeKind::OwnOrg if m.org_id == p.org.id => Relation::Lead,
                ScopeKind::OwnOrg => Relation::CoApplicant,
                _ => Relation::Oversight,
            };
            view(m, r, &kinds, relation)
        })
        .collect())
}

/// The clusters the principal may see: an applicant's own and those it co-applies to; a city
/// bureau's city; everything for the province.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<ClusterView>, AppError> {
    let (scope, condition) = scope_condition(app, p, Action::View).await?;
    let rows = cluster::Entity::find()
        .filter(condition)
        .order_by_asc(cluster::Column::Id)
        .all(&app.db)
        .await?;
    let r = related(&app.db, &rows).await?;
    views_of(app, p, scope, &rows, &r)
}

fn industries() -> Vec<(&'static str, &'static str)> {
    jiqun_domain::industry::divisions()
        .iter()
        .map(|d| (d.code(), d.name()))
        .collect()
}

fn lifecycles() -> Vec<(&'static str, &'static str)> {
    ["applicant", "cultivation", "certified", "revoked"]
        .into_iter()
        .map(|k| (k, super::lifecycle_label(k)))
        .collect()
}

/// The areas the cluster list filters by: the built-in policies' groupings of cities (第十六条:
/// 长株潭), then the cities in none of them.
pub fn areas() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = crate::services::policy::builtin_groupings()
        .iter()
        .map(|(k, n)| (k.as_str(), n.as_str()))
        .collect();
    out.push((OTHER_AREA, OTHER_AREA_NAME));
    out
}

/// The area of the cities in no grouping of the policy.
pub const OTHER_AREA: &str = "other";
pub const OTHER_AREA_NAME: &str = "其他市州";

/// The back office's list of clusters: filters, sortable columns, its path.
pub const LIST: ListSpec = ListSpec {
    path: "/clusters",
    filters: &[
        FilterSpec {
            key: "city",
            label: "受理市州",
            kind: FilterKind::City,
        },
        FilterSpec {
            key: "industry",
            label: "主导产业",
            kind: FilterKind::Choice(industries),
        },
        FilterSpec {
            key: "q",
            label: "关键字",
            kind: FilterKind::Text,
        },
        FilterSpec {
            key: "kind",
            label: "集群类别",
            kind: FilterKind::Text,
        },
        FilterSpec {
            key: "lifecycle",
            label: "状态",
            kind: FilterKind::Choice(lifecycles),
        },
        FilterSpec {
            key: "area",
            label: "区域",
            kind: FilterKind::Choice(areas),
        },
    ],
    sorts: &[
        ("name", "集群名称"),
        ("industry", "主导产业"),
        ("city", "受理市州"),
        ("id", "登记顺序"),
    ],
    default_desc: false,
};

async fn listed(
    app: &App,
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<(ScopeKind, sea_orm::Select<cluster::Entity>), AppError> {
    let (scope, condition) = scope_condition(app, p, action).await?;
    let mut q = cluster::Entity::find().filter(condition);
    if let Some(city) = params.city("city") {
        q = q.filter(cluster::Column::CityCode.eq(city));
    }
    if let Some(code) = params.get("industry") {
        q = q.filter(cluster::Column::IndustryCode.eq(code));
    }
    if let Some(text) = params.get("q") {
        q = q.filter(cluster::Column::Name.contains(text));
    }
    if let Some(kind) = params.get("kind") {
        q = q.filter(cluster::Column::Kind.eq(kind));
    }
    if let Some(stage) = params.get("lifecycle").and_then(|k| {
        crate::store::entity::kinds::Lifecycle::ALL
            .into_iter()
            .find(|l| l.key() == k)
    }) {
        q = q.filter(cluster::Column::Lifecycle.eq(stage));
    }
    if let Some(area) = params.get("area") {
        // The grouping's cities come from the policy (第十六条), not from the code.
        let today = crate::services::calendar::today(app);
        q = if area == OTHER_AREA {
            let mut grouped = Vec::new();
            for (key, _) in crate::services::policy::builtin_groupings() {
                grouped.extend(crate::services::policy::grouping_cities_on(today, key)?);
            }
            q.filter(cluster::Column::CityCode.is_not_in(grouped))
        } else {
            q.filter(
                cluster::Column::CityCode
                    .is_in(crate::services::policy::grouping_cities_on(today, area)?),
            )
        };
    }
    let q = params.order(
        q,
        |key| match key {
            "name" => cluster::Column::Name,
            "industry" => cluster::Column::IndustryCode,
            "city" => cluster::Column::CityCode,
            _ => cluster::Column::Id,
        },
        cluster::Column::Id,
    );
    Ok((scope, q))
}

/// One page of the list and the number of all that match (related rows loaded in batches).
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<ClusterView>, u64), AppError> {
    let (scope, q) = listed(app, p, Action::View, params).await?;
    let (rows, total) = params.fetch(&app.db, q).await?;
    let r = related(&app.db, &rows).await?;
    Ok((views_of(app, p, scope, &rows, &r)?, total))
}

/// Every cluster the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let (scope, q) = listed(app, p, Action::Export, params).await?;
    let rows = params.fetch_all(&app.db, q).await?;
    let r = related(&app.db, &rows).await?;
    let table: Vec<Vec<String>> = views_of(app, p, scope, &rows, &r)?
        .into_iter()
        .map(|c| {
            vec![
                c.name,
                c.kind_name,
                c.industry_name,
                c.lead_county.name,
                c.city_name,
                c.org_name,
                if c.joint {
                    "联合申报"
                } else {
                    "单独申报"
                }
                .to_string(),
                c.member_count.to_string(),
                c.lifecycle_label,
            ]
        })
        .collect();
    export_xlsx(
        "集群名单",
        &[
            ("集群名称", 36.0),
            ("类型", 14.0),
            ("主导产业", 24.0),
            ("牵头县（市、区）", 16.0),
            ("受理市州", 12.0),
            ("牵头申报主体", 30.0),
            ("申报方式", 10.0),
            ("成员企业", 10.0),
            ("阶段", 10.0),
        ],
        &table,
    )
}

pub async fn get(app: &App, p: &Principal, id: ClusterId) -> Result<ClusterView, AppError> {
    let (m, relation) = load_scoped(&app.db, p, id, Action::View).await?;
    let r = related(&app.db, std::slice::from_ref(&m)).await?;
    Ok(view(&m, &r, &cluster_kinds(app)?, relation))
}

/// The cluster with its counties, co-applicants and members, for a principal allowed to see it.
/// Check `relation` before acting on it: only `Relation::Lead` may change or submit it.
pub async fn get_model(app: &App, p: &Principal, id: ClusterId) -> Result<ClusterRecord, AppError> {
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
    let co_ids: Vec<OrgId> = cluster_co_applicant::Entity::find()
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

fn describe(v: &ValidCluster, city: RegionCode, co_names: &HashMap<OrgId, String>) -> String {
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
    ids: impl IntoIterator<Item = OrgId>,
) -> Result<HashMap<OrgId, String>, DbErr> {
    store::load_by_ids_map::<organisation::Entity, _>(db, ids, |o| o.name).await
}

async fn write_links<C: ConnectionTrait>(
    db: &C,
    cluster_id: ClusterId,
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
    id: ClusterId,
    input: &ClusterInput,
    expected_version: i32,
) -> Result<ClusterView, AppError> {
    let (before, _) = load_scoped(&app.db, p, id, Action::Update).await?;
    let lead = lead_of(p)?;
    let kinds = cluster_kinds(app)?;
    let pure = validate(input, lead, &kinds);
    let extra = check_co_applicants(&app.db, &input.co_applicant_org_ids).await?;
    let v = merge_problems(pure, extra)?;
    // What was announced with a title changes only through a 变更申请.
    crate::services::changes::guard_direct_edit(&app.db, &before, &v).await?;
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
