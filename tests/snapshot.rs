//! The two-phase TOTP login: the HMAC work on a snapshot, the decision
//! committed on the state as it is then. A commit decides exactly as
//! `verify_totp` on that state would, or asks for a new check, whatever
//! happened to the account in between; racing threads accept a code once.
#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Barrier, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    thread,
};

use proptest::prelude::*;
use twofa::{Error, Guard, Outcome, Secret, ThrottlePolicy, Totp, TotpAccount, TotpMatch};

const NOW: u64 = 1_700_000_000;

fn totp() -> Totp {
    Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

/// A policy that locks after 3 failures for 60 seconds (backing off up to
/// 20 seconds before), so short runs of
/// actions reach every throttle state.
fn guard() -> Guard {
    let policy = ThrottlePolicy::builder()
        .max_delay(20)
        .lockout_after(3)
        .lockout_duration(Some(60))
        .build()
        .unwrap();
    Guard::new(policy)
}

fn code_at_step(step: u64) -> String {
    totp().generate_at_step(step).to_string()
}

/// Something that happens to the account.
#[derive(Clone, Debug)]
enum Action {
    /// Time passes.
    Wait(u64),
    /// A login with the code of the current step plus `offset`.
    Code(i64),
    /// A login with a code of no step near now.
    Wrong,
    /// A login with something that is no code.
    Malformed,
    /// A resynchronisation to a clock `drift` steps off.
    Resync(i64),
    /// An operator's unlock.
    Unlock,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0u64..=90).prop_map(Action::Wait),
        (-3i64..=3).prop_map(Action::Code),
        Just(Action::Wrong),
        Just(Action::Malformed),
        (-8i64..=8).prop_map(Action::Resync),
        Just(Action::Unlock),
    ]
}

/// The code a login at `now` types for `offset` steps away.
fn login_code(now: u64, offset: i64) -> String {
    code_at_step((now / 30).saturating_add_signed(offset))
}

/// Plays `actions` on `account` from time `*now`, as one-phase logins
/// (whatever they decide: only the state they leave matters).
fn play(guard: &Guard, account: &mut TotpAccount, now: &mut u64, actions: &[Action]) {
    let totp = totp();
    for action in actions {
        match action {
            Action::Wait(seconds) => *now += seconds,
            Action::Code(offset) => {
                let _ = guard
                    .verify_totp(&totp, account, &login_code(*now, *offset), *now)
                    .unwrap();
            }
            Action::Wrong => {
                let _ = guard
                    .verify_totp(&totp, account, &code_at_step(0), *now)
                    .unwrap();
            }
            Action::Malformed => {
                let _ = guard.verify_totp(&totp, account, "12a456", *now).unwrap();
            }
            Action::Resync(drift) => {
                let last = (*now / 30).saturating_add_signed(*drift);
                let codes = [code_at_step(last - 1), code_at_step(last)];
                let codes = [codes[0].as_str(), codes[1].as_str()];
                let _ = guard.resync_totp(&totp, account, &codes, *now).unwrap();
            }
            Action::Unlock => account.throttle = Default::default(),
        }
    }
}

/// One login decided in two phases, the state moving (`meanwhile`)
/// between the check and the commit.
fn two_phase(
    guard: &Guard,
    snapshot: &TotpAccount,
    current: &mut TotpAccount,
    code: &str,
    now: u64,
) -> Option<Outcome<TotpMatch>> {
    let check = guard.check_totp_code(&totp(), snapshot, code, now).unwrap();
    guard.commit_totp(&check, current)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_commit_decides_as_verify_totp_on_the_state_it_finds_or_asks_again(
        before in prop::collection::vec(action(), 0..12),
        meanwhile in prop::collection::vec(action(), 0..6),
        offset in -3i64..=3,
        wrong in any::<bool>(),
        late in 0u64..=90,
    ) {
        let guard = guard();
        let mut snapshot = TotpAccount::default();
        let mut time = NOW;
        play(&guard, &mut snapshot, &mut time, &before);
        let mut current = snapshot;
        play(&guard, &mut current, &mut time, &meanwhile);
        let now = time + late;
        let code = if wrong { code_at_step(0) } else { login_code(now, offset) };

        let mut committed = current;
        let outcome = two_phase(&guard, &snapshot, &mut committed, &code, now);
        let mut verified = current;
        let expected = guard.verify_totp(&totp(), &mut verified, &code, now).unwrap();
        match outcome {
            Some(outcome) => {
                prop_assert_eq!(outcome, expected);
                prop_assert_eq!(committed, verified);
            }
            None => {
                // Refused only when the work compared other codes than
                // the current state calls for, and then nothing moved.
                prop_assert_eq!(committed, current);
                let locked = |state: &TotpAccount| guard.throttle().check(&state.throttle, now).is_err();
                prop_assert!(snapshot.drift != current.drift || (locked(&snapshot) && !locked(&current)));
            }
        }
        // On its own snapshot, a check is always taken.
        let mut own = current;
        prop_assert_eq!(two_phase(&guard, &current, &mut own, &code, now), Some(expected));
    }
}

#[test]
fn a_code_another_login_accepted_first_is_replayed_and_counted() {
    let guard = guard();
    let code = login_code(NOW, 0);
    let snapshot = TotpAccount::default();
    let mut current = snapshot;
    assert!(
        guard
            .verify_totp(&totp(), &mut current, &code, NOW)
            .unwrap()
            .is_accepted()
    );
    let won = current;
    assert_eq!(
        two_phase(&guard, &snapshot, &mut current, &code, NOW + 1),
        Some(Outcome::Replayed)
    );
    assert_eq!(current.throttle.failures, 1);
    assert_eq!(current.last_step, won.last_step);
}

