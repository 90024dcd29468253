//! Seed 001: `POST /VendorsAPI/Service1.svc/TOTPLogin`. Client code, PIN
//! and TOTP in one call; a request token valid for 60 minutes, or the
//! seed's failure body (`Status` 1 for the PIN, 2 for the TOTP).

use std::{net::IpAddr, sync::Arc};

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use twofa::{FirstFactor, Outcome};
use zeroize::Zeroizing;

use super::{
    body::{Answer, MAX_SECOND_AUTH, Parsed, check_len, check_user_id},
    limits::ClientAddress,
};
use crate::{
    app::{App, Failure},
    login::{self, FirstRefusal, OneCall},
    passwords,
};

/// `head`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    #[serde(rename = "Key")]
    key: Zeroizing<String>,
}

/// `body`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    /// The client code (or e-mail, or mobile number).
    #[serde(rename = "Email_ID")]
    client_code: String,
    #[serde(rename = "TOTP")]
    totp: Zeroizing<String>,
    #[serde(rename = "PIN")]
    pin: Zeroizing<String>,
}

/// The request: `head` and `body`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TotpLoginRequest {
    head: Head,
    body: LoginBody,
}

impl core::fmt::Debug for TotpLoginRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TotpLoginRequest")
            .field("client_code", &self.body.client_code)
            .finish_non_exhaustive()
    }
}

/// The seed's "Two Factor Authentication is not enabled" message.
pub const NOT_ENABLED: &str = "Two Factor Authentication is not enabled Please enable by visiting /authentication/v1/user/totp/enroll";

/// The handler.
pub async fn totp_login(
    State(app): State<Arc<App>>,
    ClientAddress(from): ClientAddress,
    Parsed(request): Parsed<TotpLoginRequest>,
) -> Answer {
    // A body that does not parse: 400, in this API's shape.
    let request = match request {
        Ok(request) => request,
        Err(reason) => return failed(StatusCode::BAD_REQUEST, -1, reason),
    };
    match answer(&app, &request, from).await {
        Ok(answer) => answer,
        Err(failure) => Answer::from(failure),
    }
}

async fn answer(
    app: &App,
    request: &TotpLoginRequest,
    from: Option<IpAddr>,
) -> Result<Answer, Failure> {
    let body = &request.body;
    let account = body.client_code.as_str();
    if check_user_id(account).is_err()
        || check_len("PIN", &body.pin, passwords::MAX_LEN).is_err()
        || check_len("TOTP", &body.totp, MAX_SECOND_AUTH).is_err()
    {
        return Ok(failed(
            StatusCode::BAD_REQUEST,
            -1,
            "Server unable to process request",
        ));
    }
    let now = twofa::unix_time()?;
    let key = request.head.key.as_str();
    let key_ok = if app.totplogin_user_keys {
        super::user_keys::user_key_ok(app, account, key, now).await?
    } else {
        app.api_key_ok(key)
    };
    if !key_ok {
        return Ok(failed(StatusCode::OK, 1, "Invalid user key"));
    }
    // The seed's answer for a client code it does not know, as for one
    // without TOTP: this API tells them apart from a wrong PIN, as the
    // seed does (the session API does not).
    if !app.has_totp(account).await? {
        return Ok(failed(StatusCode::OK, 2, NOT_ENABLED));
    }
    let pin = body.pin.clone();
    let outcome =
        login::login_with_totp(app, account, FirstFactor::Pin, pin, &body.totp, from, now).await?;
    Ok(match outcome {
        OneCall::Second(Outcome::Accepted(version)) => {
            let login = crate::app::Login {
                at: now,
                factor: twofa::SecondFactor::Totp,
            };
            let token = app.issue_session(account, login, version, now).await?;
            Answer(
                StatusCode::OK,
                envelope(json!({
                    "ClientCode": account,
                    "Message": "Success",
                    "RedirectURL": "",
                    "RequestToken": token,
                    "Status": 0,
                    "Userkey": request.head.key.as_str(),
                })),
            )
        }
        OneCall::First(FirstRefusal::Invalid) => failed(
            StatusCode::OK,
            1,
            "Invalid login/password,use \"Forget password\"",
        ),
        OneCall::First(FirstRefusal::AddressWaits { retry_at }) => failed(
            StatusCode::OK,
            1,
            &login::waiting(twofa::Throttled::TooSoon { retry_at }, now),
        ),
        OneCall::NotEnabled => failed(StatusCode::OK, 2, NOT_ENABLED),
        OneCall::Second(refused) => failed(StatusCode::OK, 2, &refusal(&refused, now)),
    })
}

/// The seed's words for a refused attempt.
fn refusal<M>(outcome: &Outcome<M>, now: u64) -> String {
    match outcome {
        Outcome::Replayed => "OTP has been used in past, Please try next OTP".to_owned(),
        Outcome::TooSoon { retry_at } => login::waiting(
            twofa::Throttled::TooSoon {
                retry_at: *retry_at,
            },
            now,
        ),
        Outcome::Locked { until } => {
            login::waiting(twofa::Throttled::Locked { until: *until }, now)
        }
        Outcome::Invalid { attempts_left: 0 } => "Invalid TOTP. Account locked".to_owned(),
        _ => "Invalid TOTP".to_owned(),
    }
}

/// The seed's failure body: every field of `body` null but the message
/// and status.
fn failed(code: StatusCode, status: i32, message: &str) -> Answer {
    Answer(
        code,
        envelope(json!({
            "ClientCode": null,
            "Message": message,
            "RedirectURL": null,
            "RequestToken": null,
            "Status": status,
            "Userkey": null,
        })),
    )
}

fn envelope(body: Value) -> Value {
    json!({"body": body, "head": {"Status": 0, "StatusDescription": null}})
}
