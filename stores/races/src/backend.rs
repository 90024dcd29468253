//! The three stores behind one type, chosen on the command line, so that
//! one worker binary races any of them.

use std::error::Error;

use redis::aio::ConnectionManager;
use sqlx::{SqlitePool, postgres::PgPoolOptions};
use twofa::{AccountStore, Versioned};
use twofa_record::Record;
use twofa_redis::RedisStore;
use twofa_sqlx::{PgStore, SqliteStore};

/// A store's failure, whichever store.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// One of the stores, connected.
#[derive(Clone, Debug)]
pub enum Backend {
    /// PostgreSQL.
    Postgres(PgStore),
    /// An SQLite file.
    Sqlite(SqliteStore),
    /// Redis.
    Redis(RedisStore<ConnectionManager>),
}

impl Backend {
    /// Connects to `target` (a URL, or a file for SQLite) and brings the
    /// schema up to date.
    ///
    /// # Errors
    /// An unknown backend, or the store failed.
    pub async fn connect(backend: &str, target: &str) -> Result<Self, BoxError> {
        Ok(match backend {
            "postgres" => {
                // Room for the benchmark's 16 concurrent clients.
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

impl<T: Record> AccountStore<T> for Backend {
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
