//! A programme whose outcome is the ministry's (the national 中小企业特色产业集群 under
//! 《促进中小企业特色产业集群发展暂行办法》, 工信部企业〔2022〕119号, as a province handles its
//! part): the province's 实地抽查 recorded during its own 初审, and the ministry's result for each
//! application the province recommended, recorded once. A selected cluster holds the policy's
//! title (`procedure.title`) from the ministry's decision for its term; its standing is what
//! `lifecycle::standing` makes of that title (lapsed after the term), and the yearly figures it
//! owes are the policy's reports (`deadline::owed_reports`). Who applies, who reviews and the
//! call's cap on recommendations are in `applications` and `reviews`, read from the same policy.

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::Status;
use jiqun_domain::lifecycle::{self, Closure, Standing, Title};
use jiqun_domain::round::{Designation, date_zh};
use jiqun_rules::Policy;
use jiqun_rules::policy::{ProgrammeOutcome, TitleTerm};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use time::Date;

use super::applications::{self, competition_of};
use super::{at_most, authorize, calendar};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::store::id::{ApplicationId, ClusterId, FieldCheckId, ReportId};
use crate::store::{
    self,
    entity::{
        application, cluster, competition, field_check, ministry_result, ministry_term, report,
    },
};

const MAX_FINDINGS_CHARS: usize = 2000;
const MAX_DOCUMENT_CHARS: usize = 100;

/// A 实地抽查 as the province typed it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct FieldCheckInput {
    /// YYYY-MM-DD: the day of the visit.
    #[serde(default)]
    pub checked_on: String,
    /// What was seen.
    #[serde(default)]
    pub findings: String,
    /// Whether what was seen matches the application.
    #[serde(default)]
    pub passed: bool,
}

/// One recorded 实地抽查.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldCheckView {
    #[schema(value_type = i64)]
    pub id: FieldCheckId,
    /// YYYY-MM-DD
    pub checked_on: String,
    pub checked_on_zh: String,
    pub findings: String,
    pub passed: bool,
    /// 抽查情况与申报一致 | 抽查发现问题
    pub passed_label: String,
}

fn check_view(m: &field_check::Model) -> FieldCheckView {
    FieldCheckView {
        id: m.id,
        checked_on: m.checked_on.to_string(),
        checked_on_zh: date_zh(m.checked_on),
        findings: m.findings.clone(),
        passed: m.passed,
        passed_label: if m.passed {
            "抽查情况与申报一致"
        } else {
            "抽查发现问题"
        }
        .into(),
    }
}

/// The ministry's result as the province records it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ResultInput {
    /// selected (认定) | not_selected (未认定)
    #[serde(default)]
    pub outcome: String,
    /// YYYY-MM-DD: the day of the ministry's decision (its list's 通告).
    #[serde(default)]
    pub decided_on: String,
    /// The ministry's document (文号).
    #[serde(default)]
    pub document_number: String,
}

/// One yearly figure return a selected cluster owes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwedView {
    /// e.g. 2027年度
    pub period: String,
    /// e.g. 年度发展情况
    pub name: String,
    /// YYYY-MM-DD
    pub due: String,
    pub due_zh: String,
    /// Whether it is overdue and not yet filed.
    pub overdue: bool,
    /// The report filed for it (the reports' own steps), if started.
    #[schema(value_type = Option<i64>)]
    pub report_id: Option<ReportId>,
    /// not_started | draft | submitted | returned | accepted
    pub status: String,
    pub status_label: String,
}

/// One term of the title and how it closed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TermView {
    /// YYYY-MM-DD, the term's first and last day.
    pub valid_from: String,
    pub valid_until: String,
    /// e.g. 2027年11月8日至2030年11月7日
    pub validity_zh: String,
    /// open | passed | revoked | lapsed
    pub closed: String,
    /// 有效期内 | 复核通过（……） | 已撤销：经复核未通过（……） | 已过有效期
    pub closed_label: String,
}

