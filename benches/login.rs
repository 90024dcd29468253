//! Whole logins per second: [`Guard::verify_totp`] (throttle, verify ±1
//! with drift, replay check, state update) on an in-memory account state
//! behind a mutex per account, on 1 thread and on every core.
//!
//! - `many_accounts`: 10,000 accounts, each thread logging in its own
//!   share of them in turn, every login with the right code of a new step.
//! - `hot_account`: every thread logging in one account, each login taking
//!   the next steps from a shared counter, in two phases: the HMAC work on
//!   the copy of the state the thread saw last ([`Guard::check_totp_code`]),
//!   then the decision under the lock ([`Guard::commit_totp`]), so the
//!   threads wait for each other only for a decision. A login that overtakes another
//!   makes the slower one a replay (refused by the same decision).
//! - `hot_account_locked`: the same, the lock held through the whole
//!   check (`verify_totp` on the locked state): the threads wait for
//!   each other's HMAC work.
//! - `hot_account_floor`: no login at all, what any login of one shared
//!   account costs at least: the bare `Totp::verify_at` with no lock, then
//!   the lock taken for one write to the account's line. Its 2-thread /
//!   1-thread ratio is the most `hot_account`'s can reach on the machine.
//!
//! Criterion reports logins per second for all threads together; divide
//! by the threads for logins per second per core. The codes are computed
//! before the timed part, and the states reset between timed rounds.

