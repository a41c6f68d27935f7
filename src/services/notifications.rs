//! In-app notifications (站内通知), and deadline reminders.
//!
//! The `notify_*` functions take any connection, so a service can notify inside the transaction
//! that makes the change: the notice exists exactly when the change does.
//!
//! E-mail: when `JIQUN_SMTP_URL` is set, each notification to a user with an e-mail address is
//! also queued for delivery by `crate::mail`, in the same transaction.

use crate::store::id::{ApplicationId, CompetitionId, NotificationId, OrgId, UserId};
use std::collections::BTreeSet;

use jiqun_domain::access::OrgKind;
use jiqun_domain::application::Status;
use sea_orm::sea_query::{Expr, InsertStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::Serialize;
use time::OffsetDateTime;

use super::competitions::STATUS_OPEN;
use crate::app::App;
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::store::{
    self,
    entity::{application, competition, notification, organisation, user},
};

/// Titles are shown in one line; longer ones are cut.
const MAX_TITLE_CHARS: usize = 200;
/// How many notifications the list shows.
const LIST_LIMIT: u64 = 500;

/// Someone a notification goes to, with what the accompanying e-mail needs.
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    id: UserId,
    org_id: OrgId,
    display_name: String,
    email: String,
}

/// The active users a query selects, oldest account first, read in one statement.
async fn recipients(
    conn: &impl ConnectionTrait,
    q: sea_orm::Select<user::Entity>,
) -> Result<Vec<Recipient>, DbErr> {
    Ok(q.filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::OrgId)
        .column(user::Column::DisplayName)
        .column(user::Column::Email)
        .into_tuple::<(UserId, OrgId, String, String)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, org_id, display_name, email)| Recipient {
            id,
            org_id,
            display_name,
            email,
        })
        .collect())
}

