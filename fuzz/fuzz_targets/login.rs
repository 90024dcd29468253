//! Logins in two steps driven by arbitrary event sequences: first steps,
//! second steps with right, wrong or replayed tickets, TOTP codes and
//! device signatures (right number, wrong number, replayed), remembered
//! devices before and after a credential change, and clocks that jump.
//!
//! Invariants: a ticket completes at most one login, and none after it
//! expires; a device challenge is answered once, only with its own number,
//! and never after it expires; a remembered token is never accepted after
//! the credentials change or it expires; nothing is compared while the
//! throttle refuses, and never 100 consecutive failures.
#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use twofa::{
    AccountState, Binding, DeviceAlgorithm, DevicePolicy, DigestKey, FirstFactor, Guard, Outcome,
    RememberPolicy, SecondFactor, SecondFactors, Secret, ThrottlePolicy, TicketPolicy, Token, Totp,
};

#[derive(Arbitrary, Debug)]
struct Input {
    lockout_after: u8,
    ticket_ttl: u16,
    events: Vec<Event>,
}

#[derive(Arbitrary, Debug)]
enum Event {
    Wait(u16),
    Back(u8),
    /// Step one, with the password right or wrong.
    Begin(bool),
    /// Step two with TOTP: which ticket (of those issued), and whether
    /// the ticket or the code is altered.
    Totp {
        ticket: u8,
        bad_ticket: bool,
        bad_code: bool,
    },
    /// A login challenge to the phone for the given ticket.
    Challenge(u8),
    /// The phone's answer: right number or not, through which ticket.
    Answer {
        ticket: u8,
        right_number: bool,
    },
    /// The last answer sent again.
    Replay(u8),
    Remember,
    /// A remembered token checked with a ticket: which, altered or not.
    Remembered {
        which: u8,
        bad: bool,
        ticket: u8,
    },
    CredentialsChanged,
    Reset,
}

/// A deterministic generator for the fuzzer.
struct Rng(u64);

