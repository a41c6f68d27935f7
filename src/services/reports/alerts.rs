//! Reminders before a report's due date (at the policy's `reminder_days_before`) and notices of
//! an overdue report: to the cluster and its city bureau on the first working day after the due
//! date, to the province `escalate_to_province_after_working_days` working days after it. Each
//! goes out once per cluster, period and kind, whichever server runs the tick: the tick takes one
//! lock, reads what was sent and records what it sends in the same transaction (and a unique
//! index refuses a second row).

use crate::store::id::ClusterId;
use std::collections::HashSet;

use jiqun_domain::access::Role;
use jiqun_domain::round::date_zh;
use jiqun_rules::deadline::{self, OwedReport};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set};
use time::{Date, OffsetDateTime};

use super::{ReportKey, key_of, kind_key, report_title, titles_of};
use crate::app::App;
use crate::audit::{Actor, Audit, Event};
use crate::error::AppError;
use crate::services::{calendar, notifications};
use crate::store::{
    self,
    entity::{cluster, report, report_alert},
};

/// What one alert is, and so its key in `report_alerts`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Alert {
    /// `days` before the due date.
    Remind(u32),
    /// Overdue: to the cluster and its city bureau.
    OverdueCity,
    /// Overdue for longer: to the province.
    OverdueProvince,
}

impl Alert {
    fn key(&self) -> String {
        match self {
            Alert::Remind(d) => format!("remind-{d}"),
            Alert::OverdueCity => "overdue-city".into(),
            Alert::OverdueProvince => "overdue-province".into(),
        }
    }
}

/// The alerts due on `today` for a report not yet submitted (`None` for one never started).
fn due_alerts(
    policy: &jiqun_rules::Policy,
    cal: &jiqun_rules::Calendar,
    owed: &OwedReport,
    report: Option<&report::Model>,
    today: Date,
) -> Result<Vec<Alert>, AppError> {
    // Submitted once is filed: a later return is the province's conversation with the cluster.
    if report.is_some_and(|r| r.revision > 0) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    // Before the date the policy's own date is good enough to time a reminder; the text says
    // that a holiday moves it.
    let remind_by = owed.due.unwrap_or(owed.nominal_due);
    if let Some(days) = deadline::report_reminder_due(policy, remind_by, today) {
        out.push(Alert::Remind(days));
    }
    if let Some(due) = owed.due.filter(|d| today > *d) {
        let e = deadline::report_escalation(policy, cal, due)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        if today >= e.city_on {
            out.push(Alert::OverdueCity);
        }
        if e.province_on.is_some_and(|d| today >= d) {
            out.push(Alert::OverdueProvince);
        }
    }
    Ok(out)
}

/// Sends the reminders and overdue notices due today, each once. Safe to run as often as
/// wanted and from several servers at once. Returns how many alerts were sent.
pub async fn remind_reports(app: &App) -> Result<u32, AppError> {
    let Ok((policy, _)) = super::policy_and_form(app) else {
        // A policy without a report form keeps no reports.
        return Ok(0);
    };
    let cal = calendar::load(app).await?;
    let today = calendar::today(app);
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    store::lock::serialise(&txn, "report-alerts").await?;
    let titles = titles_of(&txn, cluster_ids_with_titles(&txn).await?).await?;
    let clusters = store::load_by_ids::<cluster::Entity>(&txn, titles.keys().copied()).await?;
    let reports: std::collections::HashMap<ReportKey, report::Model> =
        store::load_where_in::<report::Entity>(
            &txn,
            report::Column::ClusterId,
            titles.keys().copied(),
        )
        .await?
        .into_iter()
        .map(|r| (key_of(&r), r))
        .collect();
    let sent_before: HashSet<(ClusterId, String, i32, String)> =
        store::load_where_in::<report_alert::Entity>(
            &txn,
            report_alert::Column::ClusterId,
            titles.keys().copied(),
        )
        .await?
        .into_iter()
        .map(|a| (a.cluster_id, a.period_kind, a.period_year, a.kind))
        .collect();
    let mut ids: Vec<ClusterId> = titles.keys().copied().collect();
    ids.sort_unstable();
    let mut sent = 0;
    for id in ids {
        let (Some(cl), Some(t)) = (clusters.get(&id), titles.get(&id)) else {
            continue;
        };
        let owed_list = match deadline::owed_reports(&policy, &cal, t, today) {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(cluster = id.get(), "report obligations: {e}");
                continue;
            }
        };
        for owed in owed_list {
            let kind = kind_key(owed.period.kind);
            let year = owed.period.year;
            let report = reports.get(&(id, super::PROVINCIAL.to_string(), kind.to_string(), year));
            for alert in due_alerts(&policy, &cal, &owed, report, today)? {
                let key = (id, kind.to_string(), year, alert.key());
                if sent_before.contains(&key) {
                    continue;
                }
                send(app, &txn, cl, &policy, &owed, report, &alert, now).await?;
                report_alert::ActiveModel {
                    cluster_id: Set(id),
                    period_kind: Set(kind.into()),
                    period_year: Set(year),
                    kind: Set(alert.key()),
                    sent_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                sent += 1;
            }
        }
    }
    txn.commit().await?;
    if sent > 0 {
        tracing::info!(sent, "report reminders and overdue notices sent");
    }
    Ok(sent)
}

