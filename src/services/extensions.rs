//! Individual extensions: the province (any step) or the city bureau (its own review) gives one
//! applicant more time than the call's general deadline, with a reason (e.g. after a system
//! fault). The latest grant for a step is that application's deadline; the server enforces it
//! exactly as the general one (第八条、第九条 deadlines set by the call).

use crate::store::id::{ApplicationId, ExtensionId};
use jiqun_domain::access::Role;
use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::Status;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{authorize, trimmed};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::{local_minutes, parse_local_datetime};
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{competition, deadline_extension},
};

pub const STEP_SUBMISSION: &str = "submission";
pub const STEP_REVIEW: &str = "review";
const MAX_REASON_CHARS: usize = 1000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ExtensionInput {
    /// "submission" (the applicant's) or "review" (the city's 初审).
    pub step: String,
    /// The new deadline, Beijing time: "YYYY-MM-DDTHH:MM" or "YYYY-MM-DD HH:MM".
    pub until: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExtensionView {
    #[schema(value_type = i64)]
    pub id: ExtensionId,
    #[schema(value_type = i64)]
    pub application_id: ApplicationId,
    pub step: String,
    /// 申报提交 | 市州初审
    pub step_label: String,
    /// "2026-12-31 17:30" (Beijing time)
    pub until: String,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: String,
}

fn step_label(step: &str) -> &'static str {
    if step == STEP_REVIEW {
        "市州初审"
    } else {
        "申报提交"
    }
}

fn view(m: &deadline_extension::Model) -> ExtensionView {
    ExtensionView {
        id: m.id,
        application_id: m.application_id,
        step: m.step.clone(),
        step_label: step_label(&m.step).into(),
        until: local_minutes(m.until),
        reason: m.reason.clone(),
        granted_by: m.granted_by_name.clone(),
        granted_at: local_minutes(m.granted_at),
    }
}

/// The grants for one application, oldest first.
async fn grants<C: ConnectionTrait>(
    conn: &C,
    application_id: ApplicationId,
) -> Result<Vec<deadline_extension::Model>, AppError> {
    Ok(deadline_extension::Entity::find()
        .filter(deadline_extension::Column::ApplicationId.eq(application_id))
        .order_by_asc(deadline_extension::Column::Id)
        .all(conn)
        .await?)
}

/// One application's grants, oldest first. A grant only ever moves a deadline later (`grant`
/// refuses an earlier one), so grants read before the writer's turn never let a step in late:
/// one given in between only makes a refusal at that instant that a retry no longer meets.
#[derive(Debug, Clone, Default)]
pub struct Grants(Vec<deadline_extension::Model>);

impl Grants {
    pub async fn of<C: ConnectionTrait>(
        conn: &C,
        application_id: ApplicationId,
    ) -> Result<Grants, AppError> {
        Ok(Grants(grants(conn, application_id).await?))
    }

    /// The grants of several applications, in one statement.
    pub async fn of_each<C: ConnectionTrait>(
        conn: &C,
        ids: &[ApplicationId],
    ) -> Result<std::collections::HashMap<ApplicationId, Grants>, AppError> {
        let mut by_id: std::collections::HashMap<ApplicationId, Grants> = Default::default();
        for g in deadline_extension::Entity::find()
            .filter(deadline_extension::Column::ApplicationId.is_in(ids.iter().copied()))
            .order_by_asc(deadline_extension::Column::Id)
            .all(conn)
            .await?
        {
            by_id.entry(g.application_id).or_default().0.push(g);
        }
        Ok(by_id)
    }

    /// The application's own deadline for a step: the latest grant, else the call's.
    pub fn deadline(&self, c: &competition::Model, step: &str) -> OffsetDateTime {
        let general = if step == STEP_REVIEW {
            c.review_deadline
        } else {
            c.submission_deadline
        };
        self.0
            .iter()
            .rev()
            .find(|g| g.step == step)
            .map_or(general, |g| g.until)
    }

