//! A login over PostgreSQL:
//! `TWOFA_POSTGRES_URL=postgres://user:password@host/db cargo run -p
//! twofa-sqlx --features postgres --example postgres`.

#[path = "../../login_example.rs"]
mod login;

use sqlx::PgPool;
use twofa_sqlx::PgStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("TWOFA_POSTGRES_URL")
        .map_err(|_| "set TWOFA_POSTGRES_URL to the database's URL")?;
    // The service's own pool.
    let pool = PgPool::connect(&url).await?;
    let store = PgStore::new(pool);
    store.migrate().await?;
    login::run(&store, &format!("alice-{}", twofa::unix_time()?)).await
}
