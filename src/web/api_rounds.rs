//! JSON API: rounds (routes relative to /api/v1).

use axum::Router;
use utoipa::OpenApi;

use crate::app::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi()]
pub struct Doc;
