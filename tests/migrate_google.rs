//! Google Authenticator exports, made by tests/data/migration/make.py from
//! the protobuf layout, independently of the reader.
#![cfg(feature = "migrate")]

use std::collections::HashMap;

use twofa::migrate::{Origin, Problem, read_migration};
use twofa::{Algorithm, Error, Otp};

fn exports() -> HashMap<String, String> {
    let path = format!(
        "{}/tests/data/migration/exports.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .map(|line| {
            let (name, uri) = line.split_once(' ').expect("name and URI");
            (name.to_owned(), uri.to_owned())
        })
        .collect()
}

fn export(name: &str) -> String {
    exports().remove(name).expect("case")
}

/// The code of a TOTP key at RFC 6238's first test time, 59.
fn totp_at_59(otp: &Otp) -> String {
    match otp {
        Otp::Totp(totp) => totp.generate_at(59).unwrap().to_string(),
        Otp::Hotp { .. } => panic!("expected TOTP"),
    }
}

#[test]
fn one_key() {
    let keys = read_migration([export("one").as_str()]).unwrap();
    assert_eq!(keys.len(), 1);
    let uri = keys[0].key_uri();
    assert_eq!(uri.issuer(), Some("ACME"));
    assert_eq!(uri.account(), "alice");
    assert_eq!(uri.otp().secret().expose_bytes(), b"12345678901234567890");
    // RFC 6238 appendix B, SHA-1, last 6 of 94287082.
    assert_eq!(totp_at_59(uri.otp()), "287082");
    assert_eq!(keys[0].origin(), &Origin::Migration { batch: 1, key: 1 });
    assert_eq!(
        uri.to_uri().as_str(),
        "otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME"
    );
}

#[test]
fn many_keys_of_every_kind() {
    let keys = read_migration([export("many").as_str()]).unwrap();
    assert_eq!(keys.len(), 5);
    assert_eq!(keys[0].key_uri().issuer(), Some("Example"));
    assert_eq!(keys[0].key_uri().account(), "alice@example.com");

    // HOTP with its counter kept: the issuer from the name's prefix.
    let hotp = keys[1].key_uri();
    assert_eq!((hotp.issuer(), hotp.account()), (Some("Counter Co"), "bob"));
    let Otp::Hotp {
        hotp: generator,
        counter,
    } = hotp.otp()
    else {
        panic!("expected HOTP")
    };
    // Exported at 5, the last code the app showed: the next is 6.
    assert_eq!(*counter, 6);
    assert_eq!(keys[1].hotp_account().unwrap().counter, 6);
    // RFC 4226 appendix D, counter 5.
    assert_eq!(generator.generate(5).to_string(), "254676");

    // SHA-256 and SHA-512 with 8 digits: RFC 6238 appendix B at 59.
    assert_eq!(keys[2].key_uri().otp().algorithm(), Algorithm::Sha256);
    assert_eq!(totp_at_59(keys[2].key_uri().otp()), "46119246");
    assert_eq!(keys[3].key_uri().otp().algorithm(), Algorithm::Sha512);
    assert_eq!(totp_at_59(keys[3].key_uri().otp()), "90693936");

    // An 80-bit secret, as older services issued.
    assert_eq!(keys[4].key_uri().otp().secret().byte_len(), 10);
    assert_eq!(keys[4].key_uri().issuer(), Some("Old Service"));
    assert_eq!(keys[4].origin(), &Origin::Migration { batch: 1, key: 5 });
}

#[test]
fn batches_in_any_order_make_one_export() {
    let (first, second) = (export("batch-1-of-2"), export("batch-2-of-2"));
    for order in [[&first, &second], [&second, &first]] {
        let keys = read_migration(order.map(String::as_str)).unwrap();
        let accounts: Vec<_> = keys.iter().map(|key| key.key_uri().account()).collect();
        assert_eq!(accounts, ["first", "second"]);
        assert_eq!(keys[1].origin(), &Origin::Migration { batch: 2, key: 1 });
        assert_eq!(totp_at_59(keys[1].key_uri().otp()), "119246");
    }
}

#[test]
fn incomplete_repeated_or_mixed_batches_are_refused() {
    let (first, second) = (export("batch-1-of-2"), export("batch-2-of-2"));
    let other = export("batch-2-of-2-other-export");
    let problem = |uris: &[&str]| read_migration(uris.iter().copied()).unwrap_err().problem;
    assert!(read_migration([first.as_str(), second.as_str()]).is_ok());
    assert!(matches!(problem(&[&first]), Problem::Batches(_)));
    assert!(matches!(problem(&[&second]), Problem::Batches(_)));
    assert!(matches!(problem(&[&first, &first]), Problem::Batches(_)));
    assert!(matches!(problem(&[&first, &other]), Problem::Batches(_)));
    assert!(matches!(problem(&[]), Problem::Missing(_)));
}

#[test]
fn refused_keys_are_named() {
    let cases = [
        ("md5", Problem::Unsupported("algorithm MD5".into())),
        (
            "unknown-algorithm",
            Problem::Unsupported("algorithm number 9".into()),
        ),
        (
            "unknown-digits",
            Problem::Unsupported("digit count number 3".into()),
        ),
        ("short-secret", Problem::Key(Error::SecretTooShort)),
        ("negative-counter", Problem::Key(Error::InvalidCounter)),
    ];
    for (name, expected) in cases {
        let error = read_migration([export(name).as_str()]).unwrap_err();
        assert_eq!(error.problem, expected, "{name}");
        assert_eq!(
            error.origin,
            Origin::Migration { batch: 1, key: 1 },
            "{name}"
        );
        assert!(!error.to_string().contains("MTIz"), "{error}");
    }
}

#[test]
fn malformed_uris_are_refused_never_a_panic() {
    let good = export("many");
    for bad in [
        "",
        "otpauth://totp/x?secret=GEZDGNBV",
        "otpauth-migration://online?data=AAAA",
        "otpauth-migration://offline",
        "otpauth-migration://offline?data=",
        "otpauth-migration://offline?data=%ZZ",
        "otpauth-migration://offline?data=!!!!",
        "otpauth-migration://offline?data=CgA%3D&data=CgA%3D",
        // A group (wire type 3), a varint of 11 bytes, a length beyond the end.
        "otpauth-migration://offline?data=Cw%3D%3D",
        "otpauth-migration://offline?data=CP%2F%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FAQ%3D%3D",
        "otpauth-migration://offline?data=Cv8B",
    ] {
        assert!(read_migration([bad]).is_err(), "{bad}");
    }
    // Every prefix of a real export: an error or fewer keys, never a panic.
    let (_, data) = good.split_once("data=").unwrap();
    for end in 0..data.len() {
        let uri = format!("otpauth-migration://offline?data={}", &data[..end]);
        if let Ok(keys) = read_migration([uri.as_str()]) {
            assert!(keys.len() <= 5);
        }
    }
    let huge = format!("otpauth-migration://offline?data={}", "A".repeat(1 << 20));
    assert!(matches!(
        read_migration([huge.as_str()]).unwrap_err().problem,
        Problem::TooLarge(_)
    ));
}
