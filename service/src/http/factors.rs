//! A person's own factors: the list (devices with their names, TOTP, the
//! phone, recovery codes left), and removing one. A removal needs a fresh
//! login with another factor than the one removed (a lost phone is
//! removed after a login with TOTP or a recovery code, never with the
//! phone itself), is decided only while the session's credential version
//! is still the account's, and ends every other session.

use std::sync::Arc;

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use twofa::{AccountState, EnrollmentNames, EventKind, SecondFactor, events::Authenticator};

use super::{
    account::{FreshSessionOf, SessionOf, session_over},
    body::{Answer, Body, error, success},
};
use crate::{
    app::{App, Failure, LiveSession, TOTP, TOTP_PENDING},
    login::{self, hex, hex_decode},
    records::{DeviceNames, User},
};

/// `GET /authentication/v1/user/factors`.
pub async fn list(State(app): State<Arc<App>>, SessionOf(account): SessionOf) -> Answer {
    match describe(&app, &account).await {
        Ok(factors) => success("Your factors", factors),
        Err(failure) => failure.into(),
    }
}

/// `account`'s factors with their metadata, as the list shows them: no
/// secret, the phone by its last two digits.
///
/// # Errors
/// The store failed.
pub async fn describe(app: &App, account: &str) -> Result<serde_json::Value, Failure> {
    let state: AccountState = app.load(account).await?;
    let user = app.user(account).await?;
    let names: DeviceNames = app.load(account).await?;
    let devices: Vec<_> = state
        .devices
        .iter()
        .map(|device| {
            let id = hex(&device.id);
            json!({
                "device_id": id,
                "name": names.0.get(&id),
                "algorithm": device.algorithm,
                "registered_at": device.registered_at,
                "last_used": device.last_used,
                "revoked": device.revoked,
            })
        })
        .collect();
    // The phone's last two digits only: enough to recognise it.
    let phone = (!user.phone.is_empty()).then(|| {
        let ending = user.phone.get(user.phone.len().saturating_sub(2)..);
        json!({"ending": ending, "verified": user.phone_verified})
    });
    Ok(json!({
        "devices": devices,
        "totp": state.secrets.contains(TOTP),
        "phone": phone,
        "recovery_codes_left": state.recovery.as_ref().map_or(0, |codes| codes.remaining()),
        "passkeys": state.passkeys.iter().map(crate::passkey_json::listed).collect::<Vec<_>>(),
    }))
}

/// `POST /authentication/v1/user/factors/remove`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remove {
    /// `TOTP`, `OTP` (the phone), `FINGERPRINT` (a device), `WEBAUTHN` (a
    /// passkey) or `RECOVERY`.
    pub factor: String,
    /// Hex; `FINGERPRINT` only.
    #[serde(default)]
    pub device_id: String,
    /// base64url, as the list gives it; `WEBAUTHN` only.
    #[serde(default)]
    pub credential_id: String,
}

/// Removes one factor (a device is revoked: it stays listed, and is
/// never accepted again).
pub async fn remove(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
    Body(request): Body<Remove>,
) -> Answer {
    async fn answer(app: &App, session: &LiveSession, request: &Remove) -> Result<Answer, Answer> {
        let target = match Target::parse(request) {
            Ok(target) => target,
            Err(refused) => return Ok(refused),
        };
        if session.login.factor == target.factor {
            return Ok(error(
                "e-114",
                "Removing a factor needs a login with another factor: log in with another one",
            ));
        }
        let account = session.account.as_str();
        let removed =
            remove_factor(app, account, &target, Some(session.credential_version)).await?;
        let Some((removed, version)) = removed else {
            return Ok(session_over());
        };
        if !removed {
            return Ok(error("e-107", "This factor is not set up"));
        }
        let now = twofa::unix_time().map_err(Failure::from)?;
        let token = app
            .issue_session(account, session.login, version, now)
            .await?;
        Ok(success(
            &format!("{} removed", login::factor_name(target.factor)),
            json!({"access_token": token}),
        ))
    }
    answer(&app, &session, &request)
        .await
        .unwrap_or_else(|answer| answer)
}

