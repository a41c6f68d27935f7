//! Revocation as a proceeding (第十四条 按程序撤销). The province opens a case against a cluster
//! holding a live title, naming a ground from the policy's `revocation.reasons` with the facts
//! and evidence; sends the 告知书 to the cluster's promotion organisation and its city bureau
//! (in-app and by e-mail), which opens a statement window of `revocation.response_working_days`
//! working days (deadline engine, working-day calendar); the cluster may answer in writing with
//! attachments (陈述申辩); once the answer is in or the window has passed, the province decides
//! 撤销 or 不予撤销 with reasons. The decision is a numbered 决定书 (per year, in the policy's
//! `revocation.decision_number` form), frozen as issued; a decision to revoke voids every live
//! title and certificate of the cluster through `designations::revoke_titles` and is published.
//!
//! Scopes: the province sees every case; a city bureau its clusters' cases and a cluster its own,
//! once the 告知书 has gone out (before that a case is the province's file).

use crate::store::id::{ClusterId, RevocationCaseId};
use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::region;
use jiqun_domain::revocation::{self as rule, Case, CaseStatus, Outcome, Step};
use jiqun_domain::round::date_zh;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::Date;

use super::{at_most, authorize, clusters, designations, required_text};
use crate::app::{App, Principal};
use crate::attachments::{self, AttachmentView};
use crate::audit::{self, Audit, Event};
use crate::error::AppError;
use crate::pdf::{DocumentText, PdfError};
use crate::services::owners::OwnerType;
use crate::store::{
    self,
    entity::{cluster, designation, revocation_case},
};

pub const MAX_FACTS_CHARS: usize = 5_000;
pub const MAX_STATEMENT_CHARS: usize = 5_000;
pub const MAX_REASONS_CHARS: usize = 5_000;

/// A ground the policy allows, for the opening form.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ground {
    pub key: String,
    pub name: String,
    /// e.g. 第十四条; empty when the ground is the province's own.
    pub article: String,
}

/// A cluster a case may be opened against: one holding a live title.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_name: String,
    /// cultivation | certified
    pub lifecycle: String,
}

/// What the province types to open a case.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenInput {
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub cluster_id: Option<ClusterId>,
    /// A key of the policy's `revocation.reasons`, e.g. fraud.
    #[serde(default)]
    pub ground: String,
    /// The facts found (查明的事实).
    #[serde(default)]
    pub facts: String,
}

/// The cluster's written statement (陈述申辩).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RespondInput {
    #[serde(default)]
    pub statement: String,
}

/// The province's decision.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecideInput {
    /// revoke (撤销) | keep (不予撤销)
    #[serde(default)]
    pub outcome: String,
    /// The reasons the decision gives.
    #[serde(default)]
    pub reasons: String,
}

/// The 决定书 as issued: frozen at the decision, shown and printed from this alone.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecisionDocument {
    #[schema(value_type = i64)]
    pub case_id: RevocationCaseId,
    /// e.g. 湘工信集群撤〔2026〕1号
    pub number: String,
    pub title: String,
    /// revoke | keep
    pub outcome: String,
    /// 撤销 | 不予撤销
    pub outcome_label: String,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    pub ground_name: String,
    /// The certificates the decision voided (empty for 不予撤销).
    pub certificates: Vec<String>,
    pub addressee: String,
    pub paragraphs: Vec<String>,
    pub issuer: String,
    /// YYYY-MM-DD
    pub decided_on: String,
    /// 2026年12月18日
    pub decided_on_zh: String,
}

/// A published revocation decision, as the public list shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublishedDecision {
    #[schema(value_type = i64)]
    pub case_id: RevocationCaseId,
    pub number: String,
    pub title: String,
    pub cluster_name: String,
    pub certificates: Vec<String>,
    pub decided_on: String,
    pub decided_on_zh: String,
}

