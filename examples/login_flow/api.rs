//! The login API of seed 004 over the crate: `POST
//! /authentication/v1/user/session` as one function from request to JSON
//! answer, with the state each user keeps.

use std::collections::HashMap;

use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use twofa::{
    AccountState, Binding, DevicePolicy, DigestKey, FirstFactor, Guard, OobPolicy, Outcome,
    RememberPolicy, SecondFactor, SecondFactors, TicketPolicy, Token, Totp,
};

/// What the service keeps per user: in a real service, a database row
/// saved through an `AccountStore` after every request.
pub(crate) struct User {
    /// Stand-in for a password hash from the service's password hasher.
    pub(crate) password: &'static str,
    /// The enrolled TOTP factor (sealed at rest in a real service).
    pub(crate) totp: Option<Totp>,
    /// Phone number for SMS codes.
    pub(crate) phone: Option<&'static str>,
    pub(crate) state: AccountState,
}

/// A login request, as the seed's body names its fields.
#[derive(Default)]
pub(crate) struct Request<'a> {
    pub(crate) user_id: &'a str,
    pub(crate) login_type: &'a str,
    pub(crate) password: &'a str,
    pub(crate) second_auth_type: &'a str,
    pub(crate) second_auth: &'a str,
    /// The remembered-device cookie, if the browser has one.
    pub(crate) remembered: &'a str,
    /// "Don't ask again on this browser", ticked with the second factor.
    pub(crate) remember: bool,
}

pub(crate) struct Service {
    pub(crate) users: HashMap<&'static str, User>,
    pub(crate) guard: Guard,
    /// Digest keys: the current one first (tickets, SMS codes, cookies).
    pub(crate) keys: Vec<DigestKey>,
    pub(crate) tickets: TicketPolicy,
    pub(crate) sms: OobPolicy,
    pub(crate) devices: DevicePolicy,
    pub(crate) remember: RememberPolicy,
    /// SMS messages "sent", for the demo: the gateway's outbox.
    pub(crate) outbox: Vec<(String, String)>,
}

fn success(message: &str, data: Value) -> Value {
    json!({"status": "success", "code": "s-101", "message": message, "data": data})
}

fn error(code: &str, message: &str) -> Value {
    json!({"status": "error", "code": code, "message": message})
}

/// The answer for a refused or failed attempt.
fn refusal<M>(outcome: &Outcome<M>, now: u64, invalid: &str) -> Value {
    match outcome {
        Outcome::Invalid { attempts_left: 0 } => {
            error("e-104", &format!("{invalid}. Account locked"))
        }
        Outcome::Invalid { attempts_left } => error(
            "e-102",
            &format!("{invalid} ({attempts_left} attempts left)"),
        ),
        Outcome::Replayed => error("e-103", "OTP has been used in past, Please try next OTP"),
        Outcome::Malformed => error("e-101", "Malformed request"),
        Outcome::TooSoon { retry_at } => error(
            "e-105",
            &format!("Too many attempts: try again in {} s", retry_at - now),
        ),
        Outcome::Locked { .. } => error("e-104", "Account locked: contact support"),
        Outcome::Expired => error(
            "e-106",
            "register_token or challenge expired or used: log in again",
        ),
        Outcome::NotAllowed => error("e-107", "Second factor not enabled for this login"),
        Outcome::Accepted(_) => error("e-500", "Server error: an acceptance taken for a refusal"),
    }
}

