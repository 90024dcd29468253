//! The hash functions HMAC runs over.

use core::{fmt, str::FromStr};

use crate::error::Error;

/// The hash function under HMAC (RFC 6238 §1.2 allows SHA-1, SHA-256 and
/// SHA-512; RFC 4226 uses SHA-1).
///
/// SHA-1 is the default and the only one every authenticator app honours;
/// HMAC-SHA-1 remains sound for one-time passwords (RFC 4226 Appendix A.2).
///
/// Parsed case-insensitively from `SHA1`, `SHA256`, `SHA512` (with or
/// without a hyphen), and displayed as the `otpauth://` URI names them.
///
/// ```
/// use twofa::Algorithm;
///
/// assert_eq!("sha256".parse::<Algorithm>()?, Algorithm::Sha256);
/// assert_eq!(Algorithm::Sha512.to_string(), "SHA512");
/// assert!("MD5".parse::<Algorithm>().is_err());
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// HMAC-SHA-1: 20-byte output.
    #[default]
    Sha1,
    /// HMAC-SHA-256: 32-byte output.
    Sha256,
    /// HMAC-SHA-512: 64-byte output.
    Sha512,
}

impl Algorithm {
    /// Every algorithm, in order.
    pub const ALL: [Self; 3] = [Self::Sha1, Self::Sha256, Self::Sha512];

    /// The name used in `otpauth://` URIs: `SHA1`, `SHA256` or `SHA512`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// The HMAC output length in bytes, which RFC 6238 §5.1 suggests for
    /// the secret's length too.
    #[must_use]
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let (prefix, bits) = s.split_at_checked(3).ok_or(Error::UnknownAlgorithm)?;
        if !prefix.eq_ignore_ascii_case("SHA") {
            return Err(Error::UnknownAlgorithm);
        }
        match bits.strip_prefix('-').unwrap_or(bits) {
            "1" => Ok(Self::Sha1),
            "256" => Ok(Self::Sha256),
            "512" => Ok(Self::Sha512),
            _ => Err(Error::UnknownAlgorithm),
        }
    }
}