/// The factor a removal names, parsed.
#[derive(Debug)]
pub struct Target {
    /// Which kind.
    pub factor: SecondFactor,
    /// The device, for [`SecondFactor::Device`].
    device: Option<[u8; 16]>,
    /// The credential id, for [`SecondFactor::Passkey`].
    passkey: Option<Vec<u8>>,
}

impl Target {
    /// The factor `request` names.
    ///
    /// # Errors
    /// The API's `e-100` answer for a malformed one.
    pub fn parse(request: &Remove) -> Result<Self, Answer> {
        let factor = match request.factor.as_str() {
            "TOTP" => SecondFactor::Totp,
            "OTP" => SecondFactor::OutOfBand,
            "FINGERPRINT" => SecondFactor::Device,
            "RECOVERY" => SecondFactor::Recovery,
            "WEBAUTHN" => SecondFactor::Passkey,
            _ => {
                return Err(error(
                    "e-100",
                    "Malformed request: factor must be TOTP, OTP, FINGERPRINT, WEBAUTHN or RECOVERY",
                ));
            }
        };
        let passkey = if factor == SecondFactor::Passkey {
            let id = (request.credential_id.len() <= 1400)
                .then(|| crate::passkey_json::unb64(&request.credential_id))
                .flatten();
            let Some(id) = id else {
                return Err(error(
                    "e-100",
                    "Malformed request: credential_id must be base64url",
                ));
            };
            Some(id)
        } else {
            None
        };
        let device = if factor == SecondFactor::Device {
            let id = hex_decode(&request.device_id).and_then(|id| <[u8; 16]>::try_from(id).ok());
            let Some(id) = id else {
                return Err(error(
                    "e-100",
                    "Malformed request: device_id must be 32 hex digits",
                ));
            };
            Some(id)
        } else {
            None
        };
        Ok(Self {
            factor,
            device,
            passkey,
        })
    }
}

/// Removes `target` from `account` in one decision, which ends every
/// session and login in progress; with `version`, only while the
/// account's credential version is still that one (the person's own
/// session). The answer: `None` when the version moved on, else whether
/// the factor was there and the credential version now.
///
/// # Errors
/// The store failed.
pub async fn remove_factor(
    app: &App,
    account: &str,
    target: &Target,
    version: Option<u64>,
) -> Result<Option<(bool, u64)>, Failure> {
    let factor = target.factor;
    // The phone is in the user's record: there or not, it is known
    // before anything changes.
    if factor == SecondFactor::OutOfBand && app.user(account).await?.phone.is_empty() {
        return Ok(Some((false, 0)));
    }
    let now = twofa::unix_time().map_err(Failure::from)?;
    let removed = app
        .decide(account, |state: &mut AccountState| {
            if version.is_some_and(|version| state.credential_version != version) {
                return Ok(None);
            }
            // Each removal ends the logins in progress too.
            let removed = match factor {
                // An enrolment under way goes too.
                SecondFactor::Totp => state.remove_totp(
                    EnrollmentNames {
                        pending: TOTP_PENDING,
                        active: TOTP,
                    },
                    now,
                ),
                SecondFactor::Recovery => state.remove_recovery_codes(now),
                SecondFactor::Passkey => target
                    .passkey
                    .as_deref()
                    .is_some_and(|id| state.remove_passkey(id, now)),
                SecondFactor::Device => target
                    .device
                    .is_some_and(|id| state.revoke_device(&id, now)),
                // The phone is in the user's record, changed below once
                // this decision has ended the other sessions.
                _ => {
                    state.credentials_changed();
                    let authenticator = Authenticator::OutOfBand;
                    state.record_event(EventKind::AuthenticatorRemoved { authenticator }, now);
                    true
                }
            };
            Ok(Some((removed, state.credential_version)))
        })
        .await?;
    let Some((removed, version)) = removed else {
        return Ok(None);
    };
    if let (Some(id), true) = (&target.passkey, removed) {
        crate::passkeys::release(app, account, id).await?;
    }
    if factor == SecondFactor::OutOfBand {
        app.change_user(account, |user: &mut User| {
            user.phone.clear();
            user.phone_verified = false;
        })
        .await?;
    }
    Ok(Some((removed, version)))
}
