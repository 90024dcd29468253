//! The login's steps over the store, whatever API asks for them: the first
//! factor (password or MPIN) issuing a pending login, each second factor
//! completing it, SMS codes and device challenges sent for it. Every step
//! answers with the core's [`Outcome`]; each API words it its own way.

use std::{net::IpAddr, sync::Arc};

use twofa::{
    AccountState, Binding, FirstFactor, Outcome, RecoveryCheck, RecoveryCode, SecondFactor,
    SecondFactors, Token,
};
use zeroize::Zeroizing;

use crate::{
    app::{App, Failure, RECOVERY, TOTP},
    passwords,
    phones::{PhoneSends, SmsBudget},
    records::User,
};

/// The purpose a login's tickets, codes and challenges are bound to.
const LOGIN: &str = "login";

/// What the person approves on a registered device.
pub const DEVICE_TRANSACTION: &str = "Log in to the twofa reference service";

/// Why the first factor did not pass.
#[derive(Debug)]
pub enum FirstRefusal {
    /// No such user, the password or PIN is wrong (counted against the
    /// account), or the account's throttle refused (nothing counted): one
    /// answer for all, after the same hash.
    Invalid,
    /// The client's address failed too often, whatever the account:
    /// nothing read, hashed or counted; it may try again at `retry_at`.
    AddressWaits {
        /// Unix time of the address's next attempt.
        retry_at: u64,
    },
}

/// The first step's result.
#[derive(Debug)]
pub enum Begun {
    /// The first factor matched: the pending login's ticket (the
    /// `register_token`), and the second factors the user has.
    Ticket(Token, SecondFactors),
    /// It did not.
    Refused(FirstRefusal),
}

/// The second factors `account` has set up.
///
/// # Errors
/// The store failed.
pub async fn second_factors(
    app: &App,
    account: &str,
    user: &User,
) -> Result<SecondFactors, Failure> {
    let state: AccountState = app.load(account).await?;
    let totp = state.secrets.contains(TOTP);
    let mut allowed = SecondFactors::NONE.with(SecondFactor::RememberedDevice);
    if totp {
        allowed = allowed.with(SecondFactor::Totp);
    }
    if !user.phone.is_empty() {
        allowed = allowed.with(SecondFactor::OutOfBand);
    }
    if state.active_devices().next().is_some() {
        allowed = allowed.with(SecondFactor::Device);
    }
    if !state.passkeys.is_empty() {
        allowed = allowed.with(SecondFactor::Passkey);
    }
    if state
        .recovery
        .as_ref()
        .is_some_and(|codes| codes.remaining() > 0)
    {
        allowed = allowed.with(SecondFactor::Recovery);
    }
    Ok(allowed)
}

/// The first factor, checked before any record changes: `Err` with the
/// answer when there is no such user, or the throttle refuses; otherwise
/// whether `typed` matches, to be counted under the throttle by the
/// caller. Both refusals hash against the decoy all the same and answer
/// exactly as a wrong password: no answer, and no time taken, tells
/// whether an id exists or is locked (its owner learns of a lock once a
/// login completes, or out of band). Before anything, the client's
/// address (`from`, if known) must be within its limit of failures, and
/// every refusal and wrong first factor counts against it.
async fn check_first(
    app: &App,
    account: &str,
    first: FirstFactor,
    typed: Zeroizing<String>,
    from: Option<IpAddr>,
    now: u64,
) -> Result<Result<(User, bool), FirstRefusal>, Failure> {
    // Taken before anything is read or hashed, so that neither attempts
    // sent at once nor requests abandoned mid-hash escape the count; the
    // right password gives it back.
    // And only a few at once, right or wrong.
    let Some(address) = from else {
        return check_first_factor(app, account, first, typed, now).await;
    };
    let Some(_in_progress) = app.addresses.begin(address) else {
        return Ok(Err(FirstRefusal::AddressWaits {
            retry_at: now.saturating_add(1),
        }));
    };
    if let Err(retry_at) = app.addresses.take(address, now) {
        return Ok(Err(FirstRefusal::AddressWaits { retry_at }));
    }
    let checked = check_first_factor(app, account, first, typed, now).await;
    // The right password, or nothing decided (the store or the queue
    // failed): the attempt does not count.
    if matches!(checked, Ok(Ok((_, true))) | Err(_)) {
        app.addresses.give_back(address);
    }
    checked
}

