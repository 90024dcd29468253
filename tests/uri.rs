//! `otpauth://` URIs: real-world shapes, malformed ones, portability, and
//! the round trip as a property. Over 400 lines: mostly the tables of
//! URIs as apps write them and of malformed ones with their errors.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use twofa::{
    Algorithm, Digits, Error, Format, Hotp, KeyUri, Otp, PortabilityWarning, Secret, Totp,
};

/// RFC 4226's demo secret in base32.
const DEMO: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn demo() -> Secret {
    Secret::from_base32(DEMO).unwrap()
}

fn totp_of(uri: &KeyUri) -> &Totp {
    match uri.otp() {
        Otp::Totp(totp) => totp,
        Otp::Hotp { .. } => panic!("expected TOTP"),
    }
}

#[test]
fn builds_the_shortest_uri_for_the_defaults() {
    let uri = KeyUri::new(Totp::new(demo()).into(), "alice@example.com").unwrap();
    assert_eq!(
        uri.to_uri().as_str(),
        format!("otpauth://totp/alice@example.com?secret={DEMO}")
    );
}

#[test]
fn builds_every_parameter_that_differs_from_the_default() {
    let totp = Totp::builder(demo())
        .algorithm(Algorithm::Sha256)
        .digits(8)
        .period(60)
        .build()
        .unwrap();
    let uri = KeyUri::new(totp.into(), "bob smith+test@example.com")
        .unwrap()
        .with_issuer("Société Générale")
        .unwrap()
        .with_image("https://example.com/logo.png")
        .unwrap()
        .with_parameter("color", "ff0000")
        .unwrap();
    assert_eq!(
        uri.to_uri().as_str(),
        format!(
            "otpauth://totp/Soci%C3%A9t%C3%A9%20G%C3%A9n%C3%A9rale:bob%20smith%2Btest@example.com\
             ?secret={DEMO}&issuer=Soci%C3%A9t%C3%A9%20G%C3%A9n%C3%A9rale&algorithm=SHA256\
             &digits=8&period=60&image=https%3A%2F%2Fexample.com%2Flogo.png&color=ff0000"
        )
    );
    assert_eq!(KeyUri::parse(&uri.to_uri()).unwrap(), uri);
}

#[test]
fn builds_hotp_with_its_counter_and_steam_with_its_encoder() {
    let hotp = Hotp::new(demo());
    let uri = KeyUri::new(Otp::Hotp { hotp, counter: 0 }, "alice").unwrap();
    assert_eq!(
        uri.to_uri().as_str(),
        format!("otpauth://hotp/alice?secret={DEMO}&counter=0")
    );
    let steam = Totp::builder(demo()).steam().build().unwrap();
    let uri = KeyUri::new(steam.into(), "gamer")
        .unwrap()
        .with_issuer("Steam")
        .unwrap();
    assert_eq!(
        uri.to_uri().as_str(),
        format!("otpauth://totp/Steam:gamer?secret={DEMO}&issuer=Steam&encoder=steam")
    );
    assert_eq!(KeyUri::parse(&uri.to_uri()).unwrap(), uri);
}

#[test]
fn refuses_to_build_labels_apps_would_misread() {
    let totp = || Totp::new(demo()).into();
    assert_eq!(KeyUri::new(totp(), "").unwrap_err(), Error::MissingAccount);
    assert_eq!(
        KeyUri::new(totp(), " bob").unwrap_err(),
        Error::MissingAccount
    );
    assert_eq!(KeyUri::new(totp(), "a:b").unwrap_err(), Error::ColonInLabel);
    let uri = KeyUri::new(totp(), "bob").unwrap();
    assert_eq!(
        uri.clone().with_issuer("A:B").unwrap_err(),
        Error::ColonInLabel
    );
    assert_eq!(
        uri.clone().with_issuer("").unwrap_err(),
        Error::EmptyParameter
    );
    assert_eq!(
        uri.clone().with_image("").unwrap_err(),
        Error::EmptyParameter
    );
    assert_eq!(
        uri.with_parameter("Secret", "AAAA").unwrap_err(),
        Error::ReservedParameter("secret")
    );
}

/// A URI as an issuer really writes it, and what it must read as:
/// (uri, issuer, account, algorithm, format, period).
type Case<'a> = (&'a str, Option<&'a str>, &'a str, Algorithm, Format, u64);

