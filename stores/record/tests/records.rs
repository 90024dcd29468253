//! Every kind reads back exactly what was written, at the ends of its
//! ranges; anything else is refused, never defaulted.
#![allow(clippy::unwrap_used)]

use getrandom::SysRng;
use twofa::{
    AccountState, Binding, HotpAccount, Keyring, SealingKey, Secret, SecretKind, ThrottleState,
    TotpAccount,
};
use twofa_record::{Corrupt, Record, SealedSecrets, StoreError, decode, next_version};

fn round_trip<T: Record + std::fmt::Debug>(state: &T) {
    let body = state.encode::<()>().unwrap();
    let read = decode::<T>(7, T::FORMAT, &body).unwrap();
    assert_eq!((&read.state, read.version), (state, 7), "{body}");
}

fn extreme_totp() -> TotpAccount {
    TotpAccount {
        throttle: ThrottleState {
            failures: 100,
            retry_at: u64::MAX,
        },
        last_step: Some(u64::MAX),
        used_below: u128::MAX,
        drift: -100,
    }
}

#[test]
fn every_kind_reads_back_exactly_at_the_ends_of_its_ranges() {
    round_trip(&TotpAccount::default());
    round_trip(&extreme_totp());
    round_trip(&HotpAccount {
        throttle: ThrottleState {
            failures: 3,
            retry_at: u64::MAX - 1,
        },
        counter: u64::MAX,
    });
    let mut state = AccountState::new();
    state.totp = extreme_totp();
    state.credential_version = u64::MAX;
    state.hotp_counter = u64::MAX;
    round_trip(&state);

    let secrets = sealed_secrets();
    state.secrets = secrets.clone();
    round_trip(&state);
    assert_eq!(format!("{secrets:?}"), r#"{"totp"}"#, "names only");
}

/// A TOTP secret sealed for alice, kept under "totp".
fn sealed_secrets() -> SealedSecrets {
    let keyring = Keyring::new(SealingKey::new(9, [7; 32]));
    let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
    let binding = Binding::new("alice", "totp");
    let sealed = keyring
        .seal_secret(&mut SysRng, SecretKind::Totp, &secret, binding)
        .unwrap();
    let mut secrets = SealedSecrets::new();
    secrets.insert("totp", sealed).unwrap();
    secrets
}

#[test]
fn a_state_no_instance_could_read_back_is_never_written() {
    let mut totp = extreme_totp();
    totp.drift = 101;
    assert!(matches!(
        totp.encode::<()>(),
        Err(StoreError::Unwritable(_))
    ));
    let mut state = AccountState::new();
    state.sends.failures = 101;
    assert!(matches!(
        state.encode::<()>(),
        Err(StoreError::Unwritable(_))
    ));
    let mut hotp = HotpAccount::default();
    hotp.throttle.failures = 101;
    assert!(matches!(
        hotp.encode::<()>(),
        Err(StoreError::Unwritable(_))
    ));
}

fn refused<T: Record + std::fmt::Debug>(body: &str) -> Corrupt {
    decode::<T>(1, T::FORMAT, body).unwrap_err()
}

#[test]
fn a_body_that_is_not_exactly_a_record_is_refused() {
    let good = extreme_totp().encode::<()>().unwrap();
    // Each field missing in turn.
    for field in ["throttle", "last_step", "used_below", "drift"] {
        let mut value: serde_json::Value = serde_json::from_str(&good).unwrap();
        value.as_object_mut().unwrap().remove(field);
        refused::<TotpAccount>(&value.to_string());
    }
    // An absent `Option` is not `None`: a missing last step would accept
    // the last code again.
    let fresh_mark = TotpAccount {
        last_step: Some(57_000_000),
        ..TotpAccount::default()
    };
    let mut value: serde_json::Value =
        serde_json::from_str(&fresh_mark.encode::<()>().unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("last_step");
    let missing = refused::<TotpAccount>(&value.to_string());
    assert!(
        missing.problem.contains("missing field `last_step`"),
        "{missing}"
    );
    let state = AccountState::new().encode::<()>().unwrap();
    for field in [
        "totp",
        "hotp_counter",
        "secrets",
        "sends",
        "credential_version",
        "pending",
        "devices",
        "registration",
        "remembered",
        "recovery",
    ] {
        let mut value: serde_json::Value = serde_json::from_str(&state).unwrap();
        assert!(
            value.as_object_mut().unwrap().remove(field).is_some(),
            "{field}"
        );
        let missing = refused::<AccountState>(&value.to_string());
        assert!(
            missing
                .problem
                .contains(&format!("missing field `{field}`")),
            "{missing}"
        );
    }
    let with_extra = good.replacen('{', r#"{"locked_by_newer_version":true,"#, 1);
    assert!(
        refused::<TotpAccount>(&with_extra)
            .problem
            .contains("unknown field")
    );
    for (body, problem) in [
        (
            r#"{"throttle":{"failures":-1,"retry_at":0},"last_step":null,"used_below":0,"drift":0}"#,
            "invalid value",
        ),
        (
            r#"{"throttle":{"failures":0,"retry_at":18446744073709551616},"last_step":null,"used_below":0,"drift":0}"#,
            "expected u64",
        ),
        (
            r#"{"throttle":{"failures":101,"retry_at":0},"last_step":null,"used_below":0,"drift":0}"#,
            "failures",
        ),
        (
            r#"{"throttle":{"failures":0,"retry_at":0},"last_step":1,"used_below":0,"drift":101}"#,
            "drift",
        ),
        (
            r#"{"throttle":{"failures":0,"retry_at":0},"last_step":null,"used_below":1,"drift":0}"#,
            "mark",
        ),
        (
            r#"{"throttle":{"failures":"0","retry_at":0},"last_step":null,"used_below":0,"drift":0}"#,
            "invalid type",
        ),
        ("", "EOF"),
        ("null", "invalid type"),
    ] {
        let corrupt = refused::<TotpAccount>(body);
        assert!(corrupt.problem.contains(problem), "{body}: {corrupt}");
        assert_eq!(corrupt.kind, "totp");
    }
    // The sealed secrets inside an account: each a sealed form, each name once.
    let mut state = AccountState::new();
    state.secrets = sealed_secrets();
    let body = state.encode::<()>().unwrap();
    let text = body
        .split(r#""totp":""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let bad = body.replace(text, "sealed:AAAA");
    let corrupt = refused::<AccountState>(&bad);
    assert!(corrupt.problem.contains("not a sealed form"), "{corrupt}");
    let twice = body.replace(
        &format!(r#""totp":"{text}""#),
        &format!(r#""totp":"{text}","totp":"{text}""#),
    );
    assert_ne!(twice, body);
    let corrupt = refused::<AccountState>(&twice);
    assert!(corrupt.problem.contains("given twice"), "{corrupt}");
    let mut state = AccountState::new();
    state.totp.drift = 5;
    let mut value: serde_json::Value =
        serde_json::from_str(&state.encode::<()>().unwrap()).unwrap();
    value["sends"]["failures"] = 1000.into();
    refused::<AccountState>(&value.to_string());
}

#[test]
fn versions_and_formats_out_of_range_are_refused() {
    let body = TotpAccount::default().encode::<()>().unwrap();
    let format = TotpAccount::FORMAT;
    assert!(decode::<TotpAccount>(0, format, &body).is_err());
    assert!(decode::<TotpAccount>(-5, format, &body).is_err());
    let later = decode::<TotpAccount>(1, format + 1, &body).unwrap_err();
    assert!(later.problem.contains("format"), "{later}");
    // An account row of format 1 kept its secrets elsewhere: refused, never
    // read as an account without them.
    let account = AccountState::new().encode::<()>().unwrap();
    let old = decode::<AccountState>(1, 1, &account).unwrap_err();
    assert!(old.problem.contains("format 1"), "{old}");
    assert_eq!(next_version::<()>(0).unwrap(), 1);
    assert_eq!(next_version::<()>(i64::MAX as u64 - 1).unwrap(), i64::MAX);
    assert!(matches!(
        next_version::<()>(i64::MAX as u64),
        Err(StoreError::VersionOutOfRange)
    ));
    assert!(matches!(
        next_version::<()>(u64::MAX),
        Err(StoreError::VersionOutOfRange)
    ));
}

/// Bytes `n` long, none alike in a row.
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(151) ^ seed).collect()
}

/// `bytes` as the body writes them: base64url without padding.
fn text(bytes: &[u8]) -> serde_json::Value {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let word =
            chunk.iter().fold(0u32, |w, &b| w << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for k in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(word >> (18 - 6 * k) & 63) as usize]));
        }
    }
    out.into()
}

