//! Recovery codes: single-use codes to print or save, for when the usual
//! factor is lost, stored so that a leaked database does not reveal them.

use alloc::{string::String, vec::Vec};
use core::fmt;

use argon2::{Argon2, Block, Params};
use rand_core::TryCryptoRng;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use super::pepper::RecoveryPepper;
use crate::{
    error::Error,
    otp::{ct, random},
};

/// The 32 symbols of a recovery code: Crockford's base32 alphabet in
/// lower case (no i, l, o or u), so a code read aloud or copied by hand
/// survives.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// The alphabet, then the letters read as symbols when typed: i and l (as
/// 1) and o (as 0).
const ALPHABET_AND_LOOKALIKES: &[u8; 35] = b"0123456789abcdefghjkmnpqrstvwxyzilo";
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
///
/// A [`RecoveryPepper`] may be mixed in as well (Argon2's secret input):
/// then a stolen database without the pepper gives no way to test a guess
/// at all.
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
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct RecoveryCodes {
    /// The set's random salt.
    pub salt: [u8; 16],
    /// Argon2id memory cost in KiB.
    pub memory_kib: u32,
    /// Argon2id passes.
    pub passes: u32,
    /// The id of the [`RecoveryPepper`] mixed into the digests, if any.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub pepper_id: Option<u32>,
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
    /// The most Argon2id memory accepted: 256 MiB.
    pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
    /// The most Argon2id passes accepted: 10.
    pub const MAX_PASSES: u32 = 10;

    /// A policy of `count` codes (1 to [`RecoveryPolicy::MAX_COUNT`]),
    /// hashed with Argon2id using `memory_kib` KiB and `passes` passes. The
    /// cost may not fall below OWASP's recommendations: at least
    /// [`RecoveryPolicy::MIN_MEMORY_KIB`], and memory × passes at least
    /// 7 MiB × 5 (the equivalent of 19 MiB × 2); nor rise above
    /// [`RecoveryPolicy::MAX_MEMORY_KIB`] and [`RecoveryPolicy::MAX_PASSES`].
    /// The same bounds apply to every stored record that is checked.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`].
    pub fn new(count: usize, memory_kib: u32, passes: u32) -> Result<Self, Error> {
        if count == 0 || count > Self::MAX_COUNT || !cost_in_bounds(memory_kib, passes) {
            return Err(Error::InvalidPolicy);
        }
        Ok(Self {
            count,
            memory_kib,
            passes,
        })
    }

    /// A fresh set: the codes to show the person once, and the record to
    /// store, its digests made with `pepper` if one is given. Replaces any
    /// earlier set of the account.
    ///
    /// # Errors
    /// [`Error::RngFailure`], or [`Error::InvalidPolicy`] if the hash
    /// cannot get its memory.
    pub fn generate<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        pepper: Option<&RecoveryPepper>,
    ) -> Result<(Vec<RecoveryCode>, RecoveryCodes), Error> {
        let mut salt = [0; 16];
        rng.try_fill_bytes(&mut salt)
            .map_err(|_| Error::RngFailure)?;
        let mut codes = Vec::with_capacity(self.count);
        let mut record = RecoveryCodes {
            salt,
            memory_kib: self.memory_kib,
            passes: self.passes,
            pepper_id: pepper.map(RecoveryPepper::id),
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
            record.digests.push(record.digest(&code, pepper)?);
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
    /// `1` and `0`. The typed code is hashed once (with the pepper among
    /// `peppers` whose id the record names, if it names one) and compared
    /// with every digest of the set in constant time.
    ///
    /// The stored cost is checked first: a record whose cost was lowered
    /// (to make guessing cheap) or raised (to stall the verifier) is
    /// refused before anything is hashed.
    ///
    /// This checks the set alone; a login checks it through
    /// [`Guard::verify_recovery`](crate::Guard::verify_recovery), which
    /// counts a wrong code against the account.
    ///
    /// # Errors
    /// [`Error::StoredCostOutOfRange`] outside the bounds of
    /// [`RecoveryPolicy::new`], [`Error::UnknownKeyId`] when the record's
    /// pepper is not among `peppers`, or [`Error::InvalidPolicy`] when the
    /// hash cannot get its memory.
    pub fn verify(
        &mut self,
        peppers: &[RecoveryPepper],
        typed: &str,
    ) -> Result<RecoveryOutcome, Error> {
        if !cost_in_bounds(self.memory_kib, self.passes) {
            return Err(Error::StoredCostOutOfRange);
        }
        let pepper = match self.pepper_id {
            None => None,
            Some(id) => Some(
                peppers
                    .iter()
                    .find(|pepper| pepper.id() == id)
                    .ok_or(Error::UnknownKeyId)?,
            ),
        };
        let Some(code) = RecoveryCode::parse(typed) else {
            return Ok(RecoveryOutcome::Malformed);
        };
        let digest = Zeroizing::new(self.digest(&code, pepper)?);
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

    /// The Argon2id digest of `code` under this set's salt and cost, and
    /// `pepper` if given. Argon2's working memory (megabytes that are a
    /// function of the code) is allocated here, at its exact size so that
    /// nothing reallocates it, and wiped before it is freed.
    fn digest(
        &self,
        code: &RecoveryCode,
        pepper: Option<&RecoveryPepper>,
    ) -> Result<[u8; DIGEST_LEN], Error> {
        let params = Params::new(self.memory_kib, self.passes, 1, Some(DIGEST_LEN))
            .map_err(|_| Error::InvalidPolicy)?;
        let mut memory = Zeroizing::new(alloc::vec![Block::default(); params.block_count()]);
        let (algorithm, version) = (argon2::Algorithm::Argon2id, argon2::Version::V0x13);
        let hasher = match pepper {
            None => Argon2::new(algorithm, version, params),
            Some(pepper) => {
                Argon2::new_with_secret(pepper.expose_bytes(), algorithm, version, params)
                    .map_err(|_| Error::InvalidPolicy)?
            }
        };
        let mut out = [0; DIGEST_LEN];
        hasher
            .hash_password_into_with_memory(&*code.0, &self.salt, &mut out, &mut **memory)
            .map_err(|_| Error::InvalidPolicy)?;
        Ok(out)
    }
}

/// Whether an Argon2id cost is within the bounds of [`RecoveryPolicy::new`].
fn cost_in_bounds(memory_kib: u32, passes: u32) -> bool {
    let work = u64::from(memory_kib) * u64::from(passes);
    (RecoveryPolicy::MIN_MEMORY_KIB..=RecoveryPolicy::MAX_MEMORY_KIB).contains(&memory_kib)
        && (1..=RecoveryPolicy::MAX_PASSES).contains(&passes)
        && work >= u64::from(RecoveryPolicy::MIN_MEMORY_KIB) * 5
}

impl fmt::Debug for RecoveryCodes {
    /// The cost and how many codes are left, never the digests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("memory_kib", &self.memory_kib)
            .field("passes", &self.passes)
            .field("pepper_id", &self.pepper_id)
            .field("codes", &self.digests.len())
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl RecoveryCode {
    /// Reads a typed code: 10 symbols of the alphabet in either case,
    /// with any spaces and hyphens, and i, l, o read as 1, 1, 0. Each
    /// symbol's value is found by comparing it with the whole alphabet
    /// ([`ct::lookup`]), never by a search that stops at it or a table
    /// indexed by it: the typed code is a secret.
    fn parse(typed: &str) -> Option<Self> {
        /// Longer input is not a code, whatever it holds.
        const MAX_TYPED: usize = 64;
        if typed.len() > MAX_TYPED {
            return None;
        }
        let mut symbols = Zeroizing::new([0u8; SYMBOLS]);
        let mut count = 0;
        let mut valid = Choice::from(1);
        for byte in typed.bytes() {
            if byte == b' ' || byte == b'-' {
                continue;
            }
            let (value, known) = ct::lookup(ALPHABET_AND_LOOKALIKES, ct::to_lower(byte));
            // The look-alikes follow the alphabet: i, l as 1, o as 0.
            let value = u8::conditional_select(&value, &1, value.ct_eq(&32) | value.ct_eq(&33));
            let value = u8::conditional_select(&value, &0, value.ct_eq(&34));
            valid &= known;
            *symbols.get_mut(count)? = value;
            count += 1;
        }
        (count == SYMBOLS && bool::from(valid)).then_some(Self(symbols))
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
