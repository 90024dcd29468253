//! The one-call login check: every transition of the account state, drift
//! learning, HOTP resynchronisation, and an attacker's view. Over 400
//! lines: the guard's transitions read best side by side.
#![allow(clippy::unwrap_used)]

use twofa::{
    Error, Guard, Hotp, HotpAccount, Outcome, Secret, ThrottlePolicy, ThrottleState, Totp,
    TotpAccount,
};

const NOW: u64 = 1_700_000_000;

fn totp() -> Totp {
    Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

fn hotp() -> Hotp {
    Hotp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

/// A code that is valid nowhere near `NOW`.
fn wrong() -> String {
    totp().generate_at(NOW + 86_400).unwrap().to_string()
}

fn code_at(time: u64) -> String {
    totp().generate_at(time).unwrap().to_string()
}

#[test]
fn accepted_then_replayed_then_older_codes_refused() {
    let guard = Guard::default();
    let mut account = TotpAccount::default();
    let outcome = guard
        .verify_totp(&totp(), &mut account, &code_at(NOW), NOW)
        .unwrap();
    let Outcome::Accepted(found) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(account.last_step, Some(found.step));
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(NOW), NOW + 1)
            .unwrap(),
        Outcome::Replayed
    );
    // The previous step's code is inside the window but older than the last accepted.
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(NOW - 30), NOW + 2)
            .unwrap(),
        Outcome::Replayed
    );
    // The next step's code is new.
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(NOW + 30), NOW + 30)
            .unwrap()
            .is_accepted()
    );
}

#[test]
fn invalid_codes_count_down_to_the_lockout_and_then_even_the_right_code_is_refused() {
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .lockout_after(3)
            .base_delay(0)
            .max_delay(0)
            .build()
            .unwrap(),
    );
    let mut account = TotpAccount::default();
    for left in [2, 1, 0] {
        assert_eq!(
            guard
                .verify_totp(&totp(), &mut account, &wrong(), NOW)
                .unwrap(),
            Outcome::Invalid {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(NOW), NOW)
            .unwrap(),
        Outcome::Locked { until: None }
    );
    assert_eq!(account.last_step, None, "nothing was accepted while locked");
    // A reset (by an administrator, or after a recovery code) unlocks.
    guard.throttle().record_success(&mut account.throttle);
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(NOW), NOW)
            .unwrap()
            .is_accepted()
    );
}

#[test]
fn backoff_refuses_before_comparing_and_a_success_forgets_failures() {
    let guard = Guard::default();
    let mut account = TotpAccount::default();
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &wrong(), NOW)
            .unwrap(),
        Outcome::Invalid { attempts_left: 9 }
    );
    // The right code, too soon: refused without being compared.
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(NOW), NOW)
            .unwrap(),
        Outcome::TooSoon { retry_at: NOW + 1 }
    );
    assert_eq!(account.last_step, None);
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(NOW), NOW + 1)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(account.throttle, ThrottleState::default());
}

#[test]
fn malformed_codes_are_not_counted_and_a_wrong_clock_is_an_error() {
    let guard = Guard::default();
    let mut account = TotpAccount::default();
    for typed in ["", "12345", "1234567", "abcdef", "12 34 56"] {
        assert_eq!(
            guard
                .verify_totp(&totp(), &mut account, typed, NOW)
                .unwrap(),
            Outcome::Malformed
        );
    }
    assert_eq!(account, TotpAccount::default());
    let late_epoch = Totp::builder(Secret::from_bytes(b"12345678901234567890").unwrap())
        .t0(NOW + 1)
        .build()
        .unwrap();
    assert_eq!(
        guard.verify_totp(&late_epoch, &mut account, "123456", NOW),
        Err(Error::TimeBeforeEpoch)
    );
    assert_eq!(account, TotpAccount::default());
}

