//! Integration API tokens: long-lived credentials that let another government system (a
//! provincial data platform, a city's own system) call `/api/v1` in one business role for one
//! organisation. The security administrator issues, lists and revokes them (三权分立: issuing a
//! credential is a security duty, not a system-administration one).
//!
//! A token is `jq_` followed by 64 hex digits (32 random bytes). Only its SM3 digest is stored,
//! as for sessions, so reading the database does not give anyone a usable token; the token is
//! shown once, when it is issued. Tokens never open pages: a person signs in, a system calls the
//! API.
//!
//! Use is recorded, not every call audited: each call moves `last_used_at` (at most once a
//! minute), and the first call of each day (Beijing time) writes one `api_token.use` audit entry
//! naming the request. A system polling every few seconds would otherwise bury the audit trail
//! under thousands of identical reads, and the writes a token makes are audited anyway — each
//! by its own entry, with the token named as the actor. The daily entry is claimed with one
//! conditional `UPDATE`, so parallel first calls of a day record it once, on PostgreSQL too.

use crate::store::id::{ApiTokenId, OrgId, UserId};
use jiqun_domain::access::{Action, Resource, Role, token_role_allowed};
use jiqun_domain::audit::sm3_hex;
use jiqun_domain::round::date_zh;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::authorize;
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::{format_local, local, local_midnight};
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{api_token, organisation, user},
};

/// What every API token starts with, so a bearer value is recognised as one without a lookup.
pub const PREFIX: &str = "jq_";

/// Characters of the token kept in clear to recognise it (`jq_` and 8 hex digits).
const SHOWN_CHARS: usize = 11;

pub fn is_api_token(bearer: &str) -> bool {
    bearer.starts_with(PREFIX)
}

fn new_secret() -> String {
    format!("{PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()))
}

fn digest(token: &str) -> String {
    sm3_hex(token.as_bytes())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenInput {
    /// What the token is for, e.g. the system that will hold it (at most 50 characters).
    pub name: String,
    /// applicant | city_bureau | province | partner
    pub role: String,
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    /// Last day of validity, YYYY-MM-DD in Beijing time; empty or absent for no expiry.
    #[serde(default)]
    pub expires_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    #[schema(value_type = i64)]
    pub id: ApiTokenId,
    pub name: String,
    /// The token's first characters, to recognise it (never enough to use it).
    pub prefix: String,
    pub role: String,
    pub role_label: String,
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    pub org_name: String,
    pub created_at: String,
    pub created_by: String,
    /// Last day of validity (Beijing time), or none.
    pub expires_on: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// active | expired | revoked
    pub status: String,
    pub status_label: String,
}

/// A token just issued: the secret is in this answer and nowhere else.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: TokenView,
    /// The token itself, shown once: send it as `Authorization: Bearer <token>`.
    pub secret: String,
}

/// The last day of validity of a token that expires at `at` (the next day's midnight).
fn last_day(at: OffsetDateTime) -> String {
    date_zh(local(at - Duration::seconds(1)).date())
}

fn status(m: &api_token::Model, now: OffsetDateTime) -> (&'static str, &'static str) {
    if m.revoked_at.is_some() {
        ("revoked", "已吊销")
    } else if m.expires_at.is_some_and(|e| now >= e) {
        ("expired", "已过期")
    } else {
        ("active", "有效")
    }
}

fn view(m: &api_token::Model, org_name: &str, created_by: &str, now: OffsetDateTime) -> TokenView {
    let (key, label) = status(m, now);
    TokenView {
        id: m.id,
        name: m.name.clone(),
        prefix: format!("{}…", m.prefix),
        role: m.role.key().to_string(),
        role_label: m.role.label().to_string(),
        org_id: m.org_id,
        org_name: org_name.to_string(),
        created_at: format_local(m.created_at),
        created_by: created_by.to_string(),
        expires_on: m.expires_at.map(last_day),
        last_used_at: m.last_used_at.map(format_local),
        revoked_at: m.revoked_at.map(format_local),
        status: key.into(),
        status_label: label.into(),
    }
}

/// The roles a token may be given, as (key, label) for a form.
pub fn role_choices() -> Vec<(String, String)> {
    Role::ALL
        .into_iter()
        .filter(|r| token_role_allowed(*r))
        .map(|r| (r.key().to_string(), r.label().to_string()))
        .collect()
}

/// The organisations a token may be issued for (active ones, of a kind some token role
/// belongs to), as (id, label) for a form. The security administrator has no organisation
/// permission otherwise; this is the one list issuing needs.
pub async fn org_choices(app: &App, p: &Principal) -> Result<Vec<(String, String)>, AppError> {
    authorize(p, Resource::ApiToken, Action::Create)?;
    let kinds: Vec<_> = Role::ALL
        .into_iter()
        .filter(|r| token_role_allowed(*r))
        .map(Role::org_kind)
        .collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Active.eq(true))
        .filter(organisation::Column::Kind.is_in(kinds))
        .order_by_asc(organisation::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|o| {
            (
                o.id.to_string(),
                format!("{}（{}）", o.name, o.kind.label()),
            )
        })
        .collect())
}

