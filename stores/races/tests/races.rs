//! Many instances, one truth: for every kind of state on every backend,
//! independent processes (each a service instance with its own
//! connection, each running concurrent requests) race the same single-use
//! thing, and the same guessing attack, released at the same instant.
//!
//! SQLite needs no server and always runs, several processes on one
//! database file. PostgreSQL, Redis and a Redis Cluster run where
//! `TWOFA_POSTGRES_URL`, `TWOFA_REDIS_URL` and `TWOFA_REDIS_CLUSTER_URL`
//! point (`.ci/servers` starts them on loopback); without
//! them these tests say so loudly and pass, unless
//! `TWOFA_REQUIRE_SERVERS=1`, which `.ci/run` sets.
//!
//! Run with `--nocapture` to see the table the guide quotes (docs/instances.md).
#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeMap,
    process::{Command, Output},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use twofa_store_races::Scenario;

/// Service instances racing: independent processes.
const PROCESSES: usize = 4;

fn worker(backend: &str, target: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_race-worker"))
        .args([backend, target])
        .args(args)
        .output()
        .unwrap()
}

/// Where `backend`'s server is, if it answers; if not, says so loudly,
/// and fails when servers are required.
fn server(backend: &str, variable: &str) -> Option<String> {
    let target = std::env::var(variable).ok();
    let problem = match &target {
        None => format!("{variable} is not set"),
        Some(target) => {
            let output = worker(backend, target, &["check"]);
            if output.status.success() {
                return Some(target.clone());
            }
            String::from_utf8_lossy(&output.stderr).trim().to_owned()
        }
    };
    twofa_store_races::servers::absent(backend, &problem);
    None
}

fn millis(time: SystemTime) -> u64 {
    u64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

/// A fresh account name, so runs never share state.
fn fresh_account(scenario: Scenario) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{}-{nanos}", scenario.name(), std::process::id())
}

/// What the race's attempts answered, counted by round and outcome.
type Tally = BTreeMap<(u64, String), usize>;

/// What the race left in the account's records, by name.
fn left(backend: &str, target: &str, account: &str) -> BTreeMap<String, String> {
    let output = worker(backend, target, &["left", account]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.split_once(' ').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// What `scenario` must leave in the store.
fn expected_left(scenario: Scenario) -> &'static [(&'static str, &'static str)] {
    match scenario {
        // The tenth round's step: NOW / 30 + 9. (Replays count as
        // failures, so the throttle is not checked here.)
        Scenario::TotpCode => &[("totp-last-step", "56666675")],
        Scenario::HotpCode => &[("hotp-counter", "10")],
        Scenario::AccountHotp => &[("account-hotp-counter", "10")],
        Scenario::TotpGuess => &[("totp-failures", "100")],
        Scenario::AccountGuess => &[("account-failures", "100"), ("recovery-used", "0")],
        Scenario::Ticket => &[("tickets-spent", "1"), ("recovery-used", "1")],
        Scenario::RecoveryCode => &[("tickets-spent", "1"), ("recovery-used", "1")],
        Scenario::OobChallenge => &[("tickets-spent", "1"), ("account-failures", "0")],
        Scenario::DeviceChallenge => &[("tickets-spent", "1"), ("account-failures", "0")],
        Scenario::TotpConfirm => &[("secrets", "totp"), ("credential-version", "1")],
        Scenario::PasskeySignIn => &[("passkey-sign-ins", "1"), ("account-failures", "0")],
        Scenario::PasskeyChallenge => &[("tickets-spent", "1"), ("account-failures", "0")],
    }
}

fn race(backend: &str, target: &str, scenario: Scenario) -> Tally {
    let account = fresh_account(scenario);
    let tally = race_with(backend, target, scenario, &account, &[], |_| {});
    let left = left(backend, target, &account);
    for (name, value) in expected_left(scenario) {
        assert_eq!(
            left.get(*name).map(String::as_str),
            Some(*value),
            "{backend} {}: {name} left {left:?}",
            scenario.name()
        );
    }
    tally
}

/// Runs `scenario` on `account` with the workers' environment `env`,
/// and `during` on this thread while they race, from a little before
/// they start (it gets the start, in Unix milliseconds).
fn race_with(
    backend: &str,
    target: &str,
    scenario: Scenario,
    account: &str,
    env: &[(&str, &str)],
    during: impl FnOnce(u64),
) -> Tally {
    let setup = worker(backend, target, &["setup", scenario.name(), account]);
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let data = String::from_utf8(setup.stdout).unwrap();
    let start_ms = millis(SystemTime::now() + Duration::from_millis(600));
    let start = start_ms.to_string();
    let children: Vec<_> = (0..PROCESSES)
        .map(|process| {
            let first = (process * scenario.tasks()).to_string();
            let tasks = scenario.tasks().to_string();
            let mut args = vec!["run", scenario.name(), account, &start, &tasks, &first];
            args.extend(data.lines());
            Command::new(env!("CARGO_BIN_EXE_race-worker"))
                .args([backend, target])
                .args(&args)
                .envs(env.iter().copied())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    during(start_ms);
    let mut tally = Tally::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{backend} {}: {}",
            scenario.name(),
            String::from_utf8_lossy(&output.stderr)
        );
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            let (round, outcome) = line.split_once(' ').unwrap();
            *tally
                .entry((round.parse().unwrap(), outcome.into()))
                .or_default() += 1;
        }
    }
    tally
}

