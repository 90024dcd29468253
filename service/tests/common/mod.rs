//! What the HTTP tests share: server processes of `twofa-service` started
//! and stopped by the test itself (loopback, a free port), a client, and
//! the person's side of each factor (their authenticator app, their
//! phone's SMS inbox, their registered device).

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::{
    env,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

pub mod passkey;
pub mod secrets;

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use twofa::{DevicePrompt, KeyUri, Otp, Totp};

pub const API_KEY: &str = "test-api-key";
pub const SEALING_KEY: &str = "7:1111111111111111111111111111111111111111111111111111111111111111";
pub const PASSWORD: &str = "mypassword123";
pub const MPIN: &str = "042935";

/// A directory of its own for one test: the SQLite file, the SMS outbox.
pub fn scratch(name: &str) -> PathBuf {
    let dir = env::temp_dir().join(format!("twofa-service-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A user id no earlier run used (PostgreSQL and Redis outlive a run).
pub fn fresh_user(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}{}x{}x{}",
        nanos % 1_000_000_000_000,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Which store the servers share.
#[derive(Clone, Debug)]
pub struct Store {
    pub name: &'static str,
    /// `TWOFA_STORE`.
    pub url: String,
}

impl Store {
    /// The failures the account's one throttle counts, read from the store
    /// itself (the answers say nothing of them to someone without the
    /// password).
    pub async fn failures(&self, account: &str) -> u32 {
        // `sqlite:FILE` and `redis-cluster:URL,…` name the backend; the
        // others are URLs.
        let target = ["sqlite:", "redis-cluster:"]
            .iter()
            .find_map(|prefix| self.url.strip_prefix(prefix))
            .unwrap_or(&self.url);
        let backend = match self.name {
            "postgres-with-standby" => "postgres",
            name => name,
        };
        let store = twofa_stores::AnyStore::connect(backend, target)
            .await
            .expect("the store");
        let state: twofa::AccountState = twofa::AccountStore::load(&store, account)
            .await
            .expect("the account")
            .state;
        state.totp.throttle.failures
    }

    pub fn sqlite(dir: &Path) -> Self {
        Self {
            name: "sqlite",
            url: format!("sqlite:{}", dir.join("service.db").display()),
        }
    }

    /// SQLite, and PostgreSQL, Redis and a Redis Cluster when their URLs
    /// are set (required by `.ci/run`); and PostgreSQL with its
    /// synchronous standby while its primary answers (the store races
    /// kill it: `.ci/run` runs these tests first).
    pub fn all(dir: &Path) -> Vec<Self> {
        let mut stores = vec![Self::sqlite(dir)];
        if let Ok(url) = env::var("TWOFA_POSTGRES_PRIMARY_URL") {
            let address = url.rsplit_once('@').map_or(url.as_str(), |(_, rest)| rest);
            let address = address.split('/').next().unwrap_or_default();
            match std::net::TcpStream::connect(address) {
                Ok(_) => stores.push(Self {
                    name: "postgres-with-standby",
                    url,
                }),
                Err(e) => eprintln!(
                    "postgres with a standby: its primary at {address} does not answer ({e}): its HTTP tests did not run"
                ),
            }
        }
        for (name, var, prefix) in [
            ("postgres", "TWOFA_POSTGRES_URL", ""),
            ("redis", "TWOFA_REDIS_URL", ""),
            ("redis-cluster", "TWOFA_REDIS_CLUSTER_URL", "redis-cluster:"),
        ] {
            match env::var(var) {
                Ok(url) => stores.push(Self {
                    name,
                    url: format!("{prefix}{url}"),
                }),
                Err(_) => {
                    eprintln!("{name}: {var} is not set: its HTTP tests did not run");
                    assert!(
                        env::var("TWOFA_REQUIRE_SERVERS").is_err(),
                        "{name}: required by TWOFA_REQUIRE_SERVERS, but {var} is not set"
                    );
                }
            }
        }
        stores
    }
}

/// One `twofa-service` process; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub base: String,
    pub outbox: PathBuf,
    /// Its standard error: the log, checked for secrets when it stops.
    log: PathBuf,
    store: Store,
    lockout_after: u32,
}

impl Server {
    /// Starts a server on `store`, its SMS outbox in `dir`, locking an
    /// account after `lockout_after` failures (no waits between them).
    pub fn start(store: &Store, dir: &Path, lockout_after: u32) -> Self {
        Self::start_with(store, dir, lockout_after, &[])
    }

    /// As [`Server::start`], with more settings.
    pub fn start_with(
        store: &Store,
        dir: &Path,
        lockout_after: u32,
        settings: &[(&str, &str)],
    ) -> Self {
        let command = Command::new(env!("CARGO_BIN_EXE_twofa-service"));
        Self::spawn(command, store, dir, lockout_after, settings)
    }

    /// As [`Server::start_with`], the process allowed only `descriptors`
    /// open files (`ulimit -n`).
    pub fn start_with_descriptors(
        store: &Store,
        dir: &Path,
        settings: &[(&str, &str)],
        descriptors: u32,
    ) -> Self {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("ulimit -n {descriptors} && exec \"$0\""),
            env!("CARGO_BIN_EXE_twofa-service"),
        ]);
        Self::spawn(command, store, dir, 100, settings)
    }

    fn spawn(
        mut command: Command,
        store: &Store,
        dir: &Path,
        lockout_after: u32,
        settings: &[(&str, &str)],
    ) -> Self {
        let outbox = dir.join("outbox");
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let log = dir.join(format!(
            "server-{}.log",
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        // Keys in the settings (`NAME:KEY` pairs, `ID:HEX`): the key
        // parts, not the operators' names.
        for (name, value) in settings {
            if name.ends_with("_KEY") || name.ends_with("_KEYS") {
                value
                    .split([',', ':'])
                    .filter(|part| part.len() >= 12)
                    .for_each(secrets::remember);
            }
        }
        for secret in [API_KEY, PASSWORD, MPIN, SEALING_KEY] {
            secrets::remember(secret);
        }
        secrets::remember(SEALING_KEY.split(':').nth(1).unwrap_or_default());
        let mut child = command
            // Every test's clients share 127.0.0.1: the per-address limit
            // is off unless a test sets it.
            .env("TWOFA_ADDRESS_FAILURES", "0")
            .env("TWOFA_SIGNUPS_PER_ADDRESS", "0")
            .env("TWOFA_SMS_PER_PHONE", "1000000")
            .env("TWOFA_SMS_UNVERIFIED_PER_PHONE", "1000000")
            .env("TWOFA_SMS_BUDGET", "1000000")
            // Seed 001 with the client application's key, unless a test
            // sets the users' own.
            .env("TWOFA_TOTPLOGIN_KEYS", "application")
            .env("TWOFA_LISTEN", "127.0.0.1:0")
            .env("TWOFA_STORE", &store.url)
            .env("TWOFA_SEALING_KEY", SEALING_KEY)
            .env("TWOFA_API_KEYS", API_KEY)
            .env("TWOFA_SMS_OUTBOX", &outbox)
            .env("TWOFA_THROTTLE_DELAY", "0")
            .env("TWOFA_LOCKOUT_AFTER", lockout_after.to_string())
            // Last, so that a test's own settings win over the defaults.
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(&log).expect("the server's log file"),
            ))
            .spawn()
            .expect("start twofa-service");
        let stdout = child.stdout.take().expect("its stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("its first line");
        let address = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("twofa-service did not start: {line:?}"))
            .to_owned();
        Self {
            child,
            base: address,
            outbox,
            log,
            store: store.clone(),
            lockout_after,
        }
    }

    /// What the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The notices sent to `phone`, oldest first.
    pub fn notices_to(&self, phone: &str) -> Vec<String> {
        let phone = twofa_service::phones::normalize(phone).expect("a phone number");
        let prefix = format!("{phone} NOTICE ");
        let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.strip_prefix(prefix.as_str()))
            .map(str::to_owned)
            .collect()
    }

    /// Kills the process (as a crash would) and starts another on the same
    /// store and outbox.
    pub fn restart(&mut self, dir: &Path) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        *self = Self::start(&self.store.clone(), dir, self.lockout_after);
    }

    /// The most memory the process has held (its peak resident set), in
    /// KiB, from Linux's `/proc`.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process's status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// The SMS codes sent to `phone`, oldest first.
    pub fn sms_to(&self, phone: &str) -> Vec<String> {
        let phone = twofa_service::phones::normalize(phone).expect("a phone number");
        let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.rsplit_once(' '))
            .filter(|(to, _)| *to == phone)
            .map(|(_, code)| code.to_owned())
            .inspect(|code| secrets::remember(code))
            .collect()
    }

    /// The last SMS code sent to `phone`.
    pub fn last_sms(&self, phone: &str) -> String {
        let phone = twofa_service::phones::normalize(phone).expect("a phone number");
        let phone = phone.as_str();
        let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
        text.lines()
            .rev()
            .filter_map(|line| line.rsplit_once(' '))
            .find(|(to, _)| *to == phone)
            .map(|(_, code)| code.to_owned())
            .inspect(|code| secrets::remember(code))
            .expect("an SMS was sent")
    }
}

