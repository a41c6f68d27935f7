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
                .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg))
                .count(db)
                .await?;
            stats.push(("已登记申报主体".into(), applicants));
        }
        Role::CityBureau => {
            let applicants = organisation::Entity::find()
                .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg))
                .filter(organisation::Column::CityCode.eq(p.org.city_code))
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
    for (label, href, count) in round_todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in crate::services::competitions::todos(app, p).await? {
        push(&label, &href, count);
    }
    if !p.user.totp_enabled && !p.role.requires_second_factor() {
        push("建议启用双因素认证", "/account/mfa", 1);
    }
    Ok((todos, stats))
}

/// What rounds ask of the province and of the experts.
async fn round_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, PageError> {
    use crate::store::entity::{assignment, expert, objection, round, score_sheet};
    let db = &app.db;
    let mut out = Vec::new();
    match p.role {
        Role::Province => {
            let today = crate::clock::local(app.clock.now()).date();
            for r in round::Entity::find().all(db).await? {
                let kind = r.kind.label();
                let href = format!("/rounds/{}", r.id);
                use jiqun_domain::round::RoundStatus;
                match r.status {
                    RoundStatus::Setup => {
                        out.push((format!("{kind}：组建评审组、分配专家后开始评分"), href, 1))
                    }
                    RoundStatus::Scoring => {
                        let open = assignment::Entity::find()
                            .filter(assignment::Column::RoundId.eq(r.id))
                            .filter(assignment::Column::RecusedAt.is_null())
                            .count(db)
                            .await?;
                        let done = score_sheet::Entity::find()
                            .filter(score_sheet::Column::RoundId.eq(r.id))
                            .filter(
                                score_sheet::Column::Status
                                    .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
                            )
                            .count(db)
                            .await?;
                        if open > 0 && done >= open {
                            out.push((
                                format!("{kind}：评分已全部提交，待确定拟定名单"),
                                format!("/rounds/{}/ranking", r.id),
                                1,
                            ));
                        } else {
                            out.push((
                                format!("{kind}：评分进行中（未完成的评分表）"),
                                format!("/rounds/{}/progress", r.id),
                                open.saturating_sub(done),
                            ));
                        }
                    }
                    RoundStatus::Proposed => {
                        out.push((format!("{kind}：拟定名单待发布公示"), href, 1))
                    }
                    RoundStatus::OnNotice => {
                        let pending = objection::Entity::find()
                            .filter(objection::Column::RoundId.eq(r.id))
                            .filter(
                                objection::Column::Status.is_in(
                                    jiqun_domain::round::ObjectionStatus::ALL
                                        .into_iter()
                                        .filter(|s| !s.decided()),
                                ),
                            )
                            .count(db)
                            .await?;
                        out.push((
                            format!("{kind}：待处理的公示异议"),
                            format!("/rounds/{}/objections", r.id),
                            pending,
                        ));
                        if r.notice_last_day.is_some_and(|d| d < today) {
                            out.push((format!("{kind}：公示期已满，待确认名单"), href, 1));
                        }
                    }
                    _ => {}
                }
            }
        }
        Role::Expert => {
            if let Some(me) = expert::Entity::find()
                .filter(expert::Column::UserId.eq(p.user.id))
                .one(db)
                .await?
            {
                let scoring: Vec<i64> = round::Entity::find()
                    .filter(round::Column::Status.eq(jiqun_domain::round::RoundStatus::Scoring))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
                let mine = assignment::Entity::find()
                    .filter(assignment::Column::ExpertId.eq(me.id))
                    .filter(assignment::Column::RecusedAt.is_null())
                    .filter(assignment::Column::RoundId.is_in(scoring))
                    .all(db)
                    .await?;
                let submitted = score_sheet::Entity::find()
                    .filter(score_sheet::Column::ExpertId.eq(me.id))
                    .filter(
                        score_sheet::Column::Status
                            .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
                    )
                    .filter(score_sheet::Column::AssignmentId.is_in(mine.iter().map(|a| a.id)))
                    .count(db)
                    .await?;
                out.push((
                    "待完成的评分".into(),
                    "/scoring".into(),
                    (mine.len() as u64).saturating_sub(submitted),
                ));
            }
        }
        _ => {}
    }
    Ok(out)
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
