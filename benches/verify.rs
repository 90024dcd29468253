//! The hot path: verifying a code, beside the cost floor of HMAC: the hash
//! compressions no implementation can avoid.
//!
//! A `floor_N` case runs N independent compressions of the algorithm's
//! hash and nothing else (one state each, in one array). Keying an HMAC
//! costs 2 (inner and outer pad), and each candidate 2 (inner and outer
//! hash). So a ±1-step verification built for the request (`per_request`:
//! build the `Totp`, verify, drop it) has a floor of 8, and one with a
//! `Totp` built once and kept (`kept`) a floor of 6, which is read against
//! the same floor of 8. `chained_8` runs the 8 compressions each after the
//! one before: the cost of no overlap at all. `bare_hmac_8` and
//! `bare_hmac_6` run the compressions of a ±1 verification in HMAC's
//! order (keying, then the inner hashes, then the outer ones) and nothing
//! else: the least a verifier on these compression functions can take,
//! whatever it does around them. Read every result as its ratio to a
//! floor in the same group and the same run: `python3 benches/ratios.py`
//! prints them from criterion's estimates.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use twofa::{Algorithm, Event, EventSink, Guard, Hotp, Secret, Totp, TotpAccount};

/// A fixed demo secret of the algorithm's output length.
fn secret(algorithm: Algorithm) -> Secret {
    let bytes: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37)).collect();
    Secret::from_bytes(&bytes[..algorithm.output_len()]).expect("a valid length")
}

const NOW: u64 = 1_700_000_000;

/// A code `accepts` refuses.
fn miss(accepts: impl Fn(&str) -> bool) -> String {
    (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|code| !accepts(code))
        .expect("some code misses")
}

/// The compression functions under test, as the crate calls them, over
/// 32-bit words (SHA-1's 5, SHA-256's 8).
trait Compress: Copy + AsRef<[u32]> {
    /// A starting state: any will do, a compression's cost does not depend
    /// on it.
    const START: Self;
    fn compress(&mut self, block: &[u8; 64]);
    /// The state written big-endian into the front of `block`, as HMAC's
    /// outer message.
    fn write(&self, block: &mut [u8; 64]) {
        for (chunk, word) in block.chunks_exact_mut(4).zip(self.as_ref()) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
    }
}

/// A block to compress: its contents do not change the cost either.
const BLOCK: [u8; 64] = [0x36; 64];

impl Compress for [u32; 5] {
    const START: Self = [0x6745_2301; 5];
    fn compress(&mut self, block: &[u8; 64]) {
        sha1::block_api::compress(self, std::slice::from_ref(block));
    }
}

impl Compress for [u32; 8] {
    const START: Self = [0x6a09_e667; 8];
    fn compress(&mut self, block: &[u8; 64]) {
        sha2::block_api::compress256(self, std::slice::from_ref(block));
    }
}

/// `n` independent compressions and nothing else: one state per
/// compression, all in one array, so none waits for another.
fn floor_of<S: Compress>(n: u64) -> impl FnMut() {
    let mut states = vec![S::START; n as usize];
    move || {
        let block = black_box(BLOCK);
        for state in black_box(&mut states).iter_mut() {
            state.compress(&block);
        }
        black_box(&states);
    }
}

/// `n` independent compressions of the algorithm's hash and nothing else.
fn floor(algorithm: Algorithm, n: u64) -> Box<dyn FnMut()> {
    match algorithm {
        Algorithm::Sha1 => Box::new(floor_of::<[u32; 5]>(n)),
        Algorithm::Sha256 => Box::new(floor_of::<[u32; 8]>(n)),
        Algorithm::Sha512 => {
            let mut states = vec![[0x6a09_e667_f3bc_c908u64; 8]; n as usize];
            Box::new(move || {
                let block = black_box([0x36u8; 128]);
                for state in black_box(&mut states).iter_mut() {
                    sha2::block_api::compress512(state, std::slice::from_ref(&block));
                }
                black_box(&states);
            })
        }
    }
}

