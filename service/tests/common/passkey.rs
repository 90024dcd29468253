//! A person's passkey, in software: an Ed25519 credential that answers
//! the service's WebAuthn options as a phone's authenticator would, with
//! the JSON a browser's `toJSON()` gives.

use base64ct::{Base64UrlUnpadded, Encoding};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One credential: its key, its id, and the origin it runs at.
pub struct SoftPasskey {
    key: SigningKey,
    pub id: Vec<u8>,
    pub origin: String,
    pub rp_id: String,
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

impl SoftPasskey {
    pub fn new(seed: u8, id: &[u8], rp_id: &str, origin: &str) -> Self {
        Self {
            key: SigningKey::from_bytes(&[seed; 32]),
            id: id.to_vec(),
            origin: origin.to_owned(),
            rp_id: rp_id.to_owned(),
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        let origin = &self.origin;
        format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":false}}"#)
            .into_bytes()
    }

    fn authenticator_data(&self, attested: bool) -> Vec<u8> {
        let mut out = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        out.push(if attested { 0x45 } else { 0x05 });
        out.extend_from_slice(&0u32.to_be_bytes());
        if attested {
            out.extend_from_slice(&[0; 16]);
            out.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            out.extend_from_slice(&self.id);
            out.extend_from_slice(&[0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20]);
            out.extend_from_slice(self.key.verifying_key().as_bytes());
        }
        out
    }

    /// The registration answering `challenge` (base64url): its
    /// clientDataJSON and attestation object (format `none`).
    pub fn registration(&self, challenge: &str) -> (Vec<u8>, Vec<u8>) {
        let client = self.client_data("webauthn.create", challenge);
        let data = self.authenticator_data(true);
        let mut object = vec![0xa3, 0x63, b'f', b'm', b't', 0x64, b'n', b'o', b'n', b'e'];
        object.extend_from_slice(&[0x67, b'a', b't', b't', b'S', b't', b'm', b't', 0xa0]);
        object.extend_from_slice(&[0x68, b'a', b'u', b't', b'h', b'D', b'a', b't', b'a', 0x58]);
        object.push(u8::try_from(data.len()).expect("short"));
        object.extend_from_slice(&data);
        (client, object)
    }

    /// The registration answering creation options (`publicKey`), as the
    /// browser's `toJSON()`.
    pub fn register(&self, options: &Value) -> Value {
        let challenge = options["challenge"].as_str().expect("a challenge");
        let (client, object) = self.registration(challenge);
        let id = b64(&self.id);
        json!({"id": id, "rawId": id, "type": "public-key", "response": {
            "clientDataJSON": b64(&client), "attestationObject": b64(&object),
            "transports": ["internal"]}})
    }

    /// The assertion answering request options (`publicKey`), signed with
    /// this credential's key or, when `forged`, another.
    pub fn assert(&self, options: &Value, forged: bool) -> Value {
        let challenge = options["challenge"].as_str().expect("a challenge");
        self.assert_challenge(challenge, forged)
    }

    /// The assertion answering `challenge` (base64url).
    pub fn assert_challenge(&self, challenge: &str, forged: bool) -> Value {
        let client = self.client_data("webauthn.get", challenge);
        let data = self.authenticator_data(false);
        let mut message = data.clone();
        message.extend_from_slice(&Sha256::digest(&client));
        let key = if forged {
            SigningKey::from_bytes(&[0xee; 32])
        } else {
            self.key.clone()
        };
        let signature = key.sign(&message).to_bytes();
        let id = b64(&self.id);
        json!({"id": id, "rawId": id, "type": "public-key", "response": {
            "clientDataJSON": b64(&client), "authenticatorData": b64(&data),
            "signature": b64(&signature)}})
    }
}
