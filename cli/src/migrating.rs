//! The commands that move keys between systems: `import` reads Google
//! Authenticator exports, PSKC files and users.oath into `otpauth://`
//! URIs; `export` writes URIs as users.oath or PSKC.

use std::{
    fs,
    io::{self, Read, Write},
    path::Path,
};

use clap::{Args, ValueEnum};
use twofa::{
    KeyUri, Otp,
    migrate::{
        ImportError, ImportedKey, MAX_USERS_OATH_LEN, Pin, PskcReader, read_migration,
        read_users_oath, write_pskc, write_users_oath,
    },
};
use zeroize::Zeroizing;

use crate::{
    Failure,
    args::{from_env, time_or_now},
    output::{note, write_out, written},
};

/// A PSKC pre-shared key, on the command line or from the environment.
#[derive(Debug, Args)]
pub(crate) struct PreSharedKey {
    /// The PSKC pre-shared key: 32, 48 or 64 hex digits (AES-128, -192,
    /// -256). Seen by ps: prefer --pskc-key-env.
    #[arg(long, value_name = "HEX", conflicts_with = "pskc_key_env")]
    pskc_key: Option<String>,
    /// Reads the PSKC pre-shared key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pskc_key_env: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// PSKC files, users.oath files or Google Authenticator exports
    /// (otpauth-migration://, every batch); - reads standard input.
    #[arg(value_name = "FILE_OR_URI", required = true)]
    inputs: Vec<String>,
    #[command(flatten)]
    key: PreSharedKey,
    /// Reads the password a PSKC file is encrypted under (PBKDF2) from
    /// this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["pskc_key", "pskc_key_env"])]
    pskc_password_env: Option<String>,
    /// A code its token shows now, confirming a PSKC key: one per key, in
    /// file order.
    #[arg(long = "code", value_name = "CODE", value_parser = wiped)]
    codes: Vec<Zeroizing<String>>,
    /// The vendor's SHA-256 of the PSKC file (64 hex digits), sent by
    /// another channel: confirms every key in it.
    #[arg(long, value_name = "HEX")]
    pskc_sha256: Option<String>,
    /// Prints a PSKC file's keys unconfirmed.
    #[arg(long)]
    pskc_unconfirmed: bool,
    /// Refuses a counter or time in the clear in a file that encrypts
    /// (its MACs do not cover them).
    #[arg(long)]
    pskc_refuse_plain_integers: bool,
    /// Reads a PSKC value whose MAC does not match, for the files of a
    /// vendor known to compute it wrongly.
    #[arg(long)]
    pskc_skip_mac_check_known_broken: bool,
    /// Reads a key outside its policy's StartDate and ExpiryDate.
    #[arg(long)]
    pskc_accept_outside_validity: bool,
    /// The zone of the server that wrote users.oath, whose times are
    /// local, in seconds east of UTC (3600 for UTC+1).
    #[arg(
        long,
        value_name = "SECONDS",
        allow_negative_numbers = true,
        default_value_t = 0
    )]
    utc_offset: i32,
    /// The Unix time the policy dates and the codes are checked at
    /// [default: now].
    #[arg(long, value_name = "UNIX")]
    time: Option<u64>,
}

/// A value kept in memory that is wiped when dropped.
fn wiped(text: &str) -> Result<Zeroizing<String>, std::convert::Infallible> {
    Ok(Zeroizing::new(text.to_owned()))
}

/// The files `export` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
    /// OATH Toolkit's users.oath, for pam_oath: the secrets in the clear.
    #[value(name = "users.oath")]
    UsersOath,
    /// PSKC (RFC 6030), every secret encrypted and MACed.
    Pskc,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The file to write.
    #[arg(long, value_name = "FORMAT")]
    format: ExportFormat,
    /// For pskc: the key to encrypt under [default: a fresh one, printed
    /// on stderr].
    #[command(flatten)]
    key: PreSharedKey,
}

