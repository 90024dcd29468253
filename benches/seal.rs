//! Secrets at rest: what sealing and opening a TOTP secret cost beside
//! the verification they sit next to. A login that stores secrets sealed
//! opens one per verification; read each as its ratio to `totp_verify`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use twofa::{Binding, Keyring, SealingKey, Secret, SecretKind, Totp};

fn seal(c: &mut Criterion) {
    let secret = Secret::from_bytes(b"12345678901234567890").expect("a valid length");
    let totp = Totp::new(secret.clone());
    let now = 1_700_000_000;
    let code = totp.generate_at(now).expect("after T0").to_string();
    let keyring = Keyring::new(SealingKey::new(1, [7; 32]));
    let binding = Binding::new("alice", "totp");
    let sealed = keyring
        .seal_secret(&mut getrandom::SysRng, SecretKind::Totp, &secret, binding)
        .expect("the system generator works");
    let text = sealed.to_string();

    let mut group = c.benchmark_group("seal_SHA1_secret");
    group.bench_function("totp_verify", |b| {
        b.iter(|| totp.verify_at(black_box(&code), black_box(now)))
    });
    group.bench_function("open", |b| {
        b.iter(|| keyring.open_secret(black_box(&sealed), SecretKind::Totp, binding))
    });
    group.bench_function("parse_text_and_open", |b| {
        b.iter(|| {
            let sealed: twofa::Sealed = black_box(&text).parse().expect("sealed text");
            keyring.open_secret(&sealed, SecretKind::Totp, binding)
        })
    });
    group.bench_function("open_and_verify", |b| {
        b.iter(|| {
            let opened = keyring
                .open_secret(black_box(&sealed), SecretKind::Totp, binding)
                .expect("opens");
            Totp::new(opened.value).verify_at(black_box(&code), black_box(now))
        })
    });
    group.bench_function("seal", |b| {
        b.iter(|| {
            keyring.seal_secret(
                &mut getrandom::SysRng,
                SecretKind::Totp,
                black_box(&secret),
                binding,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, seal);
criterion_main!(benches);
