//! A broker's login API in two steps, as seed 004 describes it, over one
//! `AccountState` per user: `REGISTER` checks the password and returns a
//! `register_token`; `TOKEN` brings it back with the second factor (`TOTP`,
//! an SMS `OTP`, or `FINGERPRINT`: a registered phone's signature over the
//! number shown on screen). Every answer is printed as the API's JSON.
//!
//! Run it with `cargo run --example login_flow`. Times are fixed so the
//! walk-through is the same every run; a service passes `unix_time()?`.

mod api;

use std::collections::HashMap;

use api::{Request, Service, User, hex, hex_decode};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_json::Value;
use twofa::{
    AccountState, DeviceAlgorithm, DevicePolicy, DigestKey, Guard, OobPolicy, RememberPolicy,
    Secret, TicketPolicy, Totp,
};

/// The user's phone: a P-256 key in its secure hardware (simulated), and
/// the app that signs a challenge with the number the person enters.
struct Phone(SigningKey);

impl Phone {
    fn public_key(&self) -> Vec<u8> {
        self.0
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }

    fn sign(&self, message: &[u8]) -> String {
        let signature: Signature = self.0.sign(message);
        hex(&signature.to_bytes())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = getrandom::SysRng;
    // Enrolled earlier (see `Enrollment`); fresh secrets and keys for the demo.
    let totp = Totp::new(Secret::generate(&mut rng)?);
    let phone = Phone(SigningKey::from_slice(&[7; 32])?);
    let mut service = Service {
        users: HashMap::from([
            (
                "UCC123456",
                User {
                    password: "mypassword123",
                    totp: Some(totp.clone()),
                    phone: Some("+91 98xxxxxx10"),
                    state: AccountState::new(),
                },
            ),
            (
                "UCC777777",
                User {
                    password: "secret777",
                    totp: None,
                    phone: None,
                    state: AccountState::new(),
                },
            ),
        ]),
        guard: Guard::default(),
        keys: vec![DigestKey::generate(1, &mut rng)?],
        tickets: TicketPolicy::default(),
        sms: OobPolicy::default(),
        devices: DevicePolicy::default(),
        remember: RememberPolicy::default(),
        outbox: Vec::new(),
    };

    // The phone was registered once, after a login with a second factor.
    let now = 1_700_000_000;
    {
        let user = service.users.get_mut("UCC123456").ok_or("no user")?;
        let guard = service.guard;
        guard.start_device_registration(&mut user.state, &service.devices, &mut rng, now)?;
        let challenge = user.state.registration.clone().ok_or("no challenge")?;
        let public_key = phone.public_key();
        let message = challenge.message("UCC123456", DeviceAlgorithm::EcdsaP256, &public_key);
        let signature = hex_decode(&phone.sign(&message)).map_err(|()| "hex")?;
        let outcome = guard.finish_device_registration(
            &mut user.state,
            &service.devices,
            &mut rng,
            "UCC123456",
            DeviceAlgorithm::EcdsaP256,
            &public_key,
            &signature,
            now,
        )?;
        assert!(outcome.is_accepted());
    }

    let mut now = now + 3600;
    let show = |step: &str, answer: &Value| println!("{step}\n    {answer}");
    let register = |service: &mut Service, now| {
        service.session(
            &Request {
                user_id: "UCC123456",
                login_type: "PASSWORD",
                password: "mypassword123",
                second_auth_type: "REGISTER",
                ..Request::default()
            },
            now,
        )
    };
    let token_of = |answer: &Value| {
        answer["data"]["register_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // 1. REGISTER, then TOKEN with TOTP.
    let answer = register(&mut service, now);
    show("1. REGISTER with the password", &answer);
    let ticket = token_of(&answer);
    let code = totp.generate_at(now)?.to_string();
    let totp_login = |service: &mut Service, ticket: &str, code: &str, now| {
        service.session(
            &Request {
                user_id: "UCC123456",
                login_type: "TOKEN",
                password: ticket,
                second_auth_type: "TOTP",
                second_auth: code,
                // "Don't ask again on this browser".
                remember: true,
                ..Request::default()
            },
            now,
        )
    };
    let answer = totp_login(&mut service, &ticket, &code, now + 5);
    show("2. TOKEN with the TOTP code", &answer);
    let cookie = answer["data"]["remember_device_cookie"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    show(
        "3. the same register_token again",
        &totp_login(&mut service, &ticket, &code, now + 10),
    );
    let ticket = token_of(&register(&mut service, now + 15));
    show(
        "4. a new register_token, the same TOTP code",
        &totp_login(&mut service, &ticket, &code, now + 20),
    );

    // 5. An SMS OTP instead.
    now += 120;
    let ticket = token_of(&register(&mut service, now));
    let sms = |service: &mut Service, ticket: &str, value: &str, now| {
        service.session(
            &Request {
                user_id: "UCC123456",
                login_type: "TOKEN",
                password: ticket,
                second_auth_type: "OTP",
                second_auth: value,
                ..Request::default()
            },
            now,
        )
    };
    show(
        "5. TOKEN asking for an SMS OTP",
        &sms(&mut service, &ticket, "", now),
    );
    let sent = service
        .outbox
        .last()
        .map(|(_, code)| code.clone())
        .unwrap_or_default();
    show(
        "   TOKEN with the SMS OTP",
        &sms(&mut service, &ticket, &sent, now + 30),
    );

    // 6. The registered phone, with number matching.
    now += 120;
    let ticket = token_of(&register(&mut service, now));
    let fingerprint = |service: &mut Service, ticket: &str, value: &str, now| {
        service.session(
            &Request {
                user_id: "UCC123456",
                login_type: "TOKEN",
                password: ticket,
                second_auth_type: "FINGERPRINT",
                second_auth: value,
                ..Request::default()
            },
            now,
        )
    };
    let answer = fingerprint(&mut service, &ticket, "", now);
    show("6. TOKEN asking for the registered device", &answer);
    let shown = answer["data"]["number"].as_u64().unwrap_or_default() as u8;
    // What the service sends the phone: the prompt, never the number.
    let challenge = |service: &Service| {
        service.users["UCC123456"]
            .state
            .device_challenge
            .as_ref()
            .map(|challenge| challenge.prompt())
    };
    let message = challenge(&service)
        .ok_or("no challenge")?
        .message("UCC123456", shown);
    show(
        "   the phone signs the number the person entered",
        &fingerprint(&mut service, &ticket, &phone.sign(&message), now + 10),
    );

    // 7. A wrong number entered on the phone; a UDID instead of a signature.
    now += 120;
    let ticket = token_of(&register(&mut service, now));
    let shown = fingerprint(&mut service, &ticket, "", now)["data"]["number"]
        .as_u64()
        .unwrap_or_default() as u8;
    let wrong = if shown == 99 { 98 } else { shown + 1 };
    let message = challenge(&service)
        .ok_or("no challenge")?
        .message("UCC123456", wrong);
    show(
        "7. the phone signs a wrong number",
        &fingerprint(&mut service, &ticket, &phone.sign(&message), now + 10),
    );
    // That answer used the challenge up; a new one (past the send limit's
    // 30 s) for the next try.
    show(
        "   (a new challenge)",
        &fingerprint(&mut service, &ticket, "", now + 40),
    );
    show(
        "   a registered UDID instead of a signature",
        &fingerprint(&mut service, &ticket, "MyDeviceID", now + 45),
    );

    // 8. A register_token used 10 minutes later.
    now += 120;
    let ticket = token_of(&register(&mut service, now));
    let late = totp.generate_at(now + 600)?.to_string();
    show(
        "8. TOKEN 10 minutes after REGISTER",
        &totp_login(&mut service, &ticket, &late, now + 600),
    );

    // 9. A remembered browser skips the second factor.
    now += 700;
    let remembered = Request {
        user_id: "UCC123456",
        login_type: "PASSWORD",
        password: "mypassword123",
        second_auth_type: "REGISTER",
        remembered: &cookie,
        ..Request::default()
    };
    show(
        "9. PASSWORD from a remembered browser",
        &service.session(&remembered, now),
    );

    // 10. Seed 001's answers: an invalid TOTP, a user without TOTP.
    let ticket = token_of(&register(&mut service, now + 1));
    let wrong_code = totp.generate_at(now + 86_400)?.to_string();
    show(
        "10. TOKEN with a wrong TOTP code",
        &totp_login(&mut service, &ticket, &wrong_code, now + 2),
    );
    let no_totp = Request {
        user_id: "UCC777777",
        login_type: "PASSWORD",
        password: "secret777",
        second_auth_type: "TOTP",
        second_auth: "123456",
        ..Request::default()
    };
    show(
        "    UCC777777, who never enabled TOTP",
        &service.session(&no_totp, now + 3),
    );

    // 11. Guessing across every factor until the lockout.
    println!("11. someone with the password guesses TOTP, SMS and device answers:");
    now += 600;
    for guess in 0..30u32 {
        let answer = register(&mut service, now);
        let ticket = token_of(&answer);
        let answer = if ticket.is_empty() {
            answer
        } else {
            match guess % 3 {
                0 => totp_login(&mut service, &ticket, &format!("{guess:06}"), now),
                1 => {
                    sms(&mut service, &ticket, "", now);
                    sms(&mut service, &ticket, &format!("{guess:06}"), now)
                }
                _ => {
                    fingerprint(&mut service, &ticket, "", now);
                    fingerprint(&mut service, &ticket, &hex(&[guess as u8; 64]), now)
                }
            }
        };
        println!("    {answer}");
        let message = answer["message"].as_str().unwrap_or_default().to_owned();
        if message.starts_with("Account locked") {
            break;
        }
        if let Some(wait) = message.strip_prefix("Too many attempts: try again in ") {
            now += wait.trim_end_matches(" s").parse::<u64>()?;
        }
    }
    show(
        "12. the right password, while locked",
        &register(&mut service, now),
    );
    Ok(())
}
