//! The kinds of record and their checks: each body read back is exactly a
//! state the core could have written.

use serde::{Serialize, de::DeserializeOwned};
use twofa::{
    AccountState, Digits, Guard, HotpAccount, OobPolicy, RecoveryPolicy, ThrottlePolicy,
    ThrottleState, TotpAccount,
};

use crate::{Corrupt, StoreError};

/// A kind of per-account state a store keeps: its name and its body.
pub trait Record: Clone + PartialEq + Default + Send + Sync + 'static {
    /// The kind's name in the store (the second half of a record's key).
    const KIND: &'static str;

    /// The body format written, stored beside every body, so that a later
    /// format is refused by an instance that cannot read it, never misread.
    const FORMAT: i64 = 1;

    /// The oldest body format still read ([`Record::decode`] reads every
    /// format from this one to [`Record::FORMAT`]); the next save writes
    /// the current one.
    const OLDEST_FORMAT: i64 = Self::FORMAT;

    /// The body to store, once [`Record::check`] holds: a state no
    /// instance could read back is never written.
    ///
    /// # Errors
    /// [`StoreError::Unwritable`] for a state beyond what a store keeps.
    fn encode<E>(&self) -> Result<String, StoreError<E>>;

    /// A stored body read back, once [`Record::check`] holds.
    ///
    /// # Errors
    /// [`Corrupt`] for anything but a body [`Record::encode`] writes.
    fn decode(body: &str) -> Result<Self, Corrupt>;

    /// Whether the state is within the bounds the core keeps (a drift
    /// within [`Guard::MAX_DRIFT`], at most 100 failures, at most
    /// [`AccountState::MAX_PENDING`] pending logins, …).
    ///
    /// # Errors
    /// What is out of bounds.
    fn check(&self) -> Result<(), &'static str>;

    /// The events the decisions on this state journalled since it was
    /// loaded ([`AccountState::take_events`]), taken out; none for kinds
    /// that keep no journal.
    fn take_events(&mut self) -> Vec<twofa::Event> {
        Vec::new()
    }
}

/// The body of a serde state, checked first: how every kind here is
/// encoded, and how a service's own kinds may be.
///
/// # Errors
/// [`StoreError::Unwritable`] when [`Record::check`] fails.
pub fn to_json<T: Record + Serialize, E>(state: &T) -> Result<String, StoreError<E>> {
    state.check().map_err(StoreError::Unwritable)?;
    serde_json::to_string(state).map_err(|_| StoreError::Unwritable("not serializable"))
}

/// Parses `body` strictly (every field, `Option`s included, and no other,
/// when the type says so with serde's `deny_unknown_fields`) and checks
/// its bounds: the decoding that matches [`to_json`].
///
/// # Errors
/// [`Corrupt`] for anything but a body [`to_json`] writes.
pub fn from_json<T: Record + DeserializeOwned>(body: &str) -> Result<T, Corrupt> {
    let state: T = serde_json::from_str(body).map_err(|e| Corrupt::new(T::KIND, e.to_string()))?;
    state
        .check()
        .map_err(|problem| Corrupt::new(T::KIND, problem))?;
    Ok(state)
}

fn check_throttle(throttle: &ThrottleState) -> Result<(), &'static str> {
    if throttle.failures > ThrottlePolicy::MAX_CONSECUTIVE_FAILURES {
        return Err("more failures than any policy counts");
    }
    Ok(())
}

fn check_totp(totp: &TotpAccount) -> Result<(), &'static str> {
    check_throttle(&totp.throttle)?;
    if totp.drift.unsigned_abs() > Guard::MAX_DRIFT {
        return Err("drift beyond Guard::MAX_DRIFT");
    }
    if totp.last_step.is_none() && totp.used_below != 0 {
        return Err("used steps below a mark that is not set");
    }
    Ok(())
}

