//! TOTP: time-based codes (RFC 6238).

use core::{iter::Chain, ops::RangeInclusive};

use subtle::{Choice, ConditionallySelectable, CtOption};

use super::{Algorithm, Code, Digits, Format, Secret, code, keyed::KeyedHmac, window};
use crate::error::Error;

/// A time-based one-time password generator and verifier (RFC 6238).
///
/// Building a `Totp` keys its HMAC with the secret (two hash compressions)
/// and keeps the keyed state, which is as secret as the secret itself:
/// wiped on drop, never printed. Which to do:
/// - keep one per account (in a cache of the accounts that log in), or
///   one per token of a batch being checked: each verification then costs
///   only its candidates' compressions, 6 for a ±1 window instead of 8;
/// - build one per request where the secret is opened per request (sealed
///   at rest, see [`Sealed`](crate::Sealed)): that costs what keying at
///   every verification would, and nothing stays in memory between
///   requests.
///
/// Both answer alike, in constant time.
///
/// Time is passed in as Unix seconds (`u64`, so well past 2038); the crate
/// reads no clock unless asked through [`unix_time`](crate::unix_time).
/// The time step is `T = (time - T0) / period`, and a code is checked
/// against the steps from `T - behind` to `T + ahead`.
///
/// ```
/// use twofa::{Secret, Totp};
/// # #[cfg(feature = "std")]
/// # use twofa::{Error, MemoryReplayStore};
///
/// // A demo secret, never a real one.
/// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
/// let now = 1_111_111_111;
/// let code = totp.generate_at(now)?.to_string();
///
/// // A code typed 31 seconds later is from the previous step: drift -1.
/// let found = totp.verify_at(&code, now + 31)?;
/// assert_eq!(found.drift, -1);
///
/// // With a replay store, the same code is refused the second time.
/// # #[cfg(feature = "std")] {
/// let store = MemoryReplayStore::new();
/// assert!(totp.verify_once_at(&store, "alice", &code, now)?.is_ok());
/// assert_eq!(totp.verify_once_at(&store, "alice", &code, now)?, Err(Error::Replayed));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Totp {
    params: Params,
    /// The HMAC keyed with the secret: as secret as the secret itself.
    mac: KeyedHmac,
}

/// What a [`Totp`] is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Params {
    secret: Secret,
    algorithm: Algorithm,
    format: Format,
    period: u64,
    t0: u64,
    behind: u64,
    ahead: u64,
    resync_window: u64,
}

/// The steps one verification checks: the window around the current step,
/// then the window around the drift-corrected step (empty when the two
/// meet and are merged into the first), in ascending order.
type Candidates = Chain<RangeInclusive<u64>, RangeInclusive<u64>>;

/// The time step a code matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TotpMatch {
    /// The matched time step: record it as the account's last accepted step.
    pub step: u64,
    /// The matched step minus the current step: negative when the code was
    /// from the past (a slow typist or a clock behind), positive when the
    /// authenticator's clock runs ahead.
    pub drift: i64,
}

impl ConditionallySelectable for TotpMatch {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            step: u64::conditional_select(&a.step, &b.step, choice),
            drift: i64::conditional_select(&a.drift, &b.drift, choice),
        }
    }
}

impl Totp {
    /// The default period: 30 seconds (RFC 6238 §5.2).
    pub const DEFAULT_PERIOD: u64 = 30;
    /// The longest period accepted: one day. NIST SP 800-63B wants a time
    /// step of at most 2 minutes; longer periods are allowed for special
    /// uses but none may exceed this.
    pub const MAX_PERIOD: u64 = 86_400;
    /// The default window: one step behind and one ahead.
    pub const DEFAULT_WINDOW: u64 = 1;
    /// The widest window each way: 10 steps. Each step adds one more code
    /// an attacker's guess can hit.
    pub const MAX_WINDOW: u64 = 10;
    /// How far from the current time [`Totp::resync_at`] looks by default:
    /// 10 minutes either way.
    pub const DEFAULT_RESYNC_WINDOW: u64 = 600;
    /// The furthest [`Totp::resync_at`] may look: one hour either way.
    pub const MAX_RESYNC_WINDOW: u64 = 3600;

