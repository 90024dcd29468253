//! What an operator does to an account, with an admin key of their own
//! (`TWOFA_ADMIN_KEYS`, never a client application's API key): lifting a
//! lock. Each action is written to the account's [`AdminLog`] (who and
//! when) before it is carried out, and to the log.

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, State},
    http::{StatusCode, header::AUTHORIZATION, request::Parts},
};
use serde::Deserialize;
use serde_json::json;
use twofa::AccountState;

use super::body::{Answer, Body, check_user_id, error, success};
use crate::{
    app::{App, Failure},
    records::{AdminEntry, AdminLog},
};

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

/// `POST /admin/v1/unlock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unlock {
    user_id: String,
}

/// Lifts `user_id`'s lock, timed or for good, and forgets its failures;
/// answers how many there were.
pub async fn unlock(
    State(app): State<Arc<App>>,
    Operator(by): Operator,
    Body(request): Body<Unlock>,
) -> Answer {
    async fn answer(app: &App, by: &str, account: &str) -> Result<Answer, Answer> {
        check_user_id(account)?;
        let user = app.user(account).await?;
        if !user.exists() {
            return Ok(error("e-113", "No such user"));
        }
        let now = twofa::unix_time().map_err(Failure::from)?;
        let mut state: AccountState = app.load(account).await?;
        let failures = state.throttle().failures;
        // Recorded first: an unlock is never carried out unrecorded.
        let entry = AdminEntry {
            action: "unlock".to_owned(),
            by: by.to_owned(),
            at: now,
            failures,
        };
        app.decide(account, |log: &mut AdminLog| {
            log.add(entry.clone());
            Ok(())
        })
        .await?;
        let failures = app
            .decide(account, |state: &mut AccountState| {
                let failures = state.throttle().failures;
                app.guard.throttle().record_success(state.throttle());
                Ok(failures)
            })
            .await?;
        eprintln!("admin: {by} unlocked {account} at {now} ({failures} failures in a row)");
        Ok(success(
            "Account unlocked",
            json!({"user_id": account, "failures": failures}),
        ))
    }
    answer(&app, &by, &request.user_id)
        .await
        .unwrap_or_else(|answer| answer)
}
