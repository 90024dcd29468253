//! The command line: options, and the generator a SECRET or URI argument
//! describes.

use std::{
    env,
    io::{self, BufRead},
};

use twofa::{Algorithm, Format, Hotp, KeyUri, Otp, Secret, Totp, unix_time};
use zeroize::Zeroizing;

use crate::{Failure, USAGE};

/// The command line: `--name value` options and the rest, in order.
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) positional: Vec<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) account: Option<String>,
    pub(crate) algorithm: Option<Algorithm>,
    pub(crate) digits: Option<u8>,
    pub(crate) period: Option<u64>,
    pub(crate) steam: bool,
    pub(crate) time: Option<u64>,
    pub(crate) counter: Option<u64>,
    pub(crate) window: Option<u64>,
    pub(crate) secret_env: Option<String>,
    pub(crate) key_env: Option<String>,
    pub(crate) purpose: Option<String>,
    pub(crate) id: Option<u32>,
    pub(crate) format: Option<String>,
    pub(crate) pskc_key: Option<String>,
    pub(crate) pskc_key_env: Option<String>,
    pub(crate) pskc_password_env: Option<String>,
    pub(crate) skip_mac_check: bool,
    pub(crate) accept_outside_validity: bool,
    pub(crate) refuse_plain_integers: bool,
    pub(crate) pskc_sha256: Option<String>,
    pub(crate) pskc_unconfirmed: bool,
    /// One code per pending PSKC key, in file order.
    pub(crate) codes: Vec<Zeroizing<String>>,
    pub(crate) utc_offset: Option<i32>,
}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Self, Failure> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                options.positional.push(arg.clone());
                continue;
            };
            if name == "steam" {
                options.steam = true;
                continue;
            }
            if name == "pskc-skip-mac-check-known-broken" {
                options.skip_mac_check = true;
                continue;
            }
            if name == "pskc-accept-outside-validity" {
                options.accept_outside_validity = true;
                continue;
            }
            if name == "pskc-refuse-plain-integers" {
                options.refuse_plain_integers = true;
                continue;
            }
            if name == "pskc-unconfirmed" {
                options.pskc_unconfirmed = true;
                continue;
            }
            let value = args.next().ok_or_else(|| {
                Failure::usage(format!("--{} needs a value", name.escape_debug()))
            })?;
            match name {
                "issuer" => options.issuer = Some(value.clone()),
                "account" => options.account = Some(value.clone()),
                "algorithm" => options.algorithm = Some(value.parse()?),
                "digits" => options.digits = Some(number(name, value)?),
                "period" => options.period = Some(number(name, value)?),
                "time" => options.time = Some(number(name, value)?),
                "counter" => options.counter = Some(number(name, value)?),
                "window" => options.window = Some(number(name, value)?),
                "secret-env" => options.secret_env = Some(value.clone()),
                "key-env" => options.key_env = Some(value.clone()),
                "purpose" => options.purpose = Some(value.clone()),
                "id" => options.id = Some(number(name, value)?),
                "format" => options.format = Some(value.clone()),
                "pskc-key" => options.pskc_key = Some(value.clone()),
                "pskc-key-env" => options.pskc_key_env = Some(value.clone()),
                "pskc-password-env" => options.pskc_password_env = Some(value.clone()),
                "pskc-sha256" => options.pskc_sha256 = Some(value.clone()),
                "code" => options.codes.push(Zeroizing::new(value.clone())),
                "utc-offset" => options.utc_offset = Some(number(name, value)?),
                _ => {
                    return Err(Failure::usage(format!(
                        "unknown option --{}\n{USAGE}",
                        name.escape_debug()
                    )));
                }
            }
        }
        Ok(options)
    }

    /// The positional argument at `index`, named `what` in the message
    /// when it is missing.
    pub(crate) fn positional(&self, index: usize, what: &str) -> Result<&str, Failure> {
        self.positional
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| Failure::usage(format!("missing {what}\n{USAGE}")))
    }

    /// The SECRET or URI: from `--secret-env VAR`, from standard input for
    /// `-`, or the argument itself; and the index of the next positional
    /// argument.
    pub(crate) fn secret_text(&self) -> Result<(Zeroizing<String>, usize), Failure> {
        if let Some(var) = &self.secret_env {
            let value = Zeroizing::new(env::var(var).map_err(|_| {
                Failure::usage(format!(
                    "environment variable {var:?} is not set (or not UTF-8)"
                ))
            })?);
            return Ok((Zeroizing::new(value.trim().to_owned()), 1));
        }
        match self.positional(1, "SECRET or URI")? {
            "-" => {
                // Room for any secret or URI, so that reading never grows
                // (and so copies) the buffer.
                let mut line = Zeroizing::new(String::with_capacity(4096));
                io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
                Ok((Zeroizing::new(line.trim().to_owned()), 2))
            }
            text => Ok((Zeroizing::new(text.to_owned()), 2)),
        }
    }

    pub(crate) fn has_parameters(&self) -> bool {
        self.algorithm.is_some() || self.digits.is_some() || self.period.is_some() || self.steam
    }

    pub(crate) fn totp(&self, secret: Secret) -> Result<Totp, Failure> {
        let window = self.window.unwrap_or(Totp::DEFAULT_WINDOW);
        Ok(self
            .format(Totp::builder(secret))?
            .period(self.period.unwrap_or(Totp::DEFAULT_PERIOD))
            .window(window, window)
            .build()?)
    }

    pub(crate) fn hotp(&self, secret: Secret) -> Result<Hotp, Failure> {
        Ok(self
            .format(Hotp::builder(secret))?
            .look_ahead(self.window.unwrap_or(Hotp::DEFAULT_LOOK_AHEAD))
            .build()?)
    }

    /// Applies --algorithm, --digits and --steam to either builder.
    pub(crate) fn format<B: Builder>(&self, builder: B) -> Result<B, Failure> {
        let format = match (self.steam, self.digits) {
            (true, Some(_)) => {
                return Err(Failure::usage("--steam and --digits exclude each other"));
            }
            (true, None) => Format::Steam,
            (false, digits) => Format::Decimal(digits.unwrap_or(6).try_into()?),
        };
        Ok(builder
            .with_algorithm(self.algorithm.unwrap_or_default())
            .with_format(format))
    }

    /// The generator a SECRET or URI argument describes: HOTP when the
    /// URI says so or `--counter` is given, TOTP otherwise.
    pub(crate) fn otp(&self, text: &str) -> Result<Otp, Failure> {
        if text
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth:"))
        {
            if self.has_parameters() {
                return Err(Failure::usage(
                    "a URI carries its own algorithm, digits and period: drop those options",
                ));
            }
            return Ok(match KeyUri::parse_accepting_80_bit(text)?.into_otp() {
                // The verifier's window is not part of a URI: apply --window.
                Otp::Totp(totp) => {
                    let window = self.window.unwrap_or(Totp::DEFAULT_WINDOW);
                    Otp::Totp(totp.into_builder().window(window, window).build()?)
                }
                Otp::Hotp { hotp, counter } => Otp::Hotp {
                    hotp: hotp
                        .into_builder()
                        .look_ahead(self.window.unwrap_or(Hotp::DEFAULT_LOOK_AHEAD))
                        .build()?,
                    counter: self.counter.unwrap_or(counter),
                },
            });
        }
        // Secrets pasted from existing accounts may be 80-bit.
        let secret = Secret::from_base32_accepting_80_bit(text)?;
        Ok(match self.counter {
            Some(counter) => Otp::Hotp {
                hotp: self.hotp(secret)?,
                counter,
            },
            None => Otp::Totp(self.totp(secret)?),
        })
    }

    pub(crate) fn time(&self) -> Result<u64, Failure> {
        match self.time {
            Some(time) => Ok(time),
            None => Ok(unix_time()?),
        }
    }
}

/// The parts of [`twofa::TotpBuilder`] and [`twofa::HotpBuilder`] that the
/// shared options set.
pub(crate) trait Builder {
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

pub(crate) fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Failure> {
    value
        .parse()
        .map_err(|_| Failure::usage(format!("--{name} wants a number, not {value:?}")))
}
