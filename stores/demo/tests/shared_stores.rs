//! Many instances, one truth: independent processes, each a service
//! instance with its own connection, race the same codes and the same
//! guessing attack against real PostgreSQL and Redis servers.
//!
//! The servers must listen on loopback (`.ci/run` installs and starts
//! them; `TWOFA_POSTGRES_URL` and `TWOFA_REDIS_URL` point elsewhere).
//! Without them these tests say so loudly and pass, unless
//! `TWOFA_REQUIRE_SERVERS=1`, which `.ci/run` sets.
#![allow(clippy::unwrap_used)]

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use twofa::{Secret, Totp};

/// Service instances racing.
const INSTANCES: usize = 4;
/// Distinct codes in the replay race, one round each.
const CODES: u64 = 20;
/// How many times each instance tries a round's code.
const TRIES: usize = 5;
/// Wrong guesses each instance sends in the guessing race.
const GUESSES: usize = 30;
/// The lockout in the guessing race.
const LOCKOUT: usize = 10;

/// A command running the store binary `name`, built by cargo for this test.
fn command(name: &str) -> Command {
    Command::new(match name {
        "postgres_store" => env!("CARGO_BIN_EXE_postgres_store"),
        "redis_store" => env!("CARGO_BIN_EXE_redis_store"),
        other => panic!("no store binary {other}"),
    })
}

fn run(name: &str, args: &[&str]) -> Output {
    command(name).args(args).output().unwrap()
}

