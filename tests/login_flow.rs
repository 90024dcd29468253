//! The login walk-through example gives every answer it promises, and its
//! attacker, mixing every factor, is locked out after the policy's
//! failures.
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
    assert_eq!(answer("1."), "Success (drift +0)");
    assert_eq!(
        answer("2."),
        "OTP has been used in past, Please try next OTP"
    );
    assert_eq!(answer("3."), "Invalid TOTP (8 attempts left)");
    assert_eq!(answer("4."), "Invalid client code or PIN");
    assert!(answer("5.").starts_with("Two Factor Authentication is not enabled"));
    assert_eq!(answer("6."), "OTP sent");
    assert_eq!(
        answer("asked again at once"),
        "OTP already sent: request another in 25 s"
    );
    assert_eq!(answer("typed back"), "Success (SMS OTP)");
    assert_eq!(
        answer("typed again"),
        "OTP expired or used: request a new one"
    );
    assert_eq!(
        answer("asked for without the PIN"),
        "Invalid client code or PIN"
    );

    // The attacker's guesses: every factor counted against one throttle.
    let start = lines.iter().position(|l| l.starts_with("7.")).unwrap();
    let end = lines.iter().position(|l| l.starts_with("8.")).unwrap();
    let guesses = &lines[start + 1..end];
    let compared = guesses.iter().filter(|l| l.contains("-> Invalid")).count();
    // The PIN typed wrong just before leaves 9 of the 10 failures.
    assert_eq!(compared, 9, "{guesses:#?}");
    for factor in ["Invalid TOTP", "Invalid OTP", "Invalid recovery code"] {
        assert!(guesses.iter().any(|l| l.contains(factor)), "{factor}");
    }
    assert!(
        guesses
            .last()
            .unwrap()
            .ends_with("Account locked: contact support")
    );
    assert_eq!(answer("8."), "Account locked: contact support");
    assert_eq!(
        answer("a right recovery code, while locked"),
        "Account locked: contact support"
    );
    assert_eq!(
        answer("an SMS code, while locked"),
        "Account locked: contact support"
    );
}