/// Every token, newest first, for the security administrator.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<TokenView>, AppError> {
    authorize(p, Resource::ApiToken, Action::View)?;
    let rows = api_token::Entity::find()
        .order_by_desc(api_token::Column::Id)
        .all(&app.db)
        .await?;
    let orgs =
        store::load_by_ids::<organisation::Entity>(&app.db, rows.iter().map(|r| r.org_id)).await?;
    let users =
        store::load_by_ids::<user::Entity>(&app.db, rows.iter().map(|r| r.created_by)).await?;
    let now = app.clock.now();
    Ok(rows
        .iter()
        .map(|m| {
            view(
                m,
                orgs.get(&m.org_id).map(|o| o.name.as_str()).unwrap_or(""),
                users
                    .get(&m.created_by)
                    .map(|u| u.display_name.as_str())
                    .unwrap_or(""),
                now,
            )
        })
        .collect())
}

/// Issues a token; the secret is returned here once and never stored.
pub async fn create(app: &App, p: &Principal, input: &TokenInput) -> Result<IssuedToken, AppError> {
    authorize(p, Resource::ApiToken, Action::Create)?;
    let now = app.clock.now();
    let mut problems = Problems::default();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        problems.add(
            "name",
            "请填写令牌用途（如使用令牌的系统名称，不超过50个字）",
        );
    }
    let role = Role::from_key(input.role.trim());
    match role {
        None => problems.add("role", "请选择令牌的角色"),
        Some(r) if !token_role_allowed(r) => problems.add(
            "role",
            "接口令牌只能授予业务角色（申报主体、市州工信局、省工信厅、有关部门），不能授予管理员或评审专家角色",
        ),
        Some(_) => {}
    }
    let org = organisation::Entity::find_by_id(input.org_id)
        .one(&app.db)
        .await?;
    match (&org, role) {
        (None, _) => problems.add("org_id", "请选择令牌所属单位"),
        (Some(o), _) if !o.active => problems.add("org_id", "所选单位已停用"),
        (Some(o), Some(r)) if o.kind != r.org_kind() => problems.add(
            "org_id",
            format!(
                "{}令牌应属于“{}”类单位，所选单位为“{}”",
                r.label(),
                r.org_kind().label(),
                o.kind.label()
            ),
        ),
        _ => {}
    }
    let expires_at = match input
        .expires_on
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match crate::services::calendar::parse_date(text) {
            Ok(day) if day < local(now).date() => {
                problems.add("expires_on", "有效期不能早于今天");
                None
            }
            Ok(day) => day.next_day().map(local_midnight),
            Err(_) => {
                problems.add("expires_on", "有效期应为日期，格式如2026-12-31");
                None
            }
        },
    };
    problems.into_result()?;
    let (Some(org), Some(role)) = (org, role) else {
        return Err(AppError::internal(
            "token role and organisation checked above",
        ));
    };
    let secret = new_secret();
    let prefix: String = secret.chars().take(SHOWN_CHARS).collect();
    let txn = store::write_txn(&app.db).await?;
    let m = api_token::ActiveModel {
        name: Set(name.clone()),
        digest: Set(digest(&secret)),
        prefix: Set(prefix.clone()),
        role: Set(role),
        org_id: Set(org.id),
        created_by: Set(p.user.id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let validity = expires_at.map_or("长期有效".to_string(), |e| {
        format!("有效期至{}", last_day(e))
    });
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "api_token.create",
                object_type: "api_token",
                object_id: m.id.to_string(),
                summary: format!(
                    "签发接口令牌「{name}」（{prefix}…）：角色{}，单位{}，{validity}",
                    role.label(),
                    org.name
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(IssuedToken {
        token: view(&m, &org.name, &p.user.display_name, now),
        secret,
    })
}

/// Revokes a token at once; a token is revoked once.
pub async fn revoke(
    app: &App,
    p: &Principal,
    id: ApiTokenId,
    reason: &str,
) -> Result<TokenView, AppError> {
    authorize(p, Resource::ApiToken, Action::Update)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "请填写吊销理由"));
    }
    let m = api_token::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // One conditional statement: of two parallel revocations one wins, the other is told.
    let done = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .col_expr(api_token::Column::RevokedBy, Expr::value(p.user.id))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::Conflict("该令牌已被吊销".into()));
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "api_token.revoke",
                object_type: "api_token",
                object_id: id.to_string(),
                summary: format!("吊销接口令牌「{}」（{}…）", m.name, m.prefix),
                reason: reason.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    let after = api_token::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let org = organisation::Entity::find_by_id(after.org_id)
        .one(&app.db)
        .await?;
    let by = user::Entity::find_by_id(after.created_by)
        .one(&app.db)
        .await?;
    Ok(view(
        &after,
        org.map(|o| o.name).as_deref().unwrap_or(""),
        by.map(|u| u.display_name).as_deref().unwrap_or(""),
        now,
    ))
}

