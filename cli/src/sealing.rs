//! The commands that keep secrets at rest: `keygen` makes a sealing key,
//! `seal` and `open` move a secret into and out of its sealed form.

use clap::Args;
use twofa::{Binding, Keyring, Otp, Sealed, SealingKey, Secret, SecretKind};

use crate::{
    Failure,
    args::{Parameters, Source, from_env, read_text},
    output::{note, say},
};

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key's id, bound into every sealed form: a new one for each key,
    /// so that a rotation can tell them apart.
    #[arg(long, value_name = "N")]
    id: u32,
}

/// A fresh sealing key, printed as `ID:HEX`.
pub(crate) fn keygen(args: &KeygenArgs) -> Result<(), Failure> {
    let key = SealingKey::generate(args.id, &mut getrandom::SysRng)?;
    let text = key.to_text();
    say!("{}", text.as_str());
    note(format_args!(
        "twofa: this is a secret key: keep it in the service's secret storage, never beside the data it seals"
    ));
    Ok(())
}

/// The key and the binding a sealed form is made or opened under.
#[derive(Debug, Args)]
pub(crate) struct Sealing {
    /// The environment variable holding the sealing key, ID:HEX as
    /// keygen prints it.
    #[arg(long, value_name = "VAR")]
    key_env: String,
    /// The account the sealed form is bound to.
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    account: String,
    /// The purpose bound into the sealed form [default: totp or hotp].
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    purpose: Option<String>,
}

impl Sealing {
    /// The keyring of the one key `--key-env` names.
    fn keyring(&self) -> Result<Keyring, Failure> {
        let var = &self.key_env;
        let key: SealingKey = from_env(var)?.parse().map_err(|_| {
            Failure::usage(format!(
                "{var:?} must hold ID:HEX, 64 hex digits (see keygen)"
            ))
        })?;
        Ok(Keyring::new(key))
    }

    /// The account and the purpose: `--purpose`, or the kind.
    fn binding(&self, kind: SecretKind) -> Binding<'_> {
        let purpose = self.purpose.as_deref().unwrap_or(match kind {
            SecretKind::Hotp => "hotp",
            _ => "totp",
        });
        Binding::new(&self.account, purpose)
    }
}

#[derive(Debug, Args)]
pub(crate) struct SealArgs {
    #[command(flatten)]
    sealing: Sealing,
    #[command(flatten)]
    source: Source,
    /// Seals a bare SECRET as an HOTP one.
    #[arg(long, value_name = "N")]
    counter: Option<u64>,
    #[command(flatten)]
    parameters: Parameters,
}

/// Seals the SECRET or URI argument.
pub(crate) fn seal(args: &SealArgs) -> Result<(), Failure> {
    let keyring = args.sealing.keyring()?;
    let text = args.source.text()?;
    let (kind, secret) = match args.parameters.otp(&text, args.counter, None)? {
        Otp::Totp(totp) => (SecretKind::Totp, totp.secret().clone()),
        Otp::Hotp { hotp, .. } => (SecretKind::Hotp, hotp.secret().clone()),
    };
    let binding = args.sealing.binding(kind);
    let sealed = keyring.seal_secret(&mut getrandom::SysRng, kind, &secret, binding)?;
    say!("{sealed}");
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct OpenArgs {
    #[command(flatten)]
    sealing: Sealing,
    /// The sealed form; - reads it from standard input.
    #[arg(
        value_name = "SEALED|-",
        required_unless_present = "secret_env",
        conflicts_with = "secret_env"
    )]
    sealed: Option<String>,
    /// Reads the sealed form from this environment variable.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    /// Opens an HOTP secret (the kind its column holds, never the one the
    /// sealed form says).
    #[arg(long, value_name = "N")]
    counter: Option<u64>,
}

/// Opens the SEALED argument and prints its secret in base32.
pub(crate) fn open(args: &OpenArgs) -> Result<(), Failure> {
    let keyring = args.sealing.keyring()?;
    let text = read_text(args.sealed.as_deref(), args.secret_env.as_deref())?;
    let sealed: Sealed = text.trim().parse()?;
    // The kind the caller expects (its column), never the one the record says.
    let kind = match args.counter {
        Some(_) => SecretKind::Hotp,
        None => SecretKind::Totp,
    };
    let opened = keyring.open_secret(&sealed, kind, args.sealing.binding(kind))?;
    let secret: &Secret = &opened.value;
    say!("{}", secret.expose_base32());
    Ok(())
}
