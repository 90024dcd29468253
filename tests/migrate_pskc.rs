//! PSKC (RFC 6030): the RFC's own figures with their known secrets,
//! encryption, MACs, and files that must be refused.
#![cfg(feature = "migrate")]

use twofa::migrate::{ImportError, Origin, Pin, Problem, PskcReader};
use twofa::{Algorithm, Error, Otp};

fn figure(n: u32) -> String {
    let path = format!(
        "{}/tests/data/pskc/rfc6030-figure{n}.pskcxml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).expect("fixture")
}

const FIGURE6_KEY: [u8; 16] = [
    0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12,
];

/// RFC 4226 appendix D: the 8-digit codes of "12345678901234567890" at
/// counters 0 to 9.
const RFC4226_8: [&str; 10] = [
    "84755224", "94287082", "37359152", "26969429", "40338314", "68254676", "18287922", "82162583",
    "73399871", "45520489",
];

fn hotp_codes(otp: &Otp) -> Vec<String> {
    match otp {
        Otp::Hotp { hotp, .. } => (0..10).map(|c| hotp.generate(c).to_string()).collect(),
        Otp::Totp(_) => panic!("expected HOTP"),
    }
}

fn problem(result: Result<Vec<twofa::migrate::ImportedKey>, ImportError>) -> Problem {
    result.expect_err("must be refused").problem
}

#[test]
fn figure2_secret_of_four_bytes_is_refused_naming_the_key() {
    let error = PskcReader::new().read(&figure(2)).unwrap_err();
    assert_eq!(
        error.origin,
        Origin::Package {
            index: 1,
            id: Some("12345678".into())
        }
    );
    assert_eq!(error.problem, Problem::Key(Error::SecretTooShort));
    assert_eq!(
        error.to_string(),
        "key package 1 (Id \"12345678\"): secret too short"
    );
}

#[test]
fn figure3_plaintext_with_supplementary_data() {
    let keys = PskcReader::new().read(&figure(3)).unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    let uri = key.key_uri();
    assert_eq!(uri.account(), "UID=jsmith,DC=example-bank,DC=net");
    assert_eq!(uri.issuer(), Some("Issuer"));
    assert_eq!(key.serial(), Some("987654321"));
    assert_eq!(key.pin(), &Pin::None);
    assert_eq!(uri.otp().secret().expose_bytes(), b"12345678901234567890");
    assert_eq!(hotp_codes(uri.otp()), RFC4226_8);
    // Pending until the token shows a code: then the counter moves past it.
    assert!(key.is_pending());
    assert_eq!(key.hotp_account(), None);
    let mut key = key.clone();
    key.confirm(RFC4226_8[0], 0).unwrap();
    assert!(!key.is_pending());
    assert_eq!(key.hotp_account().unwrap().counter, 1);
}

#[test]
fn figure5_pin_policy_is_kept_and_the_pin_key_skipped() {
    let keys = PskcReader::new().read(&figure(5)).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].pin(), &Pin::Required);
    // Named by its serial number: the figure has no UserId.
    assert_eq!(keys[0].key_uri().account(), "987654321");
    assert_eq!(hotp_codes(keys[0].key_uri().otp()), RFC4226_8);
}

#[test]
fn figure6_pre_shared_key() {
    let keys = PskcReader::new()
        .pre_shared_key(&FIGURE6_KEY)
        .read(&figure(6))
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0].key_uri().otp().secret().expose_bytes(),
        b"12345678901234567890"
    );
    assert_eq!(hotp_codes(keys[0].key_uri().otp()), RFC4226_8);
    assert_eq!(keys[0].key_uri().otp().algorithm(), Algorithm::Sha1);
}

