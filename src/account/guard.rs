//! The one call that checks a login's second factor completely: throttle,
//! verify (with drift), replay check, state update.

#[cfg(feature = "alloc")]
use super::state::AccountState;
use super::{
    events::{self, Event, EventKind, EventSink, Factor},
    factors::default_send_policy,
    outcome::{Outcome, Verdict},
    throttle::{ThrottlePolicy, ThrottleState},
    used_steps,
};
use crate::{
    error::Error,
    otp::{Hotp, HotpMatch, Totp, TotpMatch},
};

/// What a TOTP second factor remembers about an account between logins.
///
/// Plain data: load it with the account, pass it to
/// [`Guard::verify_totp`], and save it back whatever the outcome. Two
/// logins of one account must not interleave between load and save
/// (`SELECT … FOR UPDATE`, or save only if the row still holds what was
/// loaded); otherwise both could accept the same code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct TotpAccount {
    /// Failed attempts and the next allowed time.
    pub throttle: ThrottleState,
    /// The last accepted time step: no code at this step or before it is
    /// accepted again (RFC 6238 §5.2), except unused steps while this mark
    /// is ahead of the server's clock (see `used_below`).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub last_step: Option<u64>,
    /// Which of the 128 steps below `last_step` were accepted too (bit
    /// `i` for step `last_step - 1 - i`). While the mark is ahead of the
    /// server's clock (a phone that ran fast, accepted through the learned
    /// drift, then set right), an unused step below it is accepted, and
    /// these bits keep each of them single-use.
    pub used_below: u128,
    /// The authenticator's clock drift in steps (RFC 6238 §6), bounded by
    /// [`Guard::max_drift`]. Learned as [`Guard::verify_totp`] says: beyond
    /// the nominal window only from a resynchronisation.
    pub drift: i64,
}

/// What an HOTP second factor remembers about an HOTP-only account between
/// logins (a token that is the account's only factor). As [`TotpAccount`],
/// load and save it around each call. An account with a password, other
/// factors or two-step logins keeps its counter in
/// [`AccountState::hotp_counter`](crate::AccountState::hotp_counter),
/// counted on its one throttle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct HotpAccount {
    /// Failed attempts and the next allowed time.
    pub throttle: ThrottleState,
    /// The next counter expected: one past the last accepted (RFC 4226
    /// §7.2), so a used code is never accepted again.
    pub counter: u64,
}

/// Checks second-factor attempts for a service: the throttle policy and
/// the drift bound, applied to each account's state.
///
/// Pure: the caller passes the time and the account's state in and
/// persists the state afterwards.
///
/// ```
/// use twofa::{Guard, Outcome, Secret, Totp, TotpAccount};
///
/// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
/// let guard = Guard::default();
/// let mut account = TotpAccount::default(); // loaded with the account
/// let now = 1_700_000_000;
/// let code = totp.generate_at(now)?.to_string();
///
/// assert!(guard.verify_totp(&totp, &mut account, &code, now)?.is_accepted());
/// assert_eq!(guard.verify_totp(&totp, &mut account, &code, now + 1)?, Outcome::Replayed);
/// // A wrong code two seconds later: the backoff has expired, the code is checked.
/// let wrong = totp.generate_at(now + 3600)?.to_string();
/// assert_eq!(
///     guard.verify_totp(&totp, &mut account, &wrong, now + 2)?,
///     Outcome::Invalid { attempts_left: 8 }
/// );
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Guard {
    throttle: ThrottlePolicy,
    max_drift: u64,
    pub(super) sends: ThrottlePolicy,
}

impl Default for Guard {
    fn default() -> Self {
        Self::new(ThrottlePolicy::default())
    }
}

impl Guard {
    /// The default bound on a learned drift: 20 steps (10 minutes at 30 s,
    /// [`Totp::DEFAULT_RESYNC_WINDOW`]).
    pub const DEFAULT_MAX_DRIFT: u64 = 20;
    /// The largest bound on a learned drift: 100 steps (50 minutes at
    /// 30 s), so that a clock set right is never behind more used steps
    /// than [`TotpAccount::used_below`] remembers.
    pub const MAX_DRIFT: u64 = 100;

