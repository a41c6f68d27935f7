//! Business operations shared by the pages, the JSON API and the command line. Each one checks
//! the permission table and the caller's data scope, and writes its audit entry in the same
//! transaction as the change.

pub mod applications;
pub mod calendar;
pub mod clusters;
pub mod competitions;
pub mod designations;
pub mod experts;
pub mod notices;
pub mod notifications;
pub mod orgs;
pub mod owners;
pub mod policy;
pub mod ranking;
pub mod reviews;
pub mod rounds;
pub mod scoring;
pub mod users;

use jiqun_domain::access::{Action, Resource, ScopeKind, permission};

use crate::app::Principal;
use crate::error::AppError;

/// The scope the principal has for an action, or 403.
pub fn authorize(p: &Principal, resource: Resource, action: Action) -> Result<ScopeKind, AppError> {
    permission(p.role, resource, action).ok_or(AppError::Forbidden)
}

pub fn trimmed(s: &str) -> String {
    s.trim().to_string()
}

/// Optimistic concurrency: an update filtered by the version the editor saw changed no row, so
/// someone else saved first. Returning the error drops the caller's transaction, which rolls it back.
pub fn saved(result: &sea_orm::UpdateResult) -> Result<(), AppError> {
    if result.rows_affected == 0 {
        Err(AppError::StaleVersion)
    } else {
        Ok(())
    }
}
