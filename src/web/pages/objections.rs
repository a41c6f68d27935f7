//! The province's list of objections across rounds (`services::objection_list`): filters,
//! paging, sort and 导出Excel; each row links to its round's objection page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use jiqun_domain::access::{Action, Resource, permission};
use jiqun_domain::round::{ObjectionStatus, RoundKind};

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::services::listing::{ListNav, ListParams};
use crate::services::objection_list::{self, ObjectionListRow};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/objections", get(list))
        .route("/objections/export.xlsx", get(export))
}

#[derive(Template, WebTemplate)]
#[template(path = "objections.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<ObjectionListRow>,
    nav: ListNav,
    rounds: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    objectors: Vec<(&'static str, &'static str)>,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&objection_list::LIST, &pairs)?;
    let (rows, total) = objection_list::page(&app, &ctx.principal, &params).await?;
    let role = ctx.principal.role;
    Ok(ListPage {
        layout: layout(&ctx, "objections"),
        flash: String::new(),
        rows,
        nav: params
            .nav(&objection_list::LIST, total)
            .export_if(permission(role, Resource::Objection, Action::Export).is_some()),
        rounds: RoundKind::ALL
            .iter()
            .map(|k| (k.key(), k.label()))
            .collect(),
        statuses: ObjectionStatus::ALL
            .iter()
            .map(|s| (s.key(), s.label()))
            .collect(),
        objectors: objection_list::objector_kinds(),
    })
}

/// 导出Excel: every objection the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&objection_list::LIST, &pairs)?;
    let bytes = objection_list::export(&app, &ctx.principal, &params).await?;
    Ok(crate::web::download::xlsx_download(
        bytes,
        "公示异议.xlsx",
        "objections.xlsx",
    ))
}
