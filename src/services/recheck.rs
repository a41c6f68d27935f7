//! 复核 (第十四条) as a proceeding. Every titled cluster is rechecked `recheck.cycle_years`
//! years after its designation, or after its last passed recheck (the rule is
//! `jiqun_rules::deadline::recheck_due_in_year`). The province issues a call for a year (that
//! year's requirements and a deadline, a working day by the calendar) which lists every cluster
//! due and puts a to-do on each one's workbench; the cluster saves and submits its materials
//! (the application form's indicators, a self-assessment, evidence files); its city bureau gives
//! a written opinion; the province records the panel's decision (named experts, checked free of
//! conflicts with the whole cluster, a score against the policy's pass mark); the result list is
//! publicly noticed for `recheck.notice_working_days` working days; after it the province
//! confirms. Passing records the next due date; failing, or not submitting by the deadline,
//! opens a revocation case (ground 未通过复核 / 未按期申请复核) in the same transaction.
//!
//! Scopes: the province all, a city bureau its clusters', a cluster its own.

use std::collections::{BTreeMap, HashMap};

mod objections;
pub use objections::*;

use crate::store::id::{ClusterId, ExpertId, RecheckCallId, RecheckId, RevocationCaseId};
use jiqun_domain::access::{Action, Resource, Role, ScopeKind};
use jiqun_domain::recheck::{self as rule, Status, Step, Timing};
use jiqun_domain::region;
use jiqun_domain::round::date_zh;
use jiqun_rules::recheck_form::{self, RecheckData};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::Date;

use super::{at_most, authorize};
use crate::app::{App, Principal};
use crate::attachments::{self, AttachmentView};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::services::owners::OwnerType;
use crate::store::{
    self,
    entity::{attachment, cluster, designation, expert, recheck, recheck_call},
};

pub const MAX_REQUIREMENTS_CHARS: usize = 5_000;
pub const MAX_OPINION_CHARS: usize = 5_000;
pub const MAX_REASONS_CHARS: usize = 5_000;

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
    due_in(app, p, scope, year).await
}

/// The day each cluster last passed a recheck (one query).
async fn last_passed<C: ConnectionTrait>(conn: &C) -> Result<HashMap<ClusterId, Date>, AppError> {
    let mut out: HashMap<ClusterId, Date> = HashMap::new();
    for r in recheck::Entity::find()
        .filter(recheck::Column::Status.eq(Status::Passed))
        .all(conn)
        .await?
    {
        if let Some(on) = r.confirmed_on {
            let e = out.entry(r.cluster_id).or_insert(on);
            *e = (*e).max(on);
        }
    }
    Ok(out)
}

async fn due_in(
    app: &App,
    p: &Principal,
    scope: ScopeKind,
    year: i32,
) -> Result<Vec<DueRow>, AppError> {
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
    let last_passed = last_passed(&app.db).await?;
    let mut rows = Vec::new();
    for d in &live {
        let Some(cl) = clusters.get(&d.cluster_id) else {
            continue;
        };
        if !in_scope(p, scope, cl.org_id, cl.city_code, Some(cl.lead_county_code)) {
            continue;
        }
        // The cycle runs from the designation, or from the last passed recheck.
        let base = last_passed
            .get(&cl.id)
            .map_or(d.effective_on, |on| (*on).max(d.effective_on));
        let Some(on) =
            jiqun_rules::deadline::recheck_due_in_year(&policy, base, year).map_err(|e| {
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

fn in_scope(
    p: &Principal,
    scope: ScopeKind,
    org_id: crate::store::id::OrgId,
    city: region::RegionCode,
    lead_county: Option<region::RegionCode>,
) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(city),
        ScopeKind::OwnCounty => lead_county.is_some_and(|c| super::county_reaches(p, c)),
        ScopeKind::OwnOrg => p.org.id == org_id,
        ScopeKind::OwnAccount => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs and views

/// The province's call for a year.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallInput {
    #[serde(default)]
    pub year: String,
    /// That year's requirements (复核的具体要求).
    #[serde(default)]
    pub requirements: String,
    /// The last day materials are taken, YYYY-MM-DD (a working day).
    #[serde(default)]
    pub deadline: String,
}

/// The cluster's materials; `submit` false keeps a draft.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MaterialsInput {
    /// Indicator values by the policy's indicator key, as typed.
    #[serde(default)]
    pub indicators: BTreeMap<String, String>,
    #[serde(default)]
    pub self_assessment: String,
    #[serde(default)]
    pub submit: bool,
}

/// The city bureau's written opinion.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecheckOpinionInput {
    #[serde(default)]
    pub agrees: bool,
    #[serde(default)]
    pub opinion: String,
}

/// The panel's documented decision, recorded by the province.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewInput {
    /// The experts of the panel (ids in the expert pool).
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub expert_ids: Vec<ExpertId>,
    /// The panel's score, 0–100 (e.g. "72.5").
    #[serde(default)]
    pub score: String,
    #[serde(default)]
    pub reasons: String,
}

