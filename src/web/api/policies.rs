//! Installed policies through the API: the list (with validity and bound calls) and installing
//! a policy file without a rebuild (第十八条: a successor to the expired Measures).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::policy::{self, BoundCall, InstalledView};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/policies", get(list_policies).post(install_policy))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_policies, install_policy),
    components(schemas(InstalledView, BoundCall, PolicyUpload))
)]
pub struct Doc;

/// A policy file to install.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PolicyUpload {
    /// The whole TOML text (format of `policies/hunan-2021.toml`).
    pub source: String,
    /// The file's name, used in error messages; "上传文件" when absent.
    #[serde(default)]
    pub file_name: String,
}

/// Every installed policy, newest version of each id first, with its validity, whether new
/// calls are offered it, and the calls bound to it.
#[utoipa::path(get, path = "/api/v1/policies",
    responses((status = 200, body = Vec<InstalledView>), (status = 403, body = ErrorBody)))]
async fn list_policies(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<InstalledView>> {
    Ok(Json(policy::list(&app, &ctx.principal).await?))
}

/// Installs a policy file (system administrator). Validated as `jiqun policy check` does: 422
/// lists every problem, `field` being its key path (or `file`) and `message` "文件:行 键路径：原因".
/// 409 when the same text is already installed, or another text has the same id and version.
#[utoipa::path(post, path = "/api/v1/policies", request_body = PolicyUpload,
    responses((status = 200, body = InstalledView), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn install_policy(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(upload): Json<PolicyUpload>,
) -> ApiResult<InstalledView> {
    Ok(Json(
        policy::install(&app, &ctx.principal, &upload.source, &upload.file_name).await?,
    ))
}
