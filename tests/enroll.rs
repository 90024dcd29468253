//! Enrollment: a secret becomes active only with a valid code, and that
//! code cannot log in afterwards.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used)]

use twofa::{Enrollment, Error, Hotp, KeyUri, MemoryReplayStore, Otp, Secret, Totp};

const NOW: u64 = 1_700_000_000;

fn totp_of(enrollment: &Enrollment) -> Totp {
    match enrollment.key_uri().otp() {
        Otp::Totp(totp) => totp.clone(),
        Otp::Hotp { .. } => panic!("expected TOTP"),
    }
}

#[test]
fn a_fresh_secret_is_random_and_shown_with_the_defaults() {
    let mut rng = getrandom::SysRng;
    let a = Enrollment::start(&mut rng, "ACME", "alice").unwrap();
    let b = Enrollment::start(&mut rng, "ACME", "alice").unwrap();
    assert_ne!(a.key_uri().otp().secret(), b.key_uri().otp().secret());
    assert_eq!(a.key_uri().otp().secret().byte_len(), Secret::DEFAULT_LEN);
    assert!(a.key_uri().portability().is_empty());
    assert_eq!(a.key_uri().issuer(), Some("ACME"));
    assert_eq!(
        Enrollment::start(&mut rng, "AC:ME", "alice").unwrap_err(),
        Error::ColonInLabel
    );
}

#[test]
fn only_a_valid_code_confirms() {
    let enrollment = Enrollment::start(&mut getrandom::SysRng, "ACME", "alice").unwrap();
    let totp = totp_of(&enrollment);
    let right = totp.generate_at(NOW).unwrap().to_string();
    let wrong = totp.generate_at(NOW + 300).unwrap().to_string();
    assert_eq!(enrollment.confirm_at(&wrong, NOW), Err(Error::InvalidCode));
    assert_eq!(
        enrollment.confirm_at("12345", NOW),
        Err(Error::MalformedCode)
    );
    let enrolled = enrollment.confirm_at(&right, NOW).unwrap();
    assert_eq!(enrolled.last_used, NOW / 30);
    assert_eq!(&enrolled.key_uri, enrollment.key_uri());
}

#[test]
fn the_confirming_code_cannot_log_in_again() {
    let store = MemoryReplayStore::new();
    let enrollment = Enrollment::start(&mut getrandom::SysRng, "ACME", "alice").unwrap();
    let totp = totp_of(&enrollment);
    let code = totp.generate_at(NOW).unwrap().to_string();
    enrollment
        .confirm_once_at(&store, "alice", &code, NOW)
        .unwrap()
        .unwrap();
    // The first login, a few seconds later, with the same code.
    assert_eq!(
        totp.verify_once_at(&store, "alice", &code, NOW + 5)
            .unwrap(),
        Err(Error::Replayed)
    );
    // The next code logs in.
    let next = totp.generate_at(NOW + 30).unwrap().to_string();
    assert!(
        totp.verify_once_at(&store, "alice", &next, NOW + 30)
            .unwrap()
            .is_ok()
    );
}

#[test]
fn a_pending_enrollment_survives_storage_as_its_uri() {
    let enrollment = Enrollment::start(&mut getrandom::SysRng, "ACME", "alice").unwrap();
    let stored = enrollment.key_uri().to_uri();
    let restored = Enrollment::new(KeyUri::parse(&stored).unwrap());
    assert_eq!(restored, enrollment);
}

#[test]
fn hotp_enrollment_moves_the_counter_past_the_confirming_code() {
    let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
    let otp = Otp::Hotp {
        hotp: Hotp::new(secret.clone()),
        counter: 0,
    };
    let enrollment = Enrollment::new(KeyUri::new(otp, "alice").unwrap());
    // RFC 4226 Appendix D: counter 2 is 359152.
    let enrolled = enrollment.confirm_at("359152", NOW).unwrap();
    assert_eq!(enrolled.last_used, 2);
    let Otp::Hotp { counter, .. } = enrolled.key_uri.otp() else {
        panic!("expected HOTP")
    };
    assert_eq!(*counter, 3);

    let at_the_end = Otp::Hotp {
        hotp: Hotp::new(secret.clone()),
        counter: u64::MAX,
    };
    let last = Hotp::new(secret).generate(u64::MAX).to_string();
    let enrollment = Enrollment::new(KeyUri::new(at_the_end, "alice").unwrap());
    assert_eq!(
        enrollment.confirm_at(&last, NOW),
        Err(Error::CounterExhausted)
    );
}

#[test]
fn the_confirmed_secret_is_handed_back_sealed() {
    use twofa::{Binding, Keyring, SealingKey, SecretKind};

    let keyring = Keyring::new(SealingKey::generate(1, &mut getrandom::SysRng).unwrap());
    let enrollment = Enrollment::start(&mut getrandom::SysRng, "ACME", "alice").unwrap();
    let totp = totp_of(&enrollment);
    let enrolled = enrollment
        .confirm_at(&totp.generate_at(NOW).unwrap().to_string(), NOW)
        .unwrap();
    let binding = Binding::new("alice", "totp");
    let sealed = enrolled
        .seal_secret(&keyring, &mut getrandom::SysRng, binding)
        .unwrap();
    assert_eq!(sealed.kind(), SecretKind::Totp);
    // What is stored says nothing of the secret.
    let stored = sealed.to_string();
    assert!(!stored.contains(&totp.secret().expose_base32().to_string()));
    let opened = keyring
        .open_secret(&stored.parse().unwrap(), SecretKind::Totp, binding)
        .unwrap();
    assert_eq!(&opened.value, totp.secret());
}
