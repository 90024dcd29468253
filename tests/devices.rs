//! Registered devices: registration, number matching, every binding a
//! signature must match, limits and revocation, under the one throttle.
#![cfg(feature = "device")]
#![allow(clippy::unwrap_used)]

#[path = "support/login.rs"]
mod login;

use login::{NOW, alice, first_step, keys};
use twofa::{
    AccountState, DeviceAlgorithm, DevicePolicy, Error, Guard, Outcome, SecondFactor,
    ThrottlePolicy,
};

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
fn the_whole_state_survives_serialization() {
    #[cfg(feature = "serde")]
    {
        let guard = Guard::default();
        let mut state = AccountState::new();
        register(&guard, &mut state, &Phone::p256(), NOW);
        first_step(&guard, &mut state, login::totp_only(), NOW);
        let text = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<AccountState>(&text).unwrap(), state);
    }
}
