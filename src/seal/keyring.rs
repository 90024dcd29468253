//! The keys a service seals with: one current key that seals, older ones
//! that still open what they sealed, each found by the id the sealed form
//! records. Rotation without downtime: add a key, make it current, re-seal
//! records as they are used (or in a batch), retire the old key.

use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305};
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{
    key::SealingKey,
    kind::SecretKind,
    sealed::{MAX_PLAINTEXT, NONCE_LEN, Sealed},
};
#[cfg(feature = "alloc")]
use crate::factor::RecoveryPepper;
use crate::{
    error::Error,
    factor::{Binding, DigestKey},
    otp::Secret,
};

/// A secret opened from its sealed form, and whether to seal it again.
#[derive(Debug)]
#[must_use]
pub struct Opened<T> {
    /// The secret.
    pub value: T,
    /// The sealed form was made under a key that is no longer current:
    /// seal the value again ([`Keyring::reseal`]) and save the new form in
    /// the same compare-and-swap as the rest of the login's state.
    pub reseal: bool,
}

/// Several sealing keys, one of them current.
///
/// Holds up to [`Keyring::MAX_KEYS`] keys inline (no allocator needed).
/// Every key is wiped when the keyring is dropped; `Debug` shows ids only.
///
/// ```
/// use twofa::{Binding, Keyring, SealingKey, Secret, SecretKind};
///
/// let mut rng = getrandom::SysRng;
/// // Keys come from the service's secret storage; generated for the demo.
/// let mut keyring = Keyring::new(SealingKey::generate(1, &mut rng)?);
/// let secret = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?;
/// let alice = Binding::new("alice", "totp");
/// let stored = keyring.seal_secret(&mut rng, SecretKind::Totp, &secret, alice)?.to_string();
///
/// // Rotation: a new current key; the old one still opens, and says so.
/// keyring = keyring.with_key(SealingKey::generate(2, &mut rng)?)?;
/// keyring.make_current(2)?;
/// let opened = keyring.open_secret(&stored.parse()?, SecretKind::Totp, alice)?;
/// assert_eq!(opened.value, secret);
/// assert!(opened.reseal);
/// let resealed = keyring.reseal(&mut rng, &stored.parse()?, SecretKind::Totp, alice)?;
/// assert_eq!(resealed.key_id(), 2);
///
/// // Bound to its account: copied to another account's row, it fails.
/// let bob = Binding::new("bob", "totp");
/// assert!(keyring.open_secret(&resealed, SecretKind::Totp, bob).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    keys: [Option<SealingKey>; Keyring::MAX_KEYS],
    current: u32,
}

impl Keyring {
    /// The most keys a keyring holds: rotation needs two at a time.
    pub const MAX_KEYS: usize = 8;

    /// A keyring whose current key is `current`.
    #[must_use]
    pub fn new(current: SealingKey) -> Self {
        let id = current.id();
        let mut keys: [Option<SealingKey>; Self::MAX_KEYS] = Default::default();
        keys[0] = Some(current);
        Self { keys, current: id }
    }

    /// The keyring with `key` added (an older key that must still open
    /// what it sealed, or a newer one not yet current).
    ///
    /// # Errors
    /// [`Error::DuplicateKeyId`] when a key has its id, or
    /// [`Error::KeyringFull`].
    pub fn with_key(mut self, key: SealingKey) -> Result<Self, Error> {
        if self.key(key.id()).is_some() {
            return Err(Error::DuplicateKeyId);
        }
        let slot = self
            .keys
            .iter_mut()
            .find(|slot| slot.is_none())
            .ok_or(Error::KeyringFull)?;
        *slot = Some(key);
        Ok(self)
    }

    /// Seals with key `id` from now on.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`].
    pub fn make_current(&mut self, id: u32) -> Result<(), Error> {
        self.key(id).ok_or(Error::UnknownKeyId)?;
        self.current = id;
        Ok(())
    }

