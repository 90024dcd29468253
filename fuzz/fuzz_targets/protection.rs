//! The account-protection state machines driven by arbitrary event
//! sequences: guarded TOTP and HOTP logins, and out-of-band challenges,
//! under arbitrary policies and clocks that jump either way.
//!
//! Invariants: a used step or counter is never accepted again; nothing is
//! compared while the throttle refuses, so attempts never exceed the
//! policy; an out-of-band code is accepted at most once, never after its
//! expiry, and never after its attempts are spent.
#![no_main]

use std::convert::Infallible;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rand_core::{TryCryptoRng, TryRng};
use twofa::{
    Guard, Hotp, HotpAccount, OobChallenge, OobKey, OobOutcome, OobPolicy, Outcome, Secret,
    ThrottlePolicy, Totp, TotpAccount,
};

#[derive(Arbitrary, Debug)]
struct Input {
    lockout_after: u8,
    base_delay: u8,
    max_delay: u16,
    lockout_duration: Option<u16>,
    max_drift: u8,
    behind: u8,
    ahead: u8,
    oob_ttl: u16,
    oob_attempts: u8,
    seed: u64,
    events: Vec<Event>,
}

#[derive(Arbitrary, Debug)]
enum Event {
    /// The clock moves forward.
    Wait(u16),
    /// The clock is set back.
    Back(u16),
    /// The TOTP code of the step `offset` away from now.
    TotpRight(i8),
    /// A guessed TOTP code.
    TotpGuess(u32),
    /// Any text as a TOTP code.
    TotpTyped(String),
    /// An administrator's reset.
    Reset,
    /// The HOTP code `ahead` counters past the stored one.
    HotpRight(u8),
    /// Resynchronisation with the codes at `start` and `start + 1` (or a
    /// gap) past the stored counter.
    HotpResync { start: u8, gap: bool },
    /// A new out-of-band code.
    OobIssue,
    /// The out-of-band code sent again.
    OobResend,
    /// The current out-of-band code typed back.
    OobRight,
    /// A guessed out-of-band code.
    OobGuess(u32),
}

/// A deterministic generator for the fuzzer (splitmix64).
struct Rng(u64);

impl TryRng for Rng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            *byte = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl TryCryptoRng for Rng {}

/// The out-of-band challenge in play and what the test knows of it.
struct Oob {
    challenge: OobChallenge,
    code: String,
    accepted: bool,
    /// Wrong attempts since the first issue (resends carry them over).
    wrong: u32,
}

fuzz_target!(|input: Input| {
    let Ok(policy) = ThrottlePolicy::builder()
        .lockout_after(u32::from(input.lockout_after))
        .base_delay(u64::from(input.base_delay))
        .max_delay(u64::from(input.max_delay))
        .lockout_duration(input.lockout_duration.map(u64::from))
        .build()
    else {
        return;
    };
    let Ok(guard) = Guard::new(policy).with_max_drift(u64::from(input.max_drift)) else {
        return;
    };
    let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
    let Ok(totp) = Totp::builder(secret.clone())
        .window(u64::from(input.behind), u64::from(input.ahead))
        .build()
    else {
        return;
    };
    let hotp = Hotp::new(secret);
    let oob_policy =
        OobPolicy::new(6, u64::from(input.oob_ttl), u32::from(input.oob_attempts)).ok();
    let key = OobKey::from_bytes([9; 32]);
    let mut rng = Rng(input.seed);

    let mut now: u64 = 1_700_000_000;
    let mut totp_account = TotpAccount::default();
    let mut hotp_account = HotpAccount::default();
    let mut highest_step: Option<u64> = None;
    let mut highest_counter: Option<u64> = None;
    let mut oob: Option<Oob> = None;

    for event in input.events {
        if let Some(code) = totp_code(&event, &totp, now) {
            check_totp(
                &guard,
                &totp,
                &mut totp_account,
                &mut highest_step,
                &code,
                now,
            );
            continue;
        }
        match event {
            Event::Wait(seconds) => now += u64::from(seconds),
            Event::Back(seconds) => now -= u64::from(seconds).min(now - 1_000_000_000),
            Event::Reset => {
                policy.record_success(&mut totp_account.throttle);
                policy.record_success(&mut hotp_account.throttle);
            }
            Event::TotpRight(_) | Event::TotpGuess(_) | Event::TotpTyped(_) => {}
            Event::HotpRight(ahead) => {
                let counter = hotp_account.counter.saturating_add(ahead.into());
                let code = hotp.generate(counter).to_string();
                let before = hotp_account;
                let outcome = guard.verify_hotp(&hotp, &mut hotp_account, &code, now);
                check_hotp(
                    &guard,
                    &before,
                    &hotp_account,
                    &mut highest_counter,
                    outcome,
                    now,
                );
            }
            Event::HotpResync { start, gap } => {
                let first = hotp_account.counter.saturating_add(start.into());
                let second = first.saturating_add(if gap { 2 } else { 1 });
                let codes = [
                    hotp.generate(first).to_string(),
                    hotp.generate(second).to_string(),
                ];
                let before = hotp_account;
                let outcome =
                    guard.resync_hotp(&hotp, &mut hotp_account, &[&codes[0], &codes[1]], now);
                if gap && second != first {
                    assert!(
                        !outcome.unwrap().is_accepted(),
                        "codes with a gap resynchronised"
                    );
                }
                check_hotp(
                    &guard,
                    &before,
                    &hotp_account,
                    &mut highest_counter,
                    outcome,
                    now,
                );
            }
            Event::OobIssue => {
                if let Some(policy) = &oob_policy {
                    let (code, challenge) = policy.issue(&key, &mut rng, "login", now).unwrap();
                    assert_eq!(challenge.attempts_left, policy.max_attempts());
                    oob = Some(Oob {
                        challenge,
                        code: code.to_string(),
                        accepted: false,
                        wrong: 0,
                    });
                }
            }
            Event::OobResend => {
                if let (Some(policy), Some(state)) = (&oob_policy, oob.as_mut()) {
                    let before = state.challenge.attempts_left;
                    let code = policy
                        .resend(&key, &mut rng, &mut state.challenge, "login", now)
                        .unwrap();
                    assert_eq!(
                        state.challenge.attempts_left, before,
                        "resending bought attempts"
                    );
                    state.code = code.to_string();
                    state.accepted = false;
                }
            }
            Event::OobRight => {
                if let (Some(policy), Some(state)) = (&oob_policy, oob.as_mut()) {
                    let typed = state.code.clone();
                    check_oob(policy, &key, state, &typed, now);
                }
            }
            Event::OobGuess(guess) => {
                if let (Some(policy), Some(state)) = (&oob_policy, oob.as_mut()) {
                    check_oob(
                        policy,
                        &key,
                        state,
                        &format!("{:06}", guess % 1_000_000),
                        now,
                    );
                }
            }
        }
    }
});

