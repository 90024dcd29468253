//! Running the crate's examples from tests: `cargo test` builds them
//! beside the test binaries.
#![allow(dead_code)] // each test uses the part it needs

use std::{
    path::PathBuf,
    process::{Command, Output},
};

/// A command running the example `name`.
pub(crate) fn command(name: &str) -> Command {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let binary: PathBuf = path
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.exists(), "{} not built", binary.display());
    Command::new(binary)
}

/// Runs the example `name` with `args`.
pub(crate) fn run(name: &str, args: &[&str]) -> Output {
    command(name).args(args).output().unwrap()
}
