//! What a store crate answers when it fails: its database's error, or a
//! stored record that cannot be read back.

use core::fmt;
use std::error::Error;

/// A stored record that is missing a part, unparsable or out of range:
/// its kind and what is wrong (the parser's message, naming the field and
/// position). No record holds a secret in the clear: bodies hold keyed
/// digests, public keys and sealed forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corrupt {
    /// The record's kind ([`Record::KIND`](crate::Record::KIND)).
    pub kind: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl Corrupt {
    /// A record of `kind` with `problem`.
    pub fn new(kind: &'static str, problem: impl Into<String>) -> Self {
        Self {
            kind,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored {} record unreadable: {}",
            self.kind, self.problem
        )
    }
}

impl Error for Corrupt {}

/// A store's failure. Every variant refuses the login that met it.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError<E> {
    /// The database failed (a lost connection, say).
    Backend(E),
    /// A stored record cannot be read back: never taken as a default.
    Corrupt(Corrupt),
    /// A record's version would no longer fit the store's column (a
    /// signed 64-bit integer): refused rather than wrapped, since a
    /// version that restarts lets a stale save through.
    VersionOutOfRange,
    /// An account name with a NUL character, which no store keeps alike.
    BadAccount,
    /// A record's body cannot be written (a state beyond the bounds a
    /// store keeps, such as too many sealed secrets).
    Unwritable(&'static str),
}

impl<E: fmt::Display> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Backend(e) => write!(f, "store: {e}"),
            Self::Corrupt(corrupt) => corrupt.fmt(f),
            Self::VersionOutOfRange => f.write_str("record version out of range"),
            Self::BadAccount => f.write_str("account name with a NUL character"),
            Self::Unwritable(why) => write!(f, "record cannot be stored: {why}"),
        }
    }
}

impl<E: Error + 'static> Error for StoreError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Backend(e) => Some(e),
            Self::Corrupt(corrupt) => Some(corrupt),
            Self::VersionOutOfRange | Self::BadAccount | Self::Unwritable(_) => None,
        }
    }
}

impl<E> StoreError<E> {
    /// The same error with the backend's failure mapped by `f`.
    pub fn map_backend<F>(self, f: impl FnOnce(E) -> F) -> StoreError<F> {
        match self {
            Self::Backend(e) => StoreError::Backend(f(e)),
            Self::Corrupt(corrupt) => StoreError::Corrupt(corrupt),
            Self::VersionOutOfRange => StoreError::VersionOutOfRange,
            Self::BadAccount => StoreError::BadAccount,
            Self::Unwritable(why) => StoreError::Unwritable(why),
        }
    }
}

impl<E> From<Corrupt> for StoreError<E> {
    fn from(corrupt: Corrupt) -> Self {
        Self::Corrupt(corrupt)
    }
}