/// A case as lists, pages and the API show it, with what the reader may do next.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    #[schema(value_type = i64)]
    pub id: RevocationCaseId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    pub ground_key: String,
    pub ground_name: String,
    pub ground_article: String,
    pub facts: String,
    /// opened | notified | responded | revoked | not_revoked
    pub status: String,
    pub status_label: String,
    pub opened_on: String,
    pub opened_on_zh: String,
    /// Empty until the 告知书 is sent.
    pub notified_on: String,
    pub notified_on_zh: String,
    /// The last day a statement is taken (YYYY-MM-DD); empty until notified.
    pub response_last_day: String,
    pub response_last_day_zh: String,
    pub response_working_days: Option<i32>,
    /// The 告知书 as sent.
    pub notice_text: String,
    pub statement: String,
    /// Beijing time, empty until answered.
    pub responded_at: String,
    pub decided_on: String,
    pub decided_on_zh: String,
    pub decision_number: String,
    pub decision_reasons: String,
    pub evidence: Vec<AttachmentView>,
    pub statement_files: Vec<AttachmentView>,
    pub can_attach_evidence: bool,
    pub can_notify: bool,
    pub can_respond: bool,
    /// The province may decide: the 告知书 went out and the case is undecided.
    pub can_decide: bool,
    /// The decision may be made today: the statement is in or the window has passed.
    pub decision_ready: bool,
}

// ---------------------------------------------------------------------------------------------
// Loading and scope

/// The policy in force today (grounds, the statement period, the decision number's form).
fn policy_today(app: &App) -> Result<jiqun_rules::Policy, AppError> {
    Ok(super::policy::current_on(super::calendar::today(app))?.policy)
}

fn in_scope(p: &Principal, scope: ScopeKind, cl: &cluster::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(cl.city_code),
        ScopeKind::OwnCounty => super::county_reaches(p, cl.lead_county_code),
        ScopeKind::OwnOrg => cl.org_id == p.org.id,
        ScopeKind::OwnAccount => false,
    }
}

/// Before the 告知书 a case is the file of the offices (the province, the city bureau, which
/// may open one itself); the cluster sees it from then on.
fn visible(scope: ScopeKind, case: &revocation_case::Model) -> bool {
    scope != ScopeKind::OwnOrg || case.status != CaseStatus::Opened
}

