//! Second factors other than an authenticator app, and the records around
//! a login, as pure checks over what a service stores: out-of-band codes
//! (SMS, email), recovery codes, registered devices, passkeys and security
//! keys (WebAuthn), pending-login tickets and remembered devices. The account layer counts their failures.

mod binding;
#[cfg(feature = "device")]
mod device;
mod digest_key;
#[cfg(feature = "alloc")]
mod hash_memory;
mod oob;
#[cfg(all(feature = "webauthn", feature = "alloc"))]
mod passkey;
#[cfg(feature = "alloc")]
mod pepper;
#[cfg(feature = "alloc")]
mod recovery;
#[cfg(feature = "alloc")]
mod recovery_check;
mod remember;
mod ticket;
mod token;
#[cfg(feature = "webauthn")]
pub mod webauthn;

pub use binding::Binding;
#[cfg(feature = "device")]
pub use device::{
    Device, DeviceAlgorithm, DeviceChallenge, DeviceOutcome, DevicePolicy, DevicePrompt,
    RegistrationChallenge,
};
pub use digest_key::DigestKey;
#[cfg(feature = "alloc")]
pub use hash_memory::HashMemory;
pub use oob::{OobChallenge, OobOutcome, OobPolicy};
#[cfg(all(feature = "webauthn", feature = "alloc"))]
pub use passkey::{Passkey, PasskeyChallenge, PasskeyPolicy, SignIn, SignInsUsed, Transports};
#[cfg(feature = "alloc")]
pub use pepper::RecoveryPepper;
#[cfg(feature = "alloc")]
pub use recovery::{
    RecoveryAccepted, RecoveryCode, RecoveryCodes, RecoveryKeys, RecoveryOutcome, RecoveryPolicy,
};
#[cfg(feature = "alloc")]
pub use recovery_check::RecoveryCheck;
pub use remember::{RememberPolicy, RememberRefusal, RememberedDevice};
pub use ticket::{
    FirstFactor, PendingLogin, SecondFactor, SecondFactors, TicketPolicy, TicketRefusal,
};
pub use token::Token;
