//! Text that holds a secret (a URI, its QR code), written into a string
//! allocated once at its exact size: a string that grows leaves a copy of
//! what it held in the memory it frees.

use alloc::string::String;
use core::fmt::{self, Write};

use zeroize::Zeroizing;

/// What `write` writes, measured first, then written into a string of
/// exactly that capacity, wiped when dropped.
pub(super) fn write_exact(write: impl Fn(&mut dyn Write) -> fmt::Result) -> Zeroizing<String> {
    let mut length = Length(0);
    // Neither counting nor writing to a String can fail.
    let _ = write(&mut length);
    let mut text = Zeroizing::new(String::with_capacity(length.0));
    let _ = write(&mut *text);
    text
}

/// Counts what would be written.
struct Length(usize);

impl Write for Length {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0 += text.len();
        Ok(())
    }
}
