//! Public notice pages (公示, no sign-in needed): the list of notices, one notice with its
//! objection form, and an objection's receipt; and the province's pages: publishing the notice,
//! handling objections and confirming the list.
//!
//! The objection form is multipart (it carries optional evidence). A visitor without a session
//! is covered by the CSRF guard's origin check, as the login form is; a signed-in visitor's
//! token travels in the form's query string, as for every streamed upload.

use crate::store::id::{AttachmentId, ObjectionId, RoundId};
use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::{FormErrors, Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::attachments;
use crate::auth::login::Stage;
use crate::error::AppError;
use crate::services::notices::{
    self, FileError, ObjectionReceipt, ObjectionView, PublicNotice, PublishInput, RoundNotice,
};
use crate::web::download::file_response;
use crate::web::forms::{Confirm, ObjectionForm, read_objection};
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    let filing = Router::new()
        .route("/notices/{round_id}/objections", post(file_objection))
        .layer(DefaultBodyLimit::max(notices::objection_request_limit()));
    Router::new()
        .route("/notices", get(list))
        .route("/notices/{round_id}", get(show))
        .route("/notices/{round_id}/objections/{id}", get(receipt))
        .route("/rounds/{id}/notice", get(manage).post(publish))
        .route("/rounds/{id}/confirm", post(confirm))
        .route("/rounds/{id}/objections", get(objections))
        .route("/objections/{id}/{step}", post(decide))
        .route("/objections/evidence/{attachment_id}", get(evidence))
        .merge(filing)
}

/// The signed-in frame for a visitor with a complete session; public pages work without one.
pub(super) fn public_layout(ctx: Option<&SessionCtx>) -> Option<Layout> {
    ctx.filter(|c| c.stage == Stage::Complete)
        .and_then(|c| layout(c, ""))
}

/// Why a form was refused, in one line: the field messages, or the conflict.
pub(super) fn refusal_text(e: &AppError) -> String {
    match e {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("；"),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Public pages

#[derive(Template, WebTemplate)]
#[template(path = "public_notices.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<notices::NoticeSummary>,
}

async fn list(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
) -> Result<ListPage, PageError> {
    Ok(ListPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        rows: notices::public_list(&app).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "public_notice.html")]
struct NoticePage {
    layout: Option<Layout>,
    flash: String,
    n: PublicNotice,
    /// The form's action, with the session's CSRF token when there is a session.
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
    n: PublicNotice,
    form: ObjectionForm,
    error: Option<&AppError>,
    general_error: String,
) -> NoticePage {
    let mut action = format!("/notices/{}/objections", n.summary.round_id);
    if let Some(c) = ctx {
        action.push_str("?_csrf=");
        action.push_str(&c.session.csrf_token);
    }
    let limits = notices::evidence_limits();
    NoticePage {
        layout: public_layout(ctx),
        flash: String::new(),
        n,
        action,
        form,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error,
        evidence_hint: limits.hint(),
        evidence_accept: limits.accept_attr(),
        max_reason: notices::MAX_REASON_CHARS,
    }
}

async fn show(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    headers: axum::http::HeaderMap,
    Path(round_id): Path<String>,
) -> Result<Response, PageError> {
    let id = round_id
        .parse::<RoundId>()
        .map_err(|_| AppError::NotFound)?;
    // A signed-in visitor's page carries their own frame and token, so it is rendered for them.
    if ctx.is_some() {
        let n = notices::public_notice(&app, id).await?;
        let page = notice_page(
            ctx.as_deref(),
            n,
            ObjectionForm::default(),
            None,
            String::new(),
        );
        return Ok(page.into_response());
    }
    // The public reads one shared page per state, served like a file (see `page_cache`).
    let today = crate::services::calendar::today(&app);
    let stamp = app.public_pages.stamp(&app.db, id).await;
    let page = match app.public_pages.get(id, today, stamp) {
        Some(page) => page,
        None => {
            let n = notices::public_notice(&app, id).await?;
            let html = notice_page(None, n, ObjectionForm::default(), None, String::new())
                .render()
                .map_err(|e| AppError::internal(format!("render the notice: {e}")))?;
            app.public_pages
                .put(id, stamp, today, axum::body::Bytes::from(html))
        }
    };
    Ok(crate::web::download::cached_page_response(&headers, &page))
}

async fn file_objection(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Path(round_id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let ctx = ctx.as_deref();
    let Ok(round_id) = round_id.parse::<RoundId>() else {
        return PageError(AppError::NotFound).into_response();
    };
    let client_addr = crate::web::client_ip(&app.config.trusted_proxies, Some(addr.ip()), &headers);
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(_) => {
            return refused(
                &app,
                ctx,
                round_id,
                ObjectionForm::default(),
                FileError::App(AppError::invalid(
                    attachments::FILE_FIELD,
                    "提交的表单有误（须为 multipart/form-data），请刷新页面后重新填写",
                )),
            )
            .await;
        }
    };
    if let Err(e) = notices::precheck(&app, round_id, &client_addr).await {
        // The typed text is kept for the redraw; the file is read past, never stored.
        let (form, _) = read_objection(&app, &mut multipart, false).await;
        return refused(&app, ctx, round_id, form, e).await;
    }
    let (form, evidence) = read_objection(&app, &mut multipart, true).await;
    let evidence = match evidence {
        Ok(e) => e,
        Err(e) => return refused(&app, ctx, round_id, form, FileError::App(e)).await,
    };
    match notices::file_objection(&app, round_id, &client_addr, &form.input(), evidence).await {
        Ok(r) => Redirect::to(&format!(
            "/notices/{round_id}/objections/{}?key={}",
            r.id, r.key
        ))
        .into_response(),
        Err(e) => refused(&app, ctx, round_id, form, e).await,
    }
}

/// Redraws the notice with the refusal: field errors under their fields, the window or the
/// rate limit at the top; the typed text is kept.
async fn refused(
    app: &App,
    ctx: Option<&SessionCtx>,
    round_id: RoundId,
    form: ObjectionForm,
    e: FileError,
) -> Response {
    let refusal = match Refusal::of(e) {
        Ok(r) => r,
        Err(e) => return PageError(e).into_response(),
    };
    match notices::public_notice(app, round_id).await {
        Ok(n) => {
            let page = notice_page(
                ctx,
                n,
                form,
                refusal.error.as_ref(),
                refusal.general.clone(),
            );
            refusal.answer(page)
        }
        Err(e) => PageError(e).into_response(),
    }
}

/// A refused objection of either kind of notice, as its page answers it: field errors under
/// their fields (422), the window at the top (409), the hourly limit (429 with Retry-After).
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) error: Option<AppError>,
    pub(super) general: String,
}

