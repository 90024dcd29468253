//! Second-factor verification: RFC 4226 HOTP and RFC 6238 TOTP in
//! constant time, with replay tracking. The README follows (its example
//! runs as a doctest with the `std` and `migrate` features).
#![cfg_attr(all(feature = "std", feature = "migrate"), doc = include_str!("../README.md"))]
#![no_std]
#![forbid(unsafe_code)]
// Whatever the bytes, the library returns an error rather than panicking.
// (Set here, not in Cargo.toml, so tests and benches may still unwrap.)
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// The layers, lowest first: `otp` (the engine), `factor` (the other
// factors, as pure checks), `seal` (secrets at rest), `account` (the
// per-account protection that runs every factor through one throttle) and
// `provision`. Each module imports only from its own layer and those below
// it; `error` is shared by all.
mod account;
#[cfg(all(feature = "serde", feature = "alloc"))]
mod bounded;
#[cfg(feature = "serde")]
pub mod byte_text;
mod error;
mod factor;
mod otp;
#[cfg(feature = "alloc")]
mod provision;
mod seal;

/// The events of decisions and factor changes
/// ([`AccountState::events`](crate::AccountState::events),
/// [`Guard::verify_totp_with`]), with the names and facts they carry.
pub mod events {
    #[cfg(feature = "alloc")]
    pub use crate::account::Journal;
    pub use crate::account::{Authenticator, Event, EventKind, EventSink, Factor, Reason, Tag};
}

pub use account::{
    Acceptance, AccountStore, Event, EventKind, EventSink, Guard, HotpAccount, Outcome,
    ReplayStore, Sequence, SharedError, ThrottlePolicy, ThrottlePolicyBuilder, ThrottleState,
    Throttled, TotpAccount, TotpCheck, Versioned,
};
#[cfg(feature = "alloc")]
pub use account::{AccountState, EnrollmentNames, SealedSecrets};
#[cfg(feature = "std")]
pub use account::{MemoryAccountStore, MemoryReplayStore, StoreFull};
pub use error::Error;
#[cfg(feature = "webauthn")]
pub use factor::webauthn;
pub use factor::{
    Binding, DigestKey, FirstFactor, OobChallenge, OobOutcome, OobPolicy, PendingLogin,
    RememberPolicy, RememberRefusal, RememberedDevice, SecondFactor, SecondFactors, TicketPolicy,
    TicketRefusal, Token,
};
#[cfg(feature = "device")]
pub use factor::{
    Device, DeviceAlgorithm, DeviceChallenge, DeviceOutcome, DevicePolicy, DevicePrompt,
    RegistrationChallenge,
};
#[cfg(feature = "alloc")]
pub use factor::{
    HashMemory, RecoveryAccepted, RecoveryCheck, RecoveryCode, RecoveryCodes, RecoveryKeys,
    RecoveryOutcome, RecoveryPepper, RecoveryPolicy,
};
#[cfg(feature = "std")]
pub use otp::unix_time;
pub use otp::{
    Algorithm, Code, Digits, Format, Hotp, HotpBuilder, HotpMatch, Secret, Totp, TotpBuilder,
    TotpMatch,
};
#[cfg(feature = "qr")]
pub use provision::Qr;
#[cfg(feature = "migrate")]
pub use provision::migrate;
#[cfg(feature = "alloc")]
pub use provision::{Enrolled, Enrollment, KeyUri, Otp, PortabilityWarning};
pub use seal::{Keyring, MAX_SEALED_LEN, Opened, Sealed, SealedBytes, SealingKey, SecretKind};
#[cfg(all(feature = "webauthn", feature = "alloc"))]
pub use {
    account::PasskeyUse,
    factor::{Passkey, PasskeyChallenge, PasskeyPolicy, SignIn, SignInsUsed, Transports},
};
