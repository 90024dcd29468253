//! The login every store crate's example runs, whatever the store
//! (included by each with `#[path]`): enrol a TOTP secret
//! (sealed, stored once), then log in with its code twice.

use std::error::Error;

use getrandom::SysRng;
use twofa::{
    AccountState, AccountStore, Binding, Guard, Keyring, Outcome, SealingKey, Secret, SecretKind,
    Totp,
};
use twofa_record::StoreError;

/// Enrols `account` and logs it in twice over `store`.
pub(crate) async fn run<S, E>(store: &S, account: &str) -> Result<(), Box<dyn Error>>
where
    S: AccountStore<AccountState, Error = StoreError<E>> + Sync,
    E: Error + Send + Sync + 'static,
{
    // The keyring comes from the service's secret storage; a fresh key
    // here, so the example's account is new at every run.
    let keyring = Keyring::new(SealingKey::generate(1, &mut SysRng)?);
    let guard = Guard::default();
    let binding = Binding::new(account, "totp");

    // Enrolment: a secret sealed for this account, kept in the account's
    // one record only if it has none (two instances enrolling at once
    // keep one). A real service confirms it with a code first
    // (`Guard::confirm_totp`).
    let secret = Secret::generate(&mut SysRng)?;
    let sealed = keyring.seal_secret(&mut SysRng, SecretKind::Totp, &secret, binding)?;
    guard
        .decide_shared(store, account, |state: &mut AccountState| {
            if !state.secrets.contains("totp") {
                state.secrets.insert("totp", sealed.clone())?;
                state.credentials_changed();
            }
            Ok(())
        })
        .await?;

    let now = twofa::unix_time()?;
    // What the person's authenticator shows at this moment.
    let code = Totp::new(secret).generate_at(now)?.to_string();
    for attempt in ["first", "second"] {
        // A login: the secret opened from the very state decided on, the
        // code checked under the account's one state (throttle, replay,
        // drift), all saved in one compare-and-swap.
        let outcome = guard
            .decide_shared(store, account, |state: &mut AccountState| {
                let secret = state
                    .secrets
                    .open(&keyring, account, "totp", SecretKind::Totp)?
                    .ok_or(twofa::Error::MissingSecret)?;
                guard.verify_totp(&Totp::new(secret), &mut state.totp, &code, now)
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
