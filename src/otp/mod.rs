//! The engine: secrets, the HMAC keyed once, dynamic truncation, code
//! formats, the constant-time window scan, HOTP and TOTP. `no_std`, no
//! allocator, no clock unless asked; nothing here knows about accounts.

mod algorithm;
pub(crate) mod base32;
#[cfg(feature = "std")]
mod clock;
mod code;
pub(crate) mod ct;
mod format;
mod hotp;
mod id_key;
mod keyed;
mod mac;
pub(crate) mod random;
mod secret;
mod totp;
mod window;
mod wipe;

pub use algorithm::Algorithm;
#[cfg(feature = "std")]
pub use clock::unix_time;
pub use code::Code;
pub use format::{Digits, Format};
pub use hotp::{Hotp, HotpBuilder, HotpMatch};
pub(crate) use id_key::id_key;
pub use secret::Secret;
pub use totp::{Totp, TotpBuilder, TotpMatch};
