//! Out-of-band (SMS/email) codes: issue, verify, resend, every outcome and
//! its boundary, and the stored digest.
#![allow(clippy::unwrap_used)]

use core::convert::Infallible;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::{TryCryptoRng, TryRng};
use sha2::Sha256;
use twofa::{Binding, DigestKey, Error, OobChallenge, OobOutcome, OobPolicy};

const NOW: u64 = 1_700_000_000;

fn key() -> DigestKey {
    DigestKey::new(1, [7; 32])
}

/// The keys a verifier holds: here, the one issuing key.
fn keys() -> [DigestKey; 1] {
    [key()]
}

fn login() -> Binding<'static> {
    Binding::new("alice", "login")
}

/// A fixed sequence of 64-bit draws (for the rejection boundary), then
/// a counter.
struct Scripted(Vec<u64>, u64);

impl TryRng for Scripted {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(if self.0.is_empty() {
            self.1 += 1;
            self.1
        } else {
            self.0.remove(0)
        })
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(0xAB);
        Ok(())
    }
}

impl TryCryptoRng for Scripted {}

fn issue(policy: &OobPolicy) -> (String, OobChallenge) {
    let (code, challenge) = policy
        .issue(&key(), &mut getrandom::SysRng, login(), NOW)
        .unwrap();
    (code.to_string(), challenge)
}

/// Another code of the same length.
fn other(code: &str) -> String {
    let value: u64 = code.parse().unwrap();
    format!(
        "{:0width$}",
        (value + 1) % 10u64.pow(code.len() as u32),
        width = code.len()
    )
}

#[test]
fn a_code_is_accepted_once() {
    let (code, mut challenge) = issue(&OobPolicy::default());
    assert_eq!(code.len(), 6);
    assert_eq!(
        challenge.verify(&keys(), login(), &code, NOW + 10).unwrap(),
        OobOutcome::Accepted
    );
    assert_eq!(
        challenge.verify(&keys(), login(), &code, NOW + 11).unwrap(),
        OobOutcome::AlreadyUsed
    );
}

#[test]
fn wrong_codes_use_up_the_attempts() {
    let (code, mut challenge) = issue(&OobPolicy::default());
    let wrong = other(&code);
    for left in [2, 1, 0] {
        assert_eq!(
            challenge.verify(&keys(), login(), &wrong, NOW).unwrap(),
            OobOutcome::Invalid {
                attempts_left: left
            }
        );
    }
    // Spent: even the right code is refused now.
    assert_eq!(
        challenge.verify(&keys(), login(), &code, NOW).unwrap(),
        OobOutcome::AttemptsExhausted
    );
}

#[test]
fn a_code_expires_exactly_at_its_time() {
    let (code, challenge) = issue(&OobPolicy::default());
    assert_eq!(challenge.expires_at, NOW + 300);
    assert_eq!(
        challenge
            .clone()
            .verify(&keys(), login(), &code, NOW + 299)
            .unwrap(),
        OobOutcome::Accepted
    );
    assert_eq!(
        challenge
            .clone()
            .verify(&keys(), login(), &code, NOW + 300)
            .unwrap(),
        OobOutcome::Expired
    );
    assert_eq!(
        challenge
            .clone()
            .verify(&keys(), login(), &code, u64::MAX)
            .unwrap(),
        OobOutcome::Expired
    );
}

#[test]
fn a_code_is_bound_to_its_purpose_and_the_key() {
    let (code, challenge) = issue(&OobPolicy::default());
    assert_eq!(
        challenge
            .clone()
            .verify(&keys(), Binding::new("alice", "reset-password"), &code, NOW)
            .unwrap(),
        OobOutcome::Invalid { attempts_left: 2 }
    );
    assert_eq!(
        challenge
            .clone()
            .verify(&[DigestKey::new(1, [8; 32])], login(), &code, NOW)
            .unwrap(),
        OobOutcome::Invalid { attempts_left: 2 }
    );
    // "log" + "in" is not "login": the purpose is length-prefixed.
    assert_eq!(
        challenge
            .clone()
            .verify(&keys(), Binding::new("alice", "log"), &code, NOW)
            .unwrap(),
        OobOutcome::Invalid { attempts_left: 2 }
    );
}

