//! What goes wrong reading or writing a key file, and where.

use alloc::string::String;
use core::fmt;

use crate::error::Error;

/// Where in a file a key was read from, or which key a writer refused:
/// how an [`ImportError`] names the record without quoting it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// The file as a whole (its size, its syntax, its header).
    File,
    /// A line of a `users.oath` file, counted from 1.
    Line(usize),
    /// A key of a Google Authenticator export: the batch (the export's
    /// QR code, from 1) and the key in it (from 1).
    Migration {
        /// The batch, from 1, as the app numbers its QR codes.
        batch: usize,
        /// The key within the batch, from 1.
        key: usize,
    },
    /// A `KeyPackage` of a PSKC file, from 1, with its `Key`'s `Id`.
    Package {
        /// The package's place in the file, from 1.
        index: usize,
        /// The `Id` attribute of its `Key`, if it has one.
        id: Option<String>,
    },
    /// The key given to a writer at this place, from 1.
    Entry(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => f.write_str("file"),
            Self::Line(line) => write!(f, "line {line}"),
            Self::Migration { batch, key } => write!(f, "batch {batch}, key {key}"),
            Self::Package {
                index,
                id: Some(id),
            } => write!(f, "key package {index} (Id {})", Quoted(id)),
            Self::Package { index, id: None } => write!(f, "key package {index}"),
            Self::Entry(index) => write!(f, "key {index}"),
        }
    }
}

/// What was wrong with a record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A value the crate refuses for a key: a secret too short or too long,
    /// digits outside 6 to 10, a bad period, a label with a colon.
    Key(Error),
    /// The text is not what the format has here; says what was expected.
    Syntax(&'static str),
    /// The XML is not well formed, or declares a DTD (entities are never
    /// expanded). roxmltree's description, quoted and cut to 64 characters.
    Xml(String),
    /// Something the format allows that this crate does not take, named:
    /// an algorithm (MD5, OCRA), an encryption method, a token type.
    Unsupported(String),
    /// A required element or field is missing; names it.
    Missing(&'static str),
    /// The file is larger than a reader takes, or nests deeper, or asks for
    /// more work (PBKDF2 iterations) than its bound; names the bound.
    TooLarge(&'static str),
    /// The key is encrypted and no decryption key (or password) was given.
    KeyRequired,
    /// The decryption key (or password) given does not fit the encryption
    /// method, or does not decrypt the value (bad padding): most likely
    /// the wrong one.
    WrongKey,
    /// An encrypted value has no MAC (no `ValueMAC`, or no `MACMethod`
    /// to check it with).
    MacMissing,
    /// A secret in the clear in a file that encrypts (it has an
    /// `EncryptionKey` or a `MACMethod`, or a key was given to read it):
    /// whoever could alter the file could have chosen it.
    InTheClear,
    /// An integer in the clear in a file that encrypts, which the reader
    /// was told to refuse
    /// ([`PskcReader::refuse_plain_integers`](super::PskcReader::refuse_plain_integers)):
    /// its MACs do not cover it.
    IntegerInTheClear,
    /// The MAC over an encrypted value does not match: the file was altered
    /// or damaged, or the key is wrong.
    MacMismatch,
    /// The batches of a multi-part export do not make one whole: one is
    /// missing, repeated, or from another export.
    Batches(&'static str),
    /// A writer cannot express this key in its format; says what.
    NotRepresentable(&'static str),
    /// An element the reader does not understand, where keys or their
    /// settings could be (a reader that skipped it could drop a key or a
    /// restriction silently): names it, quoted and cut, and its parent.
    Unexpected(String),
    /// A file with no key to import: says what it held instead.
    NoKeys {
        /// Key packages in the file.
        packages: usize,
        /// Of which PIN keys (not one-time-password keys).
        pins: usize,
    },
    /// A key policy the reader does not understand, or one that forbids
    /// the key's use for one-time passwords: RFC 6030 §5 says such a key
    /// may not be used. Names it.
    Policy(String),
    /// The file's SHA-256 is not the one the vendor gave: altered, or
    /// another file.
    DigestMismatch,
    /// An AES-CBC block (16 bytes of an IV or a ciphertext) appears twice
    /// in the file's encrypted values: values spliced from one another's
    /// blocks, which RFC 6030's MACs do not catch.
    RepeatedBlock,
    /// The key's policy puts now outside its validity (`StartDate`,
    /// `ExpiryDate`), or gives dates and the reader was given no time to
    /// check them at; says which.
    Validity(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(error) => write!(f, "{error}"),
            Self::Syntax(expected) => write!(f, "expected {expected}"),
            Self::Xml(message) => write!(f, "not well-formed XML: {message}"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::Missing(what) => write!(f, "missing {what}"),
            Self::TooLarge(bound) => write!(f, "too large: {bound}"),
            Self::KeyRequired => f.write_str("encrypted: a key or password is needed"),
            Self::WrongKey => f.write_str("the key or password does not decrypt it"),
            Self::MacMissing => f.write_str("encrypted value without a MAC"),
            Self::InTheClear => f.write_str("a secret in the clear in an encrypted file"),
            Self::IntegerInTheClear => f.write_str(
                "an integer in the clear in an encrypted file, which its MACs do not cover",
            ),
            Self::MacMismatch => f.write_str("MAC does not match: altered, damaged or wrong key"),
            Self::Batches(what) => write!(f, "export batches: {what}"),
            Self::NotRepresentable(what) => write!(f, "cannot be written: {what}"),
            Self::Unexpected(what) => {
                write!(
                    f,
                    "an element the reader does not understand, where keys could be: {what}"
                )
            }
            Self::NoKeys { packages, pins } => write!(
                f,
                "no key to import ({packages} key packages, {pins} of them PIN keys)"
            ),
            Self::Policy(what) => write!(
                f,
                "a key policy that forbids the key or is not understood (RFC 6030 section 5): {what}"
            ),
            Self::DigestMismatch => {
                f.write_str("the file's SHA-256 is not the one expected: altered, or another file")
            }
            Self::RepeatedBlock => {
                f.write_str("an encrypted block repeats: values spliced from one another")
            }
            Self::Validity(what) => write!(
                f,
                "{what} (accept it by name, accept_outside_validity, to import it all the same)"
            ),
        }
    }
}

/// A record that could not be read or written, and why. Names the record
/// (a line, a key package, a batch) and never holds any part of a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// Where.
    pub origin: Origin,
    /// What.
    pub problem: Problem,
}

impl ImportError {
    pub(super) fn new(origin: Origin, problem: Problem) -> Self {
        Self { origin, problem }
    }

    /// A problem with the file as a whole.
    pub(super) fn file(problem: Problem) -> Self {
        Self::new(Origin::File, problem)
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.problem)
    }
}

impl core::error::Error for ImportError {}

/// Text from a file as a message shows it: quoted with its control
/// characters escaped (a message must not print lines of its own), and at
/// most 64 characters of it.
pub(super) struct Quoted<'a>(pub(super) &'a str);

/// The most characters of a file's text a message shows.
const SHOWN: usize = 64;

/// The first [`SHOWN`] characters of `text`: how much of a file's text an
/// error keeps (an `Origin` holds at most this of a key's `Id`).
pub(super) fn cut(text: &str) -> &str {
    let end = text
        .char_indices()
        .nth(SHOWN)
        .map_or(text.len(), |(at, _)| at);
    text.get(..end).unwrap_or_default()
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = cut(self.0);
        write!(f, "{shown:?}")?;
        if shown.len() < self.0.len() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        Self::Key(error)
    }
}
