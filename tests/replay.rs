//! Replay: a code is accepted once, an older code after a newer one not at
//! all, and racing threads cannot get the same code in twice.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used)]

use std::{
    sync::{
        Arc, Barrier,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use twofa::{
    Acceptance, Error, Hotp, MemoryReplayStore, ReplayStore, Secret,
    Sequence::{HotpCounter, TotpStep},
    StoreFull, Totp,
};

/// A demo secret; never a real one.
fn totp() -> Totp {
    Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

#[test]
fn a_correct_code_verifies_once() {
    let totp = totp();
    let store = MemoryReplayStore::new();
    let now = 1_700_000_000;
    let code = totp.generate_at(now).unwrap().to_string();
    let found = totp
        .verify_once_at(&store, "alice", &code, now)
        .unwrap()
        .unwrap();
    assert_eq!(found.step, now / 30);
    assert_eq!(store.last_accepted("alice", TotpStep), Some(now / 30));
    // Again, within the same step and later while still in the window.
    for later in [now, now + 1, now + 30] {
        assert_eq!(
            totp.verify_once_at(&store, "alice", &code, later).unwrap(),
            Err(Error::Replayed)
        );
    }
    // Long after, the code is simply wrong.
    assert_eq!(
        totp.verify_once_at(&store, "alice", &code, now + 3600)
            .unwrap(),
        Err(Error::InvalidCode)
    );
    // Another account is not affected.
    assert!(
        totp.verify_once_at(&store, "bob", &code, now)
            .unwrap()
            .is_ok()
    );
}

#[test]
fn an_older_code_after_a_newer_one_is_refused() {
    let totp = totp();
    let store = MemoryReplayStore::new();
    let now = 1_700_000_000;
    let current = totp.generate_at(now).unwrap().to_string();
    let previous = totp.generate_at(now - 30).unwrap().to_string();
    assert!(
        totp.verify_once_at(&store, "alice", &current, now)
            .unwrap()
            .is_ok()
    );
    // The previous step's code is inside the window, and still refused.
    assert!(totp.verify_at(&previous, now).is_ok());
    assert_eq!(
        totp.verify_once_at(&store, "alice", &previous, now)
            .unwrap(),
        Err(Error::Replayed)
    );
    // The next step's code is accepted.
    let next = totp.generate_at(now + 30).unwrap().to_string();
    assert_eq!(
        totp.verify_once_at(&store, "alice", &next, now + 30)
            .unwrap()
            .unwrap()
            .step,
        now / 30 + 1
    );
}

#[test]
fn wrong_and_malformed_codes_leave_the_store_alone() {
    let totp = totp();
    let store = MemoryReplayStore::new();
    let now = 1_700_000_000;
    let wrong = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| totp.verify_at(c, now).is_err())
        .unwrap();
    assert_eq!(
        totp.verify_once_at(&store, "alice", &wrong, now).unwrap(),
        Err(Error::InvalidCode)
    );
    assert_eq!(
        totp.verify_once_at(&store, "alice", "12", now).unwrap(),
        Err(Error::MalformedCode)
    );
    assert!(store.is_empty());
}

#[test]
fn hotp_counters_are_accepted_once() {
    let hotp = Hotp::new(Secret::from_bytes(b"12345678901234567890").unwrap());
    let store = MemoryReplayStore::new();
    // RFC 4226 Appendix D, counter 1.
    assert_eq!(
        hotp.verify_once(&store, "token-7", "287082", 0)
            .unwrap()
            .unwrap()
            .counter,
        1
    );
    assert_eq!(
        hotp.verify_once(&store, "token-7", "287082", 0).unwrap(),
        Err(Error::Replayed)
    );
    assert_eq!(
        hotp.verify_once(&store, "token-7", "755224", 0).unwrap(),
        Err(Error::Replayed)
    );
    assert_eq!(
        hotp.verify_once(&store, "token-7", "359152", 2)
            .unwrap()
            .unwrap()
            .counter,
        2
    );
}

#[test]
fn the_store_is_bounded_and_fails_closed() {
    let store = MemoryReplayStore::with_capacity(2);
    assert_eq!(store.accept("a", TotpStep, 5), Ok(Acceptance::Accepted));
    assert_eq!(store.accept("b", TotpStep, 5), Ok(Acceptance::Accepted));
    assert_eq!(store.accept("c", TotpStep, 5), Err(StoreFull));
    // Existing accounts keep working when full.
    assert_eq!(store.accept("a", TotpStep, 6), Ok(Acceptance::Accepted));
    assert_eq!(store.accept("b", TotpStep, 5), Ok(Acceptance::Replayed));
    assert_eq!(store.len(), 2);
    // Marks below the oldest step still verifiable can go.
    store.forget_totp_before(6);
    assert_eq!(store.len(), 1);
    assert_eq!(store.last_accepted("b", TotpStep), None);
    assert_eq!(store.accept("c", TotpStep, 1), Ok(Acceptance::Accepted));
    // A store failure reaches the caller as the outer error.
    let totp = totp();
    let full = MemoryReplayStore::with_capacity(0);
    let code = totp.generate_at(59).unwrap().to_string();
    assert_eq!(
        totp.verify_once_at(&full, "alice", &code, 59),
        Err(StoreFull)
    );
}

#[test]
fn racing_threads_accept_a_code_exactly_once() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 200;
    let totp = Arc::new(totp());
    let store = Arc::new(MemoryReplayStore::new());
    let accepted = Arc::new(AtomicUsize::new(0));
    for round in 0..ROUNDS {
        let now = 1_700_000_000 + 30 * round as u64;
        let code = Arc::new(totp.generate_at(now).unwrap().to_string());
        let barrier = Arc::new(Barrier::new(THREADS));
        let before = accepted.load(Ordering::SeqCst);
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (totp, store, code, barrier, accepted) = (
                    Arc::clone(&totp),
                    Arc::clone(&store),
                    Arc::clone(&code),
                    Arc::clone(&barrier),
                    Arc::clone(&accepted),
                );
                thread::spawn(move || {
                    barrier.wait();
                    match totp.verify_once_at(&*store, "alice", &code, now).unwrap() {
                        Ok(_) => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(e) => assert_eq!(e, Error::Replayed),
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(accepted.load(Ordering::SeqCst), before + 1, "round {round}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn the_trait_works_through_references_and_trait_objects() {
    let store = MemoryReplayStore::new();
    let dynamic: &dyn ReplayStore<Error = StoreFull> = &store;
    assert_eq!(dynamic.accept("a", TotpStep, 1), Ok(Acceptance::Accepted));
    fn through<S: ReplayStore>(store: S) -> Result<Acceptance, S::Error> {
        store.accept("a", TotpStep, 1)
    }
    assert_eq!(through(&store), Ok(Acceptance::Replayed));
}

#[test]
fn totp_steps_and_hotp_counters_are_kept_apart_and_pruning_keeps_counters() {
    let store = MemoryReplayStore::new();
    let hotp = Hotp::new(Secret::from_bytes(b"12345678901234567890").unwrap());
    let totp = totp();
    let now = 1_700_000_000;
    // Alice uses an HOTP token (counter 5) and a TOTP app on the same store.
    assert!(
        hotp.verify_once(&store, "alice", &hotp.generate(5).to_string(), 5)
            .unwrap()
            .is_ok()
    );
    let code = totp.generate_at(now).unwrap().to_string();
    assert!(
        totp.verify_once_at(&store, "alice", &code, now)
            .unwrap()
            .is_ok()
    );
    // A TOTP step far above counter 5 does not refuse counter 6, nor the reverse.
    assert!(
        hotp.verify_once(&store, "alice", &hotp.generate(6).to_string(), 6)
            .unwrap()
            .is_ok()
    );
    assert_eq!(store.last_accepted("alice", HotpCounter), Some(6));
    assert_eq!(store.last_accepted("alice", TotpStep), Some(now / 30));
    // Routine pruning of TOTP marks, a day later, leaves the counter: the
    // used HOTP code is still refused.
    store.forget_unreachable(&totp, now + 86_400, 20);
    assert_eq!(store.last_accepted("alice", TotpStep), None);
    assert_eq!(
        hotp.verify_once(&store, "alice", &hotp.generate(6).to_string(), 6)
            .unwrap(),
        Err(Error::Replayed)
    );
}

#[test]
fn pruning_counts_the_drift_and_resynchronisation_reach() {
    let totp = totp();
    let now = 1_700_000_000;
    let step = now / 30;
    // One behind, 20 steps of drift (or of the 600 s resynchronisation), 2 for a run.
    assert_eq!(
        totp.earliest_step_checked(now, 0).unwrap(),
        step - 1 - 20 - 2
    );
    assert_eq!(
        totp.earliest_step_checked(now, 100).unwrap(),
        step - 1 - 100 - 2
    );
    assert_eq!(totp.earliest_step_checked(30, 100).unwrap(), 0);
    assert_eq!(
        Totp::builder(Secret::from_bytes(b"12345678901234567890").unwrap())
            .t0(60)
            .build()
            .unwrap()
            .earliest_step_checked(0, 0),
        Err(Error::TimeBeforeEpoch)
    );
    // A mark a drifted check can still reach is kept.
    let store = MemoryReplayStore::new();
    store.accept("slow", TotpStep, step - 15).unwrap();
    store.forget_unreachable(&totp, now, 20);
    assert_eq!(store.last_accepted("slow", TotpStep), Some(step - 15));
    store.forget_unreachable(&totp, now + 30 * 10, 20);
    assert_eq!(store.last_accepted("slow", TotpStep), None);
}
