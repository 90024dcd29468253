//! Seed 004: `POST /authentication/v1/user/session`. `PASSWORD` or `MPIN`
//! with `REGISTER` checks the first factor and returns a `register_token`;
//! `TOKEN` brings it back with a second factor (`TOTP`, `OTP`,
//! `FINGERPRINT`, or `RECOVERY`, a recovery code). `TOKEN` with `OTP` or
//! `FINGERPRINT` and no value sends an SMS code or challenges the
//! registered device. `PASSWORD`/`MPIN` with a second factor and its value
//! does both steps in one call. `DELETE` of the same path logs out, and
//! `POST /authentication/v1/user/sessions/end-others` ends every other
//! session of the account.

use std::{net::IpAddr, sync::Arc};

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use twofa::{FirstFactor, Outcome, RecoveryCode, SecondFactor, SecondFactors};
use zeroize::Zeroizing;

use super::{
    account::ThisSession,
    body::{Answer, Body, MAX_SECOND_AUTH, check_len, check_user_id, error, success},
    limits::ClientAddress,
    totp_login::NOT_ENABLED,
};
use crate::{
    app::{App, Failure, Login},
    login::{self, Begun, FirstRefusal, NotSent, OneCall},
    passkey_json::CredentialJson,
    passkeys::{self, SignedIn},
    passwords,
};

/// `login_type`: what the `password` field holds.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LoginType {
    /// The password.
    #[default]
    Password,
    /// The MPIN.
    Mpin,
    /// The `register_token` of an earlier `REGISTER`.
    Token,
    /// A passkey sign-in: the `webauthn` field holds the assertion to a
    /// challenge from `/authentication/v1/passkeys/sign-in/options`, made
    /// with user verification (the phone's fingerprint or face). The
    /// account is the passkey's; `user_id` may be empty (a discoverable
    /// credential), and if given must be that account.
    Fingerprint,
    /// A token from an external SSO: not offered here.
    TpToken,
}

/// `second_auth_type`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecondAuthType {
    /// Only the first step: answer a `register_token`.
    Register,
    /// An SMS code.
    Otp,
    /// A code from an authenticator app.
    Totp,
    /// The registered phone's signature.
    Fingerprint,
    /// A recovery code (this service's addition to the seed).
    Recovery,
    /// A passkey or security key (WebAuthn, this service's addition):
    /// `TOKEN` without `webauthn` answers the options for
    /// `navigator.credentials.get`, and with it (the credential's
    /// `toJSON()`) completes the login.
    Webauthn,
}

/// `source`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Source {
    /// A web client.
    Webapi,
    /// A mobile client.
    Mobileapi,
}

/// The request body, as the seed names its fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    user_id: String,
    #[serde(default)]
    login_type: LoginType,
    password: Zeroizing<String>,
    #[serde(default, alias = "second_auth_tpe")]
    second_auth_type: Option<SecondAuthType>,
    #[serde(default)]
    second_auth: Zeroizing<String>,
    api_key: Zeroizing<String>,
    #[serde(rename = "source")]
    _source: Source,
    /// "Don't ask again on this browser", ticked with the second factor.
    #[serde(default)]
    remember_device: bool,
    /// The cookie of a remembered browser, if it has one.
    #[serde(default)]
    remember_device_cookie: Zeroizing<String>,
    /// Which registered device to challenge (hex), for FINGERPRINT;
    /// without it, the one used last.
    #[serde(default)]
    device_id: String,
    /// A passkey's answer, as `PublicKeyCredential.toJSON()` gives it.
    #[serde(default)]
    webauthn: Option<CredentialJson>,
}

impl core::fmt::Debug for SessionRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionRequest")
            .field("user_id", &self.user_id)
            .field("login_type", &self.login_type)
            .field("second_auth_type", &self.second_auth_type)
            .finish_non_exhaustive()
    }
}

const INVALID_CREDENTIALS: &str = "Invalid user id or password";

/// The handler.
pub async fn session(
    State(app): State<Arc<App>>,
    ClientAddress(from): ClientAddress,
    Body(request): Body<SessionRequest>,
) -> Answer {
    match answer(&app, &request, from).await {
        Ok(answer) | Err(answer) => answer,
    }
}

