//! Revocation cases (第十四条 按程序撤销): the list in the reader's scope, the opening form, one
//! case with each step's form (evidence, 告知书, 陈述申辩 with files, decision), the 决定书 laid out
//! as a 公文 for printing and as a PDF; and, public, the published decisions to revoke.

use crate::store::id::RevocationCaseId;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::notices::{public_layout, refusal_text};
use super::{FormErrors, Layout, PageError, error_page, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::designations::PdfFailure;
use crate::services::listing::{ListNav, ListParams};
use crate::services::revocation::{
    self, Candidate, CaseView, DecideInput, DecisionDocument, Ground, OpenInput, PublishedDecision,
    RespondInput,
};
use crate::services::revocation_list;
use crate::web::download::attachment;
use crate::web::forms::Confirm;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/revocations", get(list).post(open))
        .route("/revocations/export.xlsx", get(export))
        .route("/revocations/new", get(new_form))
        .route("/revocations/{id}", get(show))
        .route("/revocations/{id}/notify", post(notify))
        .route("/revocations/{id}/respond", post(respond))
        .route("/revocations/{id}/decide", post(decide))
        .route("/revocations/{id}/decision", get(decision))
        .route("/revocation-decisions", get(published))
        .route("/revocation-decisions/{id}", get(published_one))
}

#[derive(Template, WebTemplate)]
#[template(path = "revocation_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<CaseView>,
    nav: ListNav,
    cities: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    can_open: bool,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&revocation_list::LIST, &pairs)?;
    let (rows, total) = revocation_list::page(&app, &ctx.principal, &params).await?;
    let role = ctx.principal.role;
    Ok(ListPage {
        layout: layout(&ctx, "revocations"),
        flash: String::new(),
        rows,
        nav: params
            .nav(&revocation_list::LIST, total)
            .export_if(permission(role, Resource::Revocation, Action::Export).is_some()),
        cities: match permission(role, Resource::Revocation, Action::View) {
            Some(jiqun_domain::access::ScopeKind::All) => super::region_choices().0,
            _ => Vec::new(),
        },
        statuses: jiqun_domain::revocation::CaseStatus::ALL
            .iter()
            .map(|s| (s.key(), s.label()))
            .collect(),
        can_open: permission(role, Resource::Revocation, Action::Create).is_some(),
    })
}

/// 导出Excel: every case the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&revocation_list::LIST, &pairs)?;
    let bytes = revocation_list::export(&app, &ctx.principal, &params).await?;
    Ok(crate::web::download::xlsx_download(
        bytes,
        "撤销案件.xlsx",
        "revocations.xlsx",
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "revocation_new.html")]
struct NewPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    grounds: Vec<Ground>,
    candidates: Vec<Candidate>,
    cluster_id: String,
    ground: String,
    facts: String,
    errors: FormErrors,
    error: String,
}

#[derive(Deserialize, Default)]
struct NewQuery {
    cluster_id: Option<String>,
    /// A ground key to preselect (the monitoring page links with 弄虚作假).
    ground: Option<String>,
}

async fn new_page(
    app: &App,
    ctx: &SessionCtx,
    form: OpenForm,
    error: Option<&AppError>,
) -> Result<NewPage, AppError> {
    Ok(NewPage {
        layout: layout(ctx, "revocations"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        grounds: revocation::grounds(app)?,
        candidates: revocation::candidates(app, &ctx.principal).await?,
        cluster_id: form.cluster_id,
        ground: form.ground,
        facts: form.facts,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        error: error.map(refusal_text).unwrap_or_default(),
    })
}

async fn new_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<NewQuery>,
) -> Result<NewPage, PageError> {
    let form = OpenForm {
        cluster_id: q.cluster_id.unwrap_or_default(),
        ground: q.ground.unwrap_or_default(),
        ..Default::default()
    };
    Ok(new_page(&app, &ctx, form, None).await?)
}

#[derive(Deserialize, Default)]
struct OpenForm {
    #[serde(default)]
    cluster_id: String,
    #[serde(default)]
    ground: String,
    #[serde(default)]
    facts: String,
}

