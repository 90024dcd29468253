//! The service's key for keyed digests of single-use values: out-of-band
//! codes, pending-login tickets, remembered-device tokens. Records keep
//! only such digests, so a stolen record without the key reveals nothing.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::TryCryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::binding::Binding;
use crate::error::Error;

/// 32 random bytes, kept like any other server secret (sealed at rest with
/// [`Keyring::seal_digest_key`](crate::Keyring::seal_digest_key)), with an
/// id that each record made under it keeps.
///
/// Rotation: issue under a new key (a new id), and keep the old one among
/// the keys passed to the checks until its records have expired, then
/// drop it.
#[derive(Clone)]
pub struct DigestKey {
    id: u32,
    bytes: [u8; 32],
}

impl DigestKey {
    /// Key `id` from 32 bytes (load it from the service's secret storage).
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

    /// The key's id, recorded in each record made under it.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The key's bytes, to store it.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// HMAC-SHA-256 under this key, started with a domain label (ending in
    /// a zero byte) and the binding, each part length-prefixed.
    pub(crate) fn mac(&self, domain: &[u8], binding: Binding<'_>) -> Hmac<Sha256> {
        // HMAC pads a short key with zeros to the block size (RFC 2104
        // §2), so keying with the padded block is HMAC under the key itself.
        let mut block = Zeroizing::new([0u8; 64]);
        for (padded, byte) in block.iter_mut().zip(&self.bytes) {
            *padded = *byte;
        }
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
        mac.update(domain);
        binding.feed(&mut mac);
        mac
    }

    /// The key among `keys` with `id`.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`].
    pub(crate) fn find(keys: &[Self], id: u32) -> Result<&Self, Error> {
        keys.iter()
            .find(|key| key.id == id)
            .ok_or(Error::UnknownKeyId)
    }
}

/// Whether a MAC's output equals `stored`, in constant time; the output is
/// wiped.
pub(crate) fn digest_matches(mac: Hmac<Sha256>, stored: &[u8; 32]) -> bool {
    let mut digest: [u8; 32] = mac.finalize().into_bytes().into();
    let hit = digest.ct_eq(stored);
    digest.zeroize();
    bool::from(hit)
}

impl Drop for DigestKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for DigestKey {}

impl fmt::Debug for DigestKey {
    /// The id, never the bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
