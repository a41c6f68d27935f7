//! 市级称号 (第十六条): the list of city-level titles in the reader's scope (a city bureau those
//! its city conferred, a cluster its own) with 导出Excel; one title's certificate laid out on A4
//! for printing and as a PDF; and its revocation by the bureau of the city that conferred it.

use crate::store::id::CityDesignationId;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{FormErrors, Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::city_designations::{self as city, CityDesignationRow, RevokeInput};
use crate::services::listing::{ListNav, ListParams};
use crate::web::download::xlsx_download;
use crate::web::forms::Confirm;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/city-titles", get(list))
        .route("/city-titles/export.xlsx", get(export))
        .route("/city-titles/{id}", get(show))
        .route("/city-titles/{id}/revoke", post(revoke))
}

#[derive(Template, WebTemplate)]
#[template(path = "city_title_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<CityDesignationRow>,
    nav: ListNav,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&city::LIST, &pairs)?;
    let (rows, total) = city::page(&app, &ctx.principal, &params).await?;
    Ok(ListPage {
        layout: layout(&ctx, "city-titles"),
        flash: String::new(),
        rows,
        nav: params.nav(&city::LIST, total).export_if(true),
    })
}

/// 导出Excel: every city title the filters match in the reader's scope, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&city::LIST, &pairs)?;
    let bytes = city::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "市级称号.xlsx", "city-titles.xlsx"))
}

#[derive(Template, WebTemplate)]
#[template(path = "city_title.html")]
struct CertificatePage {
    c: CityDesignationRow,
    heading: String,
    paragraphs: Vec<String>,
    issuer: String,
    date: String,
    /// The bureau of the city that conferred the live title may revoke it.
    can_revoke: bool,
    confirm: Confirm,
    form: RevokeForm,
    errors: FormErrors,
    error: String,
    flash: String,
    csrf: String,
}

fn revoke_confirm() -> Confirm {
    Confirm::new(
        "revoke-acknowledge",
        "我已核实撤销理由和文号",
        "撤销后该市级称号失效、证书作废，集群将收到通知，不能恢复",
    )
}

fn certificate_page(app: &App, ctx: &SessionCtx, c: CityDesignationRow) -> CertificatePage {
    let text = city::certificate_text(&c, &app.config.public_url);
    CertificatePage {
        heading: text.heading,
        paragraphs: text.paragraphs,
        issuer: text.issuer,
        date: text.date,
        can_revoke: !c.revoked && city::confers(&ctx.principal, &c),
        confirm: revoke_confirm(),
        form: RevokeForm::default(),
        errors: FormErrors::default(),
        error: String::new(),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        c,
    }
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    saved: Option<String>,
}

/// `/city-titles/{id}` is the printable page, `/city-titles/{id}.pdf` the PDF (one handler:
/// the router cannot match a suffix within a segment).
async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, PageError> {
    if let Some(number) = id.strip_suffix(".pdf") {
        let id = number
            .parse::<CityDesignationId>()
            .map_err(|_| AppError::NotFound)?;
        return Ok(pdf(&app, &ctx, id).await);
    }
    let id = id
        .parse::<CityDesignationId>()
        .map_err(|_| AppError::NotFound)?;
    let c = city::get(&app, &ctx.principal, id).await?;
    let mut page = certificate_page(&app, &ctx, c);
    if q.saved.as_deref() == Some("revoked") {
        page.flash = "已撤销该市级称号，集群发展促进组织已收到通知。".into();
    }
    Ok(page.into_response())
}

async fn pdf(app: &App, ctx: &SessionCtx, id: CityDesignationId) -> Response {
    super::designations::certificate_pdf_response(
        city::certificate_pdf(app, &ctx.principal, id)
            .await
            .map(|(row, bytes)| (row.cluster_name, row.certificate_number, bytes)),
        &format!("city-certificate-{id}.pdf"),
    )
}

#[derive(Deserialize, Default, Clone)]
struct RevokeForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    document_number: String,
    #[serde(default)]
    acknowledge: String,
}

/// Revokes the title after the tick; a refusal shows the certificate again with the reason
/// and what was typed.
async fn revoke(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CityDesignationId>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let input = RevokeInput {
        reason: form.reason.clone(),
        document_number: form.document_number.clone(),
    };
    // The permission is checked before the tick, so a refused role learns nothing more.
    let result = match city::get(&app, &ctx.principal, id).await {
        Ok(row) if !city::confers(&ctx.principal, &row) => Err(AppError::Forbidden),
        Ok(_) => match revoke_confirm().check(&form.acknowledge) {
            Ok(()) => city::revoke(&app, &ctx.principal, id, &input).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/city-titles/{id}?saved=revoked")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            match city::get(&app, &ctx.principal, id).await {
                Ok(c) => {
                    let mut page = certificate_page(&app, &ctx, c);
                    page.confirm = page.confirm.refused_by(Some(&e));
                    page.errors = FormErrors::from_error(&e);
                    if let AppError::Conflict(message) = &e {
                        page.error = message.clone();
                    }
                    page.form = form;
                    (
                        StatusCode::from_u16(e.status())
                            .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                        page,
                    )
                        .into_response()
                }
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}
