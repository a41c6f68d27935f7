//! Who may read or attach files to an object: each owner type answers by its own scope rules, so
//! an attachment is exactly as visible as the thing it belongs to.

use crate::store::id::{
    ApplicationId, ChangeRequestId, ClusterId, CompetitionId, EntryId, FinalMaterialsId,
    ObjectionId, ReportId, RevocationCaseId,
};
use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::Status;
use jiqun_domain::review::{ScoringWindow, Window};
use sea_orm::EntityTrait;

use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::competition;

// The owner kinds are plain data in the domain crate, so the attachment store, the scoring
// pages and this module name them without importing one another.
pub use jiqun_domain::attachment::OwnerType;

/// Ok when the principal may see the owner (and so its files); NotFound otherwise.
pub async fn can_read(
    app: &App,
    p: &Principal,
    owner: OwnerType,
    owner_id: i64,
) -> Result<(), AppError> {
    match owner {
        OwnerType::Application if p.role == jiqun_domain::access::Role::Expert => {
            expert_reads_application(app, p, ApplicationId::new(owner_id)).await
        }
        OwnerType::Application => {
            super::applications::load(&app.db, p, ApplicationId::new(owner_id)).await?;
            Ok(())
        }
        OwnerType::Competition => {
            super::authorize(p, Resource::Competition, Action::View)
                .map_err(|_| AppError::NotFound)?;
            competition::Entity::find_by_id(CompetitionId::new(owner_id))
                .one(&app.db)
                .await?
                .filter(|c| super::organisers::visible(p, c))
                .map(|_| ())
                .ok_or(AppError::NotFound)
        }
        OwnerType::Cluster => {
            // The cluster service's own scope rule decides.
            super::clusters::load_visible(&app.db, p, ClusterId::new(owner_id)).await?;
            Ok(())
        }
        OwnerType::Recommendation => Err(AppError::NotFound),
        OwnerType::Objection => can_read_objection(app, p, ObjectionId::new(owner_id)).await,
        OwnerType::Report => {
            super::reports::load(&app.db, p, ReportId::new(owner_id)).await?;
            Ok(())
        }
        OwnerType::RevocationCase | OwnerType::RevocationResponse => {
            super::revocation::can_read(app, p, RevocationCaseId::new(owner_id)).await
        }
        OwnerType::ChangeRequest => {
            super::changes::can_read(app, p, ChangeRequestId::new(owner_id)).await
        }
        OwnerType::FinalMaterials => {
            super::finals::can_read(app, p, FinalMaterialsId::new(owner_id)).await
        }
        OwnerType::Recheck => {
            super::recheck::can_read(app, p, crate::store::id::RecheckId::new(owner_id)).await
        }
        OwnerType::RecheckObjection => {
            super::recheck::can_read_objection(
                app,
                p,
                crate::store::id::RecheckObjectionId::new(owner_id),
            )
            .await
        }
    }
}

