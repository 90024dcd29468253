//! The login walk-through example gives every answer it promises, in the
//! seed's JSON shapes, and its attacker, mixing every factor, is locked
//! out after the policy's failures.
#![cfg(feature = "device")]
#![allow(clippy::unwrap_used)]

#[path = "support/example.rs"]
mod example;

use serde_json::Value;

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
    // The JSON answer printed under the step whose title starts with `prefix`.
    let answer = |prefix: &str| -> Value {
        let at = lines
            .iter()
            .position(|line| line.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no step {prefix:?} in:\n{text}"));
        serde_json::from_str(lines[at + 1].trim()).unwrap()
    };
    let said = |prefix: &str| {
        let answer = answer(prefix);
        (
            answer["status"].as_str().unwrap().to_owned(),
            answer["code"].as_str().unwrap().to_owned(),
            answer["message"].as_str().unwrap().to_owned(),
        )
    };
    let ok = |message: &str| ("success".to_owned(), "s-101".to_owned(), message.to_owned());
    let err = |code: &str, message: &str| ("error".to_owned(), code.to_owned(), message.to_owned());

    let register = answer("1.");
    assert_eq!(register["status"], "success");
    assert_eq!(
        register["data"]["register_token"].as_str().unwrap().len(),
        52
    );
    assert_eq!(
        register["data"]["second_factors"],
        serde_json::json!(["TOTP", "OTP", "FINGERPRINT"])
    );
    assert_eq!(said("2."), ok("User logged in Successfully."));
    assert_eq!(answer("2.")["data"]["second_factor"], "TOTP");
    let expired = err(
        "e-106",
        "register_token or challenge expired or used: log in again",
    );
    assert_eq!(said("3."), expired, "a replayed ticket");
    assert_eq!(
        said("4."),
        err("e-103", "OTP has been used in past, Please try next OTP")
    );
    assert_eq!(said("5."), ok("OTP sent to your registered mobile number"));
    assert_eq!(
        said("TOKEN with the SMS OTP"),
        ok("User logged in Successfully.")
    );
    let (_, _, shown) = said("6.");
    assert!(shown.starts_with("Enter ") && shown.ends_with(" on your registered device"));
    assert_eq!(
        said("the phone signs the number"),
        ok("User logged in Successfully.")
    );
    assert_eq!(
        said("7."),
        err("e-102", "Invalid device signature (9 attempts left)")
    );
    assert_eq!(
        said("a registered UDID"),
        err("e-102", "Invalid device signature (8 attempts left)")
    );
    assert_eq!(said("8."), expired, "an expired ticket");
    assert_eq!(said("9."), ok("User logged in Successfully."));
    assert_eq!(answer("9.")["data"]["second_factor"], "remembered device");
    assert_eq!(said("10."), err("e-102", "Invalid TOTP (9 attempts left)"));
    assert_eq!(
        said("UCC777777"),
        err(
            "e-108",
            "Two Factor Authentication is not enabled Please enable by visiting the security page"
        )
    );

    // The attacker's answers: every factor counted against one throttle.
    let start = lines.iter().position(|l| l.starts_with("11.")).unwrap();
    let end = lines.iter().position(|l| l.starts_with("12.")).unwrap();
    let guesses: Vec<Value> = lines[start + 1..end]
        .iter()
        .map(|line| serde_json::from_str(line.trim()).unwrap())
        .collect();
    let messages: Vec<&str> = guesses
        .iter()
        .map(|a| a["message"].as_str().unwrap())
        .collect();
    let compared = messages.iter().filter(|m| m.starts_with("Invalid")).count();
    // One failure (step 10) was already counted: 9 more reach the lockout.
    assert_eq!(compared, 9, "{messages:#?}");
    for factor in ["Invalid TOTP", "Invalid OTP", "Invalid device signature"] {
        assert!(messages.iter().any(|m| m.starts_with(factor)), "{factor}");
    }
    assert_eq!(*messages.last().unwrap(), "Account locked: contact support");
    assert_eq!(said("12."), err("e-104", "Account locked: contact support"));
}
