//! National nomination (第十七条 择优推荐): the province puts certified clusters forward to apply
//! as national advanced manufacturing clusters for a year, with its reason and document number,
//! exports each one's dossier (`dossier`) and records the national outcome (入选 / 未入选) once.
//! Who may be nominated and the outcome's steps are `jiqun_domain::nomination`; a city follows its
//! clusters' nominations, a cluster its own.

mod dossier;
use crate::store::id::{ClusterId, NominationId};
pub use dossier::*;

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::nomination::{self as rule, Outcome};
use jiqun_domain::region;
use jiqun_domain::round::date_zh;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::{at_most, authorize, designations};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{cluster, nomination},
};

const MAX_REASON_CHARS: usize = 2000;
const MAX_NUMBER_CHARS: usize = 100;

/// One nomination, as lists, the API and the cluster page show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NominationRow {
    #[schema(value_type = i64)]
    pub id: NominationId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_name: String,
    pub year: i32,
    pub reason: String,
    /// The province's document (文号).
    pub document_number: String,
    /// YYYY-MM-DD
    pub nominated_on: String,
    pub nominated_on_zh: String,
    /// pending | selected | not_selected
    pub outcome: String,
    /// 已推荐，待公布结果 | 入选 | 未入选
    pub outcome_label: String,
    /// YYYY-MM-DD, empty while pending.
    pub outcome_on: String,
    pub outcome_on_zh: String,
    pub outcome_document: String,
    pub outcome_note: String,
    pub version: i32,
}

/// A nomination as the province types it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NominateInput {
    #[schema(value_type = Option<i64>)]
    pub cluster_id: Option<ClusterId>,
    /// The year of the national call; this year when absent.
    #[serde(default)]
    pub year: Option<i32>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub document_number: String,
}

/// The national outcome as the province records it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OutcomeInput {
    /// selected (入选) | not_selected (未入选)
    #[serde(default)]
    pub outcome: String,
    /// YYYY-MM-DD: the day the national result was announced.
    #[serde(default)]
    pub decided_on: String,
    /// The national document announcing it.
    #[serde(default)]
    pub document_number: String,
    #[serde(default)]
    pub note: String,
}

fn in_scope(p: &Principal, scope: ScopeKind, cl: &cluster::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(cl.city_code),
        ScopeKind::OwnCounty => super::county_reaches(p, cl.lead_county_code),
        ScopeKind::OwnOrg => p.org.id == cl.org_id,
        ScopeKind::OwnAccount => false,
    }
}

fn row(n: &nomination::Model, cl: Option<&cluster::Model>) -> NominationRow {
    NominationRow {
        id: n.id,
        cluster_id: n.cluster_id,
        cluster_name: cl.map(|c| c.name.clone()).unwrap_or_default(),
        city_name: cl
            .map(|c| region::city_name_of(c.city_code))
            .unwrap_or_default(),
        year: n.year,
        reason: n.reason.clone(),
        document_number: n.document_number.clone(),
        nominated_on: n.nominated_on.to_string(),
        nominated_on_zh: date_zh(n.nominated_on),
        outcome: n.outcome.key().into(),
        outcome_label: n.outcome.label().into(),
        outcome_on: n.outcome_on.map(|d| d.to_string()).unwrap_or_default(),
        outcome_on_zh: n.outcome_on.map(date_zh).unwrap_or_default(),
        outcome_document: n.outcome_document.clone(),
        outcome_note: n.outcome_note.clone(),
        version: n.version,
    }
}

/// The nominations of `year` the principal may see, by city and cluster name (two queries).
pub async fn list(app: &App, p: &Principal, year: i32) -> Result<Vec<NominationRow>, AppError> {
    let scope = authorize(p, Resource::Nomination, Action::View)?;
    let all = nomination::Entity::find()
        .filter(nomination::Column::Year.eq(year))
        .all(&app.db)
        .await?;
    let cls =
        store::load_by_ids::<cluster::Entity>(&app.db, all.iter().map(|n| n.cluster_id)).await?;
    let mut rows: Vec<NominationRow> = all
        .iter()
        .filter_map(|n| {
            let cl = cls.get(&n.cluster_id)?;
            in_scope(p, scope, cl).then(|| row(n, Some(cl)))
        })
        .collect();
    rows.sort_by(|a, b| (&a.city_name, &a.cluster_name).cmp(&(&b.city_name, &b.cluster_name)));
    Ok(rows)
}

