//! One state per account for everything its logins touch: the one
//! throttle, TOTP replay and drift, the HOTP counter, the sealed secrets,
//! the send limit, pending logins with the codes and challenges sent for
//! each, registered devices, remembered devices and recovery codes. Plain data, saved through the
//! same versioned compare-and-swap as the rest ([`AccountStore`]), so that
//! every guarantee holds across instances: a ticket spent once, a
//! challenge answered once, one throttle.
//!
//! [`AccountStore`]: super::AccountStore

use alloc::vec::Vec;

use super::{
    enroll::EnrollmentNames,
    events::{Authenticator, Event, EventKind, EventSink, Journal, Tag},
    guard::TotpAccount,
    secrets::SealedSecrets,
    throttle::ThrottleState,
};
#[cfg(feature = "device")]
use crate::factor::{Device, DeviceChallenge, RegistrationChallenge};
#[cfg(feature = "webauthn")]
use crate::factor::{Passkey, PasskeyChallenge, SignInsUsed};
use crate::factor::{PendingLogin, RecoveryCodes, RememberedDevice};

/// Everything a service keeps about one account's logins.
///
/// The account's one throttle is `totp.throttle`: every check of the
/// account, whatever the factor, counts against it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
pub struct AccountState {
    /// The one throttle, and TOTP's last accepted step and drift.
    pub totp: TotpAccount,
    /// The next HOTP counter expected: one past the last accepted (RFC
    /// 4226 §7.2). Counted on the one throttle, like every factor
    /// ([`Guard::verify_account_hotp`](crate::Guard::verify_account_hotp)).
    pub hotp_counter: u64,
    /// The account's sealed secrets (its TOTP or HOTP secret, a pending
    /// enrollment's): in this record, so that a secret changes in the same
    /// compare-and-swap as the decisions made with it.
    pub secrets: SealedSecrets,
    /// How often codes were sent since the last completed login.
    pub sends: ThrottleState,
    /// Bumped whenever the password or a second factor changes: every
    /// remembered device is then revoked.
    pub credential_version: u64,
    /// Pending logins (tickets issued by a first step), at most
    /// [`AccountState::MAX_PENDING`], each with the out-of-band code and
    /// the device challenge sent for it.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::bounded::at_most::<_, _, { AccountState::MAX_PENDING }>")
    )]
    pub pending: Vec<PendingLogin>,
    /// Registered devices, revoked ones included (at most twice
    /// [`DevicePolicy::MAX_DEVICES`](crate::DevicePolicy::MAX_DEVICES)).
    #[cfg(feature = "device")]
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::bounded::at_most::<_, _, { AccountState::MAX_DEVICES }>")
    )]
    pub devices: Vec<Device>,
    /// The challenge for a device being registered.
    #[cfg(feature = "device")]
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub registration: Option<RegistrationChallenge>,
    /// Remembered devices, at most [`AccountState::MAX_REMEMBERED`].
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "crate::bounded::at_most::<_, _, { AccountState::MAX_REMEMBERED }>"
        )
    )]
    pub remembered: Vec<RememberedDevice>,
    /// The recovery codes, if any were made.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub recovery: Option<RecoveryCodes>,
    /// Registered passkeys and security keys, at most
    /// [`PasskeyPolicy::MAX_PASSKEYS`](crate::PasskeyPolicy::MAX_PASSKEYS).
    #[cfg(feature = "webauthn")]
    #[cfg_attr(
        feature = "serde",
        serde(
            deserialize_with = "crate::bounded::at_most::<_, _, { AccountState::MAX_PASSKEYS }>"
        )
    )]
    pub passkeys: Vec<Passkey>,
    /// The challenge of a passkey being registered.
    #[cfg(feature = "webauthn")]
    #[cfg_attr(feature = "serde", serde(deserialize_with = "Option::deserialize"))]
    pub passkey_registration: Option<PasskeyChallenge>,
    /// The passkey sign-in challenges this account accepted.
    #[cfg(feature = "webauthn")]
    pub sign_ins: SignInsUsed,
    /// What the decisions on this state since it was loaded did: never
    /// stored ([`AccountState::take_events`]).
    #[cfg_attr(feature = "serde", serde(skip))]
    journal: Journal,
}

