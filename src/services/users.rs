//! User accounts. The system administrator creates and edits business accounts; the security
//! administrator activates them (issuing the first credential), resets credentials and unlocks;
//! everyone sees their own account. So whoever creates an account never holds a way into it
//! (三权分立, 等保 level 3).

use crate::store::id::{OrgId, UserId};
use jiqun_domain::access::{
    Action, Resource, Role, ScopeKind, assignable_by_sys_admin, role_change_allowed,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use super::{authorize, trimmed};
use crate::app::{App, Principal};
use crate::audit::{Actor, Audit, Event};
use crate::auth::{password, session};
use crate::clock::format_local;
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{organisation, user},
};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    /// applicant | city_bureau | province | partner | expert (administrators are created on the command line)
    pub role: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    #[schema(value_type = i64)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    pub org_name: String,
    pub role: String,
    pub role_label: String,
    pub phone: String,
    pub email: String,
    pub active: bool,
    /// Waiting for the security administrator's activation (待激活).
    pub activation_pending: bool,
    /// 待激活 | 停用 | 已锁定 | 待修改初始密码 | 正常
    pub status_label: String,
    pub locked: bool,
    pub locked_until: Option<String>,
    pub must_change_password: bool,
    pub totp_enabled: bool,
    pub last_login_at: Option<String>,
    pub version: i32,
}

pub fn view(m: &user::Model, org_name: &str, now: time::OffsetDateTime) -> UserView {
    let locked = jiqun_domain::security::is_locked(m.locked_until, now);
    let status_label = if m.activation_pending {
        "待激活"
    } else if !m.active {
        "停用"
    } else if locked {
        "已锁定"
    } else if m.must_change_password {
        "待修改初始密码"
    } else {
        "正常"
    };
    UserView {
        id: m.id,
        username: m.username.clone(),
        display_name: m.display_name.clone(),
        org_id: m.org_id,
        org_name: org_name.to_string(),
        role: m.role.key().to_string(),
        role_label: m.role.label().to_string(),
        phone: m.phone.clone(),
        email: m.email.clone(),
        active: m.active,
        activation_pending: m.activation_pending,
        status_label: status_label.into(),
        locked,
        locked_until: m.locked_until.filter(|_| locked).map(format_local),
        must_change_password: m.must_change_password,
        totp_enabled: m.totp_enabled,
        last_login_at: m.last_login_at.map(format_local),
        version: m.version,
    }
}

/// Checks the fields that do not need the database.
pub fn validate(input: &UserInput) -> Result<(String, String, Role), AppError> {
    let mut p = Problems::default();
    let username = input.username.trim().to_lowercase();
    if username.len() < 3
        || username.len() > 32
        || !username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        || !username.starts_with(|c: char| c.is_ascii_lowercase())
    {
        p.add(
            "username",
            "用户名须为3至32位小写字母、数字、下划线或点，且以字母开头",
        );
    }
    let display_name = trimmed(&input.display_name);
    if display_name.is_empty() || display_name.chars().count() > 50 {
        p.add("display_name", "请填写姓名（不超过50个字）");
    }
    let role = Role::from_key(input.role.trim());
    if role.is_none() {
        p.add("role", "请选择角色");
    }
    let email = input.email.trim();
    if !email.is_empty() && !jiqun_domain::contact::is_email(email) {
        p.add("email", "电子邮箱格式不正确");
    }
    let phone = input.phone.trim();
    if !phone.is_empty() && !jiqun_domain::contact::is_phone(phone) {
        p.add("phone", "联系电话只能包含数字和“-”，7至20位");
    }
    p.into_result()?;
    let role = role.ok_or(AppError::Internal("role checked above".into()))?;
    Ok((username, display_name, role))
}

fn scope_condition(p: &Principal, scope: ScopeKind) -> Condition {
    match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnOrg => Condition::all().add(user::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnAccount | ScopeKind::OwnCity | ScopeKind::OwnCounty => {
            Condition::all().add(user::Column::Id.eq(p.user.id))
        }
    }
}

fn in_scope(p: &Principal, scope: ScopeKind, m: &user::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnOrg => m.org_id == p.org.id,
        ScopeKind::OwnAccount | ScopeKind::OwnCity | ScopeKind::OwnCounty => m.id == p.user.id,
    }
}

fn roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.key(), r.label())).collect()
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    vec![("active", "启用"), ("inactive", "停用")]
}

/// The back office's list of accounts: filters, sortable columns, its path.
pub const LIST: ListSpec = ListSpec {
    path: "/users",
    filters: &[
        FilterSpec {
            key: "role",
            label: "角色",
            kind: FilterKind::Choice(roles),
        },
        FilterSpec {
            key: "status",
            label: "状态",
            kind: FilterKind::Choice(statuses),
        },
        FilterSpec {
            key: "q",
            label: "关键字",
            kind: FilterKind::Text,
        },
    ],
    sorts: &[
        ("id", "登记顺序"),
        ("username", "用户名"),
        ("name", "姓名"),
        ("role", "角色"),
        ("last_login", "最近登录"),
    ],
    default_desc: false,
};

