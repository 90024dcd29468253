//! OATH Toolkit's users.oath: every type liboath accepts, its log fields,
//! comments, errors naming the line, and what the writer writes reading
//! back the same.
#![cfg(feature = "migrate")]

use proptest::prelude::*;
use twofa::migrate::{ImportedKey, Origin, Pin, Problem, read_users_oath, write_users_oath};
use twofa::{Hotp, KeyUri, Otp, Secret, Totp};

/// RFC 4226's secret, "12345678901234567890", in hex.
const HEX: &str = "3132333435363738393031323334353637383930";

#[test]
fn every_type_string() {
    let cases = [
        ("HOTP", 6, None),
        ("HOTP/E", 6, None),
        ("HOTP/E/6", 6, None),
        ("HOTP/E/7", 7, None),
        ("HOTP/E/8", 8, None),
        ("HOTP/T30", 6, Some(30)),
        ("HOTP/T30/6", 6, Some(30)),
        ("HOTP/T30/7", 7, Some(30)),
        ("HOTP/T30/8", 8, Some(30)),
        ("HOTP/T60", 6, Some(60)),
        ("HOTP/T60/6", 6, Some(60)),
        ("HOTP/T60/7", 7, Some(60)),
        ("HOTP/T60/8", 8, Some(60)),
    ];
    for (kind, digits, period) in cases {
        let keys = read_users_oath(&format!("{kind} alice - {HEX}\n"), 0).unwrap();
        let otp = keys[0].key_uri().otp();
        let code = match (otp, period) {
            (Otp::Hotp { hotp, counter }, None) => {
                assert_eq!(*counter, 0);
                hotp.generate(1).to_string()
            }
            (Otp::Totp(totp), Some(period)) => {
                assert_eq!(totp.period(), period, "{kind}");
                // Step 1: RFC 4226's counter 1, 1094287082.
                totp.generate_at(period).unwrap().to_string()
            }
            _ => panic!("{kind}: wrong kind"),
        };
        let full = "1094287082";
        assert_eq!(code, full[full.len() - digits..], "{kind}");
    }
}

#[test]
fn log_fields_comments_and_pins() {
    let file = "\
# users.oath as pam_oath keeps it\r
\r
HOTP\talice\t-\t3132333435363738393031323334353637383930\r
HOTP/E/8 bob 1234 3132333435363738393031323334353637383930 41 36471723 2026-11-22T09:30:00L
   # an indented comment
HOTP/T30 carol + 3132333435363738393031323334353637383930 -1 287082 1970-01-01T01:01:00L
";
    // Written on a server at UTC+1.
    let keys = read_users_oath(file, 3600).unwrap();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0].origin(), &Origin::Line(3));
    assert_eq!(keys[0].pin(), &Pin::None);
    assert_eq!(keys[0].hotp_account().unwrap().counter, 0);

    // liboath records the counter it matched: the next is one past.
    assert_eq!(keys[1].origin(), &Origin::Line(4));
    assert_eq!(keys[1].hotp_account().unwrap().counter, 42);
    assert_eq!(keys[1].last_code(), Some("36471723"));
    assert_eq!(keys[1].last_used(), Some(1_795_336_200));
    assert!(matches!(keys[1].pin(), Pin::Stored(pin) if pin.as_str() == "1234"));
    assert!(!format!("{:?}", keys[1]).contains("1234"));

    // 01:01 at UTC+1 is 60 s after the epoch: step 2, matched 1 behind.
    assert_eq!(keys[2].pin(), &Pin::Delegated);
    assert_eq!(keys[2].last_used(), Some(60));
    assert_eq!(keys[2].last_step(), Some(1));
    assert_eq!(keys[2].drift(), -1);
    let account = keys[2].totp_account().unwrap();
    assert_eq!((account.last_step, account.drift), (Some(1), -1));
}

