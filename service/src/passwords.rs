//! First factors at rest: passwords and MPINs hashed with Argon2id
//! (RFC 9106) in PHC strings, on a blocking thread so that a hash never
//! holds up the server's other requests.

use std::sync::OnceLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use zeroize::Zeroizing;

/// At most one hash per core at a time (each takes 19 MiB): a flood of
/// logins waits its turn rather than taking the memory of a thread each.
fn hashing() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// The longest password or PIN accepted, in bytes: a longer one is refused
/// before anything is hashed.
pub const MAX_LEN: usize = 128;

/// Hashes `password` with Argon2id at its default cost (19 MiB, 2 passes:
/// OWASP's floor), under a fresh salt.
///
/// # Errors
/// The system's random generator or the hash failed.
pub async fn hash(password: Zeroizing<String>) -> Result<String, String> {
    let _permit = hashing()
        .acquire()
        .await
        .map_err(|e| format!("password hash failed: {e}"))?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password_with_rng(&mut getrandom::SysRng, password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| format!("password hash failed: {e}"))
    })
    .await
    .map_err(|e| format!("password hash failed: {e}"))?
}

/// Whether `password` matches `phc`. An empty `phc` (no such user, or no
/// MPIN set) is checked against `decoy`, a hash of nothing anyone knows,
/// so that the answer takes as long and is always no.
pub async fn verify(password: Zeroizing<String>, phc: String, decoy: &str) -> bool {
    let known = !phc.is_empty();
    let phc = if known { phc } else { decoy.to_owned() };
    let Ok(_permit) = hashing().acquire().await else {
        return false;
    };
    let matched = tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    known && matched
}
