//! 复核 (第十四条): every titled cluster is rechecked `recheck.cycle_years` years after its
//! designation. This lists, for a year, every cluster whose live title falls due then (the rule
//! is `jiqun_rules::deadline::recheck_due_in_year`), with the date, within the reader's scope.
//!
//! The recheck call, submissions, the city's opinion and the result that opens a revocation case
//! (ground 未通过复核 / 未按期申请复核) are not built yet.

use crate::store::id::ClusterId;
use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::region;
use jiqun_domain::round::date_zh;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::authorize;
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::{
    self,
    entity::{cluster, designation},
};

/// A cluster due for 复核 in the year asked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueRow {
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_name: String,
    /// The live title, e.g. 湖南省先进制造业集群.
    pub title: String,
    pub certificate_number: String,
    /// YYYY-MM-DD
    pub designated_on: String,
    pub due_on: String,
    pub due_on_zh: String,
}

/// The first year the list can be asked for, and the last (a sanity bound on the input).
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The year a request asks for, this year when none: a malformed year names the parameter.
pub fn parse_year(text: Option<&str>, this_year: i32) -> Result<i32, AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(this_year),
        Some(t) => t
            .parse()
            .map_err(|_| AppError::invalid("year", format!("年份“{t}”无效，应为四位数字，如2029"))),
    }
}

/// Every cluster whose live title falls due for 复核 in `year`, by due date and certificate
/// number (two queries).
pub async fn due(app: &App, p: &Principal, year: i32) -> Result<Vec<DueRow>, AppError> {
    let scope = authorize(p, Resource::Recheck, Action::View)?;
    if !YEARS.contains(&year) {
        return Err(AppError::invalid(
            "year",
            format!("年份应在{}至{}之间", YEARS.start(), YEARS.end()),
        ));
    }
    let policy = super::policy::current_on(super::calendar::today(app))?.policy;
    let live = designation::Entity::find()
        .filter(designation::Column::SupersededOn.is_null())
        .filter(designation::Column::RevokedOn.is_null())
        .all(&app.db)
        .await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, live.iter().map(|d| d.cluster_id)).await?;
    let mut rows = Vec::new();
    for d in &live {
        let Some(cl) = clusters.get(&d.cluster_id) else {
            continue;
        };
        let mine = match scope {
            ScopeKind::All => true,
            ScopeKind::OwnCity => p.org.city_code == Some(cl.city_code),
            ScopeKind::OwnOrg => p.org.id == cl.org_id,
            ScopeKind::OwnAccount => false,
        };
        if !mine {
            continue;
        }
        let Some(on) = jiqun_rules::deadline::recheck_due_in_year(&policy, d.effective_on, year)
            .map_err(|e| {
                AppError::internal(format!("recheck date of designation {}: {e}", d.id))
            })?
        else {
            continue;
        };
        rows.push(DueRow {
            cluster_id: cl.id,
            cluster_name: cl.name.clone(),
            city_name: region::city_name_of(cl.city_code),
            title: crate::config::title_of(d.designation).into(),
            certificate_number: d.certificate_number.clone(),
            designated_on: d.effective_on.to_string(),
            due_on: on.to_string(),
            due_on_zh: date_zh(on),
        });
    }
    rows.sort_by(|a, b| {
        (&a.due_on, &a.certificate_number).cmp(&(&b.due_on, &b.certificate_number))
    });
    Ok(rows)
}