impl AccountState {
    /// The most pending logins kept: opening more drops the oldest.
    pub const MAX_PENDING: usize = 8;
    /// The most remembered devices kept: remembering more drops the oldest.
    pub const MAX_REMEMBERED: usize = 10;
    /// The most device records kept, revoked ones included: twice the
    /// largest limit of active ones.
    #[cfg(feature = "device")]
    pub const MAX_DEVICES: usize = 2 * crate::factor::DevicePolicy::MAX_DEVICES;

    /// The most passkeys kept.
    #[cfg(feature = "webauthn")]
    pub const MAX_PASSKEYS: usize = crate::factor::PasskeyPolicy::MAX_PASSKEYS;

    /// A new state for an account that has never logged in.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The account's one throttle.
    pub fn throttle(&mut self) -> &mut ThrottleState {
        &mut self.totp.throttle
    }

    /// The events of the decisions made on this state since it was loaded
    /// (or since they were last taken), oldest first: every decision of
    /// the guard over it, and every change of a factor through its
    /// methods, writes them here. The journal is never stored and keeps
    /// the newest [`Journal::CAPACITY`].
    #[must_use]
    pub fn events(&self) -> &[Event] {
        self.journal.events()
    }

    /// Takes the events out ([`AccountState::events`]): call it in the
    /// decision that saves the state, and log, count or store them once
    /// the save succeeded (a decision retried after a lost
    /// compare-and-swap starts from a freshly loaded state, so nothing is
    /// told twice).
    pub fn take_events(&mut self) -> Vec<Event> {
        self.journal.take()
    }

    /// The journal, for the guard's decisions to write into.
    pub(super) fn journal(&mut self) -> &mut Journal {
        &mut self.journal
    }

    /// Records an event of the service's own about this account: a change
    /// of a factor kept outside this state (a phone number in the user's
    /// record), so that it is told with the rest.
    pub fn record_event(&mut self, kind: EventKind, now: u64) {
        self.journal.event(Event { at: now, kind });
    }

    /// Removes the TOTP secret `names.active` (and an enrolment under way,
    /// `names.pending`), which is a change of credentials; returns whether
    /// there was one.
    pub fn remove_totp(&mut self, names: EnrollmentNames<'_>, now: u64) -> bool {
        self.secrets.remove(names.pending);
        let removed = self.secrets.remove(names.active).is_some();
        if removed {
            self.credentials_changed();
            let authenticator = Authenticator::Totp;
            self.record_event(EventKind::AuthenticatorRemoved { authenticator }, now);
        }
        removed
    }

    /// Puts `codes` in place of the account's recovery codes (if any),
    /// which is a change of credentials.
    pub fn replace_recovery_codes(&mut self, codes: RecoveryCodes, now: u64) {
        let authenticator = Authenticator::RecoveryCodes {
            count: u32::try_from(codes.digests.len()).unwrap_or(u32::MAX),
        };
        let kind = match self.recovery.replace(codes) {
            Some(_) => EventKind::AuthenticatorReplaced { authenticator },
            None => EventKind::AuthenticatorBound { authenticator },
        };
        self.credentials_changed();
        self.record_event(kind, now);
    }

    /// Removes the account's recovery codes, which is a change of
    /// credentials; returns whether it had some.
    pub fn remove_recovery_codes(&mut self, now: u64) -> bool {
        let Some(codes) = self.recovery.take() else {
            return false;
        };
        self.credentials_changed();
        let authenticator = Authenticator::RecoveryCodes {
            count: u32::try_from(codes.digests.len()).unwrap_or(u32::MAX),
        };
        self.record_event(EventKind::AuthenticatorRemoved { authenticator }, now);
        true
    }

