//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! Layout of the 18 characters:
//!
//! | positions | meaning |
//! |---|---|
//! | 1 | registration authority (登记管理部门代码) |
//! | 2 | institution type (机构类别代码), valid combinations per the standard's table |
//! | 3–8 | administrative division of the registering office (GB/T 2260, 6 digits) |
//! | 9–17 | organisation code (主体标识码, GB 11714; position 17 is its own check character) |
//! | 18 | check character over positions 1–17 (mod 31) |
//!
//! [`CreditCode`] can only hold a code that passes every rule above, so code that
//! receives one never needs to validate it again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 31 characters a credit code may contain, in check-value order
/// (0–9, then A–Y without I, O, S, V, Z).
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Number of characters in a credit code.
pub const LENGTH: usize = 18;

/// Weights of positions 1–17 for the check character (3^i mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Weights of the 8 body characters of a GB 11714 organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Registration authorities (position 1) with their valid institution types (position 2),
/// per GB 32100-2015 table 1 and its later additions (A, N).
/// (code, name, [(institution type code, name)]).
type Authority = (char, &'static str, &'static [(char, &'static str)]);

const AUTHORITIES: &[Authority] = &[
    (
        '1',
        "机构编制",
        &[
            ('1', "机关"),
            ('2', "事业单位"),
            ('3', "编办直接管理机构编制的群众团体"),
            ('9', "其他"),
        ],
    ),
    ('2', "外交", &[('1', "外国常驻新闻机构"), ('9', "其他")]),
    (
        '3',
        "司法行政",
        &[
            ('1', "律师执业机构"),
            ('2', "公证处"),
            ('3', "基层法律服务所"),
            ('4', "司法鉴定机构"),
            ('5', "仲裁委员会"),
            ('9', "其他"),
        ],
    ),
    ('4', "文化", &[('1', "外国在华文化中心"), ('9', "其他")]),
    (
        '5',
        "民政",
        &[
            ('1', "社会团体"),
            ('2', "民办非企业单位"),
            ('3', "基金会"),
            ('9', "其他"),
        ],
    ),
    (
        '6',
        "旅游",
        &[
            ('1', "外国旅游部门常驻代表机构"),
            ('2', "港澳台地区旅游部门常驻内地（大陆）代表机构"),
            ('9', "其他"),
        ],
    ),
    (
        '7',
        "宗教",
        &[('1', "宗教活动场所"), ('2', "宗教院校"), ('9', "其他")],
    ),
    ('8', "工会", &[('1', "基层工会"), ('9', "其他")]),
    (
        '9',
        "工商",
        &[('1', "企业"), ('2', "个体工商户"), ('3', "农民专业合作社")],
    ),
    (
        'A',
        "中央军委改革和编制办公室",
        &[('1', "军队事业单位"), ('9', "其他")],
    ),
    (
        'N',
        "农业",
        &[
            ('1', "组级集体经济组织"),
            ('2', "村级集体经济组织"),
            ('3', "乡镇级集体经济组织"),
            ('9', "其他"),
        ],
    ),
    ('Y', "其他", &[('1', "其他")]),
];

fn authority(code: char) -> Option<&'static Authority> {
    AUTHORITIES.iter().find(|(c, _, _)| *c == code)
}

fn institution_type(authority_code: char, type_code: char) -> Option<&'static str> {
    authority(authority_code)?
        .2
        .iter()
        .find(|(c, _)| *c == type_code)
        .map(|(_, name)| *name)
}

/// "1、2、3或9" — the valid institution type codes of an authority, for messages.
fn allowed_types_text(authority_code: char) -> String {
    let codes: Vec<char> = authority(authority_code)
        .map(|a| a.2.iter().map(|(c, _)| *c).collect())
        .unwrap_or_default();
    join_or(&codes)
}

fn authority_name(authority_code: char) -> &'static str {
    authority(authority_code).map_or("未知", |a| a.1)
}

fn join_or(codes: &[char]) -> String {
    match codes {
        [] => String::new(),
        [only] => only.to_string(),
        [init @ .., last] => {
            let head: Vec<String> = init.iter().map(char::to_string).collect();
            format!("{}或{}", head.join("、"), last)
        }
    }
}

