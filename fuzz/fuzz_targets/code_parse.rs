//! Reading typed codes: never panics, and what it accepts is exactly the
//! digits typed, with at most one inner space or hyphen.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::{Code, Digits};

fuzz_target!(|input: (u8, &str)| {
    let (digits, text) = input;
    let Ok(digits) = Digits::new(6 + digits % 5) else {
        return;
    };
    let Ok(code) = Code::parse(text, digits) else {
        return;
    };
    let typed: String = text.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(typed.len(), usize::from(digits.get()));
    assert!(text.len() <= typed.len() + 1);
    assert_eq!(code.to_string(), typed);
});
