//! Passkeys over HTTP: the options and the result of a registration (a
//! fresh login with a second factor needed, as for every new factor), a
//! passkey renamed, and the options of a passkey sign-in. Signing in and
//! the second factor go through seed 004's session endpoint
//! (`login_type` `FINGERPRINT`, `second_auth_type` `WEBAUTHN`); the list
//! and removal are with the other factors.

use std::sync::Arc;

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use twofa::{AccountState, Passkey};
use zeroize::Zeroizing;

use super::{
    account::{FreshSessionOf, SessionOf, session_over},
    body::{Answer, Body, check_len, error, success},
    session::refusal,
};
use crate::{
    app::{App, Failure},
    passkey_json::{CredentialJson, unb64},
    passkeys::{self, NotRegistered},
};

/// The answer for a registration that stored nothing.
fn not_registered(refused: NotRegistered, now: u64) -> Answer {
    match refused {
        NotRegistered::Malformed => error(
            "e-100",
            "Malformed request: credential must be the PublicKeyCredential's toJSON()",
        ),
        NotRegistered::Refused(outcome) => refusal(&outcome, now, "Invalid passkey registration"),
        NotRegistered::TooMany => error(
            "e-112",
            "As many passkeys as allowed are registered: remove one first",
        ),
        NotRegistered::Duplicate => error("e-113", "This passkey is registered already"),
        NotRegistered::Elsewhere => error("e-113", "This passkey is registered to another account"),
        NotRegistered::SessionOver => session_over(),
    }
}

/// `POST /authentication/v1/user/passkeys/register/options`: the options
/// for `navigator.credentials.create` (give them to
/// `PublicKeyCredential.parseCreationOptionsFromJSON`).
pub async fn register_options(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
) -> Answer {
    let answer = async {
        let now = twofa::unix_time().map_err(Failure::from)?;
        Ok::<_, Failure>(
            match passkeys::registration_options(&app, &session, now).await? {
                None => session_over(),
                Some(Ok(options)) => success(
                    "Create the passkey: navigator.credentials.create",
                    json!({"publicKey": options}),
                ),
                Some(Err(refused)) => not_registered(refused, now),
            },
        )
    };
    answer.await.unwrap_or_else(Answer::from)
}

/// The body of a registration's result.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The new credential's `toJSON()`.
    credential: CredentialJson,
    /// What to call it in the list (a phone, a security key).
    #[serde(default)]
    name: String,
}

/// `POST /authentication/v1/user/passkeys/register`: stores the passkey
/// and, as every factor change, ends the other sessions; the answer has
/// its id and the session's new token.
pub async fn register(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
    Body(request): Body<Register>,
) -> Answer {
    let answer = async {
        check_len("name", &request.name, Passkey::MAX_NAME_LEN)?;
        let now = twofa::unix_time().map_err(Failure::from)?;
        let name = match request.name.trim() {
            "" => "Passkey",
            name => name,
        };
        match passkeys::register(&app, &session, &request.credential, name, now).await? {
            Ok((id, version)) => {
                let token = app
                    .issue_session(&session.account, session.login, version, now)
                    .await?;
                Ok(success(
                    "Passkey registered",
                    json!({"credential_id": crate::passkey_json::b64(&id), "access_token": token}),
                ))
            }
            Err(refused) => Ok(not_registered(refused, now)),
        }
    };
    answer.await.unwrap_or_else(|answer: Answer| answer)
}

/// The body of a rename.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    /// base64url, as the list gives it.
    credential_id: String,
    /// The new name.
    name: String,
}

/// `POST /authentication/v1/user/passkeys/rename`.
pub async fn rename(
    State(app): State<Arc<App>>,
    SessionOf(account): SessionOf,
    Body(request): Body<Rename>,
) -> Answer {
    let answer = async {
        check_len("credential_id", &request.credential_id, 1400)?;
        check_len("name", &request.name, Passkey::MAX_NAME_LEN)?;
        let Some(id) = unb64(&request.credential_id) else {
            return Ok(error(
                "e-100",
                "Malformed request: credential_id must be base64url",
            ));
        };
        let now = twofa::unix_time().map_err(Failure::from)?;
        let renamed = app
            .decide(&account, |state: &mut AccountState| {
                Ok(state.rename_passkey(&id, &request.name, now))
            })
            .await?;
        Ok(if renamed {
            success("Passkey renamed", json!({}))
        } else {
            error("e-107", "No such passkey")
        })
    };
    answer.await.unwrap_or_else(|answer: Answer| answer)
}

/// The body of a sign-in's options.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInOptions {
    api_key: Zeroizing<String>,
}

impl core::fmt::Debug for SignInOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignInOptions").finish_non_exhaustive()
    }
}

/// `POST /authentication/v1/passkeys/sign-in/options`: a challenge for a
/// passkey sign-in, kept nowhere (sealed under the service's key), for
/// any discoverable credential of the RP, with user verification.
pub async fn sign_in_options(
    State(app): State<Arc<App>>,
    Body(request): Body<SignInOptions>,
) -> Answer {
    let answer = async {
        if !app.api_key_ok(&request.api_key) {
            return Ok(error("e-109", "Invalid api_key"));
        }
        let now = twofa::unix_time().map_err(Failure::from)?;
        Ok::<_, Failure>(success(
            "Sign in with a passkey: navigator.credentials.get",
            json!({"publicKey": passkeys::sign_in_options(&app, now)?}),
        ))
    };
    answer.await.unwrap_or_else(Answer::from)
}
