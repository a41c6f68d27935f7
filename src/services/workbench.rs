//! The workbench: what each role has to do next, with counts, and a few figures. Every to-do
//! rule lives here; the page only renders. Each rule is a fixed number of queries, whatever the
//! number of rounds or calls.

use crate::store::id::RoundId;
use jiqun_domain::access::{Action, OrgKind, Resource, Role};
use jiqun_domain::application::Status;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::authorize;
use super::competitions::{is_open_for_review, is_open_for_submission, open_call};
use super::{calendar, notifications};
use crate::app::{App, Principal};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::store::entity::{application, audit_entry, competition, organisation, user};

pub struct Todo {
    pub label: String,
    pub href: String,
    pub count: u64,
}

pub struct Workbench {
    pub todos: Vec<Todo>,
    pub stats: Vec<(String, u64)>,
}

/// To-dos and figures for a role, from live data only; a to-do with nothing to do is left out.
pub async fn for_principal(app: &App, p: &Principal) -> Result<Workbench, AppError> {
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
            let calendar = calendar::load(app).await?;
            let today = calendar::today(app);
            for year in calendar::missing_years(&calendar, today) {
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
                            .filter(|r| app.second_factor_required(*r)),
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
    for (label, href, count) in call_todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in report_todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in super::revocation::todos(app, p).await? {
        push(&label, &href, count);
    }
    if !p.user.totp_enabled && !app.second_factor_required(p.role) {
        push("建议启用双因素认证", "/account/mfa", 1);
    }
    Ok(Workbench { todos, stats })
}

/// What rounds ask of the province and of the experts.
async fn round_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    use crate::store::entity::{assignment, expert, objection, round, score_sheet};
    use jiqun_domain::round::{ObjectionStatus, RoundStatus};
    let db = &app.db;
    let mut out = Vec::new();
    match p.role {
        Role::Province => {
            let today = crate::clock::local(app.clock.now()).date();
            let rounds = round::Entity::find().all(db).await?;
            // One grouped count per figure for all rounds, not one query per round.
            let open = per_round(
                assignment::Entity::find()
                    .filter(assignment::Column::RecusedAt.is_null())
                    .select_only()
                    .column(assignment::Column::RoundId)
                    .column_as(assignment::Column::Id.count(), "n")
                    .group_by(assignment::Column::RoundId)
                    .into_tuple::<(RoundId, i64)>()
                    .all(db)
                    .await?,
            );
            let done = per_round(
                score_sheet::Entity::find()
                    .filter(
                        score_sheet::Column::Status
                            .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
                    )
                    .select_only()
                    .column(score_sheet::Column::RoundId)
                    .column_as(score_sheet::Column::Id.count(), "n")
                    .group_by(score_sheet::Column::RoundId)
                    .into_tuple::<(RoundId, i64)>()
                    .all(db)
                    .await?,
            );
            let pending = per_round(
                objection::Entity::find()
                    .filter(
                        objection::Column::Status
                            .is_in(ObjectionStatus::ALL.into_iter().filter(|s| !s.decided())),
                    )
                    .select_only()
                    .column(objection::Column::RoundId)
                    .column_as(objection::Column::Id.count(), "n")
                    .group_by(objection::Column::RoundId)
                    .into_tuple::<(RoundId, i64)>()
                    .all(db)
                    .await?,
            );
            let count = |m: &std::collections::HashMap<RoundId, u64>, id: RoundId| {
                m.get(&id).copied().unwrap_or(0)
            };
            for r in rounds {
                let kind = r.kind.label();
                let href = format!("/rounds/{}", r.id);
                match r.status {
                    RoundStatus::Setup => {
                        out.push((format!("待组建评审组并开始评分（{kind}）"), href, 1))
                    }
                    RoundStatus::Scoring => {
                        let open = count(&open, r.id);
                        let done = count(&done, r.id);
                        if open > 0 && done >= open {
                            out.push((
                                format!("待确定拟定名单（{kind}，评分已全部提交）"),
                                format!("/rounds/{}/ranking", r.id),
                                1,
                            ));
                        } else {
                            out.push((
                                format!("评分进行中（{kind}，未完成的评分表）"),
                                format!("/rounds/{}/progress", r.id),
                                open.saturating_sub(done),
                            ));
                        }
                    }
                    RoundStatus::Proposed => out.push((
                        format!("待发布公示（{kind}拟定名单）"),
                        format!("/rounds/{}/notice", r.id),
                        1,
                    )),
                    RoundStatus::OnNotice => {
                        out.push((
                            format!("待处理公示异议（{kind}）"),
                            format!("/rounds/{}/objections", r.id),
                            count(&pending, r.id),
                        ));
                        if r.notice_last_day.is_some_and(|d| d < today) {
                            out.push((
                                format!("公示期满待确认（{kind}名单）"),
                                format!("/rounds/{}/notice", r.id),
                                1,
                            ));
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
                let scoring: Vec<RoundId> = round::Entity::find()
                    .filter(round::Column::Status.eq(RoundStatus::Scoring))
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

/// To-dos about calls for the workbench: (label, link, count); only entries with a count > 0.
pub async fn call_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    let mut out = Vec::new();
    if authorize(p, Resource::Competition, Action::View).is_err() {
        return Ok(out);
    }
    let now = app.clock.now();
    let open = open_call(app).await?;
    match p.role {
        Role::Province => {
            let this_year = crate::clock::local(now).date().year();
            let this_years = competition::Entity::find()
                .filter(competition::Column::Year.eq(this_year))
                .count(&app.db)
                .await?;
            if open.is_none() && this_years == 0 {
                out.push((
                    "发布本年度竞赛通知".to_string(),
                    "/competitions/new".to_string(),
                    1,
                ));
            }
            if let Some(c) = &open {
                let waiting = application::Entity::find()
                    .filter(application::Column::CompetitionId.eq(c.id))
                    .filter(application::Column::Status.eq(Status::Recommended))
                    .count(&app.db)
                    .await?;
                // Recommended applications wait for a 初赛 to take them in: that is the next step.
                if waiting > 0 {
                    out.push((
                        format!("待开设初赛（{}个集群已推荐）", waiting),
                        format!("/competitions/{}/rounds/new", c.id),
                        waiting,
                    ));
                }
            }
        }
        Role::CityBureau => {
            if let (Some(c), Some(city)) = (&open, &p.org.city_code)
                && is_open_for_review(c, now)
            {
                let waiting = application::Entity::find()
                    .filter(application::Column::CompetitionId.eq(c.id))
                    .filter(application::Column::CityCode.eq(*city))
                    .filter(application::Column::Status.eq(Status::Submitted))
                    .count(&app.db)
                    .await?;
                if waiting > 0 {
                    out.push((
                        format!(
                            "待初审的申报（初审截止 {}）",
                            local_minutes(c.review_deadline)
                        ),
                        "/reviews".to_string(),
                        waiting,
                    ));
                }
            }
        }
        Role::Applicant => {
            if let Some(c) = open.as_ref().filter(|c| is_open_for_submission(c, now)) {
                let mine = application::Entity::find()
                    .filter(application::Column::CompetitionId.eq(c.id))
                    .filter(application::Column::OrgId.eq(p.org.id))
                    .select_only()
                    .column(application::Column::Status)
                    .into_tuple::<Status>()
                    .all(&app.db)
                    .await?;
                if mine.is_empty() {
                    out.push((
                        format!(
                            "{}已发布，申报截止 {}",
                            c.title,
                            local_minutes(c.submission_deadline)
                        ),
                        format!("/competitions/{}", c.id),
                        1,
                    ));
                }
                let unsent = mine.iter().filter(|s| s.editable_by_applicant()).count() as u64;
                if unsent > 0 {
                    out.push((
                        format!(
                            "尚未提交的申报（申报截止 {}）",
                            local_minutes(c.submission_deadline)
                        ),
                        "/applications".to_string(),
                        unsent,
                    ));
                }
            }
        }
        _ => {}
    }
    let unread = notifications::unread_count(app, p.user.id).await?;
    if unread > 0 {
        out.push(("未读通知".to_string(), "/notifications".to_string(), unread));
    }
    Ok(out)
}

/// (round id, count) rows of a grouped count as a map.
fn per_round(rows: Vec<(RoundId, i64)>) -> std::collections::HashMap<RoundId, u64> {
    rows.into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect()
}

/// 第十三条: the reports a cluster owes (to submit, overdue, returned), and those waiting for the
/// city bureau's opinion or the province's decision, with the overdue ones in their scope.
async fn report_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    use super::reports;
    let mut out = Vec::new();
    if authorize(p, Resource::Report, Action::View).is_err() {
        return Ok(out);
    }
    let obligations = match reports::obligations(app, p).await {
        Ok(list) => list,
        // A policy without a report form keeps no reports.
        Err(AppError::Conflict(_)) => return Ok(out),
        Err(e) => return Err(e),
    };
    let overdue = obligations.iter().filter(|o| o.overdue).count() as u64;
    match p.role {
        Role::Applicant => {
            for o in &obligations {
                let href = o
                    .report_id
                    .map_or_else(|| "/reports".to_string(), |id| format!("/reports/{id}"));
                let what = format!("{}{}", o.cluster_name, o.title);
                let label = match o.status.as_str() {
                    "not_started" | "draft" if o.overdue => {
                        format!("逾期未报：{what}（截止日期{}）", o.due_zh)
                    }
                    "not_started" | "draft" => match o.days_left {
                        Some(d) => format!("待提交：{what}（截止日期{}，还剩{d}天）", o.due_zh),
                        None => format!("待提交：{what}（截止日期{}）", o.due_zh),
                    },
                    "returned" => format!("被退回修改、待重新提交：{what}"),
                    _ => continue,
                };
                out.push((label, href, 1));
            }
        }
        Role::CityBureau | Role::Province => {
            let (waiting, label) = if p.role == Role::CityBureau {
                (
                    jiqun_domain::report::Status::Submitted,
                    "待签署意见并转报的发展情况报告",
                )
            } else {
                (
                    jiqun_domain::report::Status::Forwarded,
                    "待审核的发展情况报告",
                )
            };
            let n = reports::list(app, p)
                .await?
                .iter()
                .filter(|r| r.status == waiting.key())
                .count() as u64;
            out.push((label.to_string(), "/reports".to_string(), n));
            out.push((
                "逾期未报的发展情况报告".to_string(),
                "/reports".to_string(),
                overdue,
            ));
        }
        _ => {}
    }
    Ok(out)
}
