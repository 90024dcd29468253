//! Boundaries: times, counters, digits, secrets, typed codes, parameters,
//! and what `Debug` and errors may show. Over 400 lines: one short test
//! per boundary, listed together so a missing boundary shows.
#![allow(clippy::unwrap_used)]

use twofa::{Algorithm, Code, Digits, Error, Format, Hotp, Secret, Totp};

/// RFC 4226's demo secret; never a real one.
fn demo() -> Secret {
    Secret::from_bytes(b"12345678901234567890").unwrap()
}

#[test]
fn time_before_t0_is_an_error_not_an_underflow() {
    let totp = Totp::builder(demo()).t0(1_000).build().unwrap();
    assert_eq!(totp.step_at(999), Err(Error::TimeBeforeEpoch));
    assert_eq!(totp.generate_at(0).map(|_| ()), Err(Error::TimeBeforeEpoch));
    assert_eq!(totp.verify_at("123456", 999), Err(Error::TimeBeforeEpoch));
    assert_eq!(totp.step_at(1_000), Ok(0));
    assert_eq!(totp.step_at(1_029), Ok(0));
    assert_eq!(totp.step_at(1_030), Ok(1));
}

#[test]
fn window_below_step_zero_is_clipped() {
    let totp = Totp::builder(demo()).window(10, 1).build().unwrap();
    let code = totp.generate_at_step(0).to_string();
    let found = totp.verify_at(&code, 5).unwrap();
    assert_eq!((found.step, found.drift), (0, 0));
    let next = totp.generate_at_step(1).to_string();
    assert_eq!(totp.verify_at(&next, 0).unwrap().drift, 1);
}

#[test]
fn times_past_2038_and_at_the_end_of_u64() {
    let totp = Totp::new(demo());
    // 2038-01-19T03:14:08Z is 2^31; the RFC's own vector 20000000000 is past it.
    for time in [1u64 << 31, 1 << 32, 20_000_000_000, u64::MAX - 1, u64::MAX] {
        let code = totp.generate_at(time).unwrap().to_string();
        let found = totp.verify_at(&code, time).unwrap();
        assert_eq!(found.step, time / 30);
        assert_eq!(found.drift, 0);
    }
    // The window above the last step is clipped, not wrapped.
    let last = u64::MAX / 30;
    let wide = Totp::builder(demo())
        .window(1, 10)
        .period(1)
        .build()
        .unwrap();
    let code = wide.generate_at_step(u64::MAX).to_string();
    assert_eq!(wide.verify_at(&code, u64::MAX).unwrap().step, u64::MAX);
    assert_eq!(totp.step_at(u64::MAX), Ok(last));
}

#[test]
fn hotp_counter_at_u64_max() {
    let hotp = Hotp::builder(demo()).look_ahead(10).build().unwrap();
    let code = hotp.generate(u64::MAX).to_string();
    let found = hotp.verify(&code, u64::MAX - 3).unwrap();
    assert_eq!(found.counter, u64::MAX);
    assert_eq!(found.ahead, 3);
    assert_eq!(found.next_counter(), None);
    let found = hotp.verify(&code, u64::MAX).unwrap();
    assert_eq!((found.counter, found.ahead), (u64::MAX, 0));
    let before = hotp.generate(u64::MAX - 1).to_string();
    assert_eq!(
        hotp.verify(&before, u64::MAX - 1).unwrap().next_counter(),
        Some(u64::MAX)
    );
    // Below the stored counter is never looked at.
    assert_ne!(before, code);
    assert_eq!(hotp.verify(&before, u64::MAX), Err(Error::InvalidCode));
}

#[test]
fn hotp_does_not_look_behind_or_past_the_look_ahead() {
    let hotp = Hotp::builder(demo()).look_ahead(2).build().unwrap();
    // RFC 4226 Appendix D: counter 0 is 755224, counter 3 is 969429.
    assert_eq!(hotp.verify("755224", 1), Err(Error::InvalidCode));
    assert_eq!(hotp.verify("969429", 0), Err(Error::InvalidCode));
    assert_eq!(hotp.verify("969429", 1).unwrap().counter, 3);
}

#[test]
fn leading_zeros_are_kept() {
    // RFC 6238 Appendix B: SHA-1 at 1111111109 is 07081804.
    let totp = Totp::builder(demo()).digits(8).build().unwrap();
    let code = totp.generate_at(1_111_111_109).unwrap();
    assert_eq!(code.to_string(), "07081804");
    assert_eq!(code.expose_value(), 7_081_804);
    assert!(totp.verify_at("07081804", 1_111_111_109).is_ok());
    // Without its leading zero it is malformed, not a different number.
    assert_eq!(
        totp.verify_at("7081804", 1_111_111_109),
        Err(Error::MalformedCode)
    );
}

