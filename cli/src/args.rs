//! The options several commands share, and the generator a SECRET or URI
//! argument describes.

use std::{
    env,
    io::{self, BufRead},
};

use clap::Args;
use twofa::{Algorithm, Format, Hotp, KeyUri, Otp, Secret, Totp, unix_time};
use zeroize::Zeroizing;

use crate::Failure;

/// Where a SECRET or URI comes from: the argument, standard input for
/// `-`, or `--secret-env VAR`.
#[derive(Debug, Args)]
pub(crate) struct Source {
    /// A base32 secret or an otpauth:// URI; - reads it from standard
    /// input.
    #[arg(
        value_name = "SECRET|URI|-",
        required_unless_present = "secret_env",
        conflicts_with = "secret_env"
    )]
    pub(crate) secret: Option<String>,
    /// Reads the SECRET or URI from this environment variable, out of ps
    /// and shell history.
    #[arg(long, value_name = "VAR")]
    pub(crate) secret_env: Option<String>,
}

impl Source {
    /// The text: from the environment, from standard input, or the
    /// argument itself.
    pub(crate) fn text(&self) -> Result<Zeroizing<String>, Failure> {
        read_text(self.secret.as_deref(), self.secret_env.as_deref())
    }
}

/// The text of an argument that may be secret: from the variable `env`
/// names, from standard input for `-`, or the argument itself.
pub(crate) fn read_text(
    argument: Option<&str>,
    variable: Option<&str>,
) -> Result<Zeroizing<String>, Failure> {
    if let Some(var) = variable {
        let value = from_env(var)?;
        return Ok(Zeroizing::new(value.trim().to_owned()));
    }
    match argument {
        Some("-") => {
            // Room for any secret or URI, so that reading never grows
            // (and so copies) the buffer.
            let mut line = Zeroizing::new(String::with_capacity(4096));
            io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
            Ok(Zeroizing::new(line.trim().to_owned()))
        }
        Some(text) => Ok(Zeroizing::new(text.to_owned())),
        None => Err(Failure::usage("missing SECRET or URI")),
    }
}

/// The value of the environment variable `var`, wiped when dropped.
pub(crate) fn from_env(var: &str) -> Result<Zeroizing<String>, Failure> {
    // A value typed where its variable's name goes (a key, a password) is
    // not repeated back: what is not a name, or is long with no `_` (as
    // base32 secrets and hex keys are and names rarely are).
    let name = var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && (var.len() < 16 || var.contains('_'));
    if !name {
        return Err(Failure::usage(
            "an option ending in -env takes the name of an environment variable (the value given is not shown)",
        ));
    }
    let value = env::var(var).map_err(|_| {
        Failure::usage(format!(
            "environment variable {var:?} is not set (or not UTF-8)"
        ))
    })?;
    Ok(Zeroizing::new(value))
}

/// How codes are made from a bare SECRET (a URI carries its own).
#[derive(Debug, Args)]
pub(crate) struct Parameters {
    /// The HMAC's hash.
    #[arg(long, value_name = "SHA1|SHA256|SHA512", value_parser = algorithm)]
    pub(crate) algorithm: Option<Algorithm>,
    /// Digits per code, 6 to 10 [default: 6].
    #[arg(long, value_name = "N", conflicts_with = "steam")]
    pub(crate) digits: Option<u8>,
    /// The TOTP time step in seconds [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub(crate) period: Option<u64>,
    /// Steam Guard's five characters.
    #[arg(long)]
    pub(crate) steam: bool,
}

fn algorithm(text: &str) -> Result<Algorithm, twofa::Error> {
    text.parse()
}

impl Parameters {
    fn given(&self) -> bool {
        self.algorithm.is_some() || self.digits.is_some() || self.period.is_some() || self.steam
    }

    fn totp(&self, secret: Secret, window: Option<u64>) -> Result<Totp, Failure> {
        let window = window.unwrap_or(Totp::DEFAULT_WINDOW);
        Ok(self
            .format(Totp::builder(secret))?
            .period(self.period.unwrap_or(Totp::DEFAULT_PERIOD))
            .window(window, window)
            .build()?)
    }

