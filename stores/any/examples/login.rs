//! A whole login over any store: enrol a TOTP secret (sealed, stored
//! once), then log in with its code twice (accepted, then refused as a
//! replay).
//!
//! ```text
//! cargo run -p twofa-stores --example login                       # an SQLite file in the temporary folder
//! cargo run -p twofa-stores --example login -- sqlite /var/lib/twofa.db
//! cargo run -p twofa-stores --example login -- postgres postgres://user:password@host/db
//! cargo run -p twofa-stores --example login -- redis redis://127.0.0.1/
//! ```

use std::error::Error;

use getrandom::SysRng;
use twofa::{AccountState, Binding, Guard, Keyring, Outcome, SealingKey, Secret, SecretKind, Totp};
use twofa_stores::AnyStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "sqlite".to_owned());
    let target = match args.next() {
        Some(target) => target,
        None if backend == "sqlite" => {
            let path = std::env::temp_dir().join("twofa-example.db");
            path.to_str()
                .ok_or("the temporary folder's path is not UTF-8")?
                .to_owned()
        }
        None => return Err(format!("usage: login {backend} URL").into()),
    };
    // The service's own pool or connection, the schema brought up to date.
    let store = AnyStore::connect(&backend, &target).await?;
    for problem in store.durability_problems().await? {
        eprintln!("warning: this server can lose saves: {problem}");
    }
    println!("records in {backend} at {target}");
    let account = format!("alice-{}", twofa::unix_time()?);

    // The keyring comes from the service's secret storage; a fresh key
    // here, so the example's account is new at every run.
    let keyring = Keyring::new(SealingKey::generate(1, &mut SysRng)?);
    let guard = Guard::default();
    let binding = Binding::new(&account, "totp");

    // Enrolment: a secret sealed for this account, kept in the account's
    // one record only if it has none (two instances enrolling at once
    // keep one). A real service confirms it with a code first
    // (`Guard::confirm_totp`).
    let secret = Secret::generate(&mut SysRng)?;
    let sealed = keyring.seal_secret(&mut SysRng, SecretKind::Totp, &secret, binding)?;
    guard
        .decide_shared(&store, &account, |state: &mut AccountState| {
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
            .decide_shared(&store, &account, |state: &mut AccountState| {
                let secret = state
                    .secrets
                    .open(&keyring, &account, "totp", SecretKind::Totp)?
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
