//! Credential public keys as COSE_Key maps (RFC 9052 §7, RFC 9053) and
//! the signatures they verify: ES256, EdDSA (Ed25519) and RS256.

use ed25519_dalek::VerifyingKey as Ed25519Key;
use p256::ecdsa::{
    Signature as EcdsaSignature, VerifyingKey as P256Key, signature::hazmat::PrehashVerifier,
};
use sha2::{Digest, Sha256};

use super::{authenticator_data::MAX_AUTHENTICATOR_DATA_LEN, cbor::Reader, error::WebauthnError};

/// The signature algorithms a credential may use, by their COSE
/// identifiers.
///
/// RS256 needs the feature `webauthn-rsa` (and with it an allocator);
/// without it an RS256 credential is refused as
/// [`WebauthnError::UnsupportedAlgorithm`]. ES384, ES512, Ed448, PS256 and
/// RS1 are refused everywhere: no authenticator in use needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CoseAlgorithm {
    /// ECDSA on P-256 with SHA-256 (-7): security keys, Apple, Android,
    /// password managers.
    Es256,
    /// EdDSA (-8), with Ed25519 keys only, verified strictly
    /// (`verify_strict`: no small-order points, canonical `s`).
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (-257): Windows Hello and TPM keys,
    /// 2048 to 4096 bits.
    Rs256,
}

impl CoseAlgorithm {
    /// Every algorithm this build verifies, in the order a relying party
    /// should offer them (`pubKeyCredParams`).
    pub const SUPPORTED: &'static [Self] = &[
        Self::Es256,
        Self::EdDsa,
        #[cfg(feature = "webauthn-rsa")]
        Self::Rs256,
    ];

    /// The COSE algorithm identifier.
    pub const fn identifier(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::EdDsa => -8,
            Self::Rs256 => -257,
        }
    }

    /// The algorithm with COSE identifier `id`, if it is one of these.
    pub const fn from_identifier(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Self::Es256),
            -8 => Some(Self::EdDsa),
            -257 => Some(Self::Rs256),
            _ => None,
        }
    }
}

/// The smallest and largest RSA modulus accepted, in bits.
#[cfg(feature = "webauthn-rsa")]
const RSA_BITS: core::ops::RangeInclusive<usize> = 2048..=4096;

/// A credential public key, decoded and checked.
#[derive(Clone, Debug)]
pub(super) enum CredentialKey {
    Es256(P256Key),
    Ed25519(Ed25519Key),
    #[cfg(feature = "webauthn-rsa")]
    Rs256(rsa::pkcs1v15::VerifyingKey<Sha256>),
}

/// A credential public key decoded once from its stored COSE_Key, for a
/// service that keeps credentials in memory: decoding costs about a tenth
/// of an Ed25519 verification and a sixth of an RS256 one (point
/// decompression, Montgomery parameters), which
/// [`RelyingParty::verify_assertion_with_key`](super::RelyingParty::verify_assertion_with_key)
/// then skips.
#[derive(Clone, Debug)]
pub struct CredentialPublicKey {
    algorithm: CoseAlgorithm,
    key: CredentialKey,
    /// SHA-256 of the COSE_Key it was decoded from, to check that it is
    /// used with that credential only.
    encoded: [u8; 32],
}

impl CredentialPublicKey {
    /// Decodes and checks a stored COSE_Key
    /// ([`Registered::public_key`](super::Registered::public_key)).
    ///
    /// # Errors
    /// [`Error::Webauthn`](crate::Error::Webauthn) with
    /// [`WebauthnError::InvalidPublicKey`] or
    /// [`WebauthnError::UnsupportedAlgorithm`].
    pub fn decode(cose: &[u8]) -> Result<Self, crate::Error> {
        let (algorithm, key) = CredentialKey::parse(cose)?;
        Ok(Self {
            algorithm,
            key,
            encoded: Sha256::digest(cose).into(),
        })
    }

    /// The key's algorithm.
    #[must_use]
    pub fn algorithm(&self) -> CoseAlgorithm {
        self.algorithm
    }

    /// The decoded key, if it was decoded from `cose`.
    pub(super) fn key_for(&self, cose: &[u8]) -> Result<&CredentialKey, WebauthnError> {
        let encoded: [u8; 32] = Sha256::digest(cose).into();
        if encoded != self.encoded {
            return Err(WebauthnError::InvalidPublicKey);
        }
        Ok(&self.key)
    }
}

