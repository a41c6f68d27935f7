//! The working-day calendar page: covered years, a day lookup, and (for the system
//! administrator) importing next year's holiday schedule.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{FormErrors, Layout, PageError, layout};
use crate::app::Shared;
use crate::error::{AppError, FieldError};
use crate::services::calendar::{self, Overview};
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/calendar", get(show))
        .route("/calendar/import", post(import))
}

pub struct YearRow {
    pub year: i32,
    pub origin: &'static str,
    pub holidays: usize,
    pub adjusted_workdays: usize,
    pub imported_by: String,
    pub imported_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Option<Layout>,
    flash: String,
    today: String,
    years: Vec<YearRow>,
    builtin_range: String,
    /// "2027年", empty when this year and next are covered.
    missing: String,
    can_import: bool,
    csrf: String,
    query_date: String,
    query_n: String,
    day_answer: String,
    after_answer: String,
    errors: FormErrors,
    source: String,
    replace_builtin: bool,
    sample: &'static str,
}

#[derive(Deserialize, Default)]
struct CalendarQuery {
    date: Option<String>,
    n: Option<String>,
    /// Set by the redirect after a successful import: "2027" or "2027,2028".
    imported: Option<String>,
}

fn year_rows(o: &Overview) -> Vec<YearRow> {
    o.years
        .iter()
        .map(|y| YearRow {
            year: y.year,
            origin: match (y.builtin, y.imported.is_some()) {
                (true, false) => "系统内置",
                (true, true) => "管理员导入（替换内置）",
                (false, _) => "管理员导入",
            },
            holidays: y.holidays,
            adjusted_workdays: y.adjusted_workdays,
            imported_by: y
                .imported
                .as_ref()
                .map(|i| i.imported_by.clone())
                .unwrap_or_default(),
            imported_at: y
                .imported
                .as_ref()
                .map(|i| i.imported_at.clone())
                .unwrap_or_default(),
        })
        .collect()
}

fn builtin_range() -> String {
    let years = calendar::builtin_years();
    match (years.first(), years.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}—{b}年"),
        (Some(a), _) => format!("{a}年"),
        _ => "无".into(),
    }
}

/// The flash after a redirect from a successful import; anything but year numbers is ignored.
fn imported_flash(text: Option<&str>) -> String {
    let years: Vec<i32> = text
        .unwrap_or_default()
        .split(',')
        .filter_map(|y| y.trim().parse().ok())
        .filter(|y| (1949..=9999).contains(y))
        .collect();
    if years.is_empty() {
        String::new()
    } else {
        format!("已导入{}节假日安排。", calendar::years_label(&years))
    }
}

/// The lookup result: "2026-10-01（星期四）：否（国庆节）" and "…后第5个工作日：…".
struct Lookup {
    day_answer: String,
    after_answer: String,
    problems: Vec<FieldError>,
}

fn problem(field: &str, message: impl ToString) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.to_string(),
    }
}

fn lookup(o: &Overview, date_text: &str, n_text: &str) -> Lookup {
    let mut out = Lookup {
        day_answer: String::new(),
        after_answer: String::new(),
        problems: Vec::new(),
    };
    if date_text.trim().is_empty() {
        return out;
    }
    let date = match calendar::parse_date(date_text) {
        Ok(d) => d,
        Err(e) => {
            out.problems.push(problem("date", e));
            return out;
        }
    };
    match o.calendar.is_working_day(date) {
        Ok(kind) => {
            out.day_answer = format!(
                "{date}（{}）：{}",
                calendar::weekday_label(date),
                calendar::answer(&kind)
            )
        }
        Err(e) => out.problems.push(problem("date", e)),
    }
    if n_text.trim().is_empty() {
        return out;
    }
    match calendar::parse_count(n_text) {
        Ok(n) => match o.calendar.add_working_days(date, n) {
            Ok(day) => {
                out.after_answer = format!(
                    "{date}之后第{n}个工作日：{day}（{}）",
                    calendar::weekday_label(day)
                )
            }
            Err(e) => out.problems.push(problem("n", e)),
        },
        Err(e) => out.problems.push(problem("n", e)),
    }
    out
}