#[test]
fn totp_last_step_is_found_from_the_last_code_whatever_liboath_wrote() {
    // RFC 4226's codes of "12345678901234567890" at steps 3 and 4.
    let at = |moving: &str, code: &str| {
        // Step 5 begins at 150 s.
        let line = format!("HOTP/T30 a - {HEX} {moving} {code} 1970-01-01T00:02:30L");
        let keys = read_users_oath(&line, 0).unwrap();
        (keys[0].last_step(), keys[0].drift())
    };
    // Newer liboath: the window position, here one step behind.
    assert_eq!(at("-1", "338314"), (Some(4), -1));
    // Older liboath: a running count, which says nothing of the step.
    assert_eq!(at("4", "969429"), (Some(3), 0));
    assert_eq!(at("4", "338314"), (Some(4), 0));
    // Every step before the last counts as used.
    let line = format!("HOTP/T30 a - {HEX} 4 969429 1970-01-01T00:02:30L");
    let account = read_users_oath(&line, 0).unwrap()[0]
        .totp_account()
        .unwrap();
    assert_eq!(
        (account.last_step, account.used_below),
        (Some(3), u128::MAX)
    );
    // A code of no step near its time (a wrong UTC offset): an error, not
    // a guess that could reopen the codes the old system accepted.
    let line = format!("HOTP/T30 a - {HEX} 0 000000 1970-01-01T00:02:30L");
    let message = read_users_oath(&line, 0).unwrap_err().to_string();
    assert!(message.contains("UTC offset"), "{message}");
}

#[test]
fn a_pasted_uri_or_secret_is_not_echoed() {
    for line in [
        "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    ] {
        let message = read_users_oath(line, 0).unwrap_err().to_string();
        assert!(!message.contains("GEZDGNBV"), "{message}");
        assert!(message.contains("token type (not shown)"), "{message}");
    }
}

#[test]
fn unreadable_lines_are_named() {
    let cases = [
        (format!("HOTP/T45 a - {HEX}"), "token type"),
        (format!("TOTP a - {HEX}"), "token type"),
        (format!("HOTP/E/9 a - {HEX}"), "token type"),
        ("HOTP a -".to_owned(), "missing the secret"),
        ("HOTP a".to_owned(), "missing the PIN"),
        ("HOTP".to_owned(), "missing the user name"),
        ("HOTP a - 313".to_owned(), "hex"),
        ("HOTP a - 31zz".to_owned(), "hex"),
        ("HOTP a - 3132".to_owned(), "secret too short"),
        (format!("HOTP a - {HEX} x"), "counter"),
        (
            format!("HOTP a - {HEX} 18446744073709551615 123 2026-11-22T09:30:00L"),
            "counter exhausted",
        ),
        (format!("HOTP a - {HEX} 1 123 2026-13-22T09:30:00L"), "time"),
        (format!("HOTP a - {HEX} 1 123 2026-02-29T09:30:00L"), "time"),
        (format!("HOTP a - {HEX} 1 123 2026-11-22 09:30:00"), "time"),
        (
            format!("HOTP a - {HEX} 1 12x 2026-11-22T09:30:00L"),
            "last code",
        ),
        (
            format!("HOTP/T30 a - {HEX} 0 123"),
            "missing the last code's time",
        ),
        (
            format!("HOTP a - {HEX} 1 123 2026-11-22T09:30:00L extra"),
            "at most 7 fields",
        ),
        (format!("HOTP a:b - {HEX}"), "colon"),
    ];
    for (line, named) in cases {
        let file = format!("# header\n\n{line}\n");
        let error = read_users_oath(&file, 0).unwrap_err();
        assert_eq!(error.origin, Origin::Line(3), "{line}");
        let message = error.to_string();
        assert!(message.starts_with("line 3: "), "{message}");
        assert!(
            message.contains(named),
            "{line}: {message} should say {named}"
        );
        assert!(!message.contains(HEX), "{message}");
    }
}

