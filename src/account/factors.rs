//! The guard over every check besides the authenticator app: the first
//! factor, out-of-band codes, recovery codes, and the limit on sending
//! codes. All of them count against the account's one throttle, so that
//! neither N fallbacks, N challenges nor N instances multiply the guesses.

use super::{
    guard::Guard,
    outcome::{Outcome, Verdict},
    throttle::{ThrottlePolicy, ThrottleState, Throttled},
};
#[cfg(feature = "alloc")]
use rand_core::TryCryptoRng;

#[cfg(feature = "alloc")]
use crate::factor::{
    HashMemory, RecoveryAccepted, RecoveryCheck, RecoveryCodes, RecoveryKeys, RecoveryOutcome,
    RecoveryPolicy,
};
use crate::{
    error::Error,
    factor::{Binding, DigestKey, OobChallenge, OobOutcome},
};

impl Guard {
    /// Checks the first factor (a PIN or password, verified by the
    /// service's own hasher in `check`) under the account's throttle:
    /// nothing is checked while the account waits or is locked, and a
    /// failure counts like a wrong code. A success does not forget earlier
    /// failures: only a completed login does, so knowing the PIN never
    /// buys more guesses at the second factor. An account whose login ends
    /// with this factor (no second factor enrolled) completes it with
    /// [`ThrottlePolicy::record_success`] on `throttle`.
    ///
    /// ```
    /// use twofa::{Guard, Outcome, ThrottleState};
    ///
    /// let guard = Guard::default();
    /// let mut throttle = ThrottleState::default(); // the account's one throttle
    /// let pin_matches = |typed: &str| typed == "4321"; // the service's hasher, really
    /// assert_eq!(
    ///     guard.check_first_factor(&mut throttle, 1_700_000_000, || pin_matches("1234")),
    ///     Outcome::Invalid { attempts_left: 9 }
    /// );
    /// assert_eq!(
    ///     guard.check_first_factor(&mut throttle, 1_700_000_000, || pin_matches("4321")),
    ///     Outcome::TooSoon { retry_at: 1_700_000_001 }
    /// );
    /// ```
    pub fn check_first_factor(
        &self,
        throttle: &mut ThrottleState,
        now: u64,
        check: impl FnOnce() -> bool,
    ) -> Outcome<()> {
        if let Err(throttled) = self.throttle().check(throttle, now) {
            return throttled.into();
        }
        if check() {
            Outcome::Accepted(())
        } else {
            self.failed_attempt(throttle, now)
        }
    }

    /// Checks an out-of-band code ([`OobChallenge::verify`]) under the
    /// account's throttle: nothing is compared while it refuses, a wrong
    /// code counts against the account (whatever the challenge's own
    /// attempts), and a right one completes the login and forgets every
    /// failure. A challenge that expired, ran out of attempts or was
    /// already used is [`Outcome::Expired`], with nothing compared.
    ///
    /// # Errors
    /// [`Error::UnknownKeyId`]; the state is unchanged.
    pub fn verify_oob(
        &self,
        throttle: &mut ThrottleState,
        challenge: &mut OobChallenge,
        keys: &[DigestKey],
        binding: Binding<'_>,
        code: &str,
        now: u64,
    ) -> Result<Outcome<()>, Error> {
        self.second_factor(throttle, now, || {
            Ok(match challenge.verify(keys, binding, code, now)? {
                OobOutcome::Accepted => Verdict::Accepted(()),
                OobOutcome::Invalid { .. } => Verdict::Invalid,
                OobOutcome::Malformed => Verdict::Malformed,
                OobOutcome::Expired | OobOutcome::AttemptsExhausted | OobOutcome::AlreadyUsed => {
                    Verdict::Expired
                }
            })
        })
    }

    /// Checks a recovery code ([`RecoveryCodes::verify`]) for `binding`'s
    /// account under its throttle: nothing is hashed while it refuses; a
    /// wrong code (a used one included: it was replaced) or a forged set
    /// counts against the account; a right one completes the login,
    /// forgets every failure, and is accepted with the one new code that
    /// replaces it, to show the person (NIST SP 800-63B-4 §4.2.1.1).
    ///
    /// # Errors
    /// As [`RecoveryCodes::verify`]; the state is unchanged.
    #[cfg(feature = "alloc")]
    #[allow(clippy::too_many_arguments)]
    pub fn verify_recovery<R: TryCryptoRng + ?Sized>(
        &self,
        throttle: &mut ThrottleState,
        codes: &mut RecoveryCodes,
        policy: &RecoveryPolicy,
        keys: RecoveryKeys<'_>,
        binding: Binding<'_>,
        rng: &mut R,
        code: &str,
        now: u64,
    ) -> Result<Outcome<RecoveryAccepted>, Error> {
        let memory = &mut HashMemory::new();
        self.verify_recovery_in(
            memory, throttle, codes, policy, keys, binding, rng, code, now,
        )
    }

    /// As [`Guard::verify_recovery`], hashing in `memory` rather than in
    /// memory allocated for each hash.
    ///
    /// # Errors
    /// As [`Guard::verify_recovery`].
    #[cfg(feature = "alloc")]
    #[allow(clippy::too_many_arguments)]
    pub fn verify_recovery_in<R: TryCryptoRng + ?Sized>(
        &self,
        memory: &mut HashMemory,
        throttle: &mut ThrottleState,
        codes: &mut RecoveryCodes,
        policy: &RecoveryPolicy,
        keys: RecoveryKeys<'_>,
        binding: Binding<'_>,
        rng: &mut R,
        code: &str,
        now: u64,
    ) -> Result<Outcome<RecoveryAccepted>, Error> {
        self.second_factor(throttle, now, || {
            Ok(recovery_verdict(
                codes.verify_in(memory, policy, keys, binding, rng, code)?,
            ))
        })
    }

