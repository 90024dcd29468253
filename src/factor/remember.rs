//! Remembered devices ("don't ask again on this browser"): a token that
//! skips the second factor, never the first, bound to the account and to a
//! credential version that the service bumps whenever the password or a
//! second factor changes, so that a change revokes every remembered device.

use core::fmt;

use hmac::Mac;
use rand_core::TryCryptoRng;

use super::{
    binding::Binding,
    digest_key::{DigestKey, digest_matches},
    token::Token,
};
use crate::error::Error;

/// How long a device is remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RememberPolicy {
    ttl: u64,
}

impl Default for RememberPolicy {
    fn default() -> Self {
        Self {
            ttl: Self::DEFAULT_TTL,
        }
    }
}

/// A remembered device as the service stores it: a keyed digest of its
/// token, bound to the account, the purpose and the credential version.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RememberedDevice {
    /// The token's public half.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub id: [u8; 16],
    /// The id of the [`DigestKey`] the digest was made under.
    pub key_id: u32,
    /// HMAC-SHA-256 of the token and everything it is bound to.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub digest: [u8; 32],
    /// The account's credential version when the device was remembered.
    pub credential_version: u64,
    /// Unix time of issue.
    pub issued_at: u64,
    /// Unix time from which the token is refused.
    pub expires_at: u64,
    /// Whether the token was used and replaced by a new one: presented
    /// again, it was copied ([`RememberRefusal::Rotated`]).
    pub rotated: bool,
}

/// Why a remembered-device token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RememberRefusal {
    /// Not this record's token, or not for this account and purpose.
    Invalid,
    /// The token's time is over.
    Expired,
    /// The password or a second factor changed since: every remembered
    /// device was revoked.
    Revoked,
    /// The token was already used and replaced by a new one: whoever
    /// presents it again holds a copy. Revoke every remembered device of
    /// the account ([`Guard::verify_remembered`](crate::Guard::verify_remembered)
    /// does).
    Rotated,
}

impl RememberPolicy {
    /// The default: 30 days.
    pub const DEFAULT_TTL: u64 = 30 * 86_400;
    /// The longest: a year.
    pub const MAX_TTL: u64 = 365 * 86_400;

    /// Devices remembered for `ttl` seconds (1 to
    /// [`RememberPolicy::MAX_TTL`]).
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`].
    pub fn new(ttl: u64) -> Result<Self, Error> {
        if ttl == 0 || ttl > Self::MAX_TTL {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self { ttl })
    }

    /// Remembers a device at `now`, after a completed login: the token is
    /// the device's cookie, the record goes with the account's state.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn issue<R: TryCryptoRng + ?Sized>(
        &self,
        key: &DigestKey,
        rng: &mut R,
        binding: Binding<'_>,
        credential_version: u64,
        now: u64,
    ) -> Result<(Token, RememberedDevice), Error> {
        self.issue_until(
            key,
            rng,
            binding,
            credential_version,
            now,
            now.saturating_add(self.ttl),
        )
    }

    /// As [`RememberPolicy::issue`], expiring at `expires_at` or at the
    /// policy's lifetime from `now`, whichever comes first: the token that
    /// replaces a rotated one keeps its expiry.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn issue_until<R: TryCryptoRng + ?Sized>(
        &self,
        key: &DigestKey,
        rng: &mut R,
        binding: Binding<'_>,
        credential_version: u64,
        now: u64,
        expires_at: u64,
    ) -> Result<(Token, RememberedDevice), Error> {
        let token = Token::generate(rng)?;
        let mut record = RememberedDevice {
            id: token.id(),
            key_id: key.id(),
            digest: [0; 32],
            credential_version,
            issued_at: now,
            expires_at: expires_at.min(now.saturating_add(self.ttl)),
            rotated: false,
        };
        record.digest = record
            .mac(key, binding, &token)
            .finalize()
            .into_bytes()
            .into();
        Ok((token, record))
    }

    /// How long a device is remembered, in seconds.
    #[must_use]
    pub fn ttl(&self) -> u64 {
        self.ttl
    }
}

impl RememberedDevice {
    /// Checks a device's token at `now` for `binding`'s account whose
    /// credential version is now `credential_version`. The digest is
    /// compared in constant time. A good token skips the second factor;
    /// the first must still be checked.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`]; otherwise the inner result says whether
    /// the token is good.
    pub fn check(
        &self,
        keys: &[DigestKey],
        binding: Binding<'_>,
        token: &Token,
        credential_version: u64,
        now: u64,
    ) -> Result<Result<(), RememberRefusal>, Error> {
        let key = DigestKey::find(keys, self.key_id)?;
        let genuine = digest_matches(self.mac(key, binding, token), &self.digest);
        // The record's own facts, decided whatever the token.
        let public = if credential_version != self.credential_version {
            Err(RememberRefusal::Revoked)
        } else if now >= self.expires_at {
            Err(RememberRefusal::Expired)
        } else if self.rotated {
            Err(RememberRefusal::Rotated)
        } else {
            Ok(())
        };
        Ok(if genuine {
            public
        } else {
            Err(RememberRefusal::Invalid)
        })
    }

    /// Marks the record's token as used and replaced, with its digest made
    /// anew over that mark (so that clearing the mark in the database
    /// makes the record refuse every token). `token` is the one just
    /// checked good.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`]; the record is unchanged.
    pub fn rotate(
        &mut self,
        keys: &[DigestKey],
        binding: Binding<'_>,
        token: &Token,
    ) -> Result<(), Error> {
        let key = DigestKey::find(keys, self.key_id)?;
        self.rotated = true;
        self.digest = self.mac(key, binding, token).finalize().into_bytes().into();
        Ok(())
    }

    /// Whether the record can no longer be used at `now` under
    /// `credential_version`, so it may be dropped (a rotated record is
    /// kept until then, to catch a copied token).
    #[must_use]
    pub fn is_over(&self, credential_version: u64, now: u64) -> bool {
        credential_version != self.credential_version || now >= self.expires_at
    }

    fn mac(
        &self,
        key: &DigestKey,
        binding: Binding<'_>,
        token: &Token,
    ) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = key.mac(b"twofa remembered device v2\0", binding);
        mac.update(token.expose_bytes());
        mac.update(&self.credential_version.to_be_bytes());
        mac.update(&self.issued_at.to_be_bytes());
        mac.update(&self.expires_at.to_be_bytes());
        mac.update(&[u8::from(self.rotated)]);
        mac
    }
}

impl fmt::Debug for RememberedDevice {
    /// Everything but the digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RememberedDevice")
            .field("key_id", &self.key_id)
            .field("credential_version", &self.credential_version)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("rotated", &self.rotated)
            .finish_non_exhaustive()
    }
}