#[test]
fn writer_refuses_what_the_format_cannot_hold() {
    let secret = || Secret::from_bytes(b"12345678901234567890").unwrap();
    let write = |otp: Otp, account: &str| {
        write_users_oath(&[ImportedKey::new(KeyUri::new(otp, account).unwrap())], 0)
            .unwrap_err()
            .problem
    };
    let sha256 = Totp::builder(secret())
        .algorithm(twofa::Algorithm::Sha256)
        .build()
        .unwrap();
    assert!(matches!(
        write(sha256.into(), "a"),
        Problem::NotRepresentable(_)
    ));
    let period = Totp::builder(secret()).period(45).build().unwrap();
    assert!(matches!(
        write(period.into(), "a"),
        Problem::NotRepresentable(_)
    ));
    let digits = Hotp::builder(secret()).digits(9).build().unwrap();
    assert!(matches!(
        write(
            Otp::Hotp {
                hotp: digits,
                counter: 0
            },
            "a"
        ),
        Problem::NotRepresentable(_)
    ));
    assert!(matches!(
        write(Totp::new(secret()).into(), "a b"),
        Problem::NotRepresentable(_)
    ));
    assert!(matches!(
        write(Totp::new(secret()).into(), "#a"),
        Problem::NotRepresentable(_)
    ));
    let error = write_users_oath(&[], 0).map(|file| file.len());
    assert_eq!(error, Ok(0));
}

/// 80 bits to 32 bytes: liboath reads no longer secret.
fn secret() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 10..=32)
}

fn user() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._@+-][a-zA-Z0-9._@+#-]{0,20}"
}

fn pin() -> impl Strategy<Value = Pin> {
    prop_oneof![
        Just(Pin::None),
        Just(Pin::Delegated),
        "[0-9a-zA-Z!]{2,12}".prop_map(|pin| Pin::Stored(pin.into())),
    ]
}

/// A key users.oath can hold: SHA-1, 6 to 8 digits, HOTP at any counter, or TOTP of 30 or 60 s with or without a last step.
fn key() -> impl Strategy<Value = ImportedKey> {
    let hotp = (secret(), 6u8..=8, any::<u64>()).prop_map(|(secret, digits, counter)| {
        let hotp = Hotp::builder(Secret::from_bytes_accepting_80_bit(&secret).unwrap())
            .digits(digits)
            .build()
            .unwrap();
        (Otp::Hotp { hotp, counter }, None, 0)
    });
    let totp = (
        secret(),
        6u8..=8,
        prop_oneof![Just(30u64), Just(60)],
        prop::option::of(1_000u64..10_000_000_000 / 60),
        -10i64..=10,
    )
        .prop_map(|(secret, digits, period, last_step, drift)| {
            let totp = Totp::builder(Secret::from_bytes_accepting_80_bit(&secret).unwrap())
                .digits(digits)
                .period(period)
                .build()
                .unwrap();
            (
                Otp::Totp(totp),
                last_step,
                if last_step.is_some() { drift } else { 0 },
            )
        });
    (prop_oneof![hotp, totp], user(), pin()).prop_map(|((otp, last_step, drift), user, pin)| {
        ImportedKey::new(KeyUri::new(otp, &user).unwrap())
            .with_pin(pin)
            .with_last_step(last_step, drift)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn what_is_written_reads_back_the_same(
        keys in prop::collection::vec(key(), 0..6),
        utc_offset in -50_400i32..=50_400,
    ) {
        let file = write_users_oath(&keys, utc_offset).unwrap();
        let back = read_users_oath(&file, utc_offset).unwrap();
        prop_assert_eq!(back.len(), keys.len());
        for (read, written) in back.iter().zip(&keys) {
            prop_assert_eq!(read.key_uri(), written.key_uri());
            prop_assert_eq!(read.pin(), written.pin());
            prop_assert_eq!(read.last_step(), written.last_step());
            // users.oath keeps no drift that every liboath version reads.
            prop_assert_eq!(read.drift(), 0);
            prop_assert_eq!(read.hotp_account(), written.hotp_account());
            let mut expected = written.totp_account();
            if let Some(account) = &mut expected {
                account.drift = 0;
            }
            prop_assert_eq!(read.totp_account(), expected);
        }
    }
}
