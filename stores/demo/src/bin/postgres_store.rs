//! The second-factor state of every account in one PostgreSQL table, shared
//! by every instance of a service: an [`AccountStore`] in two statements.
//!
//! ```sh
//! TWOFA_POSTGRES_URL="host=127.0.0.1 user=twofa password=twofa dbname=twofa" \
//!     cargo run -p twofa-store-demo --bin postgres_store
//! ```

use twofa_store_demo::{self as race, StoreError};

use tokio_postgres::{Client, NoTls};
use twofa::{AccountStore, ThrottleState, TotpAccount, Versioned};

/// The table. Unsigned 64-bit values (times, steps) are stored bit for bit
/// in BIGINT: the store only compares `version`, never them. Instances
/// starting together take an advisory lock, since concurrent `CREATE TABLE
/// IF NOT EXISTS` statements can collide.
const SCHEMA: &str = "
BEGIN;
SELECT pg_advisory_xact_lock(7297);
CREATE TABLE IF NOT EXISTS twofa_totp (
    account   TEXT PRIMARY KEY,
    failures  BIGINT NOT NULL,
    retry_at  BIGINT NOT NULL,
    last_step BIGINT,
    drift     BIGINT NOT NULL,
    -- A 128-bit mask (TotpAccount::used_below), as decimal text.
    used_below TEXT NOT NULL,
    version   BIGINT NOT NULL
);
COMMIT;";

struct PostgresStore {
    client: Client,
}

impl AccountStore<TotpAccount> for PostgresStore {
    type Error = StoreError<tokio_postgres::Error>;

    async fn load(&self, account: &str) -> Result<Versioned<TotpAccount>, Self::Error> {
        let row = self
            .client
            .query_opt(
                "SELECT failures, retry_at, last_step, drift, version, used_below \
                 FROM twofa_totp WHERE account = $1",
                &[&account],
            )
            .await?;
        let Some(row) = row else {
            return Ok(Versioned::default());
        };
        // Out of range is an error, never a default: a failure count that
        // wrapped to a small number would lift a lockout.
        let failures = u32::try_from(row.try_get::<_, i64>(0)?)
            .map_err(|_| StoreError::Corrupt("failures"))?;
        let version = u64::try_from(row.try_get::<_, i64>(4)?)
            .ok()
            .filter(|&version| version > 0)
            .ok_or(StoreError::Corrupt("version"))?;
        Ok(Versioned {
            state: TotpAccount {
                throttle: ThrottleState {
                    failures,
                    // Stored bit for bit (see the schema): a cast back is exact.
                    retry_at: row.try_get::<_, i64>(1)? as u64,
                },
                last_step: row.try_get::<_, Option<i64>>(2)?.map(|step| step as u64),
                drift: row.try_get(3)?,
                used_below: row
                    .try_get::<_, &str>(5)?
                    .parse()
                    .map_err(|_| StoreError::Corrupt("used_below"))?,
            },
            version,
        })
    }

    async fn save(
        &self,
        account: &str,
        expected: u64,
        state: &TotpAccount,
    ) -> Result<bool, Self::Error> {
        let failures = i64::from(state.throttle.failures);
        let retry_at = state.throttle.retry_at as i64;
        let last_step = state.last_step.map(|step| step as i64);
        let used_below = state.used_below.to_string();
        // One statement each: the row count says whether this instance won.
        let expected_stored =
            i64::try_from(expected).map_err(|_| StoreError::Corrupt("version"))?;
        let rows = if expected == 0 {
            self.client
                .execute(
                    "INSERT INTO twofa_totp (account, failures, retry_at, last_step, drift, \
                     used_below, version) VALUES ($1, $2, $3, $4, $5, $6, 1) \
                     ON CONFLICT (account) DO NOTHING",
                    &[
                        &account,
                        &failures,
                        &retry_at,
                        &last_step,
                        &state.drift,
                        &used_below,
                    ],
                )
                .await?
        } else {
            self.client
                .execute(
                    "UPDATE twofa_totp SET failures = $3, retry_at = $4, last_step = $5, \
                     drift = $6, used_below = $7, version = version + 1 \
                     WHERE account = $1 AND version = $2",
                    &[
                        &account,
                        &expected_stored,
                        &failures,
                        &retry_at,
                        &last_step,
                        &state.drift,
                        &used_below,
                    ],
                )
                .await?
        };
        Ok(rows == 1)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("TWOFA_POSTGRES_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 user=twofa password=twofa dbname=twofa".into());
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
    tokio::spawn(connection);
    client.batch_execute(SCHEMA).await?;
    race::main(PostgresStore { client }).await
}
