//! Second-factor verification: RFC 4226 HOTP and RFC 6238 TOTP in
//! constant time, with replay tracking. The README follows (its example
//! runs as a doctest with the `std` feature).
#![cfg_attr(feature = "std", doc = include_str!("../README.md"))]
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

mod algorithm;
mod base32;
#[cfg(feature = "std")]
mod clock;
mod code;
#[cfg(feature = "alloc")]
mod enroll;
mod error;
mod format;
mod guard;
mod hotp;
mod mac;
mod oob;
#[cfg(feature = "qr")]
mod qr;
mod random;
#[cfg(feature = "alloc")]
mod recovery;
mod replay;
mod secret;
mod store;
mod throttle;
mod totp;
#[cfg(feature = "alloc")]
mod uri;
mod window;

pub use algorithm::Algorithm;
#[cfg(feature = "std")]
pub use clock::unix_time;
pub use code::Code;
#[cfg(feature = "alloc")]
pub use enroll::{Enrolled, Enrollment};
pub use error::Error;
pub use format::{Digits, Format};
pub use guard::{Guard, HotpAccount, Outcome, TotpAccount};
pub use hotp::{Hotp, HotpBuilder, HotpMatch};
pub use oob::{OobChallenge, OobKey, OobOutcome, OobPolicy};
#[cfg(feature = "qr")]
pub use qr::Qr;
#[cfg(feature = "alloc")]
pub use recovery::{RecoveryCode, RecoveryCodes, RecoveryOutcome, RecoveryPolicy};
pub use replay::{Acceptance, ReplayStore};
#[cfg(feature = "std")]
pub use replay::{MemoryReplayStore, StoreFull};
pub use secret::Secret;
pub use store::{AccountStore, SharedError, Versioned};
pub use throttle::{ThrottlePolicy, ThrottlePolicyBuilder, ThrottleState, Throttled};
pub use totp::{Totp, TotpBuilder, TotpMatch};
#[cfg(feature = "alloc")]
pub use uri::{KeyUri, Otp, PortabilityWarning};
