//! The service's configuration: environment variables, each with a flag
//! of the same meaning (`--store` for `TWOFA_STORE`, …); a flag wins.

use std::{collections::HashMap, env, net::SocketAddr, path::PathBuf, time::Duration};

use zeroize::Zeroizing;

/// Every setting, read once at start. `Debug` leaves out the sealing key
/// and the store's URL (it may hold a database password).
pub struct Config {
    /// Where to listen (`TWOFA_LISTEN`, default `127.0.0.1:8080`; port 0
    /// picks a free one, printed at start).
    pub listen: SocketAddr,
    /// The store's backend (`sqlite`, `postgres`, `redis` or
    /// `redis-cluster`) and target, from `TWOFA_STORE`: `sqlite:FILE`
    /// (default `sqlite:twofa-service.db`), `postgres://…`, `redis://…` or
    /// `redis-cluster:URL,URL,…` (some or all of a cluster's nodes).
    pub store: (String, String),
    /// The sealing key, `ID:HEX` (`TWOFA_SEALING_KEY`); without one, a
    /// demo key kept in `demo_key_file`, with a warning at every start.
    pub sealing_key: Option<Zeroizing<String>>,
    /// Where the demo sealing key is kept when no key is given.
    pub demo_key_file: PathBuf,
    /// The API keys client applications send (`TWOFA_API_KEYS`, comma
    /// separated); without any, `demo-api-key`, with a warning.
    pub api_keys: Vec<Zeroizing<String>>,
    /// The SMS outbox file (`TWOFA_SMS_OUTBOX`); without one, sends are
    /// logged (the code never is) and nobody receives them.
    pub sms_outbox: Option<PathBuf>,
    /// The issuer shown in authenticator apps (`TWOFA_ISSUER`).
    pub issuer: String,
    /// The first wait after a failure, in seconds, doubling up to 300
    /// (`TWOFA_THROTTLE_DELAY`, default 1; 0 for none).
    pub throttle_delay: u64,
    /// Consecutive failures, any factor, that lock an account
    /// (`TWOFA_LOCKOUT_AFTER`, default 10, at most 100).
    pub lockout_after: u32,
    /// How long that lock lasts, in seconds (`TWOFA_LOCKOUT_SECONDS`,
    /// default 900, at least 300). Failures go on counting through it,
    /// and at 100 in a row the account stays locked until reset.
    pub lockout_seconds: u64,
    /// The longest a lock grows to, each lasting twice the one before, in
    /// seconds (`TWOFA_LOCKOUT_MAX_SECONDS`, default 86400, at least
    /// `lockout_seconds`).
    pub lockout_max_seconds: u64,
    /// Failed first factors one client address may have in a burst
    /// (`TWOFA_ADDRESS_FAILURES`, default 30; 0 for no limit), one more
    /// allowed every `TWOFA_ADDRESS_REFILL` seconds (default 60).
    pub address: crate::addresses::AddressPolicy,
    /// The operators' keys for the admin endpoints, as `NAME:KEY` pairs
    /// (`TWOFA_ADMIN_KEYS`, comma separated, and one per line in the file
    /// `TWOFA_ADMIN_KEYS_FILE`; none: the endpoints refuse every request).
    /// The name is what the audit records.
    pub admin_keys: Vec<(String, Zeroizing<String>)>,
    /// Whether the log is JSON lines (`TWOFA_LOG_FORMAT=json`) rather than
    /// human-readable text (`text`, the default).
    pub log_json: bool,
    /// SMS codes one phone number gets: for accounts that verified it,
    /// per hour (`TWOFA_SMS_PER_PHONE`, default 10); for accounts that
    /// have not, per day (`TWOFA_SMS_UNVERIFIED_PER_PHONE`, default 3);
    /// and every code the service sends, per hour (`TWOFA_SMS_BUDGET`,
    /// default 1000).
    pub sms: SmsLimits,
    /// Whose keys seed 001's `head.Key` is (`TWOFA_TOTPLOGIN_KEYS`):
    /// `user` (the default, as the seed has it: each user's own keys,
    /// made at `/authentication/v1/user/api-keys`) or `application` (the
    /// client applications' `TWOFA_API_KEYS`).
    pub totplogin_user_keys: bool,
    /// Sign-ups one client address may make per hour
    /// (`TWOFA_SIGNUPS_PER_ADDRESS`, default 10; 0 for no limit).
    pub signups_per_address: u32,
    /// How recent a login with a second factor must be to change the
    /// account's factors, in seconds (`TWOFA_FRESH_LOGIN`, default 300, 1
    /// to 3600).
    pub fresh_login: u64,
    /// Whether to start on a Redis whose configuration can lose a save
    /// (`TWOFA_REDIS_ACCEPT_LOSS=1`; by default such a server is refused,
    /// since a lost save can accept a used code again).
    pub accept_redis_loss: bool,
    /// What one client's connections and requests may take.
    pub limits: Limits,
    /// The WebAuthn relying party's id, a registrable domain the origins
    /// are on (`TWOFA_RP_ID`, default `localhost`).
    pub rp_id: String,
    /// The exact origins passkey ceremonies may run at (`TWOFA_ORIGINS`,
    /// comma separated, web origins as browsers write them and native
    /// apps' `android:apk-key-hash:…`). Empty: `http://localhost:PORT`,
    /// the port the service listens on.
    pub origins: Vec<String>,
}

