//! Applications (申请报告) to a competition: drafts, the completeness and eligibility assessment,
//! submission before the deadline, and the version kept at each submission (第八条).

use crate::store::id::{ApplicationId, ClusterId, CompetitionId};
use jiqun_domain::access::{Action, Resource, Role, ScopeKind};
use jiqun_domain::application::{self as machine, Status, Transition};
use jiqun_rules::Policy;
use jiqun_rules::intake::{self, Assessment, FormData};
use sea_orm::sea_query::InsertStatement;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QueryTrait, Set,
};
use serde::Serialize;
use std::sync::Arc;
use time::OffsetDateTime;

use super::{authorize, notifications};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::format_local;
use crate::error::AppError;
use crate::store::entity::{
    application, application_event, application_version, attachment, cluster, cluster_co_applicant,
    competition,
};
use crate::store::{self};

pub use super::competitions::policy_of;

pub fn form_of(m: &application::Model) -> FormData {
    serde_json::from_str(&m.form).unwrap_or_default()
}

/// Who applies and who does the 初审 under a call's policy (`procedure`; the provincial
/// competition's promotion organisation and city bureau when the policy names none).
pub fn actors_of(policy: &Policy) -> machine::Actors {
    use jiqun_rules::policy::{Applicant, FirstReview};
    let pr = policy.procedure_or_default();
    machine::Actors {
        applicant: match pr.applicant {
            Applicant::PromotionOrg => Role::Applicant,
            Applicant::CountyBureau => Role::CountyBureau,
        },
        reviewer: match pr.first_review {
            FirstReview::City => Role::CityBureau,
            FirstReview::Province => Role::Province,
        },
    }
}

/// The actors of an application's call.
pub async fn actors_for<C: ConnectionTrait>(
    conn: &C,
    m: &application::Model,
) -> Result<machine::Actors, AppError> {
    let c = competition_of(conn, m).await?;
    Ok(actors_of(&*super::competitions::policy_of(&c)?))
}

/// Whether the principal may see an application (read-only for co-applicants).
async fn visible<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    m: &application::Model,
) -> Result<bool, AppError> {
    // A county bureau that applied itself (a programme whose applicant is the county's
    // department: `start` lets no other county bureau own an application) sees its own,
    // drafts included.
    if p.role == Role::CountyBureau && m.org_id == p.org.id {
        return Ok(true);
    }
    let Ok(scope) = authorize(p, Resource::Application, Action::View) else {
        return Ok(false);
    };
    // The permission table decides which statuses the role reaches (a city bureau never sees a
    // draft), for every route that loads one application: the object, its files, its review.
    if !jiqun_domain::access::application_in_reach(p.role, m.status) {
        return Ok(false);
    }
    Ok(match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(m.city_code),
        // The lead county the application names (the one the per-county cap counts).
        ScopeKind::OwnCounty => super::county_reaches(p, m.county_code),
        ScopeKind::OwnOrg => {
            m.org_id == p.org.id
                || cluster_co_applicant::Entity::find()
                    .filter(cluster_co_applicant::Column::ClusterId.eq(m.cluster_id))
                    .filter(cluster_co_applicant::Column::OrgId.eq(p.org.id))
                    .one(conn)
                    .await?
                    .is_some()
        }
        ScopeKind::OwnAccount => false,
    })
}

/// Loads an application the principal may see; anything else is "not found".
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: ApplicationId,
) -> Result<application::Model, AppError> {
    let m = application::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if visible(conn, p, &m).await? {
        Ok(m)
    } else {
        Err(AppError::NotFound)
    }
}

/// Loads an application its lead applicant may change.
async fn load_own(
    app: &App,
    p: &Principal,
    id: ApplicationId,
) -> Result<application::Model, AppError> {
    let m = load(&app.db, p, id).await?;
    if authorize(p, Resource::Application, Action::Update).is_err()
        && actors_for(&app.db, &m)
            .await?
            .grant(p.role, Action::Update)
            .is_none()
    {
        return Err(AppError::Forbidden);
    }
    if m.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    Ok(m)
}

pub async fn competition_of<C: ConnectionTrait>(
    conn: &C,
    m: &application::Model,
) -> Result<competition::Model, AppError> {
    competition::Entity::find_by_id(m.competition_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

async fn attachments_of<C: ConnectionTrait>(
    conn: &C,
    id: ApplicationId,
) -> Result<Vec<attachment::Model>, AppError> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::OwnerType.eq("application"))
        .filter(attachment::Column::OwnerId.eq(id))
        .all(conn)
        .await?)
}

