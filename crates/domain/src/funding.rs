//! The funding ledger (第十七条): money as exact integers of 分 (never floating point), read from
//! what people type in 元 or 万元 with at most two decimals, written back with two decimals; and
//! the steps an item of support goes through, from 拟安排 to 已拨付 (or 已收回 / 已取消).
//!
//! `Planned → Issued → Disbursed`, `Planned → Cancelled`, `Issued | Disbursed → Recovered`.

use serde::{Deserialize, Serialize};

/// 分 in one 元.
pub const FEN_PER_YUAN: i64 = 100;
/// 分 in one 万元.
pub const FEN_PER_WAN: i64 = 1_000_000;
/// The largest single amount accepted: 100亿元, far above any provincial item of support, so a
/// slip of the keyboard is caught while every real amount fits.
pub const MAX_FEN: i64 = 10_000_000_000 * FEN_PER_YUAN;

/// The unit an amount is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Yuan,
    Wan,
}

impl Unit {
    pub fn label(self) -> &'static str {
        match self {
            Unit::Yuan => "元",
            Unit::Wan => "万元",
        }
    }

    pub fn from_key(key: &str) -> Option<Unit> {
        match key {
            "yuan" | "元" => Some(Unit::Yuan),
            "wan" | "万元" => Some(Unit::Wan),
            _ => None,
        }
    }

    fn fen(self) -> i64 {
        match self {
            Unit::Yuan => FEN_PER_YUAN,
            Unit::Wan => FEN_PER_WAN,
        }
    }
}

/// Why a typed amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("请填写金额")]
    Empty,
    #[error("金额不能为负数")]
    Negative,
    #[error("金额最多保留两位小数")]
    TooManyDecimals,
    #[error("金额“{0}”不是有效的数字，请填写如 1234.56 的数字")]
    NotANumber(String),
    #[error("金额不能超过100亿元")]
    TooLarge,
    #[error("金额应大于零")]
    Zero,
}

/// An amount typed in `unit` as 分. Thousands separators (`,` `，`) and spaces are ignored, full
/// width digits are read; a sign, more than two decimals or anything else is refused.
pub fn parse_amount(text: &str, unit: Unit) -> Result<i64, MoneyError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' ' | '\u{3000}'))
        .map(|c| match c {
            '０'..='９' => {
                char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
            }
            '．' => '.',
            '－' => '-',
            _ => c,
        })
        .collect();
    if cleaned.is_empty() {
        return Err(MoneyError::Empty);
    }
    if let Some(rest) = cleaned.strip_prefix('-') {
        // "-5" is a negative amount; "-" alone or "-x" is garbage.
        return Err(
            if rest
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '.')
            {
                MoneyError::Negative
            } else {
                MoneyError::NotANumber(text.trim().to_string())
            },
        );
    }
    let (whole, frac) = match cleaned.split_once('.') {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) || (whole.is_empty() && frac.is_empty()) {
        return Err(MoneyError::NotANumber(text.trim().to_string()));
    }
    if frac.len() > 2 {
        return Err(MoneyError::TooManyDecimals);
    }
    // Leading zeros carry nothing; past 13 digits of 元 the amount is too large anyway.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 13 {
        return Err(MoneyError::TooLarge);
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| MoneyError::NotANumber(text.trim().to_string()))?
    };
    let cents: i64 = format!("{frac:0<2}")
        .parse()
        .map_err(|_| MoneyError::NotANumber(text.trim().to_string()))?;
    // Two decimals of 元 are 分; two decimals of 万元 are 100元.
    let fen = whole
        .checked_mul(unit.fen())
        .and_then(|w| w.checked_add(cents * unit.fen() / 100))
        .ok_or(MoneyError::TooLarge)?;
    if fen > MAX_FEN {
        return Err(MoneyError::TooLarge);
    }
    if fen == 0 {
        return Err(MoneyError::Zero);
    }
    Ok(fen)
}

/// 分 as 元 with two decimals and thousands separators: 1,234,567.89 (negative for a balance).
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", abs % 100)
}

/// 分 as 元 with two decimals and no separators, as a form field shows it back: 1234567.89.
pub fn plain_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// 分 as 万元 rounded half up to two decimals: 123.46 (for totals and charts).
pub fn format_wan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    // Two decimals of 万元 are units of 100元 = 10,000分.
    let hundreds = (abs + 5_000) / 10_000;
    format!("{sign}{}.{:02}", hundreds / 100, hundreds % 100)
}

/// 分 as a number of 元 for a spreadsheet cell (exact up to 2^53 分, far above `MAX_FEN` × rows).
pub fn yuan_number(fen: i64) -> f64 {
    // Integer division keeps the 元 exact; the 分 are added as a fraction below 1.
    (fen / 100) as f64 + (fen % 100) as f64 / 100.0
}

/// What an item of support is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter)
)]
#[cfg_attr(
    feature = "sea-orm",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
