//! Secrets at rest: round trips of both encodings, every kind of tampering
//! and wrong binding refused with a typed error, rotation across two keys,
//! and a known-answer vector computed independently (libsodium's
//! XChaCha20-Poly1305 through PyNaCl, with the associated data as
//! `src/seal/keyring.rs` documents it).
#![allow(clippy::unwrap_used)]

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use twofa::{
    Binding, DigestKey, Error, Keyring, MAX_SEALED_LEN, Sealed, SealingKey, Secret, SecretKind,
};

/// Fills with 1, 2, 3 …: the known-answer vector's nonce.
struct Counting(u8);

impl TryRng for Counting {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from(self.try_next_u64()? as u8))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(1);
        Ok(u64::from(self.0))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            self.0 = self.0.wrapping_add(1);
            *byte = self.0;
        }
        Ok(())
    }
}

impl TryCryptoRng for Counting {}

fn secret() -> Secret {
    Secret::from_bytes(b"12345678901234567890").unwrap()
}

fn alice() -> Binding<'static> {
    Binding::new("alice", "totp")
}

fn keyring() -> Keyring {
    Keyring::new(SealingKey::new(7, [0x42; 32]))
}

const KNOWN: &str = "sealed:AEAQAAAAA4AQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYCTNJCM5OC3DHTV43T4S2SOMARPCOXCFJOLUVNGQAK4CLJSCQGYNDWUXOMJNA";

#[test]
fn the_known_answer_vector() {
    let sealed = keyring()
        .seal_secret(&mut Counting(0), SecretKind::Totp, &secret(), alice())
        .unwrap();
    assert_eq!(sealed.to_string(), KNOWN);
    let opened = keyring()
        .open_secret(&KNOWN.parse().unwrap(), SecretKind::Totp, alice())
        .unwrap();
    assert_eq!(opened.value, secret());
    assert!(!opened.reseal);
}

#[test]
fn both_encodings_round_trip_for_every_length() {
    let keyring = keyring();
    for len in [10, 16, 20, 32, 64, 128] {
        let secret = Secret::from_bytes_accepting_80_bit(&vec![0xA5; len]).unwrap();
        let sealed = keyring
            .seal_secret(&mut getrandom::SysRng, SecretKind::Hotp, &secret, alice())
            .unwrap();
        let bytes = sealed.to_bytes();
        assert_eq!(bytes.as_ref().len(), 47 + len);
        assert!(bytes.as_ref().len() <= MAX_SEALED_LEN);
        assert_eq!(Sealed::from_bytes(bytes.as_ref()).unwrap(), sealed);
        let text = sealed.to_string();
        assert!(text.starts_with("sealed:"));
        assert_eq!(text.parse::<Sealed>().unwrap(), sealed);
        // Lower case, as a careless copy might leave it, still reads.
        assert_eq!(
            format!("sealed:{}", text["sealed:".len()..].to_lowercase())
                .parse::<Sealed>()
                .unwrap(),
            sealed
        );
        let opened = keyring
            .open_secret(&sealed, SecretKind::Hotp, alice())
            .unwrap();
        assert_eq!(opened.value, secret);
    }
    // Two seals of one secret differ: a fresh nonce each time.
    let a = keyring.seal_secret(&mut getrandom::SysRng, SecretKind::Totp, &secret(), alice());
    let b = keyring.seal_secret(&mut getrandom::SysRng, SecretKind::Totp, &secret(), alice());
    assert_ne!(a.unwrap(), b.unwrap());
}

