//! Out-of-band codes: a random code the service sends by SMS or email,
//! kept only as a keyed digest until the person types it back.

use core::fmt;

use hmac::{Hmac, Mac};
use rand_core::TryCryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{
    binding::Binding,
    digest_key::{DigestKey, digest_matches},
};
use crate::{
    error::Error,
    otp::{Code, Digits, random},
};

/// How out-of-band codes are made and checked.
///
/// The defaults: 6 digits, valid for 5 minutes, 3 attempts. NIST SP
/// 800-63B wants at least 20 bits (6 digits, 19.9 bits, is the shortest
/// code accepted here) and at most 10 minutes. SMS is a "restricted"
/// authenticator there, and revision 4 no longer allows email for
/// out-of-band codes: both can be intercepted (SIM swap, a compromised
/// mailbox). Offer them knowing that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OobPolicy {
    digits: Digits,
    ttl: u64,
    max_attempts: u32,
}

impl Default for OobPolicy {
    fn default() -> Self {
        Self {
            digits: Digits::DEFAULT,
            ttl: 300,
            max_attempts: 3,
        }
    }
}

/// One issued out-of-band code, as the service stores it: no code, only a
/// keyed digest of it bound to this challenge, the account and the purpose.
///
/// Plain data (feature `serde` derives its serialization), deliberately
/// not `Copy`: load it, call [`OobChallenge::verify`] on that value, and
/// save that same value back whatever the outcome, since the attempt count
/// and the used mark must persist. Two attempts on one challenge must not
/// interleave between load and save.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct OobChallenge {
    /// A random identifier, bound into the digest.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub id: [u8; 16],
    /// The id of the [`DigestKey`] the digest was made under.
    pub key_id: u32,
    /// HMAC-SHA-256 under the [`DigestKey`] of the account, the purpose, the
    /// identifier and the code.
    #[cfg_attr(feature = "serde", serde(with = "crate::byte_text::array"))]
    pub digest: [u8; 32],
    /// The code's number of digits.
    pub digits: u8,
    /// Unix time from which the code is refused.
    pub expires_at: u64,
    /// Wrong attempts still allowed.
    pub attempts_left: u32,
    /// Whether the code was accepted (it is accepted once).
    pub used: bool,
}

/// The answer to an out-of-band code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum OobOutcome {
    /// The code is right: it is now used.
    Accepted,
    /// The code is wrong; `attempts_left` more may be tried (0: the
    /// challenge is spent, send a new code).
    Invalid {
        /// Wrong attempts still allowed.
        attempts_left: u32,
    },
    /// The code's time is over: send a new one.
    Expired,
    /// Every attempt was used: send a new code.
    AttemptsExhausted,
    /// The code was already accepted once.
    AlreadyUsed,
    /// Not a code of the right length: nothing compared, nothing counted.
    Malformed,
}

impl OobPolicy {
    /// The longest validity: 10 minutes (NIST SP 800-63B).
    pub const MAX_TTL: u64 = 600;
    /// The most attempts a challenge may allow: 10.
    pub const MAX_ATTEMPTS: u32 = 10;

    /// A policy: `digits` digits (6 to 10), valid for `ttl` seconds
    /// (1 to [`OobPolicy::MAX_TTL`]), `max_attempts` attempts (1 to
    /// [`OobPolicy::MAX_ATTEMPTS`]).
    ///
    /// # Errors
    /// [`Error::UnsupportedDigits`] or [`Error::InvalidPolicy`].
    pub fn new(digits: u8, ttl: u64, max_attempts: u32) -> Result<Self, Error> {
        let digits = Digits::new(digits)?;
        if ttl == 0 || ttl > Self::MAX_TTL || max_attempts == 0 || max_attempts > Self::MAX_ATTEMPTS
        {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self {
            digits,
            ttl,
            max_attempts,
        })
    }

    /// Issues a code at `now` for `binding`'s account and purpose (say
    /// `"login"` or `"reset-password"`: a code issued for one is refused for
    /// another). Deliver the code, store the challenge; the code is
    /// uniformly random.
    ///
    /// Each issue starts with fresh attempts: check the codes through
    /// [`Guard::verify_oob`](crate::Guard::verify_oob), so that every wrong
    /// code counts against the account's one throttle however many
    /// challenges are issued, and limit sends with
    /// [`Guard::allow_send`](crate::Guard::allow_send).
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn issue<R: TryCryptoRng + ?Sized>(
        &self,
        key: &DigestKey,
        rng: &mut R,
        binding: Binding<'_>,
        now: u64,
    ) -> Result<(Code, OobChallenge), Error> {
        self.issue_with_attempts(key, rng, binding, now, self.max_attempts)
    }

