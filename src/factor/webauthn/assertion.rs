//! The authentication ceremony (WebAuthn Level 3 §7.2): an assertion's
//! client data, authenticator data and signature checked against a
//! stored credential.

use sha2::{Digest, Sha256};

use super::{
    authenticator_data::AuthenticatorData,
    client_data::{self, Ceremony},
    cose::{CredentialKey, CredentialPublicKey},
    error::WebauthnError,
    registration::UserVerification,
    relying_party::{BackupEligibility, CounterPolicy, RelyingParty},
};
use crate::error::Error;

/// What the service asked for when it started an authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AssertionRequest<'a> {
    /// The challenge it sent: 16 to 128 random bytes, used once.
    pub challenge: &'a [u8],
    /// Whether user verification is required.
    pub user_verification: UserVerification,
}

/// What the browser returned (`AuthenticatorAssertionResponse`), as bytes
/// decoded from its base64url fields. The credential id and user handle
/// are for the caller, who finds the stored credential by them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AssertionResponse<'a> {
    /// `clientDataJSON`.
    pub client_data_json: &'a [u8],
    /// `authenticatorData`.
    pub authenticator_data: &'a [u8],
    /// `signature`.
    pub signature: &'a [u8],
}

/// The stored facts of a credential an assertion is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CredentialRecord<'a> {
    /// The COSE_Key stored at registration ([`Registered::public_key`](super::Registered::public_key)).
    pub public_key: &'a [u8],
    /// The signature counter stored after the last use.
    pub sign_count: u32,
    /// BE as registered (or as last accepted under
    /// [`BackupEligibility::AllowGain`]).
    pub backup_eligible: bool,
}

/// A verified assertion: what it showed, and what to store back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Asserted {
    /// Whether the person was verified (UV): with it the passkey is a
    /// multi-factor authenticator on its own; without it, one factor.
    pub user_verified: bool,
    /// BE as the authenticator reported it now.
    pub backup_eligible: bool,
    /// BS as the authenticator reported it now.
    pub backed_up: bool,
    /// The counter to store: the new value where it grew, the stored one
    /// otherwise.
    pub sign_count: u32,
    /// The counter did not grow although one of the two is non-zero: the
    /// credential may have been cloned. Only ever true under
    /// [`CounterPolicy::Report`].
    pub clone_suspected: bool,
    /// BE went from 0 to 1, accepted under [`BackupEligibility::AllowGain`].
    pub backup_eligibility_gained: bool,
}

impl RelyingParty<'_> {
    /// Verifies an assertion (§7.2) made with `credential`: the client
    /// data, the RP ID hash, user presence (and verification where
    /// required), the backup flags against those stored, the signature,
    /// then the counter. Nothing is allocated (RS256 aside).
    ///
    /// The caller first found `credential` by the response's credential
    /// id among those it allowed (and, for a discoverable credential, the
    /// account by its user handle), and afterwards marks the challenge
    /// used and stores [`Asserted::sign_count`] and
    /// [`Asserted::backup_eligible`], whatever else it does with the
    /// result.
    ///
    /// # Errors
    ///
    /// [`Error::Webauthn`] with the first check that failed.
    pub fn verify_assertion(
        &self,
        request: &AssertionRequest<'_>,
        credential: &CredentialRecord<'_>,
        response: &AssertionResponse<'_>,
    ) -> Result<Asserted, Error> {
        self.assert(request, credential, response, None)
    }

    /// As [`RelyingParty::verify_assertion`], with the credential's key
    /// decoded beforehand ([`CredentialPublicKey::decode`] of
    /// `credential.public_key`, kept in memory), so that it is not decoded
    /// again.
    ///
    /// # Errors
    /// As [`RelyingParty::verify_assertion`], and
    /// [`WebauthnError::InvalidPublicKey`] when `key` was decoded from
    /// another credential's key.
    pub fn verify_assertion_with_key(
        &self,
        request: &AssertionRequest<'_>,
        key: &CredentialPublicKey,
        credential: &CredentialRecord<'_>,
        response: &AssertionResponse<'_>,
    ) -> Result<Asserted, Error> {
        self.assert(request, credential, response, Some(key))
    }

    fn assert(
        &self,
        request: &AssertionRequest<'_>,
        credential: &CredentialRecord<'_>,
        response: &AssertionResponse<'_>,
        decoded: Option<&CredentialPublicKey>,
    ) -> Result<Asserted, Error> {
        client_data::verify(
            response.client_data_json,
            Ceremony::Get,
            request.challenge,
            self,
        )?;
        let data = AuthenticatorData::parse(response.authenticator_data)?;
        self.check_flags(&data, request.user_verification)?;
        if data.attested.is_some() {
            return Err(WebauthnError::AttestedDataUnexpected.into());
        }
        let eligible = data.flags.backup_eligible();
        let gained = eligible && !credential.backup_eligible;
        if eligible != credential.backup_eligible
            && !(gained && self.backup_policy() == BackupEligibility::AllowGain)
        {
            return Err(WebauthnError::BackupEligibilityChanged.into());
        }
        let parsed;
        let key = match decoded {
            Some(decoded) => decoded.key_for(credential.public_key)?,
            None => {
                parsed = CredentialKey::parse(credential.public_key)?.1;
                &parsed
            }
        };
        let client_data_hash: [u8; 32] = Sha256::digest(response.client_data_json).into();
        key.verify(
            response.authenticator_data,
            &client_data_hash,
            response.signature,
        )?;
        let counted = data.sign_count != 0 || credential.sign_count != 0;
        let clone_suspected = counted && data.sign_count <= credential.sign_count;
        if clone_suspected && self.counter() == CounterPolicy::Refuse {
            return Err(WebauthnError::CloneSuspected.into());
        }
        Ok(Asserted {
            user_verified: data.flags.user_verified(),
            backup_eligible: eligible,
            backed_up: data.flags.backed_up(),
            sign_count: data.sign_count.max(credential.sign_count),
            clone_suspected,
            backup_eligibility_gained: gained,
        })
    }
}
