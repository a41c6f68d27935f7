use std::sync::LazyLock;

use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::policy::builtin_policies;

static CAL: LazyLock<Calendar> = LazyLock::new(Calendar::builtin);
static POLICY: LazyLock<Policy> = LazyLock::new(|| builtin_policies().unwrap().remove(0));

#[test]
fn report_due_dates_roll_forward() {
    let cases = [
        // 2025-01-31 fell in 春节 (01-28..02-04); 02-05 is the next working day.
        (
            ReportPeriod::annual(2024),
            date!(2025 - 01 - 31),
            date!(2025 - 02 - 05),
        ),
        // 2022-01-31 is the first day of 春节 (01-31..02-06).
        (
            ReportPeriod::annual(2021),
            date!(2022 - 01 - 31),
            date!(2022 - 02 - 07),
        ),
        (
            ReportPeriod::annual(2022),
            date!(2023 - 01 - 31),
            date!(2023 - 01 - 31),
        ),
        (
            ReportPeriod::annual(2023),
            date!(2024 - 01 - 31),
            date!(2024 - 01 - 31),
        ),
        // 2026-01-31 is a Saturday.
        (
            ReportPeriod::annual(2025),
            date!(2026 - 01 - 31),
            date!(2026 - 02 - 02),
        ),
        // 2021-07-31 Saturday, 2022-07-31 Sunday.
        (
            ReportPeriod::semi_annual(2021),
            date!(2021 - 07 - 31),
            date!(2021 - 08 - 02),
        ),
        (
            ReportPeriod::semi_annual(2022),
            date!(2022 - 07 - 31),
            date!(2022 - 08 - 01),
        ),
        (
            ReportPeriod::semi_annual(2025),
            date!(2025 - 07 - 31),
            date!(2025 - 07 - 31),
        ),
        (
            ReportPeriod::semi_annual(2026),
            date!(2026 - 07 - 31),
            date!(2026 - 07 - 31),
        ),
    ];
    for (period, nominal, due) in cases {
        assert_eq!(
            nominal_due_date(&POLICY, period).unwrap(),
            nominal,
            "{period}"
        );
        assert_eq!(
            report_due_date(&POLICY, &CAL, period).unwrap(),
            due,
            "{period}"
        );
    }
    // The 2026 annual report is due in 2027, whose schedule is not yet published.
    assert_eq!(
        report_due_date(&POLICY, &CAL, ReportPeriod::annual(2026)),
        Err(DeadlineError::Calendar(CalendarError::YearNotCovered(2027)))
    );
    let mut no_roll = POLICY.clone();
    no_roll.reports.roll_forward_to_working_day = false;
    assert_eq!(
        report_due_date(&no_roll, &CAL, ReportPeriod::annual(2024)).unwrap(),
        date!(2025 - 01 - 31)
    );
    assert_eq!(ReportPeriod::annual(2024).to_string(), "2024年度");
    assert_eq!(ReportPeriod::semi_annual(2025).to_string(), "2025年上半年");
}

#[test]
fn every_rolled_due_date_is_the_first_working_day_on_or_after_the_nominal_one() {
    for year in 2021..=2025 {
        for period in [
            ReportPeriod::annual(year),
            ReportPeriod::semi_annual(year + 1),
        ] {
            let nominal = nominal_due_date(&POLICY, period).unwrap();
            let due = report_due_date(&POLICY, &CAL, period).unwrap();
            assert!(due >= nominal);
            assert!(CAL.is_working_day(due).unwrap().is_working());
            assert_eq!(
                CAL.working_days_between(nominal, due).unwrap(),
                1,
                "{period}"
            );
        }
    }
}

