//! The attestation object of a registration (WebAuthn Level 3 §6.5) and
//! its statement: `none` and `packed` self-attestation are verified; any
//! other statement is checked to be well-formed CBOR and handed back,
//! unverified, for a service that keeps its own trust roots.

use super::{
    cbor::Reader,
    cose::{CoseAlgorithm, CredentialKey},
    error::WebauthnError,
};

/// The longest attestation object read: certificate chains make it the
/// largest input of a ceremony.
pub(super) const MAX_ATTESTATION_OBJECT_LEN: usize = 16 * 1024;

/// What the attestation statement of a registration established.
///
/// NIST SP 800-63B-4 says attestation SHOULD NOT block public-facing use,
/// so every well-formed statement registers; only `none` and `packed`
/// self-attestation are checked here. A service that trusts only some
/// authenticator models verifies [`Attestation::Unverified`]'s statement
/// against its own roots (the AAGUID is in
/// [`Registered::aaguid`](super::Registered::aaguid)) before it stores the
/// credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attestation<'a> {
    /// Format `none`: the authenticator attests nothing.
    None,
    /// Format `packed` without a certificate: the credential's own key
    /// signed the registration, verified here. It proves possession of
    /// the key, not the authenticator's make.
    SelfAttested,
    /// Any other format (`tpm`, `android-key`, `apple`, `fido-u2f`, ...) or
    /// `packed` with a certificate chain: well-formed, not verified.
    Unverified {
        /// The format identifier (`fmt`), printable ASCII, at most 32
        /// characters.
        format: &'a str,
        /// The statement (`attStmt`), as encoded CBOR.
        statement: &'a [u8],
    },
}

/// The three parts of an attestation object.
#[derive(Clone, Copy, Debug)]
pub(super) struct AttestationObject<'a> {
    pub(super) format: &'a str,
    pub(super) statement: &'a [u8],
    pub(super) authenticator_data: &'a [u8],
}

impl<'a> AttestationObject<'a> {
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, WebauthnError> {
        if bytes.len() > MAX_ATTESTATION_OBJECT_LEN {
            return Err(WebauthnError::TooLong);
        }
        let invalid = |_| WebauthnError::InvalidAttestation;
        let mut reader = Reader::new(bytes);
        let pairs = reader.map().map_err(invalid)?;
        let (mut format, mut statement, mut authenticator_data) = (None, None, None);
        for _ in 0..pairs {
            let slot_taken = match reader.text().map_err(invalid)? {
                "fmt" => format.replace(reader.text().map_err(invalid)?).is_some(),
                "attStmt" => {
                    reader.clone().map().map_err(invalid)?;
                    statement.replace(reader.skip().map_err(invalid)?).is_some()
                }
                "authData" => authenticator_data
                    .replace(reader.bytes().map_err(invalid)?)
                    .is_some(),
                _ => true,
            };
            if slot_taken {
                return Err(WebauthnError::InvalidAttestation);
            }
        }
        let format: &str = format.ok_or(WebauthnError::InvalidAttestation)?;
        if !reader.is_empty()
            || format.is_empty()
            || format.len() > 32
            || !format.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(WebauthnError::InvalidAttestation);
        }
        Ok(Self {
            format,
            statement: statement.ok_or(WebauthnError::InvalidAttestation)?,
            authenticator_data: authenticator_data.ok_or(WebauthnError::InvalidAttestation)?,
        })
    }

    /// Checks the statement against the credential it registers.
    pub(super) fn verify(
        &self,
        client_data_hash: &[u8; 32],
        algorithm: CoseAlgorithm,
        key: &CredentialKey,
    ) -> Result<Attestation<'a>, WebauthnError> {
        match self.format {
            "none" => {
                if self.statement == [0xa0] {
                    Ok(Attestation::None)
                } else {
                    Err(WebauthnError::InvalidAttestation)
                }
            }
            "packed" => self.verify_packed(client_data_hash, algorithm, key),
            format => Ok(Attestation::Unverified {
                format,
                statement: self.statement,
            }),
        }
    }

    fn verify_packed(
        &self,
        client_data_hash: &[u8; 32],
        algorithm: CoseAlgorithm,
        key: &CredentialKey,
    ) -> Result<Attestation<'a>, WebauthnError> {
        let invalid = |_| WebauthnError::InvalidAttestation;
        let mut reader = Reader::new(self.statement);
        let (mut alg, mut sig, mut x5c) = (None, None, None);
        for _ in 0..reader.map().map_err(invalid)? {
            let slot_taken = match reader.text().map_err(invalid)? {
                "alg" => alg.replace(reader.int().map_err(invalid)?).is_some(),
                "sig" => sig.replace(reader.bytes().map_err(invalid)?).is_some(),
                "x5c" => {
                    // An array of DER certificates: each must be a byte string.
                    let mut certificates = reader.clone();
                    for _ in 0..certificates.array().map_err(invalid)? {
                        certificates.bytes().map_err(invalid)?;
                    }
                    x5c.replace(reader.skip().map_err(invalid)?).is_some()
                }
                _ => true,
            };
            if slot_taken {
                return Err(WebauthnError::InvalidAttestation);
            }
        }
        let (Some(alg), Some(sig)) = (alg, sig) else {
            return Err(WebauthnError::InvalidAttestation);
        };
        if x5c.is_some() {
            return Ok(Attestation::Unverified {
                format: self.format,
                statement: self.statement,
            });
        }
        if alg != algorithm.identifier() {
            return Err(WebauthnError::InvalidAttestation);
        }
        key.verify(self.authenticator_data, client_data_hash, sig)
            .map_err(|_| WebauthnError::InvalidAttestation)?;
        Ok(Attestation::SelfAttested)
    }
}