    /// A guard with `throttle` and the default drift bound.
    #[must_use]
    pub fn new(throttle: ThrottlePolicy) -> Self {
        Self {
            throttle,
            max_drift: Self::DEFAULT_MAX_DRIFT,
            sends: default_send_policy(),
        }
    }

    /// Bounds the drift learned for each account to `steps` either way
    /// (0 disables drift tracking). A resynchronisation that finds the
    /// clock further off than this is refused.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] above [`Guard::MAX_DRIFT`].
    pub fn with_max_drift(mut self, steps: u64) -> Result<Self, Error> {
        if steps > Self::MAX_DRIFT {
            return Err(Error::InvalidPolicy);
        }
        self.max_drift = steps;
        Ok(self)
    }

    /// The throttle policy.
    #[must_use]
    pub fn throttle(&self) -> &ThrottlePolicy {
        &self.throttle
    }

    /// The bound on a learned drift, in steps either way.
    #[must_use]
    pub fn max_drift(&self) -> u64 {
        self.max_drift
    }

    /// Checks a TOTP code typed at `now` for an account, and updates its
    /// state: throttle first (nothing is compared while throttled), then
    /// one constant-time scan over the window around the current step and
    /// the window around the drift-corrected step
    /// ([`Totp::verify_with_drift_at`]), then the replay check against the
    /// last accepted step. A success forgets failures; an invalid or
    /// replayed code counts as a failure.
    ///
    /// The drift is learned only on evidence that it is real:
    /// - a match inside the nominal window (the current step, `behind` and
    ///   `ahead`) sets the drift to that match's offset, so a corrected
    ///   clock brings it back at once, and a slow typist can move it at
    ///   most to the window's edge;
    /// - a match outside the nominal window (found through the learned
    ///   drift) may only move the drift toward 0, never away from it;
    /// - a drift beyond the nominal window is learned only from two or
    ///   three consecutive codes ([`Guard::resync_totp`]).
    ///
    /// So codes typed late can never walk the accepted window away from
    /// the current time; at most it reaches one window's width past it.
    ///
    /// # Errors
    /// [`Error::TimeBeforeEpoch`]: the service's clock is wrong, not the
    /// person's code. The state is unchanged.
    pub fn verify_totp(
        &self,
        totp: &Totp,
        account: &mut TotpAccount,
        code: &str,
        now: u64,
    ) -> Result<Outcome<TotpMatch>, Error> {
        self.verify_totp_with(totp, account, code, now, &mut ())
    }

    /// [`Guard::verify_totp`], writing what it decided into `events`: the
    /// attempt (`login.succeeded` with `multi_factor: false`, as this check
    /// sees one factor, or `login.failed`), then `lock.started` when this
    /// failure locked the account, `lock.lifted` when a success ended a
    /// timed lock, and `drift.learned` when the drift moved. With `&mut ()`
    /// nothing is made.
    ///
    /// # Errors
    /// As [`Guard::verify_totp`]; nothing is written.
    pub fn verify_totp_with(
        &self,
        totp: &Totp,
        account: &mut TotpAccount,
        code: &str,
        now: u64,
        events: &mut impl EventSink,
    ) -> Result<Outcome<TotpMatch>, Error> {
        // The two phases on one state: the check was made on this very
        // state, so its commit is taken at once (the loop is the shape of
        // the snapshot pattern, and turns no more than once).
        loop {
            let check = self.check_totp_code(totp, account, code, now)?;
            if let Some(outcome) = self.commit_totp_with(&check, account, events) {
                return Ok(outcome);
            }
        }
    }

