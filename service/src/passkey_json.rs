//! The WebAuthn Level 3 JSON forms a browser and the service exchange:
//! the options it sends (`PublicKeyCredentialCreationOptionsJSON`,
//! `PublicKeyCredentialRequestOptionsJSON`, which the page gives to
//! `PublicKeyCredential.parseCreationOptionsFromJSON` and
//! `parseRequestOptionsFromJSON`) and the credential's `toJSON()` form it
//! gets back. Binary fields are base64url without padding.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Deserialize;
use serde_json::{Value, json};
use twofa::{
    Passkey,
    webauthn::{CoseAlgorithm, MAX_CREDENTIAL_ID_LEN, UserVerification},
};

/// base64url of `bytes`, without padding.
pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Bytes from base64url without padding, or `None`.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(text).ok()
}

/// A credential as `PublicKeyCredential.toJSON()` gives it, for either
/// ceremony. Unknown members (`clientExtensionResults`,
/// `authenticatorAttachment`, newer ones) are ignored.
#[derive(Debug, Deserialize)]
pub struct CredentialJson {
    id: String,
    #[serde(rename = "rawId")]
    raw_id: String,
    #[serde(rename = "type")]
    kind: String,
    response: ResponseJson,
}

#[derive(Debug, Deserialize)]
struct ResponseJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(default, rename = "attestationObject")]
    attestation_object: Option<String>,
    #[serde(default, rename = "authenticatorData")]
    authenticator_data: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    transports: Vec<String>,
}

/// A registration's parts, decoded.
#[derive(Debug)]
pub struct Attestation {
    /// The credential id.
    pub id: Vec<u8>,
    /// `clientDataJSON`.
    pub client_data_json: Vec<u8>,
    /// `attestationObject`.
    pub attestation_object: Vec<u8>,
    /// `getTransports()`.
    pub transports: Vec<String>,
}

/// An assertion's parts, decoded.
#[derive(Debug)]
pub struct Assertion {
    /// The credential id.
    pub id: Vec<u8>,
    /// `clientDataJSON`.
    pub client_data_json: Vec<u8>,
    /// `authenticatorData`.
    pub authenticator_data: Vec<u8>,
    /// `signature`.
    pub signature: Vec<u8>,
}

impl CredentialJson {
    /// The credential id: `id` and `rawId` the same, 1 to 1,023 bytes.
    fn id(&self) -> Option<Vec<u8>> {
        let id = unb64(&self.id)?;
        (self.kind == "public-key"
            && self.raw_id == self.id
            && (1..=MAX_CREDENTIAL_ID_LEN).contains(&id.len()))
        .then_some(id)
    }

    /// The parts of a registration, or `None` if this is not one.
    pub fn attestation(&self) -> Option<Attestation> {
        Some(Attestation {
            id: self.id()?,
            client_data_json: unb64(&self.response.client_data_json)?,
            attestation_object: unb64(self.response.attestation_object.as_deref()?)?,
            transports: self.response.transports.iter().take(8).cloned().collect(),
        })
    }

    /// The parts of an assertion, or `None` if this is not one.
    pub fn assertion(&self) -> Option<Assertion> {
        Some(Assertion {
            id: self.id()?,
            client_data_json: unb64(&self.response.client_data_json)?,
            authenticator_data: unb64(self.response.authenticator_data.as_deref()?)?,
            signature: unb64(self.response.signature.as_deref()?)?,
        })
    }
}

/// The challenge an assertion's clientDataJSON answers, decoded: the
/// verifier then checks the whole client data against it.
pub fn challenge_of(client_data_json: &[u8]) -> Option<Vec<u8>> {
    #[derive(Deserialize)]
    struct ClientData {
        challenge: String,
    }
    let data: ClientData = serde_json::from_slice(client_data_json).ok()?;
    unb64(&data.challenge)
}

/// One `PublicKeyCredentialDescriptorJSON`.
fn descriptor(passkey: &Passkey) -> Value {
    json!({
        "type": "public-key",
        "id": b64(&passkey.id),
        "transports": passkey.transports.names().collect::<Vec<_>>(),
    })
}

/// `PublicKeyCredentialCreationOptionsJSON` for `account`, whose user
/// handle is `user_id`, excluding the passkeys it has.
pub fn creation_options(
    rp_id: &str,
    rp_name: &str,
    account: &str,
    user_id: &[u8],
    challenge: &[u8],
    timeout_seconds: u64,
    existing: &[Passkey],
) -> Value {
    let algorithms: Vec<Value> = CoseAlgorithm::SUPPORTED
        .iter()
        .map(|alg| json!({"type": "public-key", "alg": alg.identifier()}))
        .collect();
    json!({
        "rp": {"id": rp_id, "name": rp_name},
        "user": {"id": b64(user_id), "name": account, "displayName": account},
        "challenge": b64(challenge),
        "pubKeyCredParams": algorithms,
        "timeout": timeout_seconds * 1000,
        "excludeCredentials": existing.iter().map(descriptor).collect::<Vec<_>>(),
        "authenticatorSelection": {
            "residentKey": "preferred",
            "requireResidentKey": false,
            "userVerification": UserVerification::Preferred.as_str(),
        },
        "attestation": "none",
    })
}

/// `PublicKeyCredentialRequestOptionsJSON`: the passkeys that may answer
/// (none: any discoverable credential of the RP).
pub fn request_options(
    rp_id: &str,
    challenge: &[u8],
    timeout_seconds: u64,
    allowed: &[Passkey],
    user_verification: UserVerification,
) -> Value {
    json!({
        "challenge": b64(challenge),
        "timeout": timeout_seconds * 1000,
        "rpId": rp_id,
        "allowCredentials": allowed.iter().map(descriptor).collect::<Vec<_>>(),
        "userVerification": user_verification.as_str(),
    })
}

/// A passkey as the list of factors shows it.
pub fn listed(passkey: &Passkey) -> Value {
    json!({
        "credential_id": b64(&passkey.id),
        "name": passkey.name,
        "algorithm": passkey.algorithm.identifier(),
        "created_at": passkey.created_at,
        "last_used": passkey.last_used,
        "user_verified": passkey.user_verified,
        "backup_eligible": passkey.backup_eligible,
        "backed_up": passkey.backed_up,
        "transports": passkey.transports.names().collect::<Vec<_>>(),
        "aaguid": crate::login::hex(&passkey.aaguid),
    })
}
