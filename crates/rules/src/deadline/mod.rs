//! The one deadline engine: public-notice windows, report obligations, recheck dates
//! and reminders, as pure functions over a [`Policy`] and a [`Calendar`].
//!
//! A calendar that lacks a needed year is an error that propagates; no date is ever
//! guessed from a plain Monday–Friday rule.

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

use time::{Date, Duration, Month};

use crate::calendar::{Calendar, CalendarError};
pub use crate::policy::policy_in_force;
use crate::policy::{Policy, ReportRule};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("公示期不能为0个工作日")]
    ZeroNoticeDays,
    #[error("报送截止日“{0}”无效，应形如 01-31")]
    InvalidDue(String),
    #[error("日期超出可计算范围")]
    OutOfRange,
}

/// A public notice (公示) window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeWindow {
    /// The day the notice was published (may be a non-working day).
    pub published: Date,
    /// The first working day counted.
    pub first_day: Date,
    /// The last day of the window (a working day); objections are accepted through it.
    pub last_day: Date,
    pub working_days: u32,
}

impl NoticeWindow {
    /// Whether `date` falls within the notice, from publication through the last day.
    pub fn contains(&self, date: Date) -> bool {
        self.published <= date && date <= self.last_day
    }
}

/// The window of a notice of `working_days` working days published on `published`.
///
/// The publication day counts as the first day when it is a working day (matching the
/// MIIT and provincial notices, e.g. 2024-11-18 → 2024-11-22 for 5 days); a notice
/// published on a weekend or holiday starts on the next working day.
pub fn notice_window(
    cal: &Calendar,
    published: Date,
    working_days: u32,
) -> Result<NoticeWindow, DeadlineError> {
    if working_days == 0 {
        return Err(DeadlineError::ZeroNoticeDays);
    }
    let first_day = cal.next_working_day_on_or_after(published)?;
    let last_day = cal.add_working_days(first_day, working_days - 1)?;
    Ok(NoticeWindow {
        published,
        first_day,
        last_day,
        working_days,
    })
}

/// The public-notice window under `policy` (`public_notice.working_days`).
pub fn public_notice_window(
    policy: &Policy,
    cal: &Calendar,
    published: Date,
) -> Result<NoticeWindow, DeadlineError> {
    notice_window(cal, published, policy.public_notice.working_days)
}

/// Whether an objection made on `date` is within the notice published on `published`.
pub fn is_within_notice_window(
    policy: &Policy,
    cal: &Calendar,
    published: Date,
    date: Date,
) -> Result<bool, DeadlineError> {
    Ok(public_notice_window(policy, cal, published)?.contains(date))
}

/// The two report kinds of 第十三条.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportKind {
    /// A whole calendar year.
    Annual,
    /// The first half (01-01..06-30) of a year.
    SemiAnnual,
}

/// The period a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportPeriod {
    pub kind: ReportKind,
    pub year: i32,
}

impl ReportPeriod {
    pub fn annual(year: i32) -> Self {
        ReportPeriod {
            kind: ReportKind::Annual,
            year,
        }
    }

    pub fn semi_annual(year: i32) -> Self {
        ReportPeriod {
            kind: ReportKind::SemiAnnual,
            year,
        }
    }

    pub fn start(&self) -> Result<Date, DeadlineError> {
        ymd(self.year, Month::January, 1)
    }

    pub fn end(&self) -> Result<Date, DeadlineError> {
        match self.kind {
            ReportKind::Annual => ymd(self.year, Month::December, 31),
            ReportKind::SemiAnnual => ymd(self.year, Month::June, 30),
        }
    }
}

impl fmt::Display for ReportPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ReportKind::Annual => write!(f, "{}年度", self.year),
            ReportKind::SemiAnnual => write!(f, "{}年上半年", self.year),
        }
    }
}

fn ymd(year: i32, month: Month, day: u8) -> Result<Date, DeadlineError> {
    Date::from_calendar_date(year, month, day).map_err(|_| DeadlineError::OutOfRange)
}

