//! Signing in and out, second factors and password changes — one implementation for the pages
//! and the JSON API.
//!
//! Every guess is evaluated under a per-account lock (`store::lock::serialise`, key
//! `login:<user id>`): the account is read, the lock re-checked and the failure counted in one
//! serialised step, so parallel guesses count one by one and none acts after the lock. Failed
//! steps are also counted per client address (`throttle`), answered 429 past the limit.

use jiqun_domain::security::{self, after_failure, is_locked};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use time::OffsetDateTime;

use super::{password, session, totp};
use crate::app::{App, Principal};
use crate::audit::{Actor, Audit, Event};
use crate::clock::format_local;
use crate::error::AppError;
use crate::store::{
    self,
    entity::{organisation, user},
};
use crate::throttle::{self, Verdict};

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

/// `mfa_required`: whether the user's role must use a second factor
/// (`App::second_factor_required`).
pub fn stage(mfa_passed: bool, u: &user::Model, mfa_required: bool) -> Stage {
    if !mfa_passed && u.totp_enabled {
        Stage::VerifySecondFactor
    } else if u.must_change_password {
        Stage::ChangePassword
    } else if !mfa_passed && mfa_required {
        Stage::EnrolSecondFactor
    } else {
        Stage::Complete
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error(
        "账户已锁定，请于 {until} 后再试，或联系安全管理员解锁；已启用双因素认证的用户可同时输入验证码登录"
    )]
    Locked { until: String },
    #[error("连续{threshold}次密码错误，账户已锁定至 {until}")]
    NowLocked { threshold: u32, until: String },
    #[error("账户已停用，请联系系统管理员")]
    Disabled,
    #[error(transparent)]
    App(#[from] AppError),
}

impl LoginError {
    /// Whether the answer is about a lock, so the login form offers the code field.
    pub fn is_lock(&self) -> bool {
        matches!(
            self,
            LoginError::Locked { .. } | LoginError::NowLocked { .. }
        )
    }
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

/// Counts one attempt from the client address; past the limit, a 429 with its wait.
async fn take_attempt(app: &App, client_addr: &str, now: OffsetDateTime) -> Result<i64, AppError> {
    match throttle::take(&app.db, app.sign_in_limit(), client_addr, now).await? {
        Verdict::Allowed(hit) => Ok(hit),
        Verdict::Refused { retry_after_secs } => {
            tracing::warn!(
                client_addr,
                "sign-in attempts from this address over the limit"
            );
            Err(AppError::TooManyRequests { retry_after_secs })
        }
    }
}

/// The shell of `security::may_pass_lock`: counts the address's failures on the account during
/// the lock period.
async fn may_pass_lock<C: ConnectionTrait>(
    conn: &C,
    app: &App,
    u: &user::Model,
    code: Option<&str>,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<bool, sea_orm::DbErr> {
    let code_given = code.is_some_and(|c| !c.trim().is_empty());
    // Only count the address's failures when the rest would let the sign-in through.
    if !security::may_pass_lock(u.totp_enabled, u.locked_by_second_factor, code_given, 0) {
        return Ok(false);
    }
    let since = now - time::Duration::minutes(i64::from(app.config.security.lockout_minutes));
    let failed = throttle::count_since(
        conn,
        throttle::ACCOUNT_FAILURE,
        &throttle::account_subject(u.id, client_addr),
        since,
    )
    .await?;
    Ok(security::may_pass_lock(
        u.totp_enabled,
        u.locked_by_second_factor,
        code_given,
        failed,
    ))
}

/// What a second-factor code proved.
enum CodeCheck {
    Totp(i64),
    /// A recovery code: the digests left after using it.
    Recovery(Vec<String>),
    Wrong,
}

fn check_code(
    app: &App,
    u: &user::Model,
    code: &str,
    now: OffsetDateTime,
) -> Result<CodeCheck, AppError> {
    let code = code.trim();
    if u.totp_enabled {
        let secret = totp::secret_of(app, u)?.unwrap_or_default();
        if let Some(step) = totp::check(
            &secret,
            code,
            app.clock.authenticator_time(now).unix_timestamp(),
            u.totp_last_step,
        ) {
            return Ok(CodeCheck::Totp(step));
        }
    }
    let mut remaining: Vec<String> = serde_json::from_str(&u.recovery_codes).unwrap_or_default();
    let digest = totp::digest_recovery_code(code);
    if !code.is_empty() && remaining.contains(&digest) {
        remaining.retain(|d| d != &digest);
        return Ok(CodeCheck::Recovery(remaining));
    }
    Ok(CodeCheck::Wrong)
}

/// Spends a right code (a TOTP step or a recovery code is accepted once) and clears the count of
/// wrong ones.
fn spend_code(active: &mut user::ActiveModel, check: &CodeCheck) {
    match check {
        CodeCheck::Totp(step) => active.totp_last_step = Set(Some(*step)),
        CodeCheck::Recovery(remaining) => {
            active.recovery_codes = Set(serde_json::to_string(remaining).unwrap_or_default());
        }
        CodeCheck::Wrong => return,
    }
    active.failed_second_factors = Set(0);
}

fn code_summary(check: &CodeCheck) -> String {
    match check {
        CodeCheck::Recovery(remaining) => {
            format!("使用恢复码完成双因素认证（剩余{}个）", remaining.len())
        }
        _ => "双因素认证通过".into(),
    }
}

/// Counts a wrong second-factor code inside the caller's serialised transaction; the last one
/// allowed locks the account and ends its half-signed-in sessions. Returns the lock's end.
async fn count_wrong_code<C: ConnectionTrait>(
    conn: &C,
    app: &App,
    u: &user::Model,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, AppError> {
    let outcome = after_failure(u.failed_second_factors.max(0) as u32, now, app.lockout());
    let mut active: user::ActiveModel = u.clone().into();
    active.failed_second_factors = Set(outcome.failed_logins as i32);
    if let Some(until) = outcome.locked_until {
        active.locked_until = Set(Some(until));
        active.locked_by_second_factor = Set(true);
    }
    active.update(conn).await?;
    throttle::record(
        conn,
        throttle::ACCOUNT_FAILURE,
        &throttle::account_subject(u.id, client_addr),
        now,
    )
    .await?;
    let audit = Audit::by(app, user_actor(conn, u, client_addr).await?, now);
    audit
        .record(
            conn,
            Event {
                action: "login.mfa_failure",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: format!(
                    "双因素验证码错误（连续第{}次）",
                    u.failed_second_factors + 1
                ),
                ..Default::default()
            },
        )
        .await?;
    if let Some(until) = outcome.locked_until {
        session::delete_half_signed_in(conn, u.id).await?;
        audit
            .record(
                conn,
                Event {
                    action: "account.locked",
                    object_type: "user",
                    object_id: u.id.to_string(),
                    summary: format!(
                        "连续{}次双因素验证码错误，账户锁定至 {}，未完成认证的会话已结束",
                        app.config.security.lockout_threshold,
                        format_local(until)
                    ),
                    ..Default::default()
                },
            )
            .await?;
    }
    Ok(outcome.locked_until)
}

async fn refuse_locked<C: ConnectionTrait>(
    conn: &C,
    app: &App,
    u: &user::Model,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<LoginError, AppError> {
    let until = u.locked_until.map(format_local).unwrap_or_default();
    Audit::by(app, user_actor(conn, u, client_addr).await?, now)
        .record(
            conn,
            Event {
                action: "login.refused_locked",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: format!("账户锁定期间尝试登录（锁定至 {until}）"),
                ..Default::default()
            },
        )
        .await?;
    Ok(LoginError::Locked { until })
}

/// Checks the password (and, for a locked account, the second factor given with it) and opens a
/// session. Returns the session token and the next stage.
pub async fn login(
    app: &App,
    username: &str,
    password_text: &str,
    code: Option<&str>,
    client_addr: &str,
) -> Result<(String, Stage), LoginError> {
    let username = username.trim().to_lowercase();
    let now = app.clock.now();
    // Unknown names and wrong passwords alike use up the address's allowance.
    let hit = take_attempt(app, client_addr, now).await?;
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
    // A lock refuses without spending a hash, unless both factors may pass it from here.
    if is_locked(u.locked_until, now)
        && !may_pass_lock(&app.db, app, &u, code, client_addr, now).await?
    {
        let txn = store::write_txn(&app.db).await?;
        let refused = refuse_locked(&txn, app, &u, client_addr, now).await?;
        txn.commit().await?;
        return Err(refused);
    }
    let password_ok = password::verify(password_text, &u.password_hash).await;
    let txn = store::write_txn(&app.db).await?;
    // One guess at a time per account: the state is read, the lock re-checked after the password
    // check and the failure counted before the next guess of this account is looked at.
    store::lock::serialise(&txn, &format!("login:{}", u.id)).await?;
    let u = user::Entity::find_by_id(u.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut passed_lock = None;
    if is_locked(u.locked_until, now) {
        if !may_pass_lock(&txn, app, &u, code, client_addr, now).await? {
            let refused = refuse_locked(&txn, app, &u, client_addr, now).await?;
            txn.commit().await?;
            return Err(refused);
        }
        // The owner's way past a lock: both factors in this one request. Whichever was wrong,
        // the answer is the same, and this address has had its one try for the lock period.
        let check = check_code(app, &u, code.unwrap_or_default(), now)?;
        if !password_ok || matches!(check, CodeCheck::Wrong) {
            if password_ok {
                count_wrong_code(&txn, app, &u, client_addr, now).await?;
            } else {
                throttle::record(
                    &txn,
                    throttle::ACCOUNT_FAILURE,
                    &throttle::account_subject(u.id, client_addr),
                    now,
                )
                .await?;
            }
            let refused = refuse_locked(&txn, app, &u, client_addr, now).await?;
            txn.commit().await?;
            return Err(refused);
        }
        passed_lock = Some(check);
    } else if !password_ok {
        let outcome = after_failure(u.failed_logins.max(0) as u32, now, app.lockout());
        let mut active: user::ActiveModel = u.clone().into();
        active.failed_logins = Set(outcome.failed_logins as i32);
        if outcome.locked_until.is_some() {
            active.locked_until = Set(outcome.locked_until);
            active.locked_by_second_factor = Set(false);
        }
        active.update(&txn).await?;
        throttle::record(
            &txn,
            throttle::ACCOUNT_FAILURE,
            &throttle::account_subject(u.id, client_addr),
            now,
        )
        .await?;
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
    let mfa_required = app.second_factor_required(u.role);
    let mfa_passed = passed_lock.is_some() || (!u.totp_enabled && !mfa_required);
    let token = session::create(&txn, u.id, mfa_passed, client_addr, now).await?;
    let mut active: user::ActiveModel = u.clone().into();
    if let Some(check) = &passed_lock {
        // The lock stays for everyone else; only this sign-in passes it.
        spend_code(&mut active, check);
    } else {
        active.failed_logins = Set(0);
        active.locked_until = Set(None);
    }
    active.last_login_at = Set(Some(now));
    let u = active.update(&txn).await?;
    Audit::by(app, user_actor(&txn, &u, client_addr).await?, now)
        .record(
            &txn,
            Event {
                action: "login.success",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: match &passed_lock {
                    Some(check) => format!(
                        "账户锁定期间凭密码和双因素验证码登录成功（{}；该地址此前无失败记录，锁定对其他地址继续有效）",
                        code_summary(check)
                    ),
                    None if u.totp_enabled => "密码验证通过，待双因素认证".into(),
                    None => "登录成功".into(),
                },
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    // A right password does not use up the address's allowance.
    throttle::forgive(&app.db, hit).await?;
    Ok((token, stage(mfa_passed, &u, mfa_required)))
}

/// A real Argon2id hash, for equal-time rejection of unknown users.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// Completes the second step with an authenticator code or a one-time recovery code. Wrong codes
/// count per account; the last one allowed locks the account and ends the half-signed-in session.
pub async fn verify_second_factor(
    app: &App,
    session_id: &str,
    u: &user::Model,
    code: &str,
    client_addr: &str,
) -> Result<(), AppError> {
    let now = app.clock.now();
    let hit = take_attempt(app, client_addr, now).await?;
    let txn = store::write_txn(&app.db).await?;
    store::lock::serialise(&txn, &format!("login:{}", u.id)).await?;
    // Read afresh under the lock: the last step used, the codes left and the count of wrong ones.
    let u = user::Entity::find_by_id(u.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    // A lock set by others meanwhile holds unless this session may pass it (see `may_pass_lock`:
    // the password was proven in this session, the code is the second factor).
    if is_locked(u.locked_until, now)
        && !may_pass_lock(&txn, app, &u, Some(code), client_addr, now).await?
    {
        session::delete(&txn, session_id).await?;
        let refused = refuse_locked(&txn, app, &u, client_addr, now).await?;
        txn.commit().await?;
        return Err(AppError::LoginRefused(refused.to_string()));
    }
    let check = check_code(app, &u, code, now)?;
    if matches!(check, CodeCheck::Wrong) {
        let locked = count_wrong_code(&txn, app, &u, client_addr, now).await?;
        txn.commit().await?;
        return Err(match locked {
            Some(until) => AppError::LoginRefused(format!(
                "连续{}次验证码错误，账户已锁定至 {}，本次登录已结束；如非本人操作，请立即联系安全管理员",
                app.config.security.lockout_threshold,
                format_local(until)
            )),
            None => AppError::invalid(
                "code",
                "验证码错误或已过期，请输入验证器应用中当前显示的6位数字",
            ),
        });
    }
    let mut active: user::ActiveModel = u.clone().into();
    spend_code(&mut active, &check);
    active.update(&txn).await?;
    session::set_mfa_passed(&txn, session_id).await?;
    Audit::by(app, user_actor(&txn, &u, client_addr).await?, now)
        .record(
            &txn,
            Event {
                action: "login.mfa_success",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: code_summary(&check),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    throttle::forgive(&app.db, hit).await?;
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

/// Records that a session ended by itself (idle, or past its absolute lifetime).
pub async fn record_expiry(
    app: &App,
    u: &user::Model,
    why: session::Expiry,
    client_addr: &str,
) -> Result<(), AppError> {
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
            summary: match why {
                session::Expiry::Idle => format!(
                    "会话空闲超过{}分钟，已自动退出",
                    app.config.security.idle_timeout_minutes
                ),
                session::Expiry::Lifetime => format!(
                    "会话自登录起已满{}小时，已自动退出",
                    app.config.security.session_max_hours
                ),
            },
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The user changes their own password (forced at first login). Every other session of theirs
/// ends: whoever may have had the old password is signed out; `session_id` stays.
pub async fn change_password(
    app: &App,
    u: &user::Model,
    session_id: &str,
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
    let ended = session::delete_others(&txn, u.id, session_id).await?;
    let what = if u.must_change_password {
        "首次登录修改初始密码"
    } else {
        "修改密码"
    };
    Audit::by(app, user_actor(&txn, u, client_addr).await?, now)
        .record(
            &txn,
            Event {
                action: "account.password_changed",
                object_type: "user",
                object_id: u.id.to_string(),
                summary: if ended > 0 {
                    format!("{what}，其他{ended}个会话已结束")
                } else {
                    what.into()
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
    let Some(step) = totp::check(
        &secret,
        code,
        app.clock.authenticator_time(now).unix_timestamp(),
        None,
    ) else {
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
