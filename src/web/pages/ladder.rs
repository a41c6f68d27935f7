//! 分级培育梯队 (第十六条): the province's (and a city bureau's own) list of clusters with their
//! rungs county → city → province → national and their highest title, with 导出Excel.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use jiqun_domain::access::{Action, Resource, ScopeKind, permission};

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::services::ladder_list::{self, LadderRow};
use crate::services::listing::{ListNav, ListParams};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/ladder", get(list))
        .route("/ladder/export.xlsx", get(export))
}

#[derive(Template, WebTemplate)]
#[template(path = "ladder_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<LadderRow>,
    nav: ListNav,
    cities: Vec<(String, String)>,
    levels: Vec<(&'static str, &'static str)>,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&ladder_list::LIST, &pairs)?;
    let (rows, total) = ladder_list::page(&app, &ctx.principal, &params).await?;
    let role = ctx.principal.role;
    Ok(ListPage {
        layout: layout(&ctx, "ladder"),
        flash: String::new(),
        rows,
        nav: params
            .nav(&ladder_list::LIST, total)
            .export_if(permission(role, Resource::Cluster, Action::Export).is_some()),
        cities: match permission(role, Resource::Cluster, Action::View) {
            Some(ScopeKind::All) => super::region_choices().0,
            _ => Vec::new(),
        },
        levels: vec![
            ("national", "国家级"),
            ("province", "省级"),
            ("city", "市级"),
            ("county", "县级（尚无称号）"),
        ],
    })
}

/// 导出Excel: every cluster the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&ladder_list::LIST, &pairs)?;
    let bytes = ladder_list::export(&app, &ctx.principal, &params).await?;
    Ok(crate::web::download::xlsx_download(
        bytes,
        "分级培育梯队.xlsx",
        "ladder.xlsx",
    ))
}
