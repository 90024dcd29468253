//! `twofa` measured beside other Rust OTP crates. The crate holds only its
//! benchmark, so that the peers are compiled for `cargo bench -p
//! twofa-compare` and never for the core crate's tests:
//!
//! ```sh
//! cargo bench -p twofa-compare --bench peers
//! ```
