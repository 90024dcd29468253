//! What an operator sees, on every store: a scripted session (sign-up,
//! enrolments, a login with each factor, failures up to a lock, an
//! operator's unlock, a device removed) leaves exactly the expected
//! events in the account's trail, the notices the person must get, and
//! moves each counter of `/metrics`; the admin API refuses any other key;
//! the server's log holds no secret (checked when each server stops).

mod common;

use std::collections::HashMap;

use common::{
    Client, Phone, Server, Store, access_token, code_at, fresh_user, passkey::SoftPasskey, scratch,
};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

const ADMIN: &str = "ops-key-0123456789abcdef";

/// An entry as `name:what` (the factor or the authenticator's kind).
fn label(entry: &Value) -> String {
    let name = entry["event"].as_str().expect("a name");
    let detail = &entry["detail"];
    let what = detail["factor"]
        .as_str()
        .or_else(|| detail["authenticator"]["type"].as_str());
    match what {
        Some(what) => format!("{name}:{what}"),
        None => name.to_owned(),
    }
}

async fn ok(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "{}", answer.1);
    answer.1
}

/// The script, on `server`: the trail it must leave, oldest first.
async fn script(client: &Client, server: &Server, user: &str, phone: &str) -> Vec<&'static str> {
    client.signup(server, user, phone).await;
    // A login with an SMS code.
    let access = client.login_by_sms(server, user, phone).await;
    // TOTP enrolled and used (one step ahead: the drift is learned).
    let (totp, access) = client.enroll_totp(server, &access).await;
    let ticket = client.register(server, user).await;
    let answer = ok(client
        .token(server, user, &ticket, "TOTP", &code_at(&totp, 1))
        .await)
    .await;
    let access = {
        let _ = access;
        access_token(&answer)
    };
    // Seed 001's one-call login: PIN and a code of a later step.
    let (status, answer) = client
        .totp_login(server, user, common::MPIN, &code_at(&totp, 2))
        .await;
    assert_eq!(
        (status, &answer["body"]["Status"]),
        (200, &json!(0)),
        "{answer}"
    );
    // Recovery codes made and one used.
    let path = "/authentication/v1/user/recovery-codes";
    let answer = ok(client
        .with_bearer(server, path, &access, Some(&json!({})))
        .await)
    .await;
    let recovery = answer["data"]["recovery_codes"][0]
        .as_str()
        .expect("a code")
        .to_owned();
    let access = access_token(&answer);
    let ticket = client.register(server, user).await;
    ok(client
        .token(server, user, &ticket, "RECOVERY", &recovery)
        .await)
    .await;
    // A device registered and used.
    let device = Phone(SigningKey::from_bytes(&[7; 32]));
    let (access, device_id) = device.register(client, server, &access, "phone").await;
    let ticket = client.register(server, user).await;
    let answer = ok(client.token(server, user, &ticket, "FINGERPRINT", "").await).await;
    let number = u8::try_from(answer["data"]["number"].as_u64().expect("a number")).expect("≤ 99");
    let signature = device
        .answer(client, server, user, &device_id, number)
        .await;
    ok(client
        .token(server, user, &ticket, "FINGERPRINT", &signature)
        .await)
    .await;
    // A passkey registered, then a passkey sign-in.
    let key = SoftPasskey::new(3, user.as_bytes(), "example.com", "https://example.com");
    let path = "/authentication/v1/user/passkeys/register/options";
    let options = ok(client
        .with_bearer(server, path, &access, Some(&json!({})))
        .await)
    .await;
    let credential = key.register(&options["data"]["publicKey"]);
    let path = "/authentication/v1/user/passkeys/register";
    let body = json!({"credential": credential, "name": "key"});
    ok(client.with_bearer(server, path, &access, Some(&body)).await).await;
    let path = "/authentication/v1/passkeys/sign-in/options";
    let options = ok(client
        .post(server, path, &json!({"api_key": common::API_KEY}))
        .await)
    .await;
    let assertion = key.assert(&options["data"]["publicKey"], false);
    let fields =
        json!({"user_id": "", "login_type": "FINGERPRINT", "password": "", "webauthn": assertion});
    let passkey_access = access_token(&ok(client.session(server, fields).await).await);
    // Wrong TOTP codes up to the lock (3 in a row here).
    let ticket = client.register(server, user).await;
    for _ in 0..3 {
        let (_, answer) = client.token(server, user, &ticket, "TOTP", "000000").await;
        assert_eq!(answer["status"], "error", "{answer}");
    }
    // Locked: refused with nothing compared or changed, so nothing is
    // written to the trail (it is logged and counted).
    let (_, answer) = client.token(server, user, &ticket, "TOTP", "000000").await;
    assert_eq!(answer["status"], "error", "{answer}");
    // The operator's unlock, then the person removes the device.
    let unlock = json!({"user_id": user});
    ok(client
        .with_bearer(server, "/admin/v1/unlock", ADMIN, Some(&unlock))
        .await)
    .await;
    let remove = json!({"factor": "FINGERPRINT", "device_id": device_id});
    let path = "/authentication/v1/user/factors/remove";
    ok(client
        .with_bearer(server, path, &passkey_access, Some(&remove))
        .await)
    .await;
    vec![
        "authenticator.bound:out_of_band",
        "first_factor.passed:password",
        "code.sent:out_of_band",
        "login.succeeded:out_of_band",
        "authenticator.bound:totp",
        "first_factor.passed:password",
        "login.succeeded:totp",
        "drift.learned",
        "login.succeeded:totp",
        "authenticator.bound:recovery_codes",
        "first_factor.passed:password",
        "login.succeeded:recovery",
        "recovery_code.used",
        "authenticator.bound:device",
        "first_factor.passed:password",
        "code.sent:device",
        "login.succeeded:device",
        "authenticator.bound:passkey",
        "login.succeeded:passkey",
        "first_factor.passed:password",
        "login.failed:totp",
        "login.failed:totp",
        "login.failed:totp",
        "lock.started",
        "admin.unlock",
        "lock.lifted",
        "authenticator.removed:device",
    ]
}

