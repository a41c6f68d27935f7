//! The lists of applications: the applicant's 我的申报, the city's 初审 queue and the province's
//! view, with the year, city, status and kind (the policy's cluster kinds) filters, paging, sort and 导出Excel of every back-office
//! list (filtered, sorted and paged in SQL).

use jiqun_domain::access::{Action, Resource, Role, ScopeKind};
use jiqun_domain::application::Status;
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use super::applications::{ApplicationRow, rows};
use super::authorize;
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::{application, cluster, cluster_co_applicant, competition};
use crate::store::id::{ClusterId, CompetitionId};

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
        key: "status",
        label: "状态",
        kind: FilterKind::Choice(statuses),
    },
    FilterSpec {
        key: "kind",
        label: "集群类型",
        // Checked against the policy's cluster kinds when the list is read.
        kind: FilterKind::Text,
    },
    FilterSpec {
        key: "q",
        label: "关键字",
        kind: FilterKind::Text,
    },
];

/// The policy's cluster kinds (key, name) for the kind filter: 优势产业集群 / 特色产业集群.
pub fn kinds(app: &App) -> Result<Vec<(String, String)>, AppError> {
    Ok(super::clusters::cluster_kinds(app)?
        .into_iter()
        .map(|k| (k.key, k.name))
        .collect())
}

/// The kind filter's value when it is one of the policy's cluster kinds.
fn checked_kind(app: &App, params: &ListParams) -> Result<Option<String>, AppError> {
    let Some(value) = params.get("kind") else {
        return Ok(None);
    };
    let kinds = kinds(app)?;
    if kinds.iter().any(|k| k.0 == value) {
        return Ok(Some(value.to_string()));
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.1.as_str()).collect();
    Err(AppError::invalid(
        "kind",
        format!("集群类型“{value}”无效，可选：{}", names.join("、")),
    ))
}

const SORTS: &[(&str, &str)] = &[
    ("id", "受理顺序"),
    ("submitted", "提交时间"),
    ("status", "状态"),
    ("city", "市州"),
    ("county", "县（市、区）"),
];

