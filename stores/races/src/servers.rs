//! What the tests do when a server is absent: say so loudly, and fail
//! when servers are required (`TWOFA_REQUIRE_SERVERS`, set by `.ci/run`).

/// Announces that `backend`'s tests did not run, because of `problem`.
///
/// # Panics
/// When `TWOFA_REQUIRE_SERVERS` is set: the server was required.
pub fn absent(backend: &str, problem: &str) {
    let banner = "!".repeat(72);
    eprintln!("\n{banner}\n{backend}: NO SERVER, ITS TESTS NOT RUN\n{problem}\n{banner}\n");
    assert!(
        std::env::var("TWOFA_REQUIRE_SERVERS").is_err(),
        "{backend}: server required (TWOFA_REQUIRE_SERVERS is set): {problem}"
    );
}
