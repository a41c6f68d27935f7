//! Loads the session of each request (cookie or bearer token) and hands handlers a principal.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::api::ApiError;
use crate::app::{Principal, Shared};
use crate::auth::login::{Stage, stage};
use crate::auth::session::{self, COOKIE, Lookup};
use crate::error::AppError;
use crate::store::entity::session as session_entity;
use crate::store::stamp::Stamp;
use crate::web::kept::{KeptSession, ReadStamp};

/// The session attached to a request, whatever its stage.
#[derive(Clone)]
pub struct SessionCtx {
    pub session: session_entity::Model,
    pub principal: Principal,
    pub stage: Stage,
    /// Bearer-token requests carry no ambient credentials and need no CSRF token.
    pub bearer: bool,
    /// Unread notifications, for the bell in the page header (not loaded for API calls).
    pub unread: u64,
}

/// Set when the idle timeout or the absolute lifetime ended the session on this request.
#[derive(Clone, Copy)]
pub struct SessionExpired(pub session::Expiry);

pub fn cookie_token(parts: &axum::http::HeaderMap) -> Option<String> {
    parts
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string())
}

pub async fn load_session(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    let bearer = bearer_token(req.headers());
    if let Some(token) = bearer
        .as_deref()
        .filter(|t| crate::services::api_tokens::is_api_token(t))
    {
        let path = req.uri().path().to_string();
        let request = format!("{} {path}", req.method());
        let client_addr = super::client_addr(&app, &req);
        return match api_token_ctx(&app, &path, &request, client_addr, token).await {
            Ok(ctx) => {
                if let Some(ctx) = ctx {
                    req.extensions_mut().insert(ctx);
                }
                next.run(req).await
            }
            Err(e) => ApiError(e).into_response(),
        };
    }
    let token = bearer.clone().or_else(|| cookie_token(req.headers()));
    let client_addr = super::client_addr(&app, &req);
    let Some(token) = token else {
        return next.run(req).await;
    };
    let wants_unread = bearer.is_none() && !req.uri().path().starts_with("/api/");
    // Reads may be served from what was kept while the database is unchanged (`kept`); a
    // write is checked against the database itself.
    let stamp = if matches!(*req.method(), Method::GET | Method::HEAD) {
        match app.stamps.read(&app.db).await {
            Ok(stamp) => stamp,
            Err(e) => {
                tracing::error!("reading the database's stamp: {e}");
                return ApiError(AppError::Db(e)).into_response();
            }
        }
    } else {
        None
    };
    let loaded = match stamp.as_ref() {
        Some(stamp) => kept_session(&app, &token, stamp, wants_unread).await,
        None => fresh_session(&app, &token, wants_unread).await,
    };
    match loaded {
        Ok(Loaded::Active(k)) => {
            let role = k.user.role;
            super::observe::record_user(k.user.id);
            let st = stage(
                k.session.mfa_passed,
                &k.user,
                app.second_factor_required(role),
            );
            req.extensions_mut().insert(SessionCtx {
                session: k.session,
                principal: Principal {
                    user: k.user,
                    org: k.org,
                    role,
                    client_addr,
                },
                stage: st,
                bearer: bearer.is_some(),
                unread: k.unread.unwrap_or(0),
            });
            if let Some(stamp) = stamp {
                req.extensions_mut().insert(ReadStamp(stamp));
            }
        }
        Ok(Loaded::Expired(u, why)) => {
            if let Err(e) = crate::auth::login::record_expiry(&app, &u, why, &client_addr).await {
                tracing::error!("recording session expiry: {e}");
            }
            req.extensions_mut().insert(SessionExpired(why));
        }
        Ok(Loaded::Unknown) => {}
        Err(e) => {
            tracing::error!("loading session: {e}");
            return ApiError(AppError::Db(e)).into_response();
        }
    }
    next.run(req).await
}

// Made once per request and taken apart at once, like `session::Lookup`.
#[allow(clippy::large_enum_variant)]
enum Loaded {
    Active(KeptSession),
    Expired(crate::store::entity::user::Model, session::Expiry),
    Unknown,
}

/// The session from the database (and, for a page, the unread count).
async fn fresh_session(
    app: &Shared,
    token: &str,
    wants_unread: bool,
) -> Result<Loaded, sea_orm::DbErr> {
    let lookup = session::load(
        &app.db,
        token,
        app.clock.now(),
        app.config.security.idle_timeout_minutes,
        app.config.security.session_max_hours,
    )
    .await?;
    Ok(match lookup {
        Lookup::Active(session, user, org) => {
            let unread = if wants_unread {
                Some(unread_of(app, &user).await)
            } else {
                None
            };
            Loaded::Active(KeptSession {
                session,
                user,
                org,
                unread,
            })
        }
        Lookup::Expired(u, why) => Loaded::Expired(u, why),
        Lookup::Unknown => Loaded::Unknown,
    })
}

