//! A cluster's standing, derived from its titles (第三条、第十条、第十一条、第十四条).
//!
//! A 初赛 confers the 培育对象 title, a 决赛 the 省先进制造业集群 title; 第十四条 revokes titles
//! after a failed 复核 or for 弄虚作假 / 违法. The standing shown everywhere is never set by hand:
//! it is what [`standing`] makes of the titles. Certification closes the 培育对象 title
//! (superseded on the day of certification), revoking a title that is already closed changes
//! nothing current, and a cluster holding a live title may not start another 初赛 application.

use time::Date;

use crate::round::Designation;

/// How a title ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closure {
    /// Replaced by a higher title (a 培育对象 later certified).
    Superseded(Date),
    /// Revoked by a decision (第十四条).
    Revoked(Date),
    /// Its fixed term ran out (a title conferred for a number of years, e.g. three): the day
    /// after its last day.
    Lapsed(Date),
}

/// One title a cluster was given, with how it ended, if it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Title {
    pub designation: Designation,
    pub effective_on: Date,
    pub closed: Option<Closure>,
}

impl Title {
    pub fn new(designation: Designation, effective_on: Date) -> Title {
        Title {
            designation,
            effective_on,
            closed: None,
        }
    }

    /// A title in force on `day`: conferred by then and not closed by then.
    pub fn live_on(&self, day: Date) -> bool {
        self.effective_on <= day
            && match self.closed {
                None => true,
                Some(Closure::Superseded(d) | Closure::Revoked(d) | Closure::Lapsed(d)) => d > day,
            }
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

/// Where a cluster stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    /// Never designated (or only applying).
    None,
    /// Holds a live 培育对象 title.
    Cultivation,
    /// Holds a live 省先进制造业集群 title.
    Certified,
    /// Was designated, and its last live title was revoked.
    Revoked,
}

/// The standing the titles give: the highest open title wins; with none open, a cluster whose
/// titles ended in a revocation is revoked, one whose titles were only superseded (which cannot
/// happen without a higher title) or that has none stands nowhere.
pub fn standing(titles: &[Title]) -> Standing {
    let open = |d: Designation| titles.iter().any(|t| t.is_open() && t.designation == d);
    if open(Designation::Certified) {
        Standing::Certified
    } else if open(Designation::CultivationTarget) {
        Standing::Cultivation
    } else if titles
        .iter()
        .any(|t| matches!(t.closed, Some(Closure::Revoked(_))))
    {
        Standing::Revoked
    } else {
        Standing::None
    }
}

/// What conferring a title does to the titles already held: certification supersedes every
/// open 培育对象 title on the day it takes effect. Returns the indices closed.
pub fn confer(titles: &mut Vec<Title>, designation: Designation, on: Date) -> Vec<usize> {
    let mut closed = Vec::new();
    if designation == Designation::Certified {
        for (i, t) in titles.iter_mut().enumerate() {
            if t.is_open() && t.designation == Designation::CultivationTarget {
                t.closed = Some(Closure::Superseded(on));
                closed.push(i);
            }
        }
    }
    titles.push(Title::new(designation, on));
    closed
}

/// A certificate reissued (换发) after an approved 变更申请: the open title `i` closes as
/// superseded on `on` and the same title, from the same day it was first conferred, continues
/// under the new certificate. The standing does not change. None when `i` is not open.
pub fn reissue(titles: &mut Vec<Title>, i: usize, on: Date) -> Option<usize> {
    let t = titles.get_mut(i).filter(|t| t.is_open())?;
    t.closed = Some(Closure::Superseded(on));
    let again = Title::new(t.designation, t.effective_on);
    titles.push(again);
    Some(titles.len() - 1)
}

/// The last day of a title conferred on `effective_on` for `years` years (2026-12-01 for
/// three years → 2029-11-30); `None` only out of the calendar's range.
pub fn term_end(effective_on: Date, years: u32) -> Option<Date> {
    let year = effective_on
        .year()
        .checked_add(i32::try_from(years).ok()?)?;
    let same_day = effective_on
        .replace_year(year)
        .ok()
        // 02-29 in a non-leap year: the term ends with February.
        .or_else(|| Date::from_calendar_date(year, time::Month::March, 1).ok())?;
    same_day.previous_day()
}

/// A title held for a fixed term: open titles whose term has ended by `today` close as lapsed
/// on the day after their last day, so `standing` no longer counts them. Returns the indices
/// closed.
pub fn lapse(titles: &mut [Title], years: u32, today: Date) -> Vec<usize> {
    let mut closed = Vec::new();
    for (i, t) in titles.iter_mut().enumerate() {
        if !t.is_open() {
            continue;
        }
        if let Some(after) = term_end(t.effective_on, years).and_then(Date::next_day)
            && after <= today
        {
            t.closed = Some(Closure::Lapsed(after));
            closed.push(i);
        }
    }
    closed
}

/// Why a title cannot be revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeRefusal {
    /// It was already superseded by a higher title: revoking it would change nothing current.
    Superseded,
    /// It was already revoked.
    AlreadyRevoked,
}

