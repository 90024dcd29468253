//! A record's version and format as a store keeps them beside the body.

use twofa::Versioned;

use crate::{Corrupt, Record, StoreError};

/// A stored version, which is never below 1 (0 stands for a record never
/// saved, and is never stored).
///
/// # Errors
/// [`Corrupt`] for a version below 1.
fn stored_version(kind: &'static str, version: i64) -> Result<u64, Corrupt> {
    u64::try_from(version)
        .ok()
        .filter(|&version| version > 0)
        .ok_or_else(|| Corrupt::new(kind, "version below 1"))
}

/// The version a save at `expected` stores, as the store's signed 64-bit
/// column holds it.
///
/// # Errors
/// [`StoreError::VersionOutOfRange`] when it would not fit.
pub fn next_version<E>(expected: u64) -> Result<i64, StoreError<E>> {
    expected
        .checked_add(1)
        .and_then(|next| i64::try_from(next).ok())
        .ok_or(StoreError::VersionOutOfRange)
}

/// Refuses an account name no store keeps alike: one with a NUL
/// character (PostgreSQL's `TEXT` cannot hold it, SQLite and Redis can),
/// so that a name is refused the same way on every backend.
///
/// # Errors
/// [`StoreError::BadAccount`].
pub fn check_account<E>(account: &str) -> Result<(), StoreError<E>> {
    if account.contains('\0') {
        return Err(StoreError::BadAccount);
    }
    Ok(())
}

/// The longest body a store reads back, in bytes: 1 MiB, thirty times a
/// full account's; a longer one (only someone writing the database could
/// have put it there) is refused as corrupt. The SQL stores pass on at
/// most one byte more, so the service never holds it whole (SQLite still
/// reads it in the service's process, briefly, and PostgreSQL in its
/// own); the Redis store receives it whole, then refuses it.
pub const MAX_BODY_LEN: usize = 1 << 20;

/// A stored record read back: its version, format and body, all checked.
///
/// # Errors
/// [`Corrupt`] for a version below 1, a format it does not read, a body longer than
/// [`MAX_BODY_LEN`], or one that is not exactly a record of kind `T`.
pub fn decode<T: Record>(version: i64, format: i64, body: &str) -> Result<Versioned<T>, Corrupt> {
    let version = stored_version(T::KIND, version)?;
    if body.len() > MAX_BODY_LEN {
        return Err(Corrupt::new(T::KIND, "a body longer than MAX_BODY_LEN"));
    }
    if !(T::OLDEST_FORMAT..=T::FORMAT).contains(&format) {
        return Err(Corrupt::new(
            T::KIND,
            match T::OLDEST_FORMAT == T::FORMAT {
                true => format!("format {format}, this version reads {}", T::FORMAT),
                false => format!(
                    "format {format}, this version reads {} to {}",
                    T::OLDEST_FORMAT,
                    T::FORMAT
                ),
            },
        ));
    }
    Ok(Versioned {
        state: T::decode(body)?,
        version,
    })
}
