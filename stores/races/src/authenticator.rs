//! The passkey races' authenticator: an Ed25519 credential that answers
//! WebAuthn ceremonies for the relying party `example.com`, in software,
//! as a phone's would. Test-only keys, never real ones.

use base64ct::{Base64UrlUnpadded, Encoding};
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use twofa::webauthn::RelyingParty;

/// The relying party's id.
pub const RP_ID: &str = "example.com";
/// The page's origin.
pub const ORIGIN: &str = "https://example.com";
/// The credential's id.
pub const CREDENTIAL_ID: [u8; 16] = [0x70; 16];

/// The relying party every instance verifies for.
///
/// # Errors
/// Never: the id and origin are not empty.
pub fn relying_party() -> Result<RelyingParty<'static>, twofa::Error> {
    RelyingParty::new(RP_ID, &[ORIGIN])
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// The credential's public key as a COSE_Key (OKP, EdDSA, Ed25519).
#[must_use]
pub fn cose() -> Vec<u8> {
    let mut out = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
    out.extend_from_slice(key().verifying_key().as_bytes());
    out
}

/// clientDataJSON for ceremony `kind` (`webauthn.create`, `webauthn.get`)
/// answering `challenge`.
#[must_use]
pub fn client_data(kind: &str, challenge: &[u8]) -> Vec<u8> {
    let challenge = Base64UrlUnpadded::encode_string(challenge);
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{ORIGIN}","crossOrigin":false}}"#
    )
    .into_bytes()
}

/// authenticatorData: user present and verified, and the attested
/// credential when `attested`.
#[must_use]
pub fn authenticator_data(attested: bool) -> Vec<u8> {
    let mut out = Sha256::digest(RP_ID.as_bytes()).to_vec();
    out.push(if attested { 0x45 } else { 0x05 });
    out.extend_from_slice(&0u32.to_be_bytes());
    if attested {
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&(CREDENTIAL_ID.len() as u16).to_be_bytes());
        out.extend_from_slice(&CREDENTIAL_ID);
        out.extend_from_slice(&cose());
    }
    out
}

/// The registration's attestation object, format `none`.
#[must_use]
pub fn attestation_object() -> Vec<u8> {
    let data = authenticator_data(true);
    let mut out = vec![0xa3, 0x63];
    out.extend_from_slice(b"fmt");
    out.push(0x64);
    out.extend_from_slice(b"none");
    out.push(0x67);
    out.extend_from_slice(b"attStmt");
    out.push(0xa0);
    out.push(0x68);
    out.extend_from_slice(b"authData");
    out.push(0x58);
    out.push(u8::try_from(data.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&data);
    out
}

/// An assertion answering `challenge`: its client data, authenticator
/// data and signature.
#[must_use]
pub fn assertion(challenge: &[u8]) -> [Vec<u8>; 3] {
    let client = client_data("webauthn.get", challenge);
    let data = authenticator_data(false);
    let mut message = data.clone();
    message.extend_from_slice(&Sha256::digest(&client));
    let signature = key().sign(&message).to_bytes().to_vec();
    [client, data, signature]
}

/// Lowercase hex, for the workers' command lines.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex (an empty vector for anything else).
#[must_use]
pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| text.get(2 * i..2 * i + 2))
        .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
        .collect()
}
