//! Nothing on the verification path allocates: building a verifier,
//! generating, verifying (hit, miss, malformed), resynchronising, and the
//! whole login check of `Guard`, for every algorithm. Counted by a global
//! allocator that counts (`allocation-counter`), in a test binary of its own.

use twofa::{Algorithm, Guard, Hotp, HotpAccount, Secret, Totp, TotpAccount};

const NOW: u64 = 1_700_000_000;

fn secret() -> Secret {
    Secret::from_bytes(&[0x42; 64]).expect("64 bytes")
}

#[test]
fn the_counter_sees_an_allocation() {
    // The check below could not fail if the counter saw nothing.
    let seen = allocation_counter::measure(|| {
        std::hint::black_box(Box::new(7u64));
    });
    assert_eq!(seen.count_total, 1);
}

#[test]
fn verification_allocates_nothing() {
    let guard = Guard::default();
    for algorithm in Algorithm::ALL {
        let totp = Totp::builder(secret())
            .algorithm(algorithm)
            .build()
            .expect("valid parameters");
        let hotp = Hotp::builder(secret())
            .algorithm(algorithm)
            .look_ahead(10)
            .build()
            .expect("valid parameters");
        let hit = totp.generate_at(NOW).expect("after T0").to_string();
        let next = totp.generate_at(NOW + 30).expect("after T0").to_string();
        let hotp_hit = hotp.generate(1_003).to_string();
        let hotp_next = hotp.generate(1_004).to_string();
        let counted = allocation_counter::measure(|| {
            let built = Totp::builder(secret())
                .algorithm(algorithm)
                .build()
                .expect("valid parameters");
            assert!(built.generate_at(NOW).is_ok());
            assert!(totp.verify_at(&hit, NOW).is_ok());
            assert!(totp.verify_at("000000", NOW).is_err() || hit == "000000" || next == "000000");
            assert!(totp.verify_at("12a456", NOW).is_err());
            assert!(totp.verify_with_drift_at(&hit, NOW + 300, -10).is_ok());
            assert!(bool::from(
                totp.verify_ct_at(&hit, NOW, 0)
                    .expect("well formed")
                    .is_some()
            ));
            assert!(totp.resync_at(&[&hit, &next], NOW + 30).is_ok());
            assert!(hotp.verify(&hotp_hit, 1_000).is_ok());
            assert!(hotp.resync(&[&hotp_hit, &hotp_next], 950).is_ok());
            let mut account = TotpAccount::default();
            assert!(
                guard
                    .verify_totp(&totp, &mut account, &hit, NOW)
                    .expect("after T0")
                    .is_accepted()
            );
            let mut account = HotpAccount {
                counter: 1_000,
                ..HotpAccount::default()
            };
            let outcome = guard.verify_hotp(&hotp, &mut account, &hotp_hit, NOW);
            assert!(outcome.expect("well formed").is_accepted());
        });
        assert_eq!(counted.count_total, 0, "{algorithm}: {counted:?}");
    }
}