/// Everything that can be wrong with a credit code. The `Display` text is the
/// message shown to the user, in Chinese, and says exactly what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Nothing but whitespace was given.
    #[error("统一社会信用代码不能为空")]
    Empty,
    /// Not 18 characters (after trimming).
    #[error("统一社会信用代码应为18位，当前为{0}位")]
    WrongLength(usize),
    /// A space or other whitespace inside the code.
    #[error("第{position}位是空格，统一社会信用代码中间不能有空格")]
    Whitespace {
        /// 1-based position.
        position: usize,
    },
    /// One of the letters the standard leaves out (I, O, Z, S, V).
    #[error("第{position}位字符“{found}”不允许使用（不得含I、O、Z、S、V）")]
    ForbiddenLetter {
        /// 1-based position.
        position: usize,
        /// The character as given.
        found: char,
    },
    /// Neither a digit nor a Latin letter.
    #[error("第{position}位字符“{found}”无效，统一社会信用代码只能由数字和大写英文字母组成")]
    InvalidCharacter {
        /// 1-based position.
        position: usize,
        /// The character as given.
        found: char,
    },
    /// Position 1 is not a registration authority code of the standard.
    #[error("登记管理部门代码“{0}”无效（第1位应为1至9、A、N或Y）")]
    InvalidRegistrationAuthority(char),
    /// Position 2 is not a valid institution type for the authority in position 1.
    #[error(
        "机构类别代码“{found}”无效：登记管理部门代码为“{authority}”（{name}）时，第2位只能为{allowed}",
        name = authority_name(*.authority),
        allowed = allowed_types_text(*.authority)
    )]
    InvalidInstitutionType {
        /// Position 1.
        authority: char,
        /// Position 2.
        found: char,
    },
    /// Positions 3–8 must be digits (an administrative division code).
    #[error("第{position}位应为数字（第3至8位是登记管理机关行政区划码），实际为“{found}”")]
    InvalidDivisionCode {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Position 18 does not match positions 1–17.
    #[error("校验码错误：第18位应为“{expected}”，实际为“{found}”，请核对代码是否抄错")]
    CheckCharacterMismatch {
        /// The check character computed from positions 1–17.
        expected: char,
        /// Position 18 as given.
        found: char,
    },
    /// Position 17 does not match positions 9–16 (GB 11714 organisation code check).
    #[error("第17位组织机构代码校验码错误：按第9至16位计算应为“{expected}”，实际为“{found}”")]
    OrganizationCheckMismatch {
        /// The check character computed from positions 9–16.
        expected: char,
        /// Position 17 as given.
        found: char,
    },
}

