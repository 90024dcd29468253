//! Account state shared by every instance of a service: the contract a
//! PostgreSQL table or a Redis hash implements (a versioned
//! compare-and-swap), and the async check that runs [`Guard`] over it.

use core::{fmt, future::Future};

use super::{
    guard::{Guard, HotpAccount, TotpAccount},
    outcome::Outcome,
};
use crate::{
    error::Error,
    otp::{Hotp, HotpMatch, Totp, TotpMatch},
};

#[cfg(feature = "std")]
mod memory;

#[cfg(feature = "std")]
pub use memory::MemoryAccountStore;

/// A state as loaded from a store, with the version it was loaded at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Versioned<T> {
    /// The account's state; the default for an account never seen.
    pub state: T,
    /// The row's version: 0 for an account never seen, one more after
    /// every save.
    pub version: u64,
}

/// Where each account's second-factor state ([`TotpAccount`] or
/// [`HotpAccount`]) is kept when several instances of a service share it.
///
/// # Contract
///
/// - [`AccountStore::load`] returns the account's state and version, or
///   the default state at version 0 for an account never saved.
/// - [`AccountStore::save`] is one atomic compare-and-swap: it stores
///   `state` at version `expected + 1` and returns `true` only if the
///   account is still at version `expected` (absent counts as 0);
///   otherwise it changes nothing and returns `false`. Over SQL, one
///   `UPDATE … WHERE account = $1 AND version = $2` (or an `INSERT … ON
///   CONFLICT DO NOTHING` for version 0) whose row count is the answer;
///   over Redis, one script.
///
/// With this, every decision of the [`Guard`] (replay, throttle, drift)
/// holds across instances: of two instances that loaded the same version,
/// one saves and the other loads again and decides anew. A read followed
/// by an unconditional write does not meet the contract: two instances
/// could then both accept one code, and each count its own failures.
///
/// The methods return `Send` futures, so that a service on a
/// multi-threaded runtime can await them; the crate itself depends on no
/// runtime. The workspace members `twofa-sqlx` (PostgreSQL and SQLite)
/// and `twofa-redis` implement it; [`MemoryAccountStore`] keeps it in
/// one process.
///
/// # Errors
///
/// [`AccountStore::Error`] is the store's own failure; a caller treats it
/// as a refusal.
pub trait AccountStore<T> {
    /// The store's own failure (a lost connection, say).
    type Error;

    /// The account's state and its version.
    ///
    /// # Errors
    /// The store could not answer.
    fn load(&self, account: &str)
    -> impl Future<Output = Result<Versioned<T>, Self::Error>> + Send;

    /// Stores `state` if the account is still at version `expected`.
    ///
    /// # Errors
    /// The store could not answer; nothing may be assumed saved.
    fn save(
        &self,
        account: &str,
        expected: u64,
        state: &T,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// One decision on the account's state: loads it, runs `decide` on a
    /// copy, and saves the copy with the compare-and-swap if `decide`
    /// changed it. `Ok(None)` says the save lost its race: load and
    /// decide again ([`Guard::decide_shared`] does).
    ///
    /// The provided method is [`AccountStore::load`] then
    /// [`AccountStore::save`]. A store that can do better overrides it
    /// without weakening the contract: the SQL stores of `twofa-sqlx` run
    /// both on one connection, and SQLite inside `BEGIN IMMEDIATE`, so
    /// that a decision there never loses a race it need not.
    ///
    /// # Errors
    /// [`SharedError::Store`] when the store could not answer (nothing may
    /// be assumed saved), [`SharedError::Check`] when `decide` failed
    /// (nothing was saved).
    fn update<A, F>(
        &self,
        account: &str,
        decide: F,
    ) -> impl Future<Output = Result<Option<A>, SharedError<Self::Error>>> + Send
    where
        Self: Sync,
        T: Clone + PartialEq + Send + Sync,
        A: Send,
        F: FnOnce(&mut T) -> Result<A, Error> + Send,
    {
        async move {
            let loaded = self.load(account).await.map_err(SharedError::Store)?;
            let mut state = loaded.state.clone();
            let outcome = decide(&mut state).map_err(SharedError::Check)?;
            // Refused before anything changed (throttled, malformed).
            if state == loaded.state {
                return Ok(Some(outcome));
            }
            let saved = self
                .save(account, loaded.version, &state)
                .await
                .map_err(SharedError::Store)?;
            Ok(saved.then_some(outcome))
        }
    }
}

/// What can go wrong when checking a code against a shared store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SharedError<E> {
    /// The store failed: treat as a refusal (a server error).
    Store(E),
    /// The check itself failed: [`Error::TimeBeforeEpoch`] or
    /// [`Error::CounterExhausted`].
    Check(Error),
    /// The account's state changed under every one of
    /// [`Guard::MAX_SAVE_ATTEMPTS`] attempts to save it: an extreme burst
    /// of concurrent logins for one account. Treat as a refusal.
    Contention,
}