#[test]
fn figure6_without_a_key_or_with_another_is_refused() {
    assert_eq!(
        problem(PskcReader::new().read(&figure(6))),
        Problem::KeyRequired
    );
    let mut wrong = FIGURE6_KEY;
    wrong[0] ^= 1;
    let refused = problem(PskcReader::new().pre_shared_key(&wrong).read(&figure(6)));
    assert!(
        matches!(refused, Problem::WrongKey | Problem::MacMismatch),
        "{refused:?}"
    );
    // A key of another length than AES-128's.
    assert_eq!(
        problem(PskcReader::new().pre_shared_key(&[7; 32]).read(&figure(6))),
        Problem::WrongKey
    );
}

#[test]
fn figure6_altered_mac_or_ciphertext_is_refused_unless_told_otherwise() {
    let file = figure(6);
    let bad_mac = file.replace("Su+NvtQf", "Su+NwtQf");
    assert_ne!(bad_mac, file);
    let reader = PskcReader::new().pre_shared_key(&FIGURE6_KEY);
    let error = reader.read(&bad_mac).unwrap_err();
    assert_eq!(error.problem, Problem::MacMismatch);
    assert_eq!(
        error.origin,
        Origin::Package {
            index: 1,
            id: Some("12345678".into())
        }
    );
    let keys = reader
        .clone()
        .skip_mac_check_known_broken()
        .read(&bad_mac)
        .unwrap();
    assert_eq!(
        keys[0].key_uri().otp().secret().expose_bytes(),
        b"12345678901234567890"
    );

    // One bit of the ciphertext's last block.
    let bad_data = file.replace("ZqIUqGv", "ZqIUqGw");
    assert_ne!(bad_data, file);
    assert_eq!(problem(reader.read(&bad_data)), Problem::MacMismatch);

    // No MAC at all.
    let start = file.find("<ValueMAC>").unwrap();
    let end = file.find("</ValueMAC>").unwrap() + "</ValueMAC>".len();
    let no_mac = format!("{}{}", &file[..start], &file[end..]);
    assert_eq!(problem(reader.read(&no_mac)), Problem::MacMissing);
    assert!(
        reader
            .clone()
            .skip_mac_check_known_broken()
            .read(&no_mac)
            .is_ok()
    );
}

#[test]
fn figure7_password_derived_key() {
    let keys = PskcReader::new()
        .password("qwerty")
        .read(&figure(7))
        .unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        key.key_uri().otp().secret().expose_bytes(),
        b"12345678901234567890"
    );
    assert_eq!(hotp_codes(key.key_uri().otp()), RFC4226_8);
    assert_eq!(key.key_uri().issuer(), Some("Example-Issuer"));
    assert_eq!(
        key.origin(),
        &Origin::Package {
            index: 1,
            id: Some("123456".into())
        }
    );

    // The derived key the RFC gives, given as a pre-shared key.
    let derived = [
        0x65, 0x1e, 0x63, 0xcd, 0x57, 0x00, 0x84, 0x76, 0xaf, 0x1f, 0xf6, 0x42, 0x2c, 0xd0, 0x2e,
        0x41,
    ];
    let same = PskcReader::new()
        .pre_shared_key(&derived)
        .read(&figure(7))
        .unwrap();
    assert_eq!(same, keys);

    let refused = problem(PskcReader::new().password("qwertz").read(&figure(7)));
    assert!(
        matches!(refused, Problem::WrongKey | Problem::MacMismatch),
        "{refused:?}"
    );
    // A password for a file that has no derivation.
    assert_eq!(
        problem(PskcReader::new().password("qwerty").read(&figure(6))),
        Problem::Missing("a key derivation (PBKDF2) for the password")
    );
}