/// [`check_first`] without the address's limit.
async fn check_first_factor(
    app: &App,
    account: &str,
    first: FirstFactor,
    typed: Zeroizing<String>,
    now: u64,
) -> Result<Result<(User, bool), FirstRefusal>, Failure> {
    // Both records read whether or not the id exists, so that the reads
    // take as long too.
    let user = app.user(account).await?;
    let mut state: AccountState = app.load(account).await?;
    if !user.exists() {
        // As long as a real check, and no record written.
        passwords::verify(typed, String::new(), &app.decoy)
            .await
            .map_err(Failure)?;
        return Ok(Err(FirstRefusal::Invalid));
    }
    if app.guard.throttle().check(state.throttle(), now).is_err() {
        // As long as a real check, nothing counted, answered as wrong.
        passwords::verify(typed, String::new(), &app.decoy)
            .await
            .map_err(Failure)?;
        return Ok(Err(FirstRefusal::Invalid));
    }
    let hash = match first {
        FirstFactor::Password => user.password.clone(),
        _ => user.pin.clone(),
    };
    let matched = passwords::verify(typed, hash, &app.decoy)
        .await
        .map_err(Failure)?;
    Ok(Ok((user, matched)))
}

/// Step one: `typed` checked against the user's password or MPIN under
/// the account's one throttle (nothing hashed while it refuses), and on a
/// match a pending login for the second factors the user has.
///
/// # Errors
/// The store failed.
pub async fn begin(
    app: &App,
    account: &str,
    first: FirstFactor,
    typed: Zeroizing<String>,
    from: Option<IpAddr>,
    now: u64,
) -> Result<Begun, Failure> {
    let started = tokio::time::Instant::now();
    let (user, matched) = match check_first(app, account, first, typed, from, now).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(Begun::Refused(padded(app, started, refused).await)),
    };
    let allowed = second_factors(app, account, &user).await?;
    let key = app.digest_key()?;
    let binding = Binding::new(account, LOGIN);
    let outcome = app
        .decide(account, |state: &mut AccountState| {
            app.guard.begin_login(
                state,
                &app.tickets,
                key,
                &mut getrandom::SysRng,
                binding,
                first,
                allowed,
                now,
                || matched,
            )
        })
        .await?;
    Ok(match outcome {
        Outcome::Accepted(ticket) => Begun::Ticket(ticket, allowed),
        // Throttled meanwhile (another instance's failure): answered as a
        // wrong password, like every refusal of the first step.
        _ => Begun::Refused(padded(app, started, FirstRefusal::Invalid).await),
    })
}

/// `refused`, once at least [`App::first_step_floor`] has passed since
/// `started`: every wrong password, unknown id and throttled account is
/// answered after the same time. (An address that must wait is answered
/// at once: that says nothing of any account.)
async fn padded(app: &App, started: tokio::time::Instant, refused: FirstRefusal) -> FirstRefusal {
    if matches!(refused, FirstRefusal::Invalid) {
        tokio::time::sleep_until(started + app.first_step_floor).await;
    }
    refused
}

/// Both steps in one call, first factor and TOTP code: checked together in
/// one change of the account's state, so no pending login is left for
/// concurrent logins to crowd out.
#[derive(Debug)]
pub enum OneCall {
    /// The first step's refusal (no such user, wrong password or PIN, or
    /// the throttle).
    First(FirstRefusal),
    /// The account has no TOTP factor.
    NotEnabled,
    /// The TOTP code's outcome (the first factor matched); accepted, the
    /// credential version it was decided at, to bind the session to.
    Second(Outcome<u64>),
}

