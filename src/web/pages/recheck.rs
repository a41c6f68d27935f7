//! 复核 (第十四条) pages: the clusters due in a year; the calls and the rechecks in the reader's
//! scope with the province's call form; one recheck with its step indicator, the materials form
//! (the cluster), the city's opinion form, the province's panel form and its conclusion; the
//! public result notice. The same service as the JSON API decides every step.

use std::net::SocketAddr;

use crate::store::id::{RecheckCallId, RecheckId, RecheckObjectionId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::notices::{ReceiptQuery, Refusal, public_layout, refusal_text};
use super::{FormErrors, Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::notices::FileError;
use crate::services::recheck::{
    self, CallInput, CallView, DueRow, MaterialsInput, PanelMember, RecheckNotice,
    RecheckObjectionReceipt, RecheckOpinionInput, RecheckView, ReviewInput,
};
use crate::web::forms::{ObjectionForm, read_objection};
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/rechecks/due", get(due))
        .route("/rechecks", get(list).post(issue_call))
        .route("/rechecks/{id}", get(show))
        .route("/rechecks/{id}/materials", post(save_materials))
        .route("/rechecks/{id}/opinion", post(opine))
        .route("/rechecks/{id}/review", post(review))
        .route("/rechecks/{id}/conclude", post(conclude))
        .route("/recheck-calls/{id}/notice", post(publish_notice))
        .route("/recheck-notices/{id}", get(public_notice))
        .route(
            "/recheck-notices/{id}/objections/{objection_id}",
            get(objection_receipt),
        )
        .route("/recheck-objections/{id}", post(decide_objection))
        .merge(
            Router::new()
                .route("/recheck-notices/{id}/objections", post(file_objection))
                .layer(DefaultBodyLimit::max(
                    crate::services::notices::objection_request_limit(),
                )),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "recheck_due.html")]
struct DuePage {
    layout: Option<Layout>,
    flash: String,
    year: i32,
    rows: Vec<DueRow>,
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<String>,
}

async fn due(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<YearQuery>,
) -> Result<DuePage, PageError> {
    let year = recheck::parse_year(
        q.year.as_deref(),
        crate::services::calendar::today(&app).year(),
    )?;
    Ok(DuePage {
        layout: layout(&ctx, "rechecks"),
        flash: String::new(),
        rows: recheck::due(&app, &ctx.principal, year).await?,
        year,
    })
}

// ---------------------------------------------------------------------------------------------
// The list and the call

#[derive(Template, WebTemplate)]
#[template(path = "recheck_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    calls: Vec<CallView>,
    rows: Vec<RecheckView>,
    can_call: bool,
    f: CallInput,
    error: String,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    saved: Option<String>,
}

async fn list_page(
    app: &App,
    ctx: &SessionCtx,
    f: CallInput,
    error: String,
    flash: &str,
) -> Result<ListPage, AppError> {
    let role = ctx.principal.role;
    Ok(ListPage {
        layout: layout(ctx, "rechecks"),
        flash: flash.into(),
        csrf: ctx.session.csrf_token.clone(),
        calls: recheck::calls(app, &ctx.principal).await?,
        rows: recheck::list(app, &ctx.principal).await?,
        can_call: permission(role, Resource::Recheck, Action::Create).is_some(),
        f,
        error,
    })
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let flash = match q.saved.as_deref() {
        Some("call") => "复核通知已发布，到期复核的集群及其所在市州已收到通知。",
        Some("notice") => "复核结果公示已发布，公示期满后方可确认结果。",
        _ => "",
    };
    let year = crate::services::calendar::today(&app).year().to_string();
    let f = CallInput {
        year,
        ..CallInput::default()
    };
    Ok(list_page(&app, &ctx, f, String::new(), flash).await?)
}