#[test]
fn seven_to_ten_digits() {
    for (digits, modulus) in [
        (6u8, 1_000_000u64),
        (7, 10_000_000),
        (8, 100_000_000),
        (9, 1_000_000_000),
        (10, 10_000_000_000),
    ] {
        let hotp = Hotp::builder(demo()).digits(digits).build().unwrap();
        for counter in 0..50 {
            let code = hotp.generate(counter);
            let text = code.to_string();
            assert_eq!(text.len(), usize::from(digits));
            assert!(code.expose_value() < modulus);
            assert_eq!(hotp.verify(&text, counter).unwrap().counter, counter);
        }
    }
    // 10 digits: the whole 31-bit value, so never above 2^31 - 1.
    let ten = Hotp::builder(demo()).digits(10).build().unwrap();
    assert!((0..1000).all(|c| ten.generate(c).expose_value() <= 0x7fff_ffff));
}

#[test]
fn typed_codes() {
    let six = Digits::DEFAULT;
    for ok in ["123456", "123 456", "123-456", "1 23456", "12345 6"] {
        assert_eq!(
            Code::parse(ok, six).unwrap().expose_value(),
            123_456,
            "{ok:?}"
        );
    }
    for bad in [
        "",
        "12345",
        "1234567",
        " 123456",
        "123456 ",
        "123  456",
        "12 34 56",
        "123_456",
        "12345a",
        "１２３４５６",
        "123\u{0}456",
        "-123456",
        "+12345",
        "123456\n",
        "12 3-456",
    ] {
        assert_eq!(
            Code::parse(bad, six).map(|_| ()),
            Err(Error::MalformedCode),
            "{bad:?}"
        );
    }
    let ten = Digits::new(10).unwrap();
    assert_eq!(
        Code::parse("99999 99999", ten).unwrap().expose_value(),
        9_999_999_999
    );
    // A malformed code is refused before any HMAC work, whatever the window.
    let totp = Totp::new(demo());
    assert_eq!(totp.verify_at("abc", 59), Err(Error::MalformedCode));
}

#[test]
fn parameters_are_checked_when_built() {
    for digits in [0u8, 5, 11, 255] {
        assert_eq!(
            Totp::builder(demo()).digits(digits).build().map(|_| ()),
            Err(Error::UnsupportedDigits)
        );
        assert_eq!(
            Hotp::builder(demo()).digits(digits).build().map(|_| ()),
            Err(Error::UnsupportedDigits)
        );
    }
    for period in [0, Totp::MAX_PERIOD + 1, u64::MAX] {
        assert_eq!(
            Totp::builder(demo()).period(period).build().map(|_| ()),
            Err(Error::InvalidPeriod)
        );
    }
    assert!(
        Totp::builder(demo())
            .period(Totp::MAX_PERIOD)
            .build()
            .is_ok()
    );
    assert_eq!(
        Totp::builder(demo()).window(11, 0).build().map(|_| ()),
        Err(Error::WindowTooLarge)
    );
    assert_eq!(
        Totp::builder(demo())
            .window(0, u64::MAX)
            .build()
            .map(|_| ()),
        Err(Error::WindowTooLarge)
    );
    assert!(Totp::builder(demo()).window(10, 10).build().is_ok());
    assert_eq!(
        Hotp::builder(demo()).look_ahead(101).build().map(|_| ()),
        Err(Error::WindowTooLarge)
    );
    let totp = Totp::builder(demo())
        .algorithm(Algorithm::Sha512)
        .digits(8)
        .period(60)
        .t0(7)
        .window(2, 0)
        .build()
        .unwrap();
    assert_eq!(
        (
            totp.algorithm(),
            totp.format().len(),
            totp.period(),
            totp.t0(),
            totp.window()
        ),
        (Algorithm::Sha512, 8, 60, 7, (2, 0))
    );
}

