//! Recovery codes in two phases: the Argon2id work on a copy of the set
//! (`check_in`, `Guard::check_recovery_code`), the decision on the set as
//! it is then (`commit`, `Guard::commit_recovery`). Each code is accepted
//! once whatever happened to the set between the two, and a commit that
//! cannot decide asks for a new check rather than guess.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used)]

use twofa::{
    Binding, DigestKey, Guard, HashMemory, Outcome, RecoveryCheck, RecoveryCode, RecoveryCodes,
    RecoveryKeys, RecoveryOutcome, RecoveryPolicy, ThrottleState,
};

const NOW: u64 = 1_700_000_000;

fn digest_keys() -> [DigestKey; 1] {
    [DigestKey::new(1, [9; 32])]
}

fn alice() -> Binding<'static> {
    Binding::new("alice", "recovery")
}

fn generate() -> (Vec<RecoveryCode>, RecoveryCodes) {
    RecoveryPolicy::default()
        .generate(
            &mut getrandom::SysRng,
            RecoveryKeys {
                digest: &digest_keys(),
                peppers: &[],
            },
            alice(),
        )
        .unwrap()
}

/// Hashes `typed` against `copy`.
fn check(copy: &RecoveryCodes, typed: &RecoveryCode) -> RecoveryCheck {
    let digest = digest_keys();
    let keys = RecoveryKeys {
        digest: &digest,
        peppers: &[],
    };
    let policy = RecoveryPolicy::default();
    copy.check_in(
        &mut HashMemory::new(),
        &policy,
        keys,
        alice(),
        &mut getrandom::SysRng,
        &typed.to_text(),
    )
    .unwrap()
}

/// Decides `check` on `set`.
fn commit(set: &mut RecoveryCodes, check: &RecoveryCheck) -> Option<RecoveryOutcome> {
    let digest = digest_keys();
    let keys = RecoveryKeys {
        digest: &digest,
        peppers: &[],
    };
    set.commit(check, &RecoveryPolicy::default(), keys, alice())
        .unwrap()
}

