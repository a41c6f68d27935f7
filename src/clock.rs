//! The system's notion of "now". Tests move it forward instead of sleeping.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
    /// A demonstration installation whose clock people move forward (`services::demo_clock`).
    demo: AtomicBool,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc()
            + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed));
        // PostgreSQL keeps microseconds; store nothing finer so values survive a round trip.
        jiqun_domain::audit::chain_time(now)
    }

    pub fn advance(&self, by: Duration) {
        self.offset_seconds
            .fetch_add(by.whole_seconds(), Ordering::Relaxed);
    }

    /// How far this clock runs ahead of the real one.
    pub fn offset(&self) -> Duration {
        Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Runs as the demo clock, `offset` ahead of the real one.
    pub fn start_demo(&self, offset: Duration) {
        self.offset_seconds
            .store(offset.whole_seconds(), Ordering::Relaxed);
        self.demo.store(true, Ordering::Relaxed);
    }

    /// The time an authenticator app shows at the system's `now`: the real time on a demo
    /// installation (the phone's clock does not move with the demo's), `now` otherwise.
    pub fn authenticator_time(&self, now: OffsetDateTime) -> OffsetDateTime {
        if self.is_demo() {
            now - self.offset()
        } else {
            now
        }
    }

    /// Whether this is a demonstration installation's movable clock.
    pub fn is_demo(&self) -> bool {
        self.demo.load(Ordering::Relaxed)
    }
}

/// Beijing time (UTC+8, no daylight saving): the time of every date and deadline people see or
/// type.
pub const BEIJING: UtcOffset = time::macros::offset!(+8);

/// Shanghai time (UTC+8, no daylight saving) for display.
pub fn local(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(BEIJING)
}

/// The instant a Beijing-time day begins.
///
/// Given in UTC, the offset every stored instant has: SQLite compares these columns as text, so
/// a bound with a +08:00 offset would sort wrongly against stored values between 00:00 and 08:00
/// Beijing time.
pub fn local_midnight(day: Date) -> OffsetDateTime {
    day.midnight()
        .assume_offset(BEIJING)
        .to_offset(UtcOffset::UTC)
}

/// An instant given as a Beijing-time day and time of day.
pub fn local_at(day: Date, at: Time) -> OffsetDateTime {
    PrimitiveDateTime::new(day, at).assume_offset(BEIJING)
}

/// An instant as people read it where the second matters (the audit log, sign-in records):
/// "2026年12月4日 14:05:09", Beijing time.
pub fn format_local(at: OffsetDateTime) -> String {
    let t = local(at);
    format!(
        "{} {:02}:{:02}:{:02}",
        day_for_people(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A day as people and documents write it: "2026年12月4日".
pub fn day_for_people(d: Date) -> String {
    jiqun_domain::round::date_zh(d)
}

pub fn parse_local_datetime(text: &str) -> Option<OffsetDateTime> {
    let t = text.trim();
    let (date, time) = t.split_once(['T', ' '])?;
    let date = crate::services::calendar::parse_date(date).ok()?;
    let parts: Vec<&str> = time.trim().split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u8>().ok());
    let time = Time::from_hms(num(0)?, num(1)?, if parts.len() == 3 { num(2)? } else { 0 }).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(BEIJING)
            .to_offset(UtcOffset::UTC),
    )
}

/// An instant as people read it: "2026年12月31日 17:30", Beijing time.
pub fn local_minutes(at: OffsetDateTime) -> String {
    let t = local(at);
    format!(
        "{} {:02}:{:02}",
        day_for_people(t.date()),
        t.hour(),
        t.minute()
    )
}

/// The value of an HTML datetime-local field: "2026-12-31T17:30" in Beijing time.
pub fn datetime_local_value(at: OffsetDateTime) -> String {
    let t = local(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// RFC 3339 in Beijing time, e.g. "2026-12-31T17:30:00+08:00", for the API.
pub fn rfc3339_local(at: OffsetDateTime) -> String {
    local(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| datetime_local_value(at))
}
