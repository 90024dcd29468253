//! Base32 secrets: any text decodes or fails with an error, never a panic;
//! any valid secret's base32 decodes back to it, also as people paste it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofa::Secret;

fuzz_target!(|input: (&str, &[u8])| {
    let (text, bytes) = input;
    if let Ok(secret) = Secret::from_base32_accepting_80_bit(text) {
        let again = Secret::from_base32_accepting_80_bit(secret.to_base32().as_str());
        assert_eq!(again.as_ref(), Ok(&secret));
    }
    if let Ok(secret) = Secret::from_bytes_accepting_80_bit(bytes) {
        let text = secret.to_base32();
        assert_eq!(text.len(), secret.base32_len());
        let pasted = format!(" {}==", text.to_lowercase().replace('A', "-"));
        assert_eq!(
            Secret::from_base32_accepting_80_bit(text.as_str()).as_ref(),
            Ok(&secret)
        );
        assert_eq!(
            Secret::from_base32_accepting_80_bit(&pasted).as_ref(),
            Ok(&secret)
        );
    }
});
