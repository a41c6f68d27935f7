//! Policies (`policies/*.toml` format) installed in the database: the files shipped with the
//! binary are installed at start-up, the system administrator installs others (a successor to
//! the expired Measures, 第十八条) without a rebuild; which one is in force; which calls are bound
//! to each; and checking a policy file an administrator is preparing.

use crate::store::id::{CompetitionId, PolicyId};
use std::collections::BTreeMap;

use jiqun_domain::access::{Action, Resource};
use jiqun_rules::policy::{
    BUILTIN_POLICY_SOURCES, PROGRAMME_POLICY_SOURCES, builtin_policies, policy_in_force,
};
use jiqun_rules::{Policy, PolicyError, PolicyErrors};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::authorize;
use crate::app::{App, Principal};
use crate::audit::{Actor, Audit, Event};
use crate::clock::day_for_people;
use crate::error::{AppError, FieldError};
use crate::store::{
    self,
    entity::{competition, policy},
};

/// Whether the policy shown is the one in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    InForce,
    /// No policy is in force; this is the latest one, which ended on `ended` (inclusive).
    Expired {
        ended: Date,
    },
    /// No policy is in force yet; this one starts on `starts`.
    NotYetInForce {
        starts: Date,
    },
}

/// The policy to show for a date, and whether it is in force.
#[derive(Debug, Clone)]
pub struct Current {
    pub policy: Policy,
    pub standing: Standing,
}

impl Current {
    /// "2021年4月7日至2026年4月6日" or "2021年4月7日起长期有效".
    pub fn validity(&self) -> String {
        validity(&self.policy)
    }

    /// A Chinese sentence on the standing, for the CLI and the page; empty when in force.
    pub fn warning(&self, today: Date) -> String {
        let p = &self.policy;
        match self.standing {
            Standing::InForce => String::new(),
            Standing::Expired { ended } => format!(
                "注意：今天（{}）没有有效的政策规则。以下是最近的一版《{}》（{}），\
                 有效期{}，已于{}到期失效。新的竞赛不应再绑定此版本，请按新发布的管理办法更新政策规则文件。",
                day_for_people(today),
                p.identity.name,
                p.identity.document_number,
                validity(p),
                day_for_people(ended)
            ),
            Standing::NotYetInForce { starts } => format!(
                "注意：今天（{}）没有有效的政策规则。以下《{}》（{}）自{}起施行，尚未生效。",
                day_for_people(today),
                p.identity.name,
                p.identity.document_number,
                day_for_people(starts)
            ),
        }
    }
}

/// The validity for people: "2021年4月7日至2026年4月6日" or "2021年4月7日起长期有效".
pub fn validity(p: &Policy) -> String {
    let from = day_for_people(p.identity.effective_from);
    match p.effective_to() {
        Some(to) => format!("{from}至{}", day_for_people(to)),
        None => format!("{from}起长期有效"),
    }
}

/// Picks the policy to show on `today`: the one in force; otherwise the latest that has ended;
/// otherwise the earliest that has yet to start. `None` only for an empty list. Only the
/// installation's own programme counts (a policy whose result is another body's, such as the
/// ministry's national programme, is offered to calls but never the current policy).
pub fn pick(policies: &[Policy], today: Date) -> Option<Current> {
    let own: Vec<Policy> = policies
        .iter()
        .filter(|p| p.designates_by_rounds())
        .cloned()
        .collect();
    let policies = own.as_slice();
    if let Some(p) = policy_in_force(policies, today) {
        return Some(Current {
            policy: p.clone(),
            standing: Standing::InForce,
        });
    }
    let ended = policies
        .iter()
        .filter_map(|p| p.effective_to().filter(|to| *to < today).map(|to| (p, to)))
        .max_by_key(|(p, to)| (*to, p.identity.effective_from));
    if let Some((p, to)) = ended {
        return Some(Current {
            policy: p.clone(),
            standing: Standing::Expired { ended: to },
        });
    }
    policies
        .iter()
        .filter(|p| p.identity.effective_from > today)
        .min_by_key(|p| p.identity.effective_from)
        .map(|p| Current {
            policy: p.clone(),
            standing: Standing::NotYetInForce {
                starts: p.identity.effective_from,
            },
        })
}