#[test]
fn reads_uris_as_apps_accept_them() {
    let cases: &[Case] = &[
        (
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
            Some("ACME Co"),
            "john.doe@email.com",
            Algorithm::Sha1,
            Format::default(),
            30,
        ),
        // %3A, a space after it, + for a space in the query, lower-case algorithm.
        (
            "otpauth://totp/ACME%20Co%3A%20john@example.com?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq&issuer=ACME+Co&algorithm=sha256",
            Some("ACME Co"),
            "john@example.com",
            Algorithm::Sha256,
            Format::default(),
            30,
        ),
        // Padded, spaced secret; issuer only as a parameter; upper-case scheme and names.
        (
            "OTPAUTH://TOTP/john?SECRET=GEZD%20GNBV%20GY3T%20QOJQ%20GEZD%20GNBV%20GY3T%20QOJQ%3D%3D%3D%3D&Issuer=Example&DIGITS=8&period=60",
            Some("Example"),
            "john",
            Algorithm::Sha1,
            Format::Decimal(Digits::new(8).unwrap()),
            60,
        ),
        // Issuer only in the label, a literal space after the colon.
        (
            "otpauth://totp/GitHub: octocat?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Some("GitHub"),
            "octocat",
            Algorithm::Sha1,
            Format::default(),
            30,
        ),
        // Non-ASCII issuer, SHA-512, 10 digits.
        (
            "otpauth://totp/%E6%97%A5%E6%9C%AC:%E5%A4%AA%E9%83%8E?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=%E6%97%A5%E6%9C%AC&algorithm=SHA-512&digits=10",
            Some("日本"),
            "太郎",
            Algorithm::Sha512,
            Format::Decimal(Digits::MAX),
            30,
        ),
        // Steam, as Steam-aware apps export it.
        (
            "otpauth://totp/Steam:gamer?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Steam&encoder=steam&digits=5",
            Some("Steam"),
            "gamer",
            Algorithm::Sha1,
            Format::Steam,
            30,
        ),
        // No issuer at all; an empty issuer parameter counts as none.
        (
            "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=",
            None,
            "alice",
            Algorithm::Sha1,
            Format::default(),
            30,
        ),
    ];
    for &(text, issuer, account, algorithm, format, period) in cases {
        let uri = KeyUri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(uri.issuer(), issuer, "{text}");
        assert_eq!(uri.account(), account, "{text}");
        let totp = totp_of(&uri);
        assert_eq!(totp.secret(), &demo(), "{text}");
        assert_eq!(
            (totp.algorithm(), totp.format(), totp.period()),
            (algorithm, format, period),
            "{text}"
        );
        // And what it reads as, written and read again, is the same.
        assert_eq!(KeyUri::parse(&uri.to_uri()).unwrap(), uri, "{text}");
    }
}

#[test]
fn reads_hotp_and_keeps_unknown_parameters_for_the_caller() {
    let uri = KeyUri::parse(&format!(
        "otpauth://hotp/Bank:alice?secret={DEMO}&counter=18446744073709551615&period=30&lock=true&image=https%3A%2F%2Fbank.example%2Fa.png"
    ))
    .unwrap();
    let Otp::Hotp { hotp, counter } = uri.otp() else {
        panic!("expected HOTP")
    };
    assert_eq!(*counter, u64::MAX);
    assert_eq!(hotp.generate(1).to_string(), "287082");
    assert_eq!(uri.image(), Some("https://bank.example/a.png"));
    assert_eq!(
        uri.extra_parameters(),
        [
            ("period".to_owned(), "30".to_owned()),
            ("lock".to_owned(), "true".to_owned())
        ]
    );
    assert_eq!(KeyUri::parse(&uri.to_uri()).unwrap(), uri);
}

#[test]
fn refuses_malformed_uris_with_the_reason() {
    let cases: &[(&str, Error)] = &[
        (
            "https://example.com/?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::NotOtpauthUri,
        ),
        (
            "otpauth:/totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::NotOtpauthUri,
        ),
        ("", Error::NotOtpauthUri),
        (
            "otpauth://motp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::UnknownOtpType,
        ),
        ("otpauth://totp", Error::MissingAccount),
        (
            "otpauth://totp/?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::MissingAccount,
        ),
        (
            "otpauth://totp/ACME:?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::MissingAccount,
        ),
        (
            "otpauth://totp/a:b:c?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::ColonInLabel,
        ),
        (
            "otpauth://totp/a%3Ab%3Ac?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::ColonInLabel,
        ),
        (
            "otpauth://totp/b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=x:y",
            Error::ColonInLabel,
        ),
        (
            "otpauth://totp/ACME:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Evil",
            Error::IssuerMismatch,
        ),
        (
            "otpauth://totp/a%ZZ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::InvalidPercentEncoding,
        ),
        (
            "otpauth://totp/a%C3?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::InvalidPercentEncoding,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ%",
            Error::InvalidPercentEncoding,
        ),
        ("otpauth://totp/a?issuer=x", Error::MissingSecret),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJ1",
            Error::InvalidBase32,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ",
            Error::SecretTooShort,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=MD5",
            Error::UnknownAlgorithm,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=",
            Error::UnknownAlgorithm,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=5",
            Error::UnsupportedDigits,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=six",
            Error::UnsupportedDigits,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&period=0",
            Error::InvalidPeriod,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&period=-30",
            Error::InvalidPeriod,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&period=99999999999999999999",
            Error::InvalidPeriod,
        ),
        (
            "otpauth://hotp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::MissingCounter,
        ),
        (
            "otpauth://hotp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=18446744073709551616",
            Error::InvalidCounter,
        ),
        (
            "otpauth://hotp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=",
            Error::InvalidCounter,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&encoder=yubikey",
            Error::UnknownEncoder,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&encoder=steam&digits=6",
            Error::UnsupportedDigits,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&image=",
            Error::EmptyParameter,
        ),
        (
            "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&Secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Error::DuplicateParameter("secret"),
        ),
    ];
    for &(text, expected) in cases {
        let got = KeyUri::parse(text);
        assert_eq!(got.as_ref().err(), Some(&expected), "{text}");
        // No error message carries the secret.
        assert!(!expected.to_string().contains("GEZD"), "{text}");
    }
}