/// Revokes one title. Only an open title can be revoked; a superseded or revoked one is left
/// as it is, so that revoking an old 培育对象 title never touches a cluster's certification.
pub fn revoke(title: &mut Title, on: Date) -> Result<(), RevokeRefusal> {
    match title.closed {
        Some(Closure::Superseded(_) | Closure::Lapsed(_)) => Err(RevokeRefusal::Superseded),
        Some(Closure::Revoked(_)) => Err(RevokeRefusal::AlreadyRevoked),
        None => {
            title.closed = Some(Closure::Revoked(on));
            Ok(())
        }
    }
}

/// A revocation decision (第十四条 按程序撤销) voids every open title of the cluster. Returns the
/// indices revoked.
pub fn revoke_all(titles: &mut [Title], on: Date) -> Vec<usize> {
    titles
        .iter_mut()
        .enumerate()
        .filter_map(|(i, t)| revoke(t, on).ok().map(|()| i))
        .collect()
}

/// Why a cluster may not start a 初赛 application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyRefusal {
    /// A 培育对象 goes on to the 决赛, not back to the 初赛.
    HoldsCultivation,
    /// A certified cluster is already at the top.
    HoldsCertification,
}

/// Whether a cluster standing where it stands may start a 初赛 application.
pub fn may_apply(standing: Standing) -> Result<(), ApplyRefusal> {
    match standing {
        Standing::None | Standing::Revoked => Ok(()),
        Standing::Cultivation => Err(ApplyRefusal::HoldsCultivation),
        Standing::Certified => Err(ApplyRefusal::HoldsCertification),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    const CT: Designation = Designation::CultivationTarget;
    const CERT: Designation = Designation::Certified;

    #[test]
    fn a_title_for_three_years_lapses_the_day_after_its_last_day() {
        assert_eq!(
            term_end(date!(2026 - 12 - 01), 3),
            Some(date!(2029 - 11 - 30))
        );
        assert_eq!(
            term_end(date!(2024 - 02 - 29), 3),
            Some(date!(2027 - 02 - 28))
        );
        let mut titles = vec![Title::new(CERT, date!(2026 - 12 - 01))];
        assert!(lapse(&mut titles, 3, date!(2029 - 11 - 30)).is_empty());
        assert_eq!(standing(&titles), Standing::Certified);
        assert_eq!(lapse(&mut titles, 3, date!(2029 - 12 - 01)), vec![0]);
        assert_eq!(
            titles[0].closed,
            Some(Closure::Lapsed(date!(2029 - 12 - 01)))
        );
        assert_eq!(standing(&titles), Standing::None);
        assert!(titles[0].live_on(date!(2029 - 11 - 30)));
        assert!(!titles[0].live_on(date!(2029 - 12 - 01)));
        assert_eq!(
            revoke(&mut titles[0], date!(2030 - 01 - 01)),
            Err(RevokeRefusal::Superseded)
        );
    }

    #[test]
    fn no_titles_stand_nowhere_and_may_apply() {
        assert_eq!(standing(&[]), Standing::None);
        assert_eq!(may_apply(standing(&[])), Ok(()));
    }

    #[test]
    fn certification_supersedes_cultivation() {
        let mut titles = vec![];
        confer(&mut titles, CT, date!(2026 - 01 - 10));
        assert_eq!(standing(&titles), Standing::Cultivation);
        let closed = confer(&mut titles, CERT, date!(2026 - 09 - 01));
        assert_eq!(closed, vec![0]);
        assert_eq!(
            titles[0].closed,
            Some(Closure::Superseded(date!(2026 - 09 - 01)))
        );
        assert_eq!(standing(&titles), Standing::Certified);
        assert!(titles[0].live_on(date!(2026 - 08 - 31)));
        assert!(!titles[0].live_on(date!(2026 - 09 - 01)));
    }

    #[test]
    fn revoking_a_superseded_title_changes_nothing_current() {
        let mut titles = vec![];
        confer(&mut titles, CT, date!(2026 - 01 - 10));
        confer(&mut titles, CERT, date!(2026 - 09 - 01));
        assert_eq!(
            revoke(&mut titles[0], date!(2026 - 10 - 01)),
            Err(RevokeRefusal::Superseded)
        );
        assert_eq!(standing(&titles), Standing::Certified);
    }

    #[test]
    fn revoking_the_live_title_revokes_the_cluster() {
        let mut titles = vec![];
        confer(&mut titles, CT, date!(2026 - 01 - 10));
        confer(&mut titles, CERT, date!(2026 - 09 - 01));
        assert_eq!(revoke_all(&mut titles, date!(2027 - 03 - 01)), vec![1]);
        assert_eq!(standing(&titles), Standing::Revoked);
        assert_eq!(
            revoke(&mut titles[1], date!(2027 - 03 - 02)),
            Err(RevokeRefusal::AlreadyRevoked)
        );
        assert_eq!(may_apply(Standing::Revoked), Ok(()));
    }

    #[test]
    fn a_live_title_bars_a_new_preliminary_application() {
        assert_eq!(
            may_apply(Standing::Cultivation),
            Err(ApplyRefusal::HoldsCultivation)
        );
        assert_eq!(
            may_apply(Standing::Certified),
            Err(ApplyRefusal::HoldsCertification)
        );
    }

    #[derive(Debug, Clone)]
    enum Step {
        Confer(Designation),
        Revoke(usize),
        RevokeAll,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Confer(CT)),
            Just(Step::Confer(CERT)),
            (0usize..6).prop_map(Step::Revoke),
            Just(Step::RevokeAll),
        ]
    }

    proptest! {
        /// A title held for a term counts exactly through its last day, which falls `years`
        /// years after it was conferred, less one day.
        #[test]
        fn a_term_title_stands_exactly_through_its_last_day(
            offset in 0i64..3000,
            years in 1u32..=10,
            after in -400i64..400,
        ) {
            let on = date!(2024 - 01 - 01) + time::Duration::days(offset);
            let end = term_end(on, years).unwrap();
            prop_assert!(end >= on);
            prop_assert_eq!(end.next_day().unwrap().year(), on.year() + years as i32);
            let today = end + time::Duration::days(after);
            let mut titles = vec![Title::new(CERT, on)];
            let closed = lapse(&mut titles, years, today);
            prop_assert_eq!(closed.is_empty(), today <= end);
            let expected = if today <= end { Standing::Certified } else { Standing::None };
            prop_assert_eq!(standing(&titles), expected);
        }

        /// Over any sequence of conferrals and revocations: at most one open title of each kind
        /// stands beside a certification (none of them 培育对象), the standing is the highest open
        /// title, a refused revocation changes nothing, and after a full revocation the cluster is
        /// revoked whenever it had any title.
        #[test]
        fn standing_follows_the_titles(steps in proptest::collection::vec(step(), 0..12)) {
            let mut titles: Vec<Title> = vec![];
            let mut day = date!(2026 - 01 - 01);
            for s in steps {
                day = day.next_day().unwrap_or(day);
                match s {
                    Step::Confer(d) => {
                        confer(&mut titles, d, day);
                    }
                    Step::Revoke(i) => {
                        if let Some(t) = titles.get(i).copied() {
                            let before = standing(&titles);
                            let mut t2 = t;
                            match revoke(&mut t2, day) {
                                Ok(()) => titles[i] = t2,
                                Err(_) => {
                                    prop_assert_eq!(t2, t);
                                    prop_assert_eq!(standing(&titles), before);
                                }
                            }
                        }
                    }
                    Step::RevokeAll => {
                        revoke_all(&mut titles, day);
                        prop_assert!(titles.iter().all(|t| !t.is_open()));
                        if !titles.is_empty() {
                            prop_assert_eq!(standing(&titles), Standing::Revoked);
                        }
                    }
                }
                let open_cert = titles.iter().any(|t| t.is_open() && t.designation == CERT);
                let open_ct = titles.iter().any(|t| t.is_open() && t.designation == CT);
                let expected = if open_cert {
                    Standing::Certified
                } else if open_ct {
                    Standing::Cultivation
                } else if titles.iter().any(|t| matches!(t.closed, Some(Closure::Revoked(_)))) {
                    Standing::Revoked
                } else {
                    Standing::None
                };
                prop_assert_eq!(standing(&titles), expected);
                // Certification never leaves a 培育对象 title open beside it, unless that title
                // was conferred after the certification (a later 初赛, which may_apply forbids).
                if let Some(cert_at) = titles.iter().position(|t| t.is_open() && t.designation == CERT) {
                    prop_assert!(titles[..cert_at]
                        .iter()
                        .all(|t| !(t.is_open() && t.designation == CT)));
                }
                prop_assert_eq!(may_apply(standing(&titles)).is_ok(), !(open_cert || open_ct));
            }
        }
    }

    #[test]
    fn a_reissue_keeps_the_title_and_its_standing() {
        use time::macros::date;
        let mut titles = vec![Title::new(Designation::Certified, date!(2025 - 01 - 15))];
        let before = standing(&titles);
        let new = reissue(&mut titles, 0, date!(2026 - 12 - 20)).unwrap();
        assert_eq!(standing(&titles), before);
        assert_eq!(
            titles[0].closed,
            Some(Closure::Superseded(date!(2026 - 12 - 20)))
        );
        assert_eq!(titles[new].effective_on, date!(2025 - 01 - 15));
        assert!(titles[new].is_open());
        // A closed title is not reissued.
        assert_eq!(reissue(&mut titles, 0, date!(2026 - 12 - 21)), None);
    }
}
