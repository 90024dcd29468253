//! `otpauth://` URIs (the Key Uri Format): building them for an
//! authenticator app and reading them the way the apps do.

mod parse;
pub(super) mod percent;
mod portability;

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use core::fmt::Write;

use zeroize::Zeroizing;

use super::exact;
use crate::{
    error::Error,
    otp::{Algorithm, Digits, Format, Hotp, Secret, Totp},
};

pub use portability::PortabilityWarning;

/// The generator an `otpauth://` URI describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Otp {
    /// `otpauth://totp/…`: time-based codes.
    Totp(Totp),
    /// `otpauth://hotp/…`: counter-based codes, starting at `counter`.
    Hotp {
        /// The generator.
        hotp: Hotp,
        /// The counter the authenticator starts at.
        counter: u64,
    },
}

impl Otp {
    /// The URI's type: `totp` or `hotp`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Totp(_) => "totp",
            Self::Hotp { .. } => "hotp",
        }
    }

    /// The secret.
    #[must_use]
    pub fn secret(&self) -> &Secret {
        match self {
            Self::Totp(totp) => totp.secret(),
            Self::Hotp { hotp, .. } => hotp.secret(),
        }
    }

    /// The HMAC algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Totp(totp) => totp.algorithm(),
            Self::Hotp { hotp, .. } => hotp.algorithm(),
        }
    }

    /// The code format.
    #[must_use]
    pub fn format(&self) -> Format {
        match self {
            Self::Totp(totp) => totp.format(),
            Self::Hotp { hotp, .. } => hotp.format(),
        }
    }
}

/// An `otpauth://` URI: what an authenticator app needs to show codes,
/// and the label it shows them under.
///
/// [`KeyUri::to_uri`] writes the URI to put in a QR code; [`KeyUri::parse`]
/// reads one as authenticator apps do, and refuses with a typed [`Error`]
/// anything they would get wrong. Reading what was written gives back the
/// same value. The verifier's own policy (window, look-ahead, `T0`) is not
/// part of the format: a parsed generator has the defaults.
///
/// ```
/// use twofa::{KeyUri, Secret, Totp};
///
/// // A demo secret, never a real one.
/// let totp = Totp::new(Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")?);
/// let key = KeyUri::new(totp.into(), "alice@example.com")?.with_issuer("ACME Co")?;
/// let uri = key.to_uri();
/// assert_eq!(
///     uri.as_str(),
///     "otpauth://totp/ACME%20Co:alice@example.com\
///      ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co"
/// );
/// assert_eq!(KeyUri::parse(&uri)?, key);
///
/// // As apps accept it: %3A, spaces after the colon, + for a space in the
/// // query (in the label a + is a plus sign), lower-case names.
/// let pasted = "otpauth://totp/ACME%20Co%3A%20alice@example.com\
///               ?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&issuer=ACME+Co&algorithm=sha1";
/// assert_eq!(KeyUri::parse(pasted)?, key);
/// # Ok::<(), twofa::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeyUri {
    otp: Otp,
    issuer: Option<String>,
    account: String,
    image: Option<String>,
    /// Whether reading dropped an `image` that was not an https address.
    image_dropped: bool,
    extra: Vec<(String, String)>,
}

/// The parameters the Key Uri Format defines, in the order they are
/// written.
const RESERVED: [&str; 8] = [
    "secret",
    "issuer",
    "algorithm",
    "digits",
    "period",
    "counter",
    "encoder",
    "image",
];

impl KeyUri {
    /// A URI for `otp`, shown under `account` (an email address or user
    /// name), with no issuer yet.
    ///
    /// # Errors
    /// [`Error::MissingAccount`] for an empty name or one starting with a
    /// space (apps drop spaces after the label's colon), or
    /// [`Error::ColonInLabel`].
    pub fn new(otp: Otp, account: &str) -> Result<Self, Error> {
        check_label_part(account)?;
        Ok(Self {
            otp,
            issuer: None,
            account: account.to_owned(),
            image: None,
            image_dropped: false,
            extra: Vec::new(),
        })
    }

    /// The issuer: the service's name, written both before the label's
    /// colon and as the `issuer` parameter, as the format recommends.
    ///
    /// # Errors
    /// [`Error::EmptyParameter`] or [`Error::ColonInLabel`].
    pub fn with_issuer(mut self, issuer: &str) -> Result<Self, Error> {
        if issuer.is_empty() {
            return Err(Error::EmptyParameter);
        }
        if issuer.contains(':') {
            return Err(Error::ColonInLabel);
        }
        self.issuer = Some(issuer.to_owned());
        Ok(self)
    }

    /// An image for the app to show beside the codes (`image`, an https
    /// URL of a logo; FreeOTP and others read it).
    ///
    /// # Errors
    /// [`Error::EmptyParameter`], or [`Error::ImageNotHttps`] for anything
    /// but an `https://` address (an app would fetch or open it).
    pub fn with_image(mut self, url: &str) -> Result<Self, Error> {
        if url.is_empty() {
            return Err(Error::EmptyParameter);
        }
        if !is_https(url) {
            return Err(Error::ImageNotHttps);
        }
        self.image = Some(url.to_owned());
        Ok(self)
    }