#[test]
fn notice_windows() {
    let cases = [
        // MIIT 2024: Monday to Friday.
        (
            date!(2024 - 11 - 18),
            5,
            date!(2024 - 11 - 18),
            date!(2024 - 11 - 22),
        ),
        // Spans 国庆 2025 (10-01..10-08 off) and ends on the worked Saturday 10-11.
        (
            date!(2025 - 09 - 29),
            5,
            date!(2025 - 09 - 29),
            date!(2025 - 10 - 11),
        ),
        // Spans 国庆 2024, counting the worked Sunday 09-29.
        (
            date!(2024 - 09 - 27),
            5,
            date!(2024 - 09 - 27),
            date!(2024 - 10 - 09),
        ),
        // Published on a holiday: the window starts on the next working day.
        (
            date!(2025 - 10 - 03),
            5,
            date!(2025 - 10 - 09),
            date!(2025 - 10 - 14),
        ),
        // MIIT SME 2022: across 元旦 2023.
        (
            date!(2022 - 12 - 29),
            5,
            date!(2022 - 12 - 29),
            date!(2023 - 01 - 05),
        ),
        // Sichuan: 7 working days.
        (
            date!(2024 - 08 - 14),
            7,
            date!(2024 - 08 - 14),
            date!(2024 - 08 - 22),
        ),
        (
            date!(2025 - 03 - 12),
            1,
            date!(2025 - 03 - 12),
            date!(2025 - 03 - 12),
        ),
    ];
    for (published, n, first, last) in cases {
        let w = notice_window(&CAL, published, n).unwrap();
        assert_eq!((w.first_day, w.last_day), (first, last), "{published}");
        assert!(w.contains(published) && w.contains(last));
        assert!(!w.contains(last.next_day().unwrap()));
        assert!(!w.contains(published.previous_day().unwrap()));
    }
    let w = public_notice_window(&POLICY, &CAL, date!(2025 - 09 - 29)).unwrap();
    assert_eq!(w.last_day, date!(2025 - 10 - 11));
    assert!(
        is_within_notice_window(&POLICY, &CAL, date!(2025 - 09 - 29), date!(2025 - 10 - 05))
            .unwrap()
    );
    assert!(
        !is_within_notice_window(&POLICY, &CAL, date!(2025 - 09 - 29), date!(2025 - 10 - 12))
            .unwrap()
    );
    assert_eq!(
        notice_window(&CAL, date!(2025 - 03 - 12), 0),
        Err(DeadlineError::ZeroNoticeDays)
    );
    // A window reaching into an unpublished year is refused, not guessed.
    assert_eq!(
        notice_window(&CAL, date!(2026 - 12 - 28), 5),
        Err(DeadlineError::Calendar(CalendarError::YearNotCovered(2027)))
    );
}

fn statuses(list: &[ReportObligation]) -> Vec<(String, ReportStatus)> {
    list.iter()
        .map(|o| (o.period.to_string(), o.status))
        .collect()
}

