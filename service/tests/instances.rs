//! Two `twofa-service` processes sharing one store (an SQLite file,
//! PostgreSQL, Redis, a Redis Cluster), many clients at once: every single-use thing used
//! once, every limit held exactly, and nothing lost when a process is
//! killed and started again.

mod common;

use std::{future::Future, sync::Arc};

use common::{Client, MPIN, PASSWORD, Server, Store, code_at, fresh_user, message, scratch};
use serde_json::{Value, json};
use tokio::sync::Barrier;

const PHONE: &str = "+91 98000 00020";

/// Runs `count` requests at once (released together), alternating between
/// the two servers; their answers.
async fn race<F, Fut>(servers: &Arc<[Server; 2]>, count: usize, request: F) -> Vec<(u16, Value)>
where
    F: Fn(Client, Arc<[Server; 2]>, usize) -> Fut,
    Fut: Future<Output = (u16, Value)> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(count));
    let mut tasks = Vec::new();
    for i in 0..count {
        let barrier = barrier.clone();
        let call = request(Client::default(), servers.clone(), i);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            call.await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("a request task"));
    }
    answers
}

fn count(answers: &[(u16, Value)], what: impl Fn(&(u16, Value)) -> bool) -> usize {
    answers.iter().filter(|answer| what(answer)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_use_each_code_once_and_hold_the_lockout() {
    let dir = scratch("instances");
    for store in Store::all(&dir) {
        let servers = Arc::new([
            Server::start(&store, &dir, 100),
            Server::start(&store, &dir, 100),
        ]);
        let client = Client::default();
        let name = store.name;

        // One TOTP code, 16 clients, two processes: one login.
        let user = fresh_user("R");
        client.signup(&servers[0], &user, PHONE).await;
        let access = client.login_by_sms(&servers[1], &user, PHONE).await;
        let (totp, _) = client.enroll_totp(&servers[0], &access).await;
        let code = code_at(&totp, 1);
        let answers = race(&servers, 16, |client, servers, i| {
            let (user, code) = (user.clone(), code.clone());
            async move { client.totp_login(&servers[i % 2], &user, MPIN, &code).await }
        })
        .await;
        let won = count(&answers, |(_, a)| a["body"]["Status"] == 0);
        let replayed = count(&answers, |(_, a)| {
            message(a) == "OTP has been used in past, Please try next OTP"
        });
        // Each replay counts as a failure: after a few, a request whose
        // clock is a second behind another's failure is refused by the
        // throttle, answered as a wrong PIN (nothing said of the throttle).
        let refused = count(&answers, |(_, a)| {
            message(a).starts_with("Invalid login/password")
        });
        println!(
            "{name}: one TOTP code × 16 clients on 2 processes: {won} accepted, {replayed} replayed, {refused} refused by the throttle"
        );
        assert_eq!((won, replayed + refused), (1, 15), "{name}: {answers:?}");

        // One register_token and one SMS code, 16 clients: one login.
        let ticket = client.register(&servers[0], &user).await;
        let (status, _) = client.token(&servers[1], &user, &ticket, "OTP", "").await;
        assert_eq!(status, 200);
        let sms = servers[1].last_sms(PHONE);
        let answers = race(&servers, 16, |client, servers, i| {
            let (user, ticket, sms) = (user.clone(), ticket.clone(), sms.clone());
            async move {
                client
                    .token(&servers[i % 2], &user, &ticket, "OTP", &sms)
                    .await
            }
        })
        .await;
        let won = count(&answers, |(status, _)| *status == 200);
        let spent = count(&answers, |(_, a)| a["code"] == "e-106");
        println!(
            "{name}: one register_token + SMS code × 16 clients: {won} accepted, {spent} spent"
        );
        assert_eq!((won, spent), (1, 15), "{name}: {answers:?}");

        // 120 wrong passwords at once, two processes: never more than 100
        // counted, the rest refused unheard, whichever process answers.
        let victim = fresh_user("V");
        client.signup(&servers[1], &victim, PHONE).await;
        let answers = race(&servers, 120, |client, servers, i| {
            let victim = victim.clone();
            async move {
                client
                    .session(
                        &servers[i % 2],
                        json!({"user_id": victim, "password": format!("guess {i}"),
                               "second_auth_type": "REGISTER"}),
                    )
                    .await
            }
        })
        .await;
        // Every answer is a wrong password's, counted or not: nothing says
        // the account is throttled or locked. The store says how many the
        // throttle counted: never more than 100.
        assert!(
            answers
                .iter()
                .all(|(status, a)| *status == 400 && message(a) == "Invalid user id or password"),
            "{name}: {answers:?}"
        );
        let counted = store.failures(&victim).await;
        println!(
            "{name}: 120 wrong passwords at once on 2 processes: {counted} counted, {} refused unheard",
            120 - counted
        );
        assert!(counted <= 100, "{name}: {counted} counted");
        // Wrong passwords one at a time, on alternate processes, bring the
        // count to exactly 100 and no further; a request refused unheard
        // (its clock behind another's failure) waits a second and goes on.
        for i in 0..200 {
            let counted = store.failures(&victim).await;
            if counted == 100 {
                break;
            }
            let (_, answer) = client
                .session(
                    &servers[i % 2],
                    json!({"user_id": victim, "password": format!("again {i}"),
                           "second_auth_type": "REGISTER"}),
                )
                .await;
            assert_eq!(message(&answer), "Invalid user id or password", "{name}");
            if store.failures(&victim).await == counted {
                tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            }
        }
        // Locked: the right password is answered as a wrong one, and
        // counts nothing more.
        let (_, answer) = client
            .session(
                &servers[0],
                json!({"user_id": victim, "password": PASSWORD, "second_auth_type": "REGISTER"}),
            )
            .await;
        assert_eq!(message(&answer), "Invalid user id or password", "{name}");
        let counted = store.failures(&victim).await;
        println!("{name}: then one at a time: locked after {counted} counted in all");
        assert_eq!(
            counted, 100,
            "{name}: the lock came after {counted} failures"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_process_loses_nothing_and_accepts_nothing_twice() {
    let dir = scratch("restart");
    for store in Store::all(&dir) {
        let name = store.name;
        let mut first = Server::start(&store, &dir, 100);
        let second = Server::start(&store, &dir, 100);
        let client = Client::default();
        let user = fresh_user("K");
        client.signup(&first, &user, PHONE).await;
        let access = client.login_by_sms(&first, &user, PHONE).await;
        let (totp, _) = client.enroll_totp(&second, &access).await;

        // A code accepted just before the crash.
        let code = code_at(&totp, 1);
        let (_, answer) = client.totp_login(&first, &user, MPIN, &code).await;
        assert_eq!(answer["body"]["Status"], 0, "{name}: {answer}");
        // A login half done: register_token issued, SMS code sent.
        let ticket = client.register(&first, &user).await;
        client.token(&first, &user, &ticket, "OTP", "").await;
        let sms = first.last_sms(PHONE);

        first.restart(&dir);

        // The half-done login completes on the new process.
        let (status, answer) = client.token(&first, &user, &ticket, "OTP", &sms).await;
        assert_eq!(status, 200, "{name}: {answer}");
        // The code accepted before the crash is refused by both.
        for server in [&first, &second] {
            let (_, answer) = client.totp_login(server, &user, MPIN, &code).await;
            assert_eq!(
                message(&answer),
                "OTP has been used in past, Please try next OTP",
                "{name}"
            );
        }
        // And so is the SMS code, with a fresh register_token.
        let ticket = client.register(&second, &user).await;
        let (status, _) = client.token(&second, &user, &ticket, "OTP", &sms).await;
        assert_eq!(status, 400, "{name}");
        println!(
            "{name}: a killed and restarted process: the pending login completed, no code accepted twice"
        );
    }
}
