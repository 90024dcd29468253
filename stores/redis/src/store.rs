//! [`RedisStore`]: load with `HMGET`, save with one compare-and-swap
//! script.

use core::fmt;
use std::time::Duration;

use redis::{RedisError, Script, aio::ConnectionLike};
use twofa::{AccountStore, Versioned};
use twofa_record::{
    AuditTrail, Corrupt, MAX_ACTIVITY, MAX_BINDINGS, RETENTION_SECS, Record, StoreError,
    TrailEntry, check_account, check_entries, decode, next_version,
};

/// Saves the record if its version is still the one loaded (`ARGV[1]`,
/// `0` for a key that does not exist); returns 1 if it did, 0 otherwise.
/// Versions are compared as strings: no Lua arithmetic, so no rounding. A
/// hash without a version, or at version 0, is an error, never a record
/// to write over.
const SAVE: &str = r"
local current = redis.call('HGET', KEYS[1], 'version')
if current == false then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.error_reply('twofa: stored record without a version')
  end
  current = '0'
elseif current == '0' then
  return redis.error_reply('twofa: stored record at version 0')
end
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'format', ARGV[3], 'body', ARGV[4])
return 1
";

/// Every account's records in Redis hashes, over the service's own
/// connection (cloned per call, as `ConnectionManager` is meant to be).
///
/// ```no_run
/// use redis::aio::ConnectionManager;
/// use twofa::{AccountState, Guard, Secret, Totp};
/// use twofa_redis::RedisStore;
///
/// # async fn login() -> Result<(), Box<dyn std::error::Error>> {
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let store = RedisStore::new(ConnectionManager::new(client).await?);
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
#[derive(Clone)]
pub struct RedisStore<C> {
    connection: C,
    save: Script,
    append: Script,
    replicas: Option<(u32, Duration)>,
}

impl<C> fmt::Debug for RedisStore<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("replicas", &self.replicas)
            .finish_non_exhaustive()
    }
}

/// A Redis store's own failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum RedisFailure {
    /// Redis failed or could not be reached.
    Redis(RedisError),
    /// A save was made but fewer replicas than required acknowledged it
    /// in time ([`RedisStore::with_replicas`]): the login is refused, as
    /// a failover could still roll the save back.
    NotReplicated {
        /// Replicas that acknowledged.
        acknowledged: u64,
        /// Replicas required.
        required: u32,
    },
}

impl fmt::Display for RedisFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis(e) => write!(f, "redis: {e}"),
            Self::NotReplicated {
                acknowledged,
                required,
            } => write!(
                f,
                "save reached {acknowledged} replicas of {required} required"
            ),
        }
    }
}

impl std::error::Error for RedisFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Redis(e) => Some(e),
            Self::NotReplicated { .. } => None,
        }
    }
}

fn redis_failure(e: RedisError) -> StoreError<RedisFailure> {
    StoreError::Backend(RedisFailure::Redis(e))
}

/// The key of `account`'s record of `kind`: the account escaped, inside
/// braces so that it is the cluster hash tag.
#[must_use]
pub fn key(account: &str, kind: &str) -> String {
    let mut key = String::with_capacity(account.len() + kind.len() + 10);
    key.push_str("twofa:{");
    for c in account.chars() {
        match c {
            '%' => key.push_str("%25"),
            '{' => key.push_str("%7B"),
            '}' => key.push_str("%7D"),
            c => key.push(c),
        }
    }
    key.push_str("}:");
    key.push_str(kind);
    key
}

impl<C> RedisStore<C> {
    /// A store over `connection`: a [`redis::aio::ConnectionManager`],
    /// or a cluster connection.
    pub fn new(connection: C) -> Self {
        Self {
            connection,
            save: Script::new(SAVE),
            append: Script::new(APPEND),
            replicas: None,
        }
    }

    /// Makes every save wait until `replicas` replicas acknowledge it,
    /// for at most `timeout` (`WAIT`); a save that does not reach them
    /// fails with [`RedisFailure::NotReplicated`], refusing the login.
    #[must_use]
    pub fn with_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replicas = Some((replicas, timeout));
        self
    }
}

/// The settings a replay mark needs, each with the values that keep it.
const DURABLE: [(&str, &[&str]); 3] = [
    ("appendonly", &["yes"]),
    ("appendfsync", &["always"]),
    (
        "maxmemory-policy",
        &[
            "noeviction",
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ],
    ),
];

