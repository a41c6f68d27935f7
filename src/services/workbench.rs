//! The workbench: what each role has to do next, with counts, and a few figures. Every to-do
//! rule lives here; the page only renders. Each rule is a fixed number of queries, whatever the
//! number of rounds or calls.

use crate::store::id::{AssignmentId, ClusterId, ReportId, RoundId};
use jiqun_domain::access::{Action, OrgKind, Resource, Role};
use jiqun_domain::application::Status;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::authorize;
use super::calendar;
use super::competitions::{is_open_for_review, is_open_for_submission, open_call};
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
/// `unread` is the principal's unread notifications, counted once per page for its frame.
pub async fn for_principal(app: &App, p: &Principal, unread: u64) -> Result<Workbench, AppError> {
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
                "督促新账户使用人登录并修改初始密码",
                "/users?status=active",
                pending,
            );
            let calendar = calendar::load(app).await?;
            let today = calendar::today(app);
            for year in calendar::missing_years(&calendar, today) {
                push(
                    &format!("导入{year}年节假日安排（国务院办公厅通知发布后）"),
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
            push("核实并解锁被锁定的账户", "/users", locked);
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
            push(
                "督促须启用双因素认证的账户绑定验证器",
                "/users",
                without_mfa,
            );
        }
        Role::AuditAdmin => {
            let since = now - time::Duration::hours(24);
            let failures = audit_entry::Entity::find()
                .filter(audit_entry::Column::Action.starts_with("login.failure"))
                .filter(audit_entry::Column::At.gte(since))
                .count(db)
                .await?;
            push(
                "核查近24小时的登录失败",
                "/audit?action=login.failure",
                failures,
            );
            let locks = audit_entry::Entity::find()
                .filter(audit_entry::Column::Action.eq("account.locked"))
                .filter(audit_entry::Column::At.gte(since))
                .count(db)
                .await?;
            push(
                "核查近24小时的账户锁定",
                "/audit?action=account.locked",
                locks,
            );
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
        Role::CountyBureau => {
            push(
                "待提出县级意见（市州初审中的本县申报）",
                "/reviews",
                super::county_opinions::waiting(db, p).await?,
            );
        }
        Role::Partner | Role::Expert => {}
    }
    for (label, href, count) in round_todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in programme_todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in call_todos(app, p).await? {
        push(&label, &href, count);
    }
    push("未读通知", "/notifications", unread);
    for (label, href, count) in report_todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in super::revocation::todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in finals_todos(app, p).await? {
        push(&label, &href, count);
    }
    for (label, href, count) in super::recheck::todos(app, p).await? {
        push(&label, &href, count);
    }
    let waiting = super::changes::waiting_for(app, p).await?;
    match p.role {
        Role::CityBureau => push("变更申请待出具市州意见", "/change-requests", waiting),
        Role::Province => push(
            "变更申请待审批（市州已出具意见）",
            "/change-requests",
            waiting,
        ),
        _ => {}
    }
    if !p.user.totp_enabled && !app.second_factor_required(p.role) {
        push("建议启用双因素认证", "/account/mfa", 1);
    }
    Ok(Workbench { todos, stats })
}