impl Refusal {
    /// Other errors are the error page's.
    pub(super) fn of(e: FileError) -> Result<Refusal, AppError> {
        let (status, error, general) = match e {
            FileError::RateLimited { limit } => (
                StatusCode::TOO_MANY_REQUESTS,
                None,
                notices::rate_limit_message(limit),
            ),
            FileError::App(e @ AppError::Invalid(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Some(e), String::new())
            }
            FileError::App(e @ AppError::Conflict(_)) => {
                (StatusCode::CONFLICT, None, e.to_string())
            }
            FileError::App(e) => return Err(e),
        };
        Ok(Refusal {
            status,
            error,
            general,
        })
    }

    pub(super) fn answer(&self, page: impl IntoResponse) -> Response {
        let mut res = (self.status, page).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS
            && let Ok(v) = header::HeaderValue::from_str("3600")
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "objection_receipt.html")]
struct ReceiptPage {
    layout: Option<Layout>,
    flash: String,
    notice_href: String,
    r: ObjectionReceipt,
}

#[derive(Deserialize, Default)]
pub(super) struct ReceiptQuery {
    #[serde(default)]
    pub(super) key: String,
}

async fn receipt(
    State(app): State<Shared>,
    ctx: Option<Extension<SessionCtx>>,
    Path((round_id, id)): Path<(String, String)>,
    Query(q): Query<ReceiptQuery>,
) -> Result<ReceiptPage, PageError> {
    let (Ok(round_id), Ok(id)) = (round_id.parse::<RoundId>(), id.parse::<ObjectionId>()) else {
        return Err(AppError::NotFound.into());
    };
    Ok(ReceiptPage {
        layout: public_layout(ctx.as_deref()),
        flash: String::new(),
        notice_href: format!("/notices/{round_id}"),
        r: notices::receipt(&app, round_id, id, &q.key).await?,
    })
}

// ---------------------------------------------------------------------------------------------
// The province's notice page: publish, follow, confirm

