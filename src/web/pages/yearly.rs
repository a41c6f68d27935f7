//! The yearly 集中公告 (第十二条): the public list and page of each year's announcement as
//! published (frozen), its PDF, and the province's form to compile and publish a year's.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::notices::public_layout;
use super::{FormErrors, Layout, PageError, error_page};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::announcements::{self, YearlyAnnouncement, YearlyPublishInput, YearlySummary};
use crate::services::designations::PdfFailure;
use crate::web::download::attachment;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/yearly-announcements", get(list).post(publish))
        .route("/yearly-announcements/{year}", get(show))
        .route("/yearly-announcements/{year}/pdf", get(pdf))
}

#[derive(Template, WebTemplate)]
#[template(path = "yearly_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<YearlySummary>,
    /// The province's publish form, with what it typed.
    can_publish: bool,
    csrf: String,
    year: String,
    document_number: String,
    errors: FormErrors,
    general_error: String,
}

async fn list_page(
    app: &crate::app::App,
    ctx: Option<&SessionCtx>,
    year: String,
    document_number: String,
    error: Option<&AppError>,
) -> Result<ListPage, PageError> {
    let can_publish = ctx.is_some_and(|c| {
        permission(c.principal.role, Resource::Certificate, Action::Create).is_some()
    });
    Ok(ListPage {
        layout: public_layout(ctx),
        flash: String::new(),
        rows: announcements::list(app).await?,
        can_publish,
        csrf: ctx
            .map(|c| c.session.csrf_token.clone())
            .unwrap_or_default(),
        year,
        document_number,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error: match error {
            Some(AppError::Invalid(_)) | None => String::new(),
            Some(e) => e.to_string(),
        },
    })
}

async fn list(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
) -> Result<ListPage, PageError> {
    let year = crate::clock::local(app.clock.now()).year().to_string();
    list_page(&app, ctx.as_deref(), year, String::new(), None).await
}

#[derive(Deserialize)]
struct PublishForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    document_number: String,
}

async fn publish(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<PublishForm>,
) -> Response {
    let input = YearlyPublishInput {
        year: form.year.trim().parse().unwrap_or(0),
        document_number: form.document_number.clone(),
    };
    match announcements::publish(&app, &ctx.principal, &input).await {
        Ok(a) => Redirect::to(&format!("/yearly-announcements/{}", a.year)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            match list_page(&app, Some(&ctx), form.year, form.document_number, Some(&e)).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "yearly_announcement.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    a: YearlyAnnouncement,
}

fn year_of(text: &str) -> Result<i32, AppError> {
    text.parse().map_err(|_| AppError::NotFound)
}

async fn show(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Path(year): Path<String>,
) -> Result<ShowPage, PageError> {
    Ok(ShowPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        a: announcements::get(&app, year_of(&year)?).await?,
    })
}

async fn pdf(State(app): State<Shared>, Path(year): Path<String>) -> Response {
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(e) => return PageError(e).into_response(),
    };
    match announcements::pdf(&app, year).await {
        Ok((a, bytes)) => attachment(
            "application/pdf",
            bytes,
            &format!("{}.pdf", a.title),
            &format!("yearly-announcement-{year}.pdf"),
        ),
        Err(PdfFailure::Unavailable(message)) => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "公告PDF暂时无法生成：{message}。您仍可打开公告页面，使用浏览器的“打印”另存为PDF。"
            ),
        ),
        Err(PdfFailure::App(e)) => PageError(e).into_response(),
    }
}
