//! Pending-login tickets: what a service hands out when the first factor
//! succeeds (the `register_token` of a two-step login) and takes back with
//! the second. Random, short-lived, bound to the account and to what the
//! first step decided, stored only as a keyed digest, and spent once.

use core::fmt;

use hmac::Mac;
use rand_core::TryCryptoRng;

#[cfg(feature = "device")]
use super::device::DeviceChallenge;
#[cfg(all(feature = "webauthn", feature = "alloc"))]
use super::passkey::PasskeyChallenge;
use super::{
    binding::Binding,
    digest_key::{DigestKey, digest_matches},
    oob::OobChallenge,
    token::Token,
};
use crate::error::Error;

/// The first factor a pending login passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub enum FirstFactor {
    /// A password.
    Password,
    /// A PIN (an MPIN login).
    Pin,
}

/// A second factor a pending login may be completed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub enum SecondFactor {
    /// A TOTP code from an authenticator app.
    Totp,
    /// An HOTP code from a token.
    Hotp,
    /// A code sent by SMS or email.
    OutOfBand,
    /// A registered device's signature.
    Device,
    /// A recovery code.
    Recovery,
    /// A remembered device's token, in place of the second factor.
    RememberedDevice,
    /// A passkey or security key (WebAuthn): the one phishing-resistant
    /// second factor.
    Passkey,
}

impl SecondFactor {
    fn bit(self) -> u8 {
        match self {
            Self::Totp => 1,
            Self::Hotp => 2,
            Self::OutOfBand => 4,
            Self::Device => 8,
            Self::Recovery => 16,
            Self::RememberedDevice => 32,
            Self::Passkey => 64,
        }
    }
}

impl FirstFactor {
    fn code(self) -> u8 {
        match self {
            Self::Password => 1,
            Self::Pin => 2,
        }
    }
}

/// A set of second factors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct SecondFactors(u8);

impl SecondFactors {
    /// No factor.
    pub const NONE: Self = Self(0);

    /// The set with `factor` added.
    #[must_use]
    pub fn with(self, factor: SecondFactor) -> Self {
        Self(self.0 | factor.bit())
    }

    /// Whether `factor` is in the set.
    #[must_use]
    pub fn contains(self, factor: SecondFactor) -> bool {
        self.0 & factor.bit() != 0
    }
}

impl FromIterator<SecondFactor> for SecondFactors {
    fn from_iter<I: IntoIterator<Item = SecondFactor>>(factors: I) -> Self {
        factors.into_iter().fold(Self::NONE, Self::with)
    }
}

/// How long pending logins last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TicketPolicy {
    ttl: u64,
}

impl Default for TicketPolicy {
    fn default() -> Self {
        Self {
            ttl: Self::DEFAULT_TTL,
        }
    }
}

/// A pending login as the service stores it: no ticket, only a keyed
/// digest of it bound to the account, the purpose, the first factor, the
/// second factors allowed and the issuing time.
///
/// Plain data (feature `serde`), not `Copy`: keep it with the account's
/// state and save it back in the same compare-and-swap, so that it is
/// spent once across every instance.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct PendingLogin {
    /// The ticket's public half, by which the service finds the record.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub id: [u8; 16],
    /// The id of the [`DigestKey`] the digest was made under.
    pub key_id: u32,
    /// HMAC-SHA-256 of the ticket and everything it is bound to.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub digest: [u8; 32],
    /// The first factor that succeeded.
    pub first_factor: FirstFactor,
    /// The second factors that may complete the login.
    pub allowed: SecondFactors,
    /// Unix time of issue.
    pub issued_at: u64,
    /// Unix time from which the ticket is refused.
    pub expires_at: u64,
    /// Whether the ticket was spent on a completed login.
    pub spent: bool,
    /// The out-of-band code sent for this login, if any: its own, so a
    /// second login of the account leaves it working.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub oob: Option<OobChallenge>,
    /// The code that one replaced, when a code was sent again: an answer
    /// to it is expired, never counted.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub replaced_oob: Option<OobChallenge>,
    /// The challenge sent to a registered device for this login, if any.
    #[cfg(feature = "device")]
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub device_challenge: Option<DeviceChallenge>,
    /// The WebAuthn challenge sent for this login, if any.
    #[cfg(all(feature = "webauthn", feature = "alloc"))]
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub passkey_challenge: Option<PasskeyChallenge>,
}

/// Why a ticket was refused. Nothing more is said of a wrong ticket than
/// [`TicketRefusal::Invalid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TicketRefusal {
    /// Not the ticket of this pending login, or not for this account or
    /// purpose.
    Invalid,
    /// The ticket's time is over: log in again.
    Expired,
    /// The ticket was already spent on a completed login.
    Spent,
    /// The second factor offered is not one the first step allowed.
    FactorNotAllowed,
}