#[test]
fn a_drift_learned_meanwhile_asks_for_a_new_check_and_writes_nothing() {
    let guard = guard();
    let snapshot = TotpAccount::default();
    let mut current = snapshot;
    let last = NOW / 30 + 5;
    let codes = [code_at_step(last - 1), code_at_step(last)];
    let codes = [codes[0].as_str(), codes[1].as_str()];
    let resynced = guard
        .resync_totp(&totp(), &mut current, &codes, NOW)
        .unwrap();
    assert!(resynced.is_accepted());
    assert_eq!(current.drift, 5);
    let moved = current;
    // The code of the drifted clock's next step: only a check made with
    // the drift finds it.
    let code = code_at_step(last + 1);
    assert_eq!(
        two_phase(&guard, &snapshot, &mut current, &code, NOW + 30),
        None
    );
    assert_eq!(current, moved);
    let again = guard
        .check_totp_code(&totp(), &current, &code, NOW + 30)
        .unwrap();
    assert!(
        guard
            .commit_totp(&again, &mut current)
            .unwrap()
            .is_accepted()
    );
}

#[test]
fn a_lock_set_meanwhile_refuses_and_a_lock_lifted_meanwhile_asks_again() {
    let guard = guard();
    let code = login_code(NOW, 0);
    let open = TotpAccount::default();
    let mut locked = open;
    for i in 0..3 {
        let wrong = guard
            .verify_totp(&totp(), &mut locked, &code_at_step(0), NOW + 10 * i)
            .unwrap();
        assert!(!wrong.is_accepted());
    }
    let now = NOW + 30;
    assert!(guard.throttle().check(&locked.throttle, now).is_err());
    // Locked after the snapshot: the commit refuses, as verify_totp would.
    let mut current = locked;
    let outcome = two_phase(&guard, &open, &mut current, &code, now).unwrap();
    assert!(matches!(outcome, Outcome::Locked { .. }), "{outcome:?}");
    assert_eq!(current, locked);
    // Locked in the snapshot, unlocked since: nothing was compared.
    let mut current = open;
    assert_eq!(two_phase(&guard, &locked, &mut current, &code, now), None);
    assert_eq!(current, open);
}

#[test]
fn a_time_before_t0_is_an_error_of_the_check() {
    let totp = Totp::builder(Secret::from_bytes(b"12345678901234567890").unwrap())
        .t0(NOW)
        .build()
        .unwrap();
    let check = guard().check_totp_code(&totp, &TotpAccount::default(), "123456", NOW - 1);
    assert_eq!(check, Err(Error::TimeBeforeEpoch));
}

/// Logs in through the snapshot pattern on a mutex: the lock is held for
/// the copy and for the commit, never through the HMAC work.
fn login(
    guard: &Guard,
    totp: &Totp,
    account: &Mutex<TotpAccount>,
    code: &str,
    now: u64,
) -> Outcome<TotpMatch> {
    loop {
        let snapshot = *account.lock().unwrap();
        let check = guard.check_totp_code(totp, &snapshot, code, now).unwrap();
        if let Some(outcome) = guard.commit_totp(&check, &mut account.lock().unwrap()) {
            return outcome;
        }
    }
}

#[test]
fn racing_threads_accept_one_code_once_and_each_step_at_most_once() {
    const THREADS: usize = 4;
    const ROUNDS: u64 = 200;
    let (guard, totp) = (Guard::default(), Arc::new(totp()));
    // One code raced by every thread, round after round.
    let account = Arc::new(Mutex::new(TotpAccount::default()));
    for round in 0..ROUNDS {
        let now = NOW + 30 * round;
        let code = Arc::new(totp.generate_at(now).unwrap().to_string());
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (totp, account, code, barrier) = (
                    Arc::clone(&totp),
                    Arc::clone(&account),
                    Arc::clone(&code),
                    Arc::clone(&barrier),
                );
                thread::spawn(move || {
                    barrier.wait();
                    login(&guard, &totp, &account, &code, now)
                })
            })
            .collect();
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let accepted = outcomes.iter().filter(|o| o.is_accepted()).count();
        assert_eq!(accepted, 1, "round {round}: {outcomes:?}");
        assert!(outcomes.iter().all(|o| {
            o.is_accepted() || matches!(o, Outcome::Replayed | Outcome::TooSoon { .. })
        }));
    }
    // One hot account, each login taking the next step: a step is
    // accepted at most once, and a login overtaken is a replay.
    let account = Arc::new(Mutex::new(TotpAccount::default()));
    let next = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (totp, account, next) =
                (Arc::clone(&totp), Arc::clone(&account), Arc::clone(&next));
            thread::spawn(move || {
                let mut steps = Vec::new();
                for _ in 0..ROUNDS {
                    let now = NOW + 30 * next.fetch_add(1, Ordering::SeqCst);
                    let code = totp.generate_at(now).unwrap().to_string();
                    match login(&guard, &totp, &account, &code, now) {
                        Outcome::Accepted(found) => steps.push(found.step),
                        Outcome::Replayed | Outcome::TooSoon { .. } => {}
                        other => panic!("{other:?}"),
                    }
                }
                steps
            })
        })
        .collect();
    let mut accepted = BTreeSet::new();
    for handle in handles {
        for step in handle.join().unwrap() {
            assert!(accepted.insert(step), "step {step} accepted twice");
        }
    }
    assert!(!accepted.is_empty());
}
