//! Reading `otpauth://` URIs the way authenticator apps do, with a typed
//! error for each way a URI can be wrong.

use alloc::{borrow::ToOwned, string::String, vec::Vec};

use zeroize::Zeroizing;

use super::{
    KeyUri, Otp, check_label_part, is_https,
    percent::{self, Part},
    reserved,
};
use crate::{
    error::Error,
    otp::{Algorithm, Digits, Format, Hotp, Secret, Totp},
};

impl KeyUri {
    /// Reads a URI as authenticator apps accept it: `:` or `%3A` between
    /// issuer and account, with optional spaces after it; `%20` for a
    /// space, and in the query `+` too (in the label `+` is a plus sign:
    /// `alice+2fa@example.com`); parameter names and `algorithm` values in
    /// any case; the secret in base32 as people write it (padded, lower
    /// case, spaced); `otpauth://steam/…` for Steam Guard keys, as Aegis
    /// exports them. An `image` that is not an `https://` address is
    /// dropped, with [`PortabilityWarning::ImageDropped`](crate::PortabilityWarning::ImageDropped).
    /// Secrets must have 128 bits at least; see
    /// [`KeyUri::parse_accepting_80_bit`].
    ///
    /// Parameters the format does not define are kept, in order, in
    /// [`KeyUri::extra_parameters`], so a caller can see and report them.
    /// So are `period` on an HOTP URI and `counter` on a TOTP one.
    ///
    /// # Errors
    /// A typed error naming what is wrong: [`Error::NotOtpauthUri`],
    /// [`Error::UnknownOtpType`], [`Error::InvalidPercentEncoding`],
    /// [`Error::MissingAccount`], [`Error::ColonInLabel`],
    /// [`Error::IssuerMismatch`], [`Error::MissingSecret`], the secret's
    /// errors ([`Error::InvalidBase32`], [`Error::SecretTooShort`],
    /// [`Error::SecretTooLong`]), [`Error::UnknownAlgorithm`],
    /// [`Error::UnsupportedDigits`], [`Error::InvalidPeriod`],
    /// [`Error::MissingCounter`], [`Error::InvalidCounter`],
    /// [`Error::UnknownEncoder`], [`Error::EmptyParameter`] (an empty
    /// `image`) or [`Error::DuplicateParameter`]. None of them carries the
    /// secret.
    pub fn parse(uri: &str) -> Result<Self, Error> {
        Self::parse_with_min(uri, Secret::from_base32)
    }

    /// [`KeyUri::parse`], accepting secrets of 80 bits as some services
    /// still issue: only for importing existing accounts.
    ///
    /// # Errors
    /// As [`KeyUri::parse`].
    pub fn parse_accepting_80_bit(uri: &str) -> Result<Self, Error> {
        Self::parse_with_min(uri, Secret::from_base32_accepting_80_bit)
    }

    fn parse_with_min(
        uri: &str,
        read_secret: fn(&str) -> Result<Secret, Error>,
    ) -> Result<Self, Error> {
        const SCHEME: &str = "otpauth://";
        let rest = uri
            .get(..SCHEME.len())
            .filter(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
            .and_then(|_| uri.get(SCHEME.len()..))
            .ok_or(Error::NotOtpauthUri)?;
        let (kind, rest) = rest.split_once('/').ok_or(Error::MissingAccount)?;
        // Aegis and others write Steam Guard keys as `otpauth://steam/`.
        let (is_totp, steam) = if kind.eq_ignore_ascii_case("totp") {
            (true, false)
        } else if kind.eq_ignore_ascii_case("hotp") {
            (false, false)
        } else if kind.eq_ignore_ascii_case("steam") {
            (true, true)
        } else {
            return Err(Error::UnknownOtpType);
        };
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));

        let label = percent::decode(label, Part::Path)?;
        let (label_issuer, account) = match label.split_once(':') {
            Some((issuer, account)) => (
                (!issuer.is_empty()).then_some(issuer),
                account.trim_start_matches(' '),
            ),
            None => (None, label.trim_start_matches(' ')),
        };
        check_label_part(account)?;