/// The `CONFIG GET` of each setting of [`DURABLE`].
pub(crate) fn durability_queries() -> impl Iterator<Item = (&'static str, redis::Cmd)> {
    DURABLE.iter().map(|&(setting, _)| {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("GET").arg(setting);
        (setting, cmd)
    })
}

/// What is wrong with `setting` at `value`, if anything.
pub(crate) fn durability_problem(setting: &str, value: &str) -> Option<String> {
    let (_, good) = DURABLE.iter().find(|&&(name, _)| name == setting)?;
    (!good.contains(&value)).then(|| format!("{setting} is {value:?}, not {}", good.join(" or ")))
}

impl<C: ConnectionLike + Clone + Send + Sync> RedisStore<C> {
    /// What in the server's configuration could lose a save (see the
    /// crate's "Durability"); empty when nothing does. Managed services
    /// that disable `CONFIG` answer with an error: check their settings
    /// by hand. On a cluster connection this asks one node: use
    /// `RedisStore::cluster_durability_problems` (feature `cluster`),
    /// which asks every one.
    ///
    /// # Errors
    /// Redis failed or refused `CONFIG GET`.
    pub async fn durability_problems(&self) -> Result<Vec<String>, RedisError> {
        let mut connection = self.connection.clone();
        let mut problems = Vec::new();
        for (setting, query) in durability_queries() {
            let answer: Vec<String> = query.query_async(&mut connection).await?;
            let value = answer.get(1).map_or("", String::as_str);
            problems.extend(durability_problem(setting, value));
        }
        Ok(problems)
    }

    /// The connection the store was made with.
    pub(crate) fn connection(&self) -> C {
        self.connection.clone()
    }
}

impl<T: Record, C: ConnectionLike + Clone + Send + Sync> AccountStore<T> for RedisStore<C> {
    type Error = StoreError<RedisFailure>;

    async fn load(&self, account: &str) -> Result<Versioned<T>, Self::Error> {
        check_account(account)?;
        let mut connection = self.connection.clone();
        let (version, format, body): (Option<String>, Option<String>, Option<String>) =
            redis::cmd("HMGET")
                .arg(key(account, T::KIND))
                .arg("version")
                .arg("format")
                .arg("body")
                .query_async(&mut connection)
                .await
                .map_err(redis_failure)?;
        let (version, format, body) = match (version, format, body) {
            (None, None, None) => return Ok(Versioned::default()),
            (Some(version), Some(format), Some(body)) => (version, format, body),
            _ => return Err(Corrupt::new(T::KIND, "a field of the hash is missing").into()),
        };
        // Only the canonical decimal form: the script compares versions
        // as strings, so "01" would never match what it stores.
        let number = |field: &str, text: &str| {
            text.parse::<i64>()
                .ok()
                .filter(|number| number.to_string() == text)
                .ok_or_else(|| Corrupt::new(T::KIND, format!("{field} is not an integer")))
        };
        Ok(decode(
            number("version", &version)?,
            number("format", &format)?,
            &body,
        )?)
    }

    async fn save(&self, account: &str, expected: u64, state: &T) -> Result<bool, Self::Error> {
        let body = state.encode()?;
        let version = next_version(expected)?;
        check_account(account)?;
        let key = key(account, T::KIND);
        let (expected, version, format) = (
            expected.to_string(),
            version.to_string(),
            T::FORMAT.to_string(),
        );
        let mut connection = self.connection.clone();
        let Some((required, timeout)) = self.replicas else {
            let saved: i64 = self
                .save
                .key(key)
                .arg(expected)
                .arg(version)
                .arg(format)
                .arg(body)
                .invoke_async(&mut connection)
                .await
                .map_err(redis_failure)?;
            return Ok(saved == 1);
        };
        // The script and WAIT in one pipeline, so on one connection: WAIT
        // counts that connection's writes, and a reconnection between the
        // two would leave it nothing to wait for.
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let (saved, acknowledged): (i64, u64) = redis::pipe()
            .cmd("EVAL")
            .arg(SAVE)
            .arg(1)
            .arg(key)
            .arg(expected)
            .arg(version)
            .arg(format)
            .arg(body)
            .cmd("WAIT")
            .arg(required)
            .arg(millis)
            .query_async(&mut connection)
            .await
            .map_err(redis_failure)?;
        if saved != 1 {
            return Ok(false);
        }
        if acknowledged < u64::from(required) {
            return Err(StoreError::Backend(RedisFailure::NotReplicated {
                acknowledged,
                required,
            }));
        }
        Ok(true)
    }
}

