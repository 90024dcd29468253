//! [`SqliteStore`]: the records in an SQLite file, for a service on one
//! machine (one process or several).

use std::{path::Path, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};
use twofa::{AccountStore, Versioned};
use twofa_record::{Corrupt, Record, StoreError, check_account, decode, next_version};

use crate::store::sql_store;

/// Every account's records in the SQLite table `twofa_records`, over the
/// service's own pool: the same compare-and-swap as [`PgStore`], which
/// several processes may share on one database file. Open the pool with
/// [`SqliteStore::options`] (or the same settings), with the pool settings
/// of [`SqliteStore::pool_options`].
///
/// ```no_run
/// use twofa_sqlx::SqliteStore;
///
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = SqliteStore::pool_options()
///     .connect_with(SqliteStore::options("twofa.db"))
///     .await?;
/// let store = SqliteStore::new(pool);
/// store.migrate().await?; // once, at start-up
/// # Ok(())
/// # }
/// ```
///
/// [`PgStore`]: crate::PgStore
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// A store over `pool`. Run [`SqliteStore::migrate`] once before its
    /// first use.
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The connection settings the store needs, for the database file at
    /// `path` (created if missing):
    /// - write-ahead logging, so that readers never wait for a writer and
    ///   several processes can share the file;
    /// - `synchronous = FULL`: a save is on disk before it is answered,
    ///   so a crash or power loss cannot roll back a used code or a
    ///   counted failure (`NORMAL` could lose the last saves);
    /// - a 10-second busy timeout: a writer waits for another instead of
    ///   failing at once.
    #[must_use]
    pub fn options(path: impl AsRef<Path>) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
    }
}

/// The statements, in SQLite's dialect.
mod sql {
    pub(super) type Db = sqlx::Sqlite;
    /// Takes the write lock at once: instances migrating together wait
    /// for one another.
    pub(super) const BEGIN: &str = "BEGIN IMMEDIATE";
    pub(super) const LOCK: Option<&str> = None;
    pub(super) const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS twofa_migrations (
        version    INTEGER PRIMARY KEY,
        applied_at TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP) STRICT";
    pub(super) const RECORD_MIGRATION: &str = "INSERT INTO twofa_migrations (version) VALUES (?1)";
    pub(super) const MIGRATIONS: &[(i64, &str)] = &[
        (1, include_str!("../migrations/sqlite/0001_records.sql")),
        (2, include_str!("../migrations/sqlite/0002_events.sql")),
    ];
    /// A decision's load and save: inside the write lock, taken at once,
    /// so that no other writer comes between them.
    pub(super) const BEGIN_DECISION: Option<&str> = Some("BEGIN IMMEDIATE");
    /// At most `MAX_BODY_LEN` + 1 characters of the body: a longer one is
    /// refused as corrupt without being read whole.
    pub(super) const LOAD: &str = "SELECT version, format, substr(body, 1, 1048577) \
        FROM twofa_records WHERE account = ?1 AND kind = ?2";
    pub(super) const INSERT: &str = "INSERT INTO twofa_records (account, kind, version, format, body) \
        VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (account, kind) DO NOTHING";
    pub(super) const UPDATE: &str = "UPDATE twofa_records \
        SET version = ?5, format = ?3, body = ?4, updated_at = CURRENT_TIMESTAMP \
        WHERE account = ?1 AND kind = ?2 AND version = ?6";
    /// An append's transaction: on SQLite the write lock at once, so that
    /// the count of bindings and the inserts are one step.
    pub(super) const BEGIN_TRAIL: &str = "BEGIN IMMEDIATE";
    /// Appends to one account's trail wait for one another.
    pub(super) const LOCK_TRAIL: Option<&str> = None;
    pub(super) const COUNT_BINDINGS: &str =
        "SELECT COUNT(*) FROM twofa_events WHERE account = ?1 AND binding";
    pub(super) const INSERT_EVENT: &str = "INSERT INTO twofa_events (account, at, name, detail, binding) \
        VALUES (?1, ?2, ?3, ?4, ?5)";
    /// The account's activity beyond the newest `?2` entries.
    pub(super) const PRUNE_ACCOUNT: &str = "DELETE FROM twofa_events WHERE account = ?1 AND NOT binding \
        AND id <= (SELECT id FROM twofa_events WHERE account = ?1 AND NOT binding \
        ORDER BY id DESC LIMIT 1 OFFSET ?2)";
    /// The account's activity older than `?2`.
    pub(super) const PRUNE_ACCOUNT_OLD: &str =
        "DELETE FROM twofa_events WHERE account = ?1 AND NOT binding AND at < ?2";
    /// At most `?2` activity entries, of any account, older than `?1`.
    pub(super) const PRUNE_OLD: &str = "DELETE FROM twofa_events WHERE id IN \
        (SELECT id FROM twofa_events WHERE NOT binding AND at < ?1 ORDER BY at LIMIT ?2)";
    pub(super) const RECENT: &str = "SELECT at, name, detail FROM twofa_events \
        WHERE account = ?1 ORDER BY id DESC LIMIT ?2";
    /// No more than `MAX_BINDINGS`, whatever was written by hand.
    pub(super) const BINDINGS: &str = "SELECT at, name, detail FROM twofa_events \
        WHERE account = ?1 AND binding ORDER BY id LIMIT 1000";
}

sql_store!(SqliteStore, sql);
