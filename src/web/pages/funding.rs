//! The funding ledger page (第十七条): the entries in scope with filters and totals per
//! cluster, city, fund and year (each total links to the entries behind it), the workbook, and
//! for the province the entry form, the steps and the year's reward amounts.

use crate::store::id::ClusterId;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::{FormErrors, Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::funding::{
    self as svc, EntryInput, FundingQuery, Ledger, RewardInput, RewardView, StepInput,
};
use crate::web::download::funding_download;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/funding", get(list).post(create))
        .route("/funding/export.xlsx", get(export))
        .route("/funding/rewards", post(set_reward))
        .route("/funding/{id}/step", post(step))
}

#[derive(Template, WebTemplate)]
#[template(path = "funding.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    q: FundingQuery,
    ledger: Ledger,
    export_link: String,
    /// The 市州 of Hunan for the city filter (code, name).
    cities: Vec<(String, String)>,
    reward_year: i32,
    rewards: Vec<RewardView>,
    clusters: Vec<(ClusterId, String)>,
    can_create: bool,
    /// The entry form as typed, kept when refused, with its problems.
    input: EntryInput,
    errors: FormErrors,
    reward_input: RewardInput,
    reward_errors: FormErrors,
    general_error: String,
    flash_ok: String,
}

impl ListPage {
    /// The four tables of totals, in the order the page shows them.
    fn groups(&self) -> [(&'static str, &'static str, &[svc::TotalRow]); 4] {
        [
            ("按年度", "by-year", &self.ledger.by_year),
            ("按资金渠道", "by-fund", &self.ledger.by_fund),
            ("按市州", "by-city", &self.ledger.by_city),
            ("按集群", "by-cluster", &self.ledger.by_cluster),
        ]
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(flatten)]
    q: FundingQuery,
    done: Option<String>,
}

async fn list_page(app: &App, ctx: &SessionCtx, q: FundingQuery) -> Result<ListPage, PageError> {
    let p = &ctx.principal;
    let filter = q.parse()?;
    let reward_year = filter
        .year
        .unwrap_or_else(|| crate::services::calendar::today(app).year());
    Ok(ListPage {
        layout: layout(ctx, "funding"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        ledger: svc::ledger(app, p, &filter).await?,
        export_link: format!("/funding/export.xlsx?{}", filter.query()),
        cities: super::region_choices().0,
        q,
        rewards: svc::rewards(app, p, reward_year).await?,
        reward_year,
        clusters: svc::form_choices(app, p).await?,
        can_create: permission(p.role, Resource::Funding, Action::Create).is_some(),
        input: EntryInput {
            year: reward_year.to_string(),
            ..Default::default()
        },
        errors: FormErrors::default(),
        reward_input: RewardInput {
            year: reward_year.to_string(),
            ..Default::default()
        },
        reward_errors: FormErrors::default(),
        general_error: String::new(),
        flash_ok: String::new(),
    })
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pq): Query<PageQuery>,
) -> Result<ListPage, PageError> {
    let mut page = list_page(&app, &ctx, pq.q).await?;
    page.flash_ok = match pq.done.as_deref() {
        Some("create") => "已登记资金安排。".into(),
        Some("step") => "已更新拨付状态。".into(),
        Some("reward") => "已设定年度奖励金额。".into(),
        _ => String::new(),
    };
    Ok(page)
}

async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<FundingQuery>,
) -> Result<Response, PageError> {
    let bytes = svc::export(&app, &ctx.principal, &q.parse()?).await?;
    Ok(funding_download(bytes))
}

/// A refused form comes back with what was typed and each problem beside its field (422).
async fn refused(
    app: &App,
    ctx: &SessionCtx,
    e: AppError,
    fill: impl FnOnce(&mut ListPage, FormErrors),
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            let mut page = match list_page(app, ctx, FundingQuery::default()).await {
                Ok(p) => p,
                Err(e) => return e.into_response(),
            };
            if let AppError::Conflict(m) = &e {
                page.general_error = m.clone();
            }
            let status = if matches!(e, AppError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            fill(&mut page, FormErrors::from_error(&e));
            (status, page).into_response()
        }
        other => PageError(other).into_response(),
    }
}

async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(input): Form<EntryInput>,
) -> Response {
    match svc::create(&app, &ctx.principal, &input).await {
        Ok(_) => Redirect::to("/funding?done=create").into_response(),
        Err(e) => {
            refused(&app, &ctx, e, |page, errors| {
                page.input = input;
                page.errors = errors;
            })
            .await
        }
    }
}

async fn set_reward(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(input): Form<RewardInput>,
) -> Response {
    match svc::set_reward(&app, &ctx.principal, &input).await {
        Ok(_) => Redirect::to(&format!("/funding?year={}&done=reward", input.year.trim()))
            .into_response(),
        Err(e) => {
            refused(&app, &ctx, e, |page, errors| {
                page.reward_input = input;
                page.reward_errors = errors;
            })
            .await
        }
    }
}

#[derive(Deserialize)]
struct StepForm {
    step: String,
    version: String,
    #[serde(default)]
    document_number: String,
    #[serde(default)]
    note: String,
}

async fn step(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<i64>,
    Form(form): Form<StepForm>,
) -> Response {
    let input = StepInput {
        step: form.step,
        version: form.version.trim().parse().unwrap_or(0),
        document_number: form.document_number,
        note: form.note,
    };
    match svc::step(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to("/funding?done=step").into_response(),
        Err(e) => {
            refused(&app, &ctx, e, |page, errors| {
                if let Some(m) = errors.first() {
                    page.general_error = m;
                }
            })
            .await
        }
    }
}
