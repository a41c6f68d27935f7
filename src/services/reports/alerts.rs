//! Reminders before a report's due date (at the policy's `reminder_days_before`) and notices of
//! an overdue report: to the cluster (and, on the route through the city, its city bureau) on the
//! first working day after the due date, to the province
//! `escalate_to_province_after_working_days` working days after it — under each programme's own
//! policy: the provincial titles' reports and the returns of a ministry's title
//! (`ministry::holdings`). Each goes out once per cluster, programme, period and kind, whichever
//! server runs the tick: the tick takes one lock, reads what was sent and records what it sends in
//! the same transaction (and a unique index refuses a second row).

use crate::store::id::ClusterId;
use std::collections::HashSet;

use jiqun_domain::access::Role;
use jiqun_domain::lifecycle::Title;
use jiqun_domain::report::Route;
use jiqun_domain::round::date_zh;
use jiqun_rules::deadline::{self, OwedReport};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set};
use time::{Date, OffsetDateTime};

use super::{Programme, ReportKey, key_of, kind_key, titles_of};
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
    let cal = calendar::load(app).await?;
    let today = calendar::today(app);
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    store::lock::serialise(&txn, "report-alerts").await?;
    // What is owed under which programme: the provincial titles, then each ministry's title.
    let mut programmes: Vec<Programme> = Vec::new();
    let mut owing: Vec<(usize, ClusterId, Vec<Title>)> = Vec::new();
    match Programme::provincial(app) {
        Ok(prog) => {
            programmes.push(prog);
            let titles = titles_of(&txn, cluster_ids_with_titles(&txn).await?).await?;
            owing.extend(titles.into_iter().map(|(id, t)| (0, id, t)));
        }
        // A provincial policy without a report form keeps no provincial reports.
        Err(AppError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    for h in crate::services::ministry::holdings(&txn, None, today).await? {
        // A programme's text without a return form owes none.
        let Ok(prog) = Programme::of_holding(&h) else {
            continue;
        };
        let i = match programmes.iter().position(|p| p.key == prog.key) {
            Some(i) => i,
            None => {
                programmes.push(prog);
                programmes.len() - 1
            }
        };
        owing.push((i, h.cluster_id, h.titles));
    }
    owing.sort_by_key(|(i, id, _)| (*id, *i));
    let ids: HashSet<ClusterId> = owing.iter().map(|(_, id, _)| *id).collect();
    let clusters = store::load_by_ids::<cluster::Entity>(&txn, ids.iter().copied()).await?;
    let reports: std::collections::HashMap<ReportKey, report::Model> =
        store::load_where_in::<report::Entity>(
            &txn,
            report::Column::ClusterId,
            ids.iter().copied(),
        )
        .await?
        .into_iter()
        .map(|r| (key_of(&r), r))
        .collect();
    let sent_before: HashSet<(ClusterId, String, String, i32, String)> =
        store::load_where_in::<report_alert::Entity>(
            &txn,
            report_alert::Column::ClusterId,
            ids.iter().copied(),
        )
        .await?
        .into_iter()
        .map(|a| {
            (
                a.cluster_id,
                a.policy_id,
                a.period_kind,
                a.period_year,
                a.kind,
            )
        })
        .collect();
    let mut sent = 0;
    for (i, id, titles) in &owing {
        let prog = &programmes[*i];
        let Some(cl) = clusters.get(id) else {
            continue;
        };
        let owed_list = match deadline::owed_reports(&prog.policy, &cal, titles, today) {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(cluster = id.get(), programme = %prog.key, "report obligations: {e}");
                continue;
            }
        };
        for owed in owed_list {
            let kind = kind_key(owed.period.kind);
            let year = owed.period.year;
            let report = reports.get(&(*id, prog.key.clone(), kind.to_string(), year));
            // A year whose calendar is not imported cannot time an overdue notice: that one
            // waits (the workbench asks for the calendar), the others still go out.
            let alerts = match due_alerts(&prog.policy, &cal, &owed, report, today) {
                Ok(alerts) => alerts,
                Err(e) => {
                    tracing::warn!(cluster = id.get(), programme = %prog.key, "report alerts: {e}");
                    continue;
                }
            };
            for alert in alerts {
                let key = (*id, prog.key.clone(), kind.to_string(), year, alert.key());
                if sent_before.contains(&key) {
                    continue;
                }
                send(app, &txn, cl, prog, &owed, report, &alert, now).await?;
                report_alert::ActiveModel {
                    cluster_id: Set(*id),
                    policy_id: Set(prog.key.clone()),
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
    prog: &Programme,
    owed: &OwedReport,
    report: Option<&report::Model>,
    alert: &Alert,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let title = prog.report_title(owed.period);
    let via_city = prog.route == Route::ViaCity;
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
                    "距{title}报送截止不足{days}天（截止日期{due_text}）。请在“发展情况报告”中填写并提交，{}。",
                    if via_city {
                        "经市州工信局审阅后报省工信厅"
                    } else {
                        "直接报省工信厅"
                    }
                ),
                &link,
                now,
            )
            .await?;
            format!("{}：{title}报送提醒（截止前{days}天）", cl.name)
        }
        Alert::OverdueCity => {
            let head = format!("逾期未报：{}{title}", cl.name);
            if via_city {
                let body = format!(
                    "{}的{title}应于{due_text}前报送，至今未提交，已逾期。请集群促进组织尽快报送，市州工信局督促落实。",
                    cl.name
                );
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
            } else {
                // No city step on this route: the cluster alone is told, the province later.
                let body = format!(
                    "{}的{title}应于{due_text}前报送，至今未提交，已逾期。请集群促进组织尽快报送。",
                    cl.name
                );
                notifications::notify_org(txn, cl.org_id, &head, &body, &link, now).await?;
                format!("{}：{title}逾期未报，已告知集群", cl.name)
            }
        }
        Alert::OverdueProvince => {
            let days = prog
                .policy
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
