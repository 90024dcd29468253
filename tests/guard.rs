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

/// A guard that never makes a test wait: no backoff, the widest lockout.
fn patient_guard() -> Guard {
    Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap(),
    )
}

#[test]
fn a_corrected_clock_logs_in_at_once_whatever_drift_was_learned() {
    let guard = Guard::default();
    for learned in -20..=20 {
        for offset in [-1, 0, 1] {
            let mut account = TotpAccount {
                drift: learned,
                ..TotpAccount::default()
            };
            let typed = code_at(NOW.saturating_add_signed(30 * offset));
            let outcome = guard
                .verify_totp(&totp(), &mut account, &typed, NOW)
                .unwrap();
            assert!(
                outcome.is_accepted(),
                "learned {learned}, offset {offset}: {outcome:?}"
            );
            assert_eq!(account.drift, offset, "learned {learned}");
        }
    }
}

#[test]
fn a_phone_that_ran_fast_or_slow_and_was_then_set_right_is_never_locked_out() {
    let guard = Guard::default();
    for off in [5i64, -5, 12, -12] {
        let mut account = TotpAccount::default();
        let mut now = NOW;
        let phone = |now: u64, steps: i64| code_at(now.saturating_add_signed(30 * steps));
        // Too far off for the window: refused, then resynchronised.
        assert!(matches!(
            guard
                .verify_totp(&totp(), &mut account, &phone(now, off), now)
                .unwrap(),
            Outcome::Invalid { .. }
        ));
        now += 60;
        let (first, second) = (phone(now, off - 1), phone(now, off));
        let outcome = guard
            .resync_totp(&totp(), &mut account, &[&first, &second], now)
            .unwrap();
        assert!(outcome.is_accepted(), "{off}: {outcome:?}");
        assert_eq!(account.drift, off);
        // Logins day after day with the wrong clock.
        for _ in 0..5 {
            now += 86_400;
            let outcome = guard
                .verify_totp(&totp(), &mut account, &phone(now, off), now)
                .unwrap();
            assert!(outcome.is_accepted(), "{off}: {outcome:?}");
        }
        // The phone's clock is set right: its very next code is accepted.
        now += 86_400;
        let outcome = guard
            .verify_totp(&totp(), &mut account, &phone(now, 0), now)
            .unwrap();
        assert!(outcome.is_accepted(), "{off}: {outcome:?}");
        assert_eq!(account.drift, 0);
    }
}

#[test]
fn a_slow_typist_cannot_walk_the_drift() {
    let guard = patient_guard();
    let mut account = TotpAccount::default();
    let mut oldest = 0;
    for day in 0..60 {
        let now = NOW + day * 86_400;
        // The oldest code the guard still takes, tried from 15 steps back.
        let accepted = (0..=15u64)
            .rev()
            .find(|&back| {
                guard
                    .verify_totp(&totp(), &mut account, &code_at(now - 30 * back), now)
                    .unwrap()
                    .is_accepted()
            })
            .unwrap();
        oldest = oldest.max(accepted);
        assert!(account.drift >= -1, "day {day}: drift {}", account.drift);
    }
    // The nominal step behind, and one more through the learned drift.
    assert_eq!(oldest, 2);
}

#[test]
fn a_match_through_the_learned_drift_moves_it_only_toward_zero() {
    let guard = Guard::default();
    let mut account = TotpAccount {
        drift: 5,
        ..TotpAccount::default()
    };
    // +6: inside the drift's window, further from 0: the drift stays.
    let outcome = guard
        .verify_totp(&totp(), &mut account, &code_at(NOW + 180), NOW)
        .unwrap();
    assert!(outcome.is_accepted());
    assert_eq!(account.drift, 5);
    // +4: nearer 0: learned.
    let now = NOW + 86_400;
    let outcome = guard
        .verify_totp(&totp(), &mut account, &code_at(now + 120), now)
        .unwrap();
    assert!(outcome.is_accepted());
    assert_eq!(account.drift, 4);
    // With a drift of 5 the windows are -1..=1 and 4..=6: +3, between
    // them, is refused.
    let mut gap = TotpAccount {
        drift: 5,
        ..TotpAccount::default()
    };
    let outcome = guard
        .verify_totp(&totp(), &mut gap, &code_at(NOW + 90), NOW)
        .unwrap();
    assert_eq!(outcome, Outcome::Invalid { attempts_left: 9 });
}

#[test]
fn the_drift_is_bounded() {
    let guard = Guard::default().with_max_drift(2).unwrap();
    let mut account = TotpAccount {
        drift: 50,
        ..TotpAccount::default()
    };
    // A stored drift beyond the bound is used only up to it: +3 is found.
    let outcome = guard
        .verify_totp(&totp(), &mut account, &code_at(NOW + 90), NOW)
        .unwrap();
    assert!(outcome.is_accepted());
    assert_eq!(account.drift, 2);
    assert_eq!(
        Guard::default().with_max_drift(Guard::MAX_DRIFT + 1),
        Err(Error::InvalidPolicy)
    );
    assert_eq!(Guard::default().max_drift(), Guard::DEFAULT_MAX_DRIFT);
}

