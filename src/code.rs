//! One-time codes: how many digits, reading what a person typed, dynamic
//! truncation (RFC 4226 §5.3) and writing a code out with leading zeros.

use core::{fmt, str::FromStr};

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{
    Error,
    algorithm::{Algorithm, MacJob},
    mac::{BlockHash, Mac},
};

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

    /// Lemire's fast-modulus constants `u64::MAX / 10^d + 1` for d = 6..=9,
    /// so that reducing a candidate is a multiplication, not a division
    /// whose time could depend on the value.
    const FASTMOD: [u64; 4] = [
        u64::MAX / 1_000_000 + 1,
        u64::MAX / 10_000_000 + 1,
        u64::MAX / 100_000_000 + 1,
        u64::MAX / 1_000_000_000 + 1,
    ];

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

    /// `value mod 10^digits` for a 31-bit truncated value, in constant time.
    pub(crate) fn reduce(self, value: u32) -> u32 {
        let modulus = self.modulus();
        match Self::FASTMOD.get(usize::from(self.0 - Self::MIN.0)) {
            // Lemire, Kaser & Kurz, "Faster remainder by direct computation"
            // (2019): exact for 32-bit values and divisors.
            Some(&m) => {
                let low = m.wrapping_mul(u64::from(value));
                ((u128::from(low) * u128::from(modulus)) >> 64) as u32
            }
            // 10 digits: 10^10 exceeds every 31-bit value.
            None => value,
        }
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

/// A one-time code: a generated one to show or send, or one a person typed.
///
/// `Display` writes the digits with leading zeros. `Debug` hides the value,
/// so a code cannot reach a log by accident, and the value is wiped on
/// drop. Two codes compare equal in constant time.
///
/// ```
/// use twofa::{Code, Digits};
///
/// let typed = Code::parse("012 345", Digits::DEFAULT)?;
/// assert_eq!(typed.to_string(), "012345");
/// assert_eq!(format!("{typed:?}"), "Code { digits: 6, .. }");
/// assert!(Code::parse("12345", Digits::DEFAULT).is_err());
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone)]
pub struct Code {
    value: u64,
    digits: Digits,
}

impl Code {
    /// Reads a code as a person types it: exactly `digits` ASCII digits,
    /// with at most one space or hyphen between two of them (as apps show
    /// "123 456"). Nothing else is accepted, surrounding spaces included.
    ///
    /// # Errors
    /// [`Error::MalformedCode`] for anything else.
    pub fn parse(input: &str, digits: Digits) -> Result<Self, Error> {
        let bytes = input.as_bytes();
        let wanted = usize::from(digits.get());
        let mut value = 0u64;
        let mut seen = 0usize;
        let mut separated = false;
        for (i, &c) in bytes.iter().enumerate() {
            if c.is_ascii_digit() {
                value = value * 10 + u64::from(c - b'0');
                seen += 1;
                if seen > wanted {
                    return Err(Error::MalformedCode);
                }
            } else if (c == b' ' || c == b'-') && !separated && i > 0 && i + 1 < bytes.len() {
                separated = true;
            } else {
                return Err(Error::MalformedCode);
            }
        }
        if seen == wanted {
            Ok(Self { value, digits })
        } else {
            Err(Error::MalformedCode)
        }
    }

    /// The code of `digits` digits for an HMAC output (RFC 4226 §5.3).
    pub(crate) fn from_mac_output(output: &[u8], digits: Digits) -> Self {
        Self {
            value: u64::from(digits.reduce(truncate(output))),
            digits,
        }
    }

    /// The number of digits.
    #[must_use]
    pub fn digits(&self) -> Digits {
        self.digits
    }

    /// The code as a number; leading zeros are lost, so show codes with
    /// `Display`, not this.
    #[must_use]
    pub fn expose_value(&self) -> u64 {
        self.value
    }
}

/// Dynamic truncation (RFC 4226 §5.3): the 31 bits at the offset named by
/// the low nibble of the output's last byte, for outputs of 20 bytes or
/// more.
///
/// The offset comes from the secret, so no memory access may depend on it.
/// The 4 bytes at offset `o` lie in the 8-byte word starting at byte
/// `4 * (o / 4)`, at a shift fixed by `o % 4`: all four such words are read
/// and shifted, and the right one is chosen by two rounds of constant-time
/// selects on the two bits of `o / 4`.
pub(crate) fn truncate(output: &[u8]) -> u32 {
    let offset = output.last().map_or(0, |b| b & 0x0f);
    let shift = 32 - 8 * u32::from(offset & 3);
    let mut words = [0u32; 4];
    for (word, chunk) in words.iter_mut().zip(output.windows(8).step_by(4)) {
        if let Ok(bytes) = <[u8; 8]>::try_from(chunk) {
            *word = (u64::from_be_bytes(bytes) >> shift) as u32;
        }
    }
    let [w0, w1, w2, w3] = words;
    let low = Choice::from((offset >> 2) & 1);
    let high = Choice::from((offset >> 3) & 1);
    let word = u32::conditional_select(
        &u32::conditional_select(&w0, &w1, low),
        &u32::conditional_select(&w2, &w3, low),
        high,
    );
    word & 0x7fff_ffff
}

/// The code for `counter` under `key`.
pub(crate) fn generate(algorithm: Algorithm, key: &[u8], counter: u64, digits: Digits) -> Code {
    struct Generate {
        counter: u64,
        digits: Digits,
    }
    impl MacJob for Generate {
        type Output = Code;
        fn run<H: BlockHash>(self, mac: &mut Mac<H>) -> Code {
            Code::from_mac_output(mac.compute(self.counter), self.digits)
        }
    }
    algorithm.with_mac(key, Generate { counter, digits })
}

impl ConstantTimeEq for Code {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.value.ct_eq(&other.value) & self.digits.0.ct_eq(&other.digits.0)
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Code {}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:0width$}",
            self.value,
            width = usize::from(self.digits.get())
        )
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code")
            .field("digits", &self.digits.0)
            .finish_non_exhaustive()
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl ZeroizeOnDrop for Code {}
