//! HOTP: counter-based codes (RFC 4226).

use subtle::{Choice, ConditionallySelectable, CtOption};

use super::{Algorithm, Code, Digits, Format, Secret, code, keyed::KeyedHmac, window};
use crate::error::Error;

/// A counter-based one-time password generator and verifier (RFC 4226).
///
/// As [`Totp`](crate::Totp), building a `Hotp` keys its HMAC once and
/// keeps the keyed state (secret, wiped on drop, never printed): keep one
/// per token being checked often, or build one per request.
///
/// The service keeps a counter per account; each code the token shows is
/// for the next counter. Verification looks a bounded number of counters
/// ahead, since a token's counter runs ahead whenever a code is generated
/// but not used (§7.4).
///
/// ```
/// use twofa::{Hotp, Secret};
///
/// // RFC 4226 Appendix D (a demo secret, never a real one).
/// let hotp = Hotp::builder(Secret::from_bytes(b"12345678901234567890")?)
///     .look_ahead(3)
///     .build()?;
/// assert_eq!(hotp.generate(1).to_string(), "287082");
///
/// // The token is two codes ahead of the service's counter 1.
/// let found = hotp.verify("969429", 1)?;
/// assert_eq!(found.counter, 3);
/// assert_eq!(found.next_counter(), Some(4)); // store this for the account
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hotp {
    params: Params,
    /// The HMAC keyed with the secret: as secret as the secret itself.
    mac: KeyedHmac,
}

/// What a [`Hotp`] is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Params {
    secret: Secret,
    algorithm: Algorithm,
    format: Format,
    look_ahead: u64,
    resync_window: u64,
}

/// The counter a code matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HotpMatch {
    /// The counter whose code matched.
    pub counter: u64,
    /// How far the match was ahead of the counter verification started at.
    pub ahead: u64,
}

impl HotpMatch {
    /// The counter to store for the account: one past the match (RFC 4226
    /// §7.2). `None` when the match was at `u64::MAX`: the counter space is
    /// used up and the token needs a new secret.
    #[must_use]
    pub fn next_counter(&self) -> Option<u64> {
        self.counter.checked_add(1)
    }
}

impl Hotp {
    /// The look-ahead [`Hotp::new`] uses.
    pub const DEFAULT_LOOK_AHEAD: u64 = 5;
    /// The largest look-ahead: each extra counter adds one more code an
    /// attacker's guess can hit (RFC 4226 §6).
    pub const MAX_LOOK_AHEAD: u64 = 100;
    /// The default resynchronisation window: 100 counters.
    pub const DEFAULT_RESYNC_WINDOW: u64 = 100;
    /// The widest resynchronisation window: 1000 counters. With two
    /// 6-digit codes, a guess succeeds with probability 1000 / 10^12.
    pub const MAX_RESYNC_WINDOW: u64 = 1000;

    /// SHA-1, 6 digits, look-ahead [`Hotp::DEFAULT_LOOK_AHEAD`].
    #[must_use]
    pub fn new(secret: Secret) -> Self {
        Self::keyed(Params::new(secret))
    }

    /// A builder starting from [`Hotp::new`]'s defaults.
    pub fn builder(secret: Secret) -> HotpBuilder {
        HotpBuilder {
            params: Params::new(secret),
            digits: Some(Digits::DEFAULT.get()),
        }
    }

