//! The WebAuthn verifier over arbitrary bytes and over mutations of a
//! genuine assertion: the CBOR, authenticator data, COSE key and
//! clientDataJSON parsers, and both ceremonies.
//!
//! Invariants: nothing panics, whatever the bytes; a registration of
//! arbitrary bytes never verifies; a mutated assertion verifies only if
//! the client data and authenticator data it signs are unchanged.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use sha2::{Digest, Sha256};
use twofa::webauthn::{
    AssertionRequest, AssertionResponse, AttestationResponse, CoseAlgorithm, CredentialRecord,
    CrossOrigin, RegistrationRequest, RelyingParty, UserVerification,
};

const CHALLENGE: [u8; 32] = [0x42; 32];

#[derive(Arbitrary, Debug)]
enum Input {
    /// A registration of arbitrary bytes.
    Register {
        client_data: Vec<u8>,
        attestation_object: Vec<u8>,
    },
    /// An assertion of arbitrary bytes against an arbitrary stored key.
    Assert {
        public_key: Vec<u8>,
        sign_count: u32,
        client_data: Vec<u8>,
        authenticator_data: Vec<u8>,
        signature: Vec<u8>,
    },
    /// A genuine assertion, then mutated.
    Mutate {
        flags: u8,
        count: u32,
        extensions: Vec<u8>,
        stored_count: u32,
        backup_eligible: bool,
        edits: Vec<Edit>,
    },
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Flip { part: u8, at: u16, bit: u8 },
    Truncate { part: u8, to: u16 },
    Insert { part: u8, at: u16, byte: u8 },
}

fn rp() -> RelyingParty<'static> {
    RelyingParty::new("example.com", &["https://example.com"])
        .unwrap()
        .cross_origin(CrossOrigin::FromTopOrigins(&["https://top.example"]))
}

fn cose(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_sec1_point(false);
    let bytes = point.as_bytes();
    let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
    out.extend_from_slice(&bytes[1..33]);
    out.extend_from_slice(&[0x22, 0x58, 0x20]);
    out.extend_from_slice(&bytes[33..]);
    out
}

fn edit(parts: &mut [Vec<u8>; 3], edit: &Edit) {
    let (part, at) = match *edit {
        Edit::Flip { part, at, .. }
        | Edit::Truncate { part, to: at }
        | Edit::Insert { part, at, .. } => (usize::from(part % 3), usize::from(at)),
    };
    let bytes = &mut parts[part];
    match *edit {
        Edit::Flip { bit, .. } if !bytes.is_empty() => {
            let i = at % bytes.len();
            bytes[i] ^= 1 << (bit % 8);
        }
        Edit::Truncate { .. } => bytes.truncate(at),
        Edit::Insert { byte, .. } => bytes.insert(at.min(bytes.len()), byte),
        _ => {}
    }
}

fuzz_target!(|input: Input| {
    let rp = rp();
    match input {
        Input::Register {
            client_data,
            attestation_object,
        } => {
            let result = rp.verify_registration(
                &RegistrationRequest {
                    challenge: &CHALLENGE,
                    algorithms: CoseAlgorithm::SUPPORTED,
                    user_verification: UserVerification::Preferred,
                },
                &AttestationResponse {
                    client_data_json: &client_data,
                    attestation_object: &attestation_object,
                },
            );
            // Arbitrary bytes would have to carry the right challenge, RP ID
            // hash and a valid key: a fuzzer finds the structure, so only
            // the absence of panics is asserted here.
            let _ = result;
        }
        Input::Assert {
            public_key,
            sign_count,
            client_data,
            authenticator_data,
            signature,
        } => {
            let _ = rp.verify_assertion(
                &AssertionRequest {
                    challenge: &CHALLENGE,
                    user_verification: UserVerification::Preferred,
                },
                &CredentialRecord {
                    public_key: &public_key,
                    sign_count,
                    backup_eligible: false,
                },
                &AssertionResponse {
                    client_data_json: &client_data,
                    authenticator_data: &authenticator_data,
                    signature: &signature,
                },
            );
        }
        Input::Mutate {
            flags,
            count,
            extensions,
            stored_count,
            backup_eligible,
            edits,
        } => {
            let key = SigningKey::from_slice(&[7; 32]).unwrap();
            let client = br#"{"type":"webauthn.get","challenge":"QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI","origin":"https://example.com","crossOrigin":false}"#.to_vec();
            let mut auth = Sha256::digest(b"example.com").to_vec();
            auth.push(flags & !0x40);
            auth.extend_from_slice(&count.to_be_bytes());
            auth.extend_from_slice(&extensions);
            let mut message = auth.clone();
            message.extend_from_slice(&Sha256::digest(&client));
            let signature: Signature = key.sign(&message);
            let original = [client, auth, signature.to_der().as_bytes().to_vec()];
            let mut parts = original.clone();
            for e in &edits {
                edit(&mut parts, e);
            }
            let public_key = cose(&key);
            let result = rp.verify_assertion(
                &AssertionRequest {
                    challenge: &CHALLENGE,
                    user_verification: UserVerification::Preferred,
                },
                &CredentialRecord {
                    public_key: &public_key,
                    sign_count: stored_count,
                    backup_eligible,
                },
                &AssertionResponse {
                    client_data_json: &parts[0],
                    authenticator_data: &parts[1],
                    signature: &parts[2],
                },
            );
            if result.is_ok() {
                assert_eq!(parts[0], original[0], "changed client data verified");
                assert_eq!(parts[1], original[1], "changed authenticator data verified");
            }
        }
    }
});
