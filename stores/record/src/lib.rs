//! The stored form of `twofa`'s per-account state, shared by the store
//! crates (`twofa-sqlx` for PostgreSQL and SQLite, `twofa-redis`): one
//! record per account and kind, a version that only grows, and a JSON body
//! that is checked when it is read.
//!
//! | kind      | type                  | what it holds                                              |
//! |-----------|-----------------------|------------------------------------------------------------|
//! | `account` | [`twofa::AccountState`] | the one throttle, TOTP replay and drift, the HOTP counter, the sealed secrets, sends, pending logins, the out-of-band challenge, devices and their challenges, remembered devices, recovery codes |
//! | `totp`    | [`twofa::TotpAccount`]  | a TOTP-only service's throttle, last step and drift        |
//! | `hotp`    | [`twofa::HotpAccount`]  | an HOTP-only token's throttle and counter                  |
//!
//! An account with more than one factor keeps all of it in its one
//! `account` record, sealed secrets included, so that every decision
//! (a login, an enrollment, a device registered) is one compare-and-swap
//! of one row. Format 1 kept sealed secrets in a record of their own
//! (kind `secrets`); format 2 refuses format-1 rows as corrupt rather than
//! read an account without its secrets (see the guide's docs/instances.md).
//!
//! A body that cannot be read back as exactly what was written is an
//! error, never a default: a missing field, an unknown one (written by a
//! newer version of the crate), a number out of its type's range, or a
//! value out of the bounds the core keeps (a drift beyond
//! [`twofa::Guard::MAX_DRIFT`], more pending logins than
//! [`twofa::AccountState::MAX_PENDING`]). A failure count read as 0 would
//! lift a lockout; a refused load refuses the login instead.
//!
//! Every integer in a body is a JSON number written in full (`u64` and the
//! 128-bit replay mask included), so nothing is rounded; the version
//! beside the body is the store's own column.
//!
//! Beside the records, each account's audit trail ([`AuditTrail`]): its
//! events, append-only and bounded, and the record of its authenticators.

mod error;
mod kinds;
mod trail;
mod version;

pub use error::{Corrupt, StoreError};
pub use kinds::{Record, from_json, to_json};
pub use trail::{
    AuditTrail, MAX_ACTIVITY, MAX_BINDINGS, MAX_DETAIL_LEN, MAX_NAME_LEN, PRUNE_BATCH,
    RETENTION_SECS, TrailEntry, check_entries,
};
pub use twofa::SealedSecrets;
pub use version::{MAX_BODY_LEN, check_account, decode, next_version};
