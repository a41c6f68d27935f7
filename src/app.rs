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
    /// Where this server last moved the audit chain's head (see `crate::audit::LastHead`).
    pub audit_head: crate::audit::LastHead,
    /// Seals the TOTP secrets at rest (`secrets.key`, kept beside the audit key).
    pub seal_key: crate::auth::sealed::SealKey,
    pub clock: Arc<Clock>,
    /// Where attachment contents live: the data folder or an S3-compatible bucket.
    pub blobs: crate::blob_store::BlobStore,
    /// Rendered public notice pages.
    pub public_pages: crate::page_cache::PageCache,
    /// Rankings computed once per state of their round.
    pub rankings: crate::services::ranking::RankingCache,
    /// Filed reports' figures, read once per report version.
    pub report_figures: crate::services::reports::FiguresCache,
    /// Dashboards kept while what they are made of is unchanged.
    pub dashboards: crate::services::dashboard::DashboardCache,
    /// Where this server reads whether the database changed since a read was kept.
    pub stamps: crate::store::stamp::Stamps,
    /// Sessions and pages kept while the database is unchanged.
    pub reads: crate::web::kept::Reads,
}

pub type Shared = Arc<App>;

impl App {
    pub fn lockout(&self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.config.security.lockout_threshold,
            lock_minutes: self.config.security.lockout_minutes,
        }
    }

    /// Failed sign-in steps per client address (`JIQUN_LOGIN_ADDRESS_LIMIT` per
    /// `JIQUN_LOGIN_ADDRESS_WINDOW_MINUTES`).
    pub fn sign_in_limit(&self) -> crate::throttle::Limit {
        crate::throttle::Limit {
            bucket: crate::throttle::SIGN_IN,
            max: self.config.security.login_address_limit,
            window: time::Duration::minutes(i64::from(
                self.config.security.login_address_window_minutes,
            )),
        }
    }

    /// Whether a role must sign in with a second factor: the privileged roles always (等保),
    /// experts when the installation says so (`JIQUN_EXPERT_SECOND_FACTOR`).
    pub fn second_factor_required(&self, role: Role) -> bool {
        role.requires_second_factor()
            || (role == Role::Expert && self.config.security.expert_second_factor)
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