async fn answer(
    app: &Arc<App>,
    request: &SessionRequest,
    from: Option<IpAddr>,
) -> Result<Answer, Answer> {
    if request.login_type == LoginType::Fingerprint {
        return passkey_sign_in(app, request, from).await;
    }
    check_user_id(&request.user_id)?;
    check_len("password", &request.password, passwords::MAX_LEN)?;
    check_len("second_auth", &request.second_auth, MAX_SECOND_AUTH)?;
    check_len(
        "remember_device_cookie",
        &request.remember_device_cookie,
        64,
    )?;
    if !app.api_key_ok(&request.api_key) {
        return Ok(error("e-109", "Invalid api_key"));
    }
    let now = twofa::unix_time().map_err(Failure::from)?;
    let account = request.user_id.as_str();
    let second = request.second_auth_type;
    let first = match request.login_type {
        LoginType::Password => FirstFactor::Password,
        LoginType::Mpin => FirstFactor::Pin,
        LoginType::Token => {
            let Some(second) = second else {
                return Ok(error("e-101", "TOKEN needs a second_auth_type"));
            };
            return second_step(app, request, &request.password, second, now).await;
        }
        LoginType::Fingerprint | LoginType::TpToken => {
            return Ok(error(
                "e-101",
                "This login_type is not offered here: use PASSWORD, MPIN, TOKEN or FINGERPRINT",
            ));
        }
    };
    // PASSWORD or MPIN with a TOTP code: both checked in one change of the
    // account's state, no pending login left behind.
    if second == Some(SecondAuthType::Totp)
        && !request.second_auth.is_empty()
        && request.remember_device_cookie.is_empty()
    {
        let typed = request.password.clone();
        let code = request.second_auth.as_str();
        return Ok(
            match login::login_with_totp(app, account, first, typed, code, from, now).await? {
                OneCall::Second(Outcome::Accepted(version)) => {
                    let remember = request.remember_device;
                    let factor = SecondFactor::Totp;
                    return logged_in(app, account, factor, remember, None, version, now).await;
                }
                OneCall::Second(refused) => refusal(&refused, now, "Invalid TOTP"),
                OneCall::First(refused) => first_refusal(&refused, now),
                OneCall::NotEnabled => error("e-108", NOT_ENABLED),
            },
        );
    }
    let typed = request.password.clone();
    let begun = login::begin(app, account, first, typed, from, now).await?;
    let (ticket, allowed) = match begun {
        Begun::Ticket(ticket, allowed) => (ticket.to_string(), allowed),
        Begun::Refused(refused) => return Ok(first_refusal(&refused, now)),
    };
    // A remembered browser skips the second factor, never the first.
    if !request.remember_device_cookie.is_empty() {
        let cookie = &request.remember_device_cookie;
        match login::complete_with_cookie(app, account, &ticket, cookie, now).await? {
            Outcome::Accepted((next, version)) => {
                let factor = SecondFactor::RememberedDevice;
                let mut answer = logged_in(app, account, factor, false, None, version, now).await?;
                // The cookie rotates at every use (a copy used later is caught).
                answer.1["data"]["remember_device_cookie"] = json!(next);
                return Ok(answer);
            }
            refused @ (Outcome::TooSoon { .. } | Outcome::Locked { .. }) => {
                return Ok(refusal(&refused, now, "Invalid remember_device_cookie"));
            }
            // Expired, revoked or wrong (counted): the second factor is asked for.
            _ => {}
        }
    }
    match second {
        // Without a value, the ticket is the way on: an SMS code or a
        // device prompt is asked for with TOKEN.
        None | Some(SecondAuthType::Register) => Ok(registered(&ticket, allowed)),
        Some(_) if request.second_auth.is_empty() => Ok(registered(&ticket, allowed)),
        Some(second) => second_step(app, request, &ticket, second, now).await,
    }
}

/// `FINGERPRINT`: a passkey sign-in. Every refusal but a malformed or
/// expired answer is worded alike (no such passkey, a wrong signature, no
/// user verification, a throttled or locked account), as a wrong password
/// is: whoever does not hold the passkey learns nothing of the account.
async fn passkey_sign_in(
    app: &Arc<App>,
    request: &SessionRequest,
    from: Option<IpAddr>,
) -> Result<Answer, Answer> {
    let user_id = match request.user_id.as_str() {
        "" => None,
        id => {
            check_user_id(id)?;
            Some(id)
        }
    };
    if !app.api_key_ok(&request.api_key) {
        return Ok(error("e-109", "Invalid api_key"));
    }
    let Some(credential) = &request.webauthn else {
        return Ok(error(
            "e-100",
            "Malformed request: FINGERPRINT needs webauthn, the passkey's answer to /authentication/v1/passkeys/sign-in/options",
        ));
    };
    let now = twofa::unix_time().map_err(Failure::from)?;
    Ok(
        match passkeys::sign_in(app, user_id, credential, from, now).await? {
            SignedIn::Account(account, _, version) => {
                let factor = SecondFactor::Passkey;
                return logged_in(app, &account, factor, false, None, version, now).await;
            }
            SignedIn::AddressWaits(retry_at) => {
                first_refusal(&FirstRefusal::AddressWaits { retry_at }, now)
            }
            SignedIn::Malformed => refusal(&Outcome::<()>::Malformed, now, "Invalid passkey"),
            SignedIn::ChallengeExpired => error(
                "e-106",
                "Passkey challenge expired or not this service's: ask for a new one",
            ),
            SignedIn::Refused => error("e-101", "Invalid passkey"),
        },
    )
}