    /// SHA-1, 6 digits, 30-second period from `T0` = 0, one step behind
    /// and one ahead: what every authenticator app uses.
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self::keyed(Params::new(secret))
    }

    /// A builder starting from [`Totp::new`]'s defaults.
    pub fn builder(secret: Secret) -> TotpBuilder {
        TotpBuilder {
            params: Params::new(secret),
            digits: Some(Digits::DEFAULT.get()),
        }
    }

    /// A builder starting from this configuration, to change part of it.
    pub fn into_builder(self) -> TotpBuilder {
        let format = self.params.format;
        TotpBuilder {
            params: self.params,
            digits: None,
        }
        .format(format)
    }

    /// Keys the HMAC with the secret, once.
    // Inlined with the keying below it, a speed matter: see
    // `KeyedHmac::new`.
    #[inline(always)]
    fn keyed(params: Params) -> Self {
        let mac = KeyedHmac::new(params.algorithm, &params.secret);
        Self { params, mac }
    }

    /// The time step at `unix_time`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeEpoch`] when `unix_time` is before `T0`.
    pub fn step_at(&self, unix_time: u64) -> Result<u64, Error> {
        unix_time
            .checked_sub(self.params.t0)
            .map(|elapsed| elapsed / self.params.period)
            .ok_or(Error::TimeBeforeEpoch)
    }

    /// The code for `unix_time`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeEpoch`] when `unix_time` is before `T0`.
    pub fn generate_at(&self, unix_time: u64) -> Result<Code, Error> {
        Ok(self.generate_at_step(self.step_at(unix_time)?))
    }

    /// The code for time step `step`.
    #[must_use]
    pub fn generate_at_step(&self, step: u64) -> Code {
        code::generate(&self.mac, step, self.params.format)
    }

    /// Checks `code` against every step of the window around `unix_time`,
    /// all of them, in constant time. A window reaching below step 0 or
    /// above `u64::MAX` is clipped.
    ///
    /// On success, the code must still be accepted only once: use
    /// [`Totp::verify_once_at`], or record [`TotpMatch::step`] in a
    /// [`ReplayStore`](crate::ReplayStore) yourself.
    ///
    /// # Errors
    /// [`Error::MalformedCode`] before any HMAC is computed,
    /// [`Error::TimeBeforeEpoch`], or [`Error::InvalidCode`].
    pub fn verify_at(&self, code: &str, unix_time: u64) -> Result<TotpMatch, Error> {
        self.verify_with_drift_at(code, unix_time, 0)
    }

    /// [`Totp::verify_at`] for an authenticator whose clock was learned to
    /// run `drift` steps off (RFC 6238 §6): the window around the current
    /// step and the window around the drift-corrected step are checked
    /// together, in one constant-time scan over their union (merged where
    /// they meet). So a clock that was wrong and has been set right is
    /// accepted at once, whatever drift was learned. The match's
    /// [`TotpMatch::drift`] is counted from the current step.
    /// [`Guard`](crate::Guard) keeps the drift and decides when to learn it.
    ///
    /// # Errors
    /// As [`Totp::verify_at`].
    pub fn verify_with_drift_at(
        &self,
        code: &str,
        unix_time: u64,
        drift: i64,
    ) -> Result<TotpMatch, Error> {
        Option::from(self.verify_ct_at(code, unix_time, drift)?).ok_or(Error::InvalidCode)
    }

    /// [`Totp::verify_with_drift_at`] up to the decision, which stays in
    /// constant time: whether and where the code matched are inside the
    /// [`CtOption`]. For a caller that combines the result with its other
    /// secret checks (a PIN, say) and branches once, so that timing cannot
    /// tell which check failed. The `Result`s of the other methods are
    /// built by a branch on whether the code matched; that branch, and the
    /// caller's, take different paths for a hit and a miss.
    ///
    /// ```
    /// use subtle::ConstantTimeEq;
    /// use twofa::{Secret, Totp};
    ///
    /// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
    /// let now = 1_111_111_111;
    /// let (stored_pin, typed_pin) = (b"4321", b"4321"); // from the password hasher, really
    /// let code = totp.verify_ct_at("050471", now, 0)?;
    /// let both = code.is_some() & stored_pin.ct_eq(typed_pin);
    /// assert!(bool::from(both)); // the one branch
    /// # Ok::<(), twofa::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::MalformedCode`] or [`Error::TimeBeforeEpoch`], decided
    /// before any HMAC is computed.
    pub fn verify_ct_at(
        &self,
        code: &str,
        unix_time: u64,
        drift: i64,
    ) -> Result<CtOption<TotpMatch>, Error> {
        let code = Code::parse(code, self.params.format)?;
        let now = self.step_at(unix_time)?;
        let steps = self.candidates(now, drift);
        let found = window::scan(&self.mac, steps, &code);
        Ok(found_to_match(found, now))
    }

    /// Resynchronises an authenticator whose clock is further off than the
    /// window (RFC 4226 §7.4 carried over to time steps): the person types
    /// two (or three) consecutive codes, and they must match consecutive
    /// steps, the last of them within the resynchronisation window of
    /// `unix_time` (10 minutes either way by default). Every candidate is
    /// compared with every code, in constant time.
    ///
    /// The match is the step of the last code, and its drift is the drift
    /// to learn. Throttle it and check replay as any verification
    /// ([`Guard::resync_totp`](crate::Guard::resync_totp) does).
    ///
    /// # Errors
    /// [`Error::ResyncCodeCount`] unless 2 or 3 codes are given,
    /// [`Error::MalformedCode`] before any HMAC is computed,
    /// [`Error::TimeBeforeEpoch`], or [`Error::InvalidCode`] when no
    /// consecutive run matches.
    pub fn resync_at(&self, codes: &[&str], unix_time: u64) -> Result<TotpMatch, Error> {
        let now = self.step_at(unix_time)?;
        let reach = (self.params.resync_window / self.params.period).max(1);
        let (first, last) = (now.saturating_sub(reach), now.saturating_add(reach));
        let found = window::scan_resync(&self.mac, self.params.format, codes, |n| {
            first.saturating_sub(n - 1)..=last
        })?;
        Option::from(found_to_match(found, now)).ok_or(Error::InvalidCode)
    }

    /// The lowest step any check at `unix_time` or later can look at, with
    /// a learned drift up to `max_drift` steps and resynchronisation: the
    /// bound below which replay marks can be forgotten.
    ///
    /// # Errors
    /// [`Error::TimeBeforeEpoch`].
    pub fn earliest_step_checked(&self, unix_time: u64, max_drift: u64) -> Result<u64, Error> {
        let reach = max_drift.max((self.params.resync_window / self.params.period).max(1));
        // A resynchronisation run's first code is up to 2 steps before its last.
        Ok(self
            .step_at(unix_time)?
            .saturating_sub(self.params.behind)
            .saturating_sub(reach)
            .saturating_sub(2))
    }

    /// The steps to check at step `now` for a clock `drift` steps off.
    fn candidates(&self, now: u64, drift: i64) -> Candidates {
        let around = |centre: u64| {
            centre.saturating_sub(self.params.behind)..=centre.saturating_add(self.params.ahead)
        };
        let nominal = around(now);
        let corrected = around(now.saturating_add_signed(drift));
        let (low, high) = if corrected.start() < nominal.start() {
            (corrected, nominal)
        } else {
            (nominal, corrected)
        };
        if high.start().saturating_sub(1) <= *low.end() {
            // They meet: one range, and nothing after it.
            (*low.start()..=*low.end().max(high.end())).chain(RangeInclusive::new(1, 0))
        } else {
            low.chain(high)
        }
    }

    /// The secret.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        &self.params.secret
    }

    /// The HMAC algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.params.algorithm
    }

    /// The code format: decimal digits, or Steam Guard.
    #[must_use]
    pub fn format(&self) -> Format {
        self.params.format
    }

    /// The time step in seconds.
    #[must_use]
    pub fn period(&self) -> u64 {
        self.params.period
    }

    /// The Unix time at which step 0 starts.
    #[must_use]
    pub fn t0(&self) -> u64 {
        self.params.t0
    }

    /// The window: steps accepted behind and ahead of the current one.
    #[must_use]
    pub fn window(&self) -> (u64, u64) {
        (self.params.behind, self.params.ahead)
    }

    /// How far from the current time, in seconds either way,
    /// [`Totp::resync_at`] looks.
    #[must_use]
    pub fn resync_window(&self) -> u64 {
        self.params.resync_window
    }
}