/// A call as lists show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallView {
    #[schema(value_type = i64)]
    pub id: RecheckCallId,
    pub year: i32,
    pub requirements: String,
    pub deadline: String,
    pub deadline_zh: String,
    pub issued_on_zh: String,
    /// Empty until the result list is publicly noticed.
    pub notice_published_on_zh: String,
    pub notice_last_day: String,
    pub notice_last_day_zh: String,
}

/// One indicator of the materials form, with what was typed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecheckIndicatorField {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub required: bool,
    pub value: String,
}

/// A panel member as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PanelMember {
    #[schema(value_type = i64)]
    pub id: ExpertId,
    pub name: String,
    pub employer: String,
}

/// A recheck as pages and the API show it, with what the reader may do next.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecheckView {
    #[schema(value_type = i64)]
    pub id: RecheckId,
    #[schema(value_type = i64)]
    pub call_id: RecheckCallId,
    pub year: i32,
    pub requirements: String,
    pub deadline: String,
    pub deadline_zh: String,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_name: String,
    pub certificate_number: String,
    pub due_on_zh: String,
    /// due | submitted | city_reviewed | reviewed | passed | failed | lapsed
    pub status: String,
    pub status_label: String,
    pub indicators: Vec<RecheckIndicatorField>,
    pub self_assessment: String,
    pub submitted_at: String,
    /// 同意 | 不同意 | empty
    pub city_verdict: String,
    pub city_opinion: String,
    pub city_at: String,
    pub panel: Vec<PanelMember>,
    pub score: Option<f64>,
    pub pass_mark: f64,
    /// 通过 | 不通过 | empty
    pub result_label: String,
    pub result_reasons: String,
    pub reviewed_on_zh: String,
    pub notice_last_day_zh: String,
    pub confirmed_on_zh: String,
    pub next_due_on: String,
    pub next_due_on_zh: String,
    #[schema(value_type = Option<i64>)]
    pub revocation_case_id: Option<RevocationCaseId>,
    pub evidence: Vec<AttachmentView>,
    /// Objections to the noticed result still being handled.
    pub open_objections: usize,
    /// The objections to the noticed result (the province's view of a single recheck).
    pub objections: Vec<RecheckObjectionView>,
    pub can_edit: bool,
    pub can_opine: bool,
    pub can_review: bool,
    /// The province may confirm the result now (the notice has run its course).
    pub can_confirm: bool,
    /// The province may record that nothing was submitted by the deadline.
    pub can_lapse: bool,
}

/// A line of the public result notice, as published (kept as the notice's snapshot).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoticeRow {
    #[schema(value_type = i64)]
    pub recheck_id: RecheckId,
    pub cluster_name: String,
    pub city_name: String,
    pub certificate_number: String,
    pub passed: bool,
    /// 通过 | 不通过
    pub result_label: String,
}

/// The public notice of a call's results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecheckNotice {
    #[schema(value_type = i64)]
    pub call_id: RecheckCallId,
    pub year: i32,
    /// "2029年湖南省先进制造业集群复核结果公示", the title from the programme's wording.
    pub title: String,
    /// "依据《…》第十四条"
    pub basis: String,
    pub published_on_zh: String,
    pub last_day_zh: String,
    pub working_days: u32,
    /// not_started | open | closed
    pub state: String,
    /// Whether objections are taken today.
    pub accepting: bool,
    pub rows: Vec<NoticeRow>,
    /// Objections decided so far (receipt numbers, never the objector).
    pub decided: Vec<RecheckDecidedObjection>,
    pub rules: super::notices::ObjectionRulesView,
    /// The issuer who signs the notice.
    pub issuer: String,
}

fn day_zh(d: Option<Date>) -> String {
    d.map(date_zh).unwrap_or_default()
}

fn policy_today(app: &App) -> Result<jiqun_rules::Policy, AppError> {
    Ok(super::policy::current_on(super::calendar::today(app))?.policy)
}

fn call_view(c: &recheck_call::Model) -> CallView {
    CallView {
        id: c.id,
        year: c.year,
        requirements: c.requirements.clone(),
        deadline: c.deadline.to_string(),
        deadline_zh: date_zh(c.deadline),
        issued_on_zh: date_zh(c.issued_on),
        notice_published_on_zh: day_zh(c.notice_published_on),
        notice_last_day: c.notice_last_day.map(|d| d.to_string()).unwrap_or_default(),
        notice_last_day_zh: day_zh(c.notice_last_day),
    }
}

fn materials_of(r: &recheck::Model) -> RecheckData {
    serde_json::from_str(&r.materials_json).unwrap_or_default()
}

fn panel_of(r: &recheck::Model) -> Vec<PanelMember> {
    serde_json::from_str(&r.panel_json).unwrap_or_default()
}

fn timing(c: &recheck_call::Model, today: Date, open_objections: usize) -> Timing {
    Timing {
        today,
        deadline: c.deadline,
        notice_last_day: c.notice_last_day,
        open_objections,
    }
}

