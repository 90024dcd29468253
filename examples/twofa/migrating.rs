//! The commands that move keys between systems: `import` reads Google
//! Authenticator exports, PSKC files and users.oath into `otpauth://`
//! URIs; `export` writes URIs as users.oath or PSKC.

use std::{
    env, fs,
    io::{self, Read},
};

use twofa::{
    KeyUri, Otp,
    migrate::{
        ImportError, ImportedKey, MAX_USERS_OATH_LEN, PskcReader, read_migration, read_users_oath,
        write_pskc, write_users_oath,
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
    let reader = pskc_reader(options)?;
    let mut keys = Vec::new();
    // Every batch of an export, wherever it came from: read together.
    let mut exports: Vec<Zeroizing<String>> = Vec::new();
    for input in inputs {
        if is_export(input) {
            exports.push(Zeroizing::new(input.clone()));
            continue;
        }
        let text = read_input(input)?;
        let named = |error: ImportError| Failure::usage(format!("{input}: {error}"));
        if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<')
        {
            keys.extend(reader.read(&text).map_err(named)?);
        } else if text.lines().any(is_export) {
            for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
                exports.push(Zeroizing::new(line.to_owned()));
            }
        } else {
            // liboath writes local time; the URIs carry no state, so the
            // zone does not matter here.
            keys.extend(read_users_oath(&text, 0).map_err(named)?);
        }
    }
    if !exports.is_empty() {
        let read = read_migration(exports.iter().map(|uri| uri.as_str()));
        keys.extend(read.map_err(|error| Failure::usage(format!("export: {error}")))?);
    }
    // Checked before printing any: all or nothing.
    for key in &keys {
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
    for key in &keys {
        println!("{}", key.key_uri().to_uri().as_str());
    }
    eprintln!(
        "twofa: {} keys; the URIs above hold their secrets: keep them out of logs, shell history and shared screens",
        keys.len()
    );
    Ok(())
}

/// Writes the `otpauth://` URIs on standard input as users.oath or PSKC.
pub(crate) fn export(options: &Options) -> Result<(), Failure> {
    let format = options
        .format
        .as_deref()
        .ok_or_else(|| Failure::usage("export needs --format users.oath|pskc"))?;
    let text = read_input("-")?;
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let uri = KeyUri::parse_accepting_80_bit(line).map_err(|error| {
            Failure::usage(format!("standard input, line {}: {error}", index + 1))
        })?;
        keys.push(ImportedKey::new(uri));
    }
    let named = |error: ImportError| Failure::usage(format!("export: {error}"));
    match format {
        "users.oath" => {
            print!("{}", write_users_oath(&keys, 0).map_err(named)?.as_str());
            eprintln!(
                "twofa: {} keys; users.oath holds the secrets in the clear: write it only where pam_oath alone can read it",
                keys.len()
            );
        }
        "pskc" => {
            let (key, fresh) = pskc_key(options)?;
            print!(
                "{}",
                write_pskc(&keys, &key, &mut getrandom::SysRng).map_err(named)?
            );
            if fresh {
                eprintln!(
                    "twofa: the pre-shared key, to give the receiver by another way than the file: {}",
                    hex(&key).as_str()
                );
            }
            eprintln!("twofa: {} keys, each encrypted and MACed", keys.len());
        }
        other => {
            return Err(Failure::usage(format!(
                "unknown format {other:?}: users.oath or pskc"
            )));
        }
    }
    Ok(())
}

fn is_export(text: &str) -> bool {
    const SCHEME: &str = "otpauth-migration:";
    text.trim()
        .get(..SCHEME.len())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
}

/// A file's text, or standard input's for `-`, into a buffer sized before
/// reading (so no copy is left behind) and bounded.
fn read_input(input: &str) -> Result<Zeroizing<String>, Failure> {
    let limit = MAX_USERS_OATH_LEN;
    let cannot = |e: io::Error| Failure::usage(format!("{input}: cannot read: {e}"));
    let mut text = Zeroizing::new(String::new());
    let read = if input == "-" {
        text.reserve_exact(limit + 1);
        io::stdin()
            .lock()
            .take(limit as u64 + 1)
            .read_to_string(&mut text)
    } else {
        let mut file = fs::File::open(input).map_err(cannot)?;
        let len = file.metadata().map_err(cannot)?.len();
        text.reserve_exact(usize::try_from(len).unwrap_or(limit).min(limit) + 1);
        file.by_ref()
            .take(limit as u64 + 1)
            .read_to_string(&mut text)
    };
    read.map_err(cannot)?;
    if text.len() > limit {
        return Err(Failure::usage(format!("{input}: larger than 16 MiB")));
    }
    Ok(text)
}

fn pskc_reader(options: &Options) -> Result<PskcReader, Failure> {
    let reader = if options.skip_mac_check {
        PskcReader::new().skip_mac_check_known_broken()
    } else {
        PskcReader::new()
    };
    Ok(match (&options.pskc_key, &options.pskc_password_env) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage(
                "--pskc-key and --pskc-password-env exclude each other",
            ));
        }
        (Some(key), None) => reader.pre_shared_key(&unhex(key)?),
        (None, Some(var)) => {
            let password = Zeroizing::new(env::var(var).map_err(|_| {
                Failure::usage(format!(
                    "environment variable {var:?} is not set (or not UTF-8)"
                ))
            })?);
            reader.password(&password)
        }
        (None, None) => reader,
    })
}

/// The pre-shared key to export with, and whether it was made here.
fn pskc_key(options: &Options) -> Result<(Zeroizing<Vec<u8>>, bool), Failure> {
    if let Some(key) = &options.pskc_key {
        return Ok((unhex(key)?, false));
    }
    let mut key = Zeroizing::new(vec![0u8; 16]);
    getrandom::fill(&mut key)
        .map_err(|_| Failure::usage("the system's random number generator failed"))?;
    Ok((key, true))
}

fn unhex(text: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
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
