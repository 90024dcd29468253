//! Each store, in one process: values at the ends of their ranges read
//! back exactly, a reset is a save that never restarts the version, a
//! record changed behind the store's back is an error rather than a
//! default, migrations run once whatever the number of instances, every
//! decision saved is counted once (and on SQLite none loses its race),
//! a connection ended while idle costs no decision, and Redis (one server
//! and every node of a cluster) runs with the durability a replay mark
//! needs.
//!
//! Servers as in `tests/races.rs`: absent ones are announced loudly, and
//! fail the test under `TWOFA_REQUIRE_SERVERS=1`.
#![allow(clippy::unwrap_used)]

use std::{
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

use twofa::{AccountStore, Guard, ThrottleState, TotpAccount, Versioned};
use twofa_store_races::{AnyStore, BoxError};

fn fresh(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn sqlite_file(name: &str) -> String {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}.db", fresh(name)))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Every backend whose server answers (SQLite always).
async fn backends() -> Vec<(&'static str, AnyStore)> {
    let mut backends = vec![(
        "sqlite",
        AnyStore::connect("sqlite", &sqlite_file("stores"))
            .await
            .unwrap(),
    )];
    for (name, variable) in [
        ("postgres", "TWOFA_POSTGRES_URL"),
        ("redis", "TWOFA_REDIS_URL"),
        ("redis-cluster", "TWOFA_REDIS_CLUSTER_URL"),
    ] {
        let connected = match std::env::var(variable) {
            Ok(target) => AnyStore::connect(name, &target)
                .await
                .map_err(|e| e.to_string()),
            Err(_) => Err(format!("{variable} is not set")),
        };
        match connected {
            Ok(backend) => backends.push((name, backend)),
            Err(problem) => twofa_store_races::servers::absent(name, &problem),
        }
    }
    backends
}

fn extreme() -> TotpAccount {
    TotpAccount {
        throttle: ThrottleState {
            failures: 100,
            retry_at: u64::MAX,
        },
        last_step: Some(u64::MAX),
        used_below: u128::MAX,
        drift: -100,
    }
}

#[tokio::test]
async fn values_at_the_ends_of_their_ranges_read_back_exactly() {
    for (name, store) in backends().await {
        let account = fresh("extreme");
        assert!(store.save(&account, 0, &extreme()).await.unwrap(), "{name}");
        let loaded: Versioned<TotpAccount> = store.load(&account).await.unwrap();
        assert_eq!(
            loaded,
            Versioned {
                state: extreme(),
                version: 1
            },
            "{name}"
        );
        // An account name no key or row may mistake for another.
        for odd in ["a}b", "a%7Db", "{x}", "é \n:kind"] {
            let account = format!("{account}{odd}");
            let loaded: Versioned<TotpAccount> = store.load(&account).await.unwrap();
            assert_eq!(loaded.version, 0, "{name} {odd:?}");
            assert!(
                store
                    .save(&account, 0, &TotpAccount::default())
                    .await
                    .unwrap(),
                "{name} {odd:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_reset_is_a_save_and_never_restarts_the_version() {
    for (name, store) in backends().await {
        let account = fresh("reset");
        let guard = Guard::default();
        let mut locked = TotpAccount::default();
        locked.throttle.failures = 100;
        locked.throttle.retry_at = u64::MAX;
        assert!(store.save(&account, 0, &locked).await.unwrap());
        let before: Versioned<TotpAccount> = store.load(&account).await.unwrap();
        // The service's reset: through the same compare-and-swap.
        guard
            .decide_shared(&store, &account, |state: &mut TotpAccount| {
                guard.throttle().record_success(&mut state.throttle);
                Ok(())
            })
            .await
            .unwrap();
        let after: Versioned<TotpAccount> = store.load(&account).await.unwrap();
        assert_eq!((before.version, after.version), (1, 2), "{name}");
        assert_eq!(after.state.throttle.failures, 0, "{name}");
        // An instance that loaded the locked state before the reset
        // cannot save over it, nor can one that saw no row at all.
        assert!(
            !store
                .save(&account, before.version, &before.state)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store.save(&account, 0, &before.state).await.unwrap(),
            "{name}"
        );
        let last: Versioned<TotpAccount> = store.load(&account).await.unwrap();
        assert_eq!(last, after, "{name}");
    }
}

/// Changes `account`'s totp record behind the store's back.
async fn tamper(store: &AnyStore, account: &str, field: &str, value: &str) -> Result<(), BoxError> {
    let (column, value) = (field, value);
    match store {
        AnyStore::Postgres(store) => {
            let sql = match column {
                "body" => "UPDATE twofa_records SET body = $2::jsonb WHERE account = $1",
                "format" => "UPDATE twofa_records SET format = $2::bigint WHERE account = $1",
                _ => "UPDATE twofa_records SET version = $2::bigint WHERE account = $1",
            };
            sqlx::query(sql)
                .bind(account)
                .bind(value)
                .execute(store.pool())
                .await?;
        }
        AnyStore::Sqlite(store) => {
            let sql = match column {
                "body" => "UPDATE twofa_records SET body = ?2 WHERE account = ?1",
                "format" => {
                    "UPDATE twofa_records SET format = CAST(?2 AS INTEGER) WHERE account = ?1"
                }
                _ => "UPDATE twofa_records SET version = CAST(?2 AS INTEGER) WHERE account = ?1",
            };
            sqlx::query(sql)
                .bind(account)
                .bind(value)
                .execute(store.pool())
                .await?;
        }
        AnyStore::Redis(_) | AnyStore::RedisCluster(_) => {
            let key = twofa_redis::key(account, "totp");
            let mut command = if value.is_empty() {
                redis::cmd("HDEL")
            } else {
                redis::cmd("HSET")
            };
            command.arg(&key).arg(column);
            if !value.is_empty() {
                command.arg(value);
            }
            if matches!(store, AnyStore::Redis(_)) {
                let url = std::env::var("TWOFA_REDIS_URL")?;
                let mut connection = redis::Client::open(url)?
                    .get_multiplexed_async_connection()
                    .await?;
                command.query_async::<()>(&mut connection).await?;
            } else {
                let urls = std::env::var("TWOFA_REDIS_CLUSTER_URL")?;
                let client = redis::cluster::ClusterClient::new(urls.split(','))?;
                let mut connection = client.get_async_connection().await?;
                command.query_async::<()>(&mut connection).await?;
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_record_changed_behind_the_stores_back_is_an_error_never_a_default() {
    let missing_field = r#"{"throttle":{"failures":0,"retry_at":0},"last_step":null,"drift":0}"#;
    let negative =
        r#"{"throttle":{"failures":-1,"retry_at":0},"last_step":null,"used_below":0,"drift":0}"#;
    for (name, store) in backends().await {
        let cases: &[(&str, &str)] = match name {
            // SQL's CHECK keeps versions above 0 and bodies JSON: what
            // remains is JSON that is not a state, and another format.
            "redis" => &[
                ("body", missing_field),
                ("body", negative),
                ("body", "not json"),
                ("format", "2"),
                ("version", "0"),
                ("version", "-3"),
                ("version", "one"),
                ("version", "01"),
                ("body", ""),
                ("version", ""),
            ],
            _ => &[("body", missing_field), ("body", negative), ("format", "2")],
        };
        for (field, value) in cases {
            let account = fresh("tampered");
            assert!(store.save(&account, 0, &extreme()).await.unwrap());
            tamper(&store, &account, field, value).await.unwrap();
            let loaded: Result<Versioned<TotpAccount>, _> = store.load(&account).await;
            let error = loaded.unwrap_err().to_string();
            assert!(
                error.contains("totp record unreadable"),
                "{name} {field}={value}: {error}"
            );
            // Nor is it written over as a record never saved.
            let over: Result<bool, _> = store.save(&account, 0, &TotpAccount::default()).await;
            assert!(!matches!(over, Ok(true)), "{name} {field}={value}");
            // And a check over it refuses, rather than starting afresh.
            let guard = Guard::default();
            let totp = twofa_store_races::fixtures::totp().unwrap();
            let outcome = guard
                .verify_totp_shared(&totp, &store, &account, "123456", 0)
                .await;
            assert!(outcome.is_err(), "{name} {field}={value}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_past_the_bound_is_refused_without_being_read_whole() {
    // Valid JSON, one byte past the bound: only a database writer puts it
    // there.
    let pad = "x".repeat(twofa_record::MAX_BODY_LEN);
    let long = format!(r#"{{"pad":"{pad}"}}"#);
    for (name, store) in backends().await {
        let account = fresh("too-long");
        assert!(store.save(&account, 0, &extreme()).await.unwrap());
        tamper(&store, &account, "body", &long).await.unwrap();
        let loaded: Result<Versioned<TotpAccount>, _> = store.load(&account).await;
        let error = loaded.unwrap_err().to_string();
        assert!(error.contains("MAX_BODY_LEN"), "{name}: {error}");
    }
}

/// Four processes open `target` and migrate it at once; then each
/// migration is recorded once.
async fn migrate_together(backend: &str, target: &str) {
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_race-worker"))
                .args([backend, target, "check"])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "{backend}");
    }
    let applied: Vec<i64> = match AnyStore::connect(backend, target).await.unwrap() {
        AnyStore::Postgres(store) => sqlx::query_scalar("SELECT version FROM twofa_migrations")
            .fetch_all(store.pool())
            .await
            .unwrap(),
        AnyStore::Sqlite(store) => sqlx::query_scalar("SELECT version FROM twofa_migrations")
            .fetch_all(store.pool())
            .await
            .unwrap(),
        AnyStore::Redis(_) | AnyStore::RedisCluster(_) => unreachable!("Redis has no schema"),
    };
    assert_eq!(applied, [1, 2], "{backend}");
}

#[tokio::test]
async fn migrations_run_once_however_many_instances_start_together() {
    migrate_together("sqlite", &sqlite_file("migrate")).await;
    for (_, store) in backends().await {
        if let AnyStore::Postgres(store) = store {
            // A fresh database, so that the migration really runs.
            let database = fresh("migrate").replace('-', "_");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
                .execute(store.pool())
                .await
                .unwrap();
            let url = std::env::var("TWOFA_POSTGRES_URL").unwrap();
            let base = url.rsplit_once('/').unwrap().0;
            migrate_together("postgres", &format!("{base}/{database}")).await;
        }
    }
}

#[tokio::test]
async fn an_account_name_with_nul_is_refused_on_every_backend() {
    for (name, store) in backends().await {
        let loaded: Result<Versioned<TotpAccount>, _> = store.load("a\0b").await;
        let error = loaded.unwrap_err().to_string();
        assert!(error.contains("NUL"), "{name}: {error}");
        let saved = store.save("a\0b", 0, &TotpAccount::default()).await;
        assert!(saved.unwrap_err().to_string().contains("NUL"), "{name}");
    }
}

#[tokio::test]
async fn a_save_that_replicas_do_not_acknowledge_refuses_the_login() {
    for (_, store) in backends().await {
        if let AnyStore::Redis(store) = store {
            // The test server has no replica: none can acknowledge.
            let store = store.with_replicas(1, std::time::Duration::from_millis(50));
            let account = fresh("replicas");
            let saved = store.save(&account, 0, &TotpAccount::default()).await;
            let error = saved.unwrap_err().to_string();
            assert!(error.contains("reached 0 replicas of 1"), "{error}");
            let guard = Guard::default();
            let totp = twofa_store_races::fixtures::totp().unwrap();
            let code = totp.generate_at(1_700_000_000).unwrap().to_string();
            let outcome = guard
                .verify_totp_shared(&totp, &store, &account, &code, 1_700_000_000)
                .await;
            assert!(
                outcome.is_err(),
                "a save not replicated is not an acceptance"
            );
        }
    }
}

#[tokio::test]
async fn a_save_that_the_cluster_replicates_is_accepted() {
    for (_, store) in backends().await {
        if let AnyStore::RedisCluster(store) = store {
            // Each primary of the test cluster has its replica.
            let store = store.with_replicas(1, std::time::Duration::from_secs(2));
            let account = fresh("replicated");
            let saved = store.save(&account, 0, &TotpAccount::default()).await;
            assert!(saved.unwrap(), "a save the replica acknowledged");
        }
    }
}

#[tokio::test]
async fn redis_runs_with_the_durability_a_replay_mark_needs() {
    for (name, store) in backends().await {
        assert_eq!(
            store.durability_problems().await.unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

fn entry(at: u64, name: &str) -> twofa_record::TrailEntry {
    twofa_record::TrailEntry {
        at,
        name: name.to_owned(),
        detail: format!("{{\"n\":{at}}}"),
    }
}

#[tokio::test]
async fn the_trail_is_newest_first_bounded_and_keeps_every_binding() {
    use twofa_record::{AuditTrail, MAX_ACTIVITY, MAX_BINDINGS, RETENTION_SECS, StoreError};
    let now = 2_000_000_000;
    for (name, store) in backends().await {
        let account = fresh("trail");
        // Newest first, bindings and activity alike.
        let first = [
            entry(now - 3, "login.failed"),
            entry(now - 2, "authenticator.bound"),
        ];
        store.append(&account, &first, now).await.unwrap();
        store
            .append(&account, &[entry(now - 1, "login.succeeded")], now)
            .await
            .unwrap();
        let recent = store.recent(&account, 10).await.unwrap();
        let names: Vec<_> = recent.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["login.succeeded", "authenticator.bound", "login.failed"],
            "{name}"
        );
        assert_eq!(recent[2], first[0], "{name}: read back exactly");
        assert_eq!(store.recent(&account, 1).await.unwrap().len(), 1, "{name}");

        // Past the per-account bound, the oldest activity goes; the
        // binding stays in the record of bindings.
        let many: Vec<_> = (0..MAX_ACTIVITY as u64 + 20)
            .map(|i| entry(now + i, "code.sent"))
            .collect();
        store.append(&account, &many, now).await.unwrap();
        let recent = store.recent(&account, 2 * MAX_ACTIVITY).await.unwrap();
        assert!(recent.len() <= MAX_ACTIVITY + 1, "{name}: {}", recent.len());
        assert_eq!(recent[0].at, now + MAX_ACTIVITY as u64 + 19, "{name}");
        assert!(recent.iter().all(|e| e.name != "login.failed"), "{name}");
        let bindings = store.bindings(&account).await.unwrap();
        assert_eq!(bindings, [first[1].clone()], "{name}");

        // Past the retention, old activity goes when the trail is next
        // written; bindings never do.
        let later = now + RETENTION_SECS + 10 * MAX_ACTIVITY as u64;
        store
            .append(&account, &[entry(later, "login.succeeded")], later)
            .await
            .unwrap();
        let recent = store.recent(&account, 2 * MAX_ACTIVITY).await.unwrap();
        let recent: Vec<_> = recent.into_iter().filter(|e| !e.is_binding()).collect();
        assert!(!recent.is_empty(), "{name}");
        assert!(
            recent.iter().all(|e| e.at + RETENTION_SECS >= later),
            "{name}: {} entries older than the retention",
            recent
                .iter()
                .filter(|e| e.at + RETENTION_SECS < later)
                .count()
        );
        assert_eq!(store.bindings(&account).await.unwrap().len(), 1, "{name}");

        // The record of bindings is bounded: an append past it is refused
        // whole, never dropped silently.
        let fill: Vec<_> = (1..MAX_BINDINGS as u64)
            .map(|i| entry(later + i, "authenticator.removed"))
            .collect();
        store.append(&account, &fill, later).await.unwrap();
        let over = [
            entry(later, "login.failed"),
            entry(later, "authenticator.bound"),
        ];
        assert!(
            matches!(
                store.append(&account, &over, later).await,
                Err(StoreError::Unwritable(_))
            ),
            "{name}"
        );
        assert_eq!(
            store.bindings(&account).await.unwrap().len(),
            MAX_BINDINGS,
            "{name}"
        );
        assert_ne!(
            store.recent(&account, 1).await.unwrap()[0].name,
            "login.failed"
        );

        // Entries out of bounds are refused before anything is written.
        let bad = twofa_record::TrailEntry {
            at: now,
            name: "Login Failed".to_owned(),
            detail: "{}".to_owned(),
        };
        assert!(store.append(&account, &[bad], now).await.is_err(), "{name}");
        let not_object = entry(now, "x");
        let not_object = twofa_record::TrailEntry {
            detail: "[1]".to_owned(),
            ..not_object
        };
        assert!(
            store.append(&account, &[not_object], now).await.is_err(),
            "{name}"
        );
    }
}

/// Decisions on one account from 8 tasks at once, each counting up
/// `last_step` through `update`: every decision that says it was saved is
/// in the final count (the compare-and-swap holds), and on SQLite, whose
/// decisions run inside `BEGIN IMMEDIATE`, none lost its race.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_decision_saved_is_counted_once_and_sqlite_never_loses_a_race() {
    const TASKS: u64 = 8;
    const DECISIONS: u64 = 25;
    for (name, store) in backends().await {
        let account = fresh("decisions");
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (store, account) = (store.clone(), account.clone());
                tokio::spawn(async move {
                    let (mut saved, mut lost) = (0_u64, 0_u64);
                    while saved < DECISIONS {
                        let decided = store
                            .update(&account, |state: &mut TotpAccount| {
                                state.last_step = Some(state.last_step.map_or(1, |n| n + 1));
                                Ok(())
                            })
                            .await
                            .unwrap();
                        match decided {
                            Some(()) => saved += 1,
                            None => lost += 1,
                        }
                        // Each lost race is another task's save: a store
                        // losing more than that never saves at all.
                        assert!(lost <= TASKS * DECISIONS, "a store that only loses");
                    }
                    lost
                })
            })
            .collect();
        let mut lost = 0;
        for task in tasks {
            lost += task.await.unwrap();
        }
        let stored: Versioned<TotpAccount> = store.load(&account).await.unwrap();
        assert_eq!(stored.state.last_step, Some(TASKS * DECISIONS), "{name}");
        assert_eq!(stored.version, TASKS * DECISIONS, "{name}");
        println!(
            "{name}: {} decisions saved, {lost} lost their race",
            TASKS * DECISIONS
        );
        if name == "sqlite" {
            assert_eq!(lost, 0, "a decision inside BEGIN IMMEDIATE lost its race");
        }
    }
}

/// Ends every connection of `application` and waits until they are gone.
async fn end_connections(admin: &sqlx::PgPool, application: &str) {
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(application)
    .fetch_all(admin)
    .await
    .unwrap();
    assert_eq!(ended, [true], "the pool's one connection, idle");
    for _ in 0..100 {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(application)
                .fetch_one(admin)
                .await
                .unwrap();
        if left == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the connection outlived its end");
}

/// A pooled PostgreSQL connection that the server ended while it sat idle
/// (a restart, a proxy's idle cut-off) costs no login and no read: the
/// store finds it broken before anything is decided, drops it, and runs
/// on a new one.
#[tokio::test]
async fn a_connection_ended_while_idle_costs_no_decision_and_no_load() {
    use std::str::FromStr;
    let Ok(url) = std::env::var("TWOFA_POSTGRES_URL") else {
        twofa_store_races::servers::absent("postgres", "TWOFA_POSTGRES_URL is not set");
        return;
    };
    let name = fresh("idle");
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .unwrap()
        .application_name(&name);
    let store = twofa_sqlx::PgStore::new(
        twofa_sqlx::PgStore::pool_options()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let account = fresh("idle-account");
    for step in 1..=2 {
        let decided = store
            .update(&account, |state: &mut TotpAccount| {
                state.last_step = Some(step);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(decided, Some(()));
        end_connections(&admin, &name).await;
        let loaded: Versioned<TotpAccount> = store.load(&account).await.unwrap();
        assert_eq!(loaded.state.last_step, Some(step));
        end_connections(&admin, &name).await;
    }
}