#[test]
fn drift_is_learned_step_by_step_and_bounded() {
    let guard = Guard::default().with_max_drift(2).unwrap();
    let mut account = TotpAccount::default();
    let mut now = NOW;
    // The authenticator's clock runs ahead a little more each day.
    for (ahead, learned) in [(1, 1), (2, 2), (3, 2)] {
        let typed = code_at(now + 30 * ahead);
        let outcome = guard
            .verify_totp(&totp(), &mut account, &typed, now)
            .unwrap();
        let Outcome::Accepted(found) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(found.drift, ahead as i64);
        assert_eq!(account.drift, learned);
        now += 86_400;
    }
    // Without the learned drift, a clock 3 steps ahead is outside ±1.
    let mut fresh = TotpAccount::default();
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut fresh, &code_at(now + 90), now)
            .unwrap(),
        Outcome::Invalid { attempts_left: 9 }
    );
    // With it (2, the bound), the window covers steps +1 to +3.
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(now + 90), now)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(
        Guard::default().with_max_drift(101),
        Err(Error::InvalidPolicy)
    );
    assert_eq!(Guard::default().max_drift(), Guard::DEFAULT_MAX_DRIFT);
}

#[test]
fn a_replayed_code_stays_refused_however_the_clock_moves() {
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .lockout_after(100)
            .base_delay(0)
            .max_delay(0)
            .build()
            .unwrap(),
    );
    let mut account = TotpAccount::default();
    let code = code_at(NOW);
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &code, NOW)
            .unwrap()
            .is_accepted()
    );
    for offset in (-3000i64..=3000).step_by(7) {
        let when = NOW.checked_add_signed(offset).unwrap();
        let outcome = guard
            .verify_totp(&totp(), &mut account, &code, when)
            .unwrap();
        assert!(!outcome.is_accepted(), "accepted again at {offset:+} s");
        guard.throttle().record_success(&mut account.throttle); // keep the lockout out of the way
    }
}

#[test]
fn an_attacker_gets_no_more_guesses_than_the_policy_allows() {
    let guard = Guard::default();
    let mut account = TotpAccount::default();
    let mut compared = 0;
    let mut now = NOW;
    // Every code there is, as fast as the guard allows, for a day.
    for guess in 0..1_000_000u32 {
        let typed = format!("{guess:06}");
        match guard
            .verify_totp(&totp(), &mut account, &typed, now)
            .unwrap()
        {
            Outcome::Accepted(_) => panic!("guessed after {compared} attempts"),
            Outcome::Invalid { .. } | Outcome::Replayed => compared += 1,
            Outcome::TooSoon { retry_at } => now = retry_at,
            Outcome::Locked { until } => {
                assert_eq!(until, None);
                break;
            }
            Outcome::Malformed => unreachable!(),
        }
        if now > NOW + 86_400 {
            break;
        }
    }
    assert!(
        compared <= guard.throttle().lockout_after(),
        "{compared} compared"
    );
    assert_eq!(compared, 10);
}

