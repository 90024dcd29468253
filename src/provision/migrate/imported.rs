//! A key read from another system's file, with the state that system kept
//! about it.

use alloc::{string::String, vec::Vec};
use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::error::{Origin, Problem};
use crate::{
    account::{HotpAccount, TotpAccount},
    error::Error,
    otp::{Algorithm, Format, Hotp, Secret, Totp},
    provision::uri::{KeyUri, Otp},
};

/// Whether a key is used with a PIN (a password typed with the code), as
/// the file says.
#[derive(Clone, Default, Eq)]
#[non_exhaustive]
pub enum Pin {
    /// No PIN (`-` in `users.oath`; no `PINPolicy` in PSKC).
    #[default]
    None,
    /// Checked by something else (`+` in `users.oath`: another PAM module).
    Delegated,
    /// The token file says a PIN goes with the key (a PSKC `PINPolicy`),
    /// but does not carry its value.
    Required,
    /// The PIN itself, as `users.oath` keeps it (in the clear): a
    /// password, to be hashed into the service's password store and never
    /// kept as it is. Wiped on drop; never printed by `Debug`.
    Stored(Zeroizing<String>),
}

/// Stored PINs are compared in constant time: they are passwords.
impl PartialEq for Pin {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Stored(one), Self::Stored(two)) => one.as_bytes().ct_eq(two.as_bytes()).into(),
            (one, two) => core::mem::discriminant(one) == core::mem::discriminant(two),
        }
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "None",
            Self::Delegated => "Delegated",
            Self::Required => "Required",
            Self::Stored(_) => "Stored(..)",
        })
    }
}

/// A key read from an export or a token file: the generator and its label
/// as a [`KeyUri`], where it was read, and what the old system remembered
/// about its use, ready for the account state ([`ImportedKey::totp_account`],
/// [`ImportedKey::hotp_account`]) so that no used code works again after the
/// move.
///
/// For an HOTP key, the URI's counter is the next one expected. The
/// verifier's policy (window, look-ahead) is not part of any of the
/// formats: the generator has the crate's defaults.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportedKey {
    uri: KeyUri,
    origin: Origin,
    serial: Option<String>,
    pin: Pin,
    last_step: Option<u64>,
    drift: i64,
    last_code: Option<Zeroizing<String>>,
    last_used: Option<u64>,
    policy: KeyPolicy,
    pending: bool,
}

/// What a key's issuer allows it for: PSKC's `Policy` (RFC 6030 §5), as
/// read. A reader refuses a key whose policy it does not understand, one
/// not for one-time passwords, and (unless told otherwise by name) one
/// outside its validity; what is left is carried here for the service to
/// keep, such as how many times an HOTP key may be used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyPolicy {
    /// Unix time from which the key may be used (`StartDate`).
    pub start: Option<u64>,
    /// Unix time from which it may no longer be used (`ExpiryDate`).
    pub expiry: Option<u64>,
    /// How many times it may be used (`NumberOfTransactions`).
    pub transactions: Option<u64>,
    /// What it may be used for (`KeyUsage`); empty when the file says
    /// nothing, which restricts nothing.
    pub usage: Vec<KeyUsage>,
}

/// A use PSKC names for a key (`KeyUsage`, RFC 6030 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyUsage {
    /// One-time passwords: what this crate verifies.
    Otp,
    /// Challenge-response (`CR`).
    ChallengeResponse,
    /// Encryption.
    Encrypt,
    /// Integrity (MACs).
    Integrity,
    /// Verification of integrity values.
    Verify,
    /// Unlock codes.
    Unlock,
    /// Decryption.
    Decrypt,
    /// Wrapping other keys.
    KeyWrap,
    /// Unwrapping other keys.
    Unwrap,
    /// Deriving other keys.
    Derive,
    /// Generating other keys.
    Generate,
}

impl KeyUsage {
    /// The usage named `text` in a file, if PSKC names it.
    pub(super) fn from_name(text: &str) -> Option<Self> {
        Some(match text {
            "OTP" => Self::Otp,
            "CR" => Self::ChallengeResponse,
            "Encrypt" => Self::Encrypt,
            "Integrity" => Self::Integrity,
            "Verify" => Self::Verify,
            "Unlock" => Self::Unlock,
            "Decrypt" => Self::Decrypt,
            "KeyWrap" => Self::KeyWrap,
            "Unwrap" => Self::Unwrap,
            "Derive" => Self::Derive,
            "Generate" => Self::Generate,
            _ => return None,
        })
    }
}

