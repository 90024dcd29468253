//! WebAuthn Level 3 §16 test vectors: every registration and assertion
//! the spec lists, run through the verifier. Those of supported
//! algorithms register and authenticate; ES384, ES512 and Ed448 are
//! refused by design; the cross-origin ones pass only under the policy
//! that allows their framing.
#![cfg(feature = "webauthn")]
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use twofa::{
    Error,
    webauthn::{
        AssertionRequest, AssertionResponse, Attestation, AttestationResponse, CoseAlgorithm,
        CredentialRecord, CrossOrigin, RegistrationRequest, RelyingParty, UserVerification,
        WebauthnError,
    },
};

const VECTORS: &str = include_str!("data/webauthn/level3.json");

fn hex(value: &Value) -> Vec<u8> {
    let s = value.as_str().unwrap();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

struct Vector {
    name: String,
    reg: [Vec<u8>; 5],
    auth: [Vec<u8>; 4],
}

fn vectors() -> Vec<Vector> {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let (r, a) = (&v["registration"], &v["authentication"]);
            Vector {
                name: v["name"].as_str().unwrap().to_owned(),
                reg: [
                    hex(&r["challenge"]),
                    hex(&r["clientDataJSON"]),
                    hex(&r["attestationObject"]),
                    hex(&r["credential_id"]),
                    hex(&r["aaguid"]),
                ],
                auth: [
                    hex(&a["challenge"]),
                    hex(&a["clientDataJSON"]),
                    hex(&a["authenticatorData"]),
                    hex(&a["signature"]),
                ],
            }
        })
        .collect()
}

/// What each vector must give: the attestation it registers with (its
/// format name for the unverified ones), or the refusal of its
/// registration.
fn expected(name: &str) -> Result<&'static str, WebauthnError> {
    Ok(match name {
        "none-es256" | "none-es256-long-credential-id" => "none",
        "none-es256-crossOrigin" | "none-es256-topOrigin" => "none",
        "packed-self-es256" => "self",
        "packed-es256" | "packed-eddsa" => "packed",
        "packed-rs256" if cfg!(feature = "webauthn-rsa") => "packed",
        "packed-rs256" => return Err(WebauthnError::UnsupportedAlgorithm),
        "packed-es384" | "packed-es512" | "packed-ed448" => {
            return Err(WebauthnError::UnsupportedAlgorithm);
        }
        "tpm-es256" => "tpm",
        "android-key-es256" => "android-key",
        "apple-es256" => "apple",
        "fido-u2f-es256" => "fido-u2f",
        other => panic!("a vector this test does not know: {other}"),
    })
}

/// The relying party each vector was made for: the cross-origin ones were
/// made in frames, one of them with a top origin.
fn relying_party(name: &str) -> RelyingParty<'static> {
    let rp = RelyingParty::new("example.org", &["https://example.org"]).unwrap();
    match name {
        "none-es256-crossOrigin" => rp.cross_origin(CrossOrigin::FromAnyTopOrigin),
        "none-es256-topOrigin" => {
            rp.cross_origin(CrossOrigin::FromTopOrigins(&["https://example.com"]))
        }
        _ => rp,
    }
}