/// Checks `typed` (password or MPIN) and then `code` (TOTP) under the
/// account's throttle, in one compare-and-swap.
///
/// # Errors
/// The store failed, or the sealed secret does not open.
#[allow(clippy::too_many_arguments)]
pub async fn login_with_totp(
    app: &App,
    account: &str,
    first: FirstFactor,
    typed: Zeroizing<String>,
    code: &str,
    from: Option<IpAddr>,
    now: u64,
) -> Result<OneCall, Failure> {
    let started = tokio::time::Instant::now();
    let matched = match check_first(app, account, first, typed, from, now).await? {
        Ok((_, matched)) => matched,
        Err(refused) => return Ok(OneCall::First(padded(app, started, refused).await)),
    };
    let decided = app.decide(account, |state: &mut AccountState| {
        // The secret of the state decided on, never of an earlier read.
        let Some(totp) = app.open_totp(state, account, TOTP)? else {
            // A wrong password or PIN counts, and answers as one, whether
            // or not the account has TOTP: only its owner learns that it
            // has not.
            if matched {
                return Ok(OneCall::NotEnabled);
            }
            // Counted; answered as every refusal of the first step.
            let _ = app.guard.check_first_factor_in(state, first, now, || false);
            return Ok(OneCall::First(FirstRefusal::Invalid));
        };
        if !matched {
            let _ = app.guard.check_first_factor_in(state, first, now, || false);
            return Ok(OneCall::First(FirstRefusal::Invalid));
        }
        let outcome = app
            .guard
            .login_with_totp(state, first, &totp, code, now, || true)?;
        let version = state.credential_version;
        Ok(match outcome {
            // Only the first factor's check can refuse so (it passed the
            // throttle, and the code is checked at the same time):
            // throttled meanwhile by another instance's failure, answered
            // as every refusal of the first step.
            Outcome::TooSoon { .. } | Outcome::Locked { .. } => {
                OneCall::First(FirstRefusal::Invalid)
            }
            outcome => OneCall::Second(outcome.map(|_| version)),
        })
    });
    Ok(match decided.await? {
        OneCall::First(refused) => OneCall::First(padded(app, started, refused).await),
        decided => decided,
    })
}

/// Step two with a TOTP code. `None`: the account has no TOTP factor.
/// Accepted, the credential version the login was decided at (as every
/// step two answers: its session is bound to it, so a factor removed
/// meanwhile ends it).
///
/// # Errors
/// The store failed, or the sealed secret does not open.
pub async fn complete_with_totp(
    app: &App,
    account: &str,
    ticket: &str,
    code: &str,
    now: u64,
) -> Result<Option<Outcome<u64>>, Failure> {
    let binding = Binding::new(account, LOGIN);
    let outcome = app
        .decide(account, |state: &mut AccountState| {
            // The secret of the state decided on, never of an earlier read.
            let Some(totp) = app.open_totp(state, account, TOTP)? else {
                // Without TOTP, said only to a genuine ticket's bearer.
                return match not_enabled(app, state, account, ticket, SecondFactor::Totp, now)? {
                    Outcome::NotAllowed => Ok(None),
                    refused => Ok(Some(refused.map(|()| state.credential_version))),
                };
            };
            app.guard
                .complete_login(
                    state,
                    &app.keys.digest,
                    binding,
                    ticket,
                    SecondFactor::Totp,
                    now,
                    |guard, state| guard.verify_totp(&totp, &mut state.totp, code, now),
                )
                .map(|outcome| Some(outcome.map(|_| state.credential_version)))
        })
        .await?;
    Ok(outcome)
}

