//! Administrative divisions of Hunan province (GB/T 2260): the province, its 14
//! cities/prefectures (市州) and their 122 county-level divisions (县市区).
//!
//! The table lives in `data/hunan-divisions.toml`, is compiled into the binary,
//! and is parsed once on first use. The tests below prove it parses and is
//! consistent, so the lazy parse cannot fail at run time.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 6-digit GB/T 2260 administrative division code, e.g. `430102` (芙蓉区).
///
/// Holds any well-formed code (6 digits, not starting with 0); whether the code
/// exists in Hunan's table is answered by [`city`] and [`county`].
/// Serialised as a 6-character string; deserialised from a string or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "sea-orm", derive(sea_orm::DeriveValueType))]
#[cfg_attr(feature = "sea-orm", sea_orm(value_type = "String"))]
pub struct RegionCode(u32);

impl RegionCode {
    /// 湖南省.
    pub const HUNAN: RegionCode = RegionCode(430_000);
    /// 长沙市.
    pub const CHANGSHA: RegionCode = RegionCode(430_100);
    /// 株洲市.
    pub const ZHUZHOU: RegionCode = RegionCode(430_200);
    /// 湘潭市.
    pub const XIANGTAN: RegionCode = RegionCode(430_300);

    /// A code from its numeric value; `None` unless it has exactly 6 digits.
    pub const fn new(code: u32) -> Option<RegionCode> {
        if code >= 100_000 && code <= 999_999 {
            Some(RegionCode(code))
        } else {
            None
        }
    }

    /// The numeric value, e.g. `430102`.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The code of the prefecture level this code belongs to (`430102` → `430100`).
    pub const fn city_part(self) -> RegionCode {
        RegionCode(self.0 / 100 * 100)
    }

    /// The code of the province this code belongs to (`430102` → `430000`).
    pub const fn province_part(self) -> RegionCode {
        RegionCode(self.0 / 10_000 * 10_000)
    }
}

/// A string that is not a 6-digit division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("行政区划代码应为6位数字（如430102），当前为“{0}”")]
pub struct RegionCodeError(pub String);

impl FromStr for RegionCode {
    type Err = RegionCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.len() != 6 || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError(trimmed.to_owned()));
        }
        trimmed
            .parse::<u32>()
            .ok()
            .and_then(RegionCode::new)
            .ok_or_else(|| RegionCodeError(trimmed.to_owned()))
    }
}

impl TryFrom<u32> for RegionCode {
    type Error = RegionCodeError;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        RegionCode::new(value).ok_or_else(|| RegionCodeError(value.to_string()))
    }
}