/// A valid 统一社会信用代码, always stored in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses and validates a credit code.
    ///
    /// Surrounding whitespace is trimmed, lower-case letters and full-width
    /// characters (as typed with a Chinese input method) are normalised.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let given: Vec<char> = trimmed.chars().collect();
        if given.len() != LENGTH {
            return Err(CreditCodeError::WrongLength(given.len()));
        }

        let mut chars = [0u8; LENGTH];
        for (i, &raw) in given.iter().enumerate() {
            let position = i + 1;
            let c = to_half_width(raw).to_ascii_uppercase();
            if c.is_whitespace() {
                return Err(CreditCodeError::Whitespace { position });
            }
            if matches!(c, 'I' | 'O' | 'Z' | 'S' | 'V') {
                return Err(CreditCodeError::ForbiddenLetter {
                    position,
                    found: raw,
                });
            }
            if char_value(c).is_none() {
                return Err(CreditCodeError::InvalidCharacter {
                    position,
                    found: raw,
                });
            }
            // `char_value` only accepts ASCII, so this cannot truncate.
            chars[i] = c as u8;
        }

        let authority_code = char::from(chars[0]);
        if authority(authority_code).is_none() {
            return Err(CreditCodeError::InvalidRegistrationAuthority(
                authority_code,
            ));
        }
        let type_code = char::from(chars[1]);
        if institution_type(authority_code, type_code).is_none() {
            return Err(CreditCodeError::InvalidInstitutionType {
                authority: authority_code,
                found: type_code,
            });
        }
        for (i, &b) in chars.iter().enumerate().take(8).skip(2) {
            if !b.is_ascii_digit() {
                return Err(CreditCodeError::InvalidDivisionCode {
                    position: i + 1,
                    found: char::from(b),
                });
            }
        }

        let expected = check_character(&chars[..17]);
        let found = char::from(chars[17]);
        if expected != found {
            return Err(CreditCodeError::CheckCharacterMismatch { expected, found });
        }
        let expected = organization_check_character(&chars[8..16]);
        let found = char::from(chars[16]);
        if expected != found {
            return Err(CreditCodeError::OrganizationCheckMismatch { expected, found });
        }

        Ok(CreditCode(chars.iter().map(|&b| char::from(b)).collect()))
    }

    /// Builds a valid code from its parts, computing both check characters
    /// (position 17 per GB 11714 and position 18 per GB 32100).
    ///
    /// `division` is the 6-digit division code, `organization_body` the 8
    /// characters of positions 9–16. Useful for seed and test data.
    pub fn from_parts(
        authority: char,
        institution_type: char,
        division: &str,
        organization_body: &str,
    ) -> Result<CreditCode, CreditCodeError> {
        let mut head: String = [authority, institution_type].iter().collect();
        head.push_str(division);
        head.push_str(organization_body);
        let upper = head.to_ascii_uppercase();
        if upper.len() != 16 || !upper.is_ascii() {
            return Err(CreditCodeError::WrongLength(upper.chars().count() + 2));
        }
        let bytes = upper.as_bytes();
        let org_check = if bytes[8..16]
            .iter()
            .all(|&b| char_value(char::from(b)).is_some())
        {
            organization_check_character(&bytes[8..16])
        } else {
            '0'
        };
        let mut first17 = upper.clone();
        first17.push(org_check);
        let check = if first17.chars().all(|c| char_value(c).is_some()) {
            check_character(first17.as_bytes())
        } else {
            '0'
        };
        first17.push(check);
        // Any remaining problem (bad charset, authority, type, ...) is reported by `parse`.
        CreditCode::parse(&first17)
    }

    /// The code, 18 upper-case characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 3–8: the administrative division code of the registering office.
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Positions 9–17: the organisation code (主体标识码).
    pub fn organization_code(&self) -> &str {
        &self.0[8..17]
    }

    /// Position 1: the registration authority code, e.g. `'9'`.
    pub fn registration_authority_code(&self) -> char {
        char::from(self.0.as_bytes()[0])
    }

    /// Position 2: the institution type code, e.g. `'1'`.
    pub fn institution_type_code(&self) -> char {
        char::from(self.0.as_bytes()[1])
    }

    /// Name of the registration authority, e.g. "工商" for `9`.
    pub fn registration_authority_name(&self) -> &'static str {
        authority_name(self.registration_authority_code())
    }

    /// Name of the institution type, e.g. "企业" for `91`.
    pub fn institution_type_name(&self) -> &'static str {
        institution_type(
            self.registration_authority_code(),
            self.institution_type_code(),
        )
        .unwrap_or("未知")
    }
}

/// Value of a credit-code character in [`ALPHABET`], `None` if not allowed.
fn char_value(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// Check character (position 18) over 17 valid upper-case characters.
fn check_character(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&b, w)| char_value(char::from(b)).unwrap_or(0) * w)
        .sum();
    let value = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(value as usize).unwrap_or('0')
}

/// GB 11714 check character over the 8 body characters of an organisation code.
fn organization_check_character(body: &[u8]) -> char {
    let sum: u32 = body
        .iter()
        .zip(ORG_WEIGHTS)
        .map(|(&b, w)| {
            let value = match b {
                b'0'..=b'9' => u32::from(b - b'0'),
                b'A'..=b'Z' => u32::from(b - b'A') + 10,
                _ => 0,
            };
            value * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap_or('0'),
    }
}

/// Maps full-width ASCII variants (U+FF01–U+FF5E) and the ideographic space to ASCII.
fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreditCode::parse(s)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&value)
    }
}

impl TryFrom<&str> for CreditCode {
    type Error = CreditCodeError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        CreditCode::parse(value)
    }
}