#[test]
fn malformed_codes_are_not_counted() {
    let (_, mut challenge) = issue(&OobPolicy::default());
    for typed in ["", "12345", "1234567", "12a456"] {
        assert_eq!(
            challenge.verify(&keys(), login(), typed, NOW).unwrap(),
            OobOutcome::Malformed
        );
    }
    assert_eq!(challenge.attempts_left, 3);
}

#[test]
fn resending_replaces_the_code_and_keeps_the_attempts_left() {
    let policy = OobPolicy::default();
    let (old, mut challenge) = issue(&policy);
    assert_eq!(
        challenge
            .verify(&keys(), login(), &other(&old), NOW)
            .unwrap(),
        OobOutcome::Invalid { attempts_left: 2 }
    );
    let new = policy
        .resend(
            &key(),
            &mut getrandom::SysRng,
            &mut challenge,
            login(),
            NOW + 60,
        )
        .unwrap()
        .to_string();
    assert_eq!(challenge.attempts_left, 2, "resending buys no guesses");
    assert_eq!(challenge.expires_at, NOW + 360);
    if old != new {
        assert_eq!(
            challenge
                .clone()
                .verify(&keys(), login(), &old, NOW + 61)
                .unwrap(),
            OobOutcome::Invalid { attempts_left: 1 }
        );
    }
    assert_eq!(
        challenge.verify(&keys(), login(), &new, NOW + 61).unwrap(),
        OobOutcome::Accepted
    );
}

#[test]
fn the_record_holds_only_a_keyed_digest_of_the_code() {
    let policy = OobPolicy::new(8, 600, 5).unwrap();
    let (code, challenge) = issue(&policy);
    assert_eq!(code.len(), 8);
    assert_eq!(
        (challenge.digits, challenge.attempts_left, challenge.used),
        (8, 5, false)
    );
    // HMAC-SHA-256 under the key, computed here independently.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[7; 32]).unwrap();
    mac.update(b"twofa out-of-band code v2\0");
    mac.update(&5u64.to_be_bytes());
    mac.update(b"alice");
    mac.update(&5u64.to_be_bytes());
    mac.update(b"login");
    mac.update(&challenge.id);
    mac.update(&[8]);
    mac.update(&code.parse::<u64>().unwrap().to_be_bytes());
    assert_eq!(
        challenge.digest,
        <[u8; 32]>::from(mac.finalize().into_bytes())
    );
    let debug = format!("{challenge:?}");
    assert!(
        !debug.contains("digest") && !debug.contains(&code),
        "{debug}"
    );
    assert_eq!(format!("{:?}", key()), "DigestKey { id: 1, .. }");
}

#[test]
fn codes_are_uniform_without_modulo_bias() {
    // 2^64 mod 10^6 = 551616: draws below it are the biased ones and must
    // be drawn again. The first draw here is the last biased value, the
    // second the first unbiased one.
    assert_eq!((u128::from(u64::MAX) + 1) % 1_000_000, 551_616);
    let mut rng = Scripted(vec![551_615, 551_616], 0);
    let (code, _) = OobPolicy::default()
        .issue(&key(), &mut rng, login(), NOW)
        .unwrap();
    assert_eq!(code.to_string(), "551616");
    let mut rng = Scripted(vec![0, 999_999_999_999], 0);
    let (code, _) = OobPolicy::default()
        .issue(&key(), &mut rng, login(), NOW)
        .unwrap();
    assert_eq!(code.to_string(), "999999");
    // And over many codes, each leading digit comes about as often.
    let mut counts = [0u32; 10];
    for _ in 0..20_000 {
        let (code, _) = issue(&OobPolicy::default());
        counts[usize::from(code.as_bytes()[0] - b'0')] += 1;
    }
    for count in counts {
        assert!((1_700..=2_300).contains(&count), "{counts:?}");
    }
}

