//! First factors at rest: passwords and MPINs hashed with Argon2id
//! (RFC 9106) in PHC strings, on the [`hashing`](crate::hashing) threads
//! so that a hash never holds up the server's other requests.

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::phc::{Output, ParamsString, Salt},
};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::hashing::Class;

/// The longest password or PIN accepted, in bytes: a longer one is refused
/// before anything is hashed.
pub const MAX_LEN: usize = 128;

/// Argon2id's blocks at the service's one cost, allocated at the first
/// hash of a [`hashing`](crate::hashing) thread and reused by each later
/// one, wiped after every hash.
#[derive(Default)]
pub struct PasswordMemory(Vec<Block>);

impl PasswordMemory {
    /// Hashes `password` under `salt` into `out` at the service's cost.
    fn hash_into(&mut self, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), String> {
        let count = Params::default().block_count();
        if self.0.len() != count {
            self.0 = vec![Block::default(); count];
        }
        let hashed =
            Argon2::default().hash_password_into_with_memory(password, salt, out, &mut self.0);
        self.0.iter_mut().for_each(Zeroize::zeroize);
        hashed.map_err(|e| format!("password hash failed: {e}"))
    }
}

impl Drop for PasswordMemory {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(Zeroize::zeroize);
    }
}

impl std::fmt::Debug for PasswordMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PasswordMemory")
            .field(&self.0.len())
            .finish()
    }
}

/// Hashes `password` with Argon2id at its default cost (19 MiB, 2 passes:
/// OWASP's floor), under a fresh salt: a PHC string; in `class`'s share
/// of the hashing queue.
///
/// # Errors
/// The system's random generator or the hash failed, or the queue's
/// share is full.
pub async fn hash(class: Class, password: Zeroizing<String>) -> Result<String, String> {
    crate::hashing::run(class, 1, move |memory| {
        let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
        getrandom::fill(&mut salt).map_err(|e| format!("no random salt: {e}"))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        memory
            .passwords
            .hash_into(password.as_bytes(), &salt, &mut out)?;
        let broken = |e: argon2::password_hash::phc::Error| format!("password hash failed: {e}");
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&Params::default()).map_err(|e| e.to_string())?,
            salt: Some(Salt::new(&salt).map_err(broken)?),
            hash: Some(Output::new(&out).map_err(broken)?),
        };
        Ok(phc.to_string())
    })
    .await?
}

/// Whether `password` matches `phc`. An empty `phc` (no such user, or no
/// MPIN set) is checked against `decoy`, a hash of nothing anyone knows,
/// so that the answer takes as long and is always no.
///
/// # Errors
/// `phc` is not a hash this service makes: not Argon2id version 0x13 at
/// exactly [`hash`]'s cost and length. A record edited to a cost of a
/// gigabyte, or to one that makes guessing cheap, is refused as corrupt
/// before anything is hashed.
pub async fn verify(password: Zeroizing<String>, phc: String, decoy: &str) -> Result<bool, String> {
    let known = !phc.is_empty();
    let phc = if known { phc } else { decoy.to_owned() };
    let (salt, expected) = ours(&phc)?;
    let matched = crate::hashing::run(Class::Login, 1, move |memory| {
        let mut out = Zeroizing::new([0u8; Params::DEFAULT_OUTPUT_LEN]);
        memory
            .passwords
            .hash_into(password.as_bytes(), &salt, &mut *out)?;
        Ok::<_, String>(bool::from(out.ct_eq(expected.as_bytes())))
    })
    .await??;
    Ok(known && matched)
}

/// The salt and digest of a PHC string of the service's own kind of hash;
/// any other is refused.
fn ours(phc: &str) -> Result<(Salt, Output), String> {
    let corrupt = || "a stored password hash is corrupt or not this service's".to_owned();
    let parsed = PasswordHash::new(phc).map_err(|_| corrupt())?;
    let ours = Params::default();
    let params = Params::try_from(&parsed).map_err(|_| corrupt())?;
    let same = parsed.algorithm == Algorithm::Argon2id.ident()
        && parsed.version == Some(Version::V0x13.into())
        && params.m_cost() == ours.m_cost()
        && params.t_cost() == ours.t_cost()
        && params.p_cost() == ours.p_cost()
        && params.output_len() == Some(Params::DEFAULT_OUTPUT_LEN);
    match (same, parsed.salt, parsed.hash) {
        (true, Some(salt), Some(hash)) => Ok((salt, hash)),
        _ => Err(corrupt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_services_own_cost_is_checked() {
        let phc = hash(Class::Login, Zeroizing::new("correct horse".into()))
            .await
            .unwrap();
        let decoy = hash(Class::Login, Zeroizing::new("decoy".into()))
            .await
            .unwrap();
        assert_eq!(
            verify(Zeroizing::new("correct horse".into()), phc.clone(), &decoy).await,
            Ok(true)
        );
        assert_eq!(
            verify(Zeroizing::new("wrong".into()), phc.clone(), &decoy).await,
            Ok(false)
        );
        assert_eq!(
            verify(
                Zeroizing::new("correct horse".into()),
                String::new(),
                &decoy
            )
            .await,
            Ok(false)
        );
        // The same hash with its cost edited: a gigabyte, one pass, less
        // memory, another variant, another version, a shorter output.
        for edited in [
            phc.replace("m=19456", "m=1048576"),
            phc.replace("t=2", "t=1"),
            phc.replace("m=19456", "m=8"),
            phc.replace("$argon2id$", "$argon2i$"),
            phc.replace("v=19", "v=16"),
            phc.rsplit_once('$')
                .map(|(head, _)| format!("{head}$AAAAAAAAAAAAAAAAAAAAAA"))
                .unwrap(),
            "not a hash".to_owned(),
        ] {
            assert!(
                verify(
                    Zeroizing::new("correct horse".into()),
                    edited.clone(),
                    &decoy
                )
                .await
                .is_err(),
                "{edited}"
            );
        }
    }
}
