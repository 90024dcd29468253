//! Passkeys and security keys: WebAuthn Level 3 registration (§7.1) and
//! authentication (§7.2) verified without `std` and without an allocator
//! (RS256 keys aside, which need `alloc`).
//!
//! A WebAuthn signature covers the origin the browser saw and the RP ID
//! the authenticator scoped the credential to, so a look-alike site cannot
//! relay it: this is the phishing-resistant factor NIST SP 800-63B-4
//! requires every AAL2 verifier to offer (§2.2.2, §3.2.5).
//!
//! What is checked, and what is left to the caller:
//! - clientDataJSON: `type`, `challenge`, `origin` (exact strings, native
//!   apps' `android:apk-key-hash:…` origins included), `crossOrigin` and
//!   `topOrigin`, at both ceremonies, by the limited verification
//!   algorithm of §5.8.1.2 (no JSON parser).
//! - authenticatorData: rpIdHash, UP always, UV where required (and
//!   always reported), BS without BE refused, BE against the stored value,
//!   the signature counter, no trailing bytes, extensions walked safely.
//! - Keys: ES256, EdDSA (Ed25519, strict) and RS256 (2048 to 4096 bits);
//!   points, key sizes and the offered algorithms checked.
//! - Attestation: `none` and `packed` self-attestation verified; anything
//!   else reported as [`Attestation::Unverified`] with its statement.
//! - The caller keeps challenges (16 to 128 random bytes, single use,
//!   expiring), finds credentials by id, refuses an id registered to
//!   another account, and counts failures; the account layer does all of
//!   this under the account's one throttle.

mod assertion;
mod attestation;
mod authenticator_data;
mod cbor;
mod client_data;
mod cose;
mod error;
mod registration;
mod relying_party;

pub use assertion::{Asserted, AssertionRequest, AssertionResponse, CredentialRecord};
pub use attestation::Attestation;
pub use authenticator_data::{MAX_AUTHENTICATOR_DATA_LEN, MAX_CREDENTIAL_ID_LEN};
pub use cose::{CoseAlgorithm, CredentialPublicKey};
pub use error::WebauthnError;
pub use registration::{AttestationResponse, Registered, RegistrationRequest, UserVerification};
pub use relying_party::{BackupEligibility, CounterPolicy, CrossOrigin, RelyingParty};
