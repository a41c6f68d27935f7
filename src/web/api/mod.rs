//! JSON API under /api/v1: the same services and rules as the pages. Authenticate with
//! `POST /api/v1/session` and send the token as `Authorization: Bearer …`; other systems send an
//! integration token (`jq_…`, issued by the security administrator) the same way.

pub mod applications;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod changes;
pub mod city_titles;
pub mod clusters;
pub mod competitions;
pub mod dashboard;
pub mod doc;
pub mod error;
pub mod extensions;
pub mod finals;
pub mod funding;
pub mod imports;
pub mod ladder;
pub mod nominations;
pub mod notices;
pub mod objections;
pub mod orgs;
pub mod paging;
pub mod policies;
pub mod recheck;
pub mod reports;
pub mod revocation;
pub mod rounds;
pub mod scoring;
pub mod session;
pub mod tokens;
pub mod users;
pub mod verify;
pub mod yearly;

use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

pub use error::{ApiError, ApiResult, ErrorBody, ErrorDetail, FieldErrorSchema};

use crate::app::Shared;
use crate::error::AppError;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route(
            "/session",
            post(session::create_session).delete(session::delete_session),
        )
        .route("/session/second-factor", post(session::second_factor))
        .route("/me", get(session::me))
        .route("/me/password", post(session::change_password))
        .route(
            "/organisations",
            get(orgs::list_orgs).post(orgs::create_org),
        )
        .route(
            "/organisations/{id}",
            get(orgs::get_org).put(orgs::update_org),
        )
        .route("/users", get(users::list_users).post(users::create_user))
        .route("/users/{id}", get(users::get_user).put(users::update_user))
        .route("/users/{id}/credentials", post(users::user_credentials))
        .route(
            "/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/tokens/{id}/revoke", post(tokens::revoke_token))
        .route("/users/{id}/activation", post(users::activate_user))
        .route("/audit", get(audit::audit_entries))
        .route("/audit/verify", post(audit::audit_verify))
        .route("/calendar/{date}", get(calendar::calendar_day))
        .merge(attachments::routes())
        .merge(clusters::routes())
        .merge(competitions::routes())
        .merge(applications::routes())
        .merge(rounds::routes())
        .merge(scoring::routes())
        .merge(notices::routes())
        .merge(objections::routes())
        .merge(verify::routes())
        .merge(reports::routes())
        .merge(revocation::routes())
        .merge(ladder::routes())
        .merge(city_titles::routes())
        .merge(recheck::routes())
        .merge(policies::routes())
        .merge(extensions::routes())
        .merge(funding::routes())
        .merge(imports::routes())
        .merge(changes::routes())
        .merge(nominations::routes())
        .merge(dashboard::routes())
        .merge(finals::routes())
        .merge(yearly::routes())
        .fallback(|| async { ApiError(AppError::NotFound) })
}

/// The error answer shared by every part of the API; each part lists its own paths.
#[derive(OpenApi)]
#[openapi(
    info(title = "jiqun API", version = "1"),
    components(schemas(ErrorBody, ErrorDetail, FieldErrorSchema))
)]
pub struct ApiDoc;

async fn openapi() -> Result<Json<serde_json::Value>, ApiError> {
    let mut doc = ApiDoc::openapi();
    doc.info.title = format!("jiqun {} API", crate::config::site_name());
    doc.merge(session::Doc::openapi());
    doc.merge(orgs::Doc::openapi());
    doc.merge(users::Doc::openapi());
    doc.merge(tokens::Doc::openapi());
    doc.merge(audit::Doc::openapi());
    doc.merge(calendar::Doc::openapi());
    doc.merge(attachments::Doc::openapi());
    doc.merge(clusters::Doc::openapi());
    doc.merge(competitions::Doc::openapi());
    doc.merge(applications::Doc::openapi());
    doc.merge(rounds::Doc::openapi());
    doc.merge(scoring::Doc::openapi());
    doc.merge(notices::Doc::openapi());
    doc.merge(objections::Doc::openapi());
    doc.merge(verify::Doc::openapi());
    doc.merge(reports::Doc::openapi());
    doc.merge(revocation::Doc::openapi());
    doc.merge(ladder::Doc::openapi());
    doc.merge(city_titles::Doc::openapi());
    doc.merge(recheck::Doc::openapi());
    doc.merge(policies::Doc::openapi());
    doc.merge(extensions::Doc::openapi());
    doc.merge(funding::Doc::openapi());
    doc.merge(imports::Doc::openapi());
    doc.merge(changes::Doc::openapi());
    doc.merge(nominations::Doc::openapi());
    doc.merge(dashboard::Doc::openapi());
    doc.merge(finals::Doc::openapi());
    doc.merge(yearly::Doc::openapi());
    let value = serde_json::to_value(&doc).map_err(AppError::internal)?;
    Ok(Json(doc::finish(value)))
}
