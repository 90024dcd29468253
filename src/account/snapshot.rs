//! A TOTP login in two phases, so that one account's concurrent logins do
//! not wait for each other's HMAC work: [`Guard::check_totp_code`] does
//! the work on a copy of the account's state, taken with no lock held
//! through it, and [`Guard::commit_totp`] decides on the state as it is
//! when the result is committed (under the account's lock, or in the
//! compare-and-swap of an [`AccountStore`](crate::AccountStore)), which
//! takes nanoseconds. The decision is the one [`Guard::verify_totp`]
//! makes; only the codes the HMAC work compares depend on the state (its
//! drift, and whether it is locked), and a commit on a state where they
//! would differ is refused, so the caller checks again.

use super::{
    events::EventSink,
    guard::{Guard, TotpAccount, learn_drift},
    outcome::Outcome,
};
use crate::{
    error::Error,
    otp::{Totp, TotpMatch},
};

/// What the HMAC work of one TOTP login found, from a snapshot of the
/// account's state: made by [`Guard::check_totp_code`], decided by
/// [`Guard::commit_totp`]. It holds no secret: the step a code matched,
/// the drift it shows, or that it did not match.
///
/// A check belongs to the verifier, code and time it was made with and to
/// the account whose state it was made on: committing it to another
/// account's state would decide that account's login with this code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TotpCheck {
    now: u64,
    /// The bounded drift whose window was scanned, or `None` when the
    /// snapshot was locked and nothing was computed.
    scanned: Option<i64>,
    found: Found,
}

/// What the scan found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    /// Not looked at: the snapshot was locked.
    Nothing,
    /// Not a code of the verifier's format.
    Malformed,
    /// No step of the windows matched.
    Invalid,
    /// A step matched; `learned` is the drift to keep if it is accepted.
    Matched { found: TotpMatch, learned: i64 },
}

impl Guard {
    /// The HMAC work of [`Guard::verify_totp`], done on `snapshot`, a
    /// copy of the account's state: the window around the current step and
    /// the one its learned drift points at, in one constant-time scan.
    /// Nothing is decided or written: pass the result to
    /// [`Guard::commit_totp`] on the account's state as it is then. A
    /// locked snapshot computes nothing (the commit refuses the login, or
    /// asks for a new check if the lock was lifted meanwhile).
    ///
    /// Any earlier state of the account will do as the snapshot, however
    /// old: the work depends only on its drift and on whether it is
    /// locked, and the commit asks for a new check when either differs
    /// from the state it decides on. So a service that keeps an account
    /// in memory can check against the copy it kept from its last commit,
    /// and take the account's lock once per login, for the commit.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use twofa::{Guard, Secret, Totp, TotpAccount};
    ///
    /// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
    /// let (guard, now) = (Guard::default(), 1_111_111_111);
    /// let account = Mutex::new(TotpAccount::default());
    /// let outcome = loop {
    ///     // The lock is held for a copy, then for the decision: never
    ///     // through the HMAC work, so other logins of the account go on.
    ///     let snapshot = *account.lock().unwrap();
    ///     let check = guard.check_totp_code(&totp, &snapshot, "050471", now)?;
    ///     if let Some(outcome) = guard.commit_totp(&check, &mut account.lock().unwrap()) {
    ///         break outcome;
    ///     }
    ///     // The state moved so that other codes must be compared: again.
    /// };
    /// assert!(outcome.is_accepted());
    /// # Ok::<(), twofa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::TimeBeforeEpoch`], as [`Guard::verify_totp`].
    pub fn check_totp_code(
        &self,
        totp: &Totp,
        snapshot: &TotpAccount,
        code: &str,
        now: u64,
    ) -> Result<TotpCheck, Error> {
        let nothing = TotpCheck {
            now,
            scanned: None,
            found: Found::Nothing,
        };
        if self.throttle().check(&snapshot.throttle, now).is_err() {
            return Ok(nothing);
        }
        let drift = self.bound(snapshot.drift);
        let found = match totp.verify_with_drift_at(code, now, drift) {
            Ok(found) => Found::Matched {
                found,
                learned: learn_drift(drift, found.drift, totp.window()),
            },
            Err(Error::MalformedCode) => Found::Malformed,
            Err(Error::InvalidCode) => Found::Invalid,
            Err(other) => return Err(other),
        };
        Ok(TotpCheck {
            scanned: Some(drift),
            found,
            ..nothing
        })
    }

    /// Decides the login `check` was made for on `account`, the state as
    /// it is now, as [`Guard::verify_totp`] would have: the throttle, the
    /// replay check, the state update. `None`, with nothing written, when
    /// the state moved since the snapshot so that the check compared the
    /// wrong codes (its drift changed, or a lock was lifted): check again
    /// on a new snapshot. Any other change (a success or failure of
    /// another login, a step used meanwhile) is decided here, so a code
    /// another login accepted first is [`Outcome::Replayed`].
    #[must_use]
    pub fn commit_totp(
        &self,
        check: &TotpCheck,
        account: &mut TotpAccount,
    ) -> Option<Outcome<TotpMatch>> {
        self.commit_totp_with(check, account, &mut ())
    }

    /// [`Guard::commit_totp`], writing what it decided into `events`, as
    /// [`Guard::verify_totp_with`] does. Nothing is written when the
    /// commit is refused.
    #[must_use]
    pub fn commit_totp_with(
        &self,
        check: &TotpCheck,
        account: &mut TotpAccount,
        events: &mut impl EventSink,
    ) -> Option<Outcome<TotpMatch>> {
        let before = *account;
        let outcome = self.decide_totp(check, account)?;
        self.totp_events(&before, account, &outcome, false, check.now, events);
        Some(outcome)
    }

    /// The decision of [`Guard::commit_totp`], without events.
    fn decide_totp(
        &self,
        check: &TotpCheck,
        account: &mut TotpAccount,
    ) -> Option<Outcome<TotpMatch>> {
        let now = check.now;
        if let Err(throttled) = self.throttle().check(&account.throttle, now) {
            return Some(throttled.into());
        }
        if check.scanned != Some(self.bound(account.drift)) {
            return None;
        }
        Some(match check.found {
            Found::Matched { found, learned } => {
                self.accept_step(account, found, found.step, learned, now)
            }
            Found::Invalid => self.failed_attempt(&mut account.throttle, now),
            Found::Malformed => Outcome::Malformed,
            // Only a locked snapshot computes nothing, and its drift is
            // not `scanned`: refused above.
            Found::Nothing => return None,
        })
    }
}
