//! The list of revocation cases (撤销案件): year, city and status filters, paging, sort and
//! 导出Excel, in SQL.

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::revocation::CaseStatus;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use super::authorize;
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use super::revocation::{CaseView, views};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::{cluster, revocation_case};

fn statuses() -> Vec<(&'static str, &'static str)> {
    CaseStatus::ALL
        .iter()
        .map(|s| (s.key(), s.label()))
        .collect()
}

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        key: "year",
        label: "立案年度",
        kind: FilterKind::Year,
    },
    FilterSpec {
        key: "city",
        label: "市州",
        kind: FilterKind::City,
    },
    FilterSpec {
        key: "status",
        label: "状态",
        kind: FilterKind::Choice(statuses),
    },
];

const SORTS: &[(&str, &str)] = &[
    ("id", "案件编号"),
    ("opened", "立案日期"),
    ("status", "状态"),
];

/// 撤销案件 in the back office, newest first.
pub const LIST: ListSpec = ListSpec {
    path: "/revocations",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/revocations",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

fn of_clusters(condition: Condition) -> Condition {
    Condition::all().add(
        revocation_case::Column::ClusterId.in_subquery(
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
) -> Result<Select<revocation_case::Entity>, AppError> {
    let scope = authorize(p, Resource::Revocation, action)?;
    let nothing = Condition::all().add(revocation_case::Column::Id.eq(-1));
    // The cluster sees a case once the 告知书 has gone out; its city bureau (which may open
    // one itself) from the start.
    let told = |c: Condition| c.add(revocation_case::Column::Status.ne(CaseStatus::Opened));
    let mut q = revocation_case::Entity::find().filter(match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => match p.org.city_code {
            Some(city) => of_clusters(Condition::all().add(cluster::Column::CityCode.eq(city))),
            None => nothing,
        },
        ScopeKind::OwnCounty => match p.org.county_code {
            Some(county) => {
                of_clusters(Condition::all().add(cluster::Column::LeadCountyCode.eq(county)))
            }
            None => nothing,
        },
        ScopeKind::OwnOrg => told(of_clusters(
            Condition::all().add(cluster::Column::OrgId.eq(p.org.id)),
        )),
        ScopeKind::OwnAccount => nothing,
    });
    if let Some(year) = params.year("year") {
        let first = time::Date::from_ordinal_date(year, 1);
        let last = time::Date::from_ordinal_date(year + 1, 1);
        if let (Ok(first), Ok(last)) = (first, last) {
            q = q
                .filter(revocation_case::Column::OpenedOn.gte(first))
                .filter(revocation_case::Column::OpenedOn.lt(last));
        }
    }
    if let Some(city) = params.city("city") {
        q = q.filter(of_clusters(
            Condition::all().add(cluster::Column::CityCode.eq(city)),
        ));
    }
    if let Some(status) = params.get("status").and_then(CaseStatus::from_key) {
        q = q.filter(revocation_case::Column::Status.eq(status));
    }
    Ok(params.order(
        q,
        |key| match key {
            "opened" => revocation_case::Column::OpenedOn,
            "status" => revocation_case::Column::Status,
            _ => revocation_case::Column::Id,
        },
        revocation_case::Column::Id,
    ))
}

/// One page of the list and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<CaseView>, u64), AppError> {
    let (rows, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    Ok((views(app, p, rows, false).await?, total))
}

/// Every case the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let rows = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let table: Vec<Vec<String>> = views(app, p, rows, false)
        .await?
        .into_iter()
        .map(|c| {
            vec![
                format!("第{}号", c.id),
                c.cluster_name,
                c.city_name,
                c.ground_name,
                c.opened_on_zh,
                c.response_last_day_zh,
                c.status_label,
                c.decision_number,
            ]
        })
        .collect();
    export_xlsx(
        "撤销案件",
        &[
            ("案件", 10.0),
            ("集群名称", 32.0),
            ("所在市州", 12.0),
            ("撤销情形", 30.0),
            ("立案日期", 16.0),
            ("陈述申辩期限", 16.0),
            ("状态", 16.0),
            ("决定书", 24.0),
        ],
        &table,
    )
}
