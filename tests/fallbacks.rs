//! Fallbacks under the account's one throttle: the first factor, SMS
//! codes and recovery codes count their failures against the account, so
//! neither fresh challenges, resends nor mixed factors add guesses, and
//! sending codes is rate limited.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used)]

use twofa::{
    Binding, DigestKey, Guard, OobPolicy, Outcome, RecoveryAccepted, RecoveryCodes, RecoveryKeys,
    RecoveryPolicy, ThrottlePolicy, ThrottleState, Throttled,
};

const NOW: u64 = 1_700_000_000;

fn keys() -> [DigestKey; 1] {
    [DigestKey::new(1, [7; 32])]
}

fn login() -> Binding<'static> {
    Binding::new("alice", "login")
}

/// A wrong code for a challenge whose right code is `code`.
fn recovery_keys(digest: &[DigestKey]) -> RecoveryKeys<'_> {
    RecoveryKeys {
        digest,
        peppers: &[],
    }
}

/// `typed` as alice's recovery code, under the throttle.
fn recovery(
    guard: &Guard,
    throttle: &mut ThrottleState,
    record: &mut RecoveryCodes,
    typed: &str,
    now: u64,
) -> Outcome<RecoveryAccepted> {
    let policy = RecoveryPolicy::default();
    let digest = keys();
    let (keys, owner) = (recovery_keys(&digest), Binding::new("alice", "recovery"));
    let rng = &mut getrandom::SysRng;
    guard
        .verify_recovery(throttle, record, &policy, keys, owner, rng, typed, now)
        .unwrap()
}

fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[test]
fn fresh_challenges_do_not_add_guesses() {
    let guard = Guard::default();
    let policy = OobPolicy::default();
    let mut throttle = ThrottleState::default();
    let mut now = NOW;
    let mut compared = 0;
    // A new challenge for every guess (as a careless resend would give),
    // for as long as the guard lets guesses through.
    for _ in 0..500 {
        let (code, mut challenge) = policy
            .issue(&keys()[0], &mut getrandom::SysRng, login(), now)
            .unwrap();
        let outcome = guard
            .verify_oob(
                &mut throttle,
                &mut challenge,
                &keys(),
                login(),
                &wrong(&code.to_string()),
                now,
            )
            .unwrap();
        match outcome {
            Outcome::Invalid { .. } => compared += 1,
            Outcome::TooSoon { retry_at } => now = retry_at,
            Outcome::Locked { until: None } => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(compared, 10);
    assert_eq!(throttle.failures, 10);
}

#[test]
fn every_factor_shares_the_one_lockout() {
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(6)
            .build()
            .unwrap(),
    );
    let recovery_policy = RecoveryPolicy::new(2, 7 * 1024, 5).unwrap();
    let (codes, mut record) = recovery_policy
        .generate(
            &mut getrandom::SysRng,
            recovery_keys(&keys()),
            Binding::new("alice", "recovery"),
        )
        .unwrap();
    let mut throttle = ThrottleState::default();
    let (sms, mut challenge) = OobPolicy::default()
        .issue(&keys()[0], &mut getrandom::SysRng, login(), NOW)
        .unwrap();
    let sms = sms.to_string();
    // Two wrong PINs, two wrong SMS codes, two wrong recovery codes.
    for _ in 0..2 {
        assert!(matches!(
            guard.check_first_factor(&mut throttle, NOW, || false),
            Outcome::Invalid { .. }
        ));
    }
    for _ in 0..2 {
        assert!(matches!(
            guard
                .verify_oob(
                    &mut throttle,
                    &mut challenge,
                    &keys(),
                    login(),
                    &wrong(&sms),
                    NOW
                )
                .unwrap(),
            Outcome::Invalid { .. }
        ));
    }
    assert_eq!(
        recovery(&guard, &mut throttle, &mut record, "0000000000000000", NOW),
        Outcome::Invalid { attempts_left: 1 }
    );
    assert_eq!(
        recovery(&guard, &mut throttle, &mut record, "1111111111111111", NOW),
        Outcome::Invalid { attempts_left: 0 }
    );
    // Locked: nothing is checked, whatever the factor.
    let locked = Outcome::Locked { until: None };
    assert_eq!(
        guard.check_first_factor(&mut throttle, NOW, || true),
        locked
    );
    assert_eq!(
        guard
            .verify_oob(&mut throttle, &mut challenge, &keys(), login(), &sms, NOW)
            .unwrap(),
        Outcome::Locked { until: None }
    );
    let before = record.clone();
    assert_eq!(
        recovery(&guard, &mut throttle, &mut record, &codes[0].to_text(), NOW),
        Outcome::Locked { until: None }
    );
    assert_eq!(record, before, "nothing was hashed or used");
    assert!(!challenge.used);
}

#[test]
fn a_right_pin_does_not_forget_failures_but_a_completed_login_does() {
    let guard = Guard::default();
    let mut throttle = ThrottleState::default();
    let (sms, mut challenge) = OobPolicy::default()
        .issue(&keys()[0], &mut getrandom::SysRng, login(), NOW)
        .unwrap();
    let sms = sms.to_string();
    assert!(matches!(
        guard
            .verify_oob(
                &mut throttle,
                &mut challenge,
                &keys(),
                login(),
                &wrong(&sms),
                NOW
            )
            .unwrap(),
        Outcome::Invalid { attempts_left: 9 }
    ));
    assert_eq!(
        guard.check_first_factor(&mut throttle, NOW + 1, || true),
        Outcome::Accepted(())
    );
    assert_eq!(throttle.failures, 1);
    assert_eq!(
        guard
            .verify_oob(
                &mut throttle,
                &mut challenge,
                &keys(),
                login(),
                &sms,
                NOW + 2
            )
            .unwrap(),
        Outcome::Accepted(())
    );
    assert_eq!(throttle, ThrottleState::default());
    // Used, expired or spent challenges are answered without comparing.
    assert_eq!(
        guard
            .verify_oob(
                &mut throttle,
                &mut challenge,
                &keys(),
                login(),
                &sms,
                NOW + 3
            )
            .unwrap(),
        Outcome::Expired
    );
    assert_eq!(throttle, ThrottleState::default());
}

#[test]
fn a_used_recovery_code_is_replaced_and_counts_as_wrong_and_a_right_one_completes_the_login() {
    let guard = Guard::default();
    let policy = RecoveryPolicy::new(2, 7 * 1024, 5).unwrap();
    let owner = Binding::new("alice", "recovery");
    let (codes, mut record) = policy
        .generate(&mut getrandom::SysRng, recovery_keys(&keys()), owner)
        .unwrap();
    let mut throttle = ThrottleState {
        failures: 3,
        retry_at: NOW,
    };
    let code = codes[1].to_text();
    let Outcome::Accepted(accepted) = recovery(&guard, &mut throttle, &mut record, &code, NOW)
    else {
        panic!("the right code")
    };
    assert_eq!(accepted.remaining, 2);
    assert_eq!(throttle, ThrottleState::default());
    assert_eq!(
        recovery(&guard, &mut throttle, &mut record, &code, NOW),
        Outcome::Invalid { attempts_left: 9 }
    );
    assert_eq!(throttle.failures, 1);
    assert_eq!(
        recovery(&guard, &mut throttle, &mut record, "not a code", NOW + 10),
        Outcome::Malformed
    );
    assert_eq!(throttle.failures, 1);
    // The replacement completes a later login.
    let replacement = accepted.replacement.to_text();
    assert!(recovery(&guard, &mut throttle, &mut record, &replacement, NOW + 10).is_accepted());
}

#[test]
fn sending_codes_is_rate_limited_and_stops_while_the_account_is_locked() {
    let guard = Guard::default();
    let account = ThrottleState::default();
    let mut sends = ThrottleState::default();
    let mut now = NOW;
    let mut sent = 0;
    // As often as the limit allows, for a day.
    while now < NOW + 86_400 {
        match guard.allow_send(&account, &mut sends, now) {
            Ok(()) => sent += 1,
            Err(
                Throttled::TooSoon { retry_at }
                | Throttled::Locked {
                    until: Some(retry_at),
                },
            ) => {
                now = retry_at;
                continue;
            }
            Err(Throttled::Locked { until: None }) => break,
        }
        now += 1;
    }
    // 10 sends, then an hour's lock, then one more each hour.
    assert!((30..=40).contains(&sent), "{sent} sends in a day");
    assert_eq!(
        guard.allow_send(&account, &mut ThrottleState::default(), NOW),
        Ok(())
    );
    let mut first = ThrottleState::default();
    guard.allow_send(&account, &mut first, NOW).unwrap();
    assert_eq!(
        guard.allow_send(&account, &mut first, NOW + 29),
        Err(Throttled::TooSoon { retry_at: NOW + 30 })
    );
    // A locked account gets no code at all.
    let locked = ThrottleState {
        failures: 10,
        retry_at: u64::MAX,
    };
    assert_eq!(
        guard.allow_send(&locked, &mut ThrottleState::default(), NOW),
        Err(Throttled::Locked { until: None })
    );
    // A successful login starts the limit again.
    guard.send_policy().record_success(&mut first);
    assert_eq!(guard.allow_send(&account, &mut first, NOW + 29), Ok(()));
}

#[test]
fn sends_resume_after_each_timed_lock_however_many_there_were() {
    let guard = Guard::default();
    let account = ThrottleState::default();
    let mut sends = ThrottleState::default();
    let mut now = NOW;
    let mut sent = 0;
    // A year of one send as soon as allowed: never locked until a reset.
    while now < NOW + 365 * 86_400 {
        match guard.allow_send(&account, &mut sends, now) {
            Ok(()) => sent += 1,
            Err(
                Throttled::TooSoon { retry_at }
                | Throttled::Locked {
                    until: Some(retry_at),
                },
            ) => {
                now = retry_at;
                continue;
            }
            Err(Throttled::Locked { until: None }) => panic!("sends locked for good after {sent}"),
        }
        now += 1;
    }
    assert!(sent > 8_000, "{sent}");
    assert!(sends.failures < ThrottlePolicy::MAX_CONSECUTIVE_FAILURES);
}
