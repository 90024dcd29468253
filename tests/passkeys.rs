//! Passkeys in the account's state, under the one throttle: registration
//! by a WebAuthn ceremony, a passkey as the second factor of a pending
//! login, a passkey sign-in with user verification, removal, and every
//! challenge answered once.
#![cfg(all(feature = "webauthn", feature = "alloc"))]
#![allow(clippy::unwrap_used)]

#[path = "support/authenticator.rs"]
mod authenticator;
#[path = "support/login.rs"]
mod login;

use authenticator::*;
use login::{NOW, alice, first_step, keys};
use twofa::{
    AccountState, Error, Guard, OobPolicy, Outcome, PasskeyPolicy, PasskeyUse, SecondFactor,
    SecondFactors, Transports,
    webauthn::{AssertionResponse, AttestationResponse, RelyingParty, UserVerification},
};

fn rp() -> RelyingParty<'static> {
    RelyingParty::new(RP_ID, &[ORIGIN]).unwrap()
}

fn passkey_only() -> SecondFactors {
    [SecondFactor::Passkey].into_iter().collect()
}

/// Registers `a` for alice, with these flags, and returns the outcome.
fn register(
    guard: &Guard,
    state: &mut AccountState,
    a: &Authenticator,
    flags: u8,
    now: u64,
) -> Outcome<Vec<u8>> {
    let policy = PasskeyPolicy::default();
    let challenge = guard
        .start_passkey_registration(
            state,
            &policy,
            &mut getrandom::SysRng,
            UserVerification::Required,
            now,
        )
        .unwrap();
    finish(guard, state, a, &challenge, flags, now)
}

fn finish(
    guard: &Guard,
    state: &mut AccountState,
    a: &Authenticator,
    challenge: &[u8],
    flags: u8,
    now: u64,
) -> Outcome<Vec<u8>> {
    let object = attestation_object("none", &[0xa0], &a.auth_data(flags | AT, 0));
    let client = create(challenge);
    guard
        .finish_passkey_registration(
            state,
            &rp(),
            &PasskeyPolicy::default(),
            &keys()[0],
            "alice",
            &AttestationResponse {
                client_data_json: &client,
                attestation_object: &object,
            },
            Transports::from_names(["internal", "hybrid", "carrier-pigeon"]),
            "Phone\u{7}",
            now,
        )
        .unwrap()
}

/// An assertion by `a` over `challenge` with these flags and counter.
fn assertion(
    a: &Authenticator,
    challenge: &[u8],
    flags: u8,
    count: u32,
) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let client = get(challenge);
    let auth = a.auth_data(flags, count);
    let signature = a.sign(&auth, &client);
    (client, auth, signature)
}

fn response<'a>(parts: &'a (Vec<u8>, Vec<u8>, Vec<u8>)) -> AssertionResponse<'a> {
    AssertionResponse {
        client_data_json: &parts.0,
        authenticator_data: &parts.1,
        signature: &parts.2,
    }
}

/// The passkey challenge of alice's pending login `ticket`.
fn login_challenge(
    guard: &Guard,
    state: &mut AccountState,
    ticket: &str,
    now: u64,
) -> Outcome<[u8; 32]> {
    guard
        .challenge_passkey(
            state,
            &PasskeyPolicy::default(),
            &mut getrandom::SysRng,
            &keys(),
            alice(),
            ticket,
            now,
        )
        .unwrap()
}

fn second_step(
    guard: &Guard,
    state: &mut AccountState,
    ticket: &str,
    a: &Authenticator,
    signer: &Authenticator,
    now: u64,
) -> Outcome<PasskeyUse> {
    let challenge = match login_challenge(guard, state, ticket, now) {
        Outcome::Accepted(challenge) => challenge,
        other => return other.map(|_| unreachable!()),
    };
    let parts = assertion(signer, &challenge, UP, 0);
    complete(guard, state, ticket, a, &parts, now)
}

