use std::collections::BTreeSet;
use std::sync::LazyLock;

use proptest::prelude::*;
use time::macros::date;
use time::{Date, Duration};

use super::*;

static CAL: LazyLock<Calendar> = LazyLock::new(|| Calendar::parse(BUILTIN).unwrap());

/// Key facts typed by hand from the State Council General Office notices
/// (国务院办公厅关于2021…2026年部分节假日安排的通知), independent of the data file,
/// so a wrong data file fails the test. Runs include the weekend days merged into them.
const HOLIDAYS: &[(&str, Date, Date)] = &[
    ("元旦", date!(2021 - 01 - 01), date!(2021 - 01 - 03)),
    ("春节", date!(2021 - 02 - 11), date!(2021 - 02 - 17)),
    ("清明节", date!(2021 - 04 - 03), date!(2021 - 04 - 05)),
    ("劳动节", date!(2021 - 05 - 01), date!(2021 - 05 - 05)),
    ("端午节", date!(2021 - 06 - 12), date!(2021 - 06 - 14)),
    ("中秋节", date!(2021 - 09 - 19), date!(2021 - 09 - 21)),
    ("国庆节", date!(2021 - 10 - 01), date!(2021 - 10 - 07)),
    ("元旦", date!(2022 - 01 - 01), date!(2022 - 01 - 03)),
    ("春节", date!(2022 - 01 - 31), date!(2022 - 02 - 06)),
    ("清明节", date!(2022 - 04 - 03), date!(2022 - 04 - 05)),
    ("劳动节", date!(2022 - 04 - 30), date!(2022 - 05 - 04)),
    ("端午节", date!(2022 - 06 - 03), date!(2022 - 06 - 05)),
    ("中秋节", date!(2022 - 09 - 10), date!(2022 - 09 - 12)),
    ("国庆节", date!(2022 - 10 - 01), date!(2022 - 10 - 07)),
    // 2023 元旦: 2022-12-31 .. 2023-01-02.
    ("元旦", date!(2022 - 12 - 31), date!(2022 - 12 - 31)),
    ("元旦", date!(2023 - 01 - 01), date!(2023 - 01 - 02)),
    ("春节", date!(2023 - 01 - 21), date!(2023 - 01 - 27)),
    ("清明节", date!(2023 - 04 - 05), date!(2023 - 04 - 05)),
    ("劳动节", date!(2023 - 04 - 29), date!(2023 - 05 - 03)),
    ("端午节", date!(2023 - 06 - 22), date!(2023 - 06 - 24)),
    // 中秋节、国庆节：9月29日至10月6日放假调休.
    ("中秋节", date!(2023 - 09 - 29), date!(2023 - 09 - 29)),
    ("国庆节", date!(2023 - 09 - 30), date!(2023 - 10 - 06)),
    // 2024 元旦: 1月1日放假，与周末连休.
    ("元旦", date!(2023 - 12 - 30), date!(2023 - 12 - 31)),
    ("元旦", date!(2024 - 01 - 01), date!(2024 - 01 - 01)),
    ("春节", date!(2024 - 02 - 10), date!(2024 - 02 - 17)),
    ("清明节", date!(2024 - 04 - 04), date!(2024 - 04 - 06)),
    ("劳动节", date!(2024 - 05 - 01), date!(2024 - 05 - 05)),
    ("端午节", date!(2024 - 06 - 10), date!(2024 - 06 - 10)),
    ("中秋节", date!(2024 - 09 - 15), date!(2024 - 09 - 17)),
    ("国庆节", date!(2024 - 10 - 01), date!(2024 - 10 - 07)),
    ("元旦", date!(2025 - 01 - 01), date!(2025 - 01 - 01)),
    ("春节", date!(2025 - 01 - 28), date!(2025 - 02 - 04)),
    ("清明节", date!(2025 - 04 - 04), date!(2025 - 04 - 06)),
    ("劳动节", date!(2025 - 05 - 01), date!(2025 - 05 - 05)),
    ("端午节", date!(2025 - 05 - 31), date!(2025 - 06 - 02)),
    // 国庆节、中秋节：10月1日至8日放假调休; 中秋 itself is 10-06.
    ("国庆节", date!(2025 - 10 - 01), date!(2025 - 10 - 05)),
    ("中秋节", date!(2025 - 10 - 06), date!(2025 - 10 - 06)),
    ("国庆节", date!(2025 - 10 - 07), date!(2025 - 10 - 08)),
    ("元旦", date!(2026 - 01 - 01), date!(2026 - 01 - 03)),
    ("春节", date!(2026 - 02 - 15), date!(2026 - 02 - 23)),
    ("清明节", date!(2026 - 04 - 04), date!(2026 - 04 - 06)),
    ("劳动节", date!(2026 - 05 - 01), date!(2026 - 05 - 05)),
    ("端午节", date!(2026 - 06 - 19), date!(2026 - 06 - 21)),
    ("中秋节", date!(2026 - 09 - 25), date!(2026 - 09 - 27)),
    ("国庆节", date!(2026 - 10 - 01), date!(2026 - 10 - 07)),
];

