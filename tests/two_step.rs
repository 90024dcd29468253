//! Logins in two steps: pending-login tickets, registered devices with
//! number matching, remembered devices; every binding, expiry boundary,
//! single use, and one throttle shared by everything.
#![cfg(feature = "device")]
#![allow(clippy::unwrap_used)]

use twofa::{
    AccountState, Binding, DeviceAlgorithm, DevicePolicy, DigestKey, Error, FirstFactor, Guard,
    Outcome, RememberPolicy, SecondFactor, SecondFactors, Secret, ThrottlePolicy, TicketPolicy,
    Totp,
};

const NOW: u64 = 1_700_000_000;

fn keys() -> [DigestKey; 1] {
    [DigestKey::new(1, [5; 32])]
}

fn alice() -> Binding<'static> {
    Binding::new("alice", "login")
}

fn totp() -> Totp {
    Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

fn totp_only() -> SecondFactors {
    [SecondFactor::Totp].into_iter().collect()
}

/// A device's key, held by the test as a phone would hold it.
enum Phone {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl Phone {
    fn p256() -> Self {
        Self::P256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap())
    }

    fn ed25519() -> Self {
        Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[9; 32]))
    }

    fn algorithm(&self) -> DeviceAlgorithm {
        match self {
            Self::P256(_) => DeviceAlgorithm::EcdsaP256,
            Self::Ed25519(_) => DeviceAlgorithm::Ed25519,
        }
    }

    fn public_key(&self) -> Vec<u8> {
        match self {
            Self::P256(key) => key.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
            Self::Ed25519(key) => key.verifying_key().to_bytes().to_vec(),
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::P256(key) => {
                use p256::ecdsa::{Signature, signature::Signer};
                let signature: Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
            Self::Ed25519(key) => {
                use ed25519_dalek::Signer;
                key.sign(message).to_bytes().to_vec()
            }
        }
    }
}

/// Step one for alice with her password right: the ticket.
fn first_step(guard: &Guard, state: &mut AccountState, allowed: SecondFactors, now: u64) -> String {
    let outcome = guard
        .begin_login(
            state,
            &TicketPolicy::default(),
            &keys()[0],
            &mut getrandom::SysRng,
            alice(),
            FirstFactor::Password,
            allowed,
            now,
            || true,
        )
        .unwrap();
    let Outcome::Accepted(ticket) = outcome else {
        panic!("{outcome:?}")
    };
    ticket.to_string()
}

fn second_step_totp(
    guard: &Guard,
    state: &mut AccountState,
    ticket: &str,
    code: &str,
    now: u64,
) -> Outcome<twofa::TotpMatch> {
    guard
        .complete_login(
            state,
            &keys(),
            alice(),
            ticket,
            SecondFactor::Totp,
            now,
            |guard, state| guard.verify_totp(&totp(), &mut state.totp, code, now),
        )
        .unwrap()
}

#[test]
fn a_ticket_completes_one_login_and_only_for_its_account_purpose_and_factor() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let ticket = first_step(&guard, &mut state, totp_only(), NOW);
    assert_eq!(ticket.len(), 52);
    let code = totp().generate_at(NOW + 5).unwrap().to_string();
    // Another account, another purpose: the same ticket is wrong, and counted.
    for binding in [Binding::new("bob", "login"), Binding::new("alice", "reset")] {
        let outcome = guard
            .complete_login(
                &mut state,
                &keys(),
                binding,
                &ticket,
                SecondFactor::Totp,
                NOW + 5,
                |guard, state| guard.verify_totp(&totp(), &mut state.totp, &code, NOW + 5),
            )
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Invalid { .. }),
            "{binding:?}: {outcome:?}"
        );
        state.totp.throttle = twofa::ThrottleState::default();
    }
    // A factor the first step did not allow.
    let outcome = guard
        .complete_login(
            &mut state,
            &keys(),
            alice(),
            &ticket,
            SecondFactor::Recovery,
            NOW + 5,
            |_, _| Ok(Outcome::Accepted(())),
        )
        .unwrap();
    assert_eq!(outcome, Outcome::NotAllowed);
    // The right factor completes the login, once.
    assert!(second_step_totp(&guard, &mut state, &ticket, &code, NOW + 5).is_accepted());
    let later = totp().generate_at(NOW + 65).unwrap().to_string();
    assert_eq!(
        second_step_totp(&guard, &mut state, &ticket, &later, NOW + 65),
        Outcome::Expired
    );
    // Malformed tickets compare nothing.
    for bad in ["", "not a ticket", &ticket[..51]] {
        assert_eq!(
            second_step_totp(&guard, &mut state, bad, &later, NOW + 65),
            Outcome::Malformed
        );
    }
}