impl From<CreditCode> for String {
    fn from(code: CreditCode) -> Self {
        code.0
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        CreditCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Codes printed on public business licences / annual reports; each was
    /// verified against both check characters before being added here.
    const REAL_CODES: &[(&str, &str)] = &[
        ("91350100M000100Y43", "GB 32100 sample code"),
        ("914403001922038216", "华为技术有限公司"),
        ("91440300708461136T", "深圳市腾讯计算机系统有限公司"),
        ("91330100799655058B", "阿里巴巴（中国）有限公司"),
        ("914300007121944054", "中联重科股份有限公司"),
        ("91440300192317458F", "比亚迪股份有限公司"),
        ("91110108551385082Q", "小米科技有限责任公司"),
        ("911100001000044477", "中国建设银行股份有限公司"),
        ("91100000100003962T", "中国工商银行股份有限公司"),
    ];

    fn valid() -> CreditCode {
        CreditCode::parse("91350100M000100Y43").unwrap()
    }

    #[test]
    fn accepts_real_codes() {
        for (code, holder) in REAL_CODES {
            let parsed = CreditCode::parse(code)
                .unwrap_or_else(|e| panic!("{code} ({holder}) rejected: {e}"));
            assert_eq!(parsed.as_str(), *code);
        }
    }

    #[test]
    fn accessors() {
        let code = valid();
        assert_eq!(code.division_code(), "350100");
        assert_eq!(code.organization_code(), "M000100Y4");
        assert_eq!(code.registration_authority_code(), '9');
        assert_eq!(code.institution_type_code(), '1');
        assert_eq!(code.registration_authority_name(), "工商");
        assert_eq!(code.institution_type_name(), "企业");
        assert_eq!(code.to_string(), "91350100M000100Y43");
        let zoomlion = CreditCode::parse("914300007121944054").unwrap();
        assert_eq!(zoomlion.division_code(), "430000");
    }

    #[test]
    fn trims_and_normalises_case_and_width() {
        assert_eq!(
            CreditCode::parse("  91350100m000100y43\n").unwrap(),
            valid()
        );
        assert_eq!(
            CreditCode::parse("９１３５０１００Ｍ０００１００Ｙ４３").unwrap(),
            valid()
        );
    }

    #[test]
    fn empty() {
        assert_eq!(CreditCode::parse("   "), Err(CreditCodeError::Empty));
        assert_eq!(
            CreditCodeError::Empty.to_string(),
            "统一社会信用代码不能为空"
        );
    }

    #[test]
    fn wrong_length() {
        let err = CreditCode::parse("91350100M000100Y4").unwrap_err();
        assert_eq!(err, CreditCodeError::WrongLength(17));
        assert_eq!(err.to_string(), "统一社会信用代码应为18位，当前为17位");
        assert_eq!(
            CreditCode::parse("91350100M000100Y431"),
            Err(CreditCodeError::WrongLength(19))
        );
        // Counted in characters, not bytes.
        assert_eq!(
            CreditCode::parse("统一社会信用代码"),
            Err(CreditCodeError::WrongLength(8))
        );
    }

    #[test]
    fn forbidden_letters() {
        for letter in ['I', 'O', 'Z', 'S', 'V'] {
            let code = format!("9135{letter}100M000100Y43");
            let err = CreditCode::parse(&code).unwrap_err();
            assert_eq!(
                err,
                CreditCodeError::ForbiddenLetter {
                    position: 5,
                    found: letter
                }
            );
            assert_eq!(
                err.to_string(),
                format!("第5位字符“{letter}”不允许使用（不得含I、O、Z、S、V）")
            );
        }
        // Reported as typed.
        assert_eq!(
            CreditCode::parse("91350100M0001o0Y43"),
            Err(CreditCodeError::ForbiddenLetter {
                position: 14,
                found: 'o'
            })
        );
    }

    #[test]
    fn invalid_characters() {
        let err = CreditCode::parse("91350100M0001-0Y43").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::InvalidCharacter {
                position: 14,
                found: '-'
            }
        );
        assert_eq!(
            err.to_string(),
            "第14位字符“-”无效，统一社会信用代码只能由数字和大写英文字母组成"
        );
        assert_eq!(
            CreditCode::parse("9135 100M000100Y43"),
            Err(CreditCodeError::Whitespace { position: 5 })
        );
    }

    #[test]
    fn registration_authority() {
        let err = CreditCode::parse("B1350100M000100Y43").unwrap_err();
        assert_eq!(err, CreditCodeError::InvalidRegistrationAuthority('B'));
        assert_eq!(
            err.to_string(),
            "登记管理部门代码“B”无效（第1位应为1至9、A、N或Y）"
        );
        assert_eq!(
            CreditCode::parse("01350100M000100Y43"),
            Err(CreditCodeError::InvalidRegistrationAuthority('0'))
        );
    }

