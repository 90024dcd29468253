//! Recovery codes: generation, single use, lenient typing, and what the
//! stored record reveals.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use twofa::{Error, RecoveryCode, RecoveryCodes, RecoveryOutcome, RecoveryPepper, RecoveryPolicy};

fn generate() -> (Vec<RecoveryCode>, RecoveryCodes) {
    RecoveryPolicy::default()
        .generate(&mut getrandom::SysRng, None)
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
        "RecoveryCodes { memory_kib: 19456, passes: 2, pepper_id: None, codes: 10, remaining: 10, .. }"
    );
}

#[test]
fn each_code_works_once_and_the_set_counts_down() {
    let (codes, mut record) = generate();
    for (i, code) in codes.iter().enumerate().take(3) {
        assert_eq!(
            record.verify(&[], &code.to_text()).unwrap(),
            RecoveryOutcome::Accepted { remaining: 9 - i }
        );
        assert_eq!(
            record.verify(&[], &code.to_text()).unwrap(),
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
                record.clone().verify(&[], &typed).unwrap(),
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
            record.clone().verify(&[], &typed).unwrap(),
            RecoveryOutcome::Accepted { .. }
        ));
    }
    // One symbol changed.
    let first = text.chars().next().unwrap();
    let changed = format!("{}{}", if first == 'z' { 'y' } else { 'z' }, &text[1..]);
    assert_eq!(
        record.clone().verify(&[], &changed).unwrap(),
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
            record.clone().verify(&[], malformed).unwrap(),
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
        other.verify(&[], &codes[0].to_text()).unwrap(),
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
    let (codes, mut record) = policy.generate(&mut getrandom::SysRng, None).unwrap();
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
        record.verify(&[], &codes[2].to_text()).unwrap(),
        RecoveryOutcome::Accepted { remaining: 2 }
    );
    // A damaged record is an error, not a panic.
    record.passes = 0;
    assert_eq!(
        record.verify(&[], &codes[1].to_text()),
        Err(Error::StoredCostOutOfRange)
    );
}

#[cfg(feature = "serde")]
#[test]
fn every_record_survives_serialization() {
    use twofa::{DigestKey, HotpAccount, OobPolicy, ThrottleState, TotpAccount};

    let (codes, record) = generate();
    let stored = serde_json::to_string(&record).unwrap();
    let mut loaded: RecoveryCodes = serde_json::from_str(&stored).unwrap();
    assert_eq!(loaded, record);
    assert!(matches!(
        loaded.verify(&[], &codes[0].to_text()).unwrap(),
        RecoveryOutcome::Accepted { .. }
    ));

    let key = DigestKey::new(1, [1; 32]);
    let binding = twofa::Binding::new("alice", "login");
    let (code, challenge) = OobPolicy::default()
        .issue(&key, &mut getrandom::SysRng, binding, 5)
        .unwrap();
    let mut loaded: twofa::OobChallenge =
        serde_json::from_str(&serde_json::to_string(&challenge).unwrap()).unwrap();
    assert_eq!(loaded, challenge);
    assert_eq!(
        loaded.verify(&[key], binding, &code.to_string(), 6),
        Ok(twofa::OobOutcome::Accepted)
    );

    let account = TotpAccount {
        throttle: ThrottleState {
            failures: 3,
            retry_at: u64::MAX,
        },
        last_step: Some(u64::MAX),
        drift: -7,
        used_below: u128::MAX - 5,
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

#[test]
fn a_stored_cost_outside_the_bounds_is_refused_before_hashing() {
    let (codes, record) = generate();
    // Lowered by someone who can write the row, to make guessing cheap;
    // or raised to stall the verifier (u32::MAX passes would run for hours).
    for (memory_kib, passes) in [
        (8, 1),
        (7 * 1024 - 1, 10),
        (7 * 1024, 4),
        (19 * 1024, 0),
        (19 * 1024, 11),
        (19 * 1024, u32::MAX),
        (256 * 1024 + 1, 2),
        (u32::MAX, 2),
    ] {
        let mut tampered = record.clone();
        tampered.memory_kib = memory_kib;
        tampered.passes = passes;
        assert_eq!(
            tampered.verify(&[], &codes[0].to_text()),
            Err(Error::StoredCostOutOfRange),
            "{memory_kib} KiB, {passes} passes"
        );
        assert_eq!(tampered.used, record.used);
    }
    assert_eq!(
        RecoveryPolicy::new(10, 19 * 1024, RecoveryPolicy::MAX_PASSES + 1),
        Err(Error::InvalidPolicy)
    );
    assert_eq!(
        RecoveryPolicy::new(10, RecoveryPolicy::MAX_MEMORY_KIB + 1, 2),
        Err(Error::InvalidPolicy)
    );
}

#[test]
fn a_pepper_is_needed_to_check_a_peppered_set_and_is_found_by_its_id() {
    let pepper = RecoveryPepper::new(3, [5; 32]);
    let policy = RecoveryPolicy::new(2, 7 * 1024, 5).unwrap();
    let (codes, record) = policy
        .generate(&mut getrandom::SysRng, Some(&pepper))
        .unwrap();
    assert_eq!(record.pepper_id, Some(3));
    let code = codes[0].to_text();
    // Without the pepper, or with only another one: refused as unknown.
    assert_eq!(record.clone().verify(&[], &code), Err(Error::UnknownKeyId));
    let other = RecoveryPepper::new(4, [5; 32]);
    assert_eq!(
        record.clone().verify(std::slice::from_ref(&other), &code),
        Err(Error::UnknownKeyId)
    );
    // Among several peppers, the record's is used.
    assert_eq!(
        record
            .clone()
            .verify(&[other, pepper.clone()], &code)
            .unwrap(),
        RecoveryOutcome::Accepted { remaining: 1 }
    );
    // The same bytes under another id, or other bytes under its id, do not open it.
    let mut relabelled = record.clone();
    relabelled.pepper_id = None;
    assert_eq!(
        relabelled.verify(&[], &code).unwrap(),
        RecoveryOutcome::Invalid
    );
    assert_eq!(
        record
            .clone()
            .verify(&[RecoveryPepper::new(3, [6; 32])], &code)
            .unwrap(),
        RecoveryOutcome::Invalid
    );
    assert_eq!(format!("{pepper:?}"), "RecoveryPepper { id: 3, .. }");
}

#[test]
fn every_lookalike_and_case_reads_as_its_symbol_and_nothing_else_does() {
    let policy = RecoveryPolicy::new(1, 7 * 1024, 5).unwrap();
    let (codes, record) = policy.generate(&mut getrandom::SysRng, None).unwrap();
    let text = codes[0].to_text();
    let upper = text.to_uppercase();
    assert!(matches!(
        record.clone().verify(&[], &upper).unwrap(),
        RecoveryOutcome::Accepted { .. }
    ));
    // Every byte that is not a symbol, a look-alike, a space or a hyphen
    // makes the code malformed wherever it stands.
    for byte in 0..=255u8 {
        let c = char::from(byte);
        let known = c.is_ascii_alphanumeric() && !matches!(c.to_ascii_lowercase(), 'u');
        if known || c == ' ' || c == '-' || !c.is_ascii() {
            continue;
        }
        let typed = format!("{}{c}", &text[..10]);
        assert_eq!(
            record.clone().verify(&[], &typed).unwrap(),
            RecoveryOutcome::Malformed,
            "{byte:#x}"
        );
    }
}