#[test]
fn a_ticket_expires_exactly_on_time_and_policies_are_bounded() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let ticket = first_step(&guard, &mut state, totp_only(), NOW);
    assert_eq!(state.pending[0].expires_at, NOW + 600);
    let code_at = |t: u64| totp().generate_at(t).unwrap().to_string();
    assert_eq!(
        second_step_totp(
            &guard,
            &mut state.clone(),
            &ticket,
            &code_at(NOW + 600),
            NOW + 600
        ),
        Outcome::Expired
    );
    assert!(
        second_step_totp(&guard, &mut state, &ticket, &code_at(NOW + 599), NOW + 599).is_accepted()
    );
    assert_eq!(TicketPolicy::new(0), Err(Error::InvalidPolicy));
    assert_eq!(TicketPolicy::new(901), Err(Error::InvalidPolicy));
    assert_eq!(TicketPolicy::new(900).unwrap().ttl(), 900);
}

#[test]
fn many_tickets_never_multiply_the_guesses() {
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(10)
            .build()
            .unwrap(),
    );
    let mut state = AccountState::new();
    let mut compared = 0;
    // A fresh ticket for every guess, as an attacker with the password would open.
    for guess in 0..200u32 {
        let outcome = guard
            .begin_login(
                &mut state,
                &TicketPolicy::default(),
                &keys()[0],
                &mut getrandom::SysRng,
                alice(),
                FirstFactor::Password,
                totp_only(),
                NOW,
                || true,
            )
            .unwrap();
        let Outcome::Accepted(ticket) = outcome else {
            assert_eq!(outcome, Outcome::Locked { until: None });
            break;
        };
        let wrong = format!("{:06}", guess * 7);
        match second_step_totp(&guard, &mut state, &ticket.to_string(), &wrong, NOW) {
            Outcome::Invalid { .. } => compared += 1,
            Outcome::Locked { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(compared, 10);
    assert!(state.pending.len() <= AccountState::MAX_PENDING);
}

/// Registers `phone` for alice and returns its id.
fn register(guard: &Guard, state: &mut AccountState, phone: &Phone, now: u64) -> [u8; 16] {
    let policy = DevicePolicy::default();
    guard
        .start_device_registration(state, &policy, &mut getrandom::SysRng, now)
        .unwrap();
    let challenge = state.registration.clone().unwrap();
    let public_key = phone.public_key();
    let signature = phone.sign(&challenge.message("alice", phone.algorithm(), &public_key));
    let outcome = guard
        .finish_device_registration(
            state,
            &policy,
            &mut getrandom::SysRng,
            "alice",
            phone.algorithm(),
            &public_key,
            &signature,
            now,
        )
        .unwrap();
    let Outcome::Accepted(id) = outcome else {
        panic!("{outcome:?}")
    };
    id
}

#[test]
fn a_registered_device_signs_the_number_it_was_shown() {
    for phone in [Phone::p256(), Phone::ed25519()] {
        let guard = Guard::default();
        let mut state = AccountState::new();
        let device = register(&guard, &mut state, &phone, NOW);
        let ticket = first_step(
            &guard,
            &mut state,
            [SecondFactor::Device].into_iter().collect(),
            NOW,
        );
        let ticket_id = ticket.parse::<twofa::Token>().unwrap().id();
        let number = guard
            .challenge_device(
                &mut state,
                &DevicePolicy::default(),
                &mut getrandom::SysRng,
                &device,
                Some(ticket_id),
                "pay 10 EUR to ACME",
                NOW,
            )
            .unwrap()
            .unwrap();
        assert!((10..=99).contains(&number));
        let challenge = state.device_challenge.clone().unwrap();
        // The person enters the number shown; the phone signs it.
        let signature = phone.sign(&challenge.message("alice", number));
        let outcome = guard
            .complete_login(
                &mut state,
                &keys(),
                alice(),
                &ticket,
                SecondFactor::Device,
                NOW + 10,
                |guard, state| guard.verify_device(state, "alice", &signature, NOW + 10),
            )
            .unwrap();
        assert_eq!(outcome, Outcome::Accepted(device));
        // The same signature again: the challenge is used.
        assert_eq!(
            guard
                .verify_device(&mut state, "alice", &signature, NOW + 11)
                .unwrap(),
            Outcome::Expired
        );
    }
}

#[test]
fn a_signature_for_anything_else_is_refused() {
    let phone = Phone::p256();
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap(),
    );
    let mut state = AccountState::new();
    let device = register(&guard, &mut state, &phone, NOW);
    let other_device = register(&guard, &mut state, &Phone::ed25519(), NOW);
    let policy = DevicePolicy::default();
    let number = guard
        .challenge_device(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            &device,
            Some([3; 16]),
            "pay 10 EUR",
            NOW,
        )
        .unwrap()
        .unwrap();
    let challenge = state.device_challenge.clone().unwrap();
    let other_number = if number == 99 { 98 } else { number + 1 };
    let mut other_ticket = challenge.clone();
    other_ticket.ticket_id = [4; 16];
    let mut other_transaction = challenge.clone();
    other_transaction.transaction = [0; 32];
    let mut other_nonce = challenge.clone();
    other_nonce.nonce[0] ^= 1;
    let mut for_other_device = challenge.clone();
    for_other_device.device_id = other_device;
    let registration = {
        let mut state = AccountState::new();
        guard
            .start_device_registration(&mut state, &policy, &mut getrandom::SysRng, NOW)
            .unwrap();
        state.registration.unwrap()
    };
    let attempts: Vec<(&str, Vec<u8>)> = vec![
        (
            "a wrong number",
            phone.sign(&challenge.message("alice", other_number)),
        ),
        (
            "another challenge",
            phone.sign(&other_nonce.message("alice", number)),
        ),
        (
            "another account",
            phone.sign(&challenge.message("bob", number)),
        ),
        (
            "another device",
            phone.sign(&for_other_device.message("alice", number)),
        ),
        (
            "another pending login",
            phone.sign(&other_ticket.message("alice", number)),
        ),
        (
            "another transaction",
            phone.sign(&other_transaction.message("alice", number)),
        ),
        (
            "another kind of message",
            phone.sign(&registration.message("alice", phone.algorithm(), &phone.public_key())),
        ),
        (
            "another key",
            Phone::ed25519().sign(&challenge.message("alice", number)),
        ),
        ("garbage", vec![0; 64]),
        ("nothing", vec![]),
    ];
    for (what, signature) in &attempts {
        let outcome = guard
            .verify_device(&mut state, "alice", signature, NOW + 1)
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Invalid { .. }),
            "{what}: {outcome:?}"
        );
    }
    assert_eq!(state.totp.throttle.failures, attempts.len() as u32);
    // The right one still works, before the 2 minutes are over.
    let right = phone.sign(&challenge.message("alice", number));
    assert_eq!(
        guard
            .verify_device(&mut state.clone(), "alice", &right, NOW + 120)
            .unwrap(),
        Outcome::Expired
    );
    assert!(
        guard
            .verify_device(&mut state, "alice", &right, NOW + 119)
            .unwrap()
            .is_accepted()
    );
}