/// An expert reads an application's files only while judging it: an assignment of theirs that
/// stands (not recused) in a round whose scoring window is open.
pub(crate) async fn expert_reads_application(
    app: &App,
    p: &Principal,
    application_id: ApplicationId,
) -> Result<(), AppError> {
    use crate::store::entity::{assignment, round, round_entry};
    use sea_orm::{ColumnTrait, QueryFilter};
    let me = super::experts::of_user(&app.db, p.user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entries: Vec<EntryId> = round_entry::Entity::find()
        .filter(round_entry::Column::ApplicationId.eq(application_id))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    let mine = assignment::Entity::find()
        .filter(assignment::Column::ExpertId.eq(me.id))
        .filter(assignment::Column::RecusedAt.is_null())
        .filter(assignment::Column::EntryId.is_in(entries))
        .all(&app.db)
        .await?;
    let now = app.clock.now();
    for a in mine {
        if let Some(r) = round::Entity::find_by_id(a.round_id).one(&app.db).await? {
            let window = ScoringWindow {
                status: r.status,
                opens: r.scoring_opens_at,
                closes: r.scoring_closes_at,
            };
            if window.at(now) == Window::Open {
                return Ok(());
            }
        }
    }
    Err(AppError::NotFound)
}

/// Ok when the principal may attach a file with this purpose to the owner now.
pub async fn can_attach(
    app: &App,
    p: &Principal,
    owner: OwnerType,
    owner_id: i64,
    purpose: &str,
) -> Result<(), AppError> {
    match (owner, purpose) {
        (OwnerType::Application, "report" | "pledge" | "evidence") => {
            let m = super::applications::load(&app.db, p, ApplicationId::new(owner_id)).await?;
            if !super::applications::is_lead_applicant(p, &m) {
                return Err(AppError::Forbidden);
            }
            let status = m.status;
            if !status.editable_by_applicant() {
                return Err(AppError::Conflict(format!(
                    "申报当前状态为“{}”，不能再上传材料",
                    status.label()
                )));
            }
            Ok(())
        }
        // The signed 推荐函 is uploaded by the city bureau while it reviews.
        (OwnerType::Application, "letter") => {
            let m = super::applications::load(&app.db, p, ApplicationId::new(owner_id)).await?;
            super::authorize(p, Resource::Application, Action::Review)?;
            if m.status != Status::Submitted {
                return Err(AppError::Conflict("只能为待初审的申报上传推荐函".into()));
            }
            Ok(())
        }
        // 第十三条: the cluster's own organisation attaches the signed report and its evidence
        // while the report is its to change.
        (OwnerType::Report, "report" | "evidence") => {
            let m = super::reports::load(&app.db, p, ReportId::new(owner_id)).await?;
            super::authorize(p, Resource::Report, Action::Update)?;
            if m.org_id != p.org.id {
                return Err(AppError::Forbidden);
            }
            if !m.status.editable() {
                return Err(AppError::Conflict(format!(
                    "报告当前状态为“{}”，不能再上传材料",
                    m.status.label()
                )));
            }
            Ok(())
        }
        (OwnerType::Competition, "notice") => {
            super::authorize(p, Resource::Competition, Action::Update)?;
            let c = competition::Entity::find_by_id(CompetitionId::new(owner_id))
                .one(&app.db)
                .await?
                .ok_or(AppError::NotFound)?;
            super::organisers::check_run(p, &c)
        }
        // The province's evidence before the 告知书; the cluster's files with its statement.
        (OwnerType::RevocationCase | OwnerType::RevocationResponse, "evidence") => {
            super::revocation::can_attach(app, p, owner, RevocationCaseId::new(owner_id)).await
        }
        // 变更申请: the cluster's evidence, before its city gives an opinion.
        (OwnerType::ChangeRequest, "evidence") => {
            super::changes::can_attach(app, p, ChangeRequestId::new(owner_id)).await
        }
        // 决赛申报材料: the finalist's evidence, before submission and the deadline.
        (OwnerType::FinalMaterials, "evidence") => {
            super::finals::can_attach(app, p, FinalMaterialsId::new(owner_id)).await
        }
        // 复核: the cluster's evidence, while its materials may still be saved.
        (OwnerType::Recheck, "evidence") => {
            super::recheck::can_attach(app, p, crate::store::id::RecheckId::new(owner_id)).await
        }
        _ => Err(AppError::Forbidden),
    }
}

/// Ok when the principal may read an objection and its evidence (the province); NotFound for
/// anyone else, so the objector's files never show through another route.
pub async fn can_read_objection(
    app: &App,
    p: &Principal,
    objection_id: ObjectionId,
) -> Result<(), AppError> {
    super::authorize(p, Resource::Objection, Action::View).map_err(|_| AppError::NotFound)?;
    let o = crate::store::entity::objection::Entity::find_by_id(objection_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    // An objection to another organiser's round is "not found", as for anyone else.
    super::rounds::load(&app.db, p, o.round_id)
        .await
        .map_err(|e| match e {
            AppError::Forbidden => AppError::NotFound,
            e => e,
        })?;
    Ok(())
}