#[test]
fn every_vector_registers_and_authenticates_or_is_refused_by_design() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 15, "the §16 vectors as of Level 3");
    let mut passed = Vec::new();
    for v in &vectors {
        let rp = relying_party(&v.name);
        let [
            challenge,
            client_data_json,
            attestation_object,
            credential_id,
            aaguid,
        ] = &v.reg;
        let registered = rp.verify_registration(
            &RegistrationRequest {
                challenge,
                algorithms: CoseAlgorithm::SUPPORTED,
                user_verification: UserVerification::Discouraged,
            },
            &AttestationResponse {
                client_data_json,
                attestation_object,
            },
        );
        let registered = match (expected(&v.name), registered) {
            (Err(reason), Err(error)) => {
                assert_eq!(error, Error::Webauthn(reason), "{}", v.name);
                continue;
            }
            (Ok(format), Ok(registered)) => {
                let got = match registered.attestation {
                    Attestation::None => "none",
                    Attestation::SelfAttested => "self",
                    Attestation::Unverified { format, .. } => format,
                    _ => "another",
                };
                assert_eq!(got, format, "{}", v.name);
                registered
            }
            (want, got) => panic!("{}: expected {want:?}, got {got:?}", v.name),
        };
        assert_eq!(registered.credential_id, &credential_id[..], "{}", v.name);
        assert_eq!(&registered.aaguid[..], &aaguid[..], "{}", v.name);
        assert!(!registered.backed_up || registered.backup_eligible);

        let [challenge, client_data_json, authenticator_data, signature] = &v.auth;
        let credential = CredentialRecord {
            public_key: registered.public_key,
            sign_count: registered.sign_count,
            backup_eligible: registered.backup_eligible,
        };
        let response = AssertionResponse {
            client_data_json,
            authenticator_data,
            signature,
        };
        let request = AssertionRequest {
            challenge,
            user_verification: UserVerification::Discouraged,
        };
        let asserted = rp
            .verify_assertion(&request, &credential, &response)
            .unwrap();
        // UV is reported as the flags byte says (bit 2).
        assert_eq!(asserted.user_verified, authenticator_data[32] & 0x04 != 0);
        if !asserted.user_verified {
            let required = AssertionRequest {
                user_verification: UserVerification::Required,
                ..request
            };
            assert_eq!(
                rp.verify_assertion(&required, &credential, &response),
                Err(Error::Webauthn(WebauthnError::UserNotVerified)),
                "{}",
                v.name
            );
        }
        // The signature is over these bytes: any change to the assertion's
        // authenticator data is refused.
        let mut altered = authenticator_data.clone();
        *altered.last_mut().unwrap() ^= 1;
        let response_altered = AssertionResponse {
            authenticator_data: &altered,
            ..response
        };
        assert_eq!(
            rp.verify_assertion(&request, &credential, &response_altered),
            Err(Error::Webauthn(WebauthnError::InvalidSignature)),
            "{}",
            v.name
        );
        passed.push(v.name.as_str());
    }
    println!("passed: {}", passed.join(", "));
    let want = if cfg!(feature = "webauthn-rsa") {
        12
    } else {
        11
    };
    assert_eq!(passed.len(), want);
}

#[test]
fn the_framed_vectors_are_refused_unless_framing_is_allowed() {
    let strict = RelyingParty::new("example.org", &["https://example.org"]).unwrap();
    let elsewhere = strict.cross_origin(CrossOrigin::FromTopOrigins(&["https://example.net"]));
    for v in vectors() {
        let [challenge, client_data_json, attestation_object, ..] = &v.reg;
        let request = RegistrationRequest {
            challenge,
            algorithms: CoseAlgorithm::SUPPORTED,
            user_verification: UserVerification::Discouraged,
        };
        let response = AttestationResponse {
            client_data_json,
            attestation_object,
        };
        let refusal = |rp: &RelyingParty<'_>| rp.verify_registration(&request, &response).err();
        match v.name.as_str() {
            "none-es256-crossOrigin" | "none-es256-topOrigin" => {
                assert_eq!(
                    refusal(&strict),
                    Some(Error::Webauthn(WebauthnError::CrossOriginRefused))
                );
                // Without a top origin, or with one not listed.
                assert_eq!(
                    refusal(&elsewhere),
                    Some(Error::Webauthn(WebauthnError::TopOriginNotAllowed))
                );
            }
            _ => {}
        }
        // Another RP ID, and another origin, refuse every vector.
        let other_id = RelyingParty::new("example.com", &["https://example.org"])
            .unwrap()
            .cross_origin(CrossOrigin::FromAnyTopOrigin);
        let other_origin = RelyingParty::new("example.org", &["https://example.org.evil"])
            .unwrap()
            .cross_origin(CrossOrigin::FromAnyTopOrigin);
        if expected(&v.name).is_ok() {
            assert_eq!(
                refusal(&other_id),
                Some(Error::Webauthn(WebauthnError::RpIdMismatch)),
                "{}",
                v.name
            );
        }
        assert_eq!(
            refusal(&other_origin),
            Some(Error::Webauthn(WebauthnError::OriginNotAllowed)),
            "{}",
            v.name
        );
    }
}
