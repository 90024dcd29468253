//! A key that seals secrets at rest: 32 random bytes and an id that every
//! sealed secret records, so that the right key is found after a rotation.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;

/// One sealing key: 256 bits for XChaCha20-Poly1305, and its id.
///
/// Keep it where the database is not: a secrets manager, a KMS-wrapped
/// file, an environment variable of the service. Wiped on drop; `Debug`
/// shows the id only.
#[derive(Clone)]
pub struct SealingKey {
    id: u32,
    bytes: [u8; 32],
}

impl SealingKey {
    /// Key `id` from 32 bytes.
    #[must_use]
    pub fn new(id: u32, bytes: [u8; 32]) -> Self {
        Self { id, bytes }
    }

    /// A fresh key `id` from a cryptographically secure generator.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn generate<R: TryCryptoRng + ?Sized>(id: u32, rng: &mut R) -> Result<Self, Error> {
        let mut key = Self { id, bytes: [0; 32] };
        rng.try_fill_bytes(&mut key.bytes)
            .map_err(|_| Error::RngFailure)?;
        Ok(key)
    }

    /// The key's id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The key's bytes, to store it.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl Drop for SealingKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SealingKey {}

impl fmt::Debug for SealingKey {
    /// The id, never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