    /// Resynchronises a TOTP authenticator whose clock is further off than
    /// the window ([`Totp::resync_at`]), under the same throttle as
    /// [`Guard::verify_totp`]: two or three consecutive codes, searched in
    /// the resynchronisation window. The drift they show is learned, and
    /// the replay check applies to every step of the run (the first must
    /// be newer than the last accepted step). A run further off than
    /// [`Guard::max_drift`] is refused as invalid.
    ///
    /// # Errors
    /// [`Error::ResyncCodeCount`] unless 2 or 3 codes are given, or
    /// [`Error::TimeBeforeEpoch`]; the state is unchanged.
    pub fn resync_totp(
        &self,
        totp: &Totp,
        account: &mut TotpAccount,
        codes: &[&str],
        now: u64,
    ) -> Result<Outcome<TotpMatch>, Error> {
        self.resync_totp_with(totp, account, codes, now, &mut ())
    }

    /// [`Guard::resync_totp`], writing what it decided into `events`, as
    /// [`Guard::verify_totp_with`] (the drift it sets as
    /// `drift.resynchronised`).
    ///
    /// # Errors
    /// As [`Guard::resync_totp`]; nothing is written.
    pub fn resync_totp_with(
        &self,
        totp: &Totp,
        account: &mut TotpAccount,
        codes: &[&str],
        now: u64,
        events: &mut impl EventSink,
    ) -> Result<Outcome<TotpMatch>, Error> {
        let before = *account;
        let outcome = self.check_resync(totp, account, codes, now)?;
        self.totp_events(&before, account, &outcome, true, now, events);
        Ok(outcome)
    }

    /// The check of [`Guard::resync_totp`].
    fn check_resync(
        &self,
        totp: &Totp,
        account: &mut TotpAccount,
        codes: &[&str],
        now: u64,
    ) -> Result<Outcome<TotpMatch>, Error> {
        if let Err(throttled) = self.throttle.check(&account.throttle, now) {
            return Ok(throttled.into());
        }
        if !(2..=3).contains(&codes.len()) {
            return Err(Error::ResyncCodeCount);
        }
        let found = totp.resync_at(codes, now).and_then(|found| {
            match found.drift.unsigned_abs() <= self.max_drift {
                true => Ok(found),
                false => Err(Error::InvalidCode),
            }
        });
        match found {
            Ok(found) => {
                // Codes.len() is 2 or 3, so the run's first step is at most 2 back.
                let first = found.step.saturating_sub(codes.len() as u64 - 1);
                Ok(self.accept_step(account, found, first, found.drift, now))
            }
            Err(e) => self.failed(&mut account.throttle, e, now),
        }
    }

    /// A TOTP match whose earliest step used is `first`: the replay check,
    /// then the state update with the drift to keep.
    pub(super) fn accept_step(
        &self,
        account: &mut TotpAccount,
        found: TotpMatch,
        first: u64,
        drift: i64,
        now: u64,
    ) -> Outcome<TotpMatch> {
        let server = found
            .step
            .saturating_add_signed(found.drift.saturating_neg());
        let steps = first..=found.step;
        if !used_steps::fresh(account.last_step, account.used_below, steps.clone(), server) {
            self.throttle.record_failure(&mut account.throttle, now);
            return Outcome::Replayed;
        }
        self.throttle.record_success(&mut account.throttle);
        used_steps::record(&mut account.last_step, &mut account.used_below, steps);
        account.drift = self.bound(drift);
        Outcome::Accepted(found)
    }

    /// Checks an HOTP code at `now` for an HOTP-only account from its
    /// stored counter with the look-ahead, and updates its state: the
    /// counter moves past the match, so the code is never accepted again.
    /// An account with other factors keeps its counter in its
    /// [`AccountState`](crate::AccountState) instead, on the one throttle:
    /// [`Guard::verify_account_hotp`].
    ///
    /// # Errors
    /// [`Error::CounterExhausted`] for a match at counter 2^64 - 1 (the
    /// token needs a new secret); the state is unchanged.
    pub fn verify_hotp(
        &self,
        hotp: &Hotp,
        account: &mut HotpAccount,
        code: &str,
        now: u64,
    ) -> Result<Outcome<HotpMatch>, Error> {
        let HotpAccount { throttle, counter } = account;
        self.hotp_attempt(throttle, counter, now, |counter| hotp.verify(code, counter))
    }

