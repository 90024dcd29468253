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

use redis::{aio::ConnectionManager, cluster::ClusterClient, cluster_async::ClusterConnection};
use twofa::{AccountStore, SharedError, Versioned};
use twofa_record::{AuditTrail, Record, StoreError, TrailEntry};
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
    /// A Redis Cluster.
    RedisCluster(RedisStore<ClusterConnection>),
}

/// `$body` for whichever store `$self` is, the store bound to `$store`.
macro_rules! each_store {
    ($self:expr, $store:ident => $body:expr) => {
        match $self {
            AnyStore::Postgres($store) => $body,
            AnyStore::Sqlite($store) => $body,
            AnyStore::Redis($store) => $body,
            AnyStore::RedisCluster($store) => $body,
        }
    };
}

impl AnyStore {
    /// The backends [`AnyStore::connect`] knows, by name.
    pub const BACKENDS: [&'static str; 4] = ["sqlite", "postgres", "redis", "redis-cluster"];

    /// Connects to `target` (a URL, or a file for SQLite, created if
    /// missing; for `redis-cluster`, the URLs of one or more of its nodes,
    /// separated by commas) and brings the schema up to date. `backend`
    /// is one of [`AnyStore::BACKENDS`].
    ///
    /// # Errors
    /// An unknown backend, or the store failed.
    pub async fn connect(backend: &str, target: &str) -> Result<Self, BoxError> {
        Ok(match backend {
            "postgres" => {
                // Room for 16 concurrent logins per process.
                let pool = PgStore::pool_options()
                    .max_connections(16)
                    .connect(target)
                    .await?;
                let store = PgStore::new(pool);
                store.migrate().await?;
                Self::Postgres(store)
            }
            "sqlite" => Self::Sqlite(connect_sqlite(target).await?),
            "redis" => {
                let client = redis::Client::open(target)?;
                Self::Redis(RedisStore::new(ConnectionManager::new(client).await?))
            }
            "redis-cluster" => {
                let client = ClusterClient::new(target.split(',').map(str::trim))?;
                Self::RedisCluster(RedisStore::new(client.get_async_connection().await?))
            }
            other => return Err(format!("no backend {other:?}").into()),
        })
    }

    /// What in the store's configuration could lose a save: Redis's
    /// `RedisStore::durability_problems`, of every node for a cluster;
    /// nothing for PostgreSQL and SQLite, whose settings the store sets or
    /// the database defaults to.
    ///
    /// # Errors
    /// Redis failed or refused `CONFIG GET`.
    pub async fn durability_problems(&self) -> Result<Vec<String>, BoxError> {
        Ok(match self {
            Self::Postgres(_) | Self::Sqlite(_) => Vec::new(),
            Self::Redis(store) => store.durability_problems().await?,
            Self::RedisCluster(store) => store.cluster_durability_problems().await?,
        })
    }
}

impl<T: Record> AccountStore<T> for AnyStore {
    type Error = BoxError;

    async fn load(&self, account: &str) -> Result<Versioned<T>, BoxError> {
        Ok(each_store!(self, store => store.load(account).await?))
    }

    async fn save(&self, account: &str, expected: u64, state: &T) -> Result<bool, BoxError> {
        Ok(each_store!(self, store => store.save(account, expected, state).await?))
    }

    async fn update<A, F>(
        &self,
        account: &str,
        decide: F,
    ) -> Result<Option<A>, SharedError<BoxError>>
    where
        Self: Sync,
        T: Clone + PartialEq + Send + Sync,
        A: Send,
        F: FnOnce(&mut T) -> Result<A, twofa::Error> + Send,
    {
        each_store!(self, store => store.update(account, decide).await.map_err(shared))
    }
}

/// A store's failure of a decision, boxed.
fn shared<E: Error + Send + Sync + 'static>(error: SharedError<E>) -> SharedError<BoxError> {
    match error {
        SharedError::Store(e) => SharedError::Store(Box::new(e)),
        SharedError::Check(e) => SharedError::Check(e),
        SharedError::Contention => SharedError::Contention,
    }
}

impl AuditTrail for AnyStore {
    type Error = BoxError;

    async fn append(
        &self,
        account: &str,
        entries: &[TrailEntry],
        now: u64,
    ) -> Result<(), StoreError<BoxError>> {
        each_store!(self, store => store.append(account, entries, now).await.map_err(boxed))
    }

    async fn recent(
        &self,
        account: &str,
        limit: usize,
    ) -> Result<Vec<TrailEntry>, StoreError<BoxError>> {
        each_store!(self, store => store.recent(account, limit).await.map_err(boxed))
    }

    async fn bindings(&self, account: &str) -> Result<Vec<TrailEntry>, StoreError<BoxError>> {
        each_store!(self, store => store.bindings(account).await.map_err(boxed))
    }
}

/// A backend's trail error, its failure boxed.
fn boxed<E: Error + Send + Sync + 'static>(error: StoreError<E>) -> StoreError<BoxError> {
    error.map_backend(|e| Box::new(e) as BoxError)
}

/// Opens the SQLite file `target` and brings its schema up to date. Two
/// first starts on one fresh file can meet SQLite's lock while one of them
/// switches the file to WAL (where the busy timeout does not wait): such a
/// start tries again, a little later each time, rather than fail.
async fn connect_sqlite(target: &str) -> Result<SqliteStore, BoxError> {
    const ATTEMPTS: u64 = 20;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let opened = async {
            let pool = SqliteStore::pool_options()
                .connect_with(SqliteStore::options(target))
                .await?;
            let store = SqliteStore::new(pool);
            store.migrate().await?;
            Ok::<_, BoxError>(store)
        }
        .await;
        match opened {
            Err(e) if attempt < ATTEMPTS && is_busy(&*e) => {
                tokio::time::sleep(std::time::Duration::from_millis(25 * attempt)).await;
            }
            result => return result,
        }
    }
}

/// Whether `error` is SQLite's "database is locked" (or busy).
fn is_busy(error: &(dyn std::error::Error + 'static)) -> bool {
    let text = error.to_string();
    text.contains("database is locked") || text.contains("database is busy")
}
