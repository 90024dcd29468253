//! Base64 (RFC 4648 §4) in and out, in constant time (base64ct), into
//! buffers that are wiped: the values are secrets or encrypted secrets.

use alloc::{string::String, vec::Vec};

use base64ct::{Base64, Base64Unpadded, Encoding};
use zeroize::Zeroizing;

use super::error::Problem;

/// Decodes base64 with or without padding, skipping the white space XML
/// and line-wrapped exports put inside it.
pub(super) fn decode(text: &[u8]) -> Result<Zeroizing<Vec<u8>>, Problem> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));
    bytes.extend(text.iter().copied().filter(|b| !b.is_ascii_whitespace()));
    let decoded = if bytes.last() == Some(&b'=') {
        Base64::decode_in_place(&mut bytes)
    } else {
        Base64Unpadded::decode_in_place(&mut bytes)
    }
    .map_err(|_| Problem::Syntax("base64"))?
    .len();
    bytes.truncate(decoded);
    Ok(bytes)
}

/// Encodes with padding, into a string of exactly its size that is wiped
/// when dropped.
pub(super) fn encode(bytes: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(alloc::vec![0u8; Base64::encoded_len(bytes)]);
    let text = Base64::encode(bytes, &mut out).map_or("", |text| text);
    let mut string = Zeroizing::new(String::with_capacity(text.len()));
    string.push_str(text);
    string
}