fn count(tally: &Tally, outcome: &str) -> usize {
    tally
        .iter()
        .filter(|((_, answered), _)| answered == outcome)
        .map(|(_, n)| n)
        .sum()
}

/// Runs every race on `backend`, checks each, and prints its rows of the
/// table.
fn every_race(backend: &str, target: &str) {
    for scenario in Scenario::ALL {
        let tally = race(backend, target, scenario);
        let attempts: usize = tally.values().sum();
        let rounds = scenario.rounds();
        assert_eq!(
            attempts,
            PROCESSES * scenario.tasks() * scenario.tries() * usize::try_from(rounds).unwrap(),
            "{backend} {}: every attempt answered",
            scenario.name()
        );
        let accepted = count(&tally, "accepted");
        let compared = count(&tally, "invalid");
        let result = match scenario {
            Scenario::TotpGuess | Scenario::AccountGuess => {
                assert_eq!(accepted, 0, "{backend} {}: {tally:?}", scenario.name());
                assert_eq!(compared, 100, "{backend} {}: {tally:?}", scenario.name());
                format!("{compared} compared, then locked")
            }
            _ => {
                for round in 0..rounds {
                    let won = tally.get(&(round, "accepted".into())).copied().unwrap_or(0);
                    assert_eq!(
                        won,
                        1,
                        "{backend} {} round {round}: {tally:?}",
                        scenario.name()
                    );
                }
                format!("{accepted} accepted of {rounds} single-use")
            }
        };
        let contention = count(&tally, "contention");
        eprintln!(
            "| {backend} | {} | {} | {PROCESSES} × {} | {attempts} | {result} | {contention} |",
            scenario.kind(),
            scenario.claim(),
            scenario.tasks(),
        );
    }
}

#[test]
fn sqlite_every_race_is_won_once() {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("races-{}.db", std::process::id()));
    let target = file.to_str().unwrap();
    every_race("sqlite", target);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{target}{suffix}"));
    }
}

#[test]
fn postgres_every_race_is_won_once() {
    if let Some(url) = server("postgres", "TWOFA_POSTGRES_URL") {
        every_race("postgres", &url);
    }
}

#[test]
fn redis_every_race_is_won_once() {
    if let Some(url) = server("redis", "TWOFA_REDIS_URL") {
        every_race("redis", &url);
    }
}

/// Every race on the cluster, then the cluster's own: one long TOTP race
/// across each of a slot moving between primaries, a failover by hand and
/// a primary killed. In one test, one after another: each changes the
/// cluster under the others.
#[test]
fn redis_cluster_every_race_is_won_once_through_slot_moves_and_failovers() {
    let Some(urls) = server("redis-cluster", "TWOFA_REDIS_CLUSTER_URL") else {
        return;
    };
    every_race("redis-cluster", &urls);
    // Only a cluster started for the tests is failed over and killed.
    if std::env::var("TWOFA_REDIS_CLUSTER_DISPOSABLE").is_err() {
        twofa_store_races::servers::absent(
            "redis-cluster failovers",
            "TWOFA_REDIS_CLUSTER_DISPOSABLE is not set: the cluster's nodes are not the tests' to kill",
        );
        return;
    }
    for event in ClusterEvent::ALL {
        cluster_race(&urls, event);
    }
}

