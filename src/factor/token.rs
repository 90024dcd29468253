//! Bearer tokens a client holds: a pending-login ticket, a
//! remembered-device cookie. 128 bits of id, by which the service finds
//! the record, and 128 bits of secret, which only the record's keyed
//! digest can confirm.

use core::{fmt, str::FromStr};

use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{error::Error, otp::base32};

/// A bearer token: 32 random bytes from the caller's generator. `Display`
/// writes 52 base32 characters for the client; `Debug` hides it; wiped on
/// drop.
#[derive(Clone)]
pub struct Token(Zeroizing<[u8; 32]>);

impl Token {
    /// A fresh token.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub(crate) fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut token = Self(Zeroizing::new([0; 32]));
        rng.try_fill_bytes(&mut *token.0)
            .map_err(|_| Error::RngFailure)?;
        Ok(token)
    }

    /// The public half, by which the service finds the token's record.
    #[must_use]
    pub fn id(&self) -> [u8; 16] {
        let mut id = [0; 16];
        for (slot, byte) in id.iter_mut().zip(self.0.iter()) {
            *slot = *byte;
        }
        id
    }

    /// All 32 bytes, for the record's digest.
    pub(crate) fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Token {
    /// 52 base32 characters, to give the client.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        base32::Encoder(&*self.0).fmt(f)
    }
}

impl FromStr for Token {
    type Err = Error;

    /// Reads a token as the client sent it back (base32, any case).
    ///
    /// # Errors
    /// [`Error::MalformedToken`] for anything but 32 bytes of base32.
    fn from_str(text: &str) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0; 33]);
        match base32::decode(text, &mut *bytes) {
            Ok(32) => {
                let mut token = Self(Zeroizing::new([0; 32]));
                for (slot, byte) in token.0.iter_mut().zip(bytes.iter()) {
                    *slot = *byte;
                }
                Ok(token)
            }
            _ => Err(Error::MalformedToken),
        }
    }
}

/// Compared in constant time: a token is a bearer secret.
impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}

impl Eq for Token {}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}
