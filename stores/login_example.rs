//! The login every store crate's example runs, whatever the store
//! (included by each with `#[path]`): enrol a TOTP secret
//! (sealed, stored once), then log in with its code twice.

use std::error::Error;

use getrandom::SysRng;
use twofa::{
    AccountState, AccountStore, Binding, Guard, Keyring, Outcome, SealingKey, Secret, SecretKind,
    Totp,
};
use twofa_record::{SealedSecrets, StoreError};

/// Enrols `account` and logs it in twice over `store`.
pub(crate) async fn run<S, E>(store: &S, account: &str) -> Result<(), Box<dyn Error>>
where
    S: AccountStore<AccountState, Error = StoreError<E>>
        + AccountStore<SealedSecrets, Error = StoreError<E>>
        + Sync,
    E: Error + Send + Sync + 'static,
{
    // The keyring comes from the service's secret storage; a fresh key
    // here, so the example's account is new at every run.
    let keyring = Keyring::new(SealingKey::generate(1, &mut SysRng)?);
    let guard = Guard::default();
    let binding = Binding::new(account, "totp");

    // Enrolment: a secret sealed for this account, stored only if the
    // account has none (two instances enrolling at once keep one).
    let secret = Secret::generate(&mut SysRng)?;
    let sealed = keyring.seal_secret(&mut SysRng, SecretKind::Totp, &secret, binding)?;
    guard
        .decide_shared(store, account, |secrets: &mut SealedSecrets| {
            Ok(match secrets.get("totp") {
                Some(_) => Ok(None),
                None => secrets.insert("totp", sealed.clone()),
            })
        })
        .await??;

    // A login: the secret opened from the store, the code checked under
    // the account's one state (throttle, replay, drift).
    let secrets = AccountStore::<SealedSecrets>::load(store, account)
        .await?
        .state;
    let stored = secrets.get("totp").ok_or("no TOTP secret enrolled")?;
    let totp = Totp::new(
        keyring
            .open_secret(stored, SecretKind::Totp, binding)?
            .value,
    );
    let now = twofa::unix_time()?;
    // What the person's authenticator shows at this moment.
    let code = totp.generate_at(now)?.to_string();
    for attempt in ["first", "second"] {
        let outcome = guard
            .decide_shared(store, account, |state: &mut AccountState| {
                guard.verify_totp(&totp, &mut state.totp, &code, now)
            })
            .await?;
        match outcome {
            Outcome::Accepted(_) => println!("{attempt} try: accepted"),
            Outcome::Replayed => {
                println!("{attempt} try: OTP has been used in past, Please try next OTP");
            }
            other => println!("{attempt} try: {other}"),
        }
    }
    Ok(())
}
