//! Industry classification GB/T 4754-2017, section C 制造业: the 31 divisions
//! (大类) C13–C43 that a cluster's leading industry is chosen from.
//!
//! The table lives in `data/gbt4754-manufacturing.toml`, is compiled into the
//! binary and parsed once on first use; the tests prove it parses.

use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;

/// The section letter of manufacturing.
pub const SECTION_CODE: &str = "C";

/// The section name.
pub const SECTION_NAME: &str = "制造业";

/// A manufacturing division (大类), e.g. C36 汽车制造业.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    number: u8,
    code: String,
    name: String,
}

impl Division {
    /// The full code with the section letter, e.g. "C36".
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The two-digit number, e.g. 36.
    pub fn number(&self) -> u8 {
        self.number
    }

    /// The official name, e.g. "汽车制造业".
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Division {
    /// "C36 汽车制造业".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.name)
    }
}

/// All 31 divisions, in code order.
pub fn divisions() -> &'static [Division] {
    &DATA.divisions
}

/// The standard the table follows, "GB/T 4754-2017".
pub fn standard() -> &'static str {
    &DATA.standard
}

/// The division with this code: "C36", "c36" or "36" (surrounding whitespace
/// ignored). `None` for anything that is not a manufacturing division.
pub fn division(code: &str) -> Option<&'static Division> {
    let code = code.trim();
    let digits = code
        .strip_prefix(['C', 'c', 'Ｃ', 'ｃ'])
        .unwrap_or(code)
        .trim_start();
    if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: u8 = digits.parse().ok()?;
    DATA.divisions.iter().find(|d| d.number == number)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    standard: String,
    section: String,
    section_name: String,
    division: Vec<RawDivision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDivision {
    code: u8,
    name: String,
}

const SOURCE: &str = include_str!("../data/gbt4754-manufacturing.toml");

struct Data {
    standard: String,
    divisions: Vec<Division>,
}

fn load(source: &str) -> Result<Data, String> {
    let raw: RawFile = toml::from_str(source).map_err(|e| e.to_string())?;
    if raw.section != SECTION_CODE || raw.section_name != SECTION_NAME {
        return Err(format!(
            "expected section {SECTION_CODE} {SECTION_NAME}, found {} {}",
            raw.section, raw.section_name
        ));
    }
    let divisions = raw
        .division
        .into_iter()
        .map(|d| Division {
            number: d.code,
            code: format!("{SECTION_CODE}{:02}", d.code),
            name: d.name,
        })
        .collect();
    Ok(Data {
        standard: raw.standard,
        divisions,
    })
}

static DATA: LazyLock<Data> = LazyLock::new(|| {
    load(SOURCE).unwrap_or_else(|e| {
        panic!("embedded data/gbt4754-manufacturing.toml is invalid (the test suite should have caught this): {e}")
    })
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses() {
        let data = load(SOURCE).unwrap();
        assert_eq!(data.standard, "GB/T 4754-2017");
        assert_eq!(standard(), "GB/T 4754-2017");
        assert_eq!(data.divisions.len(), 31);
        assert!(load(&SOURCE.replace("section = \"C\"", "section = \"D\"")).is_err());
    }

    #[test]
    fn thirty_one_contiguous_divisions() {
        let numbers: Vec<u8> = divisions().iter().map(Division::number).collect();
        assert_eq!(numbers, (13..=43).collect::<Vec<u8>>());
        for d in divisions() {
            assert_eq!(d.code(), format!("C{}", d.number()));
            assert!(!d.name().is_empty());
        }
        let mut names: Vec<&str> = divisions().iter().map(Division::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 31);
    }

    #[test]
    fn exact_names() {
        let expected = [
            (13, "农副食品加工业"),
            (15, "酒、饮料和精制茶制造业"),
            (20, "木材加工和木、竹、藤、棕、草制品业"),
            (25, "石油、煤炭及其他燃料加工业"),
            (26, "化学原料和化学制品制造业"),
            (36, "汽车制造业"),
            (37, "铁路、船舶、航空航天和其他运输设备制造业"),
            (38, "电气机械和器材制造业"),
            (39, "计算机、通信和其他电子设备制造业"),
            (43, "金属制品、机械和设备修理业"),
        ];
        for (number, name) in expected {
            let d = division(&number.to_string()).unwrap();
            assert_eq!(d.name(), name);
        }
    }

    #[test]
    fn lookup_forms() {
        let car = division("C36").unwrap();
        assert_eq!(car.to_string(), "C36 汽车制造业");
        assert_eq!(division("36"), Some(car));
        assert_eq!(division(" c36 "), Some(car));
        assert_eq!(division("Ｃ36"), Some(car));
        for bad in [
            "", "C", "C12", "C44", "12", "44", "C360", "3", "C3", "D44", "C-3", "C+3",
        ] {
            assert!(division(bad).is_none(), "{bad}");
        }
    }
}
