//! `twofa`: an oathtool-style command over the `twofa` crate.
//!
//! ```text
//! twofa new --issuer ACME --account alice@example.com
//! twofa code GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --time 59 --digits 8
//! twofa verify - 123456 < secret.txt
//! twofa uri 'otpauth://totp/ACME:alice?secret=…&algorithm=SHA256'
//! TWOFA_KEY=$(twofa keygen --id 1) twofa seal --key-env TWOFA_KEY --account alice - < secret.txt
//! twofa import --pskc-key 0123456789abcdef0123456789abcdef --code 755224 token.pskcxml > uris.txt
//! twofa export --format users.oath < uris.txt > users.oath
//! twofa completions bash > /etc/bash_completion.d/twofa
//! ```
//!
//! A secret on the command line is seen by `ps` and kept in shell
//! history: give `-` to read it from standard input, or `--secret-env VAR`
//! to read it from an environment variable. Everything printed that came
//! from input, error messages included, has its control characters
//! escaped, so a crafted URI or argument cannot drive the terminal.
//!
//! What scripts read is stable: see the crate's README.

use std::{env, ffi::OsString, fmt, io, process::ExitCode};

use clap::{CommandFactory, Parser, Subcommand, error::ErrorKind};

mod args;
mod commands;
mod migrating;
mod sealing;

/// Makes and checks TOTP and HOTP codes, explains otpauth:// URIs, seals
/// secrets for storage and moves keys between systems.
#[derive(Debug, Parser)]
#[command(name = "twofa", version, propagate_version = true)]
#[command(after_long_help = "\
SECRET is base32; URI is otpauth://. Give - to read either from standard \
input, or --secret-env VAR to read it from the environment, so that it stays \
out of ps and shell history. Exit status: 0 on success, 1 when verify finds \
the code invalid, 2 for bad input of any kind.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A fresh secret, its otpauth:// URI and QR code.
    New(commands::NewArgs),
    /// The code now, at --time, or at HOTP --counter.
    Code(commands::CodeArgs),
    /// Whether CODE is valid (exit status 0) or not (1).
    Verify(commands::VerifyArgs),
    /// What a URI says, and what authenticator apps will make of it.
    Uri(commands::UriArgs),
    /// A fresh sealing key, as ID:HEX (keep it out of the database).
    Keygen(sealing::KeygenArgs),
    /// The secret sealed for storage (kind from the URI, --counter for HOTP).
    Seal(sealing::SealArgs),
    /// The secret a sealed form holds, as base32 (HOTP with --counter).
    Open(sealing::OpenArgs),
    /// One otpauth:// URI per key of Google Authenticator exports, PSKC
    /// files or users.oath.
    Import(migrating::ImportArgs),
    /// The otpauth:// URIs on standard input as users.oath, or as
    /// encrypted PSKC.
    Export(migrating::ExportArgs),
    /// A completion script for the shell, on standard output.
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
}

/// A failure: what to print on stderr, and the exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    /// Bad input: exit status 2.
    pub(crate) fn usage(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            status: 2,
        }
    }

    /// The code was checked and is not valid: exit status 1.
    pub(crate) fn invalid(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            status: 1,
        }
    }
}

impl From<twofa::Error> for Failure {
    fn from(e: twofa::Error) -> Self {
        Self::usage(e)
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => return refused(&error, &args),
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            print_failure(&failure.message);
            ExitCode::from(failure.status)
        }
    }
}

/// The message's own lines on stderr, the first after `twofa: `, each
/// with its input escaped.
fn print_failure(message: &str) {
    let mut lines = message.lines();
    eprintln!("twofa: {}", Safe(lines.next().unwrap_or_default()));
    for line in lines {
        eprintln!("{}", Safe(line));
    }
}

/// Help and version on stdout (status 0); anything else the command line
/// got wrong on stderr with status 2, in the same form as every other
/// failure.
fn refused(error: &clap::Error, args: &[OsString]) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        // A closed stdout is no reason to panic.
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // No command at all: the help, on stderr.
        let _ = error.print();
        return ExitCode::from(2);
    }
    // clap quotes the argument it refused, and a newline in it would start
    // a line of its own before escaping could see it: the message is made
    // again from the arguments with their control characters escaped,
    // which clap refuses at the same place.
    let escaped = args
        .iter()
        .map(|arg| Safe(&arg.to_string_lossy()).to_string());
    let message = match Cli::try_parse_from(escaped) {
        Err(again) if again.kind() == error.kind() => again.render().to_string(),
        _ => error.render().to_string(),
    };
    print_failure(message.strip_prefix("error: ").unwrap_or(&message));
    ExitCode::from(2)
}

/// Text from input, written with its control characters (and the Unicode
/// marks that reorder or hide text) escaped as `\u{…}`.
pub(crate) struct Safe<'a>(pub(crate) &'a str);

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

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::New(args) => commands::new(&args),
        Command::Code(args) => commands::code(&args),
        Command::Verify(args) => commands::verify(&args),
        Command::Uri(args) => commands::explain(&args),
        Command::Keygen(args) => sealing::keygen(&args),
        Command::Seal(args) => sealing::seal(&args),
        Command::Open(args) => sealing::open(&args),
        Command::Import(args) => migrating::import(&args),
        Command::Export(args) => migrating::export(&args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "twofa", &mut io::stdout());
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// clap's own checks of the definitions: conflicts, requirements and
    /// names that point nowhere.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
