//! 决赛申报材料 pages (第十一条): the materials in scope, and one finalist's form — the 初赛
//! value beside each indicator, what was achieved per criterion, evidence files, and submit.

use crate::store::id::FinalMaterialsId;
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use jiqun_rules::intake::FormData;
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::finals::{self as svc, MaterialsRow, MaterialsView};
use crate::web::forms::Confirm;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/finals", get(list))
        .route("/finals/{id}", get(show).post(save))
}

#[derive(Template, WebTemplate)]
#[template(path = "final_materials_list.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    rows: Vec<MaterialsRow>,
}

async fn list(State(app): State<Shared>, Authed(ctx): Authed) -> Result<ListPage, PageError> {
    Ok(ListPage {
        layout: layout(&ctx, "finals"),
        flash: String::new(),
        rows: svc::list(&app, &ctx.principal).await?,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "final_materials.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    m: MaterialsView,
    general_error: String,
    flash_ok: String,
    upload_error: String,
    max_mb: u64,
    submit_confirm: Confirm,
}

fn submit_confirm() -> Confirm {
    Confirm::new(
        "submit-acknowledge",
        "我已核对决赛申报材料和附件",
        "提交后材料将供决赛评审专家评阅，不能再修改",
    )
}

fn show_page(ctx: &SessionCtx, m: MaterialsView, general_error: String, ok: &str) -> ShowPage {
    ShowPage {
        layout: layout(ctx, "finals"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        m,
        general_error,
        flash_ok: ok.into(),
        upload_error: String::new(),
        max_mb: crate::attachments::max_upload_bytes() / (1024 * 1024),
        submit_confirm: submit_confirm(),
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
    Path(id): Path<FinalMaterialsId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let m = svc::get(&app, &ctx.principal, id).await?;
    let ok = match q.done.as_deref() {
        Some("saved") => "草稿已保存。",
        Some("submitted") => "决赛申报材料已提交。",
        _ => "",
    };
    let mut page = show_page(&ctx, m, String::new(), ok);
    page.upload_error = q.upload_error.unwrap_or_default();
    Ok(page)
}

/// The form as posted: `ind.<key>`, `ach.<key>`, plus `version` and `action`.
fn form_from(fields: &HashMap<String, String>) -> FormData {
    let mut form = FormData::default();
    for (k, v) in fields {
        if let Some(key) = k.strip_prefix("ind.") {
            form.indicators.insert(key.to_string(), v.clone());
        } else if let Some(key) = k.strip_prefix("ach.") {
            form.narratives.insert(key.to_string(), v.clone());
        }
    }
    form
}

/// The page again with what was typed kept.
async fn rerender(
    app: &App,
    ctx: &SessionCtx,
    id: FinalMaterialsId,
    typed: &FormData,
    message: String,
    refused: Option<&AppError>,
) -> Response {
    match svc::get_typed(app, &ctx.principal, id, typed).await {
        Ok(m) => {
            let mut page = show_page(ctx, m, message, "");
            page.submit_confirm = submit_confirm().refused_by(refused);
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn save(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<FinalMaterialsId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let p = &ctx.principal;
    let form = form_from(&fields);
    let version = fields
        .get("version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let submit = fields.get("action").map(String::as_str) == Some("submit");
    if submit {
        let posted = fields.get(crate::web::forms::ACKNOWLEDGE);
        if let Err(e) = submit_confirm().check(posted.map_or("", String::as_str)) {
            return rerender(&app, &ctx, id, &form, String::new(), Some(&e)).await;
        }
    }
    let saved = match svc::save(&app, p, id, &form, version).await {
        Ok(v) => v,
        Err(e @ (AppError::StaleVersion | AppError::Conflict(_))) => {
            return rerender(&app, &ctx, id, &form, e.to_string(), None).await;
        }
        Err(e) => return PageError(e).into_response(),
    };
    if !submit {
        return Redirect::to(&format!("/finals/{id}?done=saved")).into_response();
    }
    match svc::submit(&app, p, id, saved.row.version).await {
        Ok(_) => Redirect::to(&format!("/finals/{id}?done=submitted")).into_response(),
        Err(AppError::Invalid(_)) => {
            rerender(
                &app,
                &ctx,
                id,
                &form,
                "草稿已保存，但还不能提交：请按各项下方的提示补充或修改。".into(),
                None,
            )
            .await
        }
        Err(e @ AppError::Conflict(_)) => {
            rerender(&app, &ctx, id, &form, e.to_string(), None).await
        }
        Err(e) => PageError(e).into_response(),
    }
}
