//! 第十六条 分级培育: the ladder a cluster climbs — county (its lead county), city (a city-level
//! title from its city's own competition), province (培育对象, then 认定) and national (selected
//! after the province's nomination, 第十七条) — and the highest rung it stands on.

use crate::round::Designation;

/// A rung of the ladder, lowest first (the order is the ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// No title yet: the cluster stands in its lead county.
    County,
    City,
    /// A provincial 培育对象.
    ProvinceCultivation,
    /// A provincial 认定 cluster.
    ProvinceCertified,
    National,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::County,
        Level::City,
        Level::ProvinceCultivation,
        Level::ProvinceCertified,
        Level::National,
    ];

    /// The filter key: the two provincial rungs share "province".
    pub fn key(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::City => "city",
            Level::ProvinceCultivation | Level::ProvinceCertified => "province",
            Level::National => "national",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::County => "县级",
            Level::City => "市级",
            Level::ProvinceCultivation | Level::ProvinceCertified => "省级",
            Level::National => "国家级",
        }
    }
}

/// What a cluster holds: a live city title, its live provincial designations, and whether it
/// was selected at the national level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub city_title: bool,
    pub provincial: Vec<Designation>,
    pub national: bool,
}

/// The highest rung the cluster stands on.
pub fn highest(s: &Standing) -> Level {
    if s.national {
        Level::National
    } else if s.provincial.contains(&Designation::Certified) {
        Level::ProvinceCertified
    } else if s.provincial.contains(&Designation::CultivationTarget) {
        Level::ProvinceCultivation
    } else if s.city_title {
        Level::City
    } else {
        Level::County
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_rung_wins() {
        let cases = [
            (false, vec![], false, Level::County),
            (true, vec![], false, Level::City),
            (
                true,
                vec![Designation::CultivationTarget],
                false,
                Level::ProvinceCultivation,
            ),
            (
                false,
                vec![Designation::CultivationTarget, Designation::Certified],
                false,
                Level::ProvinceCertified,
            ),
            (true, vec![Designation::Certified], true, Level::National),
            (false, vec![], true, Level::National),
        ];
        for (city_title, provincial, national, expected) in cases {
            let s = Standing {
                city_title,
                provincial,
                national,
            };
            assert_eq!(highest(&s), expected, "{s:?}");
        }
    }

    #[test]
    fn rungs_are_ordered_from_county_to_nation() {
        let mut sorted = Level::ALL;
        sorted.sort();
        assert_eq!(sorted, Level::ALL);
        assert_eq!(Level::ProvinceCultivation.key(), "province");
        assert_eq!(Level::National.label(), "国家级");
    }
}
