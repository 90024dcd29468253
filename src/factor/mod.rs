//! Second factors other than an authenticator app, as pure checks over
//! records a service stores: out-of-band codes (SMS, email) and recovery
//! codes. The account layer counts their failures.

mod binding;
mod oob;
#[cfg(feature = "alloc")]
mod recovery;

pub use binding::Binding;
pub use oob::{OobChallenge, OobKey, OobOutcome, OobPolicy};
#[cfg(feature = "alloc")]
pub use recovery::{RecoveryCode, RecoveryCodes, RecoveryOutcome, RecoveryPepper, RecoveryPolicy};
