//! Recovery codes: single-use codes to print or save, for when the usual
//! factor is lost, stored so that a leaked database does not reveal them.

use alloc::{string::String, vec::Vec};
use core::fmt;

use argon2::{Argon2, Params};
use rand_core::TryCryptoRng;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::{error::Error, otp::random};

/// The 32 symbols of a recovery code: Crockford's base32 alphabet in
/// lower case (no i, l, o or u), so a code read aloud or copied by hand
/// survives.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Symbols in a code: 10 symbols of 5 bits, 50 bits.
const SYMBOLS: usize = 10;
/// The length of an Argon2id digest.
const DIGEST_LEN: usize = 32;

/// How recovery codes are made and stored.
///
/// Each code is 10 symbols of Crockford's base32 (50 bits from the
/// generator), shown as `xxxxx-xxxxx`. NIST SP 800-63B §5.1.2 asks for at
/// least 20 bits, and, for codes below 112 bits, a salted hash that is
/// costly to compute. So the codes are stored as Argon2id digests (RFC
/// 9106) under one random salt per set, with OWASP's recommended cost by
/// default (19 MiB, 2 passes): an attacker with the database pays that
/// cost for every guess, which at 50 bits puts the codes out of reach.
/// One salt per set lets a check hash the typed code once and compare it
/// with every stored digest in constant time, instead of hashing it once
/// per code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecoveryPolicy {
    count: usize,
    memory_kib: u32,
    passes: u32,
}

impl Default for RecoveryPolicy {
    fn default() -> Self {
        Self {
            count: Self::DEFAULT_COUNT,
            memory_kib: 19 * 1024,
            passes: 2,
        }
    }
}

/// A set of recovery codes as the service stores it: a salt, the cost,
/// and one Argon2id digest per code, with a mark for each code used.
///
/// Plain data (feature `serde` derives its serialization). Load it, call
/// [`RecoveryCodes::verify`], and save it back after a success; two
/// checks of one set must not interleave between load and save.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecoveryCodes {
    /// The set's random salt.
    pub salt: [u8; 16],
    /// Argon2id memory cost in KiB.
    pub memory_kib: u32,
    /// Argon2id passes.
    pub passes: u32,
    /// One digest per code.
    pub digests: Vec<[u8; DIGEST_LEN]>,
    /// Whether each code was used.
    pub used: Vec<bool>,
}

/// The answer to a recovery code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum RecoveryOutcome {
    /// The code is one of the set and was unused: it is now used.
    /// `remaining` codes are left (tell the person when few are).
    Accepted {
        /// Unused codes left in the set.
        remaining: usize,
    },
    /// The code was in the set but has been used.
    AlreadyUsed,
    /// The code is not in the set.
    Invalid,
    /// Not 10 symbols of the alphabet: nothing was hashed.
    Malformed,
}

/// One recovery code, to show the person once. `Display` writes it as
/// `xxxxx-xxxxx`; `Debug` hides it; it is wiped on drop.
#[derive(Clone)]
pub struct RecoveryCode(Zeroizing<[u8; SYMBOLS]>);

impl RecoveryPolicy {
    /// The default number of codes in a set: 10.
    pub const DEFAULT_COUNT: usize = 10;
    /// The most codes in a set: 100.
    pub const MAX_COUNT: usize = 100;
    /// The least Argon2id memory accepted: 7 MiB (OWASP's lowest).
    pub const MIN_MEMORY_KIB: u32 = 7 * 1024;

