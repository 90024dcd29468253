//! Secrets at rest: every secret the crate stores, sealed under a keyring
//! of keys with ids (XChaCha20-Poly1305), bound to its kind, account and
//! purpose. `no_std`, no allocator.

mod key;
mod keyring;
mod kind;
mod sealed;

pub use key::SealingKey;
pub use keyring::{Keyring, Opened};
pub use kind::SecretKind;
pub use sealed::{MAX_SEALED_LEN, Sealed, SealedBytes};