#[test]
fn eighty_bit_secrets_only_when_asked_for() {
    let text = "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ";
    assert_eq!(KeyUri::parse(text).unwrap_err(), Error::SecretTooShort);
    let uri = KeyUri::parse_accepting_80_bit(text).unwrap();
    assert_eq!(uri.otp().secret().expose_bytes(), b"1234567890");
}

#[test]
fn display_and_debug_never_show_the_secret() {
    let uri = KeyUri::parse(&format!(
        "otpauth://totp/ACME:bob?secret={DEMO}&issuer=ACME"
    ))
    .unwrap();
    assert_eq!(uri.to_string(), "otpauth://totp/ACME:bob (secret hidden)");
    assert!(!format!("{uri:?}").contains("GEZD"));
    assert!(!format!("{uri:?}").contains("12345"));
}

#[test]
fn portability_names_what_apps_ignore() {
    let plain = KeyUri::new(Totp::new(demo()).into(), "a").unwrap();
    assert!(plain.portability().is_empty());
    let exotic = Totp::builder(demo())
        .algorithm(Algorithm::Sha512)
        .digits(8)
        .period(60)
        .build()
        .unwrap();
    let uri = KeyUri::new(exotic.into(), "a").unwrap();
    assert_eq!(
        uri.portability(),
        [
            PortabilityWarning::Algorithm(Algorithm::Sha512),
            PortabilityWarning::Digits(Digits::new(8).unwrap()),
            PortabilityWarning::Period(60),
        ]
    );
    let hotp = KeyUri::new(
        Otp::Hotp {
            hotp: Hotp::builder(demo()).steam().build().unwrap(),
            counter: 0,
        },
        "a",
    )
    .unwrap();
    assert_eq!(
        hotp.portability(),
        [PortabilityWarning::Hotp, PortabilityWarning::Steam]
    );
    for warning in uri.portability() {
        assert!(warning.to_string().contains("some apps"));
    }
}

fn label_text() -> impl Strategy<Value = String> {
    // Any text without a colon, not starting with a space: ASCII specials,
    // `+`, `%`, and non-ASCII included.
    "[^: ][^:]{0,20}"
}

