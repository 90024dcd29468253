//! An oathtool-style command-line tool over the library.
//!
//! ```text
//! twofa new --issuer ACME --account alice@example.com
//! twofa code GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --time 59 --digits 8
//! twofa verify - 123456 < secret.txt
//! twofa uri 'otpauth://totp/ACME:alice?secret=…&algorithm=SHA256'
//! TWOFA_KEY=$(twofa keygen --id 1) twofa seal --key-env TWOFA_KEY --account alice - < secret.txt
//! twofa import --pskc-key 0123456789abcdef0123456789abcdef --code 755224 token.pskcxml > uris.txt
//! twofa export --format users.oath < uris.txt > users.oath
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

use std::{env, fmt, process::ExitCode};

mod commands;
mod migrating;
mod options;
mod sealing;

use options::Options;

pub(crate) const USAGE: &str = "\
usage:
  twofa new --issuer NAME --account NAME [PARAMETERS]
      a fresh secret, its otpauth:// URI and QR code
  twofa code SECRET|URI|- [--time UNIX | --counter N] [PARAMETERS]
      the code now, at --time, or at HOTP --counter
  twofa verify SECRET|URI|- CODE [--time UNIX | --counter N] [--window N] [PARAMETERS]
      whether CODE is valid (exit status 0) or not (1)
  twofa uri URI|-
      what a URI says, and what authenticator apps will make of it
  twofa keygen --id N
      a fresh sealing key, as ID:HEX (keep it out of the database)
  twofa seal --key-env VAR --account NAME [--purpose P] SECRET|URI|-
      the secret sealed for storage (kind from the URI, --counter for HOTP)
  twofa open --key-env VAR --account NAME [--purpose P] [--counter N] SEALED|-
      the secret a sealed form holds, as base32 (HOTP with --counter)
  twofa import [--pskc-key[-env] HEX|VAR | --pskc-password-env VAR]
               [--code CODE]... [--pskc-sha256 HEX] [--pskc-unconfirmed]
               [--pskc-refuse-plain-integers]
               [--utc-offset SECONDS] FILE_OR_URI...
      one otpauth:// URI per key of Google Authenticator exports
      (otpauth-migration://, every batch), PSKC files or users.oath (- for
      standard input); a PSKC value whose MAC does not match is refused
      unless --pskc-skip-mac-check-known-broken is given, and a key outside
      its policy's StartDate and ExpiryDate (at --time, default now) unless
      --pskc-accept-outside-validity is given; a PSKC file's keys are
      printed once each is confirmed by a code from its token (--code CODE,
      one per key in file order), or the file matches the vendor's SHA-256
      (--pskc-sha256 HEX), or unconfirmed by name (--pskc-unconfirmed);
      --pskc-refuse-plain-integers refuses a counter or time in the clear
      in a file that encrypts (its MACs do not cover them);
      --utc-offset is
      the zone of the server that wrote users.oath (3600 for UTC+1;
      default 0), whose times are local
  twofa export --format users.oath|pskc [--pskc-key[-env] HEX|VAR]
      the otpauth:// URIs on standard input as users.oath, or as PSKC
      encrypted under the key (a fresh key, printed on stderr, without one)

SECRET is base32; URI is otpauth://. A pre-shared PSKC key is 32, 48 or
64 hex digits; --pskc-key-env VAR reads it from the environment, out of
ps and shell history. Give - to read it from standard input,
or --secret-env VAR (in place of the argument) to read it from the
environment, so that it stays out of ps and shell history. PARAMETERS (for
a SECRET only; a URI carries its own): --algorithm SHA1|SHA256|SHA512,
--digits 6..10, --period SECONDS, --steam. A sealing key (ID:HEX, as keygen
prints it) is read from the environment variable --key-env names; the
purpose bound into a sealed form defaults to totp or hotp.";

/// A failure: what to print on stderr, and the exit status.
pub(crate) struct Failure {
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
pub(crate) struct Safe<'a>(&'a str);

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
        Some("new") => commands::new(&options),
        Some("code") => commands::code(&options),
        Some("verify") => commands::verify(&options),
        Some("uri") => commands::explain(&options),
        Some("keygen") => sealing::keygen(&options),
        Some("seal") => sealing::seal(&options),
        Some("open") => sealing::open(&options),
        Some("import") => migrating::import(&options),
        Some("export") => migrating::export(&options),
        Some("help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Failure::usage(format!(
            "unknown command {other:?}\n{USAGE}"
        ))),
    }
}