/// `/metrics`, parsed as Prometheus's text format: each sample's value by
/// its name and sorted labels.
async fn metrics(client: &Client, server: &Server) -> HashMap<String, f64> {
    let response = reqwest::Client::new()
        .get(format!("{}/metrics", server.base))
        .header("authorization", format!("Bearer {ADMIN}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    let _ = client;
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus's text format");
    let mut samples = HashMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<_> = sample
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        labels.sort();
        let value = match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.last().map_or(0.0, |bucket| bucket.count)
            }
            prometheus_parse::Value::Summary(_) => 0.0,
        };
        samples.insert(format!("{}{{{}}}", sample.metric, labels.join(",")), value);
    }
    samples
}

fn sample(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples.get(key).unwrap_or_else(|| {
        panic!(
            "no sample {key} among {:#?}",
            samples.keys().collect::<Vec<_>>()
        )
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scripted_session_leaves_its_trail_its_notices_and_its_counts_on_every_store() {
    let dir = scratch("operate");
    let settings = [
        ("TWOFA_ADMIN_KEYS", "ops:ops-key-0123456789abcdef"),
        ("TWOFA_RP_ID", "example.com"),
        ("TWOFA_ORIGINS", "https://example.com"),
    ];
    for store in Store::all(&dir) {
        // An outbox of its own per store.
        let own = dir.join(store.name);
        std::fs::create_dir_all(&own).expect("a directory");
        let server = Server::start_with(&store, &own, 3, &settings);
        let client = Client::default();
        let user = fresh_user("op");
        let phone = "+15550100777";
        let expected = script(&client, &server, &user, phone).await;

        // The trail, newest first from the API: exactly the script's.
        let body = json!({"user_id": user});
        let answer = ok(client
            .with_bearer(&server, "/admin/v1/trail", ADMIN, Some(&body))
            .await)
        .await;
        let mut trail: Vec<String> = answer["data"]["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(label)
            .collect();
        trail.reverse();
        // Reading it is itself recorded, after the script.
        assert_eq!(
            trail.pop().as_deref(),
            Some("admin.trail_read"),
            "{}",
            store.name
        );
        assert_eq!(trail, expected, "{}", store.name);
        // The person sees the same trail, and the record of bindings
        // keeps every authenticator.
        let passkeyless = client.login_by_sms(&server, &user, phone).await;
        let path = "/authentication/v1/user/activity";
        let own = ok(client.with_bearer(&server, path, &passkeyless, None).await).await;
        assert_eq!(
            label(&own["data"]["events"][0]),
            "login.succeeded:out_of_band"
        );
        let answer = ok(client
            .with_bearer(&server, "/admin/v1/factors", ADMIN, Some(&body))
            .await)
        .await;
        let bindings: Vec<_> = answer["data"]["bindings"]
            .as_array()
            .expect("bindings")
            .iter()
            .map(label)
            .collect();
        assert_eq!(
            bindings,
            [
                "authenticator.bound:out_of_band",
                "authenticator.bound:totp",
                "authenticator.bound:recovery_codes",
                "authenticator.bound:device",
                "authenticator.bound:passkey",
                "authenticator.removed:device",
            ],
            "{}",
            store.name
        );
        // Notices by SMS: the four bindings after the sign-up, the
        // recovery code, the lock, the removal; none holds a code.
        let notices = server.notices_to(phone);
        assert_eq!(notices.len(), 7, "{}: {notices:#?}", store.name);
        assert!(
            notices[2].contains("recovery code was used"),
            "{notices:#?}"
        );
        assert!(notices[5].contains("locked"), "{notices:#?}");
        assert!(notices[6].contains("removed"), "{notices:#?}");

        // The counters the script moved.
        let samples = metrics(&client, &server).await;
        let session = "endpoint=/authentication/v1/user/session";
        for (factor, outcome, count) in [
            ("totp", "succeeded", 1.0),
            ("totp", "wrong", 3.0),
            ("totp", "locked", 1.0),
            ("out_of_band", "succeeded", 2.0),
            ("recovery", "succeeded", 1.0),
            ("device", "succeeded", 1.0),
            ("passkey", "succeeded", 1.0),
        ] {
            let key = format!("twofa_logins_total{{{session},factor={factor},outcome={outcome}}}");
            assert_eq!(sample(&samples, &key), count, "{}: {key}", store.name);
        }
        let one_call = "endpoint=/VendorsAPI/Service1.svc/TOTPLogin,factor=totp,outcome=succeeded";
        assert_eq!(
            sample(&samples, &format!("twofa_logins_total{{{one_call}}}")),
            1.0
        );
        assert_eq!(sample(&samples, "twofa_lockouts_total{}"), 1.0);
        assert_eq!(
            sample(&samples, "twofa_events_total{event=admin.unlock}"),
            1.0
        );
        assert_eq!(
            sample(&samples, "twofa_events_total{event=lock.lifted}"),
            1.0
        );
        assert_eq!(
            sample(&samples, "twofa_sms_total{kind=code,outcome=sent}"),
            2.0
        );
        assert_eq!(
            sample(&samples, "twofa_sms_total{kind=notice,outcome=sent}"),
            7.0
        );
        assert!(
            sample(
                &samples,
                "twofa_http_requests_total{route=/authentication/v1/user/session,status=200}"
            ) >= 10.0
        );
        assert!(
            sample(
                &samples,
                "twofa_store_duration_seconds_count{operation=decide}"
            ) > 0.0
        );
        assert!(
            sample(
                &samples,
                "twofa_store_duration_seconds_count{operation=trail}"
            ) > 0.0
        );
        assert!(samples.contains_key("twofa_argon2_queue_depth{class=login}"));
        assert!(samples.contains_key("twofa_store_contention_retries_total{}"));

        // No other key opens the admin API or the metrics.
        for key in [
            common::API_KEY,
            "ops-key-0123456789abcdeX",
            "",
            &passkeyless,
        ] {
            let (status, answer) = client
                .with_bearer(&server, "/admin/v1/trail", key, Some(&body))
                .await;
            assert_eq!((status, answer["code"].as_str()), (401, Some("e-401")));
        }
        let status = reqwest::get(format!("{}/metrics", server.base))
            .await
            .expect("an answer")
            .status();
        assert_eq!(status, 401);
        // The log names requests and events, and no secret (checked when
        // the server stops).
        let log = server.log();
        assert!(log.contains("request_id"), "{log}");
        assert!(log.contains("lock.started"), "{log}");
        assert!(common::secrets::count() > 20);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_revokes_a_factor_and_ends_every_session() {
    let dir = scratch("operate-revoke");
    let settings = [
        ("TWOFA_ADMIN_KEYS", "ops:ops-key-0123456789abcdef"),
        ("TWOFA_LOG_FORMAT", "json"),
    ];
    let server = Server::start_with(&Store::sqlite(&dir), &dir, 10, &settings);
    let client = Client::default();
    let user = fresh_user("rv");
    let phone = "+15550100778";
    client.signup(&server, &user, phone).await;
    let access = client.login_by_sms(&server, &user, phone).await;
    let (_totp, access) = client.enroll_totp(&server, &access).await;
    let body = json!({"user_id": user});
    // Ending every session ends this one.
    ok(client
        .with_bearer(&server, "/admin/v1/sessions/end", ADMIN, Some(&body))
        .await)
    .await;
    let (status, _) = client
        .with_bearer(&server, "/authentication/v1/user/profile", &access, None)
        .await;
    assert_eq!(status, 401);
    // Revoking TOTP: gone from the factors, once.
    let revoke = json!({"user_id": user, "factor": "TOTP"});
    ok(client
        .with_bearer(&server, "/admin/v1/factors/revoke", ADMIN, Some(&revoke))
        .await)
    .await;
    let (_, again) = client
        .with_bearer(&server, "/admin/v1/factors/revoke", ADMIN, Some(&revoke))
        .await;
    assert_eq!(again["code"], "e-107", "{again}");
    let factors = ok(client
        .with_bearer(&server, "/admin/v1/factors", ADMIN, Some(&body))
        .await)
    .await;
    assert_eq!(factors["data"]["totp"], false);
    let answer = ok(client
        .with_bearer(&server, "/admin/v1/trail", ADMIN, Some(&body))
        .await)
    .await;
    let trail: Vec<_> = answer["data"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(label)
        .collect();
    assert_eq!(
        trail[..6],
        [
            "admin.trail_read",
            "admin.factors_read",
            "admin.revoke:TOTP",
            "authenticator.removed:totp",
            "admin.revoke:TOTP",
            "admin.sessions_ended",
        ],
        "{trail:#?}"
    );
    // An unknown account is said to be one, and nothing is recorded.
    let stranger = json!({"user_id": fresh_user("nobody")});
    let (_, answer) = client
        .with_bearer(&server, "/admin/v1/trail", ADMIN, Some(&stranger))
        .await;
    assert_eq!(answer["code"], "e-113");

    // Near the bound of the record of bindings, factor changes stop
    // before the record would refuse one.
    let path = dir.join("service.db");
    let store = twofa_stores::AnyStore::connect("sqlite", path.to_str().expect("a path"))
        .await
        .expect("the store");
    let kept = {
        use twofa_record::AuditTrail;
        let filler: Vec<_> = (0..990)
            .map(|i| twofa_record::TrailEntry {
                at: common::now(),
                name: "authenticator.replaced".to_owned(),
                detail: format!("{{\"n\":{i}}}"),
            })
            .collect();
        store
            .append(&user, &filler, common::now())
            .await
            .expect("appended");
        store.bindings(&user).await.expect("read").len()
    };
    assert!(kept > 990, "{kept}");
    let access = client.login_by_sms(&server, &user, phone).await;
    let path = "/authentication/v1/user/recovery-codes";
    let (_, answer) = client
        .with_bearer(&server, path, &access, Some(&json!({})))
        .await;
    assert_eq!(answer["code"], "e-115", "{answer}");

    // The log is JSON lines, each with its level and message.
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines.iter().any(|line| line["event"] == "admin.revoke"),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line["span"]["request_id"].is_string()),
        "{log}"
    );
}

#[test]
fn the_log_check_finds_a_secret_whole_or_as_a_word() {
    common::secrets::remember("a-long-secret-token-0123456789");
    common::secrets::remember("493817");
    let found = |log: &str| common::secrets::found_in(log);
    assert_eq!(
        found("token=xa-long-secret-token-0123456789x"),
        ["a-long-secret-token-0123456789"]
    );
    assert_eq!(found("code 493817 sent"), ["493817"]);
    assert_eq!(found("{\"TOTP\":\"493817\"}"), ["493817"]);
    // A short secret inside a longer word or number is not it.
    assert!(found("at=14938170000 id=ab493817cd").is_empty());
}
