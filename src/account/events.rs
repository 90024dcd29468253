//! What happened, as data: every decision of the guard and every change
//! of a factor yields [`Event`]s a service can log, count, store or send.
//! No event carries a secret, a code, a token or a challenge: only the
//! time, a stable name, and the public facts of the decision (which
//! factor, why it failed, which authenticator, by a short tag of its id).
//!
//! Decisions over an [`AccountState`](crate::AccountState) write their
//! events into the state's journal ([`AccountState::take_events`]); the
//! checks over plain data write them into an [`EventSink`] the caller
//! passes ([`Guard::verify_totp_with`](crate::Guard::verify_totp_with)).
//!
//! [`AccountState::take_events`]: crate::AccountState::take_events

use core::fmt;

use crate::factor::{FirstFactor, SecondFactor};

/// One thing that happened to an account, at `at` (Unix seconds). The
/// account is the caller's: the state it happened to is that account's.
///
/// With `serde`, events serialize; they deserialize with `alloc` too
/// (serde reads the internally tagged [`EventKind`] through a buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(all(feature = "serde", feature = "alloc"), derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Event {
    /// When it happened (the `now` of the decision).
    pub at: u64,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// The event's stable name ([`EventKind::name`]).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.kind, self.at)
    }
}

/// A factor a login checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Factor {
    /// A password.
    Password,
    /// A PIN.
    Pin,
    /// A TOTP code.
    Totp,
    /// An HOTP code.
    Hotp,
    /// A code sent by SMS or email.
    OutOfBand,
    /// A registered device's signature.
    Device,
    /// A recovery code.
    Recovery,
    /// A remembered device's token.
    RememberedDevice,
    /// A passkey or security key (WebAuthn).
    Passkey,
}

impl Factor {
    /// The factor's stable name, as in the events' serialized form.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Pin => "pin",
            Self::Totp => "totp",
            Self::Hotp => "hotp",
            Self::OutOfBand => "out_of_band",
            Self::Device => "device",
            Self::Recovery => "recovery",
            Self::RememberedDevice => "remembered_device",
            Self::Passkey => "passkey",
        }
    }

    /// Whether it resists phishing (NIST SP 800-63B-4 §3.2.5): only a
    /// passkey, whose signature is bound to the origin.
    #[must_use]
    pub fn is_phishing_resistant(self) -> bool {
        matches!(self, Self::Passkey)
    }
}

impl From<FirstFactor> for Factor {
    fn from(factor: FirstFactor) -> Self {
        match factor {
            FirstFactor::Password => Self::Password,
            FirstFactor::Pin => Self::Pin,
        }
    }
}

impl From<SecondFactor> for Factor {
    fn from(factor: SecondFactor) -> Self {
        match factor {
            SecondFactor::Totp => Self::Totp,
            SecondFactor::Hotp => Self::Hotp,
            SecondFactor::OutOfBand => Self::OutOfBand,
            SecondFactor::Device => Self::Device,
            SecondFactor::Recovery => Self::Recovery,
            SecondFactor::RememberedDevice => Self::RememberedDevice,
            SecondFactor::Passkey => Self::Passkey,
        }
    }
}

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Reason {
    /// A wrong code, password, signature or assertion (counted).
    Wrong,
    /// A right code already used, or a copied token (counted).
    Replayed,
    /// Not an answer at all (nothing counted).
    Malformed,
    /// A challenge or ticket expired, used up or replaced (nothing
    /// counted).
    Expired,
    /// Too soon after a failure (nothing compared).
    Throttled,
    /// The account is locked (nothing compared).
    Locked,
    /// The pending login does not allow this factor (nothing compared).
    NotAllowed,
}

impl Reason {
    /// The reason's stable name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Wrong => "wrong",
            Self::Replayed => "replayed",
            Self::Malformed => "malformed",
            Self::Expired => "expired",
            Self::Throttled => "throttled",
            Self::Locked => "locked",
            Self::NotAllowed => "not_allowed",
        }
    }
}

/// A short public tag naming one authenticator in events: a device's id,
/// or the first 16 bytes of SHA-256 over a passkey's credential id (the
/// id itself can be a kilobyte). Written as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tag(pub [u8; 16]);

