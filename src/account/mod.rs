//! Per-account protection, as pure state machines over plain data: the
//! throttle, the guard that runs a login's second factor through it, replay
//! tracking, and the compare-and-swap contract for state shared by many
//! instances.

#[cfg(feature = "alloc")]
mod enroll;
mod events;
mod factors;
mod guard;
#[cfg(feature = "alloc")]
mod login;
mod outcome;
#[cfg(all(feature = "webauthn", feature = "alloc"))]
mod passkeys;
mod replay;
#[cfg(feature = "alloc")]
mod secrets;
mod snapshot;
#[cfg(feature = "alloc")]
mod state;
mod store;
mod throttle;
mod used_steps;

#[cfg(feature = "alloc")]
pub use enroll::EnrollmentNames;
#[cfg(feature = "alloc")]
pub use events::Journal;
pub use events::{Authenticator, Event, EventKind, EventSink, Factor, Reason, Tag};
pub use guard::{Guard, HotpAccount, TotpAccount};
pub use outcome::Outcome;
#[cfg(all(feature = "webauthn", feature = "alloc"))]
pub use passkeys::PasskeyUse;
#[cfg(feature = "alloc")]
pub(crate) use replay::record;
pub use replay::{Acceptance, ReplayStore, Sequence};
#[cfg(feature = "std")]
pub use replay::{MemoryReplayStore, StoreFull};
#[cfg(feature = "alloc")]
pub use secrets::SealedSecrets;
pub use snapshot::TotpCheck;
#[cfg(feature = "alloc")]
pub use state::AccountState;
#[cfg(feature = "std")]
pub use store::MemoryAccountStore;
pub use store::{AccountStore, SharedError, Versioned};
pub use throttle::{ThrottlePolicy, ThrottlePolicyBuilder, ThrottleState, Throttled};