/// The built-in policies; a failure means the binary was built with a broken policy file.
fn builtin() -> Result<Vec<Policy>, AppError> {
    builtin_policies().map_err(|e| AppError::internal(format!("built-in policy: {e}")))
}

/// The policy for `today` among the built-in ones (the CLI calls this; no permission needed).
pub fn current_on(today: Date) -> Result<Current, AppError> {
    pick(&builtin()?, today).ok_or_else(|| AppError::Internal("no built-in policy".into()))
}

/// The policy for today among the installed ones, for a signed-in user allowed to read the
/// policy.
pub async fn current(app: &App, p: &Principal) -> Result<Current, AppError> {
    authorize(p, Resource::Policy, Action::View)?;
    current_installed(app).await
}

/// The policy for today among the installed ones (the newest version of each id).
pub async fn current_installed(app: &App) -> Result<Current, AppError> {
    let policies: Vec<Policy> = offered(&app.db)
        .await?
        .into_iter()
        .map(|b| b.policy)
        .collect();
    pick(&policies, super::calendar::today(app))
        .ok_or_else(|| AppError::Internal("no installed policy".into()))
}

/// The 1-based line of a key path such as `criteria[2].max_score` in a TOML text, so a person
/// can jump to it. `None` when the path cannot be found (e.g. a missing key): the nearest
/// existing ancestor is used when there is one.
pub fn line_of_key_path(text: &str, key_path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};

    let root = DeTable::parse(text).ok()?;
    let mut best: Option<usize> = None;
    let mut table = Some(root.get_ref());
    let mut value: Option<&DeValue> = None;
    for segment in key_path.split('.') {
        let (name, indices) = match segment.find('[') {
            Some(i) => segment.split_at(i),
            None => (segment, ""),
        };
        if !name.is_empty() {
            let current = match (table, value) {
                (Some(t), _) => t,
                (None, Some(DeValue::Table(t))) => t,
                _ => break,
            };
            let Some((key, v)) = current.iter().find(|(k, _)| *k.get_ref() == name) else {
                break;
            };
            best = Some(line_at(text, key.span().start));
            value = Some(v.get_ref());
            table = None;
        }
        let mut ok = true;
        for index in indices
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .map(str::parse::<usize>)
        {
            let (Ok(index), Some(DeValue::Array(items))) = (index, value) else {
                ok = false;
                break;
            };
            let Some(item) = items.get(index) else {
                ok = false;
                break;
            };
            best = Some(line_at(text, item.span().start));
            value = Some(item.get_ref());
        }
        if !ok {
            break;
        }
    }
    best
}

fn line_at(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |head| head.matches('\n').count() + 1)
}

/// One problem as `文件:行 键路径：原因` (the line from the error, or found from the key path).
pub fn format_error(text: &str, e: &PolicyError) -> String {
    let line = e
        .line
        .or_else(|| (!e.key_path.is_empty()).then(|| line_of_key_path(text, &e.key_path))?);
    let place = match line {
        Some(line) => format!("{}:{line}", e.file),
        None => e.file.clone(),
    };
    if e.key_path.is_empty() {
        format!("{place}：{}", e.reason)
    } else {
        format!("{place} {}：{}", e.key_path, e.reason)
    }
}

/// Checks a policy text (`origin` names it in messages): the policy, or every problem formatted.
pub fn check(text: &str, origin: &str) -> Result<Policy, Vec<String>> {
    Policy::parse(text, origin).map_err(|PolicyErrors(list)| {
        list.iter()
            .map(|e| format_error(text, e))
            .collect::<Vec<_>>()
    })
}

/// SM3 of a policy text, lowercase hex: how an installed text and a call's binding are named.
pub fn sm3_hex(text: &str) -> String {
    use sm3::{Digest, Sm3};
    hex::encode(Sm3::digest(text.as_bytes()))
}

pub const ORIGIN_BUILTIN: &str = "builtin";
pub const ORIGIN_UPLOAD: &str = "upload";

fn origin_label(origin: &str) -> &'static str {
    match origin {
        ORIGIN_BUILTIN => "系统内置",
        ORIGIN_UPLOAD => "管理员安装",
        _ => "升级时由已有竞赛导入",
    }
}