    /// Drops key `id`, once nothing sealed under it is left.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`], or [`Error::CurrentKeyRetired`] for the
    /// current key.
    pub fn retire(&mut self, id: u32) -> Result<(), Error> {
        if id == self.current {
            return Err(Error::CurrentKeyRetired);
        }
        let slot = self
            .keys
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|key| key.id() == id))
            .ok_or(Error::UnknownKeyId)?;
        *slot = None;
        Ok(())
    }

    /// The current key's id.
    #[must_use]
    pub fn current_id(&self) -> u32 {
        self.current
    }

    /// Seals a TOTP or HOTP secret for `binding`'s account and purpose.
    ///
    /// # Errors
    /// [`Error::SealedKindMismatch`] for a kind other than
    /// [`SecretKind::Totp`] or [`SecretKind::Hotp`], or
    /// [`Error::RngFailure`].
    pub fn seal_secret<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        kind: SecretKind,
        secret: &Secret,
        binding: Binding<'_>,
    ) -> Result<Sealed, Error> {
        if !matches!(kind, SecretKind::Totp | SecretKind::Hotp) {
            return Err(Error::SealedKindMismatch);
        }
        self.seal(rng, kind, binding, secret.expose_bytes())
    }

    /// Opens a sealed TOTP or HOTP secret.
    ///
    /// # Errors
    /// [`Error::SealedKindMismatch`] when it was sealed as another kind,
    /// [`Error::UnknownKeyId`] when its key is not in the keyring, or
    /// [`Error::SealedTampered`] when it fails authentication (altered, or
    /// sealed for another account or purpose).
    pub fn open_secret(
        &self,
        sealed: &Sealed,
        kind: SecretKind,
        binding: Binding<'_>,
    ) -> Result<Opened<Secret>, Error> {
        if !matches!(kind, SecretKind::Totp | SecretKind::Hotp) {
            return Err(Error::SealedKindMismatch);
        }
        self.open_with(sealed, kind, binding, |plain| {
            // Sealed only from a valid secret, so any length it has is one
            // a secret may have (80-bit imports included).
            Secret::from_bytes_accepting_80_bit(plain).map_err(|_| Error::SealedTampered)
        })
    }

    /// Seals an out-of-band code key, with its id.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn seal_digest_key<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        key: &DigestKey,
        binding: Binding<'_>,
    ) -> Result<Sealed, Error> {
        let plain = id_and_bytes(key.id(), key.expose_bytes());
        self.seal(rng, SecretKind::DigestKey, binding, &*plain)
    }

    /// Opens a sealed out-of-band code key.
    ///
    /// # Errors
    /// As [`Keyring::open_secret`].
    pub fn open_digest_key(
        &self,
        sealed: &Sealed,
        binding: Binding<'_>,
    ) -> Result<Opened<DigestKey>, Error> {
        self.open_with(sealed, SecretKind::DigestKey, binding, |plain| {
            let (id, bytes) = split_id_and_bytes(plain)?;
            Ok(DigestKey::new(id, *bytes))
        })
    }

    /// Seals a recovery-code pepper, with its id.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    #[cfg(feature = "alloc")]
    pub fn seal_recovery_pepper<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        pepper: &RecoveryPepper,
        binding: Binding<'_>,
    ) -> Result<Sealed, Error> {
        let plain = id_and_bytes(pepper.id(), pepper.expose_bytes());
        self.seal(rng, SecretKind::RecoveryPepper, binding, &*plain)
    }

    /// Opens a sealed recovery-code pepper.
    ///
    /// # Errors
    /// As [`Keyring::open_secret`].
    #[cfg(feature = "alloc")]
    pub fn open_recovery_pepper(
        &self,
        sealed: &Sealed,
        binding: Binding<'_>,
    ) -> Result<Opened<RecoveryPepper>, Error> {
        self.open_with(sealed, SecretKind::RecoveryPepper, binding, |plain| {
            let (id, bytes) = split_id_and_bytes(plain)?;
            Ok(RecoveryPepper::new(id, *bytes))
        })
    }

    /// Opens `sealed`, which must be of `kind` (the kind its column holds,
    /// never the kind the record says), and seals it again under the
    /// current key, with a fresh nonce: for [`Opened::reseal`], or a batch
    /// after a rotation.
    ///
    /// # Errors
    /// As [`Keyring::open_secret`], and [`Error::RngFailure`].
    pub fn reseal<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        sealed: &Sealed,
        kind: SecretKind,
        binding: Binding<'_>,
    ) -> Result<Sealed, Error> {
        let mut plain = Zeroizing::new([0; MAX_PLAINTEXT]);
        let len = self.open(sealed, kind, binding, &mut plain)?;
        self.seal(rng, kind, binding, plain.get(..len).unwrap_or_default())
    }

    fn key(&self, id: u32) -> Option<&SealingKey> {
        self.keys.iter().flatten().find(|key| key.id() == id)
    }

    /// Encrypts `plain` under the current key with a fresh random nonce.
    fn seal<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        kind: SecretKind,
        binding: Binding<'_>,
        plain: &[u8],
    ) -> Result<Sealed, Error> {
        let key = self.key(self.current).ok_or(Error::UnknownKeyId)?;
        let len = u8::try_from(plain.len())
            .ok()
            .filter(|&len| len > 0 && usize::from(len) <= MAX_PLAINTEXT)
            .ok_or(Error::SecretTooLong)?;
        let mut sealed = Sealed {
            kind,
            key_id: key.id(),
            nonce: [0; NONCE_LEN],
            len,
            ciphertext: [0; MAX_PLAINTEXT],
            tag: [0; 16],
        };
        rng.try_fill_bytes(&mut sealed.nonce)
            .map_err(|_| Error::RngFailure)?;
        for (slot, byte) in sealed.ciphertext.iter_mut().zip(plain) {
            *slot = *byte;
        }
        let aad = associated_data(&sealed, binding);
        let buffer = sealed
            .ciphertext
            .get_mut(..usize::from(len))
            .ok_or(Error::SecretTooLong)?;
        let tag = cipher(key)
            .encrypt_inout_detached((&sealed.nonce).into(), &aad, buffer.into())
            .map_err(|_| Error::SecretTooLong)?;
        sealed.tag = tag.into();
        Ok(sealed)
    }

    /// Decrypts `sealed` into `plain`, and says how long it is.
    fn open(
        &self,
        sealed: &Sealed,
        kind: SecretKind,
        binding: Binding<'_>,
        plain: &mut [u8; MAX_PLAINTEXT],
    ) -> Result<usize, Error> {
        if sealed.kind != kind {
            return Err(Error::SealedKindMismatch);
        }
        let key = self.key(sealed.key_id).ok_or(Error::UnknownKeyId)?;
        let ciphertext = sealed.ciphertext();
        for (slot, byte) in plain.iter_mut().zip(ciphertext) {
            *slot = *byte;
        }
        let buffer = plain
            .get_mut(..ciphertext.len())
            .ok_or(Error::MalformedSealed)?;
        cipher(key)
            .decrypt_inout_detached(
                (&sealed.nonce).into(),
                &associated_data(sealed, binding),
                buffer.into(),
                (&sealed.tag).into(),
            )
            .map_err(|_| Error::SealedTampered)?;
        Ok(ciphertext.len())
    }

    /// Opens `sealed` and builds its value from the plaintext, which is
    /// wiped afterwards.
    fn open_with<T>(
        &self,
        sealed: &Sealed,
        kind: SecretKind,
        binding: Binding<'_>,
        build: impl FnOnce(&[u8]) -> Result<T, Error>,
    ) -> Result<Opened<T>, Error> {
        let mut plain = Zeroizing::new([0; MAX_PLAINTEXT]);
        let len = self.open(sealed, kind, binding, &mut plain)?;
        Ok(Opened {
            value: build(plain.get(..len).unwrap_or_default())?,
            reseal: sealed.key_id != self.current,
        })
    }
}

