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