fn totp() -> Totp {
    Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

/// Whether the example's server answers (and its schema is in place); if
/// not, says so loudly, and fails when servers are required.
fn server_present(example: &str) -> bool {
    let output = run(example, &["check"]);
    if output.status.success() {
        return true;
    }
    let banner = "!".repeat(72);
    eprintln!(
        "\n{banner}\n{example}: NO SERVER ANSWERED, MULTI-INSTANCE TESTS NOT RUN\n{}\n{banner}\n",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    assert!(
        std::env::var("TWOFA_REQUIRE_SERVERS").is_err(),
        "{example}: server required (TWOFA_REQUIRE_SERVERS is set) but it did not answer"
    );
    false
}

/// A fresh account name, so runs never share state.
fn fresh_account(race: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{race}-{}-{nanos}", std::process::id())
}

/// Starts every instance on the same `attempts`, released together, and
/// returns each instance's outcomes.
fn race(example: &str, account: &str, lockout: usize, attempts: &[String]) -> Vec<Vec<String>> {
    let start = SystemTime::now() + Duration::from_millis(400);
    let start = start
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let children: Vec<_> = (0..INSTANCES)
        .map(|_| {
            command(example)
                .args(["race", account, &lockout.to_string(), &start])
                .args(attempts)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let text = String::from_utf8(output.stdout).unwrap();
            let outcomes: Vec<String> = text.lines().map(str::to_owned).collect();
            assert_eq!(outcomes.len(), attempts.len());
            outcomes
        })
        .collect()
}

/// Round after round, every instance tries the round's code `TRIES` times
/// at once: each of the `CODES` codes must be accepted exactly once.
fn replay_race(example: &str) {
    let totp = totp();
    let account = fresh_account("replay");
    let first = 1_700_000_000 / 30;
    let mut attempts = 0;
    let mut accepted = 0;
    for step in first..first + CODES {
        let attempt = format!("{}:{}", step * 30, totp.generate_at_step(step));
        let outcomes = race(example, &account, 100, &vec![attempt; TRIES]);
        let all: Vec<&str> = outcomes.iter().flatten().map(String::as_str).collect();
        let this_code = all.iter().filter(|&&o| o == "accepted").count();
        assert_eq!(this_code, 1, "{example}: step {step}: {all:?}");
        assert!(
            all.iter().all(|&o| o == "accepted" || o == "replayed"),
            "{example}: {all:?}"
        );
        attempts += all.len();
        accepted += this_code;
    }
    println!(
        "{example}: replay race: {attempts} attempts from {INSTANCES} instances, {accepted} codes accepted, {CODES} distinct codes"
    );
    assert_eq!(accepted as u64, CODES);
}

/// Every instance sends `GUESSES` wrong codes at once: across all of them,
/// exactly `LOCKOUT` may be compared before the lockout refuses the rest.
fn guessing_race(example: &str) {
    let totp = totp();
    let now = 1_700_000_000;
    let attempts: Vec<String> = (0..GUESSES as u64)
        .map(|i| format!("{now}:{}", totp.generate_at(now + 3600 + 30 * i).unwrap()))
        .filter(|attempt| {
            let code = attempt.split(':').nth(1).unwrap();
            totp.verify_at(code, now).is_err()
        })
        .collect();
    let outcomes = race(example, &fresh_account("guess"), LOCKOUT, &attempts);
    let all: Vec<&str> = outcomes.iter().flatten().map(String::as_str).collect();
    let let_through = all.iter().filter(|&&o| o == "invalid").count();
    let locked = all.iter().filter(|&&o| o == "locked").count();
    println!(
        "{example}: guessing race: {} guesses from {INSTANCES} instances, {let_through} compared before the lockout, {locked} refused as locked",
        all.len()
    );
    assert_eq!(let_through, LOCKOUT, "{example}");
    assert_eq!(let_through + locked, all.len(), "{example}: {all:?}");
}

#[test]
fn postgres_accepts_each_code_once_across_instances() {
    if server_present("postgres_store") {
        replay_race("postgres_store");
    }
}

#[test]
fn postgres_lockout_holds_across_instances() {
    if server_present("postgres_store") {
        guessing_race("postgres_store");
    }
}

#[test]
fn redis_accepts_each_code_once_across_instances() {
    if server_present("redis_store") {
        replay_race("redis_store");
    }
}

#[test]
fn redis_lockout_holds_across_instances() {
    if server_present("redis_store") {
        guessing_race("redis_store");
    }
}

/// A lockout, then a reset through the compare-and-swap: the version keeps
/// growing, so a save based on the state read before the reset is refused.
fn reset_keeps_the_version_growing(example: &str) {
    let account = fresh_account("reset");
    let totp = totp();
    let now = 1_700_000_000;
    let wrong = format!("{now}:{}", totp.generate_at(now + 7_200).unwrap());
    // Every instance tries once, lockout after 1: one compared, the rest locked.
    let outcomes = race(example, &account, 1, &[wrong]);
    let mut all: Vec<&str> = outcomes.iter().flatten().map(String::as_str).collect();
    all.sort_unstable();
    assert_eq!(all, ["invalid", "locked", "locked", "locked"], "{example}");
    let output = run(example, &["reset", &account]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    println!("{example}: {}", text.trim());
    assert_eq!(
        text.trim(),
        "reset: version 1 -> 2, failures 1 -> 0, stale save refused",
        "{example}"
    );
}

/// A stored value that cannot be read back is an error, never a default.
fn a_corrupt_value_fails_closed(example: &str, account: &str) {
    let now = 1_700_000_000;
    let code = totp().generate_at(now).unwrap();
    let output = command(example)
        .args(["race", account, "3", "0", &format!("{now}:{code}")])
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "{example}: a corrupt row was read as state"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Corrupt"), "{example}: {stderr}");
}

#[test]
fn postgres_reset_keeps_the_version_growing() {
    if server_present("postgres_store") {
        reset_keeps_the_version_growing("postgres_store");
    }
}

#[test]
fn redis_reset_keeps_the_version_growing() {
    if server_present("redis_store") {
        reset_keeps_the_version_growing("redis_store");
    }
}

#[test]
fn postgres_refuses_a_failure_count_out_of_range() {
    if !server_present("postgres_store") {
        return;
    }
    let account = fresh_account("corrupt");
    let url = std::env::var("TWOFA_POSTGRES_URL")
        .unwrap_or_else(|_| "host=127.0.0.1 user=twofa password=twofa dbname=twofa".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        // 2^32 failures: truncated to u32 it would read as 0.
        client
            .execute(
                "INSERT INTO twofa_totp (account, failures, retry_at, last_step, drift, \
                 used_below, version) VALUES ($1, 4294967296, 0, NULL, 0, '0', 3)",
                &[&account],
            )
            .await
            .unwrap();
    });
    a_corrupt_value_fails_closed("postgres_store", &account);
}

#[test]
fn redis_refuses_an_unparsable_field() {
    if !server_present("redis_store") {
        return;
    }
    let account = fresh_account("corrupt");
    let url = std::env::var("TWOFA_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let mut connection = redis::Client::open(url).unwrap().get_connection().unwrap();
    redis::cmd("HSET")
        .arg(format!("twofa:totp:{account}"))
        .arg(&[
            "failures",
            "lots",
            "retry_at",
            "0",
            "last_step",
            "",
            "drift",
            "0",
            "used_below",
            "0",
            "version",
            "3",
        ])
        .exec(&mut connection)
        .unwrap();
    a_corrupt_value_fails_closed("redis_store", &account);
}
