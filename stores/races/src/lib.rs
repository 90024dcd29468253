//! Independent processes racing every kind of `twofa` state on
//! PostgreSQL, SQLite and Redis (`tests/races.rs`), and the login
//! benchmark of each store (`benches/logins.rs`).
//!
//! The worker binary, `race-worker`:
//!
//! ```text
//! race-worker BACKEND TARGET check
//!     exit 0 if the store answers (and its schema is in place)
//! race-worker BACKEND TARGET setup RACE ACCOUNT
//!     prepares ACCOUNT for RACE; prints what the workers need, one a line
//! race-worker BACKEND TARGET run RACE ACCOUNT START_MS TASKS FIRST_TASK DATA...
//!     waits until START_MS (Unix milliseconds), then runs TASKS tasks at
//!     once, numbered from FIRST_TASK, each trying every round of RACE;
//!     prints one line an attempt: ROUND OUTCOME
//! race-worker BACKEND TARGET left ACCOUNT
//!     prints what the races left in ACCOUNT's records, one `NAME VALUE` a line
//! ```
//!
//! BACKEND is `postgres`, `sqlite`, `redis` or `redis-cluster`; TARGET its
//! URL (for a cluster, its nodes' URLs separated by commas), or the
//! database file for SQLite. For the races across a cluster's slot
//! migrations and failovers, `run` reads the environment:
//! `TWOFA_RACE_ROUNDS` (rounds instead of the race's own number),
//! `TWOFA_RACE_PACE_MS` (a pause after each round), `TWOFA_RACE_REPLICAS`
//! (each Redis save waits for that many replicas, for at most a second)
//! and `TWOFA_RACE_FAILOVER=1` (an attempt the store fails is printed as
//! `refused` rather than ending the worker).

pub mod authenticator;
pub mod cluster;
pub mod fixtures;
pub mod proxy;
pub mod scenarios;
pub mod servers;
pub mod standby;

pub use scenarios::Scenario;
pub use twofa_stores::{AnyStore, BoxError};