/// `n` compressions of the algorithm's hash, each waiting for the one
/// before: what keying and hashing would cost with no overlap at all.
fn chained(algorithm: Algorithm, n: u64) -> impl Fn() {
    move || match algorithm {
        Algorithm::Sha1 => {
            let mut state = black_box([0x6745_2301u32; 5]);
            for _ in 0..n {
                sha1::block_api::compress(&mut state, &[black_box([0x36u8; 64])]);
            }
            black_box(state);
        }
        Algorithm::Sha256 => {
            let mut state = black_box([0x6a09_e667u32; 8]);
            for _ in 0..n {
                sha2::block_api::compress256(&mut state, &[black_box([0x36u8; 64])]);
            }
            black_box(state);
        }
        Algorithm::Sha512 => {
            let mut state = black_box([0x6a09_e667_f3bc_c908u64; 8]);
            for _ in 0..n {
                sha2::block_api::compress512(&mut state, &[black_box([0x36u8; 128])]);
            }
            black_box(state);
        }
    }
}

/// The compressions of a ±1 HMAC verification in HMAC's order and nothing
/// else: keying (two pads, when `keying`), then the three inner hashes
/// from the inner pad's state, then the three outer ones over their
/// digests. No parsing, truncation, comparison or wiping: the least any
/// verifier built on these compression functions can take.
fn bare_hmac_of<S: Compress>(keying: bool) -> impl FnMut() {
    move || {
        let mut pads = [S::START; 2];
        if keying {
            let blocks = black_box([BLOCK; 2]);
            for (state, block) in pads.iter_mut().zip(&blocks) {
                state.compress(block);
            }
        } else {
            pads = black_box(pads);
        }
        let mut blocks = black_box([BLOCK; 3]);
        let mut states = [pads[0]; 3];
        for (state, block) in states.iter_mut().zip(&blocks) {
            state.compress(block);
        }
        for (state, block) in states.iter().zip(&mut blocks) {
            state.write(block);
        }
        let mut outputs = [pads[1]; 3];
        for (state, block) in outputs.iter_mut().zip(&blocks) {
            state.compress(block);
        }
        black_box(outputs);
    }
}

/// [`bare_hmac_of`] for SHA-1 and SHA-256.
fn bare_hmac(algorithm: Algorithm, keying: bool) -> Option<Box<dyn FnMut()>> {
    match algorithm {
        Algorithm::Sha1 => Some(Box::new(bare_hmac_of::<[u32; 5]>(keying))),
        Algorithm::Sha256 => Some(Box::new(bare_hmac_of::<[u32; 8]>(keying))),
        Algorithm::Sha512 => None,
    }
}

/// Times `routine` on a fresh input from `make` per iteration, as a
/// service does per request: the inputs are made beforehand, a chunk at a
/// time, and only `routine` and the dropping of what it returns are
/// timed. (criterion's `iter_batched` also times writing every output into
/// a fresh vector, whose page faults cost more than a verification.)
fn per_request<I, O>(
    b: &mut criterion::Bencher<'_>,
    make: impl Fn() -> I,
    mut routine: impl FnMut(I) -> O,
) {
    const CHUNK: u64 = 256;
    b.iter_custom(|iters| {
        let mut elapsed = Duration::ZERO;
        let mut inputs = Vec::with_capacity(CHUNK as usize);
        let mut left = iters;
        while left > 0 {
            let n = left.min(CHUNK);
            inputs.extend((0..n).map(|_| make()));
            let start = Instant::now();
            for input in inputs.drain(..) {
                drop(black_box(routine(input)));
            }
            elapsed += start.elapsed();
            left -= n;
        }
        elapsed
    });
}

fn bench_floor(group: &mut BenchmarkGroup<'_, WallTime>, algorithm: Algorithm, n: u64) {
    let mut floor = floor(algorithm, n);
    group.bench_function(format!("floor_{n}"), |b| b.iter(&mut floor));
}

fn totp_of(algorithm: Algorithm, secret: Secret) -> Totp {
    Totp::builder(secret)
        .algorithm(algorithm)
        .build()
        .expect("valid parameters")
}

