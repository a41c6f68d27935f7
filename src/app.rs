//! The running application: shared state and the acting principal.

use std::sync::Arc;

use jiqun_domain::access::Role;
use jiqun_domain::audit::AuditKey;
use jiqun_domain::security::LockoutPolicy;
use sea_orm::DatabaseConnection;

use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::Config;
use crate::store::entity::{organisation, user};

pub struct App {
    pub db: DatabaseConnection,
    pub config: Config,
    pub audit_key: AuditKey,
    /// Seals the TOTP secrets at rest (`secrets.key`, kept beside the audit key).
    pub seal_key: crate::auth::sealed::SealKey,
    pub clock: Arc<Clock>,
    /// Rendered public notice pages.
    pub public_pages: crate::page_cache::PageCache,
}

pub type Shared = Arc<App>;

impl App {
    pub fn lockout(&self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.config.security.lockout_threshold,
            lock_minutes: self.config.security.lockout_minutes,
        }
    }
}

/// A signed-in user acting through a page, the API or the command line.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: user::Model,
    pub org: organisation::Model,
    pub role: Role,
    pub client_addr: String,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user, self.org.name.clone(), &self.client_addr)
    }
}
