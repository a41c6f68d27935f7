//! Pages: notices (being built).

use axum::Router;

use crate::app::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
}
