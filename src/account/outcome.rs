//! The answer to a login's attempt, one variant per answer a service
//! gives, and a factor's own verdict before the throttle counts it.

use core::fmt;

use super::throttle::Throttled;

/// The answer to a login's second-factor attempt, one variant per answer a
/// service gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum Outcome<M> {
    /// The code is right and new: log in.
    Accepted(M),
    /// The code is wrong ("Invalid TOTP"); `attempts_left` more failures
    /// lock the account (0: it is now locked).
    Invalid {
        /// Failures left before the lockout.
        attempts_left: u32,
    },
    /// The code was right but already used ("OTP has been used in past,
    /// Please try next OTP"). Counts as a failure.
    Replayed,
    /// Not a code at all (wrong length or characters): nothing was
    /// compared and nothing counted.
    Malformed,
    /// Too soon after a failure: try again at `retry_at`. Nothing was
    /// compared.
    TooSoon {
        /// The earliest time of the next attempt (Unix seconds).
        retry_at: u64,
    },
    /// Locked after too many failures, until `until` (or until a reset).
    /// Nothing was compared.
    Locked {
        /// The end of the lockout, if it ends by itself.
        until: Option<u64>,
    },
    /// A single-use challenge or ticket (an out-of-band code, a device
    /// challenge, a pending login) expired, ran out of its attempts or was
    /// already used: start again. Nothing was compared.
    Expired,
    /// The pending login does not allow this second factor. Nothing was
    /// compared.
    NotAllowed,
}

/// A factor's own answer, before the throttle counts it.
pub(super) enum Verdict<M> {
    Accepted(M),
    Invalid,
    #[cfg(feature = "alloc")]
    Replayed,
    Malformed,
    Expired,
}

impl<M> Outcome<M> {
    /// Whether the attempt succeeded.
    #[must_use]
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted(_))
    }

    /// The same outcome with the accepted match mapped by `f`.
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Outcome<N> {
        match self.into_accepted() {
            Ok(matched) => Outcome::Accepted(f(matched)),
            Err(refused) => refused,
        }
    }

    /// The match of an accepted attempt, or the refusal as an outcome of
    /// another match type.
    pub(super) fn into_accepted<N>(self) -> Result<M, Outcome<N>> {
        Err(match self {
            Self::Accepted(matched) => return Ok(matched),
            Self::Invalid { attempts_left } => Outcome::Invalid { attempts_left },
            Self::Replayed => Outcome::Replayed,
            Self::Malformed => Outcome::Malformed,
            Self::TooSoon { retry_at } => Outcome::TooSoon { retry_at },
            Self::Locked { until } => Outcome::Locked { until },
            Self::Expired => Outcome::Expired,
            Self::NotAllowed => Outcome::NotAllowed,
        })
    }
}

impl<M> From<Throttled> for Outcome<M> {
    fn from(throttled: Throttled) -> Self {
        match throttled {
            Throttled::TooSoon { retry_at } => Self::TooSoon { retry_at },
            Throttled::Locked { until } => Self::Locked { until },
        }
    }
}

impl<M> fmt::Display for Outcome<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Accepted(_) => f.write_str("accepted"),
            Self::Invalid { attempts_left } => {
                write!(f, "invalid code ({attempts_left} attempts left)")
            }
            Self::Replayed => f.write_str("code already used"),
            Self::Malformed => f.write_str("malformed code"),
            Self::TooSoon { retry_at } => Throttled::TooSoon {
                retry_at: *retry_at,
            }
            .fmt(f),
            Self::Locked { until } => Throttled::Locked { until: *until }.fmt(f),
            Self::Expired => f.write_str("challenge expired: start again"),
            Self::NotAllowed => f.write_str("second factor not allowed for this login"),
        }
    }
}
