//! The workbench page: renders each role's to-do list and figures (rules in
//! `services::workbench`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::services::workbench::{self, Todo};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/", get(workbench))
}

#[derive(Template, WebTemplate)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    layout: Option<Layout>,
    flash: String,
    heading: String,
    todos: Vec<Todo>,
    stats: Vec<(String, u64)>,
    /// The province's and a city bureau's way to the dashboard.
    dashboard: bool,
}

async fn workbench(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> Result<WorkbenchPage, PageError> {
    let workbench::Workbench { todos, stats } =
        workbench::for_principal(&app, &ctx.principal, ctx.unread).await?;
    Ok(WorkbenchPage {
        layout: layout(&ctx, "home"),
        flash: String::new(),
        heading: format!("{}工作台", ctx.principal.role.label()),
        todos,
        stats,
        dashboard: matches!(
            jiqun_domain::access::permission(
                ctx.principal.role,
                jiqun_domain::access::Resource::Report,
                jiqun_domain::access::Action::Review
            ),
            Some(jiqun_domain::access::ScopeKind::All | jiqun_domain::access::ScopeKind::OwnCity)
        ),
    })
}
