//! Mainland China's working-day calendar.
//!
//! Weekends are rest days and Monday–Friday are working days, except for the
//! statutory holidays and the adjusted working days (调休上班) the State Council
//! General Office publishes each year. That schedule is data: a year that has not
//! been imported is refused with [`CalendarError::YearNotCovered`] rather than
//! silently treated as a plain Monday–Friday year, because a wrong deadline is
//! worse than no deadline.

pub(crate) mod parse;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use time::{Date, Weekday};

/// The schedule shipped with the crate (2021–2026).
const BUILTIN: &str = include_str!("../../data/cn-workdays.toml");

/// Errors from loading a calendar or asking it about a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The date's year has no imported holiday schedule.
    #[error("日历未包含{0}年的节假日安排，请先导入该年度安排")]
    YearNotCovered(i32),
    /// The calendar text is not valid TOML.
    #[error("日历文件第{line}行存在语法错误：{message}")]
    Syntax { line: usize, message: String },
    /// The calendar text is valid TOML but breaks a rule of the format.
    #[error("日历文件“{path}”处有误：{reason}")]
    Invalid { path: String, reason: String },
    /// A range whose start lies after its end.
    #[error("起始日期{from}晚于结束日期{to}")]
    InvalidRange { from: Date, to: Date },
    /// Date arithmetic left the range the `time` crate can represent.
    #[error("日期超出可计算范围")]
    OutOfRange,
}

/// A run of days off for one statutory holiday (weekend days merged into it included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: String,
    pub from: Date,
    pub to: Date,
}

/// A Saturday or Sunday that is worked to make up for a holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustedWorkday {
    pub date: Date,
    /// The holiday this day makes up for, e.g. "春节".
    pub makes_up_for: String,
}

/// One year's published schedule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YearSchedule {
    pub holidays: Vec<Holiday>,
    pub adjusted_workdays: Vec<AdjustedWorkday>,
}

/// What kind of day a date is, and therefore whether it is a working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayKind {
    /// An ordinary Monday–Friday.
    Workday,
    /// An ordinary Saturday or Sunday.
    Weekend,
    /// A day off for the named holiday, e.g. "国庆节".
    Holiday(String),
    /// A weekend day worked to make up for the named holiday.
    AdjustedWorkday { makes_up_for: String },
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday { .. })
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayKind::Workday => f.write_str("工作日"),
            DayKind::Weekend => f.write_str("周末"),
            DayKind::Holiday(name) => f.write_str(name),
            DayKind::AdjustedWorkday { makes_up_for } => write!(f, "调休上班（{makes_up_for}）"),
        }
    }
}

/// The working-day calendar: a set of imported years.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    years: BTreeMap<i32, YearSchedule>,
}

impl Calendar {
    /// The schedule shipped with the crate. Its data file is checked by the test
    /// suite; should it ever fail to parse, the calendar is empty and every query
    /// reports the year as not covered instead of guessing.
    pub fn builtin() -> Calendar {
        Calendar::parse(BUILTIN).unwrap_or_default()
    }

    /// Parses and validates a calendar in the `cn-workdays.toml` format
    /// (see the header comment of `data/cn-workdays.toml`).
    pub fn parse(text: &str) -> Result<Calendar, CalendarError> {
        parse::parse(text).map(|years| Calendar { years })
    }

    /// Imports `other`: each year it contains replaces that year here.
    pub fn merge(&mut self, other: Calendar) {
        self.years.extend(other.years);
    }

    /// The years with an imported schedule, ascending.
    pub fn covered_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The schedule of one year, if imported.
    pub fn year(&self, year: i32) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    /// What kind of day `date` is. Errors if its year is not covered.
    pub fn is_working_day(&self, date: Date) -> Result<DayKind, CalendarError> {
        let schedule = self
            .years
            .get(&date.year())
            .ok_or(CalendarError::YearNotCovered(date.year()))?;
        if let Some(w) = schedule.adjusted_workdays.iter().find(|w| w.date == date) {
            return Ok(DayKind::AdjustedWorkday {
                makes_up_for: w.makes_up_for.clone(),
            });
        }
        if let Some(h) = schedule
            .holidays
            .iter()
            .find(|h| h.from <= date && date <= h.to)
        {
            return Ok(DayKind::Holiday(h.name.clone()));
        }
        if is_weekend(date) {
            Ok(DayKind::Weekend)
        } else {
            Ok(DayKind::Workday)
        }
    }

    /// `date` itself if it is a working day, otherwise the next working day.
    pub fn next_working_day_on_or_after(&self, date: Date) -> Result<Date, CalendarError> {
        let mut day = date;
        while !self.is_working_day(day)?.is_working() {
            day = next_day(day)?;
        }
        Ok(day)
    }

    /// The `n`-th working day strictly after `date`.
    ///
    /// `n = 0` is defined as [`Calendar::next_working_day_on_or_after`]: "zero
    /// working days from a holiday" lands on the first day one can act, never on
    /// the holiday itself. Hence from a non-working day `n = 0` and `n = 1` agree.
    pub fn add_working_days(&self, date: Date, n: u32) -> Result<Date, CalendarError> {
        if n == 0 {
            return self.next_working_day_on_or_after(date);
        }
        let mut day = date;
        let mut left = n;
        while left > 0 {
            day = next_day(day)?;
            if self.is_working_day(day)?.is_working() {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// Number of working days in `from..=to` (both ends included).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        if from > to {
            return Err(CalendarError::InvalidRange { from, to });
        }
        let mut count = 0;
        let mut day = from;
        loop {
            if self.is_working_day(day)?.is_working() {
                count += 1;
            }
            if day == to {
                return Ok(count);
            }
            day = next_day(day)?;
        }
    }
}

pub(crate) fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

pub(crate) fn next_day(date: Date) -> Result<Date, CalendarError> {
    date.next_day().ok_or(CalendarError::OutOfRange)
}