/// An installed policy text, parsed, with the exact text a call is bound to.
#[derive(Debug, Clone)]
pub struct BoundPolicy {
    pub policy: Policy,
    pub source: String,
    pub sm3: String,
}

/// Every installed text that parses. A text that no longer parses (a format this binary no
/// longer reads) is skipped with a log line rather than failing every page.
async fn installed<C: ConnectionTrait>(conn: &C) -> Result<Vec<(policy::Model, Policy)>, AppError> {
    let rows = policy::Entity::find()
        .order_by_asc(policy::Column::Id)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            let origin = format!("已安装的政策{}（{}）", m.key, m.version);
            match Policy::parse(&m.source, &origin) {
                Ok(p) => Some((m, p)),
                Err(e) => {
                    tracing::warn!(policy = m.id.get(), "installed policy does not parse: {e}");
                    None
                }
            }
        })
        .collect())
}

/// The texts offered to a new call: for each policy id, its highest installed version (the
/// latest installed among equal versions).
pub async fn offered<C: ConnectionTrait>(conn: &C) -> Result<Vec<BoundPolicy>, AppError> {
    let mut by_key: BTreeMap<String, (policy::Model, Policy)> = BTreeMap::new();
    for (m, p) in installed(conn).await? {
        let newer = by_key
            .get(&m.key)
            .is_none_or(|(best, _)| (m.version, m.id) > (best.version, best.id));
        if newer {
            by_key.insert(m.key.clone(), (m, p));
        }
    }
    Ok(by_key
        .into_values()
        .map(|(m, policy)| BoundPolicy {
            policy,
            source: m.source,
            sm3: m.sm3,
        })
        .collect())
}

/// The wording a policy prints; a text lacking it takes the shipped file's (see
/// `Policy::wording`).
pub fn wording_of(p: &Policy) -> Result<&jiqun_rules::policy::Wording, AppError> {
    p.wording()
        .ok_or_else(|| AppError::internal(format!("policy {} has no [wording]", p.id())))
}

/// The certificate number prefixes a policy gives each title.
pub fn prefixes_of(p: &Policy) -> Result<jiqun_domain::round::CertificatePrefixes, AppError> {
    let w = wording_of(p)?;
    Ok(jiqun_domain::round::CertificatePrefixes {
        cultivation_target: w.cultivation_target_certificate_prefix.clone(),
        certified: w.certified_certificate_prefix.clone(),
    })
}

/// The certificate prefixes of every installed policy (newest first), so a number issued
/// under any of them is read back.
pub async fn all_prefixes<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<jiqun_domain::round::CertificatePrefixes>, AppError> {
    let mut out: Vec<jiqun_domain::round::CertificatePrefixes> = Vec::new();
    for (_, p) in installed(conn).await?.iter().rev() {
        let prefixes = prefixes_of(p)?;
        if !out.contains(&prefixes) {
            out.push(prefixes);
        }
    }
    Ok(out)
}

/// A call bound to an installed policy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BoundCall {
    #[schema(value_type = i64)]
    pub id: CompetitionId,
    pub year: i32,
    pub title: String,
}

/// An installed policy as the page, the API and `jiqun policy show` list it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstalledView {
    #[schema(value_type = i64)]
    pub id: PolicyId,
    /// `identity.id`, e.g. "hunan-2021".
    pub key: String,
    pub version: i32,
    pub sm3: String,
    pub name: String,
    pub document_number: String,
    /// "2021年4月7日至2026年4月6日"
    pub validity: String,
    /// 现行有效 | 已失效 | 尚未施行
    pub standing: String,
    pub in_force: bool,
    /// Offered to new calls (the highest version of its id).
    pub offered: bool,
    /// 系统内置 | 管理员安装 | 升级时由已有竞赛导入
    pub origin: String,
    pub installed_by: String,
    /// Beijing time, "2026年12月6日 16:40"
    pub installed_at: String,
    pub competitions: Vec<BoundCall>,
}

fn standing_label(p: &Policy, today: Date) -> (&'static str, bool) {
    if p.is_in_force(today) {
        ("现行有效", true)
    } else if p.identity.effective_from > today {
        ("尚未施行", false)
    } else {
        ("已失效", false)
    }
}

