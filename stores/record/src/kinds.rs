//! The kinds of record and their checks: each body read back is exactly a
//! state the core could have written.

use serde::{Serialize, de::DeserializeOwned};
use twofa::{AccountState, Guard, HotpAccount, ThrottlePolicy, ThrottleState, TotpAccount};

use crate::{Corrupt, StoreError};

/// A kind of per-account state a store keeps: its name and its body.
pub trait Record: Clone + PartialEq + Default + Send + Sync + 'static {
    /// The kind's name in the store (the second half of a record's key).
    const KIND: &'static str;

    /// The body to store.
    ///
    /// # Errors
    /// [`StoreError::Unwritable`] for a state beyond what a store keeps.
    fn encode<E>(&self) -> Result<String, StoreError<E>>;

    /// A stored body read back.
    ///
    /// # Errors
    /// [`Corrupt`] for anything but a body [`Record::encode`] writes.
    fn decode(body: &str) -> Result<Self, Corrupt>;
}

fn to_json<T: Serialize, E>(state: &T) -> Result<String, StoreError<E>> {
    serde_json::to_string(state).map_err(|_| StoreError::Unwritable("not serializable"))
}

/// Parses `body` strictly (every field, no other) and checks its bounds.
fn from_json<T: DeserializeOwned>(
    kind: &'static str,
    body: &str,
    check: impl FnOnce(&T) -> Result<(), &'static str>,
) -> Result<T, Corrupt> {
    let state: T = serde_json::from_str(body).map_err(|e| Corrupt::new(kind, e.to_string()))?;
    check(&state).map_err(|problem| Corrupt::new(kind, problem))?;
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

impl Record for TotpAccount {
    const KIND: &'static str = "totp";

    fn encode<E>(&self) -> Result<String, StoreError<E>> {
        to_json(self)
    }

    fn decode(body: &str) -> Result<Self, Corrupt> {
        from_json(Self::KIND, body, check_totp)
    }
}

impl Record for HotpAccount {
    const KIND: &'static str = "hotp";

    fn encode<E>(&self) -> Result<String, StoreError<E>> {
        to_json(self)
    }

    fn decode(body: &str) -> Result<Self, Corrupt> {
        from_json(Self::KIND, body, |hotp: &Self| {
            check_throttle(&hotp.throttle)
        })
    }
}

impl Record for AccountState {
    const KIND: &'static str = "account";

    fn encode<E>(&self) -> Result<String, StoreError<E>> {
        to_json(self)
    }

    fn decode(body: &str) -> Result<Self, Corrupt> {
        from_json(Self::KIND, body, |state: &Self| {
            check_totp(&state.totp)?;
            check_throttle(&state.sends)?;
            if state.pending.len() > Self::MAX_PENDING {
                return Err("more pending logins than AccountState::MAX_PENDING");
            }
            if state.remembered.len() > Self::MAX_REMEMBERED {
                return Err("more remembered devices than AccountState::MAX_REMEMBERED");
            }
            if let Some(recovery) = &state.recovery
                && recovery.digests.len() != recovery.used.len()
            {
                return Err("recovery codes and their marks differ in number");
            }
            Ok(())
        })
    }
}