/// A scan's result as a match, its drift counted from step `now`.
fn found_to_match(found: CtOption<u64>, now: u64) -> CtOption<TotpMatch> {
    let step = found.unwrap_or(0);
    let matched = TotpMatch {
        step,
        drift: signed_difference(step, now),
    };
    CtOption::new(matched, found.is_some())
}

/// `a - b` as a signed number, saturating at the ends of `i64`.
fn signed_difference(a: u64, b: u64) -> i64 {
    let difference = i128::from(a) - i128::from(b);
    difference.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

impl Params {
    /// [`Totp::new`]'s defaults.
    fn new(secret: Secret) -> Self {
        Self {
            secret,
            algorithm: Algorithm::default(),
            format: Format::default(),
            period: Totp::DEFAULT_PERIOD,
            t0: 0,
            behind: Totp::DEFAULT_WINDOW,
            ahead: Totp::DEFAULT_WINDOW,
            resync_window: Totp::DEFAULT_RESYNC_WINDOW,
        }
    }
}

/// Builds a [`Totp`]; [`TotpBuilder::build`] checks every parameter.
#[derive(Clone, Debug)]
#[must_use]
pub struct TotpBuilder {
    params: Params,
    /// `None` for Steam Guard codes.
    digits: Option<u8>,
}

impl TotpBuilder {
    /// The HMAC algorithm (default SHA-1).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.params.algorithm = algorithm;
        self
    }

    /// The number of digits, 6 to 10 (default 6).
    pub fn digits(mut self, digits: u8) -> Self {
        self.digits = Some(digits);
        self
    }

    /// Steam Guard codes (5 characters) instead of digits.
    pub fn steam(self) -> Self {
        self.format(Format::Steam)
    }

    /// The code format: [`Format::Decimal`] or [`Format::Steam`].
    pub fn format(mut self, format: Format) -> Self {
        self.digits = match format {
            Format::Decimal(digits) => Some(digits.get()),
            Format::Steam => None,
        };
        self
    }

    /// The time step in seconds, 1 to [`Totp::MAX_PERIOD`] (default 30).
    pub fn period(mut self, seconds: u64) -> Self {
        self.params.period = seconds;
        self
    }

    /// The Unix time at which step 0 starts (default 0).
    pub fn t0(mut self, unix_time: u64) -> Self {
        self.params.t0 = unix_time;
        self
    }

    /// How many steps behind and ahead of the current one to accept, each
    /// up to [`Totp::MAX_WINDOW`] (default 1 and 1). RFC 6238 §5.2
    /// recommends at most one step behind for network delay.
    pub fn window(mut self, behind: u64, ahead: u64) -> Self {
        self.params.behind = behind;
        self.params.ahead = ahead;
        self
    }

    /// How far from the current time [`Totp::resync_at`] looks, in seconds
    /// either way, up to [`Totp::MAX_RESYNC_WINDOW`] (default
    /// [`Totp::DEFAULT_RESYNC_WINDOW`]).
    pub fn resync_window(mut self, seconds: u64) -> Self {
        self.params.resync_window = seconds;
        self
    }

    /// The configured [`Totp`].
    ///
    /// # Errors
    /// [`Error::UnsupportedDigits`], [`Error::InvalidPeriod`] or
    /// [`Error::WindowTooLarge`].
    pub fn build(mut self) -> Result<Totp, Error> {
        self.params.format = match self.digits {
            Some(n) => Format::Decimal(Digits::new(n)?),
            None => Format::Steam,
        };
        let params = &self.params;
        if params.period == 0 || params.period > Totp::MAX_PERIOD {
            return Err(Error::InvalidPeriod);
        }
        if params.behind > Totp::MAX_WINDOW
            || params.ahead > Totp::MAX_WINDOW
            || params.resync_window > Totp::MAX_RESYNC_WINDOW
        {
            return Err(Error::WindowTooLarge);
        }
        Ok(Totp::keyed(self.params))
    }
}