impl ImportedKey {
    /// A key to write out, from its URI, with nothing else known about it.
    #[must_use]
    pub fn new(uri: KeyUri) -> Self {
        Self::found(uri, Origin::File)
    }

    pub(super) fn found(uri: KeyUri, origin: Origin) -> Self {
        Self {
            uri,
            origin,
            serial: None,
            pin: Pin::None,
            last_step: None,
            drift: 0,
            last_code: None,
            last_used: None,
            policy: KeyPolicy::default(),
            pending: false,
        }
    }

    /// The same key, pending until a code from its token confirms it.
    pub(super) fn pending(mut self) -> Self {
        self.pending = true;
        self
    }

    /// Whether the key still needs one code from its token before it is
    /// used ([`ImportedKey::confirm`]). Keys read from a PSKC file are,
    /// unless the file's SHA-256 was checked against the vendor's
    /// ([`PskcReader::expect_sha256`](super::PskcReader::expect_sha256)):
    /// RFC 6030's MACs do not stop someone who can alter the file from
    /// planting a secret of their choosing, and only the token itself can
    /// show that the secret is its own. While pending, the account states
    /// to start from ([`ImportedKey::totp_account`],
    /// [`ImportedKey::hotp_account`]) are `None`: keep the key as a pending
    /// enrollment (sealed under a name of its own) and confirm it with the
    /// person's first code, as [`Enrollment`](crate::Enrollment) does.
    #[must_use]
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// Confirms a pending key with a code its token shows at `now`: a
    /// TOTP code in the window around the drift the file gives (the step
    /// must be newer than the last one used), or an HOTP code within the
    /// look-ahead of the counter. The code's step or counter is then the
    /// last one used, so it is never accepted again (an HOTP key's URI
    /// starts at the counter after it).
    ///
    /// # Errors
    /// [`Error::InvalidCode`], [`Error::MalformedCode`],
    /// [`Error::Replayed`] (a step not newer than the last one used),
    /// [`Error::CounterExhausted`] or [`Error::TimeBeforeEpoch`]; the key
    /// stays as it was.
    pub fn confirm(&mut self, code: &str, now: u64) -> Result<(), Error> {
        match self.uri.otp() {
            Otp::Totp(totp) => {
                let found = totp.verify_with_drift_at(code, now, self.drift)?;
                if self.last_step.is_some_and(|last| found.step <= last) {
                    return Err(Error::Replayed);
                }
                self.last_step = Some(found.step);
                self.drift = found.drift;
            }
            Otp::Hotp { hotp, counter } => {
                let found = hotp.verify(code, *counter)?;
                let next = found.next_counter().ok_or(Error::CounterExhausted)?;
                // The URI too starts past the confirming code.
                self.uri.set_counter(next);
            }
        }
        self.pending = false;
        Ok(())
    }

