//! The API's error answer: `{"error": {"code", "message", "fields": [...]}}` with the status of
//! the service error; a 500 also names the request id.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{AppError, FieldError};

/// A structured error: `{"error": {"code", "message", "fields": [{"field","message"}]}}`.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError(AppError::from(e))
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub fields: Vec<FieldErrorSchema>,
    /// On internal errors only: the request id to quote when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldErrorSchema {
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldErrorSchema {
    fn from(f: &FieldError) -> Self {
        FieldErrorSchema {
            field: f.field.clone(),
            message: f.message.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = crate::web::observe::current_request_id();
        let failed = self.0.log_detail();
        if let Some(detail) = &failed {
            tracing::error!(
                request_id = request_id.as_deref().unwrap_or_default(),
                "internal error: {detail}"
            );
        }
        let status =
            StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code().to_string(),
                message: self.0.to_string(),
                fields: self.0.fields().iter().map(FieldErrorSchema::from).collect(),
                request_id: request_id.filter(|_| failed.is_some()),
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let Some(secs) = self.0.retry_after()
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        res
    }
}

/// An error answer that is not a service error (a framework rejection said in Chinese).
pub fn answer(
    status: StatusCode,
    code: &str,
    message: String,
    fields: Vec<FieldErrorSchema>,
) -> Response {
    let request_id = crate::web::observe::current_request_id();
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_string(),
            message,
            fields,
            request_id: request_id.filter(|_| status.is_server_error()),
        },
    };
    (status, Json(body)).into_response()
}

pub type ApiResult<T> = Result<Json<T>, ApiError>;