/// Step two with the SMS code sent for this pending login.
///
/// # Errors
/// The store failed.
pub async fn complete_with_sms(
    app: &App,
    account: &str,
    ticket: &str,
    code: &str,
    now: u64,
) -> Result<Outcome<u64>, Failure> {
    let binding = Binding::new(account, LOGIN);
    let outcome = app
        .decide(account, |state: &mut AccountState| {
            // The code sent for this pending login, never another's.
            let outcome = app.guard.complete_login_with_oob(
                state,
                &app.keys.digest,
                binding,
                ticket,
                code,
                now,
            )?;
            Ok(outcome.map(|()| state.credential_version))
        })
        .await?;
    if outcome.is_accepted() {
        // The code came back: the number is the user's.
        app.change_user(account, |user: &mut User| {
            if user.exists() {
                user.phone_verified = true;
            }
        })
        .await?;
    }
    Ok(outcome)
}

/// Step two with a registered device's signature (hex) over the prompt
/// and the number the person entered on it.
///
/// # Errors
/// The store failed.
pub async fn complete_with_device(
    app: &App,
    account: &str,
    ticket: &str,
    signature: &str,
    now: u64,
) -> Result<Outcome<u64>, Failure> {
    // A "registered UDID" sent as the value is an identifier, not a
    // proof: read as a signature, it fails and counts.
    let signature = hex_decode(signature).unwrap_or_else(|| signature.as_bytes().to_vec());
    let binding = Binding::new(account, LOGIN);
    let outcome = app
        .decide(account, |state: &mut AccountState| {
            let outcome = app.guard.complete_login_with_device(
                state,
                &app.keys.digest,
                binding,
                ticket,
                &signature,
                now,
            )?;
            Ok(outcome.map(|_| state.credential_version))
        })
        .await?;
    Ok(outcome)
}

/// Step two with a recovery code (each one works once). The Argon2id
/// work (two hashes: the code, and the one that replaces it) runs on a
/// [`hashing`](crate::hashing) thread on a copy of the account's state,
/// and the decision only commits it, so no decision (on SQLite, the
/// database's write lock) waits for a hash. When the state moved so that
/// the check cannot decide (a set made anew, a lock lifted meanwhile), it
/// is made again on a new copy; a state that keeps moving is decided with
/// the hashing inside the decision, as one.
///
/// # Errors
/// The store failed.
pub async fn complete_with_recovery(
    app: &Arc<App>,
    account: &str,
    ticket: &str,
    code: &str,
    now: u64,
) -> Result<Outcome<(RecoveryCode, u64)>, Failure> {
    let code = Zeroizing::new(code.to_owned());
    for _ in 0..RECOVERY_CHECKS {
        let check = check_recovery(app, account, ticket, &code, now).await?;
        let (owner, keys) = (Binding::new(account, RECOVERY), app.recovery_keys());
        let mut moved = false;
        let decided = app
            .decide(account, |state: &mut AccountState| {
                // Each attempt of the decision (a lost compare-and-swap
                // runs it again) says afresh whether the state moved.
                moved = false;
                let outcome = app.guard.complete_login(
                    state,
                    &app.keys.digest,
                    Binding::new(account, LOGIN),
                    ticket,
                    SecondFactor::Recovery,
                    now,
                    |guard, state| {
                        let throttle = &mut state.totp.throttle;
                        let (codes, check) = match (state.recovery.as_mut(), &check) {
                            (None, _) => return Ok(Outcome::Expired),
                            (Some(codes), Some(check)) => (codes, check),
                            // The copy refused before the code was looked
                            // at (its throttle, or no set yet) and this
                            // state, past the same checks, does not:
                            // nothing is written, the check made again.
                            (Some(_), None) => {
                                moved = true;
                                return Err(twofa::Error::ChallengeSpent);
                            }
                        };
                        let policy = &app.recovery;
                        match guard
                            .commit_recovery(check, throttle, codes, policy, keys, owner, now)?
                        {
                            Some(outcome) => Ok(outcome),
                            None => {
                                moved = true;
                                Err(twofa::Error::ChallengeSpent)
                            }
                        }
                    },
                )?;
                let version = state.credential_version;
                Ok(outcome.map(|accepted| (accepted.replacement, version)))
            })
            .await;
        // Only a decision refused because the state moved goes again: one
        // that was saved is the answer, whatever an earlier attempt saw.
        match decided {
            Err(_) if moved => continue,
            decided => return decided,
        }
    }
    verify_recovery_in_decision(app, account, ticket, code, now).await
}

