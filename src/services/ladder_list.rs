//! 第十六条 分级培育: the ladder — each cluster with its rungs, county (its lead county) → city
//! (a city-level title from its city's own competition, `city_designations`) → province (its
//! live provincial designations) → national (selected after the province's nomination,
//! 第十七条, or a ministry's title while it stands: in its term, not revoked, `ministry::holdings`)
//! — and its highest title. The province reads every cluster, a city bureau its city's
//! (the cluster permission's scope). Filters by city, highest level and name; one count, one
//! page and three batch loads whatever the size.

use std::collections::HashMap;

use jiqun_domain::access::Action;
use jiqun_domain::ladder::{self, Level, Standing};
use jiqun_domain::nomination::Outcome;
use jiqun_domain::round::Designation;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};
use serde::Serialize;

use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::id::ClusterId;
use crate::store::{
    self,
    entity::{city_designation, cluster, designation, nomination},
};

fn levels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("national", "国家级"),
        ("province", "省级"),
        ("city", "市级"),
        ("county", "县级（尚无称号）"),
    ]
}

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        key: "city",
        label: "市州",
        kind: FilterKind::City,
    },
    FilterSpec {
        key: "level",
        label: "最高层级",
        kind: FilterKind::Choice(levels),
    },
    FilterSpec {
        key: "q",
        label: "集群名称",
        kind: FilterKind::Text,
    },
];

const SORTS: &[(&str, &str)] = &[("name", "集群名称"), ("id", "登记顺序")];

/// 分级培育梯队 in the back office.
pub const LIST: ListSpec = ListSpec {
    path: "/ladder",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: false,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/ladder",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: false,
};

/// One cluster on the ladder. A rung it has not reached is "".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LadderRow {
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_code: String,
    pub city_name: String,
    /// The lead county (牵头县市区): the county rung.
    pub county_code: String,
    pub county_name: String,
    /// e.g. "2026年市级先进制造业集群".
    pub city_title: String,
    /// e.g. "2027年湖南省先进制造业集群" (the highest live provincial title).
    pub province_title: String,
    /// e.g. "2028年国家级先进制造业集群（入选）".
    pub national_title: String,
    /// "county", "city", "province" or "national".
    pub highest_level: String,
    /// 县级 / 市级 / 省级 / 国家级
    pub highest_level_label: String,
    /// The title of the highest rung, or the lead county's name when it holds none.
    pub highest_title: String,
}

/// Cluster ids holding a live city title / a live provincial title / a national selection.
fn with_city_title() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(city_designation::Column::ClusterId)
        .from(city_designation::Entity)
        .and_where(city_designation::Column::RevokedOn.is_null())
        .to_owned()
}

fn with_provincial_title() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(designation::Column::ClusterId)
        .from(designation::Entity)
        .and_where(designation::Column::RevokedOn.is_null())
        .to_owned()
}

fn with_national_title() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(nomination::Column::ClusterId)
        .from(nomination::Entity)
        .and_where(nomination::Column::Outcome.eq(Outcome::Selected))
        .to_owned()
}

/// `ministry`: the clusters whose ministry's title stands today (a handful: the ministry
/// selects a few a year).
fn level_condition(level: &str, ministry: &[ClusterId]) -> Condition {
    let id = cluster::Column::Id;
    let has = |q| id.in_subquery(q);
    let lacks = |q| id.not_in_subquery(q);
    let national = Condition::any()
        .add(has(with_national_title()))
        .add(id.is_in(ministry.iter().copied()));
    let not_national = Condition::all()
        .add(lacks(with_national_title()))
        .add(id.is_not_in(ministry.iter().copied()));
    match level {
        "national" => national,
        "province" => Condition::all()
            .add(has(with_provincial_title()))
            .add(not_national),
        "city" => Condition::all()
            .add(has(with_city_title()))
            .add(lacks(with_provincial_title()))
            .add(not_national),
        _ => Condition::all()
            .add(lacks(with_city_title()))
            .add(lacks(with_provincial_title()))
            .add(not_national),
    }
}