#[test]
fn report_obligations_table() {
    use ReportStatus::*;
    let designated = date!(2022 - 09 - 02);
    let submitted = BTreeSet::from([
        ReportPeriod::semi_annual(2023),
        ReportPeriod::annual(2023),
        ReportPeriod::semi_annual(2024),
    ]);
    // 2025-02-03 is inside 春节: the 2024 report is past its nominal date but still due.
    let list =
        report_obligations(&POLICY, &CAL, designated, &submitted, date!(2025 - 02 - 03)).unwrap();
    assert_eq!(
        statuses(&list),
        [
            ("2024年度".to_string(), Due),
            ("2025年上半年".to_string(), Upcoming),
            ("2025年度".to_string(), Upcoming),
        ]
    );
    assert_eq!(list[0].due, Some(date!(2025 - 02 - 05)));
    assert_eq!(list[2].due, Some(date!(2026 - 02 - 02)));
    let list =
        report_obligations(&POLICY, &CAL, designated, &submitted, date!(2025 - 02 - 06)).unwrap();
    assert_eq!(list[0].status, Overdue);

    // Designated mid-year: the first obligations are the next year's.
    let list = report_obligations(
        &POLICY,
        &CAL,
        date!(2024 - 03 - 15),
        &BTreeSet::new(),
        date!(2026 - 08 - 10),
    )
    .unwrap();
    assert_eq!(
        statuses(&list),
        [
            ("2025年上半年".to_string(), Overdue),
            ("2025年度".to_string(), Overdue),
            ("2026年上半年".to_string(), Overdue),
            ("2026年度".to_string(), Upcoming),
        ]
    );
    // Due in 2027, whose calendar is missing: known to be upcoming, due date unknown.
    assert_eq!(list[3].due, None);
    assert_eq!(list[3].nominal_due, date!(2027 - 01 - 31));

    // Designated on 1 January: that whole year counts.
    let list = report_obligations(
        &POLICY,
        &CAL,
        date!(2024 - 01 - 01),
        &BTreeSet::new(),
        date!(2024 - 07 - 15),
    )
    .unwrap();
    assert_eq!(
        statuses(&list),
        [
            ("2024年上半年".to_string(), Due),
            ("2024年度".to_string(), Upcoming)
        ]
    );

    // Once the answer depends on the missing year, the error propagates.
    let mut cal = CAL.clone();
    cal.merge(
        Calendar::parse(
            "[2027]\nholidays = [{ name = \"春节\", from = 2027-02-06, to = 2027-02-12 }]\n",
        )
        .unwrap(),
    );
    assert_eq!(
        report_obligations(
            &POLICY,
            &CAL,
            date!(2024 - 03 - 15),
            &BTreeSet::new(),
            date!(2027 - 02 - 03)
        ),
        Err(DeadlineError::Calendar(CalendarError::YearNotCovered(2027)))
    );
    // With 2027 imported: 2027-01-31 is a Sunday, so the 2026 report is due 02-01.
    let list = report_obligations(
        &POLICY,
        &cal,
        date!(2024 - 03 - 15),
        &BTreeSet::new(),
        date!(2027 - 02 - 03),
    )
    .unwrap();
    let y2026 = list
        .iter()
        .find(|o| o.period == ReportPeriod::annual(2026))
        .unwrap();
    assert_eq!(
        (y2026.due, y2026.status),
        (Some(date!(2027 - 02 - 01)), Overdue)
    );
}

#[test]
fn recheck_and_reminders() {
    let designated = date!(2022 - 09 - 02);
    assert_eq!(
        recheck_due_dates(&POLICY, designated, date!(2030 - 01 - 01)).unwrap(),
        [date!(2025 - 09 - 02), date!(2028 - 09 - 02)]
    );
    assert_eq!(
        next_recheck_due(&POLICY, designated, date!(2025 - 09 - 02)).unwrap(),
        date!(2025 - 09 - 02)
    );
    assert_eq!(
        next_recheck_due(&POLICY, designated, date!(2025 - 09 - 03)).unwrap(),
        date!(2028 - 09 - 02)
    );
    // No 02-29 in 2027: the last day of February (民法典第二百零二条).
    assert_eq!(
        recheck_due(&POLICY, date!(2024 - 02 - 29), 1).unwrap(),
        date!(2027 - 02 - 28)
    );
    assert_eq!(
        recheck_due(&POLICY, date!(2024 - 02 - 29), 4).unwrap(),
        date!(2036 - 02 - 29)
    );

    assert_eq!(
        report_reminder_dates(&POLICY, date!(2025 - 02 - 05)),
        [
            date!(2025 - 01 - 06),
            date!(2025 - 01 - 29),
            date!(2025 - 02 - 04)
        ]
    );
    assert_eq!(
        reminder_dates(date!(2025 - 07 - 31), &[7, 7, 0]),
        [date!(2025 - 07 - 24), date!(2025 - 07 - 31)]
    );
}

#[test]
fn policy_in_force_is_reachable_from_the_engine() {
    let all = builtin_policies().unwrap();
    assert_eq!(
        policy_in_force(&all, date!(2025 - 01 - 01)).map(Policy::id),
        Some("hunan-2021")
    );
    assert!(policy_in_force(&all, date!(2026 - 05 - 01)).is_none());
}

fn day_in(from: Date, days: i64) -> impl Strategy<Value = Date> {
    (0..days).prop_map(move |n| from + Duration::days(n))
}