impl Drop for Server {
    /// Stops the process, then checks that its log holds no secret any
    /// test used (its lines are printed on a failing test, for the story).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = self.log();
        if std::thread::panicking() {
            eprintln!("--- {} ---\n{log}", self.log.display());
            return;
        }
        let found = secrets::found_in(&log);
        assert!(
            found.is_empty(),
            "{} holds {} secrets the tests used",
            self.log.display(),
            found.len()
        );
    }
}

/// A client of the servers.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
}

impl Default for Client {
    fn default() -> Self {
        Self {
            http: reqwest::Client::new(),
        }
    }
}

impl Client {
    /// POSTs `body` (raw bytes, with `content_type`) and returns the status
    /// and the JSON answer (every answer is JSON).
    pub async fn post_raw(
        &self,
        server: &Server,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", server.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{path}: not JSON ({status}): {text:?}"));
        secrets::remember_json(&json);
        (status, json)
    }

    pub async fn post(&self, server: &Server, path: &str, body: &Value) -> (u16, Value) {
        secrets::remember_json(body);
        let bytes = serde_json::to_vec(body).expect("JSON");
        self.post_raw(server, path, "application/json", bytes).await
    }

    pub async fn with_bearer(
        &self,
        server: &Server,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.with_bearer_at(&server.base, path, token, body).await
    }

    /// As [`Client::with_bearer`], to the server at `base`.
    pub async fn with_bearer_at(
        &self,
        base: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        secrets::remember(token);
        if let Some(body) = body {
            secrets::remember_json(body);
        }
        let request = match body {
            Some(body) => self.http.post(format!("{base}{path}")).json(body),
            None => self.http.get(format!("{base}{path}")),
        };
        let response = request
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let json = response.json().await.expect("JSON");
        secrets::remember_json(&json);
        (status, json)
    }

    /// `DELETE` with a bearer token and no body.
    pub async fn delete_with_bearer(
        &self,
        server: &Server,
        path: &str,
        token: &str,
    ) -> (u16, Value) {
        let response = self
            .http
            .delete(format!("{}{path}", server.base))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    /// Seed 004's endpoint.
    pub async fn session(&self, server: &Server, fields: Value) -> (u16, Value) {
        let mut body = json!({"api_key": API_KEY, "source": "WEBAPI"});
        for (name, value) in fields.as_object().expect("fields") {
            body[name] = value.clone();
        }
        self.post(server, "/authentication/v1/user/session", &body)
            .await
    }

    /// `PASSWORD` + `REGISTER`: the register_token.
    pub async fn register(&self, server: &Server, user: &str) -> String {
        let (status, answer) = self
            .session(
                server,
                json!({"user_id": user, "password": PASSWORD, "second_auth_type": "REGISTER"}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer["data"]["register_token"]
            .as_str()
            .expect("a register_token")
            .to_owned()
    }

    /// `TOKEN` with a second factor.
    pub async fn token(
        &self,
        server: &Server,
        user: &str,
        ticket: &str,
        second: &str,
        value: &str,
    ) -> (u16, Value) {
        self.session(
            server,
            json!({"user_id": user, "login_type": "TOKEN", "password": ticket,
                   "second_auth_type": second, "second_auth": value}),
        )
        .await
    }

    /// Seed 001's endpoint with `key` as `head.Key`.
    pub async fn totp_login_with(
        &self,
        server: &Server,
        key: &str,
        user: &str,
        pin: &str,
        code: &str,
    ) -> (u16, Value) {
        self.post(
            server,
            "/VendorsAPI/Service1.svc/TOTPLogin",
            &json!({"head": {"Key": key},
                    "body": {"Email_ID": user, "TOTP": code, "PIN": pin}}),
        )
        .await
    }

    /// Seed 001's endpoint, with the client application's key.
    pub async fn totp_login(
        &self,
        server: &Server,
        user: &str,
        pin: &str,
        code: &str,
    ) -> (u16, Value) {
        self.totp_login_with(server, API_KEY, user, pin, code).await
    }

    /// Signs `user` up with the test password, MPIN and `phone`.
    pub async fn signup(&self, server: &Server, user: &str, phone: &str) {
        let (status, answer) = self
            .post(
                server,
                "/authentication/v1/user/signup",
                &json!({"user_id": user, "password": PASSWORD, "mpin": MPIN,
                        "phone": phone, "api_key": API_KEY}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }

    /// A login with an SMS code: the access token.
    pub async fn login_by_sms(&self, server: &Server, user: &str, phone: &str) -> String {
        let ticket = self.register(server, user).await;
        let (status, answer) = self.token(server, user, &ticket, "OTP", "").await;
        assert_eq!(status, 200, "{answer}");
        let code = server.last_sms(phone);
        let (status, answer) = self.token(server, user, &ticket, "OTP", &code).await;
        assert_eq!(status, 200, "{answer}");
        access_token(&answer)
    }

    /// Enrolls TOTP for the session's user: the person's authenticator.
    pub async fn enroll_totp(&self, server: &Server, access: &str) -> (Totp, String) {
        let (status, answer) = self
            .with_bearer(
                server,
                "/authentication/v1/user/totp/enroll",
                access,
                Some(&json!({})),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert!(
            answer["data"]["qr_svg"]
                .as_str()
                .is_some_and(|svg| svg.starts_with("<svg"))
        );
        let uri = KeyUri::parse(answer["data"]["otpauth_uri"].as_str().expect("a URI"))
            .expect("an otpauth URI");
        let Otp::Totp(totp) = uri.otp().clone() else {
            panic!("not TOTP")
        };
        let code = totp.generate_at(now()).expect("a code").to_string();
        let (status, answer) = self
            .with_bearer(
                server,
                "/authentication/v1/user/totp/confirm",
                access,
                Some(&json!({"code": code})),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        (totp, access_token(&answer))
    }
}

/// An answer's message: the service's own `message`, or the broker
/// login's `body.Message`.
pub fn message(answer: &Value) -> &str {
    answer["message"]
        .as_str()
        .or_else(|| answer["body"]["Message"].as_str())
        .unwrap_or_default()
}

pub fn access_token(answer: &Value) -> String {
    answer["data"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {answer}"))
        .to_owned()
}

pub fn now() -> u64 {
    twofa::unix_time().expect("a clock")
}

/// The code the authenticator shows `steps` steps from now.
pub fn code_at(totp: &Totp, steps: i64) -> String {
    let at = now().saturating_add_signed(steps * 30);
    totp.generate_at(at).expect("a code").to_string()
}

/// The person's registered phone: an Ed25519 key.
#[derive(Debug)]
pub struct Phone(pub SigningKey);

impl Phone {
    pub fn public_key_hex(&self) -> String {
        hex(self.0.verifying_key().as_bytes())
    }

    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex(&self.0.sign(message).to_bytes())
    }

    /// Registers this phone for the session's user, named `name`: the
    /// new access token and the device's id.
    pub async fn register(
        &self,
        client: &Client,
        server: &Server,
        access: &str,
        name: &str,
    ) -> (String, String) {
        let key = json!({"algorithm": "Ed25519", "public_key": self.public_key_hex()});
        let (status, answer) = client
            .with_bearer(
                server,
                "/authentication/v1/user/device/register/start",
                access,
                Some(&key),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let message = unhex(answer["data"]["message"].as_str().expect("a message"));
        let mut finish = key.clone();
        finish["signature"] = json!(self.sign_hex(&message));
        finish["name"] = json!(name);
        let (status, answer) = client
            .with_bearer(
                server,
                "/authentication/v1/user/device/register/finish",
                access,
                Some(&finish),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let id = answer["data"]["device_id"]
            .as_str()
            .expect("an id")
            .to_owned();
        (access_token(&answer), id)
    }

    /// The device's own request for its prompt: status and answer.
    pub async fn ask_prompt(
        &self,
        client: &Client,
        server: &Server,
        user: &str,
        device_id: &str,
    ) -> (u16, Value) {
        let at = now();
        let id: [u8; 16] = unhex(device_id).try_into().expect("16 bytes");
        let signature = self.sign_hex(&twofa::Device::prompt_request_message(user, &id, at));
        let request = json!({"user_id": user, "device_id": device_id, "at": at,
                             "signature": signature});
        client
            .post(server, "/authentication/v1/device/prompt", &request)
            .await
    }

    /// The prompt the phone shows, signed with the number the person enters.
    pub async fn answer(
        &self,
        client: &Client,
        server: &Server,
        user: &str,
        device_id: &str,
        number: u8,
    ) -> String {
        let (status, answer) = self.ask_prompt(client, server, user, device_id).await;
        assert_eq!(status, 200, "{answer}");
        let prompt: DevicePrompt =
            serde_json::from_value(answer["data"]["prompt"].clone()).expect("a prompt");
        self.sign_hex(&prompt.message(user, number))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}