struct ImportState {
    source: String,
    replace_builtin: bool,
    error: Option<AppError>,
}

async fn render(
    app: &Shared,
    ctx: &SessionCtx,
    q: CalendarQuery,
    import: ImportState,
) -> Result<CalendarPage, AppError> {
    let o = calendar::overview(app, &ctx.principal).await?;
    let query_date = q.date.unwrap_or_else(|| o.today.to_string());
    let query_n = q.n.unwrap_or_else(|| "5".into());
    let found = lookup(&o, &query_date, &query_n);
    let mut fields = found.problems;
    if let Some(e) = &import.error {
        fields.extend(e.fields().iter().cloned());
    }
    Ok(CalendarPage {
        layout: layout(ctx, "calendar"),
        flash: imported_flash(q.imported.as_deref()),
        today: format!("{}（{}）", o.today, calendar::weekday_label(o.today)),
        years: year_rows(&o),
        builtin_range: builtin_range(),
        missing: calendar::years_label(&o.missing),
        can_import: o.can_import,
        csrf: ctx.session.csrf_token.clone(),
        query_date,
        query_n,
        day_answer: found.day_answer,
        after_answer: found.after_answer,
        errors: FormErrors::from_error(&AppError::Invalid(fields)),
        source: import.source,
        replace_builtin: import.replace_builtin,
        sample: calendar::SAMPLE_IMPORT,
    })
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<CalendarQuery>,
) -> Result<CalendarPage, PageError> {
    Ok(render(
        &app,
        &ctx,
        q,
        ImportState {
            source: String::new(),
            replace_builtin: false,
            error: None,
        },
    )
    .await?)
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    source: String,
    /// A checkbox: present ("on") when ticked.
    #[serde(default)]
    replace_builtin: Option<String>,
}

async fn import(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<ImportForm>,
) -> Response {
    let replace_builtin = form.replace_builtin.is_some();
    match calendar::import(&app, &ctx.principal, &form.source, replace_builtin).await {
        Ok(done) => {
            let years: Vec<String> = done.years.iter().map(i32::to_string).collect();
            Redirect::to(&format!("/calendar?imported={}", years.join(","))).into_response()
        }
        Err(e @ AppError::Invalid(_)) => {
            let state = ImportState {
                source: form.source,
                replace_builtin,
                error: Some(e),
            };
            match render(&app, &ctx, CalendarQuery::default(), state).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(other) => PageError(other).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiqun_rules::Calendar;
    use time::macros::date;

    fn overview() -> Overview {
        Overview {
            calendar: Calendar::builtin(),
            years: Vec::new(),
            today: date!(2026 - 11 - 27),
            missing: vec![2027],
            can_import: false,
        }
    }

    #[test]
    fn lookup_answers_the_day_and_the_count() {
        let l = lookup(&overview(), "2026-09-30", "1");
        assert_eq!(l.day_answer, "2026-09-30（星期三）：是（工作日）");
        assert_eq!(
            l.after_answer,
            "2026-09-30之后第1个工作日：2026-10-08（星期四）"
        );
        assert!(l.problems.is_empty());
    }

    #[test]
    fn lookup_reports_problems_against_their_fields() {
        let l = lookup(&overview(), "2026-02-30", "5");
        assert_eq!(l.problems[0].field, "date");
        let l = lookup(&overview(), "2027-01-04", "");
        assert!(l.problems[0].message.contains("2027"), "{:?}", l.problems);
        let l = lookup(&overview(), "2026-12-30", "5");
        assert_eq!(l.problems[0].field, "n");
        assert!(l.problems[0].message.contains("2027"));
        let l = lookup(&overview(), "2026-12-30", "-1");
        assert_eq!(l.problems[0].field, "n");
        assert!(lookup(&overview(), "", "5").day_answer.is_empty());
    }

    #[test]
    fn the_import_flash_only_takes_years() {
        assert_eq!(
            imported_flash(Some("2027,2028")),
            "已导入2027年、2028年节假日安排。"
        );
        assert_eq!(imported_flash(Some("<script>")), "");
        assert_eq!(imported_flash(None), "");
    }
}
