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

    /// A keyed digest of a record of the service's own (a user's password
    /// hash and phone, say), bound to `binding`'s account and purpose:
    /// HMAC-SHA-256 under this key of `parts`, each length-prefixed. Keep
    /// it, and this key's id, with the record, and check it with
    /// [`DigestKey::record_digest_matches`] whenever the record is read:
    /// someone who can write the database but holds no key can then
    /// neither forge the record nor copy another account's into it.
    #[must_use]
    pub fn record_digest(&self, binding: Binding<'_>, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac(b"twofa service record v1\0", binding);
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// Whether `stored` is [`DigestKey::record_digest`] of `parts` for
    /// `binding`, under the key of `keys` with id `key_id`; compared in
    /// constant time.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`] when no key of `keys` has that id.
    pub fn record_digest_matches(
        keys: &[Self],
        key_id: u32,
        binding: Binding<'_>,
        parts: &[&[u8]],
        stored: &[u8; 32],
    ) -> Result<bool, Error> {
        let key = Self::find(keys, key_id)?;
        let mut digest = key.record_digest(binding, parts);
        let hit = digest.ct_eq(stored);
        digest.zeroize();
        Ok(bool::from(hit))
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
