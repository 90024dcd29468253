//! Sealed secrets: any bytes and any text read as a sealed form or fail
//! with an error, never a panic; what reads back writes back the same; and
//! nothing opens under the keyring unless the keyring sealed it (the seed
//! corpus holds genuine sealed forms, which mutations must not turn into
//! other forms that open).
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::{Binding, Keyring, Sealed, SealingKey, Secret, SecretKind};

/// The secret every genuine seed holds.
const SECRET: &[u8] = b"12345678901234567890";

fuzz_target!(|data: &[u8]| {
    let keyring = Keyring::new(SealingKey::new(7, [0x42; 32]))
        .with_key(SealingKey::new(8, [0x43; 32]))
        .expect("two keys");
    let mut forms = Vec::new();
    if let Ok(sealed) = Sealed::from_bytes(data) {
        assert_eq!(
            Sealed::from_bytes(sealed.to_bytes().as_ref()).as_ref(),
            Ok(&sealed)
        );
        assert_eq!(sealed.to_string().parse::<Sealed>().as_ref(), Ok(&sealed));
        forms.push(sealed);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(sealed) = text.parse::<Sealed>() {
            assert_eq!(sealed.to_string().parse::<Sealed>().as_ref(), Ok(&sealed));
            forms.push(sealed);
        }
    }
    for sealed in forms {
        for kind in [SecretKind::Totp, SecretKind::Hotp] {
            for binding in [Binding::new("alice", "totp"), Binding::new("bob", "totp")] {
                if let Ok(opened) = keyring.open_secret(&sealed, kind, binding) {
                    // Only the genuine seeds open: the right secret, kind and binding.
                    assert_eq!(opened.value, Secret::from_bytes(SECRET).expect("valid"));
                    assert_eq!((kind, binding.account()), (SecretKind::Totp, "alice"));
                }
            }
        }
        let _ = keyring.open_digest_key(&sealed, Binding::new("alice", "totp"));
    }
});