fn otp() -> impl Strategy<Value = Otp> {
    (
        prop::collection::vec(any::<u8>(), Secret::MIN_LEN..=Secret::MAX_LEN),
        prop::sample::select(Algorithm::ALL.to_vec()),
        prop_oneof![
            (6u8..=10).prop_map(|d| Format::Decimal(Digits::new(d).unwrap())),
            Just(Format::Steam)
        ],
        1u64..=Totp::MAX_PERIOD,
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(key, algorithm, format, period, counter)| {
            let secret = Secret::from_bytes(&key).unwrap();
            match counter {
                None => Otp::Totp(
                    Totp::builder(secret)
                        .algorithm(algorithm)
                        .format(format)
                        .period(period)
                        .build()
                        .unwrap(),
                ),
                Some(counter) => Otp::Hotp {
                    hotp: Hotp::builder(secret)
                        .algorithm(algorithm)
                        .format(format)
                        .build()
                        .unwrap(),
                    counter,
                },
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_build_is_the_identity(
        otp in otp(),
        account in label_text(),
        issuer in prop::option::of(label_text()),
        image in prop::option::of("https://[^\u{0}]{1,30}"),
        extra in prop::collection::vec(("[a-z_]{1,8}", ".{0,10}"), 0..3),
    ) {
        let mut uri = KeyUri::new(otp, &account).unwrap();
        if let Some(issuer) = &issuer {
            uri = uri.with_issuer(issuer).unwrap();
        }
        if let Some(image) = &image {
            uri = uri.with_image(image).unwrap();
        }
        for (name, value) in &extra {
            match uri.clone().with_parameter(name, value) {
                Ok(with) => uri = with,
                Err(e) => prop_assert!(matches!(e, Error::ReservedParameter(_))),
            }
        }
        let text = uri.to_uri();
        // Allocated once, at its exact size: no copy of the secret left behind.
        prop_assert_eq!(text.capacity(), text.len());
        prop_assert_eq!(KeyUri::parse(&text).unwrap(), uri);
    }

    #[test]
    fn parsing_any_text_never_panics(text in "otpauth://(totp|hotp|steam)/.{0,40}") {
        let _ = KeyUri::parse(&text);
    }
}

#[test]
fn a_plus_in_the_label_is_a_plus_sign() {
    let uri = KeyUri::parse(&format!(
        "otpauth://totp/ACME:alice+2fa@example.com?secret={DEMO}&issuer=ACME"
    ))
    .unwrap();
    assert_eq!(uri.account(), "alice+2fa@example.com");
    // An issuer written C+%2B in the label and C%2B%2B in the query is C++ both times.
    let uri = KeyUri::parse(&format!(
        "otpauth://totp/C+%2B:bob?secret={DEMO}&issuer=C%2B%2B"
    ))
    .unwrap();
    assert_eq!((uri.issuer(), uri.account()), (Some("C++"), "bob"));
    // In the query, + is still a space.
    let uri = KeyUri::parse(&format!("otpauth://totp/bob?secret={DEMO}&issuer=ACME+Co")).unwrap();
    assert_eq!(uri.issuer(), Some("ACME Co"));
    // What is written reads back the same.
    let built = KeyUri::new(Totp::new(demo()).into(), "alice+2fa@example.com").unwrap();
    assert_eq!(KeyUri::parse(&built.to_uri()).unwrap(), built);
}

#[test]
fn steam_keys_as_aegis_exports_them() {
    let uri = KeyUri::parse(&format!(
        "otpauth://steam/Steam:gaben?secret={DEMO}&issuer=Steam&digits=5&algorithm=SHA1"
    ))
    .unwrap();
    assert_eq!(totp_of(&uri).format(), Format::Steam);
    assert_eq!(
        totp_of(&uri).generate_at(59).unwrap().to_string(),
        Totp::builder(demo())
            .steam()
            .build()
            .unwrap()
            .generate_at(59)
            .unwrap()
            .to_string()
    );
    assert!(uri.portability().contains(&PortabilityWarning::Steam));
    assert!(KeyUri::parse(&format!("otpauth://STEAM/gaben?secret={DEMO}")).is_ok());
    assert_eq!(
        KeyUri::parse(&format!("otpauth://steam/gaben?secret={DEMO}&digits=6")),
        Err(Error::UnsupportedDigits)
    );
}

#[test]
fn only_https_images_are_kept() {
    for image in [
        "javascript:alert(1)",
        "javascript%3Aalert(1)",
        "http://example.com/logo.png",
        "data:image/png;base64,AAAA",
        "https:/example.com",
        "https://",
        "//example.com/logo.png",
    ] {
        let uri =
            KeyUri::parse(&format!("otpauth://totp/bob?secret={DEMO}&image={image}")).unwrap();
        assert_eq!(uri.image(), None, "{image}");
        assert!(
            uri.portability()
                .contains(&PortabilityWarning::ImageDropped),
            "{image}"
        );
        assert!(!uri.to_uri().contains("image"), "{image}");
    }
    let kept = KeyUri::parse(&format!(
        "otpauth://totp/bob?secret={DEMO}&image=HTTPS%3A%2F%2Fexample.com%2Fa.png"
    ))
    .unwrap();
    assert_eq!(kept.image(), Some("HTTPS://example.com/a.png"));
    assert!(
        !kept
            .portability()
            .contains(&PortabilityWarning::ImageDropped)
    );
    let built = KeyUri::new(Totp::new(demo()).into(), "bob").unwrap();
    assert_eq!(
        built.clone().with_image("javascript:alert(1)").unwrap_err(),
        Error::ImageNotHttps
    );
    assert!(built.with_image("https://example.com/a.png").is_ok());
}

#[test]
fn a_long_label_is_written_without_reallocating() {
    let account = "a".repeat(300);
    let uri = KeyUri::new(Totp::new(demo()).into(), &account)
        .unwrap()
        .with_issuer(&"é".repeat(100))
        .unwrap();
    let text = uri.to_uri();
    assert!(text.len() > 900);
    assert_eq!(text.capacity(), text.len());
}
