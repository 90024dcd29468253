//! A login over Redis:
//! `TWOFA_REDIS_URL=redis://127.0.0.1/ cargo run -p twofa-redis --example redis`.

#[path = "../../login_example.rs"]
mod login;

use redis::aio::ConnectionManager;
use twofa_redis::RedisStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("TWOFA_REDIS_URL").map_err(|_| "set TWOFA_REDIS_URL to the server's URL")?;
    // The service's own connection.
    let store = RedisStore::new(ConnectionManager::new(redis::Client::open(url)?).await?);
    for problem in store.durability_problems().await? {
        eprintln!("warning: this server can lose saves: {problem}");
    }
    login::run(&store, &format!("alice-{}", twofa::unix_time()?)).await
}