impl Tag {
    /// The tag of a passkey's credential id.
    #[must_use]
    pub fn of_credential_id(id: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(id);
        let mut tag = [0; 16];
        tag.copy_from_slice(digest.get(..16).unwrap_or_default());
        Self(tag)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Tag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Tag {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = Tag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("32 lower-case hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Tag, E> {
                let digits = text.as_bytes();
                let mut tag = [0u8; 16];
                let nibble = |c: u8| match c {
                    b'0'..=b'9' => Some(c - b'0'),
                    b'a'..=b'f' => Some(c - b'a' + 10),
                    _ => None,
                };
                if digits.len() != 32 {
                    return Err(E::invalid_length(digits.len(), &self));
                }
                for (byte, pair) in tag.iter_mut().zip(digits.chunks_exact(2)) {
                    let (Some(high), Some(low)) = (
                        pair.first().copied().and_then(nibble),
                        pair.get(1).copied().and_then(nibble),
                    ) else {
                        return Err(E::invalid_value(serde::de::Unexpected::Str(text), &self));
                    };
                    *byte = high << 4 | low;
                }
                Ok(Tag(tag))
            }
        }
        deserializer.deserialize_str(Hex)
    }
}

/// An authenticator bound to an account, with the characteristics NIST
/// SP 800-63B-4 §4.1 asks a record of bindings to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(all(feature = "serde", feature = "alloc"), derive(serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum Authenticator {
    /// An authenticator app's TOTP secret.
    Totp,
    /// An HOTP token's secret.
    Hotp,
    /// A phone or email address codes are sent to.
    OutOfBand,
    /// A registered device (number matching).
    Device {
        /// The device's id.
        id: Tag,
    },
    /// A passkey or security key.
    Passkey {
        /// [`Tag::of_credential_id`].
        id: Tag,
        /// The authenticator's model (AAGUID; zeros when not told).
        aaguid: Tag,
        /// Whether it may be synced to other devices (WebAuthn BE).
        backup_eligible: bool,
        /// Whether it verified the user at registration.
        user_verified: bool,
    },
    /// A set of recovery codes.
    RecoveryCodes {
        /// How many codes the set holds.
        count: u32,
    },
}

impl Authenticator {
    /// The kind's stable name, as in the events' serialized form.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Hotp => "hotp",
            Self::OutOfBand => "out_of_band",
            Self::Device { .. } => "device",
            Self::Passkey { .. } => "passkey",
            Self::RecoveryCodes { .. } => "recovery_codes",
        }
    }
}