#[test]
fn secret_lengths() {
    assert_eq!(
        Secret::from_bytes(&[1; 15]).map(|_| ()),
        Err(Error::SecretTooShort)
    );
    assert_eq!(
        Secret::from_bytes(&[]).map(|_| ()),
        Err(Error::SecretTooShort)
    );
    assert!(Secret::from_bytes(&[1; 16]).is_ok());
    assert!(Secret::from_bytes(&[1; 128]).is_ok());
    assert_eq!(
        Secret::from_bytes(&[1; 129]).map(|_| ()),
        Err(Error::SecretTooLong)
    );
    // 80 bits only through the explicitly named path.
    assert_eq!(
        Secret::from_bytes(&[1; 10]).map(|_| ()),
        Err(Error::SecretTooShort)
    );
    assert_eq!(
        Secret::from_bytes_accepting_80_bit(&[1; 10])
            .unwrap()
            .byte_len(),
        10
    );
    assert_eq!(
        Secret::from_bytes_accepting_80_bit(&[1; 9]).map(|_| ()),
        Err(Error::SecretTooShort)
    );
    assert_eq!(
        Secret::from_base32("JBSWY3DPEHPK3PXP").map(|_| ()),
        Err(Error::SecretTooShort)
    );
    assert_eq!(
        Secret::from_base32_accepting_80_bit("JBSWY3DPEHPK3PXP")
            .unwrap()
            .expose_bytes(),
        b"Hello!\xde\xad\xbe\xef"
    );
    assert_eq!(
        Secret::from_base32(&"A".repeat(208)).map(|_| ()),
        Err(Error::SecretTooLong)
    );
}

#[test]
#[cfg(feature = "alloc")]
fn base32_as_people_paste_it() {
    let want = b"12345678901234567890";
    for text in [
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
        "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
        "GeZdGnBvGy3TqOjQgEzDgNbVgY3tQoJq",
    ] {
        assert_eq!(
            Secret::from_base32(text).unwrap().expose_bytes(),
            want,
            "{text:?}"
        );
    }
    // 17 bytes: 28 symbols, padded to 32 or not.
    let odd = Secret::from_bytes(b"12345678901234567").unwrap();
    let text = odd.to_base32();
    assert_eq!(text.len(), 28);
    assert_eq!(
        Secret::from_base32(&format!("{}====", text.as_str())).unwrap(),
        odd
    );
    assert_eq!(Secret::from_base32(text.as_str()).unwrap(), odd);
    for bad in [
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", // 1 is not base32
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ0",
        "GEZDGNBVGY3TQOJQ=GEZDGNBVGY3TQOJQ", // padding inside
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG", // 33 symbols: a partial byte
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQé",
    ] {
        assert_eq!(
            Secret::from_base32(bad).map(|_| ()),
            Err(Error::InvalidBase32),
            "{bad:?}"
        );
    }
}

#[test]
#[cfg(feature = "alloc")]
fn nothing_secret_in_debug_or_errors() {
    let secret = demo();
    let base32 = secret.to_base32();
    let totp = Totp::new(secret.clone());
    let hotp = Hotp::new(secret.clone());
    let code = totp.generate_at(59).unwrap();
    let shown = [
        format!("{secret:?}"),
        format!("{totp:?}"),
        format!("{hotp:?}"),
        format!("{code:?}"),
        format!("{:?}", Totp::builder(secret.clone())),
        format!("{:?}", Secret::from_base32("not base32!")),
    ];
    for text in &shown {
        assert!(!text.contains("1234567890"), "{text}");
        assert!(!text.contains(base32.as_str()), "{text}");
        assert!(!text.contains(&code.to_string()), "{text}");
    }
    assert_eq!(format!("{secret:?}"), "Secret { len: 20, .. }");
    assert_eq!(
        format!("{code:?}"),
        "Code { format: Decimal(Digits(6)), .. }"
    );
    assert_eq!(Error::InvalidCode.to_string(), "invalid code");
    assert_eq!(Error::Replayed.to_string(), "code already used");
}

#[test]
fn algorithm_names() {
    for (text, algorithm) in [
        ("SHA1", Algorithm::Sha1),
        ("sha1", Algorithm::Sha1),
        ("SHA-1", Algorithm::Sha1),
        ("Sha256", Algorithm::Sha256),
        ("sha-256", Algorithm::Sha256),
        ("SHA512", Algorithm::Sha512),
    ] {
        assert_eq!(text.parse::<Algorithm>(), Ok(algorithm), "{text}");
        assert_eq!(algorithm.to_string().parse::<Algorithm>(), Ok(algorithm));
    }
    for bad in [
        "", "SHA", "MD5", "SHA384", "SHA--1", "sha 1", "SHA1 ", "ŞHA1",
    ] {
        assert_eq!(
            bad.parse::<Algorithm>(),
            Err(Error::UnknownAlgorithm),
            "{bad}"
        );
    }
    assert_eq!(Algorithm::default(), Algorithm::Sha1);
    assert_eq!("8".parse::<Digits>(), Ok(Digits::new(8).unwrap()));
    assert_eq!("11".parse::<Digits>(), Err(Error::UnsupportedDigits));
}