/// Appends to one account's trail: `KEYS[1]` its activity (newest
/// first), `KEYS[2]` its bindings (oldest first). `ARGV`: the activity
/// bound, the bindings bound, the cutoff time, the retention in seconds,
/// then pairs of (`1` for a binding, `0` otherwise; the entry as JSON).
/// A binding goes to both lists, so the activity list is the whole recent
/// trail. The bindings list never expires.
const APPEND: &str = r"
local bindings = 0
for i = 5, #ARGV, 2 do
  if ARGV[i] == '1' then bindings = bindings + 1 end
end
if bindings > 0 and redis.call('LLEN', KEYS[2]) + bindings > tonumber(ARGV[2]) then
  return redis.error_reply('twofa: the record of bindings is full')
end
for i = 5, #ARGV, 2 do
  if ARGV[i] == '1' then redis.call('RPUSH', KEYS[2], ARGV[i + 1]) end
  redis.call('LPUSH', KEYS[1], ARGV[i + 1])
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local cutoff = tonumber(ARGV[3])
for _ = 1, tonumber(ARGV[1]) do
  local oldest = redis.call('LINDEX', KEYS[1], -1)
  if not oldest then break end
  -- An entry that does not decode (written by hand) is left for the
  -- reader to refuse, never an error after the pushes above.
  local ok, entry = pcall(cjson.decode, oldest)
  if not ok or type(entry) ~= 'table' or type(entry.at) ~= 'number' or entry.at >= cutoff then break end
  redis.call('RPOP', KEYS[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
";

impl<C: ConnectionLike + Clone + Send + Sync> AuditTrail for RedisStore<C> {
    type Error = RedisFailure;

    async fn append(
        &self,
        account: &str,
        entries: &[TrailEntry],
        now: u64,
    ) -> Result<(), StoreError<RedisFailure>> {
        check_account(account)?;
        check_entries(entries)?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut invocation = self.append.prepare_invoke();
        invocation
            .key(key(account, "trail.activity"))
            .key(key(account, "trail.bindings"))
            .arg(MAX_ACTIVITY)
            .arg(MAX_BINDINGS)
            .arg(now.saturating_sub(RETENTION_SECS))
            .arg(RETENTION_SECS);
        for entry in entries {
            let json = serde_json::to_string(entry)
                .map_err(|_| StoreError::Unwritable("an entry that does not serialize"))?;
            invocation
                .arg(if entry.is_binding() { "1" } else { "0" })
                .arg(json);
        }
        let mut connection = self.connection.clone();
        let appended: Result<i64, RedisError> = invocation.invoke_async(&mut connection).await;
        match appended {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("the record of bindings is full") => {
                Err(StoreError::Unwritable("the record of bindings is full"))
            }
            Err(e) => Err(redis_failure(e)),
        }
    }

    async fn recent(
        &self,
        account: &str,
        limit: usize,
    ) -> Result<Vec<TrailEntry>, StoreError<RedisFailure>> {
        check_account(account)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let last = isize::try_from(limit.min(MAX_ACTIVITY)).unwrap_or(isize::MAX) - 1;
        self.read(&key(account, "trail.activity"), last).await
    }

    async fn bindings(&self, account: &str) -> Result<Vec<TrailEntry>, StoreError<RedisFailure>> {
        check_account(account)?;
        // No more than the bound, whatever was written by hand.
        let last = isize::try_from(MAX_BINDINGS).unwrap_or(isize::MAX) - 1;
        self.read(&key(account, "trail.bindings"), last).await
    }
}

impl<C: ConnectionLike + Clone + Send + Sync> RedisStore<C> {
    /// A trail list from its head to `last`, each entry checked.
    async fn read(
        &self,
        key: &str,
        last: isize,
    ) -> Result<Vec<TrailEntry>, StoreError<RedisFailure>> {
        let mut connection = self.connection.clone();
        let items: Vec<String> = redis::cmd("LRANGE")
            .arg(key)
            .arg(0)
            .arg(last)
            .query_async(&mut connection)
            .await
            .map_err(redis_failure)?;
        items
            .iter()
            .map(|item| {
                let entry: TrailEntry = serde_json::from_str(item)
                    .map_err(|_| Corrupt::new("trail", "an entry that is not one"))?;
                entry
                    .check::<RedisFailure>()
                    .map_err(|_| Corrupt::new("trail", "an entry out of bounds"))?;
                Ok(entry)
            })
            .collect()
    }
}
