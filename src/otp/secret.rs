//! The shared secret: storage, base32 in and out, generation, wiping.

use core::fmt;

use rand_core::TryCryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::ZeroizeOnDrop;

use super::{base32, wipe::wipe};
use crate::error::Error;

/// The key shared between a service and an authenticator.
///
/// Kept inline (no allocator needed) and wiped when dropped. `Debug` shows
/// only its length; it never appears in an [`Error`]. Two secrets compare
/// equal in constant time.
///
/// ```
/// use twofa::Secret;
///
/// // As people paste it: lower case, spaces, padding.
/// let secret = Secret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq")?;
/// assert_eq!(secret.expose_bytes(), b"12345678901234567890");
/// assert_eq!(format!("{}", secret.expose_base32()), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: [u8; Secret::MAX_LEN],
    len: usize,
}

impl Secret {
    /// The shortest secret accepted by default: 128 bits (RFC 4226 R6).
    pub const MIN_LEN: usize = 16;
    /// The shortest secret accepted through the `*_accepting_80_bit`
    /// constructors: 80 bits, as some services still issue.
    pub const MIN_LEN_80_BIT: usize = 10;
    /// The length [`Secret::generate`] uses: 160 bits, as RFC 4226 recommends
    /// and the SHA-1 output length (RFC 6238 §5.1).
    pub const DEFAULT_LEN: usize = 20;
    /// The longest secret: 128 bytes, the SHA-512 block size. HMAC hashes
    /// longer keys down to the output size first, so nothing is gained
    /// beyond it.
    pub const MAX_LEN: usize = 128;

    /// A secret from raw bytes of at least [`Secret::MIN_LEN`].
    ///
    /// # Errors
    /// [`Error::SecretTooShort`] or [`Error::SecretTooLong`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes_with_min(bytes, Self::MIN_LEN)
    }

    /// A secret from raw bytes of at least [`Secret::MIN_LEN_80_BIT`]:
    /// only for importing 80-bit secrets that an existing service issued.
    /// New secrets should come from [`Secret::generate`].
    ///
    /// # Errors
    /// [`Error::SecretTooShort`] or [`Error::SecretTooLong`].
    pub fn from_bytes_accepting_80_bit(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_bytes_with_min(bytes, Self::MIN_LEN_80_BIT)
    }

    /// A secret from base32 as people paste it: upper or lower case, with or
    /// without `=` padding, with spaces or hyphens between groups. At least
    /// [`Secret::MIN_LEN`] bytes once decoded.
    ///
    /// # Errors
    /// [`Error::InvalidBase32`], [`Error::SecretTooShort`] or
    /// [`Error::SecretTooLong`].
    pub fn from_base32(text: &str) -> Result<Self, Error> {
        Self::from_base32_with_min(text, Self::MIN_LEN)
    }

    /// Like [`Secret::from_base32`], but accepting secrets down to
    /// [`Secret::MIN_LEN_80_BIT`] bytes: only for importing 80-bit secrets
    /// that an existing service issued.
    ///
    /// # Errors
    /// [`Error::InvalidBase32`], [`Error::SecretTooShort`] or
    /// [`Error::SecretTooLong`].
    pub fn from_base32_accepting_80_bit(text: &str) -> Result<Self, Error> {
        Self::from_base32_with_min(text, Self::MIN_LEN_80_BIT)
    }

    /// A fresh secret of [`Secret::DEFAULT_LEN`] bytes from a
    /// cryptographically secure generator, such as `getrandom::SysRng`.
    ///
    /// # Errors
    /// [`Error::RngFailure`] when the generator fails.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        Self::generate_with_len(rng, Self::DEFAULT_LEN)
    }

    /// A fresh secret of `len` bytes (from [`Secret::MIN_LEN`] to
    /// [`Secret::MAX_LEN`]); RFC 6238 §5.1 suggests the HMAC output length:
    /// 20, 32 or 64 bytes for SHA-1, SHA-256 or SHA-512.
    ///
    /// # Errors
    /// [`Error::SecretTooShort`], [`Error::SecretTooLong`] or
    /// [`Error::RngFailure`].
    pub fn generate_with_len<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        len: usize,
    ) -> Result<Self, Error> {
        let mut secret = Self::empty(len, Self::MIN_LEN)?;
        let bytes = secret.bytes.get_mut(..len).ok_or(Error::SecretTooLong)?;
        rng.try_fill_bytes(bytes).map_err(|_| Error::RngFailure)?;
        Ok(secret)
    }

    /// The raw bytes, for storing the secret or handing it to other code.
    /// Treat them as the secret itself.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The bytes followed by zeros up to [`Secret::MAX_LEN`]: every
    /// constructor starts from zeros and writes only the first
    /// [`Secret::byte_len`] bytes. HMAC pads a key of up to one block with
    /// zeros (RFC 2104 §2), so this is the padded key of any such secret,
    /// taken as a fixed-size block with no copy of a variable length.
    pub(crate) fn zero_padded(&self) -> &[u8; Secret::MAX_LEN] {
        &self.bytes
    }

    /// The length in bytes.
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.len
    }

    /// The number of characters [`Secret::expose_base32`] writes, for sizing
    /// a buffer.
    #[must_use]
    pub fn base32_len(&self) -> usize {
        base32::encoded_len(self.len)
    }

    /// The secret as unpadded uppercase base32 (the form authenticator apps
    /// and `otpauth://` URIs take), written through [`fmt::Display`] with no
    /// allocation. Anything it is written to holds the secret.
    #[must_use]
    pub fn expose_base32(&self) -> impl fmt::Display + '_ {
        base32::Encoder(self.expose_bytes())
    }

    /// The secret as unpadded uppercase base32 in a string that is wiped
    /// when dropped.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_base32(&self) -> zeroize::Zeroizing<alloc::string::String> {
        use core::fmt::Write as _;
        // Sized up front so that no reallocation leaves a copy behind.
        let mut text = alloc::string::String::with_capacity(self.base32_len());
        // Writing into a String cannot fail.
        let _ = write!(text, "{}", self.expose_base32());
        zeroize::Zeroizing::new(text)
    }

    fn empty(len: usize, min: usize) -> Result<Self, Error> {
        if len < min {
            Err(Error::SecretTooShort)
        } else if len > Self::MAX_LEN {
            Err(Error::SecretTooLong)
        } else {
            Ok(Self {
                bytes: [0; Self::MAX_LEN],
                len,
            })
        }
    }

    fn from_bytes_with_min(bytes: &[u8], min: usize) -> Result<Self, Error> {
        let mut secret = Self::empty(bytes.len(), min)?;
        secret
            .bytes
            .get_mut(..bytes.len())
            .ok_or(Error::SecretTooLong)?
            .copy_from_slice(bytes);
        Ok(secret)
    }

    fn from_base32_with_min(text: &str, min: usize) -> Result<Self, Error> {
        let mut secret = Self {
            bytes: [0; Self::MAX_LEN],
            len: 0,
        };
        secret.len = base32::decode(text, &mut secret.bytes)?;
        if secret.len < min {
            return Err(Error::SecretTooShort);
        }
        Ok(secret)
    }
}

impl ConstantTimeEq for Secret {
    fn ct_eq(&self, other: &Self) -> Choice {
        // Lengths are public; the contents are compared in constant time.
        self.expose_bytes().ct_eq(other.expose_bytes())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Secret {}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.bytes, [0; Secret::MAX_LEN]);
    }
}

impl ZeroizeOnDrop for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}
