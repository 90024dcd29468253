//! The system clock, read only when a caller asks.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Error;

/// The current Unix time in whole seconds, from the system clock.
///
/// The rest of the crate takes time as an argument, so tests and services
/// with their own clock never need this.
///
/// # Errors
/// [`Error::TimeBeforeEpoch`] when the system clock is set before 1970.
pub fn unix_time() -> Result<u64, Error> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .map_err(|_| Error::TimeBeforeEpoch)
}
