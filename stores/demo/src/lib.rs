//! TOTP account state shared by many service instances, over PostgreSQL
//! (`postgres_store`) and Redis (`redis_store`): a short demonstration, and
//! a worker mode in which several processes race the same codes against one
//! store. `tests/shared_stores.rs` runs it.
//!
//! ```text
//! BINARY                                    the demonstration
//! BINARY check                              exit 0 if the server answers
//! BINARY race ACCOUNT LOCKOUT START_MS NOW:CODE...
//!     waits until START_MS (Unix milliseconds), then tries every code at
//!     its time, all at once (as concurrent requests), and prints one
//!     outcome a line, in the order given
//! BINARY reset ACCOUNT
//!     lifts the account's lockout through the compare-and-swap, then
//!     checks that a save based on the state read before the reset fails
//! ```
//!
//! A reset is an update like any other: it goes through the same
//! compare-and-swap, so the version keeps growing. Deleting the row instead
//! would restart the version at 0, and an instance that read the state just
//! before could then save it over the reset (ABA).

use std::{
    error::Error,
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::task::JoinSet;

use twofa::{AccountStore, Guard, Outcome, Secret, ThrottlePolicy, Totp, TotpAccount};

/// A store's failure: its database's, or a stored value that cannot be
/// read back as it was written. The latter is never taken as a default
/// (a failure count read as 0 would lift a lockout): the check fails.
#[derive(Debug)]
pub enum StoreError<E> {
    /// The database failed.
    Backend(E),
    /// A stored value is missing, unparsable or out of range.
    Corrupt(&'static str),
}

impl<E: fmt::Display> fmt::Display for StoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Backend(e) => write!(f, "database: {e}"),
            Self::Corrupt(field) => write!(f, "stored {field} is missing or out of range"),
        }
    }
}

impl<E: Error> Error for StoreError<E> {}

impl<E> From<E> for StoreError<E> {
    fn from(e: E) -> Self {
        Self::Backend(e)
    }
}

/// The secret every worker shares: RFC 6238's demo seed, never a real one.
fn totp() -> Result<Totp, twofa::Error> {
    Ok(Totp::new(Secret::from_bytes(b"12345678901234567890")?))
}

/// Runs the command line's mode against `store`.
pub async fn main<S>(store: S) -> Result<(), Box<dyn Error>>
where
    S: AccountStore<TotpAccount> + Send + Sync + 'static,
    S::Error: Error + Send + Sync + 'static,
{
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => demo(&store).await,
        Some("check") => Ok(()),
        Some("race") => race(Arc::new(store), args.get(1..).unwrap_or_default()).await,
        Some("reset") => reset(&store, args.get(1).ok_or("reset ACCOUNT")?).await,
        Some(other) => Err(format!("unknown mode {other:?}").into()),
    }
}

async fn demo<S>(store: &S) -> Result<(), Box<dyn Error>>
where
    S: AccountStore<TotpAccount> + Sync,
    S::Error: Error + 'static,
{
    let totp = totp()?;
    let guard = Guard::default();
    let now = twofa::unix_time()?;
    let account = format!("demo-{}", now);
    let code = totp.generate_at(now)?.to_string();
    for attempt in ["first", "second"] {
        let outcome = guard
            .verify_totp_shared(&totp, store, &account, &code, now)
            .await?;
        println!("{attempt} try of the same code: {outcome}");
    }
    Ok(())
}

async fn reset<S>(store: &S, account: &str) -> Result<(), Box<dyn Error>>
where
    S: AccountStore<TotpAccount> + Sync,
    S::Error: Error + Send + Sync + 'static,
{
    let before = store.load(account).await?;
    let guard = Guard::default();
    guard
        .decide_shared(store, account, |state: &mut TotpAccount| {
            guard.throttle().record_success(&mut state.throttle);
            Ok(())
        })
        .await?;
    let after = store.load(account).await?;
    // A stale instance's save, based on what it read before the reset.
    let stale = store.save(account, before.version, &before.state).await?;
    println!(
        "reset: version {} -> {}, failures {} -> {}, stale save {}",
        before.version,
        after.version,
        before.state.throttle.failures,
        after.state.throttle.failures,
        if stale { "accepted" } else { "refused" }
    );
    Ok(())
}

async fn race<S>(store: Arc<S>, args: &[String]) -> Result<(), Box<dyn Error>>
where
    S: AccountStore<TotpAccount> + Send + Sync + 'static,
    S::Error: Error + Send + Sync + 'static,
{
    let [account, lockout, start, attempts @ ..] = args else {
        return Err("race ACCOUNT LOCKOUT START_MS NOW:CODE...".into());
    };
    // No backoff, so that only the lockout limits the guesses.
    let guard = Guard::new(
        ThrottlePolicy::builder()
            .base_delay(0)
            .max_delay(0)
            .lockout_after(lockout.parse()?)
            .build()?,
    );
    let totp = Arc::new(totp()?);
    let account: Arc<str> = account.as_str().into();
    let start = UNIX_EPOCH + Duration::from_millis(start.parse()?);
    if let Ok(wait) = start.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    let mut requests = JoinSet::new();
    for (i, attempt) in attempts.iter().enumerate() {
        let (now, code) = attempt.split_once(':').ok_or("NOW:CODE")?;
        let (now, code) = (now.parse::<u64>()?, code.to_owned());
        let (store, totp, account) = (store.clone(), totp.clone(), account.clone());
        requests.spawn(async move {
            let outcome = guard
                .verify_totp_shared(&totp, &*store, &account, &code, now)
                .await;
            (i, outcome.map(|outcome| name(&outcome)))
        });
    }
    let mut outcomes = vec![""; attempts.len()];
    while let Some(done) = requests.join_next().await {
        let (i, outcome) = done?;
        if let Some(slot) = outcomes.get_mut(i) {
            *slot = outcome?;
        }
    }
    for outcome in outcomes {
        println!("{outcome}");
    }
    Ok(())
}

/// A one-word name for each outcome.
fn name<M>(outcome: &Outcome<M>) -> &'static str {
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
