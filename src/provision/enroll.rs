//! Enrollment: a fresh secret becomes active only once the person proves,
//! with a valid code, that their authenticator holds it.

use rand_core::TryCryptoRng;

use super::uri::{KeyUri, Otp};
use crate::{
    account::{ReplayStore, Sequence, record},
    error::Error,
    factor::Binding,
    otp::{Secret, Totp},
    seal::{Keyring, Sealed, SecretKind},
};

/// A second factor being set up: its secret has been shown (as a URI or a
/// QR code) but is not active yet.
///
/// Keep it server-side between showing the code and the person's answer
/// (for example as [`KeyUri::to_uri`] in the session, read back with
/// [`KeyUri::parse`] and [`Enrollment::new`]). [`Enrollment::confirm_at`]
/// activates it with a valid code and returns the step that code used, so
/// that the same code cannot log in again afterwards. Throttle confirmation
/// attempts as any other verification.
///
/// ```
/// use twofa::{Enrollment, Otp};
///
/// let mut rng = getrandom::SysRng;
/// let enrollment = Enrollment::start(&mut rng, "ACME", "alice@example.com")?;
/// let uri = enrollment.key_uri().to_uri(); // show it, or its QR code
/// # assert!(uri.starts_with("otpauth://totp/ACME:alice@example.com?secret="));
///
/// // The person types the code their app now shows.
/// let now = 1_700_000_000;
/// let Otp::Totp(totp) = enrollment.key_uri().otp() else { unreachable!() };
/// let typed = totp.generate_at(now)?.to_string();
///
/// let enrolled = enrollment.confirm_at(&typed, now)?;
/// // Store enrolled.key_uri() as the account's active factor, and
/// // enrolled.last_used as its last accepted step.
/// assert_eq!(enrolled.last_used, now / 30);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrollment {
    uri: KeyUri,
}

/// A confirmed enrollment: the factor to store as active for the account.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Enrolled {
    /// The confirmed factor. For HOTP its counter is already past the
    /// confirming code.
    pub key_uri: KeyUri,
    /// The time step (TOTP) or counter (HOTP) of the confirming code:
    /// the account's last accepted step, so that code is not accepted
    /// again at the first login.
    pub last_used: u64,
}

impl Enrolled {
    /// The confirmed secret sealed under `keyring`'s current key for
    /// `binding` (the account and, say, `"totp"`): the only form in which
    /// to store it. Keep the rest of [`Enrolled::key_uri`] (issuer, label,
    /// algorithm, digits, period) beside it; none of that is secret.
    ///
    /// # Errors
    /// [`Error::RngFailure`].
    pub fn seal_secret<R: TryCryptoRng + ?Sized>(
        &self,
        keyring: &Keyring,
        rng: &mut R,
        binding: Binding<'_>,
    ) -> Result<Sealed, Error> {
        let otp = self.key_uri.otp();
        let kind = match otp {
            Otp::Totp(_) => SecretKind::Totp,
            Otp::Hotp { .. } => SecretKind::Hotp,
        };
        keyring.seal_secret(rng, kind, otp.secret(), binding)
    }
}

impl Enrollment {
    /// A TOTP enrollment with a fresh 160-bit secret from `rng` and the
    /// parameters every authenticator app reads (SHA-1, 6 digits, 30 s).
    ///
    /// # Errors
    /// [`Error::RngFailure`], or the label errors of [`KeyUri::new`] and
    /// [`KeyUri::with_issuer`].
    pub fn start<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        issuer: &str,
        account: &str,
    ) -> Result<Self, Error> {
        let totp = Totp::new(Secret::generate(rng)?);
        Ok(Self::new(
            KeyUri::new(totp.into(), account)?.with_issuer(issuer)?,
        ))
    }

    /// An enrollment of any factor a [`KeyUri`] describes (other
    /// algorithms, digits, periods, HOTP), or one read back from storage.
    #[must_use]
    pub fn new(uri: KeyUri) -> Self {
        Self { uri }
    }

    /// What to show the person: [`KeyUri::to_uri`], or its QR code.
    #[must_use]
    pub fn key_uri(&self) -> &KeyUri {
        &self.uri
    }

    /// Checks the code the person typed. TOTP codes are checked around
    /// `unix_time` with the default window; HOTP codes from the URI's
    /// counter with the default look-ahead (`unix_time` is not used).
    ///
    /// # Errors
    /// [`Error::MalformedCode`], [`Error::InvalidCode`] or
    /// [`Error::TimeBeforeEpoch`]: the enrollment stays pending.
    /// [`Error::CounterExhausted`] for an HOTP code at counter 2^64 - 1.
    pub fn confirm_at(&self, code: &str, unix_time: u64) -> Result<Enrolled, Error> {
        match self.uri.otp() {
            Otp::Totp(totp) => {
                let found = totp.verify_at(code, unix_time)?;
                Ok(Enrolled {
                    key_uri: self.uri.clone(),
                    last_used: found.step,
                })
            }
            Otp::Hotp { hotp, counter } => {
                let found = hotp.verify(code, *counter)?;
                // A match at u64::MAX leaves no counter to go on with.
                let next = found.next_counter().ok_or(Error::CounterExhausted)?;
                let mut key_uri = self.uri.clone();
                key_uri.set_counter(next);
                Ok(Enrolled {
                    key_uri,
                    last_used: found.counter,
                })
            }
        }
    }

    /// [`Enrollment::confirm_at`], then records the confirming code's
    /// step for `account` in `store`, as a login would.
    ///
    /// # Errors
    /// The store's error when it could not answer (treat as a refusal).
    pub fn confirm_once_at<S: ReplayStore + ?Sized>(
        &self,
        store: &S,
        account: &str,
        code: &str,
        unix_time: u64,
    ) -> Result<Result<Enrolled, Error>, S::Error> {
        match self.confirm_at(code, unix_time) {
            Ok(enrolled) => {
                let sequence = match enrolled.key_uri.otp() {
                    Otp::Totp(_) => Sequence::TotpStep,
                    Otp::Hotp { .. } => Sequence::HotpCounter,
                };
                record(store, account, sequence, enrolled.last_used, enrolled)
            }
            Err(e) => Ok(Err(e)),
        }
    }
}
