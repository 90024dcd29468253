//! The service's key for keyed digests of single-use values: out-of-band
//! codes, pending-login tickets, remembered-device tokens. Records keep
//! only such digests, so a stolen record without the key reveals nothing.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::binding::Binding;
use crate::error::Error;

crate::otp::id_key! {
    /// The service's key for keyed digests: 32 random bytes, kept like any other server secret (sealed at rest with
    /// [`Keyring::seal_digest_key`](crate::Keyring::seal_digest_key)), with an
    /// id that each record made under it keeps.
    ///
    /// Rotation: issue under a new key (a new id), and keep the old one among
    /// the keys passed to the checks until its records have expired, then
    /// drop it.
    DigestKey
}

impl DigestKey {
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
