//! The audit trail through the API: entries and chain verification.

use axum::Json;
use axum::extract::{Query, State};
use jiqun_domain::access::{Action, Resource};
use serde::Serialize;
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::audit;
use crate::services;
use crate::web::principal::Authed;
use crate::web::views::{AuditEntryView, AuditQuery, VerifyResult, verify_result};

#[derive(OpenApi)]
#[openapi(
    paths(audit_entries, audit_verify),
    components(schemas(AuditEntryView, AuditPage, VerifyResult))
)]
pub struct Doc;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub total: u64,
    pub page: u64,
    pub entries: Vec<AuditEntryView>,
}

#[utoipa::path(get, path = "/api/v1/audit",
    params(("actor" = Option<String>, Query), ("action" = Option<String>, Query), ("object_type" = Option<String>, Query),
           ("from" = Option<String>, Query), ("to" = Option<String>, Query), ("page" = Option<u64>, Query)),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
pub(super) async fn audit_entries(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<AuditQuery>,
) -> ApiResult<AuditPage> {
    services::authorize(&ctx.principal, Resource::AuditLog, Action::View)?;
    let page = q.page.unwrap_or(1).max(1);
    let (rows, total) = audit::query(&app.db, &q.filter()?, page, 100).await?;
    Ok(Json(AuditPage {
        total,
        page,
        entries: rows.iter().map(AuditEntryView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/audit/verify", responses((status = 200, body = VerifyResult)))]
pub(super) async fn audit_verify(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<VerifyResult> {
    services::authorize(&ctx.principal, Resource::AuditLog, Action::View)?;
    Ok(Json(verify_result(&app, &ctx.principal.actor()).await?))
}