async fn open(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(f): Form<OpenForm>,
) -> Result<Response, PageError> {
    let input = OpenInput {
        cluster_id: f.cluster_id.trim().parse().ok(),
        ground: f.ground.clone(),
        facts: f.facts.clone(),
    };
    match revocation::open(&app, &ctx.principal, &input).await {
        Ok(c) => Ok(Redirect::to(&format!("/revocations/{}?saved=opened", c.id)).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            Ok((status, new_page(&app, &ctx, f, Some(&e)).await?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "revocation_show.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    c: CaseView,
    statement: String,
    outcome: String,
    reasons: String,
    error: String,
    upload_error: String,
    steps: Vec<(&'static str, &'static str)>,
    next: Option<(String, String)>,
    /// Each step of a case is final: its form asks for a tick first.
    notify_confirm: Confirm,
    respond_confirm: Confirm,
    decide_confirm: Confirm,
}

fn notify_confirm() -> Confirm {
    Confirm::new(
        "notify-acknowledge",
        "我已核对事实和证据材料",
        "告知书发出后即通知当事方并开始计算陈述申辩期限，不能撤回，也不能再补充证据",
    )
}

fn respond_confirm() -> Confirm {
    Confirm::new(
        "respond-acknowledge",
        "我已核对陈述申辩意见和证明材料",
        "陈述申辩只能提交一次，提交后不能修改或补充",
    )
}

fn decide_confirm() -> Confirm {
    Confirm::new(
        "decide-acknowledge",
        "我已审阅事实、证据和陈述申辩",
        "决定书将编号生成并不能更改；决定撤销的，该集群现有称号及证书全部作废并予以公布",
    )
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    saved: Option<String>,
    upload_error: Option<String>,
}

fn show_page(ctx: &SessionCtx, c: CaseView, flash: &str) -> ShowPage {
    let next = if c.can_notify {
        Some(("发出告知书", "#notify"))
    } else if c.can_respond {
        Some(("提交陈述申辩", "#statement"))
    } else if c.can_decide && c.decision_ready {
        Some(("作出决定", "#decide"))
    } else {
        None
    };
    ShowPage {
        steps: crate::web::views::case_steps(&c.status),
        next: next.map(|(l, h)| (l.to_string(), h.to_string())),
        notify_confirm: notify_confirm(),
        respond_confirm: respond_confirm(),
        decide_confirm: decide_confirm(),
        layout: layout(ctx, "revocations"),
        flash: flash.into(),
        csrf: ctx.session.csrf_token.clone(),
        c,
        statement: String::new(),
        outcome: String::new(),
        reasons: String::new(),
        error: String::new(),
        upload_error: String::new(),
    }
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let id = id
        .parse::<RevocationCaseId>()
        .map_err(|_| AppError::NotFound)?;
    let c = revocation::get(&app, &ctx.principal, id).await?;
    let flash = match q.saved.as_deref() {
        Some("opened") => "已立案。请补充证据材料后发出告知书。",
        Some("notified") => "告知书已发出，已通知集群发展促进组织及所在市州工信局。",
        Some("responded") => "陈述申辩已提交。",
        Some("decided") => "决定已作出，决定书已生成。",
        _ => "",
    };
    let mut page = show_page(&ctx, c, flash);
    page.upload_error = q.upload_error.unwrap_or_default();
    Ok(page)
}

/// A refused step shows the case again with the reason and what was typed.
async fn refused_step(
    app: &App,
    ctx: &SessionCtx,
    id: RevocationCaseId,
    e: AppError,
    keep: impl FnOnce(&mut ShowPage),
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            match revocation::get(app, &ctx.principal, id).await {
                Ok(c) => {
                    let mut page = show_page(ctx, c, "");
                    let unticked = e
                        .fields()
                        .iter()
                        .any(|f| f.field == crate::web::forms::ACKNOWLEDGE);
                    if unticked {
                        // Said once, under the tick that was missing.
                        page.notify_confirm = page.notify_confirm.refused_by(Some(&e));
                        page.respond_confirm = page.respond_confirm.refused_by(Some(&e));
                        page.decide_confirm = page.decide_confirm.refused_by(Some(&e));
                    } else {
                        page.error = refusal_text(&e);
                    }
                    keep(&mut page);
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
        e => PageError(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct NotifyForm {
    #[serde(default)]
    acknowledge: String,
}

async fn notify(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
    Form(f): Form<NotifyForm>,
) -> Response {
    if let Err(e) = notify_confirm().check(&f.acknowledge) {
        return refused_step(&app, &ctx, id, e, |_| {}).await;
    }
    match revocation::notify(&app, &ctx.principal, id).await {
        Ok(_) => Redirect::to(&format!("/revocations/{id}?saved=notified")).into_response(),
        Err(e) => refused_step(&app, &ctx, id, e, |_| {}).await,
    }
}

#[derive(Deserialize, Default)]
struct RespondForm {
    #[serde(default)]
    statement: String,
    #[serde(default)]
    acknowledge: String,
}

async fn respond(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
    Form(f): Form<RespondForm>,
) -> Response {
    let input = RespondInput {
        statement: f.statement.clone(),
    };
    let done = match respond_confirm().check(&f.acknowledge) {
        Ok(()) => revocation::respond(&app, &ctx.principal, id, &input).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/revocations/{id}?saved=responded")).into_response(),
        Err(e) => refused_step(&app, &ctx, id, e, |p| p.statement = f.statement).await,
    }
}

#[derive(Deserialize, Default)]
struct DecideForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    acknowledge: String,
}

async fn decide(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
    Form(f): Form<DecideForm>,
) -> Response {
    let input = DecideInput {
        outcome: f.outcome.clone(),
        reasons: f.reasons.clone(),
    };
    let done = match decide_confirm().check(&f.acknowledge) {
        Ok(()) => revocation::decide(&app, &ctx.principal, id, &input).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/revocations/{id}?saved=decided")).into_response(),
        Err(e) => {
            refused_step(&app, &ctx, id, e, |p| {
                p.outcome = f.outcome;
                p.reasons = f.reasons;
            })
            .await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "revocation_decision.html")]
struct DecisionPage {
    layout: Option<Layout>,
    flash: String,
    d: DecisionDocument,
    /// Where the PDF is; empty on the public page.
    pdf_href: String,
    back_href: String,
}

/// `/revocations/{id}/decision` is the printable 决定书; with `?pdf=1` it is the PDF.
#[derive(Deserialize, Default)]
struct DecisionQuery {
    pdf: Option<String>,
}

async fn decision(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RevocationCaseId>,
    Query(q): Query<DecisionQuery>,
) -> Result<Response, PageError> {
    if q.pdf.is_some() {
        return Ok(pdf(&app, &ctx, id).await);
    }
    Ok(DecisionPage {
        layout: layout(&ctx, "revocations"),
        flash: String::new(),
        d: revocation::decision(&app, &ctx.principal, id).await?,
        pdf_href: format!("/revocations/{id}/decision?pdf=1"),
        back_href: format!("/revocations/{id}"),
    }
    .into_response())
}

async fn pdf(app: &App, ctx: &SessionCtx, id: RevocationCaseId) -> Response {
    match revocation::decision_pdf(app, &ctx.principal, id).await {
        Ok((d, bytes)) => attachment(
            "application/pdf",
            bytes,
            &format!("决定书-{}.pdf", d.number),
            &format!("revocation-decision-{id}.pdf"),
        ),
        Err(PdfFailure::Unavailable(message)) => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "决定书PDF暂时无法生成：{message}。您仍可打开决定书页面，使用浏览器的“打印”另存为PDF。"
            ),
        ),
        Err(PdfFailure::App(e)) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "revocation_published.html")]
struct PublishedPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<PublishedDecision>,
}

async fn published(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
) -> Result<PublishedPage, PageError> {
    Ok(PublishedPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        rows: revocation::published(&app).await?,
    })
}

async fn published_one(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Path(id): Path<String>,
) -> Result<DecisionPage, PageError> {
    let id = id
        .parse::<RevocationCaseId>()
        .map_err(|_| AppError::NotFound)?;
    Ok(DecisionPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        d: revocation::published_one(&app, id).await?,
        pdf_href: String::new(),
        back_href: "/revocation-decisions".into(),
    })
}