/// The ministry's result for one application, with the title it conferred.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResultView {
    #[schema(value_type = i64)]
    pub application_id: ApplicationId,
    pub cluster_name: String,
    /// selected | not_selected
    pub outcome: String,
    /// 认定为…… | 未获认定
    pub outcome_label: String,
    /// YYYY-MM-DD
    pub decided_on: String,
    pub document_number: String,
    /// The title, e.g. 中小企业特色产业集群; empty when not selected.
    pub title: String,
    /// YYYY-MM-DD, the title's first and last day; empty when not selected.
    pub valid_from: String,
    pub valid_until: String,
    /// e.g. 2026年12月1日至2029年11月30日
    pub validity_zh: String,
    /// in_force | lapsed | revoked | none
    pub standing: String,
    /// 有效期内 | 已过有效期 | 已撤销（ground） | 无
    pub standing_label: String,
    /// The ground of a revocation: its key and name from the policy (empty otherwise).
    pub revocation_reason: String,
    pub revocation_reason_name: String,
    /// Every term, the first one first; `valid_from` / `valid_until` above are the last one's.
    pub terms: Vec<TermView>,
    /// The yearly figures the cluster owes as of today, by due date.
    pub owed: Vec<OwedView>,
    /// The grounds the province may choose when recording a revocation (key, name).
    pub reasons: Vec<ReasonView>,
}

/// A ground of revocation the policy lists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonView {
    pub key: String,
    pub name: String,
    /// Whether it may be recorded at any time during a term (otherwise at its close).
    pub during_term: bool,
}

/// The call's policy, when its outcome is the ministry's.
fn ministry_policy(policy: &Policy) -> Option<&TitleTerm> {
    policy
        .procedure
        .as_ref()
        .filter(|pr| pr.outcome == ProgrammeOutcome::Ministry)
        .and_then(|pr| pr.title.as_ref())
}

