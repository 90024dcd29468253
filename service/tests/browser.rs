//! The demo page in a real browser: Debian's Chromium, headless, driven
//! over WebDriver by its chromedriver, with WebDriver's virtual
//! authenticator (CTAP2, internal transport, resident keys, user
//! verification) in place of a phone's. Everything on loopback:
//! `localhost` is a secure context, so no TLS is needed.
//!
//! The person signs up, logs in with the password and an SMS code, enrols
//! TOTP from the page, registers a passkey, signs in with it alone, uses
//! it as the second factor after the password, and removes it; the same
//! page served from another origin (another port, as a phishing copy
//! would be) cannot complete a login with the credential, nor can the
//! authenticator once it stops verifying the user.
//!
//! Without Chromium the test says so and passes, unless
//! `TWOFA_REQUIRE_BROWSER` is set (as `.ci/run` sets it).

mod common;

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{API_KEY, MPIN, PASSWORD, Server, Store, fresh_user, scratch};
use serde_json::{Value, json};
use twofa::{Secret, Totp};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PHONE: &str = "+15550100777";
/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// chromedriver, stopped when dropped.
struct Driver {
    process: Child,
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    async fn start() -> Self {
        let port = free_port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut driver = Self {
            process,
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = driver
                .http
                .get(format!("{}/status", driver.base))
                .send()
                .await;
            if let Ok(response) = ready {
                let status: Value = response.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run"],
            },
        }}});
        let created = driver.call("POST", "/session", Some(capabilities)).await;
        driver.session = created["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_owned();
        driver
    }

    /// A WebDriver command; its `value`.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let answer: Value = request
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("JSON");
        assert!(
            answer["value"]["error"].is_null(),
            "WebDriver {method} {path}: {answer}"
        );
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url}))).await;
    }

    async fn element(&self, id: &str) -> String {
        let found = self
            .call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": format!("#{id}")})),
            )
            .await;
        found[ELEMENT].as_str().expect("an element").to_owned()
    }

    async fn type_into(&self, id: &str, text: &str) {
        let element = self.element(id).await;
        self.call("POST", &format!("/element/{element}/clear"), None)
            .await;
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, id: &str) {
        let element = self.element(id).await;
        self.call("POST", &format!("/element/{element}/click"), None)
            .await;
    }

    async fn text(&self, id: &str) -> String {
        let element = self.element(id).await;
        let text = self
            .call("GET", &format!("/element/{element}/text"), None)
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Clicks `button`, then waits for the status line to change and
    /// returns it.
    async fn press(&self, button: &str) -> String {
        // Cleared first, so that the answer read is this click's.
        self.call(
            "POST",
            "/execute/sync",
            Some(
                json!({"script": "document.getElementById('status').textContent = ''", "args": []}),
            ),
        )
        .await;
        self.click(button).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.text("status").await;
            if !status.is_empty() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{button}: the page never answered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The virtual authenticator of a phone: CTAP2, built in, holding
    /// passkeys, verifying its user.
    async fn add_authenticator(&self) -> String {
        let added = self
            .call(
                "POST",
                "/webauthn/authenticator",
                Some(json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserConsenting": true,
                    "isUserVerified": true,
                })),
            )
            .await;
        added.as_str().expect("an authenticator id").to_owned()
    }
}

/// Step by step, said as it goes.
fn step(what: &str, status: &str) {
    println!("browser: {what}: {status}");
}

fn expect(what: &str, status: &str, wanted: &str) {
    step(what, status);
    assert!(
        status.contains(wanted),
        "{what}: {status:?}, not {wanted:?}"
    );
}