/// The most sealed secrets an account keeps, each a 64-byte secret.
fn full_secrets() -> serde_json::Value {
    let secrets = (0..twofa::SealedSecrets::MAX).map(|i| {
        let name = format!("secret-{i:02}");
        let keyring = Keyring::new(SealingKey::new(9, [7; 32]));
        let secret = Secret::from_bytes(&[i as u8; 64]).unwrap();
        let sealed = keyring
            .seal_secret(
                &mut SysRng,
                SecretKind::Totp,
                &secret,
                Binding::new("alice", &name),
            )
            .unwrap();
        (name, serde_json::Value::from(sealed.to_string()))
    });
    secrets.collect::<serde_json::Map<_, _>>().into()
}

/// The largest account the bounds allow, as the body's JSON: every list
/// full, every challenge pending, each byte field `form` makes of it.
fn full_account(
    form: fn(&[u8]) -> serde_json::Value,
    secrets: &serde_json::Value,
) -> serde_json::Value {
    use serde_json::json;
    let b = |n: usize, seed: u8| form(&bytes(n, seed));
    let oob = |seed| {
        json!({"id": b(16, seed), "key_id": 1, "digest": b(32, seed), "digits": 6,
        "expires_at": u64::MAX, "attempts_left": 10, "used": false})
    };
    let prompt = |seed| {
        json!({"nonce": b(32, seed), "device_id": b(16, seed), "ticket_id": b(16, seed),
        "number": 42, "transaction": b(32, seed), "expires_at": u64::MAX, "used": false})
    };
    let passkey_challenge = |seed| {
        json!({"challenge": b(32, seed), "user_verification": "Preferred",
        "expires_at": u64::MAX, "used": false})
    };
    let mut state = serde_json::to_value(AccountState::new()).unwrap();
    state["secrets"] = secrets.clone();
    state["pending"] = (0..AccountState::MAX_PENDING as u8).map(|i| json!({
        "id": b(16, i), "key_id": 1, "digest": b(32, i), "first_factor": "Password", "allowed": 127,
        "issued_at": u64::MAX - 1, "expires_at": u64::MAX, "spent": false, "oob": oob(i),
        "replaced_oob": oob(i + 100), "device_challenge": prompt(i), "passkey_challenge": passkey_challenge(i),
    })).collect();
    state["devices"] = (0..AccountState::MAX_DEVICES as u8).map(|i| json!({
        "id": b(16, i), "algorithm": "EcdsaP256", "public_key": b(65, i), "registered_at": u64::MAX,
        "last_used": u64::MAX, "revoked": false, "key_id": 1, "mac": b(32, i),
    })).collect();
    state["registration"] = json!({"nonce": b(32, 1), "expires_at": u64::MAX, "used": false});
    state["remembered"] = (0..AccountState::MAX_REMEMBERED as u8)
        .map(|i| {
            json!({
                "id": b(16, i), "key_id": 1, "digest": b(32, i), "credential_version": u64::MAX,
                "issued_at": u64::MAX, "expires_at": u64::MAX, "rotated": false,
            })
        })
        .collect();
    let digests: Vec<_> = (0..twofa::RecoveryPolicy::MAX_COUNT as u8)
        .map(|i| b(32, i))
        .collect();
    state["recovery"] = json!({"salt": b(16, 1), "memory_kib": 19456, "passes": 2, "pepper_id": 1,
        "digests": digests, "used": 0, "key_id": 1, "mac": b(32, 1)});
    // Credential ids and keys as security keys and passkey providers make
    // them: 64-byte ids, 77-byte COSE P-256 keys; names at their longest.
    state["passkeys"] = (0..AccountState::MAX_PASSKEYS as u8).map(|i| json!({
        "id": b(64, i), "public_key": b(77, i), "algorithm": "Es256", "sign_count": u32::MAX,
        "backup_eligible": true, "backed_up": true, "user_verified": true, "transports": 31,
        "aaguid": b(16, i), "name": "n".repeat(64), "created_at": u64::MAX, "last_used": u64::MAX,
        "key_id": 1, "mac": b(32, i),
    })).collect();
    state["passkey_registration"] = passkey_challenge(200);
    let recent: Vec<_> = (0..8)
        .map(|i| json!({"nonce": b(16, i), "issued_at": u64::MAX}))
        .collect();
    state["sign_ins"] = json!({"floor": u64::MAX - 1, "recent": recent});
    state
}