async fn attachment_purposes<C: ConnectionTrait>(
    conn: &C,
    id: ApplicationId,
) -> Result<Vec<String>, AppError> {
    Ok(attachments_of(conn, id)
        .await?
        .into_iter()
        .map(|a| a.purpose)
        .collect())
}

/// The assessment of an application as it stands: the applicant's live checks, the
/// submission check and the city's review all read it.
pub async fn assess(
    app: &App,
    m: &application::Model,
) -> Result<(Arc<Policy>, Assessment), AppError> {
    let (_, policy, a) = assessed(app, m).await?;
    Ok((policy, a))
}

/// [`assess`] with the call it read.
async fn assessed(
    app: &App,
    m: &application::Model,
) -> Result<(competition::Model, Arc<Policy>, Assessment), AppError> {
    let c = competition_of(&app.db, m).await?;
    let policy = policy_of(&c)?;
    let purposes = attachment_purposes(&app.db, m.id).await?;
    let a = assess_with(&policy, &c, m, &purposes);
    Ok((c, policy, a))
}

/// [`assess`] over what is read already: the policy's rules for the application's cluster kind
/// with the call's own (stricter thresholds, extra files), through `intake::assess_for`.
fn assess_with(
    policy: &Policy,
    c: &competition::Model,
    m: &application::Model,
    purposes: &[String],
) -> Assessment {
    let call = super::competitions::call_rules_of(c);
    let terms = intake::Terms {
        kind: Some(&m.kind),
        call: Some(&call),
    };
    intake::assess_for(policy, &terms, &form_of(m), |p| {
        purposes.iter().any(|x| x == p)
    })
}

/// One step on an application's own history.
pub struct Step<'a> {
    pub id: ApplicationId,
    pub from: Status,
    pub to: Status,
    pub transition: Transition,
    pub comment: &'a str,
}

/// Records a decision on the application's own history (its people see it; the audit log has it too).
pub async fn record_event<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    step: Step<'_>,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    conn.execute(&event_insert(p, step, at)).await?;
    Ok(())
}

/// The insert of [`record_event`], for a write that runs it with its others
/// (`store::insert_together`).
pub fn event_insert(p: &Principal, step: Step<'_>, at: OffsetDateTime) -> InsertStatement {
    application_event::Entity::insert(application_event::ActiveModel {
        application_id: Set(step.id),
        from_status: Set(step.from),
        to_status: Set(step.to),
        action: Set(step.transition.key().into()),
        actor_user_id: Set(p.user.id),
        actor_name: Set(format!("{}（{}）", p.user.display_name, p.org.name)),
        comment: Set(step.comment.into()),
        at: Set(at),
        ..Default::default()
    })
    .into_query()
}

