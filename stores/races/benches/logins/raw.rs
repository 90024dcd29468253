//! The raw baselines: a login's load and compare-and-swap as the stores
//! run them (the same table or hash, statements and body), through the
//! plainest client of each database, one connection a client, with
//! nothing of twofa between. The body is written back as it was read; a
//! lost compare-and-swap loads again.

use std::{path::Path, time::Duration};

use redis::{Script, aio::MultiplexedConnection};
use rusqlite::{Connection, TransactionBehavior};
use tokio_postgres::{NoTls, Statement, types::Type};

/// The kind of state the logins decide on.
const KIND: &str = "account";
/// Attempts of one login before it counts as refused.
const ATTEMPTS: u32 = 1000;

/// `twofa-sqlx`'s statements on SQLite, the same text.
const SQLITE_LOAD: &str = "SELECT version, format, substr(body, 1, 1048577) \
    FROM twofa_records WHERE account = ?1 AND kind = ?2";
const SQLITE_UPDATE: &str = "UPDATE twofa_records \
    SET version = ?5, format = ?3, body = ?4, updated_at = CURRENT_TIMESTAMP \
    WHERE account = ?1 AND kind = ?2 AND version = ?6";
const SQLITE_COPY: &str = "INSERT INTO twofa_records (account, kind, version, format, body) \
    SELECT ?1, kind, version, format, body FROM twofa_records WHERE account = ?2 AND kind = ?3";

/// `twofa-sqlx`'s statements on PostgreSQL, the same text.
const PG_LOAD: &str = "SELECT version, format, substr(body::text, 1, 1048577) \
    FROM twofa_records WHERE account = $1 AND kind = $2";
const PG_UPDATE: &str = "UPDATE twofa_records \
    SET version = $5, format = $3, body = $4::jsonb, updated_at = now() \
    WHERE account = $1 AND kind = $2 AND version = $6";
const PG_COPY: &str = "INSERT INTO twofa_records (account, kind, version, format, body) \
    SELECT copy, kind, version, format, body FROM twofa_records, unnest($1::text[]) AS copy \
    WHERE account = $2 AND kind = $3";

/// The plainest compare-and-swap of a hash's version in Redis.
const REDIS_SAVE: &str = r"
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'format', ARGV[3], 'body', ARGV[4])
return 1
";

/// A failure of a raw client, whichever the database.
pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

/// An SQLite connection with the settings `SqliteStore::options` gives.
///
/// # Errors
/// The file cannot be opened.
pub(crate) fn sqlite_open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(Duration::from_secs(10))?;
    Ok(connection)
}

/// One login on SQLite: load and save inside `BEGIN IMMEDIATE`, as the
/// store decides.
///
/// # Errors
/// SQLite failed.
pub(crate) fn sqlite_login(connection: &mut Connection, account: &str) -> rusqlite::Result<bool> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (version, format, body): (i64, i64, String) = transaction
        .prepare_cached(SQLITE_LOAD)?
        .query_row((account, KIND), |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    let saved = transaction.prepare_cached(SQLITE_UPDATE)?.execute((
        account,
        KIND,
        format,
        body,
        version + 1,
        version,
    ))?;
    transaction.commit()?;
    Ok(saved == 1)
}

/// Writes `template`'s account record under each of `accounts`, in one
/// transaction.
///
/// # Errors
/// SQLite failed, or an account is already written.
pub(crate) fn sqlite_copy(
    path: &Path,
    template: &str,
    accounts: &[String],
) -> rusqlite::Result<()> {
    let mut connection = sqlite_open(path)?;
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut copy = transaction.prepare(SQLITE_COPY)?;
        for account in accounts {
            copy.execute((account, template, KIND))?;
        }
    }
    transaction.commit()
}

/// A PostgreSQL connection with the store's two statements prepared.
pub(crate) struct Postgres {
    client: tokio_postgres::Client,
    load: Statement,
    update: Statement,
}