pub enum EntryKind {
    /// The reward for a new 培育对象.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "reward_cultivation"))]
    RewardCultivation,
    /// The reward for a new 认定 (湖南省先进制造业集群).
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "reward_certified"))]
    RewardCertified,
    /// Project support from a special fund.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "project"))]
    Project,
}

impl EntryKind {
    pub const ALL: [EntryKind; 3] = [
        EntryKind::RewardCultivation,
        EntryKind::RewardCertified,
        EntryKind::Project,
    ];

    pub fn key(self) -> &'static str {
        match self {
            EntryKind::RewardCultivation => "reward_cultivation",
            EntryKind::RewardCertified => "reward_certified",
            EntryKind::Project => "project",
        }
    }

    pub fn from_key(key: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            EntryKind::RewardCultivation => "培育对象奖励",
            EntryKind::RewardCertified => "认定奖励",
            EntryKind::Project => "项目支持",
        }
    }

    pub fn is_reward(self) -> bool {
        self != EntryKind::Project
    }
}

/// Where an item of support stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter)
)]
#[cfg_attr(
    feature = "sea-orm",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
pub enum Status {
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "planned"))]
    Planned,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "issued"))]
    Issued,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "disbursed"))]
    Disbursed,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "recovered"))]
    Recovered,
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "cancelled"))]
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Planned,
        Status::Issued,
        Status::Disbursed,
        Status::Recovered,
        Status::Cancelled,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Issued => "issued",
            Status::Disbursed => "disbursed",
            Status::Recovered => "recovered",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn from_key(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Planned => "拟安排",
            Status::Issued => "已下达",
            Status::Disbursed => "已拨付",
            Status::Recovered => "已收回",
            Status::Cancelled => "已取消",
        }
    }

    /// Money promised but not yet paid out: what a revoked cluster should not receive unseen.
    pub fn pending(self) -> bool {
        matches!(self, Status::Planned | Status::Issued)
    }

    /// Whether the amount counts in the totals of money arranged for clusters.
    pub fn counts(self) -> bool {
        matches!(self, Status::Planned | Status::Issued | Status::Disbursed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// 下达 (the funds document is issued).
    Issue,
    /// 拨付 (the money is paid out).
    Disburse,
    /// 收回 (money issued or paid is taken back).
    Recover,
    /// 取消 (a planned item is dropped).
    Cancel,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Issue, Step::Disburse, Step::Recover, Step::Cancel];

    pub fn key(self) -> &'static str {
        match self {
            Step::Issue => "issue",
            Step::Disburse => "disburse",
            Step::Recover => "recover",
            Step::Cancel => "cancel",
        }
    }

    pub fn from_key(key: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::Issue => "下达",
            Step::Disburse => "拨付",
            Step::Recover => "收回",
            Step::Cancel => "取消",
        }
    }

    /// The steps open from a status, in the order a page offers them.
    pub fn open_from(from: Status) -> Vec<Step> {
        Step::ALL
            .into_iter()
            .filter(|s| apply(from, *s).is_ok())
            .collect()
    }
}

/// Why a step cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("该笔资金当前状态为“{}”，不能{}", .from.label(), .step.label())]
pub struct Refusal {
    pub from: Status,
    pub step: Step,
}