/// What happens to the cluster while a race runs on it.
#[derive(Clone, Copy, Debug)]
enum ClusterEvent {
    /// The race's slot moves to another primary, key by key.
    SlotMove,
    /// The slot's replica takes over by hand (`CLUSTER FAILOVER`).
    FailoverByHand,
    /// The slot's primary is killed; its replica is elected.
    PrimaryKilled,
}

impl ClusterEvent {
    const ALL: [Self; 3] = [Self::SlotMove, Self::FailoverByHand, Self::PrimaryKilled];

    fn name(self) -> &'static str {
        match self {
            Self::SlotMove => "slot moved between primaries (MOVED, ASK)",
            Self::FailoverByHand => "failover by hand (CLUSTER FAILOVER)",
            Self::PrimaryKilled => "primary killed (SIGKILL), replica elected",
        }
    }
}

/// Rounds of the long race, and the pause after each: long enough for an
/// election after a primary dies (the test cluster's node timeout is 2 s).
const CLUSTER_ROUNDS: u64 = 200;
const CLUSTER_PACE_MS: u64 = 25;

/// A TOTP race of [`CLUSTER_ROUNDS`] codes, each save waiting for one
/// replica, with `event` half a second in: no code is accepted twice;
/// logins the cluster fails while it changes are refused and counted.
fn cluster_race(urls: &str, event: ClusterEvent) {
    use twofa_store_races::cluster;
    let scenario = Scenario::TotpCode;
    let account = fresh_account(scenario);
    let slot = cluster::slot(urls, &twofa_redis::key(&account, "account")).unwrap();
    let (primary, replica) = cluster::shard(urls, slot).unwrap();
    let (rounds, pace) = (CLUSTER_ROUNDS.to_string(), CLUSTER_PACE_MS.to_string());
    let env = [
        ("TWOFA_RACE_ROUNDS", rounds.as_str()),
        ("TWOFA_RACE_PACE_MS", pace.as_str()),
        ("TWOFA_RACE_REPLICAS", "1"),
        ("TWOFA_RACE_FAILOVER", "1"),
    ];
    let mut what = String::new();
    let tally = race_with(
        "redis-cluster",
        urls,
        scenario,
        &account,
        &env,
        |start_ms| {
            let at = start_ms + 500;
            std::thread::sleep(Duration::from_millis(
                at.saturating_sub(millis(SystemTime::now())),
            ));
            what = match event {
                ClusterEvent::SlotMove => {
                    let (moved, to) =
                        cluster::move_slot(urls, slot, 1, Duration::from_millis(200)).unwrap();
                    format!(
                        "slot {slot}, {moved} keys, {} to {}",
                        primary.address, to.address
                    )
                }
                ClusterEvent::FailoverByHand => {
                    cluster::fail_over_by_hand(&primary, &replica).unwrap();
                    format!("{} took over from {}", replica.address, primary.address)
                }
                ClusterEvent::PrimaryKilled => {
                    cluster::kill_primary(&primary, &replica).unwrap();
                    format!("{} killed, {} elected", primary.address, replica.address)
                }
            };
        },
    );
    for round in 0..CLUSTER_ROUNDS {
        let won = tally.get(&(round, "accepted".into())).copied().unwrap_or(0);
        assert!(won <= 1, "{event:?} round {round}: accepted {won} times");
    }
    let (accepted, refused) = (count(&tally, "accepted"), count(&tally, "refused"));
    if matches!(event, ClusterEvent::SlotMove) {
        // Redirections are followed: a moving slot refuses nothing.
        assert_eq!(refused, 0, "{event:?}: {tally:?}");
        assert_eq!(
            accepted,
            usize::try_from(CLUSTER_ROUNDS).unwrap(),
            "{event:?}"
        );
    }
    let attempts: usize = tally.values().sum();
    eprintln!(
        "| redis-cluster | {} | {what} | {attempts} | {accepted} accepted of {CLUSTER_ROUNDS} single-use, none twice | {refused} refused |",
        event.name(),
    );
}

/// `host:port` of a `postgres://user:password@host:port/db` URL.
fn socket_of(url: &str) -> std::net::SocketAddr {
    let after_at = url.rsplit_once('@').map_or(url, |(_, rest)| rest);
    let host_port = after_at.split('/').next().unwrap();
    host_port.parse().unwrap()
}