#[test]
fn devices_are_limited_revocable_and_need_a_valid_registration() {
    let guard = Guard::default();
    let policy = DevicePolicy::new(60, 2).unwrap();
    let mut state = AccountState::new();
    let phone = Phone::p256();
    // A registration signed over the wrong challenge is refused and counted.
    guard
        .start_device_registration(&mut state, &policy, &mut getrandom::SysRng, NOW)
        .unwrap();
    let public_key = phone.public_key();
    let outcome = guard
        .finish_device_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            "alice",
            phone.algorithm(),
            &public_key,
            &phone.sign(b"something else"),
            NOW,
        )
        .unwrap();
    assert!(matches!(outcome, Outcome::Invalid { .. }));
    // The challenge was used by that answer.
    let challenge = state.registration.clone().unwrap();
    let signature = phone.sign(&challenge.message("alice", phone.algorithm(), &public_key));
    let outcome = guard
        .finish_device_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            "alice",
            phone.algorithm(),
            &public_key,
            &signature,
            NOW + 1,
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Expired);
    state.totp.throttle = twofa::ThrottleState::default();
    let first = register(&guard, &mut state, &phone, NOW);
    register(&guard, &mut state, &Phone::ed25519(), NOW);
    guard
        .start_device_registration(&mut state, &policy, &mut getrandom::SysRng, NOW)
        .unwrap();
    assert_eq!(
        guard.finish_device_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            "alice",
            phone.algorithm(),
            &public_key,
            &[],
            NOW
        ),
        Err(Error::TooManyDevices)
    );
    // Revoked: no challenge, and a pending challenge is refused.
    let number = guard
        .challenge_device(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            &first,
            None,
            "",
            NOW,
        )
        .unwrap()
        .unwrap();
    let signature = phone.sign(
        &state
            .device_challenge
            .clone()
            .unwrap()
            .message("alice", number),
    );
    assert!(state.revoke_device(&first));
    assert!(!state.revoke_device(&first));
    assert_eq!(
        guard
            .verify_device(&mut state, "alice", &signature, NOW + 2)
            .unwrap(),
        Outcome::Expired
    );
    assert_eq!(
        guard.challenge_device(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            &first,
            None,
            "",
            NOW
        ),
        Err(Error::UnknownDevice)
    );
    assert_eq!(DevicePolicy::new(121, 5), Err(Error::InvalidPolicy));
    assert_eq!(DevicePolicy::new(120, 21), Err(Error::InvalidPolicy));
}

