//! The steps of a report: start a draft for an obligation, save what was typed (kept even when
//! wrong), submit (the completeness check), the city bureau's opinion and forwarding, the
//! province's acceptance or return. Each writes in one transaction with its audit entry and its
//! line on the report's history, and tells the next party.

use crate::store::id::{ClusterId, ReportId};
use jiqun_domain::access::{Action, Resource, Role};
use jiqun_domain::report::{self as machine, Status, Step};
use jiqun_rules::deadline::ReportPeriod;
use jiqun_rules::report_form::{self, ReportData};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;

use super::{Programme, blocking_problems, data_of, kind_from_key, kind_key, load, owed_for};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::format_local;
use crate::error::AppError;
use crate::services::{at_most, authorize, notifications, required_text};
use crate::store::{
    self,
    entity::{cluster, report, report_event, report_version},
};

/// Opinions and comments are limited so the record stays printable.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// Loads a report its own organisation may change now.
async fn load_own(app: &App, p: &Principal, id: ReportId) -> Result<report::Model, AppError> {
    let m = load(&app.db, p, id).await?;
    authorize(p, Resource::Report, Action::Update)?;
    if m.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    Ok(m)
}

/// Starts (or returns the existing) report of a cluster for a period it owes under a
/// programme (`policy_id`: empty for the provincial one).
pub async fn start(
    app: &App,
    p: &Principal,
    cluster_id: ClusterId,
    policy_id: &str,
    period_kind: &str,
    period_year: i32,
) -> Result<super::ReportView, AppError> {
    let policy_id = policy_id.trim();
    authorize(p, Resource::Report, Action::Create)?;
    let kind = kind_from_key(period_kind.trim()).ok_or_else(|| {
        AppError::invalid(
            "period_kind",
            format!("报告类型“{period_kind}”无效，应为 annual（年度）或 semi_annual（半年度）"),
        )
    })?;
    let period = ReportPeriod {
        kind,
        year: period_year,
    };
    let cl = cluster::Entity::find_by_id(cluster_id)
        .one(&app.db)
        .await?
        .filter(|c| c.org_id == p.org.id)
        .ok_or(AppError::NotFound)?;
    let existing = || {
        report::Entity::find()
            .filter(report::Column::ClusterId.eq(cl.id))
            .filter(report::Column::PolicyId.eq(policy_id))
            .filter(report::Column::PeriodKind.eq(kind_key(kind)))
            .filter(report::Column::PeriodYear.eq(period_year))
    };
    if let Some(m) = existing().one(&app.db).await? {
        return super::view_of(app, p, m).await;
    }
    let prog = Programme::of(app, &app.db, cl.id, policy_id).await?;
    owed_for(app, &cl, &prog, period).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // Two clicks on "start" make one report (the unique index is the backstop).
    store::lock::serialise(
        &txn,
        &format!("report:{}:{policy_id}:{period_kind}:{period_year}", cl.id),
    )
    .await?;
    if let Some(m) = existing().one(&txn).await? {
        return super::view_of(app, p, m).await;
    }
    let m = report::ActiveModel {
        cluster_id: Set(cl.id),
        org_id: Set(cl.org_id),
        city_code: Set(cl.city_code),
        period_kind: Set(kind_key(kind).into()),
        period_year: Set(period_year),
        policy_id: Set(policy_id.to_string()),
        status: Set(Status::Draft),
        form: Set("{}".into()),
        revision: Set(0),
        city_opinion: Set(String::new()),
        province_comment: Set(String::new()),
        submitted_at: Set(None),
        decided_at: Set(None),
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
                action: "report.create",
                object_type: "report",
                object_id: m.id.to_string(),
                summary: format!("{}：开始填写{}", cl.name, prog.report_title(period)),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    super::view_of(app, p, m).await
}

/// Saves what was typed. Nothing typed is refused: a malformed number is kept and shown with
/// its problem; only fields the form does not define are dropped.
pub async fn save(
    app: &App,
    p: &Principal,
    id: ReportId,
    data: ReportData,
    expected_version: i32,
) -> Result<super::ReportView, AppError> {
    let m = load_own(app, p, id).await?;
    if !m.status.editable() {
        return Err(AppError::Conflict(format!(
            "报告当前状态为“{}”，不能修改",
            m.status.label()
        )));
    }
    let prog = Programme::of(app, &app.db, m.cluster_id, &m.policy_id).await?;
    let form = &prog.form;
    let data = data.within(form);
    let changed = report_form::diff(form, &data_of(&m), &data);
    let json = serde_json::to_string(&data).map_err(|e| AppError::internal(e.to_string()))?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    store::update_versioned(
        &txn,
        id,
        expected_version,
        report::ActiveModel {
            form: Set(json),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let summary = if changed.is_empty() {
        "保存报告草稿（无变化）".to_string()
    } else {
        let labels: Vec<&str> = changed.iter().take(20).map(|c| c.label.as_str()).collect();
        format!("保存报告草稿，修改：{}", labels.join("、"))
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "report.save",
                object_type: "report",
                object_id: id.to_string(),
                summary,
                ..Default::default()
            },
        )
        .await?;
    let after = reload(&txn, id).await?;
    txn.commit().await?;
    super::view_of(app, p, after).await
}

async fn reload<C: ConnectionTrait>(conn: &C, id: ReportId) -> Result<report::Model, AppError> {
    report::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// A step's line on the report's own history.
async fn record_event<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: ReportId,
    (from, to, step): (Status, Status, Step),
    comment: &str,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    report_event::ActiveModel {
        report_id: Set(id),
        from_status: Set(from),
        to_status: Set(to),
        action: Set(step.key().into()),
        actor_user_id: Set(p.user.id),
        actor_name: Set(format!("{}（{}）", p.user.display_name, p.org.name)),
        comment: Set(comment.into()),
        at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

fn refused(e: machine::Refusal) -> AppError {
    match e {
        machine::Refusal::WrongRole { .. } => AppError::Forbidden,
        machine::Refusal::WrongState { .. } => AppError::Conflict(e.to_string()),
    }
}

/// Submits (or resubmits after a return) once the report is complete; a repeated submit of the
/// same version answers with the submission already made.
pub async fn submit(
    app: &App,
    p: &Principal,
    id: ReportId,
    expected_version: i32,
) -> Result<super::ReportView, AppError> {
    let m = load_own(app, p, id).await?;
    if m.status == Status::Submitted && m.version == expected_version + 1 {
        return super::view_of(app, p, m).await;
    }
    let prog = Programme::of(app, &app.db, m.cluster_id, &m.policy_id).await?;
    let to = machine::apply_on(m.status, Step::Submit, p.role, prog.route).map_err(refused)?;
    let problems = blocking_problems(&prog.form, &data_of(&m));
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let period = super::period_of(&m).ok_or_else(|| AppError::internal("report period"))?;
    let title = prog.report_title(period);
    let cl_name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let now = app.clock.now();
    let revision = m.revision + 1;
    let txn = store::write_txn(&app.db).await?;
    store::update_versioned(
        &txn,
        id,
        expected_version,
        report::ActiveModel {
            status: Set(to),
            revision: Set(revision),
            submitted_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    report_version::ActiveModel {
        report_id: Set(id),
        revision: Set(revision),
        form: Set(m.form.clone()),
        submitted_by: Set(p.user.id),
        submitted_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let label = if revision > 1 {
        "重新提交"
    } else {
        "提交"
    };
    record_event(&txn, p, id, (m.status, to, Step::Submit), label, now).await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "report.submit",
                object_type: "report",
                object_id: id.to_string(),
                summary: format!(
                    "{cl_name}：{label}{title}（第{revision}版），状态：{} → {}",
                    prog.status_label(m.status),
                    prog.status_label(to)
                ),
                ..Default::default()
            },
        )
        .await?;
    match prog.route {
        machine::Route::ViaCity => {
            notifications::notify_city(
                &txn,
                &m.city_code.to_string(),
                &format!("{cl_name}{label}了{title}，请审阅并签署意见"),
                &format!("{}于{}{label}了{title}。", p.org.name, format_local(now)),
                &format!("/reports/{id}"),
                now,
            )
            .await?;
        }
        // No city step: the province receives it.
        machine::Route::Direct => {
            notifications::notify_role(
                &txn,
                Role::Province,
                &format!("{cl_name}{label}了{title}，请审核"),
                &format!("{}于{}{label}了{title}。", p.org.name, format_local(now)),
                &format!("/reports/{id}"),
                now,
            )
            .await?;
        }
    }
    let after = reload(&txn, id).await?;
    txn.commit().await?;
    super::view_of(app, p, after).await
}

/// A decision by the city bureau or the province, with its text.
pub struct Decision<'a> {
    pub step: Step,
    pub text: &'a str,
    pub expected_version: i32,
}

/// The city bureau forwards with its opinion (required); the province returns with comments
/// (required) or accepts (comments optional).
pub async fn decide(
    app: &App,
    p: &Principal,
    id: ReportId,
    d: Decision<'_>,
) -> Result<super::ReportView, AppError> {
    let m = load(&app.db, p, id).await?;
    authorize(p, Resource::Report, Action::Review)?;
    let prog = Programme::of(app, &app.db, m.cluster_id, &m.policy_id).await?;
    let to = machine::apply_on(m.status, d.step, p.role, prog.route).map_err(refused)?;
    let text = d.text.trim();
    let (field, label) = match d.step {
        Step::Forward => ("opinion", "市州工信局意见"),
        _ => ("comment", "审核意见"),
    };
    match d.step {
        Step::Forward => {
            required_text(field, text, "请填写市州工信局意见")?;
        }
        Step::Return => {
            required_text(field, text, "退回修改时请写明需要修改的内容")?;
        }
        _ => {}
    }
    at_most(field, text, label, MAX_COMMENT_CHARS)?;
    let period = super::period_of(&m).ok_or_else(|| AppError::internal("report period"))?;
    let title = prog.report_title(period);
    let cl_name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let mut changes = report::ActiveModel {
        status: Set(to),
        updated_at: Set(now),
        ..Default::default()
    };
    match d.step {
        Step::Forward => changes.city_opinion = Set(text.into()),
        Step::Return | Step::Accept => {
            changes.province_comment = Set(text.into());
            changes.decided_at = Set(Some(now));
        }
        Step::Submit => {}
    }
    store::update_versioned(&txn, id, d.expected_version, changes).await?;
    record_event(&txn, p, id, (m.status, to, d.step), text, now).await?;
    let action = match d.step {
        Step::Forward => "report.forward",
        Step::Return => "report.return",
        Step::Accept => "report.accept",
        Step::Submit => "report.submit",
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action,
                object_type: "report",
                object_id: id.to_string(),
                summary: format!(
                    "{cl_name}{title}：{}，状态：{} → {}",
                    d.step.label(),
                    prog.status_label(m.status),
                    prog.status_label(to)
                ),
                reason: text.into(),
            },
        )
        .await?;
    let link = format!("/reports/{id}");
    match d.step {
        Step::Forward => {
            notifications::notify_role(
                &txn,
                Role::Province,
                &format!("{}转报了{cl_name}{title}，请审核", p.org.name),
                &format!("市州工信局意见：{text}"),
                &link,
                now,
            )
            .await?;
        }
        Step::Return => {
            notifications::notify_org(
                &txn,
                m.org_id,
                &format!("{title}被省工信厅退回修改"),
                &format!("修改意见：{text}\n请修改后重新提交。"),
                &link,
                now,
            )
            .await?;
        }
        Step::Accept => {
            notifications::notify_org(
                &txn,
                m.org_id,
                &format!("{title}已被省工信厅接收"),
                &if text.is_empty() {
                    "省工信厅已接收贵集群报送的发展情况报告。".to_string()
                } else {
                    format!("审核意见：{text}")
                },
                &link,
                now,
            )
            .await?;
        }
        Step::Submit => {}
    }
    let after = reload(&txn, id).await?;
    txn.commit().await?;
    super::view_of(app, p, after).await
}
