//! The store itself, written once for both databases: a dialect module
//! gives the statements, and `sql_store!` implements the migrations and
//! the [`AccountStore`](twofa::AccountStore) compare-and-swap over them.

/// Implements `migrate` and `AccountStore<T>` for every record kind on
/// `$store` (a struct with a `pool` field), with the statements of the
/// dialect module `$sql`: `BEGIN`, `LOCK`, `MIGRATIONS_TABLE`,
/// `MIGRATIONS`, `LOAD`, `INSERT` and `UPDATE`.
macro_rules! sql_store {
    ($store:ident, $sql:ident) => {
        impl $store {
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

        impl<T: Record> AccountStore<T> for $store {
            type Error = StoreError<sqlx::Error>;

            async fn load(&self, account: &str) -> Result<Versioned<T>, Self::Error> {
                check_account(account)?;
                let row: Option<(i64, i64, String)> = sqlx::query_as($sql::LOAD)
                    .bind(account)
                    .bind(T::KIND)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::Backend)?;
                match row {
                    None => Ok(Versioned::default()),
                    Some((version, format, body)) => Ok(decode(version, format, &body)?),
                }
            }

            async fn save(
                &self,
                account: &str,
                expected: u64,
                state: &T,
            ) -> Result<bool, Self::Error> {
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
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::Backend)?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use sql_store;
