//! The workbench: each role's to-do list, with counts, and a few figures.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use jiqun_domain::access::{OrgKind, Role};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{Layout, PageError, layout};
use crate::app::{App, Principal, Shared};
use crate::store::entity::{audit_entry, organisation, user};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new().route("/", get(workbench))
}

pub struct Todo {
    pub label: String,
    pub href: String,
    pub count: u64,
}

#[derive(Template, WebTemplate)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    layout: Option<Layout>,
    flash: String,
    heading: String,
    todos: Vec<Todo>,
    stats: Vec<(String, u64)>,
}

/// To-dos and figures for a role, from live data only.
pub async fn todos_for(
    app: &App,
    p: &Principal,
) -> Result<(Vec<Todo>, Vec<(String, u64)>), PageError> {
    let db = &app.db;
    let now = app.clock.now();
    let mut todos = Vec::new();
    let mut stats = Vec::new();
    let mut push = |label: &str, href: &str, count: u64| {
        if count > 0 {
            todos.push(Todo {
                label: label.into(),
                href: href.into(),
                count,
            });
        }
    };
    match p.role {
        Role::SysAdmin => {
            let pending = user::Entity::find()
                .filter(user::Column::MustChangePassword.eq(true))
                .filter(user::Column::Active.eq(true))
                .count(db)
                .await?;
            push(
                "新建账户尚未登录修改初始密码（请督促使用人）",
                "/users",
                pending,
            );
            let calendar = crate::services::calendar::load(app).await?;
            let today = crate::services::calendar::today(app);
            for year in crate::services::calendar::missing_years(&calendar, today) {
                push(
                    &format!("尚未导入{year}年节假日安排（国务院办公厅通知发布后导入）"),
                    "/calendar",
                    1,
                );
            }
            stats.push(("单位".into(), organisation::Entity::find().count(db).await?));
            stats.push(("用户".into(), user::Entity::find().count(db).await?));
        }
        Role::SecAdmin => {
            let locked = user::Entity::find()
                .filter(user::Column::LockedUntil.gt(now))
                .count(db)
                .await?;
            push("处于锁定状态的账户", "/users", locked);
            let without_mfa = user::Entity::find()
                .filter(user::Column::TotpEnabled.eq(false))
                .filter(user::Column::Active.eq(true))
                .filter(
                    user::Column::Role.is_in(
                        Role::ALL
                            .into_iter()
                            .filter(|r| r.requires_second_factor())
                            .map(|r| r.key()),
                    ),
                )
                .count(db)
                .await?;
            push("须启用双因素认证但尚未绑定的账户", "/users", without_mfa);
        }
        Role::AuditAdmin => {
            let since = now - time::Duration::hours(24);
            let failures = audit_entry::Entity::find()
                .filter(audit_entry::Column::Action.starts_with("login.failure"))
                .filter(audit_entry::Column::At.gte(since))
                .count(db)
                .await?;
            push("近24小时登录失败", "/audit?action=login.failure", failures);
            let locks = audit_entry::Entity::find()
                .filter(audit_entry::Column::Action.eq("account.locked"))
                .filter(audit_entry::Column::At.gte(since))
                .count(db)
                .await?;
            push("近24小时账户锁定", "/audit?action=account.locked", locks);
            stats.push((
                "审计记录".into(),
                audit_entry::Entity::find().count(db).await?,
            ));
        }
        Role::Province => {
            let applicants = organisation::Entity::find()
                .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg.key()))
                .count(db)
                .await?;
            stats.push(("已登记申报主体".into(), applicants));
        }
        Role::CityBureau => {
            let applicants = organisation::Entity::find()
                .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg.key()))
                .filter(organisation::Column::CityCode.eq(p.org.city_code.clone()))
                .count(db)
                .await?;
            stats.push(("本市申报主体".into(), applicants));
        }
        Role::Applicant => {
            let incomplete =
                u64::from(p.org.contact_person.is_empty() || p.org.contact_phone.is_empty());
            push(
                "完善本单位联系人和联系电话",
                &format!("/orgs/{}/edit", p.org.id),
                incomplete,
            );
        }
        Role::Partner | Role::Expert => {}
    }
    for (label, href, count) in crate::services::competitions::todos(app, p).await? {
        push(&label, &href, count);
    }
    if !p.user.totp_enabled && !p.role.requires_second_factor() {
        push("建议启用双因素认证", "/account/mfa", 1);
    }
    Ok((todos, stats))
}

async fn workbench(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> Result<WorkbenchPage, PageError> {
    let (todos, stats) = todos_for(&app, &ctx.principal).await?;
    Ok(WorkbenchPage {
        layout: layout(&ctx, "home"),
        flash: String::new(),
        heading: format!("{}工作台", ctx.principal.role.label()),
        todos,
        stats,
    })
}