/// Rounds of [`complete_with_recovery`]'s check on a copy before it
/// hashes inside the decision.
const RECOVERY_CHECKS: u32 = 2;

/// The Argon2id work of a recovery login on a copy of the account's
/// state: the ticket checked on the copy first, on the request's task, as
/// the decision will check it, so nobody without one makes anything be
/// hashed or takes room in the hashing queue; then the hashing on a
/// hashing thread. `None` when the copy refused before the code was
/// looked at.
async fn check_recovery(
    app: &Arc<App>,
    account: &str,
    ticket: &str,
    code: &Zeroizing<String>,
    now: u64,
) -> Result<Option<RecoveryCheck>, Failure> {
    let mut copy: AccountState = app.load(account).await?;
    let mut reached = None;
    // What the copy would answer is not the answer: the decision's is.
    let _ = app.guard.complete_login(
        &mut copy,
        &app.keys.digest,
        Binding::new(account, LOGIN),
        ticket,
        SecondFactor::Recovery,
        now,
        |_, copy| {
            reached = copy
                .recovery
                .take()
                .map(|codes| (codes, copy.totp.throttle));
            Ok(Outcome::<()>::Expired)
        },
    )?;
    let Some((codes, throttle)) = reached else {
        return Ok(None);
    };
    let (app, account, code) = (app.clone(), account.to_owned(), code.clone());
    let login = crate::hashing::Class::Login;
    let checked = crate::hashing::run(login, 2, move |memory| {
        let (policy, keys) = (&app.recovery, app.recovery_keys());
        let (owner, rng) = (Binding::new(&account, RECOVERY), &mut getrandom::SysRng);
        let memory = &mut memory.recovery;
        app.guard.check_recovery_code(
            memory, &throttle, &codes, policy, keys, owner, rng, &code, now,
        )
    })
    .await
    .map_err(Failure)??;
    Ok(checked)
}

/// A recovery login decided with its hashing inside the decision, on a
/// hashing thread: for a state that kept moving under the checks on
/// copies.
async fn verify_recovery_in_decision(
    app: &Arc<App>,
    account: &str,
    ticket: &str,
    code: Zeroizing<String>,
    now: u64,
) -> Result<Outcome<(RecoveryCode, u64)>, Failure> {
    let (app, handle) = (app.clone(), tokio::runtime::Handle::current());
    let request = crate::http::observe::current();
    let (account, ticket) = (account.to_owned(), ticket.to_owned());
    let login = crate::hashing::Class::Login;
    let outcome = crate::hashing::run(login, 2, move |memory| {
        let binding = Binding::new(&account, LOGIN);
        let decided = app.decide(&account, |state: &mut AccountState| {
            let keys = app.recovery_keys();
            let outcome = app.guard.complete_login(
                state,
                &app.keys.digest,
                binding,
                &ticket,
                SecondFactor::Recovery,
                now,
                |guard, state| {
                    let Some(codes) = state.recovery.as_mut() else {
                        return Ok(Outcome::Expired);
                    };
                    let throttle = &mut state.totp.throttle;
                    let (policy, rng) = (&app.recovery, &mut getrandom::SysRng);
                    let owner = Binding::new(&account, RECOVERY);
                    let memory = &mut memory.recovery;
                    guard.verify_recovery_in(
                        memory, throttle, codes, policy, keys, owner, rng, &code, now,
                    )
                },
            )?;
            let version = state.credential_version;
            Ok(outcome.map(|accepted| (accepted.replacement, version)))
        });
        handle.block_on(crate::http::observe::within(request, decided))
    })
    .await
    .map_err(Failure)??;
    Ok(outcome)
}

