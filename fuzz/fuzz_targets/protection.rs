//! The account-protection state machines driven by arbitrary event
//! sequences: guarded TOTP logins and resynchronisations, first-factor
//! checks and out-of-band challenges under the account's one throttle,
//! and HOTP logins, under arbitrary policies and clocks that jump either
//! way.
//!
//! Invariants: a used step or counter is never accepted again; nothing is
//! compared while the throttle refuses, so attempts never exceed the
//! policy, and never 100 consecutive failures whatever the factor; the
//! current step's code is accepted whenever the throttle allows and the
//! step is new, whatever drift was learned; an out-of-band code is
//! accepted at most once, never after its expiry, never after its
//! attempts are spent, and a spent challenge is never sent again.
#![no_main]

use std::{collections::HashSet, convert::Infallible};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rand_core::{TryCryptoRng, TryRng};
use twofa::{
    Binding, DigestKey, Error, Guard, Hotp, HotpAccount, OobChallenge, OobPolicy, Outcome, Secret,
    ThrottlePolicy, ThrottleState, Totp, TotpAccount,
};

#[derive(Arbitrary, Debug)]
struct Input {
    lockout_after: u8,
    base_delay: u8,
    max_delay: u16,
    lockout_duration: Option<u16>,
    max_lockout_duration: Option<u32>,
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
    /// TOTP resynchronisation with the codes of the steps `offset - 1`
    /// (or `offset - 2`, with a gap) and `offset` from now.
    TotpResync { offset: i8, gap: bool },
    /// The first factor (a PIN), right or wrong.
    Pin(bool),
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
}

/// What the test tracks across the account's one throttle.
#[derive(Default)]
struct Tally {
    /// Every TOTP step accepted so far.
    steps: HashSet<u64>,
    /// Failures compared since the last completed login or reset.
    consecutive: u32,
}

impl Tally {
    /// Steps accepted at the server's step `server`, with the mark `last`
    /// before: never a step accepted before, and below the mark only while
    /// the mark is ahead of the server.
    fn accept(&mut self, steps: std::ops::RangeInclusive<u64>, last: Option<u64>, server: u64) {
        for step in steps {
            assert!(self.steps.insert(step), "step {step} accepted twice");
            assert!(
                last.is_none_or(|last| step > last || last > server),
                "an older code accepted while the mark was not ahead"
            );
        }
        self.compared(false);
    }

    fn compared(&mut self, failed: bool) {
        if failed {
            self.consecutive += 1;
            assert!(
                self.consecutive <= ThrottlePolicy::MAX_CONSECUTIVE_FAILURES,
                "more than 100 consecutive failures compared"
            );
        } else {
            self.consecutive = 0;
        }
    }
}