/// The principal a token acts as: its role and organisation, with a stand-in account whose id
/// is the token's id negated. No real account has a negative id, so own-account scopes reach
/// nothing and `created_by` columns of what the token writes point at no person; the audit
/// trail names the token (see [`crate::audit::Actor::user`]).
fn principal_of(t: &api_token::Model, org: organisation::Model, client_addr: &str) -> Principal {
    let account = user::Model {
        id: UserId::new(-t.id.get()),
        username: t.prefix.clone(),
        display_name: format!("接口令牌「{}」", t.name),
        org_id: t.org_id,
        role: t.role,
        phone: String::new(),
        email: String::new(),
        password_hash: String::new(),
        must_change_password: false,
        failed_logins: 0,
        failed_second_factors: 0,
        locked_by_second_factor: false,
        activation_pending: false,
        locked_until: None,
        totp_secret: None,
        totp_enabled: false,
        totp_last_step: None,
        recovery_codes: "[]".into(),
        active: true,
        version: 0,
        password_changed_at: t.created_at,
        last_login_at: None,
        created_at: t.created_at,
        updated_at: t.created_at,
    };
    Principal {
        user: account,
        org,
        role: t.role,
        client_addr: client_addr.to_string(),
    }
}

/// Whether a principal is an API token's.
pub fn is_token_principal(p: &Principal) -> bool {
    p.user.id.get() < 0
}

/// Checks a bearer token and returns the principal it acts as, recording its use. Refusals are
/// 401 with the reason in Chinese (unknown, revoked, expired, organisation closed).
pub async fn authenticate(
    app: &App,
    token: &str,
    request: &str,
    client_addr: &str,
) -> Result<Principal, AppError> {
    let refused = |m: String| AppError::LoginRefused(m);
    let Some(t) = api_token::Entity::find()
        .filter(api_token::Column::Digest.eq(digest(token.trim())))
        .one(&app.db)
        .await?
    else {
        return Err(refused("接口令牌无效，请核对令牌或向安全管理员申请".into()));
    };
    let now = app.clock.now();
    if let Some(at) = t.revoked_at {
        return Err(refused(format!(
            "接口令牌已于{}吊销，不能再使用，请向安全管理员申请新的令牌",
            date_zh(local(at).date())
        )));
    }
    if let Some(at) = t.expires_at.filter(|e| now >= *e) {
        return Err(refused(format!(
            "接口令牌已过期（有效期至{}），请向安全管理员申请新的令牌",
            last_day(at)
        )));
    }
    if !token_role_allowed(t.role) {
        return Err(refused("接口令牌的角色不允许通过接口使用".into()));
    }
    let org = organisation::Entity::find_by_id(t.org_id)
        .one(&app.db)
        .await?
        .filter(|o| o.active)
        .ok_or_else(|| refused("接口令牌所属单位不存在或已停用".into()))?;
    let p = principal_of(&t, org, client_addr);
    record_use(app, &p, &t, request, now).await?;
    Ok(p)
}

async fn record_use(
    app: &App,
    p: &Principal,
    t: &api_token::Model,
    request: &str,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let day_start = local_midnight(local(now).date());
    let first_today = t.last_used_at.is_none_or(|at| at < day_start);
    let stale = t
        .last_used_at
        .is_none_or(|at| now - at >= Duration::minutes(1));
    if !first_today && !stale {
        return Ok(());
    }
    let txn = store::write_txn(&app.db).await?;
    let since = if first_today {
        day_start
    } else {
        now - Duration::minutes(1)
    };
    let claimed = api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(t.id))
        .filter(
            Condition::any()
                .add(api_token::Column::LastUsedAt.is_null())
                .add(api_token::Column::LastUsedAt.lt(since)),
        )
        .exec(&txn)
        .await?;
    if first_today && claimed.rows_affected == 1 {
        Audit::of(app, p, now)
            .record(
                &txn,
                Event {
                    action: "api_token.use",
                    object_type: "api_token",
                    object_id: t.id.to_string(),
                    summary: format!(
                        "接口令牌「{}」（{}…）今日首次调用：{request}（当日其余调用只记最近使用时间，写操作另有各自的审计记录）",
                        t.name, t.prefix
                    ),
                    ..Default::default()
                },
            )
            .await?;
    }
    txn.commit().await?;
    Ok(())
}
