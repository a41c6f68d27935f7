//! The system's notion of "now". Tests move it forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

#[derive(Debug, Default)]
pub struct Clock {
    offset_seconds: AtomicI64,
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
}

/// Shanghai time (UTC+8, no daylight saving) for display.
pub fn local(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(time::macros::offset!(+8))
}

pub fn format_local(at: OffsetDateTime) -> String {
    let t = local(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
