//! The dashboard page (第五条, 第十三条): the province sees all of Hunan, a city bureau its
//! city. Every table is drawn as a chart by `static/charts.js` from the same table embedded as
//! JSON; each count links to the list behind it; each table has its 导出Excel.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::services::dashboard::{self as svc, Dashboard, DashboardQuery, Table};
use crate::web::download::dashboard_download;
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/dashboard", get(show))
        .route("/dashboard/export.xlsx", get(export))
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Option<Layout>,
    flash: String,
    d: Dashboard,
    echarts: &'static str,
}

/// A table as the JSON the chart script reads, safe inside a `<script>` element.
pub(crate) fn chart_json(t: &Table) -> String {
    serde_json::to_string(t)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

impl DashboardPage {
    fn json(&self, t: &Table) -> String {
        chart_json(t)
    }

    fn export_link(&self, t: &Table) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("table", &t.key);
        if let Some(p) = &self.d.period {
            q.append_pair("period", &p.key);
        }
        format!("/dashboard/export.xlsx?{}", q.finish())
    }
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<DashboardQuery>,
) -> Result<DashboardPage, PageError> {
    Ok(DashboardPage {
        layout: layout(&ctx, "dashboard"),
        flash: String::new(),
        d: svc::dashboard(&app, &ctx.principal, &q).await?,
        echarts: crate::web::assets::ECHARTS,
    })
}

#[derive(Deserialize)]
struct ExportQuery {
    #[serde(default)]
    table: String,
    period: Option<String>,
}

async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<ExportQuery>,
) -> Result<Response, PageError> {
    let (name, bytes) = svc::export(
        &app,
        &ctx.principal,
        &DashboardQuery { period: q.period },
        &q.table,
    )
    .await?;
    Ok(dashboard_download(&name, bytes))
}
