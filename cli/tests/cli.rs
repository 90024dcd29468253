//! The `twofa` command, exercised end to end as a person would run it:
//! the binary cargo built beside these tests, or the one `TWOFA_CLI`
//! names (an installed copy, as CI checks it).
#![allow(clippy::unwrap_used)]

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Output, Stdio},
    sync::Once,
};

use twofa::{Secret, Totp, unix_time};

/// RFC 6238's SHA-1 seed, "12345678901234567890", in base32.
const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The binary under test.
fn binary() -> PathBuf {
    let path = std::env::var_os("TWOFA_CLI")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_twofa")), PathBuf::from);
    static NAMED: Once = Once::new();
    NAMED.call_once(|| eprintln!("testing {}", path.display()));
    assert!(path.is_file(), "{} is not a file", path.display());
    path
}

/// A command running the binary.
fn command() -> Command {
    Command::new(binary())
}

fn twofa(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

/// Runs the binary with `input` on its standard input.
fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command refused before it reads its input closes the pipe.
    let written = child.stdin.take().unwrap().write_all(input.as_bytes());
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn code_prints_the_rfc_6238_value() {
    let output = twofa(&["code", "--time", "59", "--digits", "8", SEED]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "94287082\n");
    // SHA-256 with its own seed, from a URI.
    let uri = "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8";
    let output = twofa(&["code", uri, "--time", "1111111109"]);
    assert_eq!(stdout(&output), "68084774\n");
    // HOTP, RFC 4226 Appendix D.
    let output = twofa(&["code", SEED, "--counter", "9"]);
    assert_eq!(stdout(&output), "520489\n");
}

#[test]
fn new_then_verify_with_the_current_code() {
    let output = twofa(&[
        "new",
        "--issuer",
        "ACME Co",
        "--account",
        "alice@example.com",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let secret = text
        .lines()
        .find_map(|line| line.strip_prefix("secret: "))
        .unwrap();
    let uri = text
        .lines()
        .find_map(|line| line.strip_prefix("uri:    "))
        .unwrap();
    assert!(uri.starts_with("otpauth://totp/ACME%20Co:alice@example.com?secret="));

    let totp = Totp::new(Secret::from_base32(secret).unwrap());
    let now = unix_time().unwrap();
    let code = totp.generate_at(now).unwrap().to_string();
    for target in [secret, uri] {
        let output = twofa(&["verify", target, &code, "--time", &now.to_string()]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).starts_with("valid: step "));
    }
    // And without --time, on the clock (a window of one step each way
    // absorbs a step boundary between the two reads).
    let output = twofa(&["verify", secret, &code]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn verify_refuses_a_wrong_code_with_status_1() {
    let output = twofa(&["verify", SEED, "287082", "--counter", "0", "--window", "0"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), "twofa: invalid code\n");
    assert!(stdout(&output).is_empty());
}

#[test]
fn uri_explains_what_apps_will_make_of_it() {
    let output = twofa(&[
        "uri",
        "otpauth://totp/ACME:bob?secret=GEZDGNBVGY3TQOJQ&issuer=ACME&algorithm=sha256&period=60&lock=1",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "issuer:    ACME",
        "account:   bob",
        "secret:    80 bits (below RFC 4226's 128)",
        "algorithm: SHA256",
        "period:    60 s",
        "unknown:   lock=1",
        "warning:   algorithm SHA256",
        "warning:   period 60 s",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(!text.contains("GEZD"), "the secret must not be shown");
}

#[test]
fn bad_input_gets_a_message_and_a_nonzero_status_never_a_panic() {
    let cases: &[(&[&str], &str)] = &[
        (&["code", "not base32!"], "secret is not valid base32"),
        (&["code", "GEZDGNBV"], "secret too short"),
        (
            &["code", SEED, "--digits", "5"],
            "number of digits must be 6 to 10",
        ),
        (
            &["code", SEED, "--digits"],
            "a value is required for '--digits <N>'",
        ),
        (&["code", SEED, "--time", "-1"], "unexpected argument '-1'"),
        (
            &["code", SEED, "--time", "soon"],
            "invalid value 'soon' for '--time <UNIX>'",
        ),
        (&["code", SEED, "--algorithm", "MD5"], "unknown algorithm"),
        (&["code", SEED, "--period", "0"], "invalid time step period"),
        (
            &["code", SEED, "--steam", "--digits", "8"],
            "'--steam' cannot be used with '--digits <N>'",
        ),
        (
            &[
                "code",
                "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ",
                "--digits",
                "8",
            ],
            "carries its own",
        ),
        (
            &[
                "code",
                "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ&issuer=%ZZ",
            ],
            "percent-encoding",
        ),
        (
            &["uri", "otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQ&issuer=B"],
            "issuer in the label differs",
        ),
        (&["uri", "https://example.com"], "not an otpauth:// URI"),
        (&["verify", SEED], "missing CODE"),
        (&["verify", SEED, "12345"], "malformed code"),
        (
            &["new", "--account", "a"],
            "required arguments were not provided:\n  --issuer <NAME>",
        ),
        (
            &["new", "--issuer", "A:B", "--account", "a"],
            "contains a colon",
        ),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (
            &["code", SEED, "--frob", "1"],
            "unexpected argument '--frob' found",
        ),
        (
            &["verify", "--secret-env", "X", SEED, "123456"],
            "give only the CODE",
        ),
        (
            &["export", "--format", "csv"],
            "invalid value 'csv' for '--format <FORMAT>'",
        ),
    ];
    for &(args, expected) in cases {
        let output = twofa(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert!(message.starts_with("twofa: "), "{args:?}: {message}");
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(!message.contains("panicked"), "{args:?}: {message}");
    }
}

#[test]
fn control_characters_from_input_are_escaped() {
    // ESC ] 0 ; would retitle the terminal; ESC [ 2 J would clear it; U+202E
    // would reverse the text after it.
    let uri = format!(
        "otpauth://totp/%1B%5D0%3Bpwned%07:%1B%5B2J%E2%80%AEalice?secret={SEED}&note=%1B%5B31mred&%1B=x"
    );
    let output = twofa(&["uri", &uri]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("issuer:    \\u{1b}]0;pwned\\u{7}"), "{text}");
    assert!(
        text.contains("account:   \\u{1b}[2J\\u{202e}alice"),
        "{text}"
    );
    assert!(text.contains("unknown:   note=\\u{1b}[31mred"), "{text}");
    // Error messages too.
    let output = twofa(&["\u{1b}[2Jboom"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!stderr(&output).contains('\u{1b}'), "{}", stderr(&output));
    let output = twofa(&["code", "--\u{1b}[2J", "x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("twofa: unexpected argument '--\\u{1b}[2J' found\n"),
        "{}",
        stderr(&output)
    );
    // A file's name, newline and all, stays on the one line of its message.
    let output = twofa(&["import", "/nonexistent/a\ntwofa: 3 keys\u{ad}"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "twofa: argument 1: no such file, and not an otpauth-migration:// URI\n"
    );
    let name = std::env::temp_dir().join(format!("twofa-cli-{}-a\nb\u{ad}", std::process::id()));
    std::fs::create_dir_all(&name).unwrap();
    let output = twofa(&["import", name.to_str().unwrap()]);
    std::fs::remove_dir(&name).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("a\\u{a}b\\u{ad}: cannot read"),
        "{message}"
    );
}

#[test]
fn the_secret_can_come_from_standard_input_or_the_environment() {
    let output = with_stdin(
        &["code", "-", "--time", "59", "--digits", "8"],
        &format!("{SEED}\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "94287082\n");

    let output = command()
        .args([
            "verify",
            "--secret-env",
            "TWOFA_TEST_SECRET",
            "287082",
            "--counter",
            "1",
        ])
        .env("TWOFA_TEST_SECRET", SEED)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("valid: counter 1"),
        "{}",
        stdout(&output)
    );

    let output = command()
        .args(["code", "--secret-env", "TWOFA_TEST_UNSET"])
        .env_remove("TWOFA_TEST_UNSET")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("\"TWOFA_TEST_UNSET\" is not set"));
}

#[test]
fn a_label_cannot_print_lines_of_its_own() {
    // A newline and a line separator in the account name, and no colon.
    let uri = format!("otpauth://totp/ACME:alice%0Awarning%20none%E2%80%A8x?secret={SEED}");
    let output = twofa(&["uri", &uri]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("account:   alice\\u{a}warning none\\u{2028}x"),
        "{text}"
    );
    assert!(
        !text.lines().any(|line| line.starts_with("warning none")),
        "{text}"
    );
    let output = twofa(&["code", "--bad\noption", SEED]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("twofa: unexpected argument '--bad\\u{a}option' found\n"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn keygen_seal_and_open() {
    let output = twofa(&["keygen"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not provided:\n  --id <N>"));
    let output = twofa(&["keygen", "--id", "4"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let key = stdout(&output).trim().to_owned();
    assert!(key.starts_with("4:") && key.len() == 66, "{key}");
    assert!(stderr(&output).contains("secret key"));
    let run = |args: &[&str], key: &str| {
        command()
            .args(args)
            .env("TWOFA_TEST_KEY", key)
            .output()
            .unwrap()
    };
    let output = run(
        &[
            "seal",
            "--key-env",
            "TWOFA_TEST_KEY",
            "--account",
            "alice",
            SEED,
        ],
        &key,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let sealed = stdout(&output).trim().to_owned();
    assert!(
        sealed.starts_with("sealed:") && !sealed.contains(SEED),
        "{sealed}"
    );
    let output = run(
        &[
            "open",
            "--key-env",
            "TWOFA_TEST_KEY",
            "--account",
            "alice",
            &sealed,
        ],
        &key,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{SEED}\n"));
    // Another account, another key, or no key: refused with status 2.
    let other_key = format!("4:{}", "ab".repeat(32));
    for (args, key, message) in [
        (
            [
                "open",
                "--key-env",
                "TWOFA_TEST_KEY",
                "--account",
                "bob",
                &sealed,
            ],
            key.as_str(),
            "failed authentication",
        ),
        (
            [
                "open",
                "--key-env",
                "TWOFA_TEST_KEY",
                "--account",
                "alice",
                &sealed,
            ],
            other_key.as_str(),
            "failed authentication",
        ),
        (
            [
                "open",
                "--key-env",
                "TWOFA_TEST_KEY",
                "--account",
                "alice",
                "sealed:AE",
            ],
            key.as_str(),
            "not a sealed secret",
        ),
        (
            [
                "open",
                "--key-env",
                "TWOFA_TEST_KEY",
                "--account",
                "alice",
                &sealed,
            ],
            "4:xyz",
            "must hold ID:HEX",
        ),
    ] {
        let output = run(&args, key);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

mod migrating {
    use std::process::Output;

    use twofa::{KeyUri, Otp};

    use super::{command, stderr, stdout, twofa, with_stdin};

    fn data(path: &str) -> String {
        format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"))
    }

    /// RFC 4226 appendix D, 8 digits, counters 0 to 9.
    const RFC4226_8: [&str; 10] = [
        "84755224", "94287082", "37359152", "26969429", "40338314", "68254676", "18287922",
        "82162583", "73399871", "45520489",
    ];

    fn uris(output: &Output) -> Vec<KeyUri> {
        assert!(output.status.success(), "{}", stderr(output));
        assert!(
            stderr(output).contains("hold their secrets"),
            "{}",
            stderr(output)
        );
        stdout(output)
            .lines()
            .map(|line| KeyUri::parse_accepting_80_bit(line).unwrap())
            .collect()
    }

    fn hotp_codes(uri: &KeyUri) -> Vec<String> {
        let Otp::Hotp { hotp, .. } = uri.otp() else {
            panic!("expected HOTP")
        };
        (0..10)
            .map(|counter| hotp.generate(counter).to_string())
            .collect()
    }

    fn totp_at(uri: &KeyUri, time: u64) -> String {
        let Otp::Totp(totp) = uri.otp() else {
            panic!("expected TOTP")
        };
        totp.generate_at(time).unwrap().to_string()
    }

    fn refused(output: &Output, says: &str) {
        assert_eq!(output.status.code(), Some(2), "{}", stdout(output));
        assert!(stdout(output).is_empty());
        let message = stderr(output);
        assert!(
            message.starts_with("twofa: ") && message.contains(says),
            "{message}"
        );
        assert!(!message.contains("panicked"), "{message}");
    }

    #[test]
    fn pskc_with_a_pre_shared_key_and_its_mac() {
        let figure6 = data("pskc/rfc6030-figure6.pskcxml");
        let key = "12345678901234567890123456789012";
        // Pending until its token's code confirms it; printed past that code.
        refused(
            &twofa(&["import", "--pskc-key", key, &figure6]),
            "1 keys from a PSKC file are pending",
        );
        refused(
            &twofa(&["import", "--pskc-key", key, "--code", "12345678", &figure6]),
            "not confirmed: invalid code",
        );
        let confirm = [
            "import",
            "--pskc-key",
            key,
            "--code",
            RFC4226_8[0],
            &figure6,
        ];
        let keys = uris(&twofa(&confirm));
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].account(), "987654321");
        // Its counter is in the clear, which its MACs do not cover.
        let strict = [&confirm[..], &["--pskc-refuse-plain-integers"]].concat();
        refused(&twofa(&strict), "an integer in the clear");
        assert_eq!(hotp_codes(&keys[0]), RFC4226_8);
        let Otp::Hotp { counter, .. } = keys[0].otp() else {
            panic!("expected HOTP")
        };
        assert_eq!(*counter, 1, "the confirming code is used");
        let unconfirmed = twofa(&["import", "--pskc-key", key, "--pskc-unconfirmed", &figure6]);
        assert!(
            stderr(&unconfirmed).contains("unconfirmed"),
            "{}",
            stderr(&unconfirmed)
        );
        assert_eq!(uris(&unconfirmed).len(), 1);
        let text = std::fs::read(&figure6).unwrap();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&text);
        let mut digest: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(
            uris(&twofa(&[
                "import",
                "--pskc-key",
                key,
                "--pskc-sha256",
                &digest,
                &figure6
            ]))
            .len(),
            1
        );
        digest.replace_range(0..1, if digest.starts_with('0') { "1" } else { "0" });
        refused(
            &twofa(&[
                "import",
                "--pskc-key",
                key,
                "--pskc-sha256",
                &digest,
                &figure6,
            ]),
            "SHA-256 is not the one expected",
        );

        refused(&twofa(&["import", &figure6]), "key or password is needed");
        let wrong = "12345678901234567890123456789013";
        // The MAC key or the value fails to open, or the MAC to match.
        refused(
            &twofa(&["import", "--pskc-key", wrong, &figure6]),
            "rfc6030-figure6.pskcxml: ",
        );

        // An altered MAC: refused unless told otherwise, by name.
        let text = std::fs::read_to_string(&figure6).unwrap();
        let altered = format!(
            "{}/altered-{}.pskcxml",
            env!("CARGO_TARGET_TMPDIR"),
            std::process::id()
        );
        std::fs::write(&altered, text.replace("Su+NvtQf", "Su+NwtQf")).unwrap();
        refused(
            &twofa(&["import", "--pskc-key", key, &altered]),
            "MAC does not match",
        );
        let forced = twofa(&[
            "import",
            "--pskc-key",
            key,
            "--pskc-skip-mac-check-known-broken",
            "--code",
            RFC4226_8[0],
            &altered,
        ]);
        assert_eq!(hotp_codes(&uris(&forced)[0]), RFC4226_8);
        std::fs::remove_file(altered).unwrap();
    }

    #[test]
    fn pskc_with_a_password_and_in_the_clear() {
        let output = command()
            .args(["import", "--pskc-password-env", "TWOFA_TEST_PSKC_PASSWORD"])
            .args(["--code", RFC4226_8[0]])
            .arg(data("pskc/rfc6030-figure7.pskcxml"))
            .env("TWOFA_TEST_PSKC_PASSWORD", "qwerty")
            .output()
            .unwrap();
        assert_eq!(hotp_codes(&uris(&output)[0]), RFC4226_8);
        // Keys valid in 2006 only: refused now, naming the expiry, unless
        // accepted by name; read at a time within the first key's month,
        // the third (March) is named as expired.
        let bulk = data("pskc/rfc6030-figure10.pskcxml");
        refused(&twofa(&["import", &bulk]), "an expired key");
        refused(
            &twofa(&["import", "--time", "1147000000", &bulk]),
            "key package 3",
        );
        let accepted = [
            "import",
            "--pskc-accept-outside-validity",
            "--pskc-unconfirmed",
            &bulk,
        ];
        assert_eq!(uris(&twofa(&accepted)).len(), 4);
        // A file with no key to import is an error, never "0 keys".
        let empty =
            std::env::temp_dir().join(format!("twofa-empty-{}.pskcxml", std::process::id()));
        std::fs::write(
            &empty,
            r#"<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"/>"#,
        )
        .unwrap();
        refused(
            &twofa(&["import", empty.to_str().unwrap()]),
            "no key to import",
        );
        std::fs::remove_file(&empty).unwrap();
        refused(
            &twofa(&["import", &data("pskc/rfc6030-figure2.pskcxml")]),
            "secret too short",
        );
    }

    #[test]
    fn google_exports_every_batch() {
        let exports = std::fs::read_to_string(data("migration/exports.txt")).unwrap();
        let case = |name: &str| {
            exports
                .lines()
                .find_map(|line| line.strip_prefix(&format!("{name} ")))
                .unwrap()
                .to_owned()
        };
        let keys = uris(&twofa(&["import", &case("many")]));
        assert_eq!(keys.len(), 5);
        // RFC 6238 appendix B at 59: SHA-1, SHA-256, SHA-512.
        assert_eq!(totp_at(&keys[0], 59), "287082");
        assert_eq!(totp_at(&keys[2], 59), "46119246");
        assert_eq!(totp_at(&keys[3], 59), "90693936");
        let Otp::Hotp { counter, .. } = keys[1].otp() else {
            panic!("expected HOTP")
        };
        assert_eq!(*counter, 6);

        let both = uris(&twofa(&[
            "import",
            &case("batch-2-of-2"),
            &case("batch-1-of-2"),
        ]));
        assert_eq!(both.len(), 2);
        refused(
            &twofa(&["import", &case("batch-1-of-2")]),
            "scan every QR code",
        );
        refused(
            &twofa(&["import", &case("md5")]),
            "batch 1, key 1: unsupported: algorithm MD5",
        );
    }

    #[test]
    fn users_oath_from_standard_input() {
        let file = "\
# pam_oath
HOTP/E/8 alice - 3132333435363738393031323334353637383930 4 40338314 2026-01-01T00:00:00L
HOTP/T30/8 bob + 3132333435363738393031323334353637383930
";
        let keys = uris(&with_stdin(&["import", "-"], file));
        let Otp::Hotp { counter, .. } = keys[0].otp() else {
            panic!("expected HOTP")
        };
        assert_eq!(*counter, 5);
        assert_eq!(hotp_codes(&keys[0]), RFC4226_8);
        assert_eq!(totp_at(&keys[1], 59), "94287082");
        refused(
            &with_stdin(&["import", "-"], "HOTP/T45 a - 00\n"),
            "-: line 1: unsupported",
        );
        refused(
            &with_stdin(&["import", "-"], "\u{0}\u{1}garbage"),
            "-: line 1",
        );
    }

    #[test]
    fn export_then_import_gives_the_same_keys() {
        let uris_in = "\
otpauth://hotp/ACME:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&digits=8&counter=5
otpauth://totp/bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8
";
        let key = "00112233445566778899aabbccddeeff";
        let pskc = with_stdin(&["export", "--format", "pskc", "--pskc-key", key], uris_in);
        assert!(pskc.status.success(), "{}", stderr(&pskc));
        let file = format!(
            "{}/exported-{}.pskcxml",
            env!("CARGO_TARGET_TMPDIR"),
            std::process::id()
        );
        std::fs::write(&file, &pskc.stdout).unwrap();
        // The file's own digest, as its writer would hand it over.
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&pskc.stdout);
        let digest: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        let back = twofa(&["import", "--pskc-key", key, "--pskc-sha256", &digest, &file]);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(stdout(&back), uris_in);

        // users.oath has no issuer and no SHA-256: the HOTP key alone.
        let hotp = uris_in.lines().next().unwrap();
        let oath = with_stdin(&["export", "--format", "users.oath"], hotp);
        assert!(oath.status.success(), "{}", stderr(&oath));
        let back = with_stdin(&["import", "-"], &stdout(&oath));
        let keys = uris(&back);
        assert_eq!(keys[0].otp(), KeyUri::parse(hotp).unwrap().otp());
        refused(
            &with_stdin(&["export", "--format", "users.oath"], uris_in),
            "key 2: cannot be written",
        );
        refused(
            &with_stdin(&["export", "--format", "csv"], uris_in),
            "possible values: users.oath, pskc",
        );
        refused(
            &with_stdin(&["export", "--format", "pskc"], "otpauth://nope\n"),
            "line 1",
        );
    }

    /// liboath writes local time: a TOTP key's last step is found from its
    /// last code only in the zone of the server that wrote the file.
    #[test]
    fn users_oath_in_the_writing_servers_zone() {
        // Written at UTC+5: 09:31 there is 04:31 UTC.
        let file = "HOTP/T30 carol - 3132333435363738393031323334353637383930 0 737723 2026-11-22T09:31:00L\n";
        refused(
            &with_stdin(&["import", "-"], file),
            "is the UTC offset right?",
        );
        let keys = uris(&with_stdin(&["import", "--utc-offset", "18000", "-"], file));
        assert_eq!(totp_at(&keys[0], 1_795_321_860), "737723");
    }

    /// An argument that is no file may be a pasted secret or URI: it is
    /// named by its place, never echoed.
    #[test]
    fn a_pasted_uri_or_secret_is_not_echoed() {
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let uri = format!("otpauth://totp/alice?secret={secret}");
        let output = twofa(&["import", &uri]);
        refused(&output, "argument 1: no such file");
        assert!(stderr(&output).contains("already what import prints"));
        let output = twofa(&["import", secret]);
        refused(&output, "argument 1: no such file");
        assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
        assert!(!stderr(&twofa(&["import", &uri])).contains(secret));
    }
}

#[test]
fn help_version_and_completions() {
    let output = twofa(&["--help"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for command in [
        "new", "code", "verify", "uri", "qr", "keygen", "seal", "open", "import", "export",
    ] {
        assert!(
            stdout(&output).contains(&format!("\n  {command} ")),
            "{command} missing from:\n{}",
            stdout(&output)
        );
    }
    let output = twofa(&["import", "--help"]);
    assert!(
        stdout(&output).contains("--pskc-sha256 <HEX>"),
        "{}",
        stdout(&output)
    );
    let output = twofa(&["--version"]);
    assert_eq!(
        stdout(&output),
        format!("twofa {}\n", env!("CARGO_PKG_VERSION"))
    );
    // No command: the help, as before the tool was on clap.
    let output = twofa(&[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("Usage: twofa <COMMAND>"));
    for (shell, says) in [
        ("bash", "complete -F _twofa"),
        ("zsh", "#compdef twofa"),
        ("fish", "complete -c twofa"),
    ] {
        let output = twofa(&["completions", shell]);
        assert!(output.status.success(), "{}", stderr(&output));
        let script = stdout(&output);
        assert!(
            script.contains(says) && script.contains("pskc-key-env"),
            "{shell}"
        );
    }
}

#[test]
#[cfg(unix)]
fn arguments_that_are_not_utf8_are_refused() {
    use std::os::unix::ffi::OsStrExt;
    let output = command()
        .arg("code")
        .arg(std::ffi::OsStr::from_bytes(b"GEZD\xff\x1b[2J"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.starts_with("twofa: invalid UTF-8"), "{message}");
    assert!(!message.contains('\u{1b}'), "{message}");
}

#[test]
fn secrets_pasted_in_the_wrong_place_are_not_shown() {
    let uri = format!("otpauth://totp/A:b?secret={SEED}");
    let key = "0123456789abcdef0123456789abcdef";
    let cases: &[&[&str]] = &[
        &["code", SEED, SEED],
        &["uri", &uri, &uri],
        &["verify", SEED, "123456", "654321"],
        &["export", "--format", "pskc", key],
        &[SEED],
        &["help", SEED],
        &["code", "--secret-env", SEED],
        &["export", "--format", "pskc", "--pskc-key-env", key],
        &["code", "--digits", SEED, SEED],
        &["verify", "--time", SEED, SEED, "123456"],
        &["export", "--format", key],
    ];
    for args in cases {
        let output = twofa(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert!(message.starts_with("twofa: "), "{args:?}: {message}");
        for secret in [SEED, key, "654321"] {
            assert!(!message.contains(secret), "{args:?}: {message}");
        }
    }
    // A mistyped command is still named.
    assert!(stderr(&twofa(&["frobnicate"])).contains("'frobnicate'"));
}

#[test]
fn a_closed_standard_output_is_a_failure_not_a_panic() {
    for args in [
        &["code", SEED, "--time", "59"][..],
        &["completions", "bash"],
        &["--help"],
        &["uri", &format!("otpauth://totp/A:b?secret={SEED}")],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = command()
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            !stderr(&output).contains("panicked"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // With standard error closed too, a wrong code is still status 1.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = command()
        .args(["verify", SEED, "000000", "--counter", "0", "--window", "0"])
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn qr_shows_a_uri_on_the_terminal_or_as_svg() {
    let uri = format!("otpauth://totp/ACME:alice?secret={SEED}&issuer=ACME");
    let output = with_stdin(&["qr", "--svg", "-"], &uri);
    assert!(output.status.success(), "{}", stderr(&output));
    let svg = stdout(&output);
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    let output = twofa(&["qr", &uri]);
    assert!(output.status.success(), "{}", stderr(&output));
    let blocks = stdout(&output);
    assert!(
        blocks.lines().count() > 10 && blocks.contains('\u{2580}'),
        "{blocks}"
    );
    // The URI is checked before anything is drawn.
    let output = twofa(&["qr", "https://example.com"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
}

#[test]
fn manual_pages_for_the_tool_and_each_command() {
    let output = twofa(&["man"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(
        page.contains(".TH twofa 1") && page.contains("verify"),
        "{page}"
    );
    let output = twofa(&["man", "import"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(
        page.contains(".TH twofa-import 1") && page.contains("pskc\\-sha256"),
        "{page}"
    );
    let output = twofa(&["man", "frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "twofa: man: no such command (twofa --help lists them)\n"
    );
}
