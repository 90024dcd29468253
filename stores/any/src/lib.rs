//! The three store crates behind one type, chosen when a process starts
//! (a flag, an environment variable): a binary that serves or tests any
//! backend names it and its URL, and gets one [`AccountStore`] for every
//! kind of record.
//!
//! ```no_run
//! # async fn run() -> Result<(), twofa_stores::BoxError> {
//! use twofa::{AccountState, AccountStore};
//! use twofa_stores::AnyStore;
//!
//! let store = AnyStore::connect("sqlite", "twofa.db").await?;
//! let state = AccountStore::<AccountState>::load(&store, "UCC123456").await?;
//! # let _ = state;
//! # Ok(())
//! # }
//! ```

use std::error::Error;

use redis::aio::ConnectionManager;
use sqlx::{SqlitePool, postgres::PgPoolOptions};
use twofa::{AccountStore, Versioned};
use twofa_record::Record;
use twofa_redis::RedisStore;
use twofa_sqlx::{PgStore, SqliteStore};

/// A store's failure, whichever store.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// One of the stores, connected. Cloning shares the pool or connection.
#[derive(Clone, Debug)]
pub enum AnyStore {
    /// PostgreSQL.
    Postgres(PgStore),
    /// An SQLite file.
    Sqlite(SqliteStore),
    /// Redis.
    Redis(RedisStore<ConnectionManager>),
}

impl AnyStore {
    /// The backends [`AnyStore::connect`] knows, by name.
    pub const BACKENDS: [&'static str; 3] = ["sqlite", "postgres", "redis"];

    /// Connects to `target` (a URL, or a file for SQLite, created if
    /// missing) and brings the schema up to date. `backend` is one of
    /// [`AnyStore::BACKENDS`].
    ///
    /// # Errors
    /// An unknown backend, or the store failed.
    pub async fn connect(backend: &str, target: &str) -> Result<Self, BoxError> {
        Ok(match backend {
            "postgres" => {
                // Room for 16 concurrent logins per process.
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .connect(target)
                    .await?;
                let store = PgStore::new(pool);
                store.migrate().await?;
                Self::Postgres(store)
            }
            "sqlite" => {
                let pool = SqlitePool::connect_with(SqliteStore::options(target)).await?;
                let store = SqliteStore::new(pool);
                store.migrate().await?;
                Self::Sqlite(store)
            }
            "redis" => {
                let client = redis::Client::open(target)?;
                Self::Redis(RedisStore::new(ConnectionManager::new(client).await?))
            }
            other => return Err(format!("no backend {other:?}").into()),
        })
    }
}

impl<T: Record> AccountStore<T> for AnyStore {
    type Error = BoxError;

    async fn load(&self, account: &str) -> Result<Versioned<T>, BoxError> {
        Ok(match self {
            Self::Postgres(store) => store.load(account).await?,
            Self::Sqlite(store) => store.load(account).await?,
            Self::Redis(store) => store.load(account).await?,
        })
    }

    async fn save(&self, account: &str, expected: u64, state: &T) -> Result<bool, BoxError> {
        Ok(match self {
            Self::Postgres(store) => store.save(account, expected, state).await?,
            Self::Sqlite(store) => store.save(account, expected, state).await?,
            Self::Redis(store) => store.save(account, expected, state).await?,
        })
    }
}