impl Service {
    /// `POST /authentication/v1/user/session`.
    pub(crate) fn session(&mut self, request: &Request<'_>, now: u64) -> Value {
        let Some(user) = self.users.get_mut(request.user_id) else {
            return error("e-101", "Invalid user id or password");
        };
        let binding = Binding::new(request.user_id, "login");
        let Some(key) = self.keys.first() else {
            return error("e-500", "Server error: no digest key configured");
        };
        let guard = self.guard;
        match (request.login_type, request.second_auth_type) {
            ("PASSWORD", second) => {
                // The second factors this user has.
                let allowed: SecondFactors = [
                    user.totp.as_ref().map(|_| SecondFactor::Totp),
                    user.phone.map(|_| SecondFactor::OutOfBand),
                    user.state
                        .active_devices()
                        .next()
                        .map(|_| SecondFactor::Device),
                    Some(SecondFactor::RememberedDevice),
                ]
                .into_iter()
                .flatten()
                .collect();
                let stored = user.password;
                let outcome = guard.begin_login(
                    &mut user.state,
                    &self.tickets,
                    key,
                    &mut getrandom::SysRng,
                    binding,
                    FirstFactor::Password,
                    allowed,
                    now,
                    || bool::from(stored.as_bytes().ct_eq(request.password.as_bytes())),
                );
                let ticket = match outcome {
                    Ok(Outcome::Accepted(ticket)) => ticket.to_string(),
                    // The same words as for an unknown user: nothing to enumerate.
                    Ok(Outcome::Invalid { .. }) => {
                        return error("e-101", "Invalid user id or password");
                    }
                    Ok(refused) => return refusal(&refused, now, "Invalid user id or password"),
                    Err(e) => return error("e-500", &format!("Server error: {e}")),
                };
                // A remembered browser skips the second factor, never the
                // first: the token completes the ticket just issued.
                if !request.remembered.is_empty() {
                    let keys = &self.keys;
                    let remembered = request.remembered;
                    match guard.verify_remembered(
                        &mut user.state,
                        keys,
                        binding,
                        &ticket,
                        remembered,
                        now,
                    ) {
                        Ok(Outcome::Accepted(())) => {
                            return success(
                                "User logged in Successfully.",
                                json!({"access_token": "…", "second_factor": "remembered device"}),
                            );
                        }
                        Ok(refused @ (Outcome::TooSoon { .. } | Outcome::Locked { .. })) => {
                            return refusal(&refused, now, "Invalid remembered device");
                        }
                        // Expired, revoked or not this account's (counted):
                        // the second factor is asked for.
                        Ok(_) => {}
                        Err(e) => return error("e-500", &format!("Server error: {e}")),
                    }
                }
                match second {
                    "REGISTER" => success(
                        "Password verified: complete the login with a second factor",
                        json!({"register_token": ticket, "second_factors": names(allowed)}),
                    ),
                    // Both factors in one call: the ticket is used at once.
                    "TOTP" | "OTP" | "FINGERPRINT" => {
                        let second_step = Request {
                            login_type: "TOKEN",
                            password: &ticket,
                            ..*request
                        };
                        self.second_step(&second_step, second, now)
                    }
                    _ => error("e-101", "Unknown second_auth_type"),
                }
            }
            ("TOKEN", "OTP") if request.second_auth.is_empty() => self.send_sms(request, now),
            ("TOKEN", "FINGERPRINT") if request.second_auth.is_empty() => {
                self.challenge_phone(request, now)
            }
            ("TOKEN", second) => self.second_step(request, second, now),
            _ => error("e-101", "Unknown login_type or second_auth_type"),
        }
    }

    /// `TOKEN` with a second factor's value.
    fn second_step(&mut self, request: &Request<'_>, second: &str, now: u64) -> Value {
        let Some(user) = self.users.get_mut(request.user_id) else {
            return error("e-101", "Invalid user id or password");
        };
        let binding = Binding::new(request.user_id, "login");
        let (guard, keys, value) = (self.guard, &self.keys, request.second_auth);
        let ticket = request.password; // the register_token travels in the password field
        let totp = user.totp.clone();
        let (factor, outcome, invalid) = match second {
            "TOTP" => {
                let Some(totp) = totp else {
                    return error(
                        "e-108",
                        "Two Factor Authentication is not enabled Please enable by visiting the security page",
                    );
                };
                let outcome = guard.complete_login(
                    &mut user.state,
                    keys,
                    binding,
                    ticket,
                    SecondFactor::Totp,
                    now,
                    |guard, state| guard.verify_totp(&totp, &mut state.totp, value, now),
                );
                ("TOTP", outcome.map(|o| o.map(|_| ())), "Invalid TOTP")
            }
            "OTP" => {
                let outcome = guard.complete_login(
                    &mut user.state,
                    keys,
                    binding,
                    ticket,
                    SecondFactor::OutOfBand,
                    now,
                    |guard, state| {
                        let Some(challenge) = state.oob.as_mut() else {
                            return Ok(Outcome::Expired);
                        };
                        guard.verify_oob(
                            &mut state.totp.throttle,
                            challenge,
                            keys,
                            binding,
                            value,
                            now,
                        )
                    },
                );
                ("OTP", outcome, "Invalid OTP")
            }
            "FINGERPRINT" => {
                // A "registered UDID" sent as the value is an identifier,
                // not a proof: checked as a signature, it fails and counts.
                let signature = hex_decode(value).unwrap_or_else(|()| value.as_bytes().to_vec());
                let outcome = guard.complete_login_with_device(
                    &mut user.state,
                    keys,
                    binding,
                    ticket,
                    &signature,
                    now,
                );
                (
                    "FINGERPRINT",
                    outcome.map(|o| o.map(|_| ())),
                    "Invalid device signature",
                )
            }
            _ => return error("e-101", "Unknown second_auth_type"),
        };
        match outcome {
            Ok(Outcome::Accepted(())) => {
                // Remembered only when asked ("don't ask again on this
                // browser"); a real service sets it as an HttpOnly, Secure
                // cookie rather than in the body.
                let mut data = json!({"access_token": "…", "second_factor": factor});
                if request.remember {
                    let Some(key) = keys.first() else {
                        return error("e-500", "Server error: no digest key configured");
                    };
                    let remember = &self.remember;
                    match guard.remember_device(
                        &mut user.state,
                        remember,
                        key,
                        &mut getrandom::SysRng,
                        binding,
                        now,
                    ) {
                        Ok(token) => data["remember_device_cookie"] = json!(token.to_string()),
                        Err(e) => return error("e-500", &format!("Server error: {e}")),
                    }
                }
                success("User logged in Successfully.", data)
            }
            Ok(refused) => refusal(&refused, now, invalid),
            Err(e) => error("e-500", &format!("Server error: {e}")),
        }
    }

