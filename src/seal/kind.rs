//! What a sealed secret is: the kind is bound into the sealed form, so a
//! secret sealed as one kind never opens as another.

use core::fmt;

/// The kinds of secret the crate seals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretKind {
    /// A TOTP secret ([`Secret`](crate::Secret)).
    Totp,
    /// An HOTP secret ([`Secret`](crate::Secret)).
    Hotp,
    /// A key for keyed digests of out-of-band codes, tickets and
    /// remembered-device tokens ([`DigestKey`](crate::DigestKey)).
    DigestKey,
    /// A recovery-code pepper ([`RecoveryPepper`](crate::RecoveryPepper)).
    RecoveryPepper,
}

impl SecretKind {
    /// The byte that stands for the kind in the sealed form.
    pub(super) fn code(self) -> u8 {
        match self {
            Self::Totp => 1,
            Self::Hotp => 2,
            Self::DigestKey => 3,
            Self::RecoveryPepper => 4,
        }
    }

    /// The kind a byte of the sealed form stands for.
    pub(super) fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Totp),
            2 => Some(Self::Hotp),
            3 => Some(Self::DigestKey),
            4 => Some(Self::RecoveryPepper),
            _ => None,
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Totp => "TOTP secret",
            Self::Hotp => "HOTP secret",
            Self::DigestKey => "digest key",
            Self::RecoveryPepper => "recovery-code pepper",
        })
    }
}