/// What happened. [`EventKind::name`] is the stable name a service logs,
/// counts and stores by; the serialized form carries it as `event`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(all(feature = "serde", feature = "alloc"), derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "event", deny_unknown_fields))]
#[non_exhaustive]
pub enum EventKind {
    /// `first_factor.passed`: the first step passed, a pending login was
    /// opened for the second.
    #[cfg_attr(feature = "serde", serde(rename = "first_factor.passed"))]
    FirstFactorPassed {
        /// The first factor.
        factor: Factor,
    },
    /// `login.succeeded`: a login completed.
    #[cfg_attr(feature = "serde", serde(rename = "login.succeeded"))]
    LoginSucceeded {
        /// The factor that completed it.
        factor: Factor,
        /// Whether two factors were checked (a first step and a second
        /// factor, or a passkey with user verification).
        multi_factor: bool,
        /// Whether the completing factor resists phishing.
        phishing_resistant: bool,
    },
    /// `login.failed`: an attempt at a factor was refused.
    #[cfg_attr(feature = "serde", serde(rename = "login.failed"))]
    LoginFailed {
        /// The factor tried.
        factor: Factor,
        /// Why it was refused.
        reason: Reason,
    },
    /// `lock.started`: the failure just counted locked the account.
    #[cfg_attr(feature = "serde", serde(rename = "lock.started"))]
    LockStarted {
        /// Consecutive failures, this one included.
        failures: u32,
        /// The end of the lock, if it ends by itself.
        until: Option<u64>,
    },
    /// `lock.lifted`: the failures of a locked account were forgotten
    /// (a login after a timed lock, or an operator's unlock).
    #[cfg_attr(feature = "serde", serde(rename = "lock.lifted"))]
    LockLifted {
        /// The consecutive failures forgotten.
        failures: u32,
    },
    /// `drift.learned`: a TOTP code was found off the current step and
    /// the account's drift moved.
    #[cfg_attr(feature = "serde", serde(rename = "drift.learned"))]
    DriftLearned {
        /// The drift before, in steps.
        from: i64,
        /// The drift now, in steps.
        to: i64,
    },
    /// `drift.resynchronised`: consecutive codes set the drift.
    #[cfg_attr(feature = "serde", serde(rename = "drift.resynchronised"))]
    DriftResynchronised {
        /// The drift before, in steps.
        from: i64,
        /// The drift now, in steps.
        to: i64,
    },
    /// `authenticator.bound`: an authenticator was added.
    #[cfg_attr(feature = "serde", serde(rename = "authenticator.bound"))]
    AuthenticatorBound {
        /// Which.
        authenticator: Authenticator,
    },
    /// `authenticator.replaced`: an authenticator took the place of one
    /// of its kind (a new TOTP secret, a new set of recovery codes).
    #[cfg_attr(feature = "serde", serde(rename = "authenticator.replaced"))]
    AuthenticatorReplaced {
        /// The new one.
        authenticator: Authenticator,
    },
    /// `authenticator.renamed`: an authenticator's display name changed.
    #[cfg_attr(feature = "serde", serde(rename = "authenticator.renamed"))]
    AuthenticatorRenamed {
        /// Which.
        authenticator: Authenticator,
    },
    /// `authenticator.removed`: an authenticator was removed or revoked.
    #[cfg_attr(feature = "serde", serde(rename = "authenticator.removed"))]
    AuthenticatorRemoved {
        /// Which.
        authenticator: Authenticator,
    },
    /// `recovery_code.used`: a recovery code completed a login and was
    /// replaced by a new one (NIST SP 800-63B-4 §4.2.1.1).
    #[cfg_attr(feature = "serde", serde(rename = "recovery_code.used"))]
    RecoveryCodeUsed {
        /// Codes used since the set was made, this one included.
        used: u64,
    },
    /// `code.sent`: a code or a device challenge was issued to send.
    #[cfg_attr(feature = "serde", serde(rename = "code.sent"))]
    CodeSent {
        /// The factor it is for.
        factor: Factor,
    },
    /// `code.refused`: a send was refused by the send limit or the lock.
    #[cfg_attr(feature = "serde", serde(rename = "code.refused"))]
    SendRefused {
        /// The factor it was for.
        factor: Factor,
        /// [`Reason::Throttled`] or [`Reason::Locked`].
        reason: Reason,
    },
    /// `passkey.clone_suspected`: a passkey's signature counter went
    /// backwards (WebAuthn §6.1.1): two copies of its key may exist.
    #[cfg_attr(feature = "serde", serde(rename = "passkey.clone_suspected"))]
    CloneSuspected {
        /// [`Tag::of_credential_id`].
        passkey: Tag,
    },
}

impl EventKind {
    /// Every stable name, in the order of the variants.
    pub const NAMES: [&'static str; 15] = [
        "first_factor.passed",
        "login.succeeded",
        "login.failed",
        "lock.started",
        "lock.lifted",
        "drift.learned",
        "drift.resynchronised",
        "authenticator.bound",
        "authenticator.replaced",
        "authenticator.renamed",
        "authenticator.removed",
        "recovery_code.used",
        "code.sent",
        "code.refused",
        "passkey.clone_suspected",
    ];