/// Starts (or returns the existing) application of a cluster to a competition.
pub async fn start(
    app: &App,
    p: &Principal,
    competition_id: CompetitionId,
    cluster_id: ClusterId,
) -> Result<application::Model, AppError> {
    let c = competition::Entity::find_by_id(competition_id)
        .one(&app.db)
        .await?
        .filter(|c| super::organisers::visible(p, c))
        .ok_or(AppError::NotFound)?;
    // Who applies is the call's policy's: a promotion organisation for its own clusters, or
    // (the national programme) the county's department for the clusters of its county.
    let actors = actors_of(&*super::competitions::policy_of(&c)?);
    if p.role != actors.applicant {
        return Err(AppError::Forbidden);
    }
    if authorize(p, Resource::Application, Action::Create).is_err()
        && actors.grant(p.role, Action::Create).is_none()
    {
        return Err(AppError::Forbidden);
    }
    let now = app.clock.now();
    if !super::competitions::is_open_for_submission(&c, now) {
        return Err(AppError::Conflict(format!(
            "该竞赛通知已截止申报（截止时间 {}）",
            format_local(c.submission_deadline)
        )));
    }
    let cl = cluster::Entity::find_by_id(cluster_id)
        .one(&app.db)
        .await?
        .filter(|cl| match actors.applicant {
            Role::CountyBureau => super::county_reaches(p, cl.lead_county_code),
            _ => cl.org_id == p.org.id,
        })
        .ok_or(AppError::NotFound)?;
    // 第十六条: a city's own competition takes its own city's clusters only.
    if let Some(city) = c.organiser_city_code
        && cl.city_code != city
    {
        let name = |code| {
            jiqun_domain::region::city(code)
                .map_or_else(|| code.to_string(), |c| c.name().to_string())
        };
        return Err(AppError::invalid(
            "cluster_id",
            format!(
                "“{}”是{}组织的市级竞赛，只接受{}的集群申报；“{}”属于{}",
                c.title,
                name(city),
                name(city),
                cl.name,
                name(cl.city_code)
            ),
        ));
    }
    if let Some(existing) = application::Entity::find()
        .filter(application::Column::CompetitionId.eq(competition_id))
        .filter(application::Column::ClusterId.eq(cluster_id))
        .one(&app.db)
        .await?
    {
        return Ok(existing);
    }
    // The leading industry the cluster was registered with is picked already (GB/T 4754).
    let mut form = FormData::default();
    for ind in policy_of(&c)?.criteria.iter().flat_map(|cr| &cr.indicators) {
        if ind.value_type == jiqun_rules::policy::ValueType::IndustryCode {
            form.indicators
                .insert(ind.key.clone(), cl.industry_code.clone());
        }
    }
    let form = serde_json::to_string(&form).map_err(|e| AppError::internal(e.to_string()))?;
    let txn = store::write_txn(&app.db).await?;
    // 第三条: a 培育对象 goes on to the 决赛 and a certified cluster is done competing; either
    // would lose its title if it entered a 初赛 again.
    let standing = super::designations::standing_of(&txn, cl.id).await?;
    if let Err(refusal) = jiqun_domain::lifecycle::may_apply(standing) {
        return Err(AppError::Conflict(preliminary_refusal(&cl.name, refusal)));
    }
    let m = application::ActiveModel {
        competition_id: Set(c.id),
        cluster_id: Set(cl.id),
        // The applicant (申报主体): the lead promotion organisation, or the county's department
        // where the programme says it applies.
        org_id: Set(if actors.applicant == Role::CountyBureau {
            p.org.id
        } else {
            cl.org_id
        }),
        // 第八条: a joint application goes to the lead applicant's city.
        city_code: Set(cl.city_code),
        county_code: Set(cl.lead_county_code),
        kind: Set(cl.kind.clone()),
        status: Set(Status::Draft),
        form: Set(form),
        revision: Set(0),
        submitted_at: Set(None),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "application.create",
                object_type: "application",
                object_id: m.id.to_string(),
                summary: format!("{}：发起“{}”申报（{}）", cl.name, c.title, c.year),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(m)
}

/// Why a cluster holding a title may not start a 初赛 application, and what it may do instead.
pub fn preliminary_refusal(
    cluster: &str,
    refusal: jiqun_domain::lifecycle::ApplyRefusal,
) -> String {
    use jiqun_domain::lifecycle::ApplyRefusal;
    use jiqun_domain::round::Designation;
    match refusal {
        ApplyRefusal::HoldsCultivation => format!(
            "“{cluster}”已是{}，不能再申报初赛；培育期满后将组织决赛，请届时参加决赛。",
            crate::config::title_of(Designation::CultivationTarget)
        ),
        ApplyRefusal::HoldsCertification => format!(
            "“{cluster}”已被认定为{}，无需也不能再申报初赛；请按复核工作通知的要求做好复核。",
            crate::config::title_of(Designation::Certified)
        ),
    }
}

/// Saves the form as typed. Nothing is refused here: malformed values are kept and shown with
/// their problem, so the applicant never loses input; submission is where the rules bite.
pub async fn save(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    form: &FormData,
    expected_version: i32,
) -> Result<application::Model, AppError> {
    let m = load_own(app, p, id).await?;
    let status = m.status;
    if !status.editable_by_applicant() {
        return Err(AppError::Conflict(format!(
            "申报当前状态为“{}”，不能修改；如需修改请联系市州工信局退回",
            status.label()
        )));
    }
    let mut form = form.clone();
    for text in form.narratives.values_mut() {
        // Bound what is stored even before submission.
        if text.chars().count() > intake::NARRATIVE_MAX_CHARS * 2 {
            *text = text.chars().take(intake::NARRATIVE_MAX_CHARS * 2).collect();
        }
    }
    let json = serde_json::to_string(&form).map_err(|e| AppError::internal(e.to_string()))?;
    let now = app.clock.now();
    // The policy only names the changed fields for the audit entry; the call's policy is bound
    // for good, so it is read before the writer's turn.
    let policy = policy_of(&competition_of(&app.db, &m).await?)?;
    let txn = store::write_txn(&app.db).await?;
    let after = store::update_versioned_returning(
        &txn,
        id,
        expected_version,
        application::ActiveModel {
            form: Set(json),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let before = form_of(&m);
    let changed = intake::diff(&policy, &before, &form);
    Audit::of(app, p, now)
        .record_changes(
            &txn,
            Event {
                action: "application.save",
                object_type: "application",
                object_id: id.to_string(),
                summary: summarise_changes(&changed),
                ..Default::default()
            },
            crate::audit::changes_between(&m, &after),
        )
        .await?;
    txn.commit().await?;
    Ok(after)
}

fn summarise_changes(changes: &[intake::Change]) -> String {
    if changes.is_empty() {
        return "保存草稿（无变化）".into();
    }
    let mut s = String::from("保存草稿：");
    for c in changes.iter().take(20) {
        let short = |t: &str| t.chars().take(40).collect::<String>();
        s.push_str(&format!(
            "\n{}：{} → {}",
            c.label,
            short(&c.before),
            short(&c.after)
        ));
    }
    if changes.len() > 20 {
        s.push_str(&format!("\n……共{}项变化", changes.len()));
    }
    s
}

/// Submits (or resubmits after a return). A repeated submit of the same version is answered with
/// the submission already made, so a double click creates one submission.
pub async fn submit(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    expected_version: i32,
) -> Result<application::Model, AppError> {
    let m = load_own(app, p, id).await?;
    let status = m.status;
    if status == Status::Submitted && m.version == expected_version + 1 {
        return Ok(m);
    }
    let now = app.clock.now();
    // The cluster's profile goes into the snapshot as it stands when the applicant submits; it is
    // read before the writer's turn.
    let cl = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?;
    // So are the city bureau's staff it notifies (the notice goes to those there as it is sent)
    // and the application's deadline extensions (see `Grants`).
    let city_staff = notifications::city_bureau_users(&app.db, &m.city_code.to_string()).await?;
    let grants = super::extensions::Grants::of(&app.db, m.id).await?;
    let txn = store::write_txn(&app.db).await?;
    // The call's own rules cannot change between this check and the submission (the province's
    // edit takes the same lock and refuses once an application is submitted); the call and the
    // files are read once, under it.
    store::lock::serialise(
        &txn,
        &super::competitions::call_rules_lock(m.competition_id),
    )
    .await?;
    let c = competition_of(&txn, &m).await?;
    let policy = policy_of(&c)?;
    let to = machine::apply_under(status, Transition::Submit, p.role, actors_of(&policy))
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    // The application's own deadline: an individual extension, else the call's.
    if let Some(until) = grants.closed(&c, super::extensions::STEP_SUBMISSION, now) {
        return Err(AppError::Conflict(format!(
            "申报已于 {} 截止，系统不再接收提交",
            format_local(until)
        )));
    }
    let files = attachments_of(&txn, m.id).await?;
    let purposes: Vec<String> = files.iter().map(|a| a.purpose.clone()).collect();
    let a = assess_with(&policy, &c, &m, &purposes);
    if !a.ready() {
        let mut problems: Vec<crate::error::FieldError> = Vec::new();
        for fp in a.invalid.iter().chain(&a.missing).chain(&a.ineligible) {
            problems.push(crate::error::FieldError {
                field: fp.field.clone(),
                message: fp.message.clone(),
            });
        }
        return Err(AppError::Invalid(problems));
    }
    let (snapshot, cluster_name) = snapshot(cl, &files);
    let revision = m.revision + 1;
    let after = store::update_versioned_returning(
        &txn,
        id,
        expected_version,
        application::ActiveModel {
            status: Set(to),
            revision: Set(revision),
            submitted_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let label = if revision > 1 {
        "重新提交"
    } else {
        "提交"
    };
    // The version submitted, the step on the application's history and the city's notice, in
    // one round trip.
    let mut inserts = vec![
        application_version::Entity::insert(application_version::ActiveModel {
            application_id: Set(id),
            revision: Set(revision),
            form: Set(m.form.clone()),
            snapshot: Set(snapshot),
            submitted_by: Set(p.user.id),
            submitted_at: Set(now),
            ..Default::default()
        })
        .into_query(),
        event_insert(
            p,
            Step {
                id,
                from: status,
                to,
                transition: Transition::Submit,
                comment: label,
            },
            now,
        ),
    ];
    inserts.extend(notifications::notices(
        &city_staff,
        &format!("新的申报待初审：{cluster_name}"),
        &format!(
            "{}于 {} {}了申报，请在初审截止前处理。",
            p.org.name,
            format_local(now),
            label
        ),
        &format!("/reviews/{id}"),
        now,
    ));
    store::insert_together(&txn, inserts).await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "application.submit",
                object_type: "application",
                object_id: id.to_string(),
                summary: format!(
                    "{label}申报（第{revision}版），状态：{} → {}",
                    status.label(),
                    to.label()
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(after)
}

/// The cluster profile and files as they were at submission.
/// The snapshot's text, and the cluster's name (for the city's notification).
fn snapshot(cl: Option<cluster::Model>, files: &[attachment::Model]) -> (String, String) {
    let files: Vec<serde_json::Value> = files
        .iter()
        .map(|a| serde_json::json!({"id": a.id, "purpose": a.purpose, "file_name": a.file_name, "blob_id": a.blob_id}))
        .collect();
    let name = cl.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let text = serde_json::json!({
        "cluster": cl.map(|c| serde_json::json!({
            "name": c.name, "kind": c.kind, "industry_code": c.industry_code,
            "lead_county_code": c.lead_county_code, "core_park": c.core_park})),
        "attachments": files,
    })
    .to_string();
    (text, name)
}

/// One row of a list of applications.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationRow {
    #[schema(value_type = i64)]
    pub id: ApplicationId,
    #[schema(value_type = i64)]
    pub competition_id: CompetitionId,
    pub competition_title: String,
    /// The further requirements of that year's call (its own rules), shown to the applicant.
    pub call_requirements: String,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub org_name: String,
    pub city_code: String,
    pub county_code: String,
    pub county_name: String,
    /// The bound policy's groupings that take in the cluster's city (第十六条: 长株潭), shown
    /// as a tag beside the cluster.
    pub groupings: Vec<String>,
    pub kind: String,
    pub status: String,
    pub status_label: String,
    pub revision: i32,
    pub submitted_at: Option<String>,
    pub submission_deadline: String,
    pub review_deadline: String,
    pub version: i32,
}

pub async fn rows(
    app: &App,
    list: Vec<application::Model>,
) -> Result<Vec<ApplicationRow>, AppError> {
    let comps =
        store::load_by_ids::<competition::Entity>(&app.db, list.iter().map(|m| m.competition_id))
            .await?;
    rows_under(app, list, &comps).await
}

/// One application's row and its assessment, with its call read once (the API's answer to a
/// write reads both).
pub async fn row_and_assessment(
    app: &App,
    m: &application::Model,
) -> Result<(ApplicationRow, Assessment), AppError> {
    let (c, _, a) = assessed(app, m).await?;
    let comps = std::collections::HashMap::from([(c.id, c)]);
    let row = rows_under(app, vec![m.clone()], &comps)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok((row, a))
}

/// [`rows`] under calls already read.
async fn rows_under(
    app: &App,
    list: Vec<application::Model>,
    comps: &std::collections::HashMap<CompetitionId, competition::Model>,
) -> Result<Vec<ApplicationRow>, AppError> {
    let clusters = super::rounds::cluster_names(&app.db, list.iter().map(|m| m.cluster_id)).await?;
    let orgs = super::clusters::org_names(&app.db, list.iter().map(|m| m.org_id)).await?;
    // Each call's bound policy, parsed once for the page.
    let mut policies = std::collections::HashMap::new();
    for c in comps.values() {
        policies.insert(c.id, policy_of(c)?);
    }
    let mut out = Vec::with_capacity(list.len());
    for m in list {
        let status = m.status;
        let comp = comps.get(&m.competition_id);
        let groupings = policies
            .get(&m.competition_id)
            .map(|p| {
                p.groupings_of_city(&m.city_code.to_string())
                    .into_iter()
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        out.push(ApplicationRow {
            id: m.id,
            competition_id: m.competition_id,
            competition_title: comp.map(|c| c.title.clone()).unwrap_or_default(),
            call_requirements: comp
                .map(|c| super::competitions::call_rules_of(c).requirements)
                .unwrap_or_default(),
            cluster_id: m.cluster_id,
            cluster_name: clusters.get(&m.cluster_id).cloned().unwrap_or_default(),
            org_name: orgs.get(&m.org_id).cloned().unwrap_or_default(),
            county_name: jiqun_domain::region::county(m.county_code)
                .map(|c| c.full_name())
                .unwrap_or_default(),
            groupings,
            city_code: m.city_code.to_string(),
            county_code: m.county_code.to_string(),
            kind: m.kind,
            status: status.key().into(),
            status_label: status_label_under(status, policies.get(&m.competition_id).map(|p| &**p)),
            revision: m.revision,
            submitted_at: m.submitted_at.map(format_local),
            submission_deadline: comp
                .map(|c| {
                    format!(
                        "{}（北京时间）",
                        crate::clock::local_minutes(c.submission_deadline)
                    )
                })
                .unwrap_or_default(),
            review_deadline: comp
                .map(|c| {
                    format!(
                        "{}（北京时间）",
                        crate::clock::local_minutes(c.review_deadline)
                    )
                })
                .unwrap_or_default(),
            version: m.version,
        });
    }
    Ok(out)
}

/// The applications the principal may see, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub at: String,
    /// The stored step key (`submit`, `return`, …).
    pub action: String,
    /// The step as people read it (提交, 退回修改, …).
    pub action_label: String,
    pub from_label: String,
    pub to_label: String,
    pub actor: String,
    pub comment: String,
}

/// The application's 办理记录, oldest first: its steps and, for the offices that read them (the
/// county, its city, the province; not the applicant), the county opinions given at the city's
/// review (第十六条).
pub async fn history(
    app: &App,
    p: &Principal,
    m: &application::Model,
) -> Result<Vec<EventView>, AppError> {
    let steps = application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.eq(m.id))
        .order_by_asc(application_event::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|e| {
            (
                e.at,
                EventView {
                    at: format_local(e.at),
                    action_label: Transition::from_key(&e.action)
                        .map(|t| t.label().to_string())
                        .unwrap_or_else(|| e.action.clone()),
                    action: e.action,
                    from_label: e.from_status.label().into(),
                    to_label: e.to_status.label().into(),
                    actor: e.actor_name,
                    comment: e.comment,
                },
            )
        });
    let opinions = super::county_opinions::as_steps(&app.db, p, m).await?;
    let mut all: Vec<(OffsetDateTime, EventView)> = steps.chain(opinions).collect();
    // Stable: a step and an opinion of the same second keep their own order.
    all.sort_by_key(|(at, _)| *at);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}

pub async fn versions(
    app: &App,
    id: ApplicationId,
) -> Result<Vec<application_version::Model>, AppError> {
    Ok(application_version::Entity::find()
        .filter(application_version::Column::ApplicationId.eq(id))
        .order_by_asc(application_version::Column::Revision)
        .all(&app.db)
        .await?)
}

/// What changed between the last two submissions (empty for a first submission).
pub async fn changes_since_last(
    app: &App,
    policy: &Policy,
    id: ApplicationId,
) -> Result<Vec<intake::Change>, AppError> {
    let v = versions(app, id).await?;
    if v.len() < 2 {
        return Ok(vec![]);
    }
    let parse = |m: &application_version::Model| -> FormData {
        serde_json::from_str(&m.form).unwrap_or_default()
    };
    Ok(intake::diff(
        policy,
        &parse(&v[v.len() - 2]),
        &parse(&v[v.len() - 1]),
    ))
}

/// A status as people read it under the call's policy: a recommendation goes to the ministry
/// (the measures' issuer) where the programme's outcome is the ministry's.
pub fn status_label_under(status: Status, policy: Option<&Policy>) -> String {
    use jiqun_rules::policy::ProgrammeOutcome;
    match policy.and_then(|p| p.procedure.as_ref().map(|pr| (pr.outcome, p))) {
        Some((ProgrammeOutcome::Ministry, p)) if status == Status::Recommended => {
            format!("已推荐至{}", p.identity.issuer)
        }
        // The 初审 is the province's where the programme names it.
        Some((_, p))
            if actors_of(p).reviewer == Role::Province
                && matches!(status, Status::Submitted | Status::RejectedByCity) =>
        {
            if status == Status::Submitted {
                "已提交，待省级初审".into()
            } else {
                "省级初审未通过".into()
            }
        }
        _ => status.label().into(),
    }
}

/// The role-specific guard used by other services: the application's applicant (申报主体) —
/// its lead promotion organisation, or the county's department where the call's programme has
/// it apply (only `start` makes a county bureau an application's owner, and only then).
pub fn is_lead_applicant(p: &Principal, m: &application::Model) -> bool {
    matches!(p.role, Role::Applicant | Role::CountyBureau) && m.org_id == p.org.id
}
