//! A user's own API keys, for seed 001's `head.Key` (the seed's `Userkey`
//! is the individual user's, not the client application's): created with
//! a fresh login with a second factor, shown once, listed, revoked. Only
//! keyed digests are stored; a key lasts a year unless revoked sooner.

use std::sync::Arc;

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use twofa::{Binding, Token};

use super::{
    account::{FreshSessionOf, SessionOf},
    body::{Answer, Body, error, success},
};
use crate::{
    app::{App, Failure},
    login::{hex, hex_decode},
    records::UserKeys,
};

/// Whether `key` is one of `account`'s own live API keys. The key's
/// digest is compared in constant time; a key that is not even of a
/// key's form is refused before anything is read.
///
/// # Errors
/// The store failed.
pub async fn user_key_ok(app: &App, account: &str, key: &str, now: u64) -> Result<bool, Failure> {
    let Ok(token) = key.trim().parse::<Token>() else {
        return Ok(false);
    };
    let keys: UserKeys = app.load(account).await?;
    let Some(record) = keys.keys.iter().find(|record| record.id == token.id()) else {
        return Ok(false);
    };
    let binding = Binding::new(account, UserKeys::PURPOSE);
    Ok(record
        .check(&app.keys.digest, binding, &token, 0, now)?
        .is_ok())
}

/// `POST /authentication/v1/user/api-keys`: a new key, shown once.
pub async fn create(
    State(app): State<Arc<App>>,
    FreshSessionOf(session, _change): FreshSessionOf,
) -> Answer {
    async fn answer(app: &App, account: &str) -> Result<Answer, Failure> {
        let now = twofa::unix_time()?;
        let binding = Binding::new(account, UserKeys::PURPOSE);
        let (token, record) =
            app.user_keys
                .issue(app.digest_key()?, &mut getrandom::SysRng, binding, 0, now)?;
        let added = app
            .decide(account, |keys: &mut UserKeys| {
                keys.keys.retain(|old| !old.is_over(0, now));
                if keys.keys.len() >= UserKeys::MAX {
                    return Ok(false);
                }
                keys.keys.push(record.clone());
                Ok(true)
            })
            .await?;
        if !added {
            return Ok(error(
                "e-112",
                "As many API keys as allowed: revoke one first",
            ));
        }
        Ok(success(
            "Keep this key: it is shown only now",
            json!({"api_key": token.to_string(), "id": hex(&record.id), "expires_at": record.expires_at}),
        ))
    }
    answer(&app, &session.account)
        .await
        .unwrap_or_else(Answer::from)
}

/// `GET /authentication/v1/user/api-keys`: each live key's id and dates.
pub async fn list(State(app): State<Arc<App>>, SessionOf(account): SessionOf) -> Answer {
    async fn answer(app: &App, account: &str) -> Result<Answer, Failure> {
        let now = twofa::unix_time()?;
        let keys: UserKeys = app.load(account).await?;
        let live: Vec<_> = keys
            .keys
            .iter()
            .filter(|record| !record.is_over(0, now))
            .map(|record| {
                json!({"id": hex(&record.id), "created_at": record.issued_at, "expires_at": record.expires_at})
            })
            .collect();
        Ok(success("Your API keys", json!({"api_keys": live})))
    }
    answer(&app, &account).await.unwrap_or_else(Answer::from)
}

/// `POST /authentication/v1/user/api-keys/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// Hex, as created or listed.
    id: String,
}

/// Revokes one of the session's user's keys.
pub async fn revoke(
    State(app): State<Arc<App>>,
    SessionOf(account): SessionOf,
    Body(request): Body<Revoke>,
) -> Answer {
    async fn answer(app: &App, account: &str, id: &str) -> Result<Answer, Answer> {
        let Some(id) = hex_decode(id).and_then(|id| <[u8; 16]>::try_from(id).ok()) else {
            return Ok(error(
                "e-100",
                "Malformed request: id must be 32 hex digits",
            ));
        };
        let revoked = app
            .decide(account, |keys: &mut UserKeys| {
                let before = keys.keys.len();
                keys.keys.retain(|record| record.id != id);
                Ok(keys.keys.len() < before)
            })
            .await?;
        Ok(if revoked {
            success("API key revoked", json!({}))
        } else {
            error("e-107", "No such API key")
        })
    }
    answer(&app, &account, &request.id)
        .await
        .unwrap_or_else(|answer| answer)
}