/// 我的申报 and the province's list of applications.
pub const LIST: ListSpec = ListSpec {
    path: "/applications",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// The city's 初审 queue: the same filters, one year at a time by default.
pub const QUEUE: ListSpec = ListSpec {
    path: "/reviews",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/applications",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// The applications the principal may see (`None`: none at all).
pub async fn scope_condition(
    app: &App,
    p: &Principal,
    action: Action,
) -> Result<Option<Condition>, AppError> {
    let scope = authorize(p, Resource::Application, action)?;
    Ok(match scope {
        ScopeKind::All => Some(Condition::all()),
        ScopeKind::OwnCity => Some(
            Condition::all()
                .add(application::Column::CityCode.eq(p.org.city_code))
                .add(application::Column::Status.ne(Status::Draft)),
        ),
        ScopeKind::OwnCounty => Some(
            Condition::any()
                .add(
                    Condition::all()
                        .add(application::Column::CountyCode.eq(p.org.county_code))
                        .add(application::Column::Status.ne(Status::Draft)),
                )
                // A county bureau that applied itself (a programme whose applicant is the
                // county's department) lists its own applications, drafts included.
                .add(application::Column::OrgId.eq(p.org.id)),
        ),
        ScopeKind::OwnOrg => {
            let co: Vec<ClusterId> = cluster_co_applicant::Entity::find()
                .filter(cluster_co_applicant::Column::OrgId.eq(p.org.id))
                .all(&app.db)
                .await?
                .into_iter()
                .map(|c| c.cluster_id)
                .collect();
            Some(
                Condition::any()
                    .add(application::Column::OrgId.eq(p.org.id))
                    .add(application::Column::ClusterId.is_in(co)),
            )
        }
        ScopeKind::OwnAccount => None,
    })
}

/// The filtered, ordered query inside the principal's scope.
async fn listed(
    app: &App,
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<Select<application::Entity>, AppError> {
    let condition = scope_condition(app, p, action)
        .await?
        .unwrap_or_else(|| Condition::all().add(application::Column::Id.eq(-1)));
    let mut q = application::Entity::find().filter(condition);
    if let Some(year) = params.year("year") {
        q = q.filter(
            application::Column::CompetitionId.in_subquery(
                Query::select()
                    .column(competition::Column::Id)
                    .from(competition::Entity)
                    .and_where(competition::Column::Year.eq(year))
                    .to_owned(),
            ),
        );
    }
    if let Some(city) = params.city("city") {
        q = q.filter(application::Column::CityCode.eq(city));
    }
    if let Some(status) = params.get("status").and_then(Status::from_key) {
        q = q.filter(application::Column::Status.eq(status));
    }
    if let Some(kind) = checked_kind(app, params)? {
        q = q.filter(application::Column::Kind.eq(kind));
    }
    if let Some(text) = params.get("q") {
        q = q.filter(
            application::Column::ClusterId.in_subquery(
                Query::select()
                    .column(cluster::Column::Id)
                    .from(cluster::Entity)
                    .and_where(cluster::Column::Name.contains(text))
                    .to_owned(),
            ),
        );
    }
    Ok(params.order(
        q,
        |key| match key {
            "submitted" => application::Column::SubmittedAt,
            "status" => application::Column::Status,
            "city" => application::Column::CityCode,
            "county" => application::Column::CountyCode,
            _ => application::Column::Id,
        },
        application::Column::Id,
    ))
}

/// One page of the list and the number of all that match (names loaded in batches).
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<ApplicationRow>, u64), AppError> {
    let (list, total) = params
        .fetch(&app.db, listed(app, p, Action::View, params).await?)
        .await?;
    Ok((rows(app, list).await?, total))
}

/// The 初审 queue's part of the principal's scope: the submitted-and-onwards applications of
/// the calls whose programme gives the 初审 to the principal's role — the city bureau's in the
/// provincial competition, the province's in the national programme. A county bureau reads the
/// city's queue for its county (its 县级意见), never its own programme's applications there.
async fn queue_condition(app: &App, p: &Principal) -> Result<Condition, AppError> {
    let reviewer = if p.role == Role::CountyBureau {
        Role::CityBureau
    } else {
        p.role
    };
    let calls: Vec<CompetitionId> =
        super::competitions::calls_where(app, false, |a| a.reviewer == reviewer)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
    Ok(Condition::all()
        .add(application::Column::CompetitionId.is_in(calls))
        .add(application::Column::Status.ne(Status::Draft)))
}

/// One page of the 初审 queue (`queue_condition`) and the number of all that match.
pub async fn queue_page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<ApplicationRow>, u64), AppError> {
    let q = listed(app, p, Action::View, params)
        .await?
        .filter(queue_condition(app, p).await?);
    let (list, total) = params.fetch(&app.db, q).await?;
    Ok((rows(app, list).await?, total))
}

/// The years with an application the principal may see, newest first (one query): the
/// queue's year picker, its first the default.
pub async fn years(app: &App, p: &Principal) -> Result<Vec<i32>, AppError> {
    let Some(condition) = scope_condition(app, p, Action::View).await? else {
        return Ok(Vec::new());
    };
    Ok(competition::Entity::find()
        .select_only()
        .column(competition::Column::Year)
        .distinct()
        .filter(
            competition::Column::Id.in_subquery(
                Query::select()
                    .column(application::Column::CompetitionId)
                    .from(application::Entity)
                    .cond_where(condition)
                    .to_owned(),
            ),
        )
        .order_by_desc(competition::Column::Year)
        .into_tuple()
        .all(&app.db)
        .await?)
}

/// Every application the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let list = params
        .fetch_all(&app.db, listed(app, p, Action::Export, params).await?)
        .await?;
    workbook(app, list).await
}

/// Every application of the 初审 queue (`queue_condition`) the filters match, as Excel.
pub async fn export_queue(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<Vec<u8>, AppError> {
    let q = listed(app, p, Action::Export, params)
        .await?
        .filter(queue_condition(app, p).await?);
    let list = params.fetch_all(&app.db, q).await?;
    workbook(app, list).await
}

async fn workbook(app: &App, list: Vec<application::Model>) -> Result<Vec<u8>, AppError> {
    let table: Vec<Vec<String>> = rows(app, list)
        .await?
        .into_iter()
        .map(|a| {
            vec![
                a.id.to_string(),
                a.cluster_name,
                // The policy's groupings (第十六条: 长株潭) the cluster's city is in.
                a.groupings.join("、"),
                a.org_name,
                a.county_name,
                a.competition_title,
                a.status_label,
                a.revision.to_string(),
                a.submitted_at.unwrap_or_default(),
            ]
        })
        .collect();
    export_xlsx(
        "申报名单",
        &[
            ("受理编号", 10.0),
            ("集群名称", 32.0),
            ("区域", 10.0),
            ("申报主体", 30.0),
            ("牵头县（市、区）", 20.0),
            ("竞赛通知", 36.0),
            ("状态", 14.0),
            ("提交次数", 10.0),
            ("最近提交", 20.0),
        ],
        &table,
    )
}
