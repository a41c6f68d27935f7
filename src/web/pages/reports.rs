//! Development report pages (第十三条): the obligations and reports in scope, one report with
//! its form (kept as typed, each problem next to its field), files, changes since the last
//! version, history, and the step the viewer may take — submit, the city's opinion, the
//! province's acceptance or return.

use crate::store::id::{ClusterId, ReportId};
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use jiqun_domain::report::Step;
use jiqun_rules::report_form::ReportData;
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::listing::{ListNav, ListParams};
use crate::services::report_list;
use crate::services::reports::{self as svc, Decision, ObligationRow, ReportRow, ReportView};
use crate::web::download::xlsx_download;
use crate::web::forms::Confirm;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/reports", get(list))
        .route("/reports/export.xlsx", get(export))
        .route("/reports/start", post(start))
        .route("/reports/{id}", get(show).post(save))
        .route("/reports/{id}/forward", post(forward))
        .route("/reports/{id}/return", post(return_it))
        .route("/reports/{id}/accept", post(accept))
}

#[derive(Template, WebTemplate)]
#[template(path = "reports.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    obligations: Vec<ObligationRow>,
    reports: Vec<ReportRow>,
    nav: ListNav,
    cities: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    can_start: bool,
    general_error: String,
    /// What the obligations are narrowed to (from the dashboard's links), in words.
    filter_label: String,
}

/// The dashboard's links narrow the obligations: `period=annual-2025`, `compliance=late`,
/// `city=430100`.
#[derive(Default)]
struct ListQuery {
    period: Option<String>,
    compliance: Option<String>,
    city: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ListQuery {
    /// Read beside the report list's own filters (which share `city`).
    fn from_pairs(pairs: &[(String, String)]) -> ListQuery {
        let mut q = ListQuery::default();
        for (key, value) in pairs {
            match key.as_str() {
                "period" => q.period = Some(value.clone()),
                "compliance" => q.compliance = Some(value.clone()),
                "city" => q.city = Some(value.clone()),
                _ => {}
            }
        }
        q
    }

    fn narrow(&self, rows: Vec<ObligationRow>) -> Result<(Vec<ObligationRow>, String), AppError> {
        let mut words = Vec::new();
        let period = given(&self.period)
            .map(crate::services::dashboard::parse_period)
            .transpose()?;
        let compliance = match given(&self.compliance) {
            Some(k) => Some(
                jiqun_domain::compliance::Compliance::from_key(k).ok_or_else(|| {
                    AppError::invalid(
                        "compliance",
                        format!("报送情况“{k}”无效，可选：on_time、late、missing、pending"),
                    )
                })?,
            ),
            None => None,
        };
        let city = match given(&self.city) {
            Some(c) => Some(
                c.parse::<jiqun_domain::region::RegionCode>()
                    .ok()
                    .and_then(jiqun_domain::region::city)
                    .ok_or_else(|| AppError::invalid("city", jiqun_domain::region::not_a_city(c)))?
                    .code(),
            ),
            None => None,
        };
        let city_name = city.map(jiqun_domain::region::city_name_of);
        if let Some(n) = &city_name {
            words.push(n.clone());
        }
        let rows: Vec<ObligationRow> = rows
            .into_iter()
            .filter(|o| {
                period.is_none_or(|p| {
                    o.period_kind == svc::kind_key(p.kind) && o.period_year == p.year
                }) && compliance.is_none_or(|c| o.compliance == c.key())
                    && city_name.as_ref().is_none_or(|n| &o.city_name == n)
            })
            .collect();
        if let (Some(_), Some(first)) = (period, rows.first()) {
            words.push(first.title.clone());
        }
        if let Some(c) = compliance {
            words.push(c.label().to_string());
        }
        Ok((rows, words.join(" · ")))
    }
}

async fn list_page(
    app: &App,
    ctx: &SessionCtx,
    pairs: &[(String, String)],
    general_error: String,
) -> Result<ListPage, PageError> {
    let p = &ctx.principal;
    let params = ListParams::parse(&report_list::LIST, pairs)?;
    let (reports, total) = report_list::page(app, p, &params).await?;
    Ok(ListPage {
        filter_label: String::new(),
        nav: params
            .nav(&report_list::LIST, total)
            .export_if(permission(p.role, Resource::Report, Action::Export).is_some()),
        cities: match permission(p.role, Resource::Report, Action::View) {
            Some(jiqun_domain::access::ScopeKind::All) => super::region_choices().0,
            _ => Vec::new(),
        },
        statuses: jiqun_domain::report::Status::ALL
            .iter()
            .map(|s| (s.key(), s.label()))
            .collect(),
        layout: layout(ctx, "reports"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        obligations: svc::obligations(app, p).await?,
        reports,
        can_start: permission(p.role, Resource::Report, Action::Create).is_some(),
        general_error,
    })
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let q = ListQuery::from_pairs(&pairs);
    let mut page = list_page(&app, &ctx, &pairs, String::new()).await?;
    let (rows, label) = q.narrow(std::mem::take(&mut page.obligations))?;
    page.obligations = rows;
    page.filter_label = label;
    Ok(page)
}

/// 导出Excel: every report the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&report_list::LIST, &pairs)?;
    let bytes = report_list::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "发展情况报告.xlsx", "reports.xlsx"))
}

