//! National nominations (第十七条 择优推荐): the year's list in the reader's scope; for the
//! province the nominating form, each nominee's dossier ZIP and the form recording the national
//! outcome.

use crate::store::id::{ClusterId, NominationId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use serde::Deserialize;

use super::notices::refusal_text;
use super::{FormErrors, Layout, PageError, error_page, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::designations::PdfFailure;
use crate::services::nominations::{self, NominateInput, NominationRow, OutcomeInput};
use crate::web::download::dossier_download;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/nominations", get(list).post(nominate))
        .route("/nominations/{id}/outcome", post(outcome))
        .route("/nominations/{id}/dossier.zip", get(dossier))
}

#[derive(Template, WebTemplate)]
#[template(path = "nominations.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    year: i32,
    rows: Vec<NominationRow>,
    can_nominate: bool,
    candidates: Vec<(ClusterId, String)>,
    form: NominateForm,
    errors: FormErrors,
    error: String,
    /// The nomination whose outcome form failed, with what was typed.
    outcome_for: NominationId,
    outcome_form: OutcomeForm,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    year: Option<String>,
    saved: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct NominateForm {
    #[serde(default)]
    cluster_id: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    document_number: String,
}

#[derive(Deserialize, Default, Clone)]
struct OutcomeForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    decided_on: String,
    #[serde(default)]
    document_number: String,
    #[serde(default)]
    note: String,
}

struct Failed<'a> {
    error: &'a AppError,
    outcome_for: NominationId,
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    app: &App,
    ctx: &SessionCtx,
    year: i32,
    flash: String,
    form: NominateForm,
    outcome_form: OutcomeForm,
    failed: Option<Failed<'_>>,
) -> Result<ListPage, AppError> {
    let p = &ctx.principal;
    let can_nominate = permission(p.role, Resource::Nomination, Action::Create).is_some();
    Ok(ListPage {
        layout: layout(ctx, "nominations"),
        flash,
        csrf: ctx.session.csrf_token.clone(),
        year,
        rows: nominations::list(app, p, year).await?,
        candidates: if can_nominate {
            nominations::candidates(app, p).await?
        } else {
            Vec::new()
        },
        can_nominate,
        form,
        errors: failed
            .as_ref()
            .map(|f| FormErrors::from_error(f.error))
            .unwrap_or_default(),
        error: failed
            .as_ref()
            .map(|f| refusal_text(f.error))
            .unwrap_or_default(),
        outcome_for: failed.as_ref().map(|f| f.outcome_for).unwrap_or_default(),
        outcome_form,
    })
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    let year = nominations::year_of(&app, q.year.as_deref())?;
    let flash = match q.saved.as_deref() {
        Some("nominated") => "已推荐申报国家级先进制造业集群。".to_string(),
        Some("outcome") => "已记录国家级先进制造业集群评选结果。".to_string(),
        _ => String::new(),
    };
    let form = NominateForm {
        year: year.to_string(),
        ..Default::default()
    };
    Ok(list_page(&app, &ctx, year, flash, form, OutcomeForm::default(), None).await?)
}

fn refused_status(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

async fn nominate(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(f): Form<NominateForm>,
) -> Result<Response, PageError> {
    let year = f.year.trim().parse::<i32>().ok();
    let input = NominateInput {
        cluster_id: f.cluster_id.trim().parse().ok(),
        year,
        reason: f.reason.clone(),
        document_number: f.document_number.clone(),
    };
    match nominations::nominate(&app, &ctx.principal, &input).await {
        Ok(n) => Ok(
            Redirect::to(&format!("/nominations?year={}&saved=nominated", n.year)).into_response(),
        ),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let shown = year.unwrap_or_else(|| crate::services::calendar::today(&app).year());
            let failed = Failed {
                error: &e,
                outcome_for: NominationId::new(0),
            };
            let page = list_page(
                &app,
                &ctx,
                shown,
                String::new(),
                f,
                OutcomeForm::default(),
                Some(failed),
            )
            .await?;
            Ok((refused_status(&e), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn outcome(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NominationId>,
    Form(f): Form<OutcomeForm>,
) -> Result<Response, PageError> {
    let input = OutcomeInput {
        outcome: f.outcome.clone(),
        decided_on: f.decided_on.clone(),
        document_number: f.document_number.clone(),
        note: f.note.clone(),
    };
    match nominations::record_outcome(&app, &ctx.principal, id, &input).await {
        Ok(n) => Ok(
            Redirect::to(&format!("/nominations?year={}&saved=outcome", n.year)).into_response(),
        ),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let n = nominations::get(&app, &ctx.principal, id).await?;
            let failed = Failed {
                error: &e,
                outcome_for: id,
            };
            let form = NominateForm {
                year: n.year.to_string(),
                ..Default::default()
            };
            let page = list_page(&app, &ctx, n.year, String::new(), form, f, Some(failed)).await?;
            Ok((refused_status(&e), page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn dossier(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NominationId>,
) -> Result<Response, PageError> {
    match nominations::dossier(&app, &ctx.principal, id).await {
        Ok(d) => Ok(dossier_download(d, id)),
        Err(PdfFailure::Unavailable(message)) => Ok(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("证书PDF暂时无法生成，推荐材料未能导出：{message}"),
        )),
        Err(PdfFailure::App(e)) => Err(e.into()),
    }
}
