//! 复核 (第十四条): the clusters due in a year, for the province, a city and a cluster.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::services::recheck::{self, DueRow};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/rechecks/due", get(due))
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
