//! Attempt limiting: a policy (exponential backoff, then a lockout) and the
//! small per-account state it reads and updates (RFC 4226 §7.3, NIST SP
//! 800-63B §5.2.2).

use core::fmt;

use crate::error::Error;

/// How fast an account's failed attempts slow further attempts down, and
/// when they stop them.
///
/// After the `k`-th consecutive failure the next attempt must wait
/// `base_delay · 2^(k-1)` seconds, at most `max_delay`; after
/// `lockout_after` consecutive failures the account is locked, until an
/// administrator or a recovery resets it, or for `lockout_duration` if set.
/// A success forgets every failure.
///
/// A timed lockout does not forget failures: they keep counting through
/// it, each further failure locks the account again for the duration (or
/// for twice as long as the lock before, up to `max_lockout_duration`,
/// if set), and
/// at [`ThrottlePolicy::MAX_CONSECUTIVE_FAILURES`] (100, NIST SP 800-63B
/// §5.2.2) the account is locked until a reset, whatever the policy. So no
/// valid policy lets more than 100 consecutive wrong guesses be compared,
/// however long an attacker waits.
///
/// The defaults: 1 s, 2 s, 4 s … up to 5 minutes, and a lockout after
/// 10 failures. With 6-digit codes and a window of 3 steps, that lets an
/// attacker's guesses succeed with probability 10 · 3 / 10^6 before the
/// lockout; a learned drift outside the nominal window adds up to 3
/// more steps to each guess.
///
/// Keep one [`ThrottleState`] per account and pass it to every check of
/// that account, whatever the factor (the [`Guard`](crate::Guard) methods
/// for the PIN, out-of-band and recovery codes take it; for TOTP and HOTP
/// it is the account state's `throttle`): separate states per factor
/// multiply the guesses by the number of factors.
///
/// ```
/// use twofa::{ThrottlePolicy, ThrottleState, Throttled};
///
/// let policy = ThrottlePolicy::default();
/// let mut state = ThrottleState::default();
/// let now = 1_700_000_000;
/// assert_eq!(policy.check(&state, now), Ok(()));
/// policy.record_failure(&mut state, now);
/// policy.record_failure(&mut state, now + 1);
/// assert_eq!(policy.check(&state, now + 2), Err(Throttled::TooSoon { retry_at: now + 3 }));
/// assert_eq!(policy.check(&state, now + 3), Ok(()));
/// assert_eq!(policy.attempts_left(&state), 8);
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ThrottlePolicy {
    base_delay: u64,
    max_delay: u64,
    lockout_after: u32,
    lockout_duration: Option<u64>,
    max_lockout_duration: Option<u64>,
}

/// One account's throttle state: consecutive failures and the earliest
/// time of the next attempt. Persist it with the account (it is plain
/// data; feature `serde` derives its serialization).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ThrottleState {
    /// Consecutive failed attempts since the last success or reset.
    pub failures: u32,
    /// Unix time before which no attempt is allowed. `u64::MAX` is never
    /// reached: the wait lasts until a reset.
    pub retry_at: u64,
}

impl ThrottleState {
    /// Whether an attempt at `now` must still wait.
    fn waiting_at(&self, now: u64) -> bool {
        now < self.retry_at || self.retry_at == u64::MAX
    }
}

/// Why an attempt is not allowed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Throttled {
    /// Backoff after a failure: try again at `retry_at` (Unix seconds).
    TooSoon {
        /// The earliest time of the next attempt.
        retry_at: u64,
    },
    /// Too many consecutive failures: locked until `until` (Unix seconds),
    /// or until a reset when `None`.
    Locked {
        /// The end of the lockout, if it ends by itself.
        until: Option<u64>,
    },
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooSoon { retry_at } => write!(f, "too many attempts: retry at {retry_at}"),
            Self::Locked { until: Some(until) } => write!(f, "locked until {until}"),
            Self::Locked { until: None } => f.write_str("locked until reset"),
        }
    }
}

