//! The seeds' login API over `twofa`, runnable: an axum service that keeps
//! every account's state in SQLite (the default), PostgreSQL or Redis
//! through the store crates, so that any number of instances share one
//! truth. A reference, not a product: see the README for what it is and
//! is not.
//!
//! The layers, top down: [`http`] turns requests into the [`login`] steps
//! and the account endpoints, which act through [`app::App`] on the store:
//! the core's records and the service's own ([`records`]), with first
//! factors hashed by [`passwords`] (every Argon2id on the [`hashing`]
//! threads), secrets from [`keys`], and SMS codes
//! sent by a [`sender::Sender`]. What each decision did is told by
//! [`audit`] (the trail, the log, notices) and counted in [`metrics`].

pub mod addresses;
pub mod app;
pub mod audit;
pub mod config;
pub mod hashing;
pub mod http;
pub mod keys;
pub mod login;
pub mod metrics;
pub mod passkey_json;
pub mod passkeys;
pub mod passwords;
pub mod phones;
pub mod records;
pub mod sender;

use tokio::net::TcpListener;
use twofa_stores::AnyStore;

use crate::{
    app::{App, Failure},
    config::Config,
    sender::{LogSender, OutboxSender, Sender},
};

/// Connects the store `config` names, loads the keys, binds, prints
/// `listening on http://ADDRESS` and serves until the process is stopped.
///
/// # Errors
/// The store, the keys or the address failed.
pub async fn serve(mut config: Config) -> Result<(), Failure> {
    let (backend, target) = &config.store;
    let store = AnyStore::connect(backend, target)
        .await
        .map_err(|e| Failure(format!("the {backend} store: {e}")))?;
    app::check_durability(&store, config.accept_redis_loss).await?;
    let sender: Box<dyn Sender> = match &config.sms_outbox {
        Some(path) => Box::new(OutboxSender::new(path.clone())),
        None => Box::new(LogSender),
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| Failure(format!("{}: {e}", config.listen)))?;
    let address = listener.local_addr().map_err(|e| Failure(e.to_string()))?;
    // The page's own origin, with the port bound (port 0 picks one).
    if config.origins.is_empty() {
        config.origins = vec![format!("http://localhost:{}", address.port())];
    }
    let app = App::new(&config, store, sender).await?.share();
    println!("listening on http://{address} ({backend} store)");
    tracing::info!(%address, backend = %backend, "listening");
    let limits = http::server::within_descriptors(config.limits);
    let router = http::router(app, &limits);
    http::server::serve(listener, router, limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}