/// The labels of a COSE_Key map this verifier reads.
#[derive(Default)]
struct Labels<'a> {
    kty: Option<i64>,
    alg: Option<i64>,
    /// -1: `crv` for EC2 and OKP keys, `n` for RSA.
    minus_1: Option<&'a [u8]>,
    /// -2: `x`, or `e` for RSA.
    minus_2: Option<&'a [u8]>,
    /// -3: `y` for EC2.
    minus_3: Option<&'a [u8]>,
}

fn once<T>(slot: &mut Option<T>, value: T) -> Result<(), WebauthnError> {
    if slot.replace(value).is_some() {
        return Err(WebauthnError::InvalidPublicKey);
    }
    Ok(())
}

impl CredentialKey {
    /// Decodes a COSE_Key (all of `cose`, nothing after it).
    pub(super) fn parse(cose: &[u8]) -> Result<(CoseAlgorithm, Self), WebauthnError> {
        let labels = read_labels(cose).map_err(|e| match e {
            WebauthnError::MalformedCbor => WebauthnError::InvalidPublicKey,
            other => other,
        })?;
        let alg = labels.alg.ok_or(WebauthnError::InvalidPublicKey)?;
        let algorithm =
            CoseAlgorithm::from_identifier(alg).ok_or(WebauthnError::UnsupportedAlgorithm)?;
        let key = match algorithm {
            CoseAlgorithm::Es256 => {
                expect(labels.kty == Some(2) && int_item(labels.minus_1) == Some(1))?;
                let x = bytes_item::<32>(labels.minus_2)?;
                let y = bytes_item::<32>(labels.minus_3)?;
                // The uncompressed SEC1 form: 0x04 | x | y.
                let mut sec1 = [0x04u8; 65];
                for (to, from) in sec1.iter_mut().skip(1).zip(x.iter().chain(&y)) {
                    *to = *from;
                }
                Self::Es256(
                    P256Key::from_sec1_bytes(&sec1).map_err(|_| WebauthnError::InvalidPublicKey)?,
                )
            }
            CoseAlgorithm::EdDsa => {
                // crv 6 is Ed25519; Ed448 (7) is refused as unsupported.
                expect(labels.kty == Some(1) && labels.minus_3.is_none())?;
                match int_item(labels.minus_1) {
                    Some(6) => {}
                    Some(7) => return Err(WebauthnError::UnsupportedAlgorithm),
                    _ => return Err(WebauthnError::InvalidPublicKey),
                }
                let x = bytes_item::<32>(labels.minus_2)?;
                let key =
                    Ed25519Key::from_bytes(&x).map_err(|_| WebauthnError::InvalidPublicKey)?;
                expect(!key.is_weak())?;
                Self::Ed25519(key)
            }
            CoseAlgorithm::Rs256 => rsa_key(&labels)?,
        };
        Ok((algorithm, key))
    }

    /// Verifies `signature` over `authenticator_data || client_data_hash`,
    /// the message of §6.3.3 (assertions) and of `packed` attestation.
    pub(super) fn verify(
        &self,
        authenticator_data: &[u8],
        client_data_hash: &[u8; 32],
        signature: &[u8],
    ) -> Result<(), WebauthnError> {
        let ok = match self {
            Self::Es256(key) => {
                let prehash = Sha256::new()
                    .chain_update(authenticator_data)
                    .chain_update(client_data_hash)
                    .finalize();
                let signature = EcdsaSignature::from_der(signature)
                    .map_err(|_| WebauthnError::InvalidSignature)?;
                key.verify_prehash(&prehash, &signature).is_ok()
            }
            Self::Ed25519(key) => {
                // Ed25519 hashes the message twice, so it needs it whole: a
                // buffer on the stack, as the verifier allocates nothing.
                let mut message = [0u8; MAX_AUTHENTICATOR_DATA_LEN + 32];
                let len = authenticator_data.len() + 32;
                let buffer = message.get_mut(..len).ok_or(WebauthnError::TooLong)?;
                let (data, hash) = buffer.split_at_mut(authenticator_data.len());
                data.copy_from_slice(authenticator_data);
                hash.copy_from_slice(client_data_hash);
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| WebauthnError::InvalidSignature)?;
                key.verify_strict(buffer, &signature).is_ok()
            }
            #[cfg(feature = "webauthn-rsa")]
            Self::Rs256(key) => {
                let prehash = Sha256::new()
                    .chain_update(authenticator_data)
                    .chain_update(client_data_hash)
                    .finalize();
                let signature = rsa::pkcs1v15::Signature::try_from(signature)
                    .map_err(|_| WebauthnError::InvalidSignature)?;
                key.verify_prehash(&prehash, &signature).is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(WebauthnError::InvalidSignature)
        }
    }
}

