//! Passkeys over the store, whatever API asks: registering one, using one
//! as the second factor of a pending login, signing in with one alone (a
//! discoverable credential, no name typed), and removing one. Each step
//! is one decision of the account's state (the core's
//! [`Guard`](twofa::Guard) methods, under its one throttle); the index
//! from credential id to account ([`PasskeyOwner`]) is changed beside it.

use std::net::IpAddr;

use serde_json::Value;
use twofa::{
    AccountState, Binding, Outcome, PasskeyUse, Transports,
    webauthn::{AssertionResponse, AttestationResponse, UserVerification},
};

use crate::{
    app::{App, Failure, LiveSession},
    passkey_json::{self, CredentialJson, challenge_of},
    records::PasskeyOwner,
};

/// The purpose a login's tickets are bound to (as in [`crate::login`]).
const LOGIN: &str = "login";

/// The user handle of `account` (WebAuthn `user.id`): 16 bytes of a keyed
/// digest of the name, so it tells nothing of the account to whoever
/// reads an authenticator, and stays the same at every registration.
///
/// # Errors
/// No digest key.
pub fn user_handle(app: &App, account: &str) -> Result<Vec<u8>, Failure> {
    let key = app.digest_key()?;
    let digest = key.record_digest(Binding::new(account, "passkey user"), &[]);
    Ok(digest.get(..16).unwrap_or_default().to_vec())
}

/// Why a registration did not store a passkey.
#[derive(Debug)]
pub enum NotRegistered {
    /// Not a registration response at all.
    Malformed,
    /// The ceremony was refused (counted, or the challenge expired).
    Refused(Outcome<Vec<u8>>),
    /// The account holds as many passkeys as allowed.
    TooMany,
    /// This credential is registered to this account already.
    Duplicate,
    /// This credential id is registered to another account.
    Elsewhere,
    /// The session's account changed its factors meanwhile.
    SessionOver,
}

/// The options to register a passkey for the session's account, or
/// `None` when the session ended.
///
/// # Errors
/// The store failed; [`twofa::Error::TooManyPasskeys`] as a failure of
/// its own is answered by the caller.
pub async fn registration_options(
    app: &App,
    session: &LiveSession,
    now: u64,
) -> Result<Option<Result<Value, NotRegistered>>, Failure> {
    let account = session.account.as_str();
    let user = user_handle(app, account)?;
    app.decide(account, |state: &mut AccountState| {
        if state.credential_version != session.credential_version {
            return Ok(None);
        }
        let started = app.guard.start_passkey_registration(
            state,
            &app.passkeys,
            &mut getrandom::SysRng,
            UserVerification::Preferred,
            now,
        );
        let challenge = match started {
            Err(twofa::Error::TooManyPasskeys) => return Ok(Some(Err(NotRegistered::TooMany))),
            started => started?,
        };
        Ok(Some(Ok(passkey_json::creation_options(
            app.rp.id(),
            &app.issuer,
            account,
            &user,
            &challenge,
            app.passkeys.challenge_ttl(),
            &state.passkeys,
        ))))
    })
    .await
}

/// Registers the passkey `credential` answers for the session's account,
/// named `name`: first in the account's state (one decision), then its id
/// claimed in the index; if another account holds that id, the passkey is
/// taken out again. The answer is its credential id, and the credential
/// version the change left (for the session's new token).
///
/// # Errors
/// The store failed.
pub async fn register(
    app: &App,
    session: &LiveSession,
    credential: &CredentialJson,
    name: &str,
    now: u64,
) -> Result<Result<(Vec<u8>, u64), NotRegistered>, Failure> {
    let Some(parts) = credential.attestation() else {
        return Ok(Err(NotRegistered::Malformed));
    };
    let account = session.account.as_str();
    let key = app.digest_key()?;
    let response = AttestationResponse {
        client_data_json: &parts.client_data_json,
        attestation_object: &parts.attestation_object,
    };
    let transports = Transports::from_names(parts.transports.iter().map(String::as_str));
    let decided = app
        .decide(account, |state: &mut AccountState| {
            if state.credential_version != session.credential_version {
                return Ok(Err(NotRegistered::SessionOver));
            }
            let finished = app.guard.finish_passkey_registration(
                state,
                &app.rp,
                &app.passkeys,
                key,
                account,
                &response,
                transports,
                name,
                now,
            );
            Ok(match finished {
                // The id the browser named must be the one the
                // authenticator attested.
                Ok(Outcome::Accepted(id)) if id != parts.id => {
                    state.passkeys.retain(|passkey| passkey.id != id);
                    Err(NotRegistered::Malformed)
                }
                Ok(Outcome::Accepted(id)) => Ok(id),
                Ok(refused) => Err(NotRegistered::Refused(refused)),
                Err(twofa::Error::TooManyPasskeys) => Err(NotRegistered::TooMany),
                Err(twofa::Error::DuplicatePasskey) => Err(NotRegistered::Duplicate),
                Err(other) => return Err(other),
            })
        })
        .await?;
    let id = match decided {
        Ok(id) => id,
        Err(refused) => return Ok(Err(refused)),
    };
    let take_out = async || {
        app.decide(account, |state: &mut AccountState| {
            state.passkeys.retain(|passkey| passkey.id != id);
            Ok(())
        })
        .await
    };
    match claim(app, account, &id).await {
        Ok(true) => {}
        Ok(false) => {
            take_out().await?;
            return Ok(Err(NotRegistered::Elsewhere));
        }
        // Not indexed, it cannot sign in: it goes, and the error is told.
        Err(failure) => {
            take_out().await?;
            return Err(failure);
        }
    }
    // A new factor, now the account's alone: every other session ends,
    // if this session is still one of the account's credentials.
    let version = app
        .decide(account, |state: &mut AccountState| {
            let held = state.passkeys.iter().any(|passkey| passkey.id == id);
            if !held || state.credential_version != session.credential_version {
                state.passkeys.retain(|passkey| passkey.id != id);
                return Ok(None);
            }
            state.credentials_changed();
            Ok(Some(state.credential_version))
        })
        .await?;
    let Some(version) = version else {
        release(app, account, &id).await?;
        return Ok(Err(NotRegistered::SessionOver));
    };
    Ok(Ok((id, version)))
}