/// ±1-step TOTP: built per request and kept, hit and miss, beside the
/// floor of 8 compressions.
fn totp_verify(c: &mut Criterion) {
    for algorithm in Algorithm::ALL {
        let totp = totp_of(algorithm, secret(algorithm));
        let hit = totp.generate_at(NOW).expect("after T0").to_string();
        let miss = miss(|code| totp.verify_at(code, NOW).is_ok());
        let mut group = c.benchmark_group(format!("totp_verify_window1_{algorithm}"));
        bench_floor(&mut group, algorithm, 8);
        group.bench_function("chained_8", |b| b.iter(chained(algorithm, 8)));
        for (name, keying) in [("bare_hmac_8", true), ("bare_hmac_6", false)] {
            if let Some(mut bare) = bare_hmac(algorithm, keying) {
                group.bench_function(name, |b| b.iter(&mut bare));
            }
        }
        for (case, code) in [("hit", &hit), ("miss", &miss)] {
            group.bench_function(format!("kept_{case}"), |b| {
                b.iter(|| totp.verify_at(black_box(code), black_box(NOW)))
            });
            // The secret is made before the timed part; building, verifying
            // and dropping (wiping) the `Totp` are timed.
            group.bench_function(format!("per_request_{case}"), |b| {
                per_request(
                    b,
                    || secret(algorithm),
                    |secret| totp_of(algorithm, secret).verify_at(black_box(code), black_box(NOW)),
                )
            });
        }
        group.finish();
    }
}

fn hotp_of(secret: Secret, look_ahead: u64, resync_window: u64) -> Hotp {
    Hotp::builder(secret)
        .look_ahead(look_ahead)
        .resync_window(resync_window)
        .build()
        .expect("valid parameters")
}

/// HOTP with a look-ahead of 10 (11 candidates): per request against
/// 2 + 2·11 compressions, kept against 2·11.
fn hotp_verify(c: &mut Criterion) {
    let algorithm = Algorithm::Sha1;
    let hotp = hotp_of(secret(algorithm), 10, Hotp::DEFAULT_RESYNC_WINDOW);
    let hit = hotp.generate(1_005).to_string();
    let miss = miss(|code| hotp.verify(code, 1_000).is_ok());
    let mut group = c.benchmark_group("hotp_verify_look_ahead10_SHA1");
    bench_floor(&mut group, algorithm, 24);
    bench_floor(&mut group, algorithm, 22);
    for (case, code) in [("hit", &hit), ("miss", &miss)] {
        group.bench_function(format!("kept_{case}"), |b| {
            b.iter(|| hotp.verify(black_box(code), black_box(1_000)))
        });
        group.bench_function(format!("per_request_{case}"), |b| {
            per_request(
                b,
                || secret(algorithm),
                |secret| {
                    hotp_of(secret, 10, Hotp::DEFAULT_RESYNC_WINDOW)
                        .verify(black_box(code), black_box(1_000))
                },
            )
        });
    }
    group.finish();
}

