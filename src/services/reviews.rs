//! The city bureau's 初审 (第九条): return for revision, reject, or formally recommend to the
//! province — one by one or several at once — with the per-county cap of the policy checked.

use crate::store::id::{ApplicationId, AttachmentId, ClusterId, CompetitionId};
use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::{self as machine, Status, Transition};
use jiqun_domain::county_cap;
use jiqun_rules::policy::QuotaMode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, QueryTrait, Set,
};

use super::applications::{self, Step, competition_of, policy_of, record_event};
use super::extensions::Grants;
use super::{authorize, notifications};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::format_local;
use crate::error::{AppError, FieldError};
use crate::store::{
    self,
    entity::{application, cluster, competition, recommendation},
};
use jiqun_rules::Policy;
use std::sync::Arc;

/// Which divisions the policy's per-county cap counts, for the domain's rule.
pub fn cap_divisions(q: &jiqun_rules::policy::CountyQuota) -> county_cap::Divisions {
    match q.counts() {
        jiqun_rules::policy::CapCounts::All => county_cap::Divisions::All,
        jiqun_rules::policy::CapCounts::Counties => county_cap::Divisions::CountiesOnly,
    }
}

/// Whether the principal does a 初审 (`Ok(true)`): the permission table's reviewer (the city
/// bureau), or the province, which a programme may name for its 初审 (`[procedure]
/// first_review`; each application's own call decides, `load_for_review`). `Ok(false)` for a
/// county bureau, which gives 县级意见 in the city's 初审; anyone else is refused.
pub fn decides_or_comments(p: &Principal) -> Result<bool, AppError> {
    if authorize(p, Resource::Application, Action::Review).is_ok()
        || p.role == jiqun_domain::access::Role::Province
    {
        return Ok(true);
    }
    authorize(p, Resource::Application, Action::Comment).map(|_| false)
}

/// The 初审 as people name it: the city's (市州初审) or the province's (省级初审).
fn first_review_name(reviewer: jiqun_domain::access::Role) -> &'static str {
    if reviewer == jiqun_domain::access::Role::Province {
        "省级初审"
    } else {
        "市州初审"
    }
}

/// Loads an application for the city's review: in scope, before the city review deadline; with
/// its call and the call's policy, read once for the whole request.
async fn load_for_review<C: ConnectionTrait>(
    conn: &C,
    app: &App,
    p: &Principal,
    id: ApplicationId,
    grants: &Grants,
) -> Result<(application::Model, competition::Model, Arc<Policy>), AppError> {
    let m = applications::load(conn, p, id).await?;
    let c = competition_of(conn, &m).await?;
    let policy = policy_of(&c)?;
    // The city reviews in the provincial competition; a programme may name the province.
    let actors = applications::actors_of(&policy);
    if authorize(p, Resource::Application, Action::Review).is_err()
        && actors.grant(p.role, Action::Review).is_none()
    {
        return Err(AppError::Forbidden);
    }
    // 第十六条: a city's own competition has no separate 初审; its round takes the submitted
    // applications.
    if c.organiser_city_code.is_some() {
        return Err(AppError::Conflict(
            "该申报属于市级竞赛：由本市自行组织评审，不另设市州初审，申报将直接进入评审".into(),
        ));
    }
    // The application's own review deadline: an individual extension, else the call's.
    if let Some(until) = grants.closed(&c, super::extensions::STEP_REVIEW, app.clock.now()) {
        return Err(AppError::Conflict(format!(
            "{}已于 {} 截止",
            first_review_name(actors.reviewer),
            format_local(until)
        )));
    }
    Ok((m, c, policy))
}

