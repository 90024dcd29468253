//! What every request shares: the store, the guard and its policies, the
//! keys, the SMS sender; and the few steps every endpoint takes through
//! them (a record read or changed, a TOTP factor opened, a session issued
//! or checked).

use std::fmt;

use subtle::{ConditionallySelectable, ConstantTimeEq};
use twofa::webauthn::RelyingParty;
use twofa::{
    AccountState, Binding, DevicePolicy, DigestKey, Guard, OobPolicy, PasskeyPolicy, RecoveryKeys,
    RecoveryPolicy, RememberPolicy, SecondFactor, SecretKind, SharedError, ThrottlePolicy,
    TicketPolicy, Token, Totp,
};
use twofa_record::Record;
use twofa_stores::{AnyStore, BoxError};
use zeroize::Zeroizing;

use crate::{
    addresses::{AddressPolicy, Addresses},
    config::{Config, SmsLimits},
    keys::Keys,
    records::{Sessions, User},
    sender::Sender,
};

/// How long a request token (seed 001) or access token (seed 004) lasts:
/// 60 minutes, as the seeds say.
pub const SESSION_TTL: u64 = 3600;

/// The purpose TOTP secrets are sealed for, and the name they are kept
/// under in the account's [`twofa::SealedSecrets`].
pub const TOTP: &str = "totp";

/// The purpose recovery-code sets are bound to.
pub const RECOVERY: &str = "recovery";

/// A TOTP secret shown for enrollment and not yet confirmed.
pub const TOTP_PENDING: &str = "totp-pending";

/// A live session, as its bearer token names it.
#[derive(Debug)]
pub struct LiveSession {
    /// The account it is a session of.
    pub account: String,
    /// Its token's public half, by which it is ended.
    pub id: [u8; 16],
    /// The login it began with.
    pub login: Login,
    /// The account's credential version it was issued at: a factor change
    /// decided for it checks that the account is still there.
    pub credential_version: u64,
}

/// The login a session began with: when, and with which second factor
/// (a remembered browser's cookie, [`SecondFactor::RememberedDevice`],
/// skips it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Login {
    /// Unix time of the login.
    pub at: u64,
    /// The second factor it checked.
    pub factor: SecondFactor,
}

impl Login {
    /// Whether it checked a second factor.
    pub fn checked_second_factor(&self) -> bool {
        self.factor != SecondFactor::RememberedDevice
    }
}

/// The factors a session's login may have checked: each binds its tokens
/// to a purpose of its own.
const LOGIN_FACTORS: [SecondFactor; 7] = [
    SecondFactor::Totp,
    SecondFactor::Passkey,
    SecondFactor::OutOfBand,
    SecondFactor::Device,
    SecondFactor::Recovery,
    SecondFactor::Hotp,
    SecondFactor::RememberedDevice,
];

/// A server-side failure: the store, the random generator, a key. The
/// client gets a 503 and the details go to the log (they hold no secret).
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<twofa::Error> for Failure {
    fn from(e: twofa::Error) -> Self {
        Self(e.to_string())
    }
}

impl From<BoxError> for Failure {
    fn from(e: BoxError) -> Self {
        Self(format!("the store failed: {e}"))
    }
}

impl From<SharedError<BoxError>> for Failure {
    fn from(e: SharedError<BoxError>) -> Self {
        Self(e.to_string())
    }
}

