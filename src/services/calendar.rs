//! The working-day calendar the application uses: the schedule shipped with the binary
//! (`jiqun_rules::Calendar::builtin`, 2021–2026) merged with the years an administrator
//! imported into the `calendar_years` table. Imports are validated by the rules crate, stored
//! one row per year (replacing an earlier import of that year) and audited in the same
//! transaction.

use jiqun_domain::access::{Action, Resource};
use jiqun_rules::calendar::YearSchedule;
use jiqun_rules::{Calendar, CalendarError, DayKind};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use time::Date;

use super::authorize;
use crate::app::{App, Principal};
use crate::audit::{Actor, Audit, Event};
use crate::error::AppError;
use crate::store::{self, entity::calendar_year};

/// The form field (and API field) that carries the calendar text.
pub const SOURCE_FIELD: &str = "source";

/// The largest calendar text accepted for import (a year's schedule is well under 2 KB).
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

/// The format example shown on the calendar page (illustrative dates, not an official schedule).
pub const SAMPLE_IMPORT: &str = r#"# 2027年部分节假日安排（示例：日期须以国务院办公厅正式通知为准）
[2027]
holidays = [
  { name = "元旦", from = 2027-01-01, to = 2027-01-03 },
  { name = "春节", from = 2027-02-05, to = 2027-02-13 },
  { name = "国庆节", from = 2027-10-01, to = 2027-10-07 },
]
workdays = [
  { date = 2027-01-31, for = "春节" },
  { date = 2027-02-20, for = "春节" },
  { date = 2027-10-09, for = "国庆节" },
]
"#;

/// A date typed by a person that is not a valid `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("日期“{0}”无效，应为YYYY-MM-DD（例如2026-10-08）")]
pub struct BadDate(pub String);

/// Parses a `YYYY-MM-DD` date strictly (four-digit year, two-digit month and day, a real day).
pub fn parse_date(text: &str) -> Result<Date, BadDate> {
    let t = text.trim();
    let bad = || BadDate(t.to_string());
    let b = t.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(bad());
    }
    let year: i32 = t[0..4].parse().map_err(|_| bad())?;
    let month: u8 = t[5..7].parse().map_err(|_| bad())?;
    let day: u8 = t[8..10].parse().map_err(|_| bad())?;
    let month = time::Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

/// A count of working days typed by a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("工作日数“{0}”无效，应为0或正整数")]
pub struct BadCount(pub String);

pub fn parse_count(text: &str) -> Result<u32, BadCount> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
        return Err(BadCount(t.to_string()));
    }
    t.parse().map_err(|_| BadCount(t.to_string()))
}

/// Why a day is or is not a working day, for people: "国庆节", "调休上班，补春节", "周末", "工作日".
pub fn reason(kind: &DayKind) -> String {
    match kind {
        DayKind::Workday => "工作日".into(),
        DayKind::Weekend => "周末".into(),
        DayKind::Holiday(name) => name.clone(),
        DayKind::AdjustedWorkday { makes_up_for } => format!("调休上班，补{makes_up_for}"),
    }
}

/// The answer to "is this a working day?": "是（工作日）", "否（国庆节）".
pub fn answer(kind: &DayKind) -> String {
    let yes_no = if kind.is_working() { "是" } else { "否" };
    format!("{yes_no}（{}）", reason(kind))
}

/// A machine-readable key for the kind of day (JSON API).
pub fn kind_key(kind: &DayKind) -> &'static str {
    match kind {
        DayKind::Workday => "workday",
        DayKind::Weekend => "weekend",
        DayKind::Holiday(_) => "holiday",
        DayKind::AdjustedWorkday { .. } => "adjusted_workday",
    }
}

/// 星期一 … 星期日.
pub fn weekday_label(date: Date) -> &'static str {
    match date.weekday() {
        time::Weekday::Monday => "星期一",
        time::Weekday::Tuesday => "星期二",
        time::Weekday::Wednesday => "星期三",
        time::Weekday::Thursday => "星期四",
        time::Weekday::Friday => "星期五",
        time::Weekday::Saturday => "星期六",
        time::Weekday::Sunday => "星期日",
    }
}