/// The status after `step` from `from`.
pub fn apply(from: Status, step: Step) -> Result<Status, Refusal> {
    match (from, step) {
        (Status::Planned, Step::Issue) => Ok(Status::Issued),
        (Status::Issued, Step::Disburse) => Ok(Status::Disbursed),
        (Status::Issued | Status::Disbursed, Step::Recover) => Ok(Status::Recovered),
        (Status::Planned, Step::Cancel) => Ok(Status::Cancelled),
        _ => Err(Refusal { from, step }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_steps() {
        use Status::*;
        let allowed = [
            (Planned, Step::Issue, Issued),
            (Issued, Step::Disburse, Disbursed),
            (Issued, Step::Recover, Recovered),
            (Disbursed, Step::Recover, Recovered),
            (Planned, Step::Cancel, Cancelled),
        ];
        for from in Status::ALL {
            for step in Step::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, s, _)| *f == from && *s == step)
                    .map(|(_, _, to)| *to);
                assert_eq!(apply(from, step).ok(), expected, "{from:?} {step:?}");
            }
        }
        assert_eq!(
            apply(Disbursed, Step::Issue).unwrap_err().to_string(),
            "该笔资金当前状态为“已拨付”，不能下达"
        );
        assert_eq!(Step::open_from(Planned), [Step::Issue, Step::Cancel]);
        assert!(Step::open_from(Recovered).is_empty());
    }

    #[test]
    fn pending_and_counted_statuses() {
        for s in Status::ALL {
            assert_eq!(s.pending(), matches!(s, Status::Planned | Status::Issued));
            assert_eq!(s.counts(), s.pending() || s == Status::Disbursed);
            assert_eq!(Status::from_key(s.key()), Some(s));
        }
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::from_key(k.key()), Some(k));
        }
    }

    #[test]
    fn amounts_typed_by_people() {
        let cases: &[(&str, Unit, Result<i64, MoneyError>)] = &[
            ("1234.56", Unit::Yuan, Ok(123_456)),
            ("1,234.5", Unit::Yuan, Ok(123_450)),
            ("  800 ", Unit::Yuan, Ok(80_000)),
            ("０.０１", Unit::Yuan, Ok(1)),
            (".5", Unit::Yuan, Ok(50)),
            ("500", Unit::Wan, Ok(500 * FEN_PER_WAN)),
            ("12.34", Unit::Wan, Ok(12 * FEN_PER_WAN + 340_000)),
            ("10000000000", Unit::Yuan, Ok(MAX_FEN)),
            ("", Unit::Yuan, Err(MoneyError::Empty)),
            ("  ", Unit::Yuan, Err(MoneyError::Empty)),
            ("-5", Unit::Yuan, Err(MoneyError::Negative)),
            ("-0.5", Unit::Wan, Err(MoneyError::Negative)),
            ("1.234", Unit::Yuan, Err(MoneyError::TooManyDecimals)),
            ("0", Unit::Yuan, Err(MoneyError::Zero)),
            ("0.00", Unit::Wan, Err(MoneyError::Zero)),
            ("10000000000.01", Unit::Yuan, Err(MoneyError::TooLarge)),
            ("1000001", Unit::Wan, Err(MoneyError::TooLarge)),
            (
                "99999999999999999999",
                Unit::Yuan,
                Err(MoneyError::TooLarge),
            ),
            ("abc", Unit::Yuan, Err(MoneyError::NotANumber("abc".into()))),
            ("1e5", Unit::Yuan, Err(MoneyError::NotANumber("1e5".into()))),
            (
                "1.2.3",
                Unit::Yuan,
                Err(MoneyError::NotANumber("1.2.3".into())),
            ),
            (".", Unit::Yuan, Err(MoneyError::NotANumber(".".into()))),
            ("+5", Unit::Yuan, Err(MoneyError::NotANumber("+5".into()))),
            (
                "五百",
                Unit::Wan,
                Err(MoneyError::NotANumber("五百".into())),
            ),
        ];
        for (text, unit, expected) in cases {
            assert_eq!(&parse_amount(text, *unit), expected, "{text:?} {unit:?}");
        }
        assert_eq!(
            parse_amount("1.234", Unit::Yuan).unwrap_err().to_string(),
            "金额最多保留两位小数"
        );
        assert_eq!(
            parse_amount("-5", Unit::Yuan).unwrap_err().to_string(),
            "金额不能为负数"
        );
    }

    #[test]
    fn amounts_written_for_people() {
        assert_eq!(format_yuan(123_456_789), "1,234,567.89");
        assert_eq!(format_yuan(5), "0.05");
        assert_eq!(format_yuan(-100_000), "-1,000.00");
        assert_eq!(plain_yuan(123_456_789), "1234567.89");
        assert_eq!(format_wan(5 * FEN_PER_WAN), "5.00");
        assert_eq!(format_wan(1_234_567_890), "1234.57");
        assert_eq!(format_wan(4_999), "0.00");
        assert_eq!(format_wan(5_000), "0.01");
        assert_eq!(yuan_number(123_456), 1234.56);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn what_is_written_reads_back(fen in 1..=MAX_FEN) {
                prop_assert_eq!(parse_amount(&plain_yuan(fen), Unit::Yuan), Ok(fen));
                prop_assert_eq!(parse_amount(&format_yuan(fen), Unit::Yuan), Ok(fen));
            }

            #[test]
            fn negatives_are_refused(fen in 1..=MAX_FEN) {
                prop_assert_eq!(parse_amount(&format!("-{}", plain_yuan(fen)), Unit::Yuan), Err(MoneyError::Negative));
            }

            #[test]
            fn a_third_decimal_is_refused(whole in 0u32..1_000_000, frac in 0u32..1000) {
                prop_assert_eq!(
                    parse_amount(&format!("{whole}.{frac:03}"), Unit::Wan),
                    Err(MoneyError::TooManyDecimals)
                );
            }

            #[test]
            fn any_text_is_answered_without_panic(text in "\\PC{0,24}") {
                if let Ok(fen) = parse_amount(&text, Unit::Yuan) {
                    prop_assert!(fen > 0 && fen <= MAX_FEN);
                }
                if let Ok(fen) = parse_amount(&text, Unit::Wan) {
                    prop_assert!(fen > 0 && fen <= MAX_FEN);
                }
            }

            #[test]
            fn wan_is_ten_thousand_yuan(wan in 1i64..1_000_000, cents in 0i64..100) {
                let text = format!("{wan}.{cents:02}");
                prop_assert_eq!(
                    parse_amount(&text, Unit::Wan).map(|f| f * 100),
                    parse_amount(&text, Unit::Yuan).map(|f| f * FEN_PER_WAN)
                );
            }
        }
    }
}