/// The service, shared by every request.
pub struct App {
    /// Every record: the core's kinds and the service's own.
    pub store: AnyStore,
    /// The throttle and the checks.
    pub guard: Guard,
    /// Sealing and digest keys, recovery peppers.
    pub keys: Keys,
    /// `register_token`s: 10 minutes.
    pub tickets: TicketPolicy,
    /// SMS codes.
    pub sms: OobPolicy,
    /// Registered devices.
    pub devices: DevicePolicy,
    /// Passkeys: their challenges' life and how many an account keeps.
    pub passkeys: PasskeyPolicy,
    /// The WebAuthn relying party: `TWOFA_RP_ID` and `TWOFA_ORIGINS`.
    pub rp: RelyingParty<'static>,
    /// Whether a Redis that can lose a save was accepted by name
    /// (`TWOFA_REDIS_ACCEPT_LOSS`): what `/readyz` checks again.
    pub accept_redis_loss: bool,
    /// The store's backend, for `/readyz`'s answer.
    pub backend: String,
    /// "Don't ask again on this browser".
    pub remember: RememberPolicy,
    /// Request and access tokens ([`SESSION_TTL`]).
    pub sessions: RememberPolicy,
    /// Recovery codes.
    pub recovery: RecoveryPolicy,
    /// The SMS gateway.
    pub sender: Box<dyn Sender>,
    /// What `/metrics` serves.
    pub metrics: crate::metrics::Metrics,
    /// This app, once it is shared: what the telling of a decision runs
    /// on when the request that made it is gone ([`App::share`]).
    pub(crate) me: std::sync::OnceLock<std::sync::Weak<App>>,
    /// The client applications' API keys.
    pub api_keys: Vec<Zeroizing<String>>,
    /// The issuer in otpauth URIs.
    pub issuer: String,
    /// How recent a login with a second factor must be to change the
    /// account's factors (`TWOFA_FRESH_LOGIN`): a token that leaked cannot
    /// install an attacker's factor later, however it was renewed.
    pub fresh_login: u64,
    /// An Argon2id hash of random bytes: what an unknown user's password
    /// is checked against, so that the answer takes as long.
    pub decoy: String,
    /// The least time a refusal of the first step takes, whatever refused
    /// it (a wrong password, an unknown id, a throttled account): the real
    /// check does a read and a write more than the others, and the floor
    /// hides them.
    pub first_step_floor: std::time::Duration,
    /// The accounts with a factor change under way in this process.
    changing: Changing,
    /// The per-address limit on failed first factors.
    pub addresses: Addresses,
    /// The per-address limit on sign-ups.
    pub signups: Addresses,
    /// The per-number and overall limits on SMS sends.
    pub sms_limits: SmsLimits,
    /// Users' own API keys: a year each.
    pub user_keys: RememberPolicy,
    /// Whether seed 001's `head.Key` is the user's own key (or else a
    /// client application's).
    pub totplogin_user_keys: bool,
    /// The operators' names, in the order of `admin_keys`.
    admin_names: Vec<String>,
    /// The operators' admin keys.
    admin_keys: Vec<Zeroizing<String>>,
}

/// The index of `typed` among `known` (each at most
/// [`App::MAX_API_KEY`] bytes): every key compared whole at that length
/// and its length compared too, in constant time, so neither the match
/// nor a key's length shows in the time taken.
fn find_key(known: &[Zeroizing<String>], typed: &str) -> Option<usize> {
    let padded = |text: &str| {
        let mut block = Zeroizing::new([0u8; App::MAX_API_KEY]);
        for (slot, byte) in block.iter_mut().zip(text.as_bytes()) {
            *slot = *byte;
        }
        block
    };
    let typed_block = padded(typed);
    let typed_len = typed.len() as u64;
    let mut found = subtle::Choice::from(0);
    let mut index = 0u64;
    for (i, key) in (0u64..).zip(known) {
        let same = padded(key).ct_eq(&*typed_block) & (key.len() as u64).ct_eq(&typed_len);
        index.conditional_assign(&i, same);
        found |= same;
    }
    // A longer key is none of them (the configured ones are bounded).
    (bool::from(found) && typed.len() <= App::MAX_API_KEY)
        .then(|| usize::try_from(index).ok())
        .flatten()
}

/// A user record that is not the service's own, as an error for the log.
fn corrupt_user(account: &str) -> Failure {
    Failure(format!(
        "the user record of {account:?} was not written by this service (forged or copied): refused as corrupt"
    ))
}

