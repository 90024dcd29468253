//! Every check of the WebAuthn verifier, each made to fail on its own:
//! a software authenticator signs what a browser and an authenticator
//! would, with one thing changed.
#![cfg(feature = "webauthn")]
#![allow(clippy::unwrap_used)]

#[path = "support/authenticator.rs"]
mod authenticator;

use authenticator::*;
use twofa::{
    Error,
    webauthn::{
        Asserted, AssertionRequest, AssertionResponse, Attestation, AttestationResponse,
        BackupEligibility, CoseAlgorithm, CounterPolicy, CredentialRecord, CrossOrigin, Registered,
        RegistrationRequest, RelyingParty, UserVerification, WebauthnError,
    },
};

const CHALLENGE: [u8; 32] = [0x5a; 32];

fn rp() -> RelyingParty<'static> {
    RelyingParty::new(RP_ID, &[ORIGIN, "android:apk-key-hash:bG9naW4gYXBw"]).unwrap()
}

fn refused<T: core::fmt::Debug>(result: Result<T, Error>) -> WebauthnError {
    match result {
        Err(Error::Webauthn(reason)) => reason,
        other => panic!("expected a WebAuthn refusal, got {other:?}"),
    }
}

fn register_with(
    rp: &RelyingParty<'_>,
    client_data_json: &[u8],
    attestation_object: &[u8],
    user_verification: UserVerification,
    algorithms: &[CoseAlgorithm],
) -> Result<(Registered<'static>, Vec<u8>), Error> {
    // Leaked so the borrowed result can be returned: a test's few bytes.
    let object: &'static [u8] = Box::leak(attestation_object.to_vec().into_boxed_slice());
    let client: &'static [u8] = Box::leak(client_data_json.to_vec().into_boxed_slice());
    rp.verify_registration(
        &RegistrationRequest {
            challenge: &CHALLENGE,
            algorithms,
            user_verification,
        },
        &AttestationResponse {
            client_data_json: client,
            attestation_object: object,
        },
    )
    .map(|r| (r, r.public_key.to_vec()))
}

/// A `none` registration of `a` with these flags.
fn register(
    rp: &RelyingParty<'_>,
    a: &Authenticator,
    flags: u8,
) -> Result<Registered<'static>, Error> {
    let object = attestation_object("none", &[0xa0], &a.auth_data(flags | AT, 0));
    register_with(
        rp,
        &create(&CHALLENGE),
        &object,
        UserVerification::Preferred,
        CoseAlgorithm::SUPPORTED,
    )
    .map(|(r, _)| r)
}

fn assert_with(
    rp: &RelyingParty<'_>,
    a: &Authenticator,
    stored: &CredentialRecord<'_>,
    client_data_json: &[u8],
    auth_data: &[u8],
    user_verification: UserVerification,
) -> Result<Asserted, Error> {
    let signature = a.sign(auth_data, client_data_json);
    rp.verify_assertion(
        &AssertionRequest {
            challenge: &CHALLENGE,
            user_verification,
        },
        stored,
        &AssertionResponse {
            client_data_json,
            authenticator_data: auth_data,
            signature: &signature,
        },
    )
}

fn record(cose: &[u8], sign_count: u32, backup_eligible: bool) -> CredentialRecord<'_> {
    CredentialRecord {
        public_key: cose,
        sign_count,
        backup_eligible,
    }
}

#[test]
fn both_algorithms_register_and_assert_with_uv_reported() {
    for a in [Authenticator::p256(1), Authenticator::ed25519(2)] {
        let registered = register(&rp(), &a, UP | UV).unwrap();
        assert_eq!(registered.credential_id, &a.credential_id[..]);
        assert_eq!(registered.attestation, Attestation::None);
        assert!(registered.user_verified);
        let cose = a.cose();
        for (flags, verified) in [(UP | UV, true), (UP, false)] {
            let asserted = assert_with(
                &rp(),
                &a,
                &record(&cose, 0, false),
                &get(&CHALLENGE),
                &a.auth_data(flags, 0),
                UserVerification::Preferred,
            )
            .unwrap();
            assert_eq!(asserted.user_verified, verified);
            assert!(!asserted.clone_suspected);
        }
    }
}