    /// Sends again: a new code replaces the old one (which stops working),
    /// with a new expiry. The attempts left carry over, so resending never
    /// buys an attacker more guesses; limit how often codes are sent, too.
    ///
    /// # Errors
    /// [`Error::ChallengeSpent`] for a challenge already accepted or out of
    /// attempts (a code sent for it could never be accepted), or
    /// [`Error::RngFailure`]; the old challenge is then unchanged.
    pub fn resend<R: TryCryptoRng + ?Sized>(
        &self,
        key: &DigestKey,
        rng: &mut R,
        challenge: &mut OobChallenge,
        binding: Binding<'_>,
        now: u64,
    ) -> Result<Code, Error> {
        if challenge.used || challenge.attempts_left == 0 {
            return Err(Error::ChallengeSpent);
        }
        let attempts = challenge.attempts_left.min(self.max_attempts);
        let (code, fresh) = self.issue_with_attempts(key, rng, binding, now, attempts)?;
        *challenge = fresh;
        Ok(code)
    }

    fn issue_with_attempts<R: TryCryptoRng + ?Sized>(
        &self,
        key: &DigestKey,
        rng: &mut R,
        binding: Binding<'_>,
        now: u64,
        attempts_left: u32,
    ) -> Result<(Code, OobChallenge), Error> {
        let mut id = [0; 16];
        rng.try_fill_bytes(&mut id).map_err(|_| Error::RngFailure)?;
        let code = Code::from_value(random::below(rng, self.digits.modulus())?, self.digits);
        let challenge = OobChallenge {
            id,
            key_id: key.id(),
            digest: digest(key, binding, &id, &code)
                .finalize()
                .into_bytes()
                .into(),
            digits: self.digits.get(),
            expires_at: now.saturating_add(self.ttl),
            attempts_left,
            used: false,
        };
        Ok((code, challenge))
    }

    /// The number of digits.
    #[must_use]
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// How long a code is valid, in seconds.
    #[must_use]
    pub fn ttl(&self) -> u64 {
        self.ttl
    }

    /// Attempts allowed per challenge.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
}

impl OobChallenge {
    /// Whether `typed` is this challenge's code, whatever its state (used,
    /// out of attempts, expired), compared in constant time and changing
    /// nothing: how an answer to a challenge since replaced is told from a
    /// wrong one.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`].
    pub fn is_code(
        &self,
        keys: &[DigestKey],
        binding: Binding<'_>,
        typed: &str,
    ) -> Result<bool, Error> {
        let key = DigestKey::find(keys, self.key_id)?;
        let Ok(digits) = Digits::new(self.digits) else {
            return Ok(false);
        };
        let Ok(code) = Code::parse(typed, digits) else {
            return Ok(false);
        };
        Ok(digest_matches(
            digest(key, binding, &self.id, &code),
            &self.digest,
        ))
    }

    /// Checks the code typed at `now` for `binding`'s account and purpose,
    /// and updates the challenge: used on success, one attempt fewer on a
    /// wrong code. The digest is made under the key among `keys` whose id
    /// the challenge records (so challenges issued before a rotation still
    /// verify), and compared in constant time. A code is valid while
    /// `now < expires_at`.
    ///
    /// This checks the challenge alone; a login checks it through
    /// [`Guard::verify_oob`](crate::Guard::verify_oob), which counts a
    /// wrong code against the account.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] when no key has the recorded id; the
    /// challenge is unchanged.
    pub fn verify(
        &mut self,
        keys: &[DigestKey],
        binding: Binding<'_>,
        typed: &str,
        now: u64,
    ) -> Result<OobOutcome, Error> {
        let key = DigestKey::find(keys, self.key_id)?;
        if self.used {
            return Ok(OobOutcome::AlreadyUsed);
        }
        if self.attempts_left == 0 {
            return Ok(OobOutcome::AttemptsExhausted);
        }
        if now >= self.expires_at {
            return Ok(OobOutcome::Expired);
        }
        let Ok(digits) = Digits::new(self.digits) else {
            return Ok(OobOutcome::Malformed);
        };
        let Ok(code) = Code::parse(typed, digits) else {
            return Ok(OobOutcome::Malformed);
        };
        let hit = u8::from(digest_matches(
            digest(key, binding, &self.id, &code),
            &self.digest,
        ));
        // Both outcomes update the record the same way, without a branch.
        self.used = hit == 1;
        self.attempts_left -= u32::from(1 - hit);
        Ok(if hit == 1 {
            OobOutcome::Accepted
        } else {
            OobOutcome::Invalid {
                attempts_left: self.attempts_left,
            }
        })
    }
}

impl fmt::Debug for OobChallenge {
    /// Everything but the digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OobChallenge")
            .field("key_id", &self.key_id)
            .field("digits", &self.digits)
            .field("expires_at", &self.expires_at)
            .field("attempts_left", &self.attempts_left)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// HMAC-SHA-256 of a domain label, the account and the purpose (each
/// length-prefixed, so that no pair reads as another), the challenge id
/// and the code with its length.
fn digest(key: &DigestKey, binding: Binding<'_>, id: &[u8; 16], code: &Code) -> Hmac<Sha256> {
    let mut mac = key.mac(b"twofa out-of-band code v2\0", binding);
    mac.update(id);
    mac.update(&[code.format().len() as u8]);
    mac.update(&*Zeroizing::new(code.expose_value().to_be_bytes()));
    mac
}
