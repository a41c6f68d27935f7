//! The province's view of a round's notice, and confirming the list once the window has closed
//! and every objection is decided.

use crate::store::id::{CompetitionId, RoundId};
use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::{Status, Transition};
use jiqun_domain::round::{self as round_rules, ObjectionStatus, RoundStatus, RoundStep, date_zh};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::public::{PublicEntry, entry_rows, listed_entries};
use super::publish::round_for_step;
use super::{
    WindowState, default_notice_text, kind_labels, notice_title, period_text, window_of,
    working_days_of,
};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::services::competitions::policy_of;
use crate::services::{authorize, rounds};
use crate::store::{
    self,
    entity::{objection, round, round_entry},
};

/// What the province's notice page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundNotice {
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    #[schema(value_type = i64)]
    pub competition_id: CompetitionId,
    pub year: i32,
    pub kind: String,
    pub kind_label: String,
    pub status: String,
    pub status_label: String,
    pub title: String,
    /// As published, or (before publication) the default preamble for the form.
    pub notice_text: String,
    pub published: bool,
    /// Empty before publication.
    pub period: String,
    pub state: String,
    pub state_label: String,
    /// Candidates on the proposed list (before publication) or on notice (after).
    pub entries: Vec<PublicEntry>,
    pub objections_total: u64,
    pub objections_open: u64,
    /// YYYY-MM-DD when confirmed.
    pub confirmed_on: String,
    /// 2026年12月4日 when confirmed.
    pub confirmed_on_zh: String,
    /// Why the list cannot be confirmed yet; empty when it can (or is).
    pub confirm_blocker: String,
    pub version: i32,
}