/// The filtered, ordered query of the list, inside the principal's data scope.
fn listed(
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<sea_orm::Select<user::Entity>, AppError> {
    let scope = authorize(p, Resource::User, action)?;
    let mut query = user::Entity::find().filter(scope_condition(p, scope));
    if let Some(text) = params.get("q") {
        query = query.filter(
            Condition::any()
                .add(user::Column::Username.contains(text.to_lowercase()))
                .add(user::Column::DisplayName.contains(text)),
        );
    }
    if let Some(role) = params.get("role").and_then(Role::from_key) {
        query = query.filter(user::Column::Role.eq(role));
    }
    if let Some(status) = params.get("status") {
        query = query.filter(user::Column::Active.eq(status == "active"));
    }
    Ok(params.order(
        query,
        |key| match key {
            "username" => user::Column::Username,
            "name" => user::Column::DisplayName,
            "role" => user::Column::Role,
            "last_login" => user::Column::LastLoginAt,
            _ => user::Column::Id,
        },
        user::Column::Id,
    ))
}

/// One page of the accounts the principal may see and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<UserView>, u64), AppError> {
    let (rows, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    Ok((views(app, &rows).await?, total))
}

/// Every account the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let rows = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let table: Vec<Vec<String>> = views(app, &rows)
        .await?
        .into_iter()
        .map(|u| {
            vec![
                u.username,
                u.display_name,
                u.role_label,
                u.org_name,
                u.status_label,
                if u.totp_enabled {
                    "已启用"
                } else {
                    "未启用"
                }
                .to_string(),
                u.last_login_at.unwrap_or_default(),
            ]
        })
        .collect();
    export_xlsx(
        "用户名单",
        &[
            ("用户名", 18.0),
            ("姓名", 14.0),
            ("角色", 16.0),
            ("单位", 36.0),
            ("状态", 14.0),
            ("双因素", 10.0),
            ("最近登录", 20.0),
        ],
        &table,
    )
}

async fn views(app: &App, rows: &[user::Model]) -> Result<Vec<UserView>, AppError> {
    let names = super::clusters::org_names(&app.db, rows.iter().map(|m| m.org_id)).await?;
    let now = app.clock.now();
    Ok(rows
        .iter()
        .map(|m| {
            view(
                m,
                names.get(&m.org_id).map(String::as_str).unwrap_or(""),
                now,
            )
        })
        .collect())
}

async fn load_scoped(
    app: &App,
    p: &Principal,
    id: UserId,
    action: Action,
) -> Result<user::Model, AppError> {
    let view_scope = authorize(p, Resource::User, Action::View)?;
    let m = user::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !in_scope(p, view_scope, &m) {
        return Err(AppError::NotFound);
    }
    let scope = authorize(p, Resource::User, action)?;
    if !in_scope(p, scope, &m) {
        return Err(AppError::NotFound);
    }
    Ok(m)
}

pub async fn get(app: &App, p: &Principal, id: UserId) -> Result<UserView, AppError> {
    let m = load_scoped(app, p, id, Action::View).await?;
    let org = organisation::Entity::find_by_id(m.org_id)
        .one(&app.db)
        .await?;
    Ok(view(
        &m,
        org.map(|o| o.name).as_deref().unwrap_or(""),
        app.clock.now(),
    ))
}

/// The new account and, when it is issued at once, the initial password to hand over (shown once).
pub struct Created {
    pub user: UserView,
    pub initial_password: Option<String>,
}

/// How a new account gets its first credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstCredential {
    /// The command line (whoever runs the server): the account is in use at once and the
    /// password — given or generated — is returned.
    IssueNow(Option<String>),
    /// The system administrator: the account waits (待激活) with a password nobody ever sees,
    /// until the security administrator activates it and receives the first credential.
    AtActivation,
}

