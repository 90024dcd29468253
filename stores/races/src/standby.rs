//! The test PostgreSQL pair, operated from the races: its primary killed
//! (`SIGKILL` to the postmaster: a crash, nothing flushed on the way out)
//! and its standby promoted.

use sqlx::{Connection, PgConnection};

use crate::BoxError;

/// Kills the PostgreSQL server at `url`, found by the process id in its
/// data directory's `postmaster.pid` (the tests run as its owner, or as
/// root).
///
/// # Errors
/// The server does not answer, its pid file cannot be read, or the kill
/// fails.
pub async fn kill(url: &str) -> Result<(), BoxError> {
    let mut connection = PgConnection::connect(url).await?;
    let data: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&mut connection)
        .await?;
    drop(connection);
    let pid_file = std::fs::read_to_string(format!("{data}/postmaster.pid"))?;
    let pid = pid_file.lines().next().ok_or("an empty pid file")?.trim();
    let killed = std::process::Command::new("kill")
        .args(["-9", pid])
        .status()?;
    if killed.success() {
        Ok(())
    } else {
        Err(format!("kill -9 {pid} failed").into())
    }
}

/// Promotes the standby at `url` and returns once it takes writes.
///
/// # Errors
/// The standby does not answer, or was not promoted within a minute.
pub async fn promote(url: &str) -> Result<(), BoxError> {
    let mut connection = PgConnection::connect(url).await?;
    let promoted: bool = sqlx::query_scalar("SELECT pg_promote(true, 60)")
        .fetch_one(&mut connection)
        .await?;
    if promoted {
        Ok(())
    } else {
        Err("the standby was not promoted in a minute".into())
    }
}
