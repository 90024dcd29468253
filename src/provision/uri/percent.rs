//! Percent-encoding (RFC 3986 §2.1) of the label and parameter values.

use alloc::{string::String, vec::Vec};
use core::fmt::{self, Write};

use zeroize::Zeroizing;

use crate::error::Error;

/// Writes `text` with every byte outside RFC 3986's unreserved set (and
/// `@`, common in account names) as `%XX`, so a space becomes `%20`.
pub(super) fn encode(text: &str, out: &mut (impl Write + ?Sized)) -> fmt::Result {
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.write_char(char::from(byte))?;
        } else {
            write!(out, "%{byte:02X}")?;
        }
    }
    Ok(())
}

/// Where a percent-encoded text stands, which decides what `+` means.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::provision) enum Part {
    /// The label, in the path: `+` is a plus sign (RFC 3986).
    Path,
    /// A query name or value: `+` is a space (form encoding, as the apps
    /// read it).
    Query,
}

/// Decodes `%XX` escapes (either case), and in the query `+` as a space,
/// once: `%2520` stays `%20`.
///
/// # Errors
/// [`Error::InvalidPercentEncoding`] for a `%` not followed by two hex
/// digits, or bytes that are not UTF-8.
pub(super) fn decode(text: &str, part: Part) -> Result<String, Error> {
    let bytes = decode_bytes(text, part)?;
    let text = core::str::from_utf8(&bytes).map_err(|_| Error::InvalidPercentEncoding)?;
    Ok(String::from(text))
}

/// Decodes as [`decode`] does, into bytes that need not be text.
///
/// # Errors
/// [`Error::InvalidPercentEncoding`] for a `%` not followed by two hex
/// digits.
pub(in crate::provision) fn decode_bytes(
    text: &str,
    part: Part,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    // Sized for the whole text (decoding only shrinks it) and wiped however
    // this returns: the value may be a secret.
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'%' => {
                let (&[high, low], tail) = rest
                    .split_first_chunk::<2>()
                    .ok_or(Error::InvalidPercentEncoding)?;
                rest = tail;
                bytes.push(hex_value(high)? << 4 | hex_value(low)?);
            }
            b'+' if part == Part::Query => bytes.push(b' '),
            _ => bytes.push(byte),
        }
    }
    Ok(bytes)
}

fn hex_value(digit: u8) -> Result<u8, Error> {
    char::from(digit)
        .to_digit(16)
        .map(|value| value as u8)
        .ok_or(Error::InvalidPercentEncoding)
}