/// A calendar error as a field problem of a form or request.
pub fn calendar_problem(field: &str, e: &CalendarError) -> AppError {
    AppError::invalid(field, e.to_string())
}

/// The years the binary ships.
pub fn builtin_years() -> Vec<i32> {
    Calendar::builtin().covered_years()
}

/// The calendar the application uses: built-in years, overlaid by imported years.
pub async fn load(app: &App) -> Result<Calendar, AppError> {
    let rows = calendar_year::Entity::find()
        .order_by_asc(calendar_year::Column::Year)
        .all(&app.db)
        .await?;
    let mut calendar = Calendar::builtin();
    for row in rows {
        calendar.merge(stored_year(&row)?);
    }
    Ok(calendar)
}

/// One stored row as a calendar holding exactly that row's year. Rows are validated before they
/// are stored, so a failure here means the table was changed behind the application's back.
fn stored_year(row: &calendar_year::Model) -> Result<Calendar, AppError> {
    let parsed = Calendar::parse(&row.source).map_err(|e| {
        AppError::internal(format!(
            "calendar_years row {} does not parse: {e}",
            row.year
        ))
    })?;
    if parsed.covered_years() != [row.year] {
        return Err(AppError::internal(format!(
            "calendar_years row {} holds years {:?}",
            row.year,
            parsed.covered_years()
        )));
    }
    Ok(parsed)
}

/// Who imported a year, and when (Beijing time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    pub imported_by: String,
    pub imported_at: String,
}

/// One covered year, for the calendar page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveredYear {
    pub year: i32,
    /// The binary ships a schedule for this year.
    pub builtin: bool,
    /// Set when an administrator imported this year (replacing the built-in one if `builtin`).
    pub imported: Option<ImportRecord>,
    pub holidays: usize,
    pub adjusted_workdays: usize,
}

/// What the calendar page shows.
pub struct Overview {
    pub calendar: Calendar,
    pub years: Vec<CoveredYear>,
    pub today: Date,
    /// Years that should be covered by now but are not: this year, and next year.
    pub missing: Vec<i32>,
    pub can_import: bool,
}

/// This year and next year, when not covered.
pub fn missing_years(calendar: &Calendar, today: Date) -> Vec<i32> {
    let covered = calendar.covered_years();
    [today.year(), today.year() + 1]
        .into_iter()
        .filter(|y| !covered.contains(y))
        .collect()
}

/// Today in Beijing, by the application clock.
pub fn today(app: &App) -> Date {
    crate::clock::local(app.clock.now()).date()
}

pub async fn overview(app: &App, p: &Principal) -> Result<Overview, AppError> {
    authorize(p, Resource::Calendar, Action::View)?;
    let rows = calendar_year::Entity::find()
        .order_by_asc(calendar_year::Column::Year)
        .all(&app.db)
        .await?;
    let builtin = builtin_years();
    let mut calendar = Calendar::builtin();
    for row in &rows {
        calendar.merge(stored_year(row)?);
    }
    let years = calendar
        .covered_years()
        .into_iter()
        .map(|year| {
            let schedule = calendar.year(year);
            CoveredYear {
                year,
                builtin: builtin.contains(&year),
                imported: rows.iter().find(|r| r.year == year).map(|r| ImportRecord {
                    imported_by: r.imported_by.clone(),
                    imported_at: crate::clock::format_local(r.imported_at),
                }),
                holidays: schedule.map_or(0, |s| s.holidays.len()),
                adjusted_workdays: schedule.map_or(0, |s| s.adjusted_workdays.len()),
            }
        })
        .collect();
    let today = today(app);
    Ok(Overview {
        missing: missing_years(&calendar, today),
        calendar,
        years,
        today,
        can_import: authorize(p, Resource::Calendar, Action::Create).is_ok(),
    })
}

