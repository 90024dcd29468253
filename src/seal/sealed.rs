//! The sealed form of a secret and its two encodings: bytes for a
//! `BYTEA`/`BLOB` column and text for a `TEXT` column. Both begin with a
//! format version, so that the encoding can evolve.
//!
//! Bytes, version 1 (all integers big-endian):
//!
//! ```text
//! version (1) | kind (1) | key id (4) | nonce (24) | length n (1) | ciphertext (n) | tag (16)
//! ```
//!
//! Text: `sealed:` then those bytes in unpadded upper-case base32.

use core::{fmt, str::FromStr};

use super::kind::SecretKind;
use crate::{error::Error, otp::base32};

/// The format version written.
pub(super) const VERSION: u8 = 1;
/// XChaCha20's nonce: 192 bits, safe to draw at random for every seal.
pub(super) const NONCE_LEN: usize = 24;
/// Poly1305's tag.
pub(super) const TAG_LEN: usize = 16;
/// The longest plaintext: the longest [`Secret`](crate::Secret).
pub(super) const MAX_PLAINTEXT: usize = 128;
/// Bytes before the ciphertext.
const HEADER_LEN: usize = 1 + 1 + 4 + NONCE_LEN + 1;
/// The longest sealed form in bytes.
pub const MAX_SEALED_LEN: usize = HEADER_LEN + MAX_PLAINTEXT + TAG_LEN;
/// The text form's prefix.
const TEXT_PREFIX: &str = "sealed:";

/// A secret sealed under a [`Keyring`](super::Keyring) key: encrypted
/// and authenticated with XChaCha20-Poly1305, bound to its kind, its key
/// id, the account and the purpose it was sealed for. Not itself secret:
/// store it as bytes ([`Sealed::to_bytes`]) or text (`Display`/`FromStr`).
///
/// Kept inline, with no allocator needed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sealed {
    pub(super) kind: SecretKind,
    pub(super) key_id: u32,
    pub(super) nonce: [u8; NONCE_LEN],
    pub(super) len: u8,
    pub(super) ciphertext: [u8; MAX_PLAINTEXT],
    pub(super) tag: [u8; TAG_LEN],
}

/// A sealed form as bytes, inline: [`Sealed::to_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedBytes {
    bytes: [u8; MAX_SEALED_LEN],
    len: usize,
}

impl AsRef<[u8]> for SealedBytes {
    fn as_ref(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl Sealed {
    /// The kind of secret inside.
    #[must_use]
    pub fn kind(&self) -> SecretKind {
        self.kind
    }

    /// The id of the key it was sealed under: a record whose id is not the
    /// keyring's current one is due to be sealed again.
    #[must_use]
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The ciphertext, as long as the secret.
    pub(super) fn ciphertext(&self) -> &[u8] {
        self.ciphertext
            .get(..usize::from(self.len))
            .unwrap_or_default()
    }

    /// The header fields the tag authenticates, in their written order.
    pub(super) fn header(&self) -> [u8; HEADER_LEN - NONCE_LEN] {
        let id = self.key_id.to_be_bytes();
        [
            VERSION,
            self.kind.code(),
            id[0],
            id[1],
            id[2],
            id[3],
            self.len,
        ]
    }

    /// The binary encoding, for a `BYTEA` or `BLOB` column.
    #[must_use]
    pub fn to_bytes(&self) -> SealedBytes {
        let mut bytes = [0; MAX_SEALED_LEN];
        let header = self.header();
        let parts: [&[u8]; 5] = [
            header.get(..6).unwrap_or_default(),
            &self.nonce,
            header.get(6..).unwrap_or_default(),
            self.ciphertext(),
            &self.tag,
        ];
        let mut len = 0;
        for part in parts {
            for (slot, byte) in bytes.iter_mut().skip(len).zip(part) {
                *slot = *byte;
            }
            len += part.len();
        }
        SealedBytes { bytes, len }
    }

    /// Reads the binary encoding.
    ///
    /// # Errors
    /// [`Error::UnsupportedSealVersion`] for a version this crate does not
    /// write, or [`Error::MalformedSealed`] for anything else that is not
    /// a sealed form (wrong length, unknown kind).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let (&version, rest) = bytes.split_first().ok_or(Error::MalformedSealed)?;
        if version != VERSION {
            return Err(Error::UnsupportedSealVersion);
        }
        let (&kind, rest) = rest.split_first().ok_or(Error::MalformedSealed)?;
        let kind = SecretKind::from_code(kind).ok_or(Error::MalformedSealed)?;
        let (key_id, rest) = rest
            .split_first_chunk::<4>()
            .ok_or(Error::MalformedSealed)?;
        let (nonce, rest) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(Error::MalformedSealed)?;
        let (&len, rest) = rest.split_first().ok_or(Error::MalformedSealed)?;
        let n = usize::from(len);
        if n == 0 || n > MAX_PLAINTEXT || rest.len() != n + TAG_LEN {
            return Err(Error::MalformedSealed);
        }
        let (ciphertext, tag) = rest.split_at(n);
        let mut sealed = Self {
            kind,
            key_id: u32::from_be_bytes(*key_id),
            nonce: *nonce,
            len,
            ciphertext: [0; MAX_PLAINTEXT],
            tag: tag.try_into().map_err(|_| Error::MalformedSealed)?,
        };
        for (slot, byte) in sealed.ciphertext.iter_mut().zip(ciphertext) {
            *slot = *byte;
        }
        Ok(sealed)
    }
}

impl fmt::Display for Sealed {
    /// The text encoding, for a `TEXT` column: `sealed:` and base32.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TEXT_PREFIX)?;
        base32::Encoder(self.to_bytes().as_ref()).fmt(f)
    }
}

impl FromStr for Sealed {
    type Err = Error;

    /// Reads the text encoding.
    ///
    /// # Errors
    /// As [`Sealed::from_bytes`], and [`Error::MalformedSealed`] for text
    /// without the prefix or not base32.
    fn from_str(text: &str) -> Result<Self, Error> {
        let encoded = text
            .strip_prefix(TEXT_PREFIX)
            .ok_or(Error::MalformedSealed)?;
        let mut bytes = [0; MAX_SEALED_LEN];
        let len = base32::decode(encoded, &mut bytes).map_err(|_| Error::MalformedSealed)?;
        Self::from_bytes(bytes.get(..len).unwrap_or_default())
    }
}

impl fmt::Debug for Sealed {
    /// The kind and key id; the ciphertext is no secret, but says nothing
    /// useful either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("kind", &self.kind)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
