//! A broker-style login, step by step: client code, PIN and TOTP, with the
//! answers such APIs give; then an SMS code as a fallback, and a recovery
//! code that lifts a lockout.
//!
//! Run it with `cargo run --example login_flow`. Times are fixed so the
//! walk-through is the same every run; a service passes `unix_time()?`.

use std::collections::HashMap;

use subtle::ConstantTimeEq;
use twofa::{
    Guard, OobChallenge, OobKey, OobOutcome, OobPolicy, Outcome, RecoveryCodes, RecoveryOutcome,
    RecoveryPolicy, Secret, Totp, TotpAccount,
};

/// What the service stores per client. In a real service: database rows,
/// each saved back after every attempt.
struct Client {
    /// Stand-in for a PIN hash from the service's password hasher.
    pin: &'static str,
    /// The active TOTP factor, if the client enrolled one.
    totp: Option<Totp>,
    /// Throttle, last accepted step and drift for the TOTP factor.
    state: TotpAccount,
    /// The pending SMS code, if one was sent.
    sms: Option<OobChallenge>,
    /// The client's recovery codes.
    recovery: Option<RecoveryCodes>,
}

struct Service {
    clients: HashMap<&'static str, Client>,
    guard: Guard,
    sms_key: OobKey,
    sms_policy: OobPolicy,
}

impl Service {
    /// The login call: client code, PIN and TOTP in, the API's answer out.
    fn login(&mut self, client_code: &str, pin: &str, totp_code: &str, now: u64) -> String {
        let Some(client) = self.clients.get_mut(client_code) else {
            return "Invalid client code or PIN".into();
        };
        if !bool::from(client.pin.as_bytes().ct_eq(pin.as_bytes())) {
            return "Invalid client code or PIN".into();
        }
        let Some(totp) = &client.totp else {
            return "Two Factor Authentication is not enabled".into();
        };
        match self
            .guard
            .verify_totp(totp, &mut client.state, totp_code, now)
        {
            Ok(Outcome::Accepted(found)) => format!("Login successful (drift {:+})", found.drift),
            Ok(Outcome::Invalid { attempts_left: 0 }) => {
                "Invalid TOTP. Account locked: use a recovery code".into()
            }
            Ok(Outcome::Invalid { attempts_left }) => {
                format!("Invalid TOTP ({attempts_left} attempts left)")
            }
            Ok(Outcome::Replayed) => "OTP has been used in past, please try next OTP".into(),
            Ok(Outcome::Malformed) => "TOTP must be 6 digits".into(),
            Ok(Outcome::TooSoon { retry_at }) => {
                format!("Too many attempts: try again in {} s", retry_at - now)
            }
            Ok(Outcome::Locked { .. }) => "Account locked: use a recovery code".into(),
            // The service's clock is wrong: a server error, not the client's.
            Err(e) => format!("Server error: {e}"),
        }
    }

    /// Sends an SMS code instead of asking for the TOTP.
    fn send_sms(&mut self, client_code: &str, now: u64) -> Result<String, twofa::Error> {
        let client = self
            .clients
            .get_mut(client_code)
            .ok_or(twofa::Error::MissingAccount)?;
        let (code, challenge) =
            self.sms_policy
                .issue(&self.sms_key, &mut getrandom::SysRng, "login", now)?;
        client.sms = Some(challenge);
        // Hand `code` to the SMS gateway; it is not stored anywhere.
        Ok(code.to_string())
    }

    fn login_with_sms(&mut self, client_code: &str, typed: &str, now: u64) -> String {
        let Some(challenge) = self
            .clients
            .get_mut(client_code)
            .and_then(|c| c.sms.as_mut())
        else {
            return "No OTP was sent: request one".into();
        };
        match challenge.verify(&self.sms_key, "login", typed, now) {
            OobOutcome::Accepted => "Login successful (SMS OTP)".into(),
            OobOutcome::Invalid { attempts_left } => {
                format!("Invalid OTP ({attempts_left} attempts left)")
            }
            OobOutcome::Expired => "OTP expired: request a new one".into(),
            OobOutcome::AttemptsExhausted => "Too many wrong OTPs: request a new one".into(),
            OobOutcome::AlreadyUsed => "OTP has been used in past, please request a new one".into(),
            OobOutcome::Malformed => "OTP must be 6 digits".into(),
        }
    }