/// The first step's refusal: a wrong password (or no such user, or a
/// throttled account: all alike), or the client's address waiting.
fn first_refusal(refused: &FirstRefusal, now: u64) -> Answer {
    match refused {
        FirstRefusal::Invalid => error("e-101", INVALID_CREDENTIALS),
        FirstRefusal::AddressWaits { retry_at } => error(
            "e-105",
            &login::waiting(
                twofa::Throttled::TooSoon {
                    retry_at: *retry_at,
                },
                now,
            ),
        ),
    }
}

/// The first step's answer: the `register_token` and the factors it takes.
fn registered(ticket: &str, allowed: SecondFactors) -> Answer {
    success(
        "Password verified: complete the login with a second factor",
        json!({"register_token": ticket, "second_factors": login::factor_names(allowed)}),
    )
}

/// `TOKEN` (or the second half of a one-call login): `ticket` with the
/// second factor's value, or a request for an SMS code or a device prompt.
async fn second_step(
    app: &Arc<App>,
    request: &SessionRequest,
    ticket: &str,
    second: SecondAuthType,
    now: u64,
) -> Result<Answer, Answer> {
    let account = request.user_id.as_str();
    let value = request.second_auth.as_str();
    let (name, outcome, invalid) = match second {
        SecondAuthType::Register => {
            return Ok(error(
                "e-101",
                "REGISTER goes with PASSWORD or MPIN, not TOKEN",
            ));
        }
        SecondAuthType::Totp => {
            match login::complete_with_totp(app, account, ticket, value, now).await? {
                Some(outcome) => (
                    SecondFactor::Totp,
                    outcome.map(|version| (None, version)),
                    "Invalid TOTP",
                ),
                None => {
                    return Ok(error(
                        "e-108",
                        "Two Factor Authentication is not enabled Please enable by visiting /authentication/v1/user/totp/enroll",
                    ));
                }
            }
        }
        SecondAuthType::Otp if value.is_empty() => {
            return send_sms(app, account, ticket, now).await;
        }
        SecondAuthType::Otp => (
            SecondFactor::OutOfBand,
            login::complete_with_sms(app, account, ticket, value, now)
                .await?
                .map(|version| (None, version)),
            "Invalid OTP",
        ),
        SecondAuthType::Fingerprint if value.is_empty() => {
            let named = match request.device_id.as_str() {
                "" => None,
                id => {
                    let id = login::hex_decode(id).and_then(|id| <[u8; 16]>::try_from(id).ok());
                    let Some(id) = id else {
                        return Ok(error(
                            "e-100",
                            "Malformed request: device_id must be 32 hex digits",
                        ));
                    };
                    Some(id)
                }
            };
            return Ok(
                match login::challenge_device(app, account, ticket, named, now).await? {
                    Outcome::Accepted(number) => success(
                        &format!("Enter {number} on your registered device"),
                        json!({"number": number}),
                    ),
                    refused => refusal(&refused, now, "Invalid register_token"),
                },
            );
        }
        SecondAuthType::Fingerprint => (
            SecondFactor::Device,
            login::complete_with_device(app, account, ticket, value, now)
                .await?
                .map(|version| (None, version)),
            "Invalid device signature",
        ),
        SecondAuthType::Webauthn => {
            let Some(credential) = &request.webauthn else {
                return Ok(
                    match passkeys::second_factor_options(app, account, ticket, now).await? {
                        Outcome::Accepted(options) => success(
                            "Answer with the passkey: navigator.credentials.get",
                            json!({"publicKey": options}),
                        ),
                        refused => refusal(&refused, now, "Invalid register_token"),
                    },
                );
            };
            (
                SecondFactor::Passkey,
                passkeys::complete_second_factor(app, account, ticket, credential, now)
                    .await?
                    .map(|(_, version)| (None, version)),
                "Invalid passkey",
            )
        }
        SecondAuthType::Recovery => (
            SecondFactor::Recovery,
            login::complete_with_recovery(app, account, ticket, value, now)
                .await?
                .map(|(replacement, version)| (Some(replacement), version)),
            "Invalid recovery code",
        ),
    };
    match outcome {
        Outcome::Accepted((replacement, version)) => {
            let remember = request.remember_device;
            logged_in(app, account, name, remember, replacement, version, now).await
        }
        refused => Ok(refusal(&refused, now, invalid)),
    }
}