/// Alice's pending login `ticket` completed with `parts`, an assertion
/// by `a`'s credential.
fn complete(
    guard: &Guard,
    state: &mut AccountState,
    ticket: &str,
    a: &Authenticator,
    parts: &(Vec<u8>, Vec<u8>, Vec<u8>),
    now: u64,
) -> Outcome<PasskeyUse> {
    guard
        .complete_login_with_passkey(
            state,
            &rp(),
            &keys(),
            alice(),
            ticket,
            &a.credential_id,
            &response(parts),
            now,
        )
        .unwrap()
}

fn sign_in(
    guard: &Guard,
    state: &mut AccountState,
    challenge: &[u8],
    a: &Authenticator,
    parts: &(Vec<u8>, Vec<u8>, Vec<u8>),
    now: u64,
) -> Outcome<PasskeyUse> {
    guard
        .sign_in_with_passkey(
            state,
            &rp(),
            &PasskeyPolicy::default(),
            &keys(),
            "alice",
            challenge,
            &a.credential_id,
            &response(parts),
            now,
        )
        .unwrap()
}

fn sign_in_challenge(now: u64) -> [u8; PasskeyPolicy::SIGN_IN_CHALLENGE_LEN] {
    PasskeyPolicy::default()
        .sign_in_challenge(&keys()[0], &mut getrandom::SysRng, now)
        .unwrap()
}

#[test]
fn a_registration_is_stored_once_with_its_facts() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let a = Authenticator::p256(1);
    let policy = PasskeyPolicy::default();
    let challenge = guard
        .start_passkey_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            UserVerification::Required,
            NOW,
        )
        .unwrap();
    assert_eq!(
        finish(&guard, &mut state, &a, &challenge, UP | UV | BE | BS, NOW),
        Outcome::Accepted(a.credential_id.clone())
    );
    let passkey = &state.passkeys[0];
    assert!(passkey.user_verified && passkey.backup_eligible && passkey.backed_up);
    assert_eq!(passkey.name, "Phone");
    assert_eq!(
        passkey.transports.names().collect::<Vec<_>>(),
        ["hybrid", "internal"]
    );
    assert!(passkey.is_genuine(&keys(), "alice").unwrap());
    assert!(!passkey.is_genuine(&keys(), "bob").unwrap());
    // The challenge was answered: answering it again is expired.
    assert_eq!(
        finish(&guard, &mut state, &a, &challenge, UP | UV, NOW),
        Outcome::Expired
    );
    // The same credential again is refused.
    let challenge = guard
        .start_passkey_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            UserVerification::Required,
            NOW,
        )
        .unwrap();
    let object = attestation_object("none", &[0xa0], &a.auth_data(UP | UV | AT, 0));
    let client = create(&challenge);
    let again = guard.finish_passkey_registration(
        &mut state,
        &rp(),
        &policy,
        &keys()[0],
        "alice",
        &AttestationResponse {
            client_data_json: &client,
            attestation_object: &object,
        },
        Transports::default(),
        "Again",
        NOW,
    );
    assert_eq!(again, Err(Error::DuplicatePasskey));
    // Without UV where it was required: counted, and the challenge used.
    let b = Authenticator::ed25519(2);
    let challenge = guard
        .start_passkey_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            UserVerification::Required,
            NOW,
        )
        .unwrap();
    assert_eq!(
        finish(&guard, &mut state, &b, &challenge, UP, NOW),
        Outcome::Invalid { attempts_left: 9 }
    );
    assert_eq!(
        finish(&guard, &mut state, &b, &challenge, UP | UV, NOW + 1),
        Outcome::Expired
    );
    // An expired challenge.
    let challenge = guard
        .start_passkey_registration(
            &mut state,
            &policy,
            &mut getrandom::SysRng,
            UserVerification::Required,
            NOW + 10,
        )
        .unwrap();
    assert_eq!(
        finish(&guard, &mut state, &b, &challenge, UP | UV, NOW + 10 + 300),
        Outcome::Expired
    );
    assert_eq!(state.passkeys.len(), 1);
    // The limit.
    let small = PasskeyPolicy::new(60, 1).unwrap();
    assert_eq!(
        guard.start_passkey_registration(
            &mut state,
            &small,
            &mut getrandom::SysRng,
            UserVerification::Required,
            NOW
        ),
        Err(Error::TooManyPasskeys)
    );
}