#[test]
fn hotp_moves_the_counter_past_each_accepted_code() {
    let guard = Guard::default();
    let mut account = HotpAccount::default();
    // RFC 4226 Appendix D: counters 0, 1, 2.
    assert!(
        guard
            .verify_hotp(&hotp(), &mut account, "755224", NOW)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(account.counter, 1);
    // Used codes are behind the counter: no longer valid.
    assert_eq!(
        guard
            .verify_hotp(&hotp(), &mut account, "755224", NOW)
            .unwrap(),
        Outcome::Invalid { attempts_left: 9 }
    );
    // Two presses skipped: inside the look-ahead.
    let outcome = guard
        .verify_hotp(&hotp(), &mut account, "969429", NOW + 1)
        .unwrap();
    let Outcome::Accepted(found) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((found.counter, found.ahead, account.counter), (3, 2, 4));
    assert_eq!(account.throttle, ThrottleState::default());

    let mut at_the_end = HotpAccount {
        counter: u64::MAX,
        ..HotpAccount::default()
    };
    let last = hotp().generate(u64::MAX).to_string();
    assert_eq!(
        guard.verify_hotp(&hotp(), &mut at_the_end, &last, NOW),
        Err(Error::CounterExhausted)
    );
    assert_eq!(at_the_end.counter, u64::MAX);
}

#[test]
fn resynchronisation_needs_consecutive_codes_inside_its_window() {
    let hotp = Hotp::builder(Secret::from_bytes(b"12345678901234567890").unwrap())
        .resync_window(100)
        .build()
        .unwrap();
    let code = |counter: u64| hotp.generate(counter).to_string();
    // Two consecutive codes far past the look-ahead.
    let found = hotp.resync(&[&code(60), &code(61)], 0).unwrap();
    assert_eq!((found.counter, found.next_counter()), (61, Some(62)));
    // Three.
    assert_eq!(
        hotp.resync(&[&code(97), &code(98), &code(99)], 0)
            .unwrap()
            .counter,
        99
    );
    // The first code at the window's last counter, and one past it.
    assert_eq!(
        hotp.resync(&[&code(100), &code(101)], 0).unwrap().counter,
        101
    );
    assert_eq!(
        hotp.resync(&[&code(101), &code(102)], 0),
        Err(Error::InvalidCode)
    );
    // Not consecutive, or out of order.
    assert_eq!(
        hotp.resync(&[&code(60), &code(62)], 0),
        Err(Error::InvalidCode)
    );
    assert_eq!(
        hotp.resync(&[&code(61), &code(60)], 0),
        Err(Error::InvalidCode)
    );
    assert_eq!(
        hotp.resync(&[&code(60), &code(61), &code(63)], 0),
        Err(Error::InvalidCode)
    );
    // Behind the stored counter.
    assert_eq!(
        hotp.resync(&[&code(60), &code(61)], 61),
        Err(Error::InvalidCode)
    );
    // Counts and shapes.
    assert_eq!(hotp.resync(&[&code(60)], 0), Err(Error::ResyncCodeCount));
    assert_eq!(
        hotp.resync(&[&code(1), &code(2), &code(3), &code(4)], 0),
        Err(Error::ResyncCodeCount)
    );
    assert_eq!(
        hotp.resync(&[&code(60), "12345"], 0),
        Err(Error::MalformedCode)
    );
    // At the end of the counter space.
    let end = u64::MAX;
    assert_eq!(
        hotp.resync(&[&code(end - 1), &code(end)], end - 5)
            .unwrap()
            .counter,
        end
    );
    assert_eq!(
        Hotp::builder(Secret::from_bytes(&[1; 16]).unwrap())
            .resync_window(1001)
            .build(),
        Err(Error::WindowTooLarge)
    );
}

#[test]
fn guarded_resynchronisation_is_throttled_and_moves_the_counter() {
    let guard = Guard::default();
    let mut account = HotpAccount::default();
    let code = |counter: u64| hotp().generate(counter).to_string();
    assert_eq!(
        guard
            .resync_hotp(&hotp(), &mut account, &[&code(40), &code(42)], NOW)
            .unwrap(),
        Outcome::Invalid { attempts_left: 9 }
    );
    assert_eq!(
        guard
            .resync_hotp(&hotp(), &mut account, &[&code(40), &code(41)], NOW)
            .unwrap(),
        Outcome::TooSoon { retry_at: NOW + 1 }
    );
    assert!(
        guard
            .resync_hotp(&hotp(), &mut account, &[&code(40), &code(41)], NOW + 1)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(account.counter, 42);
    assert_eq!(
        guard.resync_hotp(&hotp(), &mut account, &[&code(42)], NOW + 2),
        Err(Error::ResyncCodeCount)
    );
}

#[test]
fn outcomes_read_as_answers() {
    let answers = [
        (Outcome::Accepted(()), "accepted"),
        (
            Outcome::Invalid { attempts_left: 2 },
            "invalid code (2 attempts left)",
        ),
        (Outcome::Replayed, "code already used"),
        (Outcome::Malformed, "malformed code"),
        (
            Outcome::TooSoon { retry_at: 7 },
            "too many attempts: retry at 7",
        ),
        (Outcome::Locked { until: None }, "locked until reset"),
    ];
    for (outcome, text) in answers {
        assert_eq!(outcome.to_string(), text);
    }
}