#[derive(Template, WebTemplate)]
#[template(path = "notice_manage.html")]
struct ManagePage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    steps: Vec<(&'static str, &'static str)>,
    n: RoundNotice,
    can_update: bool,
    can_export: bool,
    notice_text: String,
    errors: FormErrors,
    general_error: String,
    max_notice: usize,
    /// Publishing and confirming cannot be taken back: the province ticks these first.
    publish_confirm: Confirm,
    list_confirm: Confirm,
}

/// What the province attests before publishing the notice, and what publishing does.
fn publish_confirm() -> Confirm {
    Confirm::new(
        "publish-acknowledge",
        "我已核对拟入选名单和公示说明",
        "发布后公示即向社会公开，公示内容不能修改或撤回",
    )
}

/// What the province attests before confirming the list, and what confirming does.
fn list_confirm(kind: &str) -> Confirm {
    let outcome = if kind == "final" {
        "作出认定"
    } else {
        "确定培育对象"
    };
    Confirm::new(
        "confirm-acknowledge",
        "我已核对名单",
        format!("确认后将{outcome}并生成证书编号，不能撤回"),
    )
}

#[derive(Deserialize, Default)]
struct ManageQuery {
    done: Option<String>,
}

async fn manage_page(
    app: &App,
    ctx: &SessionCtx,
    id: RoundId,
    typed: Option<String>,
    error: Option<&AppError>,
    flash: &str,
) -> Result<ManagePage, PageError> {
    let n = notices::round_notice(app, &ctx.principal, id).await?;
    let role = ctx.principal.role;
    Ok(ManagePage {
        steps: crate::web::views::round_steps(&n.status),
        layout: layout(ctx, "rounds"),
        flash: flash.into(),
        csrf: ctx.session.csrf_token.clone(),
        can_update: permission(role, Resource::Round, Action::Update).is_some(),
        can_export: permission(role, Resource::Round, Action::Export).is_some(),
        notice_text: typed.unwrap_or_else(|| n.notice_text.clone()),
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        // A refusal that repeats why confirmation is blocked is said once, by the blocker.
        general_error: match error {
            Some(AppError::Invalid(_)) | None => String::new(),
            Some(e) if e.to_string() == n.confirm_blocker => String::new(),
            Some(e) => e.to_string(),
        },
        max_notice: notices::MAX_NOTICE_CHARS,
        publish_confirm: publish_confirm().refused_by(error),
        list_confirm: list_confirm(&n.kind).refused_by(error),
        n,
    })
}

async fn manage(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(q): Query<ManageQuery>,
) -> Result<ManagePage, PageError> {
    let flash = match q.done.as_deref() {
        Some("published") => "公示已发布。",
        Some("confirmed") => "名单已确认，认定结果和证书编号已生成。",
        _ => "",
    };
    manage_page(&app, &ctx, id, None, None, flash).await
}

#[derive(Deserialize)]
struct PublishForm {
    #[serde(default)]
    notice_text: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    acknowledge: String,
}

async fn redraw(
    app: &App,
    ctx: &SessionCtx,
    id: RoundId,
    typed: Option<String>,
    e: AppError,
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) | AppError::StaleVersion => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match manage_page(app, ctx, id, typed, Some(&e), "").await {
                Ok(page) => (status, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        other => PageError(other).into_response(),
    }
}

async fn publish(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(f): Form<PublishForm>,
) -> Response {
    let input = PublishInput {
        notice_text: f.notice_text.clone(),
        version: f.version.trim().parse().ok(),
    };
    if let Err(e) = publish_confirm().check(&f.acknowledge) {
        return redraw(&app, &ctx, id, Some(f.notice_text), e).await;
    }
    match notices::publish(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/rounds/{id}/notice?done=published")).into_response(),
        Err(e) => redraw(&app, &ctx, id, Some(f.notice_text), e).await,
    }
}

/// Confirming a list cannot be taken back: the page asks the province to say it checked.
#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    acknowledge: String,
}

