//! The list of calls (竞赛通知): year, status and keyword filters, paging, sort and 导出Excel.

use jiqun_domain::access::{Action, Resource};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use super::authorize;
use super::competitions::CompetitionView;
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::competition;
use crate::store::entity::kinds::CompetitionStatus;

fn statuses() -> Vec<(&'static str, &'static str)> {
    vec![("open", "进行中"), ("closed", "已关闭")]
}

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        key: "year",
        label: "年度",
        kind: FilterKind::Year,
    },
    FilterSpec {
        key: "status",
        label: "状态",
        kind: FilterKind::Choice(statuses),
    },
    FilterSpec {
        key: "q",
        label: "关键字",
        kind: FilterKind::Text,
    },
];

const SORTS: &[(&str, &str)] = &[
    ("year", "年度"),
    ("deadline", "申报截止"),
    ("id", "发布顺序"),
];

/// 竞赛通知 in the back office, newest year first.
pub const LIST: ListSpec = ListSpec {
    path: "/competitions",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/competitions",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

fn listed(
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<Select<competition::Entity>, AppError> {
    authorize(p, Resource::Competition, action)?;
    let mut q = competition::Entity::find().filter(super::organisers::visible_condition(p));
    if let Some(year) = params.year("year") {
        q = q.filter(competition::Column::Year.eq(year));
    }
    if let Some(status) = params.get("status").and_then(CompetitionStatus::from_key) {
        q = q.filter(competition::Column::Status.eq(status));
    }
    if let Some(text) = params.get("q") {
        q = q.filter(competition::Column::Title.contains(text));
    }
    Ok(params.order(
        q,
        |key| match key {
            "year" => competition::Column::Year,
            "deadline" => competition::Column::SubmissionDeadline,
            _ => competition::Column::Id,
        },
        competition::Column::Id,
    ))
}

/// One page of the list and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<CompetitionView>, u64), AppError> {
    let (rows, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    let now = app.clock.now();
    Ok((
        rows.iter()
            .map(|m| CompetitionView::from_model(m, now))
            .collect(),
        total,
    ))
}

/// Every call the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let rows = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let now = app.clock.now();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|m| CompetitionView::from_model(m, now))
        .map(|c| {
            vec![
                c.year.to_string(),
                c.title,
                c.policy_document_number,
                c.submission_deadline_local,
                c.review_deadline_local,
                c.phase_label,
            ]
        })
        .collect();
    export_xlsx(
        "竞赛通知",
        &[
            ("年度", 8.0),
            ("标题", 44.0),
            ("依据政策", 28.0),
            ("申报截止（北京时间）", 20.0),
            ("市州初审截止", 20.0),
            ("状态", 14.0),
        ],
        &table,
    )
}
