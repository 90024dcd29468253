//! Registered devices: registration, number matching, every binding a
//! signature must match, limits and revocation, under the one throttle.
#![cfg(feature = "device")]
#![allow(clippy::unwrap_used)]

#[path = "support/login.rs"]
mod login;

use login::{NOW, alice, first_step, keys};
use twofa::{
    AccountState, DeviceAlgorithm, DevicePolicy, DevicePrompt, Error, Guard, Outcome, SecondFactor,
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
            &keys()[0],
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

/// Step one allowing the device, and a challenge sent to it: the ticket,
/// the number shown on the login screen, and the prompt sent to the phone.
fn challenge(
    guard: &Guard,
    state: &mut AccountState,
    device: &[u8; 16],
    now: u64,
) -> (String, u8, DevicePrompt) {
    let ticket = first_step(
        guard,
        state,
        [SecondFactor::Device].into_iter().collect(),
        now,
    );
    let outcome = guard
        .challenge_device(
            state,
            &DevicePolicy::default(),
            &mut getrandom::SysRng,
            &keys(),
            alice(),
            &ticket,
            device,
            "pay 10 EUR to ACME",
            now,
        )
        .unwrap();
    let Outcome::Accepted(number) = outcome else {
        panic!("{outcome:?}")
    };
    let prompt = state
        .device_challenges(device, now)
        .last()
        .unwrap()
        .prompt();
    (ticket, number, prompt)
}

fn patient() -> Guard {
    Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap(),
    )
    .with_send_policy(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap(),
    )
}

#[test]
fn a_registered_device_signs_the_number_it_was_shown() {
    for phone in [Phone::p256(), Phone::ed25519()] {
        let guard = Guard::default();
        let mut state = AccountState::new();
        let device = register(&guard, &mut state, &phone, NOW);
        let (ticket, number, prompt) = challenge(&guard, &mut state, &device, NOW);
        assert!((10..=99).contains(&number));
        // The phone gets the prompt, the person enters the number shown.
        let signature = phone.sign(&prompt.message("alice", number));
        let outcome = guard
            .complete_login_with_device(&mut state, &keys(), alice(), &ticket, &signature, NOW + 10)
            .unwrap();
        assert_eq!(outcome, Outcome::Accepted(device));
        // The same signature again: the ticket is spent, the challenge used.
        assert_eq!(
            guard
                .complete_login_with_device(
                    &mut state,
                    &keys(),
                    alice(),
                    &ticket,
                    &signature,
                    NOW + 11
                )
                .unwrap(),
            Outcome::Expired
        );
    }
}

#[test]
fn a_signature_for_anything_else_is_refused() {
    let phone = Phone::p256();
    let guard = patient();
    let mut state = AccountState::new();
    let device = register(&guard, &mut state, &phone, NOW);
    let other_device = register(&guard, &mut state, &Phone::ed25519(), NOW);
    let registration = {
        let mut state = AccountState::new();
        guard
            .start_device_registration(
                &mut state,
                &DevicePolicy::default(),
                &mut getrandom::SysRng,
                NOW,
            )
            .unwrap();
        state.registration.unwrap()
    };
    // Each way a signature can be for something else; each is tried on a
    // fresh challenge, since any checked answer uses a challenge up.
    type Forge = fn(&Phone, &DevicePrompt, u8, &twofa::RegistrationChallenge, [u8; 16]) -> Vec<u8>;
    let forgeries: [(&str, Forge); 9] = [
        ("a wrong number", |phone, prompt, number, _, _| {
            phone.sign(&prompt.message("alice", if number == 99 { 98 } else { number + 1 }))
        }),
        ("another challenge", |phone, prompt, number, _, _| {
            let mut other = prompt.clone();
            other.nonce[0] ^= 1;
            phone.sign(&other.message("alice", number))
        }),
        ("another account", |phone, prompt, number, _, _| {
            phone.sign(&prompt.message("bob", number))
        }),
        (
            "another device",
            |phone, prompt, number, _, other_device| {
                let mut other = prompt.clone();
                other.device_id = other_device;
                phone.sign(&other.message("alice", number))
            },
        ),
        ("another pending login", |phone, prompt, number, _, _| {
            let mut other = prompt.clone();
            other.ticket_id = [4; 16];
            phone.sign(&other.message("alice", number))
        }),
        ("another transaction", |phone, prompt, number, _, _| {
            let mut other = prompt.clone();
            other.transaction = [0; 32];
            phone.sign(&other.message("alice", number))
        }),
        ("another kind of message", |phone, _, _, registration, _| {
            phone.sign(&registration.message("alice", phone.algorithm(), &phone.public_key()))
        }),
        ("another key", |_, prompt, number, _, _| {
            Phone::ed25519().sign(&prompt.message("alice", number))
        }),
        ("garbage", |_, _, _, _, _| vec![0; 64]),
    ];
    for (step, (what, forge)) in forgeries.iter().enumerate() {
        let now = NOW + 10 * step as u64;
        let (ticket, number, prompt) = challenge(&guard, &mut state, &device, now);
        let signature = forge(&phone, &prompt, number, &registration, other_device);
        let outcome = guard
            .complete_login_with_device(&mut state, &keys(), alice(), &ticket, &signature, now + 1)
            .unwrap();
        assert!(
            matches!(outcome, Outcome::Invalid { .. }),
            "{what}: {outcome:?}"
        );
        // The challenge is used up: even the right answer fails now.
        let right = phone.sign(&prompt.message("alice", number));
        assert_eq!(
            guard
                .complete_login_with_device(&mut state, &keys(), alice(), &ticket, &right, now + 2)
                .unwrap(),
            Outcome::Expired,
            "{what}"
        );
    }
    assert_eq!(state.totp.throttle.failures, forgeries.len() as u32);
}

