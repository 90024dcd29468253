//! An oathtool-style command-line tool over the library.
//!
//! ```text
//! twofa new --issuer ACME --account alice@example.com
//! twofa code GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --time 59 --digits 8
//! twofa verify - 123456 < secret.txt
//! twofa uri 'otpauth://totp/ACME:alice?secret=…&algorithm=SHA256'
//! ```
//!
//! A secret on the command line is seen by `ps` and kept in shell
//! history: give `-` to read it from standard input, or `--secret-env VAR`
//! to read it from an environment variable. Everything printed that came
//! from input has its control characters escaped, so a crafted URI cannot
//! drive the terminal.
//!
//! Run `cargo run --example twofa -- help` for every option. Build with
//! `--features qr` to see the QR code on the terminal.

use std::{
    env, fmt,
    io::{self, BufRead},
    process::ExitCode,
};

use twofa::{Algorithm, Format, Hotp, KeyUri, Otp, Secret, Totp, unix_time};
use zeroize::Zeroizing;

const USAGE: &str = "\
usage:
  twofa new --issuer NAME --account NAME [PARAMETERS]
      a fresh secret, its otpauth:// URI and QR code
  twofa code SECRET|URI|- [--time UNIX | --counter N] [PARAMETERS]
      the code now, at --time, or at HOTP --counter
  twofa verify SECRET|URI|- CODE [--time UNIX | --counter N] [--window N] [PARAMETERS]
      whether CODE is valid (exit status 0) or not (1)
  twofa uri URI|-
      what a URI says, and what authenticator apps will make of it

SECRET is base32; URI is otpauth://. Give - to read it from standard input,
or --secret-env VAR (in place of the argument) to read it from the
environment, so that it stays out of ps and shell history. PARAMETERS (for
a SECRET only; a URI carries its own): --algorithm SHA1|SHA256|SHA512,
--digits 6..10, --period SECONDS, --steam.";

/// A failure: what to print on stderr, and the exit status.
struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    /// Bad input: exit status 2.
    fn usage(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            status: 2,
        }
    }
}

impl From<twofa::Error> for Failure {
    fn from(e: twofa::Error) -> Self {
        Self::usage(e)
    }
}

fn main() -> ExitCode {
    // Arguments that are not UTF-8 are refused, not a panic.
    let args: Result<Vec<String>, _> = env::args_os()
        .skip(1)
        .map(|arg| arg.into_string())
        .collect();
    let Ok(args) = args else {
        eprintln!("twofa: arguments must be UTF-8");
        return ExitCode::from(2);
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // The message's own lines, each with its input escaped.
            let mut lines = failure.message.lines();
            eprintln!("twofa: {}", Safe(lines.next().unwrap_or_default()));
            for line in lines {
                eprintln!("{}", Safe(line));
            }
            ExitCode::from(failure.status)
        }
    }
}

/// Text from input, written with its control characters (and the Unicode
/// marks that reorder or hide text) escaped as `\u{…}`.
struct Safe<'a>(&'a str);

impl fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            let hidden = matches!(
                c,
                '\u{061C}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{2028}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{FEFF}'
            );
            // Newlines too: a label must not print lines of its own.
            if c.is_control() || hidden {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let options = Options::parse(args)?;
    match options.positional.first().map(String::as_str) {
        Some("new") => new(&options),
        Some("code") => code(&options),
        Some("verify") => verify(&options),
        Some("uri") => explain(&options),
        Some("help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Failure::usage(format!(
            "unknown command {other:?}\n{USAGE}"
        ))),
    }
}

