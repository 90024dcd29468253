//! Many instances, one truth: for every kind of state on every backend,
//! independent processes (each a service instance with its own
//! connection, each running concurrent requests) race the same single-use
//! thing, and the same guessing attack, released at the same instant.
//!
//! SQLite needs no server and always runs, several processes on one
//! database file. PostgreSQL and Redis run where `TWOFA_POSTGRES_URL` and
//! `TWOFA_REDIS_URL` point (`.ci/servers` starts both on loopback); without
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
    let setup = worker(backend, target, &["setup", scenario.name(), &account]);
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let data = String::from_utf8(setup.stdout).unwrap();
    let start = millis(SystemTime::now() + Duration::from_millis(600)).to_string();
    let children: Vec<_> = (0..PROCESSES)
        .map(|process| {
            let first = (process * scenario.tasks()).to_string();
            let tasks = scenario.tasks().to_string();
            let mut args = vec!["run", scenario.name(), &account, &start, &tasks, &first];
            args.extend(data.lines());
            Command::new(env!("CARGO_BIN_EXE_race-worker"))
                .args([backend, target])
                .args(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
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