fuzz_target!(|input: Input| {
    let Ok(policy) = ThrottlePolicy::builder()
        .lockout_after(u32::from(input.lockout_after))
        .base_delay(u64::from(input.base_delay))
        .max_delay(u64::from(input.max_delay))
        .lockout_duration(input.lockout_duration.map(u64::from))
        .max_lockout_duration(input.max_lockout_duration.map(u64::from))
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
    let keys = [DigestKey::new(1, [9; 32])];
    let binding = Binding::new("alice", "login");
    let mut sends = ThrottleState::default();
    let mut rng = Rng(input.seed);

    let mut now: u64 = 1_700_000_000;
    let mut totp_account = TotpAccount::default();
    let mut hotp_account = HotpAccount::default();
    let mut tally = Tally::default();
    let mut highest_counter: Option<u64> = None;
    let mut oob: Option<Oob> = None;

    for event in input.events {
        if let Some(code) = totp_code(&event, &totp, now) {
            let current = matches!(event, Event::TotpRight(0));
            check_totp(
                &guard,
                &totp,
                &mut totp_account,
                &mut tally,
                &code,
                current,
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
                tally.consecutive = 0;
            }
            Event::TotpResync { offset, gap } => {
                let Ok(step) = totp.step_at(now) else {
                    continue;
                };
                let last = step.saturating_add_signed(offset.into());
                let first = last.saturating_sub(if gap { 2 } else { 1 });
                let codes = [
                    totp.generate_at_step(first).to_string(),
                    totp.generate_at_step(last).to_string(),
                ];
                let before = totp_account;
                let outcome = guard
                    .resync_totp(&totp, &mut totp_account, &[&codes[0], &codes[1]], now)
                    .unwrap();
                if let Err(throttled) = policy.check(&before.throttle, now) {
                    assert_eq!(outcome, throttled.into());
                    assert_eq!(totp_account, before);
                    continue;
                }
                match outcome {
                    Outcome::Accepted(found) => {
                        assert!(!gap || last - first == 1, "codes with a gap resynchronised");
                        tally.accept(first..=found.step, before.last_step, step);
                        assert_eq!(totp_account.drift, found.drift);
                        assert!(found.drift.unsigned_abs() <= guard.max_drift());
                    }
                    Outcome::Invalid { .. } | Outcome::Replayed => tally.compared(true),
                    other => panic!("{other:?} for a resynchronisation"),
                }
            }
            Event::Pin(right) => {
                let before = totp_account.throttle;
                let outcome = guard.check_first_factor(&mut totp_account.throttle, now, || right);
                if let Err(throttled) = policy.check(&before, now) {
                    assert_eq!(outcome, throttled.into());
                    assert_eq!(totp_account.throttle, before);
                    continue;
                }
                match outcome {
                    // A right PIN forgets nothing.
                    Outcome::Accepted(()) => assert_eq!(totp_account.throttle, before),
                    Outcome::Invalid { .. } => tally.compared(true),
                    other => panic!("{other:?} for a PIN"),
                }
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
                let Some(oob_policy) = &oob_policy else {
                    continue;
                };
                if guard
                    .allow_send(&totp_account.throttle, &mut sends, now)
                    .is_err()
                {
                    continue;
                }
                // Never a code for a locked account.
                assert!(
                    !policy.is_locked_out(&totp_account.throttle)
                        || policy.check(&totp_account.throttle, now).is_ok()
                );
                let (code, challenge) = oob_policy.issue(&keys[0], &mut rng, binding, now).unwrap();
                oob = Some(Oob {
                    challenge,
                    code: code.to_string(),
                    accepted: false,
                });
            }
            Event::OobResend => {
                if let (Some(oob_policy), Some(state)) = (&oob_policy, oob.as_mut()) {
                    let before = state.challenge.clone();
                    match oob_policy.resend(&keys[0], &mut rng, &mut state.challenge, binding, now)
                    {
                        Ok(code) => {
                            assert!(!before.used && before.attempts_left > 0);
                            assert_eq!(
                                state.challenge.attempts_left, before.attempts_left,
                                "resending bought attempts"
                            );
                            state.code = code.to_string();
                            state.accepted = false;
                        }
                        Err(Error::ChallengeSpent) => {
                            assert!(before.used || before.attempts_left == 0);
                            assert_eq!(state.challenge, before);
                        }
                        Err(other) => panic!("{other:?}"),
                    }
                }
            }
            Event::OobRight => {
                if let Some(state) = oob.as_mut() {
                    let typed = state.code.clone();
                    check_oob(
                        &guard,
                        &keys,
                        binding,
                        &mut totp_account,
                        &mut tally,
                        state,
                        &typed,
                        now,
                    );
                }
            }
            Event::OobGuess(guess) => {
                if let Some(state) = oob.as_mut() {
                    let typed = format!("{:06}", guess % 1_000_000);
                    check_oob(
                        &guard,
                        &keys,
                        binding,
                        &mut totp_account,
                        &mut tally,
                        state,
                        &typed,
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
    tally: &mut Tally,
    typed: &str,
    current: bool,
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
    // The current step's code, new and not throttled, is always accepted,
    // whatever drift was learned.
    let server = totp.step_at(now).unwrap();
    if current {
        let step = server;
        let below_mark_but_fresh = before
            .last_step
            .is_some_and(|last| last > server && last - step <= 128);
        if !tally.steps.contains(&step)
            && (before.last_step.is_none_or(|last| step > last) || below_mark_but_fresh)
        {
            assert!(
                outcome.is_accepted(),
                "the current code refused: {outcome:?}"
            );
        }
    }
    match outcome {
        Outcome::Accepted(found) => {
            tally.accept(found.step..=found.step, before.last_step, server);
            assert_eq!(
                totp.generate_at_step(found.step),
                twofa::Code::parse(typed, totp.format()).unwrap()
            );
            assert_eq!(
                account.last_step,
                Some(
                    before
                        .last_step
                        .map_or(found.step, |last| last.max(found.step))
                )
            );
            assert_eq!(account.throttle.failures, 0);
            assert!(account.drift.unsigned_abs() <= guard.max_drift());
        }
        Outcome::Invalid { attempts_left } => {
            tally.compared(true);
            assert_eq!(
                account.throttle.failures,
                before.throttle.failures.saturating_add(1)
            );
            assert_eq!(account.last_step, before.last_step);
            assert_eq!(attempts_left, policy.attempts_left(&account.throttle));
        }
        Outcome::Replayed => {
            tally.compared(true);
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

#[allow(clippy::too_many_arguments)]
fn check_oob(
    guard: &Guard,
    keys: &[DigestKey],
    binding: Binding<'_>,
    account: &mut TotpAccount,
    tally: &mut Tally,
    state: &mut Oob,
    typed: &str,
    now: u64,
) {
    let before = (state.challenge.clone(), account.throttle);
    let outcome = guard
        .verify_oob(
            &mut account.throttle,
            &mut state.challenge,
            keys,
            binding,
            typed,
            now,
        )
        .unwrap();
    if let Err(throttled) = guard.throttle().check(&before.1, now) {
        assert_eq!(outcome, throttled.into());
        assert_eq!((&state.challenge, account.throttle), (&before.0, before.1));
        return;
    }
    let (challenge, throttle) = before;
    match outcome {
        Outcome::Accepted(()) => {
            assert!(!state.accepted, "out-of-band code accepted twice");
            assert!(!challenge.used && now < challenge.expires_at && challenge.attempts_left > 0);
            assert_eq!(typed, state.code);
            assert_eq!(account.throttle, ThrottleState::default());
            state.accepted = true;
            tally.compared(false);
        }
        Outcome::Invalid { .. } => {
            assert_ne!(typed, state.code);
            assert_eq!(state.challenge.attempts_left, challenge.attempts_left - 1);
            assert_eq!(
                account.throttle.failures,
                throttle.failures.saturating_add(1)
            );
            tally.compared(true);
        }
        Outcome::Expired => {
            assert!(now >= challenge.expires_at || challenge.used || challenge.attempts_left == 0);
            assert_eq!(account.throttle, throttle);
        }
        other => panic!("{other:?} for an out-of-band code"),
    }
}
