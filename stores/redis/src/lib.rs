//! `twofa`'s per-account state on Redis, through the connection a service
//! already has: a [`redis::aio::ConnectionManager`], or with the feature
//! `cluster` a Redis Cluster's `redis::cluster_async::ClusterConnection`
//! (each account's records share one hash slot).
//!
//! A service passes its connection to [`RedisStore::new`] and hands the
//! store to the guard's shared checks ([`twofa::Guard::decide_shared`],
//! [`twofa::Guard::verify_totp_shared`]): each save is one script that
//! compares the record's version and writes it, and its return value is
//! the answer, so every decision holds across instances.
//!
//! # Keys
//!
//! One hash per account and kind, `twofa:{ACCOUNT}:KIND`, with the fields
//! `version` (decimal, from 1, one more at every save, never restarted),
//! `format` and `body` (the state as JSON, see `twofa-record`). The braces
//! make the account the key's hash tag, so all of an account's records
//! live in one slot of a cluster; `%`, `{` and `}` in an account name are
//! written `%25`, `%7B` and `%7D`, so no name can reach outside them.
//!
//! The account's audit trail ([`twofa_record::AuditTrail`]) is two lists
//! in the same slot: `twofa:{ACCOUNT}:trail.activity` (newest first, at
//! most 500 entries, expiring 90 days after its last append) and
//! `twofa:{ACCOUNT}:trail.bindings` (oldest first, never expiring, at
//! most 1,000), each entry a JSON object; one script appends, bounds and
//! prunes.
//!
//! # Durability
//!
//! A replay mark or a counted failure that Redis loses lets a used code in
//! again, or gives back guesses. Run the server as the tests do:
//!
//! - `appendonly yes` with `appendfsync always`: every write is on disk
//!   before Redis answers (`everysec` can lose the last second of saves
//!   in a crash);
//! - `maxmemory-policy noeviction` (or a `volatile-*` policy: the records
//!   have no expiry): an evicted record reads as an account never seen,
//!   with no failures and no used codes. Under a `volatile-*` policy the
//!   trails' activity lists (the only keys with an expiry) may be evicted
//!   first: the records and the record of bindings never are.
//!
//! [`RedisStore::durability_problems`] reports a server that does not.
//! With replicas, replication is asynchronous: a failover to a replica
//! that had not received the last saves rolls them back (a used code
//! accepted again, failures forgotten). [`RedisStore::with_replicas`]
//! makes each save wait for that many replicas to acknowledge it (`WAIT`)
//! and fails it otherwise, which narrows that window but does not close
//! it: `WAIT` does not make Redis a consensus store.

#[cfg(feature = "cluster")]
mod cluster;
mod store;

pub use store::{RedisFailure, RedisStore, key};
pub use twofa_record::{Corrupt, Record, SealedSecrets, StoreError};
