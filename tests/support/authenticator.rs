//! A software authenticator for the WebAuthn tests: it makes the bytes a
//! browser and an authenticator would (clientDataJSON in the browsers'
//! serialization, authenticatorData, COSE keys, attestation objects) and
//! signs them, so each test can change one thing and see it refused.
#![allow(dead_code, missing_debug_implementations)]

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

pub(crate) const RP_ID: &str = "example.com";
pub(crate) const ORIGIN: &str = "https://example.com";

pub(crate) const UP: u8 = 0x01;
pub(crate) const UV: u8 = 0x04;
pub(crate) const BE: u8 = 0x08;
pub(crate) const BS: u8 = 0x10;
pub(crate) const AT: u8 = 0x40;
pub(crate) const ED: u8 = 0x80;

/// The credential's private key.
pub(crate) enum Key {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

pub(crate) struct Authenticator {
    pub(crate) key: Key,
    pub(crate) credential_id: Vec<u8>,
    pub(crate) aaguid: [u8; 16],
}

impl Authenticator {
    pub(crate) fn p256(seed: u8) -> Self {
        Self {
            key: Key::P256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap()),
            credential_id: vec![seed; 32],
            aaguid: [0xaa; 16],
        }
    }

    pub(crate) fn ed25519(seed: u8) -> Self {
        Self {
            key: Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32])),
            credential_id: vec![seed; 16],
            aaguid: [0xbb; 16],
        }
    }

    /// The public key as a COSE_Key, in CTAP2's canonical order.
    pub(crate) fn cose(&self) -> Vec<u8> {
        match &self.key {
            Key::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
                out.extend_from_slice(&bytes[1..33]);
                out.extend_from_slice(&[0x22, 0x58, 0x20]);
                out.extend_from_slice(&bytes[33..]);
                out
            }
            Key::Ed25519(key) => {
                let mut out = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
                out.extend_from_slice(key.verifying_key().as_bytes());
                out
            }
        }
    }

    /// authenticatorData for `rp_id` with these flags and counter; with
    /// attested credential data (this credential, this COSE key) when
    /// `flags` has AT, and `extensions` appended as they are.
    pub(crate) fn auth_data_with(
        &self,
        rp_id: &str,
        flags: u8,
        count: u32,
        cose: &[u8],
        extensions: &[u8],
    ) -> Vec<u8> {
        let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
        out.push(flags);
        out.extend_from_slice(&count.to_be_bytes());
        if flags & AT != 0 {
            out.extend_from_slice(&self.aaguid);
            out.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
            out.extend_from_slice(&self.credential_id);
            out.extend_from_slice(cose);
        }
        out.extend_from_slice(extensions);
        out
    }

    pub(crate) fn auth_data(&self, flags: u8, count: u32) -> Vec<u8> {
        self.auth_data_with(RP_ID, flags, count, &self.cose(), &[])
    }

    /// A signature over `auth_data || SHA-256(client_data)`, as an
    /// authenticator makes it (DER for ECDSA).
    pub(crate) fn sign(&self, auth_data: &[u8], client_data: &[u8]) -> Vec<u8> {
        let mut message = auth_data.to_vec();
        message.extend_from_slice(&Sha256::digest(client_data));
        match &self.key {
            Key::P256(key) => {
                use p256::ecdsa::{Signature, signature::Signer};
                let signature: Signature = key.sign(&message);
                signature.to_der().as_bytes().to_vec()
            }
            Key::Ed25519(key) => {
                use ed25519_dalek::Signer;
                key.sign(&message).to_bytes().to_vec()
            }
        }
    }
}

/// clientDataJSON as browsers serialize it (§5.8.1.1), with `tail` (such
/// as `}` or `,"other":1}`) after the fixed fields.
pub(crate) fn client_data(
    kind: &str,
    challenge: &[u8],
    origin: &str,
    cross: &str,
    tail: &str,
) -> Vec<u8> {
    let mut buffer = [0u8; 256];
    let challenge = Base64UrlUnpadded::encode(challenge, &mut buffer).unwrap();
    format!(
        r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":{cross}{tail}"#
    )
    .into_bytes()
}

pub(crate) fn get(challenge: &[u8]) -> Vec<u8> {
    client_data("webauthn.get", challenge, ORIGIN, "false", "}")
}

pub(crate) fn create(challenge: &[u8]) -> Vec<u8> {
    client_data("webauthn.create", challenge, ORIGIN, "false", "}")
}

/// A CBOR text string (shorter than 24 bytes).
pub(crate) fn text(s: &str) -> Vec<u8> {
    assert!(s.len() < 24);
    let mut out = vec![0x60 | s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

/// A CBOR byte string.
pub(crate) fn bytes(b: &[u8]) -> Vec<u8> {
    let mut out = match b.len() {
        n if n < 24 => vec![0x40 | n as u8],
        n if n < 256 => vec![0x58, n as u8],
        n => vec![0x59, (n >> 8) as u8, n as u8],
    };
    out.extend_from_slice(b);
    out
}

/// An attestation object `{"fmt": fmt, "attStmt": statement, "authData": auth_data}`.
pub(crate) fn attestation_object(fmt: &str, statement: &[u8], auth_data: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa3];
    out.extend(text("fmt"));
    out.extend(text(fmt));
    out.extend(text("attStmt"));
    out.extend_from_slice(statement);
    out.extend(text("authData"));
    out.extend(bytes(auth_data));
    out
}

/// A `packed` self-attestation statement: `{"alg": alg, "sig": sig}`.
pub(crate) fn packed_self(alg: i8, sig: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa2];
    out.extend(text("alg"));
    out.push(if alg < 0 {
        0x20 | (-1 - alg) as u8
    } else {
        alg as u8
    });
    out.extend(text("sig"));
    out.extend(bytes(sig));
    out
}
