//! [`PgStore`]: the records in PostgreSQL, shared by every instance of a
//! service.

use sqlx::PgPool;
use twofa::{AccountStore, Versioned};
use twofa_record::{Corrupt, Record, StoreError, check_account, decode, next_version};

use crate::store::sql_store;

/// Every account's records in the PostgreSQL table `twofa_records`, over
/// the service's own pool: each save one `UPDATE … WHERE version = $n`
/// (or `INSERT … ON CONFLICT DO NOTHING` for a record never saved), each
/// load one `SELECT`. Build the pool from [`PgStore::pool_options`]: a
/// decision is then two statements on one connection and no ping.
///
/// ```no_run
/// use twofa::{AccountState, Guard, Secret, Totp};
/// use twofa_sqlx::PgStore;
///
/// # async fn login(pool: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
/// let store = PgStore::new(pool); // the pool the service already has
/// store.migrate().await?; // once, at start-up
/// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
/// let guard = Guard::default();
/// let now = twofa::unix_time()?;
/// let outcome = guard
///     .decide_shared(&store, "alice", |state: &mut AccountState| {
///         guard.verify_totp(&totp, &mut state.totp, "123456", now)
///     })
///     .await?;
/// println!("{outcome}");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// A store over `pool`. Run [`PgStore::migrate`] once before its
    /// first use.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// The statements, in PostgreSQL's dialect.
mod sql {
    pub(super) type Db = sqlx::Postgres;
    pub(super) const BEGIN: &str = "BEGIN";
    /// Instances migrating together wait for one another: concurrent
    /// `CREATE TABLE IF NOT EXISTS` statements can collide.
    pub(super) const LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(7297010)");
    pub(super) const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS twofa_migrations (
        version    BIGINT      PRIMARY KEY,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
    pub(super) const RECORD_MIGRATION: &str = "INSERT INTO twofa_migrations (version) VALUES ($1)";
    pub(super) const MIGRATIONS: &[(i64, &str)] = &[
        (1, include_str!("../migrations/postgres/0001_records.sql")),
        (2, include_str!("../migrations/postgres/0002_events.sql")),
    ];
    /// A decision's load and save: on one connection, outside any
    /// transaction; the compare-and-swap decides between instances.
    pub(super) const BEGIN_DECISION: Option<&str> = None;
    /// At most `MAX_BODY_LEN` + 1 characters of the body: a longer one is
    /// refused as corrupt without being sent whole.
    pub(super) const LOAD: &str = "SELECT version, format, substr(body::text, 1, 1048577) \
        FROM twofa_records WHERE account = $1 AND kind = $2";
    pub(super) const INSERT: &str = "INSERT INTO twofa_records (account, kind, version, format, body) \
        VALUES ($1, $2, 1, $3, $4::jsonb) ON CONFLICT (account, kind) DO NOTHING";
    pub(super) const UPDATE: &str = "UPDATE twofa_records \
        SET version = $5, format = $3, body = $4::jsonb, updated_at = now() \
        WHERE account = $1 AND kind = $2 AND version = $6";
    /// An append's transaction: on SQLite the write lock at once, so that
    /// the count of bindings and the inserts are one step.
    pub(super) const BEGIN_TRAIL: &str = "BEGIN";
    /// Appends to one account's trail wait for one another.
    pub(super) const LOCK_TRAIL: Option<&str> =
        Some("SELECT pg_advisory_xact_lock(7297011, hashtext($1))");
    pub(super) const COUNT_BINDINGS: &str =
        "SELECT COUNT(*) FROM twofa_events WHERE account = $1 AND binding";
    pub(super) const INSERT_EVENT: &str = "INSERT INTO twofa_events (account, at, name, detail, binding) \
        VALUES ($1, $2, $3, $4, $5)";
    /// The account's activity beyond the newest `$2` entries.
    pub(super) const PRUNE_ACCOUNT: &str = "DELETE FROM twofa_events WHERE account = $1 AND NOT binding \
        AND id <= (SELECT id FROM twofa_events WHERE account = $1 AND NOT binding \
        ORDER BY id DESC LIMIT 1 OFFSET $2)";
    /// The account's activity older than `$2`.
    pub(super) const PRUNE_ACCOUNT_OLD: &str =
        "DELETE FROM twofa_events WHERE account = $1 AND NOT binding AND at < $2";
    /// At most `$2` activity entries, of any account, older than `$1`.
    pub(super) const PRUNE_OLD: &str = "DELETE FROM twofa_events WHERE id IN \
        (SELECT id FROM twofa_events WHERE NOT binding AND at < $1 ORDER BY at LIMIT $2)";
    pub(super) const RECENT: &str = "SELECT at, name, detail FROM twofa_events \
        WHERE account = $1 ORDER BY id DESC LIMIT $2";
    /// No more than `MAX_BINDINGS`, whatever was written by hand.
    pub(super) const BINDINGS: &str = "SELECT at, name, detail FROM twofa_events \
        WHERE account = $1 AND binding ORDER BY id LIMIT 1000";
}

sql_store!(PgStore, sql);