/// The bounds on SMS sends beyond each account's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmsLimits {
    /// Per phone number and hour, for accounts that verified it.
    pub per_phone: u32,
    /// Per phone number and day, for accounts that have not.
    pub per_unverified_phone: u32,
    /// Per hour, every send.
    pub budget: u32,
}

/// The bounds on connections and requests (the README's table of limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once (`TWOFA_MAX_CONNECTIONS`, default 1024,
    /// and below the process's descriptor limit): one more evicts the
    /// oldest with no request in progress, or is answered 503.
    pub max_connections: usize,
    /// Requests in progress at once (`TWOFA_MAX_IN_FLIGHT`, default 256):
    /// one more is answered 503.
    pub max_in_flight: usize,
    /// How long a connection may take to send a request's headers,
    /// counted from when it opened or answered its last request
    /// (`TWOFA_HEADER_TIMEOUT`, seconds, default 10): also the idle limit.
    pub header_timeout: Duration,
    /// How long a request may take to send its body
    /// (`TWOFA_BODY_TIMEOUT`, seconds, default 10): answered 408 after.
    pub body_timeout: Duration,
}

impl std::fmt::Debug for Config {
    /// The address and the backend: never the key or the store's URL.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("backend", &self.store.0)
            .finish_non_exhaustive()
    }
}

