//! RFC 4648 base32 for secrets, as people paste them, in constant time.
//!
//! Decoding writes into a caller's fixed buffer (no allocator needed) and
//! accepts upper or lower case, with or without `=` padding, with spaces or
//! hyphens between groups. Symbols are mapped to values with arithmetic
//! masks rather than table look-ups or branches, so the time taken does not
//! depend on the secret's characters, only on the text's length and where
//! its separators are.

use core::fmt::{self, Write as _};

use zeroize::Zeroize;

use super::ct::in_range;
use crate::error::Error;

/// The 5-bit value of a base32 symbol of either case, and `0xFF` as the
/// second value when the symbol is valid (`0` when not).
fn symbol_value(c: u8) -> (u8, u8) {
    let upper = c.wrapping_sub(in_range(c, b'a', b'z') & 0x20);
    let letter = in_range(upper, b'A', b'Z');
    let digit = in_range(upper, b'2', b'7');
    let value =
        (letter & upper.wrapping_sub(b'A')) | (digit & upper.wrapping_sub(b'2').wrapping_add(26));
    (value, letter | digit)
}

/// The symbol for a 5-bit value.
fn symbol(v: u8) -> u8 {
    // 'A' + v for 0..=25, '2' + (v - 26) = v + 24 for 26..=31.
    let digit = in_range(v, 26, 31);
    v.wrapping_add(b'A').wrapping_sub(digit & (b'A' - 24))
}

/// Decodes lenient base32 `text` into `out`, returning how many bytes were
/// written.
///
/// # Errors
/// [`Error::InvalidBase32`] for a character that is neither a symbol nor a
/// separator, for anything but separators after padding, or for a length
/// that leaves a partial byte of 1, 3 or 6 symbols; [`Error::SecretTooLong`]
/// when `out` is too small.
pub(crate) fn decode(text: &str, out: &mut [u8]) -> Result<usize, Error> {
    let mut acc: u16 = 0;
    let mut bits: u32 = 0;
    let mut written = 0;
    let mut symbols = 0usize;
    let mut padded = false;
    let mut valid = 0xFFu8;
    for &c in text.as_bytes() {
        match c {
            b' ' | b'-' => continue,
            b'=' => {
                padded = true;
                continue;
            }
            _ if padded => return Err(Error::InvalidBase32),
            _ => {}
        }
        let (value, ok) = symbol_value(c);
        valid &= ok;
        symbols += 1;
        acc = (acc << 5) | u16::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            let slot = out.get_mut(written).ok_or(Error::SecretTooLong)?;
            *slot = (acc >> bits) as u8;
            written += 1;
        }
    }
    acc.zeroize();
    // The number of symbols (not their values) decides whether the tail is
    // whole: 1, 3 or 6 symbols past a multiple of 8 cannot encode a byte.
    let whole_tail = !matches!(symbols % 8, 1 | 3 | 6);
    if valid == 0xFF && whole_tail {
        Ok(written)
    } else {
        out.iter_mut().take(written).for_each(|b| *b = 0);
        Err(Error::InvalidBase32)
    }
}

/// The number of symbols unpadded base32 takes for `len` bytes.
pub(crate) const fn encoded_len(len: usize) -> usize {
    (len * 8).div_ceil(5)
}

/// Unpadded uppercase base32 of borrowed bytes, written through
/// [`fmt::Display`] one symbol at a time, with no buffer of its own.
pub(crate) struct Encoder<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Encoder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut acc: u16 = 0;
        let mut bits: u32 = 0;
        let mut result = Ok(());
        for &b in self.0 {
            acc = (acc << 8) | u16::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                result = result.and(f.write_char(char::from(symbol((acc >> bits) as u8 & 31))));
            }
        }
        if bits > 0 {
            result = result.and(f.write_char(char::from(symbol((acc << (5 - bits)) as u8 & 31))));
        }
        acc.zeroize();
        result
    }
}
