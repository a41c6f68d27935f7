//! The list of designations and their certificates (认定与证书): year, city, kind and status
//! filters, paging, sort by certificate number (001 before 002) and 导出Excel, in SQL.

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::round::Designation;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use super::authorize;
use super::designations::{CertificateRow, rows_for};
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::{cluster, designation};

fn kinds() -> Vec<(&'static str, &'static str)> {
    Designation::ALL
        .iter()
        .map(|d| (d.key(), crate::config::title_of(*d)))
        .collect()
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    vec![
        ("valid", "有效"),
        ("revoked", "已撤销"),
        ("superseded", "已换发"),
    ]
}

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        key: "year",
        label: "年度",
        kind: FilterKind::Year,
    },
    FilterSpec {
        key: "city",
        label: "市州",
        kind: FilterKind::City,
    },
    FilterSpec {
        key: "kind",
        label: "认定类别",
        kind: FilterKind::Choice(kinds),
    },
    FilterSpec {
        key: "status",
        label: "状态",
        kind: FilterKind::Choice(statuses),
    },
];

const SORTS: &[(&str, &str)] = &[
    ("number", "证书编号"),
    ("effective", "认定日期"),
    ("id", "登记顺序"),
];

/// 认定与证书 in the back office.
pub const LIST: ListSpec = ListSpec {
    path: "/certificates",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: false,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/certificates",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: false,
};

/// The clusters whose titles `condition` keeps, as a sub-query on designations.
fn of_clusters(condition: Condition) -> Condition {
    Condition::all().add(
        designation::Column::ClusterId.in_subquery(
            Query::select()
                .column(cluster::Column::Id)
                .from(cluster::Entity)
                .cond_where(condition)
                .to_owned(),
        ),
    )
}

fn listed(
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<Select<designation::Entity>, AppError> {
    let scope = authorize(p, Resource::Certificate, action)?;
    let mut q = designation::Entity::find().filter(match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => match p.org.city_code {
            Some(city) => of_clusters(Condition::all().add(cluster::Column::CityCode.eq(city))),
            None => Condition::all().add(designation::Column::Id.eq(-1)),
        },
        ScopeKind::OwnCounty => match p.org.county_code {
            Some(county) => {
                of_clusters(Condition::all().add(cluster::Column::LeadCountyCode.eq(county)))
            }
            None => Condition::all().add(designation::Column::Id.eq(-1)),
        },
        ScopeKind::OwnOrg => of_clusters(Condition::all().add(cluster::Column::OrgId.eq(p.org.id))),
        ScopeKind::OwnAccount => Condition::all().add(designation::Column::Id.eq(-1)),
    });
    if let Some(year) = params.year("year") {
        q = q.filter(designation::Column::Year.eq(year));
    }
    if let Some(city) = params.city("city") {
        q = q.filter(of_clusters(
            Condition::all().add(cluster::Column::CityCode.eq(city)),
        ));
    }
    if let Some(kind) = params.get("kind").and_then(Designation::from_key) {
        q = q.filter(designation::Column::Designation.eq(kind));
    }
    match params.get("status") {
        Some("valid") => {
            q = q
                .filter(designation::Column::RevokedOn.is_null())
                .filter(designation::Column::SupersededOn.is_null());
        }
        Some("revoked") => q = q.filter(designation::Column::RevokedOn.is_not_null()),
        Some("superseded") => {
            q = q
                .filter(designation::Column::RevokedOn.is_null())
                .filter(designation::Column::SupersededOn.is_not_null());
        }
        _ => {}
    }
    Ok(params.order(
        q,
        |key| match key {
            "number" => designation::Column::CertificateNumber,
            "effective" => designation::Column::EffectiveOn,
            _ => designation::Column::Id,
        },
        designation::Column::Id,
    ))
}

/// One page of the list and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<CertificateRow>, u64), AppError> {
    let (rows, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    Ok((rows_for(&app.db, &rows).await?, total))
}

/// Every designation the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let rows = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let table: Vec<Vec<String>> = rows_for(&app.db, &rows)
        .await?
        .into_iter()
        .map(|c| {
            let status = if c.revoked {
                format!("已于{}撤销", c.revoked_on_zh)
            } else if c.superseded {
                format!("已于{}换发", c.superseded_on_zh)
            } else {
                "有效".to_string()
            };
            vec![
                c.certificate_number,
                c.cluster_name,
                c.org_name,
                c.city_name,
                c.designation_label,
                c.effective_on_zh,
                status,
            ]
        })
        .collect();
    export_xlsx(
        "认定与证书",
        &[
            ("证书编号", 24.0),
            ("集群名称", 32.0),
            ("申报主体", 30.0),
            ("所在市州", 12.0),
            ("认定类别", 30.0),
            ("认定日期", 16.0),
            ("状态", 20.0),
        ],
        &table,
    )
}