#[test]
fn client_data_of_the_wrong_ceremony_challenge_or_origin_is_refused() {
    let a = Authenticator::p256(3);
    let cose = a.cose();
    let stored = record(&cose, 0, false);
    let check = |client: Vec<u8>| {
        refused(assert_with(
            &rp(),
            &a,
            &stored,
            &client,
            &a.auth_data(UP, 0),
            UserVerification::Preferred,
        ))
    };
    assert_eq!(check(create(&CHALLENGE)), WebauthnError::WrongType);
    assert_eq!(check(get(&[0x5b; 32])), WebauthnError::ChallengeMismatch);
    assert_eq!(
        check(get(&CHALLENGE[..31])),
        WebauthnError::ChallengeMismatch
    );
    let origin = |o: &str| client_data("webauthn.get", &CHALLENGE, o, "false", "}");
    assert_eq!(
        check(origin("https://example.com.evil")),
        WebauthnError::OriginNotAllowed
    );
    assert_eq!(
        check(origin("https://example.co")),
        WebauthnError::OriginNotAllowed
    );
    assert_eq!(
        check(origin("https://example.com:8443")),
        WebauthnError::OriginNotAllowed
    );
    assert_eq!(
        check(origin("http://example.com")),
        WebauthnError::OriginNotAllowed
    );
    assert_eq!(
        check(origin("https://EXAMPLE.com")),
        WebauthnError::OriginNotAllowed
    );
    // The native app's origin, listed as an exact string, is accepted.
    let app = origin("android:apk-key-hash:bG9naW4gYXBw");
    assert!(
        assert_with(
            &rp(),
            &a,
            &stored,
            &app,
            &a.auth_data(UP, 0),
            UserVerification::Preferred
        )
        .is_ok()
    );
    // Fields in another order, a missing closing, an unknown byte after.
    let reordered = format!(
        r#"{{"challenge":"{}","type":"webauthn.get","origin":"{ORIGIN}","crossOrigin":false}}"#,
        "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo"
    );
    assert_eq!(
        check(reordered.into_bytes()),
        WebauthnError::MalformedClientData
    );
    assert_eq!(
        check(client_data("webauthn.get", &CHALLENGE, ORIGIN, "false", "")),
        WebauthnError::MalformedClientData
    );
    assert_eq!(
        check(client_data(
            "webauthn.get",
            &CHALLENGE,
            ORIGIN,
            "false",
            " }"
        )),
        WebauthnError::MalformedClientData
    );
    // Other keys after the fixed ones are what browsers add: accepted.
    let extended = client_data(
        "webauthn.get",
        &CHALLENGE,
        ORIGIN,
        "false",
        r#","other_keys_can_be_added_here":"x"}"#,
    );
    assert!(
        assert_with(
            &rp(),
            &a,
            &stored,
            &extended,
            &a.auth_data(UP, 0),
            UserVerification::Preferred
        )
        .is_ok()
    );
    // A challenge outside 16 to 128 bytes is the caller's mistake.
    let short = rp().verify_assertion(
        &AssertionRequest {
            challenge: &[1; 15],
            user_verification: UserVerification::Preferred,
        },
        &stored,
        &AssertionResponse {
            client_data_json: &get(&[1; 15]),
            authenticator_data: &a.auth_data(UP, 0),
            signature: &[],
        },
    );
    assert_eq!(refused(short), WebauthnError::ChallengeLength);
}

