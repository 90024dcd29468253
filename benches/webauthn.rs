//! An assertion check against the signature verification it contains,
//! for each algorithm, on the WebAuthn Level 3 §16 test vectors (ES256
//! without attestation, EdDSA and RS256 with packed attestation).
//!
//! Per algorithm, one group of three:
//! - `signature`: the bare signature check over `authenticatorData ||
//!   SHA-256(clientDataJSON)`, with the key already decoded;
//! - `decode_and_signature`: the same with the key decoded from its
//!   stored bytes first, as any verifier that loads a credential must;
//! - `assertion`: [`RelyingParty::verify_assertion`], everything §7.2 asks
//!   (client data, flags, key decoding, signature, counter);
//! - `assertion_decoded_key`: [`RelyingParty::verify_assertion_with_key`],
//!   the same with the key decoded beforehand.
//!
//! Read `assertion` against `decode_and_signature`, and
//! `assertion_decoded_key` against `signature`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use p256::ecdsa::signature::Verifier as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use twofa::webauthn::{
    AssertionRequest, AssertionResponse, AttestationResponse, CoseAlgorithm, CredentialPublicKey,
    CredentialRecord, RegistrationRequest, RelyingParty, UserVerification,
};

const VECTORS: &str = include_str!("../tests/data/webauthn/level3.json");

