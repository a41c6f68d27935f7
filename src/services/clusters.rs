//! Cluster profiles (第五条): a promotion organisation keeps the clusters it applies for — name,
//! kind, leading industry, the counties it spans, its core park, its member enterprises and, for
//! a joint application, the co-applicant organisations. Applications (第八条) read them from here.
//!
//! The routing city of a cluster is always its lead applicant's city, also when a joint
//! application spans several cities (第八条: 跨行政区的集群由其申报主体所在市州受理).

use crate::store::id::{ClusterId, OrgId};
use jiqun_domain::access::{Action, Resource, ScopeKind, permission};
use jiqun_domain::region;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::authorize;
use crate::app::Principal;
use crate::error::AppError;
use crate::store::entity::{cluster, cluster_co_applicant};

// The member sheet's rules (file checks, columns, row checks) are the domain's.
pub use jiqun_domain::member_sheet::{
    CODE_COLUMN, CellText, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, NAME_COLUMN, SheetRow, ValidMember,
};
/// Name of the data sheet in the import template.
pub const TEMPLATE_SHEET: &str = "成员企业";

const MAX_NAME: usize = 100;
const MAX_PARK: usize = 100;

mod history;
mod import;
mod input;
mod members;
mod profiles;
mod views;

pub use history::*;
pub use import::*;
pub use input::*;
pub use members::*;
pub use profiles::*;
pub use views::*;

// ---------------------------------------------------------------------------------------------
// Scope
// ---------------------------------------------------------------------------------------------

async fn is_co_applicant<C: ConnectionTrait>(
    db: &C,
    cluster_id: ClusterId,
    org_id: OrgId,
) -> Result<bool, DbErr> {
    Ok(cluster_co_applicant::Entity::find()
        .filter(cluster_co_applicant::Column::ClusterId.eq(cluster_id))
        .filter(cluster_co_applicant::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .is_some())
}

/// How the principal stands to the cluster, or `None` when it is outside the principal's scope.
async fn relation_to<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    m: &cluster::Model,
) -> Result<Option<Relation>, DbErr> {
    let Some(scope) = permission(p.role, Resource::Cluster, Action::View) else {
        return Ok(None);
    };
    Ok(match scope {
        ScopeKind::OwnOrg if m.org_id == p.org.id => Some(Relation::Lead),
        ScopeKind::OwnOrg => is_co_applicant(db, m.id, p.org.id)
            .await?
            .then_some(Relation::CoApplicant),
        ScopeKind::OwnCity => p
            .org
            .city_code
            .is_some_and(|c| c == m.city_code)
            .then_some(Relation::Oversight),
        ScopeKind::OwnCounty => {
            super::county_reaches(p, m.lead_county_code).then_some(Relation::Oversight)
        }
        ScopeKind::All => Some(Relation::Oversight),
        ScopeKind::OwnAccount => None,
    })
}

/// A cluster the principal may see (and so its files), or "not found".
pub async fn load_visible<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: ClusterId,
) -> Result<cluster::Model, AppError> {
    Ok(load_scoped(db, p, id, Action::View).await?.0)
}

/// Loads a cluster the principal may see; anything else is "not found", so existence is not
/// revealed. For `Action::Update` the principal's organisation must also be the lead applicant:
/// a co-applicant or an overseeing bureau sees the cluster but is refused (403).
async fn load_scoped<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: ClusterId,
    action: Action,
) -> Result<(cluster::Model, Relation), AppError> {
    let m = cluster::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let relation = relation_to(db, p, &m).await?.ok_or(AppError::NotFound)?;
    if action != Action::View {
        authorize(p, Resource::Cluster, action)?;
        if relation != Relation::Lead {
            return Err(AppError::Forbidden);
        }
    }
    Ok((m, relation))
}

/// The lead applicant for clusters the principal creates or edits: its own organisation.
fn lead_of(p: &Principal) -> Result<Lead, AppError> {
    let city = p
        .org
        .city_code
        .filter(|c| region::city(*c).is_some())
        .ok_or_else(|| {
            AppError::Conflict(
                "本单位尚未登记所在市州，请先在“本单位信息”中补充后再填写集群信息".into(),
            )
        })?;
    Ok(Lead {
        org_id: p.org.id,
        city,
    })
}
