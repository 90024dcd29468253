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
//! twofa man > twofa.1
//! ```
//!
//! A secret on the command line is seen by `ps` and kept in shell
//! history: give `-` to read it from standard input, or `--secret-env VAR`
//! to read it from an environment variable. Everything printed that came
//! from input, error messages included, has its control characters
//! escaped, so a crafted URI or argument cannot drive the terminal.
//!
//! What scripts read is stable: see the crate's README.

use std::{env, ffi::OsString, fmt, process::ExitCode};

use clap::{
    CommandFactory, Parser, Subcommand,
    error::{ContextKind, ContextValue, ErrorKind},
};

mod args;
mod commands;
mod migrating;
mod output;
mod sealing;

use output::{note, write_out};

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
    /// A URI's QR code, on the terminal or as SVG.
    Qr(commands::QrArgs),
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
    /// A manual page (roff) on standard output: the tool's, or one
    /// command's (`twofa man code > twofa-code.1`).
    Man {
        /// The command whose page to write.
        command: Option<String>,
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
            // One line, whatever it quotes: a newline from input (a file's
            // name) is escaped like any other control character.
            note(format_args!("twofa: {}", Safe(&failure.message)));
            ExitCode::from(failure.status)
        }
    }
}

/// Help and version on stdout (status 0); anything else the command line
/// got wrong on stderr with status 2, in the same form as every other
/// failure.
fn refused(error: &clap::Error, args: &[OsString]) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            return match write_out(&error.render().to_string()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(2),
            };
        }
        // No command at all: the help, as `twofa help` gives it.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            return match write_out(&Cli::command().render_help().to_string()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(2),
            };
        }
        _ => {}
    }
    let message = match unquoted(error) {
        Some(message) => message,
        None => {
            // clap quotes the argument it refused, and a newline in it
            // would start a line of its own before escaping could see it:
            // the message is made again from the arguments with their
            // control characters escaped, which clap refuses at the same
            // place.
            let escaped = args
                .iter()
                .map(|arg| Safe(&arg.to_string_lossy()).to_string());
            match Cli::try_parse_from(escaped) {
                Err(again) if again.kind() == error.kind() => again.render().to_string(),
                _ => error.render().to_string(),
            }
        }
    };
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let mut lines = message.lines();
    note(format_args!(
        "twofa: {}",
        Safe(lines.next().unwrap_or_default())
    ));
    for line in lines {
        note(format_args!("{}", Safe(line)));
    }
    ExitCode::from(2)
}

/// The message for a refused word that may be a secret pasted in the
/// wrong place (an extra SECRET, a key where a command goes), which clap
/// would quote: it is named by what it is, never shown.
fn unquoted(error: &clap::Error) -> Option<String> {
    let word = |kind| match error.get(kind) {
        Some(ContextValue::String(word)) => Some(word.as_str()),
        _ => None,
    };
    let usage = error
        .get(ContextKind::Usage)
        .map(|usage| format!("\n\n{usage}"))
        .unwrap_or_default();
    match error.kind() {
        ErrorKind::UnknownArgument => word(ContextKind::InvalidArg)
            .filter(|arg| !arg.starts_with('-'))
            .map(|_| format!("unexpected extra argument, not shown (it may be a secret){usage}")),
        // A long value where a number, a name or a choice goes is more
        // likely a secret pasted one word too early than a typo.
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => word(ContextKind::InvalidValue)
            .filter(|value| value.chars().count() >= 16)
            .map(|_| {
                let option = word(ContextKind::InvalidArg).unwrap_or("an option");
                format!("invalid value for '{option}', not shown (it may be a secret){usage}")
            }),
        ErrorKind::TooManyValues => Some(format!(
            "unexpected extra argument, not shown (it may be a secret){usage}"
        )),
        ErrorKind::InvalidSubcommand => word(ContextKind::InvalidSubcommand)
            .filter(|command| !is_command_word(command))
            .map(|_| format!("unrecognized command, not shown (it may be a secret){usage}")),
        _ => None,
    }
}

/// A word short and plain enough to be a mistyped command rather than a
/// secret (base32 secrets are long, or upper case).
fn is_command_word(word: &str) -> bool {
    word.len() <= 16 && word.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// Text from input, written with its control characters (and the Unicode
/// marks that reorder or hide text) escaped as `\u{…}`.
pub(crate) struct Safe<'a>(pub(crate) &'a str);

impl fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            // Format characters that hide, join, reorder or tag text.
            let hidden = matches!(
                c,
                '\u{00AD}'
                    | '\u{061C}'
                    | '\u{180E}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{2028}'..='\u{202E}'
                    | '\u{2060}'..='\u{2064}'
                    | '\u{2066}'..='\u{206F}'
                    | '\u{FEFF}'
                    | '\u{FFF9}'..='\u{FFFB}'
                    | '\u{E0000}'..='\u{E007F}'
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
        Command::Qr(args) => commands::qr(&args),
        Command::Keygen(args) => sealing::keygen(&args),
        Command::Seal(args) => sealing::seal(&args),
        Command::Open(args) => sealing::open(&args),
        Command::Import(args) => migrating::import(&args),
        Command::Export(args) => migrating::export(&args),
        Command::Completions { shell } => {
            // Written whole into memory first: clap_complete panics on a
            // closed pipe.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "twofa", &mut script);
            write_out(&String::from_utf8_lossy(&script))
        }
        Command::Man { command } => manual(command.as_deref()),
    }
}

/// The manual page of the tool, or of one of its commands.
fn manual(command: Option<&str>) -> Result<(), Failure> {
    let mut cli = Cli::command();
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => cli
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| Failure::usage("man: no such command (twofa --help lists them)"))?
            .name(format!("twofa-{name}")),
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .map_err(output::written)?;
    write_out(&String::from_utf8_lossy(&roff))
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
