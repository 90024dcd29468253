//! What every racing process shares: the policies, the test-only keys and
//! secrets (never real ones), and the time the races happen at.

use ed25519_dalek::{Signer, SigningKey};
use twofa::{
    Binding, DigestKey, Guard, Hotp, Keyring, OobPolicy, RecoveryPolicy, SealingKey, SecondFactor,
    SecondFactors, Secret, ThrottlePolicy, TicketPolicy, Totp,
};

/// The time of every race: all processes decide at the same instant.
pub const NOW: u64 = 1_700_000_000;

/// The guard of every instance: no backoff between guesses (so that a
/// guessing attack runs at full speed) and the hard limit of 100
/// consecutive failures.
///
/// # Panics
/// Never: the policy is within bounds.
#[must_use]
pub fn guard() -> Guard {
    #[allow(clippy::unwrap_used, reason = "a policy within bounds")]
    Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(ThrottlePolicy::MAX_LOCKOUT_AFTER)
            .build()
            .unwrap(),
    )
}

/// RFC 6238's demo seed.
const SEED: &[u8] = b"12345678901234567890";

/// The account's TOTP.
///
/// # Errors
/// Never for this seed.
pub fn totp() -> Result<Totp, twofa::Error> {
    Ok(Totp::new(Secret::from_bytes(SEED)?))
}

/// The account's HOTP token.
///
/// # Errors
/// Never for this seed.
pub fn hotp() -> Result<Hotp, twofa::Error> {
    Ok(Hotp::new(Secret::from_bytes(SEED)?))
}

/// The service's digest key for tickets and out-of-band codes.
#[must_use]
pub fn digest_key() -> DigestKey {
    DigestKey::new(1, [3; 32])
}

/// The service's sealing keys.
#[must_use]
pub fn keyring() -> Keyring {
    Keyring::new(SealingKey::new(1, [4; 32]))
}

/// The account's binding for `purpose`.
#[must_use]
pub fn binding<'a>(account: &'a str, purpose: &'a str) -> Binding<'a> {
    Binding::new(account, purpose)
}

/// The pending logins' policy.
#[must_use]
pub fn ticket_policy() -> TicketPolicy {
    TicketPolicy::default()
}

/// Every second factor a pending login allows.
#[must_use]
pub fn allowed() -> SecondFactors {
    [
        SecondFactor::Totp,
        SecondFactor::OutOfBand,
        SecondFactor::Device,
        SecondFactor::Recovery,
        SecondFactor::Passkey,
    ]
    .into_iter()
    .collect()
}

/// Recovery codes at Argon2id's smallest allowed cost (7 MiB, 5 passes).
///
/// # Panics
/// Never: the policy is within bounds.
#[must_use]
pub fn recovery_policy() -> RecoveryPolicy {
    #[allow(clippy::unwrap_used, reason = "a policy within bounds")]
    RecoveryPolicy::new(8, RecoveryPolicy::MIN_MEMORY_KIB, 5).unwrap()
}

/// The keys recovery codes are made and checked with: `digest`, no pepper.
#[must_use]
pub fn recovery_keys(digest: &[DigestKey]) -> twofa::RecoveryKeys<'_> {
    twofa::RecoveryKeys {
        digest,
        peppers: &[],
    }
}

/// The out-of-band codes' policy.
#[must_use]
pub fn oob_policy() -> OobPolicy {
    OobPolicy::default()
}

/// The registered phone's key.
#[must_use]
pub fn phone() -> SigningKey {
    SigningKey::from_bytes(&[5; 32])
}

/// The phone's signature over `message`.
#[must_use]
pub fn sign(message: &[u8]) -> Vec<u8> {
    phone().sign(message).to_bytes().to_vec()
}