        let mut params = Params::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent::decode(name, Part::Query)?;
            let value = Zeroizing::new(percent::decode(value, Part::Query)?);
            // A period means nothing to HOTP, nor a counter to TOTP.
            let ignored = if is_totp { "counter" } else { "period" };
            match reserved(&name).filter(|&known| known != ignored) {
                Some(known) => params.set(known, value)?,
                None => params.extra.push((name, value.as_str().to_owned())),
            }
        }

        let param_issuer = params.issuer.as_deref().filter(|issuer| !issuer.is_empty());
        let issuer = match (label_issuer, param_issuer) {
            (Some(label), Some(param)) if label != param.as_str() => {
                return Err(Error::IssuerMismatch);
            }
            (Some(label), _) => Some(label.to_owned()),
            (None, Some(param)) => {
                if param.contains(':') {
                    return Err(Error::ColonInLabel);
                }
                Some(param.as_str().to_owned())
            }
            (None, _) => None,
        };
        let secret = read_secret(params.secret.as_deref().ok_or(Error::MissingSecret)?)?;
        let algorithm = params
            .algorithm
            .as_deref()
            .map_or(Ok(Algorithm::Sha1), |name| name.parse())?;
        let encoder = match params.encoder.as_deref() {
            None if steam => Some("steam"),
            encoder => encoder.map(String::as_str),
        };
        let format = match encoder {
            None => Format::Decimal(
                params
                    .digits
                    .as_deref()
                    .map_or(Ok(Digits::DEFAULT), |digits| digits.parse())?,
            ),
            Some(encoder) if encoder.eq_ignore_ascii_case("steam") => {
                // Steam codes are 5 characters; a digits parameter may say so.
                match params.digits.as_deref().map(String::as_str) {
                    None | Some("5") => Format::Steam,
                    Some(_) => return Err(Error::UnsupportedDigits),
                }
            }
            Some(_) => return Err(Error::UnknownEncoder),
        };
        let (image, image_dropped) = match params.image {
            Some(image) if image.is_empty() => return Err(Error::EmptyParameter),
            // Anything but an https address is dropped, and said so.
            Some(image) if !is_https(&image) => (None, true),
            image => (image.map(|image| image.as_str().to_owned()), false),
        };

        let otp = if is_totp {
            let period = match params.period.as_deref() {
                None => Totp::DEFAULT_PERIOD,
                Some(period) => period.parse().map_err(|_| Error::InvalidPeriod)?,
            };
            Otp::Totp(
                Totp::builder(secret)
                    .algorithm(algorithm)
                    .format(format)
                    .period(period)
                    .build()?,
            )
        } else {
            let counter = params
                .counter
                .ok_or(Error::MissingCounter)?
                .parse()
                .map_err(|_| Error::InvalidCounter)?;
            Otp::Hotp {
                hotp: Hotp::builder(secret)
                    .algorithm(algorithm)
                    .format(format)
                    .build()?,
                counter,
            }
        };
        Ok(Self {
            otp,
            issuer,
            account: account.to_owned(),
            image,
            image_dropped,
            extra: params.extra,
        })
    }
}

/// The defined parameters of a URI being read, each at most once.
#[derive(Default)]
struct Params {
    secret: Option<Zeroizing<String>>,
    issuer: Option<Zeroizing<String>>,
    algorithm: Option<Zeroizing<String>>,
    digits: Option<Zeroizing<String>>,
    period: Option<Zeroizing<String>>,
    counter: Option<Zeroizing<String>>,
    encoder: Option<Zeroizing<String>>,
    image: Option<Zeroizing<String>>,
    extra: Vec<(String, String)>,
}

impl Params {
    fn set(&mut self, name: &'static str, value: Zeroizing<String>) -> Result<(), Error> {
        let slot = match name {
            "secret" => &mut self.secret,
            "issuer" => &mut self.issuer,
            "algorithm" => &mut self.algorithm,
            "digits" => &mut self.digits,
            "period" => &mut self.period,
            "counter" => &mut self.counter,
            "encoder" => &mut self.encoder,
            _ => &mut self.image,
        };
        if slot.is_some() {
            return Err(Error::DuplicateParameter(name));
        }
        *slot = Some(value);
        Ok(())
    }
}
