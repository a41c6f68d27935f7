//! 第十六条 (分级培育): the county bureau (县（市、区）工信部门) gives its opinion (县级意见) on
//! its county's applications while the city bureau holds its 初审 (第九条). The opinion decides
//! nothing: the city reads it on its review page beside its own decision, and the province sees
//! it with the application. Each opinion is kept (a later one does not replace an earlier one)
//! and audited.

use std::collections::HashSet;

use jiqun_domain::access::{Action, Resource, ScopeKind, permission};
use jiqun_domain::application::Status;
use jiqun_domain::region;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

use super::applications::{self, competition_of};
use super::authorize;
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::format_local;
use crate::error::AppError;
use crate::store::id::{ApplicationId, CountyOpinionId};
use crate::store::{
    self,
    entity::{application, county_opinion},
};

/// The longest opinion a county may give, in characters.
pub const MAX_CHARS: usize = 2000;

/// One opinion as the city, the province and the county read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpinionView {
    #[schema(value_type = i64)]
    pub id: CountyOpinionId,
    /// The county, e.g. 浏阳市.
    pub county_name: String,
    pub author_name: String,
    /// The application's submission the opinion was given on.
    pub revision: i32,
    pub opinion: String,
    pub created_at: String,
}

fn view_of(m: &county_opinion::Model) -> OpinionView {
    OpinionView {
        id: m.id,
        county_name: region::county(m.county_code)
            .map(|c| c.name().to_string())
            .unwrap_or_else(|| m.county_code.to_string()),
        author_name: m.author_name.clone(),
        revision: m.revision,
        opinion: m.opinion.clone(),
        created_at: format_local(m.created_at),
    }
}

/// Whether the principal reads county opinions at all: the offices (the county, its city, the
/// province), not the applicant — the opinion is advice between departments.
pub fn reads_opinions(p: &Principal) -> bool {
    matches!(
        permission(p.role, Resource::Application, Action::View),
        Some(ScopeKind::All | ScopeKind::OwnCity | ScopeKind::OwnCounty)
    )
}

/// Whether the principal may give an opinion on this application now (its county's, at the
/// city's review).
pub fn may_give(p: &Principal, m: &application::Model) -> bool {
    permission(p.role, Resource::Application, Action::Comment).is_some()
        && m.status == Status::Submitted
}

/// Records the county's opinion on one of its county's applications at the city's review.
pub async fn give(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    text: &str,
) -> Result<county_opinion::Model, AppError> {
    authorize(p, Resource::Application, Action::Comment)?;
    let opinion = super::required_text("opinion", text, "请填写县级意见")?;
    super::at_most("opinion", opinion, "县级意见", MAX_CHARS)?;
    let county = p.org.county_code.ok_or(AppError::Forbidden)?;
    let txn = store::write_txn(&app.db).await?;
    // In scope (its county's, submitted) or "not found".
    let m = applications::load(&txn, p, id).await?;
    if m.status != Status::Submitted {
        return Err(AppError::Conflict(format!(
            "申报当前为“{}”，县级意见只能在市州初审期间提出",
            m.status.label()
        )));
    }
    let c = competition_of(&txn, &m).await?;
    let now = app.clock.now();
    if let Some(until) = super::extensions::Grants::of(&txn, m.id).await?.closed(
        &c,
        super::extensions::STEP_REVIEW,
        now,
    ) {
        return Err(AppError::Conflict(format!(
            "市州初审已于 {} 截止，不能再提出县级意见",
            format_local(until)
        )));
    }
    let saved = county_opinion::ActiveModel {
        application_id: Set(m.id),
        org_id: Set(p.org.id),
        county_code: Set(county),
        revision: Set(m.revision),
        opinion: Set(opinion.to_string()),
        author_user_id: Set(p.user.id),
        author_name: Set(format!("{}（{}）", p.user.display_name, p.org.name)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // The city reviewing the application hears of it at once.
    let cluster = super::rounds::cluster_name(&txn, m.cluster_id).await?;
    let county_name = view_of(&saved).county_name;
    super::notifications::notify_city(
        &txn,
        &m.city_code.to_string(),
        &format!("县级意见：{cluster}"),
        &format!("{county_name}对“{cluster}”的申报提出了县级意见，请在市州初审时参阅。"),
        &format!("/reviews/{}", m.id),
        now,
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "application.county_opinion",
                object_type: "application",
                object_id: id.to_string(),
                summary: format!("提出县级意见（第{}次提交）", m.revision),
                reason: opinion.to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The county opinions on an application the principal has already loaded (so it is in scope),
/// oldest first; empty for those who do not read them.
pub async fn of_application<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    m: &application::Model,
) -> Result<Vec<OpinionView>, AppError> {
    if !reads_opinions(p) {
        return Ok(Vec::new());
    }
    Ok(county_opinion::Entity::find()
        .filter(county_opinion::Column::ApplicationId.eq(m.id))
        .order_by_asc(county_opinion::Column::Id)
        .all(conn)
        .await?
        .iter()
        .map(view_of)
        .collect())
}

/// The county opinions on an application as steps of its 办理记录 (for those who read them),
/// with the time each was given: the application stays at the city's review.
pub async fn as_steps<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    m: &application::Model,
) -> Result<Vec<(time::OffsetDateTime, applications::EventView)>, AppError> {
    if !reads_opinions(p) {
        return Ok(Vec::new());
    }
    let at_review = Status::Submitted.label().to_string();
    Ok(county_opinion::Entity::find()
        .filter(county_opinion::Column::ApplicationId.eq(m.id))
        .order_by_asc(county_opinion::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|o| {
            (
                o.created_at,
                applications::EventView {
                    at: format_local(o.created_at),
                    action: "county_opinion".into(),
                    action_label: "提出县级意见".into(),
                    from_label: at_review.clone(),
                    to_label: at_review.clone(),
                    actor: o.author_name,
                    comment: o.opinion,
                },
            )
        })
        .collect())
}

/// The county's applications at the city's review on whose current submission it has not yet
/// given an opinion (the county bureau's to-do). Two queries whatever the number.
pub async fn waiting<C: ConnectionTrait>(conn: &C, p: &Principal) -> Result<u64, AppError> {
    if permission(p.role, Resource::Application, Action::Comment).is_none() {
        return Ok(0);
    }
    let Some(county) = p.org.county_code else {
        return Ok(0);
    };
    let open: Vec<application::Model> = application::Entity::find()
        .filter(application::Column::CountyCode.eq(county))
        .filter(application::Column::Status.eq(Status::Submitted))
        .all(conn)
        .await?;
    let given: HashSet<(ApplicationId, i32)> = county_opinion::Entity::find()
        .filter(county_opinion::Column::OrgId.eq(p.org.id))
        .filter(county_opinion::Column::ApplicationId.is_in(open.iter().map(|m| m.id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.application_id, o.revision))
        .collect();
    Ok(open
        .iter()
        .filter(|m| !given.contains(&(m.id, m.revision)))
        .count() as u64)
}
