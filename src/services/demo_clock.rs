//! The demo clock: on a demonstration database only, the system's date can be set forward so a
//! newcomer sees a 公示 window close, a name list confirmed and certificates issued without waiting
//! five working days or touching the database. A real installation never has it: the clock starts
//! only for `serve --demo` on a database the demo seeded, and only ever moves forward (the audit
//! trail's times stay in order).
//!
//! The offset is kept in `<data_dir>/demo-clock` so a restarted demo keeps its date.

use jiqun_domain::round::date_zh;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use time::{Date, Duration};

use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::local;
use crate::error::AppError;
use crate::store::entity::{audit_entry, session};
use crate::store::{self};

const FILE: &str = "demo-clock";
/// The most a single step may move the clock, so a typing slip does not jump decades.
const MAX_DAYS: i64 = 3 * 366;

/// Whether the database was made by the demo seeding (it recorded `demo.seed`).
async fn is_demo_database(app: &App) -> Result<bool, AppError> {
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("demo.seed"))
        .count(&app.db)
        .await?
        > 0)
}

fn file(app: &App) -> std::path::PathBuf {
    app.config.data_dir.join(FILE)
}

/// Starts the demo clock for `serve --demo`: at the date kept from the last run, or at `today`
/// when given (forward only). Refused on a database the demo did not make.
pub async fn start(app: &App, today: Option<Date>) -> Result<Date, AppError> {
    if !is_demo_database(app).await? {
        return Err(AppError::Conflict(
            "演示时钟只能用于演示数据库（由 serve --demo 在空数据库上生成）；真实系统的日期不能调整".into(),
        ));
    }
    let kept = match std::fs::read_to_string(file(app)) {
        Ok(text) => text.trim().parse::<i64>().map(Duration::seconds).ok(),
        Err(_) => None,
    };
    // Without a kept date the clock runs where it stands (the real time on a server).
    app.clock
        .start_demo(kept.unwrap_or_else(|| app.clock.offset()));
    if let Some(day) = today {
        let by = step_to(app, day)?;
        let txn = store::write_txn(&app.db).await?;
        carry_sessions(&txn, by).await?;
        txn.commit().await?;
        advance(app, by)?;
    }
    Ok(local(app.clock.now()).date())
}

/// How far the clock must move to reach the same time of day on `day`; never backwards.
fn step_to(app: &App, day: Date) -> Result<Duration, AppError> {
    let now = local(app.clock.now());
    let shown = now.date();
    if day < shown {
        return Err(AppError::invalid(
            "date",
            format!(
                "演示时钟只能向后调整：当前系统日期为{}，不能调回{}",
                date_zh(shown),
                date_zh(day)
            ),
        ));
    }
    let days = (day - shown).whole_days();
    if days > MAX_DAYS {
        return Err(AppError::invalid(
            "date",
            format!("一次最多向后调整{MAX_DAYS}天"),
        ));
    }
    Ok(Duration::days(days))
}

/// Moves the clock `by` and keeps its offset for the next start; done only once the move's
/// writes are committed, so a failed move leaves the date where it was.
fn advance(app: &App, by: Duration) -> Result<(), AppError> {
    let offset = app.clock.offset() + by;
    std::fs::write(file(app), offset.whole_seconds().to_string())
        .map_err(|e| AppError::internal(format!("keep the demo clock: {e}")))?;
    app.clock.start_demo(offset);
    Ok(())
}

/// Moves every session along with the clock, so that nobody is signed out for idleness by a
/// date they did not live through.
async fn carry_sessions(txn: &impl ConnectionTrait, by: Duration) -> Result<(), AppError> {
    if by == Duration::ZERO {
        return Ok(());
    }
    for s in session::Entity::find().all(txn).await? {
        let mut active: session::ActiveModel = s.clone().into();
        active.created_at = Set(s.created_at + by);
        active.last_seen_at = Set(s.last_seen_at + by);
        active.update(txn).await?;
    }
    Ok(())
}

/// A signed-in person on a demo installation sets the date forward; audited.
pub async fn set_date(app: &App, p: &Principal, text: &str) -> Result<Date, AppError> {
    if !app.clock.is_demo() {
        return Err(AppError::NotFound);
    }
    let day = Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| AppError::invalid("date", "请选择日期（年-月-日）"))?;
    let before = local(app.clock.now()).date();
    let by = step_to(app, day)?;
    let txn = store::write_txn(&app.db).await?;
    carry_sessions(&txn, by).await?;
    Audit::of(app, p, app.clock.now())
        .record(
            &txn,
            Event {
                action: "demo.clock",
                object_type: "demo_clock",
                object_id: String::new(),
                summary: format!("演示时钟由{}调至{}", date_zh(before), date_zh(day)),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    advance(app, by)?;
    Ok(day)
}