/// Every adjusted workday (调休上班) of 2021–2026, typed by hand.
const ADJUSTED: &[(Date, &str)] = &[
    (date!(2021 - 02 - 07), "春节"),
    (date!(2021 - 02 - 20), "春节"),
    (date!(2021 - 04 - 25), "劳动节"),
    (date!(2021 - 05 - 08), "劳动节"),
    (date!(2021 - 09 - 18), "中秋节"),
    (date!(2021 - 09 - 26), "国庆节"),
    (date!(2021 - 10 - 09), "国庆节"),
    (date!(2022 - 01 - 29), "春节"),
    (date!(2022 - 01 - 30), "春节"),
    (date!(2022 - 04 - 02), "清明节"),
    (date!(2022 - 04 - 24), "劳动节"),
    (date!(2022 - 05 - 07), "劳动节"),
    (date!(2022 - 10 - 08), "国庆节"),
    (date!(2022 - 10 - 09), "国庆节"),
    (date!(2023 - 01 - 28), "春节"),
    (date!(2023 - 01 - 29), "春节"),
    (date!(2023 - 04 - 23), "劳动节"),
    (date!(2023 - 05 - 06), "劳动节"),
    (date!(2023 - 06 - 25), "端午节"),
    (date!(2023 - 10 - 07), "国庆节"),
    (date!(2023 - 10 - 08), "国庆节"),
    (date!(2024 - 02 - 04), "春节"),
    (date!(2024 - 02 - 18), "春节"),
    (date!(2024 - 04 - 07), "清明节"),
    (date!(2024 - 04 - 28), "劳动节"),
    (date!(2024 - 05 - 11), "劳动节"),
    (date!(2024 - 09 - 14), "中秋节"),
    (date!(2024 - 09 - 29), "国庆节"),
    (date!(2024 - 10 - 12), "国庆节"),
    (date!(2025 - 01 - 26), "春节"),
    (date!(2025 - 02 - 08), "春节"),
    (date!(2025 - 04 - 27), "劳动节"),
    (date!(2025 - 09 - 28), "国庆节"),
    (date!(2025 - 10 - 11), "国庆节"),
    (date!(2026 - 01 - 04), "元旦"),
    (date!(2026 - 02 - 14), "春节"),
    (date!(2026 - 02 - 28), "春节"),
    (date!(2026 - 05 - 09), "劳动节"),
    (date!(2026 - 09 - 20), "国庆节"),
    (date!(2026 - 10 - 10), "国庆节"),
];

fn days(from: Date, to: Date) -> impl Iterator<Item = Date> {
    std::iter::successors(Some(from), move |d| d.next_day().filter(|n| *n <= to))
}