fn hex(value: &Value) -> Vec<u8> {
    let s = value.as_str().expect("hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// One vector's registered key and its assertion.
struct Case {
    public_key: Vec<u8>,
    backup_eligible: bool,
    challenge: Vec<u8>,
    client_data: Vec<u8>,
    authenticator_data: Vec<u8>,
    signature: Vec<u8>,
}

impl Case {
    fn load(name: &str) -> Self {
        let all: Value = serde_json::from_str(VECTORS).expect("json");
        let v = all["vectors"]
            .as_array()
            .expect("vectors")
            .iter()
            .find(|v| v["name"] == name)
            .expect("vector");
        let (r, a) = (&v["registration"], &v["authentication"]);
        let (challenge, client, object) = (
            hex(&r["challenge"]),
            hex(&r["clientDataJSON"]),
            hex(&r["attestationObject"]),
        );
        let registered = rp()
            .verify_registration(
                &RegistrationRequest {
                    challenge: &challenge,
                    algorithms: CoseAlgorithm::SUPPORTED,
                    user_verification: UserVerification::Discouraged,
                },
                &AttestationResponse {
                    client_data_json: &client,
                    attestation_object: &object,
                },
            )
            .expect("registers");
        Self {
            public_key: registered.public_key.to_vec(),
            backup_eligible: registered.backup_eligible,
            challenge: hex(&a["challenge"]),
            client_data: hex(&a["clientDataJSON"]),
            authenticator_data: hex(&a["authenticatorData"]),
            signature: hex(&a["signature"]),
        }
    }

    fn message(&self) -> Vec<u8> {
        let mut message = self.authenticator_data.clone();
        message.extend_from_slice(&Sha256::digest(&self.client_data));
        message
    }

    /// The whole assertion check, the key decoded from its stored bytes
    /// (`None`) or beforehand.
    fn assertion(&self, decoded: Option<&CredentialPublicKey>) -> bool {
        let request = AssertionRequest {
            challenge: black_box(&self.challenge),
            user_verification: UserVerification::Discouraged,
        };
        let credential = CredentialRecord {
            public_key: black_box(&self.public_key),
            sign_count: 0,
            backup_eligible: self.backup_eligible,
        };
        let response = AssertionResponse {
            client_data_json: black_box(&self.client_data),
            authenticator_data: black_box(&self.authenticator_data),
            signature: black_box(&self.signature),
        };
        match decoded {
            Some(key) => rp().verify_assertion_with_key(&request, key, &credential, &response),
            None => rp().verify_assertion(&request, &credential, &response),
        }
        .is_ok()
    }

    /// The COSE byte string at label `label` (a one-byte label).
    fn cose_bytes(&self, label: u8) -> &[u8] {
        let k = &self.public_key;
        let at = k
            .windows(2)
            .position(|w| w[0] == label && (w[1] == 0x58 || w[1] == 0x59))
            .expect("label");
        let (start, n) = if k[at + 1] == 0x58 {
            (at + 3, usize::from(k[at + 2]))
        } else {
            (
                at + 4,
                usize::from(u16::from_be_bytes([k[at + 2], k[at + 3]])),
            )
        };
        &k[start..start + n]
    }
}

fn rp() -> RelyingParty<'static> {
    RelyingParty::new("example.org", &["https://example.org"]).expect("rp")
}

fn es256(c: &mut Criterion) {
    use p256::ecdsa::{Signature, VerifyingKey};
    let case = Case::load("none-es256");
    let message = case.message();
    let sec1 = |case: &Case| {
        let mut point = vec![4];
        point.extend_from_slice(case.cose_bytes(0x21));
        point.extend_from_slice(case.cose_bytes(0x22));
        point
    };
    let point = sec1(&case);
    let key = VerifyingKey::from_sec1_bytes(&point).expect("key");
    let check = Signature::from_der(&case.signature).expect("der");
    assert!(
        key.verify(&message, &check).is_ok(),
        "the bare check verifies"
    );
    let mut group = c.benchmark_group("webauthn_es256");
    group.bench_function("signature", |b| {
        b.iter(|| {
            let signature = Signature::from_der(black_box(&case.signature)).expect("der");
            key.verify(black_box(&message), &signature).is_ok()
        })
    });
    group.bench_function("decode_and_signature", |b| {
        b.iter(|| {
            let key = VerifyingKey::from_sec1_bytes(black_box(&point)).expect("key");
            let signature = Signature::from_der(black_box(&case.signature)).expect("der");
            key.verify(black_box(&message), &signature).is_ok()
        })
    });
    assert!(case.assertion(None));
    group.bench_function("assertion", |b| b.iter(|| case.assertion(None)));
    let decoded = CredentialPublicKey::decode(&case.public_key).expect("key");
    assert!(case.assertion(Some(&decoded)));
    group.bench_function("assertion_decoded_key", |b| {
        b.iter(|| case.assertion(Some(&decoded)))
    });
    group.finish();
}

fn eddsa(c: &mut Criterion) {
    use ed25519_dalek::{Signature, VerifyingKey};
    let case = Case::load("packed-eddsa");
    let message = case.message();
    let bytes: [u8; 32] = case.cose_bytes(0x21).try_into().expect("32");
    let key = VerifyingKey::from_bytes(&bytes).expect("key");
    let check = Signature::from_slice(&case.signature).expect("64");
    assert!(
        key.verify_strict(&message, &check).is_ok(),
        "the bare check verifies"
    );
    let mut group = c.benchmark_group("webauthn_eddsa");
    group.bench_function("signature", |b| {
        b.iter(|| {
            let signature = Signature::from_slice(black_box(&case.signature)).expect("64");
            key.verify_strict(black_box(&message), &signature).is_ok()
        })
    });
    group.bench_function("decode_and_signature", |b| {
        b.iter(|| {
            let key = VerifyingKey::from_bytes(black_box(&bytes)).expect("key");
            let signature = Signature::from_slice(black_box(&case.signature)).expect("64");
            key.verify_strict(black_box(&message), &signature).is_ok()
        })
    });
    assert!(case.assertion(None));
    group.bench_function("assertion", |b| b.iter(|| case.assertion(None)));
    let decoded = CredentialPublicKey::decode(&case.public_key).expect("key");
    assert!(case.assertion(Some(&decoded)));
    group.bench_function("assertion_decoded_key", |b| {
        b.iter(|| case.assertion(Some(&decoded)))
    });
    group.finish();
}

fn rs256(c: &mut Criterion) {
    use rsa::{
        BoxedUint, PublicKey,
        pkcs1v15::{Signature, VerifyingKey},
    };
    let case = Case::load("packed-rs256");
    let message = case.message();
    let n = case.cose_bytes(0x20).to_vec();
    let e = [1u8, 0, 1];
    let decode = |n: &[u8]| {
        let bits = u32::try_from(n.len() * 8).expect("bits");
        let n = BoxedUint::from_be_slice(n, bits).expect("n");
        let e = BoxedUint::from_be_slice(&e, 64).expect("e");
        VerifyingKey::<Sha256>::new(PublicKey::new(n, e).expect("key"))
    };
    let key = decode(&n);
    let check = Signature::try_from(&case.signature[..]).expect("sig");
    assert!(
        key.verify(&message, &check).is_ok(),
        "the bare check verifies"
    );
    let mut group = c.benchmark_group("webauthn_rs256");
    group.bench_function("signature", |b| {
        b.iter(|| {
            let signature = Signature::try_from(black_box(&case.signature[..])).expect("sig");
            key.verify(black_box(&message), &signature).is_ok()
        })
    });
    group.bench_function("decode_and_signature", |b| {
        b.iter(|| {
            let key = decode(black_box(&n));
            let signature = Signature::try_from(black_box(&case.signature[..])).expect("sig");
            key.verify(black_box(&message), &signature).is_ok()
        })
    });
    assert!(case.assertion(None));
    group.bench_function("assertion", |b| b.iter(|| case.assertion(None)));
    let decoded = CredentialPublicKey::decode(&case.public_key).expect("key");
    assert!(case.assertion(Some(&decoded)));
    group.bench_function("assertion_decoded_key", |b| {
        b.iter(|| case.assertion(Some(&decoded)))
    });
    group.finish();
}

criterion_group!(benches, es256, eddsa, rs256);
criterion_main!(benches);