proptest! {
    #[test]
    fn notice_window_properties(published in day_in(date!(2021 - 01 - 01), 2150), n in 1u32..15) {
        let w = notice_window(&CAL, published, n).unwrap();
        prop_assert!(w.first_day >= published);
        prop_assert!(CAL.is_working_day(w.first_day).unwrap().is_working());
        prop_assert!(CAL.is_working_day(w.last_day).unwrap().is_working());
        prop_assert_eq!(CAL.working_days_between(published, w.first_day).unwrap(), 1);
        prop_assert_eq!(CAL.working_days_between(w.first_day, w.last_day).unwrap(), n);
        let longer = notice_window(&CAL, published, n + 1).unwrap();
        prop_assert!(longer.last_day > w.last_day);
    }

    #[test]
    fn obligations_are_consistent(
        designated in day_in(date!(2021 - 04 - 07), 1700),
        later in 0i64..800,
        mask in any::<u16>(),
    ) {
        let today = designated + Duration::days(later);
        prop_assume!(today.year() <= 2026);
        let all: Vec<ReportPeriod> = (designated.year()..=today.year())
            .flat_map(|y| [ReportPeriod::semi_annual(y), ReportPeriod::annual(y)])
            .collect();
        let submitted: BTreeSet<ReportPeriod> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << (i % 16)) != 0)
            .map(|(_, p)| *p)
            .collect();
        let list = report_obligations(&POLICY, &CAL, designated, &submitted, today).unwrap();
        for o in &list {
            let (start, end) = (o.period.start().unwrap(), o.period.end().unwrap());
            prop_assert!(start >= designated && start <= today);
            prop_assert!(!submitted.contains(&o.period));
            match o.status {
                ReportStatus::Upcoming => prop_assert!(today <= end),
                ReportStatus::Due => prop_assert!(end < today && today <= o.due.unwrap_or(o.nominal_due)),
                ReportStatus::Overdue => prop_assert!(o.due.unwrap() < today),
            }
        }
        // Nothing owed is left out.
        let expected = all
            .iter()
            .filter(|p| !submitted.contains(p))
            .filter(|p| {
                let start = p.start().unwrap();
                start >= designated && start <= today
            })
            .count();
        prop_assert_eq!(list.len(), expected);
    }

    #[test]
    fn recheck_dates_step_by_the_cycle(designated in day_in(date!(2021 - 01 - 01), 2000)) {
        let dates = recheck_due_dates(&POLICY, designated, date!(2040 - 12 - 31)).unwrap();
        prop_assert!(!dates.is_empty());
        let mut prev = designated;
        for d in dates {
            prop_assert!(d > prev);
            prop_assert_eq!(d.year() - prev.year(), 3);
            prev = d;
        }
    }
}

#[test]
fn the_reminder_due_is_the_nearest_window() {
    use time::macros::datetime;
    let deadline = datetime!(2026-12-31 09:30 UTC);
    assert_eq!(
        super::reminder_due(deadline, datetime!(2026-12-27 09:30 UTC), &[3, 1]),
        None
    );
    assert_eq!(
        super::reminder_due(deadline, datetime!(2026-12-28 09:30 UTC), &[3, 1]),
        Some(3)
    );
    assert_eq!(
        super::reminder_due(deadline, datetime!(2026-12-30 12:00 UTC), &[3, 1]),
        Some(1)
    );
    assert_eq!(super::reminder_due(deadline, deadline, &[3, 1]), None);
}

mod owed {
    use jiqun_domain::lifecycle::{Closure, Title};
    use jiqun_domain::round::Designation;

    use super::*;

    fn titles(list: &[(Designation, Date, Option<Closure>)]) -> Vec<Title> {
        list.iter()
            .map(|(d, on, closed)| Title {
                designation: *d,
                effective_on: *on,
                closed: *closed,
            })
            .collect()
    }

    fn periods(list: &[OwedReport]) -> Vec<String> {
        list.iter().map(|o| o.period.to_string()).collect()
    }

    const CT: Designation = Designation::CultivationTarget;
    const CERT: Designation = Designation::Certified;

