//! A login over an SQLite file: `cargo run -p twofa-sqlx --example sqlite`.
//! The database is `twofa-example.db` in the system's temporary folder.

#[path = "../../login_example.rs"]
mod login;

use sqlx::SqlitePool;
use twofa_sqlx::SqliteStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join("twofa-example.db");
    // The service's own pool, opened with the settings the store needs.
    let pool = SqlitePool::connect_with(SqliteStore::options(&path)).await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;
    println!("records in {}", path.display());
    login::run(&store, &format!("alice-{}", twofa::unix_time()?)).await
}
