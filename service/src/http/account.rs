//! Setting up an account's factors: signing up (password, MPIN, phone),
//! enrolling TOTP (the otpauth URI and its QR code, then a code to
//! confirm), registering a device, making recovery codes; and the device's
//! side of a login (the prompt it signs). Every change to a factor needs a
//! live session (`Authorization: Bearer`), ends every other one (the
//! account's credential version moves on), and answers a new token.

use std::{net::IpAddr, sync::Arc};

use axum::{
    extract::{FromRequestParts, State},
    http::{StatusCode, header::AUTHORIZATION, request::Parts},
};
use serde::Deserialize;
use serde_json::json;
use twofa::{
    AccountState, Binding, DeviceAlgorithm, Enrollment, EnrollmentNames, Outcome, SecretKind, Totp,
};
use zeroize::Zeroizing;

use super::{
    body::{Answer, Body, check_len, check_user_id, error, success},
    limits::ClientAddress,
};
use crate::{
    app::{App, Failure, LiveSession, OneChange, TOTP, TOTP_PENDING},
    hashing::Class::Change,
    login::{self, DEVICE_TRANSACTION, hex, hex_decode},
    passwords,
    records::{DeviceNames, User},
};

/// The account of a live session, from `Authorization: Bearer TOKEN`.
#[derive(Debug)]
pub struct SessionOf(pub String);

/// A session whose login was at most [`App::fresh_login`] seconds ago and
/// checked a second factor: what changing a factor needs. However often
/// its token was renewed by factor changes, its login time is the
/// login's. It holds the account's [`OneChange`]: a second change of the
/// same account while one is under way is refused.
#[derive(Debug)]
pub struct FreshSessionOf(pub LiveSession, pub OneChange);

/// The answer to a factor change decided after the session's account
/// changed its credentials (another session re-enrolled, say): the session
/// is over, and nothing was changed.
pub fn session_over() -> Answer {
    unauthorized("This session ended when the account's factors changed: log in again")
}

fn unauthorized(message: &str) -> Answer {
    Answer(
        StatusCode::UNAUTHORIZED,
        json!({"status": "error", "code": "e-401", "message": message}),
    )
}

/// The session the bearer token names, live.
async fn bearer(parts: &Parts, app: &App, now: u64) -> Result<LiveSession, Answer> {
    let missing = || unauthorized("A live access_token is needed: Authorization: Bearer TOKEN");
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(missing)?;
    app.session_account(bearer.trim(), now)
        .await?
        .ok_or_else(missing)
}

impl FromRequestParts<Arc<App>> for SessionOf {
    type Rejection = Answer;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Answer> {
        let now = twofa::unix_time().map_err(Failure::from)?;
        Ok(Self(bearer(parts, app, now).await?.account))
    }
}

/// The live session the request comes with (`Authorization: Bearer`), to
/// end it or the others.
#[derive(Debug)]
pub struct ThisSession(pub LiveSession);

impl FromRequestParts<Arc<App>> for ThisSession {
    type Rejection = Answer;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Answer> {
        let now = twofa::unix_time().map_err(Failure::from)?;
        Ok(Self(bearer(parts, app, now).await?))
    }
}

/// Room kept in the record of bindings for the entries one factor change
/// writes (a registration that ends others' sessions, a removal) and for
/// the operators' revocations.
const BINDINGS_SPARE: usize = 8;

impl FromRequestParts<Arc<App>> for FreshSessionOf {
    type Rejection = Answer;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Answer> {
        let now = twofa::unix_time().map_err(Failure::from)?;
        let session = bearer(parts, app, now).await?;
        if now.saturating_sub(session.login.at) > app.fresh_login
            || !session.login.checked_second_factor()
        {
            return Err(unauthorized(
                "Changing a factor needs a recent login with a second factor: log in again",
            ));
        }
        let Some(change) = app.begin_change(&session.account) else {
            return Err(Answer(
                StatusCode::CONFLICT,
                json!({"status": "error", "code": "e-409", "message": "Another change of this account is under way: try again when it ends"}),
            ));
        };
        // Every change of a factor adds to the record of bindings, which
        // is never pruned: near its bound, changes stop before the
        // record would refuse one.
        if app.bindings(&session.account).await?.len() + BINDINGS_SPARE > twofa_record::MAX_BINDINGS
        {
            return Err(error(
                "e-115",
                "This account's record of factor changes is full: an operator must look at it",
            ));
        }
        Ok(Self(session, change))
    }
}