#[test]
fn hand_written_holidays_match_the_data() {
    for &(name, from, to) in HOLIDAYS {
        for day in days(from, to) {
            assert_eq!(
                CAL.is_working_day(day).unwrap(),
                DayKind::Holiday(name.to_string()),
                "{day} should be {name}"
            );
        }
    }
    // And the data holds no holiday day the hand table lacks.
    let hand: BTreeSet<Date> = HOLIDAYS.iter().flat_map(|&(_, f, t)| days(f, t)).collect();
    for year in CAL.covered_years() {
        for h in &CAL.year(year).unwrap().holidays {
            for day in days(h.from, h.to) {
                assert!(
                    hand.contains(&day),
                    "data lists {day} ({}) as a holiday",
                    h.name
                );
            }
        }
    }
}

#[test]
fn hand_written_adjusted_workdays_match_the_data() {
    for &(day, name) in ADJUSTED {
        assert_eq!(
            CAL.is_working_day(day).unwrap(),
            DayKind::AdjustedWorkday {
                makes_up_for: name.to_string()
            },
            "{day}"
        );
        assert!(is_weekend(day), "{day} is a weekend day worked");
    }
    let data: usize = CAL
        .covered_years()
        .iter()
        .map(|y| CAL.year(*y).unwrap().adjusted_workdays.len())
        .sum();
    assert_eq!(data, ADJUSTED.len());
}

#[test]
fn every_data_day_has_the_right_kind() {
    assert_eq!(
        CAL.covered_years(),
        vec![2021, 2022, 2023, 2024, 2025, 2026]
    );
    for year in CAL.covered_years() {
        let schedule = CAL.year(year).unwrap();
        for h in &schedule.holidays {
            for day in days(h.from, h.to) {
                let kind = CAL.is_working_day(day).unwrap();
                assert!(!kind.is_working(), "{day}");
                assert_eq!(kind.to_string(), h.name);
                assert_eq!(CAL.working_days_between(day, day).unwrap(), 0);
            }
        }
        for w in &schedule.adjusted_workdays {
            let kind = CAL.is_working_day(w.date).unwrap();
            assert!(kind.is_working());
            assert_eq!(kind.to_string(), format!("调休上班（{}）", w.makes_up_for));
            assert_eq!(CAL.working_days_between(w.date, w.date).unwrap(), 1);
        }
    }
}

#[test]
fn ordinary_days() {
    assert_eq!(
        CAL.is_working_day(date!(2025 - 03 - 12)).unwrap(),
        DayKind::Workday
    );
    assert_eq!(
        CAL.is_working_day(date!(2025 - 03 - 15)).unwrap(),
        DayKind::Weekend
    );
    assert_eq!(DayKind::Workday.to_string(), "工作日");
    assert_eq!(DayKind::Weekend.to_string(), "周末");
}

#[test]
fn uncovered_year_is_refused_until_merged() {
    let mut cal = CAL.clone();
    let err = cal.is_working_day(date!(2027 - 03 - 01)).unwrap_err();
    assert_eq!(err, CalendarError::YearNotCovered(2027));
    assert_eq!(
        err.to_string(),
        "日历未包含2027年的节假日安排，请先导入该年度安排"
    );
    // A walk that crosses into 2027 is refused too, not guessed.
    assert_eq!(
        cal.add_working_days(date!(2026 - 12 - 30), 5),
        Err(CalendarError::YearNotCovered(2027))
    );
    assert!(cal.is_working_day(date!(2020 - 06 - 01)).is_err());

    let y2027 = "[2027]\nholidays = [{ name = \"元旦\", from = 2027-01-01, to = 2027-01-03 }]\n";
    cal.merge(Calendar::parse(y2027).unwrap());
    assert_eq!(cal.covered_years().last(), Some(&2027));
    assert_eq!(
        cal.is_working_day(date!(2027 - 01 - 01)).unwrap(),
        DayKind::Holiday("元旦".into())
    );
    assert_eq!(
        cal.is_working_day(date!(2027 - 03 - 01)).unwrap(),
        DayKind::Workday
    );
}

#[test]
fn merge_replaces_a_whole_year() {
    let mut cal = CAL.clone();
    let fix = "[2026]\nholidays = [{ name = \"国庆节\", from = 2026-10-01, to = 2026-10-08 }]\n";
    cal.merge(Calendar::parse(fix).unwrap());
    assert_eq!(cal.year(2026).unwrap().holidays.len(), 1);
    assert!(cal.year(2026).unwrap().adjusted_workdays.is_empty());
    assert_eq!(
        cal.is_working_day(date!(2026 - 02 - 16)).unwrap(),
        DayKind::Workday
    );
    assert_eq!(cal.year(2025), CAL.year(2025));
}