/// The session as kept under `stamp` while its times need no write, else from the database
/// (and kept).
async fn kept_session(
    app: &Shared,
    token: &str,
    stamp: &Stamp,
    wants_unread: bool,
) -> Result<Loaded, sea_orm::DbErr> {
    let id = session::session_id(token);
    let now = app.clock.now();
    let security = &app.config.security;
    if let Some(mut k) = app.reads.sessions.get(&id, stamp).filter(|k| {
        session::freshness(
            &k.session,
            now,
            security.idle_timeout_minutes,
            security.session_max_hours,
        ) == session::Freshness::Current
    }) {
        if wants_unread && k.unread.is_none() {
            k.unread = Some(unread_of(app, &k.user).await);
            app.reads.sessions.put(id, stamp.clone(), k.clone());
        }
        return Ok(Loaded::Active(k));
    }
    let loaded = fresh_session(app, token, wants_unread).await?;
    if let Loaded::Active(k) = &loaded {
        app.reads.sessions.put(id, stamp.clone(), k.clone());
    }
    Ok(loaded)
}

async fn unread_of(app: &Shared, user: &crate::store::entity::user::Model) -> u64 {
    crate::services::notifications::unread_count(app, user.id)
        .await
        .unwrap_or(0)
}

/// The context of a request carrying an integration API token. Tokens work for the JSON API
/// only: on a page the request is treated as signed out (and sent to the login page), and the
/// API's own sign-in, sign-out and password routes refuse them, since a token has no account
/// behind it. `Ok(None)` means "no principal".
async fn api_token_ctx(
    app: &Shared,
    path: &str,
    request: &str,
    client_addr: String,
    token: &str,
) -> Result<Option<SessionCtx>, AppError> {
    if !path.starts_with("/api/") {
        return Ok(None);
    }
    if path.starts_with("/api/v1/session") || path.starts_with("/api/v1/me/password") {
        return Err(AppError::Forbidden);
    }
    let principal =
        crate::services::api_tokens::authenticate(app, token, request, &client_addr).await?;
    super::observe::record_user(principal.user.id);
    let now = app.clock.now();
    Ok(Some(SessionCtx {
        // A stand-in session: nothing reads it for the API but the CSRF guard, which `bearer`
        // already settles.
        session: session_entity::Model {
            id: String::new(),
            user_id: principal.user.id,
            csrf_token: String::new(),
            mfa_passed: true,
            client_addr: principal.client_addr.clone(),
            created_at: now,
            last_seen_at: now,
        },
        principal,
        stage: Stage::Complete,
        bearer: true,
        unread: 0,
    }))
}

/// Whether the request is for the JSON API. Nested routers see their path with the prefix
/// stripped, so look at the original URI.
fn is_api(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(parts.uri.path(), |u| u.0.path())
        .starts_with("/api/")
}

/// The answer to a request that needs a session and has none (or whose session just timed out).
fn no_session(parts: &Parts) -> Response {
    let expired = parts.extensions.get::<SessionExpired>().map(|e| e.0);
    if is_api(parts) {
        ApiError(if expired.is_some() {
            AppError::SessionExpired
        } else {
            AppError::Unauthenticated
        })
        .into_response()
    } else {
        Redirect::to(match expired {
            Some(session::Expiry::Idle) => "/login?expired=1",
            Some(session::Expiry::Lifetime) => "/login?expired=lifetime",
            None => "/login",
        })
        .into_response()
    }
}

/// A fully signed-in user (password, second factor where needed, no pending password change).
pub struct Authed(pub SessionCtx);

impl FromRequestParts<Shared> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let api = is_api(parts);
        match parts.extensions.get::<SessionCtx>().cloned() {
            Some(ctx) if ctx.stage == Stage::Complete => Ok(Authed(ctx)),
            Some(ctx) => Err(if api {
                ApiError(match ctx.stage {
                    Stage::ChangePassword => AppError::PasswordChangeRequired,
                    _ => AppError::SecondFactorRequired,
                })
                .into_response()
            } else {
                Redirect::to(stage_path(ctx.stage)).into_response()
            }),
            None => Err(no_session(parts)),
        }
    }
}

/// A session at any stage: for the second-factor, password-change and enrolment steps.
pub struct AnyStage(pub SessionCtx);

impl FromRequestParts<Shared> for AnyStage {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<SessionCtx>().cloned() {
            Some(ctx) => Ok(AnyStage(ctx)),
            None => Err(no_session(parts)),
        }
    }
}

pub fn stage_path(stage: Stage) -> &'static str {
    match stage {
        Stage::VerifySecondFactor => "/login/mfa",
        Stage::ChangePassword => "/account/password",
        Stage::EnrolSecondFactor => "/account/mfa",
        Stage::Complete => "/",
    }
}
