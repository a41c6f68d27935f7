//! Login-failure handling and session timeout (等保: 登录失败处理功能, 连接超时自动退出).

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub lock_minutes: u32,
}

/// The account state after one more failed password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterFailure {
    pub failed_logins: u32,
    /// Set when this failure locks the account.
    pub locked_until: Option<OffsetDateTime>,
}

pub fn is_locked(locked_until: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    locked_until.is_some_and(|until| now < until)
}

pub fn after_failure(
    failed_logins: u32,
    now: OffsetDateTime,
    policy: LockoutPolicy,
) -> AfterFailure {
    let failed = failed_logins.saturating_add(1);
    if failed >= policy.threshold {
        AfterFailure {
            // The counter starts afresh once the lock has run out.
            failed_logins: 0,
            locked_until: Some(now + Duration::minutes(i64::from(policy.lock_minutes))),
        }
    } else {
        AfterFailure {
            failed_logins: failed,
            locked_until: None,
        }
    }
}

/// Whether a sign-in may pass a lock: a lock anyone can set with a few wrong passwords must not
/// shut the owner out. The owner presents a second factor with the password, from an address
/// with no failures on the account during the lock period. Never when the lock came from wrong
/// second-factor codes: then someone else has the password.
pub fn may_pass_lock(
    second_factor_enrolled: bool,
    locked_by_second_factor: bool,
    code_given: bool,
    failures_from_address: u64,
) -> bool {
    second_factor_enrolled && !locked_by_second_factor && code_given && failures_from_address == 0
}

pub fn session_expired(last_seen: OffsetDateTime, now: OffsetDateTime, idle_minutes: u32) -> bool {
    now - last_seen >= Duration::minutes(i64::from(idle_minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const POLICY: LockoutPolicy = LockoutPolicy {
        threshold: 5,
        lock_minutes: 15,
    };

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let mut failed = 0;
        for _ in 0..4 {
            let r = after_failure(failed, t0(), POLICY);
            assert_eq!(r.locked_until, None);
            failed = r.failed_logins;
        }
        let r = after_failure(failed, t0(), POLICY);
        assert_eq!(r.locked_until, Some(t0() + Duration::minutes(15)));
        assert!(is_locked(r.locked_until, t0() + Duration::minutes(14)));
        assert!(!is_locked(r.locked_until, t0() + Duration::minutes(15)));
    }

    #[test]
    fn idle_sessions_end_after_the_timeout() {
        assert!(!session_expired(t0(), t0() + Duration::minutes(29), 30));
        assert!(session_expired(t0(), t0() + Duration::minutes(30), 30));
    }

    #[test]
    fn only_both_factors_from_a_clean_address_pass_a_lock() {
        assert!(may_pass_lock(true, false, true, 0));
        assert!(
            !may_pass_lock(false, false, true, 0),
            "no second factor enrolled"
        );
        assert!(!may_pass_lock(true, true, true, 0), "locked by wrong codes");
        assert!(!may_pass_lock(true, false, false, 0), "no code given");
        assert!(
            !may_pass_lock(true, false, true, 1),
            "the address failed on the account"
        );
    }

    proptest! {
        #[test]
        fn exactly_threshold_failures_lock(threshold in 1u32..20) {
            let policy = LockoutPolicy { threshold, lock_minutes: 1 };
            let mut failed = 0;
            for i in 1..=threshold {
                let r = after_failure(failed, t0(), policy);
                prop_assert_eq!(r.locked_until.is_some(), i == threshold);
                failed = r.failed_logins;
            }
        }
    }
}