#[test]
fn a_full_account_shrinks_by_two_fifths_and_format_3_bodies_still_read() {
    let numbers = |bytes: &[u8]| serde_json::json!(bytes);
    let secrets = full_secrets();
    let old = full_account(numbers, &secrets).to_string();
    let state: AccountState = serde_json::from_str(&old).unwrap();
    state.check().unwrap();
    // A body of format 3 (byte fields as numbers) still reads, as the
    // same state; the next save writes format 4.
    let read = decode::<AccountState>(3, 3, &old).unwrap();
    assert_eq!(read.state, state);
    let body = state.encode::<()>().unwrap();
    let written: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        written == full_account(text, &secrets),
        "every byte field is text"
    );
    assert_eq!(
        decode::<AccountState>(4, AccountState::FORMAT, &body)
            .unwrap()
            .state,
        state
    );
    eprintln!(
        "a full account: {} bytes in format 3, {} in format 4",
        old.len(),
        body.len()
    );
    // 74.5 kB against 43.2 kB when this was written: the byte fields
    // shrink to base64's 4 characters for 3 bytes (from up to 4 a byte);
    // what is left is mostly the field names (11 kB) and the numbers.
    assert!(
        body.len() * 10 <= old.len() * 6,
        "{} against {}",
        body.len(),
        old.len()
    );
    // Neither an earlier format nor a later one reads.
    assert!(decode::<AccountState>(4, 2, &body).is_err());
    assert!(decode::<AccountState>(4, AccountState::FORMAT + 1, &body).is_err());
}