#[test]
fn an_approval_completes_only_the_login_it_was_given_for() {
    let phone = Phone::p256();
    let guard = patient();
    let mut state = AccountState::new();
    let device = register(&guard, &mut state, &phone, NOW);
    // The victim's login and the attacker's, both past the password.
    let attacker = first_step(
        &guard,
        &mut state,
        [SecondFactor::Device].into_iter().collect(),
        NOW,
    );
    let (_victim, number, prompt) = challenge(&guard, &mut state, &device, NOW + 1);
    let approval = phone.sign(&prompt.message("alice", number));
    // Through a login that has no challenge of its own: nothing to answer.
    let outcome = guard
        .complete_login_with_device(&mut state, &keys(), alice(), &attacker, &approval, NOW + 2)
        .unwrap();
    assert_eq!(outcome, Outcome::Expired);
    // Through one whose own challenge waits: the approval was not for it.
    let challenged = guard
        .challenge_device(
            &mut state,
            &DevicePolicy::default(),
            &mut getrandom::SysRng,
            &keys(),
            alice(),
            &attacker,
            &device,
            "pay 10 EUR to ACME",
            NOW + 2,
        )
        .unwrap();
    assert!(challenged.is_accepted());
    let outcome = guard
        .complete_login_with_device(&mut state, &keys(), alice(), &attacker, &approval, NOW + 2)
        .unwrap();
    assert!(matches!(outcome, Outcome::Invalid { .. }), "{outcome:?}");
    // No challenge without a genuine pending login.
    let forged = "A".repeat(52);
    let outcome = guard
        .challenge_device(
            &mut state,
            &DevicePolicy::default(),
            &mut getrandom::SysRng,
            &keys(),
            alice(),
            &forged,
            &device,
            "",
            NOW + 3,
        )
        .unwrap();
    // Refused as over, with nothing counted: no password was passed.
    let failures = state.totp.throttle.failures;
    assert_eq!(outcome, Outcome::Expired);
    assert_eq!(state.totp.throttle.failures, failures);
    // Expiry boundary: 2 minutes.
    let (ticket, number, prompt) = challenge(&guard, &mut state, &device, NOW + 10);
    let signature = phone.sign(&prompt.message("alice", number));
    assert_eq!(
        guard
            .complete_login_with_device(
                &mut state.clone(),
                &keys(),
                alice(),
                &ticket,
                &signature,
                NOW + 130
            )
            .unwrap(),
        Outcome::Expired
    );
    assert!(
        guard
            .complete_login_with_device(
                &mut state,
                &keys(),
                alice(),
                &ticket,
                &signature,
                NOW + 129
            )
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
            &keys()[0],
            "alice",
            phone.algorithm(),
            &public_key,
            &phone.sign(b"something else"),
            NOW,
        )
        .unwrap();
    assert!(matches!(outcome, Outcome::Invalid { .. }));
    // The challenge was used by that answer.
    let registration = state.registration.clone().unwrap();
    let signature = phone.sign(&registration.message("alice", phone.algorithm(), &public_key));
    let outcome = guard
        .finish_device_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            &keys()[0],
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
            &keys()[0],
            "alice",
            phone.algorithm(),
            &public_key,
            &[],
            NOW
        ),
        Err(Error::TooManyDevices)
    );
    // Revoked: its pending challenge is dropped, and no new one is sent.
    let (ticket, number, prompt) = challenge(&guard, &mut state, &first, NOW);
    let signature = phone.sign(&prompt.message("alice", number));
    let remembered = guard
        .remember_device(
            &mut state,
            &twofa::RememberPolicy::default(),
            &keys()[0],
            &mut getrandom::SysRng,
            alice(),
            NOW,
        )
        .unwrap();
    assert!(state.revoke_device(&first, NOW));
    assert!(!state.revoke_device(&first, NOW));
    // Revoking a device revokes remembered browsers: the credentials moved on.
    let version = state.credential_version;
    assert!(
        state
            .remembered
            .iter()
            .all(|r| r.credential_version != version),
        "{remembered:?}"
    );
    assert_eq!(
        guard
            .complete_login_with_device(&mut state, &keys(), alice(), &ticket, &signature, NOW + 2)
            .unwrap(),
        Outcome::Expired
    );
    let ticket = first_step(
        &guard,
        &mut state,
        [SecondFactor::Device].into_iter().collect(),
        NOW,
    );
    assert_eq!(
        guard.challenge_device(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            &keys(),
            alice(),
            &ticket,
            &first,
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

#[test]
fn a_device_not_registered_here_is_refused_before_any_signature_is_checked() {
    let guard = patient();
    let phone = Phone::p256();
    // Alice's genuine device, to challenge it.
    let mut state = AccountState::new();
    let id = register(&guard, &mut state, &phone, NOW);
    let genuine = state.devices[0].clone();
    assert!(genuine.is_genuine(&keys(), "alice").unwrap());
    let (alice_ticket, number, prompt) = challenge(&guard, &mut state, &id, NOW);
    let signature = phone.sign(&prompt.message("alice", number));

    // Someone who can write the row swaps in their own public key, under
    // the same id: the challenge is answered by their key, and refused.
    let thief = Phone::ed25519();
    let mut injected = state.clone();
    injected.devices[0].algorithm = thief.algorithm();
    injected.devices[0].public_key = thief.public_key();
    let theirs = thief.sign(&prompt.message("alice", number));
    let outcome = guard
        .complete_login_with_device(&mut injected, &keys(), alice(), &alice_ticket, &theirs, NOW)
        .unwrap();
    assert!(matches!(outcome, Outcome::Invalid { .. }), "{outcome:?}");
    assert_eq!(
        injected.totp.throttle.failures, 1,
        "refused like a wrong answer"
    );
    let used = injected
        .pending
        .iter()
        .find_map(|p| p.device_challenge.as_ref());
    assert!(used.unwrap().used, "the challenge is used up");

    // Bob's genuine device, copied into alice's row, is not hers.
    let mut bobs = AccountState::new();
    guard
        .start_device_registration(
            &mut bobs,
            &DevicePolicy::default(),
            &mut getrandom::SysRng,
            NOW,
        )
        .unwrap();
    let registration = bobs.registration.clone().unwrap();
    let message = registration.message("bob", phone.algorithm(), &phone.public_key());
    let registered = guard
        .finish_device_registration(
            &mut bobs,
            &DevicePolicy::default(),
            &mut getrandom::SysRng,
            &keys()[0],
            "bob",
            phone.algorithm(),
            &phone.public_key(),
            &phone.sign(&message),
            NOW,
        )
        .unwrap();
    assert!(registered.is_accepted());
    assert!(!bobs.devices[0].is_genuine(&keys(), "alice").unwrap());
    let mut copied = AccountState::new();
    copied.devices.push(bobs.devices[0].clone());
    let ticket = first_step(
        &guard,
        &mut copied,
        [SecondFactor::Device].into_iter().collect(),
        NOW,
    );
    let device = bobs.devices[0].id;
    let refused = guard.challenge_device(
        &mut copied,
        &DevicePolicy::default(),
        &mut getrandom::SysRng,
        &keys(),
        alice(),
        &ticket,
        &device,
        "",
        NOW,
    );
    assert_eq!(refused, Err(Error::UnknownDevice));

    // Revoked, then set back by hand: its digest is gone, so it stays out.
    let mut revived = state.clone();
    assert!(revived.revoke_device(&id, NOW));
    revived.devices[0].revoked = false;
    assert!(!revived.devices[0].is_genuine(&keys(), "alice").unwrap());

    // Unchanged, the genuine device completes the login.
    let outcome = guard
        .complete_login_with_device(&mut state, &keys(), alice(), &alice_ticket, &signature, NOW)
        .unwrap();
    assert_eq!(outcome, Outcome::Accepted(id));
}

#[test]
fn each_login_has_its_own_device_challenge_and_asking_again_shows_the_same() {
    let guard = patient();
    let phone = Phone::p256();
    let mut state = AccountState::new();
    let id = register(&guard, &mut state, &phone, NOW);
    let (first, first_number, first_prompt) = challenge(&guard, &mut state, &id, NOW);
    // A second login challenges the device too: the first's stays live.
    let (second, second_number, second_prompt) = challenge(&guard, &mut state, &id, NOW + 1);
    assert_ne!(first_prompt.ticket_id, second_prompt.ticket_id);
    assert_eq!(state.device_challenges(&id, NOW + 2).count(), 2);
    // Asked again for the first login while live: the same challenge.
    let again = guard
        .challenge_device(
            &mut state,
            &DevicePolicy::default(),
            &mut getrandom::SysRng,
            &keys(),
            alice(),
            &first,
            &id,
            "pay 10 EUR to ACME",
            NOW + 2,
        )
        .unwrap();
    assert_eq!(again, Outcome::Accepted(first_number));
    let answer = |prompt: &DevicePrompt, number| phone.sign(&prompt.message("alice", number));
    let complete = |state: &mut AccountState, ticket: &str, signature: &[u8]| {
        guard
            .complete_login_with_device(state, &keys(), alice(), ticket, signature, NOW + 3)
            .unwrap()
    };
    assert_eq!(
        complete(&mut state, &first, &answer(&first_prompt, first_number)),
        Outcome::Accepted(id)
    );
    assert_eq!(
        complete(&mut state, &second, &answer(&second_prompt, second_number)),
        Outcome::Accepted(id)
    );
    assert_eq!(state.totp.throttle.failures, 0);
    assert_eq!(state.device_challenges(&id, NOW + 3).count(), 0);
}

#[test]
fn a_device_asks_for_its_prompt_with_its_own_signature_within_a_minute() {
    let guard = Guard::default();
    for phone in [Phone::p256(), Phone::ed25519()] {
        let mut state = AccountState::default();
        let id = register(&guard, &mut state, &phone, NOW);
        let device = state
            .devices
            .iter()
            .find(|device| device.id == id)
            .unwrap()
            .clone();
        let asks = |at: u64| phone.sign(&twofa::Device::prompt_request_message("alice", &id, at));
        let check = |device: &twofa::Device, account: &str, at: u64, signature: &[u8], now: u64| {
            device
                .verify_prompt_request(&keys(), account, at, signature, now)
                .unwrap()
        };
        // Signed now, or within a minute either way of the server's clock.
        for (at, now, good) in [
            (NOW, NOW, true),
            (NOW, NOW + 60, true),
            (NOW + 60, NOW, true),
            (NOW, NOW + 61, false),
            (NOW + 61, NOW, false),
        ] {
            assert_eq!(
                check(&device, "alice", at, &asks(at), now),
                good,
                "{at} at {now}"
            );
        }
        // Another account's, another time's, a mangled signature: refused.
        assert!(!check(&device, "bob", NOW, &asks(NOW), NOW));
        assert!(!check(&device, "alice", NOW + 1, &asks(NOW), NOW));
        let mut mangled = asks(NOW);
        mangled[5] ^= 1;
        assert!(!check(&device, "alice", NOW, &mangled, NOW));
        assert!(!check(&device, "alice", NOW, &[], NOW));
        // A revoked device's own signature is refused, and so is one whose
        // stored digest was edited.
        let mut revoked = device.clone();
        revoked.revoke();
        assert!(!check(&revoked, "alice", NOW, &asks(NOW), NOW));
        revoked.revoked = false;
        assert!(!check(&revoked, "alice", NOW, &asks(NOW), NOW));
    }
}
