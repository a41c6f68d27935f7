//! User pages: the system administrator's account management and the security administrator's
//! credential actions.

use crate::store::id::{OrgId, UserId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, Role, assignable_by_sys_admin, permission};
use serde::Deserialize;

use super::{FormErrors, Layout, MessagePage, PageError, layout};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::listing::{ListNav, ListParams};
use crate::services::orgs::{OrgFilter, list as list_orgs};
use crate::services::users::{self, UserInput, UserUpdate, UserView};
use crate::web::download::xlsx_download;
use crate::web::forms::credential_action;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/users", get(list))
        .route("/users/export.xlsx", get(export))
        .route("/users/new", get(new_form).post(create))
        .route("/users/{id}", get(show))
        .route("/users/{id}/edit", get(edit_form).post(update))
        .route("/users/{id}/credentials", post(credentials))
        .route("/users/{id}/activate", post(activate))
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    users: Vec<UserView>,
    roles: Vec<(&'static str, &'static str)>,
    nav: ListNav,
    can_create: bool,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    if !matches!(
        permission(ctx.principal.role, Resource::User, Action::View),
        Some(jiqun_domain::access::ScopeKind::All)
    ) {
        return Err(PageError(AppError::Forbidden));
    }
    let params = ListParams::parse(&users::LIST, &pairs)?;
    let (rows, total) = users::page(&app, &ctx.principal, &params).await?;
    Ok(ListPage {
        layout: layout(&ctx, "users"),
        flash: String::new(),
        users: rows,
        roles: Role::ALL.iter().map(|r| (r.key(), r.label())).collect(),
        nav: params
            .nav(&users::LIST, total)
            .export_if(permission(ctx.principal.role, Resource::User, Action::Export).is_some()),
        can_create: permission(ctx.principal.role, Resource::User, Action::Create).is_some(),
    })
}

/// 导出Excel: every account the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&users::LIST, &pairs)?;
    let bytes = users::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "用户名单.xlsx", "users.xlsx"))
}

/// The form as typed: every field is text, so nothing the user typed is lost on an error.
#[derive(Deserialize, Default, Clone)]
struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    version: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "user_form.html")]
struct FormPage {
    layout: Option<Layout>,
    flash: String,
    heading: String,
    action: String,
    csrf: String,
    creating: bool,
    version: String,
    input: FormInput,
    roles: Vec<(String, String)>,
    orgs: Vec<(String, String)>,
    errors: FormErrors,
    general_error: String,
}

struct FormInput {
    username: String,
    display_name: String,
    org_id: String,
    role: String,
    phone: String,
    email: String,
    active: bool,
}

impl From<&UserForm> for FormInput {
    fn from(f: &UserForm) -> Self {
        FormInput {
            username: f.username.clone(),
            display_name: f.display_name.clone(),
            org_id: f.org_id.clone(),
            role: f.role.clone(),
            phone: f.phone.clone(),
            email: f.email.clone(),
            active: f.active.is_some(),
        }
    }
}

async fn form_page(
    app: &Shared,
    ctx: &SessionCtx,
    creating: bool,
    action: String,
    form: &UserForm,
    error: Option<&AppError>,
) -> Result<FormPage, PageError> {
    let orgs = if creating {
        list_orgs(app, &ctx.principal, &OrgFilter::default())
            .await?
            .into_iter()
            .map(|o| (o.id.to_string(), format!("{}（{}）", o.name, o.kind_label)))
            .collect()
    } else {
        vec![]
    };
    Ok(FormPage {
        layout: layout(ctx, "users"),
        flash: String::new(),
        heading: if creating {
            "新建用户".into()
        } else {
            format!("编辑用户：{}", form.username)
        },
        action,
        csrf: ctx.session.csrf_token.clone(),
        creating,
        version: form.version.clone(),
        input: FormInput::from(form),
        roles: Role::ALL
            .into_iter()
            .filter(|r| assignable_by_sys_admin(*r))
            .map(|r| (r.key().to_string(), r.label().to_string()))
            .collect(),
        orgs,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error: match error {
            Some(e @ (AppError::StaleVersion | AppError::Conflict(_))) => e.to_string(),
            _ => String::new(),
        },
    })
}

async fn new_form(State(app): State<Shared>, Authed(ctx): Authed) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::User, Action::Create)?;
    let form = UserForm {
        role: Role::Applicant.key().into(),
        ..Default::default()
    };
    form_page(&app, &ctx, true, "/users/new".into(), &form, None).await
}

