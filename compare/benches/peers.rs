//! The same verification on other Rust crates, beside ours, in one run,
//! for a hit and for a miss:
//! - a 6-digit SHA-1 TOTP, one step behind and one ahead: totp-rs,
//!   totp-rfc, totp-lite;
//! - a 6-digit SHA-1 HOTP with a look-ahead of 10: totp-rfc, libreauth.
//!
//! Read the results as ratios to `twofa` in the same group, and each
//! crate's hit beside its own miss: a gap between them is time that tells
//! an observer whether (and where) a code matched.
//!
//! `twofa` is timed with its verifier built once and kept (`twofa`) and
//! built for each verification from the secret (`twofa_per_request`),
//! since the other crates key their HMAC at each call. totp-lite only
//! generates codes, so its users verify by generating the three codes of
//! the window and comparing strings; that is what is timed.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// A fixed demo secret.
const SECRET: [u8; 20] = *b"12345678901234567890";
const NOW: u64 = 1_700_000_000;

fn peers(c: &mut Criterion) {
    let ours_secret = twofa::Secret::from_bytes(&SECRET).expect("16 bytes or more");
    let ours = twofa::Totp::new(ours_secret.clone());
    let hit = ours.generate_at(NOW).expect("after T0").to_string();
    let miss = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|code| ours.verify_at(code, NOW).is_err())
        .expect("some code misses");

    let totp_rs = totp_rs::Builder::new()
        .with_secret(SECRET)
        .with_skew(1)
        .build()
        .expect("valid parameters");

    let rfc_secret = totp_rfc::Secret::new(&SECRET).expect("16 bytes or more");
    let rfc_totp = totp_rfc::Totp::new(
        totp_rfc::Algorithm::Sha1,
        totp_rfc::Digits::SIX,
        totp_rfc::Totp::DEFAULT_PERIOD,
        0,
    )
    .expect("valid parameters");
    let rfc_window = totp_rfc::ValidationWindow::new(1, 1);

    let lite = |code: &str, now: u64| {
        // Every step is generated, as a constant-time-minded caller would.
        let mut found = false;
        for time in [now - 30, now, now + 30] {
            found |= totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &SECRET, time) == code;
        }
        found
    };

    // Every implementation must agree before it is timed.
    assert!(ours.verify_at(&hit, NOW).is_ok() && ours.verify_at(&miss, NOW).is_err());
    assert!(totp_rs.check(&hit, NOW).is_some() && totp_rs.check(&miss, NOW).is_none());
    let rfc = |code: &str| {
        rfc_totp
            .verify_window(&rfc_secret, NOW, rfc_window, code)
            .expect("well-formed code")
            .is_some()
    };
    assert!(rfc(&hit) && !rfc(&miss));
    assert!(lite(&hit, NOW) && !lite(&miss, NOW));

    for (case, code) in [("hit", &hit), ("miss", &miss)] {
        let mut group = c.benchmark_group(format!("peers_totp_window1_SHA1_{case}"));
        group.bench_function("twofa", |b| {
            b.iter(|| ours.verify_at(black_box(code), black_box(NOW)))
        });
        group.bench_function("twofa_per_request", |b| {
            // The secret held as the other crates hold theirs, copied
            // into a verifier that is keyed, used and wiped at each call.
            b.iter(|| {
                twofa::Totp::new(ours_secret.clone()).verify_at(black_box(code), black_box(NOW))
            })
        });
        group.bench_function("totp-rs", |b| {
            b.iter(|| totp_rs.check(black_box(code), black_box(NOW)))
        });
        group.bench_function("totp-rfc", |b| {
            b.iter(|| {
                rfc_totp.verify_window(&rfc_secret, black_box(NOW), rfc_window, black_box(code))
            })
        });
        group.bench_function("totp-lite", |b| {
            b.iter(|| lite(black_box(code), black_box(NOW)))
        });
        group.finish();
    }
}

/// HOTP, look-ahead 10, from counter 1000; the hit is at counter 1005.
fn hotp_peers(c: &mut Criterion) {
    const COUNTER: u64 = 1_000;
    let ours_secret = twofa::Secret::from_bytes(&SECRET).expect("16 bytes or more");
    let ours = twofa::Hotp::builder(ours_secret.clone())
        .look_ahead(10)
        .build()
        .expect("valid parameters");
    let hit = ours.generate(COUNTER + 5).to_string();
    let miss = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|code| ours.verify(code, COUNTER).is_err())
        .expect("some code misses");

    let rfc_secret = totp_rfc::Secret::new(&SECRET).expect("16 bytes or more");
    let rfc = totp_rfc::Hotp::new(totp_rfc::Digits::SIX);
    let rfc_verify = |code: &str| {
        rfc.verify_window(&rfc_secret, COUNTER, 10, code)
            .expect("well-formed code")
    };

    let libre = libreauth::oath::HOTPBuilder::new()
        .key(&SECRET)
        .counter(COUNTER)
        .look_ahead(10)
        .finalize()
        .expect("valid parameters");

    assert!(ours.verify(&hit, COUNTER).is_ok() && ours.verify(&miss, COUNTER).is_err());
    assert!(rfc_verify(&hit).is_some() && rfc_verify(&miss).is_none());
    assert!(libre.is_valid(&hit) && !libre.is_valid(&miss));

    for (case, code) in [("hit", &hit), ("miss", &miss)] {
        let mut group = c.benchmark_group(format!("peers_hotp_look_ahead10_SHA1_{case}"));
        group.bench_function("twofa", |b| {
            b.iter(|| ours.verify(black_box(code), black_box(COUNTER)))
        });
        group.bench_function("twofa_per_request", |b| {
            b.iter(|| {
                twofa::Hotp::builder(ours_secret.clone())
                    .look_ahead(10)
                    .build()
                    .expect("valid parameters")
                    .verify(black_box(code), black_box(COUNTER))
            })
        });
        group.bench_function("totp-rfc", |b| b.iter(|| rfc_verify(black_box(code))));
        group.bench_function("libreauth", |b| b.iter(|| libre.is_valid(black_box(code))));
        group.finish();
    }
}

criterion_group!(benches, peers, hotp_peers);
criterion_main!(benches);