    #[test]
    fn table() {
        struct Case {
            what: &'static str,
            titles: Vec<Title>,
            today: Date,
            owed: &'static [&'static str],
        }
        let cases = [
            Case {
                what: "培育对象 designated in December owes that year's annual report",
                titles: titles(&[(CT, date!(2024 - 12 - 04), None)]),
                today: date!(2025 - 08 - 10),
                owed: &["2024年度", "2025年上半年"],
            },
            Case {
                what: "designated on 30 June: held on that day",
                titles: titles(&[(CT, date!(2025 - 06 - 30), None)]),
                today: date!(2026 - 01 - 05),
                owed: &["2025年上半年", "2025年度"],
            },
            Case {
                what: "designated on 1 July: first the annual report",
                titles: titles(&[(CT, date!(2025 - 07 - 01), None)]),
                today: date!(2026 - 01 - 05),
                owed: &["2025年度"],
            },
            Case {
                what: "certification superseding the 培育对象 title owes each period once",
                titles: titles(&[
                    (
                        CT,
                        date!(2023 - 12 - 01),
                        Some(Closure::Superseded(date!(2024 - 09 - 01))),
                    ),
                    (CERT, date!(2024 - 09 - 01), None),
                ]),
                today: date!(2025 - 01 - 10),
                owed: &["2023年度", "2024年上半年", "2024年度"],
            },
            Case {
                what: "revoked before 31 December: no annual report that year",
                titles: titles(&[(
                    CERT,
                    date!(2023 - 03 - 01),
                    Some(Closure::Revoked(date!(2024 - 10 - 08))),
                )]),
                today: date!(2025 - 08 - 10),
                owed: &["2023年上半年", "2023年度", "2024年上半年"],
            },
            Case {
                what: "revoked on 31 December itself: not held that day",
                titles: titles(&[(
                    CT,
                    date!(2024 - 01 - 10),
                    Some(Closure::Revoked(date!(2024 - 12 - 31))),
                )]),
                today: date!(2025 - 03 - 01),
                owed: &["2024年上半年"],
            },
            Case {
                what: "no titles, nothing owed",
                titles: vec![],
                today: date!(2025 - 03 - 01),
                owed: &[],
            },
        ];
        for c in cases {
            let list = owed_reports(&POLICY, &CAL, &c.titles, c.today).unwrap();
            assert_eq!(periods(&list), c.owed, "{}", c.what);
        }
    }

    #[test]
    fn a_31_january_on_a_holiday_or_weekend_rolls_forward() {
        let t = titles(&[(CT, date!(2023 - 06 - 01), None)]);
        let list = owed_reports(&POLICY, &CAL, &t, date!(2026 - 08 - 10)).unwrap();
        let due = |p: ReportPeriod| list.iter().find(|o| o.period == p).copied().unwrap();
        // 2025-01-31 falls in 春节 (01-28..02-04): due 2025-02-05.
        let y2024 = due(ReportPeriod::annual(2024));
        assert_eq!(y2024.nominal_due, date!(2025 - 01 - 31));
        assert_eq!(y2024.due, Some(date!(2025 - 02 - 05)));
        assert!(!y2024.overdue_on(date!(2025 - 02 - 05)));
        assert!(y2024.overdue_on(date!(2025 - 02 - 06)));
        // 2026-01-31 is a Saturday: due Monday 2026-02-02.
        assert_eq!(
            due(ReportPeriod::annual(2025)).due,
            Some(date!(2026 - 02 - 02))
        );
        // 2026-07-31 is a Friday: unchanged.
        assert_eq!(
            due(ReportPeriod::semi_annual(2026)).due,
            Some(date!(2026 - 07 - 31))
        );
        // Without the flag the nominal date holds.
        let mut no_roll = POLICY.clone();
        no_roll.reports.roll_forward_to_working_day = false;
        let list = owed_reports(&no_roll, &CAL, &t, date!(2026 - 08 - 10)).unwrap();
        assert_eq!(
            list.iter()
                .find(|o| o.period == ReportPeriod::annual(2024))
                .unwrap()
                .due,
            Some(date!(2025 - 01 - 31))
        );
        // Due in 2027, whose schedule is not imported: no date is guessed.
        let list = owed_reports(&POLICY, &CAL, &t, date!(2026 - 12 - 31)).unwrap();
        let y2026 = list.last().unwrap();
        assert_eq!(y2026.period, ReportPeriod::annual(2026));
        assert_eq!(y2026.due, None);
        assert!(!y2026.overdue_on(date!(2027 - 03 - 01)));
    }

    #[test]
    fn escalation_and_reminders_follow_the_calendar() {
        // Due 2025-02-05 (Wednesday): the city hears on Thursday, the province 5 working days on,
        // counting Saturday 02-08, a 春节 make-up working day.
        let e = report_escalation(&POLICY, &CAL, date!(2025 - 02 - 05)).unwrap();
        assert_eq!(e.city_on, date!(2025 - 02 - 06));
        assert_eq!(e.province_on, Some(date!(2025 - 02 - 11)));
        // Due Friday 2026-07-31: the city hears on Monday.
        let e = report_escalation(&POLICY, &CAL, date!(2026 - 07 - 31)).unwrap();
        assert_eq!(e.city_on, date!(2026 - 08 - 03));
        assert_eq!(e.province_on, Some(date!(2026 - 08 - 07)));

        let due = date!(2026 - 07 - 31);
        assert_eq!(
            report_reminder_due(&POLICY, due, date!(2026 - 06 - 30)),
            None
        );
        assert_eq!(
            report_reminder_due(&POLICY, due, date!(2026 - 07 - 01)),
            Some(30)
        );
        assert_eq!(
            report_reminder_due(&POLICY, due, date!(2026 - 07 - 24)),
            Some(7)
        );
        assert_eq!(
            report_reminder_due(&POLICY, due, date!(2026 - 07 - 31)),
            Some(1)
        );
        assert_eq!(
            report_reminder_due(&POLICY, due, date!(2026 - 08 - 01)),
            None
        );
    }

    fn title_strategy() -> impl Strategy<Value = Title> {
        (
            0i64..1800,
            any::<bool>(),
            proptest::option::of((any::<bool>(), 1i64..900)),
        )
            .prop_map(|(start, cert, closed)| {
                let on = date!(2021 - 04 - 07) + Duration::days(start);
                Title {
                    designation: if cert { CERT } else { CT },
                    effective_on: on,
                    closed: closed.map(|(revoked, after)| {
                        let d = on + Duration::days(after);
                        if revoked {
                            Closure::Revoked(d)
                        } else {
                            Closure::Superseded(d)
                        }
                    }),
                }
            })
    }

    proptest! {
        /// Every period whose holding day has passed and on which a title was live is owed,
        /// once, and nothing else; due dates are working days on or after the policy's date.
        #[test]
        fn owed_exactly_when_a_title_was_held(
            titles in proptest::collection::vec(title_strategy(), 0..4),
            later in 0i64..2200,
        ) {
            let today = date!(2021 - 04 - 07) + Duration::days(later);
            let list = owed_reports(&POLICY, &CAL, &titles, today).unwrap();
            let mut expected = BTreeSet::new();
            for year in 2021..=today.year() {
                for p in [ReportPeriod::semi_annual(year), ReportPeriod::annual(year)] {
                    let end = p.end().unwrap();
                    if end <= today && titles.iter().any(|t| t.live_on(end)) {
                        expected.insert(p);
                    }
                }
            }
            let got: BTreeSet<ReportPeriod> = list.iter().map(|o| o.period).collect();
            prop_assert_eq!(got.len(), list.len());
            prop_assert_eq!(got, expected);
            for w in list.windows(2) {
                prop_assert!(w[0].nominal_due <= w[1].nominal_due);
            }
            for o in &list {
                prop_assert!(o.nominal_due > o.period.end().unwrap());
                if let Some(d) = o.due {
                    prop_assert!(d >= o.nominal_due);
                    prop_assert!(CAL.is_working_day(d).unwrap().is_working());
                    prop_assert!((d - o.nominal_due).whole_days() < 15);
                }
            }
        }
    }
}
#[test]
fn revocation_response_windows() {
    // 10 working days from Friday 2026-12-04: through Thursday 2026-12-17.
    let w = revocation_response_window(&POLICY, &CAL, date!(2026 - 12 - 04))
        .unwrap()
        .unwrap();
    assert_eq!(w.first_day, date!(2026 - 12 - 04));
    assert_eq!(w.last_day, date!(2026 - 12 - 17));
    // Sent on a Saturday: counting starts on Monday.
    let w = revocation_response_window(&POLICY, &CAL, date!(2026 - 12 - 05))
        .unwrap()
        .unwrap();
    assert_eq!(w.first_day, date!(2026 - 12 - 07));
    assert_eq!(w.last_day, date!(2026 - 12 - 18));
    // 国庆 2026 (10-01..10-07) is skipped.
    let w = revocation_response_window(&POLICY, &CAL, date!(2026 - 09 - 30))
        .unwrap()
        .unwrap();
    assert_eq!(w.last_day, date!(2026 - 10 - 19));
    let mut without = POLICY.clone();
    without.revocation.response_working_days = None;
    assert_eq!(
        revocation_response_window(&without, &CAL, date!(2026 - 12 - 04)).unwrap(),
        None
    );
}

