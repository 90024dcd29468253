//! The races: what is set up before the processes start, and what each
//! of their tasks tries. Every attempt goes through the guard's shared
//! check ([`Guard::decide_shared`]) on the store, as a service's would.

use getrandom::SysRng;
use twofa::{
    AccountState, EnrollmentNames, FirstFactor, Guard, HotpAccount, Outcome, SecondFactor, Secret,
    SecretKind, SharedError, Totp, TotpAccount,
};

use crate::{
    AnyStore, BoxError, authenticator,
    fixtures::{
        NOW, allowed, binding, digest_key, guard, hotp, keyring, oob_policy, recovery_keys,
        recovery_policy, sign, ticket_policy, totp,
    },
};

/// A race: one kind of state, one single-use thing or one limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Every task tries each round's TOTP code (kind `totp`).
    TotpCode,
    /// Every task tries each round's HOTP code (kind `hotp`).
    HotpCode,
    /// Every task tries each round's HOTP code on the account's one record
    /// (kind `account`: the counter beside every other factor).
    AccountHotp,
    /// Every task guesses wrong TOTP codes (kind `totp`).
    TotpGuess,
    /// Every task guesses wrong, cycling through the PIN, TOTP,
    /// out-of-band, recovery codes and tickets (kind `account`).
    AccountGuess,
    /// Every task completes one pending login, each with a recovery code
    /// of its own.
    Ticket,
    /// Every task brings the same recovery code, each with a pending
    /// login of its own.
    RecoveryCode,
    /// Every task answers the out-of-band challenge with its code.
    OobChallenge,
    /// Every task answers the device challenge with the phone's signature.
    DeviceChallenge,
    /// Every task confirms the one pending TOTP enrollment with the same
    /// code: the secret, its step and the credential version move in the
    /// account's one record.
    TotpConfirm,
    /// Every task brings the same passkey assertion to the same sign-in
    /// challenge (sealed, kept nowhere: single use is in the account).
    PasskeySignIn,
    /// Every task completes one pending login with the same passkey
    /// assertion to that login's challenge.
    PasskeyChallenge,
}

/// Rounds of the code races: each round a new code.
pub const ROUNDS: u64 = 10;
/// Guesses each task sends in the guessing races: 8 tasks send 240,
/// more than twice the lockout.
pub const GUESSES: usize = 30;

impl Scenario {
    /// Every race.
    pub const ALL: [Self; 12] = [
        Self::TotpCode,
        Self::HotpCode,
        Self::AccountHotp,
        Self::TotpGuess,
        Self::AccountGuess,
        Self::Ticket,
        Self::RecoveryCode,
        Self::OobChallenge,
        Self::DeviceChallenge,
        Self::TotpConfirm,
        Self::PasskeySignIn,
        Self::PasskeyChallenge,
    ];

    /// The name on the command line and in the table.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::TotpCode => "totp-code",
            Self::HotpCode => "hotp-code",
            Self::AccountHotp => "account-hotp",
            Self::TotpGuess => "totp-guess",
            Self::AccountGuess => "account-guess",
            Self::Ticket => "ticket",
            Self::RecoveryCode => "recovery-code",
            Self::OobChallenge => "oob-challenge",
            Self::DeviceChallenge => "device-challenge",
            Self::TotpConfirm => "totp-confirm",
            Self::PasskeySignIn => "passkey-sign-in",
            Self::PasskeyChallenge => "passkey-challenge",
        }
    }

    /// The race named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scenario| scenario.name() == name)
    }

    /// The kind of record raced.
    #[must_use]
    pub fn kind(self) -> &'static str {
        match self {
            Self::TotpCode | Self::TotpGuess => "totp",
            Self::HotpCode => "hotp",
            _ => "account",
        }
    }

    /// What must hold, for the table.
    #[must_use]
    pub fn claim(self) -> &'static str {
        match self {
            Self::TotpCode | Self::HotpCode | Self::AccountHotp => "each code accepted once",
            Self::TotpGuess => "at most 100 guesses compared",
            Self::AccountGuess => "at most 100 guesses compared, every factor mixed",
            Self::Ticket => "a ticket spent once",
            Self::RecoveryCode => "a recovery code used once",
            Self::OobChallenge => "an out-of-band code answered once",
            Self::DeviceChallenge => "a device challenge answered once",
            Self::TotpConfirm => "an enrollment confirmed once",
            Self::PasskeySignIn => "a passkey sign-in challenge accepted once",
            Self::PasskeyChallenge => "a passkey challenge answered once",
        }
    }

    /// Rounds each task runs.
    #[must_use]
    pub fn rounds(self) -> u64 {
        match self {
            Self::TotpCode | Self::HotpCode | Self::AccountHotp => ROUNDS,
            _ => 1,
        }
    }

    /// Concurrent tasks in each racing process: the passkey races send 16
    /// answers at once, the others 8.
    #[must_use]
    pub fn tasks(self) -> usize {
        match self {
            Self::PasskeySignIn | Self::PasskeyChallenge => 4,
            _ => 2,
        }
    }

    /// Attempts each task makes in a round.
    #[must_use]
    pub fn tries(self) -> usize {
        match self {
            Self::TotpGuess | Self::AccountGuess => GUESSES,
            _ => 1,
        }
    }
}

