//! The throttle policy: backoff, lockout, and their exact boundaries.
#![allow(clippy::unwrap_used)]

use twofa::{
    Error, Guard, Outcome, Secret, ThrottlePolicy, ThrottleState, Throttled, Totp, TotpAccount,
};

const NOW: u64 = 1_700_000_000;

#[test]
fn backoff_doubles_from_one_second_up_to_the_cap() {
    let policy = ThrottlePolicy::default();
    let mut state = ThrottleState::default();
    let mut now = NOW;
    for (failure, wait) in [1u64, 2, 4, 8, 16, 32, 64, 128, 256]
        .into_iter()
        .enumerate()
    {
        policy.record_failure(&mut state, now);
        assert_eq!(state.failures, failure as u32 + 1);
        assert_eq!(state.retry_at, now + wait);
        // One second before: refused, with the time to come back.
        assert_eq!(
            policy.check(&state, now + wait - 1),
            Err(Throttled::TooSoon {
                retry_at: now + wait
            })
        );
        // Exactly at retry_at: allowed.
        assert_eq!(policy.check(&state, now + wait), Ok(()));
        now += wait;
    }
    // The 10th failure locks; with a lockout at 100, the cap shows.
    let policy = ThrottlePolicy::builder()
        .lockout_after(100)
        .build()
        .unwrap();
    let mut state = ThrottleState {
        failures: 9,
        retry_at: 0,
    };
    policy.record_failure(&mut state, NOW);
    assert_eq!(state.retry_at, NOW + 300);
    for _ in 0..80 {
        policy.record_failure(&mut state, NOW);
    }
    assert_eq!(state.retry_at, NOW + 300, "no overflow past 64 doublings");
}

#[test]
fn the_nth_failure_locks_until_a_reset() {
    let policy = ThrottlePolicy::default();
    let mut state = ThrottleState::default();
    for failure in 1..=10u32 {
        assert!(!policy.is_locked_out(&state));
        policy.record_failure(&mut state, NOW);
        assert_eq!(policy.attempts_left(&state), 10 - failure);
    }
    assert!(policy.is_locked_out(&state));
    for later in [NOW, NOW + 300, NOW + 86_400 * 365, u64::MAX] {
        assert_eq!(
            policy.check(&state, later),
            Err(Throttled::Locked { until: None })
        );
    }
    policy.record_success(&mut state);
    assert_eq!(state, ThrottleState::default());
    assert_eq!(policy.check(&state, NOW), Ok(()));
}

#[test]
fn a_timed_lockout_ends_exactly_on_time_and_the_next_failure_locks_again() {
    let policy = ThrottlePolicy::builder()
        .lockout_after(3)
        .lockout_duration(Some(900))
        .build()
        .unwrap();
    let mut state = ThrottleState::default();
    for _ in 0..3 {
        policy.record_failure(&mut state, NOW);
    }
    let locked = Err(Throttled::Locked {
        until: Some(NOW + 900),
    });
    assert_eq!(policy.check(&state, NOW + 899), locked);
    assert_eq!(policy.check(&state, NOW + 900), Ok(()));
    policy.record_failure(&mut state, NOW + 900);
    assert_eq!(
        policy.check(&state, NOW + 901),
        Err(Throttled::Locked {
            until: Some(NOW + 1800)
        })
    );
    assert_eq!(policy.attempts_left(&state), 0);
}

#[test]
fn times_at_the_end_of_u64_saturate() {
    let policy = ThrottlePolicy::builder()
        .lockout_after(2)
        .lockout_duration(Some(u64::MAX))
        .build()
        .unwrap();
    let mut state = ThrottleState::default();
    policy.record_failure(&mut state, u64::MAX - 1);
    assert_eq!(state.retry_at, u64::MAX);
    policy.record_failure(&mut state, u64::MAX);
    assert_eq!(
        policy.check(&state, u64::MAX),
        Err(Throttled::Locked {
            until: Some(u64::MAX)
        })
    );
    let mut state = ThrottleState {
        failures: u32::MAX,
        retry_at: 0,
    };
    policy.record_failure(&mut state, NOW);
    assert_eq!(state.failures, u32::MAX);
}