/// The settings, their variables and flags, and their defaults.
const SETTINGS: [(&str, &str, &str); 28] = [
    ("TWOFA_LISTEN", "--listen", "127.0.0.1:8080"),
    ("TWOFA_STORE", "--store", "sqlite:twofa-service.db"),
    ("TWOFA_SEALING_KEY", "--sealing-key", ""),
    ("TWOFA_API_KEYS", "--api-keys", ""),
    ("TWOFA_SMS_OUTBOX", "--sms-outbox", ""),
    ("TWOFA_ISSUER", "--issuer", "twofa-service"),
    ("TWOFA_THROTTLE_DELAY", "--throttle-delay", "1"),
    ("TWOFA_LOCKOUT_AFTER", "--lockout-after", "10"),
    ("TWOFA_LOCKOUT_SECONDS", "--lockout-seconds", "900"),
    (
        "TWOFA_LOCKOUT_MAX_SECONDS",
        "--lockout-max-seconds",
        "86400",
    ),
    ("TWOFA_ADDRESS_FAILURES", "--address-failures", "30"),
    ("TWOFA_ADDRESS_REFILL", "--address-refill", "60"),
    ("TWOFA_ADMIN_KEYS", "--admin-keys", ""),
    ("TWOFA_ADMIN_KEYS_FILE", "--admin-keys-file", ""),
    ("TWOFA_LOG_FORMAT", "--log-format", "text"),
    ("TWOFA_SMS_PER_PHONE", "--sms-per-phone", "10"),
    (
        "TWOFA_SMS_UNVERIFIED_PER_PHONE",
        "--sms-unverified-per-phone",
        "3",
    ),
    ("TWOFA_SMS_BUDGET", "--sms-budget", "1000"),
    ("TWOFA_SIGNUPS_PER_ADDRESS", "--signups-per-address", "10"),
    ("TWOFA_TOTPLOGIN_KEYS", "--totplogin-keys", "user"),
    ("TWOFA_FRESH_LOGIN", "--fresh-login", "300"),
    ("TWOFA_REDIS_ACCEPT_LOSS", "--redis-accept-loss", "0"),
    ("TWOFA_MAX_CONNECTIONS", "--max-connections", "1024"),
    ("TWOFA_MAX_IN_FLIGHT", "--max-in-flight", "256"),
    ("TWOFA_HEADER_TIMEOUT", "--header-timeout", "10"),
    ("TWOFA_BODY_TIMEOUT", "--body-timeout", "10"),
    ("TWOFA_RP_ID", "--rp-id", "localhost"),
    ("TWOFA_ORIGINS", "--origins", ""),
];

impl Config {
    /// The usage text: every setting with its flag and default.
    pub fn usage() -> String {
        let mut text = String::from("usage: twofa-service [--FLAG VALUE]...\n\n");
        for (var, flag, default) in SETTINGS {
            text.push_str(&format!("  {flag:<18} {var:<22} default: {default:?}\n"));
        }
        text
    }

