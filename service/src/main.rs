//! `twofa-service`: the seeds' login API on 127.0.0.1:8080 over an SQLite
//! file, unless configured otherwise (`--help`).

use std::process::ExitCode;

use twofa_service::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{}", Config::usage());
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env_and_args(args) {
        Ok(config) => config,
        Err(why) => {
            eprintln!("twofa-service: {why}");
            return ExitCode::from(2);
        }
    };
    // Logs go to standard error: text for people, JSON lines for a
    // collector. `RUST_LOG`-style filtering is left to the collector.
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO);
    if config.log_json {
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        logs.with_ansi(false).init();
    }
    match twofa_service::serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!(%failure, "twofa-service stopped");
            ExitCode::FAILURE
        }
    }
}