#[test]
#[cfg(feature = "alloc")]
fn generated_secrets() {
    let mut rng = getrandom::SysRng;
    let a = Secret::generate(&mut rng).unwrap();
    let b = Secret::generate(&mut rng).unwrap();
    assert_eq!(a.byte_len(), Secret::DEFAULT_LEN);
    assert_ne!(a, b);
    assert_eq!(
        Secret::generate_with_len(&mut rng, 64).unwrap().byte_len(),
        64
    );
    assert_eq!(
        Secret::generate_with_len(&mut rng, 15).map(|_| ()),
        Err(Error::SecretTooShort)
    );
    assert_eq!(
        Secret::generate_with_len(&mut rng, 129).map(|_| ()),
        Err(Error::SecretTooLong)
    );
    assert_eq!(Secret::from_base32(a.to_base32().as_str()).unwrap(), a);
}

#[test]
fn steam_guard_codes() {
    // Expected values from an independent Python implementation of Steam's
    // encoding over RFC 6238's SHA-1 seed.
    let steam = Totp::builder(demo()).steam().build().unwrap();
    assert_eq!(steam.format(), Format::Steam);
    assert_eq!(steam.generate_at(59).unwrap().to_string(), "PV9M4");
    assert_eq!(
        steam.generate_at(1_111_111_109).unwrap().to_string(),
        "PY4YB"
    );
    assert_eq!(steam.verify_at("PV9M4", 59).unwrap().step, 1);
    assert_eq!(steam.verify_at("pv9m4", 59).unwrap().step, 1);
    for malformed in ["PV9M", "PV9M44", "PV9MA", "PV 9M4", "123456"] {
        assert_eq!(
            steam.verify_at(malformed, 59),
            Err(Error::MalformedCode),
            "{malformed}"
        );
    }
    // Every code of the space round-trips through text.
    for value in [0u64, 1, 25, 26, 11_881_375] {
        let code = Code::parse(&steam_text(value), Format::Steam).unwrap();
        assert_eq!(code.expose_value(), value);
        assert_eq!(code.to_string(), steam_text(value));
    }
}

fn steam_text(mut value: u64) -> String {
    let alphabet = b"23456789BCDFGHJKMNPQRTVWXY";
    (0..5)
        .map(|_| {
            let c = char::from(alphabet[(value % 26) as usize]);
            value /= 26;
            c
        })
        .collect()
}

#[test]
fn drift_windows_and_resynchronisation_at_the_ends_of_time() {
    let totp = Totp::new(Secret::from_bytes(b"12345678901234567890").unwrap());
    // The union of the window at step 1 and the one 50 steps back is
    // clipped at step 0, and the gap between two windows is refused.
    let at = |step: u64| totp.generate_at_step(step).to_string();
    assert_eq!(totp.verify_with_drift_at(&at(0), 30, -50).unwrap().step, 0);
    assert_eq!(totp.verify_with_drift_at(&at(2), 30, -50).unwrap().step, 2);
    let far = 1_000_000;
    assert_eq!(
        totp.verify_with_drift_at(&at(far + 5), far * 30, 5)
            .unwrap()
            .drift,
        5
    );
    assert_eq!(
        totp.verify_with_drift_at(&at(far + 3), far * 30, 5),
        Err(Error::InvalidCode)
    );
    // And at the top of u64.
    let top = u64::MAX / 30;
    assert_eq!(
        totp.verify_with_drift_at(&at(top), u64::MAX, 7)
            .unwrap()
            .step,
        top
    );
    // Resynchronisation next to step 0 and to the last step.
    assert_eq!(totp.resync_at(&[&at(0), &at(1)], 30).unwrap().step, 1);
    assert_eq!(
        totp.resync_at(&[&at(top - 1), &at(top)], u64::MAX)
            .unwrap()
            .step,
        top
    );
    assert_eq!(
        totp.resync_at(&[&at(1), &at(0)], 30),
        Err(Error::InvalidCode)
    );
    assert_eq!(
        totp.resync_at(&["12345", &at(0)], 30),
        Err(Error::MalformedCode)
    );
    // Its window: 600 s by default, at most 3600 s.
    assert_eq!(totp.resync_window(), Totp::DEFAULT_RESYNC_WINDOW);
    let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
    assert_eq!(
        Totp::builder(secret.clone()).resync_window(3601).build(),
        Err(Error::WindowTooLarge)
    );
    let wide = Totp::builder(secret).resync_window(3600).build().unwrap();
    assert!(
        wide.resync_at(&[&at(far + 119), &at(far + 120)], far * 30)
            .is_ok()
    );
    assert_eq!(
        totp.resync_at(&[&at(far + 119), &at(far + 120)], far * 30),
        Err(Error::InvalidCode)
    );
}
