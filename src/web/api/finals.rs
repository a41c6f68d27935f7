//! JSON API: the 决赛申报材料 (第十一条) — the materials in the caller's scope, one finalist's
//! form, saving a draft and submitting (routes relative to /api/v1).

use crate::store::id::FinalMaterialsId;
use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiqun_rules::intake::FormData;
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::finals::{
    self as svc, CriterionFields, IndicatorField, MaterialsRow, MaterialsView,
};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/final-materials", get(list_final_materials))
        .route(
            "/final-materials/{id}",
            get(get_final_materials).put(save_final_materials),
        )
        .route("/final-materials/{id}/submit", post(submit_final_materials))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_final_materials,
        get_final_materials,
        save_final_materials,
        submit_final_materials
    ),
    components(schemas(
        MaterialsRow,
        MaterialsView,
        CriterionFields,
        IndicatorField,
        MaterialsForm,
        SaveMaterials,
        SubmitMaterials
    ))
)]
pub struct Doc;

/// What the finalist types: indicator values and what it achieved, each by the policy's key.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MaterialsForm {
    /// Indicator key → value as typed, e.g. {"revenue": "420"}.
    #[serde(default)]
    pub indicators: BTreeMap<String, String>,
    /// Criterion key → what was achieved during cultivation.
    #[serde(default)]
    pub achievements: BTreeMap<String, String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SaveMaterials {
    pub form: MaterialsForm,
    /// The version the editor saw.
    pub version: i32,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SubmitMaterials {
    pub version: i32,
}

/// The 决赛申报材料 in the caller's scope: a cluster its own, a city its clusters', the province
/// all; newest round first.
#[utoipa::path(get, path = "/api/v1/final-materials",
    responses((status = 200, body = [MaterialsRow])))]
async fn list_final_materials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<MaterialsRow>> {
    Ok(Json(svc::list(&app, &ctx.principal).await?))
}

/// One finalist's materials with the form (the 初赛 value beside each indicator), what is still
/// missing and the files.
#[utoipa::path(get, path = "/api/v1/final-materials/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = MaterialsView), (status = 404, body = ErrorBody)))]
async fn get_final_materials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<FinalMaterialsId>,
) -> ApiResult<MaterialsView> {
    Ok(Json(svc::get(&app, &ctx.principal, id).await?))
}

/// Saves the draft as typed (the finalist's own organisation, before submission and the
/// deadline); malformed values are kept and reported in `problems`.
#[utoipa::path(put, path = "/api/v1/final-materials/{id}", params(("id" = i64, Path)), request_body = SaveMaterials,
    responses((status = 200, body = MaterialsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn save_final_materials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<FinalMaterialsId>,
    Json(body): Json<SaveMaterials>,
) -> ApiResult<MaterialsView> {
    let form = FormData {
        indicators: body.form.indicators,
        narratives: body.form.achievements,
        attested: Vec::new(),
    };
    Ok(Json(
        svc::save(&app, &ctx.principal, id, &form, body.version).await?,
    ))
}

/// Submits the saved draft: refused with each missing item (422) or after the deadline (409).
#[utoipa::path(post, path = "/api/v1/final-materials/{id}/submit", params(("id" = i64, Path)), request_body = SubmitMaterials,
    responses((status = 200, body = MaterialsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit_final_materials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<FinalMaterialsId>,
    Json(body): Json<SubmitMaterials>,
) -> ApiResult<MaterialsView> {
    Ok(Json(
        svc::submit(&app, &ctx.principal, id, body.version).await?,
    ))
}