async fn decide(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    transition: Transition,
    comment: &str,
) -> Result<application::Model, AppError> {
    let comment = comment.trim();
    if transition.needs_reason() && comment.is_empty() {
        let field = if transition == Transition::Return {
            "comment"
        } else {
            "reason"
        };
        let what = if transition == Transition::Return {
            "退回修改意见"
        } else {
            "不予推荐的理由"
        };
        return Err(AppError::invalid(field, format!("请填写{what}")));
    }
    let grants = Grants::of(&app.db, id).await?;
    let txn = store::write_txn(&app.db).await?;
    let (m, _, policy) = load_for_review(&txn, app, p, id, &grants).await?;
    let from = m.status;
    let actors = applications::actors_of(&policy);
    let to = machine::apply_under(from, transition, p.role, actors)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let now = app.clock.now();
    let mut active: application::ActiveModel = m.clone().into();
    active.status = Set(to);
    active.decided_at = Set(Some(now));
    active.version = Set(m.version + 1);
    active.updated_at = Set(now);
    let after = active.update(&txn).await?;
    record_event(
        &txn,
        p,
        Step {
            id,
            from,
            to,
            transition,
            comment,
        },
        now,
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: if transition == Transition::Return {
                    "application.return"
                } else {
                    "application.reject"
                },
                object_type: "application",
                object_id: id.to_string(),
                summary: format!("{}：{} → {}", transition.label(), from.label(), to.label()),
                reason: comment.to_string(),
            },
        )
        .await?;
    let name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&txn)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let (title, body) = if transition == Transition::Return {
        (
            format!("申报被退回修改：{name}"),
            format!(
                "{}退回了您的申报，意见：{comment}。请修改后重新提交。",
                p.org.name
            ),
        )
    } else {
        (
            format!("申报未通过{}：{name}", first_review_name(actors.reviewer)),
            format!("{}的初审意见：{comment}", p.org.name),
        )
    };
    crate::services::notifications::notify_org(
        &txn,
        m.org_id,
        &title,
        &body,
        &format!("/applications/{id}"),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn return_for_revision(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    comment: &str,
) -> Result<application::Model, AppError> {
    decide(app, p, id, Transition::Return, comment).await
}

pub async fn reject(
    app: &App,
    p: &Principal,
    id: ApplicationId,
    reason: &str,
) -> Result<application::Model, AppError> {
    decide(app, p, id, Transition::Reject, reason).await
}

/// How the city vouches for a recommendation.
#[derive(Debug, Clone)]
pub enum Letter {
    /// A signed 推荐函 already uploaded (an attachment of the application, purpose "letter").
    Uploaded(AttachmentId),
    /// Generate the draft in 公文 format, to print, sign and seal.
    Generated,
}

/// Statuses that count against the per-county cap: recommended and onwards, unless dropped.
const COUNTED: [Status; 6] = [
    Status::Recommended,
    Status::InReview,
    Status::Scored,
    Status::Shortlisted,
    Status::OnNotice,
    Status::Confirmed,
];

/// What already counts against a county's cap in a call: its applications recommended and
/// onwards, and its clusters that hold the title; one statement, under the writer's turn.
async fn counted_against<C: ConnectionTrait>(
    conn: &C,
    call: CompetitionId,
    county: &str,
) -> Result<u32, AppError> {
    use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Query};
    let count = |q: sea_orm::sea_query::SelectStatement| Expr::SubQuery(None, Box::new(q.into()));
    let applications = application::Entity::find()
        .select_only()
        .expr(Expr::col(Asterisk).count())
        .filter(application::Column::CompetitionId.eq(call))
        .filter(application::Column::CountyCode.eq(county))
        .filter(application::Column::Status.is_in(COUNTED))
        .into_query();
    let titled = cluster::Entity::find()
        .select_only()
        .expr(Expr::col(Asterisk).count())
        .filter(cluster::Column::LeadCountyCode.eq(county))
        .filter(cluster::Column::Lifecycle.is_in([
            crate::store::entity::kinds::Lifecycle::Cultivation,
            crate::store::entity::kinds::Lifecycle::Certified,
        ]))
        .into_query();
    let both = Query::select()
        .expr_as(count(applications).add(count(titled)), "n")
        .to_owned();
    let n: i64 = match conn.query_one(&both).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Recommends one or more applications. If any county would exceed the policy's cap, nothing
/// is recommended unless a written justification is given (第十六条, the policy's `quota.per_county`).
pub async fn recommend(
    app: &App,
    p: &Principal,
    ids: &[ApplicationId],
    letter: Letter,
    cap_justification: &str,
) -> Result<Vec<application::Model>, AppError> {
    if ids.is_empty() {
        return Err(AppError::invalid("ids", "请至少选择一个申报"));
    }
    let justification = cap_justification.trim();
    // Read before the writer's turn, as an application's cluster and organisation never change:
    // the clusters (their letters and notices name them as they stand when the city recommends),
    // the applicants' staff (the notice goes to those there as it is sent), and the deadline
    // extensions (see `Grants`).
    let clusters: std::collections::HashMap<ClusterId, cluster::Model> = cluster::Entity::find()
        .filter(
            cluster::Column::Id.in_subquery(
                application::Entity::find()
                    .select_only()
                    .column(application::Column::ClusterId)
                    .filter(application::Column::Id.is_in(ids.iter().copied()))
                    .into_query(),
            ),
        )
        .all(&app.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let staff = notifications::applicants_users(&app.db, ids).await?;
    let grants = Grants::of_each(&app.db, ids).await?;
    let no_grants = Grants::default();
    let txn = store::write_txn(&app.db).await?;
    // Two recommendations at once (two tabs, two bulk requests) must not both count the county
    // below its cap, nor recommend the same application twice: one waits for the other.
    store::lock::serialise(&txn, "application.recommend").await?;
    let now = app.clock.now();
    let mut loaded = Vec::new();
    // Each call the batch touches with its policy, read once for the whole request.
    let mut bound: std::collections::BTreeMap<CompetitionId, (competition::Model, Arc<Policy>)> =
        std::collections::BTreeMap::new();
    for &id in ids {
        let grants = grants.get(&id).unwrap_or(&no_grants);
        let (m, c, policy) = load_for_review(&txn, app, p, id, grants).await?;
        let from = m.status;
        let actors = applications::actors_of(&policy);
        if let Err(e) = machine::apply_under(from, Transition::Recommend, p.role, actors) {
            // Name the application that cannot be recommended; the batch writes nothing.
            let name = clusters
                .get(&m.cluster_id)
                .map(|c| c.name.as_str())
                .unwrap_or_default();
            txn.rollback().await?;
            let nothing = if ids.len() > 1 {
                "；所选申报均未推荐"
            } else {
                ""
            };
            return Err(AppError::Conflict(format!("“{name}”：{e}{nothing}")));
        }
        bound.entry(c.id).or_insert((c, policy));
        loaded.push(m);
    }
    // A programme's cap on one call's recommendations (the ministry's yearly number per
    // province), checked first (it is absolute: 对超过报送数量的，一律不予受理) under the same lock as the
    // county cap: a batch that would pass it recommends nothing.
    for (&call, (_, policy)) in &bound {
        let Some(cap) = policy
            .procedure
            .as_ref()
            .and_then(|pr| pr.recommendation.as_ref())
        else {
            continue;
        };
        let adding = loaded.iter().filter(|m| m.competition_id == call).count() as u64;
        let already = application::Entity::find()
            .filter(application::Column::CompetitionId.eq(call))
            .filter(application::Column::Status.is_in(COUNTED))
            .count(&txn)
            .await?;
        if already + adding > u64::from(cap.max) {
            txn.rollback().await?;
            return Err(AppError::Conflict(format!(
                "{}（已推荐{already}个，本次{adding}个）",
                cap.message
            )));
        }
    }
    // The cap, county by county, counting those already recommended and this batch; the
    // counting and the wording are the domain's (`county_cap`).
    let mut counts = Vec::new();
    let county_codes: Vec<String> = loaded.iter().map(|m| m.county_code.to_string()).collect();
    // The caps of the calls in the batch (their policies' own).
    let caps: std::collections::BTreeMap<_, &jiqun_rules::policy::CountyQuota> = bound
        .iter()
        .map(|(&id, (_, policy))| (id, &policy.quota.per_county))
        .collect();
    for (county, adding) in county_cap::batch_by_county(county_codes.iter().map(String::as_str)) {
        let first = loaded
            .iter()
            .find(|m| m.county_code.to_string() == county)
            .ok_or(AppError::NotFound)?;
        let quota = caps.get(&first.competition_id).ok_or(AppError::NotFound)?;
        let (cap, divisions) = (quota.max, cap_divisions(quota));
        // A division the policy does not cap (市辖区 under 县（市）) is not counted.
        if !county_cap::counted(divisions, county) {
            continue;
        }
        let existing = counted_against(&txn, first.competition_id, county).await?;
        counts.push(county_cap::RecommendationCount {
            county: county.to_string(),
            existing,
            adding,
            cap,
        });
    }
    let warnings = county_cap::recommendation_warnings(&counts);
    // The principle and whether exceeding blocks are the bound policy's own (block mode is
    // refused whatever the justification, as at the shortlist).
    let (principle, mode) = caps
        .values()
        .next()
        .map(|q| {
            let mode = match q.mode {
                QuotaMode::Block => county_cap::CapMode::Block,
                QuotaMode::Warn => county_cap::CapMode::Warn,
            };
            (q.message.as_str(), mode)
        })
        .unwrap_or(("", county_cap::CapMode::Warn));
    if let Err(refusal) =
        county_cap::check_recommendation(mode, principle, &warnings, justification)
    {
        txn.rollback().await?;
        return Err(match refusal {
            county_cap::CapRefusal::Blocked(message) => AppError::Conflict(message),
            county_cap::CapRefusal::NeedsReason(message) => AppError::Invalid(vec![FieldError {
                field: "cap_justification".into(),
                message,
            }]),
        });
    }
    let letter_attachment_id = match letter {
        Letter::Uploaded(aid) => {
            // A signed letter belongs to exactly one application.
            let belongs = ids.len() == 1
                && crate::store::entity::attachment::Entity::find_by_id(aid)
                    .one(&txn)
                    .await?
                    .is_some_and(|a| {
                        a.owner_type == "application"
                            && a.owner_id == ids[0].get()
                            && a.purpose == "letter"
                    });
            if !belongs {
                txn.rollback().await?;
                return Err(AppError::invalid(
                    "letter",
                    "推荐函须是为该申报上传的签章推荐函",
                ));
            }
            Some(aid)
        }
        Letter::Generated => None,
    };
    let mut out = Vec::new();
    for m in loaded {
        let from = m.status;
        let to = Status::Recommended;
        let (c, policy) = bound.get(&m.competition_id).ok_or(AppError::NotFound)?;
        let to_whom = recommended_to(policy);
        let cl = clusters.get(&m.cluster_id).ok_or(AppError::NotFound)?;
        let mut active: application::ActiveModel = m.clone().into();
        active.status = Set(to);
        active.decided_at = Set(Some(now));
        active.version = Set(m.version + 1);
        active.updated_at = Set(now);
        let after = active.update(&txn).await?;
        let letter_text = match letter {
            Letter::Generated => letter_draft(app, p, c, policy, cl)?,
            Letter::Uploaded(_) => String::new(),
        };
        // The recommendation, the step on the application's history and the applicant's notice,
        // in one round trip.
        let mut inserts = vec![
            recommendation::Entity::insert(recommendation::ActiveModel {
                application_id: Set(m.id),
                letter_attachment_id: Set(letter_attachment_id),
                letter_text: Set(letter_text),
                cap_justification: Set(if warnings.is_empty() {
                    String::new()
                } else {
                    justification.to_string()
                }),
                recommended_by: Set(p.user.id),
                recommended_at: Set(now),
                ..Default::default()
            })
            .into_query(),
            applications::event_insert(
                p,
                Step {
                    id: m.id,
                    from,
                    to,
                    transition: Transition::Recommend,
                    comment: justification,
                },
                now,
            ),
        ];
        inserts.extend(notifications::notices(
            staff.get(&m.org_id).map(Vec::as_slice).unwrap_or_default(),
            &format!("申报已推荐至{to_whom}：{}", cl.name),
            &format!("{}已正式推荐您的申报。", p.org.name),
            &format!("/applications/{}", m.id),
            now,
        ));
        store::insert_together(&txn, inserts).await?;
        Audit::of(app, p, now)
            .record(
                &txn,
                Event {
                    action: "application.recommend",
                    object_type: "application",
                    object_id: m.id.to_string(),
                    summary: format!(
                        "推荐至{to_whom}（{}）{}",
                        if letter_attachment_id.is_some() {
                            "上传签章推荐函"
                        } else {
                            "生成推荐函草稿"
                        },
                        if warnings.is_empty() {
                            String::new()
                        } else {
                            format!("；突破县域上限：{}", warnings.join("；"))
                        }
                    ),
                    reason: if warnings.is_empty() {
                        String::new()
                    } else {
                        justification.to_string()
                    },
                },
            )
            .await?;
        out.push(after);
    }
    txn.commit().await?;
    Ok(out)
}

/// Whom a recommendation goes to: the province in the provincial competition, the measures'
/// issuer (the ministry) where the programme's outcome is the ministry's.
/// To whom a recommendation under the policy goes: the province, or the ministry that issued a
/// programme whose outcome is its own.
pub fn recommended_to(policy: &jiqun_rules::Policy) -> String {
    use jiqun_rules::policy::ProgrammeOutcome;
    match policy.procedure.as_ref().map(|pr| pr.outcome) {
        Some(ProgrammeOutcome::Ministry) => policy.identity.issuer.clone(),
        _ => "省工信厅".to_string(),
    }
}

/// A draft recommendation letter in 公文 layout (GB/T 9704): issuing office, number, title,
/// addressee, body, date. The bureau prints, signs and seals it.
fn letter_draft(
    app: &App,
    p: &Principal,
    c: &competition::Model,
    policy: &Policy,
    cl: &cluster::Model,
) -> Result<String, AppError> {
    let kind = policy
        .cluster_kind(&cl.kind)
        .map(|k| k.name.clone())
        .unwrap_or_default();
    // The title applied for: the programme's own (a ministry's title) or the province's.
    let programme = match policy.procedure.as_ref().and_then(|pr| pr.title.as_ref()) {
        Some(t) => t.name.clone(),
        None => crate::services::policy::wording_of(policy)?
            .certified_name
            .clone(),
    };
    let today = crate::clock::local(app.clock.now()).date();
    let industry = jiqun_domain::industry::division(&cl.industry_code)
        .map(|d| d.to_string())
        .unwrap_or_else(|| cl.industry_code.clone());
    Ok(format!(
        "{org}\n\n〔　　〕　号\n\n关于推荐{name}申报{year}年{programme}的函\n\n{issuer}：\n\n    根据《{title}》和《{measures}》有关要求，经我局初审，{name}（{kind}，主导产业{industry}，核心承载园区：{park}）申报材料齐全、符合申报条件，现予以推荐。\n\n    申报主体对申报材料的真实性负责，我局已对申报材料进行审核。\n\n    特此函告。\n\n（联系人：{contact}）\n\n{org}\n{y}年{mo}月{d}日\n（盖章）",
        org = p.org.name,
        name = cl.name,
        year = c.year,
        title = c.title,
        programme = programme,
        issuer = policy.identity.issuer,
        measures = policy.identity.name,
        kind = kind,
        industry = industry,
        park = cl.core_park,
        contact = p.user.display_name,
        y = today.year(),
        mo = u8::from(today.month()),
        d = today.day(),
    ))
}

pub async fn recommendation_of(
    app: &App,
    id: ApplicationId,
) -> Result<Option<recommendation::Model>, AppError> {
    Ok(recommendation::Entity::find()
        .filter(recommendation::Column::ApplicationId.eq(id))
        .one(&app.db)
        .await?)
}
