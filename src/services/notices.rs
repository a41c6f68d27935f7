//! Public notice (公示) of a round's proposed list (第十条、第十一条): the province publishes it
//! for a window of working days, anyone may file a named objection (异议) within the window, the
//! province registers and decides each one with a written reply, and once the window has closed
//! and every objection is decided it confirms the list.
//!
//! The public side needs no account: its pages and API answer anonymous requests, and an
//! objection is recorded in the audit trail with the objector as the actor.

use jiqun_domain::round::{RoundKind, date_zh};
use jiqun_rules::Policy;
use time::Date;

use crate::attachments::{self, Kind, Limits, Purpose};
use crate::audit::Actor;
use crate::error::AppError;
use crate::store::entity::{competition, round};

/// The longest notice preamble accepted, in characters.
pub const MAX_NOTICE_CHARS: usize = 5_000;
pub const MAX_NAME_CHARS: usize = 50;
pub const MAX_ORG_CHARS: usize = 100;
pub const MAX_CONTACT_CHARS: usize = 100;
pub const MAX_REASON_CHARS: usize = 2_000;
pub const MAX_REPLY_CHARS: usize = 5_000;
/// Evidence filed by the public: smaller than the signed-in limit, since anyone may send it.
pub const PUBLIC_EVIDENCE_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// Evidence may be a PDF or a photo/scan (a stamped objection letter, for instance).
pub const EVIDENCE_KINDS: &[Kind] = &[Kind::Pdf, Kind::Jpeg, Kind::Png];
/// The audit role of a member of the public.
pub const PUBLIC_ROLE: &str = "public";

mod confirm;
mod decisions;
mod objections;
mod public;
mod publish;

pub use confirm::*;
pub use decisions::*;
pub use objections::*;
pub use public::*;
pub use publish::*;

/// The limits of a public evidence upload.
pub fn evidence_limits() -> Limits {
    Limits {
        purpose: Purpose::Evidence,
        max_bytes: attachments::max_upload_bytes().min(PUBLIC_EVIDENCE_MAX_BYTES),
        allowed: EVIDENCE_KINDS,
    }
}

/// The request-body limit of the objection routes: one file at the limit plus the text fields.
pub fn objection_request_limit() -> usize {
    usize::try_from(evidence_limits().max_bytes).unwrap_or(usize::MAX / 2) + 1024 * 1024
}

/// The objector as the audit trail records them: no account, their real name, role "public".
pub fn public_actor(name: &str, organisation: &str, client_addr: &str) -> Actor {
    Actor {
        user_id: None,
        name: name.to_string(),
        role: PUBLIC_ROLE.into(),
        org: organisation.to_string(),
        client_addr: client_addr.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Titles, texts and the window

/// The title a round's winners receive, as the policy words it.
fn title_of(policy: &Policy, kind: RoundKind) -> Result<String, AppError> {
    // A city's own competition (第十六条) confers the city title of its policy.
    if let Some(title) = policy.city_title() {
        return Ok(title.to_string());
    }
    let w = super::policy::wording_of(policy)?;
    Ok(match kind {
        RoundKind::Preliminary => w.cultivation_target_name.clone(),
        RoundKind::Final => w.certified_name.clone(),
    })
}

pub fn notice_title(policy: &Policy, year: i32, kind: RoundKind) -> Result<String, AppError> {
    let what = title_of(policy, kind)?;
    Ok(match kind {
        RoundKind::Preliminary => format!("{year}年{what}拟入选名单公示"),
        RoundKind::Final => format!("{year}年{what}拟认定名单公示"),
    })
}

/// The notice title of a call's round, by the policy the call is bound to.
pub fn notice_title_of(c: &competition::Model, kind: RoundKind) -> Result<String, AppError> {
    notice_title(&*super::competitions::policy_of(c)?, c.year, kind)
}

/// The preamble the publish form starts with.
pub fn default_notice_text(
    policy: &Policy,
    year: i32,
    kind: RoundKind,
) -> Result<String, AppError> {
    let days = policy.public_notice.working_days;
    let what = title_of(policy, kind)?;
    // A city's own competition (第十六条) has no city recommendation and names its own office.
    let city = policy.city_title().is_some();
    let office = match policy
        .organiser
        .as_ref()
        .and_then(|o| o.contact_office.as_ref())
    {
        Some(office) if city => office.clone(),
        _ => super::policy::wording_of(policy)?.contact_office.clone(),
    };
    let steps = if city {
        "经专家评审"
    } else {
        "经市州推荐、专家评审"
    };
    Ok(format!(
        "根据《{name}》（{number}）有关规定，{steps}，{year}年{what}拟入选名单已经产生。\
         为体现公开、公平、公正，现将拟入选名单予以公示，公示期为{days}个工作日。\n\n\
         公示期间，任何单位和个人如有异议，请以真实姓名或单位名义，通过本页面以书面形式提出，\
         写明异议事项、理由和联系方式，并提供必要的证明材料；以单位名义提出的，须上传加盖单位公章的异议书。\
         匿名或逾期提出的异议不予受理。\n\n\
         联系单位：{office}",
        name = policy.identity.name,
        number = policy.identity.document_number,
    ))
}

/// Where a notice window stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    NotStarted,
    Open,
    Closed,
}

impl WindowState {
    pub fn of(today: Date, first: Date, last: Date) -> WindowState {
        if today < first {
            WindowState::NotStarted
        } else if today <= last {
            WindowState::Open
        } else {
            WindowState::Closed
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            WindowState::NotStarted => "not_started",
            WindowState::Open => "open",
            WindowState::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WindowState::NotStarted => "公示期尚未开始",
            WindowState::Open => "公示中",
            WindowState::Closed => "公示期已结束",
        }
    }
}

/// 公示期：2026年11月27日至2026年12月3日（5个工作日）
pub fn period_text(first: Date, last: Date, working_days: u32) -> String {
    format!(
        "{}至{}（{working_days}个工作日）",
        date_zh(first),
        date_zh(last)
    )
}

/// Cluster kind keys to their names, in the policy's order.
fn kind_labels(policy: &Policy) -> Vec<(String, String)> {
    policy
        .cluster_kinds
        .iter()
        .map(|k| (k.key.clone(), k.name.clone()))
        .collect()
}

fn kind_label(kinds: &[(String, String)], key: &str) -> String {
    kinds
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(|| key.to_string(), |(_, n)| n.clone())
}

fn kind_order(kinds: &[(String, String)], key: &str) -> usize {
    kinds
        .iter()
        .position(|(k, _)| k == key)
        .unwrap_or(usize::MAX)
}

/// The window of a published notice as stored.
fn window_of(r: &round::Model) -> Result<(Date, Date, Date), AppError> {
    match (r.notice_published_on, r.notice_first_day, r.notice_last_day) {
        (Some(p), Some(f), Some(l)) => Ok((p, f, l)),
        _ => Err(AppError::NotFound),
    }
}

/// Working days from first to last inclusive, as the window was computed.
fn working_days_of(policy: &Policy) -> u32 {
    policy.public_notice.working_days
}