#[test]
fn add_and_count_examples() {
    // 2025-09-30 (Tue) → 10-01..10-08 off → 10-09 (Thu).
    assert_eq!(
        CAL.add_working_days(date!(2025 - 09 - 30), 1).unwrap(),
        date!(2025 - 10 - 09)
    );
    // Friday 2025-09-26 → Sunday 09-28 is worked.
    assert_eq!(
        CAL.add_working_days(date!(2025 - 09 - 26), 1).unwrap(),
        date!(2025 - 09 - 28)
    );
    // n = 0: a working day stays, a holiday moves to the next working day.
    assert_eq!(
        CAL.add_working_days(date!(2025 - 09 - 30), 0).unwrap(),
        date!(2025 - 09 - 30)
    );
    assert_eq!(
        CAL.add_working_days(date!(2025 - 01 - 31), 0).unwrap(),
        date!(2025 - 02 - 05)
    );
    assert_eq!(
        CAL.next_working_day_on_or_after(date!(2025 - 02 - 01))
            .unwrap(),
        date!(2025 - 02 - 05)
    );
    // October 2024: 31 days − 7 holiday days − 5 plain weekend days (10-12 Sat is worked).
    assert_eq!(
        CAL.working_days_between(date!(2024 - 10 - 01), date!(2024 - 10 - 31))
            .unwrap(),
        19
    );
    assert_eq!(
        CAL.working_days_between(date!(2025 - 02 - 02), date!(2025 - 02 - 01)),
        Err(CalendarError::InvalidRange {
            from: date!(2025 - 02 - 02),
            to: date!(2025 - 02 - 01)
        })
    );
}