fn read_labels(cose: &[u8]) -> Result<Labels<'_>, WebauthnError> {
    let mut reader = Reader::new(cose);
    let pairs = reader.map()?;
    let mut labels = Labels::default();
    for _ in 0..pairs {
        if reader.next_is_text() {
            // Text labels are private use: not read.
            reader.text()?;
            reader.skip()?;
            continue;
        }
        match reader.int()? {
            1 => once(&mut labels.kty, reader.int()?)?,
            3 => once(&mut labels.alg, reader.int()?)?,
            -1 => once(&mut labels.minus_1, reader.skip()?)?,
            -2 => once(&mut labels.minus_2, reader.skip()?)?,
            -3 => once(&mut labels.minus_3, reader.skip()?)?,
            _ => {
                reader.skip()?;
            }
        }
    }
    if !reader.is_empty() {
        return Err(WebauthnError::InvalidPublicKey);
    }
    Ok(labels)
}

fn expect(condition: bool) -> Result<(), WebauthnError> {
    if condition {
        Ok(())
    } else {
        Err(WebauthnError::InvalidPublicKey)
    }
}

/// An encoded item that is an integer.
fn int_item(item: Option<&[u8]>) -> Option<i64> {
    let mut reader = Reader::new(item?);
    reader.int().ok()
}

/// An encoded item that is a byte string of exactly `N` bytes.
fn bytes_item<const N: usize>(item: Option<&[u8]>) -> Result<[u8; N], WebauthnError> {
    let item = item.ok_or(WebauthnError::InvalidPublicKey)?;
    Reader::new(item)
        .bytes()
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(WebauthnError::InvalidPublicKey)
}

/// An encoded item that is a byte string of any length.
#[cfg(feature = "webauthn-rsa")]
fn bytes_of(item: Option<&[u8]>) -> Result<&[u8], WebauthnError> {
    item.and_then(|i| Reader::new(i).bytes().ok())
        .ok_or(WebauthnError::InvalidPublicKey)
}

#[cfg(feature = "webauthn-rsa")]
fn rsa_key(labels: &Labels<'_>) -> Result<CredentialKey, WebauthnError> {
    use rsa::BoxedUint;

    expect(labels.kty == Some(3) && labels.minus_3.is_none())?;
    let n = bytes_of(labels.minus_1)?;
    let e = bytes_of(labels.minus_2)?;
    // Minimal big-endian encodings: no leading zero byte, a modulus of
    // 2048 to 4096 bits, an exponent of at most 32 bits.
    expect(n.first().is_some_and(|&b| b != 0) && e.first().is_some_and(|&b| b != 0))?;
    expect(n.len() * 8 >= *RSA_BITS.start() && n.len() * 8 <= *RSA_BITS.end() && e.len() <= 4)?;
    let bits = u32::try_from(n.len() * 8).map_err(|_| WebauthnError::InvalidPublicKey)?;
    let n = BoxedUint::from_be_slice(n, bits).map_err(|_| WebauthnError::InvalidPublicKey)?;
    let e = BoxedUint::from_be_slice(e, 64).map_err(|_| WebauthnError::InvalidPublicKey)?;
    let key = rsa::PublicKey::new_with_size_limits(n, e, RSA_BITS)
        .map_err(|_| WebauthnError::InvalidPublicKey)?;
    Ok(CredentialKey::Rs256(rsa::pkcs1v15::VerifyingKey::new(key)))
}

#[cfg(not(feature = "webauthn-rsa"))]
fn rsa_key(_: &Labels<'_>) -> Result<CredentialKey, WebauthnError> {
    Err(WebauthnError::UnsupportedAlgorithm)
}
