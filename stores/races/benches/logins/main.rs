//! Logins per second of the guard over each store, beside the same
//! database doing the same work with nothing of twofa:
//! `cargo bench -p twofa-store-races --bench logins` (with
//! `TWOFA_POSTGRES_URL` and `TWOFA_REDIS_URL` for those servers; absent
//! ones are skipped, and said so). The in-memory store runs first, as
//! the ceiling of the same run.
//!
//! A login is the whole second step of a TOTP login over the account's
//! state (kind `account`): load, check the throttle, verify the code
//! against ±1 step, record the step, save with the compare-and-swap (and
//! on a lost race, decide again). The raw baseline (`raw.rs`) loads the
//! same row or hash and writes its body back with the same
//! compare-and-swap. With 1, 4 and 16 concurrent clients: across 10,000
//! accounts, each login a fresh code of its account; and all on one hot
//! account, each login a fresh step. Every account is written before the
//! clock starts, so each login is a load and an update. Each
//! configuration runs `TWOFA_BENCH_ROUNDS` rounds (default 3) of
//! `TWOFA_BENCH_SECONDS` (default 1) for twofa and for the raw client in
//! turn; the table gives the medians, and twofa / raw of the medians.

mod raw;

use std::{
    env,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use twofa::{AccountState, AccountStore, Guard, MemoryAccountStore, SharedError, Totp};
use twofa_record::Record;
use twofa_store_races::{AnyStore, fixtures};

const ACCOUNTS: u64 = 10_000;
const CLIENTS: [u64; 3] = [1, 4, 16];
/// Steps apart that two rounds' logins start at, more than one round
/// makes on one account.
const ROUND_STEPS: u64 = 10_000_000;

/// How a login ended.
enum Ended {
    /// The code accepted (for the raw client, the body saved).
    Accepted,
    /// Decided otherwise: on the hot account, a login whose step was
    /// overtaken by a later one while it waited is a replay.
    Answered,
    /// Refused for contention or by a failed store.
    Refused,
}

/// What one round's clients did.
#[derive(Default)]
struct Tally {
    latencies: Vec<u128>,
    decided: u64,
    replays: u64,
    refused: u64,
}

impl Tally {
    fn record(&mut self, started: Instant, ended: Ended) {
        self.latencies.push(started.elapsed().as_micros());
        match ended {
            Ended::Accepted => self.decided += 1,
            Ended::Answered => {
                self.decided += 1;
                self.replays += 1;
            }
            Ended::Refused => self.refused += 1,
        }
    }

    fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.decided += other.decided;
        self.replays += other.replays;
        self.refused += other.refused;
    }

    fn quantile(&mut self, quantile: f64) -> u128 {
        self.latencies.sort_unstable();
        let index = ((self.latencies.len() as f64) * quantile) as usize;
        self.latencies
            .get(index.min(self.latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }
}

/// Which account and step a client's login is on.
#[derive(Clone)]
struct Work {
    prefix: Arc<str>,
    hot: bool,
    clients: u64,
    first_step: u64,
    hot_step: Arc<AtomicU64>,
}

impl Work {
    fn account(prefix: &str, index: Option<u64>) -> String {
        index.map_or_else(|| format!("{prefix}-hot"), |i| format!("{prefix}-{i}"))
    }

    fn pick(&self, client: u64, round: u64) -> (String, u64) {
        if self.hot {
            let step = self.hot_step.fetch_add(1, Ordering::Relaxed);
            (Self::account(&self.prefix, None), self.first_step + step)
        } else {
            let per_client = ACCOUNTS / self.clients;
            let index = client + self.clients * (round % per_client);
            (
                Self::account(&self.prefix, Some(index)),
                self.first_step + round / per_client,
            )
        }
    }
}

/// One login of `account` with the code of `step`.
async fn login<S>(store: &S, guard: &Guard, totp: &Totp, account: &str, step: u64) -> Ended
where
    S: AccountStore<AccountState> + Sync,
{
    let now = fixtures::NOW + 30 * step;
    let Ok(code) = totp.generate_at(now) else {
        return Ended::Refused;
    };
    let code = code.to_string();
    let result = guard
        .decide_shared(store, account, |state: &mut AccountState| {
            guard.verify_totp(totp, &mut state.totp, &code, now)
        })
        .await;
    match result {
        Ok(outcome) if outcome.is_accepted() => Ended::Accepted,
        Ok(_) => Ended::Answered,
        Err(SharedError::Store(_) | SharedError::Contention | SharedError::Check(_)) => {
            Ended::Refused
        }
    }
}

async fn twofa_round<S>(store: &Arc<S>, work: &Work, seconds: f64) -> (Tally, f64)
where
    S: AccountStore<AccountState> + Send + Sync + 'static,
{
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut handles = Vec::new();
    for client in 0..work.clients {
        let (store, work) = (store.clone(), work.clone());
        handles.push(tokio::spawn(async move {
            let (guard, totp) = (
                fixtures::guard(),
                fixtures::totp().unwrap_or_else(|_| unreachable!()),
            );
            let mut tally = Tally::default();
            let mut round = 0;
            while Instant::now() < deadline {
                let (account, step) = work.pick(client, round);
                let started = Instant::now();
                tally.record(started, login(&*store, &guard, &totp, &account, step).await);
                round += 1;
            }
            tally
        }));
    }
    gather(handles, started, seconds).await
}

/// A raw client of one database.
#[derive(Clone)]
enum RawTarget {
    Sqlite(PathBuf),
    Postgres(String),
    Redis(String),
}

fn raw_ended<E>(saved: Result<bool, E>) -> Ended {
    match saved {
        Ok(true) => Ended::Accepted,
        Ok(false) | Err(_) => Ended::Refused,
    }
}

async fn raw_round(
    target: &RawTarget,
    work: &Work,
    seconds: f64,
) -> Result<(Tally, f64), raw::Failure> {
    // Every client connects before the clock starts.
    let mut handles = Vec::new();
    let started;
    match target {
        RawTarget::Sqlite(path) => {
            let mut connections = Vec::new();
            for _ in 0..work.clients {
                connections.push(raw::sqlite_open(path)?);
            }
            started = Instant::now();
            let deadline = started + Duration::from_secs_f64(seconds);
            for (client, mut connection) in (0..).zip(connections) {
                let work = work.clone();
                handles.push(tokio::task::spawn_blocking(move || {
                    let mut tally = Tally::default();
                    let mut round = 0;
                    while Instant::now() < deadline {
                        let (account, _) = work.pick(client, round);
                        let started = Instant::now();
                        let saved = raw::sqlite_login(&mut connection, &account);
                        tally.record(started, raw_ended(saved));
                        round += 1;
                    }
                    tally
                }));
            }
        }
        RawTarget::Postgres(url) | RawTarget::Redis(url) => {
            let mut clients = Vec::new();
            for _ in 0..work.clients {
                clients.push(match target {
                    RawTarget::Postgres(_) => Client::Postgres(raw::Postgres::connect(url).await?),
                    _ => Client::Redis(raw::Redis::connect(url).await?),
                });
            }
            started = Instant::now();
            let deadline = started + Duration::from_secs_f64(seconds);
            for (client, connection) in (0..).zip(clients) {
                let work = work.clone();
                handles.push(tokio::spawn(async move {
                    let mut tally = Tally::default();
                    let mut round = 0;
                    while Instant::now() < deadline {
                        let (account, _) = work.pick(client, round);
                        let started = Instant::now();
                        let saved = match &connection {
                            Client::Postgres(postgres) => postgres.login(&account).await,
                            Client::Redis(redis) => redis.login(&account).await,
                        };
                        tally.record(started, raw_ended(saved));
                        round += 1;
                    }
                    tally
                }));
            }
        }
    }
    Ok(gather(handles, started, seconds).await)
}

/// A connected raw client of a server.
enum Client {
    Postgres(raw::Postgres),
    Redis(raw::Redis),
}

/// The clients' tallies together, and logins decided per second.
async fn gather(
    handles: Vec<tokio::task::JoinHandle<Tally>>,
    started: Instant,
    seconds: f64,
) -> (Tally, f64) {
    let mut tally = Tally::default();
    for handle in handles {
        if let Ok(client) = handle.await {
            tally.merge(client);
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds);
    let rate = tally.decided as f64 / elapsed;
    (tally, rate)
}

fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_unstable_by(f64::total_cmp);
    rates.get(rates.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Writes every account of `prefix` (10,000 and the hot one): one login
/// through the store on a template account, its record then copied raw.
async fn write_accounts(
    store: &AnyStore,
    target: &RawTarget,
    prefix: &str,
) -> Result<(), raw::Failure> {
    let (guard, totp) = (fixtures::guard(), fixtures::totp()?);
    let template = format!("{prefix}-template");
    if !matches!(
        login(store, &guard, &totp, &template, 0).await,
        Ended::Accepted
    ) {
        return Err("the template account's login was refused".into());
    }
    let mut accounts: Vec<String> = (0..ACCOUNTS)
        .map(|index| Work::account(prefix, Some(index)))
        .collect();
    accounts.push(Work::account(prefix, None));
    match target {
        RawTarget::Sqlite(path) => raw::sqlite_copy(path, &template, &accounts)?,
        RawTarget::Postgres(url) => {
            raw::Postgres::connect(url)
                .await?
                .copy(&template, &accounts)
                .await?;
        }
        RawTarget::Redis(url) => {
            raw::Redis::connect(url)
                .await?
                .copy(&template, &accounts)
                .await?;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), raw::Failure> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // one short round, to check that the benchmark runs.
    let benching = env::args().any(|arg| arg == "--bench");
    let number = |name: &str, bench: f64, test: f64| {
        env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(if benching { bench } else { test })
    };
    let seconds: f64 = number("TWOFA_BENCH_SECONDS", 1.0, 0.05);
    let rounds = number("TWOFA_BENCH_ROUNDS", 3.0, 1.0) as usize;
    let sqlite = env::temp_dir().join(format!("twofa-bench-{}.db", std::process::id()));
    let mut stores: Vec<(&str, Option<(AnyStore, RawTarget)>)> = vec![("memory", None)];
    for (name, target) in [
        ("sqlite", Some(sqlite.display().to_string())),
        ("postgres", env::var("TWOFA_POSTGRES_URL").ok()),
        ("redis", env::var("TWOFA_REDIS_URL").ok()),
    ] {
        let Some(target) = target else {
            eprintln!("{name}: no server given, not measured");
            continue;
        };
        let raw = match name {
            "sqlite" => RawTarget::Sqlite(sqlite.clone()),
            "postgres" => RawTarget::Postgres(target.clone()),
            _ => RawTarget::Redis(target.clone()),
        };
        match AnyStore::connect(name, &target).await {
            Ok(backend) => stores.push((name, Some((backend, raw)))),
            Err(e) => eprintln!("{name}: {e}, not measured"),
        }
    }
    let fresh = <AccountState as Record>::encode::<std::io::Error>(&AccountState::default())?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{cpus} CPUs; {rounds} rounds of {seconds} s a configuration, medians; \
         a fresh account's body {} bytes\n",
        fresh.len()
    );
    println!(
        "| store | clients | accounts | twofa logins/s | raw logins/s | twofa / raw | p50 µs | p99 µs | replays | refused |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    let prefix: Arc<str> = format!("bench-{}", std::process::id()).into();
    let memory = Arc::new(MemoryAccountStore::<AccountState>::new());
    let mut first_step = ROUND_STEPS;
    for (name, backend) in &stores {
        if let Some((store, target)) = backend {
            write_accounts(store, target, &prefix).await?;
            // The pool's connections opened before the clock starts.
            let warm_up = Work {
                prefix: prefix.clone(),
                hot: false,
                clients: 16,
                first_step,
                hot_step: Arc::new(AtomicU64::new(0)),
            };
            first_step += ROUND_STEPS;
            twofa_round(&Arc::new(store.clone()), &warm_up, seconds.min(0.5)).await;
        }
        for hot in [false, true] {
            for clients in CLIENTS {
                let (mut tally, mut twofa_rates, mut raw_rates) =
                    (Tally::default(), Vec::new(), Vec::new());
                for _ in 0..rounds {
                    let work = Work {
                        prefix: prefix.clone(),
                        hot,
                        clients,
                        first_step,
                        hot_step: Arc::new(AtomicU64::new(0)),
                    };
                    first_step += ROUND_STEPS;
                    let (round, rate) = match backend {
                        None => twofa_round(&memory, &work, seconds).await,
                        Some((store, _)) => {
                            twofa_round(&Arc::new(store.clone()), &work, seconds).await
                        }
                    };
                    tally.merge(round);
                    twofa_rates.push(rate);
                    if let Some((_, target)) = backend {
                        raw_rates.push(raw_round(target, &work, seconds).await?.1);
                    }
                }
                let (twofa, raw) = (median(twofa_rates), median(raw_rates));
                let (raw_cell, ratio_cell) = if raw.is_nan() {
                    ("".to_owned(), "".to_owned())
                } else {
                    (format!("{raw:.0}"), format!("{:.2}", twofa / raw))
                };
                println!(
                    "| {name} | {clients} | {} | {twofa:.0} | {raw_cell} | {ratio_cell} | {} | {} | {} | {} |",
                    if hot { "one hot" } else { "10,000" },
                    tally.quantile(0.50),
                    tally.quantile(0.99),
                    tally.replays,
                    tally.refused,
                );
            }
        }
    }
    let _ = std::fs::remove_file(&sqlite);
    let single = |name: &str| {
        stores
            .iter()
            .find_map(|(n, backend)| (*n == name).then(|| backend.as_ref().map(|(s, _)| s.clone())))
            .flatten()
    };
    durability(
        (single("redis"), single("postgres")),
        &prefix,
        seconds,
        rounds,
        &mut first_step,
    )
    .await
}

/// One replicated configuration of the durability table.
struct Replicated {
    name: &'static str,
    store: AnyStore,
    /// What a failover can roll back in this configuration.
    loses: &'static str,
}

/// The replicated configurations whose servers are given, each with the
/// single server it is read against.
async fn replicated(
    redis: Option<AnyStore>,
    postgres: Option<AnyStore>,
) -> Result<Vec<(Replicated, Option<AnyStore>)>, raw::Failure> {
    let mut configurations = Vec::new();
    if let Ok(urls) = env::var("TWOFA_REDIS_CLUSTER_URL") {
        let AnyStore::RedisCluster(cluster) = AnyStore::connect("redis-cluster", &urls).await?
        else {
            return Err("not a cluster".into());
        };
        configurations.push((
            Replicated {
                name: "Redis Cluster, 3 + 3",
                store: AnyStore::RedisCluster(cluster.clone()),
                loses: "the saves a primary had not streamed to its replica when it died",
            },
            redis.clone(),
        ));
        configurations.push((
            Replicated {
                name: "Redis Cluster, 3 + 3, each save waiting for its replica (`with_replicas(1, 1 s)`)",
                store: AnyStore::RedisCluster(cluster.with_replicas(1, Duration::from_secs(1))),
                loses: "nothing accepted (a save no replica took is refused), unless primary and replica both lose it",
            },
            redis,
        ));
    } else {
        eprintln!("redis-cluster: no cluster given, not measured");
    }
    if let Ok(url) = env::var("TWOFA_POSTGRES_PRIMARY_URL") {
        configurations.push((
            Replicated {
                name: "PostgreSQL with a synchronous standby",
                store: AnyStore::connect("postgres", &url).await?,
                loses: "nothing committed",
            },
            postgres.clone(),
        ));
        let asynchronous = format!("{url}?options=-c%20synchronous_commit%3Dlocal");
        configurations.push((
            Replicated {
                name: "PostgreSQL with the standby asynchronous (`synchronous_commit = local`)",
                store: AnyStore::connect("postgres", &asynchronous).await?,
                loses: "the last commits the standby had not received",
            },
            postgres,
        ));
    } else {
        eprintln!("postgres standby: no pair given, not measured");
    }
    Ok(configurations)
}

/// Logs into each of 10,000 accounts of `prefix` once, 16 at a time.
async fn log_into_each(store: &AnyStore, prefix: &Arc<str>, step: u64) -> Result<(), raw::Failure> {
    let mut handles = Vec::new();
    for client in 0..16 {
        let (store, prefix) = (store.clone(), prefix.clone());
        handles.push(tokio::spawn(async move {
            let (guard, totp) = (
                fixtures::guard(),
                fixtures::totp().unwrap_or_else(|_| unreachable!()),
            );
            let mut refused = 0;
            for index in (client..ACCOUNTS).step_by(16) {
                let account = Work::account(&prefix, Some(index));
                if !matches!(
                    login(&store, &guard, &totp, &account, step).await,
                    Ended::Accepted
                ) {
                    refused += 1;
                }
            }
            refused
        }));
    }
    let mut refused = 0;
    for handle in handles {
        refused += handle.await?;
    }
    if refused > 0 {
        return Err(format!("{refused} first logins refused").into());
    }
    Ok(())
}

/// The durability table: logins/s of each replicated configuration at 1
/// and 16 clients across 10,000 accounts (written first), beside the
/// single server of the same run (over its accounts of `single_prefix`,
/// written first too), and what a failover can lose.
async fn durability(
    (redis, postgres): (Option<AnyStore>, Option<AnyStore>),
    single_prefix: &Arc<str>,
    seconds: f64,
    rounds: usize,
    first_step: &mut u64,
) -> Result<(), raw::Failure> {
    let configurations = replicated(redis, postgres).await?;
    if configurations.is_empty() {
        return Ok(());
    }
    println!(
        "\n| configuration | logins/s, 1 client | logins/s, 16 clients | 16 clients, of one server's | what a failover can roll back |"
    );
    println!("|---|---:|---:|---:|---|");
    let prefix: Arc<str> = format!("durability-{}", std::process::id()).into();
    let mut written = Vec::new();
    for (configuration, single) in configurations {
        let rate =
            async |store: &AnyStore, prefix: &Arc<str>, clients: u64, first_step: &mut u64| {
                let mut rates = Vec::new();
                for _ in 0..rounds {
                    let work = Work {
                        prefix: prefix.clone(),
                        hot: false,
                        clients,
                        first_step: *first_step,
                        hot_step: Arc::new(AtomicU64::new(0)),
                    };
                    *first_step += ROUND_STEPS;
                    rates.push(
                        twofa_round(&Arc::new(store.clone()), &work, seconds)
                            .await
                            .1,
                    );
                }
                median(rates)
            };
        // The accounts, once per server (a cluster's two configurations
        // share theirs, as do the pair's).
        let server = configuration
            .name
            .split(',')
            .next()
            .unwrap_or_default()
            .to_owned();
        if !written.contains(&server) {
            log_into_each(&configuration.store, &prefix, *first_step).await?;
            *first_step += ROUND_STEPS;
            written.push(server);
        }
        let one = rate(&configuration.store, &prefix, 1, first_step).await;
        let sixteen = rate(&configuration.store, &prefix, 16, first_step).await;
        let of_single = match &single {
            Some(single) => {
                let base = rate(single, single_prefix, 16, first_step).await;
                format!("{:.2}", sixteen / base)
            }
            None => String::new(),
        };
        println!(
            "| {} | {one:.0} | {sixteen:.0} | {of_single} | {} |",
            configuration.name, configuration.loses
        );
    }
    Ok(())
}
