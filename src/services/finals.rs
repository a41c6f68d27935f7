//! The 决赛申报材料 (第十一条): when a 决赛 opens, each finalist is asked for updated indicators
//! for the same policy criteria, what it achieved during cultivation per criterion, and
//! attachments, by a deadline. Drafts keep everything as typed; submission checks completeness
//! (`jiqun_rules::finals`) and the deadline, on the server, for the pages and the API alike.
//! A finalist that has not submitted when the deadline passes is listed as 未提交决赛材料 and
//! left out of the ranking.
//!
//! Scope follows the application the finalist competes on: its own organisation writes, its city
//! bureau and the province read; experts read the submitted materials on their score sheets.

use crate::store::id::{ClusterId, EntryId, FinalMaterialsId, RoundId};
use std::collections::{HashMap, HashSet};

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::attachment::OwnerType;
use jiqun_domain::region;
use jiqun_rules::Policy;
use jiqun_rules::finals::{self as rule, CriterionChange, State};
use jiqun_rules::intake::{self, FormData};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use time::OffsetDateTime;

use super::authorize;
use crate::app::{App, Principal};
use crate::attachments::{self, AttachmentView};
use crate::audit::{Audit, Event};
use crate::clock::local_minutes;
use crate::error::{AppError, FieldError};
use crate::services::rounds::{competition_of, round_policy};
use crate::services::scoring::round_label;
use crate::store::{
    self,
    entity::{application, cluster, competition, final_materials, round, round_entry},
};

/// One finalist's materials, as lists, the workbench and the API show them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialsRow {
    #[schema(value_type = i64)]
    pub id: FinalMaterialsId,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    /// e.g. "2027年度决赛"
    pub round_label: String,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_name: String,
    /// Beijing time, "2027-01-22 24:00" is shown as the last day: "2027年1月22日".
    pub due_on_zh: String,
    /// The instant the window closes, RFC 3339.
    pub due_at: String,
    /// open | submitted | missed
    pub state: String,
    /// 待提交 | 已提交 | 未提交决赛材料
    pub state_label: String,
    /// Beijing time, empty until submitted.
    pub submitted_at: String,
    pub version: i32,
}

/// One indicator on the form: the 初赛 value beside the value being typed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorField {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub required: bool,
    /// As typed in the 初赛 application.
    pub before: String,
    pub value: String,
    pub problem: String,
}

/// One criterion on the form.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CriterionFields {
    pub key: String,
    pub name: String,
    pub indicators: Vec<IndicatorField>,
    /// What was achieved during cultivation.
    pub achievements: String,
    pub problem: String,
}

/// A finalist's materials with the form, its completeness and files.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialsView {
    #[serde(flatten)]
    pub row: MaterialsRow,
    pub criteria: Vec<CriterionFields>,
    /// Whether the viewer may change and submit it now.
    pub can_edit: bool,
    /// Nothing is missing or malformed.
    pub complete: bool,
    /// Every problem, in form order.
    pub problems: Vec<String>,
    pub attachments: Vec<AttachmentView>,
}

/// What the expert's score sheet shows of a 决赛 entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetMaterials {
    /// submitted | missed | open
    pub state: String,
    pub state_label: String,
    pub due_on_zh: String,
    pub submitted_at: String,
    /// The before/after table; empty unless submitted.
    #[schema(value_type = Vec<Object>)]
    pub table: Vec<CriterionChange>,
    pub files: Vec<AttachmentView>,
}

pub fn form_of(m: &final_materials::Model) -> FormData {
    serde_json::from_str(&m.form).unwrap_or_default()
}

pub fn state_of(m: &final_materials::Model, now: OffsetDateTime) -> State {
    State::at(m.submitted_at.is_some(), m.due_at, now)
}

/// The instant a Beijing-time last day ends.
pub fn end_of(day: time::Date) -> OffsetDateTime {
    crate::clock::local_midnight(day.next_day().unwrap_or(day))
}

fn due_day(m: &final_materials::Model) -> time::Date {
    // The stored instant is the end of the last day: the day before, in Beijing time.
    crate::clock::local(m.due_at - time::Duration::seconds(1)).date()
}