    /// Reads the environment, then `args` (the flags, without the program
    /// name).
    ///
    /// # Errors
    /// An unknown flag, a flag without a value, or a value that does not parse.
    pub fn from_env_and_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut values: HashMap<&str, Zeroizing<String>> = HashMap::new();
        for (var, _, default) in SETTINGS {
            let value = env::var(var).unwrap_or_else(|_| default.to_owned());
            values.insert(var, Zeroizing::new(value));
        }
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let (var, _, _) = SETTINGS
                .iter()
                .find(|(_, name, _)| *name == flag)
                .ok_or_else(|| format!("unknown flag {flag:?}\n\n{}", Self::usage()))?;
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            values.insert(var, Zeroizing::new(value));
        }
        let get = |var: &str| values.get(var).map(|v| v.as_str()).unwrap_or_default();
        let listen = get("TWOFA_LISTEN")
            .parse()
            .map_err(|_| format!("TWOFA_LISTEN: not an address: {:?}", get("TWOFA_LISTEN")))?;
        let store = parse_store(get("TWOFA_STORE"))?;
        let demo_key_file = match store.0.as_str() {
            "sqlite" => PathBuf::from(format!("{}.demo-key", store.1)),
            _ => PathBuf::from("twofa-service.demo-key"),
        };
        let number = |var: &str| {
            get(var)
                .parse::<u64>()
                .map_err(|_| format!("{var}: not a number: {:?}", get(var)))
        };
        let lockout_after = u32::try_from(number("TWOFA_LOCKOUT_AFTER")?)
            .map_err(|_| "TWOFA_LOCKOUT_AFTER: at most 100".to_owned())?;
        let optional = |var: &str| Some(get(var)).filter(|v| !v.is_empty());
        let bounded = |var: &str, range: std::ops::RangeInclusive<u64>| {
            let value = number(var)?;
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(format!(
                    "{var} must be {} to {}",
                    range.start(),
                    range.end()
                ))
            }
        };
        let count = |var: &str, max: u64| -> Result<usize, String> {
            usize::try_from(bounded(var, 1..=max)?).map_err(|_| format!("{var}: too large"))
        };
        let small = |var: &str| -> Result<u32, String> {
            u32::try_from(bounded(var, 0..=10_000_000)?).map_err(|_| format!("{var}: too large"))
        };
        let limits = Limits {
            max_connections: count("TWOFA_MAX_CONNECTIONS", 1_000_000)?,
            max_in_flight: count("TWOFA_MAX_IN_FLIGHT", 1_000_000)?,
            header_timeout: Duration::from_secs(bounded("TWOFA_HEADER_TIMEOUT", 1..=300)?),
            body_timeout: Duration::from_secs(bounded("TWOFA_BODY_TIMEOUT", 1..=300)?),
        };
        Ok(Self {
            listen,
            store,
            sealing_key: optional("TWOFA_SEALING_KEY").map(|key| Zeroizing::new(key.to_owned())),
            demo_key_file,
            api_keys: get("TWOFA_API_KEYS")
                .split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(|key| Zeroizing::new(key.to_owned()))
                .collect(),
            sms_outbox: optional("TWOFA_SMS_OUTBOX").map(PathBuf::from),
            issuer: get("TWOFA_ISSUER").to_owned(),
            throttle_delay: number("TWOFA_THROTTLE_DELAY")?,
            lockout_after,
            lockout_seconds: number("TWOFA_LOCKOUT_SECONDS")?,
            accept_redis_loss: match get("TWOFA_REDIS_ACCEPT_LOSS") {
                "0" => false,
                "1" => true,
                _ => return Err("TWOFA_REDIS_ACCEPT_LOSS must be 0 or 1".into()),
            },
            limits,
            lockout_max_seconds: number("TWOFA_LOCKOUT_MAX_SECONDS")?,
            address: crate::addresses::AddressPolicy {
                capacity: u32::try_from(bounded("TWOFA_ADDRESS_FAILURES", 0..=100_000)?)
                    .map_err(|_| "TWOFA_ADDRESS_FAILURES: too large".to_owned())?,
                refill: bounded("TWOFA_ADDRESS_REFILL", 1..=86_400)?,
                max_tracked: 100_000,
            },
            admin_keys: {
                let mut keys = parse_admin_keys(get("TWOFA_ADMIN_KEYS"))?;
                if let Some(path) = optional("TWOFA_ADMIN_KEYS_FILE") {
                    let text = Zeroizing::new(
                        std::fs::read_to_string(path)
                            .map_err(|e| format!("TWOFA_ADMIN_KEYS_FILE {path}: {e}"))?,
                    );
                    let lines: Vec<&str> = text
                        .lines()
                        .map(str::trim)
                        .filter(|line| !line.is_empty())
                        .collect();
                    keys.extend(parse_admin_keys(&lines.join(","))?);
                }
                keys
            },
            log_json: match get("TWOFA_LOG_FORMAT") {
                "text" => false,
                "json" => true,
                other => return Err(format!("TWOFA_LOG_FORMAT: text or json, not {other:?}")),
            },
            sms: SmsLimits {
                per_phone: small("TWOFA_SMS_PER_PHONE")?,
                per_unverified_phone: small("TWOFA_SMS_UNVERIFIED_PER_PHONE")?,
                budget: small("TWOFA_SMS_BUDGET")?,
            },
            signups_per_address: small("TWOFA_SIGNUPS_PER_ADDRESS")?,
            totplogin_user_keys: match get("TWOFA_TOTPLOGIN_KEYS") {
                "user" => true,
                "application" => false,
                _ => return Err("TWOFA_TOTPLOGIN_KEYS must be user or application".into()),
            },
            rp_id: match get("TWOFA_RP_ID") {
                "" => return Err("TWOFA_RP_ID: a domain, as example.com".into()),
                id => id.to_owned(),
            },
            origins: get("TWOFA_ORIGINS")
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned)
                .collect(),
            fresh_login: match number("TWOFA_FRESH_LOGIN")? {
                seconds @ 1..=3600 => seconds,
                _ => return Err("TWOFA_FRESH_LOGIN must be 1 to 3600 seconds".into()),
            },
        })
    }
}