async fn confirm(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let kind = match notices::round_notice(&app, &ctx.principal, id).await {
        Ok(n) => n.kind,
        Err(e) => return PageError(e).into_response(),
    };
    if let Err(e) = list_confirm(&kind).check(&f.acknowledge) {
        return redraw(&app, &ctx, id, None, e).await;
    }
    let input = notices::ConfirmInput {
        version: f.version.trim().parse().ok(),
    };
    match notices::confirm(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/rounds/{id}/notice?done=confirmed")).into_response(),
        Err(e) => redraw(&app, &ctx, id, None, e).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Handling objections (province)

#[derive(Template, WebTemplate)]
#[template(path = "objection_list.html")]
struct ObjectionsPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    round_id: RoundId,
    title: String,
    period: String,
    rows: Vec<ObjectionView>,
    can_decide: bool,
    /// The objection whose form failed, the reply typed and the message.
    failed_id: ObjectionId,
    failed_reply: String,
    failed_message: String,
    /// The failed post lacked the confirmation tick (its message goes under the tick).
    failed_ack: bool,
}

/// What the province attests before deciding an objection, and what deciding does.
fn objection_confirm(id: ObjectionId) -> Confirm {
    Confirm::new(
        format!("objection-acknowledge-{id}"),
        "我已调查核实",
        "处理决定将按受理编号在公示页面公开；异议成立的，该集群的拟入选资格即被取消；决定不能撤回（登记调查无需勾选）",
    )
}

impl ObjectionsPage {
    fn confirm_for(&self, id: &ObjectionId) -> Confirm {
        let mut c = objection_confirm(*id);
        if *id == self.failed_id && self.failed_ack {
            c.error = self.failed_message.clone();
        }
        c
    }

    fn reply_for(&self, id: &ObjectionId) -> &str {
        if *id == self.failed_id {
            &self.failed_reply
        } else {
            ""
        }
    }

    fn error_for(&self, id: &ObjectionId) -> &str {
        if *id == self.failed_id && !self.failed_ack {
            &self.failed_message
        } else {
            ""
        }
    }
}

#[derive(Deserialize, Default)]
struct ObjectionsQuery {
    done: Option<String>,
}

async fn objections_page(
    app: &App,
    ctx: &SessionCtx,
    round_id: RoundId,
    failed: Option<(ObjectionId, String, String, bool)>,
    flash: String,
) -> Result<ObjectionsPage, PageError> {
    let (r, rows) = notices::objections(app, &ctx.principal, round_id).await?;
    let n = notices::round_notice(app, &ctx.principal, r.id).await?;
    let (failed_id, failed_reply, failed_message, failed_ack) = failed.unwrap_or_default();
    Ok(ObjectionsPage {
        layout: layout(ctx, "rounds"),
        flash,
        csrf: ctx.session.csrf_token.clone(),
        round_id: r.id,
        title: n.title,
        period: n.period,
        rows,
        can_decide: permission(ctx.principal.role, Resource::Objection, Action::Review).is_some()
            && n.status == "on_notice",
        failed_id,
        failed_reply,
        failed_message,
        failed_ack,
    })
}

async fn objections(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(q): Query<ObjectionsQuery>,
) -> Result<ObjectionsPage, PageError> {
    let flash = q
        .done
        .map(|d| format!("受理编号{d}的异议已处理。"))
        .unwrap_or_default();
    objections_page(&app, &ctx, id, None, flash).await
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    reply: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    acknowledge: String,
}

async fn decide(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((id, step)): Path<(ObjectionId, String)>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let Some(step) = notices::step_from_key(&step) else {
        return PageError(AppError::NotFound).into_response();
    };
    let round_id = match notices::objection_view(&app, &ctx.principal, id).await {
        Ok(o) => o.round_id,
        Err(e) => return PageError(e).into_response(),
    };
    // Registering for investigation decides nothing; dismissing or upholding does.
    let acknowledged = match step {
        jiqun_domain::round::ObjectionStep::Register => Ok(()),
        _ => objection_confirm(id).check(&f.acknowledge),
    };
    let done = match acknowledged {
        Ok(()) => {
            notices::decide(
                &app,
                &ctx.principal,
                id,
                step,
                &f.reply,
                f.version.trim().parse().ok(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Redirect::to(&format!(
            "/rounds/{round_id}/objections?done={id}#objection-{id}"
        ))
        .into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::StaleVersion)) => {
            let message = refusal_text(&e);
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match objections_page(
                &app,
                &ctx,
                round_id,
                Some((
                    id,
                    f.reply,
                    message,
                    e.fields()
                        .iter()
                        .any(|x| x.field == crate::web::forms::ACKNOWLEDGE),
                )),
                String::new(),
            )
            .await
            {
                Ok(page) => (status, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn evidence(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(attachment_id): Path<String>,
) -> Result<Response, PageError> {
    let id = attachment_id
        .parse::<AttachmentId>()
        .map_err(|_| AppError::NotFound)?;
    let d = notices::open_evidence(&app, &ctx.principal, id).await?;
    Ok(file_response(d).await?)
}