impl From<RegionCode> for u32 {
    fn from(code: RegionCode) -> Self {
        code.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = RegionCode;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("6位数字的行政区划代码")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RegionCode, E> {
                v.parse().map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RegionCode, E> {
                u32::try_from(v)
                    .ok()
                    .and_then(RegionCode::new)
                    .ok_or_else(|| E::custom(RegionCodeError(v.to_string())))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RegionCode, E> {
                u32::try_from(v)
                    .ok()
                    .and_then(RegionCode::new)
                    .ok_or_else(|| E::custom(RegionCodeError(v.to_string())))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

/// The kind of a county-level division.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountyKind {
    /// 市辖区.
    District,
    /// 县.
    County,
    /// 自治县.
    AutonomousCounty,
    /// 县级市.
    CountyLevelCity,
}

impl CountyKind {
    /// All kinds, in the order used for statistics.
    pub const ALL: [CountyKind; 4] = [
        CountyKind::District,
        CountyKind::CountyLevelCity,
        CountyKind::County,
        CountyKind::AutonomousCounty,
    ];

    /// The Chinese name of the kind, e.g. "市辖区".
    pub const fn label(self) -> &'static str {
        match self {
            CountyKind::District => "市辖区",
            CountyKind::County => "县",
            CountyKind::AutonomousCounty => "自治县",
            CountyKind::CountyLevelCity => "县级市",
        }
    }
}

impl fmt::Display for CountyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A city or prefecture (市州) of Hunan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct City {
    code: RegionCode,
    name: String,
    counties: Vec<County>,
}

impl City {
    /// The code, e.g. `430100`.
    pub fn code(&self) -> RegionCode {
        self.code
    }

    /// The official name, e.g. "长沙市", "湘西土家族苗族自治州".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its county-level divisions, in code order.
    pub fn counties(&self) -> &[County] {
        &self.counties
    }
}

impl fmt::Display for City {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A county-level division (县、县级市、市辖区、自治县).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct County {
    code: RegionCode,
    name: String,
    kind: CountyKind,
    city_code: RegionCode,
}

impl County {
    /// The code, e.g. `430102`.
    pub fn code(&self) -> RegionCode {
        self.code
    }

    /// The official name, e.g. "芙蓉区".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// District, county, autonomous county or county-level city.
    pub fn kind(&self) -> CountyKind {
        self.kind
    }

    /// The code of the city/prefecture it belongs to.
    pub fn city_code(&self) -> RegionCode {
        self.city_code
    }

    /// The city/prefecture it belongs to.
    pub fn city(&self) -> &'static City {
        // Every county is built from its city's entry, so the lookup always succeeds;
        // the fallback only keeps this free of panics.
        city(self.city_code).unwrap_or(&DATA.cities[0])
    }

    /// City and county name together, e.g. "长沙市芙蓉区".
    pub fn full_name(&self) -> String {
        format!("{}{}", self.city().name(), self.name)
    }
}

impl fmt::Display for County {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The province code, 430000.
pub const PROVINCE_CODE: RegionCode = RegionCode::HUNAN;

/// The province name.
pub fn province_name() -> &'static str {
    &DATA.province_name
}

/// Why `text` is refused as a city code: "“4301”不是湖南省的市州代码", the province named by
/// the region data.
pub fn not_a_city(text: impl std::fmt::Display) -> String {
    format!("“{text}”不是{}的市州代码", province_name())
}

/// Why `text` is refused as a county code, in the same words.
pub fn not_a_county(text: impl std::fmt::Display) -> String {
    format!("“{text}”不是{}的县级行政区划代码", province_name())
}

/// The 14 cities and prefectures, in code order.
pub fn cities() -> &'static [City] {
    &DATA.cities
}

/// The city or prefecture with this code (e.g. `430100`), if it is one of Hunan's 14.
pub fn city(code: RegionCode) -> Option<&'static City> {
    DATA.cities.iter().find(|c| c.code == code)
}

/// The name of the city a stored code names (`"430100"` → "长沙市"). A code that names none of
/// Hunan's cities shows as stored, so a bad row stays visible instead of turning blank.
pub fn city_name(code: &str) -> String {
    code.parse::<RegionCode>()
        .map_or_else(|_| code.to_string(), city_name_of)
}

/// [`city_name`] of a parsed code.
pub fn city_name_of(code: RegionCode) -> String {
    city(code).map_or_else(|| code.to_string(), |c| c.name.clone())
}

/// The county-level division with this code (e.g. `430102`), if it is one of Hunan's.
pub fn county(code: RegionCode) -> Option<&'static County> {
    city(code.city_part())?
        .counties
        .iter()
        .find(|c| c.code == code)
}

/// All 122 county-level divisions, ordered by city then code.
pub fn counties() -> impl Iterator<Item = &'static County> {
    DATA.cities.iter().flat_map(|c| c.counties.iter())
}

/// The county-level divisions of a city; empty if the code is not a Hunan city.
pub fn counties_of(city_code: RegionCode) -> &'static [County] {
    city(city_code).map_or(&[], |c| &c.counties)
}