async fn views<C: ConnectionTrait>(conn: &C, today: Date) -> Result<Vec<InstalledView>, AppError> {
    let all = installed(conn).await?;
    let offered: Vec<String> = offered(conn).await?.into_iter().map(|b| b.sm3).collect();
    // Calls are few (one a year); each is matched by the hash of the exact text it stores.
    let calls = competition::Entity::find()
        .order_by_asc(competition::Column::Year)
        .order_by_asc(competition::Column::Id)
        .all(conn)
        .await?;
    let mut bound: BTreeMap<String, Vec<BoundCall>> = BTreeMap::new();
    for c in calls {
        let hash = c
            .policy_hash
            .clone()
            .unwrap_or_else(|| sm3_hex(&c.policy_source));
        bound.entry(hash).or_default().push(BoundCall {
            id: c.id,
            year: c.year,
            title: c.title,
        });
    }
    let mut out: Vec<InstalledView> = all
        .into_iter()
        .map(|(m, p)| {
            let (standing, in_force) = standing_label(&p, today);
            InstalledView {
                id: m.id,
                key: m.key,
                version: m.version,
                name: p.identity.name.clone(),
                document_number: p.identity.document_number.clone(),
                validity: validity(&p),
                standing: standing.into(),
                in_force,
                offered: offered.contains(&m.sm3),
                origin: origin_label(&m.origin).into(),
                installed_by: m.installed_by,
                installed_at: crate::clock::format_local(m.installed_at),
                competitions: bound.remove(&m.sm3).unwrap_or_default(),
                sm3: m.sm3,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.key, b.version, b.id).cmp(&(&b.key, a.version, a.id)));
    Ok(out)
}

/// The installed policies, for a signed-in user allowed to read the policy.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<InstalledView>, AppError> {
    authorize(p, Resource::Policy, Action::View)?;
    views(&app.db, super::calendar::today(app)).await
}

/// The installed policies for the command line (whoever runs the server reads them).
pub async fn list_console(app: &App) -> Result<Vec<InstalledView>, AppError> {
    views(&app.db, super::calendar::today(app)).await
}

/// Installs a policy file for a system administrator signed in to the web or the API.
pub async fn install(
    app: &App,
    p: &Principal,
    text: &str,
    origin: &str,
) -> Result<InstalledView, AppError> {
    authorize(p, Resource::Policy, Action::Create)?;
    install_as(app, &p.actor(), text, origin).await
}

/// Installs a policy file as `actor` (the command line calls this directly). Validated exactly
/// as `jiqun policy check` does, each problem with its line and key path; a text already
/// installed, or another text under the same id and version, is refused.
pub async fn install_as(
    app: &App,
    actor: &Actor,
    text: &str,
    origin: &str,
) -> Result<InstalledView, AppError> {
    let origin = if origin.trim().is_empty() {
        "上传文件"
    } else {
        origin.trim()
    };
    if text.trim().is_empty() {
        return Err(AppError::invalid(
            "file",
            "请选择要安装的政策规则文件（TOML）",
        ));
    }
    let parsed = Policy::parse(text, origin).map_err(|PolicyErrors(list)| {
        AppError::Invalid(
            list.iter()
                .map(|e| FieldError {
                    field: if e.key_path.is_empty() {
                        "file".into()
                    } else {
                        e.key_path.clone()
                    },
                    message: format_error(text, e),
                })
                .collect(),
        )
    })?;
    let hash = sm3_hex(text);
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // Two administrators installing at once must not both pass the checks below.
    store::lock::serialise(&txn, "policies").await?;
    if let Some(same) = policy::Entity::find()
        .filter(policy::Column::Sm3.eq(&hash))
        .one(&txn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "该政策文本已经安装（策略标识 {}，版本 {}，{}于{}安装），无需重复安装",
            same.key,
            same.version,
            same.installed_by,
            crate::clock::format_local(same.installed_at)
        )));
    }
    let version = i32::try_from(parsed.identity.version)
        .map_err(|_| AppError::invalid("file", "identity.version：版本号过大"))?;
    if let Some(taken) = policy::Entity::find()
        .filter(policy::Column::Key.eq(parsed.id()))
        .filter(policy::Column::Version.eq(version))
        .one(&txn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "策略标识 {} 的版本 {} 已于{}安装，且内容与本文件不同。已安装的文本不能被替换：             如需修改，请在 identity.version 中使用更高的版本号后再安装",
            taken.key,
            taken.version,
            crate::clock::format_local(taken.installed_at)
        )));
    }
    let m = policy::ActiveModel {
        key: Set(parsed.id().to_string()),
        version: Set(version),
        sm3: Set(hash.clone()),
        source: Set(text.to_string()),
        origin: Set(ORIGIN_UPLOAD.into()),
        installed_by: Set(actor.name.clone()),
        installed_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::by(app, actor.clone(), now)
        .record(
            &txn,
            Event {
                action: "policy.install",
                object_type: "policy",
                object_id: m.id.to_string(),
                summary: format!(
                    "安装政策《{}》（{}），策略标识 {}，版本 {}，有效期 {}，SM3 {hash}，来源“{origin}”",
                    parsed.identity.name,
                    parsed.identity.document_number,
                    parsed.id(),
                    version,
                    validity(&parsed)
                ),
                ..Default::default()
            },
        )
        .await?;
    let today = crate::clock::local(now).date();
    let view = views(&txn, today)
        .await?
        .into_iter()
        .find(|v| v.id == m.id)
        .ok_or_else(|| AppError::internal("installed policy not listed"))?;
    txn.commit().await?;
    Ok(view)
}

