//! A certificate's public check code: the short, ASCII form of its number that the QR code and
//! the printed verify address carry (`/verify/C2026-001` for 湘集群认〔2026〕第001号), and the
//! parsing of what a person types or scans into the verify page.

use crate::round::{CertificatePrefixes, Designation};

/// Which certificate a number or code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateKey {
    pub designation: Designation,
    pub year: i32,
    pub seq: u32,
}

/// The letter of the short code: P for 培育对象, C for a certified cluster.
fn letter(d: Designation) -> char {
    match d {
        Designation::CultivationTarget => 'P',
        Designation::Certified => 'C',
    }
}

impl CertificateKey {
    /// The short code printed under the QR code, e.g. `C2026-001`.
    pub fn code(&self) -> String {
        format!("{}{}-{:03}", letter(self.designation), self.year, self.seq)
    }

    /// The certificate number as issued under `prefixes`, e.g. prefix〔2026〕第001号.
    pub fn number(&self, prefixes: &CertificatePrefixes) -> String {
        self.designation
            .certificate_number(prefixes, self.year, self.seq)
    }

    /// Reads a short code (any case, the hyphen optional) or a whole certificate number issued
    /// under one of `prefixes` (every programme installed); anything else is None.
    pub fn parse(text: &str, prefixes: &[CertificatePrefixes]) -> Option<CertificateKey> {
        let text = text.trim();
        parse_code(text).or_else(|| parse_number(text, prefixes))
    }
}

/// A city-level title's certificate (第十六条), numbered per city and year: its public check
/// code is `S430100-2026-001` (S, the city's code, the year, the sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CityCertificateKey {
    /// The conferring city's six-digit code.
    pub city: u32,
    pub year: i32,
    pub seq: u32,
}

impl CityCertificateKey {
    /// The short code printed under the QR code, e.g. `S430100-2026-001`.
    pub fn code(&self) -> String {
        format!("S{:06}-{}-{:03}", self.city, self.year, self.seq)
    }

    /// The certificate number under the city's prefix (the city policy's, with the city's name
    /// put in): prefix〔2026〕第001号, spelt as the provincial ones.
    pub fn number(&self, prefix: &str) -> String {
        format!("{prefix}〔{}〕第{:03}号", self.year, self.seq)
    }

    /// Reads a short code (any case, the hyphens optional); anything else is None. Whole
    /// numbers are looked up as issued, since each city words its own prefix.
    pub fn parse(text: &str) -> Option<CityCertificateKey> {
        let text = text.trim();
        let rest = text.strip_prefix(['S', 's'])?;
        let digits: String = rest.chars().filter(|c| *c != '-').collect();
        let hyphens = rest.len() - digits.len();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() < 11 || hyphens > 2 {
            return None;
        }
        if hyphens > 0 {
            let parts: Vec<&str> = rest.split('-').collect();
            if parts.len() != 3 || parts[0].len() != 6 || parts[1].len() != 4 {
                return None;
            }
        }
        let (city, rest) = digits.split_at(6);
        let (year, seq) = rest.split_at(4);
        let (year, seq) = year_and_seq(year, seq)?;
        let city: u32 = city.parse().ok()?;
        (city.is_multiple_of(100) && city >= 110_000).then_some(CityCertificateKey {
            city,
            year,
            seq,
        })
    }
}

fn year_and_seq(year: &str, seq: &str) -> Option<(i32, u32)> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !digits(year) || !digits(seq) || seq.len() > 6 {
        return None;
    }
    let seq: u32 = seq.parse().ok()?;
    (seq > 0).then_some((year.parse().ok()?, seq))
}

fn parse_code(text: &str) -> Option<CertificateKey> {
    let mut chars = text.chars();
    let first = chars.next()?.to_ascii_uppercase();
    let designation = Designation::ALL.into_iter().find(|d| letter(*d) == first)?;
    let rest = chars.as_str();
    let (year, seq) = match rest.split_once('-') {
        Some((y, s)) => (y, s),
        None if rest.len() > 4 && rest.is_char_boundary(4) => rest.split_at(4),
        None => return None,
    };
    let (year, seq) = year_and_seq(year, seq)?;
    Some(CertificateKey {
        designation,
        year,
        seq,
    })
}

