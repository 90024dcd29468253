//! A broker-style login, step by step: client code, PIN and TOTP, with the
//! answers such APIs give; then an SMS code and a recovery code as
//! fallbacks. A fallback replaces only the second factor: it needs the PIN
//! too, and every wrong PIN, code, SMS code or recovery code counts against
//! the account's one throttle, so no fallback adds guesses.
//!
//! Run it with `cargo run --example login_flow`. Times are fixed so the
//! walk-through is the same every run; a service passes `unix_time()?`.

use std::collections::HashMap;

use subtle::ConstantTimeEq;
use twofa::{
    Binding, DigestKey, Guard, OobChallenge, OobPolicy, Outcome, RecoveryCodes, RecoveryPolicy,
    Secret, ThrottleState, Throttled, Totp, TotpAccount,
};

/// What the service stores per client. In a real service: database rows,
/// each saved back after every attempt.
struct Client {
    /// Stand-in for a PIN hash from the service's password hasher.
    pin: &'static str,
    /// The active TOTP factor, if the client enrolled one.
    totp: Option<Totp>,
    /// The account's one throttle (in `state.throttle`), last accepted
    /// step and drift.
    state: TotpAccount,
    /// How often SMS codes were sent since the last login.
    sends: ThrottleState,
    /// The pending SMS code, if one was sent.
    sms: Option<OobChallenge>,
    /// The client's recovery codes.
    recovery: Option<RecoveryCodes>,
}

struct Service {
    clients: HashMap<&'static str, Client>,
    guard: Guard,
    /// The current SMS key first; older ones while their codes may live.
    sms_keys: Vec<DigestKey>,
    sms_policy: OobPolicy,
}

/// The answer for an attempt the guard refused before checking anything.
fn refused<M>(outcome: &Outcome<M>, now: u64) -> Option<String> {
    match outcome {
        Outcome::TooSoon { retry_at } => Some(format!(
            "Too many attempts: try again in {} s",
            retry_at - now
        )),
        Outcome::Locked { .. } => Some("Account locked: contact support".into()),
        _ => None,
    }
}

impl Service {
    /// Client code and PIN, under the account's throttle: the client, or
    /// the answer to give.
    fn first_factor(
        &mut self,
        client_code: &str,
        pin: &str,
        now: u64,
    ) -> Result<&mut Client, String> {
        let Some(client) = self.clients.get_mut(client_code) else {
            return Err("Invalid client code or PIN".into());
        };
        let stored = client.pin;
        let outcome = self
            .guard
            .check_first_factor(&mut client.state.throttle, now, || {
                bool::from(stored.as_bytes().ct_eq(pin.as_bytes()))
            });
        match outcome {
            Outcome::Accepted(()) => Ok(client),
            refusal => {
                Err(refused(&refusal, now).unwrap_or_else(|| "Invalid client code or PIN".into()))
            }
        }
    }

    /// After a completed login: the SMS send limit starts again.
    fn logged_in(guard: &Guard, client: &mut Client) {
        guard.send_policy().record_success(&mut client.sends);
    }

    /// The login call: client code, PIN and TOTP in, the API's answer out.
    fn login(&mut self, client_code: &str, pin: &str, totp_code: &str, now: u64) -> String {
        let guard = self.guard;
        let client = match self.first_factor(client_code, pin, now) {
            Ok(client) => client,
            Err(answer) => return answer,
        };
        let Some(totp) = &client.totp else {
            return "Two Factor Authentication is not enabled Please enable by visiting the security page".into();
        };
        let outcome = match guard.verify_totp(totp, &mut client.state, totp_code, now) {
            Ok(outcome) => outcome,
            // The service's clock is wrong: a server error, not the client's.
            Err(e) => return format!("Server error: {e}"),
        };
        if let Some(answer) = refused(&outcome, now) {
            return answer;
        }
        match outcome {
            Outcome::Accepted(found) => {
                Self::logged_in(&guard, client);
                format!("Success (drift {:+})", found.drift)
            }
            Outcome::Invalid { attempts_left: 0 } => "Invalid TOTP. Account locked".into(),
            Outcome::Invalid { attempts_left } => {
                format!("Invalid TOTP ({attempts_left} attempts left)")
            }
            Outcome::Replayed => "OTP has been used in past, Please try next OTP".into(),
            _ => "Invalid TOTP".into(),
        }
    }