/// An outcome as a word of the workers' output.
fn word<M>(outcome: &Outcome<M>) -> &'static str {
    match outcome {
        Outcome::Accepted(_) => "accepted",
        Outcome::Invalid { .. } => "invalid",
        Outcome::Replayed => "replayed",
        Outcome::Malformed => "malformed",
        Outcome::TooSoon { .. } => "too-soon",
        Outcome::Locked { .. } => "locked",
        Outcome::Expired => "expired",
        Outcome::NotAllowed => "not-allowed",
    }
}

/// A shared check's answer as a word; a lost race past every retry is
/// `contention`, a failed store an error.
fn answer<M>(result: Result<Outcome<M>, SharedError<BoxError>>) -> Result<&'static str, BoxError> {
    match result {
        Ok(outcome) => Ok(word(&outcome)),
        Err(SharedError::Contention) => Ok("contention"),
        Err(SharedError::Store(e)) => Err(e),
        Err(SharedError::Check(e)) => Err(e.into()),
    }
}

/// Prepares `account` for `scenario` through the store; returns what the
/// workers need (tickets, codes), one item a line.
///
/// # Errors
/// The store failed, or a step of the setup was refused.
pub async fn setup(
    store: &AnyStore,
    scenario: Scenario,
    account: &str,
) -> Result<Vec<String>, BoxError> {
    let guard = guard();
    let login = binding(account, "login");
    let key = digest_key();
    let data = guard
        .decide_shared(store, account, |state: &mut AccountState| {
            let mut data = Vec::new();
            let first_step = |state: &mut AccountState| -> Result<String, twofa::Error> {
                let outcome = guard.begin_login(
                    state,
                    &ticket_policy(),
                    &key,
                    &mut SysRng,
                    login,
                    FirstFactor::Pin,
                    allowed(),
                    NOW,
                    || true,
                )?;
                Ok(match outcome {
                    Outcome::Accepted(ticket) => ticket.to_string(),
                    _ => String::new(),
                })
            };
            match scenario {
                Scenario::AccountGuess | Scenario::Ticket | Scenario::RecoveryCode => {
                    let owner = binding(account, "recovery");
                    let (codes, record) = recovery_policy().generate(
                        &mut SysRng,
                        recovery_keys(std::slice::from_ref(&key)),
                        owner,
                    )?;
                    state.recovery = Some(record);
                    match scenario {
                        // A ticket and a recovery code of another
                        // account: unknown here.
                        Scenario::AccountGuess => {
                            // A login waiting for its SMS code, to guess at.
                            let sms = first_step(state)?;
                            let sent = guard.challenge_oob(
                                state,
                                &oob_policy(),
                                &key,
                                &mut SysRng,
                                std::slice::from_ref(&key),
                                login,
                                &sms,
                                NOW,
                            )?;
                            if !sent.is_accepted() {
                                return Err(twofa::Error::InvalidPolicy);
                            }
                            let other = binding("someone-else", "login");
                            let (ticket, _) = ticket_policy().issue(
                                &key,
                                &mut SysRng,
                                other,
                                FirstFactor::Pin,
                                allowed(),
                                NOW,
                            )?;
                            let elsewhere = binding("someone-else", "recovery");
                            let (others, _) = recovery_policy().generate(
                                &mut SysRng,
                                recovery_keys(std::slice::from_ref(&key)),
                                elsewhere,
                            )?;
                            data.push(ticket.to_string());
                            data.extend(others.first().map(ToString::to_string));
                        }
                        Scenario::Ticket => {
                            data.push(first_step(state)?);
                            data.extend(codes.iter().map(ToString::to_string));
                        }
                        _ => {
                            data.extend(codes.first().map(ToString::to_string));
                            for _ in 0..AccountState::MAX_PENDING {
                                data.push(first_step(state)?);
                            }
                        }
                    }
                }
                Scenario::TotpConfirm => {
                    let secret = Secret::generate(&mut SysRng)?;
                    let pending = binding(account, ENROLLMENT.pending);
                    let sealed =
                        keyring().seal_secret(&mut SysRng, SecretKind::Totp, &secret, pending)?;
                    state.secrets.insert(ENROLLMENT.pending, sealed)?;
                    data.push(Totp::new(secret).generate_at(NOW)?.to_string());
                }
                Scenario::OobChallenge => {
                    let ticket = first_step(state)?;
                    let sent = guard.challenge_oob(
                        state,
                        &oob_policy(),
                        &key,
                        &mut SysRng,
                        std::slice::from_ref(&key),
                        login,
                        &ticket,
                        NOW,
                    )?;
                    if let Outcome::Accepted(code) = sent {
                        data.push(code.to_string());
                    }
                    data.push(ticket);
                }
                Scenario::PasskeySignIn | Scenario::PasskeyChallenge => {
                    let policy = twofa::PasskeyPolicy::default();
                    let rp = authenticator::relying_party()?;
                    let uv = twofa::webauthn::UserVerification::Required;
                    let challenge =
                        guard.start_passkey_registration(state, &policy, &mut SysRng, uv, NOW)?;
                    let client = authenticator::client_data("webauthn.create", &challenge);
                    let object = authenticator::attestation_object();
                    let response = twofa::webauthn::AttestationResponse {
                        client_data_json: &client,
                        attestation_object: &object,
                    };
                    let registered = guard.finish_passkey_registration(
                        state,
                        &rp,
                        &policy,
                        &key,
                        account,
                        &response,
                        twofa::Transports::default(),
                        "phone",
                        NOW,
                    )?;
                    if !registered.is_accepted() {
                        return Err(twofa::Error::InvalidPolicy);
                    }
                    let (challenge, ticket) = if scenario == Scenario::PasskeySignIn {
                        let challenge = policy.sign_in_challenge(&key, &mut SysRng, NOW)?;
                        (challenge.to_vec(), String::from("-"))
                    } else {
                        let ticket = first_step(state)?;
                        let challenged = guard.challenge_passkey(
                            state,
                            &policy,
                            &mut SysRng,
                            std::slice::from_ref(&key),
                            login,
                            &ticket,
                            NOW,
                        )?;
                        let Outcome::Accepted(challenge) = challenged else {
                            return Err(twofa::Error::InvalidPolicy);
                        };
                        (challenge.to_vec(), ticket)
                    };
                    data.push(authenticator::hex(&challenge));
                    data.extend(
                        authenticator::assertion(&challenge).map(|part| authenticator::hex(&part)),
                    );
                    data.push(ticket);
                }
                Scenario::DeviceChallenge => {
                    let policy = twofa::DevicePolicy::default();
                    guard.start_device_registration(state, &policy, &mut SysRng, NOW)?;
                    let public_key = crate::fixtures::phone().verifying_key().to_bytes();
                    let algorithm = twofa::DeviceAlgorithm::Ed25519;
                    let message = state
                        .registration
                        .as_ref()
                        .map(|challenge| challenge.message(account, algorithm, &public_key))
                        .unwrap_or_default();
                    let registered = guard.finish_device_registration(
                        state,
                        &policy,
                        &mut SysRng,
                        &key,
                        account,
                        algorithm,
                        &public_key,
                        &sign(&message),
                        NOW,
                    )?;
                    let ticket = first_step(state)?;
                    let mut number = String::new();
                    if let Outcome::Accepted(device) = registered {
                        let challenged = guard.challenge_device(
                            state,
                            &policy,
                            &mut SysRng,
                            std::slice::from_ref(&key),
                            login,
                            &ticket,
                            &device,
                            "log in",
                            NOW,
                        )?;
                        if let Outcome::Accepted(shown) = challenged {
                            number = shown.to_string();
                        }
                    }
                    data.extend([number, ticket]);
                }
                _ => {}
            }
            Ok(data)
        })
        .await
        .map_err(|e| -> BoxError { e.to_string().into() })?;
    if data.iter().any(String::is_empty) {
        return Err(format!("{}: a first step was refused", scenario.name()).into());
    }
    Ok(data)
}