#[test]
fn policies_outside_nist_bounds_are_refused() {
    for lockout in [0, 101, u32::MAX] {
        assert_eq!(
            ThrottlePolicy::builder().lockout_after(lockout).build(),
            Err(Error::InvalidPolicy)
        );
    }
    assert_eq!(
        ThrottlePolicy::builder()
            .base_delay(10)
            .max_delay(5)
            .build(),
        Err(Error::InvalidPolicy)
    );
    let policy = ThrottlePolicy::builder()
        .lockout_after(ThrottlePolicy::MAX_LOCKOUT_AFTER)
        .base_delay(0)
        .max_delay(0)
        .build()
        .unwrap();
    assert_eq!(
        (
            policy.lockout_after(),
            policy.base_delay(),
            policy.max_delay(),
            policy.lockout_duration()
        ),
        (100, 0, 0, None)
    );
    // No backoff: the next attempt may come at once.
    let mut state = ThrottleState::default();
    policy.record_failure(&mut state, NOW);
    assert_eq!(policy.check(&state, NOW), Ok(()));
}

#[test]
fn throttled_says_until_when() {
    assert_eq!(
        Throttled::TooSoon { retry_at: 5 }.to_string(),
        "too many attempts: retry at 5"
    );
    assert_eq!(
        Throttled::Locked { until: Some(9) }.to_string(),
        "locked until 9"
    );
    assert_eq!(
        Throttled::Locked { until: None }.to_string(),
        "locked until reset"
    );
}

#[test]
fn a_timed_lockout_shorter_than_the_backoff_it_replaces_is_refused() {
    // Some(0) used to disable both the lockout and the backoff; a lock
    // shorter than the longest wait would make locking out a relief.
    for lock in [0, 1, 511, 999] {
        assert_eq!(
            ThrottlePolicy::builder()
                .lockout_after(10)
                .max_delay(1000)
                .lockout_duration(Some(lock))
                .build(),
            Err(Error::InvalidPolicy),
            "{lock}"
        );
    }
    // The backoff it replaces waits up to max_delay.
    assert!(
        ThrottlePolicy::builder()
            .lockout_after(10)
            .max_delay(1000)
            .lockout_duration(Some(1000))
            .build()
            .is_ok()
    );
    assert!(
        ThrottlePolicy::builder()
            .lockout_after(3)
            .lockout_duration(Some(299))
            .build()
            .is_err()
    );
    // With no backoff at all, a lockout still lasts a second at least.
    assert_eq!(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_duration(Some(0))
            .build(),
        Err(Error::InvalidPolicy)
    );
}

#[test]
fn failures_keep_counting_through_timed_lockouts_until_a_lock_until_reset() {
    let policy = ThrottlePolicy::builder()
        .lockout_after(10)
        .lockout_duration(Some(600))
        .build()
        .unwrap();
    let mut state = ThrottleState::default();
    let mut now = NOW;
    for failure in 1..=ThrottlePolicy::MAX_CONSECUTIVE_FAILURES {
        assert_eq!(policy.check(&state, now), Ok(()), "failure {failure}");
        policy.record_failure(&mut state, now);
        now = state.retry_at.max(now);
    }
    assert_eq!(state.failures, 100);
    assert_eq!(
        policy.check(&state, u64::MAX - 1),
        Err(Throttled::Locked { until: None })
    );
    policy.record_success(&mut state);
    assert_eq!(policy.check(&state, now), Ok(()));
}