/// The code a TOTP event types, if it is one.
fn totp_code(event: &Event, totp: &Totp, now: u64) -> Option<String> {
    match event {
        Event::TotpRight(offset) => {
            let step = totp
                .step_at(now)
                .ok()?
                .saturating_add_signed((*offset).into());
            Some(totp.generate_at_step(step).to_string())
        }
        Event::TotpGuess(guess) => Some(format!("{:06}", guess % 1_000_000)),
        Event::TotpTyped(text) => Some(text.clone()),
        _ => None,
    }
}

fn check_totp(
    guard: &Guard,
    totp: &Totp,
    account: &mut TotpAccount,
    highest: &mut Option<u64>,
    typed: &str,
    now: u64,
) {
    let policy = guard.throttle();
    let before = *account;
    let outcome = guard.verify_totp(totp, account, typed, now).unwrap();
    // A throttled attempt is refused before anything is compared.
    if let Err(throttled) = policy.check(&before.throttle, now) {
        assert_eq!(outcome, throttled.into());
        assert_eq!(*account, before);
        return;
    }
    match outcome {
        Outcome::Accepted(found) => {
            assert!(
                highest.is_none_or(|h| found.step > h),
                "step accepted twice"
            );
            assert!(before.last_step.is_none_or(|last| found.step > last));
            assert_eq!(
                totp.generate_at_step(found.step),
                twofa::Code::parse(typed, totp.format()).unwrap()
            );
            *highest = Some(found.step);
            assert_eq!(account.last_step, Some(found.step));
            assert_eq!(account.throttle.failures, 0);
            assert!(account.drift.unsigned_abs() <= guard.max_drift());
        }
        Outcome::Invalid { attempts_left } => {
            assert_eq!(
                account.throttle.failures,
                before.throttle.failures.saturating_add(1)
            );
            assert_eq!(account.last_step, before.last_step);
            assert_eq!(attempts_left, policy.attempts_left(&account.throttle));
        }
        Outcome::Replayed => {
            assert_eq!(
                account.throttle.failures,
                before.throttle.failures.saturating_add(1)
            );
            assert_eq!(account.last_step, before.last_step);
            // Only a code at or below an accepted step is a replay.
            assert!(before.last_step.is_some(), "replayed before any success");
        }
        Outcome::Malformed => assert_eq!(*account, before),
        other => panic!("{other:?} while the throttle allowed the attempt"),
    }
}

fn check_hotp(
    guard: &Guard,
    before: &HotpAccount,
    after: &HotpAccount,
    highest: &mut Option<u64>,
    outcome: Result<Outcome<twofa::HotpMatch>, twofa::Error>,
    now: u64,
) {
    let outcome = outcome.unwrap();
    if let Err(throttled) = guard.throttle().check(&before.throttle, now) {
        assert_eq!(outcome, throttled.into());
        assert_eq!(after, before);
        return;
    }
    match outcome {
        Outcome::Accepted(found) => {
            assert!(found.counter >= before.counter);
            assert!(
                highest.is_none_or(|h| found.counter > h),
                "counter accepted twice"
            );
            *highest = Some(found.counter);
            assert_eq!(after.counter, found.counter + 1);
        }
        Outcome::Invalid { .. } => {
            assert_eq!(after.counter, before.counter);
            assert_eq!(
                after.throttle.failures,
                before.throttle.failures.saturating_add(1)
            );
        }
        other => panic!("{other:?} for an HOTP code"),
    }
}

fn check_oob(policy: &OobPolicy, key: &OobKey, state: &mut Oob, typed: &str, now: u64) {
    let before = state.challenge;
    let outcome = state.challenge.verify(key, "login", typed, now);
    match outcome {
        OobOutcome::Accepted => {
            assert!(!state.accepted, "out-of-band code accepted twice");
            assert!(!before.used && now < before.expires_at && before.attempts_left > 0);
            assert_eq!(typed, state.code);
            state.accepted = true;
        }
        OobOutcome::Invalid { attempts_left } => {
            assert_ne!(typed, state.code);
            state.wrong += 1;
            assert!(
                state.wrong <= policy.max_attempts(),
                "more attempts than the policy"
            );
            assert_eq!(attempts_left, before.attempts_left - 1);
        }
        OobOutcome::Expired => assert!(now >= before.expires_at),
        OobOutcome::AttemptsExhausted => assert_eq!(before.attempts_left, 0),
        OobOutcome::AlreadyUsed => assert!(before.used),
        OobOutcome::Malformed => unreachable!("six digits are well formed"),
    }
}