#[test]
fn framing_is_refused_unless_the_top_origin_is_allowed() {
    let a = Authenticator::p256(4);
    let cose = a.cose();
    let stored = record(&cose, 0, false);
    let framed = |tail: &str| client_data("webauthn.get", &CHALLENGE, ORIGIN, "true", tail);
    let top = framed(r#","topOrigin":"https://shop.example"}"#);
    let bare = framed("}");
    let run = |rp: &RelyingParty<'_>, client: &[u8]| {
        assert_with(
            rp,
            &a,
            &stored,
            client,
            &a.auth_data(UP, 0),
            UserVerification::Preferred,
        )
    };
    assert_eq!(refused(run(&rp(), &top)), WebauthnError::CrossOriginRefused);
    assert_eq!(
        refused(run(&rp(), &bare)),
        WebauthnError::CrossOriginRefused
    );
    let shop = rp().cross_origin(CrossOrigin::FromTopOrigins(&["https://shop.example"]));
    assert!(run(&shop, &top).is_ok());
    assert_eq!(
        refused(run(&shop, &bare)),
        WebauthnError::TopOriginNotAllowed
    );
    let other = rp().cross_origin(CrossOrigin::FromTopOrigins(&["https://shop.example.net"]));
    assert_eq!(
        refused(run(&other, &top)),
        WebauthnError::TopOriginNotAllowed
    );
    let any = rp().cross_origin(CrossOrigin::FromAnyTopOrigin);
    assert!(run(&any, &top).is_ok() && run(&any, &bare).is_ok());
    // A top origin after "crossOrigin":false is not what a browser writes.
    let odd = client_data(
        "webauthn.get",
        &CHALLENGE,
        ORIGIN,
        "false",
        r#","topOrigin":"https://shop.example"}"#,
    );
    assert_eq!(refused(run(&any, &odd)), WebauthnError::MalformedClientData);
    // The same checks at registration.
    let object = attestation_object("none", &[0xa0], &a.auth_data(UP | AT, 0));
    let framed_create = client_data("webauthn.create", &CHALLENGE, ORIGIN, "true", "}");
    let reg = register_with(
        &rp(),
        &framed_create,
        &object,
        UserVerification::Preferred,
        CoseAlgorithm::SUPPORTED,
    );
    assert_eq!(refused(reg), WebauthnError::CrossOriginRefused);
}

#[test]
fn authenticator_data_flags_are_checked() {
    let a = Authenticator::p256(5);
    let cose = a.cose();
    let stored = record(&cose, 0, false);
    let run = |auth: Vec<u8>, uv| assert_with(&rp(), &a, &stored, &get(&CHALLENGE), &auth, uv);
    assert_eq!(
        refused(run(a.auth_data(0, 0), UserVerification::Discouraged)),
        WebauthnError::UserNotPresent
    );
    assert_eq!(
        refused(run(a.auth_data(UV, 0), UserVerification::Discouraged)),
        WebauthnError::UserNotPresent
    );
    assert_eq!(
        refused(run(a.auth_data(UP, 0), UserVerification::Required)),
        WebauthnError::UserNotVerified
    );
    assert!(run(a.auth_data(UP | UV, 0), UserVerification::Required).is_ok());
    assert_eq!(
        refused(run(a.auth_data(UP | BS, 0), UserVerification::Discouraged)),
        WebauthnError::BackupStateWithoutEligibility
    );
    let other_rp = a.auth_data_with("example.org", UP, 0, &cose, &[]);
    assert_eq!(
        refused(run(other_rp, UserVerification::Discouraged)),
        WebauthnError::RpIdMismatch
    );
    // Attested data in an assertion; none in a registration.
    assert_eq!(
        refused(run(a.auth_data(UP | AT, 0), UserVerification::Discouraged)),
        WebauthnError::AttestedDataUnexpected
    );
    let object = attestation_object("none", &[0xa0], &a.auth_data(UP, 0));
    let reg = register_with(
        &rp(),
        &create(&CHALLENGE),
        &object,
        UserVerification::Preferred,
        CoseAlgorithm::SUPPORTED,
    );
    assert_eq!(refused(reg), WebauthnError::AttestedDataUnexpected);
    // UV required at registration too.
    let object = attestation_object("none", &[0xa0], &a.auth_data(UP | AT, 0));
    let reg = register_with(
        &rp(),
        &create(&CHALLENGE),
        &object,
        UserVerification::Required,
        CoseAlgorithm::SUPPORTED,
    );
    assert_eq!(refused(reg), WebauthnError::UserNotVerified);
}