/// `NAME:KEY,NAME:KEY…`: each name 1 to 32 letters, digits or `._-`,
/// each key 16 to 256 bytes, names unique.
fn parse_admin_keys(text: &str) -> Result<Vec<(String, Zeroizing<String>)>, String> {
    let mut keys: Vec<(String, Zeroizing<String>)> = Vec::new();
    for pair in text
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
    {
        // The key is never echoed.
        let (name, key) = pair
            .split_once(':')
            .ok_or("TWOFA_ADMIN_KEYS: each entry is NAME:KEY")?;
        let named = (1..=32).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !named || keys.iter().any(|(known, _)| known == name) {
            return Err(
                "TWOFA_ADMIN_KEYS: names are 1 to 32 letters, digits or ._-, each once".into(),
            );
        }
        if !(16..=256).contains(&key.len()) {
            return Err(format!(
                "TWOFA_ADMIN_KEYS: {name}'s key must be 16 to 256 bytes"
            ));
        }
        keys.push((name.to_owned(), Zeroizing::new(key.to_owned())));
    }
    Ok(keys)
}

/// `sqlite:FILE`, `postgres://…` (or `postgresql://…`), `redis://…`
/// (or `rediss://…`), `redis-cluster:URL,URL,…` as a backend and its
/// target.
fn parse_store(text: &str) -> Result<(String, String), String> {
    let backend = if let Some(file) = text.strip_prefix("sqlite:") {
        return match file.trim_start_matches("//") {
            "" => Err("TWOFA_STORE: sqlite: needs a file, as sqlite:twofa.db".to_owned()),
            file => Ok(("sqlite".to_owned(), file.to_owned())),
        };
    } else if let Some(nodes) = text.strip_prefix("redis-cluster:") {
        let every_url = nodes
            .split(',')
            .all(|url| url.starts_with("redis://") || url.starts_with("rediss://"));
        return if every_url {
            Ok(("redis-cluster".to_owned(), nodes.to_owned()))
        } else {
            Err("TWOFA_STORE: redis-cluster: needs its nodes' URLs, as redis-cluster:redis://HOST:PORT/,redis://HOST:PORT/".to_owned())
        };
    } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        "postgres"
    } else if text.starts_with("redis://") || text.starts_with("rediss://") {
        "redis"
    } else {
        // The value is not echoed: a mistyped URL may hold a password.
        return Err(
            "TWOFA_STORE: expected sqlite:FILE, postgres://…, redis://… or redis-cluster:URL,…"
                .to_owned(),
        );
    };
    Ok((backend.to_owned(), text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::parse_store;

    #[test]
    fn a_store_is_named_by_its_url_and_a_cluster_by_its_nodes() {
        let pair = |backend: &str, target: &str| Ok((backend.to_owned(), target.to_owned()));
        assert_eq!(parse_store("sqlite:a.db"), pair("sqlite", "a.db"));
        assert_eq!(
            parse_store("postgres://u:p@h/db"),
            pair("postgres", "postgres://u:p@h/db")
        );
        assert_eq!(parse_store("redis://h:1/"), pair("redis", "redis://h:1/"));
        let nodes = "redis://127.0.0.1:7000/,redis://127.0.0.1:7001/";
        assert_eq!(
            parse_store(&format!("redis-cluster:{nodes}")),
            pair("redis-cluster", nodes)
        );
        for wrong in [
            "sqlite:",
            "redis-cluster:",
            "redis-cluster:redis://h:1/,http://h:2/",
            "mysql://h/db",
        ] {
            assert!(parse_store(wrong).is_err(), "{wrong}");
        }
    }
}