fn check_account(state: &AccountState) -> Result<(), &'static str> {
    check_totp(&state.totp)?;
    check_throttle(&state.sends)?;
    if state.pending.len() > AccountState::MAX_PENDING {
        return Err("more pending logins than AccountState::MAX_PENDING");
    }
    if state.remembered.len() > AccountState::MAX_REMEMBERED {
        return Err("more remembered devices than AccountState::MAX_REMEMBERED");
    }
    let codes = state
        .pending
        .iter()
        .flat_map(|pending| [&pending.oob, &pending.replaced_oob])
        .flatten();
    for oob in codes {
        if oob.attempts_left > OobPolicy::MAX_ATTEMPTS || Digits::new(oob.digits).is_err() {
            return Err("out-of-band challenge beyond OobPolicy's bounds");
        }
    }
    // Revoked devices are kept up to twice the largest limit of active ones.
    if state.devices.len() > AccountState::MAX_DEVICES {
        return Err("more devices than DevicePolicy::MAX_DEVICES allows");
    }
    if let Some(recovery) = &state.recovery {
        RecoveryPolicy::new(recovery.digests.len(), recovery.memory_kib, recovery.passes)
            .map_err(|_| "recovery codes beyond RecoveryPolicy's bounds")?;
    }
    check_passkeys(state)
}

/// The bounds of the account's passkeys: as many as the core keeps, each
/// id, key and name within WebAuthn's and the core's lengths.
fn check_passkeys(state: &AccountState) -> Result<(), &'static str> {
    use twofa::{Passkey, SignInsUsed, webauthn};
    if state.passkeys.len() > AccountState::MAX_PASSKEYS {
        return Err("more passkeys than PasskeyPolicy::MAX_PASSKEYS");
    }
    let bounded = |passkey: &Passkey| {
        (1..=webauthn::MAX_CREDENTIAL_ID_LEN).contains(&passkey.id.len())
            && passkey.public_key.len() <= webauthn::MAX_AUTHENTICATOR_DATA_LEN
            && passkey.name.len() <= Passkey::MAX_NAME_LEN
    };
    if !state.passkeys.iter().all(bounded) {
        return Err("a passkey's id, key or name beyond its bounds");
    }
    if state.sign_ins.recent.len() > SignInsUsed::MAX {
        return Err("more passkey sign-ins kept than SignInsUsed::MAX");
    }
    Ok(())
}

/// Implements [`Record`] for a kind kept as JSON: its kind's name, its
/// body's format if not the first (`format 2`, or `format 2 from 1` when
/// the bodies of format 1 still read as format 2's), and the bounds it must keep (checked
/// before it is written, and when it is read), `$this` naming the value.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
/// struct Note {
///     text: String,
/// }
///
/// twofa_record::json_record!(Note, "note", |note| if note.text.len() > 100 {
///     Err("a note longer than 100 bytes")
/// } else {
///     Ok(())
/// });
/// ```
#[macro_export]
macro_rules! json_record {
    ($type:ty, $kind:literal $(, format $format:literal $(from $oldest:literal)?)? $(, events $take:path)?, |$this:ident| $check:expr) => {
        impl $crate::Record for $type {
            const KIND: &'static str = $kind;
            $(const FORMAT: i64 = $format;
            $(const OLDEST_FORMAT: i64 = $oldest;)?)?

            fn encode<E>(&self) -> Result<String, $crate::StoreError<E>> {
                $crate::to_json(self)
            }

            fn decode(body: &str) -> Result<Self, $crate::Corrupt> {
                $crate::from_json(body)
            }

            fn check(&self) -> Result<(), &'static str> {
                let $this = self;
                $check
            }

            $(fn take_events(&mut self) -> Vec<twofa::Event> {
                $take(self)
            })?
        }
    };
}

json_record!(TotpAccount, "totp", |totp| check_totp(totp));

json_record!(HotpAccount, "hotp", |hotp| check_throttle(&hotp.throttle));

// Format 2: the sealed secrets and the HOTP counter joined the record, and
// recovery codes grew to 16 symbols. A format-1 row is refused rather than
// read as an account without its secrets. Format 3: passkeys joined it
// (the credentials, the registration challenge, each pending login's
// passkey challenge, the sign-ins accepted). Format 4: every byte field
// is base64url text rather than a sequence of numbers (a full account's
// body is under half as long); format-3 bodies read as they are, and are
// written as format 4 at their next save.
json_record!(AccountState, "account", format 4 from 3, events AccountState::take_events, |state| check_account(
    state
));