/// A case and its cluster, when the principal may take `action` on it; NotFound otherwise.
async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: RevocationCaseId,
    action: Action,
) -> Result<(revocation_case::Model, cluster::Model), AppError> {
    let scope = authorize(p, Resource::Revocation, action)?;
    let case = revocation_case::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let cl = cluster::Entity::find_by_id(case.cluster_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !in_scope(p, scope, &cl) || !visible(scope, &case) {
        return Err(AppError::NotFound);
    }
    Ok((case, cl))
}

fn rule_case(case: &revocation_case::Model) -> Case {
    Case {
        status: case.status,
        last_day: case.response_last_day,
    }
}

fn refused(r: rule::Refusal) -> AppError {
    AppError::Conflict(r.message())
}

fn day_text(d: Option<Date>) -> (String, String) {
    (
        d.map(|d| d.to_string()).unwrap_or_default(),
        d.map(date_zh).unwrap_or_default(),
    )
}

/// Whether the principal may attach evidence to (or a statement file for) a case now; the
/// attachment store asks this before a byte is read.
pub async fn can_attach(
    app: &App,
    p: &Principal,
    owner: OwnerType,
    case_id: RevocationCaseId,
) -> Result<(), AppError> {
    let today = super::calendar::today(app);
    match owner {
        OwnerType::RevocationCase => {
            let (case, _) = load(&app.db, p, case_id, Action::Create).await?;
            if case.status != CaseStatus::Opened {
                return Err(AppError::Conflict(
                    "告知书发出后不能再补充证据材料；证据须随告知书一并告知当事方".into(),
                ));
            }
            Ok(())
        }
        OwnerType::RevocationResponse => {
            let (case, _) = load(&app.db, p, case_id, Action::Update).await?;
            rule::next(rule_case(&case), Step::Respond, today).map_err(refused)?;
            Ok(())
        }
        _ => Err(AppError::Forbidden),
    }
}

/// Whether the principal may read a case's files (as visible as the case itself).
pub async fn can_read(app: &App, p: &Principal, case_id: RevocationCaseId) -> Result<(), AppError> {
    load(&app.db, p, case_id, Action::View)
        .await
        .map(|_| ())
        .map_err(|_| AppError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The grounds the policy in force allows.
pub fn grounds(app: &App) -> Result<Vec<Ground>, AppError> {
    Ok(policy_today(app)?
        .revocation
        .reasons
        .iter()
        .map(|r| Ground {
            key: r.key.clone(),
            name: r.name.clone(),
            article: r.article.clone().unwrap_or_default(),
        })
        .collect())
}

/// Clusters holding a live title, which a case may be opened against (the province all, a
/// city bureau its city's).
pub async fn candidates(app: &App, p: &Principal) -> Result<Vec<Candidate>, AppError> {
    let scope = authorize(p, Resource::Revocation, Action::Create)?;
    use crate::store::entity::kinds::Lifecycle;
    let mut q = cluster::Entity::find()
        .filter(cluster::Column::Lifecycle.is_in([Lifecycle::Cultivation, Lifecycle::Certified]));
    if scope != ScopeKind::All {
        let Some(city) = p.org.city_code else {
            return Ok(Vec::new());
        };
        q = q.filter(cluster::Column::CityCode.eq(city));
    }
    let rows = q.order_by_asc(cluster::Column::Name).all(&app.db).await?;
    Ok(rows
        .into_iter()
        .map(|c| Candidate {
            cluster_id: c.id,
            city_name: region::city_name_of(c.city_code),
            lifecycle: c.lifecycle.key().into(),
            cluster_name: c.name,
        })
        .collect())
}

/// Views of cases: three queries for the names whatever the number, plus the files of one case
/// when `files` is set.
pub(crate) async fn views(
    app: &App,
    p: &Principal,
    cases: Vec<revocation_case::Model>,
    files: bool,
) -> Result<Vec<CaseView>, AppError> {
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, cases.iter().map(|c| c.cluster_id)).await?;
    let orgs = clusters::org_names(&app.db, clusters.values().map(|c| c.org_id)).await?;
    let today = super::calendar::today(app);
    let province = authorize(p, Resource::Revocation, Action::Review).is_ok();
    let respondent = authorize(p, Resource::Revocation, Action::Update).is_ok();
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let cl = clusters.get(&case.cluster_id);
        let c = rule_case(&case);
        let (evidence, statement_files) = if files {
            (
                attachments::list(app, OwnerType::RevocationCase, case.id.get()).await?,
                attachments::list(app, OwnerType::RevocationResponse, case.id.get()).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let (opened_on, opened_on_zh) = day_text(Some(case.opened_on));
        let (notified_on, notified_on_zh) = day_text(case.notified_on);
        let (last, last_zh) = day_text(case.response_last_day);
        let (decided_on, decided_on_zh) = day_text(case.decided_on);
        let own = cl.is_some_and(|cl| cl.org_id == p.org.id);
        out.push(CaseView {
            id: case.id,
            cluster_id: case.cluster_id,
            cluster_name: cl.map(|c| c.name.clone()).unwrap_or_default(),
            org_name: cl
                .and_then(|c| orgs.get(&c.org_id).cloned())
                .unwrap_or_default(),
            city_name: cl
                .map(|c| region::city_name_of(c.city_code))
                .unwrap_or_default(),
            ground_key: case.ground_key.clone(),
            ground_name: case.ground_name.clone(),
            ground_article: case.ground_article.clone(),
            facts: case.facts.clone(),
            status: case.status.key().into(),
            status_label: case.status.label().into(),
            opened_on,
            opened_on_zh,
            notified_on,
            notified_on_zh,
            response_last_day: last,
            response_last_day_zh: last_zh,
            response_working_days: case.response_working_days,
            notice_text: case.notice_text.clone(),
            statement: case.response_text.clone(),
            responded_at: case
                .responded_at
                .map(crate::clock::format_local)
                .unwrap_or_default(),
            decided_on,
            decided_on_zh,
            decision_number: case.decision_number.clone().unwrap_or_default(),
            decision_reasons: case.decision_reasons.clone(),
            evidence,
            statement_files,
            can_attach_evidence: province && case.status == CaseStatus::Opened,
            can_notify: province && rule::allows(c, Step::Notify, today),
            can_respond: respondent && own && rule::allows(c, Step::Respond, today),
            can_decide: province
                && matches!(case.status, CaseStatus::Notified | CaseStatus::Responded),
            decision_ready: rule::allows(c, Step::Decide(Outcome::Revoke), today),
        });
    }
    Ok(out)
}

async fn cluster_ids(
    app: &App,
    condition: sea_orm::sea_query::SimpleExpr,
) -> Result<Vec<ClusterId>, AppError> {
    Ok(cluster::Entity::find()
        .filter(condition)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// One case with its files.
pub async fn get(app: &App, p: &Principal, id: RevocationCaseId) -> Result<CaseView, AppError> {
    let (case, _) = load(&app.db, p, id, Action::View).await?;
    views(app, p, vec![case], true)
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The 决定书 of a decided case, as issued (any party of the case).
pub async fn decision(
    app: &App,
    p: &Principal,
    id: RevocationCaseId,
) -> Result<DecisionDocument, AppError> {
    let (case, _) = load(&app.db, p, id, Action::View).await?;
    snapshot_of(&case)
}

fn snapshot_of(case: &revocation_case::Model) -> Result<DecisionDocument, AppError> {
    if !case.status.is_decided() {
        return Err(AppError::NotFound);
    }
    serde_json::from_str(&case.decision_snapshot)
        .map_err(|e| AppError::internal(format!("revocation case {} snapshot: {e}", case.id)))
}

/// The published decisions to revoke, newest first (public; read from the frozen documents).
pub async fn published(app: &App) -> Result<Vec<PublishedDecision>, AppError> {
    let rows = revocation_case::Entity::find()
        .filter(revocation_case::Column::Status.eq(CaseStatus::Revoked))
        .order_by_desc(revocation_case::Column::DecidedOn)
        .order_by_desc(revocation_case::Column::Id)
        .all(&app.db)
        .await?;
    rows.iter()
        .map(|case| {
            let d = snapshot_of(case)?;
            Ok(PublishedDecision {
                case_id: d.case_id,
                number: d.number,
                title: d.title,
                cluster_name: d.cluster_name,
                certificates: d.certificates,
                decided_on: d.decided_on,
                decided_on_zh: d.decided_on_zh,
            })
        })
        .collect()
}

/// One published decision to revoke (public); any other case is 404.
pub async fn published_one(app: &App, id: RevocationCaseId) -> Result<DecisionDocument, AppError> {
    let case = revocation_case::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .filter(|c| c.status == CaseStatus::Revoked)
        .ok_or(AppError::NotFound)?;
    snapshot_of(&case)
}

// ---------------------------------------------------------------------------------------------
// Steps

/// Opens a case (province): the cluster must hold a live title and have no undecided case.
pub async fn open(app: &App, p: &Principal, input: &OpenInput) -> Result<CaseView, AppError> {
    let scope = authorize(p, Resource::Revocation, Action::Create)?;
    let policy = policy_today(app)?;
    let mut problems = crate::error::Problems::default();
    let cluster_id = input.cluster_id.filter(|id| id.get() > 0);
    if cluster_id.is_none() {
        problems.add("cluster_id", "请选择被撤销称号的集群");
    }
    let ground = policy.revocation_reason(input.ground.trim());
    if ground.is_none() {
        let choices = policy
            .revocation
            .reasons
            .iter()
            .map(|r| format!("{}（{}）", r.key, r.name))
            .collect::<Vec<_>>()
            .join("、");
        problems.add("ground", format!("请选择撤销情形，可选：{choices}"));
    }
    let facts = input.facts.trim();
    if facts.is_empty() {
        problems.add("facts", "请填写查明的事实");
    } else if let Err(AppError::Invalid(f)) = at_most("facts", facts, "事实", MAX_FACTS_CHARS) {
        for e in f {
            problems.add(&e.field, e.message);
        }
    }
    problems.into_result()?;
    let (Some(cluster_id), Some(ground)) = (cluster_id, ground) else {
        return Err(AppError::internal("checked above"));
    };
    if scope != ScopeKind::All {
        // A city bureau opens cases against its own city's clusters only (the city is not
        // changed but by a 变更申请 the province approves).
        let own = cluster::Entity::find_by_id(cluster_id)
            .one(&app.db)
            .await?
            .is_some_and(|c| Some(c.city_code) == p.org.city_code);
        if !own {
            return Err(AppError::invalid(
                "cluster_id",
                "只能对本市州的集群提请立案撤销",
            ));
        }
    }
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let id = open_in(app, p, &txn, cluster_id, ground, facts, now).await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// Opens a case inside the caller's transaction (the province's own opening, or a 复核 that
/// failed or lapsed): the cluster must hold a live title and have no undecided case; audited.
pub(crate) async fn open_in<C: ConnectionTrait>(
    app: &App,
    p: &Principal,
    txn: &C,
    cluster_id: ClusterId,
    ground: &jiqun_rules::policy::RevocationReason,
    facts: &str,
    now: time::OffsetDateTime,
) -> Result<RevocationCaseId, AppError> {
    let today = crate::clock::local(now).date();
    // One undecided case per cluster: two openings at once must not both pass the check.
    store::lock::serialise(txn, &format!("revocation-cluster:{cluster_id}")).await?;
    let cl = cluster::Entity::find_by_id(cluster_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::invalid("cluster_id", "所选集群不存在"))?;
    if designations::open_titles(txn, cluster_id).await?.is_empty() {
        return Err(AppError::invalid(
            "cluster_id",
            format!("“{}”目前未持有有效称号，无需撤销", cl.name),
        ));
    }
    if let Some(pending) = revocation_case::Entity::find()
        .filter(revocation_case::Column::ClusterId.eq(cluster_id))
        .filter(revocation_case::Column::Status.is_in([
            CaseStatus::Opened,
            CaseStatus::Notified,
            CaseStatus::Responded,
        ]))
        .one(txn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "“{}”已有未办结的撤销案件（第{}号，{}），请在该案件中继续办理",
            cl.name,
            pending.id,
            pending.status.label()
        )));
    }
    let case = revocation_case::ActiveModel {
        cluster_id: Set(cluster_id),
        ground_key: Set(ground.key.clone()),
        ground_name: Set(ground.name.clone()),
        ground_article: Set(ground.article.clone().unwrap_or_default()),
        facts: Set(facts.to_string()),
        status: Set(CaseStatus::Opened),
        opened_by: Set(p.user.id),
        opened_on: Set(today),
        notified_on: Set(None),
        response_last_day: Set(None),
        response_working_days: Set(None),
        notice_text: Set(String::new()),
        response_text: Set(String::new()),
        responded_at: Set(None),
        responded_by: Set(None),
        decided_on: Set(None),
        decision_year: Set(None),
        decision_seq: Set(None),
        decision_number: Set(None),
        decision_reasons: Set(String::new()),
        decided_by: Set(None),
        decision_snapshot: Set(String::new()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            txn,
            Event {
                action: "revocation.open",
                object_type: "revocation_case",
                object_id: case.id.to_string(),
                summary: format!(
                    "对“{}”立案（第{}号撤销案件），撤销情形：{}",
                    cl.name, case.id, ground.name
                ),
                reason: facts.to_string(),
            },
        )
        .await?;
    Ok(case.id)
}

/// The titles a case is about, e.g. "湖南省先进制造业集群称号（证书编号…）".
fn titles_text(open: &[designation::Model]) -> String {
    open.iter()
        .map(|d| {
            format!(
                "{}称号（证书编号{}）",
                crate::config::title_of(d.designation),
                d.certificate_number
            )
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// Sends the 告知书 (province): the statement window is computed from today by the deadline
/// engine; the cluster's organisation and its city bureau are notified in the app and by e-mail.
pub async fn notify(app: &App, p: &Principal, id: RevocationCaseId) -> Result<CaseView, AppError> {
    let policy = policy_today(app)?;
    let calendar = super::calendar::load(app).await?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (case, cl) = load(&txn, p, id, Action::Review).await?;
    rule::next(rule_case(&case), Step::Notify, today).map_err(refused)?;
    let window = jiqun_rules::deadline::revocation_response_window(&policy, &calendar, today)
        .map_err(|e| AppError::Conflict(format!("无法计算陈述申辩期限：{e}")))?
        .ok_or_else(|| {
            AppError::Conflict(
                "政策规则未规定陈述申辩期限（revocation.response_working_days），不能发出告知书"
                    .into(),
            )
        })?;
    let open = designations::open_titles(&txn, cl.id).await?;
    let orgs = clusters::org_names(&txn, [cl.org_id]).await?;
    let org_name = orgs.get(&cl.org_id).cloned().unwrap_or_default();
    let city = region::city_name_of(cl.city_code);
    let article = if case.ground_article.is_empty() {
        String::new()
    } else {
        case.ground_article.clone()
    };
    let text = format!(
        "{org_name}、{city}工业和信息化局：\n\
         经查，{cluster}存在“{ground}”情形：{facts}\n\
         依据《{policy}》（{docno}）{article}的规定，我厅拟撤销{cluster}的{titles}。\n\
         你单位可于{last}前（告知书发出之日起{days}个工作日内）通过本系统提出书面陈述和申辩，并提交有关证明材料。逾期未提出的，视为放弃陈述和申辩的权利。\n\
         {issuer}\n{date}",
        cluster = cl.name,
        ground = case.ground_name,
        facts = case.facts,
        policy = policy.identity.name,
        docno = policy.identity.document_number,
        titles = titles_text(&open),
        last = date_zh(window.last_day),
        days = window.working_days,
        issuer = designations::issuer(),
        date = date_zh(today),
    );
    store::update_versioned(
        &txn,
        case.id,
        case.version,
        revocation_case::ActiveModel {
            status: Set(CaseStatus::Notified),
            notified_on: Set(Some(today)),
            response_last_day: Set(Some(window.last_day)),
            response_working_days: Set(i32::try_from(window.working_days).ok()),
            notice_text: Set(text.clone()),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let title = format!("撤销称号告知书：{}", cl.name);
    let link = format!("/revocations/{}", case.id);
    super::notifications::notify_org(&txn, cl.org_id, &title, &text, &link, now).await?;
    super::notifications::notify_city(&txn, &cl.city_code.to_string(), &title, &text, &link, now)
        .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "revocation.notify",
                object_type: "revocation_case",
                object_id: case.id.to_string(),
                summary: format!(
                    "向“{}”及{city}工业和信息化局发出撤销称号告知书，陈述申辩期限至{}（{}个工作日）",
                    cl.name,
                    date_zh(window.last_day),
                    window.working_days
                ),
                reason: String::new(),
            },
        )
        .await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// The cluster's written statement (陈述申辩), within the window; one per case.
pub async fn respond(
    app: &App,
    p: &Principal,
    id: RevocationCaseId,
    input: &RespondInput,
) -> Result<CaseView, AppError> {
    let statement = required_text("statement", &input.statement, "请填写陈述申辩意见")?;
    at_most("statement", statement, "陈述申辩意见", MAX_STATEMENT_CHARS)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (case, cl) = load(&txn, p, id, Action::Update).await?;
    if cl.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    rule::next(rule_case(&case), Step::Respond, today).map_err(refused)?;
    store::update_versioned(
        &txn,
        case.id,
        case.version,
        revocation_case::ActiveModel {
            status: Set(CaseStatus::Responded),
            response_text: Set(statement.to_string()),
            responded_at: Set(Some(now)),
            responded_by: Set(Some(p.user.id)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "revocation.respond",
                object_type: "revocation_case",
                object_id: case.id.to_string(),
                summary: format!("“{}”就第{}号撤销案件提交陈述申辩", cl.name, case.id),
                reason: statement.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// The province's decision: a numbered 决定书, frozen; 撤销 voids every live title.
pub async fn decide(
    app: &App,
    p: &Principal,
    id: RevocationCaseId,
    input: &DecideInput,
) -> Result<CaseView, AppError> {
    let mut problems = crate::error::Problems::default();
    let outcome = Outcome::from_key(input.outcome.trim());
    if outcome.is_none() {
        problems.add("outcome", "请选择决定：撤销（revoke）或不予撤销（keep）");
    }
    let reasons = input.reasons.trim();
    if reasons.is_empty() {
        problems.add("reasons", "请填写决定理由");
    } else if reasons.chars().count() > MAX_REASONS_CHARS {
        problems.add(
            "reasons",
            format!(
                "决定理由不能超过{MAX_REASONS_CHARS}字（当前{}字）",
                reasons.chars().count()
            ),
        );
    }
    problems.into_result()?;
    let Some(outcome) = outcome else {
        return Err(AppError::internal("checked above"));
    };
    let policy = policy_today(app)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let year = today.year();
    let txn = store::write_txn(&app.db).await?;
    // Decisions happen one at a time (PostgreSQL): two must not read the same last number, and a
    // second decision of the same case must see the first.
    store::lock::serialise(&txn, &format!("revocation-decision:{year}")).await?;
    let (case, cl) = load(&txn, p, id, Action::Review).await?;
    let status = rule::next(rule_case(&case), Step::Decide(outcome), today).map_err(refused)?;
    let last = revocation_case::Entity::find()
        .filter(revocation_case::Column::DecisionYear.eq(year))
        .order_by_desc(revocation_case::Column::DecisionSeq)
        .one(&txn)
        .await?
        .and_then(|c| c.decision_seq)
        .unwrap_or(0);
    let seq = last + 1;
    let number = policy
        .revocation
        .decision_number_of(year, u32::try_from(seq).unwrap_or_default())
        .ok_or_else(|| {
            AppError::Conflict(
                "政策规则未规定决定书编号格式（revocation.decision_number），不能作出决定".into(),
            )
        })?;
    let open = designations::open_titles(&txn, cl.id).await?;
    let titles = titles_text(&open);
    let orgs = clusters::org_names(&txn, [cl.org_id]).await?;
    let org_name = orgs.get(&cl.org_id).cloned().unwrap_or_default();
    let city = region::city_name_of(cl.city_code);
    let (voided, before, after) = match outcome {
        Outcome::Revoke => {
            let reason = format!("依据{number}撤销：{}", case.ground_name);
            designations::revoke_titles(&txn, cl.id, today, &reason, now).await?
        }
        Outcome::Keep => (Vec::new(), cl.lifecycle, cl.lifecycle),
    };
    let doc = document(&DocumentInput {
        case: &case,
        cluster_name: &cl.name,
        org_name: &org_name,
        city: &city,
        titles: &titles,
        voided: &voided,
        policy: &policy,
        number: &number,
        outcome,
        reasons,
        today,
    });
    let snapshot = serde_json::to_string(&doc).map_err(AppError::internal)?;
    store::update_versioned(
        &txn,
        case.id,
        case.version,
        revocation_case::ActiveModel {
            status: Set(status),
            decided_on: Set(Some(today)),
            decision_year: Set(Some(year)),
            decision_seq: Set(Some(seq)),
            decision_number: Set(Some(number.clone())),
            decision_reasons: Set(reasons.to_string()),
            decided_by: Set(Some(p.user.id)),
            decision_snapshot: Set(snapshot),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let title = format!("{}：{}", doc.title, number);
    let link = format!("/revocations/{}/decision", case.id);
    let body = format!(
        "第{}号撤销案件已作出决定（{number}）：{}{}。",
        case.id,
        outcome.label(),
        if voided.is_empty() {
            String::new()
        } else {
            format!("，证书{}自{}起作废", voided.join("、"), date_zh(today))
        }
    );
    super::notifications::notify_org(&txn, cl.org_id, &title, &body, &link, now).await?;
    super::notifications::notify_city(&txn, &cl.city_code.to_string(), &title, &body, &link, now)
        .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "revocation.decide",
                object_type: "revocation_case",
                object_id: case.id.to_string(),
                summary: format!(
                    "第{}号撤销案件决定{}“{}”的称号，决定书{number}{}（集群状态 {} → {}）",
                    case.id,
                    outcome.label(),
                    cl.name,
                    if voided.is_empty() {
                        String::new()
                    } else {
                        format!("，作废证书{}", voided.join("、"))
                    },
                    before.key(),
                    after.key()
                ),
                reason: reasons.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    get(app, p, id).await
}

struct DocumentInput<'a> {
    case: &'a revocation_case::Model,
    cluster_name: &'a str,
    org_name: &'a str,
    city: &'a str,
    titles: &'a str,
    voided: &'a [String],
    policy: &'a jiqun_rules::Policy,
    number: &'a str,
    outcome: Outcome,
    reasons: &'a str,
    today: Date,
}

/// The 决定书's text, written once at the decision.
fn document(i: &DocumentInput<'_>) -> DecisionDocument {
    let case = i.case;
    let cluster = i.cluster_name;
    let title = match i.outcome {
        Outcome::Revoke => format!("关于撤销{cluster}称号的决定"),
        Outcome::Keep => format!("关于不予撤销{cluster}称号的决定"),
    };
    let notified = case.notified_on.map(date_zh).unwrap_or_default();
    let mut paragraphs = vec![
        format!(
            "{notified}，我厅就{cluster}存在“{}”情形向你单位发出告知书，告知拟撤销其{}的事实、理由、依据及陈述申辩的权利。",
            case.ground_name, i.titles
        ),
        format!("经查：{}", case.facts),
    ];
    paragraphs.push(match case.responded_at {
        Some(at) => format!(
            "你单位于{}提出书面陈述申辩，称：{}",
            date_zh(crate::clock::local(at).date()),
            case.response_text
        ),
        None => format!(
            "你单位在陈述申辩期限（{}届满）内未提出陈述申辩。",
            case.response_last_day.map(date_zh).unwrap_or_default()
        ),
    });
    let basis = format!(
        "《{}》（{}）{}",
        i.policy.identity.name, i.policy.identity.document_number, case.ground_article
    );
    paragraphs.push(match i.outcome {
        Outcome::Revoke => format!(
            "我厅认为：{}。依据{basis}的规定，决定撤销{cluster}的{}，证书{}自{}起作废。",
            i.reasons.trim_end_matches('。'),
            i.titles,
            i.voided.join("、"),
            date_zh(i.today)
        ),
        Outcome::Keep => format!(
            "我厅认为：{}。决定不予撤销{cluster}的{}。",
            i.reasons.trim_end_matches('。'),
            i.titles
        ),
    });
    DecisionDocument {
        case_id: case.id,
        number: i.number.to_string(),
        title,
        outcome: i.outcome.key().into(),
        outcome_label: i.outcome.label().into(),
        cluster_name: cluster.to_string(),
        org_name: i.org_name.to_string(),
        city_name: i.city.to_string(),
        ground_name: case.ground_name.clone(),
        certificates: i.voided.to_vec(),
        addressee: format!("{}，{}工业和信息化局：", i.org_name, i.city),
        paragraphs,
        issuer: designations::issuer().into(),
        decided_on: i.today.to_string(),
        decided_on_zh: date_zh(i.today),
    }
}

// ---------------------------------------------------------------------------------------------
// The 决定书 as a PDF

/// The 决定书 as a 公文 PDF, from the frozen document; the download is audited.
pub async fn decision_pdf(
    app: &App,
    p: &Principal,
    id: RevocationCaseId,
) -> Result<(DecisionDocument, Vec<u8>), designations::PdfFailure> {
    let doc = decision(app, p, id).await?;
    let text = DocumentText {
        organ: designations::issuer().into(),
        number: doc.number.clone(),
        title: doc.title.clone(),
        addressee: doc.addressee.clone(),
        paragraphs: doc.paragraphs.clone(),
        issuer: doc.issuer.clone(),
        date: doc.decided_on_zh.clone(),
    };
    let cache = designations::font_cache(app.config.pdf_font.clone());
    let rendered = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, PdfError> {
        let fonts = cache.get()?;
        crate::pdf::document_pdf(&fonts, &text)
    })
    .await
    .map_err(|e| AppError::internal(format!("document renderer: {e}")))?;
    let bytes = rendered.map_err(|e| {
        tracing::warn!("revocation decision {id}: {e}");
        designations::PdfFailure::Unavailable(e.to_string())
    })?;
    audit::record_export(
        app,
        p,
        Event {
            action: "revocation.download",
            object_type: "revocation_case",
            object_id: id.to_string(),
            summary: format!("下载决定书PDF：{}（{}）", doc.number, doc.cluster_name),
            reason: String::new(),
        },
    )
    .await?;
    Ok((doc, bytes))
}

/// What revocation cases ask of the principal now (the workbench): the province sends 告知书
/// and decides cases that are ready; a cluster answers a 告知书 within its window. Two queries.
pub async fn todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    let today = super::calendar::today(app);
    let undecided = [
        CaseStatus::Opened,
        CaseStatus::Notified,
        CaseStatus::Responded,
    ];
    let mut out = Vec::new();
    if authorize(p, Resource::Revocation, Action::Review).is_ok() {
        let cases = revocation_case::Entity::find()
            .filter(revocation_case::Column::Status.is_in(undecided))
            .all(&app.db)
            .await?;
        let ids = |f: &dyn Fn(&revocation_case::Model) -> bool| -> Vec<RevocationCaseId> {
            cases.iter().filter(|c| f(c)).map(|c| c.id).collect()
        };
        let to_notify = ids(&|c| c.status == CaseStatus::Opened);
        out.push((
            "待发出撤销告知书".into(),
            super::workbench::next_link(&to_notify, "/revocations/", "/revocations"),
            to_notify.len() as u64,
        ));
        let to_decide = ids(&|c| {
            c.status != CaseStatus::Opened
                && rule::allows(rule_case(c), Step::Decide(Outcome::Revoke), today)
        });
        out.push((
            "待作出撤销决定（已陈述申辩或期限届满）".into(),
            super::workbench::next_link(&to_decide, "/revocations/", "/revocations"),
            to_decide.len() as u64,
        ));
    } else if authorize(p, Resource::Revocation, Action::Update).is_ok() {
        let own = cluster_ids(app, cluster::Column::OrgId.eq(p.org.id)).await?;
        if !own.is_empty() {
            let cases = revocation_case::Entity::find()
                .filter(revocation_case::Column::ClusterId.is_in(own))
                .filter(revocation_case::Column::Status.eq(CaseStatus::Notified))
                .all(&app.db)
                .await?;
            let open: Vec<RevocationCaseId> = cases
                .iter()
                .filter(|c| rule::allows(rule_case(c), Step::Respond, today))
                .map(|c| c.id)
                .collect();
            out.push((
                "待提交陈述申辩（撤销称号告知书，请在期限内提交）".into(),
                super::workbench::next_link(&open, "/revocations/", "/revocations"),
                open.len() as u64,
            ));
        }
    }
    Ok(out)
}