    fn hotp(&self, secret: Secret, look_ahead: Option<u64>) -> Result<Hotp, Failure> {
        Ok(self
            .format(Hotp::builder(secret))?
            .look_ahead(look_ahead.unwrap_or(Hotp::DEFAULT_LOOK_AHEAD))
            .build()?)
    }

    /// Applies --algorithm, --digits and --steam to either builder.
    fn format<B: Builder>(&self, builder: B) -> Result<B, Failure> {
        let format = if self.steam {
            Format::Steam
        } else {
            Format::Decimal(self.digits.unwrap_or(6).try_into()?)
        };
        Ok(builder
            .with_algorithm(self.algorithm.unwrap_or_default())
            .with_format(format))
    }

    /// A generator for a fresh `secret`: HOTP from `counter` when one is
    /// given, TOTP otherwise.
    pub(crate) fn fresh(
        &self,
        secret: Secret,
        counter: Option<u64>,
        window: Option<u64>,
    ) -> Result<Otp, Failure> {
        Ok(match counter {
            Some(counter) => Otp::Hotp {
                hotp: self.hotp(secret, window)?,
                counter,
            },
            None => Otp::Totp(self.totp(secret, window)?),
        })
    }

    /// The generator a SECRET or URI describes: HOTP when the URI says so
    /// or `counter` is given, TOTP otherwise; `window` is the TOTP window
    /// each way, or the HOTP look-ahead.
    pub(crate) fn otp(
        &self,
        text: &str,
        counter: Option<u64>,
        window: Option<u64>,
    ) -> Result<Otp, Failure> {
        if text
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth:"))
        {
            if self.given() {
                return Err(Failure::usage(
                    "a URI carries its own algorithm, digits and period: drop those options",
                ));
            }
            return Ok(match KeyUri::parse_accepting_80_bit(text)?.into_otp() {
                // The verifier's window is not part of a URI: apply --window.
                Otp::Totp(totp) => {
                    let window = window.unwrap_or(Totp::DEFAULT_WINDOW);
                    Otp::Totp(totp.into_builder().window(window, window).build()?)
                }
                Otp::Hotp { hotp, counter: own } => Otp::Hotp {
                    hotp: hotp
                        .into_builder()
                        .look_ahead(window.unwrap_or(Hotp::DEFAULT_LOOK_AHEAD))
                        .build()?,
                    counter: counter.unwrap_or(own),
                },
            });
        }
        // Secrets pasted from existing accounts may be 80-bit.
        self.fresh(Secret::from_base32_accepting_80_bit(text)?, counter, window)
    }
}

/// When a code is made or checked: `--time` or `--counter`, and the
/// window.
#[derive(Debug, Args)]
pub(crate) struct When {
    /// The Unix time to make or check the TOTP code at [default: now].
    #[arg(long, value_name = "UNIX", conflicts_with = "counter")]
    pub(crate) time: Option<u64>,
    /// The HOTP counter: makes a bare SECRET an HOTP one.
    #[arg(long, value_name = "N")]
    pub(crate) counter: Option<u64>,
}

impl When {
    /// `--time`, or the system clock.
    pub(crate) fn time(&self) -> Result<u64, Failure> {
        time_or_now(self.time)
    }
}

/// `time`, or the system clock's.
pub(crate) fn time_or_now(time: Option<u64>) -> Result<u64, Failure> {
    match time {
        Some(time) => Ok(time),
        None => Ok(unix_time()?),
    }
}

/// The parts of [`twofa::TotpBuilder`] and [`twofa::HotpBuilder`] that the
/// shared options set.
trait Builder {
    fn with_algorithm(self, algorithm: Algorithm) -> Self;
    fn with_format(self, format: Format) -> Self;
}

impl Builder for twofa::TotpBuilder {
    fn with_algorithm(self, algorithm: Algorithm) -> Self {
        self.algorithm(algorithm)
    }
    fn with_format(self, format: Format) -> Self {
        self.format(format)
    }
}

impl Builder for twofa::HotpBuilder {
    fn with_algorithm(self, algorithm: Algorithm) -> Self {
        self.algorithm(algorithm)
    }
    fn with_format(self, format: Format) -> Self {
        self.format(format)
    }
}
