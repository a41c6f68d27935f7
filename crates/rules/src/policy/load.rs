//! Structural loading: TOML syntax, unknown keys, missing keys and wrong types.
//!
//! To report *all* problems rather than serde's first one, each top-level table (and
//! each element of a top-level array) is deserialized on its own; after an error the
//! offending key is removed and deserialization retried, so one file yields the full
//! list. Semantic checks then run on every part that loaded (see `validate`); the
//! policy is returned only when no error at all was recorded.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_path_to_error::Segment;
use time::Date;
use toml::{Table, Value};

use super::validate::{self, Parts};
use super::{Policy, PolicyError, PolicyErrors};

/// Collects errors for one file.
pub(super) struct Errors {
    file: String,
    pub(super) list: Vec<PolicyError>,
}

impl Errors {
    /// Records a problem; only the first one per key path is kept, so a value dropped
    /// during loading is not reported again by the semantic checks.
    pub(super) fn push(&mut self, key_path: impl Into<String>, reason: impl Into<String>) {
        let key_path = key_path.into();
        if self.list.iter().any(|e| e.key_path == key_path) {
            return;
        }
        self.list.push(PolicyError {
            file: self.file.clone(),
            key_path,
            line: None,
            reason: reason.into(),
        });
    }
}

pub(super) fn load(text: &str, origin: &str) -> Result<Policy, PolicyErrors> {
    let mut errs = Errors {
        file: origin.to_string(),
        list: Vec::new(),
    };
    let mut root: Table = match toml::from_str(text) {
        Ok(root) => root,
        Err(e) => {
            let start = e.span().map_or(0, |s| s.start);
            let key_path = match e.span() {
                Some(s) if e.message().contains("duplicate key") => {
                    text.get(s).unwrap_or_default().trim().to_string()
                }
                _ => String::new(),
            };
            return Err(PolicyErrors(vec![PolicyError {
                file: origin.to_string(),
                key_path,
                line: Some(crate::calendar::parse::line_of(text, start)),
                reason: syntax_reason(e.message()),
            }]));
        }
    };

    let parts = Parts {
        format_version: required(&mut root, "format_version", &mut errs),
        identity: required(&mut root, "identity", &mut errs),
        cluster_kinds: array(&mut root, "cluster_kinds", &mut errs),
        scoring: required(&mut root, "scoring", &mut errs),
        criteria: array(&mut root, "criteria", &mut errs),
        eligibility: required(&mut root, "eligibility", &mut errs),
        competition: required(&mut root, "competition", &mut errs),
        rounds: array(&mut root, "rounds", &mut errs),
        public_notice: required(&mut root, "public_notice", &mut errs),
        reports: required(&mut root, "reports", &mut errs),
        recheck: required(&mut root, "recheck", &mut errs),
        revocation: required(&mut root, "revocation", &mut errs),
        quota: required(&mut root, "quota", &mut errs),
        groupings: optional_array(&mut root, "groupings", &mut errs),
        funding: optional(&mut root, "funding", &mut errs),
        wording: optional(&mut root, "wording", &mut errs),
        procedure: optional(&mut root, "procedure", &mut errs),
        organiser: optional(&mut root, "organiser", &mut errs),
    };
    for key in root.keys() {
        errs.push(key.as_str(), format!("未知的键“{key}”"));
    }
    validate::validate(&parts, &mut errs);
    match parts.assemble() {
        Some(policy) if errs.list.is_empty() => Ok(policy),
        _ => Err(PolicyErrors(errs.list)),
    }
}

/// A required top-level key, deserialized on its own.
fn required<T: DeserializeOwned>(root: &mut Table, key: &str, errs: &mut Errors) -> Option<T> {
    match root.remove(key) {
        Some(value) => deserialize(value, key, errs),
        None => {
            errs.push(key, format!("缺少必填项“{key}”"));
            None
        }
    }
}

/// An optional top-level key: `Some(None)` when absent, `None` when broken.
fn optional<T: DeserializeOwned>(
    root: &mut Table,
    key: &str,
    errs: &mut Errors,
) -> Option<Option<T>> {
    match root.remove(key) {
        Some(value) => deserialize(value, key, errs).map(Some),
        None => Some(None),
    }
}

/// A top-level array whose elements are deserialized one by one, so a bad element
/// does not hide problems in the others.
fn array<T: DeserializeOwned>(root: &mut Table, key: &str, errs: &mut Errors) -> Option<Vec<T>> {
    match root.remove(key) {
        None => {
            errs.push(key, format!("缺少必填项“{key}”"));
            None
        }
        Some(Value::Array(items)) => {
            let n = items.len();
            let loaded: Vec<T> = items
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| deserialize(v, &format!("{key}[{i}]"), errs))
                .collect();
            (loaded.len() == n).then_some(loaded)
        }
        Some(other) => {
            errs.push(
                key,
                format!("应为数组（[[{key}]]），实际为{}", type_name(&other)),
            );
            None
        }
    }
}