/// A whole number is read by its year and sequence and accepted only when it is exactly the
/// number one of the designations issues for them (so 第001号, not 第1号), so the spelling
/// lives in one place: `Designation::certificate_number`.
fn parse_number(text: &str, prefixes: &[CertificatePrefixes]) -> Option<CertificateKey> {
    let (_, rest) = text.split_once('〔')?;
    let (year, rest) = rest.split_once('〕')?;
    let seq = rest.strip_prefix('第')?.strip_suffix('号')?;
    let (year, seq) = year_and_seq(year, seq)?;
    Designation::ALL
        .into_iter()
        .map(|designation| CertificateKey {
            designation,
            year,
            seq,
        })
        .find(|key| prefixes.iter().any(|p| key.number(p) == text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hunan() -> Vec<CertificatePrefixes> {
        vec![CertificatePrefixes {
            cultivation_target: "湘集群培".into(),
            certified: "湘集群认".into(),
        }]
    }

    #[test]
    fn codes_and_numbers_name_the_same_certificate() {
        let key = CertificateKey {
            designation: Designation::Certified,
            year: 2026,
            seq: 1,
        };
        assert_eq!(key.code(), "C2026-001");
        assert_eq!(key.number(&hunan()[0]), "湘集群认〔2026〕第001号");
        for typed in [
            "C2026-001",
            "c2026-001",
            "C2026001",
            " C2026-001 ",
            "湘集群认〔2026〕第001号",
        ] {
            assert_eq!(CertificateKey::parse(typed, &hunan()), Some(key), "{typed}");
        }
        let ct = CertificateKey::parse("P2027-012", &hunan()).unwrap();
        assert_eq!(ct.designation, Designation::CultivationTarget);
        assert_eq!(ct.number(&hunan()[0]), "湘集群培〔2027〕第012号");
        // Another programme's prefixes read its own numbers, not Hunan's.
        let other = vec![CertificatePrefixes {
            cultivation_target: "某集群培".into(),
            certified: "某集群认".into(),
        }];
        assert_eq!(
            CertificateKey::parse("湘集群认〔2026〕第001号", &other),
            None
        );
        assert_eq!(
            CertificateKey::parse("某集群认〔2026〕第001号", &other),
            Some(key)
        );
    }

    #[test]
    fn malformed_text_names_no_certificate() {
        for typed in [
            "",
            "C",
            "X2026-001",
            "C26-001",
            "C2026-",
            "C2026-000",
            "C2026-abc",
            "C2026-0010000",
            "湘集群认〔2026〕第1号",
            "湘集群X〔2026〕第001号",
            "湘集群认(2026)第001号",
            "<script>",
            "C２０２６-001",
        ] {
            assert_eq!(CertificateKey::parse(typed, &hunan()), None, "{typed}");
        }
    }

    #[test]
    fn city_codes_name_city_year_and_sequence() {
        let key = CityCertificateKey {
            city: 430100,
            year: 2026,
            seq: 1,
        };
        assert_eq!(key.code(), "S430100-2026-001");
        assert_eq!(key.number("长沙市集群认"), "长沙市集群认〔2026〕第001号");
        for typed in ["S430100-2026-001", "s430100-2026-001", " S4301002026001 "] {
            assert_eq!(CityCertificateKey::parse(typed), Some(key), "{typed}");
        }
        for typed in [
            "",
            "S",
            "S430100-2026-000",
            "S430101-2026-001",
            "S43010-2026-001",
            "S430100-26-001",
            "S430100--2026001",
            "C2026-001",
            "S430100-2026-0010000",
            "Ｓ430100-2026-001",
        ] {
            assert_eq!(CityCertificateKey::parse(typed), None, "{typed}");
        }
        // A provincial code is not a city one, nor the reverse.
        assert_eq!(CertificateKey::parse("S430100-2026-001", &hunan()), None);
    }

    proptest! {
        #[test]
        fn every_city_code_reads_back(city in 11u32..99, year in 2000i32..2100, seq in 1u32..5000) {
            let key = CityCertificateKey { city: city * 10_000 + 100, year, seq };
            prop_assert_eq!(CityCertificateKey::parse(&key.code()), Some(key));
        }

        #[test]
        fn every_code_and_number_reads_back(cert in any::<bool>(), year in 2000i32..2100, seq in 1u32..5000) {
            let designation = if cert { Designation::Certified } else { Designation::CultivationTarget };
            let key = CertificateKey { designation, year, seq };
            prop_assert_eq!(CertificateKey::parse(&key.code(), &hunan()), Some(key));
            prop_assert_eq!(CertificateKey::parse(&key.number(&hunan()[0]), &hunan()), Some(key));
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,24}") {
            let _ = CertificateKey::parse(&text, &hunan());
            let _ = CityCertificateKey::parse(&text);
        }
    }
}