/// `POST /authentication/v1/user/signup`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signup {
    user_id: String,
    password: Zeroizing<String>,
    mpin: Zeroizing<String>,
    phone: String,
    api_key: Zeroizing<String>,
}

impl core::fmt::Debug for Signup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Signup")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Creates a user, unless the id is taken; at most
/// `TWOFA_SIGNUPS_PER_ADDRESS` an hour from one client address. The phone
/// is unverified until a code sent to it comes back.
pub async fn signup(
    State(app): State<Arc<App>>,
    ClientAddress(from): ClientAddress,
    Body(request): Body<Signup>,
) -> Answer {
    async fn answer(app: &App, request: Signup, from: Option<IpAddr>) -> Result<Answer, Answer> {
        check_user_id(&request.user_id)?;
        check_len("password", &request.password, passwords::MAX_LEN)?;
        check_len("mpin", &request.mpin, passwords::MAX_LEN)?;
        if !app.api_key_ok(&request.api_key) {
            return Ok(error("e-109", "Invalid api_key"));
        }
        let phone = if request.phone.is_empty() {
            String::new()
        } else if let Some(phone) = crate::phones::normalize(&request.phone) {
            phone
        } else {
            return Ok(error(
                "e-100",
                "Malformed request: phone must be + and 8 to 15 digits, spaces, dots, hyphens or parentheses between",
            ));
        };
        // NIST SP 800-63B §5.1.1.2: at least 8 characters for a password.
        if request.password.chars().count() < 8 || request.mpin.chars().count() < 4 {
            return Ok(error(
                "e-100",
                "A password needs at least 8 characters, an MPIN at least 4",
            ));
        }
        let now = twofa::unix_time().map_err(Failure::from)?;
        if let Some(address) = from
            && let Err(retry_at) = app.signups.take(address, now)
        {
            let words = login::waiting(twofa::Throttled::TooSoon { retry_at }, now);
            return Ok(error(
                "e-105",
                &format!("No more sign-ups from here now: {words}"),
            ));
        }
        // Taken ids are answered before anything is hashed.
        if app.load::<User>(&request.user_id).await?.exists() {
            return Ok(error("e-111", "This user_id is taken"));
        }
        let user = User {
            password: passwords::hash(Change, request.password)
                .await
                .map_err(Failure)?,
            pin: passwords::hash(Change, request.mpin)
                .await
                .map_err(Failure)?,
            phone,
            phone_verified: false,
            key_id: 0,
            mac: [0; 32],
        };
        // Sealed by `change_user`, as every write of a user record is.
        let created = app
            .change_user(&request.user_id, |stored: &mut User| {
                if stored.exists() {
                    false
                } else {
                    *stored = user.clone();
                    true
                }
            })
            .await?;
        if created && !user.phone.is_empty() {
            let authenticator = twofa::events::Authenticator::OutOfBand;
            let kind = twofa::EventKind::AuthenticatorBound { authenticator };
            let event = twofa::Event { at: now, kind };
            app.tell_without_notice(&request.user_id, vec![event]).await;
        }
        Ok(if created {
            success("User created", json!({"user_id": request.user_id}))
        } else {
            error("e-111", "This user_id is taken")
        })
    }
    answer(&app, request, from)
        .await
        .unwrap_or_else(|answer| answer)
}