/// What rounds ask of their organiser — the province for its rounds, a city bureau for the
/// rounds of its city's own competitions (第十六条), by the one rule — and of the experts.
async fn round_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    use crate::store::entity::{assignment, expert, objection, round, score_sheet};
    use jiqun_domain::round::{ObjectionStatus, RoundStatus};
    let db = &app.db;
    let mut out = Vec::new();
    match p.role {
        Role::Province | Role::CityBureau => {
            let today = crate::clock::local(app.clock.now()).date();
            let rounds = round::Entity::find()
                .filter(super::organisers::run_condition(
                    p,
                    round::Column::CompetitionId,
                ))
                .all(db)
                .await?;
            if rounds.is_empty() {
                return Ok(out);
            }
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
                let submitted: Vec<AssignmentId> = score_sheet::Entity::find()
                    .filter(score_sheet::Column::ExpertId.eq(me.id))
                    .filter(
                        score_sheet::Column::Status
                            .eq(crate::store::entity::kinds::ScoreSheetStatus::Submitted),
                    )
                    .filter(score_sheet::Column::AssignmentId.is_in(mine.iter().map(|a| a.id)))
                    .select_only()
                    .column(score_sheet::Column::AssignmentId)
                    .into_tuple::<AssignmentId>()
                    .all(db)
                    .await?;
                let waiting: Vec<AssignmentId> = mine
                    .iter()
                    .map(|a| a.id)
                    .filter(|id| !submitted.contains(id))
                    .collect();
                out.push((
                    "待评分并提交评分表".into(),
                    next_link(&waiting, "/scoring/", "/scoring"),
                    waiting.len() as u64,
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
            out.extend(city_call_todos(app, p).await?);
            if let (Some(c), Some(city)) = (&open, &p.org.city_code)
                && is_open_for_review(c, now)
            {
                let waiting: Vec<i64> = application::Entity::find()
                    .filter(application::Column::CompetitionId.eq(c.id))
                    .filter(application::Column::CityCode.eq(*city))
                    .filter(application::Column::Status.eq(Status::Submitted))
                    .select_only()
                    .column(application::Column::Id)
                    .into_tuple::<i64>()
                    .all(&app.db)
                    .await?;
                if !waiting.is_empty() {
                    out.push((
                        format!(
                            "待出具初审意见（初审截止 {}）",
                            local_minutes(c.review_deadline)
                        ),
                        next_link(&waiting, "/reviews/", "/reviews"),
                        waiting.len() as u64,
                    ));
                }
            }
        }
        Role::Applicant => {
            if let Some(c) = open.as_ref().filter(|c| is_open_for_submission(c, now)) {
                let mine = application::Entity::find()
                    .filter(application::Column::CompetitionId.eq(c.id))
                    .filter(application::Column::OrgId.eq(p.org.id))
                    .all(&app.db)
                    .await?;
                if mine.is_empty() {
                    out.push((
                        format!(
                            "待申报{}（申报截止 {}）",
                            c.title,
                            local_minutes(c.submission_deadline)
                        ),
                        format!("/competitions/{}", c.id),
                        1,
                    ));
                }
                let unsent: Vec<&application::Model> = mine
                    .iter()
                    .filter(|a| a.status.editable_by_applicant())
                    .collect();
                let names: std::collections::HashMap<ClusterId, String> =
                    crate::store::entity::cluster::Entity::find()
                        .filter(
                            crate::store::entity::cluster::Column::Id
                                .is_in(unsent.iter().map(|a| a.cluster_id)),
                        )
                        .all(&app.db)
                        .await?
                        .into_iter()
                        .map(|cl| (cl.id, cl.name))
                        .collect();
                for a in unsent {
                    let name = names.get(&a.cluster_id).cloned().unwrap_or_default();
                    let label = if a.status == Status::ReturnedForRevision {
                        format!("待补正申报材料并重新提交：{name}")
                    } else {
                        format!(
                            "待提交申报：{name}（申报截止 {}）",
                            local_minutes(c.submission_deadline)
                        )
                    };
                    out.push((label, format!("/applications/{}", a.id), 1));
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// The city bureau's own open calls (第十六条) whose submitted applications wait for the city's
/// round to be opened, as the province's 待开设初赛: three queries whatever the number of calls.
async fn city_call_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    use crate::store::entity::round;
    let calls = competition::Entity::find()
        .filter(super::organisers::run_condition(p, competition::Column::Id))
        .filter(competition::Column::Status.eq(super::competitions::STATUS_OPEN))
        .all(&app.db)
        .await?;
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let waiting: std::collections::HashMap<crate::store::id::CompetitionId, i64> =
        application::Entity::find()
            .filter(application::Column::CompetitionId.is_in(calls.iter().map(|c| c.id)))
            .filter(application::Column::Status.eq(Status::Submitted))
            .select_only()
            .column(application::Column::CompetitionId)
            .column_as(application::Column::Id.count(), "n")
            .group_by(application::Column::CompetitionId)
            .into_tuple::<(crate::store::id::CompetitionId, i64)>()
            .all(&app.db)
            .await?
            .into_iter()
            .collect();
    let with_round: Vec<crate::store::id::CompetitionId> = round::Entity::find()
        .filter(round::Column::CompetitionId.is_in(calls.iter().map(|c| c.id)))
        .select_only()
        .column(round::Column::CompetitionId)
        .into_tuple::<crate::store::id::CompetitionId>()
        .all(&app.db)
        .await?;
    Ok(calls
        .into_iter()
        .filter(|c| !with_round.contains(&c.id))
        .filter_map(|c| {
            let n = u64::try_from(waiting.get(&c.id).copied().unwrap_or(0)).unwrap_or(0);
            (n > 0).then(|| {
                (
                    format!("待开设评审轮次（{}，{n}个集群已提交）", c.title),
                    format!("/competitions/{}/rounds/new", c.id),
                    n,
                )
            })
        })
        .collect())
}

/// A programme whose actors are not the provincial competition's (the national 中小企业特色产业集群):
/// the county's department starts, completes and resubmits its applications while the call
/// takes them; the province does the 初审 of the submitted ones and records the ministry's
/// result of those it recommended. The calls are read once; then one query per to-do, whatever
/// the number of calls (cluster names in one more).
async fn programme_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    use crate::store::entity::{cluster, ministry_result};
    use sea_orm::sea_query::Query;
    let mut out = Vec::new();
    let now = app.clock.now();
    match p.role {
        Role::CountyBureau => {
            let calls: Vec<competition::Model> =
                super::competitions::calls_where(app, true, |a| a.applicant == p.role)
                    .await?
                    .into_iter()
                    .filter(|c| is_open_for_submission(c, now))
                    .collect();
            if calls.is_empty() {
                return Ok(out);
            }
            let unsent = application::Entity::find()
                .filter(application::Column::CompetitionId.is_in(calls.iter().map(|c| c.id)))
                .filter(application::Column::OrgId.eq(p.org.id))
                .filter(
                    application::Column::Status.is_in([Status::Draft, Status::ReturnedForRevision]),
                )
                .limit(TODO_ITEMS)
                .all(&app.db)
                .await?;
            let names: std::collections::HashMap<ClusterId, String> = cluster::Entity::find()
                .filter(cluster::Column::Id.is_in(unsent.iter().map(|a| a.cluster_id)))
                .all(&app.db)
                .await?
                .into_iter()
                .map(|cl| (cl.id, cl.name))
                .collect();
            for a in unsent {
                let name = names.get(&a.cluster_id).cloned().unwrap_or_default();
                let Some(c) = calls.iter().find(|c| c.id == a.competition_id) else {
                    continue;
                };
                let label = if a.status == Status::ReturnedForRevision {
                    format!("待补正申报材料并重新提交：{name}（{}）", c.title)
                } else {
                    format!(
                        "待提交申报：{name}（{}，申报截止 {}）",
                        c.title,
                        local_minutes(c.submission_deadline)
                    )
                };
                out.push((label, format!("/applications/{}", a.id), 1));
            }
        }
        Role::Province => {
            let calls =
                super::competitions::calls_where(app, false, |a| a.reviewer == p.role).await?;
            if calls.is_empty() {
                return Ok(out);
            }
            let ids: Vec<_> = calls.iter().map(|c| c.id).collect();
            let waiting: Vec<i64> = application::Entity::find()
                .filter(application::Column::CompetitionId.is_in(ids.clone()))
                .filter(application::Column::Status.eq(Status::Submitted))
                .select_only()
                .column(application::Column::Id)
                .limit(TODO_ITEMS)
                .into_tuple::<i64>()
                .all(&app.db)
                .await?;
            if !waiting.is_empty() {
                out.push((
                    "待出具省级初审意见（含实地抽查）".to_string(),
                    next_link(&waiting, "/reviews/", "/reviews"),
                    waiting.len() as u64,
                ));
            }
            let ministry: Vec<_> = calls
                .iter()
                .filter(|c| {
                    super::competitions::policy_of(c).is_ok_and(|pol| {
                        pol.procedure.as_ref().is_some_and(|pr| {
                            pr.outcome == jiqun_rules::policy::ProgrammeOutcome::Ministry
                        })
                    })
                })
                .map(|c| c.id)
                .collect();
            let recorded = Query::select()
                .column(ministry_result::Column::ApplicationId)
                .from(ministry_result::Entity)
                .to_owned();
            let unrecorded: Vec<i64> = application::Entity::find()
                .filter(application::Column::CompetitionId.is_in(ministry))
                .filter(application::Column::Status.eq(Status::Recommended))
                .filter(application::Column::Id.not_in_subquery(recorded))
                .select_only()
                .column(application::Column::Id)
                .limit(TODO_ITEMS)
                .into_tuple::<i64>()
                .all(&app.db)
                .await?;
            if !unrecorded.is_empty() {
                out.push((
                    "待登记工业和信息化部认定结果（已推荐的申报）".to_string(),
                    next_link(
                        &unrecorded,
                        "/applications/",
                        "/applications?status=recommended",
                    ),
                    unrecorded.len() as u64,
                ));
            }
        }
        _ => {}
    }
    Ok(out)
}

/// At most this many items are read for one to-do (its count says "this many or more").
const TODO_ITEMS: u64 = 200;

/// Where a to-do leads: the one item's own page when there is exactly one, else the list.
pub(crate) fn next_link<T: std::fmt::Display>(ids: &[T], item: &str, list: &str) -> String {
    match ids {
        [id] => format!("{item}{id}"),
        _ => list.to_string(),
    }
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
                    "returned" => format!("待按退回意见修改并重新提交：{what}"),
                    _ => continue,
                };
                out.push((label, href, 1));
            }
        }
        Role::CityBureau | Role::Province => {
            use jiqun_domain::report::Status;
            let city = p.role == Role::CityBureau;
            let label = if city {
                "待签署意见并转报发展情况报告"
            } else {
                "待审核接收发展情况报告"
            };
            // A report with no city step (a ministry's title's return) waits for the province
            // once submitted.
            let waiting = |r: &reports::ReportRow| match (city, r.direct) {
                (true, false) => r.status == Status::Submitted.key(),
                (true, true) => false,
                (false, false) => r.status == Status::Forwarded.key(),
                (false, true) => r.status == Status::Submitted.key(),
            };
            let ids: Vec<ReportId> = reports::list(app, p)
                .await?
                .iter()
                .filter(|r| waiting(r))
                .map(|r| r.id)
                .collect();
            out.push((
                label.to_string(),
                next_link(&ids, "/reports/", "/reports"),
                ids.len() as u64,
            ));
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

/// 第十一条: the 决赛申报材料 a finalist still owes, each with its deadline.
async fn finals_todos(app: &App, p: &Principal) -> Result<Vec<(String, String, u64)>, AppError> {
    if p.role != Role::Applicant {
        return Ok(Vec::new());
    }
    Ok(super::finals::list(app, p)
        .await?
        .into_iter()
        .filter(|m| m.state == jiqun_rules::finals::State::Open.key())
        .map(|m| {
            (
                format!(
                    "待提交决赛申报材料：{}（{}，截止{}）",
                    m.cluster_name, m.round_label, m.due_on_zh
                ),
                format!("/finals/{}", m.id),
                1,
            )
        })
        .collect())
}