/// The login is complete: the access token (and the cookie, if asked),
/// bound to the account's credentials at `version`, as the login's own
/// decision read them: a factor removed after it ends this session too.
#[allow(clippy::too_many_arguments)]
async fn logged_in(
    app: &App,
    account: &str,
    factor: SecondFactor,
    remember: bool,
    replacement: Option<RecoveryCode>,
    version: u64,
    now: u64,
) -> Result<Answer, Answer> {
    // A remembered browser's cookie skips the second factor: such a
    // session never counts as fresh enough to change one.
    let login = Login { at: now, factor };
    let token = app.issue_session(account, login, version, now).await?;
    let mut data = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": crate::app::SESSION_TTL,
        "second_factor": login::factor_name(factor),
        "user_id": account,
    });
    if let Some(replacement) = replacement {
        // The used code no longer works; this one takes its place (NIST SP
        // 800-63B-4 §4.2.1.1), shown once.
        data["replacement_recovery_code"] = json!(replacement.to_text().as_str());
    }
    if remember {
        // A browser service sets it as an HttpOnly, Secure cookie.
        if let Some(cookie) = login::remember(app, account, version, now).await? {
            data["remember_device_cookie"] = json!(cookie);
        }
    }
    Ok(success("User logged in Successfully.", data))
}

async fn send_sms(app: &App, account: &str, ticket: &str, now: u64) -> Result<Answer, Answer> {
    let user = app.user(account).await?;
    if user.phone.is_empty() {
        // Said only to a genuine ticket's bearer: a made-up ticket learns
        // nothing of whether the account has a phone, or exists.
        let checked =
            login::check_not_enabled(app, account, ticket, twofa::SecondFactor::OutOfBand, now)
                .await?;
        return Ok(refusal(&checked, now, "Invalid register_token"));
    }
    Ok(
        match login::send_sms(app, account, &user, ticket, now).await? {
            Ok(()) => success("OTP sent to your registered mobile number", json!({})),
            // As a made-up or spent ticket is answered whatever the
            // account has: nothing tells whether it has a phone.
            Err(NotSent::Ticket(refused)) => refusal(&refused, now, "Invalid register_token"),
            Err(NotSent::Limit(words)) => error("e-105", &format!("OTP not sent: {words}")),
            Err(NotSent::Gateway(why)) => {
                app.metrics.sms("code", "failed");
                tracing::error!(error = %why, "sms gateway: a code was not sent");
                error("e-110", "OTP not sent: the SMS gateway failed, try again")
            }
        },
    )
}

/// The answer for a refused or failed attempt.
pub fn refusal<M>(outcome: &Outcome<M>, now: u64, invalid: &str) -> Answer {
    match outcome {
        Outcome::Invalid { attempts_left: 0 } => {
            error("e-104", &format!("{invalid}. Account locked"))
        }
        Outcome::Invalid { attempts_left } => error(
            "e-102",
            &format!("{invalid} ({attempts_left} attempts left)"),
        ),
        Outcome::Replayed => error("e-103", "OTP has been used in past, Please try next OTP"),
        Outcome::Malformed => error("e-101", &format!("{invalid}: malformed")),
        Outcome::TooSoon { retry_at } => error(
            "e-105",
            &login::waiting(
                twofa::Throttled::TooSoon {
                    retry_at: *retry_at,
                },
                now,
            ),
        ),
        Outcome::Locked { until } => error(
            "e-104",
            &login::waiting(twofa::Throttled::Locked { until: *until }, now),
        ),
        Outcome::Expired => error(
            "e-106",
            "register_token or challenge expired or used: log in again",
        ),
        Outcome::NotAllowed => error("e-107", "Second factor not enabled for this login"),
        Outcome::Accepted(_) => error("e-101", invalid),
    }
}

/// `DELETE /authentication/v1/user/session`: logs out, ending the session
/// the request comes with.
pub async fn logout(State(app): State<Arc<App>>, ThisSession(session): ThisSession) -> Answer {
    match app.end_session(&session.account, &session.id).await {
        Ok(()) => success("Logged out", json!({})),
        Err(failure) => failure.into(),
    }
}

/// `POST /authentication/v1/user/sessions/end-others`: ends every other
/// session of the account, its remembered browsers and its logins in
/// progress (a lost phone, a shared computer); the caller goes on with the
/// new `access_token` of the answer.
pub async fn end_other_sessions(
    State(app): State<Arc<App>>,
    ThisSession(session): ThisSession,
) -> Answer {
    let answer = async {
        let now = twofa::unix_time().map_err(Failure::from)?;
        Ok::<_, Failure>(match app.end_other_sessions(&session, now).await? {
            Some(token) => success("Every other session ended", json!({"access_token": token})),
            None => super::account::session_over(),
        })
    };
    answer.await.unwrap_or_else(Answer::from)
}
