//! The store itself, written once for both databases: a dialect module
//! gives the statements, and `sql_store!` implements the migrations and
//! the [`AccountStore`](twofa::AccountStore) compare-and-swap over them.

/// Implements `migrate` and `AccountStore<T>` for every record kind on
/// `$store` (a struct with a `pool` field), with the statements of the
/// dialect module `$sql`: `BEGIN`, `LOCK`, `MIGRATIONS_TABLE`,
/// `MIGRATIONS`, `LOAD`, `INSERT`, `UPDATE` and `BEGIN_DECISION`.
/// Whether `error` says that the connection is gone, with nothing done
/// on it: it broke, or the server ended it (PostgreSQL's classes 08,
/// connection exception, and 57P, a shutdown or an administrator's
/// command).
pub(crate) fn connection_gone(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(e) => e
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

macro_rules! sql_store {
    ($store:ident, $sql:ident) => {
        impl $store {
            /// The pool settings a login wants, to build the service's pool
            /// with (`max_connections` and the rest set on top): a
            /// connection is not pinged when it is taken, which saves each
            /// decision a round trip to the database. sqlx still pings a
            /// connection when it is returned, so a broken one does not go
            /// back to the pool; one that breaks while idle fails its first
            /// statement with nothing changed and is dropped: a decision
            /// or a load then tries once more on another connection, a save
            /// answers the store error.
            #[must_use]
            pub fn pool_options() -> sqlx::pool::PoolOptions<$sql::Db> {
                sqlx::pool::PoolOptions::new().test_before_acquire(false)
            }

            /// Brings the database's schema up to date: runs, in one
            /// transaction that instances starting together take in turn,
            /// each of the crate's migrations not yet recorded in
            /// `twofa_migrations`. Call it once at deployment or start-up,
            /// never per connection.
            ///
            /// # Errors
            /// [`StoreError::Backend`] when the database fails (nothing is
            /// then changed), or [`StoreError::Corrupt`] when the schema
            /// is newer than this version of the crate knows.
            pub async fn migrate(&self) -> Result<(), StoreError<sqlx::Error>> {
                let mut tx = self
                    .pool
                    .begin_with($sql::BEGIN)
                    .await
                    .map_err(StoreError::Backend)?;
                if let Some(lock) = $sql::LOCK {
                    sqlx::raw_sql(lock)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::Backend)?;
                }
                sqlx::raw_sql($sql::MIGRATIONS_TABLE)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Backend)?;
                let applied: i64 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM twofa_migrations")
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(StoreError::Backend)?;
                let known = $sql::MIGRATIONS.last().map_or(0, |&(version, _)| version);
                if applied > known {
                    return Err(StoreError::Corrupt(Corrupt::new(
                        "schema",
                        format!("migration {applied} applied, this version knows {known}"),
                    )));
                }
                for &(version, migration) in $sql::MIGRATIONS {
                    if version > applied {
                        sqlx::raw_sql(migration)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::Backend)?;
                        sqlx::query($sql::RECORD_MIGRATION)
                            .bind(version)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::Backend)?;
                    }
                }
                tx.commit().await.map_err(StoreError::Backend)?;
                Ok(())
            }

            /// The pool the store was given.
            #[must_use]
            pub fn pool(&self) -> &sqlx::Pool<$sql::Db> {
                &self.pool
            }
        }

        impl $store {
            /// The account's record of kind `T`, read on `connection`.
            async fn load_on<T: Record>(
                connection: &mut <$sql::Db as sqlx::Database>::Connection,
                account: &str,
            ) -> Result<Versioned<T>, StoreError<sqlx::Error>> {
                check_account(account)?;
                let row: Option<(i64, i64, String)> = sqlx::query_as($sql::LOAD)
                    .bind(account)
                    .bind(T::KIND)
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(StoreError::Backend)?;
                match row {
                    None => Ok(Versioned::default()),
                    Some((version, format, body)) => Ok(decode(version, format, &body)?),
                }
            }

            /// The compare-and-swap, on `connection`.
            async fn save_on<T: Record>(
                connection: &mut <$sql::Db as sqlx::Database>::Connection,
                account: &str,
                expected: u64,
                state: &T,
            ) -> Result<bool, StoreError<sqlx::Error>> {
                check_account(account)?;
                let body = state.encode()?;
                let version = next_version(expected)?;
                // One statement: its row count is the answer.
                let query = if expected == 0 {
                    sqlx::query($sql::INSERT)
                        .bind(account)
                        .bind(T::KIND)
                        .bind(T::FORMAT)
                        .bind(body)
                } else {
                    sqlx::query($sql::UPDATE)
                        .bind(account)
                        .bind(T::KIND)
                        .bind(T::FORMAT)
                        .bind(body)
                        .bind(version)
                        .bind(version - 1)
                };
                let done = query
                    .execute(&mut *connection)
                    .await
                    .map_err(StoreError::Backend)?;
                Ok(done.rows_affected() == 1)
            }

            /// Load, decide and save on one connection. `decide` is taken
            /// only once the load has answered: while it is still there,
            /// nothing was decided and the decision may run again.
            async fn decide_on<T, A, F>(
                connection: &mut <$sql::Db as sqlx::Database>::Connection,
                account: &str,
                decide: &mut Option<F>,
            ) -> Result<Option<A>, twofa::SharedError<StoreError<sqlx::Error>>>
            where
                T: Record,
                F: FnOnce(&mut T) -> Result<A, twofa::Error>,
            {
                use twofa::SharedError;
                let loaded = Self::load_on::<T>(connection, account)
                    .await
                    .map_err(SharedError::Store)?;
                let Some(decide) = decide.take() else {
                    return Err(SharedError::Contention);
                };
                let mut state = loaded.state.clone();
                let outcome = decide(&mut state).map_err(SharedError::Check)?;
                if state == loaded.state {
                    return Ok(Some(outcome));
                }
                let saved = Self::save_on(connection, account, loaded.version, &state)
                    .await
                    .map_err(SharedError::Store)?;
                Ok(saved.then_some(outcome))
            }

            /// One attempt of [`AccountStore::update`] on a connection of
            /// its own, which is closed rather than put back into the pool
            /// when the database failed on it (it may be broken, or on
            /// SQLite inside a transaction that SQLite ended by itself).
            async fn update_once<T: Record, A>(
                &self,
                account: &str,
                decide: &mut Option<impl FnOnce(&mut T) -> Result<A, twofa::Error>>,
            ) -> Result<Option<A>, twofa::SharedError<StoreError<sqlx::Error>>> {
                use twofa::SharedError;
                let backend = |e| SharedError::Store(StoreError::Backend(e));
                let mut connection = self.pool.acquire().await.map_err(backend)?;
                let decided = match $sql::BEGIN_DECISION {
                    None => Self::decide_on(&mut connection, account, decide).await,
                    Some(begin) => {
                        async {
                            let mut tx = sqlx::Connection::begin_with(&mut *connection, begin)
                                .await
                                .map_err(backend)?;
                            let decided = Self::decide_on(&mut tx, account, decide).await?;
                            tx.commit().await.map_err(backend)?;
                            Ok(decided)
                        }
                        .await
                    }
                };
                if matches!(decided, Err(SharedError::Store(StoreError::Backend(_)))) {
                    connection.close_on_drop();
                }
                decided
            }
        }

        impl<T: Record> AccountStore<T> for $store {
            type Error = StoreError<sqlx::Error>;

            /// One `SELECT`; on a connection found broken (one that died
            /// idle in the pool), once more on another.
            async fn load(&self, account: &str) -> Result<Versioned<T>, Self::Error> {
                check_account(account)?;
                let mut connection = self.pool.acquire().await.map_err(StoreError::Backend)?;
                match Self::load_on(&mut connection, account).await {
                    Err(StoreError::Backend(e)) if $crate::store::connection_gone(&e) => {
                        connection.close_on_drop();
                        drop(connection);
                        let mut connection =
                            self.pool.acquire().await.map_err(StoreError::Backend)?;
                        Self::load_on(&mut connection, account).await
                    }
                    loaded => loaded,
                }
            }

            async fn save(
                &self,
                account: &str,
                expected: u64,
                state: &T,
            ) -> Result<bool, Self::Error> {
                check_account(account)?;
                let mut connection = self.pool.acquire().await.map_err(StoreError::Backend)?;
                Self::save_on(&mut connection, account, expected, state).await
            }

            /// The load and the save on one connection taken from the pool
            /// once; on SQLite inside `BEGIN IMMEDIATE`, so that no other
            /// writer can change the account from the load to the commit
            /// (the decision runs in between: keep slow work, such as
            /// hashing a recovery code, outside it) and the save never
            /// loses its race. The compare-and-swap stays the guarantee.
            /// A connection found broken before the decision ran (one that
            /// died idle in the pool) is dropped and the attempt made once
            /// more on another.
            async fn update<A, F>(
                &self,
                account: &str,
                decide: F,
            ) -> Result<Option<A>, twofa::SharedError<Self::Error>>
            where
                Self: Sync,
                T: Clone + PartialEq + Send + Sync,
                A: Send,
                F: FnOnce(&mut T) -> Result<A, twofa::Error> + Send,
            {
                use twofa::SharedError;
                check_account(account).map_err(SharedError::Store)?;
                let mut decide = Some(decide);
                match self.update_once(account, &mut decide).await {
                    Err(SharedError::Store(StoreError::Backend(e)))
                        if decide.is_some() && $crate::store::connection_gone(&e) =>
                    {
                        self.update_once(account, &mut decide).await
                    }
                    decided => decided,
                }
            }
        }

        impl twofa_record::AuditTrail for $store {
            type Error = sqlx::Error;

            async fn append(
                &self,
                account: &str,
                entries: &[twofa_record::TrailEntry],
                now: u64,
            ) -> Result<(), StoreError<sqlx::Error>> {
                check_account(account)?;
                let bindings = twofa_record::check_entries(entries)?;
                if entries.is_empty() {
                    return Ok(());
                }
                let time = |at: u64| {
                    i64::try_from(at).map_err(|_| StoreError::Unwritable("a time beyond i64"))
                };
                let mut tx = self
                    .pool
                    .begin_with($sql::BEGIN_TRAIL)
                    .await
                    .map_err(StoreError::Backend)?;
                if let Some(lock) = $sql::LOCK_TRAIL {
                    sqlx::query(lock)
                        .bind(account)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::Backend)?;
                }
                if bindings > 0 {
                    let kept: i64 = sqlx::query_scalar($sql::COUNT_BINDINGS)
                        .bind(account)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(StoreError::Backend)?;
                    let kept = usize::try_from(kept).unwrap_or(usize::MAX);
                    if kept.saturating_add(bindings) > twofa_record::MAX_BINDINGS {
                        return Err(StoreError::Unwritable("the record of bindings is full"));
                    }
                }
                for entry in entries {
                    sqlx::query($sql::INSERT_EVENT)
                        .bind(account)
                        .bind(time(entry.at)?)
                        .bind(&entry.name)
                        .bind(&entry.detail)
                        .bind(entry.is_binding())
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::Backend)?;
                }
                sqlx::query($sql::PRUNE_ACCOUNT)
                    .bind(account)
                    .bind(twofa_record::MAX_ACTIVITY as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Backend)?;
                let cutoff = now.saturating_sub(twofa_record::RETENTION_SECS);
                sqlx::query($sql::PRUNE_ACCOUNT_OLD)
                    .bind(account)
                    .bind(time(cutoff)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Backend)?;
                sqlx::query($sql::PRUNE_OLD)
                    .bind(time(cutoff)?)
                    .bind(twofa_record::PRUNE_BATCH as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::Backend)?;
                tx.commit().await.map_err(StoreError::Backend)
            }

            async fn recent(
                &self,
                account: &str,
                limit: usize,
            ) -> Result<Vec<twofa_record::TrailEntry>, StoreError<sqlx::Error>> {
                check_account(account)?;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let rows: Vec<(i64, String, String)> = sqlx::query_as($sql::RECENT)
                    .bind(account)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Backend)?;
                crate::store::entries(rows)
            }

            async fn bindings(
                &self,
                account: &str,
            ) -> Result<Vec<twofa_record::TrailEntry>, StoreError<sqlx::Error>> {
                check_account(account)?;
                let rows: Vec<(i64, String, String)> = sqlx::query_as($sql::BINDINGS)
                    .bind(account)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Backend)?;
                crate::store::entries(rows)
            }
        }
    };
}

pub(crate) use sql_store;

/// Rows of the trail read back, each checked as an append checks it.
pub(crate) fn entries<E>(
    rows: Vec<(i64, String, String)>,
) -> Result<Vec<twofa_record::TrailEntry>, twofa_record::StoreError<E>> {
    rows.into_iter()
        .map(|(at, name, detail)| {
            let at = u64::try_from(at)
                .map_err(|_| twofa_record::Corrupt::new("trail", "a negative time"))?;
            let entry = twofa_record::TrailEntry { at, name, detail };
            entry
                .check::<E>()
                .map_err(|_| twofa_record::Corrupt::new("trail", "an entry out of bounds"))?;
            Ok(entry)
        })
        .collect()
}
