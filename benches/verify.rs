//! The hot path: verifying a code, against the cost floor of HMAC keyed
//! once: the hash compressions no implementation can avoid.
//!
//! Each group holds a `floor` case that runs only the hash compressions a
//! ±1-step verification cannot avoid: 2 to key the HMAC (inner and outer
//! pad) and 2 per candidate (inner and outer hash), 8 for three
//! candidates. Read a result as its ratio to the floor in the same run.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use twofa::{Algorithm, Guard, Hotp, Secret, Totp, TotpAccount};

/// A fixed demo secret of the algorithm's output length.
fn secret(algorithm: Algorithm) -> Secret {
    let bytes: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37)).collect();
    Secret::from_bytes(&bytes[..algorithm.output_len()]).expect("a valid length")
}

const NOW: u64 = 1_700_000_000;

/// A code that matches no step of the ±1 window at `NOW`.
fn miss(totp: &Totp) -> String {
    (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| totp.verify_at(c, NOW).is_err())
        .expect("some code misses")
}

/// `n` compressions of the algorithm's hash and nothing else.
fn floor(algorithm: Algorithm, n: usize) -> impl Fn() {
    move || match algorithm {
        Algorithm::Sha1 => {
            let block = [0x36u8; 64];
            for _ in 0..n {
                let mut state = black_box([0x6745_2301u32; 5]);
                sha1::block_api::compress(&mut state, &[black_box(block)]);
                black_box(state);
            }
        }
        Algorithm::Sha256 => {
            let block = [0x36u8; 64];
            for _ in 0..n {
                let mut state = black_box([0x6a09_e667u32; 8]);
                sha2::block_api::compress256(&mut state, &[black_box(block)]);
                black_box(state);
            }
        }
        Algorithm::Sha512 => {
            let block = [0x36u8; 128];
            for _ in 0..n {
                let mut state = black_box([0x6a09_e667_f3bc_c908u64; 8]);
                sha2::block_api::compress512(&mut state, &[black_box(block)]);
                black_box(state);
            }
        }
    }
}

fn totp_verify(c: &mut Criterion) {
    for algorithm in Algorithm::ALL {
        let totp = Totp::builder(secret(algorithm))
            .algorithm(algorithm)
            .build()
            .expect("valid parameters");
        let hit = totp.generate_at(NOW).expect("after T0").to_string();
        let miss = miss(&totp);
        let mut group = c.benchmark_group(format!("totp_verify_window1_{algorithm}"));
        // 2 to key the HMAC, 2 per candidate of the ±1 window.
        let floor = floor(algorithm, 8);
        group.bench_function("floor", |b| b.iter(&floor));
        group.bench_function("hit", |b| {
            b.iter(|| totp.verify_at(black_box(&hit), black_box(NOW)))
        });
        group.bench_function("miss", |b| {
            b.iter(|| totp.verify_at(black_box(&miss), black_box(NOW)))
        });
        group.finish();
    }
}

fn hotp_verify(c: &mut Criterion) {
    let hotp = Hotp::builder(secret(Algorithm::Sha1))
        .look_ahead(10)
        .build()
        .expect("valid parameters");
    let hit = hotp.generate(1_005).to_string();
    let miss = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| hotp.verify(c, 1_000).is_err())
        .expect("some code misses");
    let mut group = c.benchmark_group("hotp_verify_look_ahead10_SHA1");
    group.bench_function("hit", |b| {
        b.iter(|| hotp.verify(black_box(&hit), black_box(1_000)))
    });
    group.bench_function("miss", |b| {
        b.iter(|| hotp.verify(black_box(&miss), black_box(1_000)))
    });
    group.finish();
}

fn generate(c: &mut Criterion) {
    let totp = Totp::new(secret(Algorithm::Sha1));
    let mut group = c.benchmark_group("generate_SHA1");
    // One candidate's worth of the floor: 2 compressions to key, 2 to hash.
    group.bench_function("floor", |b| b.iter(floor(Algorithm::Sha1, 4)));
    group.bench_function("totp", |b| b.iter(|| totp.generate_at(black_box(NOW))));
    group.finish();
}

/// A whole login check (throttle, drift, replay, state update) beside the
/// bare verification it wraps: the ratio is the guard's overhead.
fn guard_verify(c: &mut Criterion) {
    let totp = Totp::new(secret(Algorithm::Sha1));
    let guard = Guard::default();
    let miss = miss(&totp);
    let hit = totp.generate_at(NOW).expect("after T0").to_string();
    let mut group = c.benchmark_group("guard_verify_window1_SHA1");
    group.bench_function("verify_at_miss", |b| {
        b.iter(|| totp.verify_at(black_box(&miss), black_box(NOW)))
    });
    group.bench_function("guard_miss", |b| {
        b.iter(|| {
            // A fresh state each time, so the throttle never refuses.
            let mut account = TotpAccount::default();
            guard.verify_totp(&totp, &mut account, black_box(&miss), black_box(NOW))
        })
    });
    group.bench_function("guard_hit", |b| {
        b.iter(|| {
            let mut account = TotpAccount::default();
            guard.verify_totp(&totp, &mut account, black_box(&hit), black_box(NOW))
        })
    });
    group.finish();
}

criterion_group!(benches, totp_verify, hotp_verify, generate, guard_verify);
criterion_main!(benches);