pub async fn round_notice(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<RoundNotice, AppError> {
    let r = rounds::load(&app.db, p, round_id).await?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let policy = policy_of(&c)?;
    let kinds = kind_labels(&policy);
    let kind = r.kind;
    let status = r.status;
    let today = crate::services::calendar::today(app);
    let published = r.notice_published_on.is_some();
    let entries = if published {
        listed_entries(&app.db, r.id, &kinds).await?
    } else {
        proposed_entries(app, &r, &kinds).await?
    };
    let statuses: Vec<ObjectionStatus> = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .all(&app.db)
        .await?
        .iter()
        .map(|o| o.status)
        .collect();
    let open = statuses.iter().filter(|s| !s.decided()).count() as u64;
    let (period, state, confirm_blocker) = match window_of(&r) {
        Ok((_, first, last)) => {
            let state = if status == RoundStatus::Confirmed {
                WindowState::Closed
            } else {
                WindowState::of(today, first, last)
            };
            let blocker = if status == RoundStatus::OnNotice {
                round_rules::confirmable(today, last, &statuses)
                    .err()
                    .unwrap_or_default()
            } else {
                String::new()
            };
            (
                period_text(first, last, working_days_of(&policy)),
                Some(state),
                blocker,
            )
        }
        Err(_) => (String::new(), None, String::new()),
    };
    Ok(RoundNotice {
        round_id: r.id,
        competition_id: c.id,
        year: c.year,
        kind: kind.key().into(),
        kind_label: kind.label().into(),
        status: status.key().into(),
        status_label: status.label().into(),
        title: notice_title(&policy, c.year, kind)?,
        notice_text: if published {
            r.notice_text.clone()
        } else {
            default_notice_text(&policy, c.year, kind)?
        },
        published,
        period,
        state: state.map(|s| s.key().to_string()).unwrap_or_default(),
        state_label: state.map(|s| s.label().to_string()).unwrap_or_default(),
        entries,
        objections_total: statuses.len() as u64,
        objections_open: open,
        confirmed_on: r.confirmed_on.map(|d| d.to_string()).unwrap_or_default(),
        confirmed_on_zh: r
            .confirmed_on
            .map(crate::clock::day_for_people)
            .unwrap_or_default(),
        confirm_blocker,
        version: r.version,
    })
}

/// The shortlisted entrants of a round not yet on notice.
async fn proposed_entries(
    app: &App,
    r: &round::Model,
    kinds: &[(String, String)],
) -> Result<Vec<PublicEntry>, AppError> {
    entry_rows(&app.db, r.id, &[Status::Shortlisted.key()], kinds).await
}

/// What a confirmation did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConfirmOutcome {
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    /// YYYY-MM-DD
    pub confirmed_on: String,
    pub designations: Vec<crate::services::designations::CertificateRow>,
    /// The city-level titles a city's own competition conferred (第十六条); empty otherwise.
    pub city_designations: Vec<crate::services::city_designations::CityDesignationRow>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfirmInput {
    /// The round version the province saw; a stale one is refused with 409.
    #[serde(default)]
    pub version: Option<i32>,
}

/// Confirms the list (province) once the window has closed and every objection is decided:
/// in one transaction the round is confirmed, every candidate still on notice is confirmed and
/// designated with a numbered certificate, and its cluster takes the designation's standing.
pub async fn confirm(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    input: &ConfirmInput,
) -> Result<ConfirmOutcome, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, kind) = round_for_step(&txn, p, round_id, input.version, RoundStep::Confirm).await?;
    let (_, first, last) = window_of(&r).map_err(|_| AppError::Conflict("公示尚未发布".into()))?;
    let objections = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .all(&txn)
        .await?;
    let statuses: Vec<ObjectionStatus> = objections.iter().map(|o| o.status).collect();
    round_rules::confirmable(today, last, &statuses).map_err(AppError::Conflict)?;
    let after = rounds::step_round(&txn, &r, RoundStep::Confirm, now).await?;
    store::update_at_version(
        &txn,
        r.id,
        after.version,
        round::ActiveModel {
            confirmed_on: Set(Some(today)),
            ..Default::default()
        },
    )
    .await?;
    let c = rounds::competition_of(&txn, &r).await?;
    // A city's own competition (第十六条) confers its policy's city title, kept apart from the
    // provincial titles; the province's confers a numbered provincial certificate.
    let city_title = policy_of(&c)?.city_title().map(str::to_string);
    if city_title.is_none() {
        authorize(p, Resource::Certificate, Action::Create)?;
    }
    let on_notice: Vec<round_entry::Model> = rounds::entries(&txn, r.id)
        .await?
        .into_iter()
        .filter(|e| e.status == Status::OnNotice)
        .collect();
    let mut created = Vec::with_capacity(on_notice.len());
    let mut city_created = Vec::new();
    for e in &on_notice {
        let moved = rounds::move_entry(&txn, p, kind, e, Transition::Confirm, "", now).await?;
        match &city_title {
            Some(title) => city_created.push(
                crate::services::city_designations::designate(
                    app, &txn, p, &c, &r, &moved, title, now,
                )
                .await?,
            ),
            None => created.push(
                crate::services::designations::designate(app, &txn, p, &r, kind, &moved, now)
                    .await?,
            ),
        }
    }
    let conferred = match &city_title {
        Some(title) => title.clone(),
        None => crate::config::title_of(kind.outcome()).to_string(),
    };
    let upheld = statuses
        .iter()
        .filter(|s| **s == ObjectionStatus::Upheld)
        .count();
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.confirm",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!(
                    "确认{}年{}名单：{}个集群被{}为{}；公示期{}至{}，收到异议{}件（成立{}件）",
                    c.year,
                    kind.label(),
                    created.len() + city_created.len(),
                    crate::services::designations::decided_verb(kind),
                    conferred,
                    date_zh(first),
                    date_zh(last),
                    statuses.len(),
                    upheld
                ),
                reason: String::new(),
            },
        )
        .await?;
    let rows = crate::services::designations::rows_for(&txn, &created).await?;
    let city_rows = crate::services::city_designations::rows_for(&txn, &city_created).await?;
    txn.commit().await?;
    app.public_pages.invalidate(&app.db, r.id).await;
    Ok(ConfirmOutcome {
        round_id: r.id,
        confirmed_on: today.to_string(),
        designations: rows,
        city_designations: city_rows,
    })
}
