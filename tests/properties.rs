//! Property tests: the fast path against a plain reference implementation
//! written here from RFC 4226 §5.3, and round trips.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "support/reference.rs"]
mod reference;

use proptest::prelude::*;
use twofa::{Algorithm, Code, Digits, Error, Hotp, Secret, Totp};

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop::sample::select(Algorithm::ALL.to_vec())
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    // 80-bit secrets up to the largest; past 64 bytes, SHA-1 and SHA-256
    // hash the key first (RFC 2104 §2).
    prop::collection::vec(any::<u8>(), Secret::MIN_LEN_80_BIT..=Secret::MAX_LEN)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generation_matches_the_reference(algorithm in algorithm(), key in key(), counter in any::<u64>(), digits in 6u8..=10) {
        let hotp = Hotp::builder(Secret::from_bytes_accepting_80_bit(&key).unwrap())
            .algorithm(algorithm)
            .digits(digits)
            .build()
            .unwrap();
        let code = hotp.generate(counter);
        prop_assert_eq!(code.expose_value(), reference::hotp(algorithm, &key, counter, digits));
        prop_assert_eq!(code.to_string(), format!("{:0width$}", code.expose_value(), width = usize::from(digits)));
    }

    #[test]
    fn totp_verification_matches_the_reference(
        algorithm in algorithm(),
        key in key(),
        time in any::<u64>(),
        period in 1u64..=300,
        t0_back in 0u64..=1_000_000,
        behind in 0u64..=Totp::MAX_WINDOW,
        ahead in 0u64..=Totp::MAX_WINDOW,
        offset in -12i64..=12,
        digits in 6u8..=8,
    ) {
        let t0 = time.saturating_sub(t0_back);
        let totp = Totp::builder(Secret::from_bytes_accepting_80_bit(&key).unwrap())
            .algorithm(algorithm).digits(digits).period(period).t0(t0).window(behind, ahead)
            .build().unwrap();
        let now = (time - t0) / period;
        prop_assert_eq!(totp.step_at(time), Ok(now));
        // A code from `offset` steps away, inside the window or not.
        let Some(step) = now.checked_add_signed(offset) else { return Ok(()) };
        let code = totp.generate_at_step(step).to_string();
        let first = now.saturating_sub(behind);
        let last = now.saturating_add(ahead);
        let expected = reference::scan(algorithm, &key, first, last, code.parse().unwrap(), digits);
        match totp.verify_at(&code, time) {
            Ok(found) => {
                prop_assert_eq!(Some(found.step), expected);
                prop_assert_eq!(i128::from(found.drift), i128::from(found.step) - i128::from(now));
                if (-(behind as i64)..=ahead as i64).contains(&offset) {
                    // Inside the window the code's own step matches, or a
                    // newer one that happens to share its digits.
                    prop_assert!(found.step >= step);
                }
            }
            Err(e) => {
                prop_assert_eq!(e, Error::InvalidCode);
                prop_assert_eq!(expected, None);
                prop_assert!(!(-(behind as i64)..=ahead as i64).contains(&offset));
            }
        }
    }

    #[test]
    fn hotp_verification_matches_the_reference(
        key in key(),
        counter in prop_oneof![any::<u64>(), (u64::MAX - 120)..=u64::MAX],
        look_ahead in 0u64..=Hotp::MAX_LOOK_AHEAD,
        offset in 0u64..=110,
    ) {
        let hotp = Hotp::builder(Secret::from_bytes_accepting_80_bit(&key).unwrap())
            .look_ahead(look_ahead).build().unwrap();
        let Some(target) = counter.checked_add(offset) else { return Ok(()) };
        let code = hotp.generate(target);
        let expected = reference::scan(Algorithm::Sha1, &key, counter, counter.saturating_add(look_ahead), code.expose_value(), 6);
        let found = hotp.verify(&code.to_string(), counter).ok().map(|m| m.counter);
        prop_assert_eq!(found, expected);
        if offset <= look_ahead {
            prop_assert!(found.is_some());
        }
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn base32_round_trips(bytes in prop::collection::vec(any::<u8>(), Secret::MIN_LEN..=Secret::MAX_LEN)) {
        let secret = Secret::from_bytes(&bytes).unwrap();
        let text = secret.to_base32();
        prop_assert_eq!(text.len(), secret.base32_len());
        // The same text the base32 crate writes, and read back the same way.
        prop_assert_eq!(text.as_str(), base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &bytes));
        prop_assert_eq!(Secret::from_base32(&text).unwrap(), secret.clone());
        // As people paste it: lower case, in groups of four, padded.
        let pasted: String = text.to_lowercase().as_bytes().chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ");
        let padding = "=".repeat((8 - text.len() % 8) % 8);
        prop_assert_eq!(Secret::from_base32(&format!("{pasted}{padding}")).unwrap(), secret);
    }

    #[test]
    fn base32_agrees_with_the_base32_crate(text in "[A-Z2-7]{16,205}") {
        let ours = Secret::from_base32(&text).ok().map(|s| s.expose_bytes().to_vec());
        let theirs = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &text)
            .filter(|b| b.len() >= Secret::MIN_LEN && !matches!(text.len() % 8, 1 | 3 | 6));
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,40}", time in any::<u64>(), digits in 6u8..=10) {
        let totp = Totp::builder(Secret::from_bytes(b"12345678901234567890").unwrap()).digits(digits).build().unwrap();
        let _ = totp.verify_at(&text, time);
        let _ = Secret::from_base32(&text);
        let _ = text.parse::<Algorithm>();
        if let Ok(code) = Code::parse(&text, Digits::new(digits).unwrap()) {
            prop_assert_eq!(text.chars().filter(char::is_ascii_digit).count(), usize::from(digits));
            prop_assert!(code.expose_value() < 10u64.pow(u32::from(digits)));
        }
    }
}

/// Keys at every length where keying changes course: up to a block they
/// are zero padded, past it hashed first (RFC 2104 §2); SHA-1 and SHA-256
/// have 64-byte blocks, SHA-512 a 128-byte one.
#[test]
fn keys_at_the_block_boundaries_match_the_reference() {
    for algorithm in Algorithm::ALL {
        for len in [10, 20, 32, 63, 64, 65, 100, 127, 128] {
            let key: Vec<u8> = (0..len)
                .map(|i| (i as u8).wrapping_mul(151) ^ 0xA5)
                .collect();
            let hotp = Hotp::builder(Secret::from_bytes_accepting_80_bit(&key).unwrap())
                .algorithm(algorithm)
                .digits(8)
                .build()
                .unwrap();
            for counter in [0, 1, 59, u64::MAX] {
                assert_eq!(
                    hotp.generate(counter).expose_value(),
                    reference::hotp(algorithm, &key, counter, 8),
                    "{algorithm} with a {len}-byte key at counter {counter}"
                );
            }
        }
    }
}