/// Records a 实地抽查 of a submitted application, by the reviewer the programme names, while
/// its 初审 is open.
pub async fn record_field_check(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    input: &FieldCheckInput,
) -> Result<FieldCheckView, AppError> {
    let mut problems = Problems::default();
    let checked_on = match calendar::parse_date(&input.checked_on) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.add("checked_on", e.to_string());
            None
        }
    };
    let findings = input.findings.trim();
    if findings.is_empty() {
        problems.add("findings", "请填写实地抽查情况");
    }
    problems.into_result()?;
    at_most("findings", findings, "实地抽查情况", MAX_FINDINGS_CHARS)?;
    let checked_on = checked_on.ok_or(AppError::NotFound)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    if checked_on > today {
        return Err(AppError::invalid(
            "checked_on",
            format!("抽查日期{}晚于今天，请核对", date_zh(checked_on)),
        ));
    }
    let txn = store::write_txn(&app.db).await?;
    let m = applications::load(&txn, p, id).await?;
    let c = competition_of(&txn, &m).await?;
    let policy = super::competitions::policy_of(&c)?;
    let pr = policy.procedure_or_default();
    let actors = applications::actors_of(&policy);
    if p.role != actors.reviewer || actors.grant(p.role, Action::Review).is_none() {
        return Err(AppError::Forbidden);
    }
    if !pr.field_check {
        return Err(AppError::Conflict(
            "该竞赛所依据的政策没有实地抽查环节".into(),
        ));
    }
    if m.status != Status::Submitted {
        return Err(AppError::Conflict(format!(
            "申报当前为“{}”，实地抽查只能在初审期间记录",
            m.status.label()
        )));
    }
    let saved = field_check::ActiveModel {
        application_id: Set(m.id),
        checked_on: Set(checked_on),
        findings: Set(findings.to_string()),
        passed: Set(input.passed),
        recorded_by: Set(p.user.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let view = check_view(&saved);
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "application.field_check",
                object_type: "application",
                object_id: id.to_string(),
                summary: format!(
                    "记录实地抽查（{}）：{}",
                    view.checked_on_zh, view.passed_label
                ),
                reason: findings.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(view)
}

/// The 实地抽查 of an application the principal may see, oldest first.
pub async fn field_checks(
    app: &App,
    p: &Principal,
    id: ApplicationId,
) -> Result<Vec<FieldCheckView>, AppError> {
    let m = applications::load(&app.db, p, id).await?;
    Ok(field_check::Entity::find()
        .filter(field_check::Column::ApplicationId.eq(m.id))
        .order_by_asc(field_check::Column::Id)
        .all(&app.db)
        .await?
        .iter()
        .map(check_view)
        .collect())
}

/// A decision of the ministry's as the province typed it: a two-way outcome, its day and its
/// document number, with the messages for what is missing.
struct Decision<'a> {
    outcome: &'a str,
    /// (the key typed, what it means)
    choices: [(&'static str, bool); 2],
    choose: &'static str,
    decided_on: &'a str,
    document: &'a str,
    missing_document: &'static str,
}

/// The outcome, the day and the document number of a decision; each one missing or malformed is
/// named in `problems` (and is `None` or empty here).
fn parse_decision<'a>(
    problems: &mut Problems,
    d: Decision<'a>,
) -> (Option<bool>, Option<time::Date>, &'a str) {
    let outcome = d
        .choices
        .iter()
        .find(|(key, _)| *key == d.outcome.trim())
        .map(|(_, means)| *means);
    if outcome.is_none() {
        problems.add("outcome", d.choose);
    }
    let decided_on = match calendar::parse_date(d.decided_on) {
        Ok(day) => Some(day),
        Err(e) => {
            problems.add("decided_on", e.to_string());
            None
        }
    };
    let document = d.document.trim();
    if document.is_empty() {
        problems.add("document_number", d.missing_document);
    }
    (outcome, decided_on, document)
}

/// A parsed decision once its problems are cleared: the document number within its length and
/// the day (`day_name`, for the message) not after today.
fn decided(
    outcome: Option<bool>,
    decided_on: Option<time::Date>,
    document: &str,
    now: time::OffsetDateTime,
    day_name: &str,
) -> Result<(bool, time::Date), AppError> {
    at_most("document_number", document, "文号", MAX_DOCUMENT_CHARS)?;
    let (Some(outcome), Some(decided_on)) = (outcome, decided_on) else {
        return Err(AppError::NotFound);
    };
    if decided_on > crate::clock::local(now).date() {
        return Err(AppError::invalid(
            "decided_on",
            format!("{day_name}{}晚于今天，请核对", date_zh(decided_on)),
        ));
    }
    Ok((outcome, decided_on))
}

/// Records the ministry's result for an application the province recommended to it, once.
pub async fn record_result(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    input: &ResultInput,
) -> Result<ResultView, AppError> {
    // Recording a title is the province's (the permission table's certificates).
    authorize(p, Resource::Certificate, Action::Create)?;
    let mut problems = Problems::default();
    let (selected, decided_on, document) = parse_decision(
        &mut problems,
        Decision {
            outcome: &input.outcome,
            choices: [("selected", true), ("not_selected", false)],
            choose: "请选择部里的结果：认定或未认定",
            decided_on: &input.decided_on,
            document: &input.document_number,
            missing_document: "请填写部里公布结果的文号",
        },
    );
    problems.into_result()?;
    let now = app.clock.now();
    let (selected, decided_on) = decided(selected, decided_on, document, now, "结果公布日期")?;
    let txn = store::write_txn(&app.db).await?;
    // Two recordings at once must not both find none.
    store::lock::serialise(&txn, &format!("ministry_result:{id}")).await?;
    let m = applications::load(&txn, p, id).await?;
    let c = competition_of(&txn, &m).await?;
    let policy = super::competitions::policy_of(&c)?;
    let Some(title) = ministry_policy(&policy) else {
        return Err(AppError::Conflict(
            "该竞赛由省级评审认定，没有部里的结果可登记".into(),
        ));
    };
    if ministry_result::Entity::find()
        .filter(ministry_result::Column::ApplicationId.eq(m.id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict("部里的结果已登记，不能重复登记".into()));
    }
    if m.status != Status::Recommended {
        return Err(AppError::Conflict(format!(
            "申报当前为“{}”，只有已推荐至{}的申报才能登记结果",
            m.status.label(),
            policy.identity.issuer
        )));
    }
    if decided_on < crate::clock::local(c.created_at).date() {
        return Err(AppError::invalid(
            "decided_on",
            format!(
                "结果公布日期{}早于本批推荐通知，请核对",
                date_zh(decided_on)
            ),
        ));
    }
    let saved = ministry_result::ActiveModel {
        application_id: Set(m.id),
        competition_id: Set(m.competition_id),
        cluster_id: Set(m.cluster_id),
        selected: Set(selected),
        decided_on: Set(decided_on),
        document_number: Set(document.to_string()),
        recorded_by: Set(p.user.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&txn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let what = if selected {
        format!("认定为{}", title.name)
    } else {
        "未获认定".to_string()
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "application.ministry_result",
                object_type: "application",
                object_id: id.to_string(),
                summary: format!(
                    "登记{}结果：{name}{what}（{document}，{}）",
                    policy.identity.issuer,
                    date_zh(decided_on)
                ),
                reason: String::new(),
            },
        )
        .await?;
    super::notifications::notify_org(
        &txn,
        m.org_id,
        &format!("{}结果：{name}{what}", policy.identity.issuer),
        &format!("{}（{document}）", date_zh(decided_on)),
        &format!("/applications/{id}"),
        now,
    )
    .await?;
    txn.commit().await?;
    let _ = (saved, title);
    result_of(app, p, id)
        .await?
        .ok_or_else(|| AppError::internal("a recorded result not found"))
}

/// The ministry's result for an application the principal may see; `None` before one is
/// recorded.
pub async fn result_of(
    app: &App,
    p: &Principal,
    id: ApplicationId,
) -> Result<Option<ResultView>, AppError> {
    let m: application::Model = applications::load(&app.db, p, id).await?;
    let Some(r) = ministry_result::Entity::find()
        .filter(ministry_result::Column::ApplicationId.eq(m.id))
        .one(&app.db)
        .await?
    else {
        return Ok(None);
    };
    let c = competition_of(&app.db, &m).await?;
    let policy = super::competitions::policy_of(&c)?;
    let title = ministry_policy(&policy)
        .ok_or_else(|| AppError::internal("a ministry result under a provincial policy"))?;
    let name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let closes = ministry_term::Entity::find()
        .filter(ministry_term::Column::ApplicationId.eq(m.id))
        .order_by_asc(ministry_term::Column::Id)
        .all(&app.db)
        .await?;
    let filed = report::Entity::find()
        .filter(report::Column::ClusterId.eq(m.cluster_id))
        .filter(report::Column::PolicyId.eq(policy.id()))
        .all(&app.db)
        .await?;
    let cal = calendar::load(app).await?;
    let today = calendar::today(app);
    view_of(&r, &name, &policy, title, &closes, &filed, p, &cal, today).map(Some)
}

// ---------------------------------------------------------------------------------------------
// The title's terms (第四章 动态管理)

/// The title's terms as titles: the first from the ministry's decision; a passed 复核 closes a
/// term and starts the next on its decision day, a revocation closes it for good; open terms
/// lapse after `years` (as of `today`).
pub(crate) fn terms_of(
    first: Date,
    years: u32,
    closes: &[ministry_term::Model],
    today: Date,
) -> Vec<Title> {
    let mut titles = Vec::new();
    let mut start = first;
    // A term's close starts a later term, so the chain is at most one term per close.
    for _ in 0..=closes.len() {
        let mut t = Title::new(Designation::Certified, start);
        let after = lifecycle::term_end(start, years).and_then(Date::next_day);
        let Some(c) = closes.iter().find(|c| c.term_start == start) else {
            titles.push(t);
            break;
        };
        let on = after.map_or(c.decided_on, |a| a.min(c.decided_on));
        t.closed = Some(if !c.passed {
            Closure::Revoked(on)
        } else if on < c.decided_on {
            Closure::Lapsed(on)
        } else {
            Closure::Superseded(on)
        });
        titles.push(t);
        if !c.passed || c.decided_on <= start {
            break;
        }
        start = c.decided_on;
    }
    lifecycle::lapse(&mut titles, years, today);
    titles
}

/// A cluster's national title under one application: its policy and its terms.
pub(crate) struct Holding {
    pub cluster_id: ClusterId,
    pub policy: Arc<Policy>,
    pub title_name: String,
    pub titles: Vec<Title>,
}

impl Holding {
    /// Whether the title stands today (an open term).
    pub fn stands(&self) -> bool {
        lifecycle::standing(&self.titles) == Standing::Certified
    }
}

/// The ministry's titles (selected results) of the given clusters, or of every cluster when
/// `cluster_ids` is `None`, with their terms as of `today`: three queries whatever the number.
pub(crate) async fn holdings<C: ConnectionTrait>(
    conn: &C,
    cluster_ids: Option<Vec<ClusterId>>,
    today: Date,
) -> Result<Vec<Holding>, AppError> {
    let results: Vec<ministry_result::Model> = match cluster_ids {
        Some(ids) => {
            store::load_where_in::<ministry_result::Entity>(
                conn,
                ministry_result::Column::ClusterId,
                ids,
            )
            .await?
        }
        None => {
            ministry_result::Entity::find()
                .filter(ministry_result::Column::Selected.eq(true))
                .all(conn)
                .await?
        }
    };
    let results: Vec<_> = results.into_iter().filter(|r| r.selected).collect();
    if results.is_empty() {
        return Ok(Vec::new());
    }
    let calls =
        store::load_by_ids::<competition::Entity>(conn, results.iter().map(|r| r.competition_id))
            .await?;
    let mut closes: HashMap<ApplicationId, Vec<ministry_term::Model>> = HashMap::new();
    for t in store::load_where_in::<ministry_term::Entity>(
        conn,
        ministry_term::Column::ApplicationId,
        results.iter().map(|r| r.application_id),
    )
    .await?
    {
        closes.entry(t.application_id).or_default().push(t);
    }
    let mut out = Vec::new();
    for r in results {
        let Some(c) = calls.get(&r.competition_id) else {
            continue;
        };
        let policy = super::competitions::policy_of(c)?;
        let Some(term) = ministry_policy(&policy) else {
            continue;
        };
        let title_name = term.name.clone();
        let titles = terms_of(
            r.decided_on,
            term.validity_years,
            closes
                .get(&r.application_id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            today,
        );
        out.push(Holding {
            cluster_id: r.cluster_id,
            policy,
            title_name,
            titles,
        });
    }
    Ok(out)
}

/// The clusters whose national title stands today.
pub(crate) async fn standing_clusters<C: ConnectionTrait>(
    conn: &C,
    today: Date,
) -> Result<Vec<(ClusterId, String)>, AppError> {
    Ok(holdings(conn, None, today)
        .await?
        .into_iter()
        .filter(Holding::stands)
        .map(|h| (h.cluster_id, h.title_name))
        .collect())
}

/// How the province records the close of the current term.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TermCloseInput {
    /// passed (复核通过) | revoked (撤销)
    #[serde(default)]
    pub outcome: String,
    /// When revoked: the ground's key from the policy's `[revocation].reasons`.
    #[serde(default)]
    pub reason: String,
    /// YYYY-MM-DD: the day of the ministry's decision.
    #[serde(default)]
    pub decided_on: String,
    /// The ministry's document (文号).
    #[serde(default)]
    pub document_number: String,
}

/// Records the ministry's 复核 result for the title's current term, once per term: passed (a
/// new term from the decision day) from the term's last year on, or revoked — on a ground that
/// closes a term (复核 failed, not applied for) from the term's last year on, on a ground
/// allowed during the term (fraud) at any time within it. The county is told.
pub async fn record_term_close(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    input: &TermCloseInput,
) -> Result<ResultView, AppError> {
    authorize(p, Resource::Certificate, Action::Create)?;
    let mut problems = Problems::default();
    let (passed, decided_on, document) = parse_decision(
        &mut problems,
        Decision {
            outcome: &input.outcome,
            choices: [("passed", true), ("revoked", false)],
            choose: "请选择复核结果：复核通过或撤销认定",
            decided_on: &input.decided_on,
            document: &input.document_number,
            missing_document: "请填写部里决定的文号",
        },
    );
    let reason_key = input.reason.trim();
    if passed == Some(false) && reason_key.is_empty() {
        problems.add("reason", "撤销认定时请选择撤销理由");
    }
    problems.into_result()?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let (passed, decided_on) = decided(passed, decided_on, document, now, "决定日期")?;
    let txn = store::write_txn(&app.db).await?;
    // Two recordings at once must not both find the term open.
    store::lock::serialise(&txn, &format!("ministry_term:{id}")).await?;
    let m = applications::load(&txn, p, id).await?;
    let c = competition_of(&txn, &m).await?;
    let policy = super::competitions::policy_of(&c)?;
    let Some(term) = ministry_policy(&policy) else {
        return Err(AppError::Conflict(
            "该竞赛由省级评审认定，没有部里的称号可复核".into(),
        ));
    };
    let Some(r) = ministry_result::Entity::find()
        .filter(ministry_result::Column::ApplicationId.eq(m.id))
        .one(&txn)
        .await?
        .filter(|r| r.selected)
    else {
        return Err(AppError::Conflict(format!(
            "该申报未获{}认定，没有称号可复核",
            policy.identity.issuer
        )));
    };
    let reason = if passed {
        None
    } else {
        let Some(found) = policy
            .revocation
            .reasons
            .iter()
            .find(|x| x.key == reason_key)
        else {
            let known: Vec<String> = policy
                .revocation
                .reasons
                .iter()
                .map(|x| format!("{}（{}）", x.key, x.name))
                .collect();
            return Err(AppError::invalid(
                "reason",
                format!(
                    "撤销理由“{reason_key}”不在政策列出的理由中，可选：{}",
                    known.join("、")
                ),
            ));
        };
        Some(found)
    };
    let closes = ministry_term::Entity::find()
        .filter(ministry_term::Column::ApplicationId.eq(m.id))
        .all(&txn)
        .await?;
    let years = term.validity_years;
    let titles = terms_of(r.decided_on, years, &closes, today);
    let current = titles
        .last()
        .copied()
        .ok_or_else(|| AppError::internal("a title without a term"))?;
    if let Some(Closure::Revoked(on)) = current.closed {
        return Err(AppError::Conflict(format!(
            "该称号已于{}撤销，不能再登记复核结果",
            date_zh(on)
        )));
    }
    if closes.iter().any(|x| x.term_start == current.effective_on) {
        return Err(AppError::Conflict(
            "本期的复核结果已登记，不能重复登记".into(),
        ));
    }
    let out_of_range = || AppError::internal("title term out of range");
    let start = current.effective_on;
    let end = lifecycle::term_end(start, years).ok_or_else(out_of_range)?;
    let last_year_from = if years > 1 {
        lifecycle::term_end(start, years - 1)
            .and_then(Date::next_day)
            .ok_or_else(out_of_range)?
    } else {
        start
    };
    let validity = format!("{}至{}", date_zh(start), date_zh(end));
    // The close that started this term, sent again: recorded once.
    if let Some(prev) = closes.iter().find(|x| x.passed && x.decided_on == start)
        && decided_on <= start
    {
        return Err(AppError::Conflict(format!(
            "上一期的复核结果已于{}登记（{}），不能重复登记；本期有效期为{validity}",
            date_zh(prev.decided_on),
            prev.document_number
        )));
    }
    if decided_on <= start {
        return Err(AppError::invalid(
            "decided_on",
            format!(
                "决定日期{}不在本期有效期（{validity}）开始之后，请核对",
                date_zh(decided_on)
            ),
        ));
    }
    match reason {
        Some(x) if x.during_term && decided_on > end => {
            return Err(AppError::invalid(
                "decided_on",
                format!(
                    "以“{}”撤销须在有效期内（{validity}）作出，决定日期{}已过有效期",
                    x.name,
                    date_zh(decided_on)
                ),
            ));
        }
        Some(x) if x.during_term => {}
        _ if decided_on < last_year_from => {
            return Err(AppError::Conflict(format!(
                "本期有效期为{validity}，复核结果自有效期最后一年（{}起）方可登记；有效期内撤销只能以政策规定的有效期内撤销理由作出",
                date_zh(last_year_from)
            )));
        }
        _ => {}
    }
    ministry_term::ActiveModel {
        application_id: Set(m.id),
        cluster_id: Set(m.cluster_id),
        term_start: Set(start),
        passed: Set(passed),
        reason_key: Set(reason.map(|x| x.key.clone()).unwrap_or_default()),
        reason_name: Set(reason.map(|x| x.name.clone()).unwrap_or_default()),
        decided_on: Set(decided_on),
        document_number: Set(document.to_string()),
        recorded_by: Set(p.user.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&txn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let what = match reason {
        None => {
            let next_end = lifecycle::term_end(decided_on, years).ok_or_else(out_of_range)?;
            format!(
                "{}复核通过，新一期有效期{}至{}",
                term.name,
                date_zh(decided_on),
                date_zh(next_end)
            )
        }
        Some(x) => format!("撤销{}认定（{}）", term.name, x.name),
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "application.ministry_term",
                object_type: "application",
                object_id: id.to_string(),
                summary: format!(
                    "登记{}复核结果（本期{validity}）：{name}{what}（{document}，{}）",
                    policy.identity.issuer,
                    date_zh(decided_on)
                ),
                reason: reason.map(|x| x.key.clone()).unwrap_or_default(),
            },
        )
        .await?;
    super::notifications::notify_org(
        &txn,
        m.org_id,
        &format!("{}复核结果：{name}{what}", policy.identity.issuer),
        &format!("{}（{document}）", date_zh(decided_on)),
        &format!("/applications/{id}"),
        now,
    )
    .await?;
    txn.commit().await?;
    result_of(app, p, id)
        .await?
        .ok_or_else(|| AppError::internal("a recorded result not found"))
}

fn term_view(t: &Title, years: u32, closes: &[ministry_term::Model]) -> Result<TermView, AppError> {
    let until = lifecycle::term_end(t.effective_on, years)
        .ok_or_else(|| AppError::internal("title term out of range"))?;
    let close = closes.iter().find(|c| c.term_start == t.effective_on);
    let of = |c: &ministry_term::Model| format!("{}，{}", c.document_number, date_zh(c.decided_on));
    let (closed, label) = match (t.closed, close) {
        (_, Some(c)) if c.passed => ("passed", format!("复核通过（{}）", of(c))),
        (_, Some(c)) => ("revoked", format!("已撤销：{}（{}）", c.reason_name, of(c))),
        (Some(_), None) => ("lapsed", "已过有效期".to_string()),
        (None, None) => ("open", "有效期内".to_string()),
    };
    Ok(TermView {
        valid_from: t.effective_on.to_string(),
        valid_until: until.to_string(),
        validity_zh: format!("{}至{}", date_zh(t.effective_on), date_zh(until)),
        closed: closed.into(),
        closed_label: label,
    })
}

#[allow(clippy::too_many_arguments)]
fn view_of(
    r: &ministry_result::Model,
    cluster_name: &str,
    policy: &Policy,
    title: &TitleTerm,
    closes: &[ministry_term::Model],
    filed: &[report::Model],
    p: &Principal,
    cal: &jiqun_rules::Calendar,
    today: time::Date,
) -> Result<ResultView, AppError> {
    let out_of_range = || AppError::internal("title term out of range");
    let mut view = ResultView {
        application_id: r.application_id,
        cluster_name: cluster_name.to_string(),
        outcome: if r.selected {
            "selected"
        } else {
            "not_selected"
        }
        .into(),
        outcome_label: if r.selected {
            format!("认定为{}", title.name)
        } else {
            "未获认定".into()
        },
        decided_on: r.decided_on.to_string(),
        document_number: r.document_number.clone(),
        title: String::new(),
        valid_from: String::new(),
        valid_until: String::new(),
        validity_zh: String::new(),
        standing: "none".into(),
        standing_label: "无".into(),
        revocation_reason: String::new(),
        revocation_reason_name: String::new(),
        terms: Vec::new(),
        owed: Vec::new(),
        reasons: policy
            .revocation
            .reasons
            .iter()
            .map(|x| ReasonView {
                key: x.key.clone(),
                name: x.name.clone(),
                during_term: x.during_term,
            })
            .collect(),
    };
    if !r.selected {
        return Ok(view);
    }
    // The title as the lifecycle rule reads it: conferred on the decision, a term per passed
    // 复核, lapsed after its term, ended by a revocation.
    let titles = terms_of(r.decided_on, title.validity_years, closes, today);
    let current = titles.last().copied().ok_or_else(out_of_range)?;
    let until =
        lifecycle::term_end(current.effective_on, title.validity_years).ok_or_else(out_of_range)?;
    let revoked = closes.iter().find(|c| !c.passed);
    let (standing, label) = match lifecycle::standing(&titles) {
        Standing::Certified => ("in_force", "有效期内".to_string()),
        Standing::Revoked => (
            "revoked",
            format!(
                "已撤销（{}）",
                revoked.map_or("", |c| c.reason_name.as_str())
            ),
        ),
        _ if r.decided_on > today => ("none", "尚未生效".to_string()),
        _ => ("lapsed", "已过有效期".to_string()),
    };
    let owed = jiqun_rules::deadline::owed_reports(policy, cal, &titles, today)
        .map_err(|e| AppError::internal(format!("owed reports: {e:?}")))?;
    view.title = title.name.clone();
    view.valid_from = current.effective_on.to_string();
    view.valid_until = until.to_string();
    view.validity_zh = format!("{}至{}", date_zh(current.effective_on), date_zh(until));
    view.standing = standing.into();
    view.standing_label = label;
    if let Some(c) = revoked {
        view.revocation_reason = c.reason_key.clone();
        view.revocation_reason_name = c.reason_name.clone();
    }
    view.terms = titles
        .iter()
        .map(|t| term_view(t, title.validity_years, closes))
        .collect::<Result<_, _>>()?;
    view.owed = owed
        .iter()
        .map(|o| {
            let due = o.due.unwrap_or(o.nominal_due);
            let kind = super::reports::kind_key(o.period.kind);
            let rep = filed
                .iter()
                .filter(|x| x.period_kind == kind && x.period_year == o.period.year)
                // A draft is the filer's own: others see the period as not yet reported.
                .find(|x| jiqun_domain::access::report_in_reach(p.role, x.status));
            let route = jiqun_domain::report::Route::Direct;
            OwedView {
                period: o.period.to_string(),
                name: jiqun_rules::deadline::report_rule(policy, o.period.kind)
                    .name
                    .clone(),
                due: due.to_string(),
                due_zh: date_zh(due),
                overdue: rep.is_none_or(|x| x.revision == 0) && o.overdue_on(today),
                report_id: rep.map(|x| x.id),
                status: rep.map_or("not_started", |x| x.status.key()).into(),
                status_label: rep.map_or("未开始", |x| x.status.label_on(route)).into(),
            }
        })
        .collect();
    Ok(view)
}
