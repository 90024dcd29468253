//! Logins per second, and their latency, of the guard over each store:
//! `cargo bench -p twofa-store-races --bench logins` (with
//! `TWOFA_POSTGRES_URL` and `TWOFA_REDIS_URL` for those servers; absent
//! ones are skipped, and said so). The in-memory store runs first, as the
//! baseline of the same run.
//!
//! A login is the whole second step of a TOTP login over the account's
//! state (kind `account`): load, check the throttle, verify the code
//! against ±1 step, record the step, save with the compare-and-swap (and
//! on a lost race, load and decide again). With 1, 4 and 16 concurrent
//! clients, each for `TWOFA_BENCH_SECONDS` (default 2): across 10,000
//! accounts, each login a fresh code of its account; and all on one hot
//! account, each login a fresh step. Logins/s counts the accepted ones;
//! the latencies are those of every login.

use std::{
    env,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use twofa::{AccountState, AccountStore, Guard, MemoryAccountStore, SharedError, Totp};
use twofa_store_races::{AnyStore, fixtures};

const ACCOUNTS: u64 = 10_000;
const CLIENTS: [u64; 3] = [1, 4, 16];

/// What one configuration measured.
struct Measured {
    /// Logins accepted per second.
    logins_per_second: f64,
    p50_micros: u128,
    p99_micros: u128,
    /// Answers other than an acceptance: on the hot account, a login whose
    /// step was overtaken by a later one while it waited is a replay.
    other_answers: u64,
    /// Logins refused for contention or by a failed store.
    refused: u64,
}

/// How a login ended.
enum Ended {
    Accepted,
    Answered,
    Refused,
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

async fn measure<S>(store: Arc<S>, clients: u64, hot: bool, seconds: f64, run: u64) -> Measured
where
    S: AccountStore<AccountState> + Send + Sync + 'static,
{
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let hot_step = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for client in 0..clients {
        let (store, hot_step) = (store.clone(), hot_step.clone());
        handles.push(tokio::spawn(async move {
            let (guard, totp) = (
                fixtures::guard(),
                fixtures::totp().unwrap_or_else(|_| unreachable!()),
            );
            let mut latencies = Vec::new();
            let (mut accepted, mut other, mut refused) = (0, 0, 0);
            let mut round = 0;
            while Instant::now() < deadline {
                let (account, step) = if hot {
                    (
                        format!("hot-{run}"),
                        hot_step.fetch_add(1, Ordering::Relaxed),
                    )
                } else {
                    let index = client + clients * (round % (ACCOUNTS / clients));
                    (format!("many-{run}-{index}"), round / (ACCOUNTS / clients))
                };
                let started = Instant::now();
                match login(&*store, &guard, &totp, &account, step).await {
                    Ended::Accepted => accepted += 1,
                    Ended::Answered => other += 1,
                    Ended::Refused => refused += 1,
                }
                latencies.push(started.elapsed().as_micros());
                round += 1;
            }
            (latencies, accepted, other, refused)
        }));
    }
    let started = Instant::now();
    let (mut latencies, mut accepted, mut other_answers, mut refused) = (Vec::new(), 0, 0, 0);
    for handle in handles {
        if let Ok((client_latencies, client_accepted, client_other, client_refused)) = handle.await
        {
            latencies.extend(client_latencies);
            accepted += client_accepted;
            other_answers += client_other;
            refused += client_refused;
        }
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds);
    latencies.sort_unstable();
    let at = |quantile: f64| {
        let index = ((latencies.len() as f64) * quantile) as usize;
        latencies
            .get(index.min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Measured {
        logins_per_second: f64::from(accepted) / elapsed,
        p50_micros: at(0.50),
        p99_micros: at(0.99),
        other_answers,
        refused,
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // one short pass, to check that the benchmark runs.
    let benching = env::args().any(|arg| arg == "--bench");
    let seconds: f64 = env::var("TWOFA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if benching { 2.0 } else { 0.05 });
    let sqlite = env::temp_dir().join(format!("twofa-bench-{}.db", std::process::id()));
    let mut stores: Vec<(&str, Option<AnyStore>)> = vec![("memory", None)];
    for (name, target) in [
        ("sqlite", Some(sqlite.display().to_string())),
        ("postgres", env::var("TWOFA_POSTGRES_URL").ok()),
        ("redis", env::var("TWOFA_REDIS_URL").ok()),
    ] {
        match target {
            None => eprintln!("{name}: no server given, not measured"),
            Some(target) => match AnyStore::connect(name, &target).await {
                Ok(backend) => stores.push((name, Some(backend))),
                Err(e) => eprintln!("{name}: {e}, not measured"),
            },
        }
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{cpus} CPUs, {seconds} s a configuration\n");
    println!(
        "| store | clients | accounts | logins accepted/s | of memory's | p50 µs | p99 µs | other answers | refused |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|");
    let mut baseline = Vec::new();
    let mut run = std::process::id().into();
    for (name, backend) in stores {
        for hot in [false, true] {
            for clients in CLIENTS {
                run += 1;
                let measured = match &backend {
                    None => {
                        let store = Arc::new(MemoryAccountStore::<AccountState>::new());
                        measure(store, clients, hot, seconds, run).await
                    }
                    Some(backend) => {
                        measure(Arc::new(backend.clone()), clients, hot, seconds, run).await
                    }
                };
                if name == "memory" {
                    baseline.push(measured.logins_per_second);
                }
                let base = baseline
                    .get(
                        usize::from(hot) * CLIENTS.len()
                            + CLIENTS.iter().position(|&c| c == clients).unwrap_or(0),
                    )
                    .copied()
                    .unwrap_or(f64::NAN);
                println!(
                    "| {name} | {clients} | {} | {:.0} | {:.4} | {} | {} | {} | {} |",
                    if hot { "one hot" } else { "10,000" },
                    measured.logins_per_second,
                    measured.logins_per_second / base,
                    measured.p50_micros,
                    measured.p99_micros,
                    measured.other_answers,
                    measured.refused,
                );
            }
        }
    }
    let _ = std::fs::remove_file(&sqlite);
}
