//! Getting a secret to a person and back: `otpauth://` URIs, their QR
//! codes, and enrollment that activates a secret only once it is proven.

mod enroll;
mod exact;
#[cfg(feature = "migrate")]
pub mod migrate;
#[cfg(feature = "qr")]
mod qr;
pub(crate) mod uri;

pub use enroll::{Enrolled, Enrollment};
#[cfg(feature = "qr")]
pub use qr::Qr;
pub use uri::{KeyUri, Otp, PortabilityWarning};