impl rand_core::TryRng for Rng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for byte in dst {
            *byte = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Rng {}

fuzz_target!(|input: Input| {
    let Ok(policy) = ThrottlePolicy::builder()
        .base_delay(0)
        .max_delay(0)
        .lockout_after(u32::from(input.lockout_after))
        .build()
    else {
        return;
    };
    let Ok(tickets) = TicketPolicy::new(u64::from(input.ticket_ttl)) else {
        return;
    };
    let guard = Guard::new(policy);
    let keys = [DigestKey::new(1, [3; 32])];
    let binding = Binding::new("alice", "login");
    let totp = Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap());
    let devices = DevicePolicy::default();
    let remember = RememberPolicy::default();
    let phone = SigningKey::from_slice(&[7; 32]).unwrap();
    let mut rng = Rng(7);
    let mut state = AccountState::new();
    let mut now: u64 = 1_700_000_000;

    // The phone is registered before anything else.
    guard
        .start_device_registration(&mut state, &devices, &mut rng, now)
        .unwrap();
    let public_key = phone
        .verifying_key()
        .to_sec1_point(false)
        .as_bytes()
        .to_vec();
    let message = state.registration.clone().unwrap().message(
        "alice",
        DeviceAlgorithm::EcdsaP256,
        &public_key,
    );
    let signature: Signature = phone.sign(&message);
    let outcome = guard
        .finish_device_registration(
            &mut state,
            &devices,
            &mut rng,
            &keys[0],
            "alice",
            DeviceAlgorithm::EcdsaP256,
            &public_key,
            &signature.to_bytes(),
            now,
        )
        .unwrap();
    let Outcome::Accepted(device) = outcome else {
        panic!("{outcome:?}")
    };

    let allowed: SecondFactors = [
        SecondFactor::Totp,
        SecondFactor::Device,
        SecondFactor::RememberedDevice,
    ]
    .into_iter()
    .collect();
    let mut issued: Vec<(String, u64)> = Vec::new();
    let mut completed: HashSet<String> = HashSet::new();
    let mut answers: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut answered: HashSet<Vec<u8>> = HashSet::new();
    let mut cookies: Vec<(String, u64, u64)> = Vec::new();
    let mut used_cookies: HashSet<String> = HashSet::new();
    let mut last_challenge: Option<twofa::DeviceChallenge> = None;
    let mut failures = Failures(0);

    for event in input.events {
        let throttled = guard.throttle().check(&state.totp.throttle, now).is_err();
        let before = state.totp.throttle;
        match event {
            Event::Wait(s) => now += u64::from(s),
            Event::Back(s) => now -= u64::from(s),
            Event::Reset => {
                policy.record_success(state.throttle());
                failures.succeeded();
            }
            Event::CredentialsChanged => state.credentials_changed(),
            Event::Begin(right) => {
                let outcome = guard
                    .begin_login(
                        &mut state,
                        &tickets,
                        &keys[0],
                        &mut rng,
                        binding,
                        FirstFactor::Password,
                        allowed,
                        now,
                        || right,
                    )
                    .unwrap();
                match outcome {
                    Outcome::Accepted(ticket) => {
                        assert!(right && !throttled);
                        issued.push((ticket.to_string(), now));
                    }
                    Outcome::Invalid { .. } => {
                        assert!(!right && !throttled);
                        failures.failed();
                    }
                    refused => assert!(throttled, "{refused:?}"),
                }
            }
            Event::Totp {
                ticket,
                bad_ticket,
                bad_code,
            } => {
                let Some((text, at)) = pick(&issued, ticket) else {
                    continue;
                };
                let text = if bad_ticket { alter(&text) } else { text };
                let code = totp.generate_at(now).unwrap().to_string();
                let code = if bad_code {
                    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
                } else {
                    code
                };
                let outcome = guard
                    .complete_login(
                        &mut state,
                        &keys,
                        binding,
                        &text,
                        SecondFactor::Totp,
                        now,
                        |guard, state| guard.verify_totp(&totp, &mut state.totp, &code, now),
                    )
                    .unwrap();
                if outcome.is_accepted() {
                    assert!(
                        !bad_ticket && !bad_code,
                        "an altered ticket or code accepted"
                    );
                }
                check_second(
                    &outcome,
                    throttled,
                    &before,
                    &text,
                    at,
                    now,
                    &tickets,
                    &mut completed,
                    &mut failures,
                );
            }
            Event::Challenge(ticket) => {
                let Some((text, _)) = pick(&issued, ticket) else {
                    continue;
                };
                let outcome = guard
                    .challenge_device(
                        &mut state, &devices, &mut rng, &keys, binding, &text, &device, "pay", now,
                    )
                    .unwrap();
                match outcome {
                    Outcome::Accepted(number) => {
                        let id = text.parse::<Token>().unwrap().id();
                        let pending = state.pending.iter().find(|p| p.id == id).unwrap();
                        let challenge = pending.device_challenge.clone().unwrap();
                        assert_eq!(challenge.ticket_id, id);
                        assert_eq!(challenge.number, number);
                        last_challenge = Some(challenge);
                    }
                    Outcome::Invalid { .. } => failures.failed(),
                    _ => {}
                }
            }
            Event::Answer {
                ticket,
                right_number,
            } => {
                let Some((text, at)) = pick(&issued, ticket) else {
                    continue;
                };
                // The last challenge sent, answered through any ticket.
                let Some(challenge) = last_challenge.clone() else {
                    continue;
                };
                let number = if right_number {
                    challenge.number
                } else {
                    challenge.number % 90 + 11
                };
                let signature: Signature = phone.sign(&challenge.prompt().message("alice", number));
                let signature = signature.to_bytes().to_vec();
                answers.push((signature.clone(), challenge.expires_at));
                let outcome = guard
                    .complete_login_with_device(&mut state, &keys, binding, &text, &signature, now)
                    .unwrap();
                if outcome.is_accepted() {
                    assert_eq!(number, challenge.number, "a wrong number accepted");
                    assert_eq!(
                        challenge.ticket_id,
                        text.parse::<Token>().unwrap().id(),
                        "an approval completed another login"
                    );
                    assert!(
                        now < challenge.expires_at,
                        "a challenge answered after expiry"
                    );
                    assert!(
                        answered.insert(signature.clone()),
                        "a challenge answered twice"
                    );
                }
                check_second(
                    &outcome.map(|_| ()),
                    throttled,
                    &before,
                    &text,
                    at,
                    now,
                    &tickets,
                    &mut completed,
                    &mut failures,
                );
            }
            Event::Replay(which) => {
                let Some((signature, _)) = answers
                    .get(usize::from(which) % answers.len().max(1))
                    .cloned()
                else {
                    continue;
                };
                // Sent again for a ticket of the test's choosing: whatever
                // it is, the approval is accepted at most once in all.
                let Some((text, _)) = pick(&issued, which) else {
                    continue;
                };
                let outcome = guard
                    .complete_login_with_device(&mut state, &keys, binding, &text, &signature, now)
                    .unwrap();
                if outcome.is_accepted() {
                    assert!(answered.insert(signature), "a device answer accepted twice");
                    failures.succeeded();
                } else if matches!(outcome, Outcome::Invalid { .. }) {
                    failures.failed();
                }
            }
            Event::Remember => {
                let token = guard
                    .remember_device(&mut state, &remember, &keys[0], &mut rng, binding, now)
                    .unwrap();
                cookies.push((token.to_string(), now, state.credential_version));
            }
            Event::Remembered { which, bad, ticket } => {
                let Some((ticket, issued_at)) = pick(&issued, ticket) else {
                    continue;
                };
                let Some((text, at, version)) = cookies
                    .get(usize::from(which) % cookies.len().max(1))
                    .cloned()
                else {
                    continue;
                };
                let text = if bad { alter(&text) } else { text };
                let outcome = guard
                    .verify_remembered(
                        &mut state, &remember, &keys, &mut rng, binding, &ticket, &text, now,
                    )
                    .unwrap();
                check_second(
                    &outcome,
                    throttled,
                    &before,
                    &ticket,
                    issued_at,
                    now,
                    &tickets,
                    &mut completed,
                    &mut Failures(0),
                );
                match outcome {
                    Outcome::Accepted(next) => {
                        assert!(!bad && !throttled);
                        assert_eq!(
                            version, state.credential_version,
                            "a revoked device remembered"
                        );
                        assert!(now < at + remember.ttl(), "an expired device remembered");
                        assert!(used_cookies.insert(text), "a cookie accepted twice");
                        cookies.push((next.to_string(), now, state.credential_version));
                        failures.succeeded();
                    }
                    Outcome::Replayed => {
                        assert!(
                            used_cookies.contains(&text),
                            "a fresh cookie read as copied"
                        );
                        assert!(
                            state.remembered.is_empty(),
                            "a copy left devices remembered"
                        );
                        failures.failed();
                    }
                    Outcome::Invalid { .. } => failures.failed(),
                    _ => {}
                }
            }
        }
    }
});