/// The policy's rule (name, due date) for a report kind. A policy without semi-annual reports
/// never owes one (`report_kinds`); asked anyway, the annual rule answers.
pub fn report_rule(policy: &Policy, kind: ReportKind) -> &ReportRule {
    match kind {
        ReportKind::Annual => &policy.reports.annual,
        ReportKind::SemiAnnual => policy
            .reports
            .semi_annual
            .as_ref()
            .unwrap_or(&policy.reports.annual),
    }
}

/// The periods of `year` the policy asks reports for, in due order: the first half (when the
/// policy has semi-annual reports) and the whole year.
pub fn report_periods(policy: &Policy, year: i32) -> Vec<ReportPeriod> {
    let mut out = Vec::with_capacity(2);
    if policy.reports.semi_annual.is_some() {
        out.push(ReportPeriod::semi_annual(year));
    }
    out.push(ReportPeriod::annual(year));
    out
}

/// The due date as written in the policy: the first `MM-DD` after the period ends
/// (annual Y → Y+1-01-31, first half of Y → Y-07-31), before any roll-forward.
pub fn nominal_due_date(policy: &Policy, period: ReportPeriod) -> Result<Date, DeadlineError> {
    let rule = report_rule(policy, period.kind);
    let (month, day) = rule
        .due_month_day()
        .ok_or_else(|| DeadlineError::InvalidDue(rule.due.clone()))?;
    let end = period.end()?;
    let same_year = ymd(end.year(), month, day)?;
    if same_year > end {
        Ok(same_year)
    } else {
        ymd(end.year() + 1, month, day)
    }
}

/// The effective due date: the nominal one, moved to the next working day when it is
/// not one and the policy says `roll_forward_to_working_day`.
pub fn report_due_date(
    policy: &Policy,
    cal: &Calendar,
    period: ReportPeriod,
) -> Result<Date, DeadlineError> {
    let nominal = nominal_due_date(policy, period)?;
    if policy.reports.roll_forward_to_working_day {
        Ok(cal.next_working_day_on_or_after(nominal)?)
    } else {
        Ok(nominal)
    }
}

/// Where an unsubmitted report stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// The period is still running.
    Upcoming,
    /// The period has ended and the due date has not passed: submit now.
    Due,
    /// The due date has passed.
    Overdue,
}

impl ReportStatus {
    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::Upcoming => "未到报送期",
            ReportStatus::Due => "待报送",
            ReportStatus::Overdue => "已逾期",
        }
    }
}

/// One report a cluster owes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportObligation {
    pub period: ReportPeriod,
    pub nominal_due: Date,
    /// The effective due date; `None` only for an upcoming or due report whose due
    /// year's calendar is not yet imported (the status does not depend on it then).
    pub due: Option<Date>,
    pub status: ReportStatus,
}

/// The reports a cluster designated on `designated` has not submitted, as of `today`:
/// every period that has started, sorted by due date.
///
/// Obligations begin with the periods that start on or after the designation date
/// (a whole period under the title); a cluster designated mid-year files first for
/// the next year's first half. Callers stop asking once a title is revoked.
pub fn report_obligations(
    policy: &Policy,
    cal: &Calendar,
    designated: Date,
    submitted: &BTreeSet<ReportPeriod>,
    today: Date,
) -> Result<Vec<ReportObligation>, DeadlineError> {
    let mut out = Vec::new();
    for year in designated.year()..=today.year() {
        for period in report_periods(policy, year) {
            let start = period.start()?;
            if start < designated || start > today || submitted.contains(&period) {
                continue;
            }
            let nominal_due = nominal_due_date(policy, period)?;
            let due = match report_due_date(policy, cal, period) {
                Ok(d) => Some(d),
                // Before the nominal date the status is known without the calendar.
                Err(DeadlineError::Calendar(CalendarError::YearNotCovered(_)))
                    if today <= nominal_due =>
                {
                    None
                }
                Err(e) => return Err(e),
            };
            let status = if today <= period.end()? {
                ReportStatus::Upcoming
            } else if today <= due.unwrap_or(nominal_due) {
                ReportStatus::Due
            } else {
                ReportStatus::Overdue
            };
            out.push(ReportObligation {
                period,
                nominal_due,
                due,
                status,
            });
        }
    }
    out.sort_by_key(|o| (o.nominal_due, o.period));
    Ok(out)
}