/// Asks each finalist of a 决赛 just opened for its materials, due at the end of `due_on`.
pub(crate) async fn ask<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
    finalists: &[(round_entry::Model, cluster::Model)],
    due_on: time::Date,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    for (entry, cl) in finalists {
        final_materials::ActiveModel {
            round_id: Set(r.id),
            entry_id: Set(entry.id),
            cluster_id: Set(cl.id),
            org_id: Set(cl.org_id),
            city_code: Set(cl.city_code),
            form: Set("{}".into()),
            due_at: Set(end_of(due_on)),
            submitted_at: Set(None),
            submitted_by: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Whether the principal may see these materials (by the application's scope rule).
fn in_scope(p: &Principal, scope: ScopeKind, m: &final_materials::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(m.city_code),
        ScopeKind::OwnOrg => m.org_id == p.org.id,
        // The city first; `load` checks the cluster's lead county.
        ScopeKind::OwnCounty => p.org.city_code == Some(m.city_code),
        ScopeKind::OwnAccount => false,
    }
}

async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: FinalMaterialsId,
    action: Action,
) -> Result<final_materials::Model, AppError> {
    let scope = authorize(p, Resource::Application, action).map_err(|e| match action {
        Action::View => AppError::NotFound,
        _ => e,
    })?;
    let m = final_materials::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|m| in_scope(p, scope, m))
        .ok_or(AppError::NotFound)?;
    if scope == ScopeKind::OwnCounty
        && !super::lead_county_of(conn, m.cluster_id)
            .await?
            .is_some_and(|c| super::county_reaches(p, c))
    {
        return Err(AppError::NotFound);
    }
    Ok(m)
}

/// Ok when the principal may read the materials' files: anyone who may see them, or an expert
/// judging the entry while scoring is open (the application's own rule).
pub async fn can_read(app: &App, p: &Principal, id: FinalMaterialsId) -> Result<(), AppError> {
    if p.role == jiqun_domain::access::Role::Expert {
        let m = final_materials::Entity::find_by_id(id)
            .one(&app.db)
            .await?
            .filter(|m| m.submitted_at.is_some())
            .ok_or(AppError::NotFound)?;
        let entry = round_entry::Entity::find_by_id(m.entry_id)
            .one(&app.db)
            .await?
            .ok_or(AppError::NotFound)?;
        return super::owners::expert_reads_application(app, p, entry.application_id).await;
    }
    load(&app.db, p, id, Action::View).await.map(|_| ())
}

/// Ok when the principal may attach evidence now: its own organisation, before submission and
/// before the deadline.
pub async fn can_attach(app: &App, p: &Principal, id: FinalMaterialsId) -> Result<(), AppError> {
    let m = load(&app.db, p, id, Action::Update).await?;
    editable(&m, app.clock.now())
}

fn editable(m: &final_materials::Model, now: OffsetDateTime) -> Result<(), AppError> {
    match state_of(m, now) {
        State::Open => Ok(()),
        State::Submitted => Err(AppError::Conflict("决赛申报材料已提交，不能再修改".into())),
        State::Missed => Err(AppError::Conflict(format!(
            "决赛申报材料已于{}截止，系统不再接收",
            jiqun_domain::round::date_zh(due_day(m))
        ))),
    }
}

struct Names {
    rounds: HashMap<RoundId, round::Model>,
    competitions: HashMap<crate::store::id::CompetitionId, competition::Model>,
    clusters: HashMap<ClusterId, cluster::Model>,
}

async fn names<C: ConnectionTrait>(
    conn: &C,
    list: &[final_materials::Model],
) -> Result<Names, AppError> {
    let rounds = store::load_by_ids::<round::Entity>(conn, list.iter().map(|m| m.round_id)).await?;
    let competitions =
        store::load_by_ids::<competition::Entity>(conn, rounds.values().map(|r| r.competition_id))
            .await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(conn, list.iter().map(|m| m.cluster_id)).await?;
    Ok(Names {
        rounds,
        competitions,
        clusters,
    })
}

fn row_of(m: &final_materials::Model, n: &Names, now: OffsetDateTime) -> MaterialsRow {
    let state = state_of(m, now);
    let round_label = n
        .rounds
        .get(&m.round_id)
        .and_then(|r| {
            n.competitions
                .get(&r.competition_id)
                .map(|c| round_label(c, r))
        })
        .unwrap_or_default();
    MaterialsRow {
        id: m.id,
        round_id: m.round_id,
        round_label,
        cluster_id: m.cluster_id,
        cluster_name: n
            .clusters
            .get(&m.cluster_id)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        city_name: region::city_name_of(m.city_code),
        due_on_zh: jiqun_domain::round::date_zh(due_day(m)),
        due_at: crate::clock::rfc3339_local(m.due_at),
        state: state.key().into(),
        state_label: state.label().into(),
        submitted_at: m.submitted_at.map(local_minutes).unwrap_or_default(),
        version: m.version,
    }
}