/// Views of rechecks: three queries whatever the number, plus the files of one when `files`.
async fn views(
    app: &App,
    p: &Principal,
    rows: Vec<recheck::Model>,
    files: bool,
) -> Result<Vec<RecheckView>, AppError> {
    let policy = policy_today(app)?;
    let today = super::calendar::today(app);
    let calls =
        store::load_by_ids::<recheck_call::Entity>(&app.db, rows.iter().map(|r| r.call_id)).await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, rows.iter().map(|r| r.cluster_id)).await?;
    let open = objections::open_counts(&app.db, rows.iter().map(|r| r.id)).await?;
    let may = |action| authorize(p, Resource::Recheck, action).is_ok();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let call = calls.get(&r.call_id).ok_or(AppError::NotFound)?;
        let t = timing(call, today, open.get(&r.id).copied().unwrap_or(0));
        let data = materials_of(&r);
        let indicators = policy
            .criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .map(|i| RecheckIndicatorField {
                key: i.key.clone(),
                name: i.name.clone(),
                unit: i.unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
                required: i.required,
                value: data.indicators.get(&i.key).cloned().unwrap_or_default(),
            })
            .collect();
        let evidence = if files {
            attachments::list(app, OwnerType::Recheck, r.id.get()).await?
        } else {
            Vec::new()
        };
        let objections = if files && p.role == Role::Province && call.notice_published_on.is_some()
        {
            objections::objections_of(app, p, r.id).await?
        } else {
            Vec::new()
        };
        let allows = |step| rule::next(r.status, step, t).is_ok();
        out.push(RecheckView {
            id: r.id,
            call_id: r.call_id,
            year: call.year,
            requirements: call.requirements.clone(),
            deadline: call.deadline.to_string(),
            deadline_zh: date_zh(call.deadline),
            cluster_id: r.cluster_id,
            cluster_name: clusters
                .get(&r.cluster_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            city_name: region::city_name_of(r.city_code),
            certificate_number: r.certificate_number.clone(),
            due_on_zh: date_zh(r.due_on),
            status: r.status.key().into(),
            status_label: r.status.label().into(),
            indicators,
            self_assessment: data.self_assessment,
            submitted_at: r
                .submitted_at
                .map(crate::clock::format_local)
                .unwrap_or_default(),
            city_verdict: match r.city_agrees {
                Some(true) => "同意".into(),
                Some(false) => "不同意".into(),
                None => String::new(),
            },
            city_opinion: r.city_opinion.clone(),
            city_at: r
                .city_at
                .map(crate::clock::format_local)
                .unwrap_or_default(),
            panel: panel_of(&r),
            score: r.score,
            pass_mark: policy.recheck_pass_mark(),
            result_label: match r.passed {
                Some(true) => "通过".into(),
                Some(false) => "不通过".into(),
                None => String::new(),
            },
            result_reasons: r.result_reasons.clone(),
            reviewed_on_zh: day_zh(r.reviewed_on),
            notice_last_day_zh: day_zh(call.notice_last_day),
            confirmed_on_zh: day_zh(r.confirmed_on),
            next_due_on: r.next_due_on.map(|d| d.to_string()).unwrap_or_default(),
            next_due_on_zh: day_zh(r.next_due_on),
            revocation_case_id: r.revocation_case_id,
            evidence,
            open_objections: t.open_objections,
            objections,
            can_edit: may(Action::Update) && r.org_id == p.org.id && allows(Step::Save),
            can_opine: p.role == Role::CityBureau
                && may(Action::Review)
                && allows(Step::CityOpinion),
            can_review: p.role == Role::Province && allows(Step::Review),
            can_confirm: p.role == Role::Province && allows(Step::Confirm),
            can_lapse: p.role == Role::Province && allows(Step::Lapse),
        });
    }
    Ok(out)
}