impl core::fmt::Debug for Keyring {
    /// The ids, never the keys.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("keys", &Ids(&self.keys))
            .finish()
    }
}

/// The ids of a keyring's keys, for `Debug`.
struct Ids<'a>(&'a [Option<SealingKey>]);

impl core::fmt::Debug for Ids<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().flatten().map(SealingKey::id))
            .finish()
    }
}

/// XChaCha20-Poly1305 under `key` (its copy of the key is wiped on drop).
fn cipher(key: &SealingKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.expose_bytes().into())
}

/// What the tag binds besides the ciphertext: the header (version, kind,
/// key id, length) and a digest of the account and purpose, each
/// length-prefixed. The digest keeps it fixed-size, with no allocator.
fn associated_data(sealed: &Sealed, binding: Binding<'_>) -> [u8; 7 + 32] {
    let mut hash = Sha256::new();
    hash.update(b"twofa sealed v1\0");
    for part in [binding.account(), binding.purpose()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest: [u8; 32] = hash.finalize().into();
    let mut aad = [0; 7 + 32];
    for (slot, byte) in aad.iter_mut().zip(sealed.header().iter().chain(&digest)) {
        *slot = *byte;
    }
    aad
}

/// A key's id and bytes, as one plaintext.
fn id_and_bytes(id: u32, bytes: &[u8; 32]) -> Zeroizing<[u8; 36]> {
    let mut plain = Zeroizing::new([0; 36]);
    for (slot, byte) in plain.iter_mut().zip(id.to_be_bytes().iter().chain(bytes)) {
        *slot = *byte;
    }
    plain
}

/// The id and bytes of a key's plaintext.
fn split_id_and_bytes(plain: &[u8]) -> Result<(u32, &[u8; 32]), Error> {
    let (id, bytes) = plain
        .split_first_chunk::<4>()
        .ok_or(Error::SealedTampered)?;
    let bytes: &[u8; 32] = bytes.try_into().map_err(|_| Error::SealedTampered)?;
    Ok((u32::from_be_bytes(*id), bytes))
}
