//! The list of development reports (发展情况报告): year, city, kind and status filters, paging,
//! sort and 导出Excel, in SQL.

use jiqun_domain::access::{Action, Resource, Role, ScopeKind};
use jiqun_domain::report::Status;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use super::authorize;
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use super::reports::{ReportRow, rows_of};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::report;

fn kinds() -> Vec<(&'static str, &'static str)> {
    vec![("annual", "年度报告"), ("semi_annual", "半年度报告")]
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    Status::ALL.iter().map(|s| (s.key(), s.label())).collect()
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
        label: "报告类型",
        kind: FilterKind::Choice(kinds),
    },
    FilterSpec {
        key: "status",
        label: "状态",
        kind: FilterKind::Choice(statuses),
    },
];

const SORTS: &[(&str, &str)] = &[
    ("year", "报告年度"),
    ("submitted", "最近提交"),
    ("status", "状态"),
    ("city", "市州"),
    ("id", "登记顺序"),
];

/// 发展情况报告 in the back office, newest period first.
pub const LIST: ListSpec = ListSpec {
    path: "/reports",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/reports",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

fn listed(
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<Select<report::Entity>, AppError> {
    let scope = authorize(p, Resource::Report, action)?;
    let nothing = Condition::all().add(report::Column::Id.eq(-1));
    let mut q = report::Entity::find().filter(match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => match p.org.city_code {
            Some(city) => Condition::all().add(report::Column::CityCode.eq(city)),
            None => nothing,
        },
        ScopeKind::OwnCounty => super::of_own_county(p, report::Column::ClusterId),
        ScopeKind::OwnOrg => Condition::all().add(report::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnAccount => nothing,
    });
    // A draft is the cluster's own until it is submitted (`report_in_reach`).
    if p.role != Role::Applicant {
        q = q.filter(report::Column::Status.ne(Status::Draft));
    }
    if let Some(year) = params.year("year") {
        q = q.filter(report::Column::PeriodYear.eq(year));
    }
    if let Some(city) = params.city("city") {
        q = q.filter(report::Column::CityCode.eq(city));
    }
    if let Some(kind) = params.get("kind") {
        q = q.filter(report::Column::PeriodKind.eq(kind));
    }
    if let Some(status) = params
        .get("status")
        .and_then(|k| Status::ALL.into_iter().find(|s| s.key() == k))
    {
        q = q.filter(report::Column::Status.eq(status));
    }
    Ok(params.order(
        q,
        |key| match key {
            "year" => report::Column::PeriodYear,
            "submitted" => report::Column::SubmittedAt,
            "status" => report::Column::Status,
            "city" => report::Column::CityCode,
            _ => report::Column::Id,
        },
        report::Column::Id,
    ))
}

/// One page of the list and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<ReportRow>, u64), AppError> {
    let (rows, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    Ok((rows_of(app, &rows).await?, total))
}

/// Every report the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let rows = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let table: Vec<Vec<String>> = rows_of(app, &rows)
        .await?
        .into_iter()
        .map(|r| {
            vec![
                r.cluster_name,
                r.city_name,
                r.title,
                r.status_label,
                r.revision.to_string(),
                r.submitted_at.unwrap_or_default(),
            ]
        })
        .collect();
    export_xlsx(
        "发展情况报告",
        &[
            ("集群", 32.0),
            ("市州", 12.0),
            ("报告", 30.0),
            ("状态", 14.0),
            ("提交次数", 10.0),
            ("最近提交", 20.0),
        ],
        &table,
    )
}