/// The PostgreSQL pair: a standby refuses every save (fail closed, the
/// login refused); then one long TOTP race through a proxy to the primary,
/// which is killed half a second in, its synchronous standby promoted and
/// the proxy switched to it (as PgBouncer, HAProxy or a DNS name moved at
/// failover would be): no code accepted twice, the logins refused while no
/// primary answered counted.
#[test]
fn postgres_a_standby_is_never_written_and_a_promotion_accepts_no_code_twice() {
    use twofa::{AccountStore, TotpAccount};
    use twofa_store_races::{proxy::Proxy, standby};
    let pair = (
        std::env::var("TWOFA_POSTGRES_PRIMARY_URL"),
        std::env::var("TWOFA_POSTGRES_STANDBY_URL"),
    );
    let (Ok(primary), Ok(standby_url)) = pair else {
        twofa_store_races::servers::absent(
            "postgres standby",
            "TWOFA_POSTGRES_PRIMARY_URL and TWOFA_POSTGRES_STANDBY_URL are not set",
        );
        return;
    };
    if std::env::var("TWOFA_POSTGRES_PAIR_DISPOSABLE").is_err() {
        twofa_store_races::servers::absent(
            "postgres promotion",
            "TWOFA_POSTGRES_PAIR_DISPOSABLE is not set: the pair is not the tests' to kill",
        );
        return;
    }
    let proxy = Proxy::start(socket_of(&primary)).unwrap();
    let through = primary.replace(
        &socket_of(&primary).to_string(),
        &proxy.address().to_string(),
    );
    // The schema, on the primary: the standby follows.
    assert!(worker("postgres", &through, &["check"]).status.success());
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // A standby is read, never written.
    let refused = runtime.block_on(async {
        let pool = twofa_sqlx::PgStore::pool_options()
            .max_connections(1)
            .connect(&standby_url)
            .await
            .unwrap();
        let store = twofa_sqlx::PgStore::new(pool);
        let account = fresh_account(Scenario::TotpCode);
        let loaded: twofa::Versioned<TotpAccount> = store.load(&account).await.unwrap();
        assert_eq!(loaded.version, 0);
        let saved = store.save(&account, 0, &TotpAccount::default()).await;
        let error = saved.unwrap_err().to_string();
        assert!(error.contains("read-only"), "{error}");
        let totp = twofa_store_races::fixtures::totp().unwrap();
        let now = twofa_store_races::fixtures::NOW;
        let code = totp.generate_at(now).unwrap().to_string();
        let login = twofa_store_races::fixtures::guard()
            .verify_totp_shared(&totp, &store, &account, &code, now)
            .await;
        assert!(
            matches!(login, Err(twofa::SharedError::Store(_))),
            "a save the standby refused is no acceptance: {login:?}"
        );
        2
    });

    let scenario = Scenario::TotpCode;
    let account = fresh_account(scenario);
    let (rounds, pace) = (CLUSTER_ROUNDS.to_string(), CLUSTER_PACE_MS.to_string());
    let env = [
        ("TWOFA_RACE_ROUNDS", rounds.as_str()),
        ("TWOFA_RACE_PACE_MS", pace.as_str()),
        ("TWOFA_RACE_FAILOVER", "1"),
    ];
    let tally = race_with("postgres", &through, scenario, &account, &env, |start_ms| {
        let at = start_ms + 500;
        std::thread::sleep(Duration::from_millis(
            at.saturating_sub(millis(SystemTime::now())),
        ));
        runtime.block_on(standby::kill(&primary)).unwrap();
        runtime.block_on(standby::promote(&standby_url)).unwrap();
        proxy.switch(socket_of(&standby_url));
    });
    for round in 0..CLUSTER_ROUNDS {
        let won = tally.get(&(round, "accepted".into())).copied().unwrap_or(0);
        assert!(won <= 1, "promotion round {round}: accepted {won} times");
    }
    let (accepted, refused_logins) = (count(&tally, "accepted"), count(&tally, "refused"));
    let attempts: usize = tally.values().sum();
    eprintln!(
        "| postgres | a save on the standby | {refused} tried, {refused} refused (read-only) |"
    );
    eprintln!(
        "| postgres | primary killed (SIGKILL), synchronous standby promoted, proxy switched | {attempts} | {accepted} accepted of {CLUSTER_ROUNDS} single-use, none twice | {refused_logins} refused |"
    );
}