    /// Resynchronises an HOTP token ([`Hotp::resync`]) under the same
    /// throttle as [`Guard::verify_hotp`]: two or three consecutive codes,
    /// searched in the wider resynchronisation window.
    ///
    /// # Errors
    /// [`Error::ResyncCodeCount`] unless 2 or 3 codes are given, or
    /// [`Error::CounterExhausted`]; the state is unchanged.
    pub fn resync_hotp(
        &self,
        hotp: &Hotp,
        account: &mut HotpAccount,
        codes: &[&str],
        now: u64,
    ) -> Result<Outcome<HotpMatch>, Error> {
        let HotpAccount { throttle, counter } = account;
        self.hotp_attempt(throttle, counter, now, |counter| {
            hotp.resync(codes, counter)
        })
    }

    /// Checks an HOTP code for an account whose state is an
    /// [`AccountState`]: from [`AccountState::hotp_counter`] with the
    /// look-ahead, counted on the account's one throttle like every other
    /// factor, so a wrong code brings the account nearer its lock and a
    /// right one completes the login and forgets every failure. Call it
    /// inside [`Guard::complete_login`] with [`SecondFactor::Hotp`], so the
    /// ticket and the counter are spent in one compare-and-swap.
    ///
    /// # Errors
    /// As [`Guard::verify_hotp`].
    ///
    /// [`SecondFactor::Hotp`]: crate::SecondFactor::Hotp
    #[cfg(feature = "alloc")]
    pub fn verify_account_hotp(
        &self,
        hotp: &Hotp,
        state: &mut AccountState,
        code: &str,
        now: u64,
    ) -> Result<Outcome<HotpMatch>, Error> {
        let (throttle, counter) = (&mut state.totp.throttle, &mut state.hotp_counter);
        self.hotp_attempt(throttle, counter, now, |counter| hotp.verify(code, counter))
    }

    /// Resynchronises the HOTP token of an [`AccountState`] ([`Hotp::resync`])
    /// on the account's one throttle, as [`Guard::verify_account_hotp`].
    ///
    /// # Errors
    /// As [`Guard::resync_hotp`].
    #[cfg(feature = "alloc")]
    pub fn resync_account_hotp(
        &self,
        hotp: &Hotp,
        state: &mut AccountState,
        codes: &[&str],
        now: u64,
    ) -> Result<Outcome<HotpMatch>, Error> {
        let (throttle, counter) = (&mut state.totp.throttle, &mut state.hotp_counter);
        self.hotp_attempt(throttle, counter, now, |counter| {
            hotp.resync(codes, counter)
        })
    }

    /// An HOTP attempt: throttle first, then `check` from the counter,
    /// then the state update (a success forgets every failure).
    pub(super) fn hotp_attempt(
        &self,
        throttle: &mut ThrottleState,
        counter: &mut u64,
        now: u64,
        check: impl FnOnce(u64) -> Result<HotpMatch, Error>,
    ) -> Result<Outcome<HotpMatch>, Error> {
        if let Err(throttled) = self.throttle.check(throttle, now) {
            return Ok(throttled.into());
        }
        match check(*counter) {
            Ok(found) => {
                *counter = found.next_counter().ok_or(Error::CounterExhausted)?;
                self.throttle.record_success(throttle);
                Ok(Outcome::Accepted(found))
            }
            Err(e) => self.failed(throttle, e, now),
        }
    }

    /// A failed attempt that compared something: counted.
    pub(super) fn failed_attempt<M>(&self, throttle: &mut ThrottleState, now: u64) -> Outcome<M> {
        self.throttle.record_failure(throttle, now);
        Outcome::Invalid {
            attempts_left: self.throttle.attempts_left(throttle),
        }
    }

