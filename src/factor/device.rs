//! Registered devices: a phone or security key that proves possession of
//! a private key held in its secure hardware. The verifier keeps only the
//! public key. Every login sends a fresh challenge that the device signs
//! together with the two-digit number the login screen shows (number
//! matching: approve-only is not offered) and, optionally, the transaction
//! the person approves.
//!
//! Signed messages, each with its own domain label, every variable part
//! length-prefixed (a `u64` big-endian length before it), so that a
//! signature over one kind of message never verifies as another:
//!
//! ```text
//! registration: "twofa device registration v1\0" | account | nonce (32) | algorithm (1) | public key
//! login:        "twofa device login v1\0" | account | device id (16) | nonce (32)
//!               | ticket id (16) | number (1) | SHA-256 of the transaction text
//! ```
//!
//! Each registered device carries a keyed digest under the service's
//! [`DigestKey`], bound to the account (purpose `"device"`), over its id,
//! algorithm, public key and time of registration: a device written into
//! the database by someone without the key (their own public key, or
//! another account's device copied over) is refused before any signature
//! is checked. Revoking a device wipes its digest, so setting `revoked`
//! back does not bring it back.

use alloc::vec::Vec;
use core::fmt;

use hmac::Mac;
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{
    binding::Binding,
    digest_key::{DigestKey, digest_matches},
};
use crate::{error::Error, otp::random};

/// The purpose a device's keyed digest is bound to, with its account.
const PURPOSE: &str = "device";

/// The signature algorithms a device may hold its key in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub enum DeviceAlgorithm {
    /// ECDSA on P-256 with SHA-256: the only algorithm Apple's Secure
    /// Enclave holds, and what most Android keystores offer. Public key in
    /// SEC1 form (33 or 65 bytes); signature as 64 bytes (`r || s`) or DER.
    EcdsaP256,
    /// Ed25519: public key 32 bytes, signature 64 bytes.
    Ed25519,
}

impl DeviceAlgorithm {
    fn code(self) -> u8 {
        match self {
            Self::EcdsaP256 => 1,
            Self::Ed25519 => 2,
        }
    }
}

/// How devices are registered and challenged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DevicePolicy {
    challenge_ttl: u64,
    max_devices: usize,
}

impl Default for DevicePolicy {
    fn default() -> Self {
        Self {
            challenge_ttl: Self::MAX_CHALLENGE_TTL,
            max_devices: Self::DEFAULT_MAX_DEVICES,
        }
    }
}

/// A device registered to an account: what the verifier keeps.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Device {
    /// A random id, also bound into every signed login.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub id: [u8; 16],
    /// The key's algorithm.
    pub algorithm: DeviceAlgorithm,
    /// The public key (SEC1 for P-256, 32 bytes for Ed25519).
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::vec"))]
    pub public_key: Vec<u8>,
    /// Unix time of registration.
    pub registered_at: u64,
    /// Unix time of the last login it completed.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub last_used: Option<u64>,
    /// Revoked devices are kept (to show in a list) but never accepted.
    pub revoked: bool,
    /// The id of the [`DigestKey`] the device's digest was made under.
    pub key_id: u32,
    /// HMAC-SHA-256 under that key of the id, algorithm, public key and
    /// time of registration, bound to the account; all zeros once revoked.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub mac: [u8; 32],
}

/// A challenge to register a device, as the service stores it while the
/// device answers.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RegistrationChallenge {
    /// 256 random bits, for the device to sign.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub nonce: [u8; 32],
    /// Unix time from which it is refused.
    pub expires_at: u64,
    /// Whether it was answered (it is answered once).
    pub used: bool,
}

/// What is sent to the device for a login: everything it signs except the
/// number, which the person reads on the login screen and enters on the
/// device. Never send the [`DeviceChallenge`] itself: it holds the number.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DevicePrompt {
    /// 256 random bits.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub nonce: [u8; 32],
    /// The device it is for.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub device_id: [u8; 16],
    /// The pending login it completes.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub ticket_id: [u8; 16],
    /// SHA-256 of the transaction text the person approves (show the text
    /// itself beside it on the device).
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub transaction: [u8; 32],
}

