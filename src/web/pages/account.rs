//! Signing in and out, the second factor, password changes and the account page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::net::SocketAddr;

use super::{FormErrors, Layout, MessagePage, PageError, layout};
use crate::app::Shared;
use crate::auth::login::{self, LoginError, Stage};
use crate::auth::session::COOKIE;
use crate::auth::totp;
use crate::web::principal::{AnyStage, Authed, SessionCtx, stage_path};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/login", get(login_form).post(login_submit))
        .route("/login/mfa", get(mfa_form).post(mfa_submit))
        .route("/logout", post(logout))
        .route("/account", get(account_page))
        .route(
            "/account/password",
            get(password_form).post(password_submit),
        )
        .route("/account/mfa", get(enrol_form).post(enrol_submit))
}

fn session_cookie(app: &Shared, token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{}",
        if app.config.security.cookie_secure {
            "; Secure"
        } else {
            ""
        }
    )
}

fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Option<Layout>,
    flash: String,
    notice: String,
    message: String,
    /// The account is locked: offer the second-factor field.
    show_code: bool,
    username: String,
    threshold: u32,
    lock_minutes: u32,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    expired: Option<String>,
}

async fn login_form(State(app): State<Shared>, Query(q): Query<LoginQuery>) -> LoginPage {
    LoginPage {
        layout: None,
        flash: String::new(),
        notice: match q.expired.as_deref() {
            Some("lifetime") => format!(
                "自登录起已满{}小时，为安全起见已自动退出，请重新登录。",
                app.config.security.session_max_hours
            ),
            Some(_) => format!(
                "会话空闲超过{}分钟，已自动退出，请重新登录。",
                app.config.security.idle_timeout_minutes
            ),
            None => String::new(),
        },
        message: String::new(),
        show_code: false,
        username: String::new(),
        threshold: app.config.security.lockout_threshold,
        lock_minutes: app.config.security.lockout_minutes,
    }
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    /// Only asked for when the account is locked: both factors together pass a lock set by
    /// others.
    #[serde(default)]
    code: String,
}

async fn login_submit(
    State(app): State<Shared>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let client = crate::web::client_ip(&app.config.trusted_proxies, Some(addr.ip()), &headers);
    let code = Some(form.code.as_str()).filter(|c| !c.trim().is_empty());
    match login::login(&app, &form.username, &form.password, code, &client).await {
        Ok((token, stage)) => (
            [(header::SET_COOKIE, session_cookie(&app, &token))],
            Redirect::to(stage_path(stage)),
        )
            .into_response(),
        Err(LoginError::App(e)) => PageError(e).into_response(),
        Err(e) => (
            axum::http::StatusCode::UNAUTHORIZED,
            LoginPage {
                layout: None,
                flash: String::new(),
                notice: String::new(),
                show_code: e.is_lock(),
                message: e.to_string(),
                username: form.username,
                threshold: app.config.security.lockout_threshold,
                lock_minutes: app.config.security.lockout_minutes,
            },
        )
            .into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "mfa.html")]
struct MfaPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    errors: FormErrors,
}