/// Claims credential id `id` for `account` in the index: refused while
/// another account holds that passkey in its state (its owner added it
/// there before claiming it, so a claim is never taken from a holder).
async fn claim(app: &App, account: &str, id: &[u8]) -> Result<bool, Failure> {
    let name = PasskeyOwner::index_name(id);
    let key = app.digest_key()?;
    let recorded: PasskeyOwner = app.load(&name).await?;
    let other = recorded
        .owner(&app.keys.digest, &name)
        .filter(|owner| *owner != account);
    if let Some(other) = other {
        let state: AccountState = app.load(other).await?;
        if state.passkeys.iter().any(|passkey| passkey.id == id) {
            return Ok(false);
        }
    }
    app.decide(&name, |record: &mut PasskeyOwner| {
        // Claimed meanwhile, by anyone (its owner again included: every
        // claim moves the count), since the holder was checked.
        if *record != recorded {
            return Ok(false);
        }
        record.set(key, &name, account);
        Ok(true)
    })
    .await
}

/// Takes credential id `id` out of the index, if `account` holds it there
/// and no longer has the passkey (registered again meanwhile, it stays).
///
/// # Errors
/// The store failed.
pub async fn release(app: &App, account: &str, id: &[u8]) -> Result<(), Failure> {
    let state: AccountState = app.load(account).await?;
    if state.passkeys.iter().any(|passkey| passkey.id == id) {
        return Ok(());
    }
    let name = PasskeyOwner::index_name(id);
    let key = app.digest_key()?;
    app.decide(&name, |record: &mut PasskeyOwner| {
        if record.owner(&app.keys.digest, &name) == Some(account) {
            record.set(key, &name, "");
        }
        Ok(())
    })
    .await
}

/// The options for a passkey as the second factor of the pending login
/// `ticket`: its challenge, the account's passkeys as `allowCredentials`.
///
/// # Errors
/// The store failed.
pub async fn second_factor_options(
    app: &App,
    account: &str,
    ticket: &str,
    now: u64,
) -> Result<Outcome<Value>, Failure> {
    let binding = Binding::new(account, LOGIN);
    app.decide(account, |state: &mut AccountState| {
        let challenged = app.guard.challenge_passkey(
            state,
            &app.passkeys,
            &mut getrandom::SysRng,
            &app.keys.digest,
            binding,
            ticket,
            now,
        );
        let outcome = match challenged {
            // No passkey: as a factor the login does not allow.
            Err(twofa::Error::UnknownPasskey) => return Ok(Outcome::NotAllowed),
            challenged => challenged?,
        };
        Ok(outcome.map(|challenge| {
            passkey_json::request_options(
                app.rp.id(),
                &challenge,
                app.passkeys.challenge_ttl(),
                &state.passkeys,
                UserVerification::Preferred,
            )
        }))
    })
    .await
}

/// Completes the pending login `ticket` with the assertion `credential`;
/// accepted, with the credential version it was decided at.
///
/// # Errors
/// The store failed.
pub async fn complete_second_factor(
    app: &App,
    account: &str,
    ticket: &str,
    credential: &CredentialJson,
    now: u64,
) -> Result<Outcome<(PasskeyUse, u64)>, Failure> {
    let Some(parts) = credential.assertion() else {
        return Ok(Outcome::Malformed);
    };
    let binding = Binding::new(account, LOGIN);
    let response = AssertionResponse {
        client_data_json: &parts.client_data_json,
        authenticator_data: &parts.authenticator_data,
        signature: &parts.signature,
    };
    app.decide(account, |state: &mut AccountState| {
        let completed = app.guard.complete_login_with_passkey(
            state,
            &app.rp,
            &app.keys.digest,
            binding,
            ticket,
            &parts.id,
            &response,
            now,
        );
        let outcome = match completed {
            // Not one of the account's passkeys: a wrong answer. The
            // ticket was checked first, and a made-up one counts nothing.
            Err(twofa::Error::UnknownPasskey) => Outcome::Expired,
            completed => completed?,
        };
        let version = state.credential_version;
        Ok(outcome.map(|used| (used, version)))
    })
    .await
}