    /// The stable name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        let index = match self {
            Self::FirstFactorPassed { .. } => 0,
            Self::LoginSucceeded { .. } => 1,
            Self::LoginFailed { .. } => 2,
            Self::LockStarted { .. } => 3,
            Self::LockLifted { .. } => 4,
            Self::DriftLearned { .. } => 5,
            Self::DriftResynchronised { .. } => 6,
            Self::AuthenticatorBound { .. } => 7,
            Self::AuthenticatorReplaced { .. } => 8,
            Self::AuthenticatorRenamed { .. } => 9,
            Self::AuthenticatorRemoved { .. } => 10,
            Self::RecoveryCodeUsed { .. } => 11,
            Self::CodeSent { .. } => 12,
            Self::SendRefused { .. } => 13,
            Self::CloneSuspected { .. } => 14,
        };
        Self::NAMES.get(index).copied().unwrap_or_default()
    }

    /// Whether it changed the account's authenticators: the events a
    /// record of bindings keeps for as long as the account exists, and
    /// that the person is told of by another channel (NIST SP 800-63B-4
    /// §4.1, §4.6).
    #[must_use]
    pub fn is_binding(&self) -> bool {
        matches!(
            self,
            Self::AuthenticatorBound { .. }
                | Self::AuthenticatorReplaced { .. }
                | Self::AuthenticatorRemoved { .. }
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Self::FirstFactorPassed { factor } => write!(f, " ({})", factor.name()),
            Self::LoginSucceeded { factor, .. } => write!(f, " ({})", factor.name()),
            Self::LoginFailed { factor, reason } | Self::SendRefused { factor, reason } => {
                write!(f, " ({}: {})", factor.name(), reason.name())
            }
            Self::LockStarted { failures, .. } | Self::LockLifted { failures } => {
                write!(f, " ({failures} failures)")
            }
            Self::DriftLearned { from, to } | Self::DriftResynchronised { from, to } => {
                write!(f, " ({from} to {to} steps)")
            }
            Self::AuthenticatorBound { authenticator }
            | Self::AuthenticatorReplaced { authenticator }
            | Self::AuthenticatorRenamed { authenticator }
            | Self::AuthenticatorRemoved { authenticator } => {
                write!(f, " ({})", authenticator.kind())
            }
            Self::RecoveryCodeUsed { used } => write!(f, " ({used} used)"),
            Self::CodeSent { factor } => write!(f, " ({})", factor.name()),
            Self::CloneSuspected { passkey } => write!(f, " ({passkey})"),
        }
    }
}

/// Where the checks over plain data write their events.
pub trait EventSink {
    /// Takes one event.
    fn event(&mut self, event: Event);
}

/// No sink: every event is dropped, and the compiler drops the work of
/// making it.
impl EventSink for () {
    #[inline(always)]
    fn event(&mut self, _: Event) {}
}

impl<S: EventSink + ?Sized> EventSink for &mut S {
    fn event(&mut self, event: Event) {
        (**self).event(event);
    }
}

#[cfg(feature = "alloc")]
impl EventSink for alloc::vec::Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

/// An [`AccountState`](crate::AccountState)'s journal: the events of the
/// decisions made on it since it was loaded, the newest
/// [`Journal::CAPACITY`] of them. It is not state: it is never
/// serialized, and two states compare equal whatever their journals hold.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, Default)]
pub struct Journal {
    events: alloc::vec::Vec<Event>,
}

#[cfg(feature = "alloc")]
impl Journal {
    /// The most events kept: a state never drained keeps the newest.
    pub const CAPACITY: usize = 32;

    /// The events, oldest first.
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Takes the events out, oldest first, leaving the journal empty.
    pub fn take(&mut self) -> alloc::vec::Vec<Event> {
        core::mem::take(&mut self.events)
    }
}

#[cfg(feature = "alloc")]
impl EventSink for Journal {
    fn event(&mut self, event: Event) {
        if self.events.len() >= Self::CAPACITY {
            self.events.remove(0);
        }
        self.events.push(event);
    }
}

#[cfg(feature = "alloc")]
impl PartialEq for Journal {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[cfg(feature = "alloc")]
impl Eq for Journal {}

/// The event of an attempt at `factor` that ended in `outcome`: a
/// success (`multi_factor` as the caller knows it), or a refusal and why.
pub(super) fn attempt<M>(
    factor: Factor,
    outcome: &super::Outcome<M>,
    multi_factor: bool,
) -> EventKind {
    use super::Outcome;
    let reason = match outcome {
        Outcome::Accepted(_) => {
            return EventKind::LoginSucceeded {
                factor,
                multi_factor,
                phishing_resistant: factor.is_phishing_resistant(),
            };
        }
        Outcome::Invalid { .. } => Reason::Wrong,
        Outcome::Replayed => Reason::Replayed,
        Outcome::Malformed => Reason::Malformed,
        Outcome::TooSoon { .. } => Reason::Throttled,
        Outcome::Locked { .. } => Reason::Locked,
        Outcome::Expired => Reason::Expired,
        Outcome::NotAllowed => Reason::NotAllowed,
    };
    EventKind::LoginFailed { factor, reason }
}
