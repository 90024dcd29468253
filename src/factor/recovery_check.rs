//! A recovery code checked in two phases, so that the Argon2id work is
//! not done while the account's state is locked (inside a database
//! transaction that holds a write lock, or under a mutex):
//! [`RecoveryCodes::check_in`] hashes the typed code on a copy of the set,
//! and a replacement code whether or not it matches;
//! [`RecoveryCodes::commit`] decides on the set as it is then, with one
//! keyed digest and a constant-time comparison. The decision is the one
//! [`RecoveryCodes::verify`] makes, which is the two phases on one set.
//! A commit on a set whose salt, cost or pepper changed since the copy (a
//! set made anew) is refused, so the caller checks again.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use super::{
    binding::Binding,
    digest_key::DigestKey,
    hash_memory::HashMemory,
    recovery::{
        DIGEST_LEN, RecoveryAccepted, RecoveryCode, RecoveryCodes, RecoveryKeys, RecoveryOutcome,
        RecoveryPolicy, cost_in_bounds,
    },
};
use crate::error::Error;

/// What the Argon2id work of one recovery code found on a copy of the
/// set: made by [`RecoveryCodes::check_in`], decided by
/// [`RecoveryCodes::commit`]. It holds the typed code's digest and the
/// replacement to hand over if the commit accepts it: wiped on drop,
/// never shown by `Debug`.
///
/// A check belongs to the account and the set it was made on: committing
/// it to another account's set would decide that account's login with
/// this code (the set's salt, part of what a commit compares, makes that
/// fail for any set but the one checked).
pub struct RecoveryCheck {
    /// What the digest depends on, as the copy had it.
    salt: [u8; 16],
    memory_kib: u32,
    passes: u32,
    pepper_id: Option<u32>,
    found: Found,
}

/// When a check makes the replacement code.
#[derive(Clone, Copy)]
pub(super) enum Replace {
    /// Whatever the typed code: the check's time is the same either way.
    Always,
    /// Only for a code of the set: a check decided at once, under the
    /// throttle that let it run ([`RecoveryCodes::verify_in`]), where the
    /// answer says what the time would.
    OnMatch,
}

/// What the copy gave.
enum Found {
    /// The copy was not genuine, or lacked a required pepper: nothing
    /// was hashed.
    Forged,
    /// Not a code: nothing was hashed.
    Malformed,
    /// The typed code's digest, and a replacement with its digest (made
    /// as [`Replace`] says).
    Hashed {
        digest: Zeroizing<[u8; DIGEST_LEN]>,
        replacement: Option<(RecoveryCode, [u8; DIGEST_LEN])>,
    },
}

impl fmt::Debug for RecoveryCheck {
    /// Nothing of the digests, the replacement, or whether it matched.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCheck(..)")
    }
}

impl RecoveryCodes {
    /// The Argon2id work of [`RecoveryCodes::verify_in`] on this set, a
    /// copy of the stored one: the set checked (cost, keyed digest,
    /// pepper), the typed code hashed, and a new code made and hashed to
    /// replace it. Nothing is decided or changed: pass the result to
    /// [`RecoveryCodes::commit`] on the set as it is then. A login does
    /// this through
    /// [`Guard::check_recovery_code`](crate::Guard::check_recovery_code).
    ///
    /// The replacement is made whether or not the code matches, so a
    /// check takes two hashes either way: a check whose commit is then
    /// refused (the account locked, or waiting after another login's
    /// failure, since the copy) tells its caller nothing by its time,
    /// and a code that is in the set only since the copy (a replacement
    /// handed out meanwhile) is decided by it too.
    ///
    /// # Errors
    /// As [`RecoveryCodes::verify`].
    pub fn check_in<R: TryCryptoRng + ?Sized>(
        &self,
        memory: &mut HashMemory,
        policy: &RecoveryPolicy,
        keys: RecoveryKeys<'_>,
        binding: Binding<'_>,
        rng: &mut R,
        typed: &str,
    ) -> Result<RecoveryCheck, Error> {
        self.prepare(memory, policy, keys, binding, rng, typed, Replace::Always)
    }

