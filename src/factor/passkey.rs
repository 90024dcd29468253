//! Passkeys and security keys as an account keeps them: the credential a
//! WebAuthn registration proved, with a keyed digest that binds it to the
//! account, and the challenges of the ceremonies that use it.
//!
//! Two kinds of challenge:
//! - a [`PasskeyChallenge`], kept in the account's state: for registering
//!   a credential, and for a passkey used as the second factor of a
//!   pending login (it lives in that login);
//! - a sign-in challenge, for a passkey sign-in where the account is not
//!   known until the credential is (a discoverable credential, no name
//!   typed). It is a sealed value the service keeps nowhere: 16 random
//!   bytes, the time it was issued and a keyed digest. Single use is then
//!   enforced in the account's state once the account is known
//!   ([`SignInsUsed`]), in the same compare-and-swap as the sign-in.

use alloc::{string::String, vec::Vec};
use core::fmt;

use hmac::Mac;
use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;

use super::{
    binding::Binding,
    digest_key::{DigestKey, digest_matches},
    webauthn::{CoseAlgorithm, CredentialRecord, Registered, UserVerification},
};
use crate::error::Error;

/// The purpose a passkey's keyed digest is bound to, with its account.
const PURPOSE: &str = "passkey";

/// How passkey ceremonies are timed and how many passkeys an account keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PasskeyPolicy {
    challenge_ttl: u64,
    max_passkeys: usize,
}

impl Default for PasskeyPolicy {
    fn default() -> Self {
        Self {
            challenge_ttl: Self::DEFAULT_CHALLENGE_TTL,
            max_passkeys: Self::DEFAULT_MAX_PASSKEYS,
        }
    }
}

impl PasskeyPolicy {
    /// The default life of a challenge: 5 minutes, the timeout browsers
    /// are given (WebAuthn recommends 5 to 10 minutes).
    pub const DEFAULT_CHALLENGE_TTL: u64 = 300;
    /// The longest life of a challenge: 10 minutes.
    pub const MAX_CHALLENGE_TTL: u64 = 600;
    /// The default limit of passkeys per account.
    pub const DEFAULT_MAX_PASSKEYS: usize = 10;
    /// The largest limit of passkeys per account.
    pub const MAX_PASSKEYS: usize = 20;
    /// The length of a sign-in challenge: a version byte, the key id (4),
    /// the time of issue (8), 16 random bytes and a 16-byte keyed digest.
    pub const SIGN_IN_CHALLENGE_LEN: usize = 45;