#[test]
fn a_passkey_completes_a_pending_login_once() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let a = Authenticator::p256(3);
    assert!(register(&guard, &mut state, &a, UP | UV, NOW).is_accepted());
    let ticket = first_step(&guard, &mut state, passkey_only(), NOW);
    let challenge = match login_challenge(&guard, &mut state, &ticket, NOW) {
        Outcome::Accepted(c) => c,
        other => panic!("{other:?}"),
    };
    // Asked again while live: the same challenge.
    assert_eq!(
        login_challenge(&guard, &mut state, &ticket, NOW),
        Outcome::Accepted(challenge)
    );
    let parts = assertion(&a, &challenge, UP, 1);
    let done = complete(&guard, &mut state, &ticket, &a, &parts, NOW);
    let Outcome::Accepted(used) = done else {
        panic!("{done:?}")
    };
    assert!(!used.user_verified && !used.clone_suspected);
    assert_eq!(state.passkeys[0].sign_count, 1);
    assert_eq!(state.passkeys[0].last_used, Some(NOW));
    // The same answer again: the ticket is spent.
    assert_eq!(
        complete(&guard, &mut state, &ticket, &a, &parts, NOW),
        Outcome::Expired
    );
    // A ticket that does not allow passkeys.
    let totp_ticket = first_step(&guard, &mut state, login::totp_only(), NOW);
    assert_eq!(
        second_step(&guard, &mut state, &totp_ticket, &a, &a, NOW),
        Outcome::NotAllowed
    );
    // Another key's signature counts, and uses the challenge up.
    let ticket = first_step(&guard, &mut state, passkey_only(), NOW);
    let thief = Authenticator::p256(4);
    assert_eq!(
        second_step(&guard, &mut state, &ticket, &a, &thief, NOW),
        Outcome::Invalid { attempts_left: 9 }
    );
}

#[test]
fn removing_a_passkey_ends_the_logins_in_progress() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let a = Authenticator::ed25519(5);
    assert!(register(&guard, &mut state, &a, UP | UV, NOW).is_accepted());
    assert!(state.rename_passkey(&a.credential_id, "Laptop", NOW));
    assert_eq!(state.passkeys[0].name, "Laptop");
    // Nothing that reorders or hides the text a list shows.
    assert!(state.rename_passkey(&a.credential_id, "Key\u{202e}txt.exe\u{200b}", NOW));
    assert_eq!(state.passkeys[0].name, "Keytxt.exe");
    assert!(!state.rename_passkey(b"another", "Laptop", NOW));
    let ticket = first_step(&guard, &mut state, passkey_only(), NOW);
    let challenge = match login_challenge(&guard, &mut state, &ticket, NOW) {
        Outcome::Accepted(c) => c,
        other => panic!("{other:?}"),
    };
    assert!(state.remove_passkey(&a.credential_id, NOW));
    assert!(!state.remove_passkey(&a.credential_id, NOW));
    let parts = assertion(&a, &challenge, UP, 0);
    assert_eq!(
        complete(&guard, &mut state, &ticket, &a, &parts, NOW),
        Outcome::Expired
    );
    let challenge = sign_in_challenge(NOW);
    let parts = assertion(&a, &challenge, UP | UV, 0);
    assert_eq!(
        guard.sign_in_with_passkey(
            &mut state,
            &rp(),
            &PasskeyPolicy::default(),
            &keys(),
            "alice",
            &challenge,
            &a.credential_id,
            &response(&parts),
            NOW
        ),
        Err(Error::UnknownPasskey)
    );
}