/// One attempt of task `task` (numbered across every process) in `round`,
/// try `attempt`: the outcome as a word.
///
/// # Errors
/// The store failed.
#[allow(clippy::too_many_lines, reason = "one arm per race, each short")]
pub async fn attempt(
    store: &AnyStore,
    scenario: Scenario,
    account: &str,
    data: &[String],
    task: usize,
    round: u64,
    attempt: usize,
) -> Result<&'static str, BoxError> {
    let guard = guard();
    let totp = totp()?;
    let login = binding(account, "login");
    let keys = [digest_key()];
    let item = |index: usize| data.get(index).map_or("", String::as_str);
    match scenario {
        Scenario::TotpCode => {
            let now = NOW + 30 * round;
            let code = totp.generate_at(now)?.to_string();
            answer(
                guard
                    .verify_totp_shared(&totp, store, account, &code, now)
                    .await,
            )
        }
        Scenario::HotpCode => {
            let code = hotp()?.generate(round).to_string();
            answer(
                guard
                    .verify_hotp_shared(&hotp()?, store, account, &code, NOW)
                    .await,
            )
        }
        Scenario::AccountHotp => {
            let (hotp, code) = (hotp()?, hotp()?.generate(round).to_string());
            answer(
                guard
                    .decide_shared(store, account, |state: &mut AccountState| {
                        guard.verify_account_hotp(&hotp, state, &code, NOW)
                    })
                    .await,
            )
        }
        Scenario::TotpGuess => {
            let wrong = wrong_code(&totp, task, attempt)?;
            answer(
                guard
                    .verify_totp_shared(&totp, store, account, &wrong, NOW)
                    .await,
            )
        }
        Scenario::AccountGuess => {
            let wrong = wrong_code(&totp, task, attempt)?;
            answer(
                guard
                    .decide_shared(store, account, |state: &mut AccountState| {
                        guess(
                            &guard,
                            state,
                            &keys,
                            login,
                            [item(0), item(1)],
                            &wrong,
                            task + attempt,
                        )
                    })
                    .await,
            )
        }
        Scenario::Ticket | Scenario::RecoveryCode => {
            let (ticket, code) = if scenario == Scenario::Ticket {
                (item(0), item(1 + task))
            } else {
                (item(1 + task), item(0))
            };
            answer(
                guard
                    .decide_shared(store, account, |state: &mut AccountState| {
                        let factor = SecondFactor::Recovery;
                        guard.complete_login(state, &keys, login, ticket, factor, NOW, |g, s| {
                            let Some(codes) = s.recovery.as_mut() else {
                                return Ok(Outcome::Expired);
                            };
                            let (policy, owner) = (recovery_policy(), binding(account, "recovery"));
                            let keys = recovery_keys(&keys);
                            let throttle = &mut s.totp.throttle;
                            g.verify_recovery(
                                throttle,
                                codes,
                                &policy,
                                keys,
                                owner,
                                &mut SysRng,
                                code,
                                NOW,
                            )
                        })
                    })
                    .await,
            )
        }
        Scenario::OobChallenge => answer(
            guard
                .decide_shared(store, account, |state: &mut AccountState| {
                    guard.complete_login_with_oob(state, &keys, login, item(1), item(0), NOW)
                })
                .await,
        ),
        Scenario::DeviceChallenge => {
            // The phone reads its prompt and signs what it shows.
            let state: AccountState = twofa::AccountStore::load(store, account).await?.state;
            let signature = state
                .active_devices()
                .find_map(|device| state.device_challenges(&device.id, NOW).last())
                .map(|challenge| {
                    let number = item(0).parse().unwrap_or_default();
                    sign(&challenge.prompt().message(account, number))
                })
                .unwrap_or_default();
            let ticket = item(1);
            answer(
                guard
                    .decide_shared(store, account, |state: &mut AccountState| {
                        guard.complete_login_with_device(
                            state, &keys, login, ticket, &signature, NOW,
                        )
                    })
                    .await,
            )
        }
        Scenario::PasskeySignIn | Scenario::PasskeyChallenge => {
            let rp = authenticator::relying_party()?;
            let [challenge, client, auth, signature] =
                [0, 1, 2, 3].map(|i| authenticator::unhex(item(i)));
            let response = twofa::webauthn::AssertionResponse {
                client_data_json: &client,
                authenticator_data: &auth,
                signature: &signature,
            };
            let id = authenticator::CREDENTIAL_ID;
            answer(
                guard
                    .decide_shared(store, account, |state: &mut AccountState| {
                        if scenario == Scenario::PasskeySignIn {
                            let policy = twofa::PasskeyPolicy::default();
                            guard.sign_in_with_passkey(
                                state, &rp, &policy, &keys, account, &challenge, &id, &response,
                                NOW,
                            )
                        } else {
                            guard.complete_login_with_passkey(
                                state,
                                &rp,
                                &keys,
                                login,
                                item(4),
                                &id,
                                &response,
                                NOW,
                            )
                        }
                    })
                    .await,
            )
        }
        Scenario::TotpConfirm => {
            let confirmed = guard
                .decide_shared(store, account, |state: &mut AccountState| {
                    guard.confirm_totp(
                        state,
                        &keyring(),
                        &mut SysRng,
                        account,
                        ENROLLMENT,
                        |secret| Ok(Totp::new(secret)),
                        item(0),
                        NOW,
                    )
                })
                .await;
            answer(confirmed)
        }
    }
}