#[test]
fn backup_eligibility_stays_as_registered_unless_a_gain_is_allowed() {
    let a = Authenticator::p256(6);
    let cose = a.cose();
    let run = |rp: &RelyingParty<'_>, stored_be: bool, flags: u8| {
        assert_with(
            rp,
            &a,
            &record(&cose, 0, stored_be),
            &get(&CHALLENGE),
            &a.auth_data(flags, 0),
            UserVerification::Preferred,
        )
    };
    assert!(run(&rp(), true, UP | BE | BS).is_ok());
    assert_eq!(
        refused(run(&rp(), true, UP)),
        WebauthnError::BackupEligibilityChanged
    );
    assert_eq!(
        refused(run(&rp(), false, UP | BE)),
        WebauthnError::BackupEligibilityChanged
    );
    let lenient = rp().backup_eligibility(BackupEligibility::AllowGain);
    let gained = run(&lenient, false, UP | BE | BS).unwrap();
    assert!(gained.backup_eligibility_gained && gained.backup_eligible && gained.backed_up);
    assert_eq!(
        refused(run(&lenient, true, UP)),
        WebauthnError::BackupEligibilityChanged
    );
}

#[test]
fn a_counter_that_did_not_grow_is_refused_or_reported() {
    let a = Authenticator::ed25519(7);
    let cose = a.cose();
    let run = |rp: &RelyingParty<'_>, stored: u32, now: u32| {
        assert_with(
            rp,
            &a,
            &record(&cose, stored, false),
            &get(&CHALLENGE),
            &a.auth_data(UP, now),
            UserVerification::Preferred,
        )
    };
    // Both zero: a passkey that keeps no counter.
    assert!(!run(&rp(), 0, 0).unwrap().clone_suspected);
    assert_eq!(run(&rp(), 5, 6).unwrap().sign_count, 6);
    assert_eq!(run(&rp(), 0, 1).unwrap().sign_count, 1);
    for (stored, now) in [(5, 5), (5, 4), (5, 0)] {
        assert_eq!(
            refused(run(&rp(), stored, now)),
            WebauthnError::CloneSuspected
        );
        let reported = run(&rp().counter_policy(CounterPolicy::Report), stored, now).unwrap();
        assert!(reported.clone_suspected);
        assert_eq!(reported.sign_count, stored, "the stored counter is kept");
    }
    // A forged assertion is refused for its signature before its counter.
    let mut auth = a.auth_data(UP, 1);
    let signature = a.sign(&auth, &get(&CHALLENGE));
    auth[36] = 2;
    let forged = rp().verify_assertion(
        &AssertionRequest {
            challenge: &CHALLENGE,
            user_verification: UserVerification::Preferred,
        },
        &record(&cose, 5, false),
        &AssertionResponse {
            client_data_json: &get(&CHALLENGE),
            authenticator_data: &auth,
            signature: &signature,
        },
    );
    assert_eq!(refused(forged), WebauthnError::InvalidSignature);
}

#[test]
fn authenticator_data_is_read_whole_and_extensions_safely() {
    let a = Authenticator::p256(8);
    let cose = a.cose();
    let stored = record(&cose, 0, false);
    let run = |auth: Vec<u8>| {
        assert_with(
            &rp(),
            &a,
            &stored,
            &get(&CHALLENGE),
            &auth,
            UserVerification::Preferred,
        )
    };
    let with = |flags: u8, ext: &[u8]| a.auth_data_with(RP_ID, flags, 0, &cose, ext);
    // {"credProtect": 2}
    let cred_protect = [&[0xa1][..], &text("credProtect"), &[0x02]].concat();
    assert!(run(with(UP | ED, &cred_protect)).is_ok());
    assert_eq!(
        refused(run(with(UP, &cred_protect))),
        WebauthnError::MalformedAuthenticatorData
    );
    assert_eq!(
        refused(run(with(UP | ED, &[]))),
        WebauthnError::MalformedCbor
    );
    assert_eq!(
        refused(run(with(UP | ED, &[0x01]))),
        WebauthnError::MalformedCbor
    );
    assert_eq!(
        refused(run(with(UP | ED, &[0xbf, 0xff]))),
        WebauthnError::MalformedCbor
    );
    let mut trailing = cred_protect.clone();
    trailing.push(0);
    assert_eq!(
        refused(run(with(UP | ED, &trailing))),
        WebauthnError::MalformedAuthenticatorData
    );
    let mut deep = vec![0xa1, 0x61, b'x'];
    deep.extend([0x81; 12]);
    deep.push(0);
    assert_eq!(
        refused(run(with(UP | ED, &deep))),
        WebauthnError::MalformedCbor
    );
    let short = a.auth_data(UP, 0)[..36].to_vec();
    assert_eq!(
        refused(run(short)),
        WebauthnError::MalformedAuthenticatorData
    );
    let mut long = with(UP | ED, &[0xa1, 0x61, b'x', 0x59, 0x08, 0x00]);
    long.extend(vec![0; 2048]);
    assert_eq!(refused(run(long)), WebauthnError::TooLong);
}