fn replacement(outcome: Option<RecoveryOutcome>) -> RecoveryCode {
    match outcome {
        Some(RecoveryOutcome::Accepted(accepted)) => accepted.replacement,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_code_checked_on_a_copy_is_accepted_once_and_its_replacement_works() {
    let (codes, mut set) = generate();
    let copy = set.clone();
    let made = check(&copy, &codes[0]);
    assert_eq!(format!("{made:?}"), "RecoveryCheck(..)");
    let new = replacement(commit(&mut set, &made));
    assert_eq!(set.used, 1);
    assert!(set.is_genuine(&digest_keys(), alice()).unwrap());
    // The same check again, or another made on the old copy: the code is
    // used now, a wrong code, never a second acceptance.
    assert_eq!(commit(&mut set, &made), Some(RecoveryOutcome::Invalid));
    let again = check(&copy, &codes[0]);
    assert_eq!(commit(&mut set, &again), Some(RecoveryOutcome::Invalid));
    assert_eq!(set.used, 1);
    // Another code checked on the old copy still works: only its slot
    // matters, and the set is resealed around both changes.
    replacement(commit(&mut set, &check(&copy, &codes[1])));
    assert_eq!(set.used, 2);
    // The replacement handed out, checked on a copy from before it
    // existed: every check makes a replacement, so it is decided too.
    let late = check(&copy, &new);
    replacement(commit(&mut set, &late));
    assert_eq!(set.used, 3);
    assert_eq!(commit(&mut set, &late), Some(RecoveryOutcome::Invalid));
}

#[test]
fn a_set_made_anew_or_altered_since_the_copy_is_not_decided_by_it() {
    let (codes, set) = generate();
    let made = check(&set, &codes[0]);
    // A new set (another salt): the check hashed under the old one.
    let (_, mut regenerated) = generate();
    let before = regenerated.clone();
    assert_eq!(commit(&mut regenerated, &made), None);
    assert_eq!(regenerated, before);
    // The set altered in the database since the copy: refused as forged,
    // nothing changed.
    let mut altered = set.clone();
    altered.used = 7;
    assert_eq!(commit(&mut altered, &made), Some(RecoveryOutcome::Forged));
    assert_eq!(altered.used, 7);
    // A forged copy hashes nothing and decides nothing on a genuine set;
    // on a set still forged it is refused as forged.
    let forged = check(&altered, &codes[0]);
    let mut genuine = set.clone();
    assert_eq!(commit(&mut genuine, &forged), None);
    assert_eq!(genuine, set);
    assert_eq!(commit(&mut altered, &forged), Some(RecoveryOutcome::Forged));
    // Alice's check committed with bob's binding: the set's keyed digest
    // is alice's, so for bob it is forged.
    let digest = digest_keys();
    let keys = RecoveryKeys {
        digest: &digest,
        peppers: &[],
    };
    let policy = RecoveryPolicy::default();
    let bob = Binding::new("bob", "recovery");
    let mut alices = set.clone();
    assert_eq!(
        alices.commit(&made, &policy, keys, bob).unwrap(),
        Some(RecoveryOutcome::Forged)
    );
    assert_eq!(alices, set);
    // A set made anew under another cost, and one with a pepper: the
    // check hashed under neither.
    let cheaper = RecoveryPolicy::new(10, 12 * 1024, 3).unwrap();
    let (_, mut costlier) = cheaper
        .generate(&mut getrandom::SysRng, keys, alice())
        .unwrap();
    assert_eq!(
        costlier.commit(&made, &cheaper, keys, alice()).unwrap(),
        None
    );
    let pepper = [twofa::RecoveryPepper::new(4, [3; 32])];
    let peppered_keys = RecoveryKeys {
        digest: &digest,
        peppers: &pepper,
    };
    let (_, mut peppered) = policy
        .generate(&mut getrandom::SysRng, peppered_keys, alice())
        .unwrap();
    assert_eq!(peppered.pepper_id, Some(4));
    assert_eq!(
        peppered
            .commit(&made, &policy, peppered_keys, alice())
            .unwrap(),
        None
    );
    // Malformed input needs no hash and stays malformed.
    let mut rng = getrandom::SysRng;
    let malformed = set
        .check_in(
            &mut HashMemory::new(),
            &policy,
            keys,
            alice(),
            &mut rng,
            "12",
        )
        .unwrap();
    assert_eq!(
        commit(&mut genuine, &malformed),
        Some(RecoveryOutcome::Malformed)
    );
}

#[test]
fn the_guard_counts_a_wrong_code_once_and_hashes_nothing_while_locked() {
    let guard = Guard::default();
    let (codes, mut set) = generate();
    let digest = digest_keys();
    let keys = RecoveryKeys {
        digest: &digest,
        peppers: &[],
    };
    let policy = RecoveryPolicy::default();
    let (mut rng, mut memory) = (getrandom::SysRng, HashMemory::new());
    let mut throttle = ThrottleState::default();
    let mut guard_check = |throttle: &ThrottleState, set: &RecoveryCodes, typed: &str| {
        guard
            .check_recovery_code(
                &mut memory,
                throttle,
                set,
                &policy,
                keys,
                alice(),
                &mut rng,
                typed,
                NOW,
            )
            .unwrap()
    };
    let wrong = guard_check(&throttle, &set, "0000-0000-0000-0000").unwrap();
    let outcome = guard
        .commit_recovery(&wrong, &mut throttle, &mut set, &policy, keys, alice(), NOW)
        .unwrap();
    assert!(
        matches!(outcome, Some(Outcome::Invalid { attempts_left: 9 })),
        "{outcome:?}"
    );
    assert_eq!(throttle.failures, 1);
    // Locked: the copy's throttle refuses, so nothing is hashed, and a
    // commit on the locked state refuses before comparing.
    let mut locked = ThrottleState::default();
    for _ in 0..100 {
        guard.throttle().record_failure(&mut locked, NOW);
    }
    let good = codes[0].to_text();
    assert!(guard_check(&locked, &set, &good).is_none());
    let made = guard_check(&ThrottleState::default(), &set, &good).unwrap();
    let refused = guard
        .commit_recovery(&made, &mut locked, &mut set, &policy, keys, alice(), NOW)
        .unwrap();
    assert!(
        matches!(refused, Some(Outcome::Locked { .. })),
        "{refused:?}"
    );
    assert_eq!(set.used, 0);
    // The right code on the unlocked state, once its wait after the
    // failure is over: accepted, the failure forgotten.
    let later = NOW + 3600;
    let accepted = guard
        .commit_recovery(
            &made,
            &mut throttle,
            &mut set,
            &policy,
            keys,
            alice(),
            later,
        )
        .unwrap();
    assert!(
        matches!(accepted, Some(Outcome::Accepted(_))),
        "{accepted:?}"
    );
    assert_eq!((set.used, throttle.failures), (1, 0));
}