    /// `TOKEN` + `OTP` without a value: sends an SMS code (needs the
    /// pending login's ticket, so the password was checked; and the send limit).
    fn send_sms(&mut self, request: &Request<'_>, now: u64) -> Value {
        let Some(user) = self.users.get_mut(request.user_id) else {
            return error("e-101", "Invalid user id or password");
        };
        let Some(phone) = user.phone else {
            return error("e-107", "Second factor not enabled for this login");
        };
        let Ok(ticket) = request.password.parse::<Token>() else {
            return error("e-101", "Malformed request");
        };
        let binding = Binding::new(request.user_id, "login");
        let pending = user.state.pending.iter().find(|p| p.id == ticket.id());
        match pending.map(|p| p.check(&self.keys, binding, &ticket, SecondFactor::OutOfBand, now)) {
            Some(Ok(Ok(()))) => {}
            _ => {
                return error(
                    "e-106",
                    "register_token or challenge expired or used: log in again",
                );
            }
        }
        if let Err(refused) =
            self.guard
                .allow_send(&user.state.totp.throttle, &mut user.state.sends, now)
        {
            return error("e-105", &format!("OTP not sent: {refused}"));
        }
        match self
            .sms
            .issue(&self.keys[0], &mut getrandom::SysRng, binding, now)
        {
            Ok((code, challenge)) => {
                user.state.oob = Some(challenge);
                // To the SMS gateway; the code is stored nowhere.
                self.outbox.push((phone.to_owned(), code.to_string()));
                success("OTP sent to your registered mobile number", json!({}))
            }
            Err(e) => error("e-500", &format!("Server error: {e}")),
        }
    }

    /// `TOKEN` + `FINGERPRINT` without a value: challenges the registered
    /// phone; the login screen shows the number to enter on it.
    fn challenge_phone(&mut self, request: &Request<'_>, now: u64) -> Value {
        let Some(user) = self.users.get_mut(request.user_id) else {
            return error("e-101", "Invalid user id or password");
        };
        let Some(device) = user.state.active_devices().next().map(|d| d.id) else {
            return error("e-107", "Second factor not enabled for this login");
        };
        let binding = Binding::new(request.user_id, "login");
        let transaction = "Log in to ACME Broker";
        // The ticket is checked first: no prompt reaches the phone for
        // anyone who has not passed the password.
        match self.guard.challenge_device(
            &mut user.state,
            &self.devices,
            &mut getrandom::SysRng,
            &self.keys,
            binding,
            request.password,
            &device,
            transaction,
            now,
        ) {
            Ok(Outcome::Accepted(number)) => success(
                &format!("Enter {number} on your registered device"),
                json!({"number": number}),
            ),
            Ok(refused) => refusal(&refused, now, "Invalid register_token"),
            Err(e) => error("e-500", &format!("Server error: {e}")),
        }
    }
}

/// The names the API uses for a set of second factors.
fn names(allowed: SecondFactors) -> Vec<&'static str> {
    [
        (SecondFactor::Totp, "TOTP"),
        (SecondFactor::OutOfBand, "OTP"),
        (SecondFactor::Device, "FINGERPRINT"),
    ]
    .into_iter()
    .filter(|(factor, _)| allowed.contains(*factor))
    .map(|(_, name)| name)
    .collect()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn hex_decode(text: &str) -> Result<Vec<u8>, ()> {
    if !text.len().is_multiple_of(2) {
        return Err(());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or(())
        })
        .collect()
}