/// An attacker who waits exactly until every `retry_at`, against every
/// kind of valid policy: at most 100 guesses are ever compared.
#[test]
fn thousands_of_guesses_compare_at_most_100_under_any_valid_policy() {
    // Ten digits, so that no guess is right by chance.
    let totp = Totp::builder(Secret::from_bytes(b"12345678901234567890").unwrap())
        .digits(10)
        .build()
        .unwrap();
    let mut policies = 0;
    for lockout_after in [1, 3, 10, 50, 99, 100] {
        for (base, max) in [(0, 0), (1, 300), (0, 5), (30, 30)] {
            for duration in [None, Some(1), Some(60), Some(512), Some(86_400)] {
                let Ok(policy) = ThrottlePolicy::builder()
                    .lockout_after(lockout_after)
                    .base_delay(base)
                    .max_delay(max)
                    .lockout_duration(duration)
                    .build()
                else {
                    continue;
                };
                policies += 1;
                let guard = Guard::new(policy);
                let mut account = TotpAccount::default();
                let mut now = NOW;
                let mut compared = 0;
                for guess in 0..5_000u32 {
                    let code = format!("{:010}", u64::from(guess) * 7_919);
                    match guard.verify_totp(&totp, &mut account, &code, now).unwrap() {
                        Outcome::Invalid { .. } | Outcome::Replayed | Outcome::Accepted(_) => {
                            compared += 1;
                        }
                        Outcome::TooSoon { retry_at }
                        | Outcome::Locked {
                            until: Some(retry_at),
                        } => {
                            now = retry_at;
                        }
                        Outcome::Locked { until: None } => now += 3_600,
                        Outcome::Malformed | Outcome::Expired | Outcome::NotAllowed => {
                            unreachable!()
                        }
                    }
                }
                assert!(
                    compared <= ThrottlePolicy::MAX_CONSECUTIVE_FAILURES as usize,
                    "{policy:?}: {compared} compared"
                );
            }
        }
    }
    assert!(policies > 50, "{policies} policies");
}

#[test]
fn each_timed_lockout_lasts_twice_the_one_before_up_to_the_longest() {
    let policy = ThrottlePolicy::builder()
        .lockout_after(3)
        .lockout_duration(Some(900))
        .max_lockout_duration(Some(3000))
        .build()
        .unwrap();
    assert_eq!(policy.max_lockout_duration(), Some(3000));
    let mut state = ThrottleState::default();
    for _ in 0..3 {
        policy.record_failure(&mut state, NOW);
    }
    // 900 s, then 1800, then 3000 (not 3600), and 3000 from then on.
    let mut at = NOW;
    for lock in [900, 1800, 3000, 3000, 3000] {
        assert_eq!(
            policy.check(&state, at),
            Err(Throttled::Locked {
                until: Some(at + lock)
            })
        );
        assert_eq!(policy.check(&state, at + lock), Ok(()));
        at += lock;
        policy.record_failure(&mut state, at);
    }
    // A success forgets it all: the next lockout is 900 s again.
    policy.record_success(&mut state);
    for _ in 0..3 {
        policy.record_failure(&mut state, at);
    }
    assert_eq!(state.retry_at, at + 900);
    // A longest lockout needs a timed one, and may not be shorter.
    for (lock, max) in [(None, Some(900)), (Some(900), Some(899))] {
        assert!(
            ThrottlePolicy::builder()
                .lockout_duration(lock)
                .max_lockout_duration(max)
                .build()
                .is_err()
        );
    }
}

#[test]
fn the_time_to_the_permanent_lock_is_the_sum_of_every_wait() {
    // Lockout after 2, no backoff: 98 locks of 100 s before the 100th
    // failure.
    let fixed = ThrottlePolicy::builder()
        .base_delay(0)
        .max_delay(0)
        .lockout_after(2)
        .lockout_duration(Some(100))
        .build()
        .unwrap();
    assert_eq!(fixed.time_to_permanent_lock(), Some(98 * 100));
    // Doubling up to 400: 100 + 200 + 400 · 96.
    let growing = ThrottlePolicy::builder()
        .base_delay(0)
        .max_delay(0)
        .lockout_after(2)
        .lockout_duration(Some(100))
        .max_lockout_duration(Some(400))
        .build()
        .unwrap();
    assert_eq!(growing.time_to_permanent_lock(), Some(100 + 200 + 400 * 96));
    // Backoff counts too: 1 + 2 before the lockout at 3.
    let backoff = ThrottlePolicy::builder()
        .lockout_after(3)
        .lockout_duration(Some(300))
        .build()
        .unwrap();
    assert_eq!(backoff.time_to_permanent_lock(), Some(1 + 2 + 97 * 300));
    // A lockout that never ends is already the permanent one.
    assert_eq!(ThrottlePolicy::default().time_to_permanent_lock(), None);
}