    /// Sends an SMS code instead of asking for the TOTP: the PIN first,
    /// then the send limit. Returns the answer, and the code for the SMS
    /// gateway (it is stored nowhere).
    fn send_sms(&mut self, client_code: &str, pin: &str, now: u64) -> (String, Option<String>) {
        let (guard, policy) = (self.guard, self.sms_policy);
        let key = self.sms_keys[0].clone();
        let client = match self.first_factor(client_code, pin, now) {
            Ok(client) => client,
            Err(answer) => return (answer, None),
        };
        match guard.allow_send(&client.state.throttle, &mut client.sends, now) {
            Ok(()) => {}
            Err(Throttled::TooSoon { retry_at }) => {
                return (
                    format!("OTP already sent: request another in {} s", retry_at - now),
                    None,
                );
            }
            Err(Throttled::Locked { .. }) => {
                return ("Too many OTP requests: try later".into(), None);
            }
        }
        let binding = Binding::new(client_code, "login");
        match policy.issue(&key, &mut getrandom::SysRng, binding, now) {
            Ok((code, challenge)) => {
                client.sms = Some(challenge);
                ("OTP sent".into(), Some(code.to_string()))
            }
            Err(e) => (format!("Server error: {e}"), None),
        }
    }

    /// Client code, PIN and the SMS code.
    fn login_with_sms(&mut self, client_code: &str, pin: &str, typed: &str, now: u64) -> String {
        let guard = self.guard;
        let keys = self.sms_keys.clone();
        let client = match self.first_factor(client_code, pin, now) {
            Ok(client) => client,
            Err(answer) => return answer,
        };
        let Some(challenge) = client.sms.as_mut() else {
            return "No OTP was sent: request one".into();
        };
        let binding = Binding::new(client_code, "login");
        let outcome = match guard.verify_oob(
            &mut client.state.throttle,
            challenge,
            &keys,
            binding,
            typed,
            now,
        ) {
            Ok(outcome) => outcome,
            Err(e) => return format!("Server error: {e}"),
        };
        if let Some(answer) = refused(&outcome, now) {
            return answer;
        }
        match outcome {
            Outcome::Accepted(()) => {
                Self::logged_in(&guard, client);
                "Success (SMS OTP)".into()
            }
            Outcome::Invalid { attempts_left } => {
                format!("Invalid OTP ({attempts_left} attempts left)")
            }
            Outcome::Expired => "OTP expired or used: request a new one".into(),
            _ => "Invalid OTP".into(),
        }
    }