impl Postgres {
    /// Connects to `url` and prepares the statements.
    ///
    /// # Errors
    /// PostgreSQL failed.
    pub(crate) async fn connect(url: &str) -> Result<Self, Failure> {
        let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
        tokio::spawn(async move {
            // The connection ends when the client is dropped.
            let _ = connection.await;
        });
        let load = client
            .prepare_typed(PG_LOAD, &[Type::TEXT, Type::TEXT])
            .await?;
        let update = client
            .prepare_typed(
                PG_UPDATE,
                &[
                    Type::TEXT,
                    Type::TEXT,
                    Type::INT8,
                    Type::TEXT,
                    Type::INT8,
                    Type::INT8,
                ],
            )
            .await?;
        Ok(Self {
            client,
            load,
            update,
        })
    }

    /// One login: load, then the compare-and-swap, again while it loses.
    ///
    /// # Errors
    /// PostgreSQL failed.
    pub(crate) async fn login(&self, account: &str) -> Result<bool, Failure> {
        for _ in 0..ATTEMPTS {
            let row = self
                .client
                .query_one(&self.load, &[&account, &KIND])
                .await?;
            let (version, format, body): (i64, i64, String) = (row.get(0), row.get(1), row.get(2));
            let saved = self
                .client
                .execute(
                    &self.update,
                    &[&account, &KIND, &format, &body, &(version + 1), &version],
                )
                .await?;
            if saved == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes `template`'s account record under each of `accounts`.
    ///
    /// # Errors
    /// PostgreSQL failed, or an account is already written.
    pub(crate) async fn copy(&self, template: &str, accounts: &[String]) -> Result<(), Failure> {
        self.client
            .execute(PG_COPY, &[&accounts, &template, &KIND])
            .await?;
        Ok(())
    }
}

/// A Redis connection and the compare-and-swap script.
pub(crate) struct Redis {
    connection: MultiplexedConnection,
    save: Script,
}

impl Redis {
    /// Connects to `url`.
    ///
    /// # Errors
    /// Redis failed.
    pub(crate) async fn connect(url: &str) -> Result<Self, Failure> {
        let connection = redis::Client::open(url)?
            .get_multiplexed_async_connection()
            .await?;
        Ok(Self {
            connection,
            save: Script::new(REDIS_SAVE),
        })
    }

    async fn load(&self, key: &str) -> Result<(u64, String, String), Failure> {
        let mut connection = self.connection.clone();
        let (version, format, body): (u64, String, String) = redis::cmd("HMGET")
            .arg(key)
            .arg("version")
            .arg("format")
            .arg("body")
            .query_async(&mut connection)
            .await?;
        Ok((version, format, body))
    }

    /// One login: `HMGET`, then the script, again while it loses.
    ///
    /// # Errors
    /// Redis failed.
    pub(crate) async fn login(&self, account: &str) -> Result<bool, Failure> {
        let key = twofa_redis::key(account, KIND);
        let mut connection = self.connection.clone();
        for _ in 0..ATTEMPTS {
            let (version, format, body) = self.load(&key).await?;
            let saved: i64 = self
                .save
                .key(&key)
                .arg(version)
                .arg(version + 1)
                .arg(format)
                .arg(body)
                .invoke_async(&mut connection)
                .await?;
            if saved == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes `template`'s account record under each of `accounts`.
    ///
    /// # Errors
    /// Redis failed.
    pub(crate) async fn copy(&self, template: &str, accounts: &[String]) -> Result<(), Failure> {
        let (version, format, body) = self.load(&twofa_redis::key(template, KIND)).await?;
        let mut pipe = redis::pipe();
        for account in accounts {
            pipe.cmd("HSET")
                .arg(twofa_redis::key(account, KIND))
                .arg("version")
                .arg(version)
                .arg("format")
                .arg(&format)
                .arg("body")
                .arg(&body)
                .ignore();
        }
        let mut connection = self.connection.clone();
        pipe.query_async::<()>(&mut connection).await?;
        Ok(())
    }
}
