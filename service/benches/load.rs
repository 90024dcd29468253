//! The service under load, over loopback: seed 001's one-call login (the
//! MPIN's Argon2id, the TOTP code, the session issued) and a session check
//! (`GET …/profile`), from 16 concurrent clients against 1 and 2 server
//! processes on SQLite, PostgreSQL and Redis. Prints logins per second and
//! latency percentiles, a Markdown table for the README.
//!
//! `cargo bench -p twofa-service --bench load` (PostgreSQL and Redis when
//! `TWOFA_POSTGRES_URL` and `TWOFA_REDIS_URL` are set). Bounded: at most
//! `LOGINS` logins and `LIMIT` seconds per row.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{Client, MPIN, SEALING_KEY, Server, Store, fresh_user, scratch};
use twofa::{AccountState, Binding, Keyring, SealingKey, Secret, SecretKind, Totp};
use twofa_service::records::User;
use twofa_stores::AnyStore;
use zeroize::Zeroizing;

/// Logins per row.
const LOGINS: usize = 600;
/// Concurrent clients.
const CLIENTS: usize = 16;
/// A row stops after this long, whatever its count.
const LIMIT: Duration = Duration::from_secs(60);

struct Row {
    logins_per_s: f64,
    p50: Duration,
    p99: Duration,
    checks_per_s: f64,
    refused: usize,
}

/// Users enrolled straight into the store (as the service would have):
/// the same MPIN hash for all, a TOTP secret each. Each logs in twice,
/// with the codes of the step now and the next (both stay in the window
/// if a step ends during the run).
async fn enrol(store: &Store, count: usize) -> Vec<(String, Totp)> {
    let target = store.url.strip_prefix("sqlite:").unwrap_or(&store.url);
    let any = AnyStore::connect(store.name, target).await.unwrap();
    let keyring = Keyring::new(SEALING_KEY.parse::<SealingKey>().unwrap());
    // The service's digest key (made now if no instance made it yet), to
    // seal each user record as the service would.
    let args = ["--sealing-key", SEALING_KEY, "--store", &store.url].map(String::from);
    let config = twofa_service::config::Config::from_env_and_args(args).unwrap();
    let keys = twofa_service::keys::Keys::load(&config, &any)
        .await
        .unwrap();
    let login = twofa_service::hashing::Class::Login;
    let hash = twofa_service::passwords::hash(login, Zeroizing::new(MPIN.to_owned()))
        .await
        .unwrap();
    let user = User {
        password: hash.clone(),
        pin: hash,
        phone: "+919800000030".to_owned(),
        phone_verified: true,
        key_id: 0,
        mac: [0; 32],
    };
    let guard = twofa::Guard::default();
    let mut users = Vec::new();
    for _ in 0..count {
        let name = fresh_user("B");
        let secret = Secret::generate(&mut getrandom::SysRng).unwrap();
        let sealed = keyring
            .seal_secret(
                &mut getrandom::SysRng,
                SecretKind::Totp,
                &secret,
                Binding::new(&name, "totp"),
            )
            .unwrap();
        guard
            .decide_shared(&any, &name, |stored: &mut User| {
                *stored = user.clone();
                stored.seal(&keys.digest[0], &name);
                Ok(())
            })
            .await
            .unwrap();
        guard
            .decide_shared(&any, &name, |state: &mut AccountState| {
                state.secrets.insert("totp", sealed.clone()).map(|_| ())
            })
            .await
            .unwrap();
        users.push((name, Totp::new(secret)));
    }
    users
}

async fn measure(store: &Store, processes: usize) -> Row {
    let dir = scratch(&format!("load-{}-{processes}", store.name));
    let store = match store.name {
        "sqlite" => Store::sqlite(&dir),
        _ => store.clone(),
    };
    let servers: Arc<Vec<Server>> = Arc::new(
        (0..processes)
            .map(|_| Server::start(&store, &dir, 100))
            .collect(),
    );
    let users = Arc::new(enrol(&store, LOGINS.div_ceil(2)).await);
    // Each login: a user and one of its two codes, newest last.
    let now = twofa::unix_time().unwrap();
    let jobs: Arc<Vec<(usize, String)>> = Arc::new(
        (0..LOGINS)
            .map(|i| {
                let (user, step) = (i % users.len(), i / users.len());
                let at = now + 30 * step as u64;
                (user, users[user].1.generate_at(at).unwrap().to_string())
            })
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (servers, users, jobs, next) =
            (servers.clone(), users.clone(), jobs.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let http = Client::default();
            let mut latencies = Vec::new();
            let mut tokens = Vec::new();
            let mut refused = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= jobs.len() || started.elapsed() > LIMIT {
                    break;
                }
                let (user, code) = &jobs[i];
                let server = &servers[(client + i) % servers.len()];
                let sent = Instant::now();
                let (_, answer) = http.totp_login(server, &users[*user].0, MPIN, code).await;
                latencies.push(sent.elapsed());
                match answer["body"]["RequestToken"].as_str() {
                    Some(token) => tokens.push(token.to_owned()),
                    None => refused += 1,
                }
            }
            (latencies, tokens, refused)
        }));
    }
    let mut latencies = Vec::new();
    let mut tokens = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (l, t, r) = task.await.unwrap();
        latencies.extend(l);
        tokens.extend(t);
        refused += r;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let row = (
        tokens.len() as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.99),
    );

    // Session checks: every token issued, read back by the clients.
    let tokens = Arc::new(tokens);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (servers, tokens) = (servers.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let http = Client::default();
            let mut ok = 0;
            for (i, token) in tokens.iter().enumerate().skip(client).step_by(CLIENTS) {
                let server = &servers[i % servers.len()];
                let (status, _) = http
                    .with_bearer(server, "/authentication/v1/user/profile", token, None)
                    .await;
                ok += usize::from(status == 200);
            }
            ok
        }));
    }
    let mut checked = 0;
    for task in tasks {
        checked += task.await.unwrap();
    }
    assert_eq!(checked, tokens.len(), "every session checks");
    Row {
        logins_per_s: row.0,
        p50: row.1,
        p99: row.2,
        checks_per_s: checked as f64 / started.elapsed().as_secs_f64(),
        refused,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not run
    // this (harness = false), and a filter that names nothing here skips.
    if std::env::args()
        .skip(1)
        .any(|arg| !arg.starts_with("--") && arg != "load")
    {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = scratch("load");
    let stores: Vec<Store> = Store::all(&dir);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n{CLIENTS} clients, {LOGINS} logins per row, {cores} cores shared by clients and servers\n"
    );
    println!("| store | processes | logins/s | p50 | p99 | session checks/s | refused |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for store in &stores {
        for processes in [1, 2] {
            let row = runtime.block_on(measure(store, processes));
            println!(
                "| {} | {processes} | {:.0} | {:.1} ms | {:.1} ms | {:.0} | {} |",
                store.name,
                row.logins_per_s,
                row.p50.as_secs_f64() * 1e3,
                row.p99.as_secs_f64() * 1e3,
                row.checks_per_s,
                row.refused,
            );
        }
    }
}