/// The command line: `--name value` options and the rest, in order.
#[derive(Default)]
struct Options {
    positional: Vec<String>,
    issuer: Option<String>,
    account: Option<String>,
    algorithm: Option<Algorithm>,
    digits: Option<u8>,
    period: Option<u64>,
    steam: bool,
    time: Option<u64>,
    counter: Option<u64>,
    window: Option<u64>,
    secret_env: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, Failure> {
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
    fn positional(&self, index: usize, what: &str) -> Result<&str, Failure> {
        self.positional
            .get(index)
            .map(String::as_str)
            .ok_or_else(|| Failure::usage(format!("missing {what}\n{USAGE}")))
    }

    /// The SECRET or URI: from `--secret-env VAR`, from standard input for
    /// `-`, or the argument itself; and the index of the next positional
    /// argument.
    fn secret_text(&self) -> Result<(Zeroizing<String>, usize), Failure> {
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

    fn has_parameters(&self) -> bool {
        self.algorithm.is_some() || self.digits.is_some() || self.period.is_some() || self.steam
    }

    fn totp(&self, secret: Secret) -> Result<Totp, Failure> {
        let window = self.window.unwrap_or(Totp::DEFAULT_WINDOW);
        Ok(self
            .format(Totp::builder(secret))?
            .period(self.period.unwrap_or(Totp::DEFAULT_PERIOD))
            .window(window, window)
            .build()?)
    }

    fn hotp(&self, secret: Secret) -> Result<Hotp, Failure> {
        Ok(self
            .format(Hotp::builder(secret))?
            .look_ahead(self.window.unwrap_or(Hotp::DEFAULT_LOOK_AHEAD))
            .build()?)
    }

    /// Applies --algorithm, --digits and --steam to either builder.
    fn format<B: Builder>(&self, builder: B) -> Result<B, Failure> {
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
    fn otp(&self, text: &str) -> Result<Otp, Failure> {
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

    fn time(&self) -> Result<u64, Failure> {
        match self.time {
            Some(time) => Ok(time),
            None => Ok(unix_time()?),
        }
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

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Failure> {
    value
        .parse()
        .map_err(|_| Failure::usage(format!("--{name} wants a number, not {value:?}")))
}

fn new(options: &Options) -> Result<(), Failure> {
    let issuer = options
        .issuer
        .as_deref()
        .ok_or_else(|| Failure::usage("new needs --issuer"))?;
    let account = options
        .account
        .as_deref()
        .ok_or_else(|| Failure::usage("new needs --account"))?;
    let secret = Secret::generate(&mut getrandom::SysRng)?;
    let otp = match options.counter {
        Some(counter) => Otp::Hotp {
            hotp: options.hotp(secret)?,
            counter,
        },
        None => Otp::Totp(options.totp(secret)?),
    };
    let uri = KeyUri::new(otp, account)?.with_issuer(issuer)?;
    println!("secret: {}", uri.otp().secret().expose_base32());
    println!("uri:    {}", uri.to_uri().as_str());
    for warning in uri.portability() {
        println!("note:   {warning}");
    }
    show_qr(&uri)?;
    Ok(())
}

#[cfg(feature = "qr")]
fn show_qr(uri: &KeyUri) -> Result<(), Failure> {
    print!("{}", uri.to_qr()?.to_terminal().as_str());
    Ok(())
}

#[cfg(not(feature = "qr"))]
fn show_qr(_: &KeyUri) -> Result<(), Failure> {
    println!("(run with --features qr to see the QR code)");
    Ok(())
}

fn code(options: &Options) -> Result<(), Failure> {
    let (text, _) = options.secret_text()?;
    let otp = options.otp(&text)?;
    let code = match &otp {
        Otp::Totp(totp) => totp.generate_at(options.time()?)?,
        Otp::Hotp { hotp, counter } => hotp.generate(*counter),
    };
    println!("{code}");
    Ok(())
}

fn verify(options: &Options) -> Result<(), Failure> {
    let (text, next) = options.secret_text()?;
    let otp = options.otp(&text)?;
    let typed = options.positional(next, "CODE")?;
    let outcome = match &otp {
        Otp::Totp(totp) => totp
            .verify_at(typed, options.time()?)
            .map(|found| format!("valid: step {}, drift {:+}", found.step, found.drift)),
        Otp::Hotp { hotp, counter } => hotp.verify(typed, *counter).map(|found| {
            format!(
                "valid: counter {}, {} ahead; next counter {}",
                found.counter,
                found.ahead,
                found
                    .next_counter()
                    .map_or_else(|| "none (exhausted)".to_owned(), |n| n.to_string())
            )
        }),
    };
    match outcome {
        Ok(message) => {
            println!("{message}");
            Ok(())
        }
        Err(twofa::Error::InvalidCode) => Err(Failure {
            message: "invalid code".to_owned(),
            status: 1,
        }),
        Err(e) => Err(e.into()),
    }
}

fn explain(options: &Options) -> Result<(), Failure> {
    let (text, _) = options.secret_text()?;
    let uri = KeyUri::parse_accepting_80_bit(&text)?;
    let otp = uri.otp();
    println!("type:      {}", otp.kind());
    println!("issuer:    {}", Safe(uri.issuer().unwrap_or("(none)")));
    println!("account:   {}", Safe(uri.account()));
    let bits = otp.secret().byte_len() * 8;
    println!(
        "secret:    {bits} bits{}",
        if bits < 128 {
            " (below RFC 4226's 128)"
        } else {
            ""
        }
    );
    println!("algorithm: {}", otp.algorithm());
    println!("codes:     {}", otp.format());
    match otp {
        Otp::Totp(totp) => println!("period:    {} s", totp.period()),
        Otp::Hotp { counter, .. } => println!("counter:   {counter}"),
    }
    if let Some(image) = uri.image() {
        println!("image:     {}", Safe(image));
    }
    for (name, value) in uri.extra_parameters() {
        println!("unknown:   {}={} (apps ignore it)", Safe(name), Safe(value));
    }
    let warnings = uri.portability();
    if warnings.is_empty() {
        println!("portable:  every authenticator app shows these codes");
    }
    for warning in warnings {
        println!("warning:   {warning}");
    }
    Ok(())
}