    /// Challenges that last `challenge_ttl` seconds (1 to
    /// [`PasskeyPolicy::MAX_CHALLENGE_TTL`]) and at most `max_passkeys` per
    /// account (1 to [`PasskeyPolicy::MAX_PASSKEYS`]).
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`].
    pub fn new(challenge_ttl: u64, max_passkeys: usize) -> Result<Self, Error> {
        if !(1..=Self::MAX_CHALLENGE_TTL).contains(&challenge_ttl)
            || !(1..=Self::MAX_PASSKEYS).contains(&max_passkeys)
        {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self {
            challenge_ttl,
            max_passkeys,
        })
    }

    /// How long a challenge lasts, in seconds (the `timeout` to give the
    /// browser, in milliseconds, is this times 1000).
    #[must_use]
    pub fn challenge_ttl(&self) -> u64 {
        self.challenge_ttl
    }

    /// The limit of passkeys per account.
    #[must_use]
    pub fn max_passkeys(&self) -> usize {
        self.max_passkeys
    }

    /// A challenge to keep in the account's state, at `now`.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn challenge<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        user_verification: UserVerification,
        now: u64,
    ) -> Result<PasskeyChallenge, Error> {
        let mut challenge = [0; 32];
        rng.try_fill_bytes(&mut challenge)
            .map_err(|_| Error::RngFailure)?;
        Ok(PasskeyChallenge {
            challenge,
            user_verification,
            expires_at: now.saturating_add(self.challenge_ttl),
            used: false,
        })
    }

    /// A sign-in challenge at `now`, sealed under `key`: the service sends
    /// it and keeps nothing.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn sign_in_challenge<R: TryCryptoRng + ?Sized>(
        &self,
        key: &DigestKey,
        rng: &mut R,
        now: u64,
    ) -> Result<[u8; Self::SIGN_IN_CHALLENGE_LEN], Error> {
        let mut nonce = [0; 16];
        rng.try_fill_bytes(&mut nonce)
            .map_err(|_| Error::RngFailure)?;
        let mut out = [0; Self::SIGN_IN_CHALLENGE_LEN];
        let (head, tag) = out.split_at_mut(29);
        head.iter_mut()
            .zip(
                [SIGN_IN_VERSION]
                    .iter()
                    .chain(&key.id().to_be_bytes())
                    .chain(&now.to_be_bytes())
                    .chain(&nonce),
            )
            .for_each(|(to, from)| *to = *from);
        let digest = sign_in_tag(key, head);
        tag.copy_from_slice(digest.get(..16).unwrap_or_default());
        Ok(out)
    }

    /// Opens a sign-in challenge made by [`PasskeyPolicy::sign_in_challenge`]
    /// under one of `keys`: its nonce and time of issue if it is genuine
    /// and not expired at `now`; `None` otherwise (made up, altered, under
    /// a retired key, or too old).
    #[must_use]
    pub fn open_sign_in_challenge(
        &self,
        keys: &[DigestKey],
        challenge: &[u8],
        now: u64,
    ) -> Option<SignIn> {
        if challenge.len() != Self::SIGN_IN_CHALLENGE_LEN {
            return None;
        }
        let (head, tag) = challenge.split_at(29);
        let (&version, rest) = head.split_first()?;
        let (key_id, rest) = rest.split_at(4);
        let (issued_at, nonce) = rest.split_at(8);
        let key_id = u32::from_be_bytes(key_id.try_into().ok()?);
        let key = DigestKey::find(keys, key_id).ok()?;
        let expected = sign_in_tag(key, head);
        let genuine = expected.get(..16)?.ct_eq(tag);
        if version != SIGN_IN_VERSION || !bool::from(genuine) {
            return None;
        }
        let issued_at = u64::from_be_bytes(issued_at.try_into().ok()?);
        if now < issued_at || now >= issued_at.saturating_add(self.challenge_ttl) {
            return None;
        }
        Some(SignIn {
            nonce: nonce.try_into().ok()?,
            issued_at,
        })
    }
}

const SIGN_IN_VERSION: u8 = 1;

fn sign_in_tag(key: &DigestKey, head: &[u8]) -> [u8; 32] {
    let mut mac = key.mac(
        b"twofa passkey sign-in v1\0",
        Binding::new("", "passkey sign-in"),
    );
    mac.update(head);
    mac.finalize().into_bytes().into()
}

/// A genuine, unexpired sign-in challenge, opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct SignIn {
    /// Its random part, which identifies it.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub nonce: [u8; 16],
    /// Unix time it was issued.
    pub issued_at: u64,
}

/// The sign-in challenges an account has accepted, so that each is
/// accepted once: the newest few, and a floor at or below which every
/// challenge is refused (raised as old ones are dropped).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct SignInsUsed {
    /// Challenges issued at or before this time are refused.
    pub floor: u64,
    /// The accepted challenges issued after the floor, at most
    /// [`SignInsUsed::MAX`].
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::bounded::at_most::<_, _, { SignInsUsed::MAX }>")
    )]
    pub recent: Vec<SignIn>,
}

impl SignInsUsed {
    /// How many accepted challenges are kept above the floor.
    pub const MAX: usize = 8;

    /// Whether `sign_in` was already accepted (or is below the floor).
    #[must_use]
    pub fn is_used(&self, sign_in: &SignIn) -> bool {
        sign_in.issued_at <= self.floor || self.recent.iter().any(|s| s.nonce == sign_in.nonce)
    }

    /// Records `sign_in` as accepted; past the limit the oldest goes, and
    /// the floor rises to its time of issue.
    pub fn record(&mut self, sign_in: SignIn) {
        self.recent.push(sign_in);
        while self.recent.len() > Self::MAX {
            let oldest = self
                .recent
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.issued_at)
                .map(|(i, _)| i)
                .unwrap_or_default();
            let dropped = self.recent.remove(oldest);
            self.floor = self.floor.max(dropped.issued_at);
        }
        let floor = self.floor;
        self.recent.retain(|s| s.issued_at > floor);
    }
}

/// A challenge kept in the account's state while the browser answers.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct PasskeyChallenge {
    /// 256 random bits, sent as the ceremony's `challenge`.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub challenge: [u8; 32],
    /// Whether the ceremony requires user verification.
    pub user_verification: UserVerification,
    /// Unix time from which it is refused.
    pub expires_at: u64,
    /// Whether it was answered (it is answered once).
    pub used: bool,
}

impl fmt::Debug for PasskeyChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasskeyChallenge")
            .field("expires_at", &self.expires_at)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl PasskeyChallenge {
    /// Whether it can still be answered at `now`.
    #[must_use]
    pub fn is_live(&self, now: u64) -> bool {
        !self.used && now < self.expires_at
    }
}

/// The transports an authenticator said it can be reached by
/// (`getTransports()`), kept to fill `allowCredentials` hints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Transports(u8);

impl Transports {
    const NAMES: [&'static str; 6] = ["usb", "nfc", "ble", "smart-card", "hybrid", "internal"];

    /// The transports named in `names`; unknown names are ignored, as
    /// WebAuthn asks.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self(names.into_iter().fold(0, |bits, name| {
            Self::NAMES
                .iter()
                .position(|known| *known == name)
                .map_or(bits, |i| bits | 1 << i)
        }))
    }

    /// The names of the transports, in a fixed order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, name)| *name)
    }
}

/// A passkey or security key registered to an account: what the verifier
/// keeps.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Passkey {
    /// The credential id (1 to 1,023 bytes), as the authenticator made it.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::vec"))]
    pub id: Vec<u8>,
    /// The credential public key, as a COSE_Key.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::vec"))]
    pub public_key: Vec<u8>,
    /// The key's algorithm.
    pub algorithm: CoseAlgorithm,
    /// The signature counter after the last use.
    pub sign_count: u32,
    /// Whether it may be synced to other devices (BE).
    pub backup_eligible: bool,
    /// Whether it was synced when last used (BS).
    pub backed_up: bool,
    /// Whether the person was verified at registration (UV).
    pub user_verified: bool,
    /// The transports the browser reported.
    pub transports: Transports,
    /// The authenticator model's AAGUID (all zero when not disclosed).
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub aaguid: [u8; 16],
    /// The name the person gave it (at most [`Passkey::MAX_NAME_LEN`] bytes).
    pub name: String,
    /// Unix time of registration.
    pub created_at: u64,
    /// Unix time of the last login it completed.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub last_used: Option<u64>,
    /// The id of the [`DigestKey`] the digest was made under.
    pub key_id: u32,
    /// HMAC-SHA-256 under that key of the id, public key, algorithm, UV at
    /// registration, time of registration, counter and backup flags, bound
    /// to the account: made again after every use.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub mac: [u8; 32],
}

impl fmt::Debug for Passkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passkey")
            .field("algorithm", &self.algorithm)
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .field("last_used", &self.last_used)
            .finish_non_exhaustive()
    }
}

impl Passkey {
    /// The passkey as events name it.
    #[must_use]
    pub fn authenticator(&self) -> crate::account::Authenticator {
        use crate::account::{Authenticator, Tag};
        Authenticator::Passkey {
            id: Tag::of_credential_id(&self.id),
            aaguid: Tag(self.aaguid),
            backup_eligible: self.backup_eligible,
            user_verified: self.user_verified,
        }
    }

    /// The longest name kept, in bytes.
    pub const MAX_NAME_LEN: usize = 64;

    /// The credential `registered` proved, named `name` (cut to
    /// [`Passkey::MAX_NAME_LEN`] bytes at a character boundary), with a
    /// keyed digest under `key` that binds it to `account`.
    #[must_use]
    pub fn new(
        registered: &Registered<'_>,
        transports: Transports,
        name: &str,
        key: &DigestKey,
        account: &str,
        now: u64,
    ) -> Self {
        let mut passkey = Self {
            id: registered.credential_id.to_vec(),
            public_key: registered.public_key.to_vec(),
            algorithm: registered.algorithm,
            sign_count: registered.sign_count,
            backup_eligible: registered.backup_eligible,
            backed_up: registered.backed_up,
            user_verified: registered.user_verified,
            transports,
            aaguid: registered.aaguid,
            name: String::new(),
            created_at: now,
            last_used: None,
            key_id: key.id(),
            mac: [0; 32],
        };
        passkey.rename(name);
        passkey.seal(key, account);
        passkey
    }

    /// Makes its keyed digest again under `key` (after a use changed its
    /// counter or backup flags).
    pub fn seal(&mut self, key: &DigestKey, account: &str) {
        self.key_id = key.id();
        self.mac = self.keyed(key, account).finalize().into_bytes().into();
    }

    /// Renames it (cut to [`Passkey::MAX_NAME_LEN`] bytes at a character
    /// boundary; control characters and the invisible ones that reorder or
    /// hide text, such as U+202E, dropped).
    pub fn rename(&mut self, name: &str) {
        let shown = |c: &char| {
            !c.is_control()
                && !matches!(c, '\u{ad}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{180e}'
                    | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}'
                    | '\u{feff}' | '\u{ffa0}' | '\u{e0000}'..='\u{e007f}')
        };
        self.name.clear();
        for c in name.chars().filter(shown) {
            if self.name.len() + c.len_utf8() > Self::MAX_NAME_LEN {
                break;
            }
            self.name.push(c);
        }
    }

    /// Whether it is one the service registered for `account`: its keyed
    /// digest matches under the digest key it names.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] when that key is not among `keys`.
    pub fn is_genuine(&self, keys: &[DigestKey], account: &str) -> Result<bool, Error> {
        let key = DigestKey::find(keys, self.key_id)?;
        Ok(digest_matches(self.keyed(key, account), &self.mac))
    }

    /// What an assertion is checked against.
    #[must_use]
    pub fn record(&self) -> CredentialRecord<'_> {
        CredentialRecord {
            public_key: &self.public_key,
            sign_count: self.sign_count,
            backup_eligible: self.backup_eligible,
        }
    }

    fn keyed(&self, key: &DigestKey, account: &str) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = key.mac(b"twofa passkey v1\0", Binding::new(account, PURPOSE));
        for part in [&self.id[..], &self.public_key] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(&self.algorithm.identifier().to_be_bytes());
        mac.update(&[
            u8::from(self.user_verified),
            u8::from(self.backup_eligible),
            u8::from(self.backed_up),
        ]);
        mac.update(&self.sign_count.to_be_bytes());
        mac.update(&self.created_at.to_be_bytes());
        mac.update(&self.key_id.to_be_bytes());
        mac
    }
}
