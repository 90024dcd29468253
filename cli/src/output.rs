//! Writing: results to standard output, notes and failures to standard
//! error. A closed standard output is a failure (status 2), a closed
//! standard error is ignored; neither is a panic.

use std::{
    fmt,
    io::{self, Write},
};

use crate::Failure;

/// Writes `text` and a newline to standard output.
pub(crate) fn line(text: fmt::Arguments<'_>) -> Result<(), Failure> {
    writeln!(io::stdout().lock(), "{text}").map_err(written)
}

/// Writes `text` as it is to standard output, and flushes it.
pub(crate) fn write_out(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(written)?;
    out.flush().map_err(written)
}

/// A failure to write standard output (a closed pipe): status 2.
pub(crate) fn written(error: io::Error) -> Failure {
    Failure::usage(format!("cannot write standard output: {error}"))
}

/// A note on standard error; a closed stderr is no reason to fail.
pub(crate) fn note(text: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "{text}");
}

/// `println!` that returns a [`Failure`] rather than panicking.
macro_rules! say {
    ($($text:tt)*) => {
        $crate::output::line(format_args!($($text)*))?
    };
}

pub(crate) use say;