async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<UserForm>,
) -> Response {
    let input = UserInput {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        org_id: form.org_id.trim().parse().unwrap_or(OrgId::new(0)),
        role: form.role.clone(),
        phone: form.phone.clone(),
        email: form.email.clone(),
    };
    match users::create(&app, &ctx.principal, &input).await {
        Ok(created) => MessagePage {
            layout: layout(&ctx, "users"),
            flash: String::new(),
            heading: "账户已创建，待激活".into(),
            paragraphs: vec![
                format!("已为 {}（{}）创建账户，状态为“待激活”。", created.display_name, created.username),
                "按三权分立要求，账户须由安全管理员激活；激活时系统向安全管理员签发初始密码，由其转交使用人，使用人首次登录时须修改密码。".into(),
            ],
            secrets: vec![],
            next_href: format!("/users/{}", created.id),
            next_label: "查看账户".into(),
        }
        .into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            match form_page(&app, &ctx, true, "/users/new".into(), &form, Some(&e)).await {
                Ok(page) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "user_show.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    u: UserView,
    can_edit: bool,
    can_reset: bool,
    can_activate: bool,
    reason: String,
    reason_error: String,
}

fn show_page(
    ctx: &SessionCtx,
    u: UserView,
    flash: String,
    reason: String,
    reason_error: String,
) -> ShowPage {
    let role = ctx.principal.role;
    let target_is_admin = Role::from_key(&u.role).is_some_and(Role::is_admin);
    ShowPage {
        layout: layout(ctx, "users"),
        flash,
        csrf: ctx.session.csrf_token.clone(),
        can_edit: permission(role, Resource::User, Action::Update).is_some() && !target_is_admin,
        can_reset: permission(role, Resource::User, Action::ResetCredentials).is_some()
            && u.id != ctx.principal.user.id
            && !u.activation_pending,
        can_activate: permission(role, Resource::User, Action::Activate).is_some()
            && u.activation_pending,
        u,
        reason,
        reason_error,
    }
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
) -> Result<ShowPage, PageError> {
    let u = users::get(&app, &ctx.principal, id).await?;
    Ok(show_page(
        &ctx,
        u,
        String::new(),
        String::new(),
        String::new(),
    ))
}

async fn edit_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::User, Action::Update)?;
    let u = users::get(&app, &ctx.principal, id).await?;
    let form = UserForm {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        org_id: u.org_id.to_string(),
        role: u.role.clone(),
        phone: u.phone.clone(),
        email: u.email.clone(),
        active: u.active.then(|| "true".to_string()),
        version: u.version.to_string(),
    };
    form_page(&app, &ctx, false, format!("/users/{id}/edit"), &form, None).await
}

async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
    Form(form): Form<UserForm>,
) -> Response {
    let input = UserUpdate {
        display_name: form.display_name.clone(),
        phone: form.phone.clone(),
        email: form.email.clone(),
        active: form.active.is_some(),
        role: Some(form.role.clone()).filter(|r| !r.trim().is_empty()),
        version: form.version.trim().parse().unwrap_or(0),
    };
    match users::update(&app, &ctx.principal, id, &input).await {
        Ok(u) => Redirect::to(&format!("/users/{}", u.id)).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::StaleVersion | AppError::Conflict(_))) => {
            let mut form = form;
            if let Ok(current) = users::get(&app, &ctx.principal, id).await {
                form.username = current.username;
            }
            match form_page(
                &app,
                &ctx,
                false,
                format!("/users/{id}/edit"),
                &form,
                Some(&e),
            )
            .await
            {
                Ok(page) => (
                    axum::http::StatusCode::from_u16(e.status()).unwrap_or_default(),
                    page,
                )
                    .into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
struct CredentialForm {
    action: String,
    #[serde(default)]
    reason: String,
}

async fn credentials(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
    Form(form): Form<CredentialForm>,
) -> Response {
    let result = match credential_action(&form.action) {
        Ok(action) => {
            users::reset_credentials(&app, &ctx.principal, id, action, &form.reason).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(new_password) => {
            let u = match users::get(&app, &ctx.principal, id).await {
                Ok(u) => u,
                Err(e) => return PageError(e).into_response(),
            };
            let flash = match new_password {
                Some(p) => format!("密码已重置。新的初始密码（仅显示这一次）：{p}"),
                None => "操作已完成，并已记入审计日志。".into(),
            };
            show_page(&ctx, u, flash, String::new(), String::new()).into_response()
        }
        Err(e @ AppError::Invalid(_)) => match users::get(&app, &ctx.principal, id).await {
            Ok(u) => {
                let msg = FormErrors::from_error(&e).get("reason").to_string();
                (
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    show_page(&ctx, u, String::new(), form.reason, msg),
                )
                    .into_response()
            }
            Err(e) => PageError(e).into_response(),
        },
        Err(e) => PageError(e).into_response(),
    }
}

/// The security administrator activates a waiting account and is shown its first password once.
async fn activate(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<UserId>,
) -> Response {
    match users::activate(&app, &ctx.principal, id).await {
        Ok(done) => MessagePage {
            layout: layout(&ctx, "users"),
            flash: String::new(),
            heading: "账户已激活".into(),
            paragraphs: vec![
                format!(
                    "已激活 {}（{}）的账户，并记入审计日志。",
                    done.user.display_name, done.user.username
                ),
                "初始密码如下，仅显示这一次。请通过安全渠道当面或密封交给使用人本人；使用人首次登录时系统会要求修改密码。".into(),
            ],
            secrets: vec![done.initial_password],
            next_href: format!("/users/{id}"),
            next_label: "查看账户".into(),
        }
        .into_response(),
        Err(e) => PageError(e).into_response(),
    }
}