#[test]
fn credential_ids_and_keys_are_bounded_and_checked() {
    let mut a = Authenticator::p256(9);
    let reg = |a: &Authenticator, cose: &[u8], algorithms: &[CoseAlgorithm]| {
        let object = attestation_object(
            "none",
            &[0xa0],
            &a.auth_data_with(RP_ID, UP | AT, 0, cose, &[]),
        );
        register_with(
            &rp(),
            &create(&CHALLENGE),
            &object,
            UserVerification::Preferred,
            algorithms,
        )
    };
    a.credential_id = vec![1; 1023];
    assert!(reg(&a, &a.cose(), CoseAlgorithm::SUPPORTED).is_ok());
    for len in [0, 1024] {
        a.credential_id = vec![1; len];
        assert_eq!(
            refused(reg(&a, &a.cose(), CoseAlgorithm::SUPPORTED)),
            WebauthnError::CredentialIdLength
        );
    }
    a.credential_id = vec![1; 16];
    let cose = a.cose();
    // Not offered.
    assert_eq!(
        refused(reg(&a, &cose, &[CoseAlgorithm::EdDsa])),
        WebauthnError::AlgorithmNotOffered
    );
    // ES384 (-35, curve P-384) is refused as unsupported.
    let mut es384 = cose.clone();
    es384[4] = 0x38;
    es384.insert(5, 0x22);
    assert_eq!(
        refused(reg(&a, &es384, CoseAlgorithm::SUPPORTED)),
        WebauthnError::UnsupportedAlgorithm
    );
    // A point off the curve; a wrong curve; a short coordinate; no alg;
    // a label given twice.
    let mut off_curve = cose.clone();
    *off_curve.last_mut().unwrap() ^= 1;
    let mut wrong_curve = cose.clone();
    wrong_curve[6] = 0x02;
    let mut short = cose.clone();
    short[9] = 0x1f;
    short.remove(10);
    let no_alg = [&[0xa4, 0x01, 0x02], &cose[5..]].concat();
    let twice = [&[0xa6, 0x01, 0x02], &cose[1..]].concat();
    for bad in [off_curve, wrong_curve, short, no_alg, twice] {
        assert_eq!(
            refused(reg(&a, &bad, CoseAlgorithm::SUPPORTED)),
            WebauthnError::InvalidPublicKey,
            "{bad:02x?}"
        );
    }
    // Ed25519: a small-order point, and Ed448 (curve 7).
    let e = Authenticator::ed25519(10);
    let mut small_order = e.cose();
    let at = small_order.len() - 32;
    small_order[at..].copy_from_slice(&{
        let mut identity = [0u8; 32];
        identity[0] = 1;
        identity
    });
    assert_eq!(
        refused(reg(&e, &small_order, CoseAlgorithm::SUPPORTED)),
        WebauthnError::InvalidPublicKey
    );
    let mut ed448 = e.cose();
    ed448[6] = 0x07;
    assert_eq!(
        refused(reg(&e, &ed448, CoseAlgorithm::SUPPORTED)),
        WebauthnError::UnsupportedAlgorithm
    );
}