/// The materials in the principal's scope, newest round first (bounded queries).
pub async fn list(app: &App, p: &Principal) -> Result<Vec<MaterialsRow>, AppError> {
    let Ok(scope) = authorize(p, Resource::Application, Action::View) else {
        return Ok(Vec::new());
    };
    let mut q = final_materials::Entity::find();
    q = match scope {
        ScopeKind::All => q,
        ScopeKind::OwnCity => match p.org.city_code {
            Some(city) => q.filter(final_materials::Column::CityCode.eq(city)),
            None => return Ok(Vec::new()),
        },
        ScopeKind::OwnOrg => q.filter(final_materials::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnCounty => {
            q.filter(super::of_own_county(p, final_materials::Column::ClusterId))
        }
        ScopeKind::OwnAccount => return Ok(Vec::new()),
    };
    let list = q
        .order_by_desc(final_materials::Column::RoundId)
        .order_by_asc(final_materials::Column::Id)
        .all(&app.db)
        .await?;
    let n = names(&app.db, &list).await?;
    let now = app.clock.now();
    Ok(list.iter().map(|m| row_of(m, &n, now)).collect())
}

/// What the 决赛 judges the materials by: the policy, the finalist's cluster kind and its 初赛
/// application's form.
struct Basis {
    policy: std::sync::Arc<Policy>,
    kind: String,
    before: FormData,
}

async fn basis<C: ConnectionTrait>(
    conn: &C,
    m: &final_materials::Model,
) -> Result<Basis, AppError> {
    let r = round::Entity::find_by_id(m.round_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = competition_of(conn, &r).await?;
    let (policy, _) = round_policy(&c, r.kind)?;
    let entry = round_entry::Entity::find_by_id(m.entry_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = application::Entity::find_by_id(entry.application_id)
        .one(conn)
        .await?
        .map(|a| super::applications::form_of(&a))
        .unwrap_or_default();
    Ok(Basis {
        policy,
        kind: entry.cluster_kind,
        before,
    })
}

/// The problems of a form, for the page and the refusal.
fn problems_of(a: &intake::Assessment) -> Vec<FieldError> {
    a.invalid
        .iter()
        .chain(&a.missing)
        .map(|fp| FieldError {
            field: fp.field.clone(),
            message: fp.message.clone(),
        })
        .collect()
}

async fn view_of(
    app: &App,
    p: &Principal,
    m: &final_materials::Model,
    typed: Option<&FormData>,
) -> Result<MaterialsView, AppError> {
    let n = names(&app.db, std::slice::from_ref(m)).await?;
    let now = app.clock.now();
    let row = row_of(m, &n, now);
    let Basis {
        policy,
        kind,
        before,
    } = basis(&app.db, m).await?;
    let stored = form_of(m);
    let form = typed.unwrap_or(&stored);
    let a = rule::assess(&policy, Some(&kind), form);
    let problem = |field: String| a.message_for(&field).unwrap_or("").to_string();
    let criteria = policy
        .criteria
        .iter()
        .map(|c| CriterionFields {
            key: c.key.clone(),
            name: c.name.clone(),
            indicators: c
                .indicators
                .iter()
                .filter(|i| i.applies_to(Some(&kind)))
                .map(|i| IndicatorField {
                    key: i.key.clone(),
                    name: i.name.clone(),
                    unit: i.unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
                    required: i.required,
                    before: before.indicators.get(&i.key).cloned().unwrap_or_default(),
                    value: form.indicators.get(&i.key).cloned().unwrap_or_default(),
                    problem: problem(format!("indicators.{}", i.key)),
                })
                .collect(),
            achievements: form.narratives.get(&c.key).cloned().unwrap_or_default(),
            problem: problem(format!("narratives.{}", c.key)),
        })
        .collect();
    let can_edit = m.org_id == p.org.id
        && authorize(p, Resource::Application, Action::Update).is_ok()
        && editable(m, now).is_ok();
    Ok(MaterialsView {
        row,
        criteria,
        can_edit,
        complete: a.invalid.is_empty() && a.missing.is_empty(),
        problems: problems_of(&a).into_iter().map(|f| f.message).collect(),
        attachments: attachments::list(app, OwnerType::FinalMaterials, m.id.get()).await?,
    })
}

pub async fn get(
    app: &App,
    p: &Principal,
    id: FinalMaterialsId,
) -> Result<MaterialsView, AppError> {
    let m = load(&app.db, p, id, Action::View).await?;
    view_of(app, p, &m, None).await
}

/// The page again with what was typed in place of what is stored.
pub async fn get_typed(
    app: &App,
    p: &Principal,
    id: FinalMaterialsId,
    typed: &FormData,
) -> Result<MaterialsView, AppError> {
    let m = load(&app.db, p, id, Action::View).await?;
    view_of(app, p, &m, Some(typed)).await
}

/// Saves the draft as typed: malformed values are kept and shown with their problem.
pub async fn save(
    app: &App,
    p: &Principal,
    id: FinalMaterialsId,
    form: &FormData,
    expected_version: i32,
) -> Result<MaterialsView, AppError> {
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = load(&txn, p, id, Action::Update).await?;
    if m.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    editable(&m, now)?;
    let mut form = form.clone();
    form.attested.clear();
    for text in form.narratives.values_mut() {
        if text.chars().count() > intake::NARRATIVE_MAX_CHARS * 2 {
            *text = text.chars().take(intake::NARRATIVE_MAX_CHARS * 2).collect();
        }
    }
    let json = serde_json::to_string(&form).map_err(|e| AppError::internal(e.to_string()))?;
    store::update_versioned(
        &txn,
        id,
        expected_version,
        final_materials::ActiveModel {
            form: Set(json),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let policy = basis(&txn, &m).await?.policy;
    let changed = intake::diff(&policy, &form_of(&m), &form);
    let cluster_name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&txn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "final_materials.save",
                object_type: "final_materials",
                object_id: id.to_string(),
                summary: format!(
                    "{cluster_name}：保存决赛申报材料草稿（{}项变化）",
                    changed.len()
                ),
                reason: String::new(),
            },
        )
        .await?;
    let after = final_materials::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    view_of(app, p, &after, None).await
}

/// Submits the stored draft: refused after the deadline or while anything is missing. A repeated
/// submit of the same version answers with the submission already made.
pub async fn submit(
    app: &App,
    p: &Principal,
    id: FinalMaterialsId,
    expected_version: i32,
) -> Result<MaterialsView, AppError> {
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = load(&txn, p, id, Action::Update).await?;
    if m.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    if m.submitted_at.is_some() && m.version == expected_version + 1 {
        drop(txn);
        return view_of(app, p, &m, None).await;
    }
    editable(&m, now)?;
    let b = basis(&txn, &m).await?;
    let a = rule::assess(&b.policy, Some(&b.kind), &form_of(&m));
    let problems = problems_of(&a);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    store::update_versioned(
        &txn,
        id,
        expected_version,
        final_materials::ActiveModel {
            submitted_at: Set(Some(now)),
            submitted_by: Set(Some(p.user.id)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let cluster_name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&txn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let files = attachments::list(app, OwnerType::FinalMaterials, m.id.get())
        .await?
        .len();
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "final_materials.submit",
                object_type: "final_materials",
                object_id: id.to_string(),
                summary: format!(
                    "{cluster_name}：提交决赛申报材料（附件{files}个，截止{}）",
                    jiqun_domain::round::date_zh(due_day(&m))
                ),
                reason: String::new(),
            },
        )
        .await?;
    let after = final_materials::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    view_of(app, p, &after, None).await
}

/// The entries of a round that are not ranked because their materials were not submitted: every
/// entry asked for materials that has none submitted. Ranking happens after scoring, which the
/// opening form puts after the materials deadline, so an unsubmitted draft there has missed it.
pub async fn not_submitted<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
) -> Result<HashSet<EntryId>, AppError> {
    Ok(final_materials::Entity::find()
        .filter(final_materials::Column::RoundId.eq(round_id))
        .filter(final_materials::Column::SubmittedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.entry_id)
        .collect())
}

/// What an expert's score sheet shows of a 决赛 entry: the before/after table and the files once
/// submitted (and only while the sheet shows content), from the entry's materials read with the
/// sheet's context; None for a 初赛 entry.
pub async fn for_sheet(
    app: &App,
    entry: &round_entry::Model,
    materials: Option<&final_materials::Model>,
    policy: &Policy,
    before: &FormData,
    visible: bool,
) -> Result<Option<SheetMaterials>, AppError> {
    let Some(m) = materials else {
        return Ok(None);
    };
    let state = state_of(m, app.clock.now());
    let shown = visible && state == State::Submitted;
    Ok(Some(SheetMaterials {
        state: state.key().into(),
        state_label: state.label().into(),
        due_on_zh: jiqun_domain::round::date_zh(due_day(m)),
        submitted_at: m.submitted_at.map(local_minutes).unwrap_or_default(),
        table: if shown {
            rule::compare(policy, Some(&entry.cluster_kind), before, &form_of(m))
        } else {
            Vec::new()
        },
        files: if shown {
            attachments::list(app, OwnerType::FinalMaterials, m.id.get()).await?
        } else {
            Vec::new()
        },
    }))
}