    /// Whether the step is closed for this application: `Some(deadline)` unless the call is open
    /// and the application's own deadline for the step (extended or general) has not passed.
    pub fn closed(
        &self,
        c: &competition::Model,
        step: &str,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let until = self.deadline(c, step);
        let open = c.status == crate::store::entity::kinds::CompetitionStatus::Open && now < until;
        (!open).then_some(until)
    }
}

/// The application's own deadline for a step, read now.
pub async fn deadline_of<C: ConnectionTrait>(
    conn: &C,
    c: &competition::Model,
    application_id: ApplicationId,
    step: &str,
) -> Result<OffsetDateTime, AppError> {
    Ok(Grants::of(conn, application_id).await?.deadline(c, step))
}

/// The grants on an application, for whoever may see the application (applicant, its city,
/// the province).
pub async fn list(
    app: &App,
    p: &Principal,
    application_id: ApplicationId,
) -> Result<Vec<ExtensionView>, AppError> {
    let m = super::applications::load(&app.db, p, application_id).await?;
    Ok(grants(&app.db, m.id).await?.iter().map(view).collect())
}

/// Grants one application more time for a step, with a reason; audited, on the application's
/// history, and the applicant's organisation is notified.
pub async fn grant(
    app: &App,
    p: &Principal,
    application_id: ApplicationId,
    input: &ExtensionInput,
) -> Result<ExtensionView, AppError> {
    let m = super::applications::load(&app.db, p, application_id).await?;
    authorize(p, Resource::Application, Action::Extend)?;
    let step = input.step.trim();
    let mut problems = Problems::default();
    if step != STEP_SUBMISSION && step != STEP_REVIEW {
        problems.add("step", "请选择延期的环节：申报提交或市州初审");
    } else if p.role == Role::CityBureau && step != STEP_REVIEW {
        problems.add(
            "step",
            "市州工信局只能延长本市初审的期限；申报提交期限由省工信厅延长",
        );
    }
    let until = parse_local_datetime(&input.until);
    if input.until.trim().is_empty() {
        problems.add("until", "请填写延长后的截止时间");
    } else if until.is_none() {
        problems.add(
            "until",
            format!(
                "截止时间“{}”无效，应为“年-月-日 时:分”（北京时间），例如2026-12-31 17:30",
                input.until.trim()
            ),
        );
    }
    let reason = trimmed(&input.reason);
    if reason.is_empty() {
        problems.add("reason", "请填写延期理由");
    } else if reason.chars().count() > MAX_REASON_CHARS {
        problems.add("reason", format!("延期理由不能超过{MAX_REASON_CHARS}字"));
    }
    problems.into_result()?;
    let until = until.ok_or_else(|| AppError::internal("checked above"))?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // Two grants at once for one application: the later one reads the earlier.
    store::lock::serialise(&txn, &format!("extension:{}", m.id)).await?;
    let c = super::applications::competition_of(&txn, &m).await?;
    if c.status != crate::store::entity::kinds::CompetitionStatus::Open {
        return Err(AppError::Conflict("该竞赛通知已关闭，不能再延期".into()));
    }
    if step == STEP_SUBMISSION && !matches!(m.status, Status::Draft | Status::ReturnedForRevision) {
        return Err(AppError::Conflict(format!(
            "该申报当前状态为“{}”，无需延长申报提交期限",
            m.status.label()
        )));
    }
    let current = deadline_of(&txn, &c, m.id, step).await?;
    let mut problems = Problems::default();
    if until <= current {
        problems.add(
            "until",
            format!(
                "延长后的截止时间应晚于该申报现有的截止时间（{}）",
                local_minutes(current)
            ),
        );
    } else if until <= now {
        problems.add(
            "until",
            format!("延长后的截止时间应晚于当前时间（{}）", local_minutes(now)),
        );
    } else if step == STEP_SUBMISSION {
        // The applicant must still leave its city time to review.
        let review = deadline_of(&txn, &c, m.id, STEP_REVIEW).await?;
        if until >= review {
            problems.add(
                "until",
                format!(
                    "申报提交期限应早于该申报的市州初审截止时间（{}），如需要请先延长初审期限",
                    local_minutes(review)
                ),
            );
        }
    }
    problems.into_result()?;
    let g = deadline_extension::ActiveModel {
        application_id: Set(m.id),
        step: Set(step.to_string()),
        until: Set(until),
        reason: Set(reason.clone()),
        granted_by: Set(Some(p.user.id)),
        granted_by_name: Set(format!("{}（{}）", p.user.display_name, p.org.name)),
        granted_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let summary = format!(
        "申报{}的{}截止时间由{}延长至{}",
        m.id,
        step_label(step),
        local_minutes(current),
        local_minutes(until)
    );
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "application.extend",
                object_type: "application",
                object_id: m.id.to_string(),
                summary: summary.clone(),
                reason: reason.clone(),
            },
        )
        .await?;
    let users = super::notifications::active_users_of(&txn, &[m.org_id]).await?;
    super::notifications::notify_all(
        &txn,
        &users,
        &format!("{}截止时间已延长", step_label(step)),
        &format!("{summary}（北京时间）。理由：{reason}"),
        &format!("/applications/{}", m.id),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(view(&g))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::entity::kinds::CompetitionStatus;
    use crate::store::id::{CompetitionId, UserId};
    use time::macros::datetime;

    fn call(status: CompetitionStatus) -> competition::Model {
        let at = datetime!(2026-01-01 00:00 UTC);
        competition::Model {
            id: CompetitionId::new(1),
            year: 2026,
            title: String::new(),
            policy_id: "hunan-2021".into(),
            policy_source: String::new(),
            submission_deadline: datetime!(2026-05-01 09:00 UTC),
            review_deadline: datetime!(2026-06-01 09:00 UTC),
            notice_text: String::new(),
            status,
            created_by: UserId::new(1),
            version: 1,
            created_at: at,
            updated_at: at,
            policy_hash: None,
            override_reason: None,
            override_document: None,
            call_rules: None,
            organiser_city_code: None,
        }
    }

    fn grant(id: i64, step: &str, until: OffsetDateTime) -> deadline_extension::Model {
        deadline_extension::Model {
            id: ExtensionId::new(id),
            application_id: ApplicationId::new(7),
            step: step.into(),
            until,
            reason: "系统故障".into(),
            granted_by: None,
            granted_by_name: String::new(),
            granted_at: until,
        }
    }

    #[test]
    fn the_latest_grant_for_the_step_is_the_deadline_else_the_calls() {
        let c = call(CompetitionStatus::Open);
        assert_eq!(
            Grants::default().deadline(&c, STEP_SUBMISSION),
            c.submission_deadline
        );
        let g = Grants(vec![
            grant(1, STEP_SUBMISSION, datetime!(2026-05-05 09:00 UTC)),
            grant(2, STEP_REVIEW, datetime!(2026-06-09 09:00 UTC)),
            grant(3, STEP_SUBMISSION, datetime!(2026-05-08 09:00 UTC)),
        ]);
        assert_eq!(
            g.deadline(&c, STEP_SUBMISSION),
            datetime!(2026-05-08 09:00 UTC)
        );
        assert_eq!(g.deadline(&c, STEP_REVIEW), datetime!(2026-06-09 09:00 UTC));
    }

    #[test]
    fn a_step_closes_at_its_deadline_and_whenever_the_call_is_not_open() {
        let open = call(CompetitionStatus::Open);
        let g = Grants(vec![grant(
            1,
            STEP_SUBMISSION,
            datetime!(2026-05-05 09:00 UTC),
        )]);
        let before = datetime!(2026-05-05 08:59 UTC);
        let at = datetime!(2026-05-05 09:00 UTC);
        assert_eq!(g.closed(&open, STEP_SUBMISSION, before), None);
        assert_eq!(g.closed(&open, STEP_SUBMISSION, at), Some(at));
        // Without the grant the call's own deadline had passed.
        assert_eq!(
            Grants::default().closed(&open, STEP_SUBMISSION, before),
            Some(open.submission_deadline)
        );
        let closed = call(CompetitionStatus::Closed);
        assert_eq!(g.closed(&closed, STEP_SUBMISSION, before), Some(at));
    }
}