/// A recheck the principal may take `action` on; NotFound outside its scope.
async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: RecheckId,
    action: Action,
) -> Result<(recheck::Model, recheck_call::Model), AppError> {
    let scope = authorize(p, Resource::Recheck, action)?;
    let r = recheck::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let county = if scope == ScopeKind::OwnCounty {
        super::lead_county_of(conn, r.cluster_id).await?
    } else {
        None
    };
    if !in_scope(p, scope, r.org_id, r.city_code, county) {
        return Err(AppError::NotFound);
    }
    let call = recheck_call::Entity::find_by_id(r.call_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((r, call))
}

fn refused(e: String) -> AppError {
    AppError::Conflict(e)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The calls, newest year first (anyone who may read rechecks).
pub async fn calls(app: &App, p: &Principal) -> Result<Vec<CallView>, AppError> {
    authorize(p, Resource::Recheck, Action::View)?;
    Ok(recheck_call::Entity::find()
        .order_by_desc(recheck_call::Column::Year)
        .all(&app.db)
        .await?
        .iter()
        .map(call_view)
        .collect())
}

/// The rechecks in the principal's scope, newest call first.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<RecheckView>, AppError> {
    let scope = authorize(p, Resource::Recheck, Action::View)?;
    let mut q = recheck::Entity::find();
    match scope {
        ScopeKind::All => {}
        ScopeKind::OwnCity => match p.org.city_code {
            Some(c) => q = q.filter(recheck::Column::CityCode.eq(c)),
            None => return Ok(Vec::new()),
        },
        ScopeKind::OwnCounty => q = q.filter(super::of_own_county(p, recheck::Column::ClusterId)),
        ScopeKind::OwnOrg => q = q.filter(recheck::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnAccount => return Ok(Vec::new()),
    }
    let rows = q
        .order_by_desc(recheck::Column::CallId)
        .order_by_asc(recheck::Column::Id)
        .all(&app.db)
        .await?;
    views(app, p, rows, false).await
}

/// One recheck with its files.
pub async fn get(app: &App, p: &Principal, id: RecheckId) -> Result<RecheckView, AppError> {
    let (r, _) = load(&app.db, p, id, Action::View).await?;
    views(app, p, vec![r], true)
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The experts the province may name to a panel: the active provincial pool, by name.
pub async fn pool(app: &App, p: &Principal) -> Result<Vec<PanelMember>, AppError> {
    authorize(p, Resource::Recheck, Action::Review)?;
    Ok(expert::Entity::find()
        .filter(expert::Column::Active.eq(true))
        .filter(expert::Column::PoolCityCode.is_null())
        .order_by_asc(expert::Column::Name)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|e| PanelMember {
            id: e.id,
            name: e.name,
            employer: e.employer,
        })
        .collect())
}

/// The public notice of a call's results (no sign-in), once published: the rows as they were
/// published, and the objections decided since.
pub async fn public_notice(app: &App, id: RecheckCallId) -> Result<RecheckNotice, AppError> {
    let call = recheck_call::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(published), Some(last)) = (call.notice_published_on, call.notice_last_day) else {
        return Err(AppError::NotFound);
    };
    let rows = match serde_json::from_str::<Vec<NoticeRow>>(&call.notice_json) {
        Ok(rows) => rows,
        // Published before the rows were kept: the results as recorded.
        Err(_) => notice_rows(&app.db, id).await?,
    };
    let policy = policy_today(app)?;
    let today = super::calendar::today(app);
    let state = super::notices::WindowState::of(today, published, last);
    let names: HashMap<RecheckId, String> = rows
        .iter()
        .map(|r| (r.recheck_id, r.cluster_name.clone()))
        .collect();
    Ok(RecheckNotice {
        call_id: call.id,
        year: call.year,
        title: objections::notice_title(
            call.year,
            crate::config::title_of(jiqun_domain::round::Designation::Certified),
        ),
        basis: format!(
            "依据《{}》{}",
            policy.identity.name,
            policy.recheck.article.clone().unwrap_or_default()
        ),
        published_on_zh: date_zh(published),
        last_day_zh: date_zh(last),
        working_days: policy.recheck_notice_days(),
        state: state.key().into(),
        accepting: state == super::notices::WindowState::Open,
        decided: objections::decided_of_call(&app.db, id, &names).await?,
        rows,
        rules: super::notices::rules_view(&policy),
        issuer: super::designations::issuer().into(),
    })
}

/// The result list of a call as it stands: every recheck with a result.
async fn notice_rows<C: ConnectionTrait>(
    conn: &C,
    id: RecheckCallId,
) -> Result<Vec<NoticeRow>, AppError> {
    let rows = recheck::Entity::find()
        .filter(recheck::Column::CallId.eq(id))
        .filter(recheck::Column::Passed.is_not_null())
        .order_by_asc(recheck::Column::Id)
        .all(conn)
        .await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(conn, rows.iter().map(|r| r.cluster_id)).await?;
    Ok(rows
        .iter()
        .map(|r| NoticeRow {
            recheck_id: r.id,
            cluster_name: clusters
                .get(&r.cluster_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            city_name: region::city_name_of(r.city_code),
            certificate_number: r.certificate_number.clone(),
            passed: r.passed == Some(true),
            result_label: if r.passed == Some(true) {
                "通过".into()
            } else {
                "不通过".into()
            },
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Steps

/// Issues the call for a year (province): lists every cluster due that year and puts the
/// recheck on each one's workbench (and its city's), notified in the app.
pub async fn issue_call(app: &App, p: &Principal, input: &CallInput) -> Result<CallView, AppError> {
    let scope = authorize(p, Resource::Recheck, Action::Create)?;
    let today = super::calendar::today(app);
    let calendar = super::calendar::load(app).await?;
    let mut problems = Problems::default();
    let year = match parse_year(Some(input.year.as_str()), today.year()) {
        Ok(y) if YEARS.contains(&y) => Some(y),
        Ok(_) => {
            problems.add(
                "year",
                format!("年份应在{}至{}之间", YEARS.start(), YEARS.end()),
            );
            None
        }
        Err(AppError::Invalid(f)) => {
            for e in f {
                problems.add(&e.field, e.message);
            }
            None
        }
        Err(e) => return Err(e),
    };
    let requirements = input.requirements.trim();
    if requirements.is_empty() {
        problems.add("requirements", "请填写当年复核的具体要求");
    } else if requirements.chars().count() > MAX_REQUIREMENTS_CHARS {
        problems.add(
            "requirements",
            format!("复核要求不能超过{MAX_REQUIREMENTS_CHARS}字"),
        );
    }
    let deadline = match super::calendar::parse_date(&input.deadline) {
        Err(e) if input.deadline.trim().is_empty() => {
            let _ = e;
            problems.add("deadline", "请填写复核材料提交截止日期");
            None
        }
        Err(e) => {
            problems.add("deadline", e.to_string());
            None
        }
        Ok(d) if d <= today => {
            problems.add(
                "deadline",
                format!("截止日期应晚于今天（{}）", date_zh(today)),
            );
            None
        }
        Ok(d) => match calendar.is_working_day(d) {
            Ok(kind) if kind.is_working() => Some(d),
            Ok(kind) => {
                problems.add(
                    "deadline",
                    format!("{}不是工作日（{kind}），请选择工作日", date_zh(d)),
                );
                None
            }
            Err(e) => {
                problems.add("deadline", e.to_string());
                None
            }
        },
    };
    problems.into_result()?;
    let (Some(year), Some(deadline)) = (year, deadline) else {
        return Err(AppError::internal("checked above"));
    };
    let due = due_in(app, p, scope, year).await?;
    if due.is_empty() {
        return Err(AppError::invalid(
            "year",
            format!("{year}年没有到期复核的集群，无需发布复核通知"),
        ));
    }
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, due.iter().map(|d| d.cluster_id)).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    store::lock::serialise(&txn, &format!("recheck-call:{year}")).await?;
    if recheck_call::Entity::find()
        .filter(recheck_call::Column::Year.eq(year))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "{year}年的复核通知已经发布，请在该通知中继续办理"
        )));
    }
    let call = recheck_call::ActiveModel {
        year: Set(year),
        requirements: Set(requirements.to_string()),
        deadline: Set(deadline),
        issued_by: Set(p.user.id),
        issued_on: Set(today),
        notice_published_on: Set(None),
        notice_last_day: Set(None),
        notice_json: Set(String::new()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for d in &due {
        let Some(cl) = clusters.get(&d.cluster_id) else {
            continue;
        };
        let due_on = super::calendar::parse_date(&d.due_on)
            .map_err(|e| AppError::internal(format!("due date {}: {e}", d.due_on)))?;
        let r = recheck::ActiveModel {
            call_id: Set(call.id),
            cluster_id: Set(cl.id),
            org_id: Set(cl.org_id),
            city_code: Set(cl.city_code),
            certificate_number: Set(d.certificate_number.clone()),
            due_on: Set(due_on),
            status: Set(Status::Due),
            materials_json: Set("{}".into()),
            submitted_at: Set(None),
            submitted_by: Set(None),
            city_agrees: Set(None),
            city_opinion: Set(String::new()),
            city_by: Set(None),
            city_at: Set(None),
            panel_json: Set("[]".into()),
            score: Set(None),
            passed: Set(None),
            result_reasons: Set(String::new()),
            reviewed_by: Set(None),
            reviewed_on: Set(None),
            confirmed_on: Set(None),
            next_due_on: Set(None),
            revocation_case_id: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let title = format!("{year}年复核通知：{}", cl.name);
        let body = format!(
            "{}的{}称号（证书编号{}）{}到期复核。请于{}前通过本系统提交复核材料。复核要求：{}",
            cl.name,
            d.title,
            d.certificate_number,
            d.due_on_zh,
            date_zh(deadline),
            requirements
        );
        let link = format!("/rechecks/{}", r.id);
        super::notifications::notify_org(&txn, cl.org_id, &title, &body, &link, now).await?;
        super::notifications::notify_city(
            &txn,
            &cl.city_code.to_string(),
            &title,
            &body,
            &link,
            now,
        )
        .await?;
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "recheck.call",
                object_type: "recheck_call",
                object_id: call.id.to_string(),
                summary: format!(
                    "发布{year}年复核通知，列入到期复核集群{}个，材料提交截止{}",
                    due.len(),
                    date_zh(deadline)
                ),
                reason: requirements.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(call_view(&call))
}

async fn has_evidence<C: ConnectionTrait>(conn: &C, id: RecheckId) -> Result<bool, AppError> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::OwnerType.eq(OwnerType::Recheck.key()))
        .filter(attachment::Column::OwnerId.eq(id.get()))
        .count(conn)
        .await?
        > 0)
}

/// Saves the cluster's materials; with `submit`, checks them complete and sends them to the city
/// bureau. A draft keeps whatever was typed; a refused submission saves nothing.
pub async fn save_materials(
    app: &App,
    p: &Principal,
    id: RecheckId,
    input: &MaterialsInput,
) -> Result<RecheckView, AppError> {
    authorize(p, Resource::Recheck, Action::Update)?;
    let policy = policy_today(app)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, call) = load(&txn, p, id, Action::Update).await?;
    if r.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    let step = if input.submit {
        Step::Submit
    } else {
        Step::Save
    };
    let to = rule::next(r.status, step, timing(&call, today, 0)).map_err(refused)?;
    let data = RecheckData {
        indicators: input.indicators.clone(),
        self_assessment: input.self_assessment.clone(),
    }
    .within(&policy);
    if input.submit {
        let a = recheck_form::assess(&policy, &data, has_evidence(&txn, id).await?);
        if !a.ready() {
            let mut problems = Problems::default();
            for f in a.invalid.iter().chain(&a.missing).chain(&a.ineligible) {
                problems.add(&f.field, f.message.clone());
            }
            problems.into_result()?;
        }
    }
    let json = serde_json::to_string(&data)
        .map_err(|e| AppError::internal(format!("recheck {id} materials: {e}")))?;
    store::update_versioned(
        &txn,
        r.id,
        r.version,
        recheck::ActiveModel {
            status: Set(to),
            materials_json: Set(json),
            submitted_at: Set(input.submit.then_some(now)),
            submitted_by: Set(input.submit.then_some(p.user.id)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let name = cluster_name(&txn, r.cluster_id).await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: if input.submit {
                    "recheck.submit"
                } else {
                    "recheck.save"
                },
                object_type: "recheck",
                object_id: r.id.to_string(),
                summary: format!(
                    "{}“{}”的{}年复核材料",
                    if input.submit { "提交" } else { "保存" },
                    name,
                    call.year
                ),
                reason: String::new(),
            },
        )
        .await?;
    if input.submit {
        super::notifications::notify_city(
            &txn,
            &r.city_code.to_string(),
            &format!("待出具复核意见：{name}"),
            &format!("{name}已提交{}年复核材料，请出具市州意见。", call.year),
            &format!("/rechecks/{}", r.id),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    get(app, p, id).await
}

async fn cluster_name<C: ConnectionTrait>(conn: &C, id: ClusterId) -> Result<String, AppError> {
    Ok(cluster::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default())
}

/// The city bureau's written opinion (同意 or 不同意); the province is told.
pub async fn opine(
    app: &App,
    p: &Principal,
    id: RecheckId,
    input: &RecheckOpinionInput,
) -> Result<RecheckView, AppError> {
    authorize(p, Resource::Recheck, Action::Review)?;
    if p.role != Role::CityBureau {
        return Err(AppError::Forbidden);
    }
    let text = super::required_text("opinion", &input.opinion, "请填写市州意见")?;
    at_most("opinion", text, "市州意见", MAX_OPINION_CHARS)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, call) = load(&txn, p, id, Action::Review).await?;
    let to = rule::next(r.status, Step::CityOpinion, timing(&call, today, 0)).map_err(refused)?;
    store::update_versioned(
        &txn,
        r.id,
        r.version,
        recheck::ActiveModel {
            status: Set(to),
            city_agrees: Set(Some(input.agrees)),
            city_opinion: Set(text.to_string()),
            city_by: Set(Some(p.user.id)),
            city_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let name = cluster_name(&txn, r.cluster_id).await?;
    let verdict = if input.agrees { "同意" } else { "不同意" };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "recheck.city_opinion",
                object_type: "recheck",
                object_id: r.id.to_string(),
                summary: format!("对“{name}”的{}年复核出具市州意见：{verdict}", call.year),
                reason: text.to_string(),
            },
        )
        .await?;
    super::notifications::notify_role(
        &txn,
        Role::Province,
        &format!("待评审的复核：{name}"),
        &format!(
            "{name}的{}年复核已有市州意见（{verdict}），请组织专家评审。",
            call.year
        ),
        &format!("/rechecks/{}", r.id),
        now,
    )
    .await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// Records the panel's documented decision (province): the experts named must be free of any
/// conflict with the whole cluster; the score against the policy's pass mark gives 通过/不通过.
pub async fn review(
    app: &App,
    p: &Principal,
    id: RecheckId,
    input: &ReviewInput,
) -> Result<RecheckView, AppError> {
    authorize(p, Resource::Recheck, Action::Review)?;
    if p.role != Role::Province {
        return Err(AppError::Forbidden);
    }
    let policy = policy_today(app)?;
    let mut problems = Problems::default();
    let mut ids = input.expert_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        problems.add("expert_ids", "请选择参加评审的专家");
    }
    let score = match rule::parse_score(&input.score) {
        Ok(s) => Some(s),
        Err(m) => {
            problems.add("score", m);
            None
        }
    };
    let reasons = input.reasons.trim();
    if reasons.is_empty() {
        problems.add("reasons", "请填写专家组评审意见和理由");
    } else if reasons.chars().count() > MAX_REASONS_CHARS {
        problems.add("reasons", format!("评审意见不能超过{MAX_REASONS_CHARS}字"));
    }
    problems.into_result()?;
    let Some(score) = score else {
        return Err(AppError::internal("checked above"));
    };
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, call) = load(&txn, p, id, Action::Review).await?;
    let to = rule::next(r.status, Step::Review, timing(&call, today, 0)).map_err(refused)?;
    let pool = super::experts::pool(&txn, &ids).await?;
    // 复核 is the province's: its panel comes from the provincial pool, never a city's own.
    if pool.len() != ids.len()
        || pool
            .iter()
            .any(|(m, _)| !m.active || m.pool_city_code.is_some())
    {
        return Err(AppError::invalid(
            "expert_ids",
            "所选专家不在省级专家库中或已停用",
        ));
    }
    let entrant = super::rounds::assignments::entrants_of(&txn, &[(r.cluster_id, -r.id.get())])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let panel: Vec<jiqun_domain::review::Expert> = pool.iter().map(|(_, e)| e.clone()).collect();
    let conflicted = rule::panel_conflicts(&panel, &entrant);
    if !conflicted.is_empty() {
        let names: HashMap<i64, &str> = pool
            .iter()
            .map(|(m, _)| (m.id.get(), m.name.as_str()))
            .collect();
        let text = conflicted
            .iter()
            .map(|(id, why)| {
                format!(
                    "{}（{}）",
                    names.get(id).copied().unwrap_or_default(),
                    why.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("；")
                )
            })
            .collect::<Vec<_>>()
            .join("、");
        return Err(AppError::invalid(
            "expert_ids",
            format!("以下专家须回避，不能参加该集群的复核评审：{text}"),
        ));
    }
    let members: Vec<PanelMember> = pool
        .iter()
        .map(|(m, _)| PanelMember {
            id: m.id,
            name: m.name.clone(),
            employer: m.employer.clone(),
        })
        .collect();
    let passed = rule::passes(score, policy.recheck_pass_mark());
    let panel_json = serde_json::to_string(&members)
        .map_err(|e| AppError::internal(format!("recheck {id} panel: {e}")))?;
    store::update_versioned(
        &txn,
        r.id,
        r.version,
        recheck::ActiveModel {
            status: Set(to),
            panel_json: Set(panel_json),
            score: Set(Some(score)),
            passed: Set(Some(passed)),
            result_reasons: Set(reasons.to_string()),
            reviewed_by: Set(Some(p.user.id)),
            reviewed_on: Set(Some(today)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let name = cluster_name(&txn, r.cluster_id).await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "recheck.review",
                object_type: "recheck",
                object_id: r.id.to_string(),
                summary: format!(
                    "记录“{name}”{}年复核专家组评审结果：{}分，{}（合格分数线{}分；专家：{}）",
                    call.year,
                    score,
                    if passed { "通过" } else { "不通过" },
                    policy.recheck_pass_mark(),
                    members
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                reason: reasons.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// Publishes a call's result list (province) for the policy's working-day notice; every
/// submitted recheck of the call must have its result first.
pub async fn publish_notice(
    app: &App,
    p: &Principal,
    id: RecheckCallId,
) -> Result<CallView, AppError> {
    authorize(p, Resource::Recheck, Action::Review)?;
    if p.role != Role::Province {
        return Err(AppError::Forbidden);
    }
    let policy = policy_today(app)?;
    let calendar = super::calendar::load(app).await?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let window =
        jiqun_rules::deadline::notice_window(&calendar, today, policy.recheck_notice_days())
            .map_err(|e| AppError::Conflict(format!("无法计算公示期：{e}")))?;
    let txn = store::write_txn(&app.db).await?;
    let call = recheck_call::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if call.notice_published_on.is_some() {
        return Err(AppError::Conflict(format!(
            "{}年复核结果已经公示",
            call.year
        )));
    }
    let rows = recheck::Entity::find()
        .filter(recheck::Column::CallId.eq(id))
        .all(&txn)
        .await?;
    let pending: Vec<&recheck::Model> = rows
        .iter()
        .filter(|r| matches!(r.status, Status::Submitted | Status::CityReviewed))
        .collect();
    if !pending.is_empty() {
        let names =
            store::load_by_ids::<cluster::Entity>(&txn, pending.iter().map(|r| r.cluster_id))
                .await?;
        return Err(AppError::Conflict(format!(
            "以下集群的复核尚未评审完毕，不能发布结果公示：{}",
            pending
                .iter()
                .filter_map(|r| names.get(&r.cluster_id).map(|c| c.name.clone()))
                .collect::<Vec<_>>()
                .join("、")
        )));
    }
    let reviewed = rows.iter().filter(|r| r.status == Status::Reviewed).count();
    if reviewed == 0 {
        return Err(AppError::Conflict("没有已评审的复核结果可以公示".into()));
    }
    let snapshot = serde_json::to_string(&notice_rows(&txn, call.id).await?)
        .map_err(|e| AppError::internal(format!("keep the recheck notice: {e}")))?;
    store::update_versioned(
        &txn,
        call.id,
        call.version,
        recheck_call::ActiveModel {
            notice_published_on: Set(Some(today)),
            notice_last_day: Set(Some(window.last_day)),
            notice_json: Set(snapshot),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "recheck.notice",
                object_type: "recheck_call",
                object_id: call.id.to_string(),
                summary: format!(
                    "发布{}年复核结果公示（{}个集群），公示期至{}（{}个工作日）",
                    call.year,
                    reviewed,
                    date_zh(window.last_day),
                    window.working_days
                ),
                reason: String::new(),
            },
        )
        .await?;
    txn.commit().await?;
    let call = recheck_call::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(call_view(&call))
}

/// Concludes a recheck (province). After the result notice: 通过 records the recheck and the
/// next due date; 不通过 opens a revocation case (未通过复核). After the deadline with nothing
/// submitted: opens a revocation case (未按期申请复核). The case is opened in this transaction.
pub async fn conclude(app: &App, p: &Principal, id: RecheckId) -> Result<RecheckView, AppError> {
    authorize(p, Resource::Recheck, Action::Review)?;
    if p.role != Role::Province {
        return Err(AppError::Forbidden);
    }
    let policy = policy_today(app)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, call) = load(&txn, p, id, Action::Review).await?;
    let open = objections::open_counts(&txn, [r.id]).await?;
    let t = timing(&call, today, open.get(&r.id).copied().unwrap_or(0));
    let step = if r.status == Status::Due {
        Step::Lapse
    } else {
        Step::Confirm
    };
    rule::next(r.status, step, t).map_err(refused)?;
    let name = cluster_name(&txn, r.cluster_id).await?;
    let ground = |key: &str| {
        policy.revocation_reason(key).cloned().ok_or_else(|| {
            AppError::Conflict(format!("政策规则未规定撤销情形“{key}”，不能按程序立案撤销"))
        })
    };
    let (status, action, summary, next_due, case) = match (step, r.passed) {
        (Step::Confirm, Some(true)) => {
            let next = jiqun_rules::deadline::recheck_due(&policy, today, 1)
                .map_err(|e| AppError::internal(format!("next recheck date: {e}")))?;
            (
                Status::Passed,
                "recheck.pass",
                format!(
                    "确认“{name}”通过{}年复核，下次复核到期日{}",
                    call.year,
                    date_zh(next)
                ),
                Some(next),
                None,
            )
        }
        (Step::Confirm, _) => {
            let reason = ground("recheck_failed")?;
            let facts = format!(
                "{}年复核中，专家组评分{}分，低于合格分数线{}分，未通过复核。专家组意见：{}",
                call.year,
                r.score.unwrap_or_default(),
                policy.recheck_pass_mark(),
                r.result_reasons
            );
            let case = super::revocation::open_in(app, p, &txn, r.cluster_id, &reason, &facts, now)
                .await?;
            (
                Status::Failed,
                "recheck.fail",
                format!(
                    "确认“{name}”未通过{}年复核，已立案撤销（第{case}号撤销案件）",
                    call.year
                ),
                None,
                Some(case),
            )
        }
        _ => {
            let reason = ground("recheck_not_applied")?;
            let facts = format!(
                "{}年复核通知要求于{}前提交复核材料，该集群逾期未提交。",
                call.year,
                date_zh(call.deadline)
            );
            let case = super::revocation::open_in(app, p, &txn, r.cluster_id, &reason, &facts, now)
                .await?;
            (
                Status::Lapsed,
                "recheck.lapse",
                format!(
                    "认定“{name}”未按期提交{}年复核材料，已立案撤销（第{case}号撤销案件）",
                    call.year
                ),
                None,
                Some(case),
            )
        }
    };
    store::update_versioned(
        &txn,
        r.id,
        r.version,
        recheck::ActiveModel {
            status: Set(status),
            confirmed_on: Set(Some(today)),
            next_due_on: Set(next_due),
            revocation_case_id: Set(case),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action,
                object_type: "recheck",
                object_id: r.id.to_string(),
                summary: summary.clone(),
                reason: r.result_reasons.clone(),
            },
        )
        .await?;
    super::notifications::notify_org(
        &txn,
        r.org_id,
        &format!("{}年复核结果：{name}", call.year),
        &summary,
        &format!("/rechecks/{}", r.id),
        now,
    )
    .await?;
    txn.commit().await?;
    get(app, p, id).await
}

// ---------------------------------------------------------------------------------------------
// Files, to-dos and history

/// Whether the principal may attach evidence now: the cluster's own organisation, while its
/// materials may still be saved.
pub async fn can_attach(app: &App, p: &Principal, id: RecheckId) -> Result<(), AppError> {
    let (r, call) = load(&app.db, p, id, Action::Update).await?;
    if r.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    rule::next(
        r.status,
        Step::Save,
        timing(&call, super::calendar::today(app), 0),
    )
    .map_err(refused)?;
    Ok(())
}

/// Whether the principal may read a recheck (and so its evidence).
pub async fn can_read(app: &App, p: &Principal, id: RecheckId) -> Result<(), AppError> {
    load(&app.db, p, id, Action::View).await.map(|_| ())
}

/// The to-dos of a role, with counts (one query).
pub async fn todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    let (status, label) = match p.role {
        Role::Applicant => (vec![Status::Due], "复核材料待提交"),
        Role::CityBureau => (vec![Status::Submitted], "复核待出具市州意见"),
        Role::Province => (
            vec![Status::CityReviewed, Status::Reviewed],
            "复核待评审或待确认结果",
        ),
        _ => return Ok(Vec::new()),
    };
    let mut q = recheck::Entity::find().filter(recheck::Column::Status.is_in(status));
    match p.role {
        Role::Applicant => q = q.filter(recheck::Column::OrgId.eq(p.org.id)),
        Role::CityBureau => match p.org.city_code {
            Some(c) => q = q.filter(recheck::Column::CityCode.eq(c)),
            None => return Ok(Vec::new()),
        },
        _ => {}
    }
    Ok(vec![(
        label.to_string(),
        "/rechecks".to_string(),
        q.count(&app.db).await?,
    )])
}

/// A cluster's rechecks, for its history (one query; the caller checked the cluster's scope).
pub async fn of_cluster<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Vec<(i32, recheck::Model)>, AppError> {
    let rows = recheck::Entity::find()
        .filter(recheck::Column::ClusterId.eq(cluster_id))
        .all(conn)
        .await?;
    let calls =
        store::load_by_ids::<recheck_call::Entity>(conn, rows.iter().map(|r| r.call_id)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| calls.get(&r.call_id).map(|c| (c.year, r)))
        .collect())
}
