//! Moving keys in and out of other systems: Google Authenticator's
//! exports (`otpauth-migration://`), PSKC token files (RFC 6030) and OATH
//! Toolkit's `users.oath` (feature `migrate`).
//!
//! Each reader returns the keys it found as [`ImportedKey`]s: the
//! generator and label as a [`KeyUri`](crate::KeyUri), secrets as
//! [`Secret`](crate::Secret)s (wiped), and what the old system remembered
//! (HOTP counter, last step, drift, PIN presence) ready for the account
//! state, so that no code used before the move is accepted after it. Every
//! failure is an [`ImportError`] naming the record (a line, a key package,
//! a batch), never any part of a secret. Secrets of 80 bits, which many
//! services issued, are taken; shorter ones are refused.
//!
//! The writers ([`write_users_oath`], [`write_pskc`]) move keys out again:
//! what they write reads back as the same generator, label, counter and
//! last step. Not all of the rest: users.oath keeps no drift or serial,
//! and writes a required PIN as `+`, which reads back as delegated.
//!
//! ```
//! use twofa::migrate::{ImportedKey, read_users_oath, write_users_oath};
//! use twofa::{KeyUri, Otp};
//!
//! let uri = "otpauth://hotp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=7";
//! let keys = [ImportedKey::new(KeyUri::parse(uri)?)];
//! let file = write_users_oath(&keys, 0)?;
//! let back = read_users_oath(&file, 0)?;
//! assert_eq!(back[0].key_uri().otp(), keys[0].key_uri().otp());
//! assert_eq!(back[0].hotp_account().map(|account| account.counter), Some(7));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod base64;
mod civil;
mod error;
mod imported;
mod migration;
mod protobuf;
mod pskc;
mod usersfile;

pub use error::{ImportError, Origin, Problem};
pub use imported::{ImportedKey, KeyPolicy, KeyUsage, Pin};
pub use migration::{MAX_MIGRATION_URI_LEN, read_migration};
pub use pskc::{MAX_PBKDF2_ITERATIONS, MAX_PSKC_LEN, PskcReader, write_pskc};
pub use usersfile::{MAX_USERS_OATH_LEN, read_users_oath, write_users_oath};