/// The e-mails that accompany a notification (see `crate::mail`), to those of the users with an
/// address, as one insert; none when no one has one.
fn outbox(
    to: &[Recipient],
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Option<InsertStatement> {
    // Links are paths inside the system; the public URL makes them clickable in a mail.
    let base = crate::config::public_url();
    let mails = to
        .iter()
        .filter(|r| !r.email.trim().is_empty())
        .map(|r| crate::mail::Mail {
            to: r.email.clone(),
            subject: title.to_string(),
            body: format!(
                "{}：\n\n{body}\n\n请登录{}查看：{}{link}\n",
                r.display_name,
                crate::config::site_name(),
                base.trim_end_matches('/')
            ),
        })
        .collect();
    crate::mail::queued(mails, now)
}

fn clip(title: &str) -> String {
    title.chars().take(MAX_TITLE_CHARS).collect()
}

/// Notifies one user. Returns the notification id.
pub async fn notify_user(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Result<NotificationId, DbErr> {
    let m = notification::ActiveModel {
        user_id: Set(user_id),
        title: Set(clip(title)),
        body: Set(body.to_string()),
        link: Set(link.to_string()),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let to = recipients(
        conn,
        user::Entity::find().filter(user::Column::Id.eq(user_id)),
    )
    .await?;
    if let Some(mails) = outbox(&to, title, body, link, now) {
        conn.execute(&mails).await?;
    }
    Ok(m.id)
}

/// The active users of the organisations.
pub(crate) async fn active_users_of(
    conn: &impl ConnectionTrait,
    org_ids: &[OrgId],
) -> Result<Vec<Recipient>, DbErr> {
    if org_ids.is_empty() {
        return Ok(Vec::new());
    }
    recipients(
        conn,
        user::Entity::find().filter(user::Column::OrgId.is_in(org_ids.iter().copied())),
    )
    .await
}

/// The active users of the organisations that made the applications, by organisation, in one
/// statement (an application's organisation never changes, so this may be read before the
/// writer's turn).
pub(crate) async fn applicants_users(
    conn: &impl ConnectionTrait,
    ids: &[ApplicationId],
) -> Result<std::collections::HashMap<OrgId, Vec<Recipient>>, DbErr> {
    let orgs = application::Entity::find()
        .select_only()
        .column(application::Column::OrgId)
        .filter(application::Column::Id.is_in(ids.iter().copied()))
        .into_query();
    let mut by_org: std::collections::HashMap<OrgId, Vec<Recipient>> = Default::default();
    for r in recipients(
        conn,
        user::Entity::find().filter(user::Column::OrgId.in_subquery(orgs)),
    )
    .await?
    {
        by_org.entry(r.org_id).or_default().push(r);
    }
    Ok(by_org)
}

/// One notification each, and the e-mails of those with an address, in one round trip.
pub(crate) async fn notify_all(
    conn: &impl ConnectionTrait,
    users: &[Recipient],
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Result<u32, DbErr> {
    store::insert_together(conn, notices(users, title, body, link, now)).await?;
    Ok(u32::try_from(users.len()).unwrap_or(u32::MAX))
}

/// The inserts of [`notify_all`], for a write that runs them with its own
/// ([`store::insert_together`]).
pub(crate) fn notices(
    users: &[Recipient],
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Vec<InsertStatement> {
    if users.is_empty() {
        return Vec::new();
    }
    let rows = users.iter().map(|u| notification::ActiveModel {
        user_id: Set(u.id),
        title: Set(clip(title)),
        body: Set(body.to_string()),
        link: Set(link.to_string()),
        created_at: Set(now),
        read_at: Set(None),
        ..Default::default()
    });
    std::iter::once(notification::Entity::insert_many(rows).into_query())
        .chain(outbox(users, title, body, link, now))
        .collect()
}

/// Notifies every active user of an organisation. Returns how many were notified.
pub async fn notify_org(
    conn: &impl ConnectionTrait,
    org_id: OrgId,
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Result<u32, DbErr> {
    let users = active_users_of(conn, &[org_id]).await?;
    notify_all(conn, &users, title, body, link, now).await
}

/// Notifies every active user of the city bureau(s) of a city (e.g. "430600").
pub async fn notify_city(
    conn: &impl ConnectionTrait,
    city_code: &str,
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Result<u32, DbErr> {
    let users = city_bureau_users(conn, city_code).await?;
    notify_all(conn, &users, title, body, link, now).await
}

/// The active users of a city's active city bureau(s), in one statement.
pub(crate) async fn city_bureau_users(
    conn: &impl ConnectionTrait,
    city_code: &str,
) -> Result<Vec<Recipient>, DbErr> {
    recipients(
        conn,
        user::Entity::find()
            .inner_join(organisation::Entity)
            .filter(organisation::Column::Kind.eq(OrgKind::CityBureau))
            .filter(organisation::Column::CityCode.eq(city_code))
            .filter(organisation::Column::Active.eq(true)),
    )
    .await
}

/// Notifies every active user holding a business role (e.g. the province's staff, not the
/// administrators who share its organisation).
pub async fn notify_role(
    conn: &impl ConnectionTrait,
    role: jiqun_domain::access::Role,
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Result<u32, DbErr> {
    let users = recipients(
        conn,
        user::Entity::find().filter(user::Column::Role.eq(role)),
    )
    .await?;
    notify_all(conn, &users, title, body, link, now).await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    #[schema(value_type = i64)]
    pub id: NotificationId,
    pub title: String,
    pub body: String,
    /// A path inside the system, or empty.
    pub link: String,
    pub created_at_local: String,
    pub read: bool,
    pub read_at_local: Option<String>,
}

impl NotificationView {
    fn from_model(m: &notification::Model) -> NotificationView {
        NotificationView {
            id: m.id,
            title: m.title.clone(),
            body: m.body.clone(),
            link: m.link.clone(),
            created_at_local: crate::clock::format_local(m.created_at),
            read: m.read_at.is_some(),
            read_at_local: m.read_at.map(crate::clock::format_local),
        }
    }

    /// The link when it is safe to follow from the page: a path in this system, never another
    /// site (a stored link is data, and must not become an open redirect).
    pub fn local_link(&self) -> Option<&str> {
        let l = self.link.as_str();
        (l.starts_with('/') && !l.starts_with("//") && !l.contains('\\')).then_some(l)
    }
}

pub async fn unread_count(app: &App, user_id: UserId) -> Result<u64, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(&app.db)
        .await?)
}

/// The user's notifications, newest first.
pub async fn list(app: &App, user_id: UserId) -> Result<Vec<NotificationView>, AppError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(LIST_LIMIT)
        .all(&app.db)
        .await?;
    Ok(rows.iter().map(NotificationView::from_model).collect())
}

/// One of the user's notifications; anybody else's is "not found".
pub async fn get(
    app: &App,
    user_id: UserId,
    id: NotificationId,
) -> Result<NotificationView, AppError> {
    notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user_id))
        .one(&app.db)
        .await?
        .map(|m| NotificationView::from_model(&m))
        .ok_or(AppError::NotFound)
}

/// Marks one of the user's notifications read (already read is fine).
pub async fn mark_read(
    app: &App,
    user_id: UserId,
    id: NotificationId,
) -> Result<NotificationView, AppError> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(app.clock.now()))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&app.db)
        .await?;
    get(app, user_id, id).await
}

