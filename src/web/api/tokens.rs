//! Integration API tokens through the API: the security administrator lists, issues and revokes.

use crate::store::id::ApiTokenId;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiResult, ErrorBody};
use crate::app::Shared;
use crate::services::api_tokens::{self, IssuedToken, TokenInput, TokenView};
use crate::web::principal::Authed;

#[derive(OpenApi)]
#[openapi(
    paths(list_tokens, create_token, revoke_token),
    components(schemas(TokenInput, TokenView, IssuedToken, RevokeRequest))
)]
pub struct Doc;

#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, body = [TokenView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn list_tokens(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<TokenView>> {
    Ok(Json(api_tokens::list(&app, &ctx.principal).await?))
}

/// The answer carries the token itself; it is shown this once and stored only as a digest.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenInput,
    responses((status = 200, body = IssuedToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn create_token(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<TokenInput>,
) -> ApiResult<IssuedToken> {
    Ok(Json(api_tokens::create(&app, &ctx.principal, &body).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RevokeRequest {
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", params(("id" = i64, Path)), request_body = RevokeRequest,
    responses((status = 200, body = TokenView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn revoke_token(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApiTokenId>,
    Json(body): Json<RevokeRequest>,
) -> ApiResult<TokenView> {
    Ok(Json(
        api_tokens::revoke(&app, &ctx.principal, id, &body.reason).await?,
    ))
}
