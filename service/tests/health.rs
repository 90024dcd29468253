//! `/healthz` and `/readyz` over a Redis the test starts, stops and
//! starts again: ready while the store answers, not ready (the API's 503,
//! at once) while it is down though the process stays alive, and ready
//! again once it is back, without a restart.

mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{Server, Store, scratch};
use serde_json::Value;

const PORT: &str = "56392";

/// A Redis of the test's own, configured to keep every save.
fn redis(dir: &Path) -> Option<Child> {
    let spawned = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", PORT, "--save", ""])
        .args(["--appendonly", "yes", "--appendfsync", "always"])
        .args(["--maxmemory-policy", "noeviction"])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(400));
    Some(spawned)
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path}"))
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_while_the_store_answers_and_again_once_it_is_back() {
    let dir = scratch("health");
    let Some(mut first) = redis(&dir) else {
        assert!(
            std::env::var("TWOFA_REQUIRE_SERVERS").is_err(),
            "redis-server is required by TWOFA_REQUIRE_SERVERS"
        );
        eprintln!("SKIPPED: no redis-server here");
        return;
    };
    let store = Store {
        name: "redis",
        url: format!("redis://127.0.0.1:{PORT}/"),
    };
    let server = Server::start(&store, &dir, 10);
    assert_eq!(get(&server.base, "/healthz").await.0, 200);
    let (status, ready) = get(&server.base, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["data"]["store"], "redis");

    let _ = first.kill();
    let _ = first.wait();
    let asked = Instant::now();
    let (status, down) = get(&server.base, "/readyz").await;
    assert_eq!(status, 503, "{down}");
    assert_eq!(down["code"], "e-503");
    assert!(asked.elapsed() < Duration::from_secs(5), "answered at once");
    assert_eq!(
        get(&server.base, "/healthz").await.0,
        200,
        "the process is alive"
    );
    println!(
        "readyz: 503 while the store was down, in {:?}",
        asked.elapsed()
    );

    let mut second = redis(&dir).expect("redis-server again");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = get(&server.base, "/readyz").await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready again after the store came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("readyz: 200 again once the store was back");
    let _ = second.kill();
    let _ = second.wait();
}
