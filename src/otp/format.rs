//! How a truncated HMAC value becomes the text a person reads and types:
//! 6 to 10 decimal digits (RFC 4226 §5.3), or Steam Guard's 5 characters.

use core::{fmt, str::FromStr};

use super::ct;
use crate::error::Error;

/// The number of decimal digits in a code: 6 to 10.
///
/// Dynamic truncation yields 31 bits, so a 10-digit code carries only
/// 31 bits (codes of 10 digits never exceed 2147483647), not the 33 its
/// length suggests. 6 digits is what every authenticator app shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digits(u8);

impl Digits {
    /// The fewest digits: 6 (RFC 4226 R4).
    pub const MIN: Self = Self(6);
    /// The most digits: 10 (31 bits of truncated HMAC).
    pub const MAX: Self = Self(10);
    /// The default: 6.
    pub const DEFAULT: Self = Self(6);

    /// `n` digits, from 6 to 10.
    ///
    /// # Errors
    /// [`Error::UnsupportedDigits`] outside that range.
    pub const fn new(n: u8) -> Result<Self, Error> {
        if n >= Self::MIN.0 && n <= Self::MAX.0 {
            Ok(Self(n))
        } else {
            Err(Error::UnsupportedDigits)
        }
    }

    /// The number of digits.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// `10^digits`.
    #[must_use]
    pub const fn modulus(self) -> u64 {
        10u64.pow(self.0 as u32)
    }
}

impl Default for Digits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl TryFrom<u8> for Digits {
    type Error = Error;

    fn try_from(n: u8) -> Result<Self, Error> {
        Self::new(n)
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Digits {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        s.parse::<u8>()
            .map_err(|_| Error::UnsupportedDigits)
            .and_then(Self::new)
    }
}

/// What a code looks like: decimal digits, or a Steam Guard code.
///
/// Steam Guard codes are TOTP codes (SHA-1, 30 s) written as 5 characters
/// from the 26-letter alphabet `23456789BCDFGHJKMNPQRTVWXY`: the truncated
/// value's base-26 digits, least significant first. They carry about
/// 23.5 bits, against 19.9 for 6 decimal digits. In `otpauth://` URIs they
/// are marked `encoder=steam`.
///
/// ```
/// use twofa::{Digits, Format};
///
/// assert_eq!(Format::default(), Format::Decimal(Digits::DEFAULT));
/// assert_eq!(Format::from(Digits::new(8)?).len(), 8);
/// assert_eq!(Format::Steam.len(), 5);
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `n` decimal digits, left-padded with zeros.
    Decimal(Digits),
    /// 5 characters of Steam Guard's alphabet.
    Steam,
}

/// Steam Guard's alphabet: digits and consonants that cannot be confused.
const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";
/// The length of a Steam Guard code.
const STEAM_LEN: u32 = 5;
/// `26^5`: the number of distinct Steam Guard codes.
const STEAM_MODULUS: u64 = 26u64.pow(STEAM_LEN);

impl Format {
    /// The number of characters in a code (separators not counted).
    #[must_use]
    #[allow(clippy::len_without_is_empty)] // a format is never empty
    pub const fn len(self) -> usize {
        match self {
            Self::Decimal(digits) => digits.0 as usize,
            Self::Steam => STEAM_LEN as usize,
        }
    }

    /// How many distinct codes there are: the chance that one guess hits
    /// one candidate is one in this.
    #[must_use]
    pub const fn code_space(self) -> u64 {
        match self {
            Self::Decimal(digits) => digits.modulus(),
            Self::Steam => STEAM_MODULUS,
        }
    }

    /// What turns a 31-bit truncated value into this format's value.
    pub(crate) fn reducer(self) -> Reducer {
        let modulus = self.code_space();
        Reducer {
            modulus,
            inverse: u64::MAX / modulus + 1,
        }
    }

    /// Reads a code's value from exactly [`Format::len`] characters, with
    /// at most one space or hyphen between two of them for decimal codes
    /// (as apps show "123 456"). Steam codes are read in either case.
    pub(crate) fn parse(self, input: &str) -> Result<u64, Error> {
        let bytes = input.as_bytes();
        let wanted = self.len();
        let mut value = 0u64;
        let mut seen = 0usize;
        let mut separated = false;
        let mut place = 1u64;
        for (i, &c) in bytes.iter().enumerate() {
            let symbol = match self {
                Self::Decimal(_) => c.is_ascii_digit().then(|| u64::from(c - b'0')),
                // Compared with the whole alphabet: the typed code is secret.
                Self::Steam => {
                    let (value, known) = ct::lookup(STEAM_ALPHABET, ct::to_upper(c));
                    bool::from(known).then_some(u64::from(value))
                }
            };
            if let Some(symbol) = symbol {
                seen += 1;
                if seen > wanted {
                    return Err(Error::MalformedCode);
                }
                match self {
                    Self::Decimal(_) => value = value * 10 + symbol,
                    Self::Steam => {
                        value += symbol * place;
                        place *= 26;
                    }
                }
            } else if matches!(self, Self::Decimal(_))
                && (c == b' ' || c == b'-')
                && !separated
                && i > 0
                && i + 1 < bytes.len()
            {
                separated = true;
            } else {
                return Err(Error::MalformedCode);
            }
        }
        if seen == wanted {
            Ok(value)
        } else {
            Err(Error::MalformedCode)
        }
    }

    /// Writes a code's value in this format.
    pub(crate) fn write(self, value: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decimal(digits) => write!(f, "{value:0width$}", width = usize::from(digits.0)),
            Self::Steam => {
                let mut rest = value;
                for _ in 0..STEAM_LEN {
                    let symbol = STEAM_ALPHABET
                        .get((rest % 26) as usize)
                        .copied()
                        .unwrap_or(b'?');
                    fmt::Write::write_char(f, char::from(symbol))?;
                    rest /= 26;
                }
                Ok(())
            }
        }
    }
}

/// `value mod code_space` for 31-bit values, in constant time: a
/// multiplication by a precomputed constant (Lemire, Kaser & Kurz, "Faster
/// remainder by direct computation", 2019, exact for 32-bit values and
/// divisors), never a division whose time could depend on the value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reducer {
    modulus: u64,
    inverse: u64,
}

impl Reducer {
    /// The code's value for a 31-bit truncated value.
    pub(crate) fn reduce(self, value: u32) -> u32 {
        if self.modulus > u64::from(u32::MAX) {
            // 10 digits: 10^10 exceeds every 31-bit value.
            return value;
        }
        let low = self.inverse.wrapping_mul(u64::from(value));
        ((u128::from(low) * u128::from(self.modulus)) >> 64) as u32
    }
}

impl Default for Format {
    fn default() -> Self {
        Self::Decimal(Digits::DEFAULT)
    }
}

impl From<Digits> for Format {
    fn from(digits: Digits) -> Self {
        Self::Decimal(digits)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decimal(digits) => write!(f, "{digits} digits"),
            Self::Steam => f.write_str("Steam Guard"),
        }
    }
}
