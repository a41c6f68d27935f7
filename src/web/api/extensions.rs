//! Individual deadline extensions through the API.

use crate::store::id::ApplicationId;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::extensions::{self, ExtensionInput, ExtensionView};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route(
        "/applications/{id}/extensions",
        get(list_extensions).post(grant_extension),
    )
}

#[derive(OpenApi)]
#[openapi(
    paths(list_extensions, grant_extension),
    components(schemas(ExtensionInput, ExtensionView))
)]
pub struct Doc;

/// The individual extensions of an application, oldest first (whoever may see the application).
#[utoipa::path(get, path = "/api/v1/applications/{id}/extensions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ExtensionView>), (status = 404, body = ErrorBody)))]
async fn list_extensions(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
) -> ApiResult<Vec<ExtensionView>> {
    Ok(Json(extensions::list(&app, &ctx.principal, id).await?))
}

/// Extends one application's deadline with a reason: the province for either step, a city
/// bureau for its own review (`step` = "review") of an application in its city. 422 names the
/// field; 409 when the call is closed or the application no longer needs the step.
#[utoipa::path(post, path = "/api/v1/applications/{id}/extensions", params(("id" = i64, Path)),
    request_body = ExtensionInput,
    responses((status = 200, body = ExtensionView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn grant_extension(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(input): Json<ExtensionInput>,
) -> ApiResult<ExtensionView> {
    Ok(Json(
        extensions::grant(&app, &ctx.principal, id, &input).await?,
    ))
}