struct Data {
    province_name: String,
    cities: Vec<City>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    province: RawProvince,
    city: Vec<RawCity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvince {
    code: RegionCode,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCity {
    code: RegionCode,
    name: String,
    counties: Vec<RawCounty>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCounty {
    code: RegionCode,
    name: String,
    kind: CountyKind,
}

const SOURCE: &str = include_str!("../data/hunan-divisions.toml");

fn load(source: &str) -> Result<Data, String> {
    let raw: RawFile = toml::from_str(source).map_err(|e| e.to_string())?;
    if raw.province.code != PROVINCE_CODE {
        return Err(format!(
            "expected province {PROVINCE_CODE}, found {}",
            raw.province.code
        ));
    }
    if raw.city.is_empty() {
        return Err("no cities".to_owned());
    }
    let cities = raw
        .city
        .into_iter()
        .map(|c| City {
            code: c.code,
            name: c.name,
            counties: c
                .counties
                .into_iter()
                .map(|k| County {
                    code: k.code,
                    name: k.name,
                    kind: k.kind,
                    city_code: c.code,
                })
                .collect(),
        })
        .collect();
    Ok(Data {
        province_name: raw.province.name,
        cities,
    })
}

static DATA: LazyLock<Data> = LazyLock::new(|| {
    load(SOURCE).unwrap_or_else(|e| {
        panic!("embedded data/hunan-divisions.toml is invalid (the test suite should have caught this): {e}")
    })
});

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn code(n: u32) -> RegionCode {
        RegionCode::new(n).unwrap()
    }

    #[test]
    fn embedded_data_parses() {
        let data = load(SOURCE).unwrap();
        assert_eq!(data.province_name, "湖南省");
        assert_eq!(province_name(), "湖南省");
        assert_eq!(PROVINCE_CODE.to_string(), "430000");
        assert!(load(&SOURCE.replace("code = \"430000\"", "code = \"420000\"")).is_err());
    }

    #[test]
    fn city_name_shows_an_unknown_code_as_stored() {
        assert_eq!(city_name("430100"), "长沙市");
        assert_eq!(city_name("430102"), "430102");
        assert_eq!(city_name(""), "");
    }

    #[test]
    fn fourteen_cities_with_exact_codes_and_names() {
        let expected = [
            (430100, "长沙市"),
            (430200, "株洲市"),
            (430300, "湘潭市"),
            (430400, "衡阳市"),
            (430500, "邵阳市"),
            (430600, "岳阳市"),
            (430700, "常德市"),
            (430800, "张家界市"),
            (430900, "益阳市"),
            (431000, "郴州市"),
            (431100, "永州市"),
            (431200, "怀化市"),
            (431300, "娄底市"),
            (433100, "湘西土家族苗族自治州"),
        ];
        let actual: Vec<(u32, &str)> = cities().iter().map(|c| (c.code.get(), c.name())).collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn counts_per_kind() {
        let count = |kind| counties().filter(|c| c.kind == kind).count();
        assert_eq!(counties().count(), 122);
        assert_eq!(count(CountyKind::District), 36);
        assert_eq!(count(CountyKind::CountyLevelCity), 19);
        assert_eq!(count(CountyKind::County), 60);
        assert_eq!(count(CountyKind::AutonomousCounty), 7);
    }

    #[test]
    fn counts_per_city() {
        // (city, districts, county-level cities, counties, autonomous counties)
        let expected = [
            (430100, 6, 2, 1, 0),
            (430200, 5, 1, 3, 0),
            (430300, 2, 2, 1, 0),
            (430400, 5, 2, 5, 0),
            (430500, 3, 2, 6, 1),
            (430600, 3, 2, 4, 0),
            (430700, 2, 1, 6, 0),
            (430800, 2, 0, 2, 0),
            (430900, 2, 1, 3, 0),
            (431000, 2, 1, 8, 0),
            (431100, 2, 1, 7, 1),
            (431200, 1, 1, 5, 5),
            (431300, 1, 2, 2, 0),
            (433100, 0, 1, 7, 0),
        ];
        for (city_code, d, c, k, a) in expected {
            let list = counties_of(code(city_code));
            let n = |kind| list.iter().filter(|x| x.kind == kind).count();
            assert_eq!(
                (
                    n(CountyKind::District),
                    n(CountyKind::CountyLevelCity),
                    n(CountyKind::County),
                    n(CountyKind::AutonomousCounty)
                ),
                (d, c, k, a),
                "{city_code}"
            );
        }
    }

    #[test]
    fn county_codes_start_with_their_city() {
        for city in cities() {
            assert_eq!(city.code.province_part(), RegionCode::HUNAN);
            assert_eq!(city.code.city_part(), city.code, "{}", city.name);
            for county in city.counties() {
                assert_eq!(county.code.city_part(), city.code, "{}", county.name);
                assert_ne!(county.code, city.code);
                assert_eq!(county.city_code(), city.code);
            }
        }
    }

    #[test]
    fn codes_follow_gbt2260_numbering() {
        // 01–20 districts (and, in a prefecture/autonomous prefecture, county-level
        // cities), 21–80 counties, 81–99 county-level cities.
        for county in counties() {
            let suffix = county.code.get() % 100;
            let in_prefecture = county.city_code.get() / 100 % 100 >= 21;
            let range = match county.kind {
                CountyKind::District => 1..=20,
                CountyKind::County | CountyKind::AutonomousCounty => 21..=80,
                CountyKind::CountyLevelCity if in_prefecture => 1..=20,
                CountyKind::CountyLevelCity => 81..=99,
            };
            assert!(range.contains(&suffix), "{} {}", county.code, county.name);
        }
    }

    #[test]
    fn kind_matches_name() {
        for county in counties() {
            let name = county.name();
            let expected = if name.ends_with("自治县") {
                CountyKind::AutonomousCounty
            } else if name.ends_with('区') {
                CountyKind::District
            } else if name.ends_with('市') {
                CountyKind::CountyLevelCity
            } else {
                assert!(name.ends_with('县'), "{name}");
                CountyKind::County
            };
            assert_eq!(county.kind, expected, "{name}");
        }
    }

    #[test]
    fn no_duplicates() {
        let mut codes = HashSet::new();
        for city in cities() {
            assert!(codes.insert(city.code), "{}", city.code);
            let mut names = HashSet::new();
            for county in city.counties() {
                assert!(codes.insert(county.code), "{}", county.code);
                assert!(names.insert(county.name()), "{}", county.name);
            }
            let mut sorted: Vec<_> = city.counties().iter().map(|c| c.code).collect();
            sorted.sort();
            let listed: Vec<_> = city.counties().iter().map(|c| c.code).collect();
            assert_eq!(sorted, listed, "{} not in code order", city.name);
        }
        let city_names: HashSet<_> = cities().iter().map(City::name).collect();
        assert_eq!(city_names.len(), 14);
    }

    #[test]
    fn lookups() {
        let changsha = city(code(430100)).unwrap();
        assert_eq!(changsha.name(), "长沙市");
        assert_eq!(changsha.counties().len(), 9);

        let furong = county(code(430102)).unwrap();
        assert_eq!(furong.name(), "芙蓉区");
        assert_eq!(furong.kind(), CountyKind::District);
        assert_eq!(furong.city_code(), RegionCode::CHANGSHA);
        assert_eq!(furong.city().name(), "长沙市");
        assert_eq!(furong.full_name(), "长沙市芙蓉区");

        let spot = [
            (430212, "渌口区", CountyKind::District),
            (430582, "邵东市", CountyKind::CountyLevelCity),
            (430781, "津市市", CountyKind::CountyLevelCity),
            (431181, "祁阳市", CountyKind::CountyLevelCity),
            (431229, "靖州苗族侗族自治县", CountyKind::AutonomousCounty),
            (433101, "吉首市", CountyKind::CountyLevelCity),
            (433130, "龙山县", CountyKind::County),
        ];
        for (c, name, kind) in spot {
            let county = county(code(c)).unwrap();
            assert_eq!((county.name(), county.kind()), (name, kind));
        }

        // Abolished, a city code, another province, and a functional zone.
        assert!(county(code(431121)).is_none()); // 祁阳县 → 祁阳市 431181
        assert!(county(code(430221)).is_none()); // 株洲县 → 渌口区 430212
        assert!(county(code(430100)).is_none());
        assert!(county(code(420102)).is_none());
        assert!(county(code(430271)).is_none());
        assert!(city(code(430102)).is_none());
        assert!(city(code(432100)).is_none());
        assert!(counties_of(code(440100)).is_empty());
        assert_eq!(counties_of(code(433100)).len(), 8);
    }

    #[test]
    fn region_code_parsing_and_serde() {
        assert_eq!("430102".parse::<RegionCode>().unwrap(), code(430102));
        assert_eq!(" 430102 ".parse::<RegionCode>().unwrap(), code(430102));
        for bad in ["43010", "4301020", "43O102", "043010", "", "+43010"] {
            assert!(bad.parse::<RegionCode>().is_err(), "{bad}");
        }
        assert_eq!(
            "4301".parse::<RegionCode>().unwrap_err().to_string(),
            "行政区划代码应为6位数字（如430102），当前为“4301”"
        );
        assert!(RegionCode::new(99_999).is_none());
        assert!(RegionCode::try_from(1_000_000).is_err());
        assert_eq!(code(430102).to_string(), "430102");

        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Row {
            county: RegionCode,
        }
        let row = Row {
            county: code(430102),
        };
        let text = toml::to_string(&row).unwrap();
        assert_eq!(text.trim(), "county = \"430102\"");
        assert_eq!(toml::from_str::<Row>(&text).unwrap(), row);
        assert_eq!(toml::from_str::<Row>("county = 430102").unwrap(), row);
        assert!(toml::from_str::<Row>("county = \"4301\"").is_err());
        assert!(toml::from_str::<Row>("county = 12").is_err());
    }

    #[test]
    fn kind_labels() {
        assert_eq!(CountyKind::District.to_string(), "市辖区");
        assert_eq!(CountyKind::CountyLevelCity.label(), "县级市");
        assert_eq!(CountyKind::County.label(), "县");
        assert_eq!(CountyKind::AutonomousCounty.label(), "自治县");
    }
}