/// `POST /authentication/v1/user/totp/enroll`: a fresh secret, shown once
/// as an otpauth URI and its QR code, kept sealed until confirmed.
pub async fn enroll_totp(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
) -> Answer {
    async fn answer(app: &App, session: &LiveSession) -> Result<Answer, Failure> {
        let account = session.account.as_str();
        let mut rng = getrandom::SysRng;
        let enrollment = Enrollment::start(&mut rng, &app.issuer, account)?;
        let uri = enrollment.key_uri();
        let twofa::Otp::Totp(totp) = uri.otp() else {
            return Err(Failure("an enrollment that is not TOTP".into()));
        };
        let sealed = app.keys.keyring.seal_secret(
            &mut rng,
            SecretKind::Totp,
            totp.secret(),
            Binding::new(account, TOTP_PENDING),
        )?;
        // Pending until confirmed: no credential changes yet, but none
        // for a session that is over either.
        let live = app
            .decide(account, |state: &mut AccountState| {
                if state.credential_version != session.credential_version {
                    return Ok(false);
                }
                state.secrets.insert(TOTP_PENDING, sealed.clone())?;
                Ok(true)
            })
            .await?;
        if !live {
            return Ok(session_over());
        }
        let svg = uri.to_qr()?.to_svg();
        Ok(success(
            "Scan the QR code, then confirm with the code your app shows",
            json!({"otpauth_uri": uri.to_uri().as_str(), "qr_svg": svg.as_str()}),
        ))
    }
    answer(&app, &session).await.unwrap_or_else(Answer::from)
}

/// `POST /authentication/v1/user/totp/confirm`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    code: Zeroizing<String>,
}

impl core::fmt::Debug for Confirm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Confirm(..)")
    }
}

/// Activates the pending TOTP secret with a code from it (throttled like
/// any other code; the code's step is marked used).
pub async fn confirm_totp(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
    Body(request): Body<Confirm>,
) -> Answer {
    async fn answer(app: &App, session: &LiveSession, code: &str) -> Result<Answer, Answer> {
        let account = session.account.as_str();
        check_len("code", code, 16)?;
        let now = twofa::unix_time().map_err(Failure::from)?;
        let names = EnrollmentNames {
            pending: TOTP_PENDING,
            active: TOTP,
        };
        // One decision: the pending secret opened from the state decided
        // on, the code checked, the secret made active and the credential
        // version moved, all in one compare-and-swap.
        let outcome = app
            .decide(account, |state: &mut AccountState| {
                // Decided for a session still of this account's
                // credentials: one ended meanwhile changes nothing.
                if state.credential_version != session.credential_version {
                    return Ok(None);
                }
                let outcome = app.guard.confirm_totp(
                    state,
                    &app.keys.keyring,
                    &mut getrandom::SysRng,
                    account,
                    names,
                    |secret| Ok(Totp::new(secret)),
                    code,
                    now,
                )?;
                Ok(Some((outcome, state.credential_version)))
            })
            .await?;
        let Some((outcome, version)) = outcome else {
            return Ok(session_over());
        };
        if outcome == Outcome::Expired {
            return Ok(error(
                "e-106",
                "No TOTP enrollment pending: start one first",
            ));
        }
        if !outcome.is_accepted() {
            return Ok(super::session::refusal(&outcome, now, "Invalid TOTP"));
        }
        let token = app
            .issue_session(account, session.login, version, now)
            .await?;
        Ok(success("TOTP enabled", json!({"access_token": token})))
    }
    answer(&app, &session, &request.code)
        .await
        .unwrap_or_else(|answer| answer)
}

/// `POST /authentication/v1/user/device/register/start` and `…/finish`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceKey {
    algorithm: DeviceAlgorithm,
    /// Hex.
    public_key: String,
    /// Hex; `finish` only.
    #[serde(default)]
    signature: String,
    /// What the person calls the device, to tell it apart in the list of
    /// factors (`finish` only; at most 64 bytes).
    #[serde(default)]
    name: String,
}

/// Starts registering a device: the message its key signs.
pub async fn register_device_start(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
    Body(request): Body<DeviceKey>,
) -> Answer {
    async fn answer(
        app: &App,
        session: &LiveSession,
        request: &DeviceKey,
    ) -> Result<Answer, Answer> {
        let account = session.account.as_str();
        check_len("public_key", &request.public_key, 256)?;
        let Some(public_key) = hex_decode(&request.public_key) else {
            return Ok(error("e-100", "Malformed request: public_key must be hex"));
        };
        let now = twofa::unix_time().map_err(Failure::from)?;
        let message = app
            .decide(account, |state: &mut AccountState| {
                if state.credential_version != session.credential_version {
                    return Ok(Err(()));
                }
                app.guard.start_device_registration(
                    state,
                    &app.devices,
                    &mut getrandom::SysRng,
                    now,
                )?;
                Ok(Ok(state.registration.as_ref().map(|challenge| {
                    challenge.message(account, request.algorithm, &public_key)
                })))
            })
            .await?;
        let Ok(message) = message else {
            return Ok(session_over());
        };
        let message = message.ok_or_else(|| Failure("no registration challenge stored".into()))?;
        Ok(success(
            "Sign this message with the device's key",
            json!({"message": hex(&message)}),
        ))
    }
    answer(&app, &session, &request)
        .await
        .unwrap_or_else(|answer| answer)
}