/// Creates an account. The command line may also create administrators.
pub async fn create_account(
    app: &App,
    actor: &Actor,
    input: &UserInput,
    allow_admin_roles: bool,
    first: FirstCredential,
) -> Result<Created, AppError> {
    let (username, display_name, role) = validate(input)?;
    if !allow_admin_roles && !assignable_by_sys_admin(role) {
        return Err(AppError::invalid(
            "role",
            "管理员账户只能由服务器运维人员通过命令行创建（三权分立）",
        ));
    }
    let org = organisation::Entity::find_by_id(input.org_id)
        .one(&app.db)
        .await?
        .ok_or_else(|| AppError::invalid("org_id", "所属单位不存在"))?;
    if org.kind != role.org_kind() {
        let kind_label = org.kind.label();
        return Err(AppError::invalid(
            "org_id",
            format!(
                "{}账户应属于“{}”类单位，所选单位为“{}”",
                role.label(),
                role.org_kind().label(),
                kind_label
            ),
        ));
    }
    if user::Entity::find()
        .filter(user::Column::Username.eq(&username))
        .one(&app.db)
        .await?
        .is_some()
    {
        return Err(AppError::invalid("username", "该用户名已被使用"));
    }
    let pending = first == FirstCredential::AtActivation;
    let initial = match first {
        FirstCredential::IssueNow(given) => given.unwrap_or_else(password::generate_initial),
        FirstCredential::AtActivation => password::generate_initial(),
    };
    if let Err(msg) = jiqun_domain::password::check_complexity(&initial, &username) {
        return Err(AppError::invalid("password", msg));
    }
    // A pending account's password is hashed and forgotten here: it exists only so that the row
    // is never without a hash, and no one can ever type it.
    let hash = password::hash(&initial).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = user::ActiveModel {
        username: Set(username.clone()),
        display_name: Set(display_name.clone()),
        org_id: Set(org.id),
        role: Set(role),
        phone: Set(input.phone.trim().into()),
        email: Set(input.email.trim().into()),
        password_hash: Set(hash),
        must_change_password: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        totp_last_step: Set(None),
        recovery_codes: Set("[]".into()),
        active: Set(!pending),
        activation_pending: Set(pending),
        version: Set(1),
        password_changed_at: Set(now),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::by(app, actor.clone(), now)
        .record(
            &txn,
            Event {
                action: "user.create",
                object_type: "user",
                object_id: m.id.to_string(),
                summary: format!(
                    "新建账户 {username}（{display_name}），角色={}，单位={}{}",
                    role.label(),
                    org.name,
                    if pending {
                        "，待安全管理员激活"
                    } else {
                        ""
                    }
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(Created {
        user: view(&m, &org.name, now),
        initial_password: (!pending).then_some(initial),
    })
}

/// The system administrator creates a business account; it waits for activation and its answer
/// carries no credential.
pub async fn create(app: &App, p: &Principal, input: &UserInput) -> Result<UserView, AppError> {
    authorize(p, Resource::User, Action::Create)?;
    let created =
        create_account(app, &p.actor(), input, false, FirstCredential::AtActivation).await?;
    Ok(created.user)
}

/// The account put into use by the security administrator, with its first password (shown once,
/// to be handed to the person, who must change it at first sign-in).
pub struct Activated {
    pub user: UserView,
    pub initial_password: String,
}

/// Activates an account waiting for it (待激活) and issues its first credential.
pub async fn activate(app: &App, p: &Principal, id: UserId) -> Result<Activated, AppError> {
    let target = load_scoped(app, p, id, Action::Activate).await?;
    if !target.activation_pending {
        return Err(AppError::Conflict("该账户不是待激活状态，无需激活".into()));
    }
    let initial = password::generate_initial();
    let hash = password::hash(&initial).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // One conditional statement: of two activations racing, exactly one issues a credential.
    let done = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::MustChangePassword, Expr::value(true))
        .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<time::OffsetDateTime>::None),
        )
        .col_expr(user::Column::Active, Expr::value(true))
        .col_expr(user::Column::ActivationPending, Expr::value(false))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::ActivationPending.eq(true))
        .exec(&txn)
        .await?;
    if done.rows_affected != 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict("该账户已被激活，请刷新页面".into()));
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "user.activate",
                object_type: "user",
                object_id: id.to_string(),
                summary: format!(
                    "激活账户 {}（{}，{}），初始密码交由安全管理员转交本人，首次登录须修改",
                    target.username,
                    target.display_name,
                    target.role.label()
                ),
                ..Default::default()
            },
        )
        .await?;
    let after = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    let org = organisation::Entity::find_by_id(after.org_id)
        .one(&app.db)
        .await?;
    Ok(Activated {
        user: view(&after, org.map(|o| o.name).as_deref().unwrap_or(""), now),
        initial_password: initial,
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct UserUpdate {
    pub display_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    pub active: bool,
    /// The role cannot move between administrator and business duties (三权分立); when given,
    /// it must be the account's own.
    #[serde(default)]
    pub role: Option<String>,
    pub version: i32,
}

pub async fn update(
    app: &App,
    p: &Principal,
    id: UserId,
    input: &UserUpdate,
) -> Result<UserView, AppError> {
    let before = load_scoped(app, p, id, Action::Update).await?;
    let role = before.role;
    if role.is_admin() {
        return Err(AppError::Forbidden);
    }
    let new_role = match input
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => role,
        Some(key) => Role::from_key(key).ok_or_else(|| AppError::invalid("role", "角色无效"))?,
    };
    if !role_change_allowed(role, new_role) {
        return Err(AppError::invalid(
            "role",
            format!(
                "不能把{}账户改为{}：管理员与业务角色互不兼任（三权分立）",
                role.label(),
                new_role.label()
            ),
        ));
    }
    if before.activation_pending && input.active {
        return Err(AppError::Conflict(
            "该账户待安全管理员激活，系统管理员不能直接启用（三权分立）".into(),
        ));
    }
    validate(&UserInput {
        username: before.username.clone(),
        display_name: input.display_name.clone(),
        org_id: before.org_id,
        role: before.role.key().to_string(),
        phone: input.phone.clone(),
        email: input.email.clone(),
    })?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    store::update_versioned(
        &txn,
        id,
        input.version,
        user::ActiveModel {
            display_name: Set(input.display_name.trim().into()),
            phone: Set(input.phone.trim().into()),
            email: Set(input.email.trim().into()),
            role: Set(new_role),
            active: Set(input.active),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    if !input.active {
        session::delete_for_user(&txn, id).await?;
    }
    Audit::of(app, p, now).record_changes(
        &txn,
        Event {
            action: "user.update",
            object_type: "user",
            object_id: id.to_string(),
            summary: format!(
                "修改前：姓名={}，电话={}，邮箱={}，状态={}\n修改后：姓名={}，电话={}，邮箱={}，状态={}",
                before.display_name,
                before.phone,
                before.email,
                if before.active { "启用" } else { "停用" },
                input.display_name.trim(),
                input.phone.trim(),
                input.email.trim(),
                if input.active { "启用" } else { "停用" },
            ),
            ..Default::default()
        },
        crate::audit::changes_since::<user::Entity, _>(&txn, &before).await?,
    )
    .await?;
    let after = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    let org = organisation::Entity::find_by_id(after.org_id)
        .one(&app.db)
        .await?;
    Ok(view(
        &after,
        org.map(|o| o.name).as_deref().unwrap_or(""),
        now,
    ))
}

/// What the security administrator (or the command line) does to an account's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialAction {
    ResetPassword,
    Unlock,
    ResetSecondFactor,
}

/// Applies a credential action; returns the new initial password for a reset.
pub async fn apply_credentials(
    app: &App,
    actor: &Actor,
    target: &user::Model,
    action: CredentialAction,
    reason: &str,
) -> Result<Option<String>, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "请填写操作理由"));
    }
    let now = app.clock.now();
    let mut active: user::ActiveModel = target.clone().into();
    let mut new_password = None;
    let (action_key, summary) = match action {
        CredentialAction::ResetPassword => {
            let initial = password::generate_initial();
            active.password_hash = Set(password::hash(&initial).await?);
            active.must_change_password = Set(true);
            active.password_changed_at = Set(now);
            new_password = Some(initial);
            (
                "user.reset_password",
                "重置密码，用户下次登录须修改密码".to_string(),
            )
        }
        CredentialAction::Unlock => {
            active.failed_logins = Set(0);
            active.failed_second_factors = Set(0);
            active.locked_until = Set(None);
            active.locked_by_second_factor = Set(false);
            ("user.unlock", "解除账户锁定".to_string())
        }
        CredentialAction::ResetSecondFactor => {
            active.totp_enabled = Set(false);
            active.totp_secret = Set(None);
            active.recovery_codes = Set("[]".into());
            (
                "user.reset_mfa",
                "重置双因素认证，用户下次登录须重新绑定".to_string(),
            )
        }
    };
    active.updated_at = Set(now);
    let txn = store::write_txn(&app.db).await?;
    active.update(&txn).await?;
    if action != CredentialAction::Unlock {
        session::delete_for_user(&txn, target.id).await?;
    }
    Audit::by(app, actor.clone(), now)
        .record(
            &txn,
            Event {
                action: action_key,
                object_type: "user",
                object_id: target.id.to_string(),
                summary: format!("{}：{}", target.username, summary),
                reason: reason.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(new_password)
}

pub async fn reset_credentials(
    app: &App,
    p: &Principal,
    id: UserId,
    action: CredentialAction,
    reason: &str,
) -> Result<Option<String>, AppError> {
    let target = load_scoped(app, p, id, Action::ResetCredentials).await?;
    if target.id == p.user.id {
        return Err(AppError::Conflict("不能对自己的账户执行此操作".into()));
    }
    if target.activation_pending && action == CredentialAction::ResetPassword {
        return Err(AppError::Conflict(
            "该账户待激活，请使用“激活账户”签发初始密码".into(),
        ));
    }
    apply_credentials(app, &p.actor(), &target, action, reason).await
}

pub async fn find_by_username(app: &App, username: &str) -> Result<Option<user::Model>, AppError> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username.trim().to_lowercase()))
        .one(&app.db)
        .await?)
}