/// A login challenge for one device, as the service stores it while the
/// device answers.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct DeviceChallenge {
    /// 256 random bits.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub nonce: [u8; 32],
    /// The device it was sent to.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub device_id: [u8; 16],
    /// The pending login it completes.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub ticket_id: [u8; 16],
    /// The number the login screen shows, 10 to 99, entered on the device.
    pub number: u8,
    /// SHA-256 of the transaction text the person approves (of the empty
    /// text for a plain login).
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub transaction: [u8; 32],
    /// Unix time from which it is refused.
    pub expires_at: u64,
    /// Whether it was answered correctly (it is answered once).
    pub used: bool,
}

/// The answer to a device's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum DeviceOutcome {
    /// The signature is the device's, over this challenge and number.
    Accepted,
    /// Not a valid signature over this challenge, number, account, device
    /// and transaction (a wrong number entered, or not the device).
    Invalid,
    /// The challenge's time is over, or it was already answered: send a
    /// new one.
    Expired,
    /// The device was revoked, or is not the one challenged.
    Revoked,
    /// The stored device is not one the service registered for this
    /// account (its keyed digest does not match): nothing was checked.
    /// Refuse it like a wrong answer.
    Forged,
}

impl DevicePolicy {
    /// The longest life of a challenge: 2 minutes.
    pub const MAX_CHALLENGE_TTL: u64 = 120;
    /// The default device limit per account: 5.
    pub const DEFAULT_MAX_DEVICES: usize = 5;
    /// The largest device limit per account: 20.
    pub const MAX_DEVICES: usize = 20;