async fn mfa_form(AnyStage(ctx): AnyStage) -> Response {
    if ctx.stage != Stage::VerifySecondFactor {
        return Redirect::to(stage_path(ctx.stage)).into_response();
    }
    MfaPage {
        layout: None,
        flash: String::new(),
        csrf: ctx.session.csrf_token,
        errors: FormErrors::default(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn mfa_submit(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
    Form(form): Form<CodeForm>,
) -> Response {
    if ctx.stage != Stage::VerifySecondFactor {
        return Redirect::to(stage_path(ctx.stage)).into_response();
    }
    let p = &ctx.principal;
    match login::verify_second_factor(&app, &ctx.session.id, &p.user, &form.code, &p.client_addr)
        .await
    {
        Ok(()) => Redirect::to(stage_path(login::stage(
            true,
            &p.user,
            app.second_factor_required(p.role),
        )))
        .into_response(),
        Err(e @ crate::error::AppError::Invalid(_)) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            MfaPage {
                layout: None,
                flash: String::new(),
                csrf: ctx.session.csrf_token,
                errors: FormErrors::from_error(&e),
            },
        )
            .into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

async fn logout(State(app): State<Shared>, ctx: Option<axum::Extension<SessionCtx>>) -> Response {
    if let Some(axum::Extension(ctx)) = ctx
        && let Err(e) = login::logout(
            &app,
            &ctx.session.id,
            &ctx.principal.user,
            &ctx.principal.client_addr,
        )
        .await
    {
        return PageError(e).into_response();
    }
    (
        [(header::SET_COOKIE, clear_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    forced: bool,
    errors: FormErrors,
}

async fn password_form(AnyStage(ctx): AnyStage) -> Response {
    if ctx.stage == Stage::VerifySecondFactor {
        return Redirect::to(stage_path(ctx.stage)).into_response();
    }
    PasswordPage {
        layout: (ctx.stage == Stage::Complete)
            .then(|| layout(&ctx, "account"))
            .flatten(),
        flash: String::new(),
        forced: ctx.stage == Stage::ChangePassword,
        csrf: ctx.session.csrf_token,
        errors: FormErrors::default(),
    }
    .into_response()
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn password_submit(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
    Form(form): Form<PasswordForm>,
) -> Response {
    if ctx.stage == Stage::VerifySecondFactor {
        return Redirect::to(stage_path(ctx.stage)).into_response();
    }
    let p = &ctx.principal;
    match login::change_password(
        &app,
        &p.user,
        &ctx.session.id,
        &form.current,
        &form.new,
        &form.confirm,
        &p.client_addr,
    )
    .await
    {
        Ok(()) => {
            let mut after = p.user.clone();
            after.must_change_password = false;
            let next = stage_path(login::stage(
                ctx.session.mfa_passed,
                &after,
                app.second_factor_required(p.role),
            ));
            MessagePage {
                layout: None,
                flash: String::new(),
                heading: "密码已修改".into(),
                paragraphs: vec!["新密码已生效，下次登录请使用新密码。".into()],
                secrets: vec![],
                next_href: next.into(),
                next_label: "继续".into(),
            }
            .into_response()
        }
        Err(e @ crate::error::AppError::Invalid(_)) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            PasswordPage {
                layout: (ctx.stage == Stage::Complete)
                    .then(|| layout(&ctx, "account"))
                    .flatten(),
                flash: String::new(),
                forced: ctx.stage == Stage::ChangePassword,
                csrf: ctx.session.csrf_token.clone(),
                errors: FormErrors::from_error(&e),
            },
        )
            .into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "enrol.html")]
struct EnrolPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    required: bool,
    secret: String,
    qr_svg: String,
    errors: FormErrors,
}

async fn enrol_page(
    app: &Shared,
    ctx: &SessionCtx,
    errors: FormErrors,
) -> Result<EnrolPage, PageError> {
    let p = &ctx.principal;
    let secret = login::begin_enrolment(app, &p.user).await?;
    let url = totp::otpauth_url(&secret, &p.user.username)?;
    Ok(EnrolPage {
        layout: (ctx.stage == Stage::Complete)
            .then(|| layout(ctx, "account"))
            .flatten(),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        required: ctx.stage == Stage::EnrolSecondFactor,
        secret,
        qr_svg: totp::qr_svg(&url)?,
        errors,
    })
}

async fn enrol_form(State(app): State<Shared>, AnyStage(ctx): AnyStage) -> Response {
    if matches!(ctx.stage, Stage::VerifySecondFactor | Stage::ChangePassword) {
        return Redirect::to(stage_path(ctx.stage)).into_response();
    }
    if ctx.principal.user.totp_enabled {
        return Redirect::to("/account").into_response();
    }
    match enrol_page(&app, &ctx, FormErrors::default()).await {
        Ok(page) => page.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn enrol_submit(
    State(app): State<Shared>,
    AnyStage(ctx): AnyStage,
    Form(form): Form<CodeForm>,
) -> Response {
    if matches!(ctx.stage, Stage::VerifySecondFactor | Stage::ChangePassword) {
        return Redirect::to(stage_path(ctx.stage)).into_response();
    }
    match login::confirm_enrolment(&app, &ctx.principal, &ctx.session.id, &form.code).await {
        Ok(codes) => MessagePage {
            layout: None,
            flash: String::new(),
            heading: "双因素认证已启用".into(),
            paragraphs: vec![
                "以下10个恢复码每个只能使用一次，可在手机不在身边时代替验证码登录。".into(),
                "请立即抄写或打印并妥善保管；离开本页后将无法再次查看。".into(),
            ],
            secrets: codes,
            next_href: "/".into(),
            next_label: "进入工作台".into(),
        }
        .into_response(),
        Err(e @ crate::error::AppError::Invalid(_)) => {
            match enrol_page(&app, &ctx, FormErrors::from_error(&e)).await {
                Ok(page) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Option<Layout>,
    flash: String,
    username: String,
    totp_enabled: bool,
    recovery_left: usize,
    password_changed_at: String,
}

async fn account_page(Authed(ctx): Authed) -> AccountPage {
    let u = &ctx.principal.user;
    AccountPage {
        layout: layout(&ctx, "account"),
        flash: String::new(),
        username: u.username.clone(),
        totp_enabled: u.totp_enabled,
        recovery_left: serde_json::from_str::<Vec<String>>(&u.recovery_codes)
            .map(|v| v.len())
            .unwrap_or(0),
        password_changed_at: crate::clock::format_local(u.password_changed_at),
    }
}