/// Installs the policy files shipped with the binary that the database lacks (first start, or
/// a release shipping a new file); each install is audited. Safe to run at every start.
pub async fn install_builtin(
    db: &sea_orm::DatabaseConnection,
    key: &jiqun_domain::audit::AuditKey,
    now: OffsetDateTime,
) -> Result<usize, AppError> {
    let txn = store::write_txn(db).await?;
    store::lock::serialise(&txn, "policies").await?;
    let mut added = 0;
    for (origin, text) in BUILTIN_POLICY_SOURCES
        .iter()
        .chain(PROGRAMME_POLICY_SOURCES)
    {
        let hash = sm3_hex(text);
        let present = policy::Entity::find()
            .filter(policy::Column::Sm3.eq(&hash))
            .one(&txn)
            .await?
            .is_some();
        if present {
            continue;
        }
        let parsed = Policy::parse(text, origin)
            .map_err(|e| AppError::internal(format!("built-in policy: {e}")))?;
        let version = i32::try_from(parsed.identity.version)
            .map_err(|e| AppError::internal(format!("built-in policy version: {e}")))?;
        let m = policy::ActiveModel {
            key: Set(parsed.id().to_string()),
            version: Set(version),
            sm3: Set(hash.clone()),
            source: Set((*text).to_string()),
            origin: Set(ORIGIN_BUILTIN.into()),
            installed_by: Set("系统内置".into()),
            installed_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::audit::append(
            &txn,
            key,
            now,
            &Actor::console("system"),
            Event {
                action: "policy.install",
                object_type: "policy",
                object_id: m.id.to_string(),
                summary: format!(
                    "安装系统内置政策《{}》（{}），策略标识 {}，版本 {}，SM3 {hash}，来源“{origin}”",
                    parsed.identity.name,
                    parsed.identity.document_number,
                    parsed.id(),
                    version
                ),
                ..Default::default()
            },
        )
        .await?;
        added += 1;
    }
    txn.commit().await?;
    Ok(added)
}

/// The groupings of cities (key, name) the built-in policies name (第十六条: 长株潭), in order.
pub fn builtin_groupings() -> &'static [(String, String)] {
    static GROUPINGS: std::sync::LazyLock<Vec<(String, String)>> = std::sync::LazyLock::new(|| {
        let mut out: Vec<(String, String)> = Vec::new();
        for g in builtin_policies()
            .unwrap_or_default()
            .iter()
            .flat_map(|p| p.groupings.iter())
        {
            if !out.iter().any(|(k, _)| *k == g.key) {
                out.push((g.key.clone(), g.name.clone()));
            }
        }
        out
    });
    &GROUPINGS
}