/// Step two with a remembered browser's cookie in place of a second
/// factor (never in place of the first): the cookie that replaces it. A
/// cookie presented again after it was replaced revokes every remembered
/// browser of the account.
///
/// # Errors
/// The store failed.
pub async fn complete_with_cookie(
    app: &App,
    account: &str,
    ticket: &str,
    cookie: &str,
    now: u64,
) -> Result<Outcome<(String, u64)>, Failure> {
    let binding = Binding::new(account, LOGIN);
    let outcome = app
        .decide(account, |state: &mut AccountState| {
            let outcome = app.guard.verify_remembered(
                state,
                &app.remember,
                &app.keys.digest,
                &mut getrandom::SysRng,
                binding,
                ticket,
                cookie,
                now,
            )?;
            let version = state.credential_version;
            Ok(outcome.map(|token| (token.to_string(), version)))
        })
        .await?;
    // The cookie is rotated: the new one replaces it in the browser.
    Ok(outcome)
}

/// Remembers the browser a login was just completed on, at credential
/// version `version` (the login's): its cookie, or `None` if the
/// account's factors changed since.
///
/// # Errors
/// The store or the random generator failed.
pub async fn remember(
    app: &App,
    account: &str,
    version: u64,
    now: u64,
) -> Result<Option<String>, Failure> {
    let key = app.digest_key()?;
    let binding = Binding::new(account, LOGIN);
    let token = app
        .decide(account, |state: &mut AccountState| {
            // Only for the credentials the login was decided at: a factor
            // changed since ends what that login would have remembered.
            if state.credential_version != version {
                return Ok(None);
            }
            app.guard
                .remember_device(
                    state,
                    &app.remember,
                    key,
                    &mut getrandom::SysRng,
                    binding,
                    now,
                )
                .map(Some)
        })
        .await?;
    Ok(token.map(|token| token.to_string()))
}

/// Why no SMS code was sent.
#[derive(Debug)]
pub enum NotSent {
    /// The ticket is not a live pending login of the account allowing
    /// SMS: why, as the core answered it (malformed, expired, not
    /// allowed), to be worded as every other factor's refusal is.
    Ticket(Outcome<()>),
    /// The send limit (or the account's lock): the words to show.
    Limit(String),
    /// The gateway failed.
    Gateway(String),
}

/// Sends an SMS code for the pending login `ticket` (its first factor
/// passed), within the send limit. The code is that login's own; sent
/// again, a new code replaces the last one, whose answer then reads as
/// expired.
///
/// # Errors
/// The store or the random generator failed.
pub async fn send_sms(
    app: &App,
    account: &str,
    user: &User,
    ticket: &str,
    now: u64,
) -> Result<Result<(), NotSent>, Failure> {
    let key = app.digest_key()?;
    let binding = Binding::new(account, LOGIN);
    let issued = app
        .decide(account, |state: &mut AccountState| {
            let outcome = app.guard.challenge_oob(
                state,
                &app.sms,
                key,
                &mut getrandom::SysRng,
                &app.keys.digest,
                binding,
                ticket,
                now,
            )?;
            Ok(match outcome {
                Outcome::Accepted(code) => Ok(Zeroizing::new(code.to_string())),
                Outcome::TooSoon { retry_at } => Err(NotSent::Limit(waiting(
                    twofa::Throttled::TooSoon { retry_at },
                    now,
                ))),
                Outcome::Locked { until } => Err(NotSent::Limit(waiting(
                    twofa::Throttled::Locked { until },
                    now,
                ))),
                refused => Err(NotSent::Ticket(refused.map(|_| ()))),
            })
        })
        .await?;
    let code = match issued {
        Ok(code) => code,
        Err(not_sent) => return Ok(Err(not_sent)),
    };
    // Then the number's and the service's own limits.
    if let Err(retry_at) = take_send(app, &user.phone, user.phone_verified, now).await? {
        app.metrics.sms("code", "refused_phone");
        let detail = serde_json::json!({"factor": "out_of_band", "reason": "phone_limit"});
        if let Err(failure) = app.record_entry(account, "code.refused", detail, now).await {
            tracing::error!(account, %failure, "the audit trail refused an event");
        }
        let words = waiting(twofa::Throttled::TooSoon { retry_at }, now);
        return Ok(Err(NotSent::Limit(words)));
    }
    // Sent once the challenge is stored, so that the code can be checked.
    let sent = app.sender.send(&user.phone, &code);
    if sent.is_ok() {
        app.metrics.sms("code", "sent");
    }
    Ok(sent.map_err(NotSent::Gateway))
}

