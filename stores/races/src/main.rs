//! The racing worker: one process, one service instance with its own
//! connection. See the crate's documentation for its command line.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::task::JoinSet;
use twofa_store_races::{AnyStore, BoxError, Scenario, scenarios};

/// How long a save waits for its replicas (`TWOFA_RACE_REPLICAS`).
const REPLICA_WAIT: Duration = Duration::from_secs(1);

/// What the environment changes in a race (see the crate's documentation).
#[derive(Clone, Copy)]
struct Options {
    rounds: Option<u64>,
    pace: Duration,
    replicas: Option<u32>,
    failover: bool,
}

impl Options {
    fn from_env() -> Result<Self, BoxError> {
        let number = |name: &str| -> Result<Option<u64>, BoxError> {
            match std::env::var(name) {
                Err(_) => Ok(None),
                Ok(value) => Ok(Some(
                    value.parse().map_err(|_| format!("{name}: not a number"))?,
                )),
            }
        };
        Ok(Self {
            rounds: number("TWOFA_RACE_ROUNDS")?,
            pace: Duration::from_millis(number("TWOFA_RACE_PACE_MS")?.unwrap_or(0)),
            replicas: number("TWOFA_RACE_REPLICAS")?
                .map(u32::try_from)
                .transpose()?,
            failover: std::env::var("TWOFA_RACE_FAILOVER").is_ok_and(|v| v == "1"),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let options = Options::from_env()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |index: usize| {
        args.get(index)
            .map(String::as_str)
            .ok_or("missing argument")
    };
    let store = match (AnyStore::connect(arg(0)?, arg(1)?).await?, options.replicas) {
        (AnyStore::Redis(store), Some(n)) => AnyStore::Redis(store.with_replicas(n, REPLICA_WAIT)),
        (AnyStore::RedisCluster(store), Some(n)) => {
            AnyStore::RedisCluster(store.with_replicas(n, REPLICA_WAIT))
        }
        (store, _) => store,
    };
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
                options,
                scenario()?,
                arg(4)?.into(),
                start,
                first..first + tasks,
                data,
            )
            .await
        }
        other => Err(format!("unknown mode {other:?}").into()),
    }
}

async fn run(
    store: AnyStore,
    options: Options,
    scenario: Scenario,
    account: String,
    start_ms: u64,
    tasks: std::ops::Range<usize>,
    data: Vec<String>,
) -> Result<(), BoxError> {
    let now_ms = u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    tokio::time::sleep(Duration::from_millis(start_ms.saturating_sub(now_ms))).await;
    let shared = Arc::new((store, account, data));
    let mut set = JoinSet::new();
    for task in tasks {
        let shared = shared.clone();
        set.spawn(async move {
            let (store, account, data) = &*shared;
            let mut lines = Vec::new();
            for round in 0..options.rounds.unwrap_or(scenario.rounds()) {
                for attempt in 0..scenario.tries() {
                    let attempted =
                        scenarios::attempt(store, scenario, account, data, task, round, attempt)
                            .await;
                    let outcome = match attempted {
                        Ok(outcome) => outcome,
                        // A store that fails over refuses the login.
                        Err(_) if options.failover => "refused",
                        Err(e) => return Err(e),
                    };
                    lines.push(format!("{round} {outcome}"));
                }
                tokio::time::sleep(options.pace).await;
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
