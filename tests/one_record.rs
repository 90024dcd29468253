//! One record per account: the HOTP counter and the sealed secrets live in
//! `AccountState` beside everything else, so HOTP counts on the one
//! throttle, a ticket and the counter it completes are spent in one save,
//! and an enrollment changes the secret in the same compare-and-swap as
//! the decisions made with it.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used)]

#[path = "support/login.rs"]
mod login;

use std::{
    convert::Infallible,
    future::Future,
    pin::pin,
    sync::{Arc, Barrier, Mutex},
    task::{Context, Poll, Waker},
    thread,
};

use getrandom::SysRng;
use login::{NOW, alice, first_step, keys};
use twofa::{
    AccountState, AccountStore, EnrollmentNames, Guard, Hotp, Keyring, MemoryAccountStore,
    OobPolicy, Outcome, SealingKey, SecondFactor, SecondFactors, Secret, SecretKind,
    ThrottlePolicy, Totp, Versioned,
};

const NAMES: EnrollmentNames<'static> = EnrollmentNames {
    pending: "totp-pending",
    active: "totp",
};

/// No waits between failures, the lock at 100: only the count matters.
fn guard() -> Guard {
    Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(100)
            .build()
            .unwrap(),
    )
}

fn hotp() -> Hotp {
    Hotp::new(Secret::from_bytes(b"12345678901234567890").unwrap())
}

fn keyring() -> Keyring {
    Keyring::new(SealingKey::new(1, [3; 32]))
}

fn seal(secret: &Secret, name: &str) -> twofa::Sealed {
    let binding = twofa::Binding::new("alice", name);
    keyring()
        .seal_secret(&mut SysRng, SecretKind::Totp, secret, binding)
        .unwrap()
}

/// Runs a future whose awaits are all ready (the stores here never wait).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

