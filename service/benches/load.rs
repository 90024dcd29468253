//! The service under load, over loopback: seed 001's one-call login (the
//! MPIN's Argon2id, the TOTP code, the session issued) and a session check
//! (`GET …/profile`), from 16 concurrent clients against 1 and 2 server
//! processes on SQLite, PostgreSQL and Redis. Prints logins per second and
//! latency percentiles, a Markdown table for the README.
//!
//! Then passkey sign-ins (the options, a fresh sealed challenge, then the
//! Ed25519 assertion to it: no Argon2id), from the same clients.
//!
//! `cargo bench -p twofa-service --bench load` (`-- passkeys` for those
//! rows alone; PostgreSQL and Redis when
//! `TWOFA_POSTGRES_URL` and `TWOFA_REDIS_URL` are set). Bounded: at most
//! `LOGINS` logins and `LIMIT` seconds per row.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{Client, MPIN, SEALING_KEY, Server, Store, fresh_user, passkey::SoftPasskey, scratch};
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

/// `processes` servers with `settings` on `store` (a fresh SQLite file of
/// their own for SQLite), in a scratch directory named after `row`.
fn servers(
    store: &Store,
    processes: usize,
    row: &str,
    settings: &[(&str, &str)],
) -> (Store, Arc<Vec<Server>>) {
    let dir = scratch(&format!("{row}-{}-{processes}", store.name));
    let store = match store.name {
        "sqlite" => Store::sqlite(&dir),
        _ => store.clone(),
    };
    let servers = (0..processes)
        .map(|_| Server::start_with(&store, &dir, 100, settings))
        .collect();
    (store, Arc::new(servers))
}

async fn measure(store: &Store, processes: usize) -> Row {
    let (store, servers) = servers(store, processes, "load", &[]);
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

/// The relying party the passkey rows run for.
const RP_ID: &str = "bench.example";
const ORIGIN: &str = "https://bench.example";

fn b64(bytes: &[u8]) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(bytes)
}

/// Users with one passkey each, registered straight into the store as
/// the service would have (the registration verified by the core, the
/// index record sealed): their names and credential ids.
async fn enrol_passkeys(store: &Store, count: usize) -> Vec<(String, Vec<u8>)> {
    use twofa::webauthn::{AttestationResponse, CoseAlgorithm, RegistrationRequest, RelyingParty};
    let target = store.url.strip_prefix("sqlite:").unwrap_or(&store.url);
    let any = AnyStore::connect(store.name, target).await.unwrap();
    let args = ["--sealing-key", SEALING_KEY, "--store", &store.url].map(String::from);
    let config = twofa_service::config::Config::from_env_and_args(args).unwrap();
    let keys = twofa_service::keys::Keys::load(&config, &any)
        .await
        .unwrap();
    let key = &keys.digest[0];
    let rp = RelyingParty::new(RP_ID, &[ORIGIN]).unwrap();
    let guard = twofa::Guard::default();
    let mut users = Vec::new();
    for i in 0..count {
        let name = fresh_user("P");
        let id = format!("bench-credential-{i:08}-{name}").into_bytes();
        let challenge = [7u8; 32];
        let soft = SoftPasskey::new(9, &id, RP_ID, ORIGIN);
        let (client, object) = soft.registration(&b64(&challenge));
        let request = RegistrationRequest {
            challenge: &challenge,
            algorithms: CoseAlgorithm::SUPPORTED,
            user_verification: twofa::webauthn::UserVerification::Required,
        };
        let response = AttestationResponse {
            client_data_json: &client,
            attestation_object: &object,
        };
        let registered = rp.verify_registration(&request, &response).unwrap();
        let passkey = twofa::Passkey::new(
            &registered,
            twofa::Transports::default(),
            "bench",
            key,
            &name,
            0,
        );
        guard
            .decide_shared(&any, &name, |state: &mut AccountState| {
                state.passkeys = vec![passkey.clone()];
                Ok(())
            })
            .await
            .unwrap();
        let index = twofa_service::records::PasskeyOwner::index_name(&id);
        guard
            .decide_shared(
                &any,
                &index,
                |owner: &mut twofa_service::records::PasskeyOwner| {
                    owner.set(key, &index, &name);
                    Ok(())
                },
            )
            .await
            .unwrap();
        users.push((name, id));
    }
    users
}

/// Passkey sign-ins per second, and their latency (both calls).
async fn measure_passkeys(store: &Store, processes: usize) -> Row {
    use serde_json::json;
    let settings = [("TWOFA_RP_ID", RP_ID), ("TWOFA_ORIGINS", ORIGIN)];
    let (store, servers) = servers(store, processes, "load-passkeys", &settings);
    let users: Arc<Vec<SoftPasskey>> = Arc::new(
        enrol_passkeys(&store, LOGINS)
            .await
            .iter()
            .map(|(_, id)| SoftPasskey::new(9, id, RP_ID, ORIGIN))
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (servers, users, next) = (servers.clone(), users.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let http = Client::default();
            let (mut latencies, mut done, mut refused) = (Vec::new(), 0, 0);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= users.len() || started.elapsed() > LIMIT {
                    break;
                }
                let server = &servers[(client + i) % servers.len()];
                let sent = Instant::now();
                let (_, options) = http
                    .post(
                        server,
                        "/authentication/v1/passkeys/sign-in/options",
                        &json!({"api_key": common::API_KEY}),
                    )
                    .await;
                let credential = users[i].assert(&options["data"]["publicKey"], false);
                let body = json!({"user_id": "", "login_type": "FINGERPRINT", "password": "",
                                  "webauthn": credential});
                let (_, answer) = http.session(server, body).await;
                latencies.push(sent.elapsed());
                if answer["data"]["access_token"].is_string() {
                    done += 1;
                } else {
                    refused += 1;
                }
            }
            (latencies, done, refused)
        }));
    }
    let (mut latencies, mut done, mut refused) = (Vec::new(), 0, 0);
    for task in tasks {
        let (l, d, r) = task.await.unwrap();
        latencies.extend(l);
        done += d;
        refused += r;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Row {
        logins_per_s: done as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        checks_per_s: 0.0,
        refused,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not run
    // this (harness = false), and a filter that names nothing here skips.
    // `-- passkeys` runs the passkey rows alone.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    if filters.iter().any(|arg| arg != "load" && arg != "passkeys") {
        return;
    }
    let passkeys_only = filters.iter().any(|arg| arg == "passkeys");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = scratch("load");
    let stores: Vec<Store> = Store::all(&dir);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "\n{CLIENTS} clients, {LOGINS} logins per row, {cores} cores shared by clients and servers\n"
    );
    if !passkeys_only {
        println!("| store | processes | logins/s | p50 | p99 | session checks/s | refused |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
    }
    for store in stores.iter().filter(|_| !passkeys_only) {
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
    println!("\n| store | processes | passkey sign-ins/s | p50 | p99 | refused |");
    println!("|---|---:|---:|---:|---:|---:|");
    for store in &stores {
        for processes in [1, 2] {
            let row = runtime.block_on(measure_passkeys(store, processes));
            println!(
                "| {} | {processes} | {:.0} | {:.1} ms | {:.1} ms | {} |",
                store.name,
                row.logins_per_s,
                row.p50.as_secs_f64() * 1e3,
                row.p99.as_secs_f64() * 1e3,
                row.refused,
            );
        }
    }
}