/// Marks all the user's notifications read; returns how many were unread.
pub async fn mark_all_read(app: &App, user_id: UserId) -> Result<u64, AppError> {
    let r = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(app.clock.now()))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&app.db)
        .await?;
    Ok(r.rows_affected)
}

// ---------------------------------------------------------------------------------------------
// Deadline reminders.

/// A reminder window: sent once when the deadline is at most `days` away (and not within the
/// next, shorter window). The days are the policy's (`competition.*_reminder_days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    days: u32,
    /// "submission" or "review"; with the days, part of the link, which is what makes a
    /// reminder unique per user.
    step: &'static str,
}

impl Window {
    fn key(&self) -> String {
        format!("{}-{}d", self.step, self.days)
    }
}

/// The window `now` falls in before `deadline`, by the one deadline engine.
fn window_for(
    step: &'static str,
    days: &[u32],
    deadline: OffsetDateTime,
    now: OffsetDateTime,
) -> Option<Window> {
    let due = jiqun_rules::deadline::reminder_due(deadline, now, days)?;
    Some(Window { days: due, step })
}

fn reminder_link(competition_id: CompetitionId, w: Window) -> String {
    format!("/competitions/{competition_id}#reminder-{}", w.key())
}

/// Sends to those of `users` who do not have this reminder yet.
async fn remind_once(
    conn: &impl ConnectionTrait,
    users: &[Recipient],
    title: &str,
    body: &str,
    link: &str,
    now: OffsetDateTime,
) -> Result<u32, DbErr> {
    if users.is_empty() {
        return Ok(0);
    }
    let already: BTreeSet<UserId> = notification::Entity::find()
        .filter(notification::Column::UserId.is_in(users.iter().map(|u| u.id)))
        .filter(notification::Column::Link.eq(link))
        .select_only()
        .column(notification::Column::UserId)
        .into_tuple::<UserId>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let pending: Vec<Recipient> = users
        .iter()
        .filter(|u| !already.contains(&u.id))
        .cloned()
        .collect();
    notify_all(conn, &pending, title, body, link, now).await
}

/// Reminds, for every open call: applicant organisations with a draft or returned application,
/// and city bureaus with submitted (unreviewed) applications, on the days before the submission
/// and review deadlines that the call's policy names. Safe to run as often as wanted: a reminder
/// is sent to a user once. Returns how many notifications were sent.
pub async fn remind_deadlines(app: &App) -> Result<u32, AppError> {
    let now = app.clock.now();
    let calls = competition::Entity::find()
        .filter(competition::Column::Status.eq(STATUS_OPEN))
        .all(&app.db)
        .await?;
    let mut sent = 0;
    for c in calls {
        let policy = match super::competitions::policy_of(&c) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("reminders for call {}: {e}", c.id);
                continue;
            }
        };
        let submission = window_for(
            "submission",
            policy.submission_reminder_days(),
            c.submission_deadline,
            now,
        );
        let review = window_for(
            "review",
            policy.review_reminder_days(),
            c.review_deadline,
            now,
        );
        if submission.is_none() && review.is_none() {
            continue;
        }
        let txn = store::write_txn(&app.db).await?;
        // A no-op update takes the call's row lock (PostgreSQL; SQLite's write lock is already
        // held), so two servers running the reminders at once queue here and the second sees
        // what the first sent.
        competition::Entity::update_many()
            .col_expr(
                competition::Column::Version,
                Expr::col(competition::Column::Version),
            )
            .filter(competition::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
        if let Some(w) = submission {
            sent += remind_applicants(&txn, &c, w, now).await?;
        }
        if let Some(w) = review {
            sent += remind_cities(&txn, &c, w, now).await?;
        }
        txn.commit().await?;
    }
    if sent > 0 {
        tracing::info!(sent, "deadline reminders sent");
    }
    Ok(sent)
}