fn server_at(store: &Store, dir: &Path, port: u16, origin: &str) -> Server {
    Server::start_with(
        store,
        dir,
        10,
        &[
            ("TWOFA_LISTEN", &format!("127.0.0.1:{port}")),
            ("TWOFA_RP_ID", "localhost"),
            ("TWOFA_ORIGINS", origin),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_registers_signs_in_serves_as_second_factor_and_is_removed() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var("TWOFA_REQUIRE_BROWSER").is_err(),
            "TWOFA_REQUIRE_BROWSER is set, but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        eprintln!("browser: no Chromium here (apt-get install chromium chromium-driver): skipped");
        return;
    }
    let dir = scratch("browser");
    let store = Store::sqlite(&dir);
    let (port, other_port) = (free_port(), free_port());
    let origin = format!("http://localhost:{port}");
    // The service, and the same page served from another port with the
    // same settings: a copy at another origin.
    let server = server_at(&store, &dir, port, &origin);
    let _copy = server_at(&store, &dir, other_port, &origin);
    let driver = Driver::start().await;
    let authenticator = driver.add_authenticator().await;
    let user = fresh_user("browser");

    driver.open(&format!("{origin}/")).await;
    driver.type_into("api-key", API_KEY).await;
    driver.type_into("su-user", &user).await;
    driver.type_into("su-password", PASSWORD).await;
    driver.type_into("su-mpin", MPIN).await;
    driver.type_into("su-phone", PHONE).await;
    expect("sign up", &driver.press("su-go").await, "User created");

    // Password, then an SMS code.
    let log_in_by_sms = async |what: &str| {
        driver.type_into("li-user", &user).await;
        driver.type_into("li-password", PASSWORD).await;
        expect(what, &driver.press("li-go").await, "Password verified");
        expect(
            "send an SMS code",
            &driver.press("li-sms-send").await,
            "OTP sent",
        );
        driver.type_into("li-sms", &server.last_sms(PHONE)).await;
        expect(what, &driver.press("li-sms-go").await, "logged in");
    };
    log_in_by_sms("log in with password and SMS").await;

    // TOTP, from the key the page shows beside the QR code.
    expect(
        "enrol TOTP",
        &driver.press("totp-enroll-go").await,
        "Scan the QR code",
    );
    let secret = Secret::from_base32(&driver.text("totp-secret").await).expect("a key");
    let totp = Totp::new(secret);
    let code = totp
        .generate_at(twofa::unix_time().expect("a clock"))
        .expect("a code");
    driver.type_into("totp-code", &code.to_string()).await;
    expect(
        "confirm TOTP",
        &driver.press("totp-confirm-go").await,
        "TOTP enabled",
    );

    driver.type_into("pk-name", "Test phone").await;
    expect(
        "register a passkey",
        &driver.press("pk-register-go").await,
        "Passkey registered",
    );
    let listed = driver.text("pk-list").await;
    expect("the passkey is listed", &listed, "Test phone");

    expect("log out", &driver.press("logout-go").await, "Logged out");
    expect(
        "passkey sign-in",
        &driver.press("pk-signin-go").await,
        "logged in",
    );
    expect("signed in with", &driver.text("session").await, "WEBAUTHN");

    expect("log out", &driver.press("logout-go").await, "Logged out");
    driver.type_into("li-user", &user).await;
    driver.type_into("li-password", PASSWORD).await;
    expect(
        "password",
        &driver.press("li-go").await,
        "Password verified",
    );
    let factors = driver.text("li-factors").await;
    expect("second factors offered", &factors, "WEBAUTHN");
    expect(
        "passkey as the second factor",
        &driver.press("li-passkey-go").await,
        "logged in",
    );
    expect("logged in with", &driver.text("session").await, "WEBAUTHN");
    expect("log out", &driver.press("logout-go").await, "Logged out");

    // The copy at another origin: the browser signs for it, the service
    // refuses the origin.
    driver
        .open(&format!("http://localhost:{other_port}/"))
        .await;
    driver.type_into("api-key", API_KEY).await;
    expect(
        "passkey sign-in from another origin",
        &driver.press("pk-signin-go").await,
        "Invalid passkey",
    );

    // The authenticator stops verifying its user: no sign-in.
    driver.open(&format!("{origin}/")).await;
    driver.type_into("api-key", API_KEY).await;
    driver
        .call(
            "POST",
            &format!("/webauthn/authenticator/{authenticator}/uv"),
            Some(json!({"isUserVerified": false})),
        )
        .await;
    let without_uv = driver.press("pk-signin-go").await;
    step("passkey sign-in without user verification", &without_uv);
    assert!(!without_uv.contains("logged in"), "{without_uv}");
    driver
        .call(
            "POST",
            &format!("/webauthn/authenticator/{authenticator}/uv"),
            Some(json!({"isUserVerified": true})),
        )
        .await;

    // Removing it needs a login with another factor.
    log_in_by_sms("log in again with password and SMS").await;
    let remove = driver
        .call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": "#pk-list li button.remove"})),
        )
        .await;
    let remove = remove[ELEMENT]
        .as_str()
        .expect("a remove button")
        .to_owned();
    driver
        .call(
            "POST",
            "/execute/sync",
            Some(
                json!({"script": "document.getElementById('status').textContent = ''", "args": []}),
            ),
        )
        .await;
    driver
        .call("POST", &format!("/element/{remove}/click"), None)
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut removed = String::new();
    while removed.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        removed = driver.text("status").await;
    }
    expect("remove the passkey", &removed, "WEBAUTHN removed");
    assert_eq!(driver.text("pk-list").await, "", "the list is empty");
    expect("log out", &driver.press("logout-go").await, "Logged out");
    expect(
        "passkey sign-in once removed",
        &driver.press("pk-signin-go").await,
        "Invalid passkey",
    );
    driver.call("DELETE", "", None).await;
}