/// The cities of a grouping of the policy in force today (第十六条: `changzhutan`), the one
/// source of which cities make up 长株潭 for the dashboard and the cluster list's area filter.
pub fn grouping_cities_on(
    today: Date,
    key: &str,
) -> Result<Vec<jiqun_domain::region::RegionCode>, AppError> {
    let current = current_on(today)?;
    Ok(current
        .policy
        .grouping_cities(key)
        .into_iter()
        .filter_map(|c| c.parse().ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const HUNAN: &str = include_str!("../../policies/hunan-2021.toml");

    fn hunan() -> Policy {
        Policy::parse(HUNAN, "policies/hunan-2021.toml").unwrap()
    }

    #[test]
    fn the_2021_measures_are_in_force_until_2026_04_06() {
        let p = [hunan()];
        let c = pick(&p, date!(2026 - 04 - 06)).unwrap();
        assert_eq!(c.standing, Standing::InForce);
        assert!(c.warning(date!(2026 - 04 - 06)).is_empty());
        let c = pick(&p, date!(2026 - 11 - 27)).unwrap();
        assert_eq!(
            c.standing,
            Standing::Expired {
                ended: date!(2026 - 04 - 06)
            }
        );
        let w = c.warning(date!(2026 - 11 - 27));
        assert!(w.contains("2021年4月7日至2026年4月6日"), "{w}");
        assert!(w.contains("失效"), "{w}");
        let c = pick(&p, date!(2020 - 01 - 01)).unwrap();
        assert_eq!(
            c.standing,
            Standing::NotYetInForce {
                starts: date!(2021 - 04 - 07)
            }
        );
        assert!(pick(&[], date!(2026 - 01 - 01)).is_none());
    }

    #[test]
    fn the_builtin_policy_loads() {
        let c = current_on(date!(2025 - 01 - 01)).unwrap();
        assert_eq!(c.policy.id(), "hunan-2021");
    }

    #[test]
    fn key_paths_resolve_to_lines() {
        let line = |path: &str| line_of_key_path(HUNAN, path).unwrap();
        let text_line = |needle: &str| {
            HUNAN
                .lines()
                .position(|l| l.trim_start().starts_with(needle))
                .unwrap()
                + 1
        };
        assert_eq!(line("identity.effective_to"), text_line("effective_to ="));
        assert_eq!(line("reports.annual.due"), text_line("due = \"01-31\""));
        // criteria[1].max_score is the second `max_score = ` in the file.
        let second = HUNAN
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("max_score"))
            .nth(1)
            .unwrap()
            .0
            + 1;
        assert_eq!(line("criteria[1].max_score"), second);
        // An unknown key falls back to its nearest existing ancestor.
        assert_eq!(line("criteria[1].no_such_key"), line("criteria[1]"));
        assert_eq!(line_of_key_path("not toml [", "a"), None);
    }

    #[test]
    fn a_broken_policy_names_file_line_and_key_path() {
        let broken = HUNAN.replacen("max_score = 25", "max_score = -25", 1);
        let errors = check(&broken, "x.toml").unwrap_err();
        let bad = text_line_of(&broken, "max_score = -25");
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("x.toml:{bad} criteria[1].max_score："))),
            "{errors:?}"
        );
    }

    /// The Measures' wording lives in the policy file, not in Rust: certificate prefixes, the
    /// once-a-year rule and the contact office must not come back into the code. Test modules
    /// (from `#[cfg(test)]` on), `tests.rs` files, comments and the demo's sample data are
    /// exempt.
    #[test]
    fn no_measures_wording_in_rust_sources() {
        const WORDING: [&str; 9] = [
            "湘集群",
            "每年组织",
            "产业集聚推进处",
            "OUTLIER_GAP_SHARE",
            "82号",
            "湖南省先进制造业集群",
            "湖南省工业和信息化厅",
            "各市州工业和信息化局",
            "现予公布",
        ];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("src")];
        for krate in std::fs::read_dir(root.join("crates")).unwrap() {
            dirs.push(krate.unwrap().path().join("src"));
        }
        let mut found = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.ends_with(".rs") || name == "tests.rs" || name == "demo.rs" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    if line.trim_start().starts_with("#[cfg(test)]") {
                        break;
                    }
                    if line.trim_start().starts_with("//") {
                        continue;
                    }
                    for w in WORDING {
                        if line.contains(w) {
                            found.push(format!("{}:{}: {w}", path.display(), i + 1));
                        }
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "Measures wording belongs in policies/*.toml:\n{}",
            found.join("\n")
        );
    }

    fn text_line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }
}