async fn cluster_ids_with_titles(txn: &DatabaseTransaction) -> Result<Vec<ClusterId>, AppError> {
    use crate::store::entity::designation;
    use sea_orm::QuerySelect;
    Ok(designation::Entity::find()
        .select_only()
        .column(designation::Column::ClusterId)
        .distinct()
        .into_tuple::<ClusterId>()
        .all(txn)
        .await?)
}

#[allow(clippy::too_many_arguments)]
async fn send(
    app: &App,
    txn: &DatabaseTransaction,
    cl: &cluster::Model,
    policy: &jiqun_rules::Policy,
    owed: &OwedReport,
    report: Option<&report::Model>,
    alert: &Alert,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let title = report_title(policy, owed.period);
    let link = match report {
        Some(r) => format!("/reports/{}", r.id),
        None => "/reports".to_string(),
    };
    let due_text = match owed.due {
        Some(d) => date_zh(d),
        None => format!("{}（遇法定节假日顺延）", date_zh(owed.nominal_due)),
    };
    let summary = match alert {
        Alert::Remind(days) => {
            notifications::notify_org(
                txn,
                cl.org_id,
                &format!("报送提醒：{}{title}将于{due_text}截止", cl.name),
                &format!(
                    "距{title}报送截止不足{days}天（截止日期{due_text}）。请在“发展情况报告”中填写并提交，经市州工信局审阅后报省工信厅。"
                ),
                &link,
                now,
            )
            .await?;
            format!("{}：{title}报送提醒（截止前{days}天）", cl.name)
        }
        Alert::OverdueCity => {
            let body = format!(
                "{}的{title}应于{due_text}前报送，至今未提交，已逾期。请集群促进组织尽快报送，市州工信局督促落实。",
                cl.name
            );
            let head = format!("逾期未报：{}{title}", cl.name);
            notifications::notify_org(txn, cl.org_id, &head, &body, &link, now).await?;
            notifications::notify_city(
                txn,
                &cl.city_code.to_string(),
                &head,
                &body,
                "/reports",
                now,
            )
            .await?;
            format!("{}：{title}逾期未报，已告知集群和市州工信局", cl.name)
        }
        Alert::OverdueProvince => {
            let days = policy
                .reports
                .escalate_to_province_after_working_days
                .unwrap_or_default();
            notifications::notify_role(
                txn,
                Role::Province,
                &format!("逾期未报：{}{title}", cl.name),
                &format!(
                    "{}的{title}应于{due_text}前报送，逾期已满{days}个工作日仍未提交。",
                    cl.name
                ),
                "/reports",
                now,
            )
            .await?;
            format!("{}：{title}逾期{days}个工作日未报，已告知省工信厅", cl.name)
        }
    };
    let system = Actor {
        user_id: None,
        name: "系统定时任务（报告提醒）".into(),
        role: "system".into(),
        org: String::new(),
        client_addr: "local".into(),
    };
    Audit::by(app, system, now)
        .record(
            txn,
            Event {
                action: "report.alert",
                object_type: "cluster",
                object_id: cl.id.to_string(),
                summary,
                ..Default::default()
            },
        )
        .await?;
    Ok(())
}
