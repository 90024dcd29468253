//! The racing worker: one process, one service instance with its own
//! connection. See the crate's documentation for its command line.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::task::JoinSet;
use twofa_store_races::{AnyStore, BoxError, Scenario, scenarios};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |index: usize| {
        args.get(index)
            .map(String::as_str)
            .ok_or("missing argument")
    };
    let store = AnyStore::connect(arg(0)?, arg(1)?).await?;
    let scenario = || Scenario::parse(arg(3)?).ok_or("unknown race");
    match arg(2)? {
        "check" => Ok(()),
        "setup" => {
            for item in scenarios::setup(&store, scenario()?, arg(4)?).await? {
                println!("{item}");
            }
            Ok(())
        }
        "left" => {
            for line in scenarios::left(&store, arg(3)?).await? {
                println!("{line}");
            }
            Ok(())
        }
        "run" => {
            let start: u64 = arg(5)?.parse()?;
            let tasks: usize = arg(6)?.parse()?;
            let first: usize = arg(7)?.parse()?;
            let data = args.get(8..).unwrap_or_default().to_vec();
            run(
                store,
                scenario()?,
                arg(4)?.into(),
                start,
                tasks,
                first,
                data,
            )
            .await
        }
        other => Err(format!("unknown mode {other:?}").into()),
    }
}

async fn run(
    store: AnyStore,
    scenario: Scenario,
    account: String,
    start_ms: u64,
    tasks: usize,
    first: usize,
    data: Vec<String>,
) -> Result<(), BoxError> {
    let now_ms = u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    tokio::time::sleep(Duration::from_millis(start_ms.saturating_sub(now_ms))).await;
    let shared = Arc::new((store, account, data));
    let mut set = JoinSet::new();
    for task in first..first + tasks {
        let shared = shared.clone();
        set.spawn(async move {
            let (store, account, data) = &*shared;
            let mut lines = Vec::new();
            for round in 0..scenario.rounds() {
                for attempt in 0..scenario.tries() {
                    let outcome =
                        scenarios::attempt(store, scenario, account, data, task, round, attempt)
                            .await?;
                    lines.push(format!("{round} {outcome}"));
                }
            }
            Ok::<_, BoxError>(lines)
        });
    }
    while let Some(lines) = set.join_next().await {
        for line in lines?? {
            println!("{line}");
        }
    }
    Ok(())
}
