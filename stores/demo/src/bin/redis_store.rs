//! The second-factor state of every account in Redis hashes, shared by
//! every instance of a service: an [`AccountStore`] whose save is one Lua
//! script, so the version check and the write cannot be separated.
//!
//! ```sh
//! TWOFA_REDIS_URL=redis://127.0.0.1:6379/ cargo run -p twofa-store-demo --bin redis_store
//! ```

use twofa_store_demo::{self as race, StoreError};

use redis::{Script, aio::MultiplexedConnection};
use twofa::{AccountStore, ThrottleState, TotpAccount, Versioned};

/// Saves only if the stored version is still the expected one. Every value
/// travels as a decimal string: Lua's numbers could not hold 64 bits.
const SAVE: &str = r"
if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[1] then
    return 0
end
redis.call('HSET', KEYS[1], 'failures', ARGV[2], 'retry_at', ARGV[3],
    'last_step', ARGV[4], 'drift', ARGV[5], 'used_below', ARGV[6], 'version', ARGV[7])
return 1
";

struct RedisStore {
    connection: MultiplexedConnection,
    save: Script,
}

fn key(account: &str) -> String {
    format!("twofa:totp:{account}")
}

/// A field read back as a number. A missing or unparsable field is an
/// error, never a default: a failure count read as 0 would lift a lockout.
fn field<T: std::str::FromStr>(
    value: &Option<String>,
    name: &'static str,
) -> Result<T, StoreError<redis::RedisError>> {
    value
        .as_deref()
        .and_then(|v| v.parse().ok())
        .ok_or(StoreError::Corrupt(name))
}

impl AccountStore<TotpAccount> for RedisStore {
    type Error = StoreError<redis::RedisError>;

    async fn load(&self, account: &str) -> Result<Versioned<TotpAccount>, Self::Error> {
        let mut connection = self.connection.clone();
        let values: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(key(account))
            .arg(&[
                "failures",
                "retry_at",
                "last_step",
                "drift",
                "used_below",
                "version",
            ])
            .query_async(&mut connection)
            .await?;
        let [failures, retry_at, last_step, drift, used_below, version] = values.as_slice() else {
            return Err(StoreError::Corrupt("hash"));
        };
        // No hash at all: an account never seen. Anything else must be whole.
        if values.iter().all(Option::is_none) {
            return Ok(Versioned::default());
        }
        let last_step = match last_step.as_deref() {
            // An empty string: no code accepted yet.
            Some("") => None,
            _ => Some(field(last_step, "last_step")?),
        };
        Ok(Versioned {
            state: TotpAccount {
                throttle: ThrottleState {
                    failures: field(failures, "failures")?,
                    retry_at: field(retry_at, "retry_at")?,
                },
                last_step,
                drift: field(drift, "drift")?,
                used_below: field(used_below, "used_below")?,
            },
            version: Some(field::<u64>(version, "version")?)
                .filter(|&version| version > 0)
                .ok_or(StoreError::Corrupt("version"))?,
        })
    }

    async fn save(
        &self,
        account: &str,
        expected: u64,
        state: &TotpAccount,
    ) -> Result<bool, Self::Error> {
        let mut connection = self.connection.clone();
        let saved: i64 = self
            .save
            .key(key(account))
            .arg(expected.to_string())
            .arg(state.throttle.failures.to_string())
            .arg(state.throttle.retry_at.to_string())
            // An empty string: no code accepted yet.
            .arg(
                state
                    .last_step
                    .map_or_else(String::new, |step| step.to_string()),
            )
            .arg(state.drift.to_string())
            .arg(state.used_below.to_string())
            .arg(
                expected
                    .checked_add(1)
                    .ok_or(StoreError::Corrupt("version"))?
                    .to_string(),
            )
            .invoke_async(&mut connection)
            .await?;
        Ok(saved == 1)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("TWOFA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let connection = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    race::main(RedisStore {
        connection,
        save: Script::new(SAVE),
    })
    .await
}