/// Finishes registering a device with its signature of the message.
pub async fn register_device_finish(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
    Body(request): Body<DeviceKey>,
) -> Answer {
    async fn answer(
        app: &App,
        session: &LiveSession,
        request: &DeviceKey,
    ) -> Result<Answer, Answer> {
        let account = session.account.as_str();
        check_len("public_key", &request.public_key, 256)?;
        check_len("signature", &request.signature, 256)?;
        check_len("name", &request.name, DeviceNames::MAX_NAME)?;
        let (Some(public_key), Some(signature)) = (
            hex_decode(&request.public_key),
            hex_decode(&request.signature),
        ) else {
            return Ok(error(
                "e-100",
                "Malformed request: public_key and signature must be hex",
            ));
        };
        let now = twofa::unix_time().map_err(Failure::from)?;
        let key = app.digest_key()?;
        let outcome = app
            .decide(account, |state: &mut AccountState| {
                if state.credential_version != session.credential_version {
                    return Ok(Err(()));
                }
                let finished = app.guard.finish_device_registration(
                    state,
                    &app.devices,
                    &mut getrandom::SysRng,
                    key,
                    account,
                    request.algorithm,
                    &public_key,
                    &signature,
                    now,
                );
                let outcome = match finished {
                    Err(twofa::Error::TooManyDevices) => return Ok(Ok(None)),
                    finished => finished?,
                };
                if outcome.is_accepted() {
                    state.credentials_changed();
                }
                Ok(Ok(Some((outcome, state.credential_version))))
            })
            .await?;
        let Ok(outcome) = outcome else {
            return Ok(session_over());
        };
        let Some((outcome, version)) = outcome else {
            return Ok(error(
                "e-112",
                "As many devices as allowed are registered: revoke one first",
            ));
        };
        let Outcome::Accepted(device) = outcome else {
            return Ok(super::session::refusal(
                &outcome,
                now,
                "Invalid device signature",
            ));
        };
        if !request.name.is_empty() {
            let state: AccountState = app.load(account).await?;
            let kept: Vec<String> = state.devices.iter().map(|known| hex(&known.id)).collect();
            app.decide(account, |names: &mut DeviceNames| {
                names.name(hex(&device), request.name.clone(), &kept);
                Ok(())
            })
            .await?;
        }
        let token = app
            .issue_session(account, session.login, version, now)
            .await?;
        Ok(success(
            "Device registered",
            json!({"device_id": hex(&device), "access_token": token}),
        ))
    }
    answer(&app, &session, &request)
        .await
        .unwrap_or_else(|answer| answer)
}

/// `POST /authentication/v1/device/prompt`: the device's own request,
/// signed with its key over the account, its id and the time
/// ([`twofa::Device::prompt_request_message`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptRequest {
    user_id: String,
    /// Hex, as registration answered it.
    device_id: String,
    /// Unix time of the request, within a minute of the server's.
    at: u64,
    /// Hex.
    signature: String,
}