/// The service's throttle: waits from `TWOFA_THROTTLE_DELAY` doubling up
/// to 300 s, a lock after `TWOFA_LOCKOUT_AFTER` failures lasting
/// `TWOFA_LOCKOUT_SECONDS`, each further lock twice the one before up to
/// `TWOFA_LOCKOUT_MAX_SECONDS`; at 100 in a row, until an operator
/// unlocks it.
///
/// # Errors
/// The settings do not make a policy.
pub fn throttle_policy(config: &Config) -> Result<ThrottlePolicy, Failure> {
    ThrottlePolicy::builder()
        .base_delay(config.throttle_delay)
        .max_delay(config.throttle_delay.max(300))
        .lockout_after(config.lockout_after)
        // A lock that ends, and grows: nobody can lock an account for
        // good by guessing wrong on purpose, short of the core's 100 in a
        // row, and that takes months (the README's figure).
        .lockout_duration(Some(config.lockout_seconds))
        .max_lockout_duration(Some(config.lockout_max_seconds))
        .build()
        .map_err(|_| {
            Failure(
                "TWOFA_LOCKOUT_AFTER must be 1 to 100, TWOFA_THROTTLE_DELAY at most 300, \
                 TWOFA_LOCKOUT_SECONDS at least 300, TWOFA_LOCKOUT_MAX_SECONDS at least that"
                    .into(),
            )
        })
}

/// Refuses a Redis whose configuration can lose a save (a used code
/// accepted again after a crash), or whose configuration cannot be read,
/// unless `accept_loss` says otherwise by name; then it warns.
///
/// # Errors
/// The Redis can lose a save, or its configuration cannot be read.
pub async fn check_durability(store: &AnyStore, accept_loss: bool) -> Result<(), Failure> {
    let problems = match store.durability_problems().await {
        Ok(problems) => problems,
        Err(e) => vec![format!(
            "its configuration cannot be read ({e}): check it by hand"
        )],
    };
    if problems.is_empty() {
        return Ok(());
    }
    let problems = problems.join("; ");
    if accept_loss {
        tracing::warn!(%problems, "the Redis store can lose a save");
        return Ok(());
    }
    Err(Failure(format!(
        "the Redis store can lose a save ({problems}): configure it as docs/instances.md (\"Redis durability\") says, or start with TWOFA_REDIS_ACCEPT_LOSS=1 to accept that"
    )))
}

/// The relying party of `config`. Its strings live as long as the
/// process: they are configuration, read once. A web origin must be on
/// the RP ID's domain (the browser would refuse every ceremony there).
fn relying_party(config: &Config) -> Result<RelyingParty<'static>, Failure> {
    for origin in &config.origins {
        let web = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let on_domain = match web {
            // Browsers write origins in lower case, without a path.
            Some(rest) => {
                let host = rest.split(':').next().unwrap_or_default();
                !rest.contains('/')
                    && !origin.bytes().any(|b| b.is_ascii_uppercase())
                    && (host == config.rp_id || host.ends_with(&format!(".{}", config.rp_id)))
            }
            // A native app's origin (`android:apk-key-hash:…`): a scheme
            // of its own, compared as it is.
            None => origin.contains(':') && !origin.contains("//"),
        };
        if !on_domain {
            return Err(Failure(format!(
                "TWOFA_ORIGINS: {origin:?} is not an origin on the domain of TWOFA_RP_ID {:?} \
                 (set TWOFA_ORIGINS to the page's origins, as https://login.example.com, \
                 in lower case and without a path)",
                config.rp_id
            )));
        }
    }
    let id: &'static str = Box::leak(config.rp_id.clone().into_boxed_str());
    let origins: Vec<&'static str> = config
        .origins
        .iter()
        .map(|origin| &*Box::leak(origin.clone().into_boxed_str()))
        .collect();
    let origins: &'static [&'static str] = Box::leak(origins.into_boxed_slice());
    RelyingParty::new(id, origins)
        .map_err(|_| Failure("TWOFA_RP_ID and TWOFA_ORIGINS must not be empty".into()))
}

/// The accounts with a factor change under way: one at a time each, so
/// that one person cannot queue the hashing of every other.
type Changing = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>;