#[test]
fn signatures_from_another_key_or_malformed_are_refused() {
    let a = Authenticator::p256(11);
    let b = Authenticator::p256(12);
    let cose = a.cose();
    let stored = record(&cose, 0, false);
    assert_eq!(
        refused(assert_with(
            &rp(),
            &b,
            &stored,
            &get(&CHALLENGE),
            &a.auth_data(UP, 0),
            UserVerification::Preferred
        )),
        WebauthnError::InvalidSignature
    );
    for signature in [&[][..], &[0x30, 0x00], &[0u8; 64]] {
        let result = rp().verify_assertion(
            &AssertionRequest {
                challenge: &CHALLENGE,
                user_verification: UserVerification::Preferred,
            },
            &stored,
            &AssertionResponse {
                client_data_json: &get(&CHALLENGE),
                authenticator_data: &a.auth_data(UP, 0),
                signature,
            },
        );
        assert_eq!(refused(result), WebauthnError::InvalidSignature);
    }
    // An Ed25519 signature checked against a P-256 key and back.
    let e = Authenticator::ed25519(13);
    assert_eq!(
        refused(assert_with(
            &rp(),
            &e,
            &stored,
            &get(&CHALLENGE),
            &a.auth_data(UP, 0),
            UserVerification::Preferred
        )),
        WebauthnError::InvalidSignature
    );
}

#[test]
fn attestation_statements_are_checked_or_reported_unverified() {
    let a = Authenticator::p256(14);
    let auth = a.auth_data(UP | AT, 0);
    let client = create(&CHALLENGE);
    let reg = |object: Vec<u8>| {
        register_with(
            &rp(),
            &client,
            &object,
            UserVerification::Preferred,
            CoseAlgorithm::SUPPORTED,
        )
        .map(|(r, _)| r.attestation)
    };
    let signature = a.sign(&auth, &client);
    assert_eq!(
        reg(attestation_object(
            "packed",
            &packed_self(-7, &signature),
            &auth
        ))
        .unwrap(),
        Attestation::SelfAttested
    );
    // Self-attestation under another algorithm, or another key.
    assert_eq!(
        refused(reg(attestation_object(
            "packed",
            &packed_self(-8, &signature),
            &auth
        ))),
        WebauthnError::InvalidAttestation
    );
    let other = Authenticator::p256(15).sign(&auth, &client);
    assert_eq!(
        refused(reg(attestation_object(
            "packed",
            &packed_self(-7, &other),
            &auth
        ))),
        WebauthnError::InvalidAttestation
    );
    // `none` with a statement; a statement that is not a map.
    let stmt = [&[0xa1][..], &text("x"), &[0x01]].concat();
    assert_eq!(
        refused(reg(attestation_object("none", &stmt, &auth))),
        WebauthnError::InvalidAttestation
    );
    assert_eq!(
        refused(reg(attestation_object("tpm", &[0x01], &auth))),
        WebauthnError::InvalidAttestation
    );
    // An unknown format is well-formed and unverified, its statement given back.
    match reg(attestation_object("acme-key", &stmt, &auth)).unwrap() {
        Attestation::Unverified { format, statement } => {
            assert_eq!((format, statement), ("acme-key", &stmt[..]));
        }
        other => panic!("{other:?}"),
    }
    // A bad format name; a key twice; an unknown key; a missing part.
    assert_eq!(
        refused(reg(attestation_object("bad fmt", &[0xa0], &auth))),
        WebauthnError::InvalidAttestation
    );
    let mut twice = attestation_object("none", &[0xa0], &auth);
    twice[0] = 0xa4;
    twice.extend([text("fmt"), text("none")].concat());
    assert_eq!(refused(reg(twice)), WebauthnError::InvalidAttestation);
    let mut unknown = attestation_object("none", &[0xa0], &auth);
    unknown[0] = 0xa4;
    unknown.extend([text("ep"), vec![0xf5]].concat());
    assert_eq!(refused(reg(unknown)), WebauthnError::InvalidAttestation);
    let mut missing = attestation_object("none", &[0xa0], &auth);
    missing[0] = 0xa2;
    assert_eq!(refused(reg(missing)), WebauthnError::InvalidAttestation);
    assert_eq!(
        refused(reg(vec![0xa3; 16 * 1024 + 1])),
        WebauthnError::TooLong
    );
}

#[test]
fn errors_name_the_check_and_nothing_of_the_request() {
    let a = Authenticator::p256(16);
    let cose = a.cose();
    let error = assert_with(
        &rp(),
        &a,
        &record(&cose, 0, false),
        &get(&[0x77; 32]),
        &a.auth_data(UP, 0),
        UserVerification::Preferred,
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "webauthn: client data answers another challenge"
    );
    assert!(!format!("{error:?}").contains("77"));
}