fn parse_err(text: &str) -> (String, String) {
    match Calendar::parse(text) {
        Err(CalendarError::Invalid { path, reason }) => (path, reason),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn parse_rejects_bad_files() {
    let h = |body: &str| format!("[2027]\nholidays = [{body}]\n");
    assert_eq!(parse_err("[27]\nholidays = []\n").0, "27");
    assert_eq!(parse_err("[2027]\nholiday = []\n").0, "2027.holiday");
    assert_eq!(parse_err("[2027]\nworkdays = []\n").0, "2027.holidays");
    assert_eq!(
        parse_err(&h(
            "{ name = \"元旦\", from = 2027-01-01, to = 2027-01-03, days = 3 }"
        ))
        .0,
        "2027.holidays[0].days"
    );
    assert_eq!(
        parse_err(&h("{ name = \"\", from = 2027-01-01, to = 2027-01-03 }")).0,
        "2027.holidays[0].name"
    );
    assert_eq!(
        parse_err(&h(
            "{ name = \"元旦\", from = 2026-12-31, to = 2027-01-03 }"
        ))
        .0,
        "2027.holidays[0].from"
    );
    assert_eq!(
        parse_err(&h(
            "{ name = \"元旦\", from = 2027-01-03, to = 2027-01-01 }"
        ))
        .0,
        "2027.holidays[0]"
    );
    assert_eq!(
        parse_err(&h(
            "{ name = \"元旦\", from = \"2027-01-01\", to = 2027-01-03 }"
        ))
        .0,
        "2027.holidays[0].from"
    );
    assert_eq!(
        parse_err(&h(
            "{ name = \"A\", from = 2027-01-01, to = 2027-01-05 }, { name = \"B\", from = 2027-01-05, to = 2027-01-06 }"
        ))
        .0,
        "2027.holidays[1]"
    );
    let wd = |body: &str| {
        format!(
            "[2027]\nholidays = [{{ name = \"春节\", from = 2027-02-06, to = 2027-02-12 }}]\nworkdays = [{body}]\n"
        )
    };
    // 2027-02-03 is a Wednesday.
    let (path, reason) = parse_err(&wd("{ date = 2027-02-03, for = \"春节\" }"));
    assert_eq!(path, "2027.workdays[0].date");
    assert!(reason.contains("不是周六或周日"), "{reason}");
    // 2027-02-06 is a Saturday inside the holiday.
    assert_eq!(
        parse_err(&wd("{ date = 2027-02-06, for = \"春节\" }")).0,
        "2027.workdays[0].date"
    );
    assert_eq!(
        parse_err(&wd("{ date = 2027-02-14, for = \"\" }")).0,
        "2027.workdays[0].for"
    );
    assert_eq!(
        parse_err(&wd(
            "{ date = 2027-02-14, for = \"春节\" }, { date = 2027-02-14, for = \"春节\" }"
        ))
        .0,
        "2027.workdays[1].date"
    );
    match Calendar::parse("[2027]\nholidays = [\n{ name = }\n]\n") {
        Err(CalendarError::Syntax { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    let err = Calendar::parse("[2027]\nholiday = []\n").unwrap_err();
    assert!(
        err.to_string().starts_with("日历文件“2027.holiday”处有误"),
        "{err}"
    );
}

fn covered_date() -> impl Strategy<Value = Date> {
    (0i64..(6 * 365)).prop_map(|n| date!(2021 - 01 - 01) + Duration::days(n))
}

proptest! {
    #[test]
    fn add_then_count_back_gives_n(start in covered_date(), n in 1u32..300) {
        if let Ok(end) = CAL.add_working_days(start, n) {
            let after = start.next_day().unwrap();
            prop_assert_eq!(CAL.working_days_between(after, end).unwrap(), n);
        }
    }

    #[test]
    fn result_is_always_a_working_day(start in covered_date(), n in 0u32..300) {
        if let Ok(end) = CAL.add_working_days(start, n) {
            prop_assert!(CAL.is_working_day(end).unwrap().is_working());
            prop_assert!(end >= start);
        }
    }

    #[test]
    fn monotonic_in_n(start in covered_date(), n in 0u32..300) {
        if let (Ok(a), Ok(b)) = (CAL.add_working_days(start, n), CAL.add_working_days(start, n + 1)) {
            // n = 0 from a non-working day lands where n = 1 does; otherwise strictly later.
            if n == 0 && !CAL.is_working_day(start).unwrap().is_working() {
                prop_assert_eq!(a, b);
            } else {
                prop_assert!(a < b);
            }
        }
    }

    #[test]
    fn a_day_counts_iff_it_is_a_working_day(day in covered_date()) {
        let kind = CAL.is_working_day(day).unwrap();
        let counted = CAL.working_days_between(day, day).unwrap();
        match kind {
            DayKind::Holiday(_) | DayKind::Weekend => prop_assert_eq!(counted, 0),
            DayKind::AdjustedWorkday { .. } => {
                prop_assert!(is_weekend(day));
                prop_assert_eq!(counted, 1);
            }
            DayKind::Workday => prop_assert_eq!(counted, 1),
        }
    }

    #[test]
    fn counts_are_additive(a in covered_date(), len1 in 0i64..200, len2 in 1i64..200) {
        let b = a + Duration::days(len1);
        let c = b + Duration::days(len2);
        if c.year() <= 2026 {
            let whole = CAL.working_days_between(a, c).unwrap();
            let left = CAL.working_days_between(a, b).unwrap();
            let right = CAL.working_days_between(b.next_day().unwrap(), c).unwrap();
            prop_assert_eq!(whole, left + right);
        }
    }

    #[test]
    fn year_2027_is_always_refused(offset in 0i64..365, n in 0u32..10) {
        let day = date!(2027 - 01 - 01) + Duration::days(offset);
        prop_assert_eq!(CAL.is_working_day(day), Err(CalendarError::YearNotCovered(2027)));
        // A walk from 2027-12-31 first looks at 2028-01-01.
        prop_assert!(matches!(
            CAL.add_working_days(day, n),
            Err(CalendarError::YearNotCovered(2027 | 2028))
        ));
    }
}