/// The one factor change of an account under way in this process; the
/// account is free again when it drops.
#[derive(Debug)]
pub struct OneChange {
    changing: Changing,
    account: String,
}

impl Drop for OneChange {
    fn drop(&mut self) {
        let mut changing = self
            .changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        changing.remove(&self.account);
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the store: its pool's options may hold a database password.
        f.debug_struct("App")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The service `config` describes, over `store` (connected).
    ///
    /// # Errors
    /// A bad setting, the store failed, or the keys do not open.
    pub async fn new(
        config: &Config,
        store: AnyStore,
        sender: Box<dyn Sender>,
    ) -> Result<Self, Failure> {
        let throttle = throttle_policy(config)?;
        let keys = Keys::load(config, &store).await.map_err(Failure)?;
        let mut api_keys = config.api_keys.clone();
        if api_keys.iter().any(|key| key.len() > Self::MAX_API_KEY) {
            return Err(Failure(format!(
                "TWOFA_API_KEYS: each key is at most {} bytes",
                Self::MAX_API_KEY
            )));
        }
        if api_keys.is_empty() {
            tracing::warn!("no TWOFA_API_KEYS: the demo key \"demo-api-key\" is accepted");
            api_keys.push(Zeroizing::new("demo-api-key".to_owned()));
        }
        let mut decoy = Zeroizing::new(String::new());
        for _ in 0..4 {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).map_err(|e| Failure(e.to_string()))?;
            decoy.push_str(&u64::from_le_bytes(bytes).to_string());
        }
        // How long one hash takes here sets how long every refusal of the
        // first step lasts at least: longer than a wrong password's real
        // check (the hash, the reads, the counting write) ever takes when
        // the service is not overloaded.
        let hashing = std::time::Instant::now();
        let login = crate::hashing::Class::Login;
        let decoy = crate::passwords::hash(login, decoy)
            .await
            .map_err(Failure)?;
        let first_step_floor = hashing.elapsed() * 2 + std::time::Duration::from_millis(20);
        Ok(Self {
            store,
            guard: Guard::new(throttle),
            keys,
            tickets: TicketPolicy::default(),
            sms: OobPolicy::default(),
            devices: DevicePolicy::default(),
            passkeys: PasskeyPolicy::default(),
            rp: relying_party(config)?,
            accept_redis_loss: config.accept_redis_loss,
            backend: config.store.0.clone(),
            remember: RememberPolicy::default(),
            sessions: RememberPolicy::new(SESSION_TTL)?,
            // The service always has a pepper: a stored set without one
            // was not made here.
            recovery: RecoveryPolicy::default().with_pepper_required(),
            sender,
            metrics: crate::metrics::Metrics::new(),
            me: std::sync::OnceLock::new(),
            api_keys,
            issuer: config.issuer.clone(),
            fresh_login: config.fresh_login,
            decoy,
            first_step_floor,
            changing: Changing::default(),
            addresses: Addresses::new(config.address),
            signups: Addresses::new(AddressPolicy {
                capacity: config.signups_per_address,
                refill: 3600 / u64::from(config.signups_per_address.max(1)),
                max_tracked: config.address.max_tracked,
            }),
            sms_limits: config.sms,
            user_keys: RememberPolicy::new(365 * 86_400)?,
            totplogin_user_keys: config.totplogin_user_keys,
            admin_names: config
                .admin_keys
                .iter()
                .map(|(name, _)| name.clone())
                .collect(),
            admin_keys: config
                .admin_keys
                .iter()
                .map(|(_, key)| key.clone())
                .collect(),
        })
    }

    /// Shares the app: the telling of every decision then runs to its
    /// end even if the request that made it is dropped (the client hung
    /// up, the server is stopping), so a saved decision always reaches
    /// the trail and the notices.
    #[must_use]
    pub fn share(self) -> std::sync::Arc<Self> {
        let app = std::sync::Arc::new(self);
        let _ = app.me.set(std::sync::Arc::downgrade(&app));
        app
    }

