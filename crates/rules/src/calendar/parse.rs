//! Parsing and validation of the calendar file. Walked by hand rather than with
//! serde so every complaint names its exact place ("2025.holidays[1].from") in Chinese.

use std::collections::BTreeMap;

use time::Date;
use toml::{Table, Value};

use super::{AdjustedWorkday, CalendarError, Holiday, YearSchedule, is_weekend};

pub(super) fn parse(text: &str) -> Result<BTreeMap<i32, YearSchedule>, CalendarError> {
    let root: Table = toml::from_str(text).map_err(|e| CalendarError::Syntax {
        line: line_of(text, e.span().map_or(0, |s| s.start)),
        message: e.message().to_string(),
    })?;
    let mut years = BTreeMap::new();
    for (key, value) in &root {
        let year = parse_year_key(key)?;
        let table = value
            .as_table()
            .ok_or_else(|| invalid(key, "年份下应为一个表（[年份]）"))?;
        years.insert(year, parse_year(year, key, table)?);
    }
    Ok(years)
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |head| head.matches('\n').count() + 1)
}

fn invalid(path: &str, reason: impl Into<String>) -> CalendarError {
    CalendarError::Invalid {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn parse_year_key(key: &str) -> Result<i32, CalendarError> {
    let is_year = key.len() == 4 && key.bytes().all(|b| b.is_ascii_digit());
    match key.parse::<i32>() {
        Ok(year) if is_year && year >= 1949 => Ok(year),
        _ => Err(invalid(key, "顶层键必须是四位数字年份，例如 [2027]")),
    }
}

fn parse_year(year: i32, path: &str, table: &Table) -> Result<YearSchedule, CalendarError> {
    for key in table.keys() {
        if key != "holidays" && key != "workdays" {
            return Err(invalid(
                &format!("{path}.{key}"),
                "未知的键（允许：holidays、workdays）",
            ));
        }
    }
    let holidays_path = format!("{path}.holidays");
    let holidays = match table.get("holidays") {
        Some(v) => entries(v, &holidays_path)?
            .iter()
            .enumerate()
            .map(|(i, e)| parse_holiday(year, &format!("{holidays_path}[{i}]"), e))
            .collect::<Result<Vec<_>, _>>()?,
        None => return Err(invalid(&holidays_path, "缺少节假日列表 holidays")),
    };
    let workdays_path = format!("{path}.workdays");
    let adjusted_workdays = match table.get("workdays") {
        Some(v) => entries(v, &workdays_path)?
            .iter()
            .enumerate()
            .map(|(i, e)| parse_workday(year, &format!("{workdays_path}[{i}]"), e))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    check_consistency(path, &holidays, &adjusted_workdays)?;
    Ok(YearSchedule {
        holidays,
        adjusted_workdays,
    })
}

fn entries<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, CalendarError> {
    value.as_array().ok_or_else(|| invalid(path, "应为数组"))
}

fn entry_table<'a>(
    value: &'a Value,
    path: &str,
    allowed: &[&str],
) -> Result<&'a Table, CalendarError> {
    let table = value.as_table().ok_or_else(|| {
        invalid(
            path,
            "数组元素应为表，例如 { name = \"春节\", from = …, to = … }",
        )
    })?;
    if let Some(key) = table.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            &format!("{path}.{key}"),
            format!("未知的键（允许：{}）", allowed.join("、")),
        ));
    }
    Ok(table)
}

fn text_field(table: &Table, path: &str, key: &str) -> Result<String, CalendarError> {
    let path = format!("{path}.{key}");
    match table.get(key) {
        None => Err(invalid(&path, "缺少此项")),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::String(_)) => Err(invalid(&path, "不能为空")),
        Some(_) => Err(invalid(&path, "应为字符串")),
    }
}

fn date_field(year: i32, table: &Table, path: &str, key: &str) -> Result<Date, CalendarError> {
    let path = format!("{path}.{key}");
    let value = table.get(key).ok_or_else(|| invalid(&path, "缺少此项"))?;
    let date = value
        .as_datetime()
        .and_then(toml_date)
        .ok_or_else(|| invalid(&path, "应为不带引号的日期，例如 2027-10-01"))?;
    if date.year() != year {
        return Err(invalid(
            &path,
            format!("日期{date}不属于{year}年，请列在其所在年份的表下"),
        ));
    }
    Ok(date)
}

/// A TOML local date (no time, no offset) as a `time::Date`.
pub(crate) fn toml_date(dt: &toml::value::Datetime) -> Option<Date> {
    if dt.time.is_some() || dt.offset.is_some() {
        return None;
    }
    let d = dt.date?;
    let month = time::Month::try_from(d.month).ok()?;
    Date::from_calendar_date(i32::from(d.year), month, d.day).ok()
}

fn parse_holiday(year: i32, path: &str, value: &Value) -> Result<Holiday, CalendarError> {
    let table = entry_table(value, path, &["name", "from", "to"])?;
    let name = text_field(table, path, "name")?;
    let from = date_field(year, table, path, "from")?;
    let to = date_field(year, table, path, "to")?;
    if from > to {
        return Err(invalid(path, format!("开始日期{from}晚于结束日期{to}")));
    }
    Ok(Holiday { name, from, to })
}

fn parse_workday(year: i32, path: &str, value: &Value) -> Result<AdjustedWorkday, CalendarError> {
    let table = entry_table(value, path, &["date", "for"])?;
    let date = date_field(year, table, path, "date")?;
    let makes_up_for = text_field(table, path, "for")?;
    if !is_weekend(date) {
        return Err(invalid(
            &format!("{path}.date"),
            format!("调休上班日{date}不是周六或周日，平日本就上班，无需列出"),
        ));
    }
    Ok(AdjustedWorkday { date, makes_up_for })
}

fn check_consistency(
    path: &str,
    holidays: &[Holiday],
    workdays: &[AdjustedWorkday],
) -> Result<(), CalendarError> {
    for (i, a) in holidays.iter().enumerate() {
        for (j, b) in holidays.iter().enumerate().skip(i + 1) {
            if a.from <= b.to && b.from <= a.to {
                return Err(invalid(
                    &format!("{path}.holidays[{j}]"),
                    format!("与 holidays[{i}]（{}）的日期范围重叠", a.name),
                ));
            }
        }
    }
    for (i, w) in workdays.iter().enumerate() {
        if let Some(h) = holidays.iter().find(|h| h.from <= w.date && w.date <= h.to) {
            return Err(invalid(
                &format!("{path}.workdays[{i}].date"),
                format!("调休上班日{}落在假期“{}”之内", w.date, h.name),
            ));
        }
        if workdays[..i].iter().any(|o| o.date == w.date) {
            return Err(invalid(
                &format!("{path}.workdays[{i}].date"),
                format!("调休上班日{}重复列出", w.date),
            ));
        }
    }
    Ok(())
}