impl ThrottlePolicy {
    /// The most consecutive failures a policy may allow before its lockout:
    /// 100 (NIST SP 800-63B §5.2.2).
    pub const MAX_LOCKOUT_AFTER: u32 = 100;
    /// Consecutive failures after which every policy locks the account
    /// until a reset, timed lockout or not: 100 (NIST SP 800-63B §5.2.2).
    pub const MAX_CONSECUTIVE_FAILURES: u32 = 100;

    /// A builder starting from the defaults.
    pub fn builder() -> ThrottlePolicyBuilder {
        ThrottlePolicyBuilder {
            policy: Self::default(),
        }
    }

    /// Whether an attempt is allowed at `now`; ask before comparing any
    /// code.
    ///
    /// # Errors
    /// [`Throttled`] says why not, and until when.
    pub fn check(&self, state: &ThrottleState, now: u64) -> Result<(), Throttled> {
        if self.is_locked_out(state) {
            match self.lockout_duration {
                _ if state.failures >= Self::MAX_CONSECUTIVE_FAILURES => {
                    return Err(Throttled::Locked { until: None });
                }
                None => return Err(Throttled::Locked { until: None }),
                Some(_) if state.waiting_at(now) => {
                    return Err(Throttled::Locked {
                        until: Some(state.retry_at),
                    });
                }
                Some(_) => {}
            }
        } else if state.waiting_at(now) {
            return Err(Throttled::TooSoon {
                retry_at: state.retry_at,
            });
        }
        Ok(())
    }

    /// Records a failed attempt at `now`: the next one must wait, or the
    /// account is locked (again, after a timed lockout; until a reset, at
    /// [`ThrottlePolicy::MAX_CONSECUTIVE_FAILURES`]).
    pub fn record_failure(&self, state: &mut ThrottleState, now: u64) {
        state.failures = state.failures.saturating_add(1);
        state.retry_at = if state.failures >= Self::MAX_CONSECUTIVE_FAILURES {
            u64::MAX
        } else if self.is_locked_out(state) {
            self.lockout_duration.map_or(u64::MAX, |duration| {
                now.saturating_add(self.lock_after(duration, state.failures))
            })
        } else {
            now.saturating_add(self.delay_after(state.failures))
        };
    }

    /// Records a success: every failure is forgotten.
    pub fn record_success(&self, state: &mut ThrottleState) {
        *state = ThrottleState::default();
    }

    /// How many more consecutive failures the account may have before it
    /// is locked (0 while a timed lockout lasts or after it ends: the next
    /// failure locks again).
    #[must_use]
    pub fn attempts_left(&self, state: &ThrottleState) -> u32 {
        self.lockout_after.saturating_sub(state.failures)
    }

    /// Whether the account has reached the lockout (whether or not a
    /// timed lockout has ended).
    #[must_use]
    pub fn is_locked_out(&self, state: &ThrottleState) -> bool {
        state.failures >= self.lockout_after
    }

    /// How long the lock after the `failures`-th consecutive failure
    /// lasts, the first lasting `duration`.
    fn lock_after(&self, duration: u64, failures: u32) -> u64 {
        let Some(max) = self.max_lockout_duration else {
            return duration;
        };
        let doubling = 1u64
            .checked_shl(failures.saturating_sub(self.lockout_after))
            .unwrap_or(u64::MAX);
        duration.saturating_mul(doubling).min(max)
    }