impl fmt::Display for TicketRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invalid => "invalid ticket",
            Self::Expired => "ticket expired",
            Self::Spent => "ticket already used",
            Self::FactorNotAllowed => "second factor not allowed for this login",
        })
    }
}

impl TicketPolicy {
    /// The default life of a pending login: 10 minutes.
    pub const DEFAULT_TTL: u64 = 600;
    /// The longest life of a pending login: 15 minutes.
    pub const MAX_TTL: u64 = 900;

    /// Pending logins that last `ttl` seconds (1 to
    /// [`TicketPolicy::MAX_TTL`]).
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`].
    pub fn new(ttl: u64) -> Result<Self, Error> {
        if ttl == 0 || ttl > Self::MAX_TTL {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self { ttl })
    }

    /// Issues a ticket at `now`, once `first_factor` has succeeded for
    /// `binding`'s account: hand the ticket to the client, store the
    /// pending login with the account's state.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn issue<R: TryCryptoRng + ?Sized>(
        &self,
        key: &DigestKey,
        rng: &mut R,
        binding: Binding<'_>,
        first_factor: FirstFactor,
        allowed: SecondFactors,
        now: u64,
    ) -> Result<(Token, PendingLogin), Error> {
        let ticket = Token::generate(rng)?;
        let mut pending = PendingLogin {
            id: ticket.id(),
            key_id: key.id(),
            digest: [0; 32],
            first_factor,
            allowed,
            issued_at: now,
            expires_at: now.saturating_add(self.ttl),
            spent: false,
            oob: None,
            replaced_oob: None,
            #[cfg(feature = "device")]
            device_challenge: None,
            #[cfg(all(feature = "webauthn", feature = "alloc"))]
            passkey_challenge: None,
        };
        pending.digest = pending
            .mac(key, binding, &ticket)
            .finalize()
            .into_bytes()
            .into();
        Ok((ticket, pending))
    }

    /// How long a pending login lasts, in seconds.
    #[must_use]
    pub fn ttl(&self) -> u64 {
        self.ttl
    }
}

impl PendingLogin {
    /// Checks the ticket a client brought back at `now` for `binding`'s
    /// account, with `factor` as its second factor. The digest is compared
    /// in constant time; nothing is spent here ([`PendingLogin::spend`]
    /// once the second factor succeeds).
    ///
    /// Check it through [`Guard`](crate::Guard): a wrong ticket is then
    /// answered as over, with nothing counted or written.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] when its key is not among `keys`; otherwise
    /// the inner result says whether the ticket is good.
    pub fn check(
        &self,
        keys: &[DigestKey],
        binding: Binding<'_>,
        ticket: &Token,
        factor: SecondFactor,
        now: u64,
    ) -> Result<Result<(), TicketRefusal>, Error> {
        let key = DigestKey::find(keys, self.key_id)?;
        let genuine = digest_matches(self.mac(key, binding, ticket), &self.digest);
        // The record's own facts, decided whatever the ticket, so that a
        // right and a wrong ticket take the same path up to the answer.
        let public = if self.spent {
            Err(TicketRefusal::Spent)
        } else if now >= self.expires_at {
            Err(TicketRefusal::Expired)
        } else if !self.allowed.contains(factor) {
            Err(TicketRefusal::FactorNotAllowed)
        } else {
            Ok(())
        };
        Ok(if genuine {
            public
        } else {
            Err(TicketRefusal::Invalid)
        })
    }

    /// Marks the ticket spent, and ends the challenges sent for it: call
    /// it with the second factor's success, and save it in the same
    /// compare-and-swap.
    pub fn spend(&mut self) {
        self.spent = true;
        self.oob = None;
        self.replaced_oob = None;
        #[cfg(feature = "device")]
        {
            self.device_challenge = None;
        }
        #[cfg(all(feature = "webauthn", feature = "alloc"))]
        {
            self.passkey_challenge = None;
        }
    }

    /// Whether the pending login can no longer be completed at `now`, so
    /// its record may be dropped.
    #[must_use]
    pub fn is_over(&self, now: u64) -> bool {
        self.spent || now >= self.expires_at
    }

    fn mac(
        &self,
        key: &DigestKey,
        binding: Binding<'_>,
        ticket: &Token,
    ) -> hmac::Hmac<sha2::Sha256> {
        let mut mac = key.mac(b"twofa pending login v1\0", binding);
        mac.update(ticket.expose_bytes());
        mac.update(&[self.first_factor.code(), self.allowed.0]);
        mac.update(&self.issued_at.to_be_bytes());
        mac.update(&self.expires_at.to_be_bytes());
        mac
    }
}

impl fmt::Debug for PendingLogin {
    /// Everything but the digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("key_id", &self.key_id)
            .field("first_factor", &self.first_factor)
            .field("allowed", &self.allowed)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("spent", &self.spent)
            .field("oob", &self.oob)
            .finish_non_exhaustive()
    }
}