/// `date` plus `years` years; 02-29 in a non-leap target year becomes 02-28
/// (民法典第二百零二条: no corresponding day → the last day of that month).
pub(crate) fn add_years(date: Date, years: u32) -> Option<Date> {
    let year = date.year().checked_add(i32::try_from(years).ok()?)?;
    date.replace_year(year)
        .ok()
        .or_else(|| Date::from_calendar_date(year, date.month(), 28).ok())
}

/// The `n`-th recheck (复核) date (n ≥ 1): `n × cycle_years` after designation.
pub fn recheck_due(policy: &Policy, designated: Date, n: u32) -> Result<Date, DeadlineError> {
    let years = policy
        .recheck
        .cycle_years
        .checked_mul(n)
        .ok_or(DeadlineError::OutOfRange)?;
    add_years(designated, years).ok_or(DeadlineError::OutOfRange)
}

/// All recheck dates after `designated` up to and including `until`.
pub fn recheck_due_dates(
    policy: &Policy,
    designated: Date,
    until: Date,
) -> Result<Vec<Date>, DeadlineError> {
    let mut out = Vec::new();
    // cycle_years ≥ 1 in a validated policy, so the dates strictly increase.
    for n in 1.. {
        let due = recheck_due(policy, designated, n)?;
        if due > until || policy.recheck.cycle_years == 0 {
            break;
        }
        out.push(due);
    }
    Ok(out)
}

/// The first recheck date on or after `today`.
pub fn next_recheck_due(
    policy: &Policy,
    designated: Date,
    today: Date,
) -> Result<Date, DeadlineError> {
    let mut n = 1;
    loop {
        let due = recheck_due(policy, designated, n)?;
        if due >= today || policy.recheck.cycle_years == 0 {
            return Ok(due);
        }
        n += 1;
    }
}

/// The reminder due now before an instant deadline (e.g. 2026-12-31 17:30): the smallest of
/// `days_before` whose window `deadline − days ≤ now < deadline` contains `now`; none once the
/// deadline has passed or while it is further away than every window.
pub fn reminder_due(
    deadline: time::OffsetDateTime,
    now: time::OffsetDateTime,
    days_before: &[u32],
) -> Option<u32> {
    if now >= deadline {
        return None;
    }
    let left = deadline - now;
    days_before
        .iter()
        .copied()
        .filter(|d| left <= Duration::days(i64::from(*d)))
        .min()
}

/// Reminder dates for `due`: `days_before` calendar days earlier, ascending, deduplicated.
pub fn reminder_dates(due: Date, days_before: &[u32]) -> Vec<Date> {
    let set: BTreeSet<Date> = days_before
        .iter()
        .filter_map(|d| due.checked_sub(Duration::days(i64::from(*d))))
        .collect();
    set.into_iter().collect()
}

/// Reminder dates for a report due on `due`, per `reports.reminder_days_before`.
pub fn report_reminder_dates(policy: &Policy, due: Date) -> Vec<Date> {
    reminder_dates(due, &policy.reports.reminder_days_before)
}

/// One report a titled cluster owes (第十三条), with its due dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwedReport {
    pub period: ReportPeriod,
    /// The policy's date (e.g. 01-31 of the next year).
    pub nominal_due: Date,
    /// The effective due date; `None` while the due year's calendar is not imported.
    pub due: Option<Date>,
}

impl OwedReport {
    /// Whether the report is overdue on `today` (unknown due dates are never overdue: the
    /// calendar is missing only for a due date that lies ahead of the latest imported year).
    pub fn overdue_on(&self, today: Date) -> bool {
        self.due.is_some_and(|d| today > d)
    }
}