/// How cost grows with the number of candidates, each point beside its
/// floor, all on kept verifiers and SHA-1 misses:
/// - TOTP windows ±0 … ±10 (2w + 1 candidates);
/// - HOTP look-aheads 0 … 100 (n + 1 candidates);
/// - HOTP resynchronisation with two codes, windows 0 … 1000 (w + 2
///   candidates), and at 98 beside a one-code look-ahead of 99 over the
///   same 100 counters: the second code's comparison is what it adds.
fn growth(c: &mut Criterion) {
    let algorithm = Algorithm::Sha1;
    let mut group = c.benchmark_group("growth_SHA1");
    group
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(30);
    let mut floors = std::collections::BTreeSet::new();
    let mut floor_once = |group: &mut BenchmarkGroup<'_, WallTime>, n: u64| {
        if floors.insert(n) {
            bench_floor(group, algorithm, n);
        }
    };

    for w in [0, 1, 2, 3, 5, 10] {
        let totp = Totp::builder(secret(algorithm))
            .window(w, w)
            .build()
            .expect("valid parameters");
        let miss = miss(|code| totp.verify_at(code, NOW).is_ok());
        floor_once(&mut group, 2 * (2 * w + 1));
        group.bench_function(format!("totp_window_{w}"), |b| {
            b.iter(|| totp.verify_at(black_box(&miss), black_box(NOW)))
        });
    }
    for n in [0, 1, 5, 10, 25, 50, 99, 100] {
        let hotp = hotp_of(secret(algorithm), n, Hotp::DEFAULT_RESYNC_WINDOW);
        let miss = miss(|code| hotp.verify(code, 1_000).is_ok());
        floor_once(&mut group, 2 * (n + 1));
        group.bench_function(format!("hotp_look_ahead_{n}"), |b| {
            b.iter(|| hotp.verify(black_box(&miss), black_box(1_000)))
        });
    }
    for w in [0, 10, 98, 250, 1000] {
        let hotp = hotp_of(secret(algorithm), Hotp::DEFAULT_LOOK_AHEAD, w);
        // Two codes that are no consecutive run: the first is right.
        let first = hotp.generate(1_000).to_string();
        let second = miss(|code| hotp.resync(&[&first, code], 1_000).is_ok());
        floor_once(&mut group, 2 * (w + 2));
        group.bench_function(format!("hotp_resync_{w}"), |b| {
            b.iter(|| hotp.resync(black_box(&[&first, &second]), black_box(1_000)))
        });
    }
    group.finish();
}

fn generate(c: &mut Criterion) {
    let algorithm = Algorithm::Sha1;
    let totp = Totp::new(secret(algorithm));
    let mut group = c.benchmark_group("generate_SHA1");
    // Keying and one candidate: 4 compressions; one candidate alone: 2.
    bench_floor(&mut group, algorithm, 4);
    bench_floor(&mut group, algorithm, 2);
    group.bench_function("kept", |b| b.iter(|| totp.generate_at(black_box(NOW))));
    group.bench_function("per_request", |b| {
        per_request(
            b,
            || secret(algorithm),
            |secret| Totp::new(secret).generate_at(black_box(NOW)),
        )
    });
    group.finish();
}

/// A whole login check (throttle, drift, replay, state update) beside the
/// bare verification it wraps: the ratio is the guard's overhead.
fn guard_verify(c: &mut Criterion) {
    let totp = Totp::new(secret(Algorithm::Sha1));
    let guard = Guard::default();
    let miss = miss(|code| totp.verify_at(code, NOW).is_ok());
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

/// A sink that does nothing with each event but keep the compiler from
/// leaving it unmade.
struct Discard;

impl EventSink for Discard {
    #[inline(never)]
    fn event(&mut self, event: Event) {
        black_box(event);
    }
}

/// The TOTP check with its events: told to nobody (`verify_totp`), to
/// `()`, and made for a sink that drops them, each read against the plain
/// check in the same run (`guard_*`).
fn guard_events(c: &mut Criterion) {
    let totp = Totp::new(secret(Algorithm::Sha1));
    let guard = Guard::default();
    let miss = miss(|code| totp.verify_at(code, NOW).is_ok());
    let hit = totp.generate_at(NOW).expect("after T0").to_string();
    let mut group = c.benchmark_group("guard_events_window1_SHA1");
    for (case, code) in [("miss", &miss), ("hit", &hit)] {
        group.bench_function(format!("guard_{case}"), |b| {
            b.iter(|| {
                let mut account = TotpAccount::default();
                guard.verify_totp(&totp, &mut account, black_box(code), black_box(NOW))
            })
        });
        group.bench_function(format!("unit_sink_{case}"), |b| {
            b.iter(|| {
                let mut account = TotpAccount::default();
                let code = black_box(code.as_str());
                guard.verify_totp_with(&totp, &mut account, code, black_box(NOW), &mut ())
            })
        });
        group.bench_function(format!("discard_sink_{case}"), |b| {
            b.iter(|| {
                let mut account = TotpAccount::default();
                let code = black_box(code.as_str());
                guard.verify_totp_with(&totp, &mut account, code, black_box(NOW), &mut Discard)
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    guard_events,
    totp_verify,
    hotp_verify,
    growth,
    generate,
    guard_verify
);
criterion_main!(benches);
