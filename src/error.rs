//! One error type for the services; the web layer maps it to a status and a Chinese message.

use sea_orm::DbErr;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("请先登录")]
    Unauthenticated,
    #[error("无权执行此操作")]
    Forbidden,
    /// Also used for objects outside the caller's scope, so existence is not revealed.
    #[error("未找到该对象，或您无权查看")]
    NotFound,
    #[error("提交的内容有误，请按提示修改")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("该记录已被他人修改，请刷新页面后重新编辑")]
    StaleVersion,
    #[error("首次登录或密码已被重置，请先修改密码")]
    PasswordChangeRequired,
    #[error("请先完成双因素认证")]
    SecondFactorRequired,
    #[error("请求未通过跨站请求伪造（CSRF）校验，请刷新页面后重试")]
    Csrf,
    #[error("会话已超时，请重新登录")]
    SessionExpired,
    /// Wrong password, locked or disabled account; the message says which.
    #[error("{0}")]
    LoginRefused(String),
    /// Too many failed attempts from one client address (429 with `Retry-After`).
    #[error("登录尝试过于频繁，请于{}后再试", wait_text(*retry_after_secs))]
    TooManyRequests { retry_after_secs: i64 },
    #[error("数据库错误")]
    Db(DbErr),
    /// The cause is for the log (with its whole chain), never for the user.
    #[error("系统内部错误")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

/// A unique index refusing a row means two requests raced to make the same thing (a double
/// click, two editors): the loser is told to look again, never shown a 500.
impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("该记录已由其他操作同时创建或修改，请刷新页面后查看结果".into())
            }
            _ => AppError::Db(e),
        }
    }
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// An internal error from a message or from an error whose source chain is kept for the log.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> AppError {
        AppError::Internal(cause.into())
    }

    /// The cause of a 500 with its source chain (`outer: inner: ...`), for the log only.
    pub fn log_detail(&self) -> Option<String> {
        match self {
            AppError::Db(e) => Some(chain(e)),
            AppError::Internal(e) => Some(chain(e.as_ref())),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Invalid(_) => "invalid_input",
            AppError::Conflict(_) => "conflict",
            AppError::StaleVersion => "stale_version",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::SecondFactorRequired => "second_factor_required",
            AppError::Csrf => "csrf_rejected",
            AppError::SessionExpired => "session_expired",
            AppError::LoginRefused(_) => "login_refused",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Db(_) | AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::SessionExpired | AppError::LoginRefused(_) => 401,
            AppError::Forbidden
            | AppError::PasswordChangeRequired
            | AppError::SecondFactorRequired
            | AppError::Csrf => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 422,
            AppError::Conflict(_) | AppError::StaleVersion => 409,
            AppError::TooManyRequests { .. } => 429,
            AppError::Db(_) | AppError::Internal(_) => 500,
        }
    }

    /// The `Retry-After` seconds of a 429.
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            AppError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(f) => f,
            _ => &[],
        }
    }
}

/// Collects field errors while a form is checked, so the user sees all of them at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}

/// A wait for people: whole minutes, rounded up ("3分钟"), or seconds under a minute.
fn wait_text(secs: i64) -> String {
    if secs < 60 {
        format!("{}秒", secs.max(1))
    } else {
        format!("{}分钟", (secs + 59) / 60)
    }
}

/// An error and its sources, outermost first, as `{:#}` of anyhow prints them.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