#[test]
fn a_passkey_sign_in_needs_uv_and_each_challenge_is_accepted_once() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let a = Authenticator::p256(6);
    assert!(register(&guard, &mut state, &a, UP | UV, NOW).is_accepted());
    let challenge = sign_in_challenge(NOW);
    let parts = assertion(&a, &challenge, UP | UV, 0);
    let Outcome::Accepted(used) = sign_in(&guard, &mut state, &challenge, &a, &parts, NOW + 1)
    else {
        panic!()
    };
    assert!(used.user_verified);
    // Replayed: the challenge was accepted once for this account.
    assert_eq!(
        sign_in(&guard, &mut state, &challenge, &a, &parts, NOW + 2),
        Outcome::Expired
    );
    // Without UV: a failed attempt.
    let challenge = sign_in_challenge(NOW + 3);
    let no_uv = assertion(&a, &challenge, UP, 0);
    assert_eq!(
        sign_in(&guard, &mut state, &challenge, &a, &no_uv, NOW + 3),
        Outcome::Invalid { attempts_left: 9 }
    );
    // An altered challenge, one from another key, one expired: expired,
    // and nothing counted.
    let mut altered = sign_in_challenge(NOW + 10);
    altered[20] ^= 1;
    let other_key = PasskeyPolicy::default()
        .sign_in_challenge(
            &twofa::DigestKey::new(9, [1; 32]),
            &mut getrandom::SysRng,
            NOW + 10,
        )
        .unwrap();
    let old = sign_in_challenge(NOW + 10 - 300);
    for challenge in [&altered[..], &other_key, &old, &[0; 44]] {
        let parts = assertion(&a, challenge, UP | UV, 0);
        assert_eq!(
            sign_in(&guard, &mut state, challenge, &a, &parts, NOW + 10),
            Outcome::Expired
        );
    }
    assert_eq!(state.totp.throttle.failures, 1);
    // Many sign-ins: each challenge still accepted at most once, the
    // oldest refused once they fall below the floor.
    let challenges: Vec<_> = (0..12).map(|i| sign_in_challenge(NOW + 20 + i)).collect();
    for (i, challenge) in challenges.iter().enumerate() {
        let parts = assertion(&a, challenge, UP | UV, 0);
        assert!(
            sign_in(
                &guard,
                &mut state,
                challenge,
                &a,
                &parts,
                NOW + 40 + i as u64
            )
            .is_accepted()
        );
    }
    for challenge in &challenges {
        let parts = assertion(&a, challenge, UP | UV, 0);
        assert_eq!(
            sign_in(&guard, &mut state, challenge, &a, &parts, NOW + 60),
            Outcome::Expired
        );
    }
    assert!(state.sign_ins.recent.len() <= twofa::SignInsUsed::MAX);
}

