//! Rounds of a competition (初赛 第十条, 决赛 第十一条): who enters, the panel, which expert
//! judges which entrant (with conflicts of interest avoided), and the round's own steps.
//!
//! Every entrant moves through the one application state machine; in a 初赛 the application
//! itself follows its entry, so the applicant sees where it stands.

use crate::store::id::{ClusterId, EntryId, ExpertId, RoundId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::region::{self, RegionCode};
use jiqun_domain::round::RoundKind;
use jiqun_rules::Policy;
use jiqun_rules::policy::Round as PolicyRound;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::authorize;
use super::competitions::policy_of;
use crate::app::Principal;
use crate::error::AppError;
use crate::store::{
    self,
    entity::{assignment, cluster, competition, expert, panel_member, round, round_entry},
};

pub const SOURCE_AUTO: &str = "auto";
pub const SOURCE_MANUAL: &str = "manual";

pub(crate) mod assignments;
mod panel;
mod setup;
mod steps;
mod views;

pub use assignments::*;
pub use panel::*;
pub use setup::*;
pub use steps::*;
pub use views::*;

pub fn quotas_of(r: &round::Model) -> BTreeMap<String, u32> {
    serde_json::from_str(&r.quotas).unwrap_or_default()
}

/// The competition's bound policy and its settings for this kind of round.
pub fn round_policy(
    c: &competition::Model,
    kind: RoundKind,
) -> Result<(Arc<Policy>, PolicyRound), AppError> {
    let policy = policy_of(c)?;
    let rule = policy
        .rounds
        .iter()
        .find(|r| r.key == kind.key())
        .cloned()
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "竞赛所依据的政策《{}》没有规定{}",
                policy.identity.name,
                kind.label()
            ))
        })?;
    Ok((policy, rule))
}

pub async fn competition_of<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
) -> Result<competition::Model, AppError> {
    competition::Entity::find_by_id(r.competition_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A round the principal may see: any for the province and partners, a city bureau only the
/// rounds of its city's own competitions (第十六条).
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: RoundId,
) -> Result<round::Model, AppError> {
    let scope = authorize(p, Resource::Round, Action::View)?;
    let r = round::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if scope != jiqun_domain::access::ScopeKind::All {
        let c = competition_of(conn, &r).await?;
        crate::services::organisers::check_read(p, scope, &c)?;
    }
    Ok(r)
}

/// A round the principal may change (check the version the editor saw before changing it):
/// only its competition's organiser.
pub(crate) async fn load_for_update<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: RoundId,
) -> Result<round::Model, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    let r = round::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = competition_of(conn, &r).await?;
    crate::services::organisers::check_run(p, &c)?;
    Ok(r)
}

/// A submitted application of a city's own competition taken into its round by the organising
/// city (第十六条: no separate 初审), with the step in the application's history.
pub(crate) async fn accept_submitted<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    a: &crate::store::entity::application::Model,
    now: time::OffsetDateTime,
) -> Result<(), AppError> {
    use crate::store::entity::application;
    use jiqun_domain::application::{self as machine, Transition};
    use sea_orm::sea_query::Expr;
    let to = machine::apply(a.status, Transition::Recommend, p.role)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let res = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::value(to))
        .col_expr(application::Column::UpdatedAt, Expr::value(now))
        .filter(application::Column::Id.eq(a.id))
        .filter(application::Column::Status.eq(a.status))
        .exec(conn)
        .await?;
    crate::services::saved(&res)?;
    crate::services::applications::record_event(
        conn,
        p,
        crate::services::applications::Step {
            id: a.id,
            from: a.status,
            to,
            transition: Transition::Recommend,
            comment: "市级竞赛由本市组织，不另设初审，申报直接进入评审",
        },
        now,
    )
    .await
}

pub async fn entries<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
) -> Result<Vec<round_entry::Model>, AppError> {
    Ok(round_entry::Entity::find()
        .filter(round_entry::Column::RoundId.eq(round_id))
        .order_by_asc(round_entry::Column::Id)
        .all(conn)
        .await?)
}

/// Assignments of a round that still stand (recused ones stay on record but do not count).
pub async fn active_assignments<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
) -> Result<Vec<assignment::Model>, AppError> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::RoundId.eq(round_id))
        .filter(assignment::Column::RecusedAt.is_null())
        .order_by_asc(assignment::Column::Id)
        .all(conn)
        .await?)
}

pub async fn panel_ids<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
) -> Result<Vec<ExpertId>, AppError> {
    Ok(panel_member::Entity::find()
        .filter(panel_member::Column::RoundId.eq(round_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.expert_id)
        .collect())
}

fn ensure_assignable(r: &round::Model) -> Result<(), AppError> {
    let status = r.status;
    if status.assignments_open() {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再调整评审组或专家分配",
            status.label()
        )))
    }
}

pub async fn cluster_name<C: ConnectionTrait>(conn: &C, id: ClusterId) -> Result<String, AppError> {
    Ok(cluster::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default())
}

/// Cluster names by cluster id, in one query for any number of ids.
pub async fn cluster_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = ClusterId>,
) -> Result<HashMap<ClusterId, String>, AppError> {
    Ok(store::load_by_ids_map::<cluster::Entity, _>(conn, ids, |c| c.name).await?)
}

/// "赵教授（3）、钱研究员（4）" or "无", for audit summaries.
async fn names<C: ConnectionTrait>(conn: &C, ids: &[ExpertId]) -> Result<String, AppError> {
    if ids.is_empty() {
        return Ok("无".into());
    }
    let experts = store::load_by_ids::<expert::Entity>(conn, ids.iter().copied()).await?;
    let out: Vec<String> = ids
        .iter()
        .map(|id| {
            let name = experts
                .get(id)
                .map_or_else(|| format!("（编号{id}）"), |e| e.name.clone());
            format!("{name}（{id}）")
        })
        .collect();
    Ok(out.join("、"))
}

async fn expert_name<C: ConnectionTrait>(conn: &C, id: ExpertId) -> Result<String, AppError> {
    Ok(expert::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map_or_else(|| format!("（编号{id}）"), |e| e.name))
}

async fn entry_cluster_name<C: ConnectionTrait>(
    conn: &C,
    entry_id: EntryId,
) -> Result<String, AppError> {
    match round_entry::Entity::find_by_id(entry_id).one(conn).await? {
        Some(e) => cluster_name(conn, e.cluster_id).await,
        None => Ok(String::new()),
    }
}

/// The city a region code belongs to, by name.
pub fn county_name(code: &str) -> String {
    code.parse::<RegionCode>()
        .ok()
        .and_then(region::county)
        .map(|c| c.name().to_string())
        .unwrap_or_default()
}
