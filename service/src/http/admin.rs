//! What an operator does to an account, with an admin key of their own
//! (`TWOFA_ADMIN_KEYS` or `TWOFA_ADMIN_KEYS_FILE`, never a client
//! application's API key): lift a lock, list a person's factors, revoke
//! one, end all their sessions, read their audit trail; and `/metrics`.
//! Each action is written to the account's trail (`admin.*`, with the
//! operator's name) before it is carried out, and is refused if it cannot
//! be.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, State},
    http::{
        StatusCode,
        header::{AUTHORIZATION, CONTENT_TYPE},
        request::Parts,
    },
    response::IntoResponse,
};
use serde::Deserialize;
use serde_json::json;
use twofa::AccountState;

use super::{
    body::{Answer, Body, check_user_id, error, success},
    factors::{self, Remove, Target},
};
use crate::app::{App, Failure};

/// The operator an admin key (`Authorization: Bearer KEY`) names.
#[derive(Debug)]
pub struct Operator(pub String);

impl FromRequestParts<Arc<App>> for Operator {
    type Rejection = Answer;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Answer> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        app.admin(key.trim())
            .map(|name| Self(name.to_owned()))
            .ok_or_else(|| {
                Answer(
                    StatusCode::UNAUTHORIZED,
                    json!({"status": "error", "code": "e-401", "message": "An admin key is needed: Authorization: Bearer KEY"}),
                )
            })
    }
}

/// The body of most admin requests: whose account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserId {
    user_id: String,
}

/// `account` checked as an id, and a user: the API's answer otherwise.
async fn existing(app: &App, account: &str) -> Result<(), Answer> {
    check_user_id(account)?;
    if !app.user(account).await?.exists() {
        return Err(error("e-113", "No such user"));
    }
    Ok(())
}

/// Writes `by`'s action `name` on `account` to its trail first: an
/// action is never carried out unrecorded.
async fn recorded(
    app: &App,
    account: &str,
    name: &str,
    by: &str,
    mut detail: serde_json::Value,
) -> Result<u64, Answer> {
    let now = twofa::unix_time().map_err(Failure::from)?;
    detail["by"] = json!(by);
    app.record_entry(account, name, detail, now).await?;
    Ok(now)
}

/// `POST /admin/v1/unlock`: lifts `user_id`'s lock, timed or for good,
/// and forgets its failures; answers how many there were.
pub async fn unlock(
    State(app): State<Arc<App>>,
    Operator(by): Operator,
    Body(request): Body<UserId>,
) -> Answer {
    let answer = async {
        let account = request.user_id.as_str();
        existing(&app, account).await?;
        let state: AccountState = app.load(account).await?;
        let before = state.totp.throttle.failures;
        let now = recorded(
            &app,
            account,
            "admin.unlock",
            &by,
            json!({"failures": before}),
        )
        .await?;
        let failures = app
            .decide(account, |state: &mut AccountState| {
                Ok(app.guard.unlock(state, now))
            })
            .await?;
        Ok::<_, Answer>(success(
            "Account unlocked",
            json!({"user_id": account, "failures": failures}),
        ))
    };
    answer.await.unwrap_or_else(|answer| answer)
}

/// An operator's action `name` on `account`, once the account is known
/// to exist and the action is in its trail: `action`'s answer.
async fn act<F: Future<Output = Result<Answer, Answer>>>(
    app: &App,
    by: &str,
    account: &str,
    name: &str,
    detail: serde_json::Value,
    action: impl FnOnce() -> F,
) -> Answer {
    let answer = async {
        existing(app, account).await?;
        recorded(app, account, name, by, detail).await?;
        action().await
    };
    answer.await.unwrap_or_else(|answer| answer)
}

/// `POST /admin/v1/factors`: `user_id`'s factors with their metadata,
/// and every authenticator the account ever bound (oldest first).
pub async fn factors(
    State(app): State<Arc<App>>,
    Operator(by): Operator,
    Body(request): Body<UserId>,
) -> Answer {
    let account = request.user_id.as_str();
    act(
        &app,
        &by,
        account,
        "admin.factors_read",
        json!({}),
        || async {
            let mut factors = factors::describe(&app, account).await?;
            factors["bindings"] = json!(app.bindings(account).await?);
            Ok(success("The user's factors", factors))
        },
    )
    .await
}

/// The body of `POST /admin/v1/factors/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    user_id: String,
    /// The factor and its id, as the person's own removal takes them.
    factor: String,
    #[serde(default)]
    device_id: String,
    #[serde(default)]
    credential_id: String,
}

/// `POST /admin/v1/factors/revoke`: removes one of `user_id`'s factors
/// (a lost phone, a stolen key), which ends all their sessions.
pub async fn revoke(
    State(app): State<Arc<App>>,
    Operator(by): Operator,
    Body(request): Body<Revoke>,
) -> Answer {
    let account = request.user_id.as_str();
    let target = match Target::parse(&Remove {
        factor: request.factor.clone(),
        device_id: request.device_id.clone(),
        credential_id: request.credential_id.clone(),
    }) {
        Ok(target) => target,
        Err(refused) => return refused,
    };
    let factor = crate::login::factor_name(target.factor);
    let detail = json!({"factor": factor});
    act(&app, &by, account, "admin.revoke", detail, || async {
        let removed = factors::remove_factor(&app, account, &target, None).await?;
        Ok(match removed {
            Some((true, _)) => success(&format!("{factor} revoked"), json!({"user_id": account})),
            _ => error("e-107", "This factor is not set up"),
        })
    })
    .await
}

/// `POST /admin/v1/sessions/end`: ends every session of `user_id`, its
/// logins in progress and its remembered devices.
pub async fn end_sessions(
    State(app): State<Arc<App>>,
    Operator(by): Operator,
    Body(request): Body<UserId>,
) -> Answer {
    let account = request.user_id.as_str();
    act(
        &app,
        &by,
        account,
        "admin.sessions_ended",
        json!({}),
        || async {
            app.decide(account, |state: &mut AccountState| {
                state.credentials_changed();
                Ok(())
            })
            .await?;
            Ok(success("Every session ended", json!({"user_id": account})))
        },
    )
    .await
}

/// `POST /admin/v1/trail`: `user_id`'s audit trail, newest first.
pub async fn trail(
    State(app): State<Arc<App>>,
    Operator(by): Operator,
    Body(request): Body<UserId>,
) -> Answer {
    let account = request.user_id.as_str();
    act(
        &app,
        &by,
        account,
        "admin.trail_read",
        json!({}),
        || async {
            let events = app.trail(account, twofa_record::MAX_ACTIVITY).await?;
            Ok(success("The user's trail", json!({"events": events})))
        },
    )
    .await
}

/// `GET /metrics`: Prometheus's text format, for an operator's scraper
/// (`Authorization: Bearer ADMIN_KEY`).
pub async fn metrics(State(app): State<Arc<App>>, Operator(_): Operator) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.encode(),
    )
}