    /// A second factor's check under the throttle: nothing runs while it
    /// refuses; a success forgets every failure; a wrong or replayed answer
    /// counts as a failure.
    pub(super) fn second_factor<M>(
        &self,
        throttle: &mut ThrottleState,
        now: u64,
        check: impl FnOnce() -> Result<Verdict<M>, Error>,
    ) -> Result<Outcome<M>, Error> {
        if let Err(throttled) = self.throttle.check(throttle, now) {
            return Ok(throttled.into());
        }
        Ok(match check()? {
            Verdict::Accepted(matched) => {
                self.throttle.record_success(throttle);
                Outcome::Accepted(matched)
            }
            Verdict::Invalid => self.failed_attempt(throttle, now),
            #[cfg(feature = "alloc")]
            Verdict::Replayed => {
                self.throttle.record_failure(throttle, now);
                Outcome::Replayed
            }
            Verdict::Malformed => Outcome::Malformed,
            Verdict::Expired => Outcome::Expired,
        })
    }

    /// The outcome of a verification error: a failure counted for an
    /// invalid code, nothing for a malformed one, other errors passed on.
    fn failed<M>(
        &self,
        throttle: &mut ThrottleState,
        error: Error,
        now: u64,
    ) -> Result<Outcome<M>, Error> {
        match error {
            Error::MalformedCode => Ok(Outcome::Malformed),
            Error::InvalidCode => Ok(self.failed_attempt(throttle, now)),
            other => Err(other),
        }
    }

    /// The events of a TOTP check on its own account state: the attempt,
    /// then what the throttle and the drift did.
    #[inline(always)]
    pub(super) fn totp_events<M>(
        &self,
        before: &TotpAccount,
        after: &TotpAccount,
        outcome: &Outcome<M>,
        resync: bool,
        now: u64,
        events: &mut impl EventSink,
    ) {
        let kind = events::attempt(Factor::Totp, outcome, false);
        events.event(Event { at: now, kind });
        self.throttle_events(&before.throttle, &after.throttle, now, events);
        if before.drift != after.drift {
            let (from, to) = (before.drift, after.drift);
            let kind = match resync {
                true => EventKind::DriftResynchronised { from, to },
                false => EventKind::DriftLearned { from, to },
            };
            events.event(Event { at: now, kind });
        }
    }

    /// `lock.started` when the throttle went from `before` to a lock at
    /// `after`, `lock.lifted` when a locked throttle was reset.
    #[inline(always)]
    pub(super) fn throttle_events(
        &self,
        before: &ThrottleState,
        after: &ThrottleState,
        now: u64,
        events: &mut impl EventSink,
    ) {
        let policy = &self.throttle;
        let locked = |state: &ThrottleState| policy.is_locked_out(state);
        if after.failures > before.failures && locked(after) {
            // Every failure from the lockout on locks again (a timed lock
            // restarts, longer): each is a lock that starts.
            let until = (after.retry_at != u64::MAX).then_some(after.retry_at);
            let kind = EventKind::LockStarted {
                failures: after.failures,
                until,
            };
            events.event(Event { at: now, kind });
        } else if after.failures == 0 && locked(before) {
            let kind = EventKind::LockLifted {
                failures: before.failures,
            };
            events.event(Event { at: now, kind });
        }
    }

    /// `drift` within the bound.
    pub(super) fn bound(&self, drift: i64) -> i64 {
        let max = i64::try_from(self.max_drift).unwrap_or(i64::MAX);
        drift.clamp(-max, max)
    }
}

/// The drift to keep after a match `found` steps from the current one,
/// with `learned` the drift it was found with and `(behind, ahead)` the
/// nominal window: the match's own offset inside the nominal window;
/// outside it, the match's offset only when nearer 0 than `learned`.
pub(super) fn learn_drift(learned: i64, found: i64, (behind, ahead): (u64, u64)) -> i64 {
    let nominal = (found < 0 && found.unsigned_abs() <= behind)
        || (found >= 0 && found.unsigned_abs() <= ahead);
    if nominal || found.unsigned_abs() < learned.unsigned_abs() {
        found
    } else {
        learned
    }
}