#[test]
fn a_byte_field_of_the_wrong_length_or_not_base64url_is_refused() {
    let good = full_account(text, &full_secrets());
    let mut bodies = Vec::new();
    for bad in [
        "",
        "AAAA",
        "AAAAAAAAAAAAAAAAAAAAAA=",
        "AAAAAAAAAAAAAAAAAAAAA/",
        "AAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let mut state = good.clone();
        state["pending"][0]["id"] = bad.into();
        bodies.push(state);
    }
    // Non-canonical: the last character's unused bits set.
    let mut state = good.clone();
    state["pending"][0]["id"] = "AAAAAAAAAAAAAAAAAAAAAB".into();
    bodies.push(state);
    // The earlier form, a number short or one too many.
    let mut state = good.clone();
    state["pending"][0]["id"] = serde_json::json!(vec![0u8; 15]);
    bodies.push(state);
    let mut state = good.clone();
    state["pending"][0]["id"] = serde_json::json!(vec![0u8; 17]);
    bodies.push(state);
    let mut state = good.clone();
    state["recovery"]["digests"][0] = "AAAA".into();
    bodies.push(state);
    for body in bodies {
        let body = body.to_string();
        assert!(decode::<AccountState>(1, AccountState::FORMAT, &body).is_err());
    }
    // The unchanged body reads: each refusal above is its one change.
    decode::<AccountState>(1, AccountState::FORMAT, &good.to_string()).unwrap();
}