/// The recovery codes' binding for the account of `login`.
fn login_owner(login: twofa::Binding<'_>) -> twofa::Binding<'_> {
    binding(login.account(), "recovery")
}

/// Where the confirmation race's secret waits and goes.
const ENROLLMENT: EnrollmentNames<'static> = EnrollmentNames {
    pending: "totp-pending",
    active: "totp",
};

/// A guess of task `index` at the account's factor number `index % 5`:
/// the PIN, a TOTP code, the out-of-band code, a recovery code or a
/// ticket, each wrong.
fn guess(
    guard: &Guard,
    state: &mut AccountState,
    keys: &[twofa::DigestKey],
    login: twofa::Binding<'_>,
    [unknown_ticket, unknown_recovery]: [&str; 2],
    wrong: &str,
    index: usize,
) -> Result<Outcome<()>, twofa::Error> {
    let totp = totp()?;
    Ok(match index % 5 {
        0 => guard.check_first_factor(state.throttle(), NOW, || false),
        1 => guard
            .verify_totp(&totp, &mut state.totp, wrong, NOW)?
            .map(|_| ()),
        // The SMS code of the login waiting for one, through the
        // pending login's own challenge.
        2 => match state.pending.iter_mut().find_map(|p| p.oob.as_mut()) {
            Some(challenge) => {
                guard.verify_oob(&mut state.totp.throttle, challenge, keys, login, wrong, NOW)?
            }
            None => Outcome::Expired,
        },
        3 => match state.recovery.as_mut() {
            Some(codes) => guard
                .verify_recovery(
                    &mut state.totp.throttle,
                    codes,
                    &recovery_policy(),
                    recovery_keys(keys),
                    login_owner(login),
                    &mut SysRng,
                    unknown_recovery,
                    NOW,
                )?
                .map(|_| ()),
            None => Outcome::Expired,
        },
        _ => guard.complete_login(
            state,
            keys,
            login,
            unknown_ticket,
            SecondFactor::Totp,
            NOW,
            |g, s| Ok(g.verify_totp(&totp, &mut s.totp, wrong, NOW)?.map(|_| ())),
        )?,
    })
}