#[test]
fn figure10_bulk_provisioning() {
    // Valid in May 2006 only: refused without a time, refused after, and
    // read within it or when accepted by name, the dates carried.
    let file = figure(10);
    assert!(matches!(
        problem(PskcReader::new().read(&file)),
        Problem::Validity(_)
    ));
    let december_2026 = 1_796_083_200;
    let expired = problem(PskcReader::new().at(december_2026).read(&file));
    assert_eq!(
        expired,
        Problem::Validity("an expired key (its ExpiryDate)")
    );
    assert!(expired.to_string().contains("expired"), "{expired}");
    let april_2006 = 1_145_000_000;
    let early = problem(PskcReader::new().at(april_2006).read(&file));
    assert_eq!(
        early,
        Problem::Validity("a key not valid yet (its StartDate)")
    );
    // Each key has its own month: in May 2006 the third (March) is over,
    // and the error names it.
    let may_2006 = 1_147_000_000;
    let error = PskcReader::new().at(may_2006).read(&file).unwrap_err();
    assert_eq!(
        error.origin,
        Origin::Package {
            index: 3,
            id: Some("3".into())
        }
    );
    let keys = PskcReader::new()
        .accept_outside_validity()
        .read(&file)
        .unwrap();
    let (start, expiry) = (1_146_441_600, 1_149_033_600);
    assert_eq!(
        (keys[0].policy().start, keys[0].policy().expiry),
        (Some(start), Some(expiry))
    );
    let serials: Vec<_> = keys.iter().map(|key| key.serial().unwrap()).collect();
    assert_eq!(serials, ["654321", "123456", "9999999", "9999999"]);
    for (index, key) in keys.iter().enumerate() {
        assert_eq!(
            key.origin(),
            &Origin::Package {
                index: index + 1,
                id: Some((index + 1).to_string())
            }
        );
        assert_eq!(hotp_codes(key.key_uri().otp()), RFC4226_8);
    }
}

/// A plaintext container around one `Key` element's insides.
fn container(algorithm: &str, inside: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <Key Id="k1" Algorithm="{algorithm}">{inside}</Key>
  </KeyPackage>
</KeyContainer>"#
    )
}

const HOTP: &str = "urn:ietf:params:xml:ns:keyprov:pskc:hotp";

/// An HOTP key with these `AlgorithmParameters` and a 20-byte secret.
fn parameters(inside: &str) -> String {
    container(
        HOTP,
        &format!("<AlgorithmParameters>{inside}</AlgorithmParameters>{SECRET_20}"),
    )
}
const TOTP: &str = "urn:ietf:params:xml:ns:keyprov:pskc:totp";
const SECRET_20: &str =
    "<Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data>";

#[test]
fn totp_with_suite_interval_time_and_drift() {
    // RFC 6238's SHA-256 secret, 8 digits, 60-second steps from T0 = 0,
    // a device one step behind.
    let file = container(
        TOTP,
        "<Issuer>Bank</Issuer>\
         <AlgorithmParameters><Suite>HMAC-SHA256</Suite>\
           <ResponseFormat Length=\"8\" Encoding=\"DECIMAL\"/></AlgorithmParameters>\
         <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=</PlainValue></Secret>\
           <Time><PlainValue>0</PlainValue></Time>\
           <TimeInterval><PlainValue>30</PlainValue></TimeInterval>\
           <TimeDrift><PlainValue>-1</PlainValue></TimeDrift></Data>\
         <UserId>carol</UserId>",
    );
    let keys = PskcReader::new().read(&file).unwrap();
    let Otp::Totp(totp) = keys[0].key_uri().otp() else {
        panic!("expected TOTP")
    };
    assert_eq!(totp.algorithm(), Algorithm::Sha256);
    assert_eq!(totp.period(), 30);
    // RFC 6238 appendix B.
    assert_eq!(totp.generate_at(59).unwrap().to_string(), "46119246");
    assert_eq!(
        totp.generate_at(1_111_111_109).unwrap().to_string(),
        "68084774"
    );
    assert_eq!(keys[0].drift(), -1);
    // Confirmed by a code from a token one step behind, as the file says.
    let mut key = keys[0].clone();
    assert_eq!(key.totp_account(), None);
    let now = 1_111_111_109;
    key.confirm(&totp.generate_at(now - 30).unwrap().to_string(), now)
        .unwrap();
    assert_eq!(key.totp_account().unwrap().drift, -1);
    assert_eq!(key.last_step(), Some(now / 30 - 1));
    // That code, or an older one, does not confirm it again.
    assert_eq!(
        key.clone()
            .confirm(&totp.generate_at(now - 30).unwrap().to_string(), now),
        Err(Error::Replayed)
    );
    assert_eq!(keys[0].key_uri().account(), "carol");
}