/// The device's side of a login: the prompt it signs with the number the
/// person enters. This stands in for the push channel to the device; the
/// prompt holds nothing secret (never the number), and is given only to
/// the registered, unrevoked device it is for, on its own signature.
pub async fn device_prompt(
    State(app): State<Arc<App>>,
    Body(request): Body<PromptRequest>,
) -> Answer {
    async fn answer(app: &App, request: &PromptRequest) -> Result<Answer, Answer> {
        let account = request.user_id.as_str();
        check_user_id(account)?;
        check_len("signature", &request.signature, 256)?;
        let id = hex_decode(&request.device_id).and_then(|id| <[u8; 16]>::try_from(id).ok());
        let (Some(id), Some(signature)) = (id, hex_decode(&request.signature)) else {
            return Ok(error(
                "e-100",
                "Malformed request: device_id must be 32 hex digits, signature hex",
            ));
        };
        let state: AccountState = app.load(account).await?;
        let now = twofa::unix_time().map_err(Failure::from)?;
        let proved = match state.devices.iter().find(|device| device.id == id) {
            Some(device) => {
                let keys = &app.keys.digest;
                device
                    .verify_prompt_request(keys, account, request.at, &signature, now)
                    .map_err(Failure::from)?
            }
            None => false,
        };
        if !proved {
            return Ok(Answer(
                StatusCode::UNAUTHORIZED,
                json!({"status": "error", "code": "e-401", "message": "Not the signature of a device registered to this account"}),
            ));
        }
        // The newest live challenge of any pending login, for this device.
        let Some(challenge) = state.device_challenges(&id, now).last() else {
            return Ok(error("e-106", "No device challenge pending"));
        };
        Ok(success(
            DEVICE_TRANSACTION,
            json!({"prompt": challenge.prompt(), "transaction": DEVICE_TRANSACTION}),
        ))
    }
    answer(&app, &request).await.unwrap_or_else(|answer| answer)
}

/// `POST /authentication/v1/user/recovery-codes`: a new set (the old one
/// stops working), shown once.
pub async fn recovery_codes(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, change): FreshSessionOf,
) -> Answer {
    async fn answer(
        app: &App,
        session: &LiveSession,
        change: OneChange,
    ) -> Result<Answer, Failure> {
        let account = session.account.as_str();
        let policy = app.recovery;
        let (digest, peppers) = (app.keys.digest.clone(), app.keys.peppers.clone());
        let owner = account.to_owned();
        // A set is as many hashes as it has codes.
        let hashes = u32::try_from(policy.count()).unwrap_or(u32::MAX);
        let (codes, record) = crate::hashing::run(Change, hashes, move |memory| {
            // The account's one change lasts as long as the hashing, even
            // if the request that asked for it is gone.
            let _change = change;
            let keys = twofa::RecoveryKeys {
                digest: &digest,
                peppers: &peppers,
            };
            let binding = Binding::new(&owner, crate::app::RECOVERY);
            policy.generate_in(&mut memory.recovery, &mut getrandom::SysRng, keys, binding)
        })
        .await
        .map_err(|e| Failure(e.to_string()))??;
        let now = twofa::unix_time()?;
        let changed = app
            .decide(account, |state: &mut AccountState| {
                if state.credential_version != session.credential_version {
                    return Ok(None);
                }
                state.replace_recovery_codes(record.clone(), now);
                Ok(Some(state.credential_version))
            })
            .await?;
        let Some(version) = changed else {
            return Ok(session_over());
        };
        let now = twofa::unix_time()?;
        let token = app
            .issue_session(account, session.login, version, now)
            .await?;
        let texts: Vec<Zeroizing<String>> = codes.iter().map(|code| code.to_text()).collect();
        let shown: Vec<&str> = texts.iter().map(|text| text.as_str()).collect();
        Ok(success(
            "Keep these codes somewhere safe: each logs in once, and they are shown only now",
            json!({"recovery_codes": shown, "access_token": token}),
        ))
    }
    answer(&app, &session, change)
        .await
        .unwrap_or_else(Answer::from)
}

/// `GET /authentication/v1/user/profile`: the session's account and its
/// second factors.
pub async fn profile(State(app): State<Arc<App>>, SessionOf(account): SessionOf) -> Answer {
    async fn answer(app: &App, account: &str) -> Result<Answer, Failure> {
        let user = app.user(account).await?;
        let factors = login::second_factors(app, account, &user).await?;
        let names = login::factor_names(factors);
        Ok(success(
            "Profile",
            json!({"user_id": account, "second_factors": names}),
        ))
    }
    answer(&app, &account).await.unwrap_or_else(Answer::from)
}

/// `GET /authentication/v1/user/activity`: the session's account's recent
/// trail, newest first (at most 50 entries): its sign-ins, failures,
/// factor changes and operators' actions.
pub async fn activity(State(app): State<Arc<App>>, SessionOf(account): SessionOf) -> Answer {
    match app.trail(&account, 50).await {
        Ok(events) => success("Your recent activity", json!({"events": events})),
        Err(failure) => failure.into(),
    }
}
