//! The policy rules shipped with the binary (`policies/*.toml`): which one is in force, and
//! checking a policy file an administrator is preparing.

use jiqun_domain::access::{Action, Resource};
use jiqun_rules::policy::{builtin_policies, policy_in_force};
use jiqun_rules::{Policy, PolicyError, PolicyErrors};
use time::Date;

use super::authorize;
use crate::app::{App, Principal};
use crate::error::AppError;

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
    /// "2021-04-07 至 2026-04-06" or "2021-04-07 起".
    pub fn validity(&self) -> String {
        validity(&self.policy)
    }

    /// A Chinese sentence on the standing, for the CLI and the page; empty when in force.
    pub fn warning(&self, today: Date) -> String {
        let p = &self.policy;
        match self.standing {
            Standing::InForce => String::new(),
            Standing::Expired { ended } => format!(
                "注意：今天（{today}）没有有效的政策规则。以下是最近的一版《{}》（{}），\
                 有效期 {}，已于{ended}到期失效。新的竞赛不应再绑定此版本，请按新发布的管理办法更新政策规则文件。",
                p.identity.name,
                p.identity.document_number,
                validity(p)
            ),
            Standing::NotYetInForce { starts } => format!(
                "注意：今天（{today}）没有有效的政策规则。以下《{}》（{}）自{starts}起施行，尚未生效。",
                p.identity.name, p.identity.document_number
            ),
        }
    }
}

pub fn validity(p: &Policy) -> String {
    match p.effective_to() {
        Some(to) => format!("{} 至 {to}", p.identity.effective_from),
        None => format!("{} 起长期有效", p.identity.effective_from),
    }
}

/// Picks the policy to show on `today`: the one in force; otherwise the latest that has ended;
/// otherwise the earliest that has yet to start. `None` only for an empty list.
pub fn pick(policies: &[Policy], today: Date) -> Option<Current> {
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

/// The policy for today, for a signed-in user allowed to read the policy.
pub fn current(app: &App, p: &Principal) -> Result<Current, AppError> {
    authorize(p, Resource::Policy, Action::View)?;
    current_on(super::calendar::today(app))
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
        assert!(w.contains("2021-04-07 至 2026-04-06"), "{w}");
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

    fn text_line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }
}
