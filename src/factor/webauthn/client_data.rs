//! clientDataJSON checked without a JSON parser: the limited verification
//! algorithm of WebAuthn Level 3 §5.8.1.2. Browsers serialize the first
//! fields in a fixed order with fixed escaping (§5.8.1.1), so the verifier
//! builds what it expects, field by field, and compares it with what came.
//!
//! ```text
//! {"type":"webauthn.get","challenge":"<base64url>","origin":"<origin>",
//!  "crossOrigin":false[,"topOrigin":"<origin>"]  then "}" or ","
//! ```
//!
//! What follows the fixed fields (other keys a browser adds) is not read.

use base64ct::{Base64UrlUnpadded, Encoding};
use subtle::ConstantTimeEq;

use super::{
    error::WebauthnError,
    relying_party::{CrossOrigin, RelyingParty},
};

/// The longest clientDataJSON read: browsers write a few hundred bytes.
pub(super) const MAX_CLIENT_DATA_LEN: usize = 4096;

/// The shortest and longest challenge accepted, in bytes (§13.4.3 asks
/// for at least 16).
pub(super) const MIN_CHALLENGE_LEN: usize = 16;
pub(super) const MAX_CHALLENGE_LEN: usize = 128;

/// Which ceremony the client data must be for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    fn type_name(self) -> &'static str {
        match self {
            Self::Create => "webauthn.create",
            Self::Get => "webauthn.get",
        }
    }
}

/// Verifies clientDataJSON for `ceremony` against `challenge` and the
/// relying party's origins.
pub(super) fn verify(
    client_data: &[u8],
    ceremony: Ceremony,
    challenge: &[u8],
    rp: &RelyingParty<'_>,
) -> Result<(), WebauthnError> {
    if !(MIN_CHALLENGE_LEN..=MAX_CHALLENGE_LEN).contains(&challenge.len()) {
        return Err(WebauthnError::ChallengeLength);
    }
    if client_data.len() > MAX_CLIENT_DATA_LEN {
        return Err(WebauthnError::TooLong);
    }
    let mut cursor = Cursor(client_data);
    cursor.literal(b"{\"type\":")?;
    if !cursor.string(ceremony.type_name()) {
        return Err(WebauthnError::WrongType);
    }
    cursor.literal(b",\"challenge\":")?;
    cursor.challenge(challenge)?;
    cursor.literal(b",\"origin\":")?;
    if !cursor.one_of(rp.origins()) {
        return Err(WebauthnError::OriginNotAllowed);
    }
    cursor.literal(b",\"crossOrigin\":")?;
    if cursor.starts_with(b"false") {
        cursor.literal(b"false")?;
        // A top origin is only ever written for a cross-origin frame.
        if cursor.starts_with(b",\"topOrigin\":") {
            return Err(WebauthnError::MalformedClientData);
        }
    } else {
        cursor.literal(b"true")?;
        let top = if cursor.starts_with(b",\"topOrigin\":") {
            cursor.literal(b",\"topOrigin\":")?;
            Some(cursor)
        } else {
            None
        };
        match (rp.cross_origin_policy(), top) {
            (CrossOrigin::Refused, _) => return Err(WebauthnError::CrossOriginRefused),
            (CrossOrigin::FromTopOrigins(_), None) => {
                return Err(WebauthnError::TopOriginNotAllowed);
            }
            (CrossOrigin::FromTopOrigins(allowed), Some(mut top)) => {
                if !top.one_of(allowed) {
                    return Err(WebauthnError::TopOriginNotAllowed);
                }
                cursor = top;
            }
            (CrossOrigin::FromAnyTopOrigin, Some(mut top)) => {
                top.skip_string()?;
                cursor = top;
            }
            (CrossOrigin::FromAnyTopOrigin, None) => {}
        }
    }
    match cursor.0.first() {
        Some(b'}' | b',') => Ok(()),
        _ => Err(WebauthnError::MalformedClientData),
    }
}

/// The bytes not yet compared.
#[derive(Clone, Copy)]
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn starts_with(&self, prefix: &[u8]) -> bool {
        self.0.starts_with(prefix)
    }

    fn literal(&mut self, expected: &[u8]) -> Result<(), WebauthnError> {
        match self.0.strip_prefix(expected) {
            Some(rest) => {
                self.0 = rest;
                Ok(())
            }
            None => Err(WebauthnError::MalformedClientData),
        }
    }

    /// Compares with CCDToString(`value`) (§5.8.1.1) and moves past it on
    /// a match; on a mismatch the cursor stays where it was.
    fn string(&mut self, value: &str) -> bool {
        let mut rest = self.0;
        let mut eat = |expected: &[u8]| match rest.strip_prefix(expected) {
            Some(r) => {
                rest = r;
                true
            }
            None => false,
        };
        if !eat(b"\"") {
            return false;
        }
        for c in value.chars() {
            let matched = match c {
                '"' => eat(b"\\\""),
                '\\' => eat(b"\\\\"),
                '\u{20}'..='\u{10FFFF}' => {
                    let mut utf8 = [0u8; 4];
                    eat(c.encode_utf8(&mut utf8).as_bytes())
                }
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let n = c as u32;
                    let digit = |shift: u32| HEX.get(((n >> shift) & 0xf) as usize).copied();
                    match (digit(12), digit(8), digit(4), digit(0)) {
                        (Some(a), Some(b), Some(c), Some(d)) => eat(&[b'\\', b'u', a, b, c, d]),
                        _ => false,
                    }
                }
            };
            if !matched {
                return false;
            }
        }
        if !eat(b"\"") {
            return false;
        }
        self.0 = rest;
        true
    }

    /// Whether one of `candidates`' serializations comes next (the cursor
    /// then moves past it). The closing quote is part of each comparison,
    /// so one origin that is a prefix of another never matches it.
    fn one_of(&mut self, candidates: &[&str]) -> bool {
        candidates.iter().any(|c| self.string(c))
    }

    /// The base64url form of `challenge`, compared in constant time.
    fn challenge(&mut self, challenge: &[u8]) -> Result<(), WebauthnError> {
        let mut buffer = [0u8; 172];
        let encoded = Base64UrlUnpadded::encode(challenge, &mut buffer)
            .map_err(|_| WebauthnError::ChallengeLength)?
            .as_bytes();
        self.literal(b"\"")?;
        let received = self
            .0
            .get(..encoded.len())
            .ok_or(WebauthnError::MalformedClientData)?;
        if !bool::from(received.ct_eq(encoded)) {
            return Err(WebauthnError::ChallengeMismatch);
        }
        self.0 = self.0.get(encoded.len()..).unwrap_or_default();
        self.literal(b"\"")
            .map_err(|_| WebauthnError::ChallengeMismatch)
    }

    /// Moves past one serialized string without comparing it.
    fn skip_string(&mut self) -> Result<(), WebauthnError> {
        self.literal(b"\"")?;
        let mut escaped = false;
        for (i, &b) in self.0.iter().enumerate() {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    self.0 = self.0.get(i + 1..).unwrap_or_default();
                    return Ok(());
                }
                _ => {}
            }
        }
        Err(WebauthnError::MalformedClientData)
    }
}