#[cfg(feature = "webauthn-rsa")]
#[test]
fn rsa_keys_outside_2048_to_4096_bits_or_not_minimal_are_refused() {
    let a = Authenticator::p256(17);
    let rsa = |n: &[u8], e: &[u8]| {
        // {1: 3, 3: -257, -1: n, -2: e}
        let cose = [
            &[0xa4, 0x01, 0x03, 0x03, 0x39, 0x01, 0x00, 0x20][..],
            &bytes(n),
            &[0x21],
            &bytes(e),
        ]
        .concat();
        let object = attestation_object(
            "none",
            &[0xa0],
            &a.auth_data_with(RP_ID, UP | AT, 0, &cose, &[]),
        );
        refused(register_with(
            &rp(),
            &create(&CHALLENGE),
            &object,
            UserVerification::Preferred,
            CoseAlgorithm::SUPPORTED,
        ))
    };
    let modulus = |bytes: usize| {
        let mut n = vec![0xc5; bytes];
        n[bytes - 1] = 0xc7;
        n
    };
    assert_eq!(
        rsa(&modulus(128), &[1, 0, 1]),
        WebauthnError::InvalidPublicKey
    );
    assert_eq!(
        rsa(&modulus(513), &[1, 0, 1]),
        WebauthnError::InvalidPublicKey
    );
    assert_eq!(
        rsa(&[&[0][..], &modulus(256)].concat(), &[1, 0, 1]),
        WebauthnError::InvalidPublicKey
    );
    assert_eq!(
        rsa(&modulus(256), &[0, 1, 0, 1]),
        WebauthnError::InvalidPublicKey
    );
    assert_eq!(
        rsa(&modulus(256), &[1, 0, 0, 0, 1]),
        WebauthnError::InvalidPublicKey
    );
    // Even exponent.
    assert_eq!(
        rsa(&modulus(256), &[1, 0, 0]),
        WebauthnError::InvalidPublicKey
    );
    // A well-formed 2048-bit key registers as far as its key goes: the
    // attestation is `none`, so the registration passes.
    let object = attestation_object(
        "none",
        &[0xa0],
        &a.auth_data_with(
            RP_ID,
            UP | AT,
            0,
            &[
                &[0xa4, 0x01, 0x03, 0x03, 0x39, 0x01, 0x00, 0x20][..],
                &bytes(&modulus(256)),
                &[0x21],
                &bytes(&[1, 0, 1]),
            ]
            .concat(),
            &[],
        ),
    );
    let (registered, _) = register_with(
        &rp(),
        &create(&CHALLENGE),
        &object,
        UserVerification::Preferred,
        CoseAlgorithm::SUPPORTED,
    )
    .unwrap();
    assert_eq!(registered.algorithm, CoseAlgorithm::Rs256);
}

#[test]
fn a_key_decoded_beforehand_is_used_only_with_its_own_credential() {
    use twofa::webauthn::CredentialPublicKey;
    let a = Authenticator::ed25519(18);
    let b = Authenticator::ed25519(19);
    let (cose_a, cose_b) = (a.cose(), b.cose());
    let decoded = CredentialPublicKey::decode(&cose_a).unwrap();
    assert_eq!(decoded.algorithm(), CoseAlgorithm::EdDsa);
    let client = get(&CHALLENGE);
    let auth = a.auth_data(UP, 0);
    let signature = a.sign(&auth, &client);
    let request = AssertionRequest {
        challenge: &CHALLENGE,
        user_verification: UserVerification::Preferred,
    };
    let response = AssertionResponse {
        client_data_json: &client,
        authenticator_data: &auth,
        signature: &signature,
    };
    assert!(
        rp().verify_assertion_with_key(&request, &decoded, &record(&cose_a, 0, false), &response)
            .is_ok()
    );
    assert_eq!(
        refused(rp().verify_assertion_with_key(
            &request,
            &decoded,
            &record(&cose_b, 0, false),
            &response
        )),
        WebauthnError::InvalidPublicKey
    );
    assert!(CredentialPublicKey::decode(&cose_a[..cose_a.len() - 1]).is_err());
}