async fn remind_applicants(
    conn: &impl ConnectionTrait,
    c: &competition::Model,
    w: Window,
    now: OffsetDateTime,
) -> Result<u32, DbErr> {
    let unsent = application::Entity::find()
        .filter(application::Column::CompetitionId.eq(c.id))
        .filter(
            application::Column::Status
                .is_in([Status::Draft.key(), Status::ReturnedForRevision.key()]),
        )
        .all(conn)
        .await?;
    let mut per_org: std::collections::BTreeMap<OrgId, (u32, u32)> = Default::default();
    for a in &unsent {
        let e = per_org.entry(a.org_id).or_default();
        if a.status == Status::Draft {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let link = reminder_link(c.id, w);
    let title = format!("申报截止提醒：距“{}”申报截止不足{}天", c.title, w.days);
    let mut sent = 0;
    for (org_id, (drafts, returned)) in per_org {
        let mut what = Vec::new();
        if drafts > 0 {
            what.push(format!("草稿{drafts}份"));
        }
        if returned > 0 {
            what.push(format!("退回修改待重新提交{returned}份"));
        }
        let body = format!(
            "申报截止时间为{}（北京时间），贵单位尚有{}未提交。逾期系统将不再接受提交，请尽快在“我的申报”中完成并提交。",
            local_minutes(c.submission_deadline),
            what.join("、")
        );
        let users = active_users_of(conn, &[org_id]).await?;
        sent += remind_once(conn, &users, &title, &body, &link, now).await?;
    }
    Ok(sent)
}

async fn remind_cities(
    conn: &impl ConnectionTrait,
    c: &competition::Model,
    w: Window,
    now: OffsetDateTime,
) -> Result<u32, DbErr> {
    let waiting = application::Entity::find()
        .filter(application::Column::CompetitionId.eq(c.id))
        .filter(application::Column::Status.eq(Status::Submitted))
        .all(conn)
        .await?;
    let mut per_city: std::collections::BTreeMap<String, u32> = Default::default();
    for a in &waiting {
        *per_city.entry(a.city_code.to_string()).or_default() += 1;
    }
    let link = reminder_link(c.id, w);
    let title = format!("初审截止提醒：距“{}”市州初审截止不足{}天", c.title, w.days);
    let mut sent = 0;
    for (city, n) in per_city {
        let body = format!(
            "市州初审截止时间为{}（北京时间），本市尚有{n}份已提交的申报待初审（退回修改、不予推荐或正式推荐），请在“初审推荐”中及时办理。",
            local_minutes(c.review_deadline)
        );
        let users = city_bureau_users(conn, &city).await?;
        sent += remind_once(conn, &users, &title, &body, &link, now).await?;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_shortest_window_that_applies_wins() {
        let d = datetime!(2026-12-31 09:30 UTC);
        let at = |h: i64| d - time::Duration::hours(h);
        let p = jiqun_rules::policy::builtin_policies().unwrap().remove(0);
        let submission = p.submission_reminder_days();
        assert_eq!(submission, [3, 1]);
        let key = |w: Option<Window>| w.map(|w| w.key());
        assert_eq!(window_for("submission", submission, d, at(24 * 4)), None);
        assert_eq!(
            key(window_for("submission", submission, d, at(24 * 3))).as_deref(),
            Some("submission-3d")
        );
        assert_eq!(
            key(window_for("submission", submission, d, at(48))).as_deref(),
            Some("submission-3d")
        );
        assert_eq!(
            key(window_for("submission", submission, d, at(23))).as_deref(),
            Some("submission-1d")
        );
        assert_eq!(window_for("submission", submission, d, d), None);
        assert_eq!(
            key(window_for("review", p.review_reminder_days(), d, at(23))).as_deref(),
            Some("review-3d")
        );
    }

    #[test]
    fn only_local_links_are_followed() {
        let v = |link: &str| NotificationView {
            id: NotificationId::new(1),
            title: String::new(),
            body: String::new(),
            link: link.into(),
            created_at_local: String::new(),
            read: false,
            read_at_local: None,
        };
        assert_eq!(v("/competitions/1").local_link(), Some("/competitions/1"));
        assert_eq!(v("//evil.example").local_link(), None);
        assert_eq!(v("https://evil.example").local_link(), None);
        assert_eq!(v("").local_link(), None);
    }
}