/// Prints one `otpauth://` URI per key found in the FILE_OR_URI arguments.
pub(crate) fn import(args: &ImportArgs) -> Result<(), Failure> {
    // A key's policy dates, and the codes that confirm keys, at this time.
    let now = time_or_now(args.time)?;
    let reader = pskc_reader(args, now)?;
    // A vector per input, each sized by its reader: growing one vector of
    // keys would leave copies of their secrets behind.
    let mut keys: Vec<Vec<ImportedKey>> = Vec::new();
    // Every batch of an export, wherever it came from: read together.
    let mut exports: Vec<Zeroizing<String>> = Vec::new();
    for (number, input) in args.inputs.iter().enumerate() {
        if is_export(input) {
            exports.push(Zeroizing::new(input.clone()));
            continue;
        }
        // An argument that is neither a file nor `-` may be a pasted secret
        // or URI: named by its place, never quoted.
        if input != "-" && !Path::new(input).exists() {
            return Err(Failure::usage(format!(
                "argument {}: no such file, and not an otpauth-migration:// URI{}",
                number + 1,
                if is_scheme(input, "otpauth:") {
                    " (an otpauth:// URI is already what import prints)"
                } else {
                    ""
                }
            )));
        }
        let text = read_input(input)?;
        let named = |error: ImportError| Failure::usage(format!("{input}: {error}"));
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<')
        {
            keys.push(reader.read(&text).map_err(named)?);
        } else if text.lines().any(is_export) {
            for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
                exports.push(Zeroizing::new(line.to_owned()));
            }
        } else {
            // liboath writes local time: the zone finds a TOTP key's last
            // step from its last code, which a wrong zone misses.
            keys.push(read_users_oath(&text, args.utc_offset).map_err(named)?);
        }
    }
    if !exports.is_empty() {
        let read = read_migration(exports.iter().map(|uri| uri.as_str()));
        keys.push(read.map_err(|error| Failure::usage(format!("export: {error}")))?);
    }
    // Nothing read is an error, never "0 keys" and success.
    if keys.iter().all(Vec::is_empty) {
        return Err(Failure::usage("no key found in the input"));
    }
    confirm_pending(args, &mut keys, now)?;
    // Checked before printing any: all or nothing.
    for key in keys.iter().flatten() {
        if let Otp::Totp(totp) = key.key_uri().otp()
            && totp.t0() != 0
        {
            return Err(Failure::usage(format!(
                "{}: T0 = {} cannot be written in an otpauth:// URI",
                key.origin(),
                totp.t0()
            )));
        }
    }
    let mut out = io::stdout().lock();
    for key in keys.iter().flatten() {
        writeln!(out, "{}", key.key_uri().to_uri().as_str()).map_err(written)?;
    }
    out.flush().map_err(written)?;
    note(format_args!(
        "twofa: {} keys; the URIs above hold their secrets: keep them out of logs, shell history and shared screens",
        keys.iter().map(Vec::len).sum::<usize>()
    ));
    let beyond = keys
        .iter()
        .flatten()
        .filter(|key| *key.pin() != Pin::None || key.last_step().is_some())
        .count();
    if beyond > 0 {
        note(format_args!(
            "twofa: {beyond} keys had a PIN or a last used step, which otpauth:// URIs cannot carry: read the file with twofa::migrate to keep them"
        ));
    }
    Ok(())
}

/// Writes the `otpauth://` URIs on standard input as users.oath or PSKC.
pub(crate) fn export(args: &ExportArgs) -> Result<(), Failure> {
    let text = read_input("-")?;
    fn uri(line: &str) -> Option<&str> {
        let line = line.trim();
        (!line.is_empty() && !line.starts_with('#')).then_some(line)
    }
    // Sized first: a growing vector would leave copies of the secrets.
    let mut keys = Vec::with_capacity(text.lines().filter_map(uri).count());
    for (index, line) in text.lines().enumerate() {
        let Some(line) = uri(line) else {
            continue;
        };
        let uri = KeyUri::parse_accepting_80_bit(line).map_err(|error| {
            Failure::usage(format!("standard input, line {}: {error}", index + 1))
        })?;
        keys.push(ImportedKey::new(uri));
    }
    let named = |error: ImportError| Failure::usage(format!("export: {error}"));
    match args.format {
        ExportFormat::UsersOath => {
            let file = write_users_oath(&keys, 0).map_err(named)?;
            write_out(file.as_str())?;
            note(format_args!(
                "twofa: {} keys; users.oath holds the secrets in the clear: write it only where pam_oath alone can read it",
                keys.len()
            ));
        }
        ExportFormat::Pskc => {
            let (key, fresh) = pskc_key(&args.key)?;
            write_out(&write_pskc(&keys, &key, &mut getrandom::SysRng).map_err(named)?)?;
            if fresh {
                note(format_args!(
                    "twofa: the pre-shared key, to give the receiver by another way than the file: {}",
                    hex(&key).as_str()
                ));
            }
            note(format_args!(
                "twofa: {} keys, each encrypted and MACed",
                keys.len()
            ));
        }
    }
    Ok(())
}

fn is_export(text: &str) -> bool {
    is_scheme(text, "otpauth-migration:")
}