/// A 6-digit code that matches no step of the window at [`NOW`], distinct
/// per task and try.
fn wrong_code(totp: &twofa::Totp, task: usize, attempt: usize) -> Result<String, twofa::Error> {
    let window: Vec<String> = (0..3)
        .map(|i| {
            totp.generate_at(NOW - 30 + 30 * i)
                .map(|code| code.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut value = task * 1000 + attempt;
    loop {
        let code = format!("{:06}", value % 1_000_000);
        if !window.contains(&code) {
            return Ok(code);
        }
        value += 1;
    }
}

/// What a race left in the store, as `name value` lines: the failures of
/// the account's throttle, the last TOTP step, the next HOTP counters, the
/// pending logins spent, the recovery codes used, the names of the sealed
/// secrets, the credential version.
///
/// # Errors
/// The store failed.
pub async fn left(store: &AnyStore, account: &str) -> Result<Vec<String>, BoxError> {
    use twofa::AccountStore;
    let totp: TotpAccount = AccountStore::load(store, account).await?.state;
    let hotp: HotpAccount = AccountStore::load(store, account).await?.state;
    let state: AccountState = AccountStore::load(store, account).await?.state;
    let spent = state.pending.iter().filter(|pending| pending.spent).count();
    let recovery_used = state.recovery.as_ref().map_or(0, |codes| codes.used);
    Ok(vec![
        format!("totp-failures {}", totp.throttle.failures),
        format!(
            "totp-last-step {}",
            totp.last_step.map_or(-1, |step| step as i128)
        ),
        format!("hotp-failures {}", hotp.throttle.failures),
        format!("hotp-counter {}", hotp.counter),
        format!("account-failures {}", state.totp.throttle.failures),
        format!("account-hotp-counter {}", state.hotp_counter),
        format!("tickets-spent {spent}"),
        format!("recovery-used {recovery_used}"),
        format!(
            "secrets {}",
            state
                .secrets
                .iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
                .join(",")
        ),
        format!("credential-version {}", state.credential_version),
        format!("passkey-sign-ins {}", state.sign_ins.recent.len()),
    ])
}
