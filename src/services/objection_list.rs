//! The province's list of objections (异议) across rounds (第十一条 公示): year, round, status and
//! 实名 type (个人 / 单位) filters, paging, sort and 导出Excel, in SQL. Each row leads to the
//! round's objection page, where it is registered and decided.

use std::collections::HashMap;

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::round::{ObjectionStatus, RoundKind};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use serde::Serialize;

use super::authorize;
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::{cluster, competition, objection, round, round_entry};
use crate::store::id::{ObjectionId, RoundId};
use crate::store::{self};

/// An objection filed by a person (`person`) or in the name of an organisation (`unit`).
pub fn objector_kinds() -> Vec<(&'static str, &'static str)> {
    vec![("person", "个人"), ("unit", "单位")]
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    ObjectionStatus::ALL
        .iter()
        .map(|s| (s.key(), s.label()))
        .collect()
}

fn round_kinds() -> Vec<(&'static str, &'static str)> {
    RoundKind::ALL
        .iter()
        .map(|k| (k.key(), k.label()))
        .collect()
}

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        key: "year",
        label: "竞赛年度",
        kind: FilterKind::Year,
    },
    FilterSpec {
        key: "round",
        label: "赛段",
        kind: FilterKind::Choice(round_kinds),
    },
    FilterSpec {
        key: "status",
        label: "状态",
        kind: FilterKind::Choice(statuses),
    },
    FilterSpec {
        key: "objector",
        label: "异议人类型",
        kind: FilterKind::Choice(objector_kinds),
    },
];

const SORTS: &[(&str, &str)] = &[
    ("id", "受理编号"),
    ("filed", "提交时间"),
    ("status", "状态"),
];

/// 公示异议 in the back office, newest first.
pub const LIST: ListSpec = ListSpec {
    path: "/objections",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/objections",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: true,
};

/// One objection as the list shows it (the objector's contact stays on the round's page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionListRow {
    #[schema(value_type = i64)]
    pub id: ObjectionId,
    /// 受理编号, "2026-00012"
    pub receipt_number: String,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    pub competition_title: String,
    pub year: i32,
    /// `preliminary` | `final`
    pub round_kind: String,
    /// 初赛 / 决赛
    pub round_label: String,
    pub cluster_name: String,
    /// `person` | `unit`
    pub objector_kind: String,
    /// 个人 / 单位
    pub objector_label: String,
    /// The objector: the person's name, and the organisation for a 单位 objection.
    pub objector: String,
    /// received | investigating | dismissed | upheld
    pub status: String,
    pub status_label: String,
    /// 2026年12月4日 14:05
    pub filed_at: String,
    /// Where it is registered and decided.
    pub href: String,
}

fn listed(
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<Select<objection::Entity>, AppError> {
    // The province's list across rounds; a city bureau answers the objections to its own
    // competition's 公示 on that round's page (第十六条), not here.
    if authorize(p, Resource::Objection, action)? != jiqun_domain::access::ScopeKind::All {
        return Err(AppError::Forbidden);
    }
    let mut q = objection::Entity::find();
    let mut rounds = Query::select()
        .column(round::Column::Id)
        .from(round::Entity)
        .to_owned();
    let mut by_round = false;
    if let Some(year) = params.year("year") {
        rounds.and_where(
            round::Column::CompetitionId.in_subquery(
                Query::select()
                    .column(competition::Column::Id)
                    .from(competition::Entity)
                    .and_where(competition::Column::Year.eq(year))
                    .to_owned(),
            ),
        );
        by_round = true;
    }
    if let Some(kind) = params.get("round").and_then(RoundKind::from_key) {
        rounds.and_where(round::Column::Kind.eq(kind));
        by_round = true;
    }
    if by_round {
        q = q.filter(objection::Column::RoundId.in_subquery(rounds));
    }
    if let Some(status) = params.get("status").and_then(ObjectionStatus::from_key) {
        q = q.filter(objection::Column::Status.eq(status));
    }
    match params.get("objector") {
        Some("person") => q = q.filter(objection::Column::Organisation.eq("")),
        Some("unit") => q = q.filter(objection::Column::Organisation.ne("")),
        _ => {}
    }
    Ok(params.order(
        q,
        |key| match key {
            "filed" => objection::Column::FiledAt,
            "status" => objection::Column::Status,
            _ => objection::Column::Id,
        },
        objection::Column::Id,
    ))
}

/// The rows with their rounds, competitions and clusters loaded in batches (four queries).
async fn rows_of(
    app: &App,
    list: Vec<objection::Model>,
) -> Result<Vec<ObjectionListRow>, AppError> {
    let rounds =
        store::load_by_ids::<round::Entity>(&app.db, list.iter().map(|o| o.round_id)).await?;
    let competitions = store::load_by_ids::<competition::Entity>(
        &app.db,
        rounds.values().map(|r| r.competition_id),
    )
    .await?;
    let entries: HashMap<_, _> = store::load_by_ids_map::<round_entry::Entity, _>(
        &app.db,
        list.iter().map(|o| o.entry_id),
        |e| e.cluster_id,
    )
    .await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, entries.values().copied()).await?;
    Ok(list
        .into_iter()
        .map(|o| {
            let r = rounds.get(&o.round_id);
            let c = r.and_then(|r| competitions.get(&r.competition_id));
            let unit = !o.organisation.trim().is_empty();
            ObjectionListRow {
                id: o.id,
                receipt_number: jiqun_domain::round::receipt_number(
                    crate::clock::local(o.filed_at).year(),
                    o.id.get(),
                ),
                round_id: o.round_id,
                competition_title: c.map(|c| c.title.clone()).unwrap_or_default(),
                year: c.map_or(0, |c| c.year),
                round_kind: r.map(|r| r.kind.key().to_string()).unwrap_or_default(),
                round_label: r.map(|r| r.kind.label().to_string()).unwrap_or_default(),
                cluster_name: entries
                    .get(&o.entry_id)
                    .and_then(|id| clusters.get(id))
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                objector_kind: if unit { "unit" } else { "person" }.into(),
                objector_label: if unit { "单位" } else { "个人" }.into(),
                objector: if unit {
                    format!("{}（{}）", o.organisation, o.name)
                } else {
                    o.name.clone()
                },
                status: o.status.key().into(),
                status_label: o.status.label().into(),
                filed_at: crate::clock::local_minutes(o.filed_at),
                href: format!("/rounds/{}/objections#objection-{}", o.round_id, o.id),
            }
        })
        .collect())
}

/// One page of the list and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<ObjectionListRow>, u64), AppError> {
    let (list, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    Ok((rows_of(app, list).await?, total))
}

/// Every objection the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let list = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let table: Vec<Vec<String>> = rows_of(app, list)
        .await?
        .into_iter()
        .map(|o| {
            vec![
                o.receipt_number,
                o.competition_title,
                o.round_label,
                o.cluster_name,
                o.objector_label,
                o.objector,
                o.filed_at,
                o.status_label,
            ]
        })
        .collect();
    export_xlsx(
        "公示异议",
        &[
            ("受理编号", 14.0),
            ("竞赛通知", 36.0),
            ("赛段", 8.0),
            ("针对集群", 32.0),
            ("异议人类型", 10.0),
            ("异议人", 30.0),
            ("提交时间", 20.0),
            ("状态", 18.0),
        ],
        &table,
    )
}