    /// The name of the operator whose admin key `key` is, if any: every
    /// key compared in constant time, as [`App::api_key_ok`] does.
    pub fn admin(&self, key: &str) -> Option<&str> {
        find_key(&self.admin_keys, key).and_then(|i| self.admin_names.get(i).map(String::as_str))
    }

    /// `account`'s one factor change, unless another is under way in this
    /// process. (Across instances, each change still checks the session's
    /// credential version inside its compare-and-swap.)
    pub fn begin_change(&self, account: &str) -> Option<OneChange> {
        let mut changing = self
            .changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        changing.insert(account.to_owned()).then(|| OneChange {
            changing: self.changing.clone(),
            account: account.to_owned(),
        })
    }

    /// The longest API key: keys are compared at this length.
    pub const MAX_API_KEY: usize = 256;

    /// Whether `key` is one of the configured API keys: every key tried,
    /// each compared in constant time over [`App::MAX_API_KEY`] bytes (the
    /// key zero-padded) and its length, so that neither where a key
    /// differs nor how long it is shows in the time taken.
    pub fn api_key_ok(&self, key: &str) -> bool {
        find_key(&self.api_keys, key).is_some()
    }

    /// The current digest key (what new tickets, codes and tokens are
    /// made under).
    ///
    /// # Errors
    /// None is loaded (never, once [`App::new`] succeeded).
    pub fn digest_key(&self) -> Result<&DigestKey, Failure> {
        self.keys
            .digest
            .first()
            .ok_or_else(|| Failure("no digest key".into()))
    }

