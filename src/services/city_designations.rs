//! 第十六条 分级培育: city-level designations (市级先进制造业集群). The round of a competition a
//! city organises confers, at confirmation, the title its city policy names (`[organiser].title`)
//! on each entrant still on the list — one row per cluster and round, written in the confirming
//! transaction with its audit entry. They are kept apart from the provincial designations, which
//! carry the cluster's standing, reports and rechecks; the ladder reads both.

use crate::store::id::{CityDesignationId, ClusterId, CompetitionId, RoundId};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Serialize;
use time::OffsetDateTime;

use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::store::{
    self,
    entity::{city_designation, cluster, competition, round, round_entry},
};

/// A city-level title as the API and pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CityDesignationRow {
    #[schema(value_type = i64)]
    pub id: CityDesignationId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    #[schema(value_type = i64)]
    pub competition_id: CompetitionId,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    /// The city's code.
    pub city_code: String,
    pub city_name: String,
    pub title: String,
    pub year: i32,
    /// YYYY-MM-DD
    pub effective_on: String,
    /// 2026年12月4日
    pub effective_on_zh: String,
}

/// Confers the city title on a confirmed entrant, in the caller's transaction, audited.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn designate<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    c: &competition::Model,
    r: &round::Model,
    e: &round_entry::Model,
    title: &str,
    now: OffsetDateTime,
) -> Result<city_designation::Model, AppError> {
    let city = c
        .organiser_city_code
        .ok_or_else(|| AppError::internal("a city title outside a city competition"))?;
    let today = crate::clock::local(now).date();
    let d = city_designation::ActiveModel {
        cluster_id: Set(e.cluster_id),
        competition_id: Set(c.id),
        round_id: Set(r.id),
        entry_id: Set(e.id),
        city_code: Set(city),
        title: Set(title.to_string()),
        year: Set(c.year),
        effective_on: Set(today),
        revoked_on: Set(None),
        decided_by: Set(p.user.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let name = super::rounds::cluster_name(conn, e.cluster_id).await?;
    Audit::of(app, p, now)
        .record(
            conn,
            Event {
                action: "city_designation.create",
                object_type: "city_designation",
                object_id: d.id.to_string(),
                summary: format!(
                    "{}：{}年{}（{}起）",
                    name,
                    c.year,
                    title,
                    jiqun_domain::round::date_zh(today)
                ),
                reason: String::new(),
            },
        )
        .await?;
    Ok(d)
}

/// The rows of some city designations, with their clusters' names in one query.
pub async fn rows_for<C: ConnectionTrait>(
    conn: &C,
    list: &[city_designation::Model],
) -> Result<Vec<CityDesignationRow>, AppError> {
    let names = store::load_by_ids_map::<cluster::Entity, _>(
        conn,
        list.iter().map(|d| d.cluster_id),
        |c| c.name,
    )
    .await?;
    Ok(list
        .iter()
        .map(|d| CityDesignationRow {
            id: d.id,
            cluster_id: d.cluster_id,
            cluster_name: names.get(&d.cluster_id).cloned().unwrap_or_default(),
            competition_id: d.competition_id,
            round_id: d.round_id,
            city_code: d.city_code.to_string(),
            city_name: jiqun_domain::region::city(d.city_code)
                .map(|c| c.name().to_string())
                .unwrap_or_default(),
            title: d.title.clone(),
            year: d.year,
            effective_on: d.effective_on.to_string(),
            effective_on_zh: jiqun_domain::round::date_zh(d.effective_on),
        })
        .collect())
}
