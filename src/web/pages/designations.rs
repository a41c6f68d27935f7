//! Designations and certificates (认定与证书): the list in the reader's scope, one certificate
//! laid out on A4 for printing (and as a PDF) with the way into a revocation case; the public results announcements
//! (第十二条); and the round's list as an Excel workbook.

use crate::store::id::{DesignationId, RoundId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::notices::public_layout;
use super::{Layout, PageError, error_page, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::announcements::{self, PlaqueInput, PlaqueRow};
use crate::services::certificate_list;
use crate::services::designations::{
    self, Announcement, AnnouncementSummary, CertificateRow, Checked, PdfFailure, Verification,
};
use crate::services::listing::{ListNav, ListParams};
use crate::web::download::{attachment, xlsx_download};
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/certificates", get(list))
        .route(
            "/certificates/{id}/plaque",
            axum::routing::post(record_plaque),
        )
        .route("/certificates/export.xlsx", get(export))
        .route("/certificates/{id}", get(show))
        .route("/verify", get(verify_form))
        .route("/verify/{number}", get(verify))
        .route("/announcements", get(announcements))
        .route("/announcements/{round_id}", get(announcement))
        .route("/rounds/{id}/list.xlsx", get(list_xlsx))
}

#[derive(Template, WebTemplate)]
#[template(path = "certificate_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<CertificateRow>,
    /// The 授牌 recorded per designation (第十二条).
    plaques: std::collections::HashMap<DesignationId, PlaqueRow>,
    /// The province records plaques and publishes the yearly 集中公告.
    can_record: bool,
    csrf: String,
    q: PlaqueQuery,
    nav: ListNav,
    cities: Vec<(String, String)>,
}

impl ListPage {
    fn plaque_of(&self, id: &DesignationId) -> Option<&PlaqueRow> {
        self.plaques.get(id)
    }

    /// Whether a refused 授牌 came back for this row.
    fn refused_for(&self, id: &DesignationId) -> bool {
        self.q.for_id == Some(*id)
    }
}

/// A refused 授牌 comes back to the list with the typed values and the message on its row.
#[derive(Default)]
struct PlaqueQuery {
    for_id: Option<DesignationId>,
    plaque_error: String,
    presented_on: String,
    plaque_number: String,
    done: String,
}

impl PlaqueQuery {
    /// Read beside the list's own filters, which ignore these keys.
    fn from_pairs(pairs: &[(String, String)]) -> PlaqueQuery {
        let mut q = PlaqueQuery::default();
        for (key, value) in pairs {
            match key.as_str() {
                "for" => q.for_id = value.parse().ok(),
                "plaque_error" => q.plaque_error = value.clone(),
                "presented_on" => q.presented_on = value.clone(),
                "plaque_number" => q.plaque_number = value.clone(),
                "done" => q.done = value.clone(),
                _ => {}
            }
        }
        q
    }
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let q = PlaqueQuery::from_pairs(&pairs);
    let params = ListParams::parse(&certificate_list::LIST, &pairs)?;
    let (rows, total) = certificate_list::page(&app, &ctx.principal, &params).await?;
    let p = &ctx.principal;
    let plaques = announcements::plaques_of(&app.db, rows.iter().map(|r| r.id)).await?;
    Ok(ListPage {
        layout: layout(&ctx, "certificates"),
        flash: if q.done == "plaque" {
            "授牌已登记。".into()
        } else {
            String::new()
        },
        rows,
        plaques,
        can_record: permission(ctx.principal.role, Resource::Certificate, Action::Update).is_some(),
        csrf: ctx.session.csrf_token.clone(),
        q,
        nav: params
            .nav(&certificate_list::LIST, total)
            .export_if(permission(p.role, Resource::Certificate, Action::Export).is_some()),
        cities: match permission(p.role, Resource::Certificate, Action::View) {
            Some(jiqun_domain::access::ScopeKind::All) => super::region_choices().0,
            _ => Vec::new(),
        },
    })
}

#[derive(Deserialize)]
struct PlaqueForm {
    #[serde(default)]
    presented_on: String,
    #[serde(default)]
    plaque_number: String,
}

async fn record_plaque(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<DesignationId>,
    axum::Form(form): axum::Form<PlaqueForm>,
) -> Response {
    let input = PlaqueInput {
        presented_on: form.presented_on.clone(),
        plaque_number: form.plaque_number.clone(),
    };
    match announcements::record_plaque(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to("/certificates?done=plaque").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let message = match &e {
                AppError::Invalid(f) => f.first().map(|f| f.message.clone()).unwrap_or_default(),
                other => other.to_string(),
            };
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("for", &id.to_string())
                .append_pair("plaque_error", &message)
                .append_pair("presented_on", &form.presented_on)
                .append_pair("plaque_number", &form.plaque_number)
                .finish();
            Redirect::to(&format!("/certificates?{query}#plaque-{id}")).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

/// 导出Excel: every designation the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&certificate_list::LIST, &pairs)?;
    let bytes = certificate_list::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "认定与证书.xlsx", "certificates.xlsx"))
}

#[derive(Template, WebTemplate)]
#[template(path = "certificate.html")]
struct CertificatePage {
    c: CertificateRow,
    heading: String,
    paragraphs: Vec<String>,
    issuer: String,
    date: String,
    /// A live title the province may open a revocation case about.
    can_revoke: bool,
    flash: String,
}