/// One day, as the JSON API reports it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DayView {
    /// YYYY-MM-DD
    pub date: String,
    pub working: bool,
    /// 工作日 | 周末 | the holiday's name | 调休上班，补…
    pub reason: String,
    /// workday | weekend | holiday | adjusted_workday
    pub kind: String,
}

/// Whether a date (as typed) is a working day, for a signed-in user.
pub async fn day(app: &App, p: &Principal, text: &str) -> Result<DayView, AppError> {
    authorize(p, Resource::Calendar, Action::View)?;
    let date = parse_date(text).map_err(|e| AppError::invalid("date", e.to_string()))?;
    let kind = load(app)
        .await?
        .is_working_day(date)
        .map_err(|e| calendar_problem("date", &e))?;
    Ok(DayView {
        date: date.to_string(),
        working: kind.is_working(),
        reason: reason(&kind),
        kind: kind_key(&kind).into(),
    })
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub years: Vec<i32>,
    /// Years that replaced an earlier import.
    pub replaced_imports: Vec<i32>,
    /// Years that now override the schedule shipped with the binary.
    pub replaced_builtin: Vec<i32>,
}

impl Imported {
    /// "2027年" or "2027年、2028年".
    pub fn years_label(&self) -> String {
        years_label(&self.years)
    }
}

pub fn years_label(years: &[i32]) -> String {
    years
        .iter()
        .map(|y| format!("{y}年"))
        .collect::<Vec<_>>()
        .join("、")
}

/// Checks a calendar file for import: it must parse, hold at least one year, and may touch a
/// year the binary ships only when `replace_builtin` is set. Pure; returns the parsed calendar.
pub fn validate_import(
    text: &str,
    builtin: &[i32],
    replace_builtin: bool,
) -> Result<Calendar, AppError> {
    if text.trim().is_empty() {
        return Err(AppError::invalid(
            SOURCE_FIELD,
            "请粘贴一个年度的节假日安排（TOML格式，见下方示例）",
        ));
    }
    if text.len() > MAX_SOURCE_BYTES {
        return Err(AppError::invalid(
            SOURCE_FIELD,
            format!(
                "内容过长（{}KB），节假日安排文件不应超过{}KB",
                text.len() / 1024,
                MAX_SOURCE_BYTES / 1024
            ),
        ));
    }
    let calendar = Calendar::parse(text).map_err(|e| calendar_problem(SOURCE_FIELD, &e))?;
    let years = calendar.covered_years();
    if years.is_empty() {
        return Err(AppError::invalid(
            SOURCE_FIELD,
            "文件中没有任何年度安排，应以年份表开头，例如 [2027]",
        ));
    }
    let shipped: Vec<i32> = years
        .iter()
        .copied()
        .filter(|y| builtin.contains(y))
        .collect();
    if !shipped.is_empty() && !replace_builtin {
        return Err(AppError::invalid(
            SOURCE_FIELD,
            format!(
                "{}的节假日安排已随系统内置（依据国务院办公厅发布的通知，并经测试核对），无需导入。\
                 误导入会改变已有公示期和报告截止日的计算结果；只有在国务院办公厅调整了该年安排时才应替换，\
                 此时请勾选“替换内置年份”（命令行加 --replace-builtin）后重新导入",
                years_label(&shipped)
            ),
        ));
    }
    Ok(calendar)
}

/// One year's schedule written back in the `cn-workdays.toml` format; this is what a row stores,
/// so each row is a valid one-year calendar file by itself.
pub fn render_year(year: i32, schedule: &YearSchedule) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!("[{year}]\nholidays = [\n");
    for h in &schedule.holidays {
        out.push_str(&format!(
            "  {{ name = {}, from = {}, to = {} }},\n",
            quote(&h.name),
            h.from,
            h.to
        ));
    }
    out.push_str("]\n");
    if !schedule.adjusted_workdays.is_empty() {
        out.push_str("workdays = [\n");
        for w in &schedule.adjusted_workdays {
            out.push_str(&format!(
                "  {{ date = {}, for = {} }},\n",
                w.date,
                quote(&w.makes_up_for)
            ));
        }
        out.push_str("]\n");
    }
    out
}

