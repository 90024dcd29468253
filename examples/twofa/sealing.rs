//! The commands that keep secrets at rest: `keygen` makes a sealing key,
//! `seal` and `open` move a secret into and out of its sealed form.

use std::env;

use twofa::{Binding, Keyring, Otp, Sealed, SealingKey, Secret, SecretKind};
use zeroize::Zeroizing;

use crate::{Failure, options::Options};

/// A fresh sealing key, printed as `ID:HEX`.
pub(crate) fn keygen(options: &Options) -> Result<(), Failure> {
    // A rotation needs a new id: never a default that could repeat one.
    let id = options
        .id
        .ok_or_else(|| Failure::usage("keygen needs --id N (a new id for each key)"))?;
    let key = SealingKey::generate(id, &mut getrandom::SysRng)?;
    let text = key.to_text();
    println!("{}", text.as_str());
    eprintln!(
        "twofa: this is a secret key: keep it in the service's secret storage, never beside the data it seals"
    );
    Ok(())
}

/// Seals the SECRET or URI argument.
pub(crate) fn seal(options: &Options) -> Result<(), Failure> {
    let keyring = keyring(options)?;
    let (text, _) = options.secret_text()?;
    let (kind, secret) = match options.otp(&text)? {
        Otp::Totp(totp) => (SecretKind::Totp, totp.secret().clone()),
        Otp::Hotp { hotp, .. } => (SecretKind::Hotp, hotp.secret().clone()),
    };
    let account = account(options)?;
    let binding = Binding::new(account, purpose(options, kind));
    let sealed = keyring.seal_secret(&mut getrandom::SysRng, kind, &secret, binding)?;
    println!("{sealed}");
    Ok(())
}

/// Opens the SEALED argument and prints its secret in base32.
pub(crate) fn open(options: &Options) -> Result<(), Failure> {
    let keyring = keyring(options)?;
    let (text, _) = options.secret_text()?;
    let sealed: Sealed = text.trim().parse()?;
    // The kind the caller expects (its column), never the one the record says.
    let kind = match options.counter {
        Some(_) => SecretKind::Hotp,
        None => SecretKind::Totp,
    };
    let account = account(options)?;
    let binding = Binding::new(account, purpose(options, kind));
    let opened = keyring.open_secret(&sealed, kind, binding)?;
    let secret: &Secret = &opened.value;
    println!("{}", secret.expose_base32());
    Ok(())
}

/// The keyring of the one key `--key-env` names, `ID:HEX`.
fn keyring(options: &Options) -> Result<Keyring, Failure> {
    let var = options
        .key_env
        .as_deref()
        .ok_or_else(|| Failure::usage("a sealing key is needed: --key-env VAR"))?;
    let text = Zeroizing::new(env::var(var).map_err(|_| {
        Failure::usage(format!(
            "environment variable {var:?} is not set (or not UTF-8)"
        ))
    })?);
    let key: SealingKey = text.parse().map_err(|_| {
        Failure::usage(format!(
            "{var:?} must hold ID:HEX, 64 hex digits (see keygen)"
        ))
    })?;
    Ok(Keyring::new(key))
}

fn account(options: &Options) -> Result<&str, Failure> {
    options
        .account
        .as_deref()
        .ok_or_else(|| Failure::usage("seal and open need --account"))
}

/// The purpose bound into the sealed form: `--purpose`, or the kind.
fn purpose(options: &Options, kind: SecretKind) -> &str {
    options.purpose.as_deref().unwrap_or(match kind {
        SecretKind::Hotp => "hotp",
        _ => "totp",
    })
}