/// The options for a passkey sign-in: a sealed challenge, no credential
/// named (any discoverable credential of the RP answers), user
/// verification required.
///
/// # Errors
/// No digest key, or the random generator failed.
pub fn sign_in_options(app: &App, now: u64) -> Result<Value, Failure> {
    let key = app.digest_key()?;
    let challenge = app
        .passkeys
        .sign_in_challenge(key, &mut getrandom::SysRng, now)?;
    Ok(passkey_json::request_options(
        app.rp.id(),
        &challenge,
        app.passkeys.challenge_ttl(),
        &[],
        UserVerification::Required,
    ))
}

/// The result of a passkey sign-in.
#[derive(Debug)]
pub enum SignedIn {
    /// Logged in to this account, whose credentials were at this version
    /// when the sign-in was decided.
    Account(String, PasskeyUse, u64),
    /// Not an assertion at all: nothing looked up.
    Malformed,
    /// The sign-in challenge is not one of the service's, or has expired:
    /// nothing looked up.
    ChallengeExpired,
    /// Refused, however: no account has this passkey, it is another
    /// account's, or the assertion failed. One answer for all.
    Refused,
    /// The client's address failed too often: it may try again then.
    AddressWaits(u64),
}

/// A passkey sign-in with the assertion `credential`: the account found
/// by its credential id (and, if `user_id` was given, it must be that
/// one), then checked under the account's throttle. Like a password, a
/// failure counts against the client's address too.
///
/// # Errors
/// The store failed.
pub async fn sign_in(
    app: &App,
    user_id: Option<&str>,
    credential: &CredentialJson,
    from: Option<IpAddr>,
    now: u64,
) -> Result<SignedIn, Failure> {
    let _in_progress = match from {
        Some(address) => {
            let Some(in_progress) = app.addresses.begin(address) else {
                return Ok(SignedIn::AddressWaits(now.saturating_add(1)));
            };
            if let Err(retry_at) = app.addresses.take(address, now) {
                return Ok(SignedIn::AddressWaits(retry_at));
            }
            Some(in_progress)
        }
        None => None,
    };
    let signed_in = check_sign_in(app, user_id, credential, now).await;
    if let (Some(address), Ok(SignedIn::Account(..)) | Err(_)) = (from, &signed_in) {
        app.addresses.give_back(address);
    }
    signed_in
}

async fn check_sign_in(
    app: &App,
    user_id: Option<&str>,
    credential: &CredentialJson,
    now: u64,
) -> Result<SignedIn, Failure> {
    // Everything that can be told without the index first, so that what
    // is answered before it says nothing of the credential id.
    let Some(parts) = credential.assertion() else {
        return Ok(SignedIn::Malformed);
    };
    let Some(challenge) = challenge_of(&parts.client_data_json) else {
        return Ok(SignedIn::Malformed);
    };
    if app
        .passkeys
        .open_sign_in_challenge(&app.keys.digest, &challenge, now)
        .is_none()
    {
        return Ok(SignedIn::ChallengeExpired);
    }
    let name = PasskeyOwner::index_name(&parts.id);
    let recorded: PasskeyOwner = app.load(&name).await?;
    // From here every refusal is one answer: no account has this passkey,
    // it is another account's, or the account refused the assertion
    // (wrong, replayed, malformed, throttled or locked).
    let Some(account) = recorded.owner(&app.keys.digest, &name).map(str::to_owned) else {
        return Ok(SignedIn::Refused);
    };
    if user_id.is_some_and(|typed| typed != account) {
        return Ok(SignedIn::Refused);
    }
    let response = AssertionResponse {
        client_data_json: &parts.client_data_json,
        authenticator_data: &parts.authenticator_data,
        signature: &parts.signature,
    };
    let outcome = app
        .decide(&account, |state: &mut AccountState| {
            let signed = app.guard.sign_in_with_passkey(
                state,
                &app.rp,
                &app.passkeys,
                &app.keys.digest,
                &account,
                &challenge,
                &parts.id,
                &response,
                now,
            );
            let outcome = match signed {
                // The index named an account that no longer has it.
                Err(twofa::Error::UnknownPasskey) => Outcome::NotAllowed,
                signed => signed?,
            };
            // The session is bound to the credentials of this decision.
            Ok((outcome, state.credential_version))
        })
        .await?;
    Ok(match outcome {
        (Outcome::Accepted(used), version) => SignedIn::Account(account, used, version),
        _ => SignedIn::Refused,
    })
}