    /// [`RecoveryCodes::check_in`], making the replacement `when` says.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prepare<R: TryCryptoRng + ?Sized>(
        &self,
        memory: &mut HashMemory,
        policy: &RecoveryPolicy,
        keys: RecoveryKeys<'_>,
        binding: Binding<'_>,
        rng: &mut R,
        typed: &str,
        when: Replace,
    ) -> Result<RecoveryCheck, Error> {
        let check = |found| RecoveryCheck {
            salt: self.salt,
            memory_kib: self.memory_kib,
            passes: self.passes,
            pepper_id: self.pepper_id,
            found,
        };
        if !self.is_usable(policy, keys.digest, binding)? {
            return Ok(check(Found::Forged));
        }
        let pepper = self.pepper(keys)?;
        let Some(code) = RecoveryCode::parse(typed) else {
            return Ok(check(Found::Malformed));
        };
        let digest = Zeroizing::new(self.digest(memory, &code, pepper)?);
        let replacement = match (when, self.position(&digest)) {
            (Replace::OnMatch, None) => None,
            (Replace::Always, _) | (Replace::OnMatch, Some(_)) => {
                let replacement = RecoveryCode::generate(rng)?;
                let new_digest = self.digest(memory, &replacement, pepper)?;
                Some((replacement, new_digest))
            }
        };
        Ok(check(Found::Hashed {
            digest,
            replacement,
        }))
    }

    /// Decides the code `check` was made for on this set, the stored one
    /// as it is now, as [`RecoveryCodes::verify`] would have: on a match
    /// the code is replaced by the check's replacement, which the outcome
    /// hands over. `None`, with nothing changed, when the set moved since
    /// the copy so that the check hashed under the wrong salt, cost or
    /// pepper (a set made anew): check again on a new copy. A code used by
    /// another login since the copy is [`RecoveryOutcome::Invalid`], as it
    /// would have been after that login.
    ///
    /// The set is checked again (cost, keyed digest, pepper) before
    /// anything is compared: a set altered since the copy is
    /// [`RecoveryOutcome::Forged`].
    ///
    /// # Errors
    /// [`Error::StoredCostOutOfRange`] and [`Error::UnknownKeyId`], as
    /// [`RecoveryCodes::verify`]. The set is unchanged.
    pub fn commit(
        &mut self,
        check: &RecoveryCheck,
        policy: &RecoveryPolicy,
        keys: RecoveryKeys<'_>,
        binding: Binding<'_>,
    ) -> Result<Option<RecoveryOutcome>, Error> {
        let genuine = self.is_usable(policy, keys.digest, binding)?;
        let same = self.salt == check.salt
            && self.memory_kib == check.memory_kib
            && self.passes == check.passes
            && self.pepper_id == check.pepper_id;
        if !same {
            return Ok(None);
        }
        let (digest, replacement) = match (&check.found, genuine) {
            // A copy refused as forged and a set now genuine under the
            // same salt: the copy was written over, look again.
            (Found::Forged, true) => return Ok(None),
            (_, false) => return Ok(Some(RecoveryOutcome::Forged)),
            (Found::Malformed, true) => return Ok(Some(RecoveryOutcome::Malformed)),
            (
                Found::Hashed {
                    digest,
                    replacement,
                },
                true,
            ) => (digest, replacement),
        };
        let Some(index) = self.position(digest) else {
            return Ok(Some(RecoveryOutcome::Invalid));
        };
        // Only `verify_in`'s own checks (`Replace::OnMatch`) can lack a
        // replacement for a code the set holds, and only if the set gained
        // the code since: ask for a new check.
        let Some((code, new_digest)) = replacement else {
            return Ok(None);
        };
        let key = DigestKey::find(keys.digest, self.key_id)?;
        let slot = self.digests.get_mut(index).ok_or(Error::InvalidPolicy)?;
        *slot = *new_digest;
        self.used = self.used.saturating_add(1);
        self.reseal(key, binding);
        Ok(Some(RecoveryOutcome::Accepted(RecoveryAccepted {
            replacement: code.clone(),
            remaining: self.remaining(),
        })))
    }

    /// Whether the set may be used: an error for a cost out of bounds or
    /// a digest key not among `keys`, `false` for a set whose keyed digest
    /// does not match or that lacks the pepper `policy` requires.
    fn is_usable(
        &self,
        policy: &RecoveryPolicy,
        keys: &[DigestKey],
        binding: Binding<'_>,
    ) -> Result<bool, Error> {
        if !cost_in_bounds(self.memory_kib, self.passes) {
            return Err(Error::StoredCostOutOfRange);
        }
        Ok(self.is_genuine(keys, binding)?
            && !(policy.pepper_required() && self.pepper_id.is_none()))
    }
}