    /// A parameter the format does not define, written after the others.
    ///
    /// # Errors
    /// [`Error::ReservedParameter`] when `name` is one the format defines.
    pub fn with_parameter(mut self, name: &str, value: &str) -> Result<Self, Error> {
        if let Some(reserved) = reserved(name) {
            return Err(Error::ReservedParameter(reserved));
        }
        self.extra.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// The URI, ready for a QR code. Parameters are written only when they
    /// differ from the defaults (SHA-1, 6 digits, 30 s), so that the URI
    /// stays short and every app reads it. It contains the secret, so it
    /// is wiped when dropped.
    #[must_use]
    pub fn to_uri(&self) -> Zeroizing<String> {
        // At its exact size: growing would leave copies of the secret.
        exact::write_exact(|out| self.write_uri(out))
    }

    /// `otpauth://TYPE/LABEL`, percent-encoded.
    fn write_path(&self, out: &mut (impl Write + ?Sized)) -> core::fmt::Result {
        write!(out, "otpauth://{}/", self.otp.kind())?;
        if let Some(issuer) = &self.issuer {
            percent::encode(issuer, out)?;
            out.write_char(':')?;
        }
        percent::encode(&self.account, out)
    }

    fn write_uri(&self, out: &mut (impl Write + ?Sized)) -> core::fmt::Result {
        self.write_path(out)?;
        write!(out, "?secret={}", self.otp.secret().expose_base32())?;
        if let Some(issuer) = &self.issuer {
            out.write_str("&issuer=")?;
            percent::encode(issuer, out)?;
        }
        let algorithm = self.otp.algorithm();
        if algorithm != Algorithm::Sha1 {
            write!(out, "&algorithm={algorithm}")?;
        }
        match self.otp.format() {
            Format::Decimal(digits) if digits != Digits::DEFAULT => {
                write!(out, "&digits={digits}")?;
            }
            Format::Decimal(_) => {}
            Format::Steam => out.write_str("&encoder=steam")?,
        }
        match &self.otp {
            Otp::Totp(totp) if totp.period() != Totp::DEFAULT_PERIOD => {
                write!(out, "&period={}", totp.period())?;
            }
            Otp::Totp(_) => {}
            Otp::Hotp { counter, .. } => write!(out, "&counter={counter}")?,
        }
        if let Some(image) = &self.image {
            out.write_str("&image=")?;
            percent::encode(image, out)?;
        }
        for (name, value) in &self.extra {
            out.write_char('&')?;
            percent::encode(name, out)?;
            out.write_char('=')?;
            percent::encode(value, out)?;
        }
        Ok(())
    }

    /// Moves an HOTP URI's counter to `next`.
    pub(crate) fn set_counter(&mut self, next: u64) {
        if let Otp::Hotp { counter, .. } = &mut self.otp {
            *counter = next;
        }
    }

    /// The generator.
    #[must_use]
    pub fn otp(&self) -> &Otp {
        &self.otp
    }

    /// The generator, taking it out of the URI.
    #[must_use]
    pub fn into_otp(self) -> Otp {
        self.otp
    }

    /// The issuer, if any.
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The account name.
    #[must_use]
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The image URL, if any.
    #[must_use]
    pub fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }

    /// The parameters the format does not define, in the order they came
    /// (decoded).
    #[must_use]
    pub fn extra_parameters(&self) -> &[(String, String)] {
        &self.extra
    }

    /// What popular authenticator apps will get wrong about this URI: an
    /// empty list means every app shows the right codes.
    #[must_use]
    pub fn portability(&self) -> Vec<PortabilityWarning> {
        portability::check(self)
    }
}

impl From<Totp> for Otp {
    fn from(totp: Totp) -> Self {
        Self::Totp(totp)
    }
}

/// Two URIs are equal when they say the same: what reading dropped (a
/// non-https image) is not part of the value.
impl PartialEq for KeyUri {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.otp,
            &self.issuer,
            &self.account,
            &self.image,
            &self.extra,
        ) == (
            &other.otp,
            &other.issuer,
            &other.account,
            &other.image,
            &other.extra,
        )
    }
}

impl Eq for KeyUri {}

impl core::fmt::Display for KeyUri {
    /// A description without the secret: `otpauth://totp/ACME:alice (secret hidden)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.write_path(f)?;
        f.write_str(" (secret hidden)")
    }
}

/// Whether `url` is an `https://` address (scheme in any case): the only
/// image an app should fetch. `javascript:`, `data:` or `http:` are not.
pub(super) fn is_https(url: &str) -> bool {
    const SCHEME: &str = "https://";
    url.get(..SCHEME.len())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
        && url.len() > SCHEME.len()
}

/// The known parameter `name` is, compared without regard to case.
pub(super) fn reserved(name: &str) -> Option<&'static str> {
    RESERVED
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(name))
}

/// An account or issuer name fit for a label.
pub(super) fn check_label_part(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.starts_with(' ') {
        Err(Error::MissingAccount)
    } else if name.contains(':') {
        Err(Error::ColonInLabel)
    } else {
        Ok(())
    }
}