/// Whether `text` starts with `scheme`, in any case.
fn is_scheme(text: &str, scheme: &str) -> bool {
    text.trim()
        .get(..scheme.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
}

/// A file's text, or standard input's for `-`, into a buffer sized before
/// reading (so no copy is left behind) and bounded.
fn read_input(input: &str) -> Result<Zeroizing<String>, Failure> {
    let limit = MAX_USERS_OATH_LEN;
    let cannot = |e: io::Error| Failure::usage(format!("{input}: cannot read: {e}"));
    // Room for the most, whatever a file says of its size (a pipe, a file
    // under /proc or one still being written says too little).
    let mut text = Zeroizing::new(String::with_capacity(limit + 1));
    let read = if input == "-" {
        io::stdin()
            .lock()
            .take(limit as u64 + 1)
            .read_to_string(&mut text)
    } else {
        let mut file = fs::File::open(input).map_err(cannot)?;
        Read::by_ref(&mut file)
            .take(limit as u64 + 1)
            .read_to_string(&mut text)
    };
    read.map_err(cannot)?;
    if text.len() > limit {
        return Err(Failure::usage(format!("{input}: larger than 16 MiB")));
    }
    Ok(text)
}

/// Keys read from a PSKC file are pending (RFC 6030's MACs do not stop
/// someone who can alter the file from planting a secret): each is
/// confirmed by a code from its token (`--code`, one per pending key in
/// file order), unless the file was checked against the vendor's SHA-256
/// (`--pskc-sha256`) or they are printed unconfirmed by name
/// (`--pskc-unconfirmed`). All or nothing: one key not confirmed prints
/// none.
fn confirm_pending(
    args: &ImportArgs,
    keys: &mut [Vec<ImportedKey>],
    now: u64,
) -> Result<(), Failure> {
    let mut pending: Vec<&mut ImportedKey> = keys
        .iter_mut()
        .flatten()
        .filter(|key| key.is_pending())
        .collect();
    if pending.is_empty() {
        if !args.codes.is_empty() {
            return Err(Failure::usage(
                "--code confirms keys from a PSKC file, and none is pending",
            ));
        }
        return Ok(());
    }
    if args.codes.is_empty() {
        if args.pskc_unconfirmed {
            note(format_args!(
                "twofa: {} keys are unconfirmed: check one code of each token before using it",
                pending.len()
            ));
            return Ok(());
        }
        return Err(Failure::usage(format!(
            "{} keys from a PSKC file are pending: confirm each with --code CODE (one code its token shows now, in file order), check the file with --pskc-sha256 HEX (the vendor's digest of it), or print them unconfirmed with --pskc-unconfirmed",
            pending.len()
        )));
    }
    if args.codes.len() != pending.len() {
        return Err(Failure::usage(format!(
            "{} keys are pending and {} codes were given: one --code for each, in file order",
            pending.len(),
            args.codes.len()
        )));
    }
    for (key, code) in pending.iter_mut().zip(&args.codes) {
        key.confirm(code, now)
            .map_err(|error| Failure::usage(format!("{}: not confirmed: {error}", key.origin())))?;
    }
    Ok(())
}

fn pskc_reader(args: &ImportArgs, now: u64) -> Result<PskcReader, Failure> {
    let mut reader = PskcReader::new().at(now);
    if args.pskc_skip_mac_check_known_broken {
        reader = reader.skip_mac_check_known_broken();
    }
    if let Some(digest) = &args.pskc_sha256 {
        let bad = || Failure::usage("--pskc-sha256 takes 64 hex digits");
        let bytes = unhex(digest).map_err(|_| bad())?;
        let digest = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| bad())?;
        reader = reader.expect_sha256(digest);
    }
    if args.pskc_accept_outside_validity {
        reader = reader.accept_outside_validity();
    }
    if args.pskc_refuse_plain_integers {
        reader = reader.refuse_plain_integers();
    }
    Ok(
        match (pre_shared_key(&args.key)?, &args.pskc_password_env) {
            // clap refuses both at once.
            (Some(key), _) => reader.pre_shared_key(&key),
            (None, Some(var)) => reader.password(&from_env(var)?),
            (None, None) => reader,
        },
    )
}

/// The pre-shared key to export with, and whether it was made here.
fn pskc_key(given: &PreSharedKey) -> Result<(Zeroizing<Vec<u8>>, bool), Failure> {
    if let Some(key) = pre_shared_key(given)? {
        return Ok((key, false));
    }
    let mut key = Zeroizing::new(vec![0u8; 16]);
    getrandom::fill(&mut key)
        .map_err(|_| Failure::usage("the system's random number generator failed"))?;
    Ok((key, true))
}

/// The pre-shared key of `--pskc-key HEX` or `--pskc-key-env VAR`.
fn pre_shared_key(given: &PreSharedKey) -> Result<Option<Zeroizing<Vec<u8>>>, Failure> {
    // clap refuses both at once.
    match (&given.pskc_key, &given.pskc_key_env) {
        (Some(key), _) => unhex(key).map(Some),
        (None, Some(var)) => unhex(&from_env(var)?).map(Some),
        (None, None) => Ok(None),
    }
}

fn unhex(text: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let text = text.trim();
    let bad = || Failure::usage("--pskc-key wants 32, 48 or 64 hex digits (AES-128, -192, -256)");
    if !matches!(text.len(), 32 | 48 | 64) {
        return Err(bad());
    }
    let mut key = Zeroizing::new(Vec::with_capacity(text.len() / 2));
    for pair in text.as_bytes().chunks(2) {
        let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
        key.push(u8::from_str_radix(pair, 16).map_err(|_| bad())?);
    }
    Ok(key)
}

fn hex(bytes: &[u8]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(bytes.len() * 2));
    for byte in bytes {
        text.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        text.push(char::from_digit(u32::from(byte & 15), 16).unwrap_or('0'));
    }
    text
}