fn optional_array<T: DeserializeOwned>(
    root: &mut Table,
    key: &str,
    errs: &mut Errors,
) -> Option<Vec<T>> {
    if root.contains_key(key) {
        array(root, key, errs)
    } else {
        Some(Vec::new())
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "字符串",
        Value::Integer(_) => "整数",
        Value::Float(_) => "小数",
        Value::Boolean(_) => "布尔值",
        Value::Datetime(_) => "日期",
        Value::Array(_) => "数组",
        Value::Table(_) => "表",
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn join(prefix: &str, segs: &[Seg]) -> String {
    let mut out = prefix.to_string();
    for s in segs {
        match s {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Deserializes `value`, reporting each structural error under `prefix` and retrying
/// without the offending key until it loads or cannot continue.
fn deserialize<T: DeserializeOwned>(
    mut value: Value,
    prefix: &str,
    errs: &mut Errors,
) -> Option<T> {
    let mut removed: Vec<Vec<Seg>> = Vec::new();
    // Bounded: each round removes a key, and a file has finitely many.
    for _ in 0..256 {
        let err = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            // Loaded without the offending keys: good enough for the semantic checks to
            // find further problems; the errors already recorded make the load fail.
            Ok(t) => return Some(t),
            Err(err) => err,
        };
        let mut segs = Vec::new();
        for s in err.path().iter() {
            match s {
                Segment::Map { key } => segs.push(Seg::Key(key.clone())),
                Segment::Seq { index } => segs.push(Seg::Index(*index)),
                Segment::Enum { .. } | Segment::Unknown => {}
            }
        }
        let message = err.inner().to_string();
        let message = message.lines().next().unwrap_or_default().to_string();
        if let Some(missing) = between(&message, "missing field `", "`") {
            segs.push(Seg::Key(missing.to_string()));
            // A key we removed ourselves was already reported.
            if !removed.contains(&segs) {
                errs.push(join(prefix, &segs), format!("缺少必填项“{missing}”"));
            }
            return None;
        }
        errs.push(join(prefix, &segs), translate(&message));
        if !remove(&mut value, &segs) {
            return None;
        }
        removed.push(segs);
    }
    None
}

/// Removes the value at `segs`; only keys of tables are removed (removing an array
/// element would shift the indices of later errors).
fn remove(value: &mut Value, segs: &[Seg]) -> bool {
    let Some((Seg::Key(last), parents)) = segs.split_last() else {
        return false;
    };
    let mut cur = value;
    for s in parents {
        let next = match (s, cur) {
            (Seg::Key(k), Value::Table(t)) => t.get_mut(k),
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    match cur {
        Value::Table(t) => t.remove(last).is_some(),
        _ => false,
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = s.split_once(start)?.1;
    Some(rest.split_once(end).map_or(rest, |(head, _)| head))
}

/// serde's English messages, rendered in Chinese.
fn translate(message: &str) -> String {
    if let Some(key) = between(message, "unknown field `", "`") {
        return format!("未知的键“{key}”");
    }
    if let Some(v) = between(message, "unknown variant `", "`") {
        let expected = message
            .split_once("expected ")
            .map_or("", |(_, e)| e)
            .replace("one of ", "")
            .replace(" or ", ", ")
            .replace('`', "");
        return format!("取值“{v}”无效，可选值：{}", expected.replace(", ", "、"));
    }
    if let Some(n) = between(message, "invalid value: integer `-", "`") {
        return format!("不能为负数（当前值 -{n}）");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (actual, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "类型错误：应为{}，实际为{}",
            expected_zh(expected),
            actual_zh(actual)
        );
    }
    if !message.is_ascii() {
        return message.to_string();
    }
    format!("取值无效：{message}")
}

fn expected_zh(expected: &str) -> String {
    let zh = match expected {
        "u8" | "u16" | "u32" | "u64" => "非负整数",
        "i64" | "i32" => "整数",
        "f64" | "f32" => "数值",
        "a string" => "字符串",
        "a boolean" => "布尔值（true 或 false）",
        "a sequence" => "数组",
        e if e.starts_with("struct") || e.contains("map") => "表",
        e if e.starts_with("a date") => "日期（例如 2021-04-07）",
        e => return e.replace('`', ""),
    };
    zh.to_string()
}

fn actual_zh(actual: &str) -> String {
    let (kind, rest) = actual.split_once(' ').unwrap_or((actual, ""));
    let kind = match kind {
        "string" => "字符串",
        "integer" => "整数",
        "floating" => "小数",
        "boolean" => "布尔值",
        "sequence" => "数组",
        "map" => "表",
        _ => return actual.replace('`', ""),
    };
    let value = rest.trim_start_matches("point ").replace('`', "");
    if value.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} {value}")
    }
}

fn syntax_reason(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    if first.contains("duplicate key") {
        "键重复定义（同一个表中同一个键只能出现一次）".to_string()
    } else {
        format!("TOML 语法错误：{first}")
    }
}

/// Dates: TOML local dates (`2021-04-07`); a quoted "2021-04-07" is accepted too,
/// since a `toml::Value` hands dates to serde as strings.
pub(super) fn de_date<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    d.deserialize_any(DateVisitor)
}

pub(super) fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    de_date(d).map(Some)
}

struct DateVisitor;

impl<'de> Visitor<'de> for DateVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date like 2021-04-07")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
        parse_iso_date(v).ok_or_else(|| E::custom(format!("“{v}”不是有效日期，应形如 2021-04-07")))
    }

    // `toml::from_str` straight into a `Policy` hands dates over as a one-entry map.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Date, A::Error> {
        match map.next_entry::<String, String>()? {
            Some((_, v)) => self.visit_str(&v),
            None => Err(de::Error::custom("应为日期，例如 2021-04-07")),
        }
    }
}

fn parse_iso_date(s: &str) -> Option<Date> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}