    /// Client code, PIN and a recovery code.
    fn login_with_recovery_code(
        &mut self,
        client_code: &str,
        pin: &str,
        typed: &str,
        now: u64,
    ) -> String {
        let guard = self.guard;
        let client = match self.first_factor(client_code, pin, now) {
            Ok(client) => client,
            Err(answer) => return answer,
        };
        let Some(codes) = client.recovery.as_mut() else {
            return "No recovery codes: contact support".into();
        };
        let outcome =
            match guard.verify_recovery(&mut client.state.throttle, codes, &[], typed, now) {
                Ok(outcome) => outcome,
                Err(e) => return format!("Server error: {e}"),
            };
        if let Some(answer) = refused(&outcome, now) {
            return answer;
        }
        match outcome {
            Outcome::Accepted(remaining) => {
                Self::logged_in(&guard, client);
                format!("Success (recovery code; {remaining} left)")
            }
            Outcome::Replayed => "Recovery code already used".into(),
            _ => "Invalid recovery code".into(),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = getrandom::SysRng;
    // Enrolled earlier (see `Enrollment`); a fresh secret for the demo.
    let totp = Totp::new(Secret::generate(&mut rng)?);
    let (recovery_codes, recovery_record) = RecoveryPolicy::default().generate(&mut rng, None)?;
    let client = |pin, totp, recovery| Client {
        pin,
        totp,
        state: TotpAccount::default(),
        sends: ThrottleState::default(),
        sms: None,
        recovery,
    };
    let mut service = Service {
        clients: HashMap::from([
            (
                "AB1234",
                client("4321", Some(totp.clone()), Some(recovery_record)),
            ),
            ("CD5678", client("8765", None, None)),
        ]),
        guard: Guard::default(),
        sms_keys: vec![DigestKey::generate(1, &mut rng)?],
        sms_policy: OobPolicy::default(),
    };

    let start = 1_700_000_000;
    let mut now = start;
    let step = |title: &str, answer: String| println!("{title:<50} -> {answer}");

    let code = totp.generate_at(now)?.to_string();
    step(
        "1. AB1234, right PIN, code from the app",
        service.login("AB1234", "4321", &code, now),
    );
    step(
        "2. the same code again",
        service.login("AB1234", "4321", &code, now + 5),
    );
    let wrong = totp.generate_at(now + 3600)?.to_string();
    now += 30;
    step(
        "3. a wrong code",
        service.login("AB1234", "4321", &wrong, now),
    );
    now += 2;
    step(
        "4. a wrong PIN",
        service.login("AB1234", "0000", &code, now),
    );
    step(
        "5. CD5678, who never enrolled a second factor",
        service.login("CD5678", "8765", "123456", now),
    );

    now += 60;
    let (sent, sms) = service.send_sms("AB1234", "4321", now);
    step("6. an SMS code instead, with the PIN", sent);
    let sms = sms.ok_or("no SMS code")?;
    step(
        "   asked again at once",
        service.send_sms("AB1234", "4321", now + 5).0,
    );
    step(
        "   typed back",
        service.login_with_sms("AB1234", "4321", &sms, now + 40),
    );
    step(
        "   typed again",
        service.login_with_sms("AB1234", "4321", &sms, now + 45),
    );
    step(
        "   asked for without the PIN",
        service.send_sms("AB1234", "9999", now + 47).0,
    );

    println!("7. someone who knows the PIN guesses codes, by app, SMS and recovery:");
    now += 600;
    for guess in 0..40u32 {
        let mut typed = format!("{guess:06}");
        let answer = match guess % 3 {
            0 => service.login("AB1234", "4321", &typed, now),
            1 => {
                let (_, sent) = service.send_sms("AB1234", "4321", now);
                // A guess, never the code just sent.
                if sent.as_deref() == Some(typed.as_str()) {
                    typed = "999999".into();
                }
                service.login_with_sms("AB1234", "4321", &typed, now)
            }
            _ => {
                typed = format!("{guess:010}");
                service.login_with_recovery_code("AB1234", "4321", &typed, now)
            }
        };
        println!("     {typed:<10} at +{:>5} s -> {answer}", now - start);
        if answer.starts_with("Account locked") {
            break;
        }
        if let Some(wait) = answer.strip_prefix("Too many attempts: try again in ") {
            now += wait.trim_end_matches(" s").parse::<u64>()?;
        }
    }
    let code = totp.generate_at(now)?.to_string();
    step(
        "8. the right code, while locked",
        service.login("AB1234", "4321", &code, now),
    );
    let recovery = recovery_codes[0].to_text();
    step(
        "   a right recovery code, while locked",
        service.login_with_recovery_code("AB1234", "4321", &recovery, now),
    );
    step(
        "   an SMS code, while locked",
        service.send_sms("AB1234", "4321", now).0,
    );
    Ok(())
}