    #[test]
    fn institution_type() {
        let err = CreditCode::parse("94350100M000100Y43").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::InvalidInstitutionType {
                authority: '9',
                found: '4'
            }
        );
        assert_eq!(
            err.to_string(),
            "机构类别代码“4”无效：登记管理部门代码为“9”（工商）时，第2位只能为1、2或3"
        );
        assert!(matches!(
            CreditCode::parse("Y2350100M000100Y43"),
            Err(CreditCodeError::InvalidInstitutionType { .. })
        ));
        assert!(matches!(
            CreditCode::parse("99350100M000100Y43"),
            Err(CreditCodeError::InvalidInstitutionType { .. })
        ));
        // Every combination of the table is accepted.
        for (a, _, types) in AUTHORITIES {
            for (t, _) in *types {
                let code = CreditCode::from_parts(*a, *t, "430100", "MA4L0001").unwrap();
                assert_eq!(code.registration_authority_code(), *a);
                assert_eq!(code.institution_type_code(), *t);
            }
        }
    }

    #[test]
    fn division_code_must_be_digits() {
        let err = CreditCode::parse("9135A100M000100Y43").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::InvalidDivisionCode {
                position: 5,
                found: 'A'
            }
        );
        assert_eq!(
            err.to_string(),
            "第5位应为数字（第3至8位是登记管理机关行政区划码），实际为“A”"
        );
    }

    #[test]
    fn check_character_mismatch() {
        let err = CreditCode::parse("91350100M000100Y4X").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::CheckCharacterMismatch {
                expected: '3',
                found: 'X'
            }
        );
        assert_eq!(
            err.to_string(),
            "校验码错误：第18位应为“3”，实际为“X”，请核对代码是否抄错"
        );
    }

    #[test]
    fn organization_check_mismatch() {
        // Position 17 wrong, position 18 recomputed so that only the GB 11714 check fails.
        let mut first17 = String::from("91350100M000100Y5");
        let check = check_character(first17.as_bytes());
        first17.push(check);
        let err = CreditCode::parse(&first17).unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::OrganizationCheckMismatch {
                expected: '4',
                found: '5'
            }
        );
        assert!(err.to_string().starts_with("第17位组织机构代码校验码错误"));
    }

    #[test]
    fn check_value_31_maps_to_zero() {
        // Find a prefix whose weighted sum is a multiple of 31: check char must be '0'.
        let code = (0..10_000u32)
            .map(|n| format!("{n:08}"))
            .filter_map(|body| CreditCode::from_parts('9', '1', "430100", &body).ok())
            .find(|c| c.as_str().ends_with('0'))
            .unwrap();
        assert!(CreditCode::parse(code.as_str()).is_ok());
    }

    #[test]
    fn from_parts_builds_valid_codes() {
        let code = CreditCode::from_parts('9', '1', "350100", "M000100Y").unwrap();
        assert_eq!(code, valid());
        let code = CreditCode::from_parts('9', '1', "430102", "ma4l0001").unwrap();
        assert_eq!(code.division_code(), "430102");
        assert!(CreditCode::from_parts('9', '1', "43010", "MA4L0001").is_err());
        assert!(CreditCode::from_parts('9', '1', "430102", "MA4L000I").is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Org {
            code: CreditCode,
        }
        let org = Org { code: valid() };
        let text = toml::to_string(&org).unwrap();
        assert_eq!(text.trim(), "code = \"91350100M000100Y43\"");
        assert_eq!(toml::from_str::<Org>(&text).unwrap(), org);
        let lower: Org = toml::from_str("code = \"91350100m000100y43\"").unwrap();
        assert_eq!(lower, org);
        let err = toml::from_str::<Org>("code = \"91350100M000100Y4X\"").unwrap_err();
        assert!(err.to_string().contains("校验码错误"), "{err}");
    }

    fn alphabet_char() -> impl Strategy<Value = char> {
        prop::sample::select(ALPHABET.chars().collect::<Vec<_>>())
    }

    prop_compose! {
        fn valid_code()(
            authority_index in 0..AUTHORITIES.len(),
            type_pick in any::<prop::sample::Index>(),
            division in 100_000u32..=999_999,
            body in prop::collection::vec(alphabet_char(), 8),
        ) -> CreditCode {
            let (a, _, types) = AUTHORITIES[authority_index];
            let (t, _) = types[type_pick.index(types.len())];
            let body: String = body.into_iter().collect();
            CreditCode::from_parts(a, t, &division.to_string(), &body).unwrap()
        }
    }

    proptest! {
        #[test]
        fn generated_codes_are_valid(code in valid_code()) {
            let reparsed = CreditCode::parse(code.as_str()).unwrap();
            prop_assert_eq!(&reparsed, &code);
            prop_assert_eq!(CreditCode::parse(&code.as_str().to_lowercase()).unwrap(), code);
        }

        #[test]
        fn any_single_change_is_rejected(
            code in valid_code(),
            position in 0..LENGTH,
            replacement in prop_oneof![
                alphabet_char(),
                prop::sample::select(vec!['I', 'O', 'Z', 'S', 'V', '-', ' ', '中']),
            ],
        ) {
            let mut chars: Vec<char> = code.as_str().chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} accepted", changed);
        }

        #[test]
        fn never_panics(input in ".{0,30}") {
            let _ = CreditCode::parse(&input);
        }
    }
}