#[test]
fn unsupported_features_are_named() {
    let cases = [
        (
            container(
                "urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA512-8:C-QN08",
                SECRET_20,
            ),
            "OCRA",
        ),
        (
            parameters("<ResponseFormat Length=\"8\" Encoding=\"ALPHANUMERIC\"/>"),
            "ALPHANUMERIC",
        ),
        (
            parameters("<ResponseFormat Length=\"6\" CheckDigits=\"true\"/>"),
            "check digit",
        ),
        (parameters("<Suite>HMAC-MD5</Suite>"), "HMAC-MD5"),
        (
            container(
                HOTP,
                "<Data><Secret><EncryptedValue><EncryptionMethod \
                 Algorithm=\"http://www.w3.org/2001/04/xmlenc#kw-aes128\"/><CipherData>\
                 <CipherValue>AAAA</CipherValue></CipherData></EncryptedValue></Secret></Data>",
            ),
            "kw-aes128",
        ),
    ];
    for (file, named) in cases {
        let reader = PskcReader::new()
            .pre_shared_key(&[1; 16])
            .skip_mac_check_known_broken();
        match problem(reader.read(&file)) {
            Problem::Unsupported(what) => {
                assert!(what.contains(named), "{what} should name {named}")
            }
            other => panic!("{named}: {other:?}"),
        }
    }
}

#[test]
fn malformed_and_hostile_xml_is_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&lol3;</KeyContainer>"#;
    assert!(matches!(
        problem(PskcReader::new().read(laughs)),
        Problem::Xml(_)
    ));

    let external = r#"<?xml version="1.0"?>
