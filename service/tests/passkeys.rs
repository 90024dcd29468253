//! Passkeys over HTTP, with a software authenticator: a sign-in says
//! nothing of a credential id to whoever does not hold the passkey, a
//! sign-in challenge is accepted once, and a credential id registered to
//! one account is refused for another without ending that person's own
//! sessions.

mod common;

use common::{Client, Server, Store, access_token, fresh_user, passkey::SoftPasskey, scratch};
use serde_json::{Value, json};

async fn register(
    client: &Client,
    server: &Server,
    access: &str,
    key: &SoftPasskey,
) -> (u16, Value) {
    let (status, options) = client
        .with_bearer(
            server,
            "/authentication/v1/user/passkeys/register/options",
            access,
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{options}");
    let credential = key.register(&options["data"]["publicKey"]);
    client
        .with_bearer(
            server,
            "/authentication/v1/user/passkeys/register",
            access,
            Some(&json!({"credential": credential, "name": "soft"})),
        )
        .await
}

async fn sign_in_options(client: &Client, server: &Server) -> Value {
    let (status, answer) = client
        .post(
            server,
            "/authentication/v1/passkeys/sign-in/options",
            &json!({"api_key": common::API_KEY}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["data"]["publicKey"].clone()
}

async fn sign_in(
    client: &Client,
    server: &Server,
    user_id: &str,
    credential: &Value,
) -> (u16, Value) {
    client
        .session(
            server,
            json!({"user_id": user_id, "login_type": "FINGERPRINT", "password": "", "webauthn": credential}),
        )
        .await
}

fn server(dir: &std::path::Path) -> Server {
    let settings = [
        ("TWOFA_RP_ID", "example.com"),
        ("TWOFA_ORIGINS", "https://example.com"),
    ];
    Server::start_with(&Store::sqlite(dir), dir, 10, &settings)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_answers_alike_for_a_known_and_an_unknown_credential_and_once() {
    let dir = scratch("passkey-sign-in");
    let server = server(&dir);
    let client = Client::default();
    let alice = fresh_user("pk");
    client.signup(&server, &alice, "+15550100201").await;
    let access = client.login_by_sms(&server, &alice, "+15550100201").await;
    let known = SoftPasskey::new(1, b"alice-credential", "example.com", "https://example.com");
    let (status, registered) = register(&client, &server, &access, &known).await;
    assert_eq!(status, 200, "{registered}");
    let unknown = SoftPasskey::new(
        2,
        b"nobody-credential",
        "example.com",
        "https://example.com",
    );

    // A challenge that is not the service's: told before any lookup.
    let junk = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let answers = [
        sign_in(&client, &server, "", &known.assert_challenge(junk, false)).await,
        sign_in(&client, &server, "", &unknown.assert_challenge(junk, false)).await,
    ];
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].1["code"], "e-106", "{:?}", answers[0]);

    // A real challenge, a forged signature; another account named; no
    // such credential: one answer.
    let options = sign_in_options(&client, &server).await;
    let forged = sign_in(&client, &server, "", &known.assert(&options, true)).await;
    let named = sign_in(
        &client,
        &server,
        "someone-else",
        &known.assert(&options, false),
    )
    .await;
    let nobody = sign_in(&client, &server, "", &unknown.assert(&options, false)).await;
    assert_eq!(forged, nobody);
    assert_eq!(named, nobody);
    assert_eq!(nobody.1["code"], "e-101", "{nobody:?}");

    // The holder signs in, once per challenge.
    let genuine = known.assert(&options, false);
    let (status, answer) = sign_in(&client, &server, "", &genuine).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["user_id"], alice.as_str());
    assert_eq!(answer["data"]["second_factor"], "WEBAUTHN");
    let replayed = sign_in(&client, &server, "", &genuine).await;
    assert_eq!(replayed, nobody, "a replay reads as any refusal");
    // With the account's own name, too.
    let options = sign_in_options(&client, &server).await;
    let (status, answer) = sign_in(&client, &server, &alice, &known.assert(&options, false)).await;
    assert_eq!(status, 200, "{answer}");
    // A passkey sign-in is a login with a second factor: fresh enough to
    // change one, and it reads back as a passkey's session.
    let access = access_token(&answer);
    let (status, profile) = client
        .with_bearer(
            &server,
            "/authentication/v1/user/totp/enroll",
            &access,
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{profile}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_id_of_one_account_is_refused_for_another_and_its_sessions_stay() {
    let dir = scratch("passkey-elsewhere");
    let server = server(&dir);
    let client = Client::default();
    let (alice, bob) = (fresh_user("pka"), fresh_user("pkb"));
    client.signup(&server, &alice, "+15550100202").await;
    client.signup(&server, &bob, "+15550100203").await;
    let alice_access = client.login_by_sms(&server, &alice, "+15550100202").await;
    let bob_access = client.login_by_sms(&server, &bob, "+15550100203").await;
    let id = b"one-credential-id";
    let alices = SoftPasskey::new(3, id, "example.com", "https://example.com");
    let (status, answer) = register(&client, &server, &alice_access, &alices).await;
    assert_eq!(status, 200, "{answer}");
    let alice_access = access_token(&answer);
    // Bob's authenticator makes a credential with alice's id.
    let bobs = SoftPasskey::new(4, id, "example.com", "https://example.com");
    let (_, answer) = register(&client, &server, &bob_access, &bobs).await;
    assert_eq!(answer["code"], "e-113", "{answer}");
    // Bob is still logged in, and has no passkey.
    let (status, factors) = client
        .with_bearer(
            &server,
            "/authentication/v1/user/factors",
            &bob_access,
            None,
        )
        .await;
    assert_eq!(status, 200, "{factors}");
    assert_eq!(factors["data"]["passkeys"], json!([]));
    // Alice's passkey still signs her in; bob's key under that id does not.
    let options = sign_in_options(&client, &server).await;
    let (_, refused) = sign_in(&client, &server, "", &bobs.assert(&options, false)).await;
    assert_eq!(refused["code"], "e-101", "{refused}");
    let (status, answer) = sign_in(&client, &server, "", &alices.assert(&options, false)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["user_id"], alice.as_str());
    // Alice removes it (with a login by another factor), and the id is free.
    let (status, answer) = client
        .with_bearer(
            &server,
            "/authentication/v1/user/factors/remove",
            &alice_access,
            Some(&json!({"factor": "WEBAUTHN", "credential_id": "b25lLWNyZWRlbnRpYWwtaWQ"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = register(&client, &server, &bob_access, &bobs).await;
    assert_eq!(status, 200, "{answer}");
}