    /// A builder starting from this configuration, to change part of it.
    pub fn into_builder(self) -> HotpBuilder {
        let format = self.params.format;
        HotpBuilder {
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

    /// The code for `counter`.
    #[must_use]
    pub fn generate(&self, counter: u64) -> Code {
        code::generate(&self.mac, counter, self.params.format)
    }

    /// Checks `code` against the counters from `counter` (the account's
    /// stored counter) to `counter + look_ahead`, all of them, in constant
    /// time. Counters past `u64::MAX` are not looked at.
    ///
    /// On success store [`HotpMatch::next_counter`] for the account, and
    /// pair this with a [`ReplayStore`](crate::ReplayStore) (see [`Hotp::verify_once`]) unless
    /// the counter update itself is an atomic compare-and-set.
    ///
    /// # Errors
    /// [`Error::MalformedCode`] before any HMAC is computed, or
    /// [`Error::InvalidCode`].
    pub fn verify(&self, code: &str, counter: u64) -> Result<HotpMatch, Error> {
        Option::from(self.verify_ct(code, counter)?).ok_or(Error::InvalidCode)
    }

    /// [`Hotp::verify`] up to the decision, which stays in constant time
    /// inside the [`CtOption`], for a caller that combines it with other
    /// secret checks and branches once (see [`Totp::verify_ct_at`](crate::Totp::verify_ct_at)).
    ///
    /// # Errors
    /// [`Error::MalformedCode`], before any HMAC is computed.
    pub fn verify_ct(&self, code: &str, counter: u64) -> Result<CtOption<HotpMatch>, Error> {
        let code = self.parse(code)?;
        let last = counter.saturating_add(self.params.look_ahead);
        let found = window::scan(&self.mac, counter..=last, &code);
        Ok(found_to_match(found, counter))
    }

    /// Resynchronises a token whose counter ran too far ahead for
    /// [`Hotp::verify`] (RFC 4226 §7.4): the person types two (or three)
    /// consecutive codes, and they must match consecutive counters, the
    /// first of them within the resynchronisation window from `counter`.
    /// Every candidate is compared with every code, in constant time.
    ///
    /// The match is the counter of the last code: store its
    /// [`HotpMatch::next_counter`]. Throttle resynchronisation as any
    /// verification ([`Guard::resync_hotp`](crate::Guard::resync_hotp) does).
    ///
    /// # Errors
    /// [`Error::ResyncCodeCount`] unless 2 or 3 codes are given,
    /// [`Error::MalformedCode`] before any HMAC is computed, or
    /// [`Error::InvalidCode`] when no consecutive run matches.
    pub fn resync(&self, codes: &[&str], counter: u64) -> Result<HotpMatch, Error> {
        let last = counter.saturating_add(self.params.resync_window);
        let found = window::scan_resync(&self.mac, self.params.format, codes, |n| {
            counter..=last.saturating_add(n - 1)
        })?;
        Option::from(found_to_match(found, counter)).ok_or(Error::InvalidCode)
    }

    fn parse(&self, code: &str) -> Result<Code, Error> {
        Code::parse(code, self.params.format)
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

    /// How many counters past the stored one verification looks at.
    #[must_use]
    pub fn look_ahead(&self) -> u64 {
        self.params.look_ahead
    }

    /// How many counters past the stored one resynchronisation looks at
    /// for the first code.
    #[must_use]
    pub fn resync_window(&self) -> u64 {
        self.params.resync_window
    }
}

/// The match of a scan from `counter`, still in constant time.
fn found_to_match(found: CtOption<u64>, counter: u64) -> CtOption<HotpMatch> {
    let matched = found.unwrap_or(counter);
    let ahead = matched.wrapping_sub(counter);
    CtOption::new(
        HotpMatch {
            counter: matched,
            ahead,
        },
        found.is_some(),
    )
}

impl ConditionallySelectable for HotpMatch {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            counter: u64::conditional_select(&a.counter, &b.counter, choice),
            ahead: u64::conditional_select(&a.ahead, &b.ahead, choice),
        }
    }
}

impl Params {
    /// [`Hotp::new`]'s defaults.
    fn new(secret: Secret) -> Self {
        Self {
            secret,
            algorithm: Algorithm::default(),
            format: Format::default(),
            look_ahead: Hotp::DEFAULT_LOOK_AHEAD,
            resync_window: Hotp::DEFAULT_RESYNC_WINDOW,
        }
    }
}

/// Builds a [`Hotp`]; [`HotpBuilder::build`] checks every parameter.
#[derive(Clone, Debug)]
#[must_use]
pub struct HotpBuilder {
    params: Params,
    /// `None` for Steam Guard codes.
    digits: Option<u8>,
}

impl HotpBuilder {
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

    /// How many counters past the stored one to look at, up to
    /// [`Hotp::MAX_LOOK_AHEAD`] (default [`Hotp::DEFAULT_LOOK_AHEAD`]).
    pub fn look_ahead(mut self, look_ahead: u64) -> Self {
        self.params.look_ahead = look_ahead;
        self
    }

    /// How many counters past the stored one [`Hotp::resync`] looks at
    /// for the first code, up to [`Hotp::MAX_RESYNC_WINDOW`] (default
    /// [`Hotp::DEFAULT_RESYNC_WINDOW`]).
    pub fn resync_window(mut self, window: u64) -> Self {
        self.params.resync_window = window;
        self
    }

    /// The configured [`Hotp`].
    ///
    /// # Errors
    /// [`Error::UnsupportedDigits`] or [`Error::WindowTooLarge`].
    pub fn build(mut self) -> Result<Hotp, Error> {
        self.params.format = match self.digits {
            Some(n) => Format::Decimal(Digits::new(n)?),
            None => Format::Steam,
        };
        if self.params.look_ahead > Hotp::MAX_LOOK_AHEAD
            || self.params.resync_window > Hotp::MAX_RESYNC_WINDOW
        {
            return Err(Error::WindowTooLarge);
        }
        Ok(Hotp::keyed(self.params))
    }
}