<!DOCTYPE k [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&x;</KeyContainer>"#;
    assert!(matches!(
        problem(PskcReader::new().read(external)),
        Problem::Xml(_)
    ));

    // Deep nesting: bounded, refused or read, never a crash.
    let depth = 200_000;
    let deep = format!(
        "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">{}{}</KeyContainer>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    let _ = PskcReader::new().read(&deep);

    let huge = " ".repeat(twofa::migrate::MAX_PSKC_LEN + 1);
    assert!(matches!(
        problem(PskcReader::new().read(&huge)),
        Problem::TooLarge(_)
    ));

    assert!(matches!(
        problem(PskcReader::new().read("not xml")),
        Problem::Xml(_)
    ));
    assert_eq!(
        problem(PskcReader::new().read("<KeyContainer Version=\"1.0\"/>")),
        Problem::Syntax("a PSKC KeyContainer")
    );
    let version = figure(3).replace("Version=\"1.0\"", "Version=\"2.0\"");
    assert!(matches!(
        problem(PskcReader::new().read(&version)),
        Problem::Unsupported(_)
    ));

    // A derivation asking for more work than the bound.
    let slow = figure(7).replace("<IterationCount>1000<", "<IterationCount>4000000000<");
    assert!(matches!(
        problem(PskcReader::new().password("qwerty").read(&slow)),
        Problem::TooLarge(_)
    ));

    // Every prefix of an encrypted file: an error, never a panic.
    let figure6 = figure(6);
    let file = figure6.trim_end();
    for end in (0..file.len()).step_by(7) {
        if let Some(prefix) = file.get(..end) {
            assert!(
                PskcReader::new()
                    .pre_shared_key(&FIGURE6_KEY)
                    .read(prefix)
                    .is_err()
            );
        }
    }
}

#[test]
fn a_secret_in_the_clear_is_refused_where_the_file_encrypts() {
    let file = figure(6);
    let reader = PskcReader::new().pre_shared_key(&FIGURE6_KEY);
    let chosen = "<PlainValue>QUFBQUFBQUFBQUFBQUFBQUFBQUE=</PlainValue>";
    // Beside the encrypted value and its MAC: refused, MAC check or not.
    let beside = file.replace("<EncryptedValue>", &format!("{chosen}<EncryptedValue>"));
    assert!(matches!(problem(reader.read(&beside)), Problem::Syntax(_)));
    assert!(
        reader
            .clone()
            .skip_mac_check_known_broken()
            .read(&beside)
            .is_err()
    );
    // The MAC key's own cipher blocks spliced in as a value: refused.
    let mac_key = "ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX";
    let spliced = file.replace(
        "AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv",
        mac_key,
    );
    // Caught before any MAC: a block of one value repeats in another.
    assert_eq!(problem(reader.read(&spliced)), Problem::RepeatedBlock);
    // In place of them: refused, unless MAC checks are waived by name.
    let start = file.find("<EncryptedValue>").unwrap();
    let end = file.find("</ValueMAC>").unwrap() + "</ValueMAC>".len();
    let instead = format!("{}{chosen}{}", &file[..start], &file[end..]);
    assert_eq!(problem(reader.read(&instead)), Problem::InTheClear);
    assert_eq!(
        problem(PskcReader::new().read(&instead)),
        Problem::InTheClear
    );
    assert!(
        reader
            .clone()
            .skip_mac_check_known_broken()
            .read(&instead)
            .is_ok()
    );
    // A file in the clear read with a key: the key was for something else.
    assert_eq!(problem(reader.read(&figure(3))), Problem::InTheClear);
}

#[test]
fn markup_that_would_cost_the_parser_quadratic_time_is_refused() {
    let attributes: String = (0..20_000).map(|i| format!(" a{i}=\"u\"")).collect();
    let many = format!("<KeyContainer Version=\"1.0\"{attributes}/>");
    let started = std::time::Instant::now();
    assert!(matches!(
        problem(PskcReader::new().read(&many)),
        Problem::TooLarge(_)
    ));
    let namespaces: String = (0..4_000).map(|i| format!(" xmlns:a{i}=\"u\"")).collect();
    let children = "<b xmlns:z=\"v\"/>".repeat(10);
    let scoped = format!(
        "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">\
         <KeyPackage{namespaces}>{children}</KeyPackage></KeyContainer>"
    );
    assert!(matches!(
        problem(PskcReader::new().read(&scoped)),
        Problem::TooLarge(_)
    ));
    // Declarations that leave scope do not add up: fifty packages, each
    // declaring ten namespaces of its own, are read.
    let declared: String = (0..10)
        .map(|i| format!(" xmlns:p{i}=\"urn:p{i}\""))
        .collect();
    let package = figure(3);
    let start = package.find("<KeyPackage>").unwrap();
    let end = package.find("</KeyPackage>").unwrap() + "</KeyPackage>".len();
    let one = package[start..end].replace("<KeyPackage>", &format!("<KeyPackage{declared}>"));
    let fifty = format!("{}{}{}", &package[..start], one.repeat(50), &package[end..]);
    assert_eq!(PskcReader::new().read(&fifty).unwrap().len(), 50);
    // Quoted values, comments and CDATA are not counted.
    let quoted = figure(3).replace(
        "<Issuer>Issuer</Issuer>",
        &format!("<Issuer><!--{attributes}-->Issuer</Issuer>"),
    );
    assert!(PskcReader::new().read(&quoted).is_ok());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn errors_and_debug_never_show_the_secret() {
    let keys = PskcReader::new()
        .pre_shared_key(&FIGURE6_KEY)
        .read(&figure(6))
        .unwrap();
    let shown = format!("{keys:?}");
    assert!(!shown.contains("12345678901234567890"), "{shown}");
    assert!(
        !shown.contains("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        "{shown}"
    );
    let reader = format!("{:?}", PskcReader::new().password("qwerty"));
    assert!(!reader.contains("qwerty"), "{reader}");
}

/// Nothing authenticates the MAC key, so whoever alters it must learn
/// nothing of what it decrypts to: a MAC key whose padding breaks is
/// answered as one whose padding holds (a padding oracle otherwise).
#[test]
fn an_altered_mac_key_is_answered_alike_whatever_its_padding() {
    let file = figure(6);
    let mac_key = "ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX";
    let reader = PskcReader::new().pre_shared_key(&FIGURE6_KEY);
    // The last byte of the last block turned into a padding length of 0
    // (no padding), then of 5 (padding, of another key).
    for (padding, altered) in [
        (
            0,
            "ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRujN9vJa2BOlSaMrR7I5wSX",
        ),
        (
            5,
            "ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhR6jN9vJa2BOlSaMrR7I5wSX",
        ),
    ] {
        let file = file.replace(mac_key, altered);
        assert_eq!(
            problem(reader.read(&file)),
            Problem::MacMismatch,
            "padding {padding}"
        );
    }
    // One block of key after the IV: under 16 bytes whatever it decrypts
    // to, refused on its length alone.
    let short = file.replace(mac_key, "ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRc=");
    assert_eq!(
        problem(reader.read(&short)),
        Problem::Syntax("a MAC key of 16 to 128 bytes")
    );
}

/// Values and MAC keys are bounded before any is decrypted or compared
/// block by block with the MAC key's: a secret is at most 128 bytes.
#[test]
fn oversized_encrypted_values_and_mac_keys_are_refused_before_decrypting() {
    let file = figure(6);
    let reader = PskcReader::new().pre_shared_key(&FIGURE6_KEY);
    let huge = format!("AAECAwQFBgcICQoLDA0ODw{}", "A".repeat(400 * 4 / 3));
    let value = "AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv";
    assert_eq!(
        problem(reader.read(&file.replace(value, &huge))),
        Problem::Syntax("an encrypted value of at most 128 bytes")
    );
    let mac_key = "ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX";
    assert_eq!(
        problem(reader.read(&file.replace(mac_key, &huge))),
        Problem::Syntax("a MAC key of 16 to 128 bytes")
    );
}

/// A plaintext container whose `KeyContainer` holds `inside` as it is.
fn raw_container(inside: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">{inside}</KeyContainer>"#
    )
}

#[test]
fn keys_where_the_reader_does_not_look_and_files_without_keys_are_errors() {
    let package = format!(
        r#"<KeyPackage><Key Id="1" Algorithm="{HOTP}"><Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data></Key></KeyPackage>"#
    );
    assert_eq!(
        PskcReader::new()
            .read(&raw_container(&package))
            .unwrap()
            .len(),
        1
    );
    // The same package under a container child the reader does not know.
    let hidden = raw_container(&format!("<Batch>{package}</Batch>"));
    match problem(PskcReader::new().read(&hidden)) {
        Problem::Unexpected(what) => assert!(what.contains("Batch"), "{what}"),
        other => panic!("{other:?}"),
    }
    // In another namespace, or a second Key in one package.
    let foreign = raw_container(
        &package
            .replace("<KeyPackage>", r#"<x:KeyPackage xmlns:x="urn:other">"#)
            .replace("</KeyPackage>", "</x:KeyPackage>"),
    );
    assert!(matches!(
        problem(PskcReader::new().read(&foreign)),
        Problem::Unexpected(_)
    ));
    let key = package
        .trim_start_matches("<KeyPackage>")
        .trim_end_matches("</KeyPackage>");
    let twice = raw_container(&format!("<KeyPackage>{key}{key}</KeyPackage>"));
    assert!(matches!(
        problem(PskcReader::new().read(&twice)),
        Problem::Unexpected(_)
    ));
    // An unknown element in a key's data.
    let data = raw_container(&package.replace("</Data>", "<Seed>AAAA</Seed></Data>"));
    assert!(matches!(
        problem(PskcReader::new().read(&data)),
        Problem::Unexpected(_)
    ));
    // No key at all, or only a PIN key: an error saying so, never 0 keys.
    assert_eq!(
        problem(PskcReader::new().read(&raw_container(""))),
        Problem::NoKeys {
            packages: 0,
            pins: 0
        }
    );
    let pin = package.replace(HOTP, "urn:ietf:params:xml:ns:keyprov:pskc#pin");
    let only_pin = problem(PskcReader::new().read(&raw_container(&pin)));
    assert_eq!(
        only_pin,
        Problem::NoKeys {
            packages: 1,
            pins: 1
        }
    );
    assert!(only_pin.to_string().contains("no key"), "{only_pin}");
}

#[test]
fn a_policy_the_reader_does_not_understand_or_that_forbids_otp_is_refused_by_name() {
    let with_policy = |policy: &str| {
        container(
            HOTP,
            &format!(
                "<Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret></Data><Policy>{policy}</Policy>"
            ),
        )
    };
    let read = |policy: &str| PskcReader::new().read(&with_policy(policy));
    let keys =
        read("<KeyUsage>OTP</KeyUsage><NumberOfTransactions>42</NumberOfTransactions>").unwrap();
    let policy = keys[0].policy();
    assert_eq!(policy.usage, [twofa::migrate::KeyUsage::Otp]);
    assert_eq!(policy.transactions, Some(42));
    match problem(read("<KeyUsage>Encrypt</KeyUsage>")) {
        Problem::Policy(what) => assert!(what.contains("OTP"), "{what}"),
        other => panic!("{other:?}"),
    }
    match problem(read("<Geofence>EU</Geofence>")) {
        Problem::Policy(what) => assert!(what.contains("Geofence"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        problem(read("<KeyUsage>Teleport</KeyUsage>")),
        Problem::Policy(_)
    ));
    // Dates in every form xs:dateTime takes; nonsense is a syntax error.
    let at = |date: &str| {
        PskcReader::new()
            .accept_outside_validity()
            .read(&with_policy(&format!("<ExpiryDate>{date}</ExpiryDate>")))
            .map(|keys| keys[0].policy().expiry)
    };
    assert_eq!(at("2038-01-19T03:14:08Z").unwrap(), Some(1 << 31));
    assert_eq!(at("2038-01-19T03:14:08.250Z").unwrap(), Some(1 << 31));
    assert_eq!(at("2038-01-19T04:14:08+01:00").unwrap(), Some(1 << 31));
    assert_eq!(at("2106-02-07T06:28:16").unwrap(), Some(1 << 32));
    for bad in [
        "2038-02-30T00:00:00Z",
        "2038-01-19",
        "2038-01-19T03:14:08+1:00",
        "soon",
    ] {
        assert!(
            matches!(
                at(bad),
                Err(ImportError {
                    problem: Problem::Syntax(_),
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[test]
fn every_refusal_states_its_true_reason() {
    let aes = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
    for (method, named) in [
        ("http://www.w3.org/2001/04/xmlenc#tripledes-cbc", "3DES"),
        ("http://www.w3.org/2001/04/xmlenc#kw-aes128", "key wrap"),
        (
            "http://www.w3.org/2001/04/xmldsig-more#camellia128-cbc",
            "Camellia",
        ),
    ] {
        let file = figure(6).replace(aes, method);
        // With the key, without it, and with MAC checks waived: named.
        for reader in [
            PskcReader::new().pre_shared_key(&FIGURE6_KEY),
            PskcReader::new(),
            PskcReader::new()
                .pre_shared_key(&FIGURE6_KEY)
                .skip_mac_check_known_broken(),
        ] {
            match problem(reader.read(&file)) {
                Problem::Unsupported(what) => {
                    assert!(what.contains(named), "{what} should name {named}")
                }
                other => panic!("{named}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_key_id_in_an_error_is_quoted_and_cut() {
    let id = "x".repeat(100_000);
    let file = container(HOTP, "<Data></Data>").replacen("Id=\"", &format!("Id=\"{id}"), 1);
    let error = PskcReader::new().read(&file).unwrap_err();
    let message = error.to_string();
    assert!(message.len() < 300, "{} bytes", message.len());
    assert!(message.contains("…"), "{message}");
    assert!(format!("{error:?}").len() < 400);
}

#[test]
fn an_altered_file_is_never_activated_without_a_code_from_the_token() {
    // Figure 6 with its secret's ciphertext replaced and MAC checks waived
    // (or a splice that recomputes every MAC): a secret the token does not
    // hold, read, but pending.
    let file = figure(6);
    let genuine = PskcReader::new()
        .pre_shared_key(&FIGURE6_KEY)
        .read(&file)
        .unwrap();
    assert!(genuine[0].is_pending());
    // The IV's first byte changed: the secret's first byte with it, the
    // padding intact, so the read succeeds once MACs are waived.
    let altered = file.replacen(
        "AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv",
        "AQECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv",
        1,
    );
    assert_ne!(altered, file);
    let mut planted = PskcReader::new()
        .pre_shared_key(&FIGURE6_KEY)
        .skip_mac_check_known_broken()
        .read(&altered)
        .unwrap();
    assert_ne!(planted[0].key_uri(), genuine[0].key_uri(), "another secret");
    assert!(planted[0].is_pending());
    assert_eq!(planted[0].hotp_account(), None, "no state while pending");
    // The token's own codes do not confirm a secret it does not hold.
    for code in RFC4226_8 {
        assert_eq!(planted[0].confirm(code, 0), Err(Error::InvalidCode));
    }
    assert!(planted[0].is_pending());
    // The genuine key is confirmed by its token's code.
    let mut key = genuine[0].clone();
    key.confirm(RFC4226_8[0], 0).unwrap();
    assert_eq!(key.hotp_account().unwrap().counter, 1);
    // A file checked against the vendor's SHA-256 is not pending; another
    // digest refuses it.
    let digest = <sha2::Sha256 as sha2::Digest>::digest(file.as_bytes()).into();
    let checked = PskcReader::new()
        .pre_shared_key(&FIGURE6_KEY)
        .expect_sha256(digest)
        .read(&file)
        .unwrap();
    assert!(!checked[0].is_pending());
    assert_eq!(checked[0].hotp_account().unwrap().counter, 0);
    let mut other = digest;
    other[0] ^= 1;
    assert_eq!(
        problem(
            PskcReader::new()
                .pre_shared_key(&FIGURE6_KEY)
                .expect_sha256(other)
                .read(&file)
        ),
        Problem::DigestMismatch
    );
}

#[test]
fn an_integer_in_the_clear_in_a_file_that_encrypts_is_refused_when_asked() {
    // Figure 6's counter is in the clear beside its encrypted secret: read
    // by default (the key pending), refused by name when asked.
    let keys = PskcReader::new()
        .pre_shared_key(&FIGURE6_KEY)
        .read(&figure(6))
        .unwrap();
    assert!(keys[0].is_pending());
    let strict = PskcReader::new()
        .pre_shared_key(&FIGURE6_KEY)
        .refuse_plain_integers();
    assert_eq!(
        problem(strict.clone().read(&figure(6))),
        Problem::IntegerInTheClear
    );
    assert!(
        Problem::IntegerInTheClear
            .to_string()
            .contains("MACs do not cover")
    );
    // A file in the clear has nothing to refuse: its counter is read.
    assert_eq!(
        PskcReader::new()
            .refuse_plain_integers()
            .read(&figure(3))
            .map(|keys| keys.len()),
        Ok(1)
    );
}
