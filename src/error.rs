//! The one error type of the crate.

use core::fmt;

#[cfg(feature = "webauthn")]
use crate::factor::webauthn::WebauthnError;

/// Everything that can go wrong in `twofa`, as a small value a service can
/// match on to choose its answer.
///
/// The variants that answer a login attempt are [`Error::InvalidCode`],
/// [`Error::Replayed`] and [`Error::MalformedCode`]; the others report a
/// bad parameter, secret or time and are meant for the operator.
///
/// No variant carries a secret, a code or any part of either: an `Error`
/// can be logged as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The code is well formed but matches no counter or time step in the
    /// window. The only thing a failed check says.
    InvalidCode,
    /// The code is correct, but its time step or counter was already
    /// accepted for this account: "OTP has been used in past, please try
    /// the next one".
    Replayed,
    /// The code is not the expected number of ASCII digits (one space or
    /// hyphen between two digits is allowed). Decided before the secret
    /// is used.
    MalformedCode,
    /// The secret is shorter than the minimum: 16 bytes (RFC 4226 R6), or
    /// 10 bytes through the explicitly named 80-bit constructors.
    SecretTooShort,
    /// The secret is longer than [`Secret::MAX_LEN`](crate::Secret::MAX_LEN) bytes.
    SecretTooLong,
    /// The text is not base32: a character outside `A`–`Z`, `2`–`7`
    /// (either case), padding before the end, or a length that cannot
    /// hold whole bytes.
    InvalidBase32,
    /// The random number generator failed to produce bytes.
    RngFailure,
    /// The number of digits is outside 6 to 10.
    UnsupportedDigits,
    /// The time step (period) is zero or longer than
    /// [`Totp::MAX_PERIOD`](crate::Totp::MAX_PERIOD) seconds.
    InvalidPeriod,
    /// A TOTP window or HOTP look-ahead is larger than its maximum.
    WindowTooLarge,
    /// The time is earlier than the TOTP epoch `T0` (or the system clock
    /// is set before 1970).
    TimeBeforeEpoch,
    /// The algorithm name is not one of SHA1, SHA256, SHA512.
    UnknownAlgorithm,
    /// The text is not an `otpauth://` URI.
    NotOtpauthUri,
    /// The URI's type is not `totp`, `hotp` or `steam`.
    UnknownOtpType,
    /// The label has no account name.
    MissingAccount,
    /// An issuer or account name contains a colon, which the label uses
    /// to separate them; or the label has more than one.
    ColonInLabel,
    /// An issuer or image parameter is empty.
    EmptyParameter,
    /// The issuer before the label's colon differs from the `issuer`
    /// parameter.
    IssuerMismatch,
    /// The URI has no `secret` parameter.
    MissingSecret,
    /// An HOTP URI has no `counter` parameter.
    MissingCounter,
    /// The `counter` parameter is not a number from 0 to 2^64 - 1.
    InvalidCounter,
    /// The `encoder` parameter names an encoding other than `steam`.
    UnknownEncoder,
    /// An image given to a URI is not an `https://` address.
    ImageNotHttps,
    /// A `%` is not followed by two hex digits, or the decoded bytes are
    /// not UTF-8.
    InvalidPercentEncoding,
    /// A parameter the URI format defines appears twice (its name is given).
    DuplicateParameter(&'static str),
    /// An extra parameter was given the name of one the URI format defines
    /// (its name is given); set that one through its own method instead.
    ReservedParameter(&'static str),
    /// The URI is too long for the largest QR code.
    UriTooLongForQr,
    /// The HOTP counter has reached 2^64 - 1: the token needs a new secret.
    CounterExhausted,
    /// A throttle, out-of-band or recovery policy is outside its bounds.
    InvalidPolicy,
    /// Resynchronisation takes 2 or 3 consecutive codes.
    ResyncCodeCount,
    /// A stored record names a key id that none of the keys given has (a
    /// retired key, or a damaged record).
    UnknownKeyId,
    /// An out-of-band challenge was accepted or ran out of attempts: it
    /// cannot be sent again. Issue a new one, under the send limit.
    ChallengeSpent,
    /// A device's public key is malformed, or its signature over the
    /// registration challenge does not verify.
    InvalidDeviceKey,
    /// The account has as many active devices as its policy allows.
    TooManyDevices,
    /// No active device of the account has that id.
    UnknownDevice,
    /// Not a token (a pending-login ticket or a remembered-device cookie):
    /// anything but 32 bytes of base32.
    MalformedToken,
    /// Not a sealed secret: wrong length, unknown kind, bad text encoding.
    MalformedSealed,
    /// A sealed secret in a format version this crate does not read.
    UnsupportedSealVersion,
    /// A sealed secret failed authentication: altered, or sealed for
    /// another account or purpose. Nothing of it is revealed.
    SealedTampered,
    /// A sealed secret is of another kind than the one asked for.
    SealedKindMismatch,
    /// A keyring already holds a key with that id.
    DuplicateKeyId,
    /// Not a key in its text form: `ID:HEX`, a decimal id and 64 hex
    /// digits.
    MalformedKey,
    /// A keyring holds as many keys as it can.
    KeyringFull,
    /// The current key of a keyring cannot be retired: make another current
    /// first.
    CurrentKeyRetired,
    /// A stored recovery-code record asks for an Argon2id cost outside the
    /// accepted bounds (below the floor, which would make guessing cheap,
    /// or above the ceiling, which would stall the verifier).
    StoredCostOutOfRange,
    /// A sealed secret's name is empty or longer than
    /// [`SealedSecrets::MAX_NAME`](crate::SealedSecrets::MAX_NAME).
    BadSecretName,
    /// An account holds as many sealed secrets as it may
    /// ([`SealedSecrets::MAX`](crate::SealedSecrets::MAX)).
    TooManySecrets,
    /// The account holds as many passkeys as its policy allows.
    TooManyPasskeys,
    /// No passkey with that credential id is registered to the account.
    UnknownPasskey,
    /// A passkey with that credential id is already registered.
    DuplicatePasskey,
    /// A WebAuthn registration or assertion was refused, and why.
    #[cfg(feature = "webauthn")]
    Webauthn(WebauthnError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match *self {
            Self::InvalidCode => "invalid code",
            Self::Replayed => "code already used",
            Self::MalformedCode => "malformed code",
            Self::SecretTooShort => "secret too short",
            Self::SecretTooLong => "secret too long",
            Self::InvalidBase32 => "secret is not valid base32",
            Self::RngFailure => "random number generator failed",
            Self::UnsupportedDigits => "number of digits must be 6 to 10",
            Self::InvalidPeriod => "invalid time step period",
            Self::WindowTooLarge => "verification window too large",
            Self::TimeBeforeEpoch => "time is before the epoch",
            Self::UnknownAlgorithm => "unknown algorithm",
            Self::NotOtpauthUri => "not an otpauth:// URI",
            Self::UnknownOtpType => "URI type is not totp, hotp or steam",
            Self::MissingAccount => "label has no account name",
            Self::ColonInLabel => "issuer or account name contains a colon",
            Self::EmptyParameter => "issuer or image is empty",
            Self::IssuerMismatch => "issuer in the label differs from the issuer parameter",
            Self::MissingSecret => "URI has no secret parameter",
            Self::MissingCounter => "HOTP URI has no counter parameter",
            Self::InvalidCounter => "counter is not a number from 0 to 2^64-1",
            Self::UnknownEncoder => "unknown encoder (only steam is known)",
            Self::ImageNotHttps => "image is not an https:// address",
            Self::InvalidPercentEncoding => "malformed percent-encoding or not UTF-8",
            Self::UriTooLongForQr => "URI too long for a QR code",
            Self::CounterExhausted => "HOTP counter exhausted",
            Self::InvalidPolicy => "policy outside its bounds",
            Self::ResyncCodeCount => "resynchronisation takes 2 or 3 codes",
            Self::UnknownKeyId => "record names an unknown key id",
            Self::ChallengeSpent => "challenge already accepted or out of attempts",
            Self::InvalidDeviceKey => "device key malformed or not proven",
            Self::TooManyDevices => "too many devices for this account",
            Self::UnknownDevice => "no such active device",
            Self::MalformedToken => "not a token",
            Self::MalformedSealed => "not a sealed secret",
            Self::UnsupportedSealVersion => "sealed secret of an unknown format version",
            Self::SealedTampered => "sealed secret failed authentication",
            Self::SealedKindMismatch => "sealed secret of another kind",
            Self::DuplicateKeyId => "a key with that id is already in the keyring",
            Self::MalformedKey => "a key must be ID:HEX, a decimal id and 64 hex digits",
            Self::KeyringFull => "keyring is full",
            Self::CurrentKeyRetired => "the current key cannot be retired",
            Self::StoredCostOutOfRange => "stored hash cost outside the accepted bounds",
            Self::BadSecretName => "a sealed secret's name is 1 to 64 bytes",
            Self::TooManySecrets => "the account holds as many sealed secrets as it may",
            Self::TooManyPasskeys => "too many passkeys for this account",
            Self::UnknownPasskey => "no such passkey",
            Self::DuplicatePasskey => "that passkey is already registered",
            Self::DuplicateParameter(name) => {
                return write!(f, "parameter {name} appears twice");
            }
            Self::ReservedParameter(name) => {
                return write!(f, "{name} is a reserved parameter name");
            }
            #[cfg(feature = "webauthn")]
            Self::Webauthn(reason) => return write!(f, "webauthn: {reason}"),
        })
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "webauthn")]
impl From<WebauthnError> for Error {
    fn from(reason: WebauthnError) -> Self {
        Self::Webauthn(reason)
    }
}