async fn issue_call(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(f): Form<CallInput>,
) -> Response {
    match recheck::issue_call(&app, &ctx.principal, &f).await {
        Ok(_) => Redirect::to("/rechecks?saved=call").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match list_page(&app, &ctx, f, refusal_text(&e), "").await {
                Ok(page) => (status, page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn publish_notice(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckCallId>,
) -> Response {
    match recheck::publish_notice(&app, &ctx.principal, id).await {
        Ok(_) => Redirect::to("/rechecks?saved=notice").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match list_page(&app, &ctx, CallInput::default(), refusal_text(&e), "").await {
                Ok(page) => (status, page).into_response(),
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// One recheck

#[derive(Template, WebTemplate)]
#[template(path = "recheck_show.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    r: RecheckView,
    steps: Vec<(&'static str, &'static str)>,
    /// The pool, each with whether it is ticked.
    experts: Vec<(PanelMember, bool)>,
    score: String,
    error: String,
    text: String,
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    saved: Option<String>,
    upload_error: Option<String>,
}

async fn show_page(
    app: &App,
    ctx: &SessionCtx,
    r: RecheckView,
    flash: &str,
) -> Result<ShowPage, AppError> {
    let experts = if r.can_review {
        recheck::pool(app, &ctx.principal)
            .await?
            .into_iter()
            .map(|e| (e, false))
            .collect()
    } else {
        Vec::new()
    };
    let status = jiqun_domain::recheck::Status::ALL
        .into_iter()
        .find(|s| s.key() == r.status)
        .unwrap_or(jiqun_domain::recheck::Status::Due);
    Ok(ShowPage {
        layout: layout(ctx, "rechecks"),
        flash: flash.into(),
        csrf: ctx.session.csrf_token.clone(),
        steps: jiqun_domain::recheck::steps(status)
            .into_iter()
            .map(|(label, state)| (label, state.key()))
            .collect(),
        experts,
        score: String::new(),
        r,
        error: String::new(),
        text: String::new(),
    })
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let id = id.parse::<RecheckId>().map_err(|_| AppError::NotFound)?;
    let r = recheck::get(&app, &ctx.principal, id).await?;
    let flash = match q.saved.as_deref() {
        Some("draft") => "复核材料已保存，可继续修改；截止日期前请提交。",
        Some("submitted") => "复核材料已提交，已通知所在市州工信局出具意见。",
        Some("opinion") => "市州意见已提交，已通知省工信厅组织评审。",
        Some("reviewed") => "专家组评审结果已记录，请在结果公示期满后确认。",
        Some("concluded") => "复核结果已确认，已通知集群促进组织。",
        Some("objection") => "异议办理结果已记录。",
        _ => "",
    };
    let mut page = show_page(&app, &ctx, r, flash).await?;
    page.error = q.upload_error.unwrap_or_default();
    Ok(page)
}

/// A refused step shows the page again with the message and what was typed.
async fn refused_step(
    app: &App,
    ctx: &SessionCtx,
    id: RecheckId,
    e: AppError,
    keep: impl FnOnce(&mut ShowPage),
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            match recheck::get(app, &ctx.principal, id).await {
                Ok(r) => match show_page(app, ctx, r, "").await {
                    Ok(mut page) => {
                        page.error = refusal_text(&e);
                        keep(&mut page);
                        (
                            StatusCode::from_u16(e.status())
                                .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                            page,
                        )
                            .into_response()
                    }
                    Err(e) => PageError(e).into_response(),
                },
                Err(e) => PageError(e).into_response(),
            }
        }
        e => PageError(e).into_response(),
    }
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

async fn save_materials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let input = MaterialsInput {
        indicators: pairs
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("indicators.")
                    .map(|key| (key.to_string(), v.clone()))
            })
            .collect(),
        self_assessment: value(&pairs, "self_assessment").to_string(),
        submit: value(&pairs, "action") == "submit",
    };
    match recheck::save_materials(&app, &ctx.principal, id, &input).await {
        Ok(_) => {
            let saved = if input.submit { "submitted" } else { "draft" };
            Redirect::to(&format!("/rechecks/{id}?saved={saved}")).into_response()
        }
        Err(e) => {
            refused_step(&app, &ctx, id, e, |page| {
                for f in &mut page.r.indicators {
                    if let Some(v) = input.indicators.get(&f.key) {
                        f.value.clone_from(v);
                    }
                }
                page.r.self_assessment = input.self_assessment.clone();
            })
            .await
        }
    }
}

#[derive(Deserialize, Default)]
struct OpinionForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    text: String,
}

async fn opine(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
    Form(f): Form<OpinionForm>,
) -> Response {
    let input = RecheckOpinionInput {
        agrees: f.verdict == "agree",
        opinion: f.text.clone(),
    };
    match recheck::opine(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/rechecks/{id}?saved=opinion")).into_response(),
        Err(e) => refused_step(&app, &ctx, id, e, |page| page.text = f.text).await,
    }
}

async fn review(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let input = ReviewInput {
        expert_ids: pairs
            .iter()
            .filter(|(k, _)| k == "expert_ids")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        score: value(&pairs, "score").to_string(),
        reasons: value(&pairs, "reasons").to_string(),
    };
    match recheck::review(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/rechecks/{id}?saved=reviewed")).into_response(),
        Err(e) => {
            refused_step(&app, &ctx, id, e, |page| {
                for (e, checked) in &mut page.experts {
                    *checked = input.expert_ids.contains(&e.id);
                }
                page.score = input.score.clone();
                page.text = input.reasons.clone();
            })
            .await
        }
    }
}

async fn conclude(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckId>,
) -> Response {
    match recheck::conclude(&app, &ctx.principal, id).await {
        Ok(_) => Redirect::to(&format!("/rechecks/{id}?saved=concluded")).into_response(),
        Err(e) => refused_step(&app, &ctx, id, e, |_| {}).await,
    }
}

// ---------------------------------------------------------------------------------------------
// The public result notice

#[derive(Template, WebTemplate)]
#[template(path = "recheck_notice.html")]
struct NoticePage {
    layout: Option<Layout>,
    flash: String,
    n: RecheckNotice,
    /// The objection form's action, with the session's CSRF token when there is a session.
    action: String,
    form: ObjectionForm,
    errors: FormErrors,
    general_error: String,
    evidence_hint: String,
    evidence_accept: String,
    max_reason: usize,
}

fn notice_page(
    ctx: Option<&SessionCtx>,
    n: RecheckNotice,
    form: ObjectionForm,
    refusal: Option<&Refusal>,
) -> NoticePage {
    let mut action = format!("/recheck-notices/{}/objections", n.call_id);
    if let Some(c) = ctx {
        action.push_str("?_csrf=");
        action.push_str(&c.session.csrf_token);
    }
    let limits = crate::services::notices::evidence_limits();
    NoticePage {
        layout: public_layout(ctx),
        flash: String::new(),
        n,
        action,
        form,
        errors: refusal
            .and_then(|r| r.error.as_ref())
            .map(FormErrors::from_error)
            .unwrap_or_default(),
        general_error: refusal.map(|r| r.general.clone()).unwrap_or_default(),
        evidence_hint: limits.hint(),
        evidence_accept: limits.accept_attr(),
        max_reason: crate::services::notices::MAX_REASON_CHARS,
    }
}

async fn public_notice(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Path(id): Path<String>,
) -> Result<NoticePage, PageError> {
    let id = id
        .parse::<RecheckCallId>()
        .map_err(|_| AppError::NotFound)?;
    let n = recheck::public_notice(&app, id).await?;
    Ok(notice_page(
        ctx.as_deref(),
        n,
        ObjectionForm::default(),
        None,
    ))
}

async fn file_objection(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let ctx = ctx.as_deref();
    let Ok(id) = id.parse::<RecheckCallId>() else {
        return PageError(AppError::NotFound).into_response();
    };
    let client_addr = crate::web::client_ip(&app.config.trusted_proxies, Some(addr.ip()), &headers);
    let Ok(mut multipart) = multipart else {
        let e = AppError::invalid(
            crate::attachments::FILE_FIELD,
            "提交的表单有误（须为 multipart/form-data），请刷新页面后重新填写",
        );
        return objection_refused(&app, ctx, id, ObjectionForm::default(), FileError::App(e)).await;
    };
    if let Err(e) = recheck::precheck_objection(&app, id, &client_addr).await {
        // The typed text is kept for the redraw; the file is read past, never stored.
        let (form, _) = read_objection(&app, &mut multipart, false).await;
        return objection_refused(&app, ctx, id, form, e).await;
    }
    let (form, evidence) = read_objection(&app, &mut multipart, true).await;
    let evidence = match evidence {
        Ok(e) => e,
        Err(e) => return objection_refused(&app, ctx, id, form, FileError::App(e)).await,
    };
    match recheck::file_objection(&app, id, &client_addr, &form.recheck_input(), evidence).await {
        Ok(r) => Redirect::to(&format!(
            "/recheck-notices/{id}/objections/{}?key={}",
            r.id, r.key
        ))
        .into_response(),
        Err(e) => objection_refused(&app, ctx, id, form, e).await,
    }
}

/// Redraws the notice with the refusal; the typed text is kept.
async fn objection_refused(
    app: &App,
    ctx: Option<&SessionCtx>,
    id: RecheckCallId,
    form: ObjectionForm,
    e: FileError,
) -> Response {
    let refusal = match Refusal::of(e) {
        Ok(r) => r,
        Err(e) => return PageError(e).into_response(),
    };
    match recheck::public_notice(app, id).await {
        Ok(n) => refusal.answer(notice_page(ctx, n, form, Some(&refusal))),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "objection_receipt.html")]
struct ReceiptPage {
    layout: Option<Layout>,
    flash: String,
    notice_href: String,
    r: RecheckObjectionReceipt,
}

async fn objection_receipt(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Path((id, objection_id)): Path<(String, String)>,
    Query(q): Query<ReceiptQuery>,
) -> Result<ReceiptPage, PageError> {
    let (Ok(id), Ok(objection_id)) = (
        id.parse::<RecheckCallId>(),
        objection_id.parse::<RecheckObjectionId>(),
    ) else {
        return Err(AppError::NotFound.into());
    };
    Ok(ReceiptPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        notice_href: format!("/recheck-notices/{id}"),
        r: recheck::objection_receipt(&app, id, objection_id, &q.key).await?,
    })
}

#[derive(Deserialize, Default)]
struct DecideForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    reply: String,
    version: Option<i32>,
}

async fn decide_objection(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RecheckObjectionId>,
    Form(f): Form<DecideForm>,
) -> Response {
    let Some(step) = crate::services::notices::step_from_key(&f.step) else {
        return PageError(AppError::invalid("step", "请选择办理方式")).into_response();
    };
    match recheck::decide_objection(&app, &ctx.principal, id, step, &f.reply, f.version).await {
        Ok(o) => Redirect::to(&format!(
            "/rechecks/{}?saved=objection#objections",
            o.recheck_id
        ))
        .into_response(),
        Err(e) => match recheck::objection_recheck(&app, &ctx.principal, id).await {
            Ok(recheck_id) => refused_step(&app, &ctx, recheck_id, e, |_| {}).await,
            Err(_) => PageError(e).into_response(),
        },
    }
}