#[test]
fn every_flipped_bit_is_refused_with_a_typed_error() {
    let keyring = keyring().with_key(SealingKey::new(8, [0x43; 32])).unwrap();
    let sealed = keyring
        .seal_secret(&mut getrandom::SysRng, SecretKind::Totp, &secret(), alice())
        .unwrap();
    let bytes = sealed.to_bytes();
    let bytes = bytes.as_ref();
    for index in 0..bytes.len() {
        for bit in 0..8 {
            let mut altered = bytes.to_vec();
            altered[index] ^= 1 << bit;
            let outcome = Sealed::from_bytes(&altered)
                .and_then(|sealed| keyring.open_secret(&sealed, SecretKind::Totp, alice()));
            let expected: &[Error] = match index {
                0 => &[Error::UnsupportedSealVersion],
                // The kind: unknown, or another kind.
                1 => &[Error::MalformedSealed, Error::SealedKindMismatch],
                // The key id: unknown, or the other key (which fails).
                2..=5 => &[Error::UnknownKeyId, Error::SealedTampered],
                // The length: no longer matches.
                30 => &[Error::MalformedSealed],
                // Nonce, ciphertext, tag.
                _ => &[Error::SealedTampered],
            };
            let error = outcome.unwrap_err();
            assert!(
                expected.contains(&error),
                "byte {index} bit {bit}: {error:?}"
            );
        }
    }
    // Truncated or extended.
    for len in 0..bytes.len() {
        assert!(Sealed::from_bytes(&bytes[..len]).is_err(), "{len}");
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(Sealed::from_bytes(&longer), Err(Error::MalformedSealed));
    for text in [
        "",
        "sealed:",
        "sealed:!!!!",
        "SEALED:AEAQ",
        "other:AEAQ",
        "sealed:AEAQ",
    ] {
        assert!(text.parse::<Sealed>().is_err(), "{text}");
    }
}

#[test]
fn a_sealed_secret_opens_only_where_it_was_sealed() {
    let keyring = keyring();
    let sealed = keyring
        .seal_secret(&mut getrandom::SysRng, SecretKind::Totp, &secret(), alice())
        .unwrap();
    for binding in [
        Binding::new("bob", "totp"),
        Binding::new("alice", "hotp"),
        Binding::new("alicet", "otp"),
        Binding::new("", "alicetotp"),
    ] {
        assert_eq!(
            keyring
                .open_secret(&sealed, SecretKind::Totp, binding)
                .unwrap_err(),
            Error::SealedTampered,
            "{binding:?}"
        );
    }
    // Another kind, even of the same shape.
    assert_eq!(
        keyring
            .open_secret(&sealed, SecretKind::Hotp, alice())
            .unwrap_err(),
        Error::SealedKindMismatch
    );
    assert_eq!(
        keyring.open_digest_key(&sealed, alice()).unwrap_err(),
        Error::SealedKindMismatch
    );
    assert_eq!(
        keyring
            .seal_secret(
                &mut getrandom::SysRng,
                SecretKind::DigestKey,
                &secret(),
                alice()
            )
            .unwrap_err(),
        Error::SealedKindMismatch
    );
    // Another keyring with a key of the same id.
    let other = Keyring::new(SealingKey::new(7, [0x24; 32]));
    assert_eq!(
        other
            .open_secret(&sealed, SecretKind::Totp, alice())
            .unwrap_err(),
        Error::SealedTampered
    );
}

#[test]
fn rotation_across_two_keys_without_downtime() {
    let old = SealingKey::new(1, [1; 32]);
    let new = SealingKey::new(2, [2; 32]);
    let mut rng = getrandom::SysRng;
    // Before: everything sealed under key 1.
    let keyring = Keyring::new(old.clone());
    let stored: Vec<(String, Sealed)> = ["alice", "bob", "carol"]
        .iter()
        .map(|account| {
            let sealed = keyring
                .seal_secret(
                    &mut rng,
                    SecretKind::Totp,
                    &secret(),
                    Binding::new(account, "totp"),
                )
                .unwrap();
            (account.to_string(), sealed)
        })
        .collect();
    // 1. Add the new key; 2. make it current.
    let mut keyring = keyring.with_key(new).unwrap();
    keyring.make_current(2).unwrap();
    assert_eq!(keyring.current_id(), 2);
    // 3. Old records still open, and ask to be sealed again.
    let mut resealed = Vec::new();
    for (account, sealed) in &stored {
        let binding = Binding::new(account, "totp");
        let opened = keyring
            .open_secret(sealed, SecretKind::Totp, binding)
            .unwrap();
        assert!(opened.reseal);
        let fresh = keyring
            .reseal(&mut rng, sealed, SecretKind::Totp, binding)
            .unwrap();
        assert_eq!(fresh.key_id(), 2);
        assert!(
            !keyring
                .open_secret(&fresh, SecretKind::Totp, binding)
                .unwrap()
                .reseal
        );
        resealed.push(fresh);
    }
    // 4. Retire the old key: new records open, old ones are refused by id.
    assert_eq!(keyring.retire(2), Err(Error::CurrentKeyRetired));
    keyring.retire(1).unwrap();
    assert_eq!(keyring.retire(1), Err(Error::UnknownKeyId));
    for ((account, old_form), fresh) in stored.iter().zip(&resealed) {
        let binding = Binding::new(account, "totp");
        assert_eq!(
            keyring
                .open_secret(fresh, SecretKind::Totp, binding)
                .unwrap()
                .value,
            secret()
        );
        assert_eq!(
            keyring
                .open_secret(old_form, SecretKind::Totp, binding)
                .unwrap_err(),
            Error::UnknownKeyId
        );
    }
    // The keyring's own rules.
    assert_eq!(keyring.make_current(9), Err(Error::UnknownKeyId));
    let keyring = keyring.with_key(old).unwrap();
    assert_eq!(
        keyring
            .clone()
            .with_key(SealingKey::new(1, [9; 32]))
            .unwrap_err(),
        Error::DuplicateKeyId
    );
    let mut full = keyring;
    for id in 10..16 {
        full = full.with_key(SealingKey::new(id, [id as u8; 32])).unwrap();
    }
    assert_eq!(
        full.with_key(SealingKey::new(99, [0; 32])).unwrap_err(),
        Error::KeyringFull
    );
}

#[test]
fn server_keys_seal_with_their_ids() {
    let keyring = keyring();
    let service = Binding::new("sms-service", "oob-key");
    let key = DigestKey::new(3, [9; 32]);
    let sealed = keyring
        .seal_digest_key(&mut getrandom::SysRng, &key, service)
        .unwrap();
    let opened = keyring.open_digest_key(&sealed, service).unwrap().value;
    assert_eq!((opened.id(), opened.expose_bytes()), (3, &[9; 32]));
    #[cfg(feature = "alloc")]
    {
        let pepper = twofa::RecoveryPepper::new(5, [8; 32]);
        let sealed = keyring
            .seal_recovery_pepper(&mut getrandom::SysRng, &pepper, service)
            .unwrap();
        let opened = keyring
            .open_recovery_pepper(&sealed, service)
            .unwrap()
            .value;
        assert_eq!((opened.id(), opened.expose_bytes()), (5, &[8; 32]));
        assert_eq!(
            keyring.open_digest_key(&sealed, service).unwrap_err(),
            Error::SealedKindMismatch
        );
    }
}

#[test]
fn nothing_secret_in_debug_or_errors() {
    let keyring = keyring().with_key(SealingKey::new(8, [0x43; 32])).unwrap();
    assert_eq!(
        format!("{keyring:?}"),
        "Keyring { current: 7, keys: [7, 8] }"
    );
    assert_eq!(
        format!("{:?}", SealingKey::new(1, [0x42; 32])),
        "SealingKey { id: 1, .. }"
    );
    let sealed = keyring
        .seal_secret(&mut getrandom::SysRng, SecretKind::Totp, &secret(), alice())
        .unwrap();
    assert_eq!(
        format!("{sealed:?}"),
        "Sealed { kind: Totp, key_id: 7, .. }"
    );
    let opened = keyring
        .open_secret(&sealed, SecretKind::Totp, alice())
        .unwrap();
    assert!(!format!("{opened:?}").contains("12345"));
}

#[test]
fn a_batch_reseal_takes_the_column_s_kind_not_the_record_s() {
    let keyring = keyring();
    let hotp_form = keyring
        .seal_secret(&mut getrandom::SysRng, SecretKind::Hotp, &secret(), alice())
        .unwrap();
    // An HOTP form found in a TOTP column is refused, not re-sealed.
    assert_eq!(
        keyring
            .reseal(
                &mut getrandom::SysRng,
                &hotp_form,
                SecretKind::Totp,
                alice()
            )
            .unwrap_err(),
        Error::SealedKindMismatch
    );
}

#[cfg(feature = "alloc")]
#[test]
fn keys_read_back_their_text_form_and_refuse_anything_else() {
    let key = SealingKey::generate(42, &mut getrandom::SysRng).unwrap();
    let text = key.to_text();
    assert!(text.starts_with("42:") && text.len() == 3 + 64);
    let read: SealingKey = text.parse().unwrap();
    assert_eq!((read.id(), read.expose_bytes()), (42, key.expose_bytes()));
    // Either case, and surrounding whitespace, as a secrets file may hold it.
    let upper: SealingKey = format!(" {}\n", text.to_uppercase()).parse().unwrap();
    assert_eq!(upper.expose_bytes(), key.expose_bytes());
    let digest: twofa::DigestKey = format!("{}:{}", u32::MAX, "ab".repeat(32)).parse().unwrap();
    assert_eq!(
        (digest.id(), digest.expose_bytes()),
        (u32::MAX, &[0xab; 32])
    );
    let hex = "0f".repeat(32);
    for bad in [
        String::new(),
        hex.clone(),
        format!(":{hex}"),
        format!("-1:{hex}"),
        format!("+1:{hex}"),
        format!("4294967296:{hex}"),
        format!("1:{}", &hex[..62]),
        format!("1:{hex}00"),
        format!("1:{}zz", &hex[..62]),
        format!("1:{}é", &hex[..62]),
        format!("1 :{hex}"),
    ] {
        let refused = bad.parse::<SealingKey>().unwrap_err();
        assert_eq!(refused, Error::MalformedKey, "{bad:?}");
        // The error says nothing of the text.
        assert!(!refused.to_string().contains("0f0f"));
    }
}