async fn listed(
    app: &App,
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<Select<cluster::Entity>, AppError> {
    let (_, scope) = super::clusters::scope_condition(app, p, action).await?;
    let mut q = cluster::Entity::find().filter(scope);
    if let Some(city) = params.city("city") {
        q = q.filter(cluster::Column::CityCode.eq(city));
    }
    if let Some(level) = params.get("level") {
        let ministry: Vec<ClusterId> =
            super::ministry::standing_clusters(&app.db, super::calendar::today(app))
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
        q = q.filter(level_condition(level, &ministry));
    }
    if let Some(text) = params.get("q") {
        q = q.filter(cluster::Column::Name.contains(text));
    }
    Ok(params.order(
        q,
        |key| match key {
            "name" => cluster::Column::Name,
            _ => cluster::Column::Id,
        },
        cluster::Column::Id,
    ))
}

/// The rows of some clusters: their titles in three batch loads.
async fn rows(app: &App, clusters: Vec<cluster::Model>) -> Result<Vec<LadderRow>, AppError> {
    let ids: Vec<ClusterId> = clusters.iter().map(|c| c.id).collect();
    let city_titles = store::load_where_in::<city_designation::Entity>(
        &app.db,
        city_designation::Column::ClusterId,
        ids.iter().copied(),
    )
    .await?;
    let provincial = store::load_where_in::<designation::Entity>(
        &app.db,
        designation::Column::ClusterId,
        ids.iter().copied(),
    )
    .await?;
    let national = store::load_where_in::<nomination::Entity>(
        &app.db,
        nomination::Column::ClusterId,
        ids.iter().copied(),
    )
    .await?;
    // The latest live title of each kind per cluster.
    let mut city_of: HashMap<ClusterId, &city_designation::Model> = HashMap::new();
    for d in city_titles.iter().filter(|d| d.revoked_on.is_none()) {
        let keep = city_of.get(&d.cluster_id).is_none_or(|k| k.year <= d.year);
        if keep {
            city_of.insert(d.cluster_id, d);
        }
    }
    let mut prov_of: HashMap<ClusterId, Vec<&designation::Model>> = HashMap::new();
    for d in provincial.iter().filter(|d| d.revoked_on.is_none()) {
        prov_of.entry(d.cluster_id).or_default().push(d);
    }
    // A ministry's title while it stands (its term, not revoked).
    let ministry_of: HashMap<ClusterId, String> =
        super::ministry::holdings(&app.db, Some(ids.clone()), super::calendar::today(app))
            .await?
            .into_iter()
            .filter(super::ministry::Holding::stands)
            .map(|h| (h.cluster_id, h.title_name))
            .collect();
    let mut nat_of: HashMap<ClusterId, &nomination::Model> = HashMap::new();
    for n in national.iter().filter(|n| n.outcome == Outcome::Selected) {
        let keep = nat_of.get(&n.cluster_id).is_none_or(|k| k.year <= n.year);
        if keep {
            nat_of.insert(n.cluster_id, n);
        }
    }
    Ok(clusters
        .into_iter()
        .map(|c| {
            let county_name = jiqun_domain::region::county(c.lead_county_code)
                .map(|k| k.name().to_string())
                .unwrap_or_default();
            let city_title = city_of
                .get(&c.id)
                .map(|d| format!("{}年{}", d.year, d.title))
                .unwrap_or_default();
            let prov = prov_of.get(&c.id).cloned().unwrap_or_default();
            let best_prov = prov
                .iter()
                .max_by_key(|d| (d.designation == Designation::Certified, d.year))
                .copied();
            let province_title = best_prov
                .map(|d| format!("{}年{}", d.year, crate::config::title_of(d.designation)))
                .unwrap_or_default();
            let national_title = nat_of
                .get(&c.id)
                .map(|n| format!("{}年国家级先进制造业集群（{}）", n.year, n.outcome.label()))
                .or_else(|| ministry_of.get(&c.id).cloned())
                .unwrap_or_default();
            let level = ladder::highest(&Standing {
                city_title: !city_title.is_empty(),
                provincial: prov.iter().map(|d| d.designation).collect(),
                national: !national_title.is_empty(),
            });
            let highest_title = match level {
                Level::County => county_name.clone(),
                Level::City => city_title.clone(),
                Level::ProvinceCultivation | Level::ProvinceCertified => province_title.clone(),
                Level::National => national_title.clone(),
            };
            LadderRow {
                cluster_id: c.id,
                cluster_name: c.name,
                city_code: c.city_code.to_string(),
                city_name: jiqun_domain::region::city(c.city_code)
                    .map(|k| k.name().to_string())
                    .unwrap_or_default(),
                county_code: c.lead_county_code.to_string(),
                county_name,
                city_title,
                province_title,
                national_title,
                highest_level: level.key().into(),
                highest_level_label: level.label().into(),
                highest_title,
            }
        })
        .collect())
}

/// One page of the ladder and the number of all clusters that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<LadderRow>, u64), AppError> {
    let (clusters, total) = params
        .fetch(&app.db, listed(app, p, Action::View, params).await?)
        .await?;
    Ok((rows(app, clusters).await?, total))
}

/// Every cluster the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let clusters = params
        .fetch_all(&app.db, listed(app, p, Action::Export, params).await?)
        .await?;
    let table: Vec<Vec<String>> = rows(app, clusters)
        .await?
        .into_iter()
        .map(|r| {
            vec![
                r.cluster_name,
                r.city_name,
                r.county_name,
                r.city_title,
                r.province_title,
                r.national_title,
                r.highest_level_label,
                r.highest_title,
            ]
        })
        .collect();
    export_xlsx(
        "分级培育梯队",
        &[
            ("集群名称", 32.0),
            ("市州", 12.0),
            ("牵头县市区", 14.0),
            ("市级称号", 28.0),
            ("省级称号", 30.0),
            ("国家级", 30.0),
            ("最高层级", 10.0),
            ("最高称号", 30.0),
        ],
        &table,
    )
}