/// Every nomination of one cluster, oldest year first, for the cluster page and its history
/// (the caller has checked the cluster is visible; this checks the nomination permission).
pub async fn of_cluster<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    cl: &cluster::Model,
) -> Result<Vec<NominationRow>, AppError> {
    let Some(scope) = jiqun_domain::access::permission(p.role, Resource::Nomination, Action::View)
    else {
        return Ok(Vec::new());
    };
    if !in_scope(p, scope, cl) {
        return Ok(Vec::new());
    }
    let mut all = nomination::Entity::find()
        .filter(nomination::Column::ClusterId.eq(cl.id))
        .all(conn)
        .await?;
    all.sort_by_key(|n| (n.year, n.id));
    Ok(all.iter().map(|n| row(n, Some(cl))).collect())
}

/// One nomination with its cluster, when the principal may take `action` on it; not found
/// otherwise (a city never learns of another city's nominations).
async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: NominationId,
    action: Action,
) -> Result<(nomination::Model, cluster::Model), AppError> {
    let scope = authorize(p, Resource::Nomination, action)?;
    let n = nomination::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let cl = cluster::Entity::find_by_id(n.cluster_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !in_scope(p, scope, &cl) {
        return Err(AppError::NotFound);
    }
    Ok((n, cl))
}

pub async fn get(app: &App, p: &Principal, id: NominationId) -> Result<NominationRow, AppError> {
    let (n, cl) = load(&app.db, p, id, Action::View).await?;
    Ok(row(&n, Some(&cl)))
}

/// The year a request asks for, this year when none.
pub fn year_of(app: &App, text: Option<&str>) -> Result<i32, AppError> {
    super::recheck::parse_year(text, super::calendar::today(app).year())
}

fn bounded(problems: &mut Problems, field: &str, value: &str, label: &str, max: usize) {
    if let Err(AppError::Invalid(f)) = at_most(field, value, label, max) {
        for e in f {
            problems.add(&e.field, e.message);
        }
    }
}

/// Nominates a certified cluster for a year (province). Refused, with nothing written, for a
/// cluster without a live 认定 title or already nominated that year; two nominations of the same
/// cluster and year at once cannot both pass (serialised, and a unique index behind it).
pub async fn nominate(
    app: &App,
    p: &Principal,
    input: &NominateInput,
) -> Result<NominationRow, AppError> {
    authorize(p, Resource::Nomination, Action::Create)?;
    let today = super::calendar::today(app);
    let year = input.year.unwrap_or(today.year());
    let mut problems = Problems::default();
    let cluster_id = input.cluster_id.filter(|id| id.get() > 0);
    if cluster_id.is_none() {
        problems.add("cluster_id", "请选择推荐的集群");
    }
    if !(2000..=2100).contains(&year) {
        problems.add("year", "年份应在2000至2100之间");
    }
    let reason = input.reason.trim();
    if reason.is_empty() {
        problems.add("reason", "请填写推荐理由");
    }
    bounded(
        &mut problems,
        "reason",
        reason,
        "推荐理由",
        MAX_REASON_CHARS,
    );
    let number = input.document_number.trim();
    if number.is_empty() {
        problems.add("document_number", "请填写推荐文件的文号");
    }
    bounded(
        &mut problems,
        "document_number",
        number,
        "文号",
        MAX_NUMBER_CHARS,
    );
    problems.into_result()?;
    let cluster_id = cluster_id.ok_or_else(|| AppError::internal("checked above"))?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    store::lock::serialise(&txn, &format!("nomination:{cluster_id}:{year}")).await?;
    let cl = cluster::Entity::find_by_id(cluster_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::invalid("cluster_id", "所选集群不存在"))?;
    let standing = designations::standing_of(&txn, cluster_id).await?;
    let already = nomination::Entity::find()
        .filter(nomination::Column::ClusterId.eq(cluster_id))
        .filter(nomination::Column::Year.eq(year))
        .one(&txn)
        .await?
        .is_some();
    if let Err(refusal) = rule::may_nominate(standing, already) {
        let message = format!("“{}”：{}", cl.name, refusal.message());
        return Err(match refusal {
            rule::NominationRefusal::AlreadyNominated => AppError::Conflict(message),
            _ => AppError::invalid("cluster_id", message),
        });
    }
    let n = nomination::ActiveModel {
        cluster_id: Set(cluster_id),
        year: Set(year),
        reason: Set(reason.to_string()),
        document_number: Set(number.to_string()),
        nominated_by: Set(p.user.id),
        nominated_on: Set(today),
        outcome: Set(Outcome::Pending),
        outcome_on: Set(None),
        outcome_document: Set(String::new()),
        outcome_note: Set(String::new()),
        outcome_by: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "nomination.create",
                object_type: "nomination",
                object_id: n.id.to_string(),
                summary: format!(
                    "推荐“{}”申报{}年国家级先进制造业集群（{}）",
                    cl.name, year, number
                ),
                reason: reason.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(row(&n, Some(&cl)))
}

/// Records the national outcome of a nomination (province), once.
pub async fn record_outcome(
    app: &App,
    p: &Principal,
    id: NominationId,
    input: &OutcomeInput,
) -> Result<NominationRow, AppError> {
    authorize(p, Resource::Nomination, Action::Update)?;
    let mut problems = Problems::default();
    let to = Outcome::from_key(input.outcome.trim()).filter(|o| *o != Outcome::Pending);
    if to.is_none() {
        problems.add("outcome", rule::OutcomeRefusal::NotAnOutcome.message());
    }
    let on = match input.decided_on.trim() {
        "" => {
            problems.add("decided_on", "请填写国家公布结果的日期");
            None
        }
        t => match super::calendar::parse_date(t) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.add("decided_on", e.to_string());
                None
            }
        },
    };
    let number = input.document_number.trim();
    if number.is_empty() {
        problems.add("document_number", "请填写公布结果的文件文号");
    }
    bounded(
        &mut problems,
        "document_number",
        number,
        "文号",
        MAX_NUMBER_CHARS,
    );
    let note = input.note.trim();
    bounded(&mut problems, "note", note, "备注", MAX_REASON_CHARS);
    problems.into_result()?;
    let (Some(to), Some(on)) = (to, on) else {
        return Err(AppError::internal("checked above"));
    };
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    store::lock::serialise(&txn, &format!("nomination-outcome:{id}")).await?;
    let (n, cl) = load(&txn, p, id, Action::Update).await?;
    if on < n.nominated_on {
        return Err(AppError::invalid(
            "decided_on",
            format!("结果日期不能早于推荐日期{}", date_zh(n.nominated_on)),
        ));
    }
    let to = rule::record_outcome(n.outcome, to).map_err(|r| AppError::Conflict(r.message()))?;
    store::update_versioned(
        &txn,
        n.id,
        n.version,
        nomination::ActiveModel {
            outcome: Set(to),
            outcome_on: Set(Some(on)),
            outcome_document: Set(number.to_string()),
            outcome_note: Set(note.to_string()),
            outcome_by: Set(Some(p.user.id)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "nomination.outcome",
                object_type: "nomination",
                object_id: n.id.to_string(),
                summary: format!(
                    "“{}”{}年国家级先进制造业集群评选结果：{}（{}，{}）",
                    cl.name,
                    n.year,
                    to.label(),
                    date_zh(on),
                    number
                ),
                reason: note.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// The clusters the province may nominate now: those holding a live 认定 title (for the form).
pub async fn candidates(app: &App, p: &Principal) -> Result<Vec<(ClusterId, String)>, AppError> {
    authorize(p, Resource::Nomination, Action::Create)?;
    let list = cluster::Entity::find()
        .filter(cluster::Column::Lifecycle.eq(crate::store::entity::kinds::Lifecycle::Certified))
        .all(&app.db)
        .await?;
    let mut out: Vec<(ClusterId, String)> = list.into_iter().map(|c| (c.id, c.name)).collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}