fn certificate_page(
    app: &App,
    ctx: &SessionCtx,
    c: CertificateRow,
    flash: &str,
) -> CertificatePage {
    let text = designations::certificate_text(&c, &app.config.public_url);
    CertificatePage {
        heading: text.heading,
        paragraphs: text.paragraphs,
        issuer: text.issuer,
        date: text.date,
        can_revoke: !c.revoked
            && !c.superseded
            && permission(ctx.principal.role, Resource::Revocation, Action::Create).is_some(),
        flash: flash.into(),
        c,
    }
}

/// `/certificates/{id}` is the printable page, `/certificates/{id}.pdf` the PDF (the router
/// cannot match a suffix within a segment, so one handler serves both).
async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if let Some(number) = id.strip_suffix(".pdf") {
        let id = number
            .parse::<DesignationId>()
            .map_err(|_| AppError::NotFound)?;
        return Ok(pdf(&app, &ctx, id).await);
    }
    let id = id
        .parse::<DesignationId>()
        .map_err(|_| AppError::NotFound)?;
    let c = designations::get(&app, &ctx.principal, id).await?;
    Ok(certificate_page(&app, &ctx, c, "").into_response())
}

async fn pdf(app: &App, ctx: &SessionCtx, id: DesignationId) -> Response {
    certificate_pdf_response(
        designations::certificate_pdf(app, &ctx.principal, id)
            .await
            .map(|(row, bytes)| (row.cluster_name, row.certificate_number, bytes)),
        &format!("certificate-{id}.pdf"),
    )
}

/// A certificate's PDF as a download named after its cluster and number, or the page that says
/// why it cannot be drawn now (provincial and city certificates alike).
pub(super) fn certificate_pdf_response(
    drawn: Result<(String, String, Vec<u8>), PdfFailure>,
    download_key: &str,
) -> Response {
    match drawn {
        Ok((cluster_name, number, bytes)) => attachment(
            "application/pdf",
            bytes,
            &format!("证书-{cluster_name}-{number}.pdf"),
            download_key,
        ),
        Err(PdfFailure::Unavailable(message)) => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "证书PDF暂时无法生成：{message}。您仍可打开证书页面，使用浏览器的“打印”另存为PDF。"
            ),
        ),
        Err(PdfFailure::App(e)) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "verify.html")]
struct VerifyPage {
    layout: Option<Layout>,
    flash: String,
    found: Option<Verification>,
    missing: String,
    typed: String,
}

#[derive(Deserialize, Default)]
struct VerifyQuery {
    number: Option<String>,
}

/// The check form; a well-formed number goes on to its own address (the one the QR code
/// carries), anything else is answered here.
async fn verify_form(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, PageError> {
    let typed = q.number.unwrap_or_default();
    if typed.trim().is_empty() {
        return Ok(VerifyPage {
            layout: public_layout(ctx.as_deref()),
            flash: String::new(),
            found: None,
            missing: "请输入证书编号或查验码。".into(),
            typed: String::new(),
        }
        .into_response());
    }
    let prefixes = crate::services::policy::all_prefixes(&app.db).await?;
    match jiqun_domain::certificate::CertificateKey::parse(&typed, &prefixes) {
        Some(key) => Ok(Redirect::to(&format!("/verify/{}", key.code())).into_response()),
        None => verify_answer(&app, ctx.as_deref(), &typed).await,
    }
}

/// Whether a certificate is valid, superseded or revoked (public); unknown or malformed numbers
/// are a 404 that says so.
async fn verify(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    verify_answer(&app, ctx.as_deref(), &number).await
}

async fn verify_answer(
    app: &App,
    ctx: Option<&SessionCtx>,
    number: &str,
) -> Result<Response, PageError> {
    let layout = public_layout(ctx);
    let typed: String = number.trim().chars().take(40).collect();
    Ok(match designations::verify(app, number).await? {
        Checked::Found(v) => VerifyPage {
            layout,
            flash: String::new(),
            found: Some(*v),
            missing: String::new(),
            typed,
        }
        .into_response(),
        Checked::Missing(why) => (
            StatusCode::NOT_FOUND,
            VerifyPage {
                layout,
                flash: String::new(),
                found: None,
                missing: why,
                typed,
            },
        )
            .into_response(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "announcement_list.html")]
struct AnnouncementsPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<AnnouncementSummary>,
}

async fn announcements(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
) -> Result<AnnouncementsPage, PageError> {
    Ok(AnnouncementsPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        rows: designations::announcements(&app).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "announcement.html")]
struct AnnouncementPage {
    layout: Option<Layout>,
    flash: String,
    a: Announcement,
}

async fn announcement(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Path(round_id): Path<String>,
) -> Result<AnnouncementPage, PageError> {
    let id = round_id
        .parse::<RoundId>()
        .map_err(|_| AppError::NotFound)?;
    Ok(AnnouncementPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        a: designations::announcement(&app, id).await?,
    })
}

async fn list_xlsx(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> Result<Response, PageError> {
    let (name, bytes) = designations::list_xlsx(&app, &ctx.principal, id).await?;
    Ok(xlsx_download(
        bytes,
        &name,
        &format!("round-{id}-list.xlsx"),
    ))
}
