//! The demo clock's page and the banner that tells every page of a demonstration installation
//! apart from a real one (`services::demo_clock`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::clock::{day_for_people, local};
use crate::error::AppError;
use crate::services::demo_clock;
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/demo/clock", get(show).post(set))
}

#[derive(Template, WebTemplate)]
#[template(path = "demo_clock.html")]
struct ClockPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    today: String,
    /// The value of the date field: what was typed, or a week ahead.
    date: String,
    error: String,
}

fn page(
    app: &Shared,
    ctx: &crate::web::principal::SessionCtx,
    date: String,
    error: String,
) -> ClockPage {
    let today = local(app.clock.now()).date();
    ClockPage {
        layout: layout(ctx, "demo_clock"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        today: day_for_people(today),
        date: if date.is_empty() {
            (today + time::Duration::days(7)).to_string()
        } else {
            date
        },
        error,
    }
}

async fn show(State(app): State<Shared>, Authed(ctx): Authed) -> Result<ClockPage, PageError> {
    if !app.clock.is_demo() {
        return Err(AppError::NotFound.into());
    }
    Ok(page(&app, &ctx, String::new(), String::new()))
}

#[derive(Deserialize)]
struct DateForm {
    #[serde(default)]
    date: String,
}

async fn set(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<DateForm>,
) -> Result<Response, PageError> {
    match demo_clock::set_date(&app, &ctx.principal, &form.date).await {
        Ok(_) => Ok(Redirect::to("/").into_response()),
        Err(AppError::Invalid(fields)) => {
            let message = fields
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("；");
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&app, &ctx, form.date, message),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The largest page the banner is written into; anything bigger passes untouched.
const MAX_PAGE: usize = 16 * 1024 * 1024;

/// On a demonstration installation, every HTML page opens with a banner naming the demo date.
pub async fn banner(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if !app.clock.is_demo() {
        return res;
    }
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "页面过大").into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    let note = format!(
        "<body>\n<div class=\"demo-banner\" id=\"demo-banner\">演示环境：系统日期为{}（演示时钟，仅用于演示和培训）· <a href=\"/demo/clock\">调整日期</a></div>",
        day_for_people(local(app.clock.now()).date())
    );
    let out = text.replacen("<body>", &note, 1);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}
