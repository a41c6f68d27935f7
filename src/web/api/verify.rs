//! JSON API: the public check of a certificate (routes relative to /api/v1). No token needed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody, ErrorDetail};
use crate::app::Shared;
use crate::services::designations::{self, Checked, Verification};

pub fn routes() -> Router<Shared> {
    Router::new().route("/verify/{number}", get(verify))
}

#[derive(OpenApi)]
#[openapi(paths(verify), components(schemas(Verification)))]
pub struct Doc;

/// Whether a certificate is valid, superseded (已换发) or revoked, with its dates, the cluster
/// and the title. Public. `number` is the short check code printed under the certificate's QR
/// code (e.g. C2026-001) or the whole certificate number (URL-encoded).
#[utoipa::path(get, path = "/api/v1/verify/{number}",
    params(("number" = String, Path, description = "查验码（如 C2026-001）或证书编号")),
    responses(
        (status = 200, body = Verification),
        (status = 404, body = ErrorBody, description = "未查到：编号格式不对，或没有颁发过该编号的证书"),
        (status = 500, body = ErrorBody)))]
async fn verify(State(app): State<Shared>, Path(number): Path<String>) -> Response {
    match designations::verify(&app, &number).await {
        Ok(Checked::Found(v)) => Json(*v).into_response(),
        Ok(Checked::Missing(message)) => (
            StatusCode::NOT_FOUND,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: "not_found".into(),
                    message,
                    fields: Vec::new(),
                    request_id: None,
                },
            }),
        )
            .into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}
