//! The login walk-through example gives every answer it promises.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used)]

#[path = "support/example.rs"]
mod example;

#[test]
fn the_walk_through_gives_every_answer() {
    let output = example::run("login_flow", &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let answer = |prefix: &str| {
        lines
            .iter()
            .find(|line| line.trim_start().starts_with(prefix))
            .and_then(|line| line.split("-> ").nth(1))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{text}"))
    };
    assert_eq!(answer("1."), "Login successful (drift +0)");
    assert_eq!(
        answer("2."),
        "OTP has been used in past, please try next OTP"
    );
    assert_eq!(answer("3."), "Invalid TOTP (8 attempts left)");
    assert_eq!(answer("4."), "Two Factor Authentication is not enabled");
    assert!(text.contains("Too many attempts: try again in 256 s"));
    assert!(text.contains("Invalid TOTP. Account locked: use a recovery code"));
    assert_eq!(answer("6."), "Account locked: use a recovery code");
    assert_eq!(answer("typed back"), "Login successful (SMS OTP)");
    assert_eq!(
        answer("typed again"),
        "OTP has been used in past, please request a new one"
    );
    assert_eq!(
        answer("another, typed 5 minutes late"),
        "OTP expired: request a new one"
    );
    assert_eq!(answer("8."), "Login successful (recovery code; 9 left)");
    assert_eq!(
        answer("the same recovery code again"),
        "Recovery code already used"
    );
    assert_eq!(answer("9."), "Login successful (drift +0)");
}
