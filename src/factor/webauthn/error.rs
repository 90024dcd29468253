//! Why a WebAuthn ceremony was refused, in words that hold nothing of
//! the request: no challenge, origin, credential id or key.

use core::fmt;

/// Why a registration or an assertion was refused.
///
/// Carried by [`Error::Webauthn`](crate::Error::Webauthn). Each check of
/// WebAuthn Level 3 §7.1 and §7.2 that can fail has its own variant, so a
/// service can count and log refusals by reason; none of them says which
/// bytes were wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WebauthnError {
    /// A CBOR item is truncated, indefinite, nested too deeply or of the
    /// wrong type.
    MalformedCbor,
    /// clientDataJSON does not follow the serialization of §5.8.1.1.
    MalformedClientData,
    /// clientDataJSON's `type` is not the ceremony's (`webauthn.create`
    /// or `webauthn.get`).
    WrongType,
    /// clientDataJSON's `challenge` is not the one issued.
    ChallengeMismatch,
    /// clientDataJSON's `origin` is not one of the configured origins.
    OriginNotAllowed,
    /// The ceremony ran in a cross-origin frame and the relying party
    /// does not allow that.
    CrossOriginRefused,
    /// The ceremony ran in a cross-origin frame whose `topOrigin` is
    /// missing or not allowed.
    TopOriginNotAllowed,
    /// authenticatorData is shorter than its fields or has bytes left over.
    MalformedAuthenticatorData,
    /// authenticatorData or clientDataJSON is longer than the verifier reads.
    TooLong,
    /// authenticatorData's rpIdHash is not SHA-256 of the RP ID.
    RpIdMismatch,
    /// The UP (user present) flag is not set.
    UserNotPresent,
    /// User verification was required and the UV flag is not set.
    UserNotVerified,
    /// BS (backed up) is set without BE (backup eligible).
    BackupStateWithoutEligibility,
    /// BE differs from the value registered with the credential.
    BackupEligibilityChanged,
    /// A registration without attested credential data, or an assertion
    /// with it.
    AttestedDataUnexpected,
    /// A credential id longer than 1,023 bytes or empty.
    CredentialIdLength,
    /// The credential's algorithm is not supported (ES384, ES512, Ed448,
    /// PS256, RS1, ...).
    UnsupportedAlgorithm,
    /// The credential's algorithm is not one the ceremony offered.
    AlgorithmNotOffered,
    /// The COSE key is malformed, its point is not on the curve, or its
    /// size is outside the accepted bounds.
    InvalidPublicKey,
    /// The signature does not verify under the credential's key.
    InvalidSignature,
    /// The attestation object or statement is malformed, or a `packed`
    /// self-attestation does not verify.
    InvalidAttestation,
    /// signCount did not grow, a sign of a cloned authenticator, and the
    /// policy refuses it.
    CloneSuspected,
    /// The challenge given to the verifier is shorter than 16 or longer
    /// than 128 bytes.
    ChallengeLength,
}

impl fmt::Display for WebauthnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedCbor => "malformed CBOR",
            Self::MalformedClientData => "client data not in the WebAuthn serialization",
            Self::WrongType => "client data of another ceremony",
            Self::ChallengeMismatch => "client data answers another challenge",
            Self::OriginNotAllowed => "origin not allowed",
            Self::CrossOriginRefused => "cross-origin ceremony refused",
            Self::TopOriginNotAllowed => "top origin missing or not allowed",
            Self::MalformedAuthenticatorData => "malformed authenticator data",
            Self::TooLong => "authenticator or client data too long",
            Self::RpIdMismatch => "authenticator data for another relying party",
            Self::UserNotPresent => "user presence not asserted",
            Self::UserNotVerified => "user verification required and not performed",
            Self::BackupStateWithoutEligibility => "backed up without backup eligibility",
            Self::BackupEligibilityChanged => "backup eligibility changed",
            Self::AttestedDataUnexpected => "attested credential data missing or unexpected",
            Self::CredentialIdLength => "credential id empty or longer than 1023 bytes",
            Self::UnsupportedAlgorithm => "unsupported credential algorithm",
            Self::AlgorithmNotOffered => "credential algorithm not offered",
            Self::InvalidPublicKey => "invalid credential public key",
            Self::InvalidSignature => "invalid signature",
            Self::InvalidAttestation => "invalid attestation",
            Self::CloneSuspected => "signature counter did not increase",
            Self::ChallengeLength => "challenge must be 16 to 128 bytes",
        })
    }
}

impl core::error::Error for WebauthnError {}
