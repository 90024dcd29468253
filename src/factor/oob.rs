//! Out-of-band codes: a random code the service sends by SMS or email,
//! kept only as a keyed digest until the person types it back.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::TryCryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{
    error::Error,
    otp::{Code, Digits, random},
};

/// The service's key for the digests of out-of-band codes: 32 random
/// bytes, kept like any other server secret. A stolen challenge record
/// without this key does not reveal its code; with it, a 6-digit code
/// falls to a million guesses, which is why records expire within minutes.
#[derive(Clone)]
pub struct OobKey([u8; 32]);

impl OobKey {
    /// A key from 32 bytes (load it from the service's secret storage).
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh key from a cryptographically secure generator.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut key = Self([0; 32]);
        rng.try_fill_bytes(&mut key.0)
            .map_err(|_| Error::RngFailure)?;
        Ok(key)
    }

    /// The key's bytes, to store it.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for OobKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for OobKey {}

impl fmt::Debug for OobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OobKey(..)")
    }
}

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
/// keyed digest of it bound to this challenge and its purpose.
///
/// Plain data (feature `serde` derives its serialization). Load it, call
/// [`OobChallenge::verify`], and save it back whatever the outcome: the
/// attempt count and the used mark must persist. Two attempts on one
/// challenge must not interleave between load and save.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OobChallenge {
    /// A random identifier, bound into the digest.
    pub id: [u8; 16],
    /// HMAC-SHA-256 under the [`OobKey`] of the purpose, the identifier and
    /// the code.
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

    /// Issues a code at `now` for `purpose` (say `"login"` or
    /// `"reset-password"`: a code issued for one is refused for another).
    /// Deliver the code, store the challenge; the code is uniformly random.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn issue<R: TryCryptoRng + ?Sized>(
        &self,
        key: &OobKey,
        rng: &mut R,
        purpose: &str,
        now: u64,
    ) -> Result<(Code, OobChallenge), Error> {
        self.issue_with_attempts(key, rng, purpose, now, self.max_attempts)
    }

    /// Sends again: a new code replaces the old one (which stops working),
    /// with a new expiry. The attempts left carry over, so resending never
    /// buys an attacker more guesses; limit how often codes are sent, too.
    ///
    /// # Errors
    /// [`Error::RngFailure`]; the old challenge is then unchanged.
    pub fn resend<R: TryCryptoRng + ?Sized>(
        &self,
        key: &OobKey,
        rng: &mut R,
        challenge: &mut OobChallenge,
        purpose: &str,
        now: u64,
    ) -> Result<Code, Error> {
        let attempts = challenge.attempts_left.min(self.max_attempts);
        let (code, fresh) = self.issue_with_attempts(key, rng, purpose, now, attempts)?;
        *challenge = fresh;
        Ok(code)
    }

    fn issue_with_attempts<R: TryCryptoRng + ?Sized>(
        &self,
        key: &OobKey,
        rng: &mut R,
        purpose: &str,
        now: u64,
        attempts_left: u32,
    ) -> Result<(Code, OobChallenge), Error> {
        let mut id = [0; 16];
        rng.try_fill_bytes(&mut id).map_err(|_| Error::RngFailure)?;
        let code = Code::from_value(random::below(rng, self.digits.modulus())?, self.digits);
        let challenge = OobChallenge {
            id,
            digest: digest(key, purpose, &id, &code),
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
    /// Checks the code typed at `now` for `purpose`, and updates the
    /// challenge: used on success, one attempt fewer on a wrong code. The
    /// comparison is of digests, in constant time. A code is valid while
    /// `now < expires_at`.
    pub fn verify(&mut self, key: &OobKey, purpose: &str, typed: &str, now: u64) -> OobOutcome {
        if self.used {
            return OobOutcome::AlreadyUsed;
        }
        if self.attempts_left == 0 {
            return OobOutcome::AttemptsExhausted;
        }
        if now >= self.expires_at {
            return OobOutcome::Expired;
        }
        let Ok(digits) = Digits::new(self.digits) else {
            return OobOutcome::Malformed;
        };
        let Ok(code) = Code::parse(typed, digits) else {
            return OobOutcome::Malformed;
        };
        let mut typed_digest = digest(key, purpose, &self.id, &code);
        let hit = typed_digest.ct_eq(&self.digest).unwrap_u8();
        typed_digest.zeroize();
        // Both outcomes update the record the same way, without a branch.
        self.used = hit == 1;
        self.attempts_left -= u32::from(1 - hit);
        if hit == 1 {
            OobOutcome::Accepted
        } else {
            OobOutcome::Invalid {
                attempts_left: self.attempts_left,
            }
        }
    }
}

impl fmt::Debug for OobChallenge {
    /// Everything but the digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OobChallenge")
            .field("digits", &self.digits)
            .field("expires_at", &self.expires_at)
            .field("attempts_left", &self.attempts_left)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// HMAC-SHA-256 of a domain label, the purpose (length-prefixed, so that
/// no purpose is a prefix of another's input), the challenge id and the
/// code with its length.
fn digest(key: &OobKey, purpose: &str, id: &[u8; 16], code: &Code) -> [u8; 32] {
    // HMAC pads a short key with zeros to the block size (RFC 2104 §2), so
    // keying with the padded block is HMAC under the 32-byte key itself.
    let mut block = Zeroizing::new([0u8; 64]);
    for (padded, byte) in block.iter_mut().zip(key.0) {
        *padded = byte;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
    mac.update(b"twofa out-of-band code v1\0");
    mac.update(&(purpose.len() as u64).to_be_bytes());
    mac.update(purpose.as_bytes());
    mac.update(id);
    mac.update(&[code.format().len() as u8]);
    mac.update(&*Zeroizing::new(code.expose_value().to_be_bytes()));
    mac.finalize().into_bytes().into()
}
