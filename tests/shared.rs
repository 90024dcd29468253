//! The shared-store check over an in-process compare-and-swap store: many
//! threads, as many service instances would, race one code and one
//! guessing attack; lost races are decided again.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used)]

use std::{
    convert::Infallible,
    future::Future,
    pin::pin,
    sync::{
        Arc, Barrier,
        atomic::{AtomicU32, Ordering},
    },
    task::{Context, Poll, Waker},
    thread,
};

use twofa::{
    AccountStore, Guard, MemoryAccountStore, Outcome, Secret, SharedError, ThrottlePolicy, Totp,
    TotpAccount, Versioned,
};

const NOW: u64 = 1_700_000_000;

/// Runs a future whose awaits are all ready (the test store never waits).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// The crate's in-memory store, whose next `conflicts` saves fail as if
/// another instance had saved first.
struct Store<T = TotpAccount> {
    inner: MemoryAccountStore<T>,
    conflicts: AtomicU32,
}

impl<T> Default for Store<T> {
    fn default() -> Self {
        Self {
            inner: MemoryAccountStore::new(),
            conflicts: AtomicU32::default(),
        }
    }
}

impl<T: Clone + Default + Send + Sync> AccountStore<T> for Store<T> {
    type Error = Infallible;

    async fn load(&self, account: &str) -> Result<Versioned<T>, Infallible> {
        self.inner.load(account).await
    }

    async fn save(&self, account: &str, expected: u64, state: &T) -> Result<bool, Infallible> {
        if self.conflicts.load(Ordering::SeqCst) > 0 {
            self.conflicts.fetch_sub(1, Ordering::SeqCst);
            return Ok(false);
        }
        self.inner.save(account, expected, state).await
    }
}

fn totp() -> Totp {
    Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn the_check_is_a_send_future() {
    let (guard, store, totp) = (Guard::default(), Store::default(), totp());
    let future = guard.verify_totp_shared(&totp, &store, "alice", "123456", NOW);
    assert_send(&future);
}

/// Threads released together, each running `attempt` `rounds` times.
fn race<T: Send + 'static>(
    threads: usize,
    rounds: usize,
    attempt: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(threads));
    let attempt = Arc::new(attempt);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, attempt) = (barrier.clone(), attempt.clone());
            thread::spawn(move || {
                barrier.wait();
                (0..rounds).map(|round| attempt(round)).collect::<Vec<T>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

#[test]
fn one_code_raced_by_many_instances_is_accepted_once() {
    let store = Arc::new(Store::default());
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap(),
    );
    let code = totp().generate_at(NOW).unwrap().to_string();
    // 80 attempts: replays count as failures, and stay under the lockout.
    let outcomes = race(8, 10, {
        let store = store.clone();
        move |_| block_on(guard.verify_totp_shared(&totp(), &*store, "alice", &code, NOW)).unwrap()
    });
    let accepted = outcomes.iter().filter(|o| o.is_accepted()).count();
    assert_eq!(accepted, 1, "{} attempts", outcomes.len());
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_accepted() || *o == Outcome::Replayed)
    );
}

#[test]
fn a_guessing_attack_from_many_instances_stops_at_the_lockout() {
    let store = Arc::new(Store::default());
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(10)
            .build()
            .unwrap(),
    );
    let wrong = totp().generate_at(NOW + 86_400).unwrap().to_string();
    let outcomes = race(8, 25, {
        let store = store.clone();
        move |_| block_on(guard.verify_totp_shared(&totp(), &*store, "alice", &wrong, NOW)).unwrap()
    });
    let compared = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Invalid { .. }))
        .count();
    assert_eq!(compared, 10, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Invalid { .. } | Outcome::Locked { until: None }))
    );
    assert_eq!(
        block_on(store.load("alice"))
            .unwrap()
            .state
            .throttle
            .failures,
        10
    );
}

#[test]
fn a_lost_race_is_decided_again_and_endless_ones_give_up() {
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .build()
            .unwrap(),
    );
    let store = Store::default();
    let code = totp().generate_at(NOW).unwrap().to_string();
    store
        .conflicts
        .store(Guard::MAX_SAVE_ATTEMPTS - 1, Ordering::SeqCst);
    let outcome = block_on(guard.verify_totp_shared(&totp(), &store, "alice", &code, NOW)).unwrap();
    assert!(outcome.is_accepted());
    // Decided again on the saved state: now a replay.
    store
        .conflicts
        .store(Guard::MAX_SAVE_ATTEMPTS, Ordering::SeqCst);
    let next = totp().generate_at(NOW + 30).unwrap().to_string();
    assert_eq!(
        block_on(guard.verify_totp_shared(&totp(), &store, "alice", &next, NOW + 30)),
        Err(SharedError::Contention)
    );
    assert_eq!(
        block_on(guard.verify_totp_shared(&totp(), &store, "alice", &code, NOW + 1)),
        Ok(Outcome::Replayed)
    );
    // Refusals that change nothing are not saved.
    assert_eq!(
        block_on(guard.verify_totp_shared(&totp(), &store, "alice", "12345", NOW + 1)),
        Ok(Outcome::Malformed)
    );
    let late_epoch = Totp::builder(Secret::from_bytes(b"12345678901234567890").unwrap())
        .t0(u64::MAX)
        .build()
        .unwrap();
    assert_eq!(
        block_on(guard.verify_totp_shared(&late_epoch, &store, "alice", &code, NOW + 1)),
        Err(SharedError::Check(twofa::Error::TimeBeforeEpoch))
    );
}

/// One pending login, completed by many instances at once (the same
/// ticket and code sent to each): exactly one completes it.
#[cfg(feature = "alloc")]
#[test]
fn one_ticket_raced_by_many_instances_completes_one_login() {
    use twofa::{AccountState, Binding, DigestKey, FirstFactor, SecondFactor, TicketPolicy};

    let store = Arc::new(Store::<AccountState>::default());
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap(),
    );
    let key = DigestKey::new(1, [4; 32]);
    let alice = Binding::new("alice", "login");
    let ticket = block_on(
        guard.decide_shared(&*store, "alice", |state: &mut AccountState| {
            guard.begin_login(
                state,
                &TicketPolicy::default(),
                &key,
                &mut getrandom::SysRng,
                alice,
                FirstFactor::Password,
                [SecondFactor::Totp].into_iter().collect(),
                NOW,
                || true,
            )
        }),
    )
    .unwrap();
    let Outcome::Accepted(ticket) = ticket else {
        panic!("{ticket:?}")
    };
    let ticket = ticket.to_string();
    let code = totp().generate_at(NOW + 10).unwrap().to_string();
    let outcomes = race(8, 5, {
        let store = store.clone();
        move |_| {
            block_on(
                guard.decide_shared(&*store, "alice", |state: &mut AccountState| {
                    guard.complete_login(
                        state,
                        std::slice::from_ref(&key),
                        alice,
                        &ticket,
                        SecondFactor::Totp,
                        NOW + 10,
                        |guard, state| guard.verify_totp(&totp(), &mut state.totp, &code, NOW + 10),
                    )
                }),
            )
            .unwrap()
        }
    });
    let accepted = outcomes.iter().filter(|o| o.is_accepted()).count();
    assert_eq!(accepted, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_accepted() || *o == Outcome::Expired)
    );
}
