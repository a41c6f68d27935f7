//! Who may read or attach files to an object: each owner type answers by its own scope rules, so
//! an attachment is exactly as visible as the thing it belongs to.

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::Status;
use sea_orm::EntityTrait;

use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::competition;

/// The kinds of object a file can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerType {
    Competition,
    Cluster,
    Application,
    Recommendation,
}

impl OwnerType {
    pub fn key(self) -> &'static str {
        match self {
            OwnerType::Competition => "competition",
            OwnerType::Cluster => "cluster",
            OwnerType::Application => "application",
            OwnerType::Recommendation => "recommendation",
        }
    }

    pub fn from_key(key: &str) -> Option<OwnerType> {
        [
            OwnerType::Competition,
            OwnerType::Cluster,
            OwnerType::Application,
            OwnerType::Recommendation,
        ]
        .into_iter()
        .find(|o| o.key() == key)
    }
}

/// Ok when the principal may see the owner (and so its files); NotFound otherwise.
pub async fn can_read(
    app: &App,
    p: &Principal,
    owner: OwnerType,
    owner_id: i64,
) -> Result<(), AppError> {
    match owner {
        OwnerType::Application => {
            super::applications::load(&app.db, p, owner_id).await?;
            Ok(())
        }
        OwnerType::Competition => {
            super::authorize(p, Resource::Competition, Action::View)
                .map_err(|_| AppError::NotFound)?;
            competition::Entity::find_by_id(owner_id)
                .one(&app.db)
                .await?
                .map(|_| ())
                .ok_or(AppError::NotFound)
        }
        OwnerType::Cluster => {
            // The cluster service's own scope rule decides.
            super::clusters::load_visible(&app.db, p, owner_id).await?;
            Ok(())
        }
        OwnerType::Recommendation => Err(AppError::NotFound),
    }
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
            let m = super::applications::load(&app.db, p, owner_id).await?;
            if !super::applications::is_lead_applicant(p, &m) {
                return Err(AppError::Forbidden);
            }
            let status = super::applications::status_of(&m)?;
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
            let m = super::applications::load(&app.db, p, owner_id).await?;
            super::authorize(p, Resource::Application, Action::Review)?;
            if super::applications::status_of(&m)? != Status::Submitted {
                return Err(AppError::Conflict("只能为待初审的申报上传推荐函".into()));
            }
            Ok(())
        }
        (OwnerType::Competition, "notice") => {
            super::authorize(p, Resource::Competition, Action::Update)?;
            competition::Entity::find_by_id(owner_id)
                .one(&app.db)
                .await?
                .map(|_| ())
                .ok_or(AppError::NotFound)
        }
        _ => Err(AppError::Forbidden),
    }
}

/// Evidence filed with a public objection is stored under this owner type. It is not an
/// [`OwnerType`] yet: the generic attachment routes answer 404 for it, and the province reads
/// it through the objection pages ([`can_read_objection`]).
pub const OBJECTION_OWNER: &str = "objection";

/// Ok when the principal may read an objection and its evidence (the province); NotFound for
/// anyone else, so the objector's files never show through another route.
pub async fn can_read_objection(
    app: &App,
    p: &Principal,
    objection_id: i64,
) -> Result<(), AppError> {
    super::authorize(p, Resource::Objection, Action::View).map_err(|_| AppError::NotFound)?;
    crate::store::entity::objection::Entity::find_by_id(objection_id)
        .one(&app.db)
        .await?
        .map(|_| ())
        .ok_or(AppError::NotFound)
}