#[test]
fn a_remembered_device_skips_the_second_factor_until_credentials_change() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let policy = RememberPolicy::default();
    let token = guard
        .remember_device(
            &mut state,
            &policy,
            &keys()[0],
            &mut getrandom::SysRng,
            alice(),
            NOW,
        )
        .unwrap()
        .to_string();
    assert_eq!(state.remembered[0].expires_at, NOW + 30 * 86_400);
    let check = |state: &mut AccountState, token: &str, binding, now| {
        guard
            .verify_remembered(state, &keys(), binding, token, now)
            .unwrap()
    };
    assert!(check(&mut state, &token, alice(), NOW + 100).is_accepted());
    // Another account or purpose: wrong, and counted.
    assert!(matches!(
        check(&mut state, &token, Binding::new("bob", "login"), NOW + 100),
        Outcome::Invalid { .. }
    ));
    state.totp.throttle = twofa::ThrottleState::default();
    // Expiry boundary.
    assert_eq!(
        check(&mut state.clone(), &token, alice(), NOW + 30 * 86_400),
        Outcome::Expired
    );
    // A password change revokes it.
    state.credentials_changed();
    assert_eq!(
        check(&mut state, &token, alice(), NOW + 200),
        Outcome::Invalid { attempts_left: 9 }
    );
    assert_eq!(
        RememberPolicy::new(365 * 86_400 + 1),
        Err(Error::InvalidPolicy)
    );
}

#[test]
fn the_whole_state_survives_serialization() {
    #[cfg(feature = "serde")]
    {
        let guard = Guard::default();
        let mut state = AccountState::new();
        register(&guard, &mut state, &Phone::p256(), NOW);
        first_step(&guard, &mut state, totp_only(), NOW);
        let text = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<AccountState>(&text).unwrap(), state);
    }
}
