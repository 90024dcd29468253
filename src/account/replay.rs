//! Replay tracking: each time step or counter is accepted at most once per
//! account (RFC 6238 §5.2, RFC 4226 §7.2).

#[cfg(feature = "std")]
mod memory;

#[cfg(feature = "std")]
pub(super) use memory::lock;
#[cfg(feature = "std")]
pub use memory::{MemoryReplayStore, StoreFull};

use crate::error::Error;
use crate::otp::{Hotp, HotpMatch, Totp, TotpMatch};

/// Which sequence a step belongs to. An account's TOTP time steps and its
/// HOTP counters are different numbers on different scales: a store keeps
/// a mark for each, and one never refuses, nor prunes, the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sequence {
    /// TOTP time steps (RFC 6238).
    TotpStep,
    /// HOTP counters (RFC 4226).
    HotpCounter,
}

/// Whether a store took a step as new.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Acceptance {
    /// The step was greater than every step accepted before for the
    /// account, and is now the account's last accepted step.
    Accepted,
    /// The step was not greater than the account's last accepted step;
    /// nothing changed.
    Replayed,
}

/// Where the last accepted time step (TOTP) or counter (HOTP) of each
/// account is kept: a high-water mark, not a list of used codes.
///
/// # Contract
///
/// [`ReplayStore::accept`] is an atomic compare-and-set on one number per
/// account and [`Sequence`]:
///
/// - If the account has no last accepted step, or `step` is strictly
///   greater than it, the store records `step` as the account's last
///   accepted step and returns [`Acceptance::Accepted`].
/// - Otherwise it changes nothing and returns [`Acceptance::Replayed`].
/// - Check and update are one indivisible step: of any number of
///   concurrent calls with the same account and step, across threads,
///   processes or machines sharing the store, exactly one may see
///   `Accepted`. A read followed by a separate write does not meet this.
/// - The mark never moves backwards, and it must outlive the verification
///   window: forgetting an account's mark while a code it accepted is
///   still inside the window lets that code in again.
///
/// Over SQL this is one statement whose affected-row count is the answer,
/// for example in PostgreSQL (`sequence` is `'totp'` or `'hotp'`):
///
/// ```sql
/// INSERT INTO otp_replay (account, sequence, last_step) VALUES ($1, $2, $3)
/// ON CONFLICT (account, sequence) DO UPDATE SET last_step = EXCLUDED.last_step
///     WHERE otp_replay.last_step < EXCLUDED.last_step;
/// -- 1 row affected: Accepted; 0 rows: Replayed
/// ```
///
/// Keying a cache on the code's digits instead is wrong: the same six
/// digits come back at other steps, and an expiry shorter than the window
/// lets a used code in again.
///
/// Steps from different secrets of one account (two TOTP apps, say) are
/// different sequences too: give each its own account key.
///
/// # Errors
///
/// [`ReplayStore::Error`] is the store's own failure (a lost connection,
/// a full table). A caller must treat it as "not accepted".
pub trait ReplayStore {
    /// The store's own failure.
    type Error;

    /// Atomically records `step` for `account`'s `sequence` if it is
    /// greater than the last step accepted there, and says whether it was.
    ///
    /// # Errors
    /// The store could not answer; nothing may be assumed recorded.
    fn accept(
        &self,
        account: &str,
        sequence: Sequence,
        step: u64,
    ) -> Result<Acceptance, Self::Error>;
}

impl<S: ReplayStore + ?Sized> ReplayStore for &S {
    type Error = S::Error;

    fn accept(&self, account: &str, sequence: Sequence, step: u64) -> Result<Acceptance, S::Error> {
        (**self).accept(account, sequence, step)
    }
}

/// Hands a verified match to the store: the verification result with
/// [`Error::Replayed`] where the store had seen the step, inside the
/// store's own result.
pub(crate) fn record<S, M>(
    store: &S,
    account: &str,
    sequence: Sequence,
    step: u64,
    matched: M,
) -> Result<Result<M, Error>, S::Error>
where
    S: ReplayStore + ?Sized,
{
    Ok(match store.accept(account, sequence, step)? {
        Acceptance::Accepted => Ok(matched),
        Acceptance::Replayed => Err(Error::Replayed),
    })
}

/// Verification with replay tracking: the engine's answer, then the store's.
impl Totp {
    /// [`Totp::verify_at`], then records the matched step for `account` in
    /// `store`, so that a code is accepted once (RFC 6238 §5.2) and no
    /// code older than the last accepted one is accepted at all.
    ///
    /// The outer result is the store's; the inner one is the answer for the
    /// person: the match, [`Error::Replayed`] for a correct code whose step
    /// was already used ("OTP has been used in past, Please try next OTP"),
    /// or any error of [`Totp::verify_at`].
    ///
    /// # Errors
    /// The store's error when it could not answer (treat as a refusal).
    pub fn verify_once_at<S: ReplayStore + ?Sized>(
        &self,
        store: &S,
        account: &str,
        code: &str,
        unix_time: u64,
    ) -> Result<Result<TotpMatch, Error>, S::Error> {
        match self.verify_at(code, unix_time) {
            Ok(found) => record(store, account, Sequence::TotpStep, found.step, found),
            Err(e) => Ok(Err(e)),
        }
    }
}

impl Hotp {
    /// [`Hotp::verify`], then records the matched counter for `account` in
    /// `store`, so that a code is accepted once.
    ///
    /// The outer result is the store's; the inner one is the answer for the
    /// person: the match, or [`Error::Replayed`] when the matched counter
    /// was already accepted, or any error of [`Hotp::verify`].
    ///
    /// # Errors
    /// The store's error when it could not answer (treat as a refusal).
    pub fn verify_once<S: ReplayStore + ?Sized>(
        &self,
        store: &S,
        account: &str,
        code: &str,
        counter: u64,
    ) -> Result<Result<HotpMatch, Error>, S::Error> {
        match self.verify(code, counter) {
            Ok(found) => record(store, account, Sequence::HotpCounter, found.counter, found),
            Err(e) => Ok(Err(e)),
        }
    }
}