/// The reports a cluster holding `titles` owes, as of `today` (第十三条): an annual report for
/// each year in which a title was in force on 31 December, and a semi-annual report for each
/// year in which one was in force on 30 June, for every such day on or before `today`. Every
/// title counts, 培育对象 included (第十三条 "参照管理"); a superseded or revoked title counts up
/// to the day before it closed. Sorted by due date; each period once.
pub fn owed_reports(
    policy: &Policy,
    cal: &Calendar,
    titles: &[jiqun_domain::lifecycle::Title],
    today: Date,
) -> Result<Vec<OwedReport>, DeadlineError> {
    let Some(first) = titles.iter().map(|t| t.effective_on).min() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for year in first.year()..=today.year() {
        for period in report_periods(policy, year) {
            let held_on = period.end()?;
            if held_on > today || !titles.iter().any(|t| t.live_on(held_on)) {
                continue;
            }
            let nominal_due = nominal_due_date(policy, period)?;
            let due = match report_due_date(policy, cal, period) {
                Ok(d) => Some(d),
                // The due year's schedule is not imported: the due date is unknown, never
                // guessed, so the report is not called overdue until it is.
                Err(DeadlineError::Calendar(CalendarError::YearNotCovered(_))) => None,
                Err(e) => return Err(e),
            };
            out.push(OwedReport {
                period,
                nominal_due,
                due,
            });
        }
    }
    out.sort_by_key(|o| (o.nominal_due, o.period));
    Ok(out)
}

/// When an overdue report is escalated: the cluster and its city bureau are told on the first
/// working day after the due date, the province `reports.escalate_to_province_after_working_days`
/// working days after it (`None` when the policy sets no such number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    pub city_on: Date,
    pub province_on: Option<Date>,
}

pub fn report_escalation(
    policy: &Policy,
    cal: &Calendar,
    due: Date,
) -> Result<Escalation, DeadlineError> {
    let city_on = cal.add_working_days(due, 1)?;
    let province_on = match policy.reports.escalate_to_province_after_working_days {
        Some(n) => Some(cal.add_working_days(due, n.max(1))?),
        None => None,
    };
    Ok(Escalation {
        city_on,
        province_on,
    })
}

/// The reminder due on `today` before a report due on `due`: the smallest of the policy's
/// `reminder_days_before` whose window (`due − days ..= due`) contains `today`; none on or after
/// the due date's end or while every window is still ahead.
pub fn report_reminder_due(policy: &Policy, due: Date, today: Date) -> Option<u32> {
    if today > due {
        return None;
    }
    let left = (due - today).whole_days();
    policy
        .reports
        .reminder_days_before
        .iter()
        .copied()
        .filter(|d| left <= i64::from(*d))
        .min()
}
/// The 陈述申辩 window of a revocation 告知书 sent on `sent_on`: `revocation.response_working_days`
/// working days, counted like a notice (the sending day is the first when it is a working day).
/// None when the policy sets no period.
pub fn revocation_response_window(
    policy: &Policy,
    cal: &Calendar,
    sent_on: Date,
) -> Result<Option<NoticeWindow>, DeadlineError> {
    policy
        .revocation
        .response_working_days
        .map(|days| notice_window(cal, sent_on, days))
        .transpose()
}

/// The 复核 date a title conferred on `designated` falls due in `year` (第十四条: every
/// `recheck.cycle_years` years from designation), or None when `year` holds none.
pub fn recheck_due_in_year(
    policy: &Policy,
    designated: Date,
    year: i32,
) -> Result<Option<Date>, DeadlineError> {
    let cycle = i32::try_from(policy.recheck.cycle_years).map_err(|_| DeadlineError::OutOfRange)?;
    let after = year - designated.year();
    if cycle == 0 || after <= 0 || after % cycle != 0 {
        return Ok(None);
    }
    let n = u32::try_from(after / cycle).map_err(|_| DeadlineError::OutOfRange)?;
    recheck_due(policy, designated, n).map(Some)
}

/// The last day a finalist may submit its 决赛申报材料 when the 决赛 opens on `opened_on`: the
/// policy's `cultivation_period.materials_working_days` working days, counted like a notice (the
/// opening day is the first when it is a working day).
pub fn final_materials_due(
    period: &crate::policy::CultivationPeriod,
    cal: &Calendar,
    opened_on: Date,
) -> Result<Date, DeadlineError> {
    Ok(notice_window(cal, opened_on, period.materials_working_days())?.last_day)
}