    /// The active devices.
    #[cfg(feature = "device")]
    pub fn active_devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.iter().filter(|device| !device.revoked)
    }

    /// Revokes device `id` (a lost or stolen phone), which is a change of
    /// credentials ([`AccountState::credentials_changed`]); returns whether
    /// it was registered and active.
    #[cfg(feature = "device")]
    pub fn revoke_device(&mut self, id: &[u8; 16], now: u64) -> bool {
        let found = self
            .devices
            .iter_mut()
            .find(|device| &device.id == id && !device.revoked);
        match found {
            Some(device) => {
                device.revoke();
                self.credentials_changed();
                let authenticator = Authenticator::Device { id: Tag(*id) };
                self.record_event(EventKind::AuthenticatorRemoved { authenticator }, now);
                true
            }
            None => false,
        }
    }

    /// Removes the passkey with credential id `id`, which is a change of
    /// credentials ([`AccountState::credentials_changed`]: logins in
    /// progress end); returns whether it was registered. Remove its id
    /// from the service's index of credential ids too.
    #[cfg(feature = "webauthn")]
    pub fn remove_passkey(&mut self, id: &[u8], now: u64) -> bool {
        let Some(index) = self.passkeys.iter().position(|passkey| passkey.id == id) else {
            return false;
        };
        let passkey = self.passkeys.remove(index);
        self.credentials_changed();
        let authenticator = passkey.authenticator();
        self.record_event(EventKind::AuthenticatorRemoved { authenticator }, now);
        true
    }

    /// Renames the passkey with credential id `id` (see
    /// [`Passkey::rename`]); returns whether it was registered.
    #[cfg(feature = "webauthn")]
    pub fn rename_passkey(&mut self, id: &[u8], name: &str, now: u64) -> bool {
        match self.passkeys.iter_mut().find(|passkey| passkey.id == id) {
            Some(passkey) => {
                let before = passkey.name.clone();
                passkey.rename(name);
                // A rename to the same name changes nothing, and tells
                // nothing.
                if passkey.name != before {
                    let authenticator = passkey.authenticator();
                    self.record_event(EventKind::AuthenticatorRenamed { authenticator }, now);
                }
                true
            }
            None => false,
        }
    }

    /// Records a change of password or second factor: every remembered
    /// device is revoked (its record stays until it is pruned, so that its
    /// token reads as revoked, not as a wrong one), and every login in
    /// progress (pending tickets, the codes and challenges sent) is ended,
    /// so that nothing begun before the change completes after it.
    pub fn credentials_changed(&mut self) {
        self.credential_version = self.credential_version.wrapping_add(1);
        // Spent rather than dropped: a genuine ticket then reads as over,
        // not as a wrong one, until the next first step prunes it. Its
        // codes and challenges go with it.
        for pending in &mut self.pending {
            pending.spend();
        }
        #[cfg(feature = "device")]
        {
            self.registration = None;
        }
        #[cfg(feature = "webauthn")]
        {
            self.passkey_registration = None;
        }
    }

    /// The pending login whose ticket has id `id`.
    pub(super) fn pending_mut(&mut self, id: &[u8; 16]) -> Option<&mut PendingLogin> {
        self.pending.iter_mut().find(|pending| &pending.id == id)
    }

    /// The live challenges sent to device `device_id`, one per pending
    /// login, newest login last: what the device shows, to approve one.
    #[cfg(feature = "device")]
    pub fn device_challenges(
        &self,
        device_id: &[u8; 16],
        now: u64,
    ) -> impl Iterator<Item = &DeviceChallenge> {
        self.pending
            .iter()
            .filter(move |pending| !pending.is_over(now))
            .filter_map(|pending| pending.device_challenge.as_ref())
            .filter(move |challenge| {
                &challenge.device_id == device_id && !challenge.used && now < challenge.expires_at
            })
    }

    /// Adds `pending`, dropping logins that are over at `now` and, past
    /// the limit, the oldest.
    pub(super) fn add_pending(&mut self, pending: PendingLogin, now: u64) {
        self.pending.retain(|old| !old.is_over(now));
        let excess = (self.pending.len() + 1).saturating_sub(Self::MAX_PENDING);
        self.pending.drain(..excess);
        self.pending.push(pending);
    }

    /// Adds `remembered`, dropping records that are over at `now` and,
    /// past the limit, the oldest rotated ones other than `rotated` (the
    /// record just rotated, kept to catch a copy of its token), then the
    /// oldest others.
    pub(super) fn add_remembered(
        &mut self,
        remembered: RememberedDevice,
        rotated: Option<[u8; 16]>,
        now: u64,
    ) {
        let version = self.credential_version;
        self.remembered.retain(|old| !old.is_over(version, now));
        let keep = |old: &RememberedDevice| rotated == Some(old.id);
        let excess = (self.remembered.len() + 1).saturating_sub(Self::MAX_REMEMBERED);
        let mut rotated_to_drop = excess;
        self.remembered.retain(|old| {
            let drop = old.rotated && !keep(old) && rotated_to_drop > 0;
            rotated_to_drop -= usize::from(drop);
            !drop
        });
        let mut excess = (self.remembered.len() + 1).saturating_sub(Self::MAX_REMEMBERED);
        self.remembered.retain(|old| {
            let drop = !keep(old) && excess > 0;
            excess -= usize::from(drop);
            !drop
        });
        self.remembered.push(remembered);
    }
}