/// Consecutive failures compared, as the test counts them.
struct Failures(u32);

impl Failures {
    fn failed(&mut self) {
        self.0 += 1;
        assert!(self.0 <= 100, "over 100 consecutive failures compared");
    }

    fn succeeded(&mut self) {
        self.0 = 0;
    }
}

fn pick(issued: &[(String, u64)], which: u8) -> Option<(String, u64)> {
    issued
        .get(usize::from(which) % issued.len().max(1))
        .cloned()
}

/// The same token with one character of its secret half changed (the
/// last character carries padding bits too, so not that one).
fn alter(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    if let Some(c) = bytes.get_mut(30) {
        *c = if *c == b'A' { b'B' } else { b'A' };
    }
    String::from_utf8(bytes).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn check_second<M: std::fmt::Debug>(
    outcome: &Outcome<M>,
    throttled: bool,
    before: &twofa::ThrottleState,
    ticket: &str,
    issued_at: u64,
    now: u64,
    policy: &TicketPolicy,
    completed: &mut HashSet<String>,
    failures: &mut Failures,
) {
    if throttled {
        assert!(
            matches!(outcome, Outcome::TooSoon { .. } | Outcome::Locked { .. }),
            "{outcome:?} while throttled ({before:?})"
        );
        return;
    }
    match outcome {
        Outcome::Accepted(_) => {
            assert!(
                now < issued_at + policy.ttl(),
                "a ticket completed a login after it expired"
            );
            assert!(
                completed.insert(ticket.to_owned()),
                "a ticket completed two logins"
            );
            failures.succeeded();
        }
        Outcome::Invalid { .. } | Outcome::Replayed => failures.failed(),
        _ => {}
    }
}
