//! The commands that make and check codes and show secrets to people:
//! `new`, `code`, `verify`, `uri`, `qr`.

use clap::Args;
use twofa::{KeyUri, Otp, Secret};

use crate::{
    Failure, Safe,
    args::{Parameters, Source, When, read_text},
    output::{say, write_out},
};

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Who issues the secret: the service's name, shown by the app.
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    issuer: String,
    /// The account the secret is for, shown by the app.
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    account: String,
    /// An HOTP secret starting at this counter, in place of TOTP.
    #[arg(long, value_name = "N")]
    counter: Option<u64>,
    #[command(flatten)]
    parameters: Parameters,
}

pub(crate) fn new(args: &NewArgs) -> Result<(), Failure> {
    let secret = Secret::generate(&mut getrandom::SysRng)?;
    let otp = args.parameters.fresh(secret, args.counter, None)?;
    let uri = KeyUri::new(otp, &args.account)?.with_issuer(&args.issuer)?;
    say!("secret: {}", uri.otp().secret().expose_base32());
    say!("uri:    {}", uri.to_uri().as_str());
    for warning in uri.portability() {
        say!("note:   {warning}");
    }
    write_out(uri.to_qr()?.to_terminal().as_str())?;
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct CodeArgs {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    when: When,
    #[command(flatten)]
    parameters: Parameters,
}

pub(crate) fn code(args: &CodeArgs) -> Result<(), Failure> {
    let text = args.source.text()?;
    let otp = args.parameters.otp(&text, args.when.counter, None)?;
    let code = match &otp {
        Otp::Totp(totp) => totp.generate_at(args.when.time()?)?,
        Otp::Hotp { hotp, counter } => hotp.generate(*counter),
    };
    say!("{code}");
    Ok(())
}

#[derive(Debug, Args)]
#[command(
    override_usage = "twofa verify [OPTIONS] <SECRET|URI|-> <CODE>\n       twofa verify [OPTIONS] --secret-env <VAR> <CODE>"
)]
pub(crate) struct VerifyArgs {
    /// The SECRET or URI (- reads it from standard input; left out with
    /// --secret-env), then the CODE typed.
    #[arg(value_names = ["SECRET|URI|-", "CODE"], num_args = 1..=2, required = true)]
    words: Vec<String>,
    /// Reads the SECRET or URI from this environment variable, out of ps
    /// and shell history.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    #[command(flatten)]
    when: When,
    /// Steps accepted each way (TOTP), or counters looked ahead (HOTP).
    #[arg(long, value_name = "N")]
    window: Option<u64>,
    #[command(flatten)]
    parameters: Parameters,
}

pub(crate) fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let (secret, typed) = match (args.secret_env.is_some(), args.words.as_slice()) {
        (false, [secret, typed]) => (Some(secret.as_str()), typed),
        (true, [typed]) => (None, typed),
        (false, [_]) => return Err(Failure::usage("missing CODE")),
        _ => {
            return Err(Failure::usage(
                "--secret-env takes the place of SECRET: give only the CODE",
            ));
        }
    };
    let text = read_text(secret, args.secret_env.as_deref())?;
    let otp = args.parameters.otp(&text, args.when.counter, args.window)?;
    let outcome = match &otp {
        Otp::Totp(totp) => totp
            .verify_at(typed, args.when.time()?)
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
            say!("{message}");
            Ok(())
        }
        Err(twofa::Error::InvalidCode) => Err(Failure::invalid("invalid code")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Args)]
pub(crate) struct UriArgs {
    /// The otpauth:// URI; - reads it from standard input.
    #[arg(
        value_name = "URI|-",
        required_unless_present = "secret_env",
        conflicts_with = "secret_env"
    )]
    uri: Option<String>,
    /// Reads the URI from this environment variable.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
}

pub(crate) fn explain(args: &UriArgs) -> Result<(), Failure> {
    let text = read_text(args.uri.as_deref(), args.secret_env.as_deref())?;
    let uri = KeyUri::parse_accepting_80_bit(&text)?;
    let otp = uri.otp();
    say!("type:      {}", otp.kind());
    say!("issuer:    {}", Safe(uri.issuer().unwrap_or("(none)")));
    say!("account:   {}", Safe(uri.account()));
    let bits = otp.secret().byte_len() * 8;
    say!(
        "secret:    {bits} bits{}",
        if bits < 128 {
            " (below RFC 4226's 128)"
        } else {
            ""
        }
    );
    say!("algorithm: {}", otp.algorithm());
    say!("codes:     {}", otp.format());
    match otp {
        Otp::Totp(totp) => say!("period:    {} s", totp.period()),
        Otp::Hotp { counter, .. } => say!("counter:   {counter}"),
    }
    if let Some(image) = uri.image() {
        say!("image:     {}", Safe(image));
    }
    for (name, value) in uri.extra_parameters() {
        say!("unknown:   {}={} (apps ignore it)", Safe(name), Safe(value));
    }
    let warnings = uri.portability();
    if warnings.is_empty() {
        say!("portable:  every authenticator app shows these codes");
    }
    for warning in warnings {
        say!("warning:   {warning}");
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct QrArgs {
    /// The otpauth:// URI; - reads it from standard input.
    #[arg(
        value_name = "URI|-",
        required_unless_present = "secret_env",
        conflicts_with = "secret_env"
    )]
    uri: Option<String>,
    /// Reads the URI from this environment variable.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    /// An SVG image for a page, in place of the terminal's half blocks.
    #[arg(long)]
    svg: bool,
}

/// The QR code of a URI, as the app scans it: the URI is read as it is
/// and written again the way apps accept it.
pub(crate) fn qr(args: &QrArgs) -> Result<(), Failure> {
    let text = read_text(args.uri.as_deref(), args.secret_env.as_deref())?;
    let qr = KeyUri::parse_accepting_80_bit(&text)?.to_qr()?;
    if args.svg {
        write_out(qr.to_svg().as_str())
    } else {
        write_out(qr.to_terminal().as_str())
    }
}
