//! The seeds' answers over real HTTP, from a running `twofa-service` on
//! SQLite: each flow, each factor, replay, lockout, and hostile bodies.

mod common;

use common::{
    Client, MPIN, PASSWORD, Phone, Server, Store, access_token, code_at, fresh_user, scratch,
};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

const PHONE: &str = "+91 98000 00010";

fn server(name: &str, lockout_after: u32) -> (Server, std::path::PathBuf) {
    let dir = scratch(name);
    (
        Server::start(&Store::sqlite(&dir), &dir, lockout_after),
        dir,
    )
}

fn message(answer: &Value) -> &str {
    answer["message"].as_str().unwrap_or_default()
}

fn body_message(answer: &Value) -> &str {
    answer["body"]["Message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_001_totp_login_answers() {
    let (server, _dir) = server("seed001", 10);
    let client = Client::default();
    let user = fresh_user("C");
    client.signup(&server, &user, PHONE).await;

    // Before TOTP is enabled: the seed's answer for a client without it.
    let (status, answer) = client.totp_login(&server, &user, MPIN, "123456").await;
    assert_eq!(status, 200);
    assert!(
        body_message(&answer)
            .starts_with("Two Factor Authentication is not enabled Please enable by visiting")
    );
    assert_eq!(answer["body"]["Status"], 2);
    assert_eq!(
        answer["head"],
        json!({"Status": 0, "StatusDescription": null})
    );
    // A client code nobody has: the same answer.
    let (_, answer) = client.totp_login(&server, "NOBODY1", MPIN, "123456").await;
    assert!(body_message(&answer).starts_with("Two Factor Authentication is not enabled"));

    let access = client.login_by_sms(&server, &user, PHONE).await;
    let (totp, _) = client.enroll_totp(&server, &access).await;

    // The next step's code (the enrollment used this one).
    let code = code_at(&totp, 1);
    let (status, answer) = client.totp_login(&server, &user, MPIN, &code).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["body"]["Status"], 0, "{answer}");
    assert_eq!(answer["body"]["Message"], "Success");
    assert_eq!(answer["body"]["ClientCode"], user.as_str());
    assert_eq!(answer["body"]["Userkey"], common::API_KEY);
    let token = answer["body"]["RequestToken"].as_str().expect("a token");
    // The request token is a session: it reads the profile.
    let (status, profile) = client
        .with_bearer(&server, "/authentication/v1/user/profile", token, None)
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["data"]["user_id"], user.as_str());

    // The same code again.
    let (_, answer) = client.totp_login(&server, &user, MPIN, &code).await;
    assert_eq!(
        body_message(&answer),
        "OTP has been used in past, Please try next OTP"
    );
    assert_eq!(answer["body"]["Status"], 2);
    assert_eq!(answer["body"]["RequestToken"], Value::Null);
    // A wrong code.
    let wrong = code_at(&totp, 1000);
    let (_, answer) = client.totp_login(&server, &user, MPIN, &wrong).await;
    assert_eq!(body_message(&answer), "Invalid TOTP");
    // A wrong PIN.
    let (_, answer) = client
        .totp_login(&server, &user, "999999", &code_at(&totp, 2))
        .await;
    assert_eq!(
        body_message(&answer),
        "Invalid login/password,use \"Forget password\""
    );
    assert_eq!(answer["body"]["Status"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_004_two_steps_with_each_factor() {
    let (server, _dir) = server("seed004", 10);
    let client = Client::default();
    let user = fresh_user("U");
    client.signup(&server, &user, PHONE).await;

    // REGISTER: a register_token and the factors it takes (SMS only yet).
    let (status, answer) = client
        .session(
            &server,
            json!({"user_id": user, "password": PASSWORD, "second_auth_type": "REGISTER"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["status"], "success");
    assert_eq!(answer["code"], "s-101");
    assert_eq!(answer["data"]["second_factors"], json!(["OTP"]));

    // OTP (SMS).
    let access = client.login_by_sms(&server, &user, PHONE).await;
    // TOTP, enrolled.
    let (totp, access) = client.enroll_totp(&server, &access).await;
    let ticket = client.register(&server, &user).await;
    let code = code_at(&totp, 1);
    let (status, answer) = client.token(&server, &user, &ticket, "TOTP", &code).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(message(&answer), "User logged in Successfully.");
    assert_eq!(answer["data"]["second_factor"], "TOTP");
    // The register_token is spent; a fresh one with the same code is a replay.
    let (status, answer) = client.token(&server, &user, &ticket, "TOTP", &code).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("e-106")),
        "{answer}"
    );
    let ticket = client.register(&server, &user).await;
    let (_, answer) = client.token(&server, &user, &ticket, "TOTP", &code).await;
    assert_eq!(
        message(&answer),
        "OTP has been used in past, Please try next OTP"
    );
    // PASSWORD with the TOTP in one call.
    let (status, answer) = client
        .session(
            &server,
            json!({"user_id": user, "password": PASSWORD, "second_auth_type": "TOTP",
                   "second_auth": code_at(&totp, 2)}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    // MPIN as the first factor.
    let (status, answer) = client
        .session(
            &server,
            json!({"user_id": user, "login_type": "MPIN", "password": MPIN,
                   "second_auth_type": "REGISTER"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    // FINGERPRINT: a registered phone signs the number shown.
    let phone = Phone(SigningKey::from_bytes(&[9; 32]));
    let (access, device) = phone.register(&client, &server, &access, "my phone").await;
    let ticket = client.register(&server, &user).await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "FINGERPRINT", "")
        .await;
    assert_eq!(status, 200, "{answer}");
    let number = u8::try_from(answer["data"]["number"].as_u64().expect("a number")).expect("≤ 99");
    let signature = phone.answer(&client, &server, &user, &device, number).await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "FINGERPRINT", &signature)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["second_factor"], "FINGERPRINT");
    // A registered UDID instead of a signature.
    let ticket = client.register(&server, &user).await;
    client
        .token(&server, &user, &ticket, "FINGERPRINT", "")
        .await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "FINGERPRINT", "MyDeviceID")
        .await;
    assert_eq!(status, 400);
    assert!(
        message(&answer).starts_with("Invalid device signature"),
        "{answer}"
    );

    // RECOVERY: each code once.
    let (status, answer) = client
        .with_bearer(
            &server,
            "/authentication/v1/user/recovery-codes",
            &access,
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let recovery = answer["data"]["recovery_codes"][0]
        .as_str()
        .expect("codes")
        .to_owned();
    let ticket = client.register(&server, &user).await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "RECOVERY", &recovery)
        .await;
    assert_eq!(status, 200, "{answer}");
    // The used code is replaced by a new one, handed over once.
    let replacement = answer["data"]["replacement_recovery_code"]
        .as_str()
        .expect("a replacement")
        .to_owned();
    assert_eq!(replacement.len(), 19, "{replacement}");
    assert_ne!(replacement, recovery);
    let ticket = client.register(&server, &user).await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "RECOVERY", &recovery)
        .await;
    assert_eq!(status, 400);
    assert_eq!(message(&answer), "Invalid recovery code (9 attempts left)");
    let ticket = client.register(&server, &user).await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "RECOVERY", &replacement)
        .await;
    assert_eq!(status, 200, "the replacement works: {answer}");

    // The factors now listed at REGISTER.
    let (_, answer) = client
        .session(
            &server,
            json!({"user_id": user, "password": PASSWORD, "second_auth_type": "REGISTER"}),
        )
        .await;
    assert_eq!(
        answer["data"]["second_factors"],
        json!(["TOTP", "OTP", "FINGERPRINT", "RECOVERY"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_when_a_factor_changes_and_cookies_skip_only_the_second_factor() {
    let (server, _dir) = server("sessions", 10);
    let client = Client::default();
    let user = fresh_user("S");
    client.signup(&server, &user, PHONE).await;
    let first = client.login_by_sms(&server, &user, PHONE).await;
    let (totp, second) = client.enroll_totp(&server, &first).await;
    // Enrolling TOTP changed the credentials: the first session is over.
    let profile = "/authentication/v1/user/profile";
    let (status, answer) = client.with_bearer(&server, profile, &first, None).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(answer["code"], "e-401");
    assert_eq!(
        client.with_bearer(&server, profile, &second, None).await.0,
        200
    );
    // Nor does a token of one user open another's account.
    let forged = second.replacen(&user, "SOMEONE", 1);
    assert_eq!(
        client.with_bearer(&server, profile, &forged, None).await.0,
        401
    );

    // An SMS code completes the login it was sent for, and no other.
    let sent_for = client.register(&server, &user).await;
    let (status, _) = client.token(&server, &user, &sent_for, "OTP", "").await;
    assert_eq!(status, 200);
    let code = server.last_sms(PHONE);
    // Another login (with the password) has no code of its own: the code
    // is not its, and that login leaves the first code working.
    let other = client.register(&server, &user).await;
    let (status, answer) = client.token(&server, &user, &other, "OTP", &code).await;
    assert_eq!(status, 400, "{answer}");
    assert!(message(&answer).contains("expired"), "{answer}");
    let (status, answer) = client.token(&server, &user, &sent_for, "OTP", &code).await;
    assert_eq!(status, 200, "the first login's code still works: {answer}");

    // "Don't ask again on this browser".
    let ticket = client.register(&server, &user).await;
    let (status, answer) = client
        .session(
            &server,
            json!({"user_id": user, "login_type": "TOKEN", "password": ticket,
                   "second_auth_type": "TOTP", "second_auth": code_at(&totp, 1),
                   "remember_device": true}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let cookie = answer["data"]["remember_device_cookie"]
        .as_str()
        .expect("a cookie")
        .to_owned();
    // The password and the cookie: logged in without a second factor.
    let (status, answer) = client
        .session(
            &server,
            json!({"user_id": user, "password": PASSWORD, "second_auth_type": "REGISTER",
                   "remember_device_cookie": cookie}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["second_factor"], "REMEMBERED");
    access_token(&answer);
    // The cookie rotates at each use: the answer carries its replacement.
    let rotated = answer["data"]["remember_device_cookie"]
        .as_str()
        .expect("a new cookie")
        .to_owned();
    assert_ne!(rotated, cookie);
    // The cookie with a wrong password: nothing.
    let (status, answer) = client
        .session(
            &server,
            json!({"user_id": user, "password": "wrong password", "second_auth_type": "REGISTER",
                   "remember_device_cookie": cookie}),
        )
        .await;
    assert_eq!(
        (status, message(&answer)),
        (400, "Invalid user id or password")
    );
    // The first cookie again, as a copy would be used: no login without a
    // second factor, and every remembered browser is revoked, the
    // rotated-to cookie too.
    for presented in [&cookie, &rotated] {
        let (status, answer) = client
            .session(
                &server,
                json!({"user_id": user, "password": PASSWORD, "second_auth_type": "REGISTER",
                       "remember_device_cookie": presented}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer["data"]["register_token"].is_string(), "{answer}");
        assert!(answer["data"]["access_token"].is_null(), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_factor_feeds_one_lockout() {
    let (server, _dir) = server("lockout", 10);
    let client = Client::default();
    let user = fresh_user("L");
    client.signup(&server, &user, PHONE).await;
    let access = client.login_by_sms(&server, &user, PHONE).await;
    let (totp, _) = client.enroll_totp(&server, &access).await;
    // Ten failures, a third each: the policy's lockout.
    for guess in 0..10u32 {
        let (status, answer) = match guess % 3 {
            // A wrong password.
            0 => {
                client
                    .session(
                        &server,
                        json!({"user_id": user, "password": "not the password", "second_auth_type": "REGISTER"}),
                    )
                    .await
            }
            // A wrong TOTP code.
            1 => {
                let ticket = client.register(&server, &user).await;
                client.token(&server, &user, &ticket, "TOTP", &code_at(&totp, 500)).await
            }
            // A wrong PIN on seed 001's endpoint (its body shape).
            _ => {
                let (status, answer) = client.totp_login(&server, &user, "000000", &code_at(&totp, 3)).await;
                (status, json!({"message": body_message(&answer)}))
            }
        };
        assert_ne!(status, 500, "{answer}");
        assert!(
            message(&answer).starts_with("Invalid"),
            "guess {guess}: {answer}"
        );
    }
    // The right password, while locked: refused exactly as a wrong one
    // (nothing says the account is locked, or exists), and so is the
    // right PIN with the right code.
    let (status, answer) = client
        .session(
            &server,
            json!({"user_id": user, "password": PASSWORD, "second_auth_type": "REGISTER"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(message(&answer), "Invalid user id or password", "{answer}");
    let (_, answer) = client
        .totp_login(&server, &user, MPIN, &code_at(&totp, 4))
        .await;
    assert!(
        body_message(&answer).starts_with("Invalid login/password"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_bodies_get_the_seeds_400() {
    let (server, _dir) = server("hostile", 10);
    let client = Client::default();
    let session = "/authentication/v1/user/session";
    let base =
        json!({"user_id": "UCC1", "password": "x", "api_key": common::API_KEY, "source": "WEBAPI"});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        serde_json::to_vec(&body).expect("JSON")
    };
    let hostile: Vec<(&str, &str, Vec<u8>)> = vec![
        ("not JSON", "application/json", b"{\"user_id\": ".to_vec()),
        ("empty", "application/json", Vec::new()),
        ("an array", "application/json", b"[1,2,3]".to_vec()),
        (
            "no content type",
            "text/plain",
            serde_json::to_vec(&base).expect("JSON"),
        ),
        ("1 MiB", "application/json", vec![b' '; 1 << 20]),
        (
            "a huge user_id",
            "application/json",
            with("user_id", json!("U".repeat(10_000))),
        ),
        (
            "a huge password",
            "application/json",
            with("password", json!("p".repeat(10_000))),
        ),
        (
            "an unknown login_type",
            "application/json",
            with("login_type", json!("SUDO")),
        ),
        (
            "an unknown second_auth_type",
            "application/json",
            with("second_auth_type", json!("EMAIL")),
        ),
        (
            "an unknown source",
            "application/json",
            with("source", json!("CLI")),
        ),
        (
            "a number for a string",
            "application/json",
            with("user_id", json!(12345)),
        ),
        (
            "null for a string",
            "application/json",
            with("password", Value::Null),
        ),
        (
            "an object for a string",
            "application/json",
            with("second_auth", json!({"a": 1})),
        ),
        (
            "an unknown field",
            "application/json",
            with("admin", json!(true)),
        ),
        (
            "a NUL in the user id",
            "application/json",
            with("user_id", json!("UCC\u{0}1")),
        ),
        (
            "invalid UTF-8",
            "application/json",
            b"{\"user_id\": \"\xff\xfe\"}".to_vec(),
        ),
        (
            "deep nesting",
            "application/json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        ),
    ];
    for (what, content_type, body) in hostile {
        let (status, answer) = client.post_raw(&server, session, content_type, body).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert_eq!(answer["status"], "error", "{what}: {answer}");
        assert!(
            answer["code"].as_str().is_some_and(|c| c.starts_with("e-")),
            "{what}"
        );
        assert!(!message(&answer).is_empty(), "{what}");
    }
    // Seed 001's endpoint answers in its own shape.
    for body in [
        b"{".to_vec(),
        b"{\"head\": {}}".to_vec(),
        vec![b'x'; 1 << 20],
    ] {
        let (status, answer) = client
            .post_raw(
                &server,
                "/VendorsAPI/Service1.svc/TOTPLogin",
                "application/json",
                body,
            )
            .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["body"]["Status"], -1, "{answer}");
    }
    // Arbitrary bytes: never a 500, and the server keeps answering.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..200 {
        let body: Vec<u8> = (0..(round * 7 % 300))
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed.to_le_bytes()[0]
            })
            .collect();
        let (status, _) = client
            .post_raw(&server, session, "application/json", body)
            .await;
        assert_eq!(status, 400);
    }
    // Unknown paths and methods.
    let (status, answer) = client.post(&server, "/nowhere", &json!({})).await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("e-404")));
    let (status, _) = client.with_bearer(&server, session, "x", None).await;
    assert_eq!(status, 404);
    // A wrong api_key.
    let mut body = base.clone();
    body["api_key"] = json!("nope");
    let (status, answer) = client.post(&server, session, &body).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("e-109")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_can_be_ended_and_so_can_every_other() {
    let (server, _dir) = server("logout", 10);
    let client = Client::default();
    let user = fresh_user("O");
    client.signup(&server, &user, PHONE).await;
    let first = client.login_by_sms(&server, &user, PHONE).await;
    let (totp, second) = client.enroll_totp(&server, &first).await;
    // A third session, by seed 001's PIN and TOTP login.
    let (status, answer) = client
        .totp_login(&server, &user, MPIN, &code_at(&totp, 1))
        .await;
    assert_eq!(status, 200, "{answer}");
    let third = answer["body"]["RequestToken"]
        .as_str()
        .expect("a token")
        .to_owned();
    let profile = "/authentication/v1/user/profile";
    for live in [&second, &third] {
        assert_eq!(
            client.with_bearer(&server, profile, live, None).await.0,
            200
        );
    }
    // Every other session ended, from the third: the second is over.
    let (status, answer) = client
        .with_bearer(
            &server,
            "/authentication/v1/user/sessions/end-others",
            &third,
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    // The caller goes on under a new token; every other one is over.
    let kept = access_token(&answer);
    for ended in [&second, &third] {
        assert_eq!(
            client.with_bearer(&server, profile, ended, None).await.0,
            401
        );
    }
    assert_eq!(
        client.with_bearer(&server, profile, &kept, None).await.0,
        200
    );
    // Logout: that one is over too, and logging out again is refused.
    let session = "/authentication/v1/user/session";
    let (status, answer) = client.delete_with_bearer(&server, session, &kept).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        client.with_bearer(&server, profile, &kept, None).await.0,
        401
    );
    assert_eq!(
        client.delete_with_bearer(&server, session, &kept).await.0,
        401
    );
}
