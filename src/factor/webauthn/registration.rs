//! The registration ceremony (WebAuthn Level 3 §7.1): a new credential's
//! client data, authenticator data, public key and attestation checked.

use sha2::{Digest, Sha256};

use super::{
    attestation::{Attestation, AttestationObject},
    authenticator_data::AuthenticatorData,
    client_data::{self, Ceremony},
    cose::{CoseAlgorithm, CredentialKey},
    error::WebauthnError,
    relying_party::RelyingParty,
};
use crate::error::Error;

/// Whether the ceremony requires user verification (a PIN or biometric
/// on the authenticator), as the options sent to the browser said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum UserVerification {
    /// UV must be set: a passkey sign-in, or a credential that must count
    /// as multi-factor on its own.
    Required,
    /// UV is asked for and reported, not required: a security key used
    /// as a second factor after a password.
    Preferred,
    /// UV is not asked for; still reported when the authenticator did it.
    Discouraged,
}

impl UserVerification {
    /// The value of `userVerification` in the options sent to the browser.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Preferred => "preferred",
            Self::Discouraged => "discouraged",
        }
    }

    pub(super) fn check(self, verified: bool) -> Result<(), WebauthnError> {
        if self == Self::Required && !verified {
            return Err(WebauthnError::UserNotVerified);
        }
        Ok(())
    }
}

/// What the service asked for when it started a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegistrationRequest<'a> {
    /// The challenge it sent: 16 to 128 random bytes, used once.
    pub challenge: &'a [u8],
    /// The algorithms it offered (`pubKeyCredParams`).
    pub algorithms: &'a [CoseAlgorithm],
    /// Whether user verification is required.
    pub user_verification: UserVerification,
}

/// What the browser returned (`AuthenticatorAttestationResponse`), as
/// bytes decoded from its base64url fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttestationResponse<'a> {
    /// `clientDataJSON`.
    pub client_data_json: &'a [u8],
    /// `attestationObject`.
    pub attestation_object: &'a [u8],
}

/// A verified registration: what a service stores for the credential.
///
/// Store `credential_id`, `public_key`, `algorithm`, `sign_count`,
/// `backup_eligible` and `user_verified`; the others are for the record
/// and the person (`aaguid` names the authenticator's model).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Registered<'a> {
    /// The credential id, 1 to 1,023 bytes.
    pub credential_id: &'a [u8],
    /// The credential public key, as its COSE_Key encoding, checked.
    pub public_key: &'a [u8],
    /// The key's algorithm, one of those offered.
    pub algorithm: CoseAlgorithm,
    /// The signature counter at registration (0 for most passkeys).
    pub sign_count: u32,
    /// The authenticator model's AAGUID (all zero when not disclosed).
    pub aaguid: [u8; 16],
    /// Whether the person was verified (UV).
    pub user_verified: bool,
    /// Whether the credential may be synced to other devices (BE): a
    /// passkey in a platform's or password manager's keychain.
    pub backup_eligible: bool,
    /// Whether it is synced now (BS).
    pub backed_up: bool,
    /// What the attestation statement established.
    pub attestation: Attestation<'a>,
    /// The authenticator's extension outputs, as an encoded CBOR map.
    pub extensions: Option<&'a [u8]>,
}

impl RelyingParty<'_> {
    /// Verifies a registration (§7.1): the client data, the RP ID hash,
    /// user presence (and verification where required), the backup flags,
    /// the credential id and public key, the algorithm against those
    /// offered, and the attestation statement. Nothing is allocated
    /// (RS256 aside).
    ///
    /// The caller then checks that the challenge was its own and unused
    /// (and marks it used), that the credential id is not registered to
    /// any account, and stores the credential.
    ///
    /// # Errors
    ///
    /// [`Error::Webauthn`] with the first check that failed.
    pub fn verify_registration<'r>(
        &self,
        request: &RegistrationRequest<'_>,
        response: &AttestationResponse<'r>,
    ) -> Result<Registered<'r>, Error> {
        client_data::verify(
            response.client_data_json,
            Ceremony::Create,
            request.challenge,
            self,
        )?;
        let client_data_hash: [u8; 32] = Sha256::digest(response.client_data_json).into();
        let object = AttestationObject::parse(response.attestation_object)?;
        let data = AuthenticatorData::parse(object.authenticator_data)?;
        self.check_flags(&data, request.user_verification)?;
        let attested = data.attested.ok_or(WebauthnError::AttestedDataUnexpected)?;
        let (algorithm, key) = CredentialKey::parse(attested.public_key)?;
        if !request.algorithms.contains(&algorithm) {
            return Err(WebauthnError::AlgorithmNotOffered.into());
        }
        let attestation = object.verify(&client_data_hash, algorithm, &key)?;
        Ok(Registered {
            credential_id: attested.credential_id,
            public_key: attested.public_key,
            algorithm,
            sign_count: data.sign_count,
            aaguid: attested.aaguid,
            user_verified: data.flags.user_verified(),
            backup_eligible: data.flags.backup_eligible(),
            backed_up: data.flags.backed_up(),
            attestation,
            extensions: data.extensions,
        })
    }

    /// The checks both ceremonies make on authenticator data.
    pub(super) fn check_flags(
        &self,
        data: &AuthenticatorData<'_>,
        user_verification: UserVerification,
    ) -> Result<(), WebauthnError> {
        if data.rp_id_hash != self.id_hash() {
            return Err(WebauthnError::RpIdMismatch);
        }
        if !data.flags.user_present() {
            return Err(WebauthnError::UserNotPresent);
        }
        user_verification.check(data.flags.user_verified())?;
        if data.flags.backed_up() && !data.flags.backup_eligible() {
            return Err(WebauthnError::BackupStateWithoutEligibility);
        }
        Ok(())
    }
}
