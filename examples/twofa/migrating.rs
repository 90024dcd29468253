//! The commands that move keys between systems: `import` reads Google
//! Authenticator exports, PSKC files and users.oath into `otpauth://`
//! URIs; `export` writes URIs as users.oath or PSKC.

use std::{
    env, fs,
    io::{self, Read, Write},
    path::Path,
};

use twofa::{
    KeyUri, Otp,
    migrate::{
        ImportError, ImportedKey, MAX_USERS_OATH_LEN, Pin, PskcReader, read_migration,
        read_users_oath, write_pskc, write_users_oath,
    },
};
use zeroize::Zeroizing;

use crate::{Failure, options::Options};

/// Prints one `otpauth://` URI per key found in the FILE_OR_URI arguments.
pub(crate) fn import(options: &Options) -> Result<(), Failure> {
    let inputs = options.positional.get(1..).unwrap_or_default();
    if inputs.is_empty() {
        return Err(Failure::usage(
            "import needs a FILE, - or otpauth-migration:// URI",
        ));
    }
    // A key's policy dates, and the codes that confirm keys, at this time.
    let now = match options.time {
        Some(time) => time,
        None => twofa::unix_time()?,
    };
    let reader = pskc_reader(options, now)?;
    // A vector per input, each sized by its reader: growing one vector of
    // keys would leave copies of their secrets behind.
    let mut keys: Vec<Vec<ImportedKey>> = Vec::new();
    // Every batch of an export, wherever it came from: read together.
    let mut exports: Vec<Zeroizing<String>> = Vec::new();
    for (number, input) in inputs.iter().enumerate() {
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
            let utc_offset = options.utc_offset.unwrap_or(0);
            keys.push(read_users_oath(&text, utc_offset).map_err(named)?);
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
    confirm_pending(options, &mut keys, now)?;
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
pub(crate) fn export(options: &Options) -> Result<(), Failure> {
    let format = options
        .format
        .as_deref()
        .ok_or_else(|| Failure::usage("export needs --format users.oath|pskc"))?;
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
    match format {
        "users.oath" => {
            let file = write_users_oath(&keys, 0).map_err(named)?;
            write_out(file.as_str())?;
            note(format_args!(
                "twofa: {} keys; users.oath holds the secrets in the clear: write it only where pam_oath alone can read it",
                keys.len()
            ));
        }
        "pskc" => {
            let (key, fresh) = pskc_key(options)?;
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
        other => {
            return Err(Failure::usage(format!(
                "unknown format {other:?}: users.oath or pskc"
            )));
        }
    }
    Ok(())
}

/// A note on standard error; a closed stderr is no reason to fail.
fn note(text: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// A failure to write standard output (a closed pipe): status 2, not a
/// panic.
fn written(error: io::Error) -> Failure {
    Failure::usage(format!("cannot write standard output: {error}"))
}

fn write_out(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(written)?;
    out.flush().map_err(written)
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
    options: &Options,
    keys: &mut [Vec<ImportedKey>],
    now: u64,
) -> Result<(), Failure> {
    let mut pending: Vec<&mut ImportedKey> = keys
        .iter_mut()
        .flatten()
        .filter(|key| key.is_pending())
        .collect();
    if pending.is_empty() {
        if !options.codes.is_empty() {
            return Err(Failure::usage(
                "--code confirms keys from a PSKC file, and none is pending",
            ));
        }
        return Ok(());
    }
    if options.codes.is_empty() {
        if options.pskc_unconfirmed {
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
    if options.codes.len() != pending.len() {
        return Err(Failure::usage(format!(
            "{} keys are pending and {} codes were given: one --code for each, in file order",
            pending.len(),
            options.codes.len()
        )));
    }
    for (key, code) in pending.iter_mut().zip(&options.codes) {
        key.confirm(code, now)
            .map_err(|error| Failure::usage(format!("{}: not confirmed: {error}", key.origin())))?;
    }
    Ok(())
}

fn pskc_reader(options: &Options, now: u64) -> Result<PskcReader, Failure> {
    let mut reader = PskcReader::new().at(now);
    if options.skip_mac_check {
        reader = reader.skip_mac_check_known_broken();
    }
    if let Some(digest) = &options.pskc_sha256 {
        let bad = || Failure::usage("--pskc-sha256 takes 64 hex digits");
        let bytes = unhex(digest).map_err(|_| bad())?;
        let digest = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| bad())?;
        reader = reader.expect_sha256(digest);
    }
    if options.accept_outside_validity {
        reader = reader.accept_outside_validity();
    }
    if options.refuse_plain_integers {
        reader = reader.refuse_plain_integers();
    }
    Ok(
        match (pre_shared_key(options)?, &options.pskc_password_env) {
            (Some(_), Some(_)) => {
                return Err(Failure::usage(
                    "a pre-shared key and --pskc-password-env exclude each other",
                ));
            }
            (Some(key), None) => reader.pre_shared_key(&key),
            (None, Some(var)) => reader.password(&from_env(var)?),
            (None, None) => reader,
        },
    )
}

/// The pre-shared key to export with, and whether it was made here.
fn pskc_key(options: &Options) -> Result<(Zeroizing<Vec<u8>>, bool), Failure> {
    if let Some(key) = pre_shared_key(options)? {
        return Ok((key, false));
    }
    let mut key = Zeroizing::new(vec![0u8; 16]);
    getrandom::fill(&mut key)
        .map_err(|_| Failure::usage("the system's random number generator failed"))?;
    Ok((key, true))
}

/// The pre-shared key of `--pskc-key HEX` or `--pskc-key-env VAR`.
fn pre_shared_key(options: &Options) -> Result<Option<Zeroizing<Vec<u8>>>, Failure> {
    match (&options.pskc_key, &options.pskc_key_env) {
        (Some(_), Some(_)) => Err(Failure::usage(
            "--pskc-key and --pskc-key-env exclude each other",
        )),
        (Some(key), None) => unhex(key).map(Some),
        (None, Some(var)) => unhex(&from_env(var)?).map(Some),
        (None, None) => Ok(None),
    }
}

fn from_env(var: &str) -> Result<Zeroizing<String>, Failure> {
    let value = env::var(var).map_err(|_| {
        Failure::usage(format!(
            "environment variable {var:?} is not set (or not UTF-8)"
        ))
    })?;
    Ok(Zeroizing::new(value))
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
