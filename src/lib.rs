#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod algorithm;
mod base32;
#[cfg(feature = "std")]
mod clock;
mod code;
mod error;
mod hotp;
mod mac;
mod replay;
mod secret;
mod totp;
mod window;

pub use algorithm::Algorithm;
#[cfg(feature = "std")]
pub use clock::unix_time;
pub use code::{Code, Digits};
pub use error::Error;
pub use hotp::{Hotp, HotpBuilder, HotpMatch};
pub use replay::{Acceptance, ReplayStore};
#[cfg(feature = "std")]
pub use replay::{MemoryReplayStore, StoreFull};
pub use secret::Secret;
pub use totp::{Totp, TotpBuilder, TotpMatch};