/// Counts one send to `phone` against the number's own limit (the
/// stricter one while `verified` is false), then against the service's
/// hourly budget; when either is spent, the time the next may go. The
/// number's limit comes first, so that sends it refuses (many accounts
/// naming one number) never spend the budget every other number needs;
/// a send the budget refuses gives the number's count back.
///
/// # Errors
/// The store failed.
pub async fn take_send(
    app: &App,
    phone: &str,
    verified: bool,
    now: u64,
) -> Result<Result<(), u64>, Failure> {
    let limits = app.sms_limits;
    /// The window `verified` counts in, its bound and its length.
    fn window(
        sends: &mut PhoneSends,
        verified: bool,
        limits: crate::config::SmsLimits,
    ) -> (&mut crate::phones::Window, u32, u64) {
        if verified {
            let max = limits.per_phone;
            (&mut sends.verified, max, PhoneSends::VERIFIED_WINDOW)
        } else {
            let max = limits.per_unverified_phone;
            (&mut sends.unverified, max, PhoneSends::UNVERIFIED_WINDOW)
        }
    }
    let key = PhoneSends::key(phone);
    let (number, started) = app
        .decide_retrying(&key, |sends: &mut PhoneSends| {
            let (counted, max, seconds) = window(sends, verified, limits);
            let taken = counted.take(max, seconds, now);
            Ok((taken, counted.start))
        })
        .await?;
    if number.is_err() {
        return Ok(number);
    }
    let budget = app
        .decide_retrying(SmsBudget::KEY, |budget: &mut SmsBudget| {
            Ok(budget.window.take(limits.budget, SmsBudget::WINDOW, now))
        })
        .await?;
    if budget.is_err() {
        tracing::warn!(
            "the SMS budget (TWOFA_SMS_BUDGET={}) is spent for this hour",
            limits.budget
        );
        // Nothing was sent: the number's count is given back.
        app.decide_retrying(&key, |sends: &mut PhoneSends| {
            window(sends, verified, limits).0.give_back(started);
            Ok(())
        })
        .await?;
    }
    Ok(budget)
}

/// Challenges one of the account's registered devices for the pending
/// login `ticket`, the one `named` or else the one used last: the number
/// to show on the login screen. A named device that is not active is
/// answered as no device (only to a genuine ticket's bearer).
///
/// # Errors
/// The store or the random generator failed.
pub async fn challenge_device(
    app: &App,
    account: &str,
    ticket: &str,
    named: Option<[u8; 16]>,
    now: u64,
) -> Result<Outcome<u8>, Failure> {
    let binding = Binding::new(account, LOGIN);
    app.decide(account, |state: &mut AccountState| {
        // The device the client names, or the one used last.
        let chosen = {
            let mut active = state.active_devices();
            match named {
                Some(id) => active.find(|device| device.id == id),
                None => active.max_by_key(|device| (device.last_used, device.registered_at)),
            }
            .map(|device| device.id)
        };
        let Some(device) = chosen else {
            // No device: said only to a genuine ticket's bearer.
            return Ok(
                match not_enabled(app, state, account, ticket, SecondFactor::Device, now)? {
                    Outcome::NotAllowed => Outcome::NotAllowed,
                    refused => refused.map(|()| 0),
                },
            );
        };
        app.guard.challenge_device(
            state,
            &app.devices,
            &mut getrandom::SysRng,
            &app.keys.digest,
            binding,
            ticket,
            &device,
            DEVICE_TRANSACTION,
            now,
        )
    })
    .await
}