    /// A recovery code logs in and lifts a TOTP lockout.
    fn login_with_recovery_code(&mut self, client_code: &str, typed: &str) -> String {
        let Some(client) = self.clients.get_mut(client_code) else {
            return "Invalid client code".into();
        };
        let Some(codes) = client.recovery.as_mut() else {
            return "No recovery codes: contact support".into();
        };
        match codes.verify(typed) {
            Ok(RecoveryOutcome::Accepted { remaining }) => {
                self.guard
                    .throttle()
                    .record_success(&mut client.state.throttle);
                format!("Login successful (recovery code; {remaining} left)")
            }
            Ok(RecoveryOutcome::AlreadyUsed) => "Recovery code already used".into(),
            Ok(RecoveryOutcome::Invalid | RecoveryOutcome::Malformed) => {
                "Invalid recovery code".into()
            }
            Err(e) => format!("Server error: {e}"),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = getrandom::SysRng;
    // Enrolled earlier (see `Enrollment`); a fresh secret for the demo.
    let totp = Totp::new(Secret::generate(&mut rng)?);
    let (recovery_codes, recovery_record) = RecoveryPolicy::default().generate(&mut rng)?;
    let mut service = Service {
        clients: HashMap::from([
            (
                "AB1234",
                Client {
                    pin: "4321",
                    totp: Some(totp.clone()),
                    state: TotpAccount::default(),
                    sms: None,
                    recovery: Some(recovery_record),
                },
            ),
            (
                "CD5678",
                Client {
                    pin: "8765",
                    totp: None,
                    state: TotpAccount::default(),
                    sms: None,
                    recovery: None,
                },
            ),
        ]),
        guard: Guard::default(),
        sms_key: OobKey::generate(&mut rng)?,
        sms_policy: OobPolicy::default(),
    };

    let mut now = 1_700_000_000;
    let step = |title: &str, answer: String| println!("{title:<48} -> {answer}");

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
    step(
        "4. CD5678, who never enrolled a second factor",
        service.login("CD5678", "8765", "123456", now),
    );

    println!("5. someone guesses AB1234's codes:");
    for guess in 0..20u32 {
        let answer = service.login("AB1234", "4321", &format!("{guess:06}"), now);
        println!(
            "     {guess:06} at +{:>4} s -> {answer}",
            now - 1_700_000_000
        );
        if answer.contains("locked") {
            break;
        }
        if let Some(wait) = answer.strip_prefix("Too many attempts: try again in ") {
            now += wait.trim_end_matches(" s").parse::<u64>()?;
        }
    }
    let code = totp.generate_at(now)?.to_string();
    step(
        "6. the right code, while locked",
        service.login("AB1234", "4321", &code, now),
    );

    let sms = service.send_sms("AB1234", now)?;
    println!("7. an SMS code is sent: {sms}");
    step(
        "   typed back",
        service.login_with_sms("AB1234", &sms, now + 40),
    );
    step(
        "   typed again",
        service.login_with_sms("AB1234", &sms, now + 45),
    );
    let late = service.send_sms("AB1234", now)?;
    step(
        "   another, typed 5 minutes late",
        service.login_with_sms("AB1234", &late, now + 300),
    );

    let recovery = recovery_codes[0].to_text();
    step(
        &format!("8. recovery code {}", recovery.as_str()),
        service.login_with_recovery_code("AB1234", &recovery),
    );
    step(
        "   the same recovery code again",
        service.login_with_recovery_code("AB1234", &recovery),
    );
    now += 30;
    let code = totp.generate_at(now)?.to_string();
    step(
        "9. the lockout is lifted: a fresh code",
        service.login("AB1234", "4321", &code, now),
    );
    Ok(())
}