    /// The same key, read at `origin`.
    pub(super) fn at(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// With the token's serial number.
    #[must_use]
    pub fn with_serial(mut self, serial: impl Into<String>) -> Self {
        self.serial = Some(serial.into());
        self
    }

    /// With the PIN the key is used with.
    #[must_use]
    pub fn with_pin(mut self, pin: Pin) -> Self {
        self.pin = pin;
        self
    }

    /// With a TOTP key's last accepted time step and the authenticator's
    /// drift in steps.
    #[must_use]
    pub fn with_last_step(mut self, last_step: Option<u64>, drift: i64) -> Self {
        self.last_step = last_step;
        self.drift = drift;
        self
    }

    /// With the issuer's policy for the key.
    #[must_use]
    pub fn with_policy(mut self, policy: KeyPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The issuer's policy for the key (what a PSKC file said of it).
    #[must_use]
    pub fn policy(&self) -> &KeyPolicy {
        &self.policy
    }

    /// With the last accepted code and when it was accepted (Unix seconds),
    /// as `users.oath` records them.
    #[must_use]
    pub fn with_last_code(mut self, code: impl Into<String>, unix_time: u64) -> Self {
        self.last_code = Some(Zeroizing::new(code.into()));
        self.last_used = Some(unix_time);
        self
    }

    /// The generator and its label.
    #[must_use]
    pub fn key_uri(&self) -> &KeyUri {
        &self.uri
    }

    /// The generator and its label, taken out.
    #[must_use]
    pub fn into_key_uri(self) -> KeyUri {
        self.uri
    }

    /// Where it was read.
    #[must_use]
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The token's serial number (PSKC `SerialNo`), if any.
    #[must_use]
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// The PIN the key is used with.
    #[must_use]
    pub fn pin(&self) -> &Pin {
        &self.pin
    }

    /// For a TOTP key, the last time step the old system accepted: no code
    /// at or before it may be accepted again.
    #[must_use]
    pub fn last_step(&self) -> Option<u64> {
        self.last_step
    }

    /// The authenticator's clock drift in time steps, as the old system
    /// learned it (PSKC `TimeDrift`; the window position of the last
    /// accepted code in `users.oath`).
    #[must_use]
    pub fn drift(&self) -> i64 {
        self.drift
    }

    /// The last accepted code, as `users.oath` records it. Spent, but kept
    /// out of `Debug` all the same.
    #[must_use]
    pub fn last_code(&self) -> Option<&str> {
        self.last_code.as_ref().map(|code| code.as_str())
    }

    /// When the last code was accepted, in Unix seconds.
    #[must_use]
    pub fn last_used(&self) -> Option<u64> {
        self.last_used
    }

    /// The TOTP account state to start from (last accepted step and
    /// drift, throttle clear), or `None` for an HOTP key or a key still
    /// [pending](ImportedKey::is_pending). Every step below
    /// the last accepted one counts as used: the old system recorded no
    /// more than that mark, so none of them may be accepted again.
    #[must_use]
    pub fn totp_account(&self) -> Option<TotpAccount> {
        if self.pending {
            return None;
        }
        match self.uri.otp() {
            Otp::Totp(_) => Some(TotpAccount {
                last_step: self.last_step,
                used_below: if self.last_step.is_some() {
                    u128::MAX
                } else {
                    0
                },
                drift: self.drift,
                ..TotpAccount::default()
            }),
            Otp::Hotp { .. } => None,
        }
    }

    /// The HOTP account state to start from (the next counter expected,
    /// past a confirming code; throttle clear), or `None` for a TOTP key or
    /// a key still [pending](ImportedKey::is_pending).
    #[must_use]
    pub fn hotp_account(&self) -> Option<HotpAccount> {
        if self.pending {
            return None;
        }
        match self.uri.otp() {
            Otp::Hotp { counter, .. } => Some(HotpAccount {
                counter: *counter,
                ..HotpAccount::default()
            }),
            Otp::Totp(_) => None,
        }
    }
}

impl fmt::Debug for ImportedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedKey")
            .field("uri", &self.uri)
            .field("origin", &self.origin)
            .field("serial", &self.serial)
            .field("pin", &self.pin)
            .field("last_step", &self.last_step)
            .field("drift", &self.drift)
            .field("last_code", &self.last_code.as_ref().map(|_| ".."))
            .field("last_used", &self.last_used)
            .field("policy", &self.policy)
            .field("pending", &self.pending)
            .finish()
    }
}

/// The kind of generator a record describes, with its moving factor.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// Time-based: the period in seconds and `T0`.
    Totp { period: u64, t0: u64 },
    /// Counter-based: the next counter expected.
    Hotp { counter: u64 },
}

/// The generator a record describes. Secrets of 80 bits are taken: files
/// from existing systems hold them.
pub(super) fn generator(
    secret: &[u8],
    algorithm: Algorithm,
    digits: u8,
    kind: Kind,
) -> Result<Otp, Problem> {
    let secret = Secret::from_bytes_accepting_80_bit(secret)?;
    Ok(match kind {
        Kind::Totp { period, t0 } => Otp::Totp(
            Totp::builder(secret)
                .algorithm(algorithm)
                .digits(digits)
                .period(period)
                .t0(t0)
                .build()?,
        ),
        Kind::Hotp { counter } => Otp::Hotp {
            hotp: Hotp::builder(secret)
                .algorithm(algorithm)
                .digits(digits)
                .build()?,
            counter,
        },
    })
}

/// The number of digits of a decimal format, or why a writer cannot
/// express the format.
pub(super) fn decimal_digits(format: Format) -> Result<u8, Problem> {
    match format {
        Format::Decimal(digits) => Ok(digits.get()),
        Format::Steam => Err(Problem::NotRepresentable("Steam Guard codes")),
    }
}
