//! Who may read or attach files to an object: each owner type answers by its own scope rules, so
//! an attachment is exactly as visible as the thing it belongs to.

use crate::app::{App, Principal};
use crate::error::AppError;

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
    _app: &App,
    _p: &Principal,
    _owner: OwnerType,
    _owner_id: i64,
) -> Result<(), AppError> {
    Err(AppError::NotFound)
}

/// Ok when the principal may attach a file with this purpose to the owner now.
pub async fn can_attach(
    _app: &App,
    _p: &Principal,
    _owner: OwnerType,
    _owner_id: i64,
    _purpose: &str,
) -> Result<(), AppError> {
    Err(AppError::Forbidden)
}
