//! One-time codes: reading what a person typed, dynamic truncation
//! (RFC 4226 §5.3), and writing a code out.

use core::fmt;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Format, keyed::KeyedHmac};
use crate::error::Error;

/// A one-time code: a generated one to show or send, or one a person typed.
///
/// `Display` writes the code in its [`Format`], decimal codes with leading
/// zeros. `Debug` hides the value,
/// so a code cannot reach a log by accident, and the value is wiped on
/// drop. Two codes compare equal in constant time.
///
/// ```
/// use twofa::{Code, Digits};
///
/// let typed = Code::parse("012 345", Digits::DEFAULT)?;
/// assert_eq!(typed.to_string(), "012345");
/// assert_eq!(format!("{typed:?}"), "Code { format: Decimal(Digits(6)), .. }");
/// assert!(Code::parse("12345", Digits::DEFAULT).is_err());
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone)]
pub struct Code {
    value: u64,
    format: Format,
}

impl Code {
    /// Reads a code as a person types it: exactly `digits` ASCII digits,
    /// with at most one space or hyphen between two of them (as apps show
    /// "123 456"). Nothing else is accepted, surrounding spaces included.
    ///
    /// # Errors
    /// [`Error::MalformedCode`] for anything else.
    pub fn parse(input: &str, format: impl Into<Format>) -> Result<Self, Error> {
        let format = format.into();
        format.parse(input).map(|value| Self { value, format })
    }

    /// A code of `value` (below the format's code space).
    pub(crate) fn from_value(value: u64, format: impl Into<Format>) -> Self {
        Self {
            value,
            format: format.into(),
        }
    }

    /// The code in `format` for a truncated HMAC output (RFC 4226 §5.3).
    fn from_truncated(truncated: u32, format: Format) -> Self {
        Self {
            value: u64::from(format.reducer().reduce(truncated)),
            format,
        }
    }

    /// The code's format.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// The code as a number (for Steam codes, the base-26 value); leading
    /// zeros are lost, so show codes with `Display`, not this.
    #[must_use]
    pub fn expose_value(&self) -> u64 {
        self.value
    }
}

/// Dynamic truncation (RFC 4226 §5.3): the 31 bits at the offset named by
/// the low nibble of the output's `last` byte, out of the output's first
/// 20 bytes given as five big-endian `words`.
///
/// The offset comes from the secret, so no memory access may depend on it.
/// The 4 bytes at offset `o` lie in the 8 bytes starting at byte
/// `4 * (o / 4)` (two consecutive words), at a shift fixed by `o % 4`: all
/// four such pairs are read and shifted, and the right one is chosen by two
/// rounds of constant-time selects on the two bits of `o / 4`.
pub(crate) fn truncate(words: [u32; 5], last: u8) -> u32 {
    let offset = last & 0x0f;
    let shift = 32 - 8 * u32::from(offset & 3);
    let pair = |high: u32, low: u32| (((u64::from(high) << 32) | u64::from(low)) >> shift) as u32;
    let [w0, w1, w2, w3, w4] = words;
    let (p0, p1, p2, p3) = (pair(w0, w1), pair(w1, w2), pair(w2, w3), pair(w3, w4));
    let low = Choice::from((offset >> 2) & 1);
    let high = Choice::from((offset >> 3) & 1);
    let word = u32::conditional_select(
        &u32::conditional_select(&p0, &p1, low),
        &u32::conditional_select(&p2, &p3, low),
        high,
    );
    word & 0x7fff_ffff
}

/// The code for `counter` under a keyed HMAC.
pub(crate) fn generate(mac: &KeyedHmac, counter: u64, format: Format) -> Code {
    Code::from_truncated(mac.truncated(counter), format)
}

impl ConstantTimeEq for Code {
    fn ct_eq(&self, other: &Self) -> Choice {
        // The format is public; only the value is compared in constant time.
        Choice::from(u8::from(self.format == other.format)) & self.value.ct_eq(&other.value)
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
        self.format.write(self.value, f)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl ZeroizeOnDrop for Code {}
