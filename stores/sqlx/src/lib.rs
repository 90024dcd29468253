//! `twofa`'s per-account state on PostgreSQL (feature `postgres`) and
//! SQLite (feature `sqlite`, the default), through the `sqlx` pool the
//! service already has.
//!
//! A service adds this crate, passes its pool, runs
//! [`migrate`](SqliteStore::migrate) once, and hands the store to the
//! guard's shared checks ([`twofa::Guard::decide_shared`],
//! [`twofa::Guard::verify_totp_shared`]): every decision (a code used
//! once, a ticket spent once, the one throttle) then holds across all its
//! instances, because each save is one compare-and-swap statement whose
//! row count is the answer.
//!
//! # The table
//!
//! One row per account and kind of state (see `twofa-record` for the
//! kinds): `account`, `kind`, `version` (from 1, one more at every save,
//! never restarted: a reset is a save like any other), `format`, `body`
//! (the state as JSON: `JSONB` on PostgreSQL, checked `TEXT` on SQLite)
//! and `updated_at`. The migrations are in the crate's `migrations/`
//! folder, recorded in their own table `twofa_migrations`, apart from the
//! service's.
//!
//! Beside it, `twofa_events` (migration 2) keeps each account's audit
//! trail ([`twofa_record::AuditTrail`]): one row per event, appended and
//! never updated, `binding` rows kept for as long as the account and the
//! others pruned by count and age (see `twofa-record`).
//!
//! Versions are `BIGINT`: a version that would pass `i64::MAX` is refused
//! ([`StoreError::VersionOutOfRange`]), never wrapped. Every other `u64`
//! (times, steps, counters) and the 128-bit replay mask are JSON numbers
//! in the body, written in full and read back exactly; a body that does
//! not read back as exactly a state is an error, never a default.
//!
//! [`StoreError::VersionOutOfRange`]: twofa_record::StoreError::VersionOutOfRange
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

#[cfg(feature = "postgres")]
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use twofa_record::{Corrupt, Record, SealedSecrets, StoreError};
