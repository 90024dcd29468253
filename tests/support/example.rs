//! Running the crate's examples from tests: `cargo test` builds them
//! beside the test binaries.

use std::{
    path::PathBuf,
    process::{Command, Output},
};

/// Runs the example `name` with `args`.
pub(crate) fn run(name: &str, args: &[&str]) -> Output {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let binary: PathBuf = path
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.exists(), "{} not built", binary.display());
    Command::new(binary).args(args).output().unwrap()
}