    /// The keys recovery-code sets are made and checked with.
    pub fn recovery_keys(&self) -> RecoveryKeys<'_> {
        RecoveryKeys {
            digest: &self.keys.digest,
            peppers: &self.keys.peppers,
        }
    }

    /// `account`'s record of kind `T` (the default if it has none).
    ///
    /// # Errors
    /// The store failed.
    pub async fn load<T: Record>(&self, account: &str) -> Result<T, Failure> {
        Ok(twofa::AccountStore::<T>::load(&self.store, account)
            .await?
            .state)
    }

    /// `account`'s user record, checked: the default (no such user) if it
    /// has none.
    ///
    /// # Errors
    /// The store failed, or the record is not one the service wrote for
    /// this account (forged, or copied from another): refused as corrupt.
    pub async fn user(&self, account: &str) -> Result<User, Failure> {
        let user: User = self.load(account).await?;
        if user.exists() && !user.is_genuine(&self.keys.digest, account)? {
            return Err(corrupt_user(account));
        }
        Ok(user)
    }

    /// Changes `account`'s user record with `change` in one
    /// compare-and-swap, checked first and sealed after ([`User::seal`]).
    ///
    /// # Errors
    /// As [`App::user`] and [`App::decide`].
    pub async fn change_user<A: Send>(
        &self,
        account: &str,
        mut change: impl FnMut(&mut User) -> A + Send,
    ) -> Result<A, Failure> {
        let key = self.digest_key()?;
        let changed = self
            .decide(account, |user: &mut User| {
                if user.exists() && !user.is_genuine(&self.keys.digest, account)? {
                    return Ok(None);
                }
                let answer = change(user);
                if user.exists() {
                    user.seal(key, account);
                }
                Ok(Some(answer))
            })
            .await?;
        changed.ok_or_else(|| corrupt_user(account))
    }

    /// Changes `account`'s record of kind `T` with `decide`, under the
    /// store's compare-and-swap (retried when another instance wrote first).
    ///
    /// # Errors
    /// The store failed, `decide` did, or the record kept changing.
    pub async fn decide<T: Record, A: Send>(
        &self,
        account: &str,
        mut decide: impl FnMut(&mut T) -> Result<A, twofa::Error> + Send,
    ) -> Result<A, Failure> {
        let started = std::time::Instant::now();
        // The events of the attempt that is saved: each attempt starts
        // from a state loaded afresh, so a lost one tells nothing. Whether
        // it changed the state (an unchanged one is not written) decides
        // whether they reach the trail.
        let mut told = |state: &mut T| {
            let before = state.clone();
            let answer = decide(state)?;
            let saved = *state != before;
            Ok((answer, state.take_events(), saved))
        };
        let decided = self.decide_retrying(account, &mut told).await;
        self.metrics.store("decide", started.elapsed());
        let (answer, events, saved) = decided?;
        if !events.is_empty() {
            self.tell_detached(account, events, saved).await;
        }
        Ok(answer)
    }

    /// [`App::decide`]'s rounds of compare-and-swap, with nothing told:
    /// for the service's own counts (an SMS sent to a number), whose
    /// records journal nothing.
    ///
    /// # Errors
    /// As [`App::decide`].
    pub async fn decide_retrying<T: Record, A: Send>(
        &self,
        account: &str,
        mut decide: impl FnMut(&mut T) -> Result<A, twofa::Error> + Send,
    ) -> Result<A, Failure> {
        // Many requests on one account at once (a guessing storm, a
        // client retrying in a loop) can outlast the core's immediate
        // retries: those that lost then wait a random moment, growing, and
        // go again, so that each is decided rather than refused.
        let mut wait_ms = 2;
        for _ in 0..Self::CONTENTION_ROUNDS {
            match self
                .guard
                .decide_shared(&self.store, account, &mut decide)
                .await
            {
                Err(SharedError::Contention) => {
                    self.metrics.retried();
                    let mut byte = [0u8; 1];
                    getrandom::fill(&mut byte).map_err(|e| Failure(e.to_string()))?;
                    let jitter = u64::from(byte[0]) % wait_ms;
                    tokio::time::sleep(std::time::Duration::from_millis(wait_ms + jitter)).await;
                    wait_ms = (wait_ms * 2).min(64);
                }
                result => return Ok(result?),
            }
        }
        Err(SharedError::<BoxError>::Contention.into())
    }

    /// Rounds of the core's retries [`App::decide`] runs before it gives up.
    pub const CONTENTION_ROUNDS: u32 = 8;

    /// Whether `account` has a TOTP factor enabled (for the answers
    /// given before a decision; a login opens the secret inside its own
    /// decision, [`App::open_totp`]).
    ///
    /// # Errors
    /// The store failed.
    pub async fn has_totp(&self, account: &str) -> Result<bool, Failure> {
        let state: AccountState = self.load(account).await?;
        Ok(state.secrets.contains(TOTP))
    }

    /// The TOTP secret kept under `name` in `state` (the state a decision
    /// is being made on, so that a secret replaced by another instance is
    /// never used after the change).
    ///
    /// # Errors
    /// The sealed secret does not open.
    pub fn open_totp(
        &self,
        state: &AccountState,
        account: &str,
        name: &str,
    ) -> Result<Option<Totp>, twofa::Error> {
        let secret = state
            .secrets
            .open(&self.keys.keyring, account, name, SecretKind::Totp)?;
        Ok(secret.map(Totp::new))
    }

    /// A new request token for `account`, for the session that `login`
    /// began: `ACCOUNT:TOKEN`, its keyed digest kept in the account's
    /// [`Sessions`], bound to the account's credentials at `version`. The
    /// version is the one the decision that earned the session saw (the
    /// login's, or the factor change's), never one read after it: a factor
    /// removed in between then ends this session too.
    ///
    /// # Errors
    /// The store or the random generator failed.
    pub async fn issue_session(
        &self,
        account: &str,
        login: Login,
        version: u64,
        now: u64,
    ) -> Result<String, Failure> {
        let key = self.digest_key()?;
        let binding = Binding::new(account, session_purpose(login.factor));
        // Dated from the login, never from now: a token renewed by a
        // factor change is no fresher than the login it began with, and
        // ends when that login's session would have.
        let ends = login.at.saturating_add(SESSION_TTL);
        let (token, record) = self.sessions.issue_until(
            key,
            &mut getrandom::SysRng,
            binding,
            version,
            login.at,
            ends,
        )?;
        self.decide(account, |sessions: &mut Sessions| {
            sessions.add(record.clone(), version, now);
            Ok(())
        })
        .await?;
        Ok(format!("{account}:{token}"))
    }

    /// The account a bearer token (`ACCOUNT:TOKEN`) is a live session of
    /// (issued here, not expired, not ended, and issued since the
    /// account's credentials last changed).
    ///
    /// # Errors
    /// The store failed.
    pub async fn session_account(
        &self,
        bearer: &str,
        now: u64,
    ) -> Result<Option<LiveSession>, Failure> {
        let Some((account, token)) = bearer.rsplit_once(':') else {
            return Ok(None);
        };
        let Ok(token) = token.parse::<Token>() else {
            return Ok(None);
        };
        if !User::valid_id(account) {
            return Ok(None);
        }
        let sessions: Sessions = self.load(account).await?;
        let Some(record) = sessions
            .tokens
            .iter()
            .find(|record| record.id == token.id())
        else {
            return Ok(None);
        };
        let state: AccountState = self.load(account).await?;
        // Which second factor its login checked is part of what the
        // token's digest binds: no edit of the record can change it.
        let live = |factor| {
            let binding = Binding::new(account, session_purpose(factor));
            record
                .check(
                    &self.keys.digest,
                    binding,
                    &token,
                    state.credential_version,
                    now,
                )
                .map(|checked| checked.is_ok())
        };
        let mut checked = None;
        for factor in LOGIN_FACTORS {
            if live(factor)? {
                checked = Some(factor);
            }
        }
        let Some(factor) = checked else {
            return Ok(None);
        };
        Ok(Some(LiveSession {
            account: account.to_owned(),
            id: record.id,
            login: Login {
                at: record.issued_at,
                factor,
            },
            credential_version: record.credential_version,
        }))
    }

    /// Ends `account`'s session `id`: a logout.
    ///
    /// # Errors
    /// The store failed.
    pub async fn end_session(&self, account: &str, id: &[u8; 16]) -> Result<(), Failure> {
        self.decide(account, |sessions: &mut Sessions| {
            sessions.tokens.retain(|record| &record.id != id);
            Ok(())
        })
        .await
    }

    /// Ends every other session of `session`'s account, and every
    /// remembered browser and login in progress, in one decision that
    /// moves the account's credential version: a factor change still in
    /// flight for another session is then refused in its own decision.
    /// The caller's session goes on under a new token (for the same
    /// login), or `None` if the account's factors changed since it began.
    ///
    /// # Errors
    /// The store failed.
    pub async fn end_other_sessions(
        &self,
        session: &LiveSession,
        now: u64,
    ) -> Result<Option<String>, Failure> {
        let ended = self
            .decide(&session.account, |state: &mut AccountState| {
                if state.credential_version != session.credential_version {
                    return Ok(None);
                }
                state.credentials_changed();
                Ok(Some(state.credential_version))
            })
            .await?;
        let Some(version) = ended else {
            return Ok(None);
        };
        Ok(Some(
            self.issue_session(&session.account, session.login, version, now)
                .await?,
        ))
    }
}

/// The purpose a session token's digest is bound to: one for each second
/// factor its login may have checked, and one for sessions begun with a
/// remembered browser's cookie.
fn session_purpose(factor: SecondFactor) -> &'static str {
    match factor {
        SecondFactor::Totp => "session after TOTP",
        SecondFactor::OutOfBand => "session after an SMS code",
        SecondFactor::Device => "session after a device",
        SecondFactor::Recovery => "session after a recovery code",
        SecondFactor::Hotp => "session after HOTP",
        SecondFactor::Passkey => "session after a passkey",
        _ => "session without a second factor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_states_the_time_to_the_permanent_lock_with_the_defaults() {
        let defaults = Config::from_env_and_args(Vec::new()).unwrap();
        let policy = throttle_policy(&defaults).unwrap();
        let seconds = policy.time_to_permanent_lock().unwrap();
        let days = seconds / 86_400;
        assert!(days >= 80, "{seconds} s");
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&format!("**{days} days**")),
            "the README should say {days} days"
        );
    }
}