    /// A policy of `count` codes (1 to [`RecoveryPolicy::MAX_COUNT`]),
    /// hashed with Argon2id using `memory_kib` KiB and `passes` passes. The
    /// cost may not fall below OWASP's recommendations: at least
    /// [`RecoveryPolicy::MIN_MEMORY_KIB`], and memory × passes at least
    /// 7 MiB × 5 (the equivalent of 19 MiB × 2).
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`].
    pub fn new(count: usize, memory_kib: u32, passes: u32) -> Result<Self, Error> {
        let work = u64::from(memory_kib) * u64::from(passes);
        if count == 0
            || count > Self::MAX_COUNT
            || memory_kib < Self::MIN_MEMORY_KIB
            || work < u64::from(Self::MIN_MEMORY_KIB) * 5
            || hasher(memory_kib, passes).is_err()
        {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self {
            count,
            memory_kib,
            passes,
        })
    }

    /// A fresh set: the codes to show the person once, and the record to
    /// store. Replaces any earlier set of the account.
    ///
    /// # Errors
    /// [`Error::RngFailure`], or [`Error::InvalidPolicy`] if the hash
    /// cannot get its memory.
    pub fn generate<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<(Vec<RecoveryCode>, RecoveryCodes), Error> {
        let mut salt = [0; 16];
        rng.try_fill_bytes(&mut salt)
            .map_err(|_| Error::RngFailure)?;
        let mut codes = Vec::with_capacity(self.count);
        let mut record = RecoveryCodes {
            salt,
            memory_kib: self.memory_kib,
            passes: self.passes,
            digests: Vec::with_capacity(self.count),
            used: alloc::vec![false; self.count],
        };
        for _ in 0..self.count {
            let mut symbols = Zeroizing::new([0u8; SYMBOLS]);
            for symbol in symbols.iter_mut() {
                // Below 32, so the cast keeps every bit.
                *symbol = random::below(rng, ALPHABET.len() as u64)? as u8;
            }
            let code = RecoveryCode(symbols);
            record.digests.push(record.digest(&code)?);
            codes.push(code);
        }
        Ok((codes, record))
    }

    /// Codes in a set.
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }
}

impl RecoveryCodes {
    /// Checks a typed code, and marks it used on success. Case, spaces
    /// and hyphens do not matter, and `i`, `l` and `o` are read as `1`,
    /// `1` and `0`. The typed code is hashed once and compared with every
    /// digest of the set in constant time.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] when the stored cost is not one Argon2id
    /// accepts (a damaged record).
    pub fn verify(&mut self, typed: &str) -> Result<RecoveryOutcome, Error> {
        let Some(code) = RecoveryCode::parse(typed) else {
            return Ok(RecoveryOutcome::Malformed);
        };
        let digest = Zeroizing::new(self.digest(&code)?);
        let mut found = Choice::from(0);
        let mut index = 0u64;
        for (i, stored) in (0u64..).zip(&self.digests) {
            let hit = stored.ct_eq(&*digest);
            found |= hit;
            index.conditional_assign(&i, hit);
        }
        if !bool::from(found) {
            return Ok(RecoveryOutcome::Invalid);
        }
        match usize::try_from(index)
            .ok()
            .and_then(|i| self.used.get_mut(i))
        {
            Some(used) if !*used => {
                *used = true;
                Ok(RecoveryOutcome::Accepted {
                    remaining: self.remaining(),
                })
            }
            _ => Ok(RecoveryOutcome::AlreadyUsed),
        }
    }

    /// Unused codes left in the set.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.digests
            .len()
            .saturating_sub(self.used.iter().filter(|&&used| used).count())
    }

    fn digest(&self, code: &RecoveryCode) -> Result<[u8; DIGEST_LEN], Error> {
        let mut out = [0; DIGEST_LEN];
        hasher(self.memory_kib, self.passes)?
            .hash_password_into(&*code.0, &self.salt, &mut out)
            .map_err(|_| Error::InvalidPolicy)?;
        Ok(out)
    }
}

/// Argon2id, version 0x13, one lane, at this cost.
fn hasher(memory_kib: u32, passes: u32) -> Result<Argon2<'static>, Error> {
    let params =
        Params::new(memory_kib, passes, 1, Some(DIGEST_LEN)).map_err(|_| Error::InvalidPolicy)?;
    Ok(Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

impl fmt::Debug for RecoveryCodes {
    /// The cost and how many codes are left, never the digests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("memory_kib", &self.memory_kib)
            .field("passes", &self.passes)
            .field("codes", &self.digests.len())
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl RecoveryCode {
    /// Reads a typed code: 10 symbols of the alphabet in either case,
    /// with any spaces and hyphens, and i, l, o read as 1, 1, 0.
    fn parse(typed: &str) -> Option<Self> {
        let mut symbols = Zeroizing::new([0u8; SYMBOLS]);
        let mut count = 0;
        for byte in typed.bytes() {
            let byte = match byte.to_ascii_lowercase() {
                b' ' | b'-' => continue,
                b'i' | b'l' => b'1',
                b'o' => b'0',
                other => other,
            };
            let value = ALPHABET.iter().position(|&symbol| symbol == byte)?;
            *symbols.get_mut(count)? = value as u8;
            count += 1;
        }
        (count == SYMBOLS).then_some(Self(symbols))
    }

    /// The code as text, `xxxxx-xxxxx`, in memory wiped on drop.
    #[must_use]
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(SYMBOLS + 1));
        // Writing to a String cannot fail.
        let _ = fmt::write(&mut *text, format_args!("{self}"));
        text
    }
}

impl fmt::Display for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &value) in self.0.iter().enumerate() {
            if i == SYMBOLS / 2 {
                f.write_str("-")?;
            }
            let symbol = ALPHABET.get(usize::from(value)).copied().unwrap_or(b'?');
            fmt::Write::write_char(f, char::from(symbol))?;
        }
        Ok(())
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}
