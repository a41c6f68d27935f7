//! Signing in and out, second factors and password changes — one implementation for the pages
//! and the JSON API.

use jiqun_domain::access::Role;
use jiqun_domain::security::{after_failure, is_locked};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{password, session, totp};
use crate::app::{App, Principal};
use crate::audit::{Actor, Audit, Event};
use crate::clock::format_local;
use crate::error::AppError;
use crate::store::{
    self,
    entity::{organisation, user},
};

/// Where a signed-in session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The password was right; the authenticator code is still to come.
    VerifySecondFactor,
    /// First login, or a reset password: choose a new one before anything else.
    ChangePassword,
    /// The role needs a second factor and none is set up yet.
    EnrolSecondFactor,
    Complete,
}

pub fn stage(mfa_passed: bool, u: &user::Model, role: Role) -> Stage {
    if !mfa_passed && u.totp_enabled {
        Stage::VerifySecondFactor
    } else if u.must_change_password {
        Stage::ChangePassword
    } else if !mfa_passed && role.requires_second_factor() {
        Stage::EnrolSecondFactor
    } else {
        Stage::Complete
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("账户已锁定，请于 {until} 后再试，或联系安全管理员解锁")]
    Locked { until: String },
    #[error("连续{threshold}次密码错误，账户已锁定至 {until}")]
    NowLocked { threshold: u32, until: String },
    #[error("账户已停用，请联系系统管理员")]
    Disabled,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sea_orm::DbErr> for LoginError {
    fn from(e: sea_orm::DbErr) -> Self {
        LoginError::App(AppError::Db(e))
    }
}

fn anonymous(username: &str, client_addr: &str) -> Actor {
    Actor {
        user_id: None,
        name: username.chars().take(64).collect(),
        role: String::new(),
        org: String::new(),
        client_addr: client_addr.to_string(),
    }
}

/// The audit actor for a user, with their organisation's name.
pub async fn user_actor<C: sea_orm::ConnectionTrait>(
    conn: &C,
    u: &user::Model,
    client_addr: &str,
) -> Result<Actor, sea_orm::DbErr> {
    let org = organisation::Entity::find_by_id(u.org_id).one(conn).await?;
    Ok(Actor::user(
        u,
        org.map(|o| o.name).unwrap_or_default(),
        client_addr,
    ))
}

/// Checks the password and opens a session. Returns the session token and the next stage.
pub async fn login(
    app: &App,
    username: &str,
    password_text: &str,
    client_addr: &str,
) -> Result<(String, Stage), LoginError> {
    let username = username.trim().to_lowercase();
    let now = app.clock.now();
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(&app.db)
        .await?;
    let Some(u) = found else {
        // Spend the same time as a real check, so timing does not reveal which names exist.
        if let Ok(dummy) = DUMMY_HASH
            .get_or_try_init(|| password::hash("jiqun-dummy"))
            .await
        {
            let _ = password::verify(password_text, dummy).await;
        }
        let txn = store::write_txn(&app.db).await?;
        Audit::by(app, anonymous(&username, client_addr), now)
            .record(
                &txn,
                Event {
                    action: "login.failure",
                    object_type: "user",
                    object_id: username.clone(),
                    summary: "登录失败：用户名不存在".into(),
                    ..Default::default()
                },
            )
            .await?;
        txn.commit().await?;
        return Err(LoginError::BadCredentials);
    };
    if is_locked(u.locked_until, now) {
        let until = u.locked_until.map(format_local).unwrap_or_default();
        let txn = store::write_txn(&app.db).await?;
        Audit::by(app, user_actor(&txn, &u, client_addr).await?, now)
            .record(
                &txn,
                Event {
                    action: "login.refused_locked",
                    object_type: "user",
                    object_id: u.id.to_string(),
                    summary: format!("账户锁定期间尝试登录（锁定至 {until}）"),
                    ..Default::default()
                },
            )
            .await?;
        txn.commit().await?;
        return Err(LoginError::Locked { until });
    }
    let password_ok = password::verify(password_text, &u.password_hash).await;
    let txn = store::write_txn(&app.db).await?;
    // Re-read inside the write transaction: concurrent failures must all count.
    let u = user::Entity::find_by_id(u.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if !password_ok {
        let outcome = after_failure(u.failed_logins.max(0) as u32, now, app.lockout());
        let mut active: user::ActiveModel = u.clone().into();
        active.failed_logins = Set(outcome.failed_logins as i32);
        if outcome.locked_until.is_some() {
            active.locked_until = Set(outcome.locked_until);
        }
        active.update(&txn).await?;
        let audit = Audit::by(app, user_actor(&txn, &u, client_addr).await?, now);
        audit
            .record(
                &txn,
                Event {
                    action: "login.failure",
                    object_type: "user",
                    object_id: u.id.to_string(),
                    summary: format!("密码错误（连续第{}次）", u.failed_logins + 1),
                    ..Default::default()
                },
            )
            .await?;
        let result = if let Some(until) = outcome.locked_until {
            audit
                .record(
                    &txn,
                    Event {
                        action: "account.locked",
                        object_type: "user",
                        object_id: u.id.to_string(),
                        summary: format!("连续登录失败，账户锁定至 {}", format_local(until)),
                        ..Default::default()
                    },
                )
                .await?;
            LoginError::NowLocked {
                threshold: app.config.security.lockout_threshold,
                until: format_local(until),
            }
        } else {
            LoginError::BadCredentials
        };
        txn.commit().await?;
        return Err(result);
    }
    if !u.active {
        txn.rollback().await?;
        return Err(LoginError::Disabled);
    }
    let role = u.role;
    let mfa_passed = !u.totp_enabled && !role.requires_second_factor();
    let token = session::create(&txn, u.id, mfa_passed, client_addr, now).await?;
    let mut active: user::ActiveModel = u.clone().into();
    active.failed_logins = Set(0);
    active.locked_until = Set(None);
    active.last_login_at = Set(Some(now));
    let u = active.update(&txn).await?;
    Audit::by(app, user_actor(&txn, &u, client_addr).await?, now)
        .record(
            &txn,
            Event {
                action: "login.success",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: if u.totp_enabled {
                    "密码验证通过，待双因素认证".into()
                } else {
                    "登录成功".into()
                },
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok((token, stage(mfa_passed, &u, role)))
}

/// A real Argon2id hash, for equal-time rejection of unknown users.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Completes the second step with an authenticator code or a one-time recovery code.
pub async fn verify_second_factor(
    app: &App,
    session_id: &str,
    u: &user::Model,
    code: &str,
    client_addr: &str,
) -> Result<(), AppError> {
    let now = app.clock.now();
    let code = code.trim();
    let secret = totp::secret_of(app, u)?.unwrap_or_default();
    let totp_step = if u.totp_enabled {
        totp::check(&secret, code, now.unix_timestamp(), u.totp_last_step)
    } else {
        None
    };
    let by_totp = totp_step.is_some();
    let mut remaining: Vec<String> = serde_json::from_str(&u.recovery_codes).unwrap_or_default();
    let digest = totp::digest_recovery_code(code);
    let by_recovery = !by_totp && remaining.contains(&digest);
    let txn = store::write_txn(&app.db).await?;
    if !by_totp && !by_recovery {
        Audit::by(app, user_actor(&txn, u, client_addr).await?, now)
            .record(
                &txn,
                Event {
                    action: "login.mfa_failure",
                    object_type: "user",
                    object_id: u.id.to_string(),
                    summary: "双因素验证码错误".into(),
                    ..Default::default()
                },
            )
            .await?;
        txn.commit().await?;
        return Err(AppError::invalid(
            "code",
            "验证码错误或已过期，请输入验证器应用中当前显示的6位数字",
        ));
    }
    let mut active: user::ActiveModel = u.clone().into();
    if by_recovery {
        remaining.retain(|d| d != &digest);
        active.recovery_codes = Set(serde_json::to_string(&remaining).unwrap_or_default());
    }
    if totp_step.is_some() {
        active.totp_last_step = Set(totp_step);
    }
    active.update(&txn).await?;
    session::set_mfa_passed(&txn, session_id).await?;
    Audit::by(app, user_actor(&txn, u, client_addr).await?, now)
        .record(
            &txn,
            Event {
                action: "login.mfa_success",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: if by_recovery {
                    format!("使用恢复码完成双因素认证（剩余{}个）", remaining.len())
                } else {
                    "双因素认证通过".into()
                },
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn logout(
    app: &App,
    session_id: &str,
    u: &user::Model,
    client_addr: &str,
) -> Result<(), AppError> {
    let txn = store::write_txn(&app.db).await?;
    session::delete(&txn, session_id).await?;
    Audit::by(
        app,
        user_actor(&txn, u, client_addr).await?,
        app.clock.now(),
    )
    .record(
        &txn,
        Event {
            action: "logout",
            object_type: "user",
            object_id: u.id.to_string(),
            summary: "退出登录".into(),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Records that an idle session was ended.
pub async fn record_expiry(app: &App, u: &user::Model, client_addr: &str) -> Result<(), AppError> {
    let txn = store::write_txn(&app.db).await?;
    Audit::by(
        app,
        user_actor(&txn, u, client_addr).await?,
        app.clock.now(),
    )
    .record(
        &txn,
        Event {
            action: "session.expired",
            object_type: "user",
            object_id: u.id.to_string(),
            summary: format!(
                "会话空闲超过{}分钟，已自动退出",
                app.config.security.idle_timeout_minutes
            ),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The user changes their own password (forced at first login).
pub async fn change_password(
    app: &App,
    u: &user::Model,
    current: &str,
    new: &str,
    confirm: &str,
    client_addr: &str,
) -> Result<(), AppError> {
    let mut problems = crate::error::Problems::default();
    if !password::verify(current, &u.password_hash).await {
        problems.add("current", "当前密码不正确");
    }
    if let Err(msg) = jiqun_domain::password::check_complexity(new, &u.username) {
        problems.add("new", msg);
    } else if new == current {
        problems.add("new", "新密码不能与当前密码相同");
    }
    if new != confirm {
        problems.add("confirm", "两次输入的新密码不一致");
    }
    problems.into_result()?;
    let hash = password::hash(new).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let mut active: user::ActiveModel = u.clone().into();
    active.password_hash = Set(hash);
    active.must_change_password = Set(false);
    active.password_changed_at = Set(now);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    Audit::by(app, user_actor(&txn, u, client_addr).await?, now)
        .record(
            &txn,
            Event {
                action: "account.password_changed",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: if u.must_change_password {
                    "首次登录修改初始密码".into()
                } else {
                    "修改密码".into()
                },
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Starts enrolment: a fresh secret, kept but not enabled until a code proves the app has it.
pub async fn begin_enrolment(app: &App, u: &user::Model) -> Result<String, AppError> {
    if let Some(secret) = totp::secret_of(app, u)?.filter(|_| !u.totp_enabled) {
        return Ok(secret);
    }
    let secret = totp::new_secret();
    let mut active: user::ActiveModel = u.clone().into();
    active.totp_secret = Set(Some(totp::sealed_secret(app, u.id, &secret)));
    active.totp_enabled = Set(false);
    active.update(&app.db).await?;
    Ok(secret)
}

/// Confirms enrolment with a code; returns the recovery codes to show once.
pub async fn confirm_enrolment(
    app: &App,
    p: &Principal,
    session_id: &str,
    code: &str,
) -> Result<Vec<String>, AppError> {
    let now = app.clock.now();
    let secret = totp::secret_of(app, &p.user)?
        .filter(|_| !p.user.totp_enabled)
        .ok_or_else(|| AppError::Conflict("请先打开双因素认证设置页面获取二维码".into()))?;
    let Some(step) = totp::check(&secret, code, now.unix_timestamp(), None) else {
        return Err(AppError::invalid(
            "code",
            "验证码不正确，请确认手机时间准确后重新输入",
        ));
    };
    let codes = totp::new_recovery_codes();
    let digests: Vec<String> = codes
        .iter()
        .map(|c| totp::digest_recovery_code(c))
        .collect();
    let txn = store::write_txn(&app.db).await?;
    let mut active: user::ActiveModel = p.user.clone().into();
    active.totp_enabled = Set(true);
    active.totp_last_step = Set(Some(step));
    active.recovery_codes = Set(serde_json::to_string(&digests).unwrap_or_default());
    active.updated_at = Set(now);
    active.update(&txn).await?;
    session::set_mfa_passed(&txn, session_id).await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "account.mfa_enabled",
                object_type: "user",
                object_id: p.user.id.to_string(),
                summary: "启用双因素认证（TOTP），生成10个恢复码".into(),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(codes)
}
