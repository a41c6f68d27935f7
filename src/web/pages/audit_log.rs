//! The audit administrator's view of the log: filter, page, export, verify. Nothing here writes.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use jiqun_domain::access::{Action, Resource};

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::audit;
use crate::services::authorize;
use crate::web::principal::{Authed, SessionCtx};
use crate::web::views::{AuditEntryView, AuditQuery, verify_result};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/audit", get(list))
        .route("/audit/export", get(export))
        .route("/audit/verify", post(verify))
}

const PER_PAGE: u64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    entries: Vec<AuditEntryView>,
    total: u64,
    page: u64,
    has_next: bool,
    q_actor: String,
    q_action: String,
    q_object_type: String,
    actions: &'static [(&'static str, &'static str)],
    object_types: &'static [(&'static str, &'static str)],
    q_from: String,
    q_to: String,
    query_string: String,
    filter_error: String,
    verify_message: String,
    verify_ok: bool,
}

fn query_string(q: &AuditQuery) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("object_type", &q.object_type),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

async fn page(
    app: &Shared,
    ctx: &SessionCtx,
    q: AuditQuery,
    verify: Option<(bool, String)>,
) -> Result<AuditPage, PageError> {
    authorize(&ctx.principal, Resource::AuditLog, Action::View)?;
    let page = q.page.unwrap_or(1).max(1);
    let (filter, filter_error) = match q.filter() {
        Ok(f) => (f, String::new()),
        Err(e) => (
            audit::Filter::default(),
            e.fields()
                .first()
                .map(|f| f.message.clone())
                .unwrap_or_default(),
        ),
    };
    let (rows, total) = audit::query(&app.db, &filter, page, PER_PAGE).await?;
    let (verify_ok, verify_message) = verify.unwrap_or_default();
    Ok(AuditPage {
        layout: layout(ctx, "audit"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        entries: rows.iter().map(AuditEntryView::from).collect(),
        total,
        page,
        has_next: page * PER_PAGE < total,
        query_string: query_string(&q),
        q_actor: q.actor.unwrap_or_default(),
        q_action: q.action.unwrap_or_default(),
        q_object_type: q.object_type.unwrap_or_default(),
        actions: jiqun_domain::audit_vocabulary::ACTIONS,
        object_types: jiqun_domain::audit_vocabulary::OBJECT_TYPES,
        q_from: q.from.unwrap_or_default(),
        q_to: q.to.unwrap_or_default(),
        filter_error,
        verify_message,
        verify_ok,
    })
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<AuditQuery>,
) -> Result<AuditPage, PageError> {
    page(&app, &ctx, q, None).await
}

async fn verify(State(app): State<Shared>, Authed(ctx): Authed) -> Result<AuditPage, PageError> {
    authorize(&ctx.principal, Resource::AuditLog, Action::View)?;
    let result = verify_result(&app, &ctx.principal.actor()).await?;
    page(
        &app,
        &ctx,
        AuditQuery::default(),
        Some((result.intact, result.message)),
    )
    .await
}

async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    authorize(&ctx.principal, Resource::AuditLog, Action::Export)?;
    let filter = q.filter()?;
    let (rows, _) = audit::query(&app.db, &filter, 1, 100_000).await?;
    audit::record_own(
        &app,
        ctx.principal.actor(),
        audit::Event {
            action: "audit.export",
            object_type: "audit_log",
            object_id: "*".into(),
            summary: format!("导出审计日志{}条（筛选：{}）", rows.len(), query_string(&q)),
            ..Default::default()
        },
    )
    .await?;
    Ok(crate::web::download::attachment(
        "text/csv; charset=utf-8",
        audit::to_csv(&rows).into_bytes(),
        "audit-log.csv",
        "audit-log.csv",
    ))
}