#[test]
fn a_passkey_written_into_the_state_without_the_key_is_refused() {
    let guard = Guard::default();
    let mut state = AccountState::new();
    let a = Authenticator::p256(7);
    assert!(register(&guard, &mut state, &a, UP | UV, NOW).is_accepted());
    // Someone who can write the database puts their own key in place.
    let mallory = Authenticator::p256(8);
    state.passkeys[0].public_key = mallory.cose();
    let challenge = sign_in_challenge(NOW);
    let parts = assertion(&mallory, &challenge, UP | UV, 0);
    assert_eq!(
        sign_in(&guard, &mut state, &challenge, &a, &parts, NOW),
        Outcome::Invalid { attempts_left: 9 }
    );
    // Or resets its counter, to hide a clone: the digest covers it.
    let mut reset = AccountState::new();
    let counted = Authenticator::p256(11);
    assert!(register(&guard, &mut reset, &counted, UP | UV, NOW).is_accepted());
    let challenge = sign_in_challenge(NOW);
    let parts = assertion(&counted, &challenge, UP | UV, 7);
    assert!(sign_in(&guard, &mut reset, &challenge, &counted, &parts, NOW).is_accepted());
    assert_eq!(reset.passkeys[0].sign_count, 7);
    assert!(reset.passkeys[0].is_genuine(&keys(), "alice").unwrap());
    reset.passkeys[0].sign_count = 0;
    let challenge = sign_in_challenge(NOW + 1);
    let parts = assertion(&counted, &challenge, UP | UV, 3);
    assert_eq!(
        sign_in(&guard, &mut reset, &challenge, &counted, &parts, NOW + 1),
        Outcome::Invalid { attempts_left: 9 }
    );
    // Or copies alice's passkey to bob's account.
    let mut bob = AccountState::new();
    let mut copied = AccountState::new();
    assert!(register(&guard, &mut copied, &a, UP | UV, NOW).is_accepted());
    bob.passkeys = copied.passkeys.clone();
    let challenge = sign_in_challenge(NOW);
    let parts = assertion(&a, &challenge, UP | UV, 0);
    let outcome = guard
        .sign_in_with_passkey(
            &mut bob,
            &rp(),
            &PasskeyPolicy::default(),
            &keys(),
            "bob",
            &challenge,
            &a.credential_id,
            &response(&parts),
            NOW,
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Invalid { attempts_left: 9 });
}

#[test]
fn passkey_totp_and_sms_failures_count_against_the_same_100() {
    let guard = login::patient();
    let mut state = AccountState::new();
    let a = Authenticator::p256(9);
    let thief = Authenticator::p256(10);
    assert!(register(&guard, &mut state, &a, UP | UV, NOW).is_accepted());
    let all: SecondFactors = [
        SecondFactor::Passkey,
        SecondFactor::Totp,
        SecondFactor::OutOfBand,
    ]
    .into_iter()
    .collect();
    let mut failures = 0;
    for round in 0..34u64 {
        let now = NOW + round;
        // A forged passkey sign-in.
        let challenge = sign_in_challenge(now);
        let parts = assertion(&thief, &challenge, UP | UV, 0);
        assert!(matches!(
            sign_in(&guard, &mut state, &challenge, &a, &parts, now),
            Outcome::Invalid { .. }
        ));
        failures += 1;
        if failures == 100 {
            break;
        }
        // A wrong TOTP code, then a wrong SMS code, after a right password.
        let ticket = first_step(&guard, &mut state, all, now);
        assert!(matches!(
            login::second_step_totp(&guard, &mut state, &ticket, "000000", now),
            Outcome::Invalid { .. }
        ));
        failures += 1;
        let sms = guard
            .challenge_oob(
                &mut state,
                &OobPolicy::default(),
                &keys()[0],
                &mut getrandom::SysRng,
                &keys(),
                alice(),
                &ticket,
                now,
            )
            .unwrap();
        let Outcome::Accepted(code) = sms else {
            panic!("{sms:?}")
        };
        let wrong = format!(
            "{:06}",
            (code.to_string().parse::<u32>().unwrap() + 1) % 1_000_000
        );
        let outcome = guard
            .complete_login_with_oob(&mut state, &keys(), alice(), &ticket, &wrong, now)
            .unwrap();
        failures += 1;
        assert!(
            matches!(outcome, Outcome::Invalid { .. }),
            "{outcome:?} after {failures}"
        );
    }
    assert_eq!(failures, 100);
    assert_eq!(state.totp.throttle.failures, 100);
    // Locked for good: the owner's own passkey is not even checked.
    let challenge = sign_in_challenge(NOW + 100);
    let parts = assertion(&a, &challenge, UP | UV, 0);
    assert_eq!(
        sign_in(&guard, &mut state, &challenge, &a, &parts, NOW + 100),
        Outcome::Locked { until: None }
    );
}