#[test]
fn wrong_hotp_codes_count_on_the_one_throttle_with_totp_and_sms_failures() {
    let guard = guard();
    let totp = login::totp();
    let mut state = AccountState::new();
    let (_, mut challenge) = OobPolicy::default()
        .issue(&keys()[0], &mut SysRng, alice(), NOW)
        .unwrap();
    // A code no counter near 0 and no step near NOW gives.
    let wrong = "000000";
    assert!(hotp().verify(wrong, 0).is_err() && totp.verify_at(wrong, NOW).is_err());
    let (mut compared, mut hotp_tries) = (0, 0);
    for attempt in 0..300 {
        let outcome = match attempt % 3 {
            // Two in three are HOTP: 200 wrong HOTP codes in all.
            0 | 1 => {
                hotp_tries += 1;
                guard
                    .verify_account_hotp(&hotp(), &mut state, wrong, NOW)
                    .unwrap()
                    .map(|_| ())
            }
            _ if attempt % 2 == 0 => guard
                .verify_totp(&totp, &mut state.totp, wrong, NOW)
                .unwrap()
                .map(|_| ()),
            _ => guard
                .verify_oob(
                    state.throttle(),
                    &mut challenge,
                    &keys(),
                    alice(),
                    wrong,
                    NOW,
                )
                .unwrap(),
        };
        match outcome {
            Outcome::Invalid { .. } => compared += 1,
            Outcome::Locked { .. } | Outcome::Expired => {}
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    assert_eq!(hotp_tries, 200);
    assert_eq!(compared, 100, "every factor's failures on one count");
    assert_eq!(state.totp.throttle.failures, 100);
    assert_eq!(state.hotp_counter, 0, "no wrong code moves the counter");
    // Locked for every factor now, the right HOTP code included.
    let right = hotp().generate(0).to_string();
    let outcome = guard
        .verify_account_hotp(&hotp(), &mut state, &right, NOW)
        .unwrap();
    assert!(matches!(outcome, Outcome::Locked { .. }), "{outcome:?}");
}

#[test]
fn a_right_hotp_code_completes_the_login_spends_the_ticket_and_forgets_failures() {
    let guard = guard();
    let mut state = AccountState::new();
    let allowed: SecondFactors = [SecondFactor::Hotp].into_iter().collect();
    let hotp_login = |state: &mut AccountState, ticket: &str, code: &str| {
        guard
            .complete_login(
                state,
                &keys(),
                alice(),
                ticket,
                SecondFactor::Hotp,
                NOW,
                |guard, state| guard.verify_account_hotp(&hotp(), state, code, NOW),
            )
            .unwrap()
    };
    // A person who mistypes once per login, ten times over: never locked.
    for counter in 0..10u64 {
        let ticket = first_step(&guard, &mut state, allowed, NOW);
        assert!(matches!(
            hotp_login(&mut state, &ticket, "000000"),
            Outcome::Invalid { .. }
        ));
        assert_eq!(state.totp.throttle.failures, 1);
        let code = hotp().generate(counter).to_string();
        let outcome = hotp_login(&mut state, &ticket, &code);
        assert!(outcome.is_accepted(), "login {counter}: {outcome:?}");
        assert_eq!(state.totp.throttle.failures, 0, "a completed login forgets");
        assert_eq!(state.hotp_counter, counter + 1);
        // The same ticket, the next code: the ticket is spent.
        let next = hotp().generate(counter + 1).to_string();
        assert_eq!(hotp_login(&mut state, &ticket, &next), Outcome::Expired);
        assert_eq!(state.hotp_counter, counter + 1);
    }
}

/// A pending enrollment of a fresh secret for alice: the state and the
/// secret's code at `NOW`.
fn pending_enrollment() -> (AccountState, Secret, String) {
    let secret = Secret::generate(&mut SysRng).unwrap();
    let mut state = AccountState::new();
    state
        .secrets
        .insert(NAMES.pending, seal(&secret, NAMES.pending))
        .unwrap();
    let code = Totp::new(secret.clone())
        .generate_at(NOW)
        .unwrap()
        .to_string();
    (state, secret, code)
}

fn confirm(guard: &Guard, state: &mut AccountState, code: &str, now: u64) -> Outcome<()> {
    guard
        .confirm_totp(
            state,
            &keyring(),
            &mut SysRng,
            "alice",
            NAMES,
            |secret| Ok(Totp::new(secret)),
            code,
            now,
        )
        .unwrap()
        .map(|_| ())
}

#[test]
fn four_concurrent_confirms_with_one_code_accept_exactly_one() {
    for _ in 0..20 {
        let store = Arc::new(MemoryAccountStore::<AccountState>::new());
        let (state, secret, code) = pending_enrollment();
        assert!(block_on(store.save("alice", 0, &state)).unwrap());
        let barrier = Arc::new(Barrier::new(4));
        let outcomes: Vec<Outcome<()>> = (0..4)
            .map(|_| {
                let (store, barrier, code) = (store.clone(), barrier.clone(), code.clone());
                thread::spawn(move || {
                    let guard = guard();
                    barrier.wait();
                    block_on(
                        guard.decide_shared(&*store, "alice", |state: &mut AccountState| {
                            guard
                                .confirm_totp(
                                    state,
                                    &keyring(),
                                    &mut SysRng,
                                    "alice",
                                    NAMES,
                                    |secret| Ok(Totp::new(secret)),
                                    &code,
                                    NOW,
                                )
                                .map(|outcome| outcome.map(|_| ()))
                        }),
                    )
                    .unwrap()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect();
        let accepted = outcomes.iter().filter(|o| o.is_accepted()).count();
        assert_eq!(accepted, 1, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| o.is_accepted() || *o == Outcome::Expired),
            "the others find no enrollment pending: {outcomes:?}"
        );
        let Versioned { state, .. } = block_on(store.load("alice")).unwrap();
        assert_eq!(state.credential_version, 1);
        assert_eq!(
            state
                .secrets
                .iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>(),
            ["totp"]
        );
        let active = state
            .secrets
            .open(&keyring(), "alice", "totp", SecretKind::Totp)
            .unwrap();
        assert_eq!(active.unwrap().expose_bytes(), secret.expose_bytes());
    }
}

#[test]
fn a_confirm_checks_the_code_under_the_throttle_and_marks_its_step_used() {
    let guard = guard();
    let (mut state, secret, code) = pending_enrollment();
    let wrong = Totp::new(secret)
        .generate_at(NOW + 3600)
        .unwrap()
        .to_string();
    assert!(matches!(
        confirm(&guard, &mut state, &wrong, NOW),
        Outcome::Invalid { .. }
    ));
    assert_eq!(state.totp.throttle.failures, 1);
    assert!(state.secrets.contains(NAMES.pending) && !state.secrets.contains(NAMES.active));
    assert_eq!(confirm(&guard, &mut state, "12", NOW), Outcome::Malformed);
    assert!(confirm(&guard, &mut state, &code, NOW).is_accepted());
    assert_eq!(state.totp.throttle.failures, 0);
    assert_eq!(state.totp.last_step, Some(NOW / 30));
    // A second enrollment confirmed with a code of a step already used on
    // the account is a replay, counted.
    let (pending, _, same_step) = pending_enrollment();
    state.secrets = pending.secrets.clone();
    state
        .secrets
        .insert(
            "totp",
            seal(&Secret::generate(&mut SysRng).unwrap(), "totp"),
        )
        .unwrap();
    assert_eq!(
        confirm(&guard, &mut state, &same_step, NOW),
        Outcome::Replayed
    );
    assert_eq!(state.totp.throttle.failures, 1);
    // A pending secret moved under the active name does not open there.
    let mut moved = AccountState::new();
    let sealed = pending.secrets.get(NAMES.pending).unwrap().clone();
    moved.secrets.insert(NAMES.active, sealed).unwrap();
    assert!(
        moved
            .secrets
            .open(&keyring(), "alice", NAMES.active, SecretKind::Totp)
            .is_err()
    );
    // Locked: nothing is opened or compared.
    state.totp.throttle.failures = 100;
    assert!(matches!(
        confirm(&guard, &mut state, &same_step, NOW + 30),
        Outcome::Locked { .. }
    ));
}

/// What another instance does to the stored state.
type Meanwhile = Box<dyn FnOnce(&mut AccountState) + Send>;

/// A store whose first save runs `meanwhile` on the stored state first, as
/// another instance saving between this one's load and its save would.
struct Interleaved {
    inner: MemoryAccountStore<AccountState>,
    meanwhile: Mutex<Option<Meanwhile>>,
}

impl AccountStore<AccountState> for Interleaved {
    type Error = Infallible;

    async fn load(&self, account: &str) -> Result<Versioned<AccountState>, Infallible> {
        self.inner.load(account).await
    }

    async fn save(
        &self,
        account: &str,
        expected: u64,
        state: &AccountState,
    ) -> Result<bool, Infallible> {
        let meanwhile = self.meanwhile.lock().unwrap().take();
        if let Some(meanwhile) = meanwhile {
            let Versioned { mut state, version } = self.inner.load(account).await?;
            meanwhile(&mut state);
            assert!(self.inner.save(account, version, &state).await?);
        }
        self.inner.save(account, expected, state).await
    }
}

#[test]
fn a_login_decided_after_a_secret_is_replaced_is_refused_with_the_old_secret() {
    let old = Secret::generate(&mut SysRng).unwrap();
    let (mut state, new, new_code) = pending_enrollment();
    state.secrets.insert("totp", seal(&old, "totp")).unwrap();
    let old_code = Totp::new(old).generate_at(NOW + 30).unwrap().to_string();
    let store = Interleaved {
        inner: MemoryAccountStore::new(),
        meanwhile: Mutex::new(None),
    };
    assert!(block_on(store.inner.save("alice", 0, &state)).unwrap());
    // The login loads the state with the old secret and decides; before
    // it saves, another instance confirms the new secret.
    *store.meanwhile.lock().unwrap() = Some(Box::new(move |state: &mut AccountState| {
        assert!(confirm(&guard(), state, &new_code, NOW).is_accepted());
    }));
    let guard = guard();
    let login = |store: &Interleaved, code: &str| {
        block_on(
            guard.decide_shared(store, "alice", |state: &mut AccountState| {
                let secret = state
                    .secrets
                    .open(&keyring(), "alice", "totp", SecretKind::Totp)?;
                let totp = Totp::new(secret.ok_or(twofa::Error::MissingSecret)?);
                guard.verify_totp(&totp, &mut state.totp, code, NOW + 30)
            }),
        )
        .unwrap()
    };
    let outcome = login(&store, &old_code);
    assert!(
        matches!(outcome, Outcome::Invalid { .. }),
        "decided again on the new secret: {outcome:?}"
    );
    let new_later = Totp::new(new).generate_at(NOW + 30).unwrap().to_string();
    assert!(login(&store, &new_later).is_accepted());
}

#[cfg(feature = "serde")]
#[test]
fn a_state_is_bounded_while_it_is_read_whatever_store_it_came_from() {
    let guard = guard();
    let mut state = AccountState::new();
    for i in 0..AccountState::MAX_PENDING as u64 {
        first_step(
            &guard,
            &mut state,
            [SecondFactor::Totp].into_iter().collect(),
            NOW + i,
        );
    }
    let full = serde_json::to_value(&state).unwrap();
    assert_eq!(
        serde_json::from_value::<AccountState>(full.clone()).unwrap(),
        state
    );
    // One pending login more than the core keeps: refused.
    let mut over = full.clone();
    let first = over["pending"][0].clone();
    over["pending"].as_array_mut().unwrap().push(first.clone());
    let refused = serde_json::from_value::<AccountState>(over).unwrap_err();
    assert!(refused.to_string().contains("at most 8"), "{refused}");
    // 40,000 of them: refused at the ninth, quickly, never all allocated.
    let mut huge = full;
    *huge["pending"].as_array_mut().unwrap() = vec![first; 40_000];
    let text = huge.to_string();
    let started = std::time::Instant::now();
    assert!(serde_json::from_str::<AccountState>(&text).is_err());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_services_own_record_is_bound_to_its_account_by_a_keyed_digest() {
    use twofa::{Binding, DigestKey};
    let keys = [DigestKey::new(3, [5; 32])];
    let alice = Binding::new("alice", "user");
    let parts: [&[u8]; 2] = [b"$argon2id$hash", b"+441234567890"];
    let digest = keys[0].record_digest(alice, &parts);
    let matches = |binding, parts: &[&[u8]], stored: &[u8; 32]| {
        DigestKey::record_digest_matches(&keys, 3, binding, parts, stored).unwrap()
    };
    assert!(matches(alice, &parts, &digest));
    // Copied into another account's row, or to another purpose: refused.
    assert!(!matches(Binding::new("bob", "user"), &parts, &digest));
    assert!(!matches(Binding::new("alice", "other"), &parts, &digest));
    // Parts are length-prefixed: moving a byte across them changes it.
    let moved: [&[u8]; 2] = [b"$argon2id$has", b"h+441234567890"];
    assert!(!matches(alice, &moved, &digest));
    let mut edited = digest;
    edited[0] ^= 1;
    assert!(!matches(alice, &parts, &edited));
    // Under a key that is not there: an error, not a match.
    assert!(DigestKey::record_digest_matches(&keys, 4, alice, &parts, &digest).is_err());
}
