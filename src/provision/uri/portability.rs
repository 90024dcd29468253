//! What popular authenticator apps get wrong: several ignore `algorithm`,
//! `digits` and `period` and silently show codes that never verify. Only
//! SHA-1, 6 digits and 30 seconds work everywhere.

use alloc::vec::Vec;
use core::fmt;

use super::{KeyUri, Otp};
use crate::otp::{Algorithm, Digits, Format, Totp};

/// A parameter of a [`KeyUri`] that some popular authenticator apps
/// ignore or do not support, so that their users would see wrong codes
/// or none. An issuer may still choose it, knowingly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PortabilityWarning {
    /// An algorithm other than SHA-1.
    Algorithm(Algorithm),
    /// A number of digits other than 6.
    Digits(Digits),
    /// A period other than 30 seconds.
    Period(u64),
    /// Steam Guard codes, which only Steam-aware apps show.
    Steam,
    /// Counter-based codes, which some popular apps do not offer.
    Hotp,
    /// The URI read had an `image` that was not an `https://` address
    /// (a `javascript:` or `http:` one, say): it was dropped.
    ImageDropped,
}

impl fmt::Display for PortabilityWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Algorithm(algorithm) => write!(
                f,
                "algorithm {algorithm}: some apps ignore it and show SHA1 codes that never verify"
            ),
            Self::Digits(digits) => write!(
                f,
                "{digits} digits: some apps ignore it and show 6-digit codes that never verify"
            ),
            Self::Period(period) => write!(
                f,
                "period {period} s: some apps ignore it and show 30-second codes that never verify"
            ),
            Self::Steam => f.write_str("Steam Guard codes: only Steam-aware apps show them"),
            Self::Hotp => f.write_str("counter-based (HOTP) codes: some apps offer only TOTP"),
            Self::ImageDropped => f.write_str("image was not an https:// address: dropped"),
        }
    }
}

/// Every warning for `uri`, in the order the parameters are written.
pub(super) fn check(uri: &KeyUri) -> Vec<PortabilityWarning> {
    let mut warnings = Vec::new();
    if let Otp::Hotp { .. } = uri.otp {
        warnings.push(PortabilityWarning::Hotp);
    }
    let algorithm = uri.otp.algorithm();
    if algorithm != Algorithm::Sha1 {
        warnings.push(PortabilityWarning::Algorithm(algorithm));
    }
    match uri.otp.format() {
        Format::Decimal(digits) if digits != Digits::DEFAULT => {
            warnings.push(PortabilityWarning::Digits(digits));
        }
        Format::Decimal(_) => {}
        Format::Steam => warnings.push(PortabilityWarning::Steam),
    }
    if let Otp::Totp(totp) = &uri.otp
        && totp.period() != Totp::DEFAULT_PERIOD
    {
        warnings.push(PortabilityWarning::Period(totp.period()));
    }
    if uri.image_dropped {
        warnings.push(PortabilityWarning::ImageDropped);
    }
    warnings
}