    /// The wait after the `failures`-th consecutive failure.
    fn delay_after(&self, failures: u32) -> u64 {
        let doubling = 1u64
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u64::MAX);
        self.base_delay.saturating_mul(doubling).min(self.max_delay)
    }

    /// Seconds to wait after the first failure.
    #[must_use]
    pub fn base_delay(&self) -> u64 {
        self.base_delay
    }

    /// The longest wait between attempts before the lockout.
    #[must_use]
    pub fn max_delay(&self) -> u64 {
        self.max_delay
    }

    /// Consecutive failures that lock the account.
    #[must_use]
    pub fn lockout_after(&self) -> u32 {
        self.lockout_after
    }

    /// How long a lockout lasts; `None` until a reset.
    #[must_use]
    pub fn lockout_duration(&self) -> Option<u64> {
        self.lockout_duration
    }

    /// The longest a timed lockout grows to, if each lasts twice the one
    /// before; `None` if each lasts [`ThrottlePolicy::lockout_duration`].
    #[must_use]
    pub fn max_lockout_duration(&self) -> Option<u64> {
        self.max_lockout_duration
    }

    /// The shortest time, in seconds, in which someone who fails on every
    /// attempt, each as early as the policy allows, reaches the lock that
    /// lasts until a reset ([`ThrottlePolicy::MAX_CONSECUTIVE_FAILURES`]
    /// in a row); `None` if the policy's own lockout never ends (the first
    /// lockout is then that lock). This is the figure to publish: how long
    /// a guesser who knows the first factor's answer never needs, but has
    /// the account's id and any number of addresses, takes to lock it for
    /// good.
    #[must_use]
    pub fn time_to_permanent_lock(&self) -> Option<u64> {
        let mut state = ThrottleState::default();
        let mut now = 0u64;
        self.lockout_duration?;
        while state.failures < Self::MAX_CONSECUTIVE_FAILURES {
            if state.failures > 0 {
                now = now.max(state.retry_at);
            }
            self.record_failure(&mut state, now);
        }
        Some(now)
    }
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            base_delay: 1,
            max_delay: 300,
            lockout_after: 10,
            lockout_duration: None,
            max_lockout_duration: None,
        }
    }
}

/// Builds a [`ThrottlePolicy`]; [`ThrottlePolicyBuilder::build`] checks it.
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct ThrottlePolicyBuilder {
    policy: ThrottlePolicy,
}

impl ThrottlePolicyBuilder {
    /// Seconds to wait after the first failure, doubling with each further
    /// one (default 1; 0 for no backoff).
    pub fn base_delay(mut self, seconds: u64) -> Self {
        self.policy.base_delay = seconds;
        self
    }

    /// The longest wait between attempts (default 300 s).
    pub fn max_delay(mut self, seconds: u64) -> Self {
        self.policy.max_delay = seconds;
        self
    }

    /// Consecutive failures that lock the account, 1 to
    /// [`ThrottlePolicy::MAX_LOCKOUT_AFTER`] (default 10).
    pub fn lockout_after(mut self, failures: u32) -> Self {
        self.policy.lockout_after = failures;
        self
    }

    /// How long a lockout lasts (default: until a reset). A timed lockout
    /// must last at least as long as the backoff it replaces (the longest
    /// wait, `max_delay`) and at least a second; failures keep
    /// counting through it, and at
    /// [`ThrottlePolicy::MAX_CONSECUTIVE_FAILURES`] the account is locked
    /// until a reset.
    pub fn lockout_duration(mut self, seconds: Option<u64>) -> Self {
        self.policy.lockout_duration = seconds;
        self
    }

    /// Lets each timed lockout after the first last twice as long as the
    /// one before, up to `seconds` (default: each lasts the
    /// [`lockout_duration`](Self::lockout_duration)). Someone who fails on
    /// purpose then needs days rather than hours to reach the lock that
    /// lasts until a reset ([`ThrottlePolicy::time_to_permanent_lock`]).
    pub fn max_lockout_duration(mut self, seconds: Option<u64>) -> Self {
        self.policy.max_lockout_duration = seconds;
        self
    }

    /// The policy.
    ///
    /// # Errors
    /// [`Error::InvalidPolicy`] when `lockout_after` is 0 or above
    /// [`ThrottlePolicy::MAX_LOCKOUT_AFTER`], `max_delay` is below
    /// `base_delay`, a timed lockout is shorter than a second or than
    /// the backoff it replaces (`max_delay`), or a longest lockout is set
    /// without a timed lockout or is shorter than it.
    pub fn build(self) -> Result<ThrottlePolicy, Error> {
        let policy = self.policy;
        let replaced = policy.max_delay.max(1);
        if policy.lockout_after == 0
            || policy.lockout_after > ThrottlePolicy::MAX_LOCKOUT_AFTER
            || policy.max_delay < policy.base_delay
            || policy.lockout_duration.is_some_and(|lock| lock < replaced)
            || policy
                .max_lockout_duration
                .is_some_and(|max| policy.lockout_duration.is_none_or(|lock| max < lock))
        {
            return Err(Error::InvalidPolicy);
        }
        Ok(policy)
    }
}
