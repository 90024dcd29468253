//! The service's own secrets. The sealing key comes from the environment
//! (or, for a demo, a generated file, with a warning); the digest key
//! (tickets, SMS codes, tokens) and the recovery-code pepper are made once,
//! by whichever instance starts first, and kept sealed in the store so that
//! every instance uses the same ones.

use std::{fs, io::Write, path::Path};

use twofa::{Binding, DigestKey, Guard, Keyring, RecoveryPepper, SealingKey};
use twofa_stores::AnyStore;

use crate::{config::Config, records::ServiceSecrets};

/// The account name the service's secrets are kept under: no user can
/// take it ([`User::valid_id`](crate::records::User::valid_id)).
pub const SERVICE_ACCOUNT: &str = "#service";

/// The secrets a running service holds.
#[derive(Debug)]
pub struct Keys {
    /// Seals TOTP secrets at rest.
    pub keyring: Keyring,
    /// Keyed digests of tickets, SMS codes and tokens; the current first.
    pub digest: Vec<DigestKey>,
    /// Mixed into recovery-code digests; the current first.
    pub peppers: Vec<RecoveryPepper>,
}

impl Keys {
    /// The sealing key of `config`, then the digest key and pepper from
    /// `store` (made and stored if this is the first instance ever).
    ///
    /// # Errors
    /// A malformed key, a demo key file that cannot be read or written,
    /// the store failed, or the stored secrets do not open under the key.
    pub async fn load(config: &Config, store: &AnyStore) -> Result<Self, String> {
        let keyring = Keyring::new(sealing_key(config)?);
        let mut rng = getrandom::SysRng;
        let digest_binding = Binding::new(SERVICE_ACCOUNT, "digest-key");
        let pepper_binding = Binding::new(SERVICE_ACCOUNT, "recovery-pepper");
        let fresh_digest = DigestKey::generate(1, &mut rng).map_err(|e| e.to_string())?;
        let fresh_pepper = RecoveryPepper::generate(1, &mut rng).map_err(|e| e.to_string())?;
        let sealed_digest = keyring
            .seal_digest_key(&mut rng, &fresh_digest, digest_binding)
            .map_err(|e| e.to_string())?;
        let sealed_pepper = keyring
            .seal_recovery_pepper(&mut rng, &fresh_pepper, pepper_binding)
            .map_err(|e| e.to_string())?;
        // Two instances starting at once: one set is kept, both use it.
        let secrets = Guard::default()
            .decide_shared(
                store,
                SERVICE_ACCOUNT,
                |ServiceSecrets(secrets): &mut ServiceSecrets| {
                    if secrets.is_empty() {
                        // Two names in an empty set: within every bound.
                        let _ = secrets.insert("digest-key", sealed_digest.clone());
                        let _ = secrets.insert("recovery-pepper", sealed_pepper.clone());
                    }
                    Ok(secrets.clone())
                },
            )
            .await
            .map_err(|e| format!("the store failed: {e}"))?;
        let opened = |name: &str| {
            secrets
                .get(name)
                .ok_or_else(|| format!("the store's service secrets lack {name}"))
        };
        let wrong_key = |e: twofa::Error| {
            format!("the stored service secrets do not open under this sealing key: {e}")
        };
        let digest = keyring
            .open_digest_key(opened("digest-key")?, digest_binding)
            .map_err(wrong_key)?
            .value;
        let pepper = keyring
            .open_recovery_pepper(opened("recovery-pepper")?, pepper_binding)
            .map_err(wrong_key)?
            .value;
        Ok(Self {
            keyring,
            digest: vec![digest],
            peppers: vec![pepper],
        })
    }
}

/// The configured sealing key, or the demo key (made on the first run).
fn sealing_key(config: &Config) -> Result<SealingKey, String> {
    if let Some(text) = &config.sealing_key {
        return text
            .parse()
            .map_err(|_| "TWOFA_SEALING_KEY must be ID:HEX, 64 hex digits".to_owned());
    }
    let path = &config.demo_key_file;
    tracing::warn!(
        "no TWOFA_SEALING_KEY: secrets are sealed under a demo key kept in {} beside the data. \
         Never run a real service like this: give it a key from your secret storage.",
        path.display()
    );
    if path.exists() {
        let failed = |e: std::io::Error| format!("{}: {e}", path.display());
        // Checked as opened: what is read is the file that was checked,
        // whatever replaces the path meanwhile.
        let mut file = fs::File::open(path).map_err(failed)?;
        check_private(path, &file.metadata().map_err(failed)?)?;
        let mut text = zeroize::Zeroizing::new(String::new());
        std::io::Read::read_to_string(&mut file, &mut text).map_err(failed)?;
        return text
            .parse()
            .map_err(|_| format!("{}: not a key (ID:HEX)", path.display()));
    }
    let key = SealingKey::generate(1, &mut getrandom::SysRng).map_err(|e| e.to_string())?;
    write_private(path, key.to_text().as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(key)
}

/// Refuses a demo key file that someone else could have planted or read:
/// it must be a plain file (not a link) owned by the user the service runs
/// as, readable and writable by that user alone (mode 0600). `metadata`
/// is the opened file's own.
fn check_private(path: &Path, metadata: &fs::Metadata) -> Result<(), String> {
    let link = fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !link.file_type().is_file() || !metadata.file_type().is_file() {
        return Err(format!("{}: not a plain file", path.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = metadata.mode() & 0o777;
        // The owner of a file this process creates is the process's user.
        let probe = path.with_extension("owner-check");
        let _ = fs::remove_file(&probe);
        write_private(&probe, b"").map_err(|e| format!("{}: {e}", probe.display()))?;
        let ours = fs::metadata(&probe).map(|probe| probe.uid());
        let _ = fs::remove_file(&probe);
        let ours = ours.map_err(|e| format!("{}: {e}", probe.display()))?;
        if metadata.uid() != ours || mode != 0o600 {
            return Err(format!(
                "{}: the demo key file must belong to the service's user with mode 0600 (it has mode {mode:o}): remove it to make a new one, or give TWOFA_SEALING_KEY",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Creates `path` readable by its owner only, failing if it exists.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
