//! A server-side secret mixed into recovery-code digests, with an id, so
//! that a stolen database alone cannot test a guess.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;

/// A server-side secret mixed into every recovery-code digest (Argon2's
/// secret input, RFC 9106 §3.1), with an id the record keeps: kept apart
/// from the database (in the service's secret storage), so that a stolen
/// database alone cannot test a single guess.
///
/// Rotation: new sets are made under a new pepper (a new id); keep the old
/// one among the peppers passed to [`RecoveryCodes::verify`] until every
/// set made under it has been replaced.
#[derive(Clone)]
pub struct RecoveryPepper {
    id: u32,
    bytes: [u8; 32],
}

impl RecoveryPepper {
    /// Pepper `id` from 32 bytes.
    #[must_use]
    pub fn new(id: u32, bytes: [u8; 32]) -> Self {
        Self { id, bytes }
    }

    /// A fresh pepper `id` from a cryptographically secure generator.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn generate<R: TryCryptoRng + ?Sized>(id: u32, rng: &mut R) -> Result<Self, Error> {
        let mut pepper = Self { id, bytes: [0; 32] };
        rng.try_fill_bytes(&mut pepper.bytes)
            .map_err(|_| Error::RngFailure)?;
        Ok(pepper)
    }

    /// The pepper's id, recorded in each set made with it.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The pepper's bytes, to store it.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl Drop for RecoveryPepper {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for RecoveryPepper {}

impl fmt::Debug for RecoveryPepper {
    /// The id, never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryPepper")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
