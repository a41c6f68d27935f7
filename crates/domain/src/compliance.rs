//! Reporting compliance for one period (第十三条, 第五条 及时掌握集群建设和运营情况): whether a
//! cluster filed the report it owed on time, late, not yet, or not at all, as the dashboards
//! count it. A report counts as filed from its first submission, so a report returned for
//! changes and resubmitted keeps the date it was first filed.

use time::Date;

/// Where one owed report stands for compliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compliance {
    /// First submitted on or before the due date.
    OnTime,
    /// First submitted after the due date.
    Late,
    /// Not submitted and the due date has passed.
    Missing,
    /// Not submitted and not yet due (or the due date is not known yet).
    Pending,
}

impl Compliance {
    pub const ALL: [Compliance; 4] = [
        Compliance::OnTime,
        Compliance::Late,
        Compliance::Missing,
        Compliance::Pending,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Compliance::OnTime => "on_time",
            Compliance::Late => "late",
            Compliance::Missing => "missing",
            Compliance::Pending => "pending",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Compliance::OnTime => "按时报送",
            Compliance::Late => "逾期报送",
            Compliance::Missing => "逾期未报",
            Compliance::Pending => "未到截止日期",
        }
    }

    pub fn from_key(key: &str) -> Option<Compliance> {
        Compliance::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// Classifies an owed report: `first_filed` is the (local) date of its first submission, `due`
/// the effective due date (absent while that year's calendar is not imported), `today` the date.
pub fn classify(first_filed: Option<Date>, due: Option<Date>, today: Date) -> Compliance {
    match (first_filed, due) {
        (Some(filed), Some(due)) if filed > due => Compliance::Late,
        (Some(_), _) => Compliance::OnTime,
        (None, Some(due)) if today > due => Compliance::Missing,
        (None, _) => Compliance::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn each_case_of_an_owed_report() {
        let due = date!(2026 - 02 - 02);
        let table = [
            (
                Some(date!(2026 - 01 - 20)),
                Some(due),
                date!(2026 - 03 - 01),
                Compliance::OnTime,
            ),
            (
                Some(due),
                Some(due),
                date!(2026 - 03 - 01),
                Compliance::OnTime,
            ),
            (
                Some(date!(2026 - 02 - 03)),
                Some(due),
                date!(2026 - 03 - 01),
                Compliance::Late,
            ),
            (None, Some(due), due, Compliance::Pending),
            (None, Some(due), date!(2026 - 02 - 03), Compliance::Missing),
            (None, None, date!(2027 - 02 - 03), Compliance::Pending),
            (
                Some(date!(2027 - 02 - 03)),
                None,
                date!(2027 - 02 - 03),
                Compliance::OnTime,
            ),
        ];
        for (filed, due, today, expected) in table {
            assert_eq!(
                classify(filed, due, today),
                expected,
                "{filed:?} {due:?} {today:?}"
            );
        }
    }

    #[test]
    fn keys_read_back() {
        for c in Compliance::ALL {
            assert_eq!(Compliance::from_key(c.key()), Some(c));
            assert!(!c.label().is_empty());
        }
        assert_eq!(Compliance::from_key("soon"), None);
    }

    proptest! {
        /// A filed report is never missing or pending; an unfiled one never on time or late;
        /// filing later never makes a report more compliant.
        #[test]
        fn filing_decides_the_side(a in 0i64..400, b in 0i64..400, d in 0i64..400, t in 0i64..400) {
            let base = date!(2025 - 01 - 01);
            let day = |n: i64| base + time::Duration::days(n);
            let due = Some(day(d));
            let filed = classify(Some(day(a)), due, day(t));
            prop_assert!(matches!(filed, Compliance::OnTime | Compliance::Late));
            prop_assert!(matches!(classify(None, due, day(t)), Compliance::Missing | Compliance::Pending));
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(classify(Some(day(early)), due, day(t)) <= classify(Some(day(late)), due, day(t)));
        }
    }
}