/// The answer for `factor` when the account does not have it, once the
/// ticket is checked: a ticket that does not verify is answered as over,
/// whatever the account has, so that nobody without the password learns
/// which factors it has (or whether it exists); a genuine one learns
/// [`Outcome::NotAllowed`]. Nothing is written or counted.
///
/// # Errors
/// A digest key the ticket names is missing.
pub fn not_enabled(
    app: &App,
    state: &mut AccountState,
    account: &str,
    ticket: &str,
    factor: SecondFactor,
    now: u64,
) -> Result<Outcome<()>, twofa::Error> {
    let binding = Binding::new(account, LOGIN);
    app.guard.complete_login(
        state,
        &app.keys.digest,
        binding,
        ticket,
        factor,
        now,
        |_, _| Ok(Outcome::NotAllowed),
    )
}

/// Whether `ticket` is a genuine pending login of `account` for `factor`
/// when the account does not have that factor (see [`not_enabled`]): the
/// outcome to answer.
///
/// # Errors
/// The store failed.
pub async fn check_not_enabled(
    app: &App,
    account: &str,
    ticket: &str,
    factor: SecondFactor,
    now: u64,
) -> Result<Outcome<()>, Failure> {
    app.decide(account, |state: &mut AccountState| {
        not_enabled(app, state, account, ticket, factor, now)
    })
    .await
}

/// The names the seeds' API uses for second factors (a remembered
/// browser's cookie is `REMEMBERED`, though it is no second factor).
const FACTOR_NAMES: [(SecondFactor, &str); 6] = [
    (SecondFactor::Totp, "TOTP"),
    (SecondFactor::Passkey, "WEBAUTHN"),
    (SecondFactor::OutOfBand, "OTP"),
    (SecondFactor::Device, "FINGERPRINT"),
    (SecondFactor::Recovery, "RECOVERY"),
    (SecondFactor::RememberedDevice, "REMEMBERED"),
];

/// The names of a set of second factors, a remembered browser left out.
pub fn factor_names(factors: SecondFactors) -> Vec<&'static str> {
    FACTOR_NAMES
        .into_iter()
        .filter(|(factor, _)| *factor != SecondFactor::RememberedDevice)
        .filter(|(factor, _)| factors.contains(*factor))
        .map(|(_, name)| name)
        .collect()
}

/// The name of `factor`.
pub fn factor_name(factor: SecondFactor) -> &'static str {
    FACTOR_NAMES
        .into_iter()
        .find(|(known, _)| *known == factor)
        .map_or("OTHER", |(_, name)| name)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    text
}

/// Bytes from hex (either case), or `None`.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let digit = |c: u8| char::from(c).to_digit(16);
            let high = digit(*pair.first()?)?;
            let low = digit(*pair.get(1)?)?;
            u8::try_from(high << 4 | low).ok()
        })
        .collect()
}

/// How long to wait, in the one wording every answer uses: "Too many
/// attempts: try again in N s", "Account locked: try again in N s", or
/// "Account locked: contact support".
pub fn waiting(throttled: twofa::Throttled, now: u64) -> String {
    match throttled {
        twofa::Throttled::TooSoon { retry_at } => format!(
            "Too many attempts: try again in {} s",
            retry_at.saturating_sub(now)
        ),
        twofa::Throttled::Locked { until: Some(until) } => format!(
            "Account locked: try again in {} s",
            until.saturating_sub(now)
        ),
        twofa::Throttled::Locked { until: None } => "Account locked: contact support".to_owned(),
    }
}