use std::{
    hint::black_box,
    sync::{
        Barrier, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use twofa::{Guard, Outcome, Secret, Totp, TotpAccount, TotpMatch};

const ACCOUNTS: usize = 10_000;
/// Logins computed ahead for each thread: one timed round.
const ROUND: usize = 1 << 16;
const NOW: u64 = 1_700_000_000;

/// An account as a service keeps it in memory: its verifier, built once,
/// and its second-factor state.
struct Account {
    totp: Totp,
    state: Padded<Mutex<TotpAccount>>,
}

/// A value on cache lines of its own: the lock and state that logins
/// write never share a line with the verifier they only read, which would
/// make every read of it wait for the line to come back from the core
/// that wrote last (a service keeps them apart the same way, or in
/// different allocations).
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// One login: which account, when, and the code typed.
struct Login {
    account: usize,
    time: u64,
    code: [u8; 6],
}

fn accounts(count: usize) -> Vec<Account> {
    (0..count)
        .map(|i| {
            let mut bytes = [0u8; 20];
            bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
            bytes[8..].fill(0x5a);
            Account {
                totp: Totp::new(Secret::from_bytes(&bytes).expect("20 bytes")),
                state: Padded(Mutex::new(TotpAccount::default())),
            }
        })
        .collect()
}

fn login(account: usize, time: u64, totp: &Totp) -> Login {
    let code = totp.generate_at(time).expect("after T0").to_string();
    Login {
        account,
        time,
        code: code.as_bytes().try_into().expect("6 digits"),
    }
}

/// Thread `t` of `threads`: the accounts `t`, `t + threads`, … in turn,
/// each at the next step at every pass.
fn many_accounts_logins(accounts: &[Account], t: usize, threads: usize) -> Vec<Login> {
    let own: Vec<usize> = (t..accounts.len()).step_by(threads).collect();
    (0..ROUND)
        .map(|j| {
            let account = own[j % own.len()];
            let time = NOW + 30 * (j / own.len()) as u64;
            login(account, time, &accounts[account].totp)
        })
        .collect()
}

fn check(guard: &Guard, account: &Account, login: &Login) -> Outcome<TotpMatch> {
    let code = std::str::from_utf8(&login.code).expect("ASCII digits");
    let mut state = account.state.lock().unwrap_or_else(PoisonError::into_inner);
    guard
        .verify_totp(&account.totp, &mut state, black_box(code), login.time)
        .expect("after T0")
}

/// How a thread logs in to the hot account.
type HotCheck = fn(&Guard, &Account, &Login, &mut TotpAccount) -> Outcome<TotpMatch>;

/// [`check`] in two phases: the HMAC work on `seen`, the state as this
/// thread last saw it, with no lock held; then the lock, once, for the
/// commit, which decides on the state as it is and leaves a copy in
/// `seen` for the next login. A copy however old does (the commit asks
/// for a new check only when the drift or a lock changed), so no lock is
/// taken to make one.
fn check_snapshot(
    guard: &Guard,
    account: &Account,
    login: &Login,
    seen: &mut TotpAccount,
) -> Outcome<TotpMatch> {
    let code = std::str::from_utf8(&login.code).expect("ASCII digits");
    loop {
        let check = guard
            .check_totp_code(&account.totp, seen, black_box(code), login.time)
            .expect("after T0");
        let mut state = account.state.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = guard.commit_totp(&check, &mut state);
        *seen = *state;
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
}

/// The floor of a login of one shared account: the HMAC work with no
/// lock, then the lock for one write to the state's cache line, which
/// moves between the cores as a commit's does. Nothing is decided: a
/// matched code is reported accepted, anything else replayed.
fn check_floor(
    _: &Guard,
    account: &Account,
    login: &Login,
    seen: &mut TotpAccount,
) -> Outcome<TotpMatch> {
    let code = std::str::from_utf8(&login.code).expect("ASCII digits");
    let found = account.totp.verify_at(black_box(code), login.time);
    let mut state = account.state.lock().unwrap_or_else(PoisonError::into_inner);
    state.used_below = state.used_below.wrapping_add(1);
    *seen = *state;
    drop(state);
    match found {
        Ok(found) => Outcome::Accepted(found),
        Err(_) => Outcome::Replayed,
    }
}

/// [`check`], the lock held through the whole check.
fn check_locked(
    guard: &Guard,
    account: &Account,
    login: &Login,
    _: &mut TotpAccount,
) -> Outcome<TotpMatch> {
    check(guard, account, login)
}

/// Steps a thread takes from the shared counter at a time: the threads'
/// logins stay interleaved (no thread gets more than a few steps ahead,
/// so the outcomes stay those of logins made side by side), and the
/// counter, which a service does not have, costs a quarter of a
/// cache-line transfer per login rather than one.
const CLAIM: usize = 4;

/// `n` logins of `logins`, taken from `next` [`CLAIM`] at a time.
fn claimed<'a>(
    logins: &'a [Login],
    next: &'a AtomicUsize,
    n: usize,
) -> impl Iterator<Item = &'a Login> {
    (0..n.div_ceil(CLAIM))
        .flat_map(move |_| {
            let first = next.fetch_add(CLAIM, Ordering::Relaxed);
            &logins[first..first + CLAIM]
        })
        .take(n)
}

fn reset(accounts: &[Account]) {
    for account in accounts {
        *account.state.lock().unwrap_or_else(PoisonError::into_inner) = TotpAccount::default();
    }
}

/// Runs `work(t, n)` on `threads` threads, `n` logins each, and returns
/// the time from their common start to the last one's end.
fn timed(threads: usize, n: usize, work: impl Fn(usize, usize) + Sync) -> Duration {
    let start = Barrier::new(threads + 1);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (start, work) = (&start, &work);
                scope.spawn(move || {
                    start.wait();
                    work(t, n);
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        for handle in handles {
            handle.join().expect("a login thread");
        }
        began.elapsed()
    })
}

/// Criterion's `iters` logins in rounds of at most `ROUND` per thread,
/// the state reset (untimed) before each round.
fn rounds(iters: u64, threads: usize, mut round: impl FnMut(usize) -> Duration) -> Duration {
    let mut left = usize::try_from(iters).expect("fits");
    let mut total = Duration::ZERO;
    while left > 0 {
        let per_thread = left.div_ceil(threads).min(ROUND);
        total += round(per_thread);
        left = left.saturating_sub(per_thread * threads);
    }
    total
}

fn throughput(c: &mut Criterion) {
    let guard = Guard::default();
    let cores = thread::available_parallelism().map_or(1, usize::from);
    let mut thread_counts = vec![1];
    thread_counts.extend((2..=cores).filter(|n| n.is_power_of_two() || *n == cores));

    let mut group = c.benchmark_group("login_throughput_TOTP_SHA1");
    group.throughput(Throughput::Elements(1));

    let many = accounts(ACCOUNTS);
    for &threads in &thread_counts {
        let logins: Vec<Vec<Login>> = (0..threads)
            .map(|t| many_accounts_logins(&many, t, threads))
            .collect();
        // Every prepared login is accepted, in order, on a fresh state.
        reset(&many);
        for plan in &logins {
            assert!(
                plan.iter()
                    .all(|l| check(&guard, &many[l.account], l).is_accepted())
            );
        }
        group.bench_function(format!("many_accounts/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                rounds(iters, threads, |n| {
                    reset(&many);
                    timed(threads, n, |t, n| {
                        for l in &logins[t][..n] {
                            let _ = black_box(check(&guard, &many[l.account], l));
                        }
                    })
                })
            })
        });
    }

    let hot = accounts(1);
    let hot_logins: Vec<Login> = (0..(ROUND + CLAIM) * cores)
        .map(|k| login(0, NOW + 30 * k as u64, &hot[0].totp))
        .collect();
    let cases: [(&str, HotCheck); 3] = [
        ("hot_account", check_snapshot),
        ("hot_account_locked", check_locked),
        ("hot_account_floor", check_floor),
    ];
    for ((name, check), &threads) in cases
        .into_iter()
        .flat_map(|case| thread_counts.iter().map(move |threads| (case, threads)))
    {
        let next = AtomicUsize::new(0);
        // What the logins of one untimed round came to: a replay is
        // refused after the full check, a login too soon after a failure
        // before any HMAC work, so the mix says what the rate measures.
        let counts = [
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        ];
        reset(&hot);
        timed(threads, ROUND, |_, n| {
            let mut seen = TotpAccount::default();
            for l in claimed(&hot_logins, &next, n) {
                let kind = match check(&guard, &hot[0], l, &mut seen) {
                    Outcome::Accepted(_) => 0,
                    Outcome::Replayed => 1,
                    _ => 2,
                };
                counts[kind].fetch_add(1, Ordering::Relaxed);
            }
        });
        let [accepted, replayed, other] = counts.map(AtomicUsize::into_inner);
        eprintln!(
            "{name}/{threads}_threads: of one round's logins, {accepted} accepted, {replayed} replayed, {other} refused before the check"
        );
        group.bench_function(format!("{name}/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                rounds(iters, threads, |n| {
                    reset(&hot);
                    next.store(0, Ordering::Relaxed);
                    timed(threads, n, |_, n| {
                        let mut seen = TotpAccount::default();
                        for l in claimed(&hot_logins, &next, n) {
                            let _ = black_box(check(&guard, &hot[0], l, &mut seen));
                        }
                    })
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