    /// The Argon2id work of [`Guard::verify_recovery_in`], done on
    /// `snapshot`, a copy of the account's set, with the copy's
    /// `throttle`: nothing is locked through it. Two hashes whatever the
    /// code ([`RecoveryCodes::check_in`]), so that a check the commit
    /// then refuses tells nothing by its time. `None`, with nothing
    /// hashed, when the copy's throttle refuses a check now. Pass the
    /// check to [`Guard::commit_recovery`] on the account's state as it is
    /// then, inside the store's decision, so that a database holding a
    /// write lock through the decision (SQLite's `BEGIN IMMEDIATE`) holds
    /// it for microseconds rather than two Argon2id hashes.
    ///
    /// # Errors
    /// As [`RecoveryCodes::verify`].
    #[cfg(feature = "alloc")]
    #[allow(clippy::too_many_arguments)]
    pub fn check_recovery_code<R: TryCryptoRng + ?Sized>(
        &self,
        memory: &mut HashMemory,
        throttle: &ThrottleState,
        snapshot: &RecoveryCodes,
        policy: &RecoveryPolicy,
        keys: RecoveryKeys<'_>,
        binding: Binding<'_>,
        rng: &mut R,
        code: &str,
        now: u64,
    ) -> Result<Option<RecoveryCheck>, Error> {
        if self.throttle().check(throttle, now).is_err() {
            return Ok(None);
        }
        snapshot
            .check_in(memory, policy, keys, binding, rng, code)
            .map(Some)
    }

    /// Decides the recovery code `check` was made for on the account's
    /// state as it is now (its throttle and its set), as
    /// [`Guard::verify_recovery_in`] would have: the throttle first, then
    /// [`RecoveryCodes::commit`], a wrong code counted. `None`, with
    /// nothing changed, when the set moved since the copy so that the
    /// check cannot decide: check again on a new copy, or verify in the
    /// decision.
    ///
    /// # Errors
    /// As [`RecoveryCodes::commit`]; the state is unchanged.
    #[cfg(feature = "alloc")]
    #[allow(clippy::too_many_arguments)]
    pub fn commit_recovery(
        &self,
        check: &RecoveryCheck,
        throttle: &mut ThrottleState,
        codes: &mut RecoveryCodes,
        policy: &RecoveryPolicy,
        keys: RecoveryKeys<'_>,
        binding: Binding<'_>,
        now: u64,
    ) -> Result<Option<Outcome<RecoveryAccepted>>, Error> {
        if let Err(throttled) = self.throttle().check(throttle, now) {
            return Ok(Some(throttled.into()));
        }
        let Some(outcome) = codes.commit(check, policy, keys, binding)? else {
            return Ok(None);
        };
        self.second_factor(throttle, now, || Ok(recovery_verdict(outcome)))
            .map(Some)
    }

    /// Whether a code may be sent to the account now (NIST SP 800-63B
    /// §5.1.3: rate-limit out-of-band sends), and if so records the send in
    /// `sends`. Refused while the account itself is locked, and by the
    /// send policy ([`Guard::send_policy`]): by default the first send at
    /// once, then waits of 30 s, 60 s … up to 15 minutes, and after 10
    /// sends an hour's lock, again after each further send. Sends never
    /// reach the 100-failure lock until reset of the login throttle: a
    /// password-reset flow, where no login may follow, is not cut off for
    /// good. Reset `sends` (its policy's [`ThrottlePolicy::record_success`])
    /// when a login completes.
    ///
    /// # Errors
    /// [`Throttled`]: the account is locked, or sending again must wait.
    pub fn allow_send(
        &self,
        throttle: &ThrottleState,
        sends: &mut ThrottleState,
        now: u64,
    ) -> Result<(), Throttled> {
        if self.throttle().is_locked_out(throttle) {
            self.throttle().check(throttle, now)?;
        }
        let policy = self.send_policy();
        policy.check(sends, now)?;
        // Past a timed lock, one send short of it again: each further send
        // locks for the duration, and the count never nears the hard limit.
        let cap = policy
            .lockout_after()
            .min(ThrottlePolicy::MAX_CONSECUTIVE_FAILURES - 1)
            .saturating_sub(1);
        sends.failures = sends.failures.min(cap);
        policy.record_failure(sends, now);
        Ok(())
    }

    /// Limits sending codes with `policy` instead of the default (see
    /// [`Guard::allow_send`]).
    #[must_use]
    pub fn with_send_policy(mut self, policy: ThrottlePolicy) -> Self {
        self.sends = policy;
        self
    }

    /// The policy limiting how often codes are sent.
    #[must_use]
    pub fn send_policy(&self) -> &ThrottlePolicy {
        &self.sends
    }
}

/// The default limit on sends: 30 s, 60 s … up to 15 minutes between
/// them, and an hour's lock after 10.
pub(super) fn default_send_policy() -> ThrottlePolicy {
    ThrottlePolicy::builder()
        .base_delay(30)
        .max_delay(900)
        .lockout_after(10)
        .lockout_duration(Some(3600))
        .build()
        .unwrap_or_default()
}

/// What a recovery code's outcome counts as: a forged set like a wrong
/// code.
#[cfg(feature = "alloc")]
fn recovery_verdict(outcome: RecoveryOutcome) -> Verdict<RecoveryAccepted> {
    match outcome {
        RecoveryOutcome::Accepted(accepted) => Verdict::Accepted(accepted),
        RecoveryOutcome::Invalid | RecoveryOutcome::Forged => Verdict::Invalid,
        RecoveryOutcome::Malformed => Verdict::Malformed,
    }
}