impl<E: fmt::Display> fmt::Display for SharedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => write!(f, "account store failed: {e}"),
            Self::Check(e) => e.fmt(f),
            Self::Contention => {
                f.write_str("account state kept changing: too many concurrent logins")
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for SharedError<E> {}

impl Guard {
    /// How many times a shared check loads, decides and tries to save
    /// before giving up with [`SharedError::Contention`].
    pub const MAX_SAVE_ATTEMPTS: u32 = 32;

    /// [`Guard::verify_totp`] over state shared by every instance: load,
    /// decide, save with a compare-and-swap, and on a lost race load
    /// again and decide anew. The answer is the one whose state was saved.
    ///
    /// # Errors
    /// [`SharedError`].
    pub async fn verify_totp_shared<S>(
        &self,
        totp: &Totp,
        store: &S,
        account: &str,
        code: &str,
        now: u64,
    ) -> Result<Outcome<TotpMatch>, SharedError<S::Error>>
    where
        S: AccountStore<TotpAccount> + Sync + ?Sized,
    {
        // The HMAC work is done once, on the state first loaded; a save
        // that loses its race decides again on the state that won, with
        // the same work unless that state's drift or lock changed it.
        let mut check = None;
        self.decide_shared(store, account, |state| {
            loop {
                let made = match check {
                    Some(made) => made,
                    None => *check.insert(self.check_totp_code(totp, state, code, now)?),
                };
                if let Some(outcome) = self.commit_totp(&made, state) {
                    return Ok(outcome);
                }
                check = None;
            }
        })
        .await
    }

    /// [`Guard::verify_hotp`] over state shared by every instance, as
    /// [`Guard::verify_totp_shared`].
    ///
    /// # Errors
    /// [`SharedError`].
    pub async fn verify_hotp_shared<S>(
        &self,
        hotp: &Hotp,
        store: &S,
        account: &str,
        code: &str,
        now: u64,
    ) -> Result<Outcome<HotpMatch>, SharedError<S::Error>>
    where
        S: AccountStore<HotpAccount> + Sync + ?Sized,
    {
        self.decide_shared(store, account, |state| {
            self.verify_hotp(hotp, state, code, now)
        })
        .await
    }

    /// Any of the guard's checks over state shared by every instance:
    /// load, run `decide` on the loaded state, save it with a
    /// compare-and-swap if it changed, and on a lost race load again and
    /// decide anew. For the checks without a `_shared` method of their
    /// own: `guard.decide_shared(&store, account, |state|
    /// guard.resync_totp(&totp, state, &codes, now))`, say.
    ///
    /// `decide` may run several times, each on freshly loaded state; it
    /// must do nothing but decide and update that state.
    ///
    /// # Errors
    /// [`SharedError`].
    pub async fn decide_shared<S, T, A>(
        &self,
        store: &S,
        account: &str,
        mut decide: impl FnMut(&mut T) -> Result<A, Error> + Send,
    ) -> Result<A, SharedError<S::Error>>
    where
        S: AccountStore<T> + Sync + ?Sized,
        T: Clone + PartialEq + Send + Sync,
        A: Send,
    {
        for _ in 0..Self::MAX_SAVE_ATTEMPTS {
            if let Some(outcome) = store.update(account, &mut decide).await? {
                return Ok(outcome);
            }
        }
        Err(SharedError::Contention)
    }
}