/// Imports a calendar file for an administrator signed in to the web or the API.
pub async fn import(
    app: &App,
    p: &Principal,
    text: &str,
    replace_builtin: bool,
) -> Result<Imported, AppError> {
    authorize(p, Resource::Calendar, Action::Create)?;
    import_as(app, &p.actor(), text, replace_builtin).await
}

/// Imports a calendar file as `actor` (the command line calls this directly: whoever runs the
/// server may import). Each year of the file replaces an earlier import of that year; one audit
/// entry records the whole import, in the same transaction.
pub async fn import_as(
    app: &App,
    actor: &Actor,
    text: &str,
    replace_builtin: bool,
) -> Result<Imported, AppError> {
    let builtin = builtin_years();
    let calendar = validate_import(text, &builtin, replace_builtin)?;
    let years = calendar.covered_years();
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let mut replaced_imports = Vec::new();
    let mut details = Vec::new();
    for &year in &years {
        let schedule = calendar
            .year(year)
            .ok_or_else(|| AppError::internal(format!("covered year {year} has no schedule")))?;
        let source = render_year(year, schedule);
        let row = calendar_year::ActiveModel {
            year: Set(year),
            source: Set(source),
            imported_by: Set(actor.name.clone()),
            imported_at: Set(now),
        };
        let earlier = calendar_year::Entity::find_by_id(year).one(&txn).await?;
        if earlier.is_some() {
            row.update(&txn).await?;
            replaced_imports.push(year);
        } else {
            row.insert(&txn).await?;
        }
        let names: Vec<String> = schedule
            .holidays
            .iter()
            .map(|h| format!("{}{}至{}", h.name, h.from, h.to))
            .collect();
        let workdays: Vec<String> = schedule
            .adjusted_workdays
            .iter()
            .map(|w| w.date.to_string())
            .collect();
        details.push(format!(
            "{year}年：假期{}段（{}）；调休上班{}天（{}）{}{}",
            schedule.holidays.len(),
            names.join("，"),
            schedule.adjusted_workdays.len(),
            if workdays.is_empty() {
                "无".to_string()
            } else {
                workdays.join("，")
            },
            if earlier.is_some() {
                "；替换此前导入的版本"
            } else {
                ""
            },
            if builtin.contains(&year) {
                "；覆盖系统内置安排"
            } else {
                ""
            },
        ));
    }
    let replaced_builtin: Vec<i32> = years
        .iter()
        .copied()
        .filter(|y| builtin.contains(y))
        .collect();
    Audit::by(app, actor.clone(), now)
        .record(
            &txn,
            Event {
                action: "calendar.import",
                object_type: "calendar",
                object_id: years
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                summary: format!(
                    "导入{}节假日安排\n{}",
                    years_label(&years),
                    details.join("\n")
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(Imported {
        years,
        replaced_imports,
        replaced_builtin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const SAMPLE_2027: &str = r#"
[2027]
holidays = [
  { name = "元旦", from = 2027-01-01, to = 2027-01-03 },
  { name = "国庆节", from = 2027-10-01, to = 2027-10-07 },
]
workdays = [
  { date = 2027-09-26, for = "国庆节" },
]
"#;

    #[test]
    fn dates_are_parsed_strictly() {
        assert_eq!(parse_date("2026-10-01"), Ok(date!(2026 - 10 - 01)));
        assert_eq!(parse_date(" 2026-10-01 "), Ok(date!(2026 - 10 - 01)));
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-05",
            "20261001",
            "2026/10/01",
            "",
            "+202-10-01",
            "二〇二六-10-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_date("2026-02-30").unwrap_err().to_string(),
            "日期“2026-02-30”无效，应为YYYY-MM-DD（例如2026-10-08）"
        );
    }

    #[test]
    fn counts_are_non_negative_integers() {
        assert_eq!(parse_count("0"), Ok(0));
        assert_eq!(parse_count(" 5 "), Ok(5));
        for bad in ["-1", "1.5", "", "五", "99999999999"] {
            assert!(parse_count(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_name_the_reason() {
        let cal = Calendar::builtin();
        let ask = |d| answer(&cal.is_working_day(d).unwrap());
        assert_eq!(ask(date!(2026 - 10 - 01)), "否（国庆节）");
        assert_eq!(ask(date!(2026 - 02 - 14)), "是（调休上班，补春节）");
        assert_eq!(ask(date!(2026 - 11 - 28)), "否（周末）");
        assert_eq!(ask(date!(2026 - 11 - 27)), "是（工作日）");
        assert_eq!(weekday_label(date!(2026 - 11 - 27)), "星期五");
    }

    #[test]
    fn a_new_year_is_accepted() {
        let cal = validate_import(SAMPLE_2027, &builtin_years(), false).unwrap();
        assert_eq!(cal.covered_years(), vec![2027]);
    }

    #[test]
    fn the_sample_on_the_page_is_valid() {
        let cal = validate_import(SAMPLE_IMPORT, &builtin_years(), false).unwrap();
        assert_eq!(cal.covered_years(), vec![2027]);
        assert_eq!(
            answer(&cal.is_working_day(date!(2027 - 02 - 20)).unwrap()),
            "是（调休上班，补春节）"
        );
    }

    #[test]
    fn oversized_text_is_refused() {
        let text = format!("{SAMPLE_2027}\n#{}", "x".repeat(MAX_SOURCE_BYTES));
        let err = validate_import(&text, &[], false).unwrap_err();
        assert!(err.fields()[0].message.contains("过长"));
    }

    #[test]
    fn a_shipped_year_needs_the_replace_flag() {
        let text =
            "[2026]\nholidays = [ { name = \"元旦\", from = 2026-01-01, to = 2026-01-03 } ]\n";
        let err = validate_import(text, &builtin_years(), false).unwrap_err();
        let msg = &err.fields()[0].message;
        assert!(
            msg.contains("2026年") && msg.contains("--replace-builtin"),
            "{msg}"
        );
        assert!(validate_import(text, &builtin_years(), true).is_ok());
    }

    #[test]
    fn empty_and_malformed_files_are_refused_against_the_source_field() {
        for text in ["", "  \n", "# only a comment\n"] {
            let err = validate_import(text, &[], false).unwrap_err();
            assert_eq!(err.fields()[0].field, SOURCE_FIELD, "{text:?}");
        }
        let err = validate_import(
            "[2027]\nholidays = [ { name = \"元旦\", from = 2027-02-30, to = 2027-01-03 } ]\n",
            &[],
            false,
        )
        .unwrap_err();
        assert_eq!(err.fields()[0].field, SOURCE_FIELD);
        let err = validate_import("[2027\n", &[], false).unwrap_err();
        assert!(err.fields()[0].message.contains("第1行"), "{err:?}");
    }

    #[test]
    fn a_rendered_year_parses_back_to_the_same_schedule() {
        let builtin = Calendar::builtin();
        for year in builtin.covered_years() {
            let schedule = builtin.year(year).unwrap();
            let text = render_year(year, schedule);
            let back = Calendar::parse(&text).unwrap();
            assert_eq!(back.covered_years(), vec![year]);
            assert_eq!(back.year(year), Some(schedule), "{text}");
        }
        // Names with quotes survive.
        let text = "[2027]\nholidays = [ { name = \"元旦\\\"特\\\\别\\\"\", from = 2027-01-01, to = 2027-01-01 } ]\n";
        let cal = Calendar::parse(text).unwrap();
        let back = Calendar::parse(&render_year(2027, cal.year(2027).unwrap())).unwrap();
        assert_eq!(back, cal);
    }

    #[test]
    fn missing_years_are_this_year_and_next() {
        let cal = Calendar::builtin();
        assert_eq!(missing_years(&cal, date!(2026 - 11 - 27)), vec![2027]);
        assert_eq!(
            missing_years(&cal, date!(2025 - 06 - 01)),
            Vec::<i32>::new()
        );
        assert_eq!(missing_years(&cal, date!(2027 - 01 - 04)), vec![2027, 2028]);
    }
}