    /// Challenges that last `challenge_ttl` seconds (1 to
    /// [`DevicePolicy::MAX_CHALLENGE_TTL`]), and at most `max_devices`
    /// active devices per account (1 to [`DevicePolicy::MAX_DEVICES`]).
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`].
    pub fn new(challenge_ttl: u64, max_devices: usize) -> Result<Self, Error> {
        if challenge_ttl == 0
            || challenge_ttl > Self::MAX_CHALLENGE_TTL
            || max_devices == 0
            || max_devices > Self::MAX_DEVICES
        {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self {
            challenge_ttl,
            max_devices,
        })
    }

    /// The device limit per account.
    #[must_use]
    pub fn max_devices(&self) -> usize {
        self.max_devices
    }

    /// A challenge for a device to register with, at `now`.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn registration_challenge<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        now: u64,
    ) -> Result<RegistrationChallenge, Error> {
        let mut nonce = [0; 32];
        rng.try_fill_bytes(&mut nonce)
            .map_err(|_| Error::RngFailure)?;
        Ok(RegistrationChallenge {
            nonce,
            expires_at: now.saturating_add(self.challenge_ttl),
            used: false,
        })
    }

    /// A login challenge for `device` at `now`, for the pending login
    /// `ticket_id` and the `transaction` the person approves (empty for a
    /// plain login). The challenge's number goes on the login screen; its
    /// [`DeviceChallenge::prompt`] goes to the device.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn login_challenge<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        device: &Device,
        ticket_id: [u8; 16],
        transaction: &str,
        now: u64,
    ) -> Result<DeviceChallenge, Error> {
        let mut nonce = [0; 32];
        rng.try_fill_bytes(&mut nonce)
            .map_err(|_| Error::RngFailure)?;
        // 10 to 99: two digits, never a leading zero to drop.
        let number = 10 + random::below(rng, 90)? as u8;
        Ok(DeviceChallenge {
            nonce,
            device_id: device.id,
            ticket_id,
            number,
            transaction: Sha256::digest(transaction.as_bytes()).into(),
            expires_at: now.saturating_add(self.challenge_ttl),
            used: false,
        })
    }
}

impl RegistrationChallenge {
    /// What the device signs to register `public_key` for `account`.
    #[must_use]
    pub fn message(&self, account: &str, algorithm: DeviceAlgorithm, public_key: &[u8]) -> Vec<u8> {
        let mut message = Vec::new();
        message.extend_from_slice(b"twofa device registration v1\0");
        push_prefixed(&mut message, account.as_bytes());
        message.extend_from_slice(&self.nonce);
        message.push(algorithm.code());
        push_prefixed(&mut message, public_key);
        message
    }

    /// Checks a device's answer at `now` and returns the device to store:
    /// its public key, proven by a signature over this challenge, and a
    /// keyed digest under `key` that binds it to `account`. The challenge
    /// is used once, whatever the answer.
    ///
    /// # Errors
    /// [`Error::ChallengeSpent`] when already answered or expired (nothing
    /// checked), or [`Error::InvalidDeviceKey`] when the key is malformed
    /// or the signature does not verify.
    #[allow(clippy::too_many_arguments)]
    pub fn register<R: TryCryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        key: &DigestKey,
        account: &str,
        algorithm: DeviceAlgorithm,
        public_key: &[u8],
        signature: &[u8],
        now: u64,
    ) -> Result<Device, Error> {
        if self.used || now >= self.expires_at {
            return Err(Error::ChallengeSpent);
        }
        self.used = true;
        let message = self.message(account, algorithm, public_key);
        if !verify_signature(algorithm, public_key, &message, signature) {
            return Err(Error::InvalidDeviceKey);
        }
        let mut id = [0; 16];
        rng.try_fill_bytes(&mut id).map_err(|_| Error::RngFailure)?;
        let mut device = Device {
            id,
            algorithm,
            public_key: public_key.to_vec(),
            registered_at: now,
            last_used: None,
            revoked: false,
            key_id: key.id(),
            mac: [0; 32],
        };
        device.mac = device.keyed(key, account).finalize().into_bytes().into();
        Ok(device)
    }
}

impl Device {
    /// Whether the device is one the service registered for `account`:
    /// its keyed digest matches, under the digest key it names, and it
    /// was not revoked (revoking wipes the digest).
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] when that key is not among `keys`.
    pub fn is_genuine(&self, keys: &[DigestKey], account: &str) -> Result<bool, Error> {
        let key = DigestKey::find(keys, self.key_id)?;
        Ok(digest_matches(self.keyed(key, account), &self.mac))
    }

    /// How far, in seconds, the time a device puts in a signed request
    /// may be from the verifier's clock: 60 s either way.
    pub const REQUEST_WINDOW: u64 = 60;

    /// What device `device_id` of `account` signs to ask, at Unix time
    /// `at`, for the prompt of a login waiting on it: its own proof, in
    /// place of a key shared by every client.
    #[must_use]
    pub fn prompt_request_message(account: &str, device_id: &[u8; 16], at: u64) -> Vec<u8> {
        let mut message = Vec::new();
        message.extend_from_slice(b"twofa device prompt request v1\0");
        push_prefixed(&mut message, account.as_bytes());
        message.extend_from_slice(device_id);
        message.extend_from_slice(&at.to_be_bytes());
        message
    }

    /// Whether `signature` is this device's, over its request for a
    /// prompt at `at` ([`Device::prompt_request_message`]) for `account`:
    /// the device not revoked, its keyed digest genuine under `keys`, and
    /// `at` within [`Device::REQUEST_WINDOW`] of `now`. A request seen
    /// once can be sent again within that window; it asks only for a
    /// prompt, which holds nothing that completes a login.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] when the device's digest key is not among
    /// `keys`.
    pub fn verify_prompt_request(
        &self,
        keys: &[DigestKey],
        account: &str,
        at: u64,
        signature: &[u8],
        now: u64,
    ) -> Result<bool, Error> {
        if self.revoked || at.abs_diff(now) > Self::REQUEST_WINDOW {
            return Ok(false);
        }
        if !self.is_genuine(keys, account)? {
            return Ok(false);
        }
        let message = Self::prompt_request_message(account, &self.id, at);
        Ok(verify_signature(
            self.algorithm,
            &self.public_key,
            &message,
            signature,
        ))
    }

    /// Revokes the device: it is kept to be listed, and its digest is
    /// wiped, so it is never accepted again, even with `revoked` set back.
    pub fn revoke(&mut self) {
        self.revoked = true;
        self.mac = [0; 32];
    }

    /// The keyed digest of what the device is, bound to `account`.
    fn keyed(&self, key: &DigestKey, account: &str) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = key.mac(b"twofa device v1\0", Binding::new(account, PURPOSE));
        mac.update(&self.id);
        mac.update(&[self.algorithm.code()]);
        mac.update(&(self.public_key.len() as u64).to_be_bytes());
        mac.update(&self.public_key);
        mac.update(&self.registered_at.to_be_bytes());
        mac.update(&self.key_id.to_be_bytes());
        mac
    }
}

impl DevicePrompt {
    /// What the device signs, with the `number` the person entered on it.
    #[must_use]
    pub fn message(&self, account: &str, number: u8) -> Vec<u8> {
        let mut message = Vec::new();
        message.extend_from_slice(b"twofa device login v1\0");
        push_prefixed(&mut message, account.as_bytes());
        message.extend_from_slice(&self.device_id);
        message.extend_from_slice(&self.nonce);
        message.extend_from_slice(&self.ticket_id);
        message.push(number);
        message.extend_from_slice(&self.transaction);
        message
    }
}

impl DeviceChallenge {
    /// What to send to the device: the challenge without its number.
    #[must_use]
    pub fn prompt(&self) -> DevicePrompt {
        DevicePrompt {
            nonce: self.nonce,
            device_id: self.device_id,
            ticket_id: self.ticket_id,
            transaction: self.transaction,
        }
    }

    /// Checks `device`'s signature at `now`, for `account` and the pending
    /// login `ticket_id` being completed, over this challenge with the
    /// number the login screen showed. Any answer that is checked uses the
    /// challenge up: a wrong number cannot be tried again on it. A wrong
    /// signature counts against the account (through
    /// [`Guard::complete_login_with_device`](crate::Guard::complete_login_with_device)).
    /// A device whose keyed digest does not match under `keys` is
    /// [`DeviceOutcome::Forged`], with no signature checked (and the
    /// challenge used up).
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] when the device's digest key is not among
    /// `keys`; the challenge is unchanged.
    #[allow(clippy::too_many_arguments)]
    pub fn verify(
        &mut self,
        device: &Device,
        keys: &[DigestKey],
        account: &str,
        ticket_id: &[u8; 16],
        signature: &[u8],
        now: u64,
    ) -> Result<DeviceOutcome, Error> {
        if self.used || now >= self.expires_at {
            return Ok(DeviceOutcome::Expired);
        }
        if device.revoked || !bool::from(device.id.ct_eq(&self.device_id)) {
            return Ok(DeviceOutcome::Revoked);
        }
        let genuine = device.is_genuine(keys, account)?;
        self.used = true;
        if !genuine {
            return Ok(DeviceOutcome::Forged);
        }
        // An approval given for one pending login completes no other.
        let same_login = bool::from(self.ticket_id.ct_eq(ticket_id));
        let message = self.prompt().message(account, self.number);
        let valid = verify_signature(device.algorithm, &device.public_key, &message, signature);
        Ok(if valid && same_login {
            DeviceOutcome::Accepted
        } else {
            DeviceOutcome::Invalid
        })
    }
}

/// Whether `signature` is `public_key`'s over `message`. Everything here
/// is public (the key, the message, the signature); malformed keys and
/// signatures are simply not valid.
fn verify_signature(
    algorithm: DeviceAlgorithm,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    match algorithm {
        DeviceAlgorithm::EcdsaP256 => {
            use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};
            let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
                return false;
            };
            let signature =
                Signature::from_slice(signature).or_else(|_| Signature::from_der(signature));
            signature.is_ok_and(|signature| key.verify(message, &signature).is_ok())
        }
        DeviceAlgorithm::Ed25519 => {
            use ed25519_dalek::{Signature, VerifyingKey};
            let Ok(key) = <&[u8; 32]>::try_from(public_key) else {
                return false;
            };
            let Ok(key) = VerifyingKey::from_bytes(key) else {
                return false;
            };
            let Ok(signature) = Signature::from_slice(signature) else {
                return false;
            };
            key.verify_strict(message, &signature).is_ok()
        }
    }
}

/// Appends `part` after its length.
fn push_prefixed(message: &mut Vec<u8>, part: &[u8]) {
    message.extend_from_slice(&(part.len() as u64).to_be_bytes());
    message.extend_from_slice(part);
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("algorithm", &self.algorithm)
            .field("registered_at", &self.registered_at)
            .field("last_used", &self.last_used)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for RegistrationChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationChallenge")
            .field("expires_at", &self.expires_at)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for DevicePrompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevicePrompt").finish_non_exhaustive()
    }
}

impl fmt::Debug for DeviceChallenge {
    /// Never the number or the nonce.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceChallenge")
            .field("expires_at", &self.expires_at)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}