#[test]
fn totp_resynchronisation_needs_consecutive_codes_and_is_throttled_and_replay_checked() {
    let guard = Guard::default();
    let at = |steps: u64| code_at(NOW + 30 * steps);
    let mut account = TotpAccount::default();
    for count in [0, 1, 4] {
        let codes: Vec<String> = (0..count).map(|i| at(10 + i)).collect();
        let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
        assert_eq!(
            guard.resync_totp(&totp(), &mut account, &codes, NOW),
            Err(Error::ResyncCodeCount)
        );
    }
    // Not consecutive: refused and counted.
    assert_eq!(
        guard
            .resync_totp(&totp(), &mut account, &[&at(10), &at(12)], NOW)
            .unwrap(),
        Outcome::Invalid { attempts_left: 9 }
    );
    // Throttled like any attempt: nothing compared before retry_at.
    assert_eq!(
        guard
            .resync_totp(&totp(), &mut account, &[&at(10), &at(11)], NOW)
            .unwrap(),
        Outcome::TooSoon { retry_at: NOW + 1 }
    );
    // Beyond the resynchronisation window (20 steps): refused.
    let later = NOW + 1;
    assert_eq!(
        guard
            .resync_totp(&totp(), &mut account, &[&at(24), &at(25)], later)
            .unwrap(),
        Outcome::Invalid { attempts_left: 8 }
    );
    // Two, then three consecutive codes.
    let later = NOW + 5; // the same step as NOW
    let outcome = guard
        .resync_totp(&totp(), &mut account, &[&at(10), &at(11)], later)
        .unwrap();
    let Outcome::Accepted(found) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((found.step, found.drift), (NOW / 30 + 11, 11));
    assert_eq!(
        (account.drift, account.last_step, account.throttle),
        (11, Some(found.step), ThrottleState::default())
    );
    // The same run again, or one that reuses its last step: replayed.
    assert_eq!(
        guard
            .resync_totp(&totp(), &mut account, &[&at(10), &at(11)], later)
            .unwrap(),
        Outcome::Replayed
    );
    assert_eq!(
        guard
            .resync_totp(
                &totp(),
                &mut account,
                &[&at(11), &at(12), &at(13)],
                later + 1
            )
            .unwrap(),
        Outcome::Replayed
    );
    let outcome = guard
        .resync_totp(
            &totp(),
            &mut account,
            &[&at(12), &at(13), &at(14)],
            later + 3,
        )
        .unwrap();
    assert!(outcome.is_accepted(), "{outcome:?}");
    assert_eq!(account.drift, 14);
    // A narrower drift bound refuses a run beyond it.
    let narrow = Guard::default().with_max_drift(5).unwrap();
    let mut fresh = TotpAccount::default();
    assert_eq!(
        narrow
            .resync_totp(&totp(), &mut fresh, &[&at(7), &at(8)], NOW)
            .unwrap(),
        Outcome::Invalid { attempts_left: 9 }
    );
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
            Outcome::Malformed | Outcome::Expired | Outcome::NotAllowed => unreachable!(),
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

#[test]
fn a_clock_set_right_at_once_is_not_locked_out_behind_its_own_mark() {
    let guard = Guard::default();
    let at = |steps: i64| code_at(NOW.saturating_add_signed(30 * steps));
    let mut account = TotpAccount::default();
    // The phone runs 20 steps fast: resynchronised, then one login.
    let outcome = guard
        .resync_totp(&totp(), &mut account, &[&at(19), &at(20)], NOW)
        .unwrap();
    assert!(outcome.is_accepted());
    let now = NOW + 30;
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &at(21), now)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(account.last_step, Some(NOW / 30 + 21));
    // A minute later its clock is set right: the mark is 20 steps ahead,
    // yet each fresh code is accepted, once.
    for minute in 1..=6u64 {
        let now = NOW + 60 * minute;
        let code = code_at(now);
        let outcome = guard
            .verify_totp(&totp(), &mut account, &code, now)
            .unwrap();
        assert!(outcome.is_accepted(), "minute {minute}: {outcome:?}");
        assert_eq!(
            guard
                .verify_totp(&totp(), &mut account, &code, now + 1)
                .unwrap(),
            Outcome::Replayed,
            "minute {minute}"
        );
    }
    assert_eq!(account.throttle.failures, 1, "the last replay counted");
    // When the server's clock reaches the codes the fast phone used, they
    // are refused: those very codes were accepted already.
    account.throttle = ThrottleState::default();
    let now = NOW + 30 * 20;
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &at(20), now)
            .unwrap(),
        Outcome::Replayed
    );
    // And once the server passes the mark, only newer codes pass again.
    let now = NOW + 30 * 22;
    account.throttle = ThrottleState::default();
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &at(22), now)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &at(21), now)
            .unwrap(),
        Outcome::Replayed
    );
}

#[test]
fn an_unused_older_code_is_still_refused_when_the_mark_is_not_ahead() {
    // The usual case: a code from the step before the last accepted one,
    // never typed (seen over a shoulder), is refused: the mark decides.
    let guard = Guard::default();
    let mut account = TotpAccount::default();
    let now = NOW + 10; // step S, with S - 1 inside the window
    assert!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(now), now)
            .unwrap()
            .is_accepted()
    );
    assert_eq!(
        guard
            .verify_totp(&totp(), &mut account, &code_at(now - 30), now + 1)
            .unwrap(),
        Outcome::Replayed
    );
}
