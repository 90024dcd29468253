//! Recovery codes: generation, single use, lenient typing, and what the
//! stored record reveals.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use twofa::{Error, RecoveryCode, RecoveryCodes, RecoveryOutcome, RecoveryPolicy};

fn generate() -> (Vec<RecoveryCode>, RecoveryCodes) {
    RecoveryPolicy::default()
        .generate(&mut getrandom::SysRng)
        .unwrap()
}

#[test]
fn a_set_of_ten_readable_distinct_codes() {
    let (codes, record) = generate();
    assert_eq!(codes.len(), 10);
    assert_eq!((record.digests.len(), record.remaining()), (10, 10));
    let texts: HashSet<String> = codes.iter().map(|c| c.to_text().to_string()).collect();
    assert_eq!(texts.len(), 10);
    for text in &texts {
        assert_eq!(text.len(), 11);
        assert_eq!(&text[5..6], "-");
        assert!(
            text.chars()
                .all(|c| c == '-' || "0123456789abcdefghjkmnpqrstvwxyz".contains(c)),
            "{text}"
        );
    }
    // The stored digests are neither the codes nor each other.
    let digests: HashSet<[u8; 32]> = record.digests.iter().copied().collect();
    assert_eq!(digests.len(), 10);
    assert_eq!(format!("{:?}", codes[0]), "RecoveryCode(..)");
    let debug = format!("{record:?}");
    assert_eq!(
        debug,
        "RecoveryCodes { memory_kib: 19456, passes: 2, codes: 10, remaining: 10, .. }"
    );
}

#[test]
fn each_code_works_once_and_the_set_counts_down() {
    let (codes, mut record) = generate();
    for (i, code) in codes.iter().enumerate().take(3) {
        assert_eq!(
            record.verify(&code.to_text()).unwrap(),
            RecoveryOutcome::Accepted { remaining: 9 - i }
        );
        assert_eq!(
            record.verify(&code.to_text()).unwrap(),
            RecoveryOutcome::AlreadyUsed
        );
    }
    assert_eq!(record.remaining(), 7);
}

#[test]
fn typing_is_forgiving_but_guessing_is_not() {
    let (codes, record) = generate();
    let text = codes[4].to_text().to_string();
    // Upper case, spaces instead of the hyphen, none at all.
    for typed in [
        text.to_uppercase(),
        text.replace('-', " "),
        text.replace('-', ""),
        format!(" {text} "),
    ] {
        assert!(
            matches!(
                record.clone().verify(&typed).unwrap(),
                RecoveryOutcome::Accepted { .. }
            ),
            "{typed}"
        );
    }
    // Crockford's readings: o for 0, i and l for 1.
    if let Some(zero) = text.find('0') {
        let mut typed = text.clone();
        typed.replace_range(zero..=zero, "O");
        assert!(matches!(
            record.clone().verify(&typed).unwrap(),
            RecoveryOutcome::Accepted { .. }
        ));
    }
    // One symbol changed.
    let first = text.chars().next().unwrap();
    let changed = format!("{}{}", if first == 'z' { 'y' } else { 'z' }, &text[1..]);
    assert_eq!(
        record.clone().verify(&changed).unwrap(),
        RecoveryOutcome::Invalid
    );
    for malformed in [
        "",
        "abcde-fghj",
        "abcde-fghjkm",
        "abcde-fghju",
        "abcde_fghjk",
    ] {
        assert_eq!(
            record.clone().verify(malformed).unwrap(),
            RecoveryOutcome::Malformed,
            "{malformed}"
        );
    }
}

#[test]
fn codes_of_one_set_do_not_open_another() {
    let (codes, _) = generate();
    let (_, mut other) = generate();
    assert_eq!(
        other.verify(&codes[0].to_text()).unwrap(),
        RecoveryOutcome::Invalid
    );
}

#[test]
fn the_cost_may_not_fall_below_owasp() {
    assert_eq!(
        RecoveryPolicy::new(0, 19 * 1024, 2),
        Err(Error::InvalidPolicy)
    );
    assert_eq!(
        RecoveryPolicy::new(101, 19 * 1024, 2),
        Err(Error::InvalidPolicy)
    );
    assert_eq!(
        RecoveryPolicy::new(10, 7 * 1024 - 1, 10),
        Err(Error::InvalidPolicy)
    );
    assert_eq!(
        RecoveryPolicy::new(10, 7 * 1024, 4),
        Err(Error::InvalidPolicy)
    );
    assert_eq!(
        RecoveryPolicy::new(10, 7 * 1024, 0),
        Err(Error::InvalidPolicy)
    );
    let policy = RecoveryPolicy::new(3, 7 * 1024, 5).unwrap();
    let (codes, mut record) = policy.generate(&mut getrandom::SysRng).unwrap();
    assert_eq!(
        (
            codes.len(),
            policy.count(),
            record.memory_kib,
            record.passes
        ),
        (3, 3, 7168, 5)
    );
    assert_eq!(
        record.verify(&codes[2].to_text()).unwrap(),
        RecoveryOutcome::Accepted { remaining: 2 }
    );
    // A damaged record is an error, not a panic.
    record.passes = 0;
    assert_eq!(
        record.verify(&codes[1].to_text()),
        Err(Error::InvalidPolicy)
    );
}

#[cfg(feature = "serde")]
#[test]
fn every_record_survives_serialization() {
    use twofa::{HotpAccount, OobKey, OobPolicy, ThrottleState, TotpAccount};

    let (codes, record) = generate();
    let stored = serde_json::to_string(&record).unwrap();
    let mut loaded: RecoveryCodes = serde_json::from_str(&stored).unwrap();
    assert_eq!(loaded, record);
    assert!(matches!(
        loaded.verify(&codes[0].to_text()).unwrap(),
        RecoveryOutcome::Accepted { .. }
    ));

    let key = OobKey::from_bytes([1; 32]);
    let (code, challenge) = OobPolicy::default()
        .issue(&key, &mut getrandom::SysRng, "login", 5)
        .unwrap();
    let mut loaded: twofa::OobChallenge =
        serde_json::from_str(&serde_json::to_string(&challenge).unwrap()).unwrap();
    assert_eq!(loaded, challenge);
    assert_eq!(
        loaded.verify(&key, "login", &code.to_string(), 6),
        twofa::OobOutcome::Accepted
    );

    let account = TotpAccount {
        throttle: ThrottleState {
            failures: 3,
            retry_at: u64::MAX,
        },
        last_step: Some(u64::MAX),
        drift: -7,
    };
    assert_eq!(
        serde_json::from_str::<TotpAccount>(&serde_json::to_string(&account).unwrap()).unwrap(),
        account
    );
    let hotp = HotpAccount {
        throttle: ThrottleState::default(),
        counter: 42,
    };
    assert_eq!(
        serde_json::from_str::<HotpAccount>(&serde_json::to_string(&hotp).unwrap()).unwrap(),
        hotp
    );
}
