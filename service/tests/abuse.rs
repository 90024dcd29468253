//! The reference service under abuse by someone who has the API key but
//! not the password: what they send must not lock an account, nor make
//! the store grow.

mod common;

use common::{Client, Server, Store, fresh_user, scratch};
use twofa::{AccountState, AccountStore};

const PHONE: &str = "+91 98000 00011";

/// The timing test runs alone (it holds this for writing); every other
/// test of this file shares it, so none of them loads the cores while
/// answers are timed.
static CORES: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// A well-formed ticket no server issued: 52 base32 symbols (256 bits).
fn made_up(i: u32) -> String {
    let suffix: String = format!("{i:08}")
        .bytes()
        .map(|digit| char::from(b'A' + (digit - b'0')))
        .collect();
    format!("{}{suffix}A", "Q".repeat(43))
}

#[tokio::test(flavor = "multi_thread")]
async fn made_up_tickets_leave_no_record_and_no_lock() {
    let _shared = CORES.read().await;
    let dir = scratch("made-up-tickets");
    let store = Store::sqlite(&dir);
    let server = Server::start(&store, &dir, 10);
    let client = Client::default();
    let user = fresh_user("M");
    client.signup(&server, &user, PHONE).await;
    // 1,000 made-up tickets against a known id, each factor in turn: each
    // refused, none counted (the lock is at 10).
    let factors = ["OTP", "TOTP", "RECOVERY", "FINGERPRINT"];
    for i in 0..1000u32 {
        let factor = factors[i as usize % factors.len()];
        let (status, answer) = client
            .token(&server, &user, &made_up(i), factor, "123456")
            .await;
        assert_eq!(status, 400, "{factor}: {answer}");
    }
    // Not locked: the password still opens a login.
    client.register(&server, &user).await;
    // 1,000 against ids nobody signed up with.
    let strangers: Vec<String> = (0..1000).map(|_| fresh_user("N")).collect();
    for (i, id) in (0u32..).zip(&strangers) {
        let (status, answer) = client
            .token(&server, id, &made_up(i), "OTP", "123456")
            .await;
        assert_eq!(status, 400, "{answer}");
    }
    // Nothing was written for any of them, and the known account counts
    // no failure.
    let path = store.url.trim_start_matches("sqlite:");
    let records = twofa_stores::AnyStore::connect("sqlite", path)
        .await
        .unwrap();
    for id in &strangers {
        let loaded = AccountStore::<AccountState>::load(&records, id)
            .await
            .unwrap();
        assert_eq!(loaded.version, 0, "a record for {id}");
    }
    let known = AccountStore::<AccountState>::load(&records, &user)
        .await
        .unwrap();
    assert_eq!(known.state.totp.throttle.failures, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_matched_whole_and_waits_have_one_wording() {
    let _shared = CORES.read().await;
    let dir = scratch("keys-and-waits");
    let server = Server::start(&Store::sqlite(&dir), &dir, 10);
    let client = Client::default();
    let user = fresh_user("K");
    client.signup(&server, &user, PHONE).await;
    // The key itself opens the session endpoint; a prefix, an extension,
    // one byte changed and one far too long do not.
    let key = common::API_KEY;
    let changed = format!("{}X", &key[..key.len() - 1]);
    let longer = format!("{key}x");
    let long = "k".repeat(300);
    for wrong in [
        &key[..key.len() - 1],
        longer.as_str(),
        changed.as_str(),
        long.as_str(),
        "",
    ] {
        let body = serde_json::json!({"user_id": user, "password": common::PASSWORD,
            "second_auth_type": "REGISTER", "api_key": wrong, "source": "WEBAPI"});
        let (status, answer) = client
            .post(&server, "/authentication/v1/user/session", &body)
            .await;
        assert_eq!(status, 400, "{wrong:?}: {answer}");
        assert_ne!(
            answer["data"]["register_token"].as_str().map(str::len),
            Some(52)
        );
    }
    let ticket = client.register(&server, &user).await;
    // A second SMS at once: the send limit's answer says how long to wait
    // in the words every other wait uses.
    let (status, _) = client.token(&server, &user, &ticket, "OTP", "").await;
    assert_eq!(status, 200);
    let (status, answer) = client.token(&server, &user, &ticket, "OTP", "").await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("try again in") && message.ends_with(" s"),
        "{message}"
    );
    assert!(!message.contains("retry at"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn freshness_comes_from_a_login_with_a_second_factor_and_is_never_renewed() {
    let _shared = CORES.read().await;
    let dir = scratch("freshness");
    let settings = [("TWOFA_FRESH_LOGIN", "4")];
    let server = Server::start_with(&Store::sqlite(&dir), &dir, 10, &settings);
    let client = Client::default();
    let user = fresh_user("F");
    client.signup(&server, &user, PHONE).await;
    let login = client.login_by_sms(&server, &user, PHONE).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    // 2.5 s after the login: still fresh, and enrolling renews the token.
    let (_totp, renewed) = client.enroll_totp(&server, &login).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    // 5 s after the login, 2.5 s after the renewal: the login is what
    // counts, so no factor changes with the renewed token.
    let codes = "/authentication/v1/user/recovery-codes";
    let (status, answer) = client
        .with_bearer(&server, codes, &renewed, Some(&serde_json::json!({})))
        .await;
    assert_eq!(status, 401, "{answer}");
    // It is still a live session for everything else.
    let profile = "/authentication/v1/user/profile";
    assert_eq!(
        client.with_bearer(&server, profile, &renewed, None).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_begun_with_a_remembered_cookie_cannot_change_a_factor() {
    let _shared = CORES.read().await;
    let dir = scratch("cookie-session");
    let server = Server::start(&Store::sqlite(&dir), &dir, 10);
    let client = Client::default();
    let user = fresh_user("R");
    client.signup(&server, &user, PHONE).await;
    // A login with the SMS code, remembering the browser.
    let ticket = client.register(&server, &user).await;
    let (status, _) = client.token(&server, &user, &ticket, "OTP", "").await;
    assert_eq!(status, 200);
    let code = server.last_sms(PHONE);
    let (status, answer) = client
        .session(
            &server,
            serde_json::json!({"user_id": user, "login_type": "TOKEN", "password": ticket,
                "second_auth_type": "OTP", "second_auth": code, "remember_device": true}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let cookie = answer["data"]["remember_device_cookie"]
        .as_str()
        .expect("a cookie")
        .to_owned();
    // The password and the cookie: a session, but not one that may enrol.
    let (status, answer) = client
        .session(
            &server,
            serde_json::json!({"user_id": user, "password": common::PASSWORD,
                "second_auth_type": "REGISTER", "remember_device_cookie": cookie}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let access = common::access_token(&answer);
    let enroll = "/authentication/v1/user/totp/enroll";
    let (status, answer) = client
        .with_bearer(&server, enroll, &access, Some(&serde_json::json!({})))
        .await;
    assert_eq!(status, 401, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_made_up_ticket_learns_nothing_of_an_account_or_its_factors() {
    let _shared = CORES.read().await;
    let dir = scratch("made-up-answers");
    let server = Server::start(&Store::sqlite(&dir), &dir, 10);
    let client = Client::default();
    // A real account with a phone (no TOTP, no device), and an id nobody
    // signed up with: every answer to a made-up ticket is the same.
    let real = fresh_user("A");
    client.signup(&server, &real, PHONE).await;
    let unknown = fresh_user("U");
    for (i, (factor, value)) in [
        ("OTP", ""),
        ("OTP", "123456"),
        ("TOTP", "123456"),
        ("FINGERPRINT", ""),
        ("FINGERPRINT", "00"),
        ("RECOVERY", "0000-0000-0000-0000"),
    ]
    .into_iter()
    .enumerate()
    {
        let ticket = made_up(i as u32);
        let (status_real, real_answer) = client.token(&server, &real, &ticket, factor, value).await;
        let (status_unknown, unknown_answer) = client
            .token(&server, &unknown, &ticket, factor, value)
            .await;
        assert_eq!(status_real, status_unknown, "{factor} {value:?}");
        assert_eq!(real_answer, unknown_answer, "{factor} {value:?}");
        assert_eq!(
            real_answer["code"], "e-106",
            "{factor} {value:?}: {real_answer}"
        );
    }
    // A ticket that is not even of a ticket's form, each factor asked
    // for: the same answer whether the account has a phone, has none, or
    // does not exist.
    let phoneless = fresh_user("N");
    client.signup(&server, &phoneless, "").await;
    for (factor, value) in [
        ("OTP", ""),
        ("OTP", "123456"),
        ("FINGERPRINT", ""),
        ("TOTP", "1"),
    ] {
        let mut answers = Vec::new();
        for id in [&real, &phoneless, &unknown] {
            answers.push(client.token(&server, id, "xyz", factor, value).await);
        }
        assert_eq!(answers[0], answers[1], "{factor} {value:?}");
        assert_eq!(answers[0], answers[2], "{factor} {value:?}");
    }
}

/// Starts the service over SQLite in `dir` with no sealing key (the demo
/// key file beside the database): whether it came up, and what it said.
#[cfg(unix)]
fn start_without_a_sealing_key(dir: &std::path::Path) -> (bool, String) {
    let store = format!("sqlite:{}", dir.join("service.db").display());
    start_briefly(&[("TWOFA_STORE", &store)], &["TWOFA_SEALING_KEY"])
}

/// Starts the service with `settings` and without `unset`, for at most
/// 5 seconds: whether it stayed up, and what it said on stderr.
fn start_briefly(settings: &[(&str, &str)], unset: &[&str]) -> (bool, String) {
    use std::{
        io::Read,
        process::{Command, Stdio},
        time::{Duration, Instant},
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_twofa-service"));
    command
        .env("TWOFA_LISTEN", "127.0.0.1:0")
        .envs(settings.iter().copied());
    for var in unset {
        command.env_remove(var);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start twofa-service");
    let started = Instant::now();
    let exited = loop {
        if let Some(status) = child.try_wait().expect("its status") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(5) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .expect("its stderr")
        .read_to_string(&mut stderr);
    (exited.is_none(), stderr)
}

#[cfg(unix)]
#[test]
fn a_demo_key_file_anyone_could_read_or_have_planted_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("demo-key-file");
    let key_file = dir.join("service.db.demo-key");
    std::fs::write(&key_file, format!("1:{}", "11".repeat(32))).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (up, said) = start_without_a_sealing_key(&dir);
    assert!(!up, "started on a world-readable key file");
    assert!(said.contains("mode 0600"), "{said}");
    // The owner's own, private file is taken (with the demo warning).
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (up, said) = start_without_a_sealing_key(&dir);
    assert!(up, "{said}");
    assert!(
        said.contains("WARN") && said.contains("no TWOFA_SEALING_KEY"),
        "{said}"
    );
}

#[test]
fn a_redis_that_can_lose_a_save_is_refused_unless_accepted_by_name() {
    use std::process::{Command, Stdio};
    // A Redis of the test's own, on loopback, that keeps nothing on disk.
    let spawned = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            "56391",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn();
    /// Stops the test's Redis however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let Ok(redis) = spawned else {
        assert!(
            std::env::var("TWOFA_REQUIRE_SERVERS").is_err(),
            "redis-server is required by TWOFA_REQUIRE_SERVERS"
        );
        eprintln!("SKIPPED: no redis-server here");
        return;
    };
    let redis = Stop(redis);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let store = [
        ("TWOFA_STORE", "redis://127.0.0.1:56391/"),
        ("TWOFA_SEALING_KEY", common::SEALING_KEY),
    ];
    let (up, said) = start_briefly(&store, &[]);
    assert!(!up, "started on a Redis that can lose a save");
    assert!(
        said.contains("appendonly") && said.contains("TWOFA_REDIS_ACCEPT_LOSS"),
        "{said}"
    );
    let accepted = [store[0], store[1], ("TWOFA_REDIS_ACCEPT_LOSS", "1")];
    let (up, said) = start_briefly(&accepted, &[]);
    drop(redis);
    assert!(up, "{said}");
    assert!(
        said.contains("WARN") && said.contains("the Redis store can lose a save"),
        "{said}"
    );
}

#[test]
fn two_first_starts_on_one_fresh_sqlite_file_both_come_up() {
    for round in 0..3 {
        let dir = scratch(&format!("first-starts-{round}"));
        let store = Store::sqlite(&dir);
        // Each start panics unless the service says it is listening.
        let servers: Vec<Server> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| Server::start(&store, &dir, 10)))
                .collect();
            starts
                .into_iter()
                .map(|start| start.join().expect("a start that came up"))
                .collect()
        });
        assert_eq!(servers.len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_early_answer_to_a_body_sent_slowly_comes_after_it_whole() {
    let _shared = CORES.read().await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = scratch("slow-404");
    let server = Server::start(&Store::sqlite(&dir), &dir, 10);
    let address = server.base.trim_start_matches("http://").to_owned();
    for (method, code) in [
        ("POST /no/such/endpoint", "e-404"),
        ("PUT /authentication/v1/user/session", "e-404"),
        // No bearer token: the 401 comes from an extractor, after the body.
        ("POST /authentication/v1/user/recovery-codes", "e-401"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let body = "x".repeat(4000);
        let head = format!(
            "{method} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // The body in two halves, a moment apart.
        stream.write_all(&body.as_bytes()[..2000]).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        stream.write_all(&body.as_bytes()[2000..]).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 40"), "{method}: {answer}");
        assert!(
            answer.contains(&format!("\"code\":\"{code}\"")),
            "{method}: {answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_in_a_row_answer_alike_for_a_real_and_an_unknown_id() {
    let _alone = CORES.write().await;
    let dir = scratch("enumeration");
    // Waits between failures, as a deployment has them.
    let settings = [("TWOFA_THROTTLE_DELAY", "5")];
    let server = Server::start_with(&Store::sqlite(&dir), &dir, 10, &settings);
    let client = Client::default();
    let real = fresh_user("E");
    client.signup(&server, &real, PHONE).await;
    let unknown = fresh_user("Z");
    for attempt in 0..3 {
        let mut answers = Vec::new();
        for id in [&real, &unknown] {
            let body = serde_json::json!({"user_id": id, "password": format!("guess {attempt}"),
                "second_auth_type": "REGISTER"});
            answers.push(client.session(&server, body).await);
        }
        // The second and third come while the real account waits: still
        // the same answer as for an id nobody signed up with.
        assert_eq!(answers[0], answers[1], "attempt {attempt}");
        assert_eq!(
            answers[0].1["code"], "e-101",
            "attempt {attempt}: {:?}",
            answers[0]
        );
    }
    // Nor does the time taken: the real account waits now (its answer,
    // as the unknown id's, is one hash against the decoy)...
    let ratio = median_ratio(&client, &server, &real, &unknown, 15).await;
    eprintln!("step one, a throttled account against an unknown id: ratio {ratio:.3}");
    assert!(
        (0.9..=1.1).contains(&ratio),
        "medians differ: ratio {ratio:.3}"
    );
    // ...and with no waits, each wrong password hashed, counted and
    // written for the real account, none of it for the unknown id.
    let dir = scratch("enumeration-unthrottled");
    let settings = [("TWOFA_THROTTLE_DELAY", "0")];
    let server = Server::start_with(&Store::sqlite(&dir), &dir, 100, &settings);
    client.signup(&server, &real, PHONE).await;
    let ratio = median_ratio(&client, &server, &real, &unknown, 15).await;
    eprintln!("step one, a wrong password against an unknown id: ratio {ratio:.3}");
    assert!(
        (0.9..=1.1).contains(&ratio),
        "medians differ: ratio {ratio:.3}"
    );
}

/// The median time of `rounds` wrong passwords for `real` over that of
/// as many for `unknown`, the two taking turns to go first.
async fn median_ratio(
    client: &Client,
    server: &Server,
    real: &str,
    unknown: &str,
    rounds: usize,
) -> f64 {
    let mut took = [Vec::new(), Vec::new()];
    for attempt in 0..rounds {
        let order = if attempt % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let id = [real, unknown][i];
            let body = serde_json::json!({"user_id": id, "password": format!("again {attempt}"),
                "second_auth_type": "REGISTER"});
            let started = std::time::Instant::now();
            let (status, _) = client.session(server, body).await;
            took[i].push(started.elapsed());
            assert_eq!(status, 400);
        }
    }
    let mut median = |i: usize| {
        took[i].sort();
        took[i][took[i].len() / 2].as_secs_f64()
    };
    median(0) / median(1)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_recovery_sets_stays_in_bounds_and_others_still_log_in() {
    let _shared = CORES.read().await;
    let dir = scratch("hashing");
    let server = Server::start(&Store::sqlite(&dir), &dir, 100);
    let client = Client::default();
    let other = fresh_user("O");
    client.signup(&server, &other, "+91 98000 00012").await;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let busy = fresh_user("H");
        client.signup(&server, &busy, PHONE).await;
        sessions.push(client.login_by_sms(&server, &busy, PHONE).await);
    }
    // 32 sets asked for at once, 8 by each of 4 people: each person's
    // first is made, the others are refused while it is under way, and
    // every hash runs on the hashing threads, in their memory.
    let calls: Vec<_> = (0..32)
        .map(|i| {
            let (client, base) = (client.clone(), server.base.clone());
            let access = sessions[i % sessions.len()].clone();
            tokio::spawn(async move {
                let path = "/authentication/v1/user/recovery-codes";
                let body = serde_json::json!({});
                client
                    .with_bearer_at(&base, path, &access, Some(&body))
                    .await
            })
        })
        .collect();
    // Meanwhile another person logs in.
    let started = std::time::Instant::now();
    client
        .login_by_sms(&server, &other, "+91 98000 00012")
        .await;
    let took = started.elapsed();
    let mut made = 0;
    for call in calls {
        let (status, answer) = call.await.unwrap();
        match status {
            200 => made += 1,
            409 => assert_eq!(answer["code"], "e-409", "{answer}"),
            _ => panic!("{status}: {answer}"),
        }
    }
    assert!((4..=32).contains(&made), "{made} sets made");
    assert!(
        took < std::time::Duration::from_secs(2),
        "the other login took {took:?}"
    );
    let peak = server.peak_rss_kib();
    assert!(peak < 512 * 1024, "peak resident set {peak} KiB");
    eprintln!(
        "recovery burst: {made} of 32 made, other login {took:?}, peak RSS {} MiB",
        peak / 1024
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_and_half_sent_connections_do_not_stop_a_login() {
    let _shared = CORES.read().await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = scratch("connections");
    // 256 descriptors, as the review's machine had; short timeouts.
    let settings = [("TWOFA_HEADER_TIMEOUT", "3"), ("TWOFA_BODY_TIMEOUT", "2")];
    let server = Server::start_with_descriptors(&Store::sqlite(&dir), &dir, &settings, 256);
    let client = Client::default();
    let user = fresh_user("C");
    client.signup(&server, &user, PHONE).await;
    let address = server.base.trim_start_matches("http://").to_owned();
    // 300 connections that send nothing, 10 that stop inside their
    // headers, and 20 that stop inside their bodies.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    let mut half_headers = Vec::new();
    for _ in 0..10 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"POST /authentication/v1/user/session HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        half_headers.push(stream);
    }
    let mut half_bodies = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(
                b"POST /authentication/v1/user/session HTTP/1.1\r\nhost: x\r\n\
                  content-type: application/json\r\ncontent-length: 200\r\n\r\n{\"user_id\"",
            )
            .await
            .unwrap();
        half_bodies.push(stream);
    }
    // A real login still completes, at once, on a connection of its own
    // (the client's earlier one was idle, and may have been evicted).
    let started = std::time::Instant::now();
    let client = Client::default();
    let login = client.login_by_sms(&server, &user, PHONE);
    tokio::time::timeout(std::time::Duration::from_secs(10), login)
        .await
        .expect("the login was not answered");
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(2),
        "the login took {took:?}"
    );
    // Each stalled body gets the API's 408 when its time is up.
    for mut stream in half_bodies {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut answer),
        )
        .await;
        assert!(read.is_ok(), "no answer to a stalled body");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"code\":\"e-408\""), "{answer}");
    }
    // And whatever sent no whole headers is closed once its time is up.
    for mut stream in idle.into_iter().rev().take(5).chain(half_headers) {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut rest),
        )
        .await;
        assert!(read.is_ok(), "a connection left open");
    }
    eprintln!("330 stalled connections at 256 descriptors: login in {took:?}");
    // Bodies that stop halfway, more than the connections allowed: a
    // request still sending is not in progress, so the oldest is evicted
    // and a login still gets through.
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(
                b"POST /authentication/v1/user/session HTTP/1.1\r\nhost: x\r\n\
                  content-type: application/json\r\ncontent-length: 200\r\n\r\n{",
            )
            .await
            .unwrap();
        stalled.push(stream);
    }
    let started = std::time::Instant::now();
    let client = Client::default();
    let login = client.login_by_sms(&server, &user, PHONE);
    tokio::time::timeout(std::time::Duration::from_secs(10), login)
        .await
        .expect("the login was not answered");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    eprintln!("200 bodies stalled past the connection bound: login in {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_in_flight_bound_the_answer_is_the_json_503_and_stalled_bodies_hold_no_place() {
    let _shared = CORES.read().await;
    use tokio::io::AsyncWriteExt;
    let dir = scratch("in-flight");
    let settings = [("TWOFA_MAX_IN_FLIGHT", "2"), ("TWOFA_BODY_TIMEOUT", "5")];
    let server = Server::start_with(&Store::sqlite(&dir), &dir, 10, &settings);
    let client = Client::default();
    let address = server.base.trim_start_matches("http://").to_owned();
    // Five bodies that stop halfway hold no place among the two.
    let stalled = b"POST /authentication/v1/user/session HTTP/1.1\r\nhost: x\r\n\
                    content-type: application/json\r\ncontent-length: 200\r\n\r\n{";
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream.write_all(stalled).await.unwrap();
        held.push(stream);
    }
    let user = fresh_user("I");
    client.signup(&server, &user, PHONE).await;
    // Twelve sign-ups at once, each two hashes long: two at a time are
    // taken, the others answered the API's 503.
    let signups: Vec<_> = (0..12)
        .map(|_| {
            let base = server.base.clone();
            tokio::spawn(async move {
                let body = serde_json::json!({"user_id": fresh_user("I"), "password": common::PASSWORD,
                    "mpin": "1234", "phone": PHONE, "api_key": common::API_KEY});
                let response = reqwest::Client::new()
                    .post(format!("{base}/authentication/v1/user/signup"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.json::<serde_json::Value>().await.unwrap())
            })
        })
        .collect();
    let mut busy = 0;
    for signup in signups {
        let (status, answer) = signup.await.unwrap();
        if status == 503 {
            assert_eq!(answer["code"], "e-503", "{answer}");
            busy += 1;
        } else {
            assert_eq!(status, 200, "{answer}");
        }
    }
    assert!((1..12).contains(&busy), "{busy} of 12 refused");
    drop(held);
}

/// A wrong password's answer for `id`: its status and `code`.
async fn wrong_password(client: &Client, server: &Server, id: &str) -> (u16, String) {
    let body = serde_json::json!({"user_id": id, "password": "not it",
        "second_auth_type": "REGISTER"});
    let (status, answer) = client.session(server, body).await;
    (
        status,
        answer["code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_address_that_fails_too_often_waits_whatever_the_account() {
    let _shared = CORES.read().await;
    let dir = scratch("addresses");
    let store = Store::sqlite(&dir);
    let settings = [
        ("TWOFA_ADDRESS_FAILURES", "3"),
        ("TWOFA_THROTTLE_DELAY", "0"),
    ];
    let server = Server::start_with(&store, &dir, 100, &settings);
    let client = Client::default();
    let (victim, other) = (fresh_user("V"), fresh_user("W"));
    client.signup(&server, &victim, PHONE).await;
    client.signup(&server, &other, PHONE).await;
    // Three failures from this address, on a real and an unknown id.
    for id in [&victim, &fresh_user("U"), &victim] {
        assert_eq!(
            wrong_password(&client, &server, id).await,
            (400, "e-101".into())
        );
    }
    // Then the address waits, whatever id it names, the right password
    // included, and nothing more is counted against the account.
    for id in [&victim, &other, &fresh_user("U")] {
        assert_eq!(
            wrong_password(&client, &server, id).await,
            (400, "e-105".into())
        );
    }
    let body = serde_json::json!({"user_id": other, "password": common::PASSWORD,
        "second_auth_type": "REGISTER"});
    let (_, answer) = client.session(&server, body).await;
    assert_eq!(answer["code"], "e-105", "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|text| text.starts_with("Too many attempts: try again in ")),
        "{answer}"
    );
    assert_eq!(store.failures(&victim).await, 2);
    assert_eq!(store.failures(&other).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_lifts_a_lock_with_an_admin_key_and_is_recorded() {
    let _shared = CORES.read().await;
    let dir = scratch("unlock");
    let store = Store::sqlite(&dir);
    let admin = "ops-key-0123456789abcdef";
    let settings = [
        ("TWOFA_ADMIN_KEYS", "alice:ops-key-0123456789abcdef"),
        ("TWOFA_THROTTLE_DELAY", "0"),
    ];
    let server = Server::start_with(&store, &dir, 3, &settings);
    let client = Client::default();
    let user = fresh_user("L");
    client.signup(&server, &user, PHONE).await;
    for _ in 0..3 {
        wrong_password(&client, &server, &user).await;
    }
    assert_eq!(store.failures(&user).await, 3);
    // Locked: the right password answers as a wrong one.
    let right = serde_json::json!({"user_id": user, "password": common::PASSWORD,
        "second_auth_type": "REGISTER"});
    assert_eq!(
        client.session(&server, right.clone()).await.1["code"],
        "e-101"
    );
    // Neither a client's API key nor a made-up key unlocks.
    let unlock = serde_json::json!({"user_id": user});
    for key in [common::API_KEY, "ops-key-0123456789abcdeX", ""] {
        let (status, answer) = client
            .with_bearer(&server, "/admin/v1/unlock", key, Some(&unlock))
            .await;
        assert_eq!((status, answer["code"].as_str()), (401, Some("e-401")));
    }
    assert_eq!(store.failures(&user).await, 3);
    let (status, answer) = client
        .with_bearer(&server, "/admin/v1/unlock", admin, Some(&unlock))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["failures"], 3);
    assert_eq!(store.failures(&user).await, 0);
    assert_eq!(client.session(&server, right).await.1["code"], "s-101");
    // Who and when, in the account's trail, before the lift it made.
    let (_, answer) = client
        .with_bearer(&server, "/admin/v1/trail", admin, Some(&unlock))
        .await;
    let events = answer["data"]["events"].as_array().unwrap().clone();
    let names: Vec<_> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let unlocked = names.iter().position(|n| *n == "admin.unlock").unwrap();
    let lifted = names.iter().position(|n| *n == "lock.lifted").unwrap();
    assert!(lifted < unlocked, "newest first: {names:?}");
    let entry = &events[unlocked];
    assert_eq!(
        (&entry["detail"]["by"], &entry["detail"]["failures"]),
        (&serde_json::json!("alice"), &serde_json::json!(3))
    );
    assert!(entry["at"].as_u64().unwrap().abs_diff(common::now()) < 60);
    // An unknown id is said to be one, and leaves no record.
    let stranger = serde_json::json!({"user_id": fresh_user("S")});
    let (_, answer) = client
        .with_bearer(&server, "/admin/v1/unlock", admin, Some(&stranger))
        .await;
    assert_eq!(answer["code"], "e-113");
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ups_naming_one_phone_cannot_pump_codes_to_it() {
    let _shared = CORES.read().await;
    let dir = scratch("pumping");
    let store = Store::sqlite(&dir);
    let settings = [
        ("TWOFA_SIGNUPS_PER_ADDRESS", "21"),
        ("TWOFA_SMS_UNVERIFIED_PER_PHONE", "3"),
        ("TWOFA_SMS_PER_PHONE", "10"),
        ("TWOFA_SMS_BUDGET", "1000"),
        ("TWOFA_THROTTLE_DELAY", "0"),
    ];
    let server = Server::start_with(&store, &dir, 100, &settings);
    let client = Client::default();
    let victim = "+44 20 7946 0000";
    // 20 sign-ups from one address, each naming the victim's number, then
    // each asking for a login code.
    let users: Vec<String> = (0..20).map(|_| fresh_user("P")).collect();
    for user in &users {
        client.signup(&server, user, victim).await;
    }
    // And one more, by someone who names their own number.
    let owner = fresh_user("Q");
    let phone = "+44 20 7946 0001";
    client.signup(&server, &owner, phone).await;
    let mut refused = 0;
    for user in &users {
        let ticket = client.register(&server, user).await;
        let (status, answer) = client.token(&server, user, &ticket, "OTP", "").await;
        if status == 400 {
            assert_eq!(answer["code"], "e-105", "{answer}");
            assert!(
                answer["message"].as_str().is_some_and(
                    |text| text.starts_with("OTP not sent: Too many attempts: try again in ")
                ),
                "{answer}"
            );
            refused += 1;
        }
    }
    // The number got the budget of an unverified number, and no more.
    assert_eq!(server.sms_to(victim).len(), 3);
    assert_eq!(refused, 17);
    // The 22nd sign-up from this address waits.
    let (status, answer) = client
        .post(
            &server,
            "/authentication/v1/user/signup",
            &serde_json::json!({"user_id": fresh_user("P"), "password": common::PASSWORD,
                "mpin": "1234", "phone": victim, "api_key": common::API_KEY}),
        )
        .await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("e-105")));
    // Someone whose code comes back has verified their number: their next
    // codes count against the verified number's own limit, not the spent
    // one.
    client.login_by_sms(&server, &owner, phone).await;
    let ticket = client.register(&server, &owner).await;
    let (status, answer) = client.token(&server, &owner, &ticket, "OTP", "").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.sms_to(phone).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn factors_are_listed_and_removed_and_a_revoked_device_is_refused() {
    use common::{Phone, code_at};
    use ed25519_dalek::SigningKey;
    use serde_json::json;
    let _shared = CORES.read().await;
    let dir = scratch("factors");
    let server = Server::start(&Store::sqlite(&dir), &dir, 100);
    let client = Client::default();
    let user = fresh_user("F");
    client.signup(&server, &user, PHONE).await;
    let access = client.login_by_sms(&server, &user, PHONE).await;
    let (totp, access) = client.enroll_totp(&server, &access).await;
    let (a, b) = (
        Phone(SigningKey::from_bytes(&[3; 32])),
        Phone(SigningKey::from_bytes(&[4; 32])),
    );
    let (access, a_id) = a.register(&client, &server, &access, "old phone").await;
    let (access, b_id) = b.register(&client, &server, &access, "new phone").await;
    // The list: both devices by name, TOTP, the phone (its ending only).
    let factors = "/authentication/v1/user/factors";
    let (status, list) = client.with_bearer(&server, factors, &access, None).await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<_> = list["data"]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|device| device["name"].clone())
        .collect();
    assert_eq!(names, [json!("old phone"), json!("new phone")]);
    assert_eq!(list["data"]["totp"], true);
    assert_eq!(
        list["data"]["phone"],
        json!({"ending": "11", "verified": true})
    );
    assert!(!list.to_string().contains("98000"), "{list}");
    // The login challenges the device the client names.
    let device_login = |device_id: String| {
        let (client, user) = (client.clone(), user.clone());
        let server = &server;
        async move {
            let ticket = client.register(server, &user).await;
            let (status, answer) = client
                .session(
                    server,
                    json!({"user_id": user, "login_type": "TOKEN", "password": ticket,
                           "second_auth_type": "FINGERPRINT", "second_auth": "",
                           "device_id": device_id}),
                )
                .await;
            (ticket, status, answer)
        }
    };
    let (ticket, status, answer) = device_login(a_id.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let number = u8::try_from(answer["data"]["number"].as_u64().unwrap()).unwrap();
    let signature = a.answer(&client, &server, &user, &a_id, number).await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "FINGERPRINT", &signature)
        .await;
    assert_eq!(status, 200, "{answer}");
    // The other device is not asked for that login's prompt.
    assert_eq!(
        b.ask_prompt(&client, &server, &user, &b_id).await.1["code"],
        "e-106"
    );
    // A removal needs another factor than the one removed: this session
    // logged in with an SMS code.
    let remove = "/authentication/v1/user/factors/remove";
    let (status, answer) = client
        .with_bearer(&server, remove, &access, Some(&json!({"factor": "OTP"})))
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("e-114")),
        "{answer}"
    );
    // The old phone is lost: revoked from the SMS login's session.
    let (status, answer) = client
        .with_bearer(
            &server,
            remove,
            &access,
            Some(&json!({"factor": "FINGERPRINT", "device_id": a_id})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let access = common::access_token(&answer);
    // Its own signature no longer gets it a prompt, nor is it challenged.
    let (status, answer) = a.ask_prompt(&client, &server, &user, &a_id).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("e-401")),
        "{answer}"
    );
    let (_, _, answer) = device_login(a_id.clone()).await;
    assert_eq!(answer["code"], "e-107", "{answer}");
    let (_, list) = client.with_bearer(&server, factors, &access, None).await;
    assert_eq!(list["data"]["devices"][0]["revoked"], true);
    // The phone removed from a session that logged in with TOTP: SMS is
    // no longer offered.
    let ticket = client.register(&server, &user).await;
    let (status, answer) = client
        .token(&server, &user, &ticket, "TOTP", &code_at(&totp, 1))
        .await;
    assert_eq!(status, 200, "{answer}");
    let totp_session = common::access_token(&answer);
    let (status, answer) = client
        .with_bearer(
            &server,
            remove,
            &totp_session,
            Some(&json!({"factor": "OTP"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let body =
        json!({"user_id": user, "password": common::PASSWORD, "second_auth_type": "REGISTER"});
    let (_, answer) = client.session(&server, body).await;
    assert_eq!(
        answer["data"]["second_factors"],
        json!(["TOTP", "FINGERPRINT"]),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_001_takes_the_users_own_api_key() {
    use common::{MPIN, code_at};
    use serde_json::json;
    let _shared = CORES.read().await;
    let dir = scratch("user-keys");
    let settings = [("TWOFA_TOTPLOGIN_KEYS", "user")];
    let server = Server::start_with(&Store::sqlite(&dir), &dir, 100, &settings);
    let client = Client::default();
    let (user, other) = (fresh_user("K"), fresh_user("J"));
    let mut keys = Vec::new();
    let mut totps = Vec::new();
    for (i, id) in [&user, &other].into_iter().enumerate() {
        let phone = format!("+91 98000 0010{i}");
        client.signup(&server, id, &phone).await;
        let access = client.login_by_sms(&server, id, &phone).await;
        let (totp, access) = client.enroll_totp(&server, &access).await;
        let path = "/authentication/v1/user/api-keys";
        let (status, answer) = client
            .with_bearer(&server, path, &access, Some(&json!({})))
            .await;
        assert_eq!(status, 200, "{answer}");
        keys.push((
            answer["data"]["api_key"].as_str().unwrap().to_owned(),
            answer["data"]["id"].as_str().unwrap().to_owned(),
            access,
        ));
        totps.push(totp);
    }
    let (key, id, access) = &keys[0];
    let invalid = "Invalid user key";
    // The client application's key, the other user's, a made-up one:
    // refused before the PIN or code is looked at.
    for wrong in [common::API_KEY, keys[1].0.as_str(), &"Q".repeat(52), ""] {
        let (_, answer) = client
            .totp_login_with(&server, wrong, &user, MPIN, &code_at(&totps[0], 1))
            .await;
        assert_eq!(answer["body"]["Message"], invalid, "{wrong}: {answer}");
    }
    let (_, answer) = client
        .totp_login_with(&server, key, &user, MPIN, &code_at(&totps[0], 1))
        .await;
    assert_eq!(answer["body"]["Message"], "Success", "{answer}");
    assert_eq!(answer["body"]["Userkey"], key.as_str());
    // Listed, never shown again; revoked, refused.
    let path = "/authentication/v1/user/api-keys";
    let (_, list) = client.with_bearer(&server, path, access, None).await;
    assert_eq!(list["data"]["api_keys"][0]["id"], id.as_str());
    assert!(!list.to_string().contains(key.as_str()));
    let revoke = "/authentication/v1/user/api-keys/revoke";
    let (status, answer) = client
        .with_bearer(&server, revoke, access, Some(&json!({"id": id})))
        .await;
    assert_eq!(status, 200, "{answer}");
    let (_, answer) = client
        .totp_login_with(&server, key, &user, MPIN, &code_at(&totps[0], 2))
        .await;
    assert_eq!(answer["body"]["Message"], invalid, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_sessions_racing_to_change_the_account_one_is_left() {
    let _shared = CORES.read().await;
    let dir = scratch("change-race");
    let store = Store::sqlite(&dir);
    let servers = [
        Server::start(&store, &dir, 100),
        Server::start(&store, &dir, 100),
    ];
    let client = Client::default();
    let user = fresh_user("R");
    client.signup(&servers[0], &user, PHONE).await;
    let profile = "/authentication/v1/user/profile";
    let end_others = "/authentication/v1/user/sessions/end-others";
    for round in 0..8 {
        // Two sessions of one account (the owner's and a stolen one, say),
        // each ending the other's from its own instance at once.
        let a = client.login_by_sms(&servers[0], &user, PHONE).await;
        let b = client.login_by_sms(&servers[1], &user, PHONE).await;
        // Every other round, one side's change is a new set of recovery
        // codes: hashed first, decided last.
        let body = serde_json::json!({});
        let change = if round % 2 == 0 {
            end_others
        } else {
            "/authentication/v1/user/recovery-codes"
        };
        let (left, right) = tokio::join!(
            client.with_bearer_at(&servers[0].base, change, &a, Some(&body)),
            client.with_bearer_at(&servers[1].base, end_others, &b, Some(&body)),
        );
        let statuses = (left.0, right.0);
        assert!(
            statuses == (200, 401) || statuses == (401, 200),
            "round {round}: {left:?} {right:?}"
        );
        // The winner goes on under its new token; nothing of the loser's
        // session is left.
        let (winner, loser) = if left.0 == 200 {
            (&left.1, &b)
        } else {
            (&right.1, &a)
        };
        let renewed = common::access_token(winner);
        assert_eq!(
            client
                .with_bearer(&servers[0], profile, &renewed, None)
                .await
                .0,
            200
        );
        assert_eq!(
            client
                .with_bearer(&servers[1], profile, loser, None)
                .await
                .0,
            401
        );
        assert_eq!(
            client.with_bearer(&servers[0], profile, &a, None).await.0,
            401
        );
        assert_eq!(
            client.with_bearer(&servers[0], profile, &b, None).await.0,
            401
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_recovery_code_raced_from_two_instances_is_accepted_once() {
    let _shared = CORES.read().await;
    let dir = scratch("recovery-race");
    let store = Store::sqlite(&dir);
    let servers = [
        Server::start(&store, &dir, 100),
        Server::start(&store, &dir, 100),
    ];
    let client = Client::default();
    let user = fresh_user("Q");
    client.signup(&servers[0], &user, PHONE).await;
    let access = client.login_by_sms(&servers[0], &user, PHONE).await;
    let path = "/authentication/v1/user/recovery-codes";
    let body = serde_json::json!({});
    let (status, answer) = client
        .with_bearer(&servers[0], path, &access, Some(&body))
        .await;
    assert_eq!(status, 200, "{answer}");
    let codes: Vec<String> = answer["data"]["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|code| code.as_str().expect("a code").to_owned())
        .collect();
    for (round, code) in codes.iter().take(4).enumerate() {
        // Both instances hash the code on copies of one state at once,
        // with no write lock held, and commit in turn: the second commit
        // finds the code used.
        let tickets = [
            client.register(&servers[0], &user).await,
            client.register(&servers[1], &user).await,
        ];
        let (left, right) = tokio::join!(
            client.token(&servers[0], &user, &tickets[0], "RECOVERY", code),
            client.token(&servers[1], &user, &tickets[1], "RECOVERY", code),
        );
        let accepted = [&left, &right]
            .iter()
            .filter(|(status, _)| *status == 200)
            .count();
        assert_eq!(accepted, 1, "round {round}: {left:?} {right:?}");
        let refused = if left.0 == 200 { &right } else { &left };
        assert_eq!(refused.0, 400, "round {round}: {refused:?}");
        assert!(
            common::message(&refused.1).starts_with("Invalid recovery code"),
            "round {round}: {refused:?}"
        );
        // The one replacement handed out works, on the other instance.
        let winner = if left.0 == 200 { &left.1 } else { &right.1 };
        let replacement = winner["data"]["replacement_recovery_code"]
            .as_str()
            .expect("a replacement");
        let ticket = client.register(&servers[1], &user).await;
        let (status, answer) = client
            .token(&servers[1], &user, &ticket, "RECOVERY", replacement)
            .await;
        assert_eq!(status, 200, "round {round}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_record_edited_or_copied_by_a_database_writer_is_refused() {
    use twofa_service::records::User;
    let _shared = CORES.read().await;
    let dir = scratch("edited-user");
    let store = Store::sqlite(&dir);
    let server = Server::start(&store, &dir, 100);
    let client = Client::default();
    let (user, mallory) = (fresh_user("E"), fresh_user("M"));
    client.signup(&server, &user, PHONE).await;
    client.signup(&server, &mallory, "+1 202 555 0666").await;
    let path = store.url.trim_start_matches("sqlite:");
    let records = twofa_stores::AnyStore::connect("sqlite", path)
        .await
        .unwrap();
    let guard = twofa::Guard::default();
    let right = serde_json::json!({"user_id": user, "password": common::PASSWORD,
        "second_auth_type": "REGISTER"});
    // The password's cost set to 1 GiB: refused at once, nothing hashed.
    guard
        .decide_shared(&records, &user, |stored: &mut User| {
            stored.password = stored.password.replace("m=19456", "m=1048576");
            Ok(())
        })
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (status, answer) = client.session(&server, right.clone()).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (503, Some("e-503")),
        "{answer}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(server.peak_rss_kib() < 256 * 1024);
    // Mallory's record, her password and her phone, copied into the
    // victim's row: refused, so her password does not open it.
    let theirs: User = AccountStore::load(&records, &mallory).await.unwrap().state;
    guard
        .decide_shared(&records, &user, |stored: &mut User| {
            *stored = theirs.clone();
            Ok(())
        })
        .await
        .unwrap();
    let (status, answer) = client.session(&server, right).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (503, Some("e-503")),
        "{answer}"
    );
    // Mallory's own record still works.
    client.register(&server, &mallory).await;
}