#[test]
fn policies_outside_nist_bounds_are_refused() {
    assert_eq!(OobPolicy::new(5, 300, 3), Err(Error::UnsupportedDigits));
    assert_eq!(OobPolicy::new(6, 0, 3), Err(Error::InvalidPolicy));
    assert_eq!(OobPolicy::new(6, 601, 3), Err(Error::InvalidPolicy));
    assert_eq!(OobPolicy::new(6, 300, 0), Err(Error::InvalidPolicy));
    assert_eq!(OobPolicy::new(6, 300, 11), Err(Error::InvalidPolicy));
    let policy = OobPolicy::new(10, OobPolicy::MAX_TTL, OobPolicy::MAX_ATTEMPTS).unwrap();
    assert_eq!(
        (policy.digits().get(), policy.ttl(), policy.max_attempts()),
        (10, 600, 10)
    );
    let key = DigestKey::generate(4, &mut getrandom::SysRng).unwrap();
    assert_eq!(key.id(), 4);
    assert_ne!(
        key.expose_bytes(),
        DigestKey::generate(4, &mut getrandom::SysRng)
            .unwrap()
            .expose_bytes()
    );
}

#[test]
fn a_code_is_bound_to_its_account() {
    let (code, challenge) = issue(&OobPolicy::default());
    for account in ["bob", "alic", "alicelogin", ""] {
        assert_eq!(
            challenge
                .clone()
                .verify(&keys(), Binding::new(account, "login"), &code, NOW)
                .unwrap(),
            OobOutcome::Invalid { attempts_left: 2 },
            "{account}"
        );
    }
    // "alice" + "login" is not "alicel" + "ogin": both are length-prefixed.
    assert_eq!(
        challenge
            .clone()
            .verify(&keys(), Binding::new("alicel", "ogin"), &code, NOW)
            .unwrap(),
        OobOutcome::Invalid { attempts_left: 2 }
    );
}

#[test]
fn a_spent_challenge_is_not_sent_again() {
    let policy = OobPolicy::default();
    let (code, mut challenge) = issue(&policy);
    for _ in 0..3 {
        let _ = challenge
            .verify(&keys(), login(), &other(&code), NOW)
            .unwrap();
    }
    let before = challenge.clone();
    assert_eq!(
        policy.resend(&key(), &mut getrandom::SysRng, &mut challenge, login(), NOW),
        Err(Error::ChallengeSpent)
    );
    assert_eq!(challenge, before);
    let (code, mut challenge) = issue(&policy);
    assert_eq!(
        challenge.verify(&keys(), login(), &code, NOW).unwrap(),
        OobOutcome::Accepted
    );
    assert_eq!(
        policy.resend(&key(), &mut getrandom::SysRng, &mut challenge, login(), NOW),
        Err(Error::ChallengeSpent)
    );
}

#[test]
fn challenges_issued_before_a_key_rotation_still_verify() {
    let policy = OobPolicy::default();
    let old = DigestKey::new(1, [7; 32]);
    let new = DigestKey::new(2, [9; 32]);
    let (old_code, mut old_challenge) = policy
        .issue(&old, &mut getrandom::SysRng, login(), NOW)
        .unwrap();
    let (new_code, mut new_challenge) = policy
        .issue(&new, &mut getrandom::SysRng, login(), NOW)
        .unwrap();
    assert_eq!((old_challenge.key_id, new_challenge.key_id), (1, 2));
    // The verifier holds both keys during the rotation.
    let both = [new.clone(), old.clone()];
    assert_eq!(
        old_challenge
            .clone()
            .verify(&both, login(), &old_code.to_string(), NOW)
            .unwrap(),
        OobOutcome::Accepted
    );
    // Once the old key is retired, its challenges are refused, unchanged.
    let before = old_challenge.clone();
    assert_eq!(
        old_challenge.verify(
            std::slice::from_ref(&new),
            login(),
            &old_code.to_string(),
            NOW
        ),
        Err(Error::UnknownKeyId)
    );
    assert_eq!(old_challenge, before);
    assert_eq!(
        new_challenge
            .verify(&[new], login(), &new_code.to_string(), NOW)
            .unwrap(),
        OobOutcome::Accepted
    );
}
