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
use jiqun_domain::lifecycle::{self, Standing, Title};
use jiqun_domain::round::{Designation, date_zh};
use jiqun_rules::Policy;
use jiqun_rules::policy::{ProgrammeOutcome, TitleTerm};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use super::applications::{self, competition_of};
use super::{at_most, authorize, calendar};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::store::id::{ApplicationId, FieldCheckId};
use crate::store::{
    self,
    entity::{application, cluster, field_check, ministry_result},
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
    /// e.g. 上一年度集群发展情况
    pub name: String,
    /// YYYY-MM-DD
    pub due: String,
    pub due_zh: String,
    pub overdue: bool,
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
    /// in_force | lapsed | none
    pub standing: String,
    /// 有效期内 | 已过有效期 | 无
    pub standing_label: String,
    /// The yearly figures the cluster owes as of today, by due date.
    pub owed: Vec<OwedView>,
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
    let policy = super::competitions::parsed_policy(&c)?;
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
    let selected = match input.outcome.trim() {
        "selected" => Some(true),
        "not_selected" => Some(false),
        _ => {
            problems.add("outcome", "请选择部里的结果：认定或未认定");
            None
        }
    };
    let decided_on = match calendar::parse_date(&input.decided_on) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.add("decided_on", e.to_string());
            None
        }
    };
    let document = input.document_number.trim();
    if document.is_empty() {
        problems.add("document_number", "请填写部里公布结果的文号");
    }
    problems.into_result()?;
    at_most("document_number", document, "文号", MAX_DOCUMENT_CHARS)?;
    let (Some(selected), Some(decided_on)) = (selected, decided_on) else {
        return Err(AppError::NotFound);
    };
    let now = app.clock.now();
    if decided_on > crate::clock::local(now).date() {
        return Err(AppError::invalid(
            "decided_on",
            format!("结果公布日期{}晚于今天，请核对", date_zh(decided_on)),
        ));
    }
    let txn = store::write_txn(&app.db).await?;
    // Two recordings at once must not both find none.
    store::lock::serialise(&txn, &format!("ministry_result:{id}")).await?;
    let m = applications::load(&txn, p, id).await?;
    let c = competition_of(&txn, &m).await?;
    let policy = super::competitions::parsed_policy(&c)?;
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
    let cal = calendar::load(app).await?;
    view_of(&saved, &name, &policy, title, &cal, calendar::today(app))
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
    let policy = super::competitions::parsed_policy(&c)?;
    let title = ministry_policy(&policy)
        .ok_or_else(|| AppError::internal("a ministry result under a provincial policy"))?;
    let name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let cal = calendar::load(app).await?;
    view_of(&r, &name, &policy, title, &cal, calendar::today(app)).map(Some)
}

fn view_of(
    r: &ministry_result::Model,
    cluster_name: &str,
    policy: &Policy,
    title: &TitleTerm,
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
        owed: Vec::new(),
    };
    if !r.selected {
        return Ok(view);
    }
    // The title as the lifecycle rule reads it: conferred on the decision, lapsed after its term.
    let until = lifecycle::term_end(r.decided_on, title.validity_years).ok_or_else(out_of_range)?;
    let mut titles = vec![Title::new(Designation::Certified, r.decided_on)];
    lifecycle::lapse(&mut titles, title.validity_years, today);
    let (standing, label) = match lifecycle::standing(&titles) {
        Standing::Certified => ("in_force", "有效期内"),
        _ if r.decided_on > today => ("none", "尚未生效"),
        _ => ("lapsed", "已过有效期"),
    };
    let owed = jiqun_rules::deadline::owed_reports(policy, cal, &titles, today)
        .map_err(|e| AppError::internal(format!("owed reports: {e:?}")))?;
    view.title = title.name.clone();
    view.valid_from = r.decided_on.to_string();
    view.valid_until = until.to_string();
    view.validity_zh = format!("{}至{}", date_zh(r.decided_on), date_zh(until));
    view.standing = standing.into();
    view.standing_label = label.into();
    view.owed = owed
        .iter()
        .map(|o| {
            let due = o.due.unwrap_or(o.nominal_due);
            OwedView {
                period: o.period.to_string(),
                name: jiqun_rules::deadline::report_rule(policy, o.period.kind)
                    .name
                    .clone(),
                due: due.to_string(),
                due_zh: date_zh(due),
                overdue: o.overdue_on(today),
            }
        })
        .collect();
    Ok(view)
}