#[derive(Deserialize)]
struct StartForm {
    cluster_id: String,
    #[serde(default)]
    policy_id: String,
    period_kind: String,
    period_year: String,
}

async fn start(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<StartForm>,
) -> Response {
    let cluster_id = form
        .cluster_id
        .trim()
        .parse::<i64>()
        .map_or(ClusterId::new(0), ClusterId::new);
    let year = form.period_year.trim().parse::<i32>().unwrap_or(0);
    match svc::start(
        &app,
        &ctx.principal,
        cluster_id,
        &form.policy_id,
        &form.period_kind,
        year,
    )
    .await
    {
        Ok(v) => Redirect::to(&format!("/reports/{}", v.row.id)).into_response(),
        Err(e @ (AppError::Conflict(_) | AppError::Invalid(_))) => {
            let message = match &e {
                AppError::Invalid(f) => f.first().map(|f| f.message.clone()).unwrap_or_default(),
                other => other.to_string(),
            };
            match list_page(&app, &ctx, &[], message).await {
                Ok(page) => (StatusCode::CONFLICT, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    r: ReportView,
    general_error: String,
    flash_ok: String,
    /// The opinion or comments as typed, kept when refused.
    decision_text: String,
    decision_error: String,
    upload_error: String,
    max_mb: u64,
    steps: Vec<(&'static str, &'static str)>,
    next: Option<(String, String)>,
    /// Submitting, forwarding and accepting cannot be taken back: each asks for a tick.
    submit_confirm: Confirm,
    forward_confirm: Confirm,
    accept_confirm: Confirm,
    /// The cluster's entries in the funding ledger (第十七条), beside the reward-funds section.
    funding: Vec<crate::services::funding::EntryRow>,
}

fn submit_confirm() -> Confirm {
    Confirm::new(
        "submit-acknowledge",
        "我已核对报告内容和附件",
        "提交后报告将报送市州工信局审阅，在退回修改前不能再更改",
    )
}

fn forward_confirm() -> Confirm {
    Confirm::new(
        "forward-acknowledge",
        "我已审阅报告",
        "签署的意见将随报告转报省工信厅，不能撤回",
    )
}

fn accept_confirm() -> Confirm {
    Confirm::new(
        "accept-acknowledge",
        "我已审核报告",
        "接收后本期报告办结，不能再退回修改（退回修改无需勾选）",
    )
}

/// The confirmation a report step asks for (returning asks for none).
fn confirm_of(step: Step) -> Option<Confirm> {
    match step {
        Step::Submit => Some(submit_confirm()),
        Step::Forward => Some(forward_confirm()),
        Step::Accept => Some(accept_confirm()),
        Step::Return => None,
    }
}

/// The viewer's next action on a report, on top of its page.
fn next_of(r: &ReportView) -> Option<(String, String)> {
    let (label, href) = if r.can_edit && r.row.status == "returned" {
        ("按退回意见修改并重新提交", "#report-form")
    } else if r.can_edit && r.complete {
        ("提交报告", "#submit-report")
    } else if r.can_edit {
        ("补全报告内容", "#completeness")
    } else if r.can_forward {
        ("签署意见并转报", "#forward-form")
    } else if r.can_decide {
        ("审核报告", "#decide")
    } else {
        return None;
    };
    Some((label.to_string(), href.to_string()))
}

fn show_page(ctx: &SessionCtx, r: ReportView, general_error: String, flash_ok: String) -> ShowPage {
    ShowPage {
        steps: crate::web::views::report_steps(&r.row.status),
        next: next_of(&r),
        submit_confirm: submit_confirm(),
        forward_confirm: forward_confirm(),
        accept_confirm: accept_confirm(),
        layout: layout(ctx, "reports"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        r,
        general_error,
        flash_ok,
        decision_text: String::new(),
        decision_error: String::new(),
        upload_error: String::new(),
        max_mb: crate::attachments::max_upload_bytes() / (1024 * 1024),
        funding: Vec::new(),
    }
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    upload_error: Option<String>,
    done: Option<String>,
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let r = svc::get(&app, &ctx.principal, id).await?;
    let flash_ok = match q.done.as_deref() {
        Some("saved") => "草稿已保存。",
        Some("submitted") => "报告已提交，等待市州工信局审阅。",
        Some("forwarded") => "已签署意见并转报省工信厅。",
        Some("returned") => "已退回修改，并通知集群促进组织。",
        Some("accepted") => "已接收该报告。",
        _ => "",
    };
    let funding =
        crate::services::funding::of_cluster(&app, &ctx.principal, r.row.cluster_id).await?;
    let mut page = show_page(&ctx, r, String::new(), flash_ok.into());
    page.upload_error = q.upload_error.unwrap_or_default();
    page.funding = funding;
    Ok(page)
}

/// The form as posted: `ind.<key>`, `sec.<key>`, plus `version` and `action`.
fn data_from(fields: &HashMap<String, String>) -> ReportData {
    let mut data = ReportData::default();
    for (k, v) in fields {
        if let Some(key) = k.strip_prefix("ind.") {
            data.indicators.insert(key.to_string(), v.clone());
        } else if let Some(key) = k.strip_prefix("sec.") {
            data.sections.insert(key.to_string(), v.clone());
        }
    }
    data
}

fn version_of(fields: &HashMap<String, String>) -> i32 {
    fields
        .get("version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The page again, with what was typed in place of what is stored.
async fn rerender(
    app: &App,
    ctx: &SessionCtx,
    id: ReportId,
    typed: Option<&ReportData>,
    message: String,
) -> Response {
    rerender_with(app, ctx, id, typed, message, |_| {}).await
}

async fn rerender_with(
    app: &App,
    ctx: &SessionCtx,
    id: ReportId,
    typed: Option<&ReportData>,
    message: String,
    adjust: impl FnOnce(&mut ShowPage),
) -> Response {
    let mut r = match svc::get(app, &ctx.principal, id).await {
        Ok(r) => r,
        Err(e) => return PageError(e).into_response(),
    };
    if let Some(d) = typed {
        for f in &mut r.form {
            let source = if f.field.starts_with("indicators.") {
                &d.indicators
            } else {
                &d.sections
            };
            f.value = source.get(&f.key).cloned().unwrap_or_default();
        }
    }
    let mut page = show_page(ctx, r, message, String::new());
    adjust(&mut page);
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

async fn save(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let p = &ctx.principal;
    let data = data_from(&fields);
    let submit = fields.get("action").map(String::as_str) == Some("submit");
    if submit {
        let posted = fields.get(crate::web::forms::ACKNOWLEDGE);
        if let Err(e) = submit_confirm().check(posted.map_or("", String::as_str)) {
            // Nothing is saved: the typed report comes back with the refusal under the tick.
            return rerender_with(&app, &ctx, id, Some(&data), String::new(), |page| {
                page.submit_confirm = submit_confirm().refused_by(Some(&e));
            })
            .await;
        }
    }
    let saved = match svc::save(&app, p, id, data.clone(), version_of(&fields)).await {
        Ok(v) => v,
        Err(e @ (AppError::StaleVersion | AppError::Conflict(_))) => {
            return rerender(&app, &ctx, id, Some(&data), e.to_string()).await;
        }
        Err(e) => return PageError(e).into_response(),
    };
    if !submit {
        return Redirect::to(&format!("/reports/{id}?done=saved")).into_response();
    }
    match svc::submit(&app, p, id, saved.row.version).await {
        Ok(_) => Redirect::to(&format!("/reports/{id}?done=submitted")).into_response(),
        Err(AppError::Invalid(_)) => {
            rerender(
                &app,
                &ctx,
                id,
                None,
                "草稿已保存，但还不能提交：请按各项下方的提示补充或修改。".into(),
            )
            .await
        }
        Err(e @ AppError::Conflict(_)) => rerender(&app, &ctx, id, None, e.to_string()).await,
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    acknowledge: String,
}

async fn decide_page(
    app: &App,
    ctx: &SessionCtx,
    id: ReportId,
    step: Step,
    form: DecisionForm,
) -> Response {
    let d = Decision {
        step,
        text: &form.text,
        expected_version: form.version.trim().parse().unwrap_or(0),
    };
    let acknowledged = match confirm_of(step) {
        Some(c) => c.check(&form.acknowledge),
        None => Ok(()),
    };
    let done = match acknowledged {
        Ok(()) => svc::decide(app, &ctx.principal, id, d).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => {
            let done = match step {
                Step::Forward => "forwarded",
                Step::Return => "returned",
                _ => "accepted",
            };
            Redirect::to(&format!("/reports/{id}?done={done}")).into_response()
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::StaleVersion)) => {
            let message = match &e {
                AppError::Invalid(f) => f.first().map(|f| f.message.clone()).unwrap_or_default(),
                other => other.to_string(),
            };
            match svc::get(app, &ctx.principal, id).await {
                Ok(r) => {
                    let mut page = show_page(ctx, r, String::new(), String::new());
                    page.decision_text = form.text;
                    match confirm_of(step) {
                        Some(c)
                            if e.fields()
                                .iter()
                                .any(|f| f.field == crate::web::forms::ACKNOWLEDGE) =>
                        {
                            let c = c.refused_by(Some(&e));
                            match step {
                                Step::Forward => page.forward_confirm = c,
                                _ => page.accept_confirm = c,
                            }
                        }
                        _ => page.decision_error = message,
                    }
                    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
                }
                Err(e) => PageError(e).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn forward(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Form(form): Form<DecisionForm>,
) -> Response {
    decide_page(&app, &ctx, id, Step::Forward, form).await
}

async fn return_it(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Form(form): Form<DecisionForm>,
) -> Response {
    decide_page(&app, &ctx, id, Step::Return, form).await
}

async fn accept(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ReportId>,
    Form(form): Form<DecisionForm>,
) -> Response {
    decide_page(&app, &ctx, id, Step::Accept, form).await
}