#[test]
fn recheck_falls_due_every_cycle_from_designation() {
    let designated = date!(2026 - 12 - 04);
    let due = |year| recheck_due_in_year(&POLICY, designated, year).unwrap();
    assert_eq!(due(2026), None);
    assert_eq!(due(2028), None);
    assert_eq!(due(2029), Some(date!(2029 - 12 - 04)));
    assert_eq!(due(2032), Some(date!(2032 - 12 - 04)));
    assert_eq!(due(2030), None);
    // 02-29 falls on 02-28 in a common year.
    assert_eq!(
        recheck_due_in_year(&POLICY, date!(2024 - 02 - 29), 2027).unwrap(),
        Some(date!(2027 - 02 - 28))
    );
}

proptest! {
    /// A title is due in exactly the years a whole number of cycles after its designation, and
    /// the date given is the engine's own recheck date in that year.
    #[test]
    fn a_title_is_due_in_the_years_of_its_cycle(
        designated in day_in(date!(2021 - 01 - 01), 3000),
        after in -3i32..20,
    ) {
        let year = designated.year() + after;
        let cycle = i32::try_from(POLICY.recheck.cycle_years).unwrap();
        let due = recheck_due_in_year(&POLICY, designated, year).unwrap();
        prop_assert_eq!(due.is_some(), after > 0 && after % cycle == 0);
        if let Some(d) = due {
            prop_assert_eq!(d.year(), year);
            let until = Date::from_calendar_date(year, Month::December, 31).unwrap();
            prop_assert!(recheck_due_dates(&POLICY, designated, until).unwrap().contains(&d));
        }
    }
}

#[test]
fn final_materials_fall_due_after_the_policy_working_days() {
    let period = POLICY
        .round("final")
        .and_then(|r| r.cultivation_period.clone())
        .unwrap();
    // The shipped policy sets no period: the loader's default of 15 working days applies.
    assert_eq!(period.materials_working_days, None);
    assert_eq!(period.materials_working_days(), 15);
    // Opened Friday 2026-12-04 (day 1): 15 working days run through Thursday 2026-12-24.
    assert_eq!(
        final_materials_due(&period, &CAL, date!(2026 - 12 - 04)).unwrap(),
        date!(2026 - 12 - 24)
    );
    // Opened on a Saturday: counting starts on Monday.
    assert_eq!(
        final_materials_due(&period, &CAL, date!(2026 - 12 - 05)).unwrap(),
        date!(2026 - 12 - 25)
    );
    // A policy that sets its own period wins; 0 is treated as unset.
    let mut five = period.clone();
    five.materials_working_days = Some(5);
    assert_eq!(
        final_materials_due(&five, &CAL, date!(2026 - 12 - 04)).unwrap(),
        date!(2026 - 12 - 10)
    );
    five.materials_working_days = Some(0);
    assert_eq!(five.materials_working_days(), 15);
}
